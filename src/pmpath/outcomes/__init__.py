"""Clinical improvement against natural history: one treated patient against their own untreated course.

Progressive disease (a continuous endpoint): :func:`predict_untreated` predicts the patient's
untreated course from an :class:`UntreatedModel` growth model and all their pre-treatment data,
shrunk toward the cohort (which guards against regression to the mean); the criterion-5 rule is
:func:`judge_trajectory` under a :class:`TrajectoryRule`, with :func:`judge_trajectory_batch` and
:func:`simulate_trajectory_patients` for simulation studies.

Flaring disease (events): the patient's :class:`EventPeriods` against the gamma-Poisson posterior
(:class:`RatePosterior`) of their own rate under the cohort's :class:`UntreatedRate`; the rule is
:func:`judge_event_rates` under an :class:`EventRule`, with :func:`judge_event_rates_batch` and
:func:`simulate_event_patients` for simulation studies. Time to event: :func:`judge_time_to_event`
against a Kaplan-Meier curve. :func:`pool_effects` pools the effects of a platform's patients.
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
    RatePosterior,
    UntreatedRate,
)
from pmpath.outcomes.pooling import PooledEffect, pool_effects
from pmpath.outcomes.trajectory import (
    TrajectoryPlot,
    UntreatedModel,
    UntreatedPrediction,
    predict_untreated,
)

__all__ = [
    "DAYS_PER_YEAR",
    "DECISION_CODES",
    "EventBatchJudgement",
    "EventJudgement",
    "EventJudgementPlot",
    "EventPeriods",
    "EventRule",
    "EventSensitivity",
    "NormalPrior",
    "OverdispersedRateRatio",
    "PooledEffect",
    "RatePosterior",
    "RatioPrior",
    "SensitivityAnalysis",
    "SimulatedEventPatients",
    "TimeToEventJudgement",
    "TrajectoryJudgement",
    "TrajectoryJudgementBatch",
    "TrajectoryPlot",
    "TrajectoryRule",
    "UntreatedModel",
    "UntreatedPrediction",
    "UntreatedRate",
    "event_free_run_probability",
    "judge_event_rates",
    "judge_event_rates_batch",
    "judge_time_to_event",
    "judge_trajectory",
    "judge_trajectory_batch",
    "longest_run_sf",
    "nb_rate_ratio",
    "pool_effects",
    "predict_untreated",
    "robust_rate_ratio",
    "sceptical_prior",
    "simulate_event_patients",
    "simulate_trajectory_patients",
    "within_patient_dispersion",
]
