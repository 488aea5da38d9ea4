"""Post-market safety: disproportionality of drug-event pairs in spontaneous reports (PRR, ROR, IC, MGPS).

Plain tables in, frozen dataclasses out; nothing here knows about dossiers, criteria or reports.

- :func:`read_reports`, :func:`read_faers` -> :class:`SpontaneousReports` (with an :class:`ImportLog`)
- :func:`count_pairs` -> :class:`PairCounts`; :func:`pair_counts_expr` the same as an Ibis expression
- :func:`disproportionality` -> :class:`Disproportionality` (PRR, ROR, IC with intervals)
- :func:`auto_squash`, :func:`squash_openebgm`, :func:`fit_prior` -> :class:`PriorFit`, :func:`posterior_scores` -> :class:`MGPSScores`
- :func:`detect_signals` -> :class:`SignalTable` (all of the above in one call)
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
from pmpath.postmarket.reports import (
    ImportLog,
    ImportProblem,
    SpontaneousReports,
    read_faers,
    read_reports,
    reports_from_frame,
)
from pmpath.postmarket.signals import SIGNAL_COLUMNS, SQUASHING, SignalTable, detect_signals

__all__ = [
    "DEFAULT_STARTS",
    "SIGNAL_COLUMNS",
    "SQUASHING",
    "Disproportionality",
    "ImportLog",
    "ImportProblem",
    "MGPSScores",
    "PairCounts",
    "Prior",
    "PriorFit",
    "PriorStart",
    "SignalTable",
    "SpontaneousReports",
    "Squashed",
    "auto_squash",
    "count_pairs",
    "detect_signals",
    "disproportionality",
    "fit_prior",
    "information_component",
    "neg_log_likelihood",
    "pair_counts_expr",
    "posterior_quantile_bisect",
    "posterior_scores",
    "read_faers",
    "read_reports",
    "reports_from_frame",
    "squash",
    "squash_openebgm",
]
