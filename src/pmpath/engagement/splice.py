"""Splice correction by a splice-switching ASO: reads supporting the aberrant and the corrected
junction, percent corrected splicing with an exact interval, treated against untreated.

Two kinds of evidence:

- RNA-seq alignments (BAM, read with pysam): a read supports a junction when its CIGAR has an
  ``N`` (skipped region) whose span is exactly that intron. Junctions are written
  ``CHR:START-END`` with START and END the **1-based first and last base of the intron**, the
  convention of STAR's ``SJ.out.tab`` (columns 2 and 3). A fragment counts once per junction
  (paired mates that both cross it are one molecule, as in STAR's counts); unmapped, secondary,
  supplementary, QC-failed and duplicate records and those below ``min_mapq`` are skipped.
- RT-PCR amplicon reads given as isoform sequences (FASTQ): each read is assigned to the isoform
  it matches with the fewest edits (global edit distance, edlib), when that distance is at most
  ``max_edit_fraction`` of the isoform's length and strictly smaller than its distance to the
  other isoform; otherwise it is unassigned.

Percent corrected splicing is ``corrected / (corrected + aberrant)`` with a Clopper-Pearson 95%
interval; treated against control uses :func:`pmpath.engagement.compare.compare_counts`.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pmpath.engagement.compare import SiteComparison, compare_counts
from pmpath.engagement.compare import tsv_cell as _cell
from pmpath.engagement.interval import clopper_pearson
from pmpath.errors import AnalysisError, UsageError
from pmpath.formatting import format_percent

__all__ = [
    "SPLICING_COLUMNS",
    "IsoformCounts",
    "Junction",
    "SpliceCorrection",
    "SpliceSample",
    "count_isoform_reads",
    "count_junction_reads",
    "parse_junction",
    "read_isoform",
    "splice_correction",
    "splice_correction_from_isoforms",
    "splice_sample",
    "write_splicing_tsv",
]

_REGION = re.compile(r"^(?P<chrom>[^\s:]+):(?P<start>[\d,]+)-(?P<end>[\d,]+)$")
_N = 3  # pysam's CIGAR code for N (skipped region)
_REFERENCE_OPS = {0, 2, 3, 7, 8}  # M, D, N, =, X consume the reference


@dataclass(frozen=True, order=True)
class Junction:
    """An intron: chromosome and its 1-based inclusive first and last base (STAR's SJ.out.tab)."""

    chrom: str
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.chrom}:{self.start}-{self.end}"


def parse_junction(text: str, field: str = "junction") -> Junction:
    """Parse ``CHR:START-END`` (1-based inclusive intron bounds; commas in numbers allowed).

    >>> parse_junction("chr7:1,000-2,000")
    Junction(chrom='chr7', start=1000, end=2000)
    """
    match = _REGION.match(str(text).strip())
    if match is None:
        raise UsageError(
            f"{field}: found {text!r}, expected CHR:START-END (1-based first and last intron base, as STAR's SJ.out.tab)"
        )
    start = int(match["start"].replace(",", ""))
    end = int(match["end"].replace(",", ""))
    if start < 1 or end < start:
        raise UsageError(
            f"{field}: found {text!r}, expected 1 <= START <= END (1-based first and last intron base)"
        )
    return Junction(match["chrom"], start, end)


def _open_bam(path: Path):
    import pysam  # imported here: only the splice command needs it

    if not path.is_file():
        raise UsageError(f"{path}: file not found, expected a BAM file of spliced alignments")
    try:
        return pysam.AlignmentFile(str(path), "rb")
    except (ValueError, OSError) as exc:
        raise UsageError(f"{path}: not a readable BAM file ({exc})") from exc


def _introns(read) -> Iterator[tuple[int, int]]:
    """1-based inclusive (first, last) intron bases of a read's N operations."""
    pos = read.reference_start  # 0-based
    for op, length in read.cigartuples or ():
        if op == _N:
            yield pos + 1, pos + length
        if op in _REFERENCE_OPS:
            pos += length


