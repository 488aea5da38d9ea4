"""ASO designs for a patient variant: splice-switching and allele-selective gapmer oligos, with Tm, folding and a sense-strand site search.

An ASO pairs with the patient's pre-mRNA (the gene's sense strand, patient allele); its sequence is
the reverse complement of the site. Each design is checked by :func:`~pmpath.mechanism.aso.verify_aso`
(the check ``pmpath mechanism verify`` runs on a given ASO), then described by:

- GC fraction and an approximate duplex Tm from primer3 (``calc_tm``: DNA/DNA nearest-neighbour
  thermodynamics, SantaLucia 1998, 50 mM monovalent cation, 50 nM oligo). It ignores 2'-MOE,
  2'-OMe, LNA and phosphorothioate chemistry, which raise (sugar modifications) or lower (PS) the
  real Tm; use it to rank designs, not as a melting temperature.
- Hairpin and self-dimer free energies from ViennaRNA (``RNA.fold``, ``RNA.duplexfold``) on the
  RNA form of the ASO: 2'-MOE and 2'-OMe sugars pair RNA-like, so RNA parameters are the closer
  model; the numbers are approximate for the same reason as the Tm.
- Other sites on the sense strand with up to ``max_mismatches`` (2) mismatches in a set of sequences:
  the annotation's mRNAs and pre-mRNAs spliced from the reference, and any transcript FASTA given.
  Sites at the design's own genomic location (any transcript of the locus) are not counted.
- Gapmer: the position of the allele difference in the DNA gap (wings 5-10-5 by default), counted
  from the gap's 5' end; a gapmer acts allele-selectively only when the difference is in the gap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from pmpath.errors import DossierError, Finding, UsageError
from pmpath.mechanism.allele import SequenceVariant, allele_window
from pmpath.mechanism.aso import AsoVerification, TargetSite, verify_aso
from pmpath.mechanism.consequence import Consequence, predict_consequence
from pmpath.mechanism.design import Design, gc_fraction, longest_run
from pmpath.mechanism.reference import ReferenceSequence
from pmpath.mechanism.sequence import check_dna, reverse_complement
from pmpath.mechanism.status import CheckStatus, MechanismClass
from pmpath.mechanism.transcript import Annotation, Transcript

__all__ = [
    "AsoProperties",
    "SenseSite",
    "SiteSearch",
    "aso_design",
    "aso_properties",
    "design_asos",
    "read_transcript_fasta",
    "search_sense_sites",
]

ASO_KINDS = ("aso-splice", "gapmer")
TM_NOTE = (
    "Tm from primer3 (DNA/DNA nearest-neighbour, 50 mM Na+, 50 nM oligo); it ignores 2'-MOE, 2'-OMe, LNA and "
    "phosphorothioate chemistry"
)


@dataclass(frozen=True)
class AsoProperties:
    """Sequence properties of one ASO."""

    length: int
    gc: float
    tm: float  # degrees C, primer3, chemistry ignored
    hairpin_dg: float  # kcal/mol, ViennaRNA MFE of the ASO alone (RNA parameters)
    hairpin_structure: str
    self_dimer_dg: float  # kcal/mol, ViennaRNA duplexfold of the ASO with itself


def aso_properties(aso: str) -> AsoProperties:
    """GC, primer3 Tm, and ViennaRNA hairpin and self-dimer energies of ``aso`` (5'->3').

    Examples
    --------
    >>> p = aso_properties("GGTACCTAGTATGCAAGT")
    >>> p.length, round(p.gc, 3), p.hairpin_dg
    (18, 0.444, 0.0)
    """
    import primer3
    import RNA

    seq = check_dna(aso, "ASO")
    rna = seq.replace("T", "U")
    structure, mfe = RNA.fold(rna)
    dimer = RNA.duplexfold(rna, rna)
    return AsoProperties(
        length=len(seq),
        gc=gc_fraction(seq),
        tm=float(primer3.calc_tm(seq)),
        hairpin_dg=round(float(mfe), 2),
        hairpin_structure=structure,
        self_dimer_dg=round(float(dimer.energy), 2),
    )


@dataclass(frozen=True)
class SenseSite:
    """A place in a searched sequence where the ASO's target occurs with few mismatches."""

    record: str
    start: int  # 1-based in the record
    mismatches: int
    genomic: tuple[str, int] | None = None  # (chrom, position of the site's first base) when known


