"""Clinical improvement against natural history: one treated patient against their own untreated course.

Progressive disease (a continuous endpoint): :func:`compare_trajectory` against an
:class:`UntreatedModel` growth model. Flaring disease (events): :func:`compare_event_rates` against
an :class:`UntreatedRate`. Both guard against regression to the mean by predicting the patient's
untreated course from all their pre-treatment data, shrunk toward the cohort.
"""

from pmpath.outcomes.event_rates import (
    DAYS_PER_YEAR,
    EventPeriods,
    EventPlot,
    EventRateComparison,
    RatePosterior,
    RateRatio,
    UntreatedRate,
    compare_event_rates,
    poisson_max_gap_sf,
    rate_ratio_ci,
    uniform_max_spacing_sf,
)
from pmpath.outcomes.trajectory import (
    TrajectoryComparison,
    TrajectoryPlot,
    UntreatedModel,
    UntreatedPrediction,
    compare_trajectory,
    predict_untreated,
)

__all__ = [
    "DAYS_PER_YEAR",
    "EventPeriods",
    "EventPlot",
    "EventRateComparison",
    "RatePosterior",
    "RateRatio",
    "TrajectoryComparison",
    "TrajectoryPlot",
    "UntreatedModel",
    "UntreatedPrediction",
    "UntreatedRate",
    "compare_event_rates",
    "compare_trajectory",
    "poisson_max_gap_sf",
    "predict_untreated",
    "rate_ratio_ci",
    "uniform_max_spacing_sf",
]
