"""Transcript models read from GFF3 or GTF (with gffutils), and the c.<->g. coordinate arithmetic on them.

A :class:`Transcript` holds exons and the coding span in genomic coordinates (1-based, inclusive)
with the strand; it maps a genomic position to HGVS coding coordinates (``c.1003``, ``c.1003+5``,
``c.-15``, ``c.*20``) and back, and splices the transcript's sequence out of a reference. An
:class:`Annotation` is the set of transcripts read from one file: the transcript annotation behind
one small interface, as :mod:`pmpath.mechanism.reference` is for bases.

Examples
--------
>>> tx = Transcript("NM_X.1", "GENEX", "chr1", "+", ((101, 160), (261, 330)), 131, 300)
>>> str(tx.g_to_c(131)), str(tx.g_to_c(165)), str(tx.g_to_c(125)), str(tx.g_to_c(305))
('1', '30+5', '-6', '*5')
>>> tx.c_to_g(CPosition.parse("30+5"))
165
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pmpath.errors import AnalysisError, DossierError, Finding, UsageError
from pmpath.mechanism.reference import ReferenceSequence, chromosome_aliases
from pmpath.mechanism.sequence import Strand, reverse_complement

__all__ = [
    "Annotation",
    "CPosition",
    "Transcript",
    "read_annotation",
]

_C_POSITION = re.compile(r"^(?P<region>[-*]?)(?P<base>\d+)(?:(?P<sign>[-+])(?P<offset>\d+))?$")


@dataclass(frozen=True, order=True)
class CPosition:
    """A position in HGVS coding coordinates.

    Attributes
    ----------
    base
        ``c.`` number of the exonic anchor base: 1.. in the CDS, -1.. counting back from the CDS start
        in the 5' UTR (``region='-'``, stored positive), 1.. after the stop in the 3' UTR (``region='*'``).
    offset
        Intronic distance from the anchor: ``+5`` after the exon's last base, ``-3`` before the next
        exon's first base; 0 for an exonic base.
    region
        ``''`` (CDS), ``'-'`` (5' UTR) or ``'*'`` (3' UTR).

    Examples
    --------
    >>> p = CPosition.parse("-15")
    >>> p.region, p.base, str(p)
    ('-', 15, '-15')
    >>> str(CPosition.parse("*20-2"))
    '*20-2'
    """

    region: str
    base: int
    offset: int = 0

    def __post_init__(self) -> None:
        if self.region not in ("", "-", "*") or self.base < 1:
            raise UsageError(
                f"c. position: found region {self.region!r} base {self.base}, expected region '', '-' or '*' and base >= 1"
            )

    @classmethod
    def parse(cls, text: str) -> CPosition:
        """A position as written after ``c.`` (``1003``, ``1003+5``, ``-15``, ``*20``, ``-15-3``)."""
        m = _C_POSITION.match(text.strip())
        if m is None:
            raise UsageError(
                f"c. position: found {text!r}, expected a coding position such as 1003, 1003+5, -15 or *20"
            )
        offset = int(m["offset"] or 0) * (-1 if m["sign"] == "-" else 1)
        return cls(m["region"], int(m["base"]), offset)

    def __str__(self) -> str:
        offset = f"{self.offset:+d}" if self.offset else ""
        return f"{self.region}{self.base}{offset}"


@dataclass(frozen=True)
class Transcript:
    """One transcript: exons and CDS in genomic coordinates (1-based, inclusive), and its strand.

    Parameters
    ----------
    id
        Transcript accession as the annotation names it (``NM_000531.6``).
    gene
        Gene symbol.
    chrom
        Contig, named as in the annotation.
    strand
        ``+`` or ``-``.
    exons
        (start, end) pairs, any order; stored sorted by genomic start.
    cds_start, cds_end
        Genomic span of the CDS including the stop codon (start <= end); None for a non-coding
        transcript.
    protein_id
        Accession of the protein, when the annotation names it.
    """

    id: str
    gene: str
    chrom: str
    strand: Strand
    exons: tuple[tuple[int, int], ...]
    cds_start: int | None = None
    cds_end: int | None = None
    protein_id: str | None = None

    def __post_init__(self) -> None:
        if self.strand not in ("+", "-"):
            raise UsageError(
                f"transcript {self.id} strand: found {self.strand!r}, expected '+' or '-'"
            )
        exons = tuple(sorted((int(s), int(e)) for s, e in self.exons))
        if not exons:
            raise UsageError(f"transcript {self.id}: found no exons, expected at least one")
        for (s1, e1), (s2, _) in itertools.pairwise(exons):
            if s2 <= e1:
                raise UsageError(
                    f"transcript {self.id} exons: found {s1}-{e1} overlapping {s2}, expected disjoint exons"
                )
        if any(s < 1 or e < s for s, e in exons):
            raise UsageError(
                f"transcript {self.id} exons: found {exons}, expected 1 <= start <= end"
            )
        object.__setattr__(self, "exons", exons)
        if (self.cds_start is None) != (self.cds_end is None):
            raise UsageError(f"transcript {self.id}: expected both CDS ends or neither")
        if (
            self.cds_start is not None
            and self.cds_end is not None
            and (
                self.cds_start > self.cds_end
                or self._exon_index(self.cds_start) is None
                or self._exon_index(self.cds_end) is None
            )
        ):
            raise UsageError(
                f"transcript {self.id} CDS: found {self.cds_start}-{self.cds_end}, expected both ends in exons"
            )

    # ------------------------------------------------------------------ layout

    @property
    def start(self) -> int:
        return self.exons[0][0]

    @property
    def end(self) -> int:
        return self.exons[-1][1]

    @property
    def is_coding(self) -> bool:
        return self.cds_start is not None

    @property
    def exons_in_order(self) -> tuple[tuple[int, int], ...]:
        """Exons in transcript order (5'->3' on the transcript's strand)."""
        return self.exons if self.strand == "+" else self.exons[::-1]

    @cached_property
    def length(self) -> int:
        """Spliced length in bases."""
        return sum(e - s + 1 for s, e in self.exons)

    def _exon_index(self, pos: int) -> int | None:
        for i, (s, e) in enumerate(self.exons):
            if s <= pos <= e:
                return i
        return None

    @cached_property
    def _cds_n(self) -> tuple[int, int] | None:
        """1-based transcript (n.) positions of the first and last CDS base."""
        if self.cds_start is None or self.cds_end is None:
            return None
        a, _ = self.g_to_n(self.cds_start)
        b, _ = self.g_to_n(self.cds_end)
        return (a, b) if self.strand == "+" else (b, a)

    @property
    def cds_length(self) -> int:
        if self._cds_n is None:
            return 0
        return self._cds_n[1] - self._cds_n[0] + 1

    # ------------------------------------------------------------------ g. <-> n.

    def g_to_n(self, pos: int) -> tuple[int, int]:
        """(n., offset) of genomic ``pos``: n. is 1-based on the spliced transcript, offset intronic.

        An intronic base is anchored to the nearer exon (the donor side when equidistant, as HGVS
        writes the middle base of an odd intron ``+``). Outside the transcript, the offset counts
        from its first or last base (n. 1 with a negative offset, n. length with a positive one).
        """
        n = 0
        for s, e in self.exons_in_order:
            if s <= pos <= e:
                return (n + (pos - s + 1) if self.strand == "+" else n + (e - pos + 1)), 0
            n += e - s + 1
        # intronic or outside: (distance, donor side first, anchor n., offset) to each exon edge
        candidates: list[tuple[int, int, int, int]] = []
        n = 0
        for s, e in self.exons_in_order:
            first_n, last_n = n + 1, n + (e - s + 1)
            five, three = (s, e) if self.strand == "+" else (e, s)
            sign = 1 if self.strand == "+" else -1
            d_after = (pos - three) * sign  # > 0: downstream of this exon's 3' end (donor side)
            d_before = (five - pos) * sign  # > 0: upstream of this exon's 5' end (acceptor side)
            if d_after > 0:
                candidates.append((d_after, 0, last_n, d_after))
            if d_before > 0:
                candidates.append((d_before, 1, first_n, -d_before))
            n = last_n
        _, _, anchor, offset = min(candidates)
        return anchor, offset

    def n_to_g(self, n: int, offset: int = 0) -> int:
        """Genomic position of transcript base ``n`` (1-based) moved ``offset`` bases along the transcript's strand."""
        if not 1 <= n <= self.length:
            raise AnalysisError(
                f"transcript {self.id}: found n.{n}, expected 1 <= n <= {self.length} (its spliced length)"
            )
        k = n
        for s, e in self.exons_in_order:
            size = e - s + 1
            if k <= size:
                g = s + k - 1 if self.strand == "+" else e - k + 1
                return g + offset if self.strand == "+" else g - offset
            k -= size
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ g. <-> c.

    def n_to_c(self, n: int, offset: int = 0) -> CPosition:
        if self._cds_n is None:
            raise AnalysisError(
                f"transcript {self.id} is non-coding, expected a coding transcript for c. positions"
            )
        first, last = self._cds_n
        if n < first:
            return CPosition("-", first - n, offset)
        if n > last:
            return CPosition("*", n - last, offset)
        return CPosition("", n - first + 1, offset)

    def c_to_n(self, c: CPosition) -> tuple[int, int]:
        if self._cds_n is None:
            raise AnalysisError(
                f"transcript {self.id} is non-coding, expected a coding transcript for c. positions"
            )
        first, last = self._cds_n
        if c.region == "-":
            n = first - c.base
        elif c.region == "*":
            n = last + c.base
        else:
            if c.base > last - first + 1:
                raise AnalysisError(
                    f"transcript {self.id}: found c.{c}, expected a CDS position at most c.{last - first + 1} "
                    f"(use c.*N past the stop codon)"
                )
            n = first + c.base - 1
        if not 1 <= n <= self.length:
            raise AnalysisError(
                f"transcript {self.id}: c.{c} falls outside the transcript (n.{n}), expected 1 <= n <= {self.length}"
            )
        return n, c.offset

    def g_to_c(self, pos: int) -> CPosition:
        """Coding position of genomic ``pos``; upstream of the transcript ``c.-N``, downstream ``c.*N`` (HGVS)."""
        n, offset = self.g_to_n(pos)
        if offset and not self.start <= pos <= self.end:
            n += offset
            if n < 1:  # upstream: continue the 5' numbering
                first = self.n_to_c(1)
                base = (first.base if first.region == "-" else 0) + (1 - n)
                return CPosition("-", base)
            last = self.n_to_c(self.length)
            return CPosition("*", (last.base if last.region == "*" else 0) + (n - self.length))
        return self.n_to_c(n, offset)

    def c_to_g(self, c: CPosition | str) -> int:
        """Genomic position of a coding position (a :class:`CPosition` or its text, ``"1003+5"``)."""
        if isinstance(c, str):
            c = CPosition.parse(c.removeprefix("c."))
        n, offset = self.c_to_n(c)
        exon_end_n = 0
        for s, e in self.exons_in_order:
            exon_end_n += e - s + 1
            if n <= exon_end_n:
                break
        exon_start_n = exon_end_n - (e - s) if n <= exon_end_n else 0
        if offset > 0 and n != exon_end_n:
            raise AnalysisError(
                f"transcript {self.id}: found c.{c}, expected a + offset only after an exon's last base"
            )
        if offset < 0 and n != exon_start_n:
            raise AnalysisError(
                f"transcript {self.id}: found c.{c}, expected a - offset only before an exon's first base"
            )
        return self.n_to_g(n, offset)

    def exon_number(self, pos: int) -> int | None:
        """1-based exon number (transcript order) holding genomic ``pos``; None when intronic."""
        for i, (s, e) in enumerate(self.exons_in_order, start=1):
            if s <= pos <= e:
                return i
        return None

    def boundary_distance(self, pos: int) -> tuple[int, str] | None:
        """Distance in bases from genomic ``pos`` to the nearest splice junction, and its side.

        Returns ``(d, where)``: an exonic base next to a junction has d=1 (``exon``); an intronic base
        has d=|offset| (``intron``), its side ``donor`` or ``acceptor`` given as ``intron_donor`` /
        ``intron_acceptor``. None for a single-exon transcript, or a base outside the transcript.
        """
        if len(self.exons) == 1 or not self.start <= pos <= self.end:
            return None
        n, offset = self.g_to_n(pos)
        if offset:
            return abs(offset), "intron_donor" if offset > 0 else "intron_acceptor"
        ends: list[int] = []  # n. of the bases flanking each junction
        k = 0
        for i, (s, e) in enumerate(self.exons_in_order):
            if i:
                ends.append(k + 1)
            k += e - s + 1
            if i < len(self.exons) - 1:
                ends.append(k)
        return min(abs(n - x) + 1 for x in ends), "exon"

    # ------------------------------------------------------------------ sequences

    def _fetch(self, reference: ReferenceSequence, start: int, end: int) -> str:
        return reference.fetch(self.chrom, start, end)

    def mrna(self, reference: ReferenceSequence) -> str:
        """The spliced transcript, 5'->3' on its strand (DNA letters)."""
        seq = "".join(self._fetch(reference, s, e) for s, e in self.exons)
        return seq if self.strand == "+" else reverse_complement(seq)

    def pre_mrna(self, reference: ReferenceSequence) -> str:
        """The unspliced transcript (exons and introns), 5'->3' on its strand."""
        seq = self._fetch(reference, self.start, self.end)
        return seq if self.strand == "+" else reverse_complement(seq)

    def cds(self, reference: ReferenceSequence) -> str:
        """The coding sequence including the stop codon."""
        if self._cds_n is None:
            raise AnalysisError(f"transcript {self.id} is non-coding, expected a CDS")
        first, last = self._cds_n
        return self.mrna(reference)[first - 1 : last]

    @property
    def cds_n(self) -> tuple[int, int] | None:
        """n. positions (1-based) of the first and last CDS base; None when non-coding."""
        return self._cds_n


class Annotation(Mapping[str, Transcript]):
    """The transcripts of one annotation file, by accession (looked up with or without version).

    Examples
    --------
    >>> ann = Annotation([Transcript("NM_X.2", "GENEX", "chr1", "+", ((1, 90),), 1, 90)], "genes.gff3")
    >>> ann["NM_X"].id
    'NM_X.2'
    """

    def __init__(self, transcripts: Iterable[Transcript], source: str = "annotation"):
        self.source = source
        self._by_id: dict[str, Transcript] = {}
        for tx in transcripts:
            self._by_id[tx.id] = tx

    def __getitem__(self, key: str) -> Transcript:
        if key in self._by_id:
            return self._by_id[key]
        bare = key.split(".")[0]
        matches = [t for k, t in self._by_id.items() if k.split(".")[0] == bare]
        if len(matches) == 1 and "." not in key:
            return matches[0]
        found = ", ".join(sorted(self._by_id)[:8]) or "none"
        hint = f" (the annotation has {matches[0].id})" if len(matches) == 1 else ""
        raise KeyError(f"{key}{hint}; transcripts in {self.source}: {found}")

    def get_transcript(self, key: str) -> Transcript:
        """The transcript ``key``; DossierError naming the annotation file when it is missing."""
        try:
            return self[key]
        except KeyError as exc:
            raise DossierError(
                [
                    Finding(
                        self.source,
                        None,
                        "transcript",
                        f"no transcript {exc.args[0]}",
                        "the transcript the variant names",
                    )
                ]
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def for_gene(self, gene: str) -> list[Transcript]:
        return [t for t in self._by_id.values() if t.gene == gene]

    def overlapping(self, chrom: str, start: int, end: int) -> list[Transcript]:
        names = chromosome_aliases(chrom)
        return [
            t
            for t in self._by_id.values()
            if t.chrom in names and t.start <= end and start <= t.end
        ]

    def __repr__(self) -> str:
        return f"Annotation({self.source!r}, {len(self)} transcripts)"


_TRANSCRIPT_TYPES = (
    "mRNA",
    "transcript",
    "lnc_RNA",
    "ncRNA",
    "primary_transcript",
    "NMD_transcript_variant",
)


def _first(attributes: Mapping[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        values = attributes.get(key)
        if values:
            return values[0]
    return None


def read_annotation(path: str | Path) -> Annotation:
    """Transcripts of a GFF3 or GTF file, read with gffutils into an in-memory database.

    GFF3: transcripts are ``mRNA``/``transcript`` features with ``exon`` and ``CDS`` children
    (``Parent``); the accession is ``transcript_id``, else ``Name``, else ``ID`` without a
    ``rna-``/``transcript:`` prefix. GTF: ``exon`` and ``CDS`` lines grouped by ``transcript_id``.
    The CDS span includes the stop codon: a GTF ``stop_codon`` line past the last CDS base is added.

    Raises
    ------
    DossierError
        The file is missing, does not parse, or holds no transcript with exons; the finding names
        the file.
    """
    import gffutils  # a heavy import, only when an annotation is read

    path = Path(path)
    source = str(path)

    def fail(found: str, expected: str) -> DossierError:
        return DossierError([Finding(source, None, "annotation", found, expected)])

    if not path.is_file():
        raise fail("no such file", "a GFF3 or GTF transcript annotation")
    is_gtf = path.suffix.lower() in (".gtf", ".gtf2") or path.name.lower().endswith(".gtf.gz")
    try:
        # gffutils prints progress while it infers GTF transcripts; keep stderr for pmpath's lines
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            db = gffutils.create_db(
                str(path),
                ":memory:",
                merge_strategy="create_unique",
                keep_order=True,
                disable_infer_genes=True,
                disable_infer_transcripts=not is_gtf,
                verbose=False,
            )
    except Exception as exc:  # gffutils raises bare ValueError/IndexError on bad lines
        raise fail(
            f"a file gffutils cannot read ({type(exc).__name__}: {exc})", "GFF3 or GTF"
        ) from exc

    transcripts: list[Transcript] = []
    problems: list[Finding] = []
    types = {t for t in db.featuretypes()}
    for kind in _TRANSCRIPT_TYPES:
        if kind not in types:
            continue
        for feature in db.features_of_type(kind, order_by="start"):
            attrs = feature.attributes
            tx_id = _first(attrs, "transcript_id", "Name", "ID") or feature.id
            tx_id = re.sub(r"^(rna-|transcript:)", "", tx_id)
            gene = _first(attrs, "gene_name", "gene", "gene_id")
            if gene is None:
                parents = list(db.parents(feature, level=1))
                gene = _first(parents[0].attributes, "Name", "gene_name") if parents else None
            exons = [(c.start, c.end) for c in db.children(feature, featuretype="exon", level=1)]
            cds = [(c.start, c.end) for c in db.children(feature, featuretype="CDS", level=1)]
            stops = [
                (c.start, c.end) for c in db.children(feature, featuretype="stop_codon", level=1)
            ]
            if not exons:
                continue
            cds_start = cds_end = None
            protein = None
            if cds:
                spans = cds + stops
                cds_start = min(s for s, _ in spans)
                cds_end = max(e for _, e in spans)
                first_cds = next(iter(db.children(feature, featuretype="CDS", level=1)))
                protein = _first(first_cds.attributes, "protein_id")
                if protein is None and (cid := _first(first_cds.attributes, "ID")):
                    protein = re.sub(r"^cds-", "", cid)
            try:
                transcripts.append(
                    Transcript(
                        tx_id,
                        gene or tx_id,
                        feature.seqid,
                        feature.strand,  # type: ignore[arg-type]
                        tuple(exons),
                        cds_start,
                        cds_end,
                        protein,
                    )
                )
            except UsageError as exc:
                problems.append(
                    Finding(
                        source, None, f"transcript {tx_id}", str(exc), "a consistent transcript"
                    )
                )
    if problems:
        raise DossierError(problems)
    if not transcripts:
        raise fail(
            f"no transcript with exons (feature types: {', '.join(sorted(types)) or 'none'})",
            "mRNA or transcript features with exon children (GFF3) or exon lines with transcript_id (GTF)",
        )
    return Annotation(transcripts, source)
