"""Criterion 2's off-target review: the case's genome-wide search (SITES.tsv) as caveats, or a rule.

A site is flagged when it is not the on-target (a site overlapping the targeted variant) and either
lies in a coding exon with CFD above ``analysis_plan.targeting.offtarget_max_cfd``, or exists only in
the patient's own genome (``patient_specific``). Flags are caveats beside the verdict; the verdict
changes only when the plan declares ``offtarget_rule: not_met``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pmpath.dossier.fasta import chromosome_aliases
from pmpath.dossier.load import PatientRecord
from pmpath.dossier.model import TargetingPlan, Variant
from pmpath.pathway.flags import Flag, FlagSeverity
from pmpath.pathway.numbers import format_number
from pmpath.pathway.results import OfftargetSite, OfftargetSummary

__all__ = ["OfftargetReview", "review_offtargets"]

MAX_FLAGS = 20  # more flagged sites are counted in one flag, and all are in the typed result


@dataclass(frozen=True)
class OfftargetReview:
    """What the off-target table adds to criterion 2."""

    summary: OfftargetSummary
    flags: list[Flag]
    fails_rule: bool


def _locus(row) -> str:
    return f"{row.chrom}:{int(row.start)}-{int(row.end)} ({row.strand})"


def review_offtargets(
    patient: PatientRecord, target: Variant, plan: TargetingPlan, criterion: int = 2
) -> OfftargetReview | None:
    """The off-target review for ``patient`` (None when the case has no off-target table)."""
    table = patient.offtarget
    if table is None or table.empty:
        return None
    chroms = set(chromosome_aliases(target.chrom))
    # the variant's 0-based span on the + strand: an on-target site overlaps it
    v0, v1 = target.pos - 1, target.pos - 1 + max(1, len(target.ref))
    on = (
        table["chrom"].astype(str).isin(chroms)
        & (table["start"].astype(int) < v1)
        & (table["end"].astype(int) > v0)
    ).to_numpy()
    dna = table["dna_bulge"].fillna(0).astype(int).to_numpy()
    rna = table["rna_bulge"].fillna(0).astype(int).to_numpy()
    mism = table["mismatches"].astype(int).to_numpy()
    specific = table["patient_specific"].astype(bool).to_numpy()
    cfd = table["cfd"].astype(float).to_numpy()
    region = table["region"].fillna("").astype(str).to_numpy()
    coding = np.char.startswith(region.astype(str), "coding_exon")
    above = np.nan_to_num(cfd, nan=-1.0) > plan.offtarget_max_cfd
    flagged_mask = ~on & ((coding & above) | specific)
    plain = (dna == 0) & (rna == 0) & ~specific
    counts = [
        int(((mism == k) & plain).sum())
        for k in range(int(mism[plain].max()) + 1 if plain.any() else 1)
    ]
    flagged: list[OfftargetSite] = []
    for i in np.flatnonzero(flagged_mask):
        row = table.iloc[int(i)]
        reasons = []
        if coding[i] and above[i]:
            reasons.append(
                f"CFD {format_number(cfd[i])} > {format_number(plan.offtarget_max_cfd)} in a coding exon"
            )
        if specific[i]:
            reasons.append(
                "only in the patient's genome (a germline variant creates or strengthens it)"
            )
        flagged.append(
            OfftargetSite(
                locus=_locus(row),
                region=region[i] or "not annotated",
                mismatches=int(mism[i]),
                dna_bulge=int(dna[i]),
                rna_bulge=int(rna[i]),
                cfd=None if np.isnan(cfd[i]) else float(cfd[i]),
                patient_specific=bool(specific[i]),
                reason="; ".join(reasons),
            )
        )
    summary = OfftargetSummary(
        sites=len(table),
        on_target=int(on.sum()),
        mismatch_counts="-".join(map(str, counts)),
        bulge_sites=int(((dna > 0) | (rna > 0)).sum()),
        patient_specific_sites=int(specific.sum()),
        cfd_threshold=plan.offtarget_max_cfd,
        rule=plan.offtarget_rule,
        flagged=flagged,
        file=patient.files.get("offtarget"),
    )
    flags = [
        Flag(
            kind="offtarget_site",
            severity=FlagSeverity.caveat,
            message=f"off-target site {f.locus}, {f.region}, {f.mismatches} mismatch(es)"
            + (f" and a {f.dna_bulge + f.rna_bulge}-nt bulge" if f.dna_bulge + f.rna_bulge else "")
            + f": {f.reason}",
            criterion=criterion,
        )
        for f in flagged[:MAX_FLAGS]
    ]
    if len(flagged) > MAX_FLAGS:
        flags.append(
            Flag(
                kind="offtarget_site",
                severity=FlagSeverity.caveat,
                message=f"{len(flagged) - MAX_FLAGS} more flagged off-target sites (all in the criterion's table)",
                criterion=criterion,
            )
        )
    return OfftargetReview(
        summary, flags, fails_rule=plan.offtarget_rule == "not_met" and bool(flagged)
    )
