"""Criterion 2 for CRISPR guides: does the spacer sit on the patient's allele, and does the editor act on the variant?

The patient's allele is built from the reference around the variant; the spacer is searched on
both strands, followed by a PAM. Protospacer positions are counted from the PAM-distal end (1-based)
with the PAM-proximal base at ``protospacer_length``, the convention behind editing windows such
as ABE8e's 4-8. A base editor acts on its window on the protospacer (non-target) strand; a nuclease
cuts 3 bp upstream of the PAM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pmpath.errors import UsageError
from pmpath.mechanism.allele import AlleleWindow, SequenceVariant, allele_window
from pmpath.mechanism.reference import ReferenceSequence
from pmpath.mechanism.sequence import (
    IUPAC,
    Placement,
    check_dna,
    reverse_complement,
    scan_both_strands,
)
from pmpath.mechanism.status import CheckStatus, MechanismClass

CUT_OFFSET = 3  # SpCas9 cuts between the 3rd and 4th base upstream of the PAM


@dataclass(frozen=True)
class Editor:
    """What the editor recognises and what it changes.

    Parameters
    ----------
    pam
        PAM in IUPAC code, 3' of the protospacer (``NGG`` for SpCas9).
    protospacer_length
        Protospacer length the editing window is counted in.
    editing_window
        First and last protospacer position edited, 1-based from the PAM-distal end, inclusive.
    edit_from, edit_to
        Base converted and its product on the protospacer strand (``A``/``G`` for an adenine base
        editor, ``C``/``T`` for a cytosine base editor); both None for a nuclease.
    max_cut_distance
        Nuclease only: largest distance in bp from the cut to the variant for the variant to count
        as disrupted. 10 bp by default: NHEJ indels from a Cas9 cut are mostly a few bp long and
        centred on the cut, so a variant further away is rarely removed.
    """

    pam: str = "NGG"
    protospacer_length: int = 20
    editing_window: tuple[int, int] = (4, 8)
    edit_from: str | None = None
    edit_to: str | None = None
    max_cut_distance: int = 10

    def __post_init__(self) -> None:
        pam = self.pam.upper()
        if not pam or set(pam) - set(IUPAC):
            raise UsageError(
                f"editor pam: found {self.pam!r}, expected IUPAC letters such as 'NGG'"
            )
        object.__setattr__(self, "pam", pam)
        if self.protospacer_length < 1:
            raise UsageError(
                f"editor protospacer_length: found {self.protospacer_length}, expected >= 1"
            )
        lo, hi = self.editing_window
        if not 1 <= lo <= hi <= self.protospacer_length:
            raise UsageError(
                f"editor editing_window: found {self.editing_window}, expected 1 <= start <= end <= {self.protospacer_length}"
            )
        if (self.edit_from is None) != (self.edit_to is None):
            raise UsageError(
                f"editor: found edit_from={self.edit_from!r}, edit_to={self.edit_to!r}, expected both set (base editor) or both None (nuclease)"
            )
        bases = ("A", "C", "G", "T")
        if self.edit_from is not None and (
            self.edit_from not in bases
            or self.edit_to not in bases
            or self.edit_from == self.edit_to
        ):
            raise UsageError(
                f"editor: found {self.edit_from}>{self.edit_to}, expected two different bases among A, C, G, T"
            )
        if self.max_cut_distance < 0:
            raise UsageError(
                f"editor max_cut_distance: found {self.max_cut_distance}, expected >= 0"
            )

    @property
    def is_base_editor(self) -> bool:
        return self.edit_from is not None


@dataclass(frozen=True)
class GuideMismatch:
    """A protospacer base where the spacer and the patient's sequence differ."""

    position: int  # 1-based from the PAM-distal end
    guide_base: str
    target_base: str  # the patient's base on the protospacer strand
    genomic_position: int | None  # None for a base the variant inserted


@dataclass(frozen=True)
class EditableBase:
    """A base in the editing window the editor would convert."""

    position: int
    base: str  # on the protospacer strand
    genomic_position: int | None


