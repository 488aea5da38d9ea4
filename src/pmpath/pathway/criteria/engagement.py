"""Criterion 4, target engagement: turns a patient's engagement table into assays, asks
:mod:`pmpath.engagement` for the verdict of the strongest evidence tier, and returns a Verdict.
"""

from __future__ import annotations

import math

import pandas as pd

from pmpath.dossier import PatientRecord
from pmpath.engagement import (
    TIER_RULE,
    AssayResult,
    EngagementAssessment,
    assess_engagement,
)
from pmpath.errors import AnalysisError
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.figures import EngagementForest, ForestAssay
from pmpath.pathway.flags import Flag, FlagSeverity
from pmpath.pathway.results import (
    EngagementAssay,
    EngagementResult,
    EngagementTier,
    Interval,
    Quantity,
)
from pmpath.pathway.verdict import CRITERION_NAMES, Status, Verdict

NUMBER = 4

ASSUMPTIONS = [
    "Replicate samples of an assay (rows with the same assay and different replicate labels) are independent biological samples; rows sharing a replicate label are pooled as one sample.",
    "Reads within a sample are exchangeable; between-sample variation of the edited fraction follows a beta-binomial model.",
    "Each assay's minimum_fraction was fixed before its data were seen.",
    "An assay's source places it in the evidence hierarchy patient > animal_model > patient_derived_cells > other_in_vitro; the highest tier present decides.",
]


def method_text(confidence: float) -> str:
    pct = f"{confidence:.0%}"
    return (
        f"Per assay, edited reads are pooled over replicate samples and given a {pct} exact (Clopper-Pearson) interval. "
        "With two or more replicate samples, between-sample overdispersion (beta-binomial rho, method of moments from the "
        "Pearson statistic) sets a design effect D = 1 + (n_w - 1) rho; its excess over 1 is inflated by (t_{m-1}/z)^2 "
        "(Korn-Graubard degrees-of-freedom correction) and Clopper-Pearson is applied to the effective counts N / D. "
        f"Decision: {TIER_RULE}."
    )


def assay_results(frame: pd.DataFrame, path: str | None = None) -> list[AssayResult]:
    """Group an engagement table (assay, source, edited, total, minimum_fraction, replicate, tissue)
    into one :class:`AssayResult` per assay, summing rows that share a replicate label.

    Raises AnalysisError naming the file, assay and column when an assay's rows disagree on source,
    minimum fraction or tissue, or when counts are missing.
    """
    where = path or "engagement table"
    frame = frame.copy()
    if "replicate" not in frame:
        frame["replicate"] = "1"
    if "tissue" not in frame:
        frame["tissue"] = ""
    frame["replicate"] = frame["replicate"].fillna("").astype(str).str.strip()
    frame["tissue"] = frame["tissue"].fillna("").astype(str).str.strip()
    out = []
    for assay, rows in frame.groupby("assay", sort=False):
        for column in ("source", "minimum_fraction", "tissue"):
            values = rows[column].unique()
            if len(values) > 1:
                found = ", ".join(map(str, values))
                raise AnalysisError(
                    f"{where}: assay {assay!r} has rows with {column} {found}, expected one {column} per assay"
                )
        counts = rows[["edited", "total"]].astype(float)
        if counts.isna().any().any():
            raise AnalysisError(
                f"{where}: assay {assay!r} has a missing edited or total count, expected whole read counts"
            )
        per_sample = counts.groupby(rows["replicate"], sort=False).sum()
        replicates = [
            (int(e), int(t)) for e, t in zip(per_sample["edited"], per_sample["total"], strict=True)
        ]
        out.append(
            AssayResult(
                str(assay),
                rows["source"].iloc[0],
                replicates,
                float(rows["minimum_fraction"].iloc[0]),
                rows["tissue"].iloc[0],
            )
        )
    return out


