"""Post-market safety: disproportionality of drug-event pairs in spontaneous reports (PRR, ROR, IC,
MGPS) and sequential monitoring of pre-specified adverse events (MaxSPRT).

Plain tables in, frozen dataclasses out; nothing here knows about dossiers, criteria or reports.

- :func:`read_reports`, :func:`read_faers` -> :class:`SpontaneousReports` (with an :class:`ImportLog`)
- :func:`count_pairs` -> :class:`PairCounts`; :func:`pair_counts_expr` the same as an Ibis expression
- :func:`disproportionality` -> :class:`Disproportionality` (PRR, ROR, IC with intervals)
- :func:`auto_squash`, :func:`squash_openebgm`, :func:`fit_prior` -> :class:`PriorFit`, :func:`posterior_scores` -> :class:`MGPSScores`
- :func:`detect_signals` -> :class:`SignalTable` (all of the above in one call)
- :func:`critical_value_poisson`, :func:`critical_value_binomial` -> :class:`CriticalValue`
  (exact critical values of the continuous and group-sequential MaxSPRT, as R's ``Sequential``)
- :func:`performance_poisson`, :func:`performance_binomial` -> :class:`Performance` (power,
  expected time to signal, expected sample size)
- :func:`load_plan` -> :class:`MonitorPlan` (MONITOR.yaml), :func:`read_events` -> :class:`EventData`
  (EVENTS.csv, bad rows as :class:`RowProblem`), :func:`monitor` -> :class:`MonitorResult`
"""

from pmpath.postmarket.counts import PairCounts, count_pairs, pair_counts_expr
from pmpath.postmarket.disproportionality import (
    Disproportionality,
    disproportionality,
    information_component,
)
from pmpath.postmarket.mgps import (
    DEFAULT_STARTS,
    MGPSScores,
    Prior,
    PriorFit,
    PriorStart,
    Squashed,
    auto_squash,
    fit_prior,
    neg_log_likelihood,
    posterior_quantile_bisect,
    posterior_scores,
    squash,
    squash_openebgm,
)
from pmpath.postmarket.monitor import (
    BinomialEventPlan,
    EventData,
    EventLook,
    EventMonitoring,
    MonitorPlan,
    MonitorResult,
    PoissonEventPlan,
    RowProblem,
    load_plan,
    monitor,
    read_events,
    summarize_problems,
)
from pmpath.postmarket.reports import (
    ImportLog,
    ImportProblem,
    SpontaneousReports,
    read_faers,
    read_reports,
    reports_from_frame,
)
from pmpath.postmarket.sequential import (
    CriticalValue,
    Performance,
    binomial_critical_counts,
    binomial_llr,
    critical_value_binomial,
    critical_value_poisson,
    performance_binomial,
    performance_poisson,
    poisson_critical_counts,
    poisson_llr,
)
from pmpath.postmarket.signals import SIGNAL_COLUMNS, SQUASHING, SignalTable, detect_signals

__all__ = [
    "DEFAULT_STARTS",
    "SIGNAL_COLUMNS",
    "SQUASHING",
    "BinomialEventPlan",
    "CriticalValue",
    "Disproportionality",
    "EventData",
    "EventLook",
    "EventMonitoring",
    "ImportLog",
    "ImportProblem",
    "MGPSScores",
    "MonitorPlan",
    "MonitorResult",
    "PairCounts",
    "Performance",
    "PoissonEventPlan",
    "Prior",
    "PriorFit",
    "PriorStart",
    "RowProblem",
    "SignalTable",
    "SpontaneousReports",
    "Squashed",
    "auto_squash",
    "binomial_critical_counts",
    "binomial_llr",
    "count_pairs",
    "critical_value_binomial",
    "critical_value_poisson",
    "detect_signals",
    "disproportionality",
    "fit_prior",
    "information_component",
    "load_plan",
    "monitor",
    "neg_log_likelihood",
    "pair_counts_expr",
    "performance_binomial",
    "performance_poisson",
    "poisson_critical_counts",
    "poisson_llr",
    "posterior_quantile_bisect",
    "posterior_scores",
    "read_events",
    "read_faers",
    "read_reports",
    "reports_from_frame",
    "squash",
    "squash_openebgm",
    "summarize_problems",
]