@dataclass(frozen=True)
class GuideHit:
    """Where the spacer sits: strand, protospacer and PAM coordinates, mismatches."""

    strand: str
    chrom: str
    protospacer_start: int  # reference coordinates, 1-based inclusive, start <= end
    protospacer_end: int
    pam_start: int
    pam_end: int
    protospacer: str  # the patient's sequence on the protospacer strand, 5'->3'
    pam: str
    pam_matches: bool
    mismatches: tuple[GuideMismatch, ...]

    @property
    def perfect(self) -> bool:
        return not self.mismatches and self.pam_matches


@dataclass(frozen=True)
class GuideVerification:
    """The result of :func:`verify_guide`.

    ``variant_positions`` are the protospacer positions (PAM-distal end = 1) of the bases the
    variant changes, for the hit reported; values outside ``1..protospacer_length`` mean the
    variant lies outside the protospacer (<= 0 on the PAM-distal side, above the length in or past
    the PAM).
    """

    status: CheckStatus
    mechanism_class: MechanismClass | None
    reason: str
    variant: SequenceVariant
    spacer: str
    editor: Editor
    hit: GuideHit | None
    perfect_hits: tuple[GuideHit, ...]
    variant_positions: tuple[int, ...] = ()
    in_window: bool = False
    variant_bases: str = ""  # the patient's bases at the variant, protospacer strand
    reference_bases: str = ""  # the reference's bases there, protospacer strand
    bystanders: tuple[EditableBase, ...] = ()
    edited_protospacer: str | None = None  # every editable base in the window converted
    restores_reference: bool | None = None
    cut_distance: int | None = None
    reference_hit: GuideHit | None = None  # best hit on the reference allele at the same site
    reference_protospacer: str | None = None
    notes: tuple[str, ...] = field(default=())

    def alignment_lines(self) -> list[str]:
        """A text alignment of guide, PAM and patient sequence with the window and the variant marked."""
        hit = self.hit
        if hit is None:
            return [f"spacer {self.spacer} not placed near {self.variant}"]
        length = self.editor.protospacer_length
        first = length - len(self.spacer) + 1  # position of the spacer's first base
        width = 12
        lines = [
            f"{hit.chrom}:{hit.protospacer_start}-{hit.protospacer_end} ({hit.strand} strand), PAM {hit.pam} at {hit.pam_start}-{hit.pam_end}",
            f"{'guide':<{width}}5'-{self.spacer} {self.editor.pam}-3'",
            f"{'patient':<{width}}5'-{hit.protospacer} {hit.pam}-3'",
        ]
        if self.reference_protospacer is not None:
            lines.append(f"{'reference':<{width}}5'-{self.reference_protospacer}-3'")
        marks = "".join(
            "|" if g == t else "x" for g, t in zip(self.spacer, hit.protospacer, strict=False)
        )
        pam_marks = "".join(
            "|" if b in IUPAC[c] else "x" for b, c in zip(hit.pam, self.editor.pam, strict=False)
        )
        lines.append(f"{'':<{width}}   {marks} {pam_marks}")

        def ruler(positions: set[int], mark: str) -> str:
            return "".join(
                mark if first + k in positions else " " for k in range(len(self.spacer))
            ).rstrip()

        if self.editor.is_base_editor:
            lo, hi = self.editor.editing_window
            lines.append(f"{f'window {lo}-{hi}':<{width}}   {ruler(set(range(lo, hi + 1)), '^')}")
        else:
            cut = length - CUT_OFFSET  # the cut falls after this position
            lines.append(f"{'cut':<{width}}   {' ' * (cut - first + 1)}/")
        inside = {p for p in self.variant_positions if first <= p <= length}
        if inside:
            lines.append(
                f"{'variant':<{width}}   {ruler(inside, '*')}  position {', '.join(map(str, sorted(inside)))}"
            )
        else:
            lines.append(
                f"{'variant':<{width}}   outside the protospacer (position {', '.join(map(str, self.variant_positions))})"
            )
        if self.bystanders:
            lines.append(
                f"{'bystanders':<{width}}   {ruler({b.position for b in self.bystanders}, 'b')}"
            )
        return lines


