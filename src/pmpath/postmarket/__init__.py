"""Post-market safety: sequential monitoring of pre-specified adverse events (MaxSPRT).

Plain typed inputs, frozen dataclasses out; nothing here knows about dossiers or the pathway.

- :func:`critical_value_poisson`, :func:`critical_value_binomial` -> :class:`CriticalValue`
  (exact critical values of the continuous and group-sequential MaxSPRT, as R's ``Sequential``)
- :func:`performance_poisson`, :func:`performance_binomial` -> :class:`Performance` (power,
  expected time to signal, expected sample size)
- :func:`load_plan` -> :class:`MonitorPlan` (MONITOR.yaml), :func:`read_events` -> :class:`EventData`
  (EVENTS.csv, bad rows as :class:`RowProblem`), :func:`monitor` -> :class:`MonitorResult`
"""

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

__all__ = [
    "BinomialEventPlan",
    "CriticalValue",
    "EventData",
    "EventLook",
    "EventMonitoring",
    "MonitorPlan",
    "MonitorResult",
    "Performance",
    "PoissonEventPlan",
    "RowProblem",
    "binomial_critical_counts",
    "binomial_llr",
    "critical_value_binomial",
    "critical_value_poisson",
    "load_plan",
    "monitor",
    "performance_binomial",
    "performance_poisson",
    "poisson_critical_counts",
    "poisson_llr",
    "read_events",
    "summarize_problems",
]
