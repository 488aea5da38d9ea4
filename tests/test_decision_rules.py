"""The plan's criterion-5 rule as the analyses take it: effect conversions, intercurrent events, Holm."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from pmpath.dossier.model import EffectSize, Endpoint, EndpointPlan, ImprovementPlan
from pmpath.errors import AnalysisError, UsageError
from pmpath.pathway.criteria.decision_rules import (
    effect_on_model_scale,
    holm_adjusted,
    intercurrent_events,
)

SEIZURES = Endpoint(
    id="seizures",
    name="Seizures",
    kind="count",
    unit="{seizures}",
    direction="lower_is_better",
    role="primary",
)
SCORE = Endpoint(
    id="score", name="Score", kind="continuous", unit="{score}", direction="higher_is_better"
)
LOG_LAB = Endpoint(
    id="ammonia",
    name="Ammonia",
    kind="continuous",
    unit="umol/L",
    direction="lower_is_better",
    scale="log",
)


@pytest.mark.parametrize(
    ("endpoint", "size", "expected"),
    [
        (SEIZURES, EffectSize(value=85, unit="%"), 0.85),
        (SEIZURES, EffectSize(value=0.25, unit="ratio"), 0.75),
        (SEIZURES, EffectSize(value=0, unit="{seizures}"), 0.0),
        (SCORE, EffectSize(value=3, unit="{score}"), 3.0),
        (LOG_LAB, EffectSize(value=0.5, unit="ratio"), math.log(2)),  # halving is a benefit
        (LOG_LAB, EffectSize(value=20, unit="%"), -math.log(0.8)),
    ],
)
def test_effects_on_the_model_scale(endpoint, size, expected) -> None:
    assert effect_on_model_scale(size, endpoint, "mcid") == pytest.approx(expected)


def test_an_absolute_effect_on_a_rate_endpoint_is_refused() -> None:
    with pytest.raises(AnalysisError, match="expected a relative change"):
        effect_on_model_scale(EffectSize(value=3, unit="{seizures}"), SEIZURES, "mcid")


def _plan(endpoint: Endpoint, **intercurrent) -> EndpointPlan:
    return ImprovementPlan(
        endpoints={endpoint.id: EndpointPlan(intercurrent=intercurrent)}
    ).for_endpoint(endpoint)


def test_a_change_acting_on_the_endpoint_cuts_its_record_by_default() -> None:
    """ssaso-cln P02: clobazam started on day 21 for seizures; the hypothetical strategy keeps
    only the seizure record before it; a change acting on another endpoint does nothing here."""
    out = intercurrent_events(
        SEIZURES,
        _plan(SEIZURES),
        [
            (21.0, "medication", "clobazam started", ("seizures",)),
            (40.0, "diet", "ketogenic diet", ("weight",)),
            (-10.0, "medication", "dose change before dosing", ("seizures",)),
        ],
        "ongoing",
        None,
    )
    assert out.cut_day == 21.0 and not out.composite_failure
    assert [r.event for r in out.records] == ["concomitant_change"]
    assert "from study day 22 on are not used" in out.records[0].effect


def test_strategies_named_in_the_plan_are_applied() -> None:
    concomitant = [(30.0, "medication", "x", ("seizures",)), (90.0, "transplant", "liver", ())]
    policy = intercurrent_events(
        SEIZURES,
        _plan(SEIZURES, concomitant_change="treatment_policy"),
        concomitant,
        "ongoing",
        None,
    )
    assert policy.cut_day is None and policy.composite_failure  # transplant: composite by default
    died = intercurrent_events(SEIZURES, _plan(SEIZURES), [], "died", 200.0)
    assert died.composite_failure and died.records[0].event == "death"
    withdrew = intercurrent_events(SEIZURES, _plan(SEIZURES), [], "withdrew", 120.0)
    assert withdrew.cut_day == 120.0 and not withdrew.composite_failure
    stratum = intercurrent_events(
        SEIZURES,
        _plan(SEIZURES, concomitant_change="principal_stratum"),
        concomitant[:1],
        "ongoing",
        None,
    )
    assert stratum.unsupported and "principal_stratum" in stratum.unsupported


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=8))
def test_holm_agrees_with_statsmodels(p: list[float]) -> None:
    expected = multipletests(p, method="holm")[1]
    assert np.allclose(holm_adjusted(p), expected)


def test_holm_refuses_non_probabilities() -> None:
    with pytest.raises(UsageError):
        holm_adjusted([0.1, 1.5])