def _json(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _flags(result: EngagementAssessment, frame: pd.DataFrame) -> list[Flag]:
    flags: list[Flag] = []

    def flag(kind: str, severity: FlagSeverity, message: str) -> None:
        flags.append(Flag(kind=kind, severity=severity, message=message, criterion=NUMBER))

    for a in result.assays:
        if a.interval.n_replicates == 1:
            rows = int((frame["assay"] == a.assay).sum())
            pooled = f" ({rows} rows share one replicate label and were pooled)" if rows > 1 else ""
            flag(
                "single_replicate",
                FlagSeverity.info,
                f"{a.assay}: one replicate sample{pooled}; between-sample variation not estimated, the interval reflects read sampling only",
            )
        elif a.interval.rho is None:
            flag("interval_method", FlagSeverity.info, f"{a.assay}: {a.interval.note}")
    if result.deciding_tier is not None and result.deciding_tier != "patient":
        flag(
            "no_patient_assay",
            FlagSeverity.caveat,
            f"no patient assay: engagement is decided by {result.deciding_tier} evidence",
        )
    for tier in result.tiers:
        if (
            tier.tier != result.deciding_tier
            and tier.status is not None
            and tier.status != result.status
        ):
            flag(
                "tiers_disagree",
                FlagSeverity.caveat,
                f"{tier.tier} evidence is {tier.status} while the deciding {result.deciding_tier} evidence is {result.status}",
            )
    return flags


def _summary(result: EngagementAssessment) -> str:
    pct = f"{result.confidence:.0%}"
    deciding = result.tier(result.deciding_tier).assays if result.deciding_tier else ()
    shown = "; ".join(
        f"{a.assay} {a.edited_fraction:.1%} ({pct} CI {a.lower:.1%}-{a.upper:.1%}, minimum {a.minimum_fraction:.1%})"
        for a in deciding[:3]
    )
    more = f"; +{len(deciding) - 3} more" if len(deciding) > 3 else ""
    return f"{result.reason}: {shown}{more}" if shown else result.reason


def evaluate(ctx: AssessmentContext, patient: PatientRecord) -> Verdict:
    """Criterion 4 for one patient from ``patient.engagement`` at the plan's confidence level."""
    confidence = ctx.dossier.platform.analysis_plan.engagement.confidence
    path = patient.files.get("engagement")
    evidence = ctx.evidence(path) if path else []
    common = {
        "number": NUMBER,
        "name": CRITERION_NAMES[NUMBER],
        "method": method_text(confidence),
        "assumptions": list(ASSUMPTIONS),
        "evidence": evidence,
    }
    frame = patient.engagement
    if frame is None or frame.empty:
        return Verdict(
            status=Status.insufficient,
            summary="no target-engagement assay reported",
            **common,
        )
    try:
        result = assess_engagement(assay_results(frame, path), confidence)
    except AnalysisError as exc:
        return Verdict(
            status=Status.insufficient,
            summary=f"engagement could not be assessed: {exc}",
            **common,
        )

    modality = ctx.dossier.platform.modality.value
    typed = EngagementResult(
        measure="corrected splicing" if modality == "splice_switching_aso" else "edited fraction",
        confidence=confidence,
        deciding_tier=result.deciding_tier,
        assays=[
            EngagementAssay(
                assay=a.assay,
                tier=a.source,
                tissue=a.tissue or "",
                replicates=a.interval.n_replicates,
                edited=a.interval.edited,
                total=a.interval.total,
                fraction=Quantity.of(a.interval.edited_fraction, "%"),
                interval=Interval.of(a.interval.lower, a.interval.upper, "%", confidence),
                minimum=Quantity.of(a.minimum_fraction, "%"),
                status=a.status,
                method=a.interval.method,
                deciding=a.source == result.deciding_tier,
                intracluster_correlation=_json(a.interval.rho),
                design_effect=_json(a.interval.design_effect),
                effective_total=_json(a.interval.effective_total),
            )
            for a in result.assays
        ],
        tiers=[
            EngagementTier(tier=t.tier, status=t.status, n_assays=len(t.assays))
            for t in result.tiers
        ],
    )
    forest = (
        [
            EngagementForest(
                measure=typed.measure,
                confidence=confidence,
                assays=[
                    ForestAssay(
                        assay=a.assay,
                        tier=a.tier,
                        fraction=a.fraction.value,
                        lower=a.interval.low,
                        upper=a.interval.high,
                        minimum=a.minimum.value,
                        deciding=a.deciding,
                    )
                    for a in typed.assays
                ],
            )
        ]
        if typed.assays
        else []
    )
    return Verdict(
        status=Status(result.status),
        summary=_summary(result),
        figures=forest,
        result=typed,
        flags=_flags(result, frame),
        **common,
    )
