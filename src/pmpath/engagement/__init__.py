"""Target engagement: edited fractions from assay read counts, their intervals, and the verdict of
the strongest tier of evidence.

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
from pmpath.engagement.interval import (
    FractionInterval,
    Overdispersion,
    clopper_pearson,
    edited_fraction_interval,
    estimate_overdispersion,
)

__all__ = [
    "EVIDENCE_TIERS",
    "TIER_RULE",
    "AssayEngagement",
    "AssayResult",
    "EngagementAssessment",
    "EvidenceSource",
    "FractionInterval",
    "Overdispersion",
    "TierEngagement",
    "assess_engagement",
    "clopper_pearson",
    "edited_fraction_interval",
    "estimate_overdispersion",
]
