"""Target engagement from assays: each assay's edited fraction against its pre-specified minimum,
decided by the highest tier of evidence present (patient > animal model > patient-derived cells >
other in vitro systems).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from pmpath.dossier.vocabulary import Status
from pmpath.engagement.interval import FractionInterval, _check_confidence, edited_fraction_interval
from pmpath.errors import UsageError

EvidenceSource = Literal["patient", "animal_model", "patient_derived_cells", "other_in_vitro"]

#: Evidence tiers, strongest first: a tissue of the patient beats any model of it.
EVIDENCE_TIERS: tuple[str, ...] = (
    "patient",
    "animal_model",
    "patient_derived_cells",
    "other_in_vitro",
)

TIER_RULE = (
    "the highest evidence tier with any assay decides; within it, met only when every assay's lower "
    "confidence bound is above its minimum fraction, not_met when any assay's upper bound is below its "
    "minimum, insufficient otherwise (an interval that straddles a minimum)"
)


@dataclass(frozen=True)
class AssayResult:
    """One engagement assay: its replicate read counts and the minimum edited fraction it must show.

    Parameters
    ----------
    assay : str
        Assay identifier (e.g. ``"liver_biopsy_amplicon"``).
    source : {"patient", "animal_model", "patient_derived_cells", "other_in_vitro"}
        What was assayed; sets the evidence tier.
    replicates : list of (int, int)
        ``(edited, total)`` reads per replicate sample (independent biological samples).
    minimum_fraction : float
        Pre-specified smallest edited fraction that counts as engagement, in [0, 1].
    tissue : str, optional
    """

    assay: str
    source: EvidenceSource
    replicates: Sequence[tuple[int, int]]
    minimum_fraction: float
    tissue: str = ""

    def __post_init__(self) -> None:
        if self.source not in EVIDENCE_TIERS:
            raise UsageError(
                f"assay {self.assay!r}: found source {self.source!r}, expected one of {', '.join(EVIDENCE_TIERS)}"
            )
        if not 0 <= self.minimum_fraction <= 1:
            raise UsageError(
                f"assay {self.assay!r}: found minimum_fraction {self.minimum_fraction!r}, expected a fraction between 0 and 1"
            )
        if len(self.replicates) == 0:
            raise UsageError(
                f"assay {self.assay!r}: no replicates, expected at least one (edited, total) pair"
            )


@dataclass(frozen=True)
class AssayEngagement:
    """One assay's result: pooled edited fraction, interval and status against its minimum.

    ``status`` is ``met`` when the lower bound is above the minimum, ``not_met`` when the upper
    bound is below it, ``insufficient`` when the interval contains it.
    """

    assay: str
    source: str
    tissue: str
    minimum_fraction: float
    interval: FractionInterval
    status: Status

    @property
    def edited_fraction(self) -> float:
        return self.interval.edited_fraction

    @property
    def lower(self) -> float:
        return self.interval.lower

    @property
    def upper(self) -> float:
        return self.interval.upper


@dataclass(frozen=True)
class TierEngagement:
    """The assays of one evidence tier and the tier's status (None when the tier has no assay)."""

    tier: str
    assays: tuple[AssayEngagement, ...]
    status: Status | None


