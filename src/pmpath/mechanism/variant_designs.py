"""From an HGVS variant to a table of designs: the Python API behind ``pmpath mechanism design`` and ``verify``.

:func:`design_for_variant` resolves the variant on the transcript model (biocommons hgvs, offline),
predicts its consequence, and designs every guide or ASO of the chosen kind;
:func:`verify_for_variant` does the same for one given guide or ASO. Both return a
:class:`VariantDesigns` whose rows are DESIGNS.tsv.

Examples
--------
>>> run = design_for_variant("genome.fa", "genes.gff3", "NM_PLUS.1:c.35G>A", "abe8e")  # doctest: +SKIP
>>> [d.design for d in run.designs]  # doctest: +SKIP
['abe8e-1']
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmpath.errors import UsageError
from pmpath.mechanism.aso import TargetSite
from pmpath.mechanism.aso_design import (
    ASO_KINDS,
    SiteSearch,
    aso_design,
    design_asos,
    read_transcript_fasta,
)
from pmpath.mechanism.consequence import Consequence, predict_consequence
from pmpath.mechanism.design import ASO_COLUMNS, GUIDE_COLUMNS, Design, design_guides, guide_design
from pmpath.mechanism.hgvs import HgvsMapper, ResolvedVariant
from pmpath.mechanism.pam import EDITORS, editors_for
from pmpath.mechanism.reference import FastaReference, ReferenceSequence
from pmpath.mechanism.transcript import Annotation, Transcript, read_annotation

__all__ = [
    "DESIGN_KINDS",
    "VariantDesigns",
    "design_for_variant",
    "verify_for_variant",
]

DESIGN_KINDS = (*EDITORS, *ASO_KINDS)
"""What ``--editor`` accepts: ``abe8e``, ``be4max``, ``spcas9``, ``aso-splice``, ``gapmer``."""


@dataclass(frozen=True)
class VariantDesigns:
    """The resolved variant, its consequence, and the designs (or the one verified sequence)."""

    variant: ResolvedVariant
    transcript: Transcript | None
    consequence: Consequence | None
    kind: str
    designs: tuple[Design, ...]
    notes: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return ASO_COLUMNS if self.kind in ASO_KINDS else GUIDE_COLUMNS

    def tsv(self) -> str:
        """DESIGNS.tsv: a header and one row per design, tab-separated."""
        buf = io.StringIO()
        buf.write("\t".join(self.columns) + "\n")
        for d in self.designs:
            row = d.row()
            buf.write("\t".join(row[c].replace("\t", " ") for c in self.columns) + "\n")
        return buf.getvalue()

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": {
                "given": self.variant.given,
                "c": self.variant.c,
                "c_given": self.variant.c_given,
                "g": self.variant.g,
                "g_given": self.variant.g_given,
                "p": self.variant.p,
                "vcf": [
                    self.variant.vcf.chrom,
                    self.variant.vcf.pos,
                    self.variant.vcf.ref,
                    self.variant.vcf.alt,
                ],
            },
            "consequence": None if self.consequence is None else self.consequence.describe(),
            "kind": self.kind,
            "designs": [
                d.row()
                | {
                    "status": d.status.value,
                    "reason": d.reason,
                    "alignment": list(d.alignment),
                    "notes": list(d.notes),
                    **dict(d.extra),
                }
                for d in self.designs
            ],
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        lines = list(self.variant.forms())
        if self.consequence is not None:
            lines.append(
                f"consequence on {self.consequence.transcript}: {self.consequence.describe()}"
            )
        lines.append(f"{len(self.designs)} {self.kind} design(s)")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _inputs(
    reference: str | Path | ReferenceSequence, annotation: str | Path | Annotation
) -> tuple[ReferenceSequence, Annotation]:
    ref = reference if isinstance(reference, ReferenceSequence) else FastaReference(reference)
    ann = annotation if isinstance(annotation, Annotation) else read_annotation(annotation)
    return ref, ann


def _resolve(
    ref: ReferenceSequence, ann: Annotation, variant: str, where: str
) -> tuple[ResolvedVariant, Transcript | None, Consequence | None]:
    mapper = HgvsMapper(ref, ann, where)
    resolved = mapper.resolve(variant)
    tx = ann.get_transcript(resolved.transcript) if resolved.transcript else None
    if tx is None:
        near = ann.overlapping(resolved.vcf.chrom, resolved.vcf.pos, resolved.vcf.end)
        tx = near[0] if len(near) == 1 else None
    consequence = predict_consequence(tx, ref, resolved.vcf) if tx is not None else None
    return resolved, tx, consequence


def _check_kind(editor: str) -> str:
    kind = editor.strip().lower()
    if kind not in DESIGN_KINDS:
        raise UsageError(f"--editor: found {editor!r}, expected one of {', '.join(DESIGN_KINDS)}")
    return kind


def design_for_variant(
    reference: str | Path | ReferenceSequence,
    annotation: str | Path | Annotation,
    variant: str,
    editor: str,
    pam: str | None = None,
    cas: str | None = None,
    window: tuple[int, int] | None = None,
    length: int | None = None,
    max_cut_distance: int = 10,
    transcripts: str | Path | None = None,
    acts_on: TargetSite | None = None,
    wings: tuple[int, int] = (5, 5),
    progress: Callable[[int, int], None] | None = None,
) -> VariantDesigns:
    """Every design of kind ``editor`` for the HGVS ``variant``.

    Parameters
    ----------
    reference, annotation
        The reference FASTA and the GFF3/GTF (paths, or loaded objects).
    variant
        HGVS (``NM_x:c.1003C>T``, ``NM_x:c.1003+5G>A``, ``chrX:g.38260101G>A``).
    editor
        ``abe8e``, ``be4max``, ``spcas9`` (nuclease), ``aso-splice`` or ``gapmer``.
    pam, cas, window, length, max_cut_distance
        Guide options (:func:`pmpath.mechanism.pam.editors_for`); ``length`` is the ASO length for
        ASOs.
    transcripts
        A transcript FASTA searched (with the annotation's mRNAs and pre-mRNAs) for other ASO sites.
    acts_on
        ASO only: the site to overlap instead of the variant.
    wings
        Gapmer wings (5', 3').
    progress
        Called with (done, total) as candidates are checked.
    """
    kind = _check_kind(editor)
    ref, ann = _inputs(reference, annotation)
    resolved, tx, consequence = _resolve(ref, ann, variant, "--variant")
    notes = []
    if resolved.normalized_differs:
        notes.append(f"the variant as written moves under the 3' rule: {resolved.c or resolved.g}")
    if kind in ASO_KINDS:
        search = SiteSearch(ann, ref, read_transcript_fasta(transcripts) if transcripts else None)
        designs = design_asos(
            ref, resolved.vcf, kind, tx, length, acts_on, search, wings, progress=progress
        )
    else:
        eds = editors_for(kind, cas, pam, window, length, max_cut_distance)
        designs = design_guides(ref, resolved.vcf, eds, tx, kind, progress)
        notes.append(
            "offtarget_summary is empty: the genome-wide off-target search is not run here"
        )
    return VariantDesigns(resolved, tx, consequence, kind, tuple(designs), tuple(notes))


def verify_for_variant(
    reference: str | Path | ReferenceSequence,
    annotation: str | Path | Annotation,
    variant: str,
    editor: str,
    sequence: str,
    pam: str | None = None,
    cas: str | None = None,
    window: tuple[int, int] | None = None,
    length: int | None = None,
    max_cut_distance: int = 10,
    transcripts: str | Path | None = None,
    acts_on: TargetSite | None = None,
    wings: tuple[int, int] = (5, 5),
) -> VariantDesigns:
    """The design row of one given guide spacer or ASO for the HGVS ``variant`` (same columns as a design)."""
    kind = _check_kind(editor)
    ref, ann = _inputs(reference, annotation)
    resolved, tx, consequence = _resolve(ref, ann, variant, "--variant")
    if kind in ASO_KINDS:
        search = SiteSearch(ann, ref, read_transcript_fasta(transcripts) if transcripts else None)
        design = aso_design(
            ref, resolved.vcf, sequence, kind, tx, acts_on, search, wings, "given", consequence
        )
    else:
        eds = editors_for(kind, cas, pam, window, length, max_cut_distance)
        rows = [guide_design(ref, resolved.vcf, sequence, e, tx, "given", consequence) for e in eds]
        design = next((d for d in rows if d.status.value == "met"), rows[0])
    return VariantDesigns(resolved, tx, consequence, kind, (design,))