def _hit(
    window_seq: str,
    chrom: str,
    position_of: Callable[[int], int | None],
    p: Placement,
    pam_length: int,
    spacer: str,
    length: int,
) -> GuideHit:
    """A placement turned into reference coordinates; ``position_of`` maps a window index to a coordinate."""
    text = window_seq if p.strand == "+" else reverse_complement(window_seq)
    offset = p.start if p.strand == "+" else len(window_seq) - p.start - p.length
    protospacer = text[offset : offset + p.length]
    coords = [
        c for c in (position_of(p.forward_index(k)) for k in range(p.length)) if c is not None
    ]
    pam_lo, pam_hi = p.suffix_span(pam_length)
    pam_coords = [c for c in (position_of(i) for i in range(pam_lo, pam_hi + 1)) if c is not None]
    first = length - len(spacer) + 1
    mismatches = tuple(
        GuideMismatch(first + k, spacer[k], protospacer[k], position_of(p.forward_index(k)))
        for k in p.mismatches
    )
    return GuideHit(
        strand=p.strand,
        chrom=chrom,
        protospacer_start=min(coords),
        protospacer_end=max(coords),
        pam_start=min(pam_coords) if pam_coords else 0,
        pam_end=max(pam_coords) if pam_coords else 0,
        protospacer=protospacer,
        pam=p.suffix,
        pam_matches=not p.suffix_mismatches,
        mismatches=mismatches,
    )


def _cut_distance(position: int, length: int) -> int:
    """Distance in bp from the cut (after position ``length - 3``) to a base: 1 for either base flanking it."""
    last_before = length - CUT_OFFSET
    return last_before - position + 1 if position <= last_before else position - last_before


