"""Whether a natural-history fit characterizes its endpoint well enough: size, follow-up and precision checks.

The thresholds come from the caller (a platform's pre-specified analysis plan). The precision check
asks how well progression is known, SE/|slope|; a flat natural history (a slope near zero) therefore
fails it however many subjects are followed, because its relative error is large. A disease that does
not progress on the chosen endpoint should be judged on another endpoint or a plan written for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pmpath.natural_history.growth import GrowthCurve
from pmpath.natural_history.rates import RateFit
from pmpath.natural_history.survival import SurvivalFit


@dataclass(frozen=True)
class Check:
    """One threshold check: ``value`` compared with ``threshold`` by ``comparison`` (">=" or "<=")."""

    name: str
    value: float
    threshold: float
    comparison: str
    passed: bool | None  # None when the value is not a number (cannot be judged)

    def describe(self) -> str:
        value = "undefined" if self.passed is None else f"{self.value:.4g}"
        return f"{self.name} {value} (required {self.comparison} {self.threshold:g})"


@dataclass(frozen=True)
class Characterization:
    """The verdict of :func:`characterize` on one fit.

    Attributes
    ----------
    endpoint : str
    kind : str
        ``"continuous"``, ``"count"`` or ``"time_to_event"``.
    adequate : bool or None
        True when every check passed, False when any failed, None when a check could not be judged
        (a non-finite value) and none failed.
    checks : tuple of Check
    reasons : tuple of str
        One sentence per failed or undecidable check; empty when adequate.
    """

    endpoint: str
    kind: str
    adequate: bool | None
    checks: tuple[Check, ...]
    reasons: tuple[str, ...] = field(default_factory=tuple)


def _check(name: str, value: float, threshold: float, comparison: str) -> Check:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Check(name, float("nan"), float(threshold), comparison, None)
    passed = value >= threshold if comparison == ">=" else value <= threshold
    return Check(name, float(value), float(threshold), comparison, bool(passed))


def characterize(
    fit: GrowthCurve | RateFit | SurvivalFit,
    *,
    min_subjects: int,
    min_person_years: float,
    max_slope_relative_se: float,
    min_events: int,
) -> Characterization:
    """Judge whether a natural-history fit characterizes its endpoint, against pre-specified thresholds.

    Checks by kind of fit:

    - :class:`GrowthCurve`: ``n_subjects >= min_subjects``, ``person_years >= min_person_years`` and
      ``slope_relative_se <= max_slope_relative_se`` (a flat slope fails this one; see the module docstring).
    - :class:`RateFit`: ``n_subjects``, ``person_years`` and ``n_events >= min_events``.
    - :class:`SurvivalFit`: ``n_subjects`` and ``n_events >= min_events`` (follow-up from birth, or
      from the age at registry entry with left truncation; person-years say little about a milestone).

    Parameters
    ----------
    fit : GrowthCurve, RateFit or SurvivalFit
    min_subjects, min_person_years, max_slope_relative_se, min_events
        Thresholds, typically the platform's ``analysis_plan.natural_history``.

    Returns
    -------
    Characterization

    Examples
    --------
    >>> from pmpath.natural_history import characterize
    >>> c = characterize(curve, min_subjects=20, min_person_years=40, max_slope_relative_se=0.5, min_events=20)  # doctest: +SKIP
    >>> c.adequate, c.reasons  # doctest: +SKIP
    """
    if not isinstance(fit, GrowthCurve | RateFit | SurvivalFit):
        raise TypeError(
            f"found {type(fit).__name__}, expected a GrowthCurve, RateFit or SurvivalFit"
        )
    subjects = _check("subjects", fit.n_subjects, min_subjects, ">=")
    if isinstance(fit, GrowthCurve):
        kind = "continuous"
        checks = (
            subjects,
            _check("person_years", fit.person_years, min_person_years, ">="),
            _check("slope_relative_se", fit.slope_relative_se, max_slope_relative_se, "<="),
        )
    elif isinstance(fit, RateFit):
        kind = "count"
        checks = (
            subjects,
            _check("person_years", fit.person_years, min_person_years, ">="),
            _check("events", fit.n_events, min_events, ">="),
        )
    else:
        kind = "time_to_event"
        checks = (subjects, _check("events", fit.n_events, min_events, ">="))

    reasons = []
    for c in checks:
        if c.passed is False:
            reasons.append(f"{c.describe()} fails")
        elif c.passed is None:
            reasons.append(
                f"{c.name} could not be computed (required {c.comparison} {c.threshold:g})"
            )
    if any(c.passed is False for c in checks):
        adequate: bool | None = False
    elif any(c.passed is None for c in checks):
        adequate = None
    else:
        adequate = True
    return Characterization(fit.endpoint, kind, adequate, checks, tuple(reasons))
