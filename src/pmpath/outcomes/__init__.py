"""Clinical improvement against natural history: one treated patient against their own untreated course.

Progressive disease (a continuous endpoint): :func:`compare_trajectory` against an
:class:`UntreatedModel` growth model, and the calibrated criterion-5 rule :func:`judge_trajectory`
(:class:`TrajectoryRule`; :func:`judge_trajectory_batch` and :func:`simulate_trajectory_patients` for
simulation). Flaring disease (events): :func:`compare_event_rates` against
an :class:`UntreatedRate`. Both guard against regression to the mean by predicting the patient's
untreated course from all their pre-treatment data, shrunk toward the cohort.

The calibrated criterion-5 rule for events is :func:`judge_event_rates` under an :class:`EventRule`,
with :func:`judge_event_rates_batch` and :func:`simulate_event_patients` for simulation studies;
time to event: :func:`judge_time_to_event` against a Kaplan-Meier curve.
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
from pmpath.outcomes.event_decision import (
    EventBatchJudgement,
    EventJudgement,
    EventJudgementPlot,
    EventRule,
    EventSensitivity,
    OverdispersedRateRatio,
    RatioPrior,
    SimulatedEventPatients,
    TimeToEventJudgement,
    event_free_run_probability,
    judge_event_rates,
    judge_event_rates_batch,
    judge_time_to_event,
    longest_run_sf,
    nb_rate_ratio,
    robust_rate_ratio,
    sceptical_prior,
    simulate_event_patients,
    within_patient_dispersion,
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
from pmpath.outcomes.pooling import PooledEffect, pool_effects
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
    "EventBatchJudgement",
    "EventJudgement",
    "EventJudgementPlot",
    "EventPeriods",
    "EventPlot",
    "EventRateComparison",
    "EventRule",
    "EventSensitivity",
    "NormalPrior",
    "OverdispersedRateRatio",
    "PooledEffect",
    "RatePosterior",
    "RateRatio",
    "RatioPrior",
    "SensitivityAnalysis",
    "SimulatedEventPatients",
    "TimeToEventJudgement",
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
    "event_free_run_probability",
    "judge_event_rates",
    "judge_event_rates_batch",
    "judge_time_to_event",
    "judge_trajectory",
    "judge_trajectory_batch",
    "longest_run_sf",
    "nb_rate_ratio",
    "poisson_max_gap_sf",
    "pool_effects",
    "predict_untreated",
    "rate_ratio_ci",
    "robust_rate_ratio",
    "sceptical_prior",
    "simulate_event_patients",
    "simulate_trajectory_patients",
    "uniform_max_spacing_sf",
    "within_patient_dispersion",
]
