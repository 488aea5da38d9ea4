"""Criterion 2 for antisense oligonucleotides: does the ASO pair with the patient's pre-mRNA where it must act?

An ASO (5'->3') pairs antiparallel with its RNA target, so the target, read 5'->3' on the gene's
sense strand, is the ASO's reverse complement. The gene's strand is inferred from where that
target lies (or checked against a declared strand). The ASO must bind the patient's allele exactly
and cover the variant, or overlap the site it is declared to act on (a cryptic splice site, an exon
to skip). Splice switching and knockdown both leave the variant in place: class ``works_around``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmpath.errors import AnalysisError, UsageError
from pmpath.mechanism.allele import AlleleWindow, SequenceVariant, allele_window
from pmpath.mechanism.reference import ReferenceSequence, chromosome_aliases
from pmpath.mechanism.sequence import (
    Placement,
    Strand,
    check_dna,
    reverse_complement,
    scan_both_strands,
)
from pmpath.mechanism.status import CheckStatus, MechanismClass


@dataclass(frozen=True)
class TargetSite:
    """A site an ASO acts on other than the variant itself (1-based, inclusive)."""

    chrom: str
    start: int
    end: int
    description: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.start <= self.end:
            raise UsageError(
                f"target site {self.chrom}:{self.start}-{self.end}: expected 1 <= start <= end"
            )


@dataclass(frozen=True)
class AsoMismatch:
    """An ASO base that does not pair with the target."""

    position: int  # 1-based from the ASO's 5' end
    aso_base: str
    target_base: str  # the target RNA's base (DNA letter), sense strand
    genomic_position: int | None


@dataclass(frozen=True)
class AsoHit:
    """Where the ASO pairs: the gene strand, the bound stretch and its mismatches."""

    gene_strand: Strand
    chrom: str
    start: int  # reference coordinates of the bound stretch, 1-based inclusive
    end: int
    target: str  # the bound sequence, sense strand 5'->3' (DNA letters)
    mismatches: tuple[AsoMismatch, ...]

    @property
    def perfect(self) -> bool:
        return not self.mismatches


@dataclass(frozen=True)
class AsoVerification:
    """The result of :func:`verify_aso`.

    ``variant_positions`` are ASO positions (1-based from its 5' end) pairing with the bases the
    variant changes. ``reference_mismatches`` is given when the variant lies under the ASO: the
    mismatches the ASO would have on the reference allele (allele selectivity).
    """

    status: CheckStatus
    mechanism_class: MechanismClass | None
    reason: str
    variant: SequenceVariant
    aso: str
    gene_strand: Strand | None
    strand_inferred: bool
    hit: AsoHit | None
    perfect_hits: tuple[AsoHit, ...]
    covers_variant: bool = False
    variant_positions: tuple[int, ...] = ()
    site: TargetSite | None = None
    site_overlap: int = 0  # bases of the site under the ASO
    reference_mismatches: tuple[AsoMismatch, ...] | None = None
    notes: tuple[str, ...] = ()

    @property
    def allele_selective(self) -> bool | None:
        """True when the ASO mismatches the reference allele but pairs with the patient's; None if the variant is not under it."""
        return None if self.reference_mismatches is None else bool(self.reference_mismatches)

    def alignment_lines(self) -> list[str]:
        """Target RNA (5'->3') above the ASO written 3'->5', with pairing marks and the variant."""
        hit = self.hit
        if hit is None:
            return [f"ASO {self.aso} not placed near {self.variant}"]
        width = 12
        aso_reversed = self.aso[::-1]  # 3'->5', aligned under the target 5'->3'
        pairs = "".join(
            "|" if reverse_complement(a) == t else "x"
            for a, t in zip(aso_reversed, hit.target, strict=True)
        )
        m = len(self.aso)
        lines = [
            f"{hit.chrom}:{hit.start}-{hit.end}, gene on the {hit.gene_strand} strand{' (inferred)' if self.strand_inferred else ''}",
            f"{'target RNA':<{width}}5'-{hit.target}-3'",
            f"{'':<{width}}   {pairs}",
            f"{'ASO':<{width}}3'-{aso_reversed}-5'",
        ]
        if self.variant_positions:
            marks = "".join(
                "*" if m - j in self.variant_positions else " " for j in range(m)
            ).rstrip()
            lines.append(
                f"{'variant':<{width}}   {marks}  ASO position {', '.join(map(str, self.variant_positions))}"
            )
        return lines


def _hit(window: AlleleWindow, p: Placement, aso: str, *, on_reference: bool = False) -> AsoHit:
    seq = window.reference if on_reference else window.patient
    position_of = (lambda i: window.start + i) if on_reference else window.reference_position
    text = seq if p.strand == "+" else reverse_complement(seq)
    offset = p.start if p.strand == "+" else len(seq) - p.start - p.length
    target = text[offset : offset + p.length]
    m = p.length
    expected = reverse_complement(aso)
    # target index j pairs with ASO position m - j (the ASO's 5' end pairs with the target's 3' end)
    mismatches = tuple(
        sorted(
            (
                AsoMismatch(m - j, aso[m - j - 1], target[j], position_of(p.forward_index(j)))
                for j in range(m)
                if target[j] != expected[j]
            ),
            key=lambda x: x.position,
        )
    )
    coords = [c for c in (position_of(p.forward_index(j)) for j in range(m)) if c is not None]
    return AsoHit(p.strand, window.chrom, min(coords), max(coords), target, mismatches)


def verify_aso(
    reference: ReferenceSequence,
    variant: SequenceVariant,
    aso_sequence: str,
    acts_on: TargetSite | None = None,
    gene_strand: Strand | None = None,
    flank: int | None = None,
) -> AsoVerification:
    """Check that an ASO pairs exactly with the patient's pre-mRNA over the variant or the site it acts on.

    Parameters
    ----------
    reference
        Reference sequence; must carry the variant's ``ref`` allele.
    variant
        The patient's variant (VCF convention).
    aso_sequence
        ASO, 5'->3' (DNA or RNA letters; chemistry is ignored).
    acts_on
        The site the ASO must overlap when it is not the variant itself; None: the ASO must cover
        the variant.
    gene_strand
        ``+`` or ``-`` when known; None infers it from where the target lies.
    flank
        Bases searched beyond the variant and the site; by default the ASO's length plus 10.

    Returns
    -------
    AsoVerification
        ``met`` (class ``works_around``) when the ASO's target occurs exactly on the patient's allele
        and covers the variant or overlaps ``acts_on``; ``not_met`` with the mismatches of the best
        placement otherwise; ``insufficient`` when the target lies on both strands and no strand is given.

    Examples
    --------
    >>> from pmpath.mechanism import InMemoryReference
    >>> ref = InMemoryReference({"chr5": "A" * 30 + "CTGACCTTGGCAGTTCAG" + "A" * 30})
    >>> v = verify_aso(ref, SequenceVariant("chr5", 40, "G", "A"), "CTGAACTGTCAAGGTCAG")
    >>> v.status.value, v.gene_strand, v.hit.start, v.hit.end
    ('met', '+', 31, 48)
    """
    aso = check_dna(aso_sequence, "ASO sequence")
    target = reverse_complement(aso)
    if gene_strand not in (None, "+", "-"):
        raise UsageError(f"gene_strand: found {gene_strand!r}, expected '+', '-' or None")
    flank = len(aso) + 10 if flank is None else flank
    left = right = flank
    if acts_on is not None:
        if acts_on.chrom not in chromosome_aliases(variant.chrom):
            raise AnalysisError(
                f"the ASO's site {acts_on.chrom}:{acts_on.start}-{acts_on.end} is on another chromosome than the variant {variant}, expected the same"
            )
        left = max(flank, variant.pos - acts_on.start + flank)
        right = max(flank, acts_on.end - variant.end + flank)
    window = allele_window(reference, variant, left, right)
    if acts_on is not None and not (window.start <= acts_on.start and acts_on.end <= window.end):
        raise AnalysisError(
            f"the ASO's site {acts_on.chrom}:{acts_on.start}-{acts_on.end} is not covered by the reference around the variant "
            f"(covered: {window.chrom}:{window.start}-{window.end}), expected a reference record that holds both"
        )
    placements = scan_both_strands(window.patient, target)
    m = len(aso)

    def covered(p: Placement) -> tuple[int, ...]:
        """ASO positions over the variant's changed bases, when all of them are under the ASO."""
        js = [p.query_index(i) for i in window.changed]
        return tuple(sorted(m - j for j in js)) if all(0 <= j < m for j in js) else ()

    def overlap(hit: AsoHit) -> int:
        if acts_on is None:
            return 0
        return max(0, min(hit.end, acts_on.end) - max(hit.start, acts_on.start) + 1)

    def acts(p: Placement) -> bool:
        return bool(covered(p)) if acts_on is None else overlap(_hit(window, p, aso)) > 0

    notes: list[str] = []
    perfect = [p for p in placements if not p.mismatches]
    strands = {p.strand for p in perfect}
    inferred = gene_strand is None
    if gene_strand is None and len(strands) == 2:
        hits = tuple(_hit(window, p, aso) for p in perfect)
        reason = "the ASO's target occurs on both strands; declare the gene's strand to decide which RNA it binds"
        return AsoVerification(
            CheckStatus.insufficient, None, reason, variant, aso, None, True, hits[0], hits
        )
    if gene_strand is not None:
        other = [p for p in perfect if p.strand != gene_strand]
        perfect = [p for p in perfect if p.strand == gene_strand]
        if other and not perfect:
            notes.append(
                f"the ASO pairs with the {other[0].strand} strand's RNA, but the gene is declared on {gene_strand}"
            )
        placements = [p for p in placements if p.strand == gene_strand]
    perfect.sort(key=lambda p: (not acts(p), p.start))

    # where the ASO should sit, in window indices (a site's indices ignore the variant's length change)
    if acts_on is None:
        aim = (min(window.changed), max(window.changed))
    else:
        aim = (acts_on.start - window.start, acts_on.end - window.start)

    def distance(p: Placement) -> int:
        return max(aim[0] - (p.start + p.length - 1), p.start - aim[1], 0)

    best = (
        perfect[0]
        if perfect
        else min(placements, key=lambda p: (len(p.mismatches), distance(p), p.strand, p.start))
    )
    hit = _hit(window, best, aso)
    strand = best.strand if (perfect or gene_strand is not None) else None
    positions = covered(best)
    reference_mismatches = None
    if positions and variant.kind == "substitution":
        reference_mismatches = _hit(window, best, aso, on_reference=True).mismatches
    common = dict(
        variant=variant,
        aso=aso,
        gene_strand=strand,
        strand_inferred=inferred,
        hit=hit,
        perfect_hits=tuple(_hit(window, p, aso) for p in perfect),
        covers_variant=bool(positions),
        variant_positions=positions,
        site=acts_on,
        site_overlap=overlap(hit),
        reference_mismatches=reference_mismatches,
    )
    if not perfect:
        listed = ", ".join(
            f"{x.position} (ASO {x.aso_base}, target {x.target_base})" for x in hit.mismatches
        )
        reason = (
            f"the ASO does not pair exactly with the patient's allele; best placement {hit.chrom}:{hit.start}-{hit.end} "
            f"(gene strand {hit.gene_strand}) has {len(hit.mismatches)} mismatch(es) at ASO position {listed}"
        )
        return AsoVerification(CheckStatus.not_met, None, reason, notes=tuple(notes), **common)
    where = f"{hit.chrom}:{hit.start}-{hit.end} (gene strand {hit.gene_strand})"
    if acts_on is None:
        if positions:
            reason = f"the ASO pairs exactly with {where} and covers the variant at ASO position {', '.join(map(str, positions))}"
            return AsoVerification(
                CheckStatus.met, MechanismClass.works_around, reason, notes=tuple(notes), **common
            )
        reason = f"the ASO pairs exactly with {where}, which does not cover the variant at {variant.chrom}:{variant.pos}"
        return AsoVerification(CheckStatus.not_met, None, reason, notes=tuple(notes), **common)
    site = f"{acts_on.chrom}:{acts_on.start}-{acts_on.end}" + (
        f" ({acts_on.description})" if acts_on.description else ""
    )
    if common["site_overlap"]:
        reason = f"the ASO pairs exactly with {where}, overlapping {common['site_overlap']} bp of the site {site}"
        return AsoVerification(
            CheckStatus.met, MechanismClass.works_around, reason, notes=tuple(notes), **common
        )
    reason = f"the ASO pairs exactly with {where}, which does not overlap the site {site}"
    return AsoVerification(CheckStatus.not_met, None, reason, notes=tuple(notes), **common)
