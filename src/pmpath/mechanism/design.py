"""Guide designs for a patient variant: every base-editor or nuclease guide that acts on it, with bystanders and consequences.

For each PAM of the chosen Cas variant, both strands of the patient's allele around the variant are
scanned; a base-editor guide is kept when the variant lies in the editing window and the patient's
base there is the one the editor converts (on the protospacer strand), a nuclease guide when its cut
(3 bp upstream of the PAM) is within ``max_cut_distance`` of the variant. Each candidate is then
checked by :func:`~pmpath.mechanism.guide.verify_guide`, the same function that checks a given guide
(``pmpath mechanism verify``), so a designed and a verified guide get the same row. With a transcript,
the consequence of the patient's variant, of the edit and of every bystander edit is predicted
(:func:`~pmpath.mechanism.consequence.predict_consequence`); a bystander is judged on the allele the
intended edit leaves. The off-target summary is left empty for the genome-wide search.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pmpath.errors import UsageError
from pmpath.mechanism.allele import SequenceVariant, allele_window
from pmpath.mechanism.consequence import Consequence, predict_consequence
from pmpath.mechanism.guide import CUT_OFFSET, Editor, GuideVerification, verify_guide
from pmpath.mechanism.reference import ReferenceSequence
from pmpath.mechanism.sequence import Placement, check_dna, iupac_mismatches, reverse_complement
from pmpath.mechanism.status import CheckStatus, MechanismClass
from pmpath.mechanism.transcript import Transcript

__all__ = [
    "ASO_COLUMNS",
    "GUIDE_COLUMNS",
    "Bystander",
    "Design",
    "design_from_verification",
    "design_guides",
    "gc_fraction",
    "guide_design",
    "longest_run",
]

GUIDE_COLUMNS = (
    "design",
    "kind",
    "strand",
    "spacer",
    "pam",
    "variant_position",
    "mechanism_class",
    "bystanders",
    "consequence",
    "gc",
    "poly_t",
    "tm",
    "offtarget_summary",
)
"""DESIGNS.tsv columns for guides, in order."""
ASO_COLUMNS = tuple("aso" if c == "spacer" else c for c in GUIDE_COLUMNS)
"""DESIGNS.tsv columns for ASOs: ``aso`` in place of ``spacer``."""

POLY_T_RUN = 4  # TTTT ends transcription from a U6 (Pol III) promoter


def gc_fraction(sequence: str) -> float:
    """Fraction of G and C.

    >>> gc_fraction("GGCCAT")
    0.6666666666666666
    """
    if not sequence:
        raise UsageError("gc_fraction: found an empty sequence, expected bases")
    s = sequence.upper()
    return (s.count("G") + s.count("C")) / len(s)


def longest_run(sequence: str, base: str) -> int:
    """Length of the longest run of ``base``.

    >>> longest_run("ATTTTGTT", "T")
    4
    """
    best = run = 0
    for b in sequence.upper():
        run = run + 1 if b == base else 0
        best = max(best, run)
    return best


@dataclass(frozen=True)
class Bystander:
    """A base in the editing window, other than the variant, that the editor also converts."""

    position: int  # protospacer position, 1-based from the PAM-distal end
    genomic_position: int | None
    edit: str  # on the protospacer strand, e.g. "A>G"
    consequence: Consequence | None = None

    def label(self) -> str:
        """``position:edit:consequence`` as DESIGNS.tsv writes it."""
        what = self.consequence.describe() if self.consequence else "consequence not predicted"
        return f"{self.position}:{self.edit}:{what}"


@dataclass(frozen=True)
class Design:
    """One guide or ASO design (or one verified sequence), as a DESIGNS.tsv row and as data.

    ``status``/``reason`` are the verification's; ``variant_positions`` are positions in the
    protospacer (PAM-distal end = 1) or in the ASO (5' end = 1).
    """

    design: str
    kind: str
    strand: str
    sequence: str
    pam: str
    variant_positions: tuple[int, ...]
    mechanism_class: MechanismClass | None
    bystanders: tuple[Bystander, ...]
    consequence: str
    gc: float
    poly_t: bool
    tm: float | None = None
    offtarget_summary: str = ""
    status: CheckStatus = CheckStatus.met
    reason: str = ""
    cut_distance: int | None = None
    alignment: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    extra: tuple[tuple[str, str], ...] = ()  # ASO: hairpin, self-complementarity, gap position

    @property
    def is_aso(self) -> bool:
        return self.kind in ("aso-splice", "gapmer")

    def row(self) -> dict[str, str]:
        """The DESIGNS.tsv row: plain text, numbers unrounded beyond 3 decimals, empty for none."""
        values = {
            "design": self.design,
            "kind": self.kind,
            "strand": self.strand,
            "aso" if self.is_aso else "spacer": self.sequence,
            "pam": self.pam,
            "variant_position": ",".join(map(str, self.variant_positions)),
            "mechanism_class": self.mechanism_class.value if self.mechanism_class else "",
            "bystanders": ";".join(b.label() for b in self.bystanders),
            "consequence": self.consequence,
            "gc": f"{self.gc:.3f}",
            "poly_t": "yes" if self.poly_t else "no",
            "tm": "" if self.tm is None else f"{self.tm:.1f}",
            "offtarget_summary": self.offtarget_summary,
        }
        return {c: values[c] for c in (ASO_COLUMNS if self.is_aso else GUIDE_COLUMNS)}


def _edited_base(base: str, editor: Editor, strand: str) -> str:
    """The forward-strand base after the editor converts ``base`` (a forward-strand base)."""
    if strand == "+":
        return editor.edit_to if base == editor.edit_from else base  # type: ignore[return-value]
    return (
        reverse_complement(editor.edit_to) if base == reverse_complement(editor.edit_from) else base
    )  # type: ignore[arg-type]


def guide_design(
    reference: ReferenceSequence,
    variant: SequenceVariant,
    spacer: str,
    editor: Editor,
    transcript: Transcript | None = None,
    name: str = "guide",
    variant_consequence: Consequence | None = None,
) -> Design:
    """The design row of one guide: its verification, bystanders with consequences, GC and poly-T.

    Used for every designed guide and for ``pmpath mechanism verify`` on a given one.
    """
    spacer = check_dna(spacer, "spacer")
    result = verify_guide(reference, variant, spacer, editor)
    if transcript is not None and variant_consequence is None:
        variant_consequence = predict_consequence(transcript, reference, variant)
    return design_from_verification(result, reference, transcript, name, variant_consequence)


def design_from_verification(
    result: GuideVerification,
    reference: ReferenceSequence,
    transcript: Transcript | None,
    name: str = "guide",
    variant_consequence: Consequence | None = None,
) -> Design:
    """The design row of an existing :func:`~pmpath.mechanism.guide.verify_guide` result (criterion 2 uses it)."""
    editor, hit, variant = result.editor, result.hit, result.variant
    strand = hit.strand if hit else ""
    bystanders: list[Bystander] = []
    background: list[SequenceVariant] = []
    consequence = ""
    if editor.is_base_editor:
        kind = "base_editor"
        # the allele the intended edit leaves: the variant's bases converted (when the editor acts)
        if result.status == CheckStatus.met and not result.restores_reference:
            edited = (
                "".join(_edited_base(b, editor, strand) for b in variant.alt)
                if variant.kind == "substitution"
                else variant.alt
            )
            if edited != variant.ref:
                background.append(SequenceVariant(variant.chrom, variant.pos, variant.ref, edited))
        elif result.status != CheckStatus.met:
            background.append(variant)
        for b in result.bystanders:
            cons = None
            if transcript is not None and b.genomic_position is not None:
                fwd = reference.fetch(variant.chrom, b.genomic_position, b.genomic_position)
                after = _edited_base(fwd, editor, strand)
                if after != fwd:
                    try:
                        cons = predict_consequence(
                            transcript,
                            reference,
                            SequenceVariant(variant.chrom, b.genomic_position, fwd, after),
                            background,
                        )
                    except Exception:  # a bystander outside the model: report it unpredicted
                        cons = None
            bystanders.append(
                Bystander(
                    b.position, b.genomic_position, f"{editor.edit_from}>{editor.edit_to}", cons
                )
            )
        if result.status == CheckStatus.met:
            if result.restores_reference:
                consequence = "restores the reference"
                if variant_consequence is not None and variant_consequence.kind != "none":
                    consequence += f" (reverts {variant_consequence.describe()})"
            elif background and transcript is not None:
                product = predict_consequence(transcript, reference, background[0])
                consequence = f"compensatory change: {product.describe()} against the reference"
            else:
                consequence = "compensatory change (no transcript to predict it)"
        else:
            consequence = f"no edit of the variant: {result.reason}"
    else:
        kind = "nuclease"
        if result.cut_distance is not None:
            consequence = (
                f"cut {result.cut_distance} bp from the variant: disrupts the variant allele (NHEJ)"
            )
        if result.status != CheckStatus.met:
            consequence = f"does not act on the variant: {result.reason}"
    return Design(
        design=name,
        kind=kind,
        strand=strand,
        sequence=result.spacer,
        pam=hit.pam if hit else "",
        variant_positions=result.variant_positions,
        mechanism_class=result.mechanism_class,
        bystanders=tuple(bystanders),
        consequence=consequence,
        gc=gc_fraction(result.spacer),
        poly_t=longest_run(result.spacer, "T") >= POLY_T_RUN,
        status=result.status,
        reason=result.reason,
        cut_distance=result.cut_distance,
        alignment=tuple(result.alignment_lines()),
        notes=result.notes,
    )


def _cut_distance(position: int, length: int) -> int:
    last_before = length - CUT_OFFSET
    return last_before - position + 1 if position <= last_before else position - last_before


def design_guides(
    reference: ReferenceSequence,
    variant: SequenceVariant,
    editors: Sequence[Editor],
    transcript: Transcript | None = None,
    name: str = "guide",
    progress: Callable[[int, int], None] | None = None,
) -> list[Design]:
    """Every guide that places ``variant`` where the editor acts, on both strands, for each editor (PAM).

    Parameters
    ----------
    reference
        Reference sequence carrying the variant's ``ref`` allele.
    variant
        The patient's variant (VCF convention).
    editors
        One :class:`~pmpath.mechanism.guide.Editor` per PAM (:func:`pmpath.mechanism.pam.editors_for`).
    transcript
        The variant's transcript, for consequences; None leaves them unpredicted.
    name
        Prefix of the design ids (``abe8e-1``, ``abe8e-2``...).
    progress
        Called with (done, total) after each candidate is checked.

    Returns
    -------
    list of Design
        Sorted: met first, corrections before work-arounds, fewer bystanders first, then strand
        and position. Base-editor guides whose window holds the variant but whose base there the
        editor does not convert are left out (they are not designs).
    """
    if not editors:
        raise UsageError("design_guides: found no editor, expected at least one")
    variant_consequence = (
        predict_consequence(transcript, reference, variant) if transcript is not None else None
    )
    candidates: list[tuple[Editor, str]] = []
    for editor in editors:
        length, pam = editor.protospacer_length, editor.pam
        flank = length + len(pam) + editor.max_cut_distance + 10
        window = allele_window(reference, variant, flank, flank)
        seq = window.patient
        n = len(seq)
        for strand, text in (("+", seq), ("-", reverse_complement(seq))):
            for offset in range(n - length - len(pam) + 1):
                if iupac_mismatches(text[offset + length : offset + length + len(pam)], pam):
                    continue
                spacer = text[offset : offset + length]
                if set(spacer) - set("ACGT"):
                    continue
                start = offset if strand == "+" else n - offset - length
                p = Placement(strand, start, length, ())  # type: ignore[arg-type]
                positions = sorted(p.query_index(i) + 1 for i in window.changed)
                if editor.is_base_editor:
                    lo, hi = editor.editing_window
                    if not all(lo <= q <= hi for q in positions):
                        continue
                    if variant.kind != "substitution":
                        continue
                    if any(spacer[q - 1] != editor.edit_from for q in positions):
                        continue
                elif min(_cut_distance(q, length) for q in positions) > editor.max_cut_distance:
                    continue
                if (editor, spacer) not in candidates:
                    candidates.append((editor, spacer))
    designs: list[Design] = []
    for k, (editor, spacer) in enumerate(candidates, start=1):
        result = verify_guide(reference, variant, spacer, editor)
        designs.append(
            design_from_verification(result, reference, transcript, "", variant_consequence)
        )
        if progress is not None:
            progress(k, len(candidates))

    def order(d: Design) -> tuple:
        return (
            d.status != CheckStatus.met,
            d.mechanism_class != MechanismClass.corrects,
            len(d.bystanders),
            d.cut_distance or 0,
            d.strand,
            d.sequence,
        )

    designs.sort(key=order)
    from dataclasses import replace

    return [replace(d, design=f"{name}-{i}") for i, d in enumerate(designs, start=1)]
