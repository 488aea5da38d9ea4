"""Target engagement: edited fractions from assay read counts, their intervals, and the verdict of
the strongest tier of evidence; CRISPResso2 import, treated-vs-control statistics, splice
correction and off-target panels.

The public API is here; the library knows nothing of dossiers or the pathway.
"""

from __future__ import annotations

from pmpath.engagement.assessment import (
    EVIDENCE_TIERS,
    TIER_RULE,
    AssayEngagement,
    AssayResult,
    EngagementAssessment,
    EvidenceSource,
    TierEngagement,
    assess_engagement,
)
from pmpath.engagement.compare import CountComparison, SiteComparison, compare_counts
from pmpath.engagement.crispresso import (
    CrispressoRun,
    read_crispresso,
    write_quantification_summary,
)
from pmpath.engagement.interval import (
    FractionInterval,
    Overdispersion,
    clopper_pearson,
    edited_fraction_interval,
    estimate_overdispersion,
)
from pmpath.engagement.panel import PanelResult, compare_panel, read_panel
from pmpath.engagement.splice import SpliceCorrection, parse_junction, splice_correction

__all__ = [
    "EVIDENCE_TIERS",
    "TIER_RULE",
    "AssayEngagement",
    "AssayResult",
    "CountComparison",
    "CrispressoRun",
    "EngagementAssessment",
    "EvidenceSource",
    "FractionInterval",
    "Overdispersion",
    "PanelResult",
    "SiteComparison",
    "SpliceCorrection",
    "TierEngagement",
    "assess_engagement",
    "clopper_pearson",
    "compare_counts",
    "compare_panel",
    "edited_fraction_interval",
    "estimate_overdispersion",
    "parse_junction",
    "read_crispresso",
    "read_panel",
    "splice_correction",
    "write_quantification_summary",
]