def count_junction_reads(
    bam: Path | str, junctions: list[Junction], *, min_mapq: int = 0
) -> dict[Junction, int]:
    """Fragments (distinct read names) whose alignment splices exactly each junction.

    Uses the BAM index when there is one (fetching each junction's span), else reads the whole
    file once.
    """
    path = Path(bam)
    handle = _open_bam(path)
    wanted = {j: set() for j in junctions}
    by_chrom: dict[str, list[Junction]] = {}
    for j in junctions:
        by_chrom.setdefault(j.chrom, []).append(j)
    with handle:
        references = set(handle.references)
        for chrom in by_chrom:
            if chrom not in references:
                raise UsageError(
                    f"{path}: chromosome {chrom!r} not in the BAM header, expected one of "
                    f"{', '.join(list(handle.references)[:5])}{' ...' if len(references) > 5 else ''}"
                )
        try:
            indexed = handle.has_index()
        except (ValueError, AttributeError):
            indexed = False

        def reads() -> Iterator:
            if indexed:
                seen_spans: set[tuple[str, int, int]] = set()
                for chrom, js in by_chrom.items():
                    lo, hi = min(j.start for j in js), max(j.end for j in js)
                    if (chrom, lo, hi) in seen_spans:
                        continue
                    seen_spans.add((chrom, lo, hi))
                    yield from handle.fetch(chrom, max(lo - 2, 0), hi + 1)
            else:
                yield from handle.fetch(until_eof=True)

        try:
            for read in reads():
                if (
                    read.is_unmapped
                    or read.is_secondary
                    or read.is_supplementary
                    or read.is_qcfail
                    or read.is_duplicate
                    or read.mapping_quality < min_mapq
                ):
                    continue
                chrom = read.reference_name
                if chrom not in by_chrom:
                    continue
                for first, last in _introns(read):
                    j = Junction(chrom, first, last)
                    if j in wanted:
                        wanted[j].add(read.query_name)
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: cannot read alignments ({exc})") from exc
    return {j: len(names) for j, names in wanted.items()}


@dataclass(frozen=True)
class SpliceSample:
    """One sample's junction reads and percent corrected splicing.

    Attributes
    ----------
    sample : str
        ``treated`` or ``control``.
    source : str
        The BAM or FASTQ the counts came from.
    aberrant, corrected : str
        The two junctions (or isoform names).
    aberrant_reads, corrected_reads : int
    corrected_pct : float or None
        ``100 * corrected / (corrected + aberrant)``; None with no read on either.
    ci_low, ci_high : float or None
        Clopper-Pearson 95% interval, in %.
    """

    sample: str
    source: str
    aberrant: str
    corrected: str
    aberrant_reads: int
    corrected_reads: int
    corrected_pct: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def total(self) -> int:
        return self.aberrant_reads + self.corrected_reads


def splice_sample(
    sample: str,
    source: str,
    aberrant: str,
    corrected: str,
    aberrant_reads: int,
    corrected_reads: int,
) -> SpliceSample:
    """A :class:`SpliceSample` from its two counts (the interval computed here)."""
    total = aberrant_reads + corrected_reads
    if total == 0:
        return SpliceSample(sample, source, aberrant, corrected, 0, 0, None, None, None)
    lo, hi = clopper_pearson(corrected_reads, total)
    return SpliceSample(
        sample,
        source,
        aberrant,
        corrected,
        aberrant_reads,
        corrected_reads,
        100 * corrected_reads / total,
        100 * lo,
        100 * hi,
    )


@dataclass(frozen=True)
class SpliceCorrection:
    """Treated (and optionally control) percent corrected splicing, and their comparison.

    ``comparison`` is the corrected share in treated against control (Newcombe interval of the
    difference, one-sided Fisher's exact); None without a control or when either has no reads.
    """

    treated: SpliceSample
    control: SpliceSample | None
    comparison: SiteComparison | None