@dataclass(frozen=True)
class EngagementAssessment:
    """Whether target engagement is shown, and by which tier of evidence.

    Attributes
    ----------
    status : Status
    deciding_tier : str or None
        The highest tier with an assay; None when there is no assay.
    confidence : float
    tiers : tuple of TierEngagement
        Every tier, strongest first, each with its assays (possibly none): the evidence hierarchy.
    reason : str
        One sentence saying why.
    rule : str
        The decision rule, in words.
    """

    status: Status
    deciding_tier: str | None
    confidence: float
    tiers: tuple[TierEngagement, ...]
    reason: str
    rule: str = field(default=TIER_RULE)

    @property
    def assays(self) -> list[AssayEngagement]:
        """Every assay, strongest tier first."""
        return [a for t in self.tiers for a in t.assays]

    def tier(self, name: str) -> TierEngagement:
        for t in self.tiers:
            if t.tier == name:
                return t
        raise KeyError(f"found tier {name!r}, expected one of {', '.join(EVIDENCE_TIERS)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per assay: tier, fraction, bounds, minimum, status, method, rho, design effect."""
        rows = [
            {
                "assay": a.assay,
                "source": a.source,
                "tissue": a.tissue,
                "replicates": a.interval.n_replicates,
                "edited": a.interval.edited,
                "total": a.interval.total,
                "edited_fraction": a.edited_fraction,
                "lower": a.lower,
                "upper": a.upper,
                "minimum_fraction": a.minimum_fraction,
                "status": a.status,
                "method": a.interval.method,
                "rho": a.interval.rho,
                "design_effect": a.interval.design_effect,
                "effective_total": a.interval.effective_total,
                "deciding": a.source == self.deciding_tier,
            }
            for a in self.assays
        ]
        return pd.DataFrame(
            rows,
            columns=[
                "assay",
                "source",
                "tissue",
                "replicates",
                "edited",
                "total",
                "edited_fraction",
                "lower",
                "upper",
                "minimum_fraction",
                "status",
                "method",
                "rho",
                "design_effect",
                "effective_total",
                "deciding",
            ],
        )


def _assay_status(lower: float, upper: float, minimum: float) -> Status:
    if lower > minimum:
        return Status.met
    if upper < minimum:
        return Status.not_met
    return Status.insufficient


def _tier_status(assays: Sequence[AssayEngagement]) -> Status | None:
    if not assays:
        return None
    # not_met as soon as one assay falls short, met only when all are met: the worst one
    return max(a.status for a in assays)


def assess_engagement(
    assays: Sequence[AssayResult], confidence: float = 0.95
) -> EngagementAssessment:
    """Decide target engagement from assays, letting the strongest tier of evidence speak.

    Each assay's replicates are pooled into an edited fraction with a confidence interval from
    :func:`~pmpath.engagement.edited_fraction_interval` (Clopper-Pearson, widened for
    between-replicate variation when there are replicates). The highest tier present decides
    (patient > animal_model > patient_derived_cells > other_in_vitro): a model system cannot
    overrule what was measured in the patient, and lower tiers are reported as supporting
    evidence only. Within the deciding tier the rule is conservative: ``met`` only when every
    assay's lower bound is above its minimum, ``not_met`` as soon as one assay's upper bound is
    below its minimum (engagement demonstrably short of the target in that assay), and
    ``insufficient`` otherwise. With no assay at all the status is ``insufficient``.

    Parameters
    ----------
    assays : sequence of AssayResult
    confidence : float, default 0.95
        Two-sided coverage of each assay's interval.

    Returns
    -------
    EngagementAssessment

    Examples
    --------
    >>> result = assess_engagement([
    ...     AssayResult("biopsy", "patient", [(310, 1000)], minimum_fraction=0.2),
    ...     AssayResult("hep", "patient_derived_cells", [(450, 1000), (480, 1000)], 0.2),
    ... ])
    >>> result.status.value, result.deciding_tier
    ('met', 'patient')
    """
    _check_confidence(confidence)
    by_tier: dict[str, list[AssayEngagement]] = {t: [] for t in EVIDENCE_TIERS}
    seen: set[str] = set()
    for a in assays:
        if a.assay in seen:
            raise UsageError(
                f"assay {a.assay!r} appears twice, expected each assay once with all its replicates"
            )
        seen.add(a.assay)
        interval = edited_fraction_interval(a.replicates, confidence)
        status = _assay_status(interval.lower, interval.upper, a.minimum_fraction)
        by_tier[a.source].append(
            AssayEngagement(
                a.assay, a.source, a.tissue, float(a.minimum_fraction), interval, status
            )
        )
    tiers = tuple(
        TierEngagement(t, tuple(by_tier[t]), _tier_status(by_tier[t])) for t in EVIDENCE_TIERS
    )
    deciding = next((t for t in tiers if t.assays), None)
    if deciding is None:
        return EngagementAssessment(
            Status.insufficient, None, confidence, tiers, "no engagement assay was reported"
        )
    status = deciding.status
    assert status is not None
    pct = f"{confidence:.0%}"
    n = len(deciding.assays)

    def names(s: str) -> str:
        return ", ".join(a.assay for a in deciding.assays if a.status == s)

    if status == Status.met:
        what = "its assay" if n == 1 else f"all {n} of its assays"
        reason = f"{deciding.tier} evidence decides: {pct} lower bound above the minimum fraction in {what}"
    elif status == Status.not_met:
        reason = f"{deciding.tier} evidence decides: {pct} upper bound below the minimum fraction in {names('not_met')}"
    else:
        reason = f"{deciding.tier} evidence decides: the {pct} interval contains the minimum fraction in {names('insufficient')}"
    return EngagementAssessment(status, deciding.tier, confidence, tiers, reason)
