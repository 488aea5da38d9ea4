"""A programming error inside an analysis must propagate, never become an ``insufficient`` verdict.

Invariant (issue 6): the criteria catch only :class:`pmpath.errors.AnalysisError` (the method could
not run on valid input), so a bug such as a ZeroDivisionError surfaces as a crash with its
traceback in the crash log, while an analysis that cannot run gives ``insufficient``.
"""

from __future__ import annotations

import pytest

from pmpath.dossier import Dossier
from pmpath.errors import AnalysisError, UsageError
from pmpath.pathway import Status
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria import engagement, improvement, targeting

# (criterion module, the analysis it calls, example whose first patient reaches that call)
ANALYSES = [
    (engagement, "assess_engagement", "abe-ucd"),
    (targeting, "verify_guide", "abe-ucd"),
    (targeting, "verify_aso", "ssaso-cln"),
    (improvement, "judge_trajectory", "abe-ucd"),
    (improvement, "judge_event_rates", "ssaso-cln"),
]


def _raise(exc: BaseException):
    def analysis(*args, **kwargs):
        raise exc

    return analysis


@pytest.mark.parametrize(("module", "name", "example"), ANALYSES)
def test_a_bug_in_an_analysis_propagates(
    monkeypatch: pytest.MonkeyPatch,
    example_dossiers: dict[str, Dossier],
    module,
    name: str,
    example: str,
) -> None:
    dossier = example_dossiers[example]
    monkeypatch.setattr(module, name, _raise(ZeroDivisionError("float division by zero")))
    with pytest.raises(ZeroDivisionError):
        module.evaluate(AssessmentContext(dossier), dossier.patients[0])


@pytest.mark.parametrize(("module", "name", "example"), ANALYSES)
def test_a_caller_mistake_propagates(
    monkeypatch: pytest.MonkeyPatch,
    example_dossiers: dict[str, Dossier],
    module,
    name: str,
    example: str,
) -> None:
    dossier = example_dossiers[example]
    monkeypatch.setattr(module, name, _raise(UsageError("confidence: found 2, expected (0, 1)")))
    with pytest.raises(UsageError):
        module.evaluate(AssessmentContext(dossier), dossier.patients[0])


@pytest.mark.parametrize(("module", "name", "example"), ANALYSES)
def test_an_analysis_that_cannot_run_is_insufficient(
    monkeypatch: pytest.MonkeyPatch,
    example_dossiers: dict[str, Dossier],
    module,
    name: str,
    example: str,
) -> None:
    dossier = example_dossiers[example]
    monkeypatch.setattr(module, name, _raise(AnalysisError("the method could not run")))
    verdict = module.evaluate(AssessmentContext(dossier), dossier.patients[0])
    assert verdict.status == Status.insufficient


def test_usage_errors_are_value_errors_for_existing_callers() -> None:
    from pmpath.engagement import edited_fraction_interval

    with pytest.raises(UsageError, match="found"):
        edited_fraction_interval([(12, 10)])
    assert issubclass(UsageError, ValueError)