def search_sense_sites(
    target: str, sequences: Mapping[str, str], max_mismatches: int = 2
) -> list[SenseSite]:
    """Every occurrence of ``target`` with at most ``max_mismatches`` mismatches (Hamming) in each sequence.

    Sequences are read as given (the sense strand). With k mismatches allowed, one of k+1 disjoint
    pieces of the target occurs exactly (pigeonhole), so exact ``str.find`` of the pieces finds the
    candidates and each is then counted in full.

    Examples
    --------
    >>> [(s.start, s.mismatches) for s in search_sense_sites("ACGTAC", {"r": "TTACGTACTTACGAACT"})]
    [(3, 0), (7, 1), (11, 1)]
    """
    target = target.upper()
    m = len(target)
    if max_mismatches < 0 or m <= max_mismatches:
        raise UsageError(
            f"max_mismatches: found {max_mismatches} for a {m}-nt target, expected 0 <= k < length"
        )
    k = max_mismatches + 1
    bounds = [(i * m // k, (i + 1) * m // k) for i in range(k)]
    out: list[SenseSite] = []
    for name, seq in sequences.items():
        seq = seq.upper()
        starts: set[int] = set()
        for a, b in bounds:
            piece = target[a:b]
            i = seq.find(piece)
            while i != -1:
                s = i - a
                if 0 <= s <= len(seq) - m:
                    starts.add(s)
                i = seq.find(piece, i + 1)
        for s in sorted(starts):
            mm = sum(1 for x, y in zip(seq[s : s + m], target, strict=True) if x != y)
            if mm <= max_mismatches:
                out.append(SenseSite(name, s + 1, mm))
    return out


class SiteSearch:
    """The sequences searched for other sites: annotated mRNAs and pre-mRNAs, and a transcript FASTA.

    Parameters
    ----------
    annotation, reference
        The transcripts whose mRNA and pre-mRNA are spliced from the reference (transcripts on
        contigs the reference does not cover are skipped, and counted in :attr:`skipped`).
    transcripts
        Extra sequences, e.g. :func:`read_transcript_fasta` of an mRNA FASTA.
    """

    def __init__(
        self,
        annotation: Annotation | None,
        reference: ReferenceSequence,
        transcripts: Mapping[str, str] | None = None,
    ):
        self.sequences: dict[str, str] = {}
        self._genomic: dict[str, Callable[[int], tuple[str, int] | None]] = {}
        self.skipped: list[str] = []
        for tx in (annotation or {}).values():
            try:
                mrna, pre = tx.mrna(reference), tx.pre_mrna(reference)
            except Exception:  # the reference does not cover it
                self.skipped.append(tx.id)
                continue
            self.sequences[f"{tx.id} mRNA"] = mrna
            self.sequences[f"{tx.id} pre-mRNA"] = pre
            self._genomic[f"{tx.id} mRNA"] = lambda i, tx=tx: (tx.chrom, tx.n_to_g(i))
            self._genomic[f"{tx.id} pre-mRNA"] = lambda i, tx=tx: (
                tx.chrom,
                tx.start + i - 1 if tx.strand == "+" else tx.end - i + 1,
            )
        for name, seq in (transcripts or {}).items():
            self.sequences[name] = seq

    def sites(self, aso: str, max_mismatches: int = 2) -> list[SenseSite]:
        """Sites of the ASO's target (its reverse complement) on the sense strand of every sequence."""
        target = reverse_complement(check_dna(aso, "ASO"))
        found = []
        for s in search_sense_sites(target, self.sequences, max_mismatches):
            mapper = self._genomic.get(s.record)
            genomic = None
            if mapper is not None:
                try:
                    genomic = mapper(s.start)
                except Exception:
                    genomic = None
            found.append(replace(s, genomic=genomic))
        return found

    def summary(self, aso: str, own: set[tuple[str, int]], max_mismatches: int = 2) -> str:
        """``0 mm: n; 1 mm: n; 2 mm: n`` of sites other than the design's own (genomic ``own``), with up to 3 named."""
        if not self.sequences:
            return ""
        other = [
            s for s in self.sites(aso, max_mismatches) if s.genomic is None or s.genomic not in own
        ]
        counts = "; ".join(
            f"{k} mm: {sum(s.mismatches == k for s in other)}" for k in range(max_mismatches + 1)
        )
        named = ", ".join(f"{s.record}:{s.start} ({s.mismatches} mm)" for s in other[:3])
        more = f" and {len(other) - 3} more" if len(other) > 3 else ""
        return f"other sense-strand sites in {len(self.sequences)} sequences: {counts}" + (
            f" ({named}{more})" if other else ""
        )


def read_transcript_fasta(path: str | Path) -> dict[str, str]:
    """Sequences of a transcript FASTA by the first word of each header (U read as T).

    Raises
    ------
    DossierError
        The file is missing or holds no record; the finding names it.
    """
    path = Path(path)
    if not path.is_file():
        raise DossierError(
            [
                Finding(
                    str(path),
                    None,
                    "transcripts",
                    "no such file",
                    "a FASTA of transcript sequences",
                )
            ]
        )
    records: dict[str, list[str]] = {}
    name = None
    with path.open(encoding="utf-8", errors="replace") as stream:
        for number, line in enumerate(stream, start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(">"):
                name = line[1:].split()[0] if line[1:].split() else f"record{number}"
                records[name] = []
            elif name is None:
                raise DossierError(
                    [
                        Finding(
                            str(path),
                            number,
                            "transcripts",
                            f"sequence before any '>' header: {line[:20]!r}",
                            "a FASTA header first",
                        )
                    ]
                )
            else:
                records[name].append(line.upper().replace("U", "T"))
    if not records:
        raise DossierError(
            [Finding(str(path), None, "transcripts", "no record", "at least one '>' record")]
        )
    return {k: "".join(v) for k, v in records.items()}


def _own_sites(
    result: AsoVerification, tx: Transcript | None, search: SiteSearch | None
) -> set[tuple[str, int]]:
    """Genomic first-base positions, as the search reports them, of the design's own site."""
    if result.hit is None:
        return set()
    hit = result.hit
    sense_first = hit.start if hit.gene_strand == "+" else hit.end
    return {(hit.chrom, sense_first)} | {
        (c, sense_first) for c in ([tx.chrom] if tx is not None else [])
    }


def aso_design(
    reference: ReferenceSequence,
    variant: SequenceVariant,
    aso: str,
    kind: str = "aso-splice",
    transcript: Transcript | None = None,
    acts_on: TargetSite | None = None,
    search: SiteSearch | None = None,
    wings: tuple[int, int] = (5, 5),
    name: str = "aso",
    variant_consequence: Consequence | None = None,
    max_mismatches: int = 2,
) -> Design:
    """The design row of one ASO: verification, properties, site search and (gapmer) gap position.

    Used for every designed ASO and for ``pmpath mechanism verify`` on a given one.
    """
    if kind not in ASO_KINDS:
        raise UsageError(f"ASO kind: found {kind!r}, expected one of {', '.join(ASO_KINDS)}")
    aso = check_dna(aso, "ASO")
    strand = transcript.strand if transcript is not None else None
    result = verify_aso(reference, variant, aso, acts_on, gene_strand=strand)
    if transcript is not None and variant_consequence is None:
        variant_consequence = predict_consequence(transcript, reference, variant)
    props = aso_properties(aso)
    extra = [
        ("tm_note", TM_NOTE),
        ("hairpin_dg", f"{props.hairpin_dg:.2f}"),
        ("hairpin_structure", props.hairpin_structure),
        ("self_dimer_dg", f"{props.self_dimer_dg:.2f}"),
    ]
    status, mechanism = result.status, result.mechanism_class
    positions = result.variant_positions
    reason = result.reason
    if kind == "gapmer":
        w5, w3 = wings
        if w5 < 0 or w3 < 0 or w5 + w3 >= len(aso):
            raise UsageError(
                f"gapmer wings: found {wings} for a {len(aso)}-nt ASO, expected a gap of at least 1"
            )
        gap = [p - w5 for p in positions if w5 < p <= len(aso) - w3]
        extra.append(("gap", f"{w5 + 1}-{len(aso) - w3}"))
        if positions and len(gap) == len(positions):
            extra.append(("gap_position", ",".join(map(str, gap))))
            selective = bool(result.reference_mismatches)
            consequence = (
                f"knocks down the variant allele: allele difference at gap position {','.join(map(str, gap))} "
                f"of {len(aso) - w5 - w3} (ASO position {','.join(map(str, positions))}); "
                f"{len(result.reference_mismatches or ())} mismatch(es) against the reference allele"
                + ("" if selective else ", so it is not allele-selective")
            )
        elif positions:
            consequence = (
                f"the allele difference is at ASO position {','.join(map(str, positions))}, in a wing: "
                "RNase H cleavage does not tell the alleles apart"
            )
            if status == CheckStatus.met:
                status, mechanism = CheckStatus.not_met, None
                reason = f"{reason}; the allele difference lies in a wing, not in the gap {w5 + 1}-{len(aso) - w3}"
        else:
            consequence = "does not cover the variant: knocks down both alleles"
    else:
        if result.status == CheckStatus.met:
            where = (
                f"site {acts_on.chrom}:{acts_on.start}-{acts_on.end}"
                + (f" ({acts_on.description})" if acts_on and acts_on.description else "")
                if acts_on
                else "the variant"
            )
            consequence = f"splice switching at {where}"
            if variant_consequence is not None:
                consequence += f"; the variant is {variant_consequence.describe()}"
        else:
            consequence = f"does not act: {result.reason}"
    summary = ""
    if search is not None:
        summary = search.summary(aso, _own_sites(result, transcript, search), max_mismatches)
    hit = result.hit
    return Design(
        design=name,
        kind=kind,
        strand=hit.gene_strand if hit else "",
        sequence=aso,
        pam="",
        variant_positions=positions,
        mechanism_class=mechanism if mechanism is None else MechanismClass(mechanism),
        bystanders=(),
        consequence=consequence,
        gc=props.gc,
        poly_t=longest_run(aso, "T") >= 4,
        tm=props.tm,
        offtarget_summary=summary,
        status=status,
        reason=reason,
        alignment=tuple(result.alignment_lines()),
        notes=result.notes,
        extra=tuple(extra),
    )


def design_asos(
    reference: ReferenceSequence,
    variant: SequenceVariant,
    kind: str = "aso-splice",
    transcript: Transcript | None = None,
    length: int | None = None,
    acts_on: TargetSite | None = None,
    search: SiteSearch | None = None,
    wings: tuple[int, int] = (5, 5),
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Design]:
    """Every ASO of ``length`` that covers the variant (or overlaps ``acts_on``) on the patient's pre-mRNA.

    Parameters
    ----------
    kind
        ``aso-splice`` (default 18 nt) or ``gapmer`` (default 20 nt, kept only when the allele
        difference is in the gap).
    transcript
        Gives the gene's strand (the sense strand searched) and the variant's consequence; without
        it the ASOs of both strands are designed.
    acts_on
        A site to overlap instead of the variant (a cryptic splice site, an exon to skip).
    search
        Sequences for the other-site search (:class:`SiteSearch`); None leaves the summary empty.

    Returns
    -------
    list of Design
        Met designs first, then GC nearest 0.5, then strand and sequence.
    """
    if kind not in ASO_KINDS:
        raise UsageError(f"ASO kind: found {kind!r}, expected one of {', '.join(ASO_KINDS)}")
    size = length or (20 if kind == "gapmer" else 18)
    if size < 8:
        raise UsageError(f"ASO length: found {size}, expected at least 8")
    lo_site = acts_on.start if acts_on else variant.pos
    hi_site = acts_on.end if acts_on else variant.end
    window = allele_window(
        reference, variant, variant.pos - lo_site + size + 2, hi_site - variant.end + size + 2
    )
    seq = window.patient
    strands = (transcript.strand,) if transcript is not None else ("+", "-")
    variant_consequence = (
        predict_consequence(transcript, reference, variant) if transcript is not None else None
    )
    candidates: list[str] = []
    for start in range(0, len(seq) - size + 1):
        idx = range(start, start + size)
        if acts_on is None:
            if not all(i in idx for i in window.changed):
                continue
        else:
            first = window.reference_position(start)
            last = window.reference_position(start + size - 1)
            if first is None or last is None or last < acts_on.start or first > acts_on.end:
                continue
        site = seq[start : start + size]
        if set(site) - set("ACGT"):
            continue
        for strand in strands:
            aso = reverse_complement(site) if strand == "+" else site
            if aso not in candidates:
                candidates.append(aso)
    designs = []
    for k, aso in enumerate(candidates, start=1):
        d = aso_design(
            reference,
            variant,
            aso,
            kind,
            transcript,
            acts_on,
            search,
            wings,
            "",
            variant_consequence,
        )
        if kind != "gapmer" or dict(d.extra).get("gap_position"):
            designs.append(d)
        if progress is not None:
            progress(k, len(candidates))

    def order(d: Design) -> tuple:
        return (d.status != CheckStatus.met, abs(d.gc - 0.5), d.strand, d.sequence)

    designs.sort(key=order)
    prefix = name or kind
    return [replace(d, design=f"{prefix}-{i}") for i, d in enumerate(designs, start=1)]