def verify_guide(
    reference: ReferenceSequence,
    variant: SequenceVariant,
    spacer: str,
    editor: Editor,
    flank: int | None = None,
) -> GuideVerification:
    """Check that a guide targets the variant on the patient's allele and that the editor acts on it.

    Parameters
    ----------
    reference
        Reference sequence; must carry the variant's ``ref`` allele.
    variant
        The targeted variant (VCF convention).
    spacer
        Guide spacer, 5'->3' in DNA letters (the protospacer as it reads on its own strand).
    editor
        PAM, protospacer length, editing window and conversion (see :class:`Editor`).
    flank
        Bases searched on each side of the variant; by default enough for any protospacer whose
        PAM or cut can reach it.

    Returns
    -------
    GuideVerification
        ``met`` when the spacer matches the patient's allele exactly next to a valid PAM and, for
        a base editor, the variant lies in the window as ``edit_from`` (class ``corrects`` when
        the conversion restores the reference, ``works_around`` otherwise); for a nuclease, when
        the cut is within ``max_cut_distance`` of the variant (class ``works_around``: disruption;
        template-directed repair is out of scope). Otherwise ``not_met`` with the best hit found.

    Examples
    --------
    >>> from pmpath.mechanism import InMemoryReference
    >>> ref = InMemoryReference({"chr1": "T" * 30 + "GTCAGGCTCGTTCGGATCCT" + "TGG" + "T" * 30})
    >>> result = verify_guide(ref, SequenceVariant("chr1", 36, "G", "A"), "GTCAGACTCGTTCGGATCCT", Editor(edit_from="A", edit_to="G"))
    >>> result.status.value, result.mechanism_class.value, result.variant_positions
    ('met', 'corrects', (6,))
    """
    spacer = check_dna(spacer, "spacer")
    length = editor.protospacer_length
    pam_length = len(editor.pam)
    notes: list[str] = []
    if len(spacer) != length:
        notes.append(
            f"spacer has {len(spacer)} nt, the editor's protospacer {length}: positions are counted from the PAM as in a {length}-nt protospacer"
        )
    if flank is None:
        flank = max(len(spacer), length) + pam_length + editor.max_cut_distance + 10
    window = allele_window(reference, variant, flank, flank)
    if window.start > max(1, variant.pos - flank) or window.end < variant.end + flank:
        notes.append(
            f"the search window {window.chrom}:{window.start}-{window.end} is cut short by the reference's coverage (asked {flank} bp each side of the variant); placements beyond it were not searched"
        )
    placements = scan_both_strands(window.patient, spacer, editor.pam)
    if not placements:
        raise UsageError(
            f"spacer of {len(spacer)} nt does not fit in a {len(window.patient)}-base window, expected a larger flank"
        )
    first = length - len(spacer) + 1

    def positions(p: Placement) -> tuple[int, ...]:
        return tuple(sorted(first + p.query_index(i) for i in window.changed))

    def in_window(p: Placement) -> bool:
        lo, hi = editor.editing_window
        return all(lo <= q <= hi for q in positions(p))

    def closeness(p: Placement) -> tuple[int, int]:
        if editor.is_base_editor:
            outside = min(max(first - q, q - length, 0) for q in positions(p))
            return (not in_window(p), outside)
        return (0, min(_cut_distance(q, length) for q in positions(p)))

    # among perfect hits, the one acting on the variant best; else fewest mismatches, then nearest
    perfect = sorted(
        (p for p in placements if p.score == 0), key=lambda p: (closeness(p), p.strand, p.start)
    )
    best = (
        perfect[0]
        if perfect
        else min(placements, key=lambda p: (p.score, closeness(p), p.strand, p.start))
    )
    hit = _hit(
        window.patient, window.chrom, window.reference_position, best, pam_length, spacer, length
    )
    perfect_hits = tuple(
        _hit(window.patient, window.chrom, window.reference_position, p, pam_length, spacer, length)
        for p in perfect
    )

    # the same site on the reference allele: does the guide tell the alleles apart?
    ref_best = min(
        scan_both_strands(window.reference, spacer, editor.pam),
        key=lambda p: (
            p.strand != best.strand,
            abs(window.start + p.start - hit.protospacer_start),
            p.score,
        ),
    )
    reference_hit = _hit(
        window.reference,
        window.chrom,
        lambda i: window.start + i,
        ref_best,
        pam_length,
        spacer,
        length,
    )
    if best.score == 0 and reference_hit.perfect:
        notes.append("the guide also matches the reference allele perfectly: not allele-selective")
    reference_protospacer = (
        _strand_bases(window.reference, best) if variant.kind == "substitution" else None
    )

    common = dict(
        variant=variant,
        spacer=spacer,
        editor=editor,
        hit=hit,
        perfect_hits=perfect_hits,
        variant_positions=positions(best),
        in_window=in_window(best),
        reference_hit=reference_hit,
        reference_protospacer=reference_protospacer,
    )
    if not perfect:
        problems = []
        if hit.mismatches:
            listed = ", ".join(
                f"{m.position} ({m.guide_base}>{m.target_base})" for m in hit.mismatches
            )
            problems.append(f"{len(hit.mismatches)} mismatch(es) at protospacer position {listed}")
        if not hit.pam_matches:
            problems.append(f"PAM {hit.pam} does not match {editor.pam}")
        reason = (
            f"spacer not found exactly on the patient's allele; best hit {hit.chrom}:{hit.protospacer_start}-{hit.protospacer_end} "
            f"({hit.strand}) has {' and '.join(problems)}"
        )
        return GuideVerification(CheckStatus.not_met, None, reason, notes=tuple(notes), **common)

    if editor.is_base_editor:
        return _base_edit(window, best, common, notes, editor)

    cut = closeness(best)[1]
    notes.append(
        "nuclease assessed as disruption of the variant allele; template-directed repair (HDR) is out of scope"
    )
    if cut <= editor.max_cut_distance:
        reason = f"cut {cut} bp from the variant (at most {editor.max_cut_distance} bp): the nuclease disrupts the variant allele"
        return GuideVerification(
            CheckStatus.met,
            MechanismClass.works_around,
            reason,
            cut_distance=cut,
            notes=tuple(notes),
            **common,
        )
    reason = f"cut {cut} bp from the variant, expected at most {editor.max_cut_distance} bp"
    return GuideVerification(
        CheckStatus.not_met, None, reason, cut_distance=cut, notes=tuple(notes), **common
    )