def _compare(treated: SpliceSample, control: SpliceSample | None) -> SiteComparison | None:
    if control is None or treated.total == 0 or control.total == 0:
        return None
    return compare_counts(
        [(treated.corrected_reads, treated.total)],
        [(control.corrected_reads, control.total)],
        ["corrected_splicing"],
    ).sites[0]


def splice_correction(
    bam: Path | str,
    aberrant: Junction,
    corrected: Junction,
    *,
    control_bam: Path | str | None = None,
    min_mapq: int = 0,
) -> SpliceCorrection:
    """Percent corrected splicing from RNA-seq alignments, treated and (optionally) control.

    Raises
    ------
    UsageError
        A BAM is missing or unreadable, the junctions are the same, or a chromosome is absent.
    AnalysisError
        No treated read supports either junction.
    """
    if aberrant == corrected:
        raise UsageError(
            f"corrected: found {corrected}, the same as the aberrant junction, expected another intron"
        )

    def one(sample: str, path: Path | str) -> SpliceSample:
        counts = count_junction_reads(path, [aberrant, corrected], min_mapq=min_mapq)
        return splice_sample(
            sample, str(path), str(aberrant), str(corrected), counts[aberrant], counts[corrected]
        )

    treated = one("treated", bam)
    if treated.total == 0:
        raise AnalysisError(
            f"{bam}: no read supports {aberrant} or {corrected}; check the coordinates (1-based first and last intron base) and the chromosome names"
        )
    control = one("control", control_bam) if control_bam is not None else None
    return SpliceCorrection(treated, control, _compare(treated, control))


# --------------------------------------------------------------------------- RT-PCR isoform reads


@dataclass(frozen=True)
class IsoformCounts:
    """Reads of an RT-PCR amplicon assigned to the aberrant or corrected isoform."""

    aberrant_reads: int
    corrected_reads: int
    unassigned: int
    reads: int


