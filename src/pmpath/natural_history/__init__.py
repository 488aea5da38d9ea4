"""Natural history of an untreated cohort: growth curves, event rates and survival, and whether they characterize the disease.

Plain pandas tables in, frozen dataclasses out; nothing here knows about dossiers or criteria.

- :func:`fit_longitudinal` -> :class:`GrowthCurve` (continuous endpoints: linear mixed model on age,
  a line or a natural spline, optional :class:`Covariate` fixed effects, correlated -> uncorrelated
  -> intercept-only random effects)
- :func:`fit_event_rate` -> :class:`RateFit` (count endpoints: negative binomial or Poisson rate)
- :func:`fit_survival` -> :class:`SurvivalFit` (time-to-event endpoints: Kaplan-Meier with left truncation, and a :class:`WeibullFit`)
- :func:`characterize` -> :class:`Characterization` (pre-specified size, follow-up and precision checks)
- :func:`growth_from_summary`, :func:`rate_from_summary`, :func:`survival_from_summary`: the same
  results built from a publication's summary (literature-only natural history)
- :func:`age_quantiles` -> :class:`AgeQuantiles` (observed quantiles by age, for charts of large cohorts)
"""

from pmpath.natural_history.characterization import Characterization, Check, characterize
from pmpath.natural_history.growth import Covariate, GrowthCurve, TrajectoryBand, fit_longitudinal
from pmpath.natural_history.literature import (
    LiteratureSurvival,
    growth_from_summary,
    rate_from_summary,
    survival_from_summary,
)
from pmpath.natural_history.quantiles import AgeQuantiles, age_quantiles
from pmpath.natural_history.rates import RateFit, fit_event_rate
from pmpath.natural_history.survival import SurvivalFit, WeibullFit, fit_survival

__all__ = [
    "AgeQuantiles",
    "Characterization",
    "Check",
    "Covariate",
    "GrowthCurve",
    "LiteratureSurvival",
    "RateFit",
    "SurvivalFit",
    "TrajectoryBand",
    "WeibullFit",
    "age_quantiles",
    "characterize",
    "fit_event_rate",
    "fit_longitudinal",
    "fit_survival",
    "growth_from_summary",
    "rate_from_summary",
    "survival_from_summary",
]
