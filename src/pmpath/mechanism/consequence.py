"""What a DNA change does to a transcript: synonymous, missense, nonsense, frameshift, splice region, and the p. change.

The change (a :class:`~pmpath.mechanism.allele.SequenceVariant` in genomic VCF terms) is applied to
the transcript spliced from the reference, optionally on top of other changes already on the same
allele (``background``: the patient's variant, or a base editor's intended edit, when judging a
bystander). Exonic changes are translated from the annotated start codon to the first stop;
intronic ones are classed by their distance to the nearest exon (splice site 1-2 bases into the
intron, splice region 3-8, as Ensembl VEP defines them; an exonic base within 3 bases of a junction
is also flagged ``splice_region``). The protein change is written in HGVS p. notation with
three-letter codes in parentheses (a prediction), shifted 3' as HGVS requires.

Examples
--------
>>> from pmpath.mechanism import InMemoryReference, SequenceVariant
>>> from pmpath.mechanism.transcript import Transcript
>>> ref = InMemoryReference({"chr1": "AAATGTGGACCTAACCC"})
>>> tx = Transcript("NM_T.1", "T", "chr1", "+", ((1, 17),), 3, 14)
>>> c = predict_consequence(tx, ref, SequenceVariant("chr1", 7, "G", "A"))
>>> c.kind, c.hgvs_p
('nonsense', 'p.(Trp2Ter)')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pmpath.errors import AnalysisError
from pmpath.mechanism.allele import SequenceVariant
from pmpath.mechanism.reference import ReferenceSequence, chromosome_aliases
from pmpath.mechanism.sequence import reverse_complement
from pmpath.mechanism.transcript import Transcript

__all__ = [
    "CONSEQUENCE_KINDS",
    "Consequence",
    "predict_consequence",
    "shift_3prime",
    "translate",
]

SPLICE_SITE_BASES = 2  # intronic bases 1-2: the canonical donor GT / acceptor AG
SPLICE_REGION_INTRON = 8  # intronic bases 3-8 (VEP splice_region_variant)
SPLICE_REGION_EXON = 3  # exonic bases 1-3 from a junction

CONSEQUENCE_KINDS = (
    "none",
    "synonymous",
    "missense",
    "nonsense",
    "frameshift",
    "inframe_deletion",
    "inframe_insertion",
    "inframe_delins",
    "start_lost",
    "stop_lost",
    "splice_site",
    "splice_region",
    "intron",
    "5_prime_utr",
    "3_prime_utr",
    "non_coding_exon",
    "upstream",
    "downstream",
)
"""Every value :attr:`Consequence.kind` takes; ``none``: the allele equals its baseline."""

_BASES = "TCAG"
_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON_TABLE = {
    a + b + c: _AMINO[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES)
    for j, b in enumerate(_BASES)
    for k, c in enumerate(_BASES)
}
THREE_LETTER = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu", "G": "Gly",
    "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe", "P": "Pro", "S": "Ser",
    "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter", "X": "Xaa",
}  # fmt: skip


def translate(cds: str, to_stop: bool = True) -> str:
    """Amino acids (one-letter, ``*`` for stop) of ``cds`` read from its first base.

    With ``to_stop`` the protein ends at the first stop (included); an incomplete last codon is
    dropped; a codon holding a base other than ACGT reads ``X``.

    Examples
    --------
    >>> translate("ATGTGGTAGAAA")
    'MW*'
    """
    out = []
    for i in range(0, len(cds) - 2, 3):
        aa = CODON_TABLE.get(cds[i : i + 3].upper(), "X")
        out.append(aa)
        if to_stop and aa == "*":
            break
    return "".join(out)


def _three(protein: str) -> str:
    return "".join(THREE_LETTER[a] for a in protein)


@dataclass(frozen=True)
class Consequence:
    """The predicted effect of a change on one transcript.

    Attributes
    ----------
    kind
        The most severe term, one of :data:`CONSEQUENCE_KINDS`.
    terms
        Every term that applies (``missense`` and ``splice_region`` for a missense change in the
        last three bases of an exon).
    hgvs_p
        Protein change, ``p.(Trp12Ter)``; ``p.(Thr13=)`` for a synonymous change; None where the
        protein is not predicted (intronic, UTR, non-coding).
    amino_acid_change
        The change without ``p.()``: ``Trp12Ter``.
    splice_distance
        Bases to the nearest splice junction (1 = the base next to it), when within 8 intronic or 3
        exonic bases of one; see :attr:`splice_side`.
    splice_side
        ``intron_donor``, ``intron_acceptor`` or ``exon``.
    codon_change
        Reference and altered codon(s) for an in-frame change within the CDS: ``TGG>TAG``.
    exon, intron
        Exon or intron number (transcript order) of the change's first base.
    """

    transcript: str
    kind: str
    terms: tuple[str, ...] = ()
    hgvs_p: str | None = None
    amino_acid_change: str | None = None
    splice_distance: int | None = None
    splice_side: str | None = None
    codon_change: str | None = None
    exon: int | None = None
    intron: int | None = None
    notes: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """One line for tables and verdicts: ``nonsense p.(Trp12Ter)``, ``splice region (intron +5 from the donor)``."""
        text = self.kind.replace("_", " ")
        if self.kind == "5_prime_utr":
            text = "5' UTR"
        elif self.kind == "3_prime_utr":
            text = "3' UTR"
        if self.hgvs_p:
            text += f" {self.hgvs_p}"
        if self.splice_distance is not None:
            side = {
                "intron_donor": f"intron +{self.splice_distance} from the donor",
                "intron_acceptor": f"intron -{self.splice_distance} from the acceptor",
                "exon": f"exon base {self.splice_distance} from a junction",
            }[self.splice_side or "exon"]
            text += (
                f" ({side})"
                if self.kind in ("splice_site", "splice_region", "intron")
                else f", splice region ({side})"
            )
        elif self.kind == "intron" and self.intron is not None:
            text += f" {self.intron}"
        return text

    def __str__(self) -> str:
        return self.describe()


_SEVERITY = {k: i for i, k in enumerate(reversed(CONSEQUENCE_KINDS))}


def _edit_mrna(
    tx: Transcript, mrna: list[str], variant: SequenceVariant, shift: list[tuple[int, int]]
) -> None:
    """Apply an exonic ``variant`` to ``mrna`` (a list of bases, transcript strand) in place.

    ``shift`` records (n., delta) of earlier length changes so later edits find their bases.
    """
    pos, ref, alt = variant.trimmed()

    def index(n: int) -> int:
        return n - 1 + sum(d for at, d in shift if at < n)

    if ref:
        ns = [tx.g_to_n(p)[0] for p in range(pos, pos + len(ref))]
        lo, hi = min(ns), max(ns)
        bases = alt if tx.strand == "+" else reverse_complement(alt)
        mrna[index(lo) : index(hi) + 1] = list(bases)
        delta, at = len(alt) - len(ref), lo
    else:  # insertion between pos-1 and pos
        a, b = tx.g_to_n(pos - 1)[0], tx.g_to_n(pos)[0]
        after = min(a, b)  # insert after this n.
        bases = alt if tx.strand == "+" else reverse_complement(alt)
        mrna[index(after) + 1 : index(after) + 1] = list(bases)
        delta, at = len(alt), after + 0.5  # type: ignore[assignment]
    if delta:
        shift.append((at, delta))  # type: ignore[arg-type]


def _exonic(tx: Transcript, variant: SequenceVariant) -> bool:
    pos, ref, _ = variant.trimmed()
    span = range(pos, pos + len(ref)) if ref else (pos - 1, pos)
    return all(tx.g_to_n(p)[1] == 0 for p in span)


def predict_consequence(
    transcript: Transcript,
    reference: ReferenceSequence,
    variant: SequenceVariant,
    background: Sequence[SequenceVariant] = (),
) -> Consequence:
    """The effect of ``variant`` on ``transcript``, compared with the allele carrying ``background`` only.

    Parameters
    ----------
    transcript
        The transcript model.
    reference
        Reference bases (must cover the transcript's exons).
    variant
        The change judged (genomic, VCF convention; its ``ref`` is the baseline allele's bases).
    background
        Other changes on the same allele, applied to both sides (disjoint from ``variant``); a
        bystander is judged on the allele the intended edit leaves.

    Returns
    -------
    Consequence
    """
    tx = transcript
    if variant.chrom not in chromosome_aliases(tx.chrom):
        raise AnalysisError(
            f"variant {variant} is on {variant.chrom}, transcript {tx.id} on {tx.chrom}: expected the same contig"
        )
    p0, r0, _ = variant.trimmed()
    touched = range(p0, p0 + len(r0)) if r0 else (p0 - 1, p0)
    exons = {tx.exon_number(p) for p in touched}
    if len(exons) == 1 and None not in exons:  # shift within the exon, as HGVS does for c.
        exon_span = tx.exons_in_order[exons.pop() - 1]  # type: ignore[operator]
        variant = shift_3prime(variant, reference, tx.strand, exon_span)
    pos, ref, _ = variant.trimmed()
    first, last = pos, pos + max(len(ref), 1) - 1
    if last < tx.start or first > tx.end:
        upstream = (last < tx.start) == (tx.strand == "+")
        return Consequence(
            tx.id,
            "upstream" if upstream else "downstream",
            ("upstream" if upstream else "downstream",),
        )

    # intronic part: distance of the nearest changed base to a junction
    span = list(range(first, last + 1)) if ref else [pos - 1, pos]
    offsets = [(p, tx.g_to_n(p)) for p in span if tx.start <= p <= tx.end]
    intronic = [(p, n, o) for p, (n, o) in offsets if o != 0]
    exon = next((tx.exon_number(p) for p in span if tx.exon_number(p) is not None), None)
    if intronic:
        p, _, o = min(intronic, key=lambda x: abs(x[2]))
        d = abs(o)
        side = "intron_donor" if o > 0 else "intron_acceptor"
        intron_number = _intron_number(tx, p)
        if d <= SPLICE_SITE_BASES:
            kind = "splice_site"
        elif d <= SPLICE_REGION_INTRON:
            kind = "splice_region"
        else:
            kind = "intron"
        terms = (kind,) + (("exon_overlap",) if len(intronic) < len(offsets) else ())
        return Consequence(
            tx.id,
            kind,
            terms,
            splice_distance=d if d <= SPLICE_REGION_INTRON else None,
            splice_side=side if d <= SPLICE_REGION_INTRON else None,
            intron=intron_number,
            exon=exon,
            notes=("the change overlaps an exon and an intron; the protein is not predicted",)
            if len(intronic) < len(offsets)
            else (),
        )

    for b in background:
        if not _exonic(tx, b) and b.chrom in chromosome_aliases(tx.chrom):
            raise AnalysisError(
                f"background change {b} is intronic on {tx.id}: expected exonic background changes"
            )
    mrna_ref = list(tx.mrna(reference))
    shift: list[tuple[int, int]] = []
    for b in sorted(background, key=lambda v: v.pos * (1 if tx.strand == "+" else -1)):
        if b.chrom in chromosome_aliases(tx.chrom) and tx.start <= b.pos <= tx.end:
            _edit_mrna(tx, mrna_ref, b, shift)
    mrna_alt = list(mrna_ref)
    _edit_mrna(tx, mrna_alt, variant, list(shift))
    base_mrna, alt_mrna = "".join(mrna_ref), "".join(mrna_alt)

    ns = sorted(tx.g_to_n(p)[0] for p in span)
    junction = [tx.boundary_distance(p) for p in span]
    near = [j for j in junction if j is not None and j[0] <= SPLICE_REGION_EXON]
    splice = min(near) if near else None
    extra = ("splice_region",) if splice else ()
    spl = dict(
        splice_distance=splice[0] if splice else None, splice_side="exon" if splice else None
    )
    if base_mrna == alt_mrna:
        return Consequence(tx.id, "none", ("none",), exon=exon)
    if tx.cds_n is None:
        return Consequence(tx.id, "non_coding_exon", ("non_coding_exon", *extra), exon=exon, **spl)
    cds_first = tx.cds_n[0]
    # positions in the baseline mRNA (background indels shift them)
    cds0 = cds_first - 1 + sum(d for at, d in shift if at < cds_first)
    lo = ns[0] - 1 + sum(d for at, d in shift if at < ns[0])
    hi = ns[-1] - 1 + sum(d for at, d in shift if at < ns[-1])
    if not ref:  # an insertion: lo is the first inserted base, hi the base before it
        lo, hi = hi, hi - 1
    base_protein = translate(base_mrna[cds0:])
    stop_index = cds0 + 3 * len(base_protein) - 1  # last base of the baseline stop codon
    if hi < cds0:
        return Consequence(tx.id, "5_prime_utr", ("5_prime_utr", *extra), exon=exon, **spl)
    if lo > stop_index and base_protein.endswith("*"):
        return Consequence(tx.id, "3_prime_utr", ("3_prime_utr", *extra), exon=exon, **spl)

    alt_protein = translate(alt_mrna[cds0:])
    delta = len(alt_mrna) - len(base_mrna)
    codon_change = None
    if delta == 0:
        c_lo = cds0 + (lo - cds0) // 3 * 3
        c_hi = cds0 + (hi - cds0) // 3 * 3 + 3
        codon_change = f"{base_mrna[max(c_lo, cds0) : c_hi]}>{alt_mrna[max(c_lo, cds0) : c_hi]}"

    def done(kind: str, change: str | None, notes: tuple[str, ...] = ()) -> Consequence:
        return Consequence(
            tx.id,
            kind,
            (kind, *extra),
            hgvs_p=None if change is None else f"p.({change})",
            amino_acid_change=change,
            codon_change=codon_change,
            exon=exon,
            notes=notes,
            **spl,
        )

    # start codon
    start_codon = alt_mrna[cds0 : cds0 + 3]
    if lo < cds0 + 3 and start_codon != base_mrna[cds0 : cds0 + 3] and start_codon != "ATG":
        return done("start_lost", "Met1?")
    stop_aa = len(base_protein) - 1 if base_protein.endswith("*") else None
    if delta % 3 and not (lo > stop_index):
        if stop_aa is not None and (lo - cds0) // 3 >= stop_aa:
            return done("stop_lost", _extension(stop_aa, alt_mrna, cds0))
        return done("frameshift", _frameshift(base_protein, alt_protein, alt_mrna, cds0))
    i = 0
    while i < min(len(base_protein), len(alt_protein)) and base_protein[i] == alt_protein[i]:
        i += 1
    if i == len(base_protein) == len(alt_protein):
        aa_index = (lo - cds0) // 3
        aa = base_protein[aa_index] if aa_index < len(base_protein) else "*"
        return done("synonymous", f"{THREE_LETTER[aa]}{aa_index + 1}=")
    if delta == 0:
        ref_aa = base_protein[i] if i < len(base_protein) else "*"
        alt_aa = alt_protein[i] if i < len(alt_protein) else "X"
        if ref_aa == "*":
            return done("stop_lost", _extension(i, alt_mrna, cds0))
        if alt_aa == "*":
            return done("nonsense", f"{THREE_LETTER[ref_aa]}{i + 1}Ter")
        # an MNV may change neighbouring codons: compare the same window
        j_base, j_alt = len(base_protein), len(alt_protein)
        while (
            j_base > i + 1 and j_alt > i + 1 and base_protein[j_base - 1] == alt_protein[j_alt - 1]
        ):
            j_base, j_alt = j_base - 1, j_alt - 1
        if j_base - i == 1:
            return done("missense", f"{THREE_LETTER[ref_aa]}{i + 1}{THREE_LETTER[alt_aa]}")
        return done(
            "missense",
            f"{THREE_LETTER[ref_aa]}{i + 1}_{THREE_LETTER[base_protein[j_base - 1]]}{j_base}"
            f"delins{_three(alt_protein[i:j_alt])}",
        )
    if stop_aa is not None and i >= stop_aa:
        return done("stop_lost", _extension(stop_aa, alt_mrna, cds0))
    if alt_protein.endswith("*") and len(alt_protein) < len(base_protein) + delta // 3:
        ref_aa = base_protein[i]
        if alt_protein[i] == "*":
            return done("nonsense", f"{THREE_LETTER[ref_aa]}{i + 1}Ter")
        return done("nonsense", f"{THREE_LETTER[ref_aa]}{i + 1}delins{_three(alt_protein[i:])}")
    return _inframe(done, base_protein, alt_protein, alt_mrna, cds0)


def shift_3prime(
    variant: SequenceVariant,
    reference: ReferenceSequence,
    strand: str,
    within: tuple[int, int] | None = None,
) -> SequenceVariant:
    """An indel moved to its 3'-most equivalent place on ``strand`` (HGVS 3' rule); others unchanged.

    ``within`` (first, last) keeps the shifted bases inside a span, such as the exon they are in.

    Examples
    --------
    >>> from pmpath.mechanism import InMemoryReference
    >>> ref = InMemoryReference({"chr1": "GCAAAATG"})
    >>> str(shift_3prime(SequenceVariant("chr1", 2, "CA", "C"), ref, "+"))
    'chr1:5 AA>A'
    >>> str(shift_3prime(SequenceVariant("chr1", 5, "AA", "A"), ref, "-"))
    'chr1:2 CA>C'
    """
    pos, ref, alt = variant.trimmed()
    if ref and alt:
        return variant
    lo, hi = reference.extent(variant.chrom, variant.pos, variant.end)
    if within is not None:
        lo, hi = max(lo, within[0]), min(hi, within[1])
    seq = ref or alt
    chrom = variant.chrom

    def base(p: int) -> str:
        return reference.fetch(chrom, p, p) if lo <= p <= hi else ""

    if ref:  # deletion of pos..pos+len-1
        n = len(ref)
        if strand == "+":
            while pos + n <= hi and base(pos + n) == base(pos):
                pos += 1
        else:
            while pos - 1 >= lo and base(pos - 1) == base(pos + n - 1):
                pos -= 1
        deleted = reference.fetch(chrom, pos, pos + n - 1)
        anchor = reference.fetch(chrom, pos - 1, pos - 1) if pos > 1 else ""
        if not anchor:
            return variant
        return SequenceVariant(chrom, pos - 1, anchor + deleted, anchor)
    # insertion of seq between pos-1 and pos
    if strand == "+":
        while pos < hi and base(pos) == seq[0]:
            seq, pos = seq[1:] + seq[0], pos + 1
    else:
        while pos - 1 > lo and base(pos - 1) == seq[-1]:
            seq, pos = seq[-1] + seq[:-1], pos - 1
    anchor = reference.fetch(chrom, pos - 1, pos - 1) if pos > 1 else ""
    if not anchor:
        return variant
    return SequenceVariant(chrom, pos - 1, anchor, anchor + seq)


def _intron_number(tx: Transcript, pos: int) -> int | None:
    ordered = tx.exons_in_order
    for k in range(len(ordered) - 1):
        a, b = ordered[k], ordered[k + 1]
        lo, hi = (a[1] + 1, b[0] - 1) if tx.strand == "+" else (b[1] + 1, a[0] - 1)
        if lo <= pos <= hi:
            return k + 1
    return None


def _frameshift(base: str, alt_full: str, alt_mrna: str, cds0: int) -> str:
    i = 0
    while i < min(len(base), len(alt_full)) and base[i] == alt_full[i]:
        i += 1
    if i >= len(base):
        return f"{THREE_LETTER['*']}{len(base)}fs"
    ref_aa = base[i]
    if i < len(alt_full) and alt_full[i] == "*":
        return f"{THREE_LETTER[ref_aa]}{i + 1}Ter"  # the shift makes a stop at once: nonsense-like
    alt_aa = alt_full[i] if i < len(alt_full) else "X"
    tail = alt_full[i:]
    ter = f"Ter{len(tail)}" if tail.endswith("*") else "Ter?"
    return f"{THREE_LETTER[ref_aa]}{i + 1}{THREE_LETTER[alt_aa]}fs{ter}"


def _extension(i: int, alt_mrna: str, cds0: int) -> str:
    """``Ter{i+1}{new}extTer{n}``: the residue now at the old stop, and how far the next stop lies."""
    read_on = translate(alt_mrna[cds0 + 3 * i :])
    new = read_on[0] if read_on else "X"
    if new == "*":
        return f"Ter{i + 1}="
    ter = f"Ter{len(read_on) - 1}" if read_on.endswith("*") else "Ter?"
    return f"Ter{i + 1}{THREE_LETTER[new]}ext{ter}"


def _inframe(done, base: str, alt: str, alt_mrna: str, cds0: int) -> Consequence:  # type: ignore[no-untyped-def]
    # trim the shared prefix first, then the suffix: the change lands at its 3'-most place (HGVS)
    i = 0
    while i < min(len(base), len(alt)) and base[i] == alt[i]:
        i += 1
    jb, ja = len(base), len(alt)
    while jb > i and ja > i and base[jb - 1] == alt[ja - 1]:
        jb, ja = jb - 1, ja - 1
    removed, inserted = base[i:jb], alt[i:ja]
    if "*" in removed and "*" not in alt:
        return done("stop_lost", _extension(len(base) - 1, alt_mrna, cds0))
    if "*" in inserted:
        return done(
            "nonsense",
            f"{THREE_LETTER[base[i]]}{i + 1}Ter" if i < len(base) else None,
        )

    def span(a: int, b: int) -> str:  # 0-based inclusive residues of base
        first = f"{THREE_LETTER[base[a]]}{a + 1}"
        return first if a == b else f"{first}_{THREE_LETTER[base[b]]}{b + 1}"

    if removed and not inserted:
        return done("inframe_deletion", f"{span(i, jb - 1)}del")
    if inserted and not removed:
        n = len(inserted)
        if i >= n and base[i - n : i] == inserted:
            return done("inframe_insertion", f"{span(i - n, i - 1)}dup")
        if i == 0 or i >= len(base):
            return done("inframe_insertion", None)
        return done("inframe_insertion", f"{span(i - 1, i)}ins{_three(inserted)}")
    return done("inframe_delins", f"{span(i, jb - 1)}delins{_three(inserted)}")