def _fastq_sequences(path: Path) -> Iterator[str]:
    if not path.is_file():
        raise UsageError(f"{path}: file not found, expected a FASTQ file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="ascii") as fh:
            record = 0
            while True:
                header = fh.readline()
                if not header:
                    return
                record += 1
                seq, plus, qual = fh.readline(), fh.readline(), fh.readline()
                if not header.startswith("@") or not plus.startswith("+") or not qual:
                    raise UsageError(
                        f"{path}: record {record}: found {header.strip()[:40]!r}, expected a four-line FASTQ record starting with '@'"
                    )
                seq = seq.strip().upper()
                if len(seq) != len(qual.strip()):
                    raise UsageError(
                        f"{path}: record {record}: sequence and quality of different lengths ({len(seq)} and {len(qual.strip())})"
                    )
                yield seq
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read FASTQ ({exc})") from exc


def count_isoform_reads(
    fastq: Path | str,
    aberrant_sequence: str,
    corrected_sequence: str,
    *,
    max_edit_fraction: float = 0.05,
) -> IsoformCounts:
    """Assign RT-PCR amplicon reads to the aberrant or corrected isoform by global edit distance.

    A read (or its reverse complement, whichever is closer) goes to the isoform with the smaller
    edlib Levenshtein distance when that distance is at most ``max_edit_fraction`` of the
    isoform's length and the other isoform is strictly farther; otherwise it is unassigned.
    """
    import edlib

    from pmpath.engagement.crispresso import reverse_complement

    isoforms = (aberrant_sequence.upper(), corrected_sequence.upper())
    if isoforms[0] == isoforms[1]:
        raise UsageError("corrected: the same sequence as the aberrant isoform, expected another")
    if not 0 <= max_edit_fraction < 0.5:
        raise UsageError(f"max_edit_fraction: found {max_edit_fraction!r}, expected 0 to 0.5")
    limits = [int(max_edit_fraction * len(s)) for s in isoforms]
    counts = [0, 0]
    unassigned = reads = 0
    for seq in _fastq_sequences(Path(fastq)):
        reads += 1
        best = []
        for iso, limit in zip(isoforms, limits, strict=True):
            k = limit + 1  # edlib stops early beyond k
            d = [
                edlib.align(s, iso, mode="NW", task="distance", k=k)["editDistance"]
                for s in (seq, reverse_complement(seq))
            ]
            d = [x for x in d if x >= 0]
            best.append(min(d) if d else k + 1)
        i = 0 if best[0] < best[1] else 1
        if best[i] <= limits[i] and best[i] < best[1 - i]:
            counts[i] += 1
        else:
            unassigned += 1
    return IsoformCounts(counts[0], counts[1], unassigned, reads)


def read_isoform(text: str, field: str) -> tuple[str, str]:
    """An isoform given as a sequence or a FASTA file (its first record): ``(name, sequence)``."""
    path = Path(text)
    if re.fullmatch(r"[ACGTNacgtn]+", text):
        return field, text.upper()
    if not path.is_file():
        raise UsageError(
            f"{field}: found {text[:40]!r}, expected an isoform sequence (A, C, G, T, N) or a FASTA file"
        )
    name, parts = "", []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(">"):
            if name:
                break
            name = line[1:].split()[0] if line[1:].split() else field
        elif name:
            parts.append(line.strip())
    sequence = "".join(parts).upper()
    if not name or not re.fullmatch(r"[ACGTN]+", sequence):
        raise UsageError(f"{path}: expected a FASTA record ('>name' then A, C, G, T, N lines)")
    return name, sequence


def splice_correction_from_isoforms(
    reads: Path | str,
    aberrant_sequence: str,
    corrected_sequence: str,
    *,
    control_reads: Path | str | None = None,
    aberrant_name: str = "aberrant",
    corrected_name: str = "corrected",
    max_edit_fraction: float = 0.05,
) -> SpliceCorrection:
    """Percent corrected splicing from RT-PCR amplicon reads assigned to the two isoforms
    (:func:`count_isoform_reads`), treated and optionally control."""

    def one(sample: str, path: Path | str) -> SpliceSample:
        c = count_isoform_reads(
            path, aberrant_sequence, corrected_sequence, max_edit_fraction=max_edit_fraction
        )
        return splice_sample(
            sample, str(path), aberrant_name, corrected_name, c.aberrant_reads, c.corrected_reads
        )

    treated = one("treated", reads)
    if treated.total == 0:
        raise AnalysisError(
            f"{reads}: no read matches either isoform within {format_percent(max_edit_fraction)} of its length"
        )
    control = one("control", control_reads) if control_reads is not None else None
    return SpliceCorrection(treated, control, _compare(treated, control))


# --------------------------------------------------------------------------- output

SPLICING_COLUMNS = (
    "sample",
    "source",
    "aberrant_junction",
    "corrected_junction",
    "aberrant_reads",
    "corrected_reads",
    "total",
    "corrected_pct",
    "ci_low",
    "ci_high",
    "background_pct",
    "above_background_pct",
    "difference_ci_low",
    "difference_ci_high",
    "p_value",
    "not_different",
)


def write_splicing_tsv(result: SpliceCorrection, path: Path | str) -> Path:
    """Write ``splicing.tsv``: one row per sample; the treated row carries the comparison.

    Percentages are in %, intervals Clopper-Pearson 95% (per sample) and Newcombe hybrid score
    (difference, treated minus control); ``p_value`` is one-sided Fisher's exact (treated above
    control). Empty cells where there is no value.
    """
    from pmpath import atomic

    path = Path(path)
    lines = ["\t".join(SPLICING_COLUMNS)]
    for s in (result.treated, result.control):
        if s is None:
            continue
        c = result.comparison if s is result.treated else None
        row = [
            s.sample,
            s.source,
            s.aberrant,
            s.corrected,
            s.aberrant_reads,
            s.corrected_reads,
            s.total,
            s.corrected_pct,
            s.ci_low,
            s.ci_high,
            None if c is None else c.background_pct,
            None if c is None else c.above_background_pct,
            None if c is None else c.ci_low,
            None if c is None else c.ci_high,
            None if c is None else c.p_value,
            None if c is None else c.not_different,
        ]
        lines.append("\t".join(_cell(x) for x in row))
    atomic.write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path
