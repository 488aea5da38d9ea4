"""Off-target sites in the patient's own genome: the reference with the patient's germline variants applied.

Each variant (SNV or indel) the first sample carries is applied to a window of the reference around
it (the guide, the largest bulge and the PAM on either side); variants closer than a window apart are
applied together. Unphased variants in one window are put on one haplotype: for a compound
heterozygote that can create a site neither haplotype has, which errs towards reporting (CRISPRme
makes the same choice without phase). The window is searched like the genome; a site is
patient-specific when it overlaps an applied variant and its locus is absent from the reference
search or aligns there with more edits or a lower CFD. Coordinates are mapped back to the reference.

Variants that cannot be applied (a symbolic ALT, a contig absent from the genome, a REF that does not
match the genome) are not dropped silently: :class:`PatientGenome` lists each with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from pmpath.errors import UsageError
from pmpath.mechanism.offtarget.genome import Genome
from pmpath.mechanism.offtarget.search import Guide, SearchSettings, search_offtargets

__all__ = ["GermlineVariant", "PatientGenome", "patient_specific_sites", "read_germline_vcf"]


@dataclass(frozen=True)
class GermlineVariant:
    """A germline variant on the + strand: 0-based ``pos`` of the REF allele's first base."""

    chrom: str
    pos: int
    ref: str
    alt: str
    line: int = 0


@dataclass
class PatientGenome:
    """The variants to apply and those set aside, each with its VCF line and the reason."""

    variants: list[GermlineVariant]
    skipped: list[tuple[int, str]] = field(default_factory=list)


def read_germline_vcf(path: Path | str, genome: Genome) -> PatientGenome:
    """The first sample's non-reference alleles (every ALT when the VCF has no samples)."""
    path = Path(path)
    verbosity = pysam.set_verbosity(0)
    try:
        try:
            vcf = pysam.VariantFile(str(path))
        except (OSError, ValueError):
            raise UsageError(
                f"{path}: a malformed or missing VCF, expected VCF 4.x (##fileformat, #CHROM header)"
            ) from None
        out = PatientGenome([])
        header_lines = len(str(vcf.header).splitlines())
        with vcf:
            sample = next(iter(vcf.header.samples), None)
            for number, rec in enumerate(vcf, start=header_lines + 1):
                alts = rec.alts or ()
                if sample is not None:
                    gt = rec.samples[sample].get("GT") or ()
                    carried = sorted({a for a in gt if a})
                    alleles = [alts[a - 1] for a in carried if a - 1 < len(alts)]
                else:
                    alleles = list(alts)
                if not alleles:
                    continue
                if rec.chrom not in genome:
                    out.skipped.append((number, f"contig {rec.chrom!r} is not in the genome"))
                    continue
                ref = rec.ref.upper()
                actual = genome.fetch(rec.chrom, rec.pos - 1, rec.pos - 1 + len(ref))
                if actual != ref:
                    out.skipped.append(
                        (number, f"REF {ref} at {rec.chrom}:{rec.pos}, the genome has {actual}")
                    )
                    continue
                for alt in alleles[
                    :1
                ]:  # two different ALTs: the first is applied, the second listed
                    if not alt or set(alt.upper()) - set("ACGTN"):
                        out.skipped.append((number, f"ALT {alt!r} is not a sequence (symbolic)"))
                        continue
                    out.variants.append(
                        GermlineVariant(rec.chrom, rec.pos - 1, ref, alt.upper(), number)
                    )
                for alt in alleles[1:]:
                    out.skipped.append(
                        (number, f"second ALT {alt!r} of a multiallelic call not applied")
                    )
    finally:
        pysam.set_verbosity(verbosity)
    return out


def _clusters(variants: Sequence[GermlineVariant], flank: int) -> list[list[GermlineVariant]]:
    ordered = sorted(variants, key=lambda v: (v.chrom, v.pos))
    groups: list[list[GermlineVariant]] = []
    for v in ordered:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and last.chrom == v.chrom
            and v.pos <= last.pos + len(last.ref) + 2 * flank
        ):
            if v.pos < last.pos + len(last.ref):
                continue  # overlapping a variant already applied: the first wins
            groups[-1].append(v)
        else:
            groups.append([v])
    return groups


