"""Criterion 4, target engagement: turns a patient's engagement table into assays, asks
:mod:`pmpath.engagement` for the verdict of the strongest evidence tier, and returns a Verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

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
from pmpath.pathway.figures import ConversionProfile, EngagementForest, ForestAssay
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


# --------------------------------------------------------------------------- sequenced assays

DATA_COLUMNS = ("crispresso_dir", "reads_r1", "bam")
_DEFAULT_CONVERSION = {"adenine_base_editor": ("A", "G"), "cytosine_base_editor": ("C", "T")}


def _text(row: pd.Series, column: str) -> str:
    value = row.get(column, "")
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return str(value).strip()


@dataclass
class _Sequenced:
    """An engagement table with every sequenced row turned into counts."""

    frame: pd.DataFrame  # treated rows, edited/total filled
    profiles: list[ConversionProfile] = field(default_factory=list)
    data: dict[str, str] = field(default_factory=dict)  # assay -> crispresso2 | reads | bam
    target: dict[str, int] = field(default_factory=dict)  # assay -> amplicon position
    background: dict[str, tuple[float, float]] = field(
        default_factory=dict
    )  # assay -> (fraction, p)
    evidence: list[str] = field(default_factory=list)


_EDITOR_OF = {
    "adenine_base_editor": "abe",
    "cytosine_base_editor": "cbe",
    "nuclease": "nuclease",
}
_FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fa.gz", ".fasta.gz", ".fna.gz")


def _amplicon_sequence(row: pd.Series, ctx: AssessmentContext, where: str) -> str:
    """The row's amplicon: a FASTA file of the dossier (its first record) or a record of the platform's
    reference FASTA."""
    import pyfaidx

    from pmpath.engagement.amplicon import read_amplicons
    from pmpath.errors import UsageError

    root = Path(ctx.dossier.root)
    name = _text(row, "amplicon")
    try:
        if name.lower().endswith(_FASTA_SUFFIXES):
            return read_amplicons(str(root / name))[0].sequence
        with pyfaidx.Fasta(str(root / ctx.dossier.platform.reference_fasta)) as fasta:
            if name not in fasta:
                raise AnalysisError(
                    f"{where}: amplicon {name!r}: found no such record in "
                    f"{ctx.dossier.platform.reference_fasta}, expected a record name or a FASTA file"
                )
            return str(fasta[name][:]).upper()
    except UsageError as exc:
        raise AnalysisError(f"{where}: amplicon {name}: {exc}") from exc


def _reads_counts(
    row: pd.Series, ctx: AssessmentContext, patient: PatientRecord, where: str = "engagement table"
) -> tuple[int, int]:
    """(edited, total) at the therapy's target base from a row's FASTQ reads, through the quantifier.

    The guide is the case's therapy's, the editor and window the platform's; a base editor counts
    the reads converted at the target base among those covering it (docs/engagement.md), a nuclease
    its modified reads among the aligned ones.
    """
    from pmpath.engagement.amplicon import design_target
    from pmpath.engagement.quantify import quantify
    from pmpath.engagement.target import target_site
    from pmpath.errors import UsageError

    platform = ctx.dossier.platform
    editor = _EDITOR_OF.get(platform.modality.value)
    if editor is None:
        raise AnalysisError(
            f"{where}: reads_r1 {_text(row, 'reads_r1')}: a {platform.modality.value} cannot be "
            "quantified from amplicon reads yet (its intended edit is not in the dossier)"
        )
    sequence = _amplicon_sequence(row, ctx, where)
    guide = patient.case.therapy.targeting_sequence
    window = platform.editor.editing_window if platform.editor is not None else None
    root = Path(ctx.dossier.root)
    r1 = root / _text(row, "reads_r1")
    r2 = root / _text(row, "reads_r2") if _text(row, "reads_r2") else None
    try:
        target = design_target(
            sequence, guide, editor, window=window if editor != "nuclease" else None
        )
        result = quantify(r1, r2, targets=[target]).amplicons[0]
    except UsageError as exc:
        raise AnalysisError(f"{where}: reads_r1 {_text(row, 'reads_r1')}: {exc}") from exc
    if editor == "nuclease":
        counts = result.crispresso_counts()
        return int(counts["Modified"]), int(counts["Reads_aligned"])
    conversion = _conversion(ctx)
    chosen = _text(row, "target_position")
    site = target_site(
        sequence, guide, conversion[0], window or (4, 8), int(float(chosen)) if chosen else None
    )
    converted, coverage, _lo, _hi = result.conversion()
    i = site.amplicon_position - 1
    total = int(coverage[i])
    if total == 0:
        raise AnalysisError(
            f"{where}: reads_r1 {_text(row, 'reads_r1')}: no read covers the target base"
        )
    return int(converted[i]), total


def _conversion(ctx: AssessmentContext) -> tuple[str, str] | None:
    platform = ctx.dossier.platform
    editor = platform.editor
    if editor is not None and editor.edit_from and editor.edit_to:
        return (editor.edit_from, editor.edit_to)
    return _DEFAULT_CONVERSION.get(platform.modality.value)


def _crispresso_counts(
    row: pd.Series, ctx: AssessmentContext, patient: PatientRecord, where: str
) -> tuple[int, int, int | None, ConversionProfile | None, dict[int, tuple[int, int]]]:
    """(edited, total, target position, profile, per-position counts) from a CRISPResso2 folder."""
    from pmpath.engagement.crispresso import read_crispresso
    from pmpath.engagement.target import target_site
    from pmpath.errors import UsageError

    rel = _text(row, "crispresso_dir")
    platform = ctx.dossier.platform
    conversion = _conversion(ctx)
    try:
        run = read_crispresso(
            Path(ctx.dossier.root) / rel, conversion=conversion, require_alleles=False
        )
    except UsageError as exc:
        raise AnalysisError(f"{where}: crispresso_dir {rel}: {exc}") from exc
    guide = patient.case.therapy.targeting_sequence
    from pmpath.engagement.crispresso import reverse_complement

    amplicons = [
        a for a in run.amplicons if guide in a.sequence or reverse_complement(guide) in a.sequence
    ]
    if len(amplicons) != 1:
        raise AnalysisError(
            f"{where}: crispresso_dir {rel}: found the therapy's guide {guide} on {len(amplicons)} of "
            f"{len(run.amplicons)} amplicons, expected one"
        )
    amplicon = amplicons[0]
    if conversion is None:  # a nuclease: CRISPResso2's modified reads in its window
        if platform.modality.value != "nuclease":
            raise AnalysisError(
                f"{where}: crispresso_dir {rel}: a {platform.modality.value} run cannot be counted from a CRISPResso2 folder yet"
            )
        return amplicon.classes.modified, amplicon.classes.reads_aligned, None, None, {}
    window = platform.editor.editing_window if platform.editor is not None else (4, 8)
    target = _text(row, "target_position")
    site = target_site(
        amplicon.sequence,
        guide,
        conversion[0],
        window,
        int(float(target)) if target else None,
    )
    edited, total = amplicon.converted(site.amplicon_position)
    if total == 0:
        raise AnalysisError(f"{where}: crispresso_dir {rel}: no read covers the target base")
    strand = site.strand
    guide_start = amplicon.sequence.find(guide if strand == "+" else reverse_complement(guide)) + 1
    length = len(guide)
    if strand == "+":
        w0, w1 = guide_start + window[0] - 1, guide_start + window[1] - 1
    else:
        w0, w1 = guide_start + length - window[1], guide_start + length - window[0]
    shown = [
        p
        for p in amplicon.positions
        if p.conversion_pct is not None
        and guide_start - 3 <= p.position <= guide_start + length + 2
    ]
    on_amplicon = (
        conversion
        if strand == "+"
        else (reverse_complement(conversion[0]), reverse_complement(conversion[1]))
    )
    label = f"{conversion[0]}>{conversion[1]} on the guide's strand" + (
        f" ({on_amplicon[0]}>{on_amplicon[1]} on the amplicon)" if strand == "-" else ""
    )
    profile = ConversionProfile(
        assay=str(row["assay"]),
        replicate=str(row.get("replicate", "1")),
        amplicon=amplicon.name,
        conversion=label,
        source=f"counts imported from the CRISPResso2 {run.version} folder {rel}",
        position=[p.position for p in shown],
        ref=[p.ref for p in shown],
        treated_pct=[p.conversion_pct for p in shown],
        treated_low=[p.ci_low for p in shown],
        treated_high=[p.ci_high for p in shown],
        window_start=w0,
        window_end=w1,
        target_position=site.amplicon_position,
    )
    counts = {p.position: (p.count(on_amplicon[1]), p.coverage) for p in shown}
    return edited, total, site.amplicon_position, profile, counts


def _bam_counts(row: pd.Series, ctx: AssessmentContext, where: str) -> tuple[int, int]:
    from pmpath.engagement.splice import count_junction_reads, parse_junction
    from pmpath.errors import UsageError

    try:
        aberrant = parse_junction(_text(row, "aberrant_junction"), "aberrant_junction")
        corrected = parse_junction(_text(row, "corrected_junction"), "corrected_junction")
        counts = count_junction_reads(
            Path(ctx.dossier.root) / _text(row, "bam"), [aberrant, corrected]
        )
    except UsageError as exc:
        raise AnalysisError(f"{where}: bam {_text(row, 'bam')}: {exc}") from exc
    total = counts[aberrant] + counts[corrected]
    if total == 0:
        raise AnalysisError(f"{where}: bam {_text(row, 'bam')}: no read supports either junction")
    return counts[corrected], total


def sequenced_counts(
    ctx: AssessmentContext, patient: PatientRecord, frame: pd.DataFrame, path: str | None
) -> _Sequenced:
    """Fill ``edited``/``total`` of rows that name sequencing data, and set control rows aside.

    Rows with ``crispresso_dir`` count conversions at the therapy's target base (the guide from
    the case's therapy, the conversion and window from the platform's editor); rows with ``bam``
    count corrected of (corrected + aberrant) junction reads; rows with ``reads_r1`` go through the
    quantifier (:func:`_reads_counts`). Rows with ``control_of`` are untreated controls: their
    fraction at the target is the assay's background, compared one-sided (Fisher) with the
    treated rows.
    """
    where = path or "engagement table"
    if not any(c in frame for c in DATA_COLUMNS) and "control_of" not in frame:
        return _Sequenced(frame)
    frame = frame.copy().reset_index(drop=True)
    out = _Sequenced(frame)
    per_position: dict[int, dict[int, tuple[int, int]]] = {}
    for i, row in frame.iterrows():
        kind = next((c for c in DATA_COLUMNS if _text(row, c)), "")
        if not kind:
            continue
        assay = str(row["assay"])
        if kind == "crispresso_dir":
            edited, total, target, profile, counts = _crispresso_counts(row, ctx, patient, where)
            out.data[assay] = "crispresso2"
            if target is not None:
                out.target[assay] = target
            if profile is not None and not _text(row, "control_of"):
                out.profiles.append(profile)
            per_position[int(i)] = counts
            rel = _text(row, "crispresso_dir")
            out.evidence += [p for p in ctx.dossier.inputs if p.startswith(rel + "/")]
        elif kind == "bam":
            edited, total = _bam_counts(row, ctx, where)
            out.data[assay] = "bam"
            out.evidence.append(_text(row, "bam"))
        else:
            edited, total = _reads_counts(row, ctx, patient, where)
            out.data[assay] = "reads"
            out.evidence += [_text(row, "reads_r1")] + (
                [_text(row, "reads_r2")] if _text(row, "reads_r2") else []
            )
        frame.loc[i, "edited"] = edited
        frame.loc[i, "total"] = total
    is_control = (
        frame["control_of"].fillna("").astype(str).str.strip() != ""
        if "control_of" in frame
        else pd.Series(False, index=frame.index)
    )
    treated = frame[~is_control]
    for i, row in frame[is_control].iterrows():
        assay, of, ctrl = str(row["assay"]), _text(row, "control_of"), per_position.get(int(i))
        if not ctrl:
            continue
        for k, profile in enumerate(out.profiles):
            if profile.assay == assay and profile.replicate == of:
                out.profiles[k] = profile.model_copy(
                    update={
                        "control_pct": [
                            100 * ctrl[p][0] / ctrl[p][1] if p in ctrl and ctrl[p][1] else None
                            for p in profile.position
                        ]
                    }
                )
    from pmpath.engagement.compare import compare_counts

    for assay, rows in frame[is_control].groupby("assay", sort=False):
        t_rows = treated[treated["assay"] == assay]
        c_edited, c_total = int(rows["edited"].sum()), int(rows["total"].sum())
        t_edited, t_total = int(t_rows["edited"].sum()), int(t_rows["total"].sum())
        if c_total > 0 and t_total > 0:
            site = compare_counts([(t_edited, t_total)], [(c_edited, c_total)]).sites[0]
            out.background[str(assay)] = (c_edited / c_total, site.p_value)
    out.frame = treated.reset_index(drop=True)
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
        sequenced = sequenced_counts(ctx, patient, frame, path)
        frame = sequenced.frame
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
                data=sequenced.data.get(a.assay, ""),
                target_position=sequenced.target.get(a.assay),
                background=Quantity.of(sequenced.background[a.assay][0], "%")
                if a.assay in sequenced.background
                else None,
                background_p_value=_json(sequenced.background[a.assay][1])
                if a.assay in sequenced.background
                else None,
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
    if sequenced.evidence:
        common["evidence"] = ctx.evidence(*([path] if path else []), *sequenced.evidence)
    return Verdict(
        status=Status(result.status),
        summary=_summary(result),
        figures=[*forest, *sequenced.profiles],
        result=typed,
        flags=_flags(result, frame),
        **common,
    )