def _strand_bases(sequence: str, p: Placement) -> str:
    """The bases under placement ``p`` read 5'->3' on its own strand."""
    bases = "".join(sequence[p.forward_index(k)] for k in range(p.length))
    return bases if p.strand == "+" else "".join(reverse_complement(b) for b in bases)


def _base_edit(
    window: AlleleWindow, p: Placement, common: dict, notes: list[str], editor: Editor
) -> GuideVerification:
    """Verdict for a base editor on a perfect hit: window, editable base, product."""
    length = editor.protospacer_length
    first = length - p.length + 1
    lo, hi = editor.editing_window
    protospacer = common["hit"].protospacer
    positions = common["variant_positions"]
    if window.variant.kind != "substitution":
        reason = f"the variant is a {window.variant.kind}; a base editor converts single bases and cannot act on it"
        return GuideVerification(CheckStatus.not_met, None, reason, notes=tuple(notes), **common)
    reference_protospacer = common["reference_protospacer"]
    variant_bases = "".join(protospacer[q - first] for q in positions if first <= q <= length)
    reference_bases = "".join(
        reference_protospacer[q - first] for q in positions if first <= q <= length
    )
    window_positions = [q for q in range(max(lo, first), hi + 1)]
    bystanders = tuple(
        EditableBase(
            q, protospacer[q - first], window.reference_position(p.forward_index(q - first))
        )
        for q in window_positions
        if q not in positions and protospacer[q - first] == editor.edit_from
    )
    edited = "".join(
        editor.edit_to if (first + k in window_positions and b == editor.edit_from) else b
        for k, b in enumerate(protospacer)
    )
    extra = dict(
        variant_bases=variant_bases,
        reference_bases=reference_bases,
        bystanders=bystanders,
        edited_protospacer=edited,
    )
    if bystanders:
        notes.append(
            f"{len(bystanders)} bystander {editor.edit_from} in the window (position {', '.join(str(b.position) for b in bystanders)}): "
            f"their {editor.edit_from}>{editor.edit_to} edits change the product beyond the variant"
        )
    if not common["in_window"]:
        reason = f"the variant is at protospacer position {', '.join(map(str, positions))}, outside the editing window {lo}-{hi}"
        return GuideVerification(
            CheckStatus.not_met, None, reason, notes=tuple(notes), **common, **extra
        )
    if set(variant_bases) != {editor.edit_from}:
        reason = (
            f"the patient's base at the variant is {variant_bases} on the protospacer strand, expected {editor.edit_from} "
            f"for an {editor.edit_from}>{editor.edit_to} editor"
        )
        return GuideVerification(
            CheckStatus.not_met, None, reason, notes=tuple(notes), **common, **extra
        )
    restores = reference_bases == editor.edit_to * len(reference_bases)
    where = ", ".join(map(str, positions))
    if restores:
        reason = f"the variant is at protospacer position {where} in the window {lo}-{hi}; {editor.edit_from}>{editor.edit_to} restores the reference {reference_bases}"
        mechanism = MechanismClass.corrects
    else:
        reason = (
            f"the variant is at protospacer position {where} in the window {lo}-{hi}; {editor.edit_from}>{editor.edit_to} gives "
            f"{editor.edit_to * len(variant_bases)}, not the reference {reference_bases} (a compensatory change)"
        )
        mechanism = MechanismClass.works_around
    return GuideVerification(
        CheckStatus.met,
        mechanism,
        reason,
        restores_reference=restores,
        notes=tuple(notes),
        **common,
        **extra,
    )