def patient_specific_sites(
    genome: Genome,
    guides: Sequence[Guide],
    reference_sites: pd.DataFrame,
    patient: PatientGenome,
    settings: SearchSettings | None = None,
) -> pd.DataFrame:
    """Sites the patient's variants create or strengthen, in reference coordinates, ``patient_specific`` True."""
    settings = settings or SearchSettings()
    L = len(guides[0].spacer)
    flank = L + max(settings.dna_bulge, settings.rna_bulge) + len(settings.pam) + 2
    by_locus = {
        (r.guide, r.chrom, r.strand, int(r.pam_position)): r for r in reference_sites.itertuples()
    }
    found = []
    for group in _clusters(patient.variants, flank):
        chrom = group[0].chrom
        size = genome[chrom].size
        w0 = max(0, group[0].pos - flank)
        w1 = min(size, group[-1].pos + len(group[-1].ref) + flank)
        ref_text = genome.fetch(chrom, w0, w1)
        pieces, cursor = [], w0
        # alt-window coordinate -> reference coordinate, piecewise
        breakpoints: list[tuple[int, int, int, int]] = []  # alt start, alt end, ref start, ref end
        alt_pos = 0
        for v in group:
            pieces.append(ref_text[cursor - w0 : v.pos - w0])
            alt_pos += v.pos - cursor
            breakpoints.append((alt_pos, alt_pos + len(v.alt), v.pos - w0, v.pos - w0 + len(v.ref)))
            pieces.append(v.alt)
            alt_pos += len(v.alt)
            cursor = v.pos + len(v.ref)
        pieces.append(ref_text[cursor - w0 :])
        alt_text = "".join(pieces)

        def to_ref(x: int, *, end: bool = False, _bp=breakpoints, _w0=w0) -> int:
            shift = 0
            for a0, a1, r0, r1 in _bp:
                if x < a0 or (end and x == a0):
                    break
                if x < a1 or (end and x == a1):
                    return _w0 + (r1 if end else r0)
                shift = r1 - a1
            return _w0 + x + shift

        local = search_offtargets(Genome.from_strings({"w": alt_text}), guides, settings, threads=1)
        n_alt = len(alt_text)
        for row in local.itertuples():
            # only sites touching an applied variant differ from the reference
            if not any(
                row.start < a1 and row.end > a0 for a0, a1, _r0, _r1 in breakpoints
            ) and not any(
                a0 == a1 and row.start < a0 < row.end for a0, a1, _r0, _r1 in breakpoints
            ):
                continue
            start, end = to_ref(row.start), to_ref(row.end, end=True)
            pam_ref = to_ref(int(row.pam_position))
            # sites cut by the window edge are the reference's business
            if row.start == 0 or row.end == n_alt:
                continue
            key = (row.guide, chrom, row.strand, pam_ref)
            ref_row = by_locus.get(key)
            edits = row.mismatches + row.dna_bulge + row.rna_bulge
            if ref_row is not None:
                ref_edits = ref_row.mismatches + ref_row.dna_bulge + ref_row.rna_bulge
                ref_cfd = ref_row.cfd if not np.isnan(ref_row.cfd) else -1.0
                cfd = row.cfd if not np.isnan(row.cfd) else -1.0
                if (edits, -cfd) >= (ref_edits, -ref_cfd):
                    continue
            record = row._asdict()
            record.pop("Index", None)
            record.update(
                chrom=chrom, start=start, end=end, pam_position=pam_ref, patient_specific=True
            )
            found.append(record)
    columns = list(reference_sites.columns)
    frame = pd.DataFrame(found, columns=columns)
    return frame.drop_duplicates(["guide", "chrom", "strand", "pam_position"]).reset_index(
        drop=True
    )
