"""Clinical improvement against natural history: one treated patient against their own untreated course.

Progressive disease (a continuous endpoint): :func:`compare_trajectory` against an
:class:`UntreatedModel` growth model, and the calibrated criterion-5 rule :func:`judge_trajectory`
(:class:`TrajectoryRule`; :func:`judge_trajectory_batch` and :func:`simulate_trajectory_patients` for
simulation). Flaring disease (events): :func:`compare_event_rates` against
an :class:`UntreatedRate`. Both guard against regression to the mean by predicting the patient's
untreated course from all their pre-treatment data, shrunk toward the cohort.
"""

from pmpath.outcomes.decision import (
    DECISION_CODES,
    NormalPrior,
    SensitivityAnalysis,
    TrajectoryJudgement,
    TrajectoryJudgementBatch,
    TrajectoryRule,
    judge_trajectory,
    judge_trajectory_batch,
    simulate_trajectory_patients,
)
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
    "DECISION_CODES",
    "EventPeriods",
    "EventPlot",
    "EventRateComparison",
    "NormalPrior",
    "RatePosterior",
    "RateRatio",
    "SensitivityAnalysis",
    "TrajectoryComparison",
    "TrajectoryJudgement",
    "TrajectoryJudgementBatch",
    "TrajectoryPlot",
    "TrajectoryRule",
    "UntreatedModel",
    "UntreatedPrediction",
    "UntreatedRate",
    "compare_event_rates",
    "compare_trajectory",
    "judge_trajectory",
    "judge_trajectory_batch",
    "poisson_max_gap_sf",
    "predict_untreated",
    "rate_ratio_ci",
    "simulate_trajectory_patients",
    "uniform_max_spacing_sf",
]
