"""Reference sequence behind one small interface: a FASTA file today, anything with ``fetch`` tomorrow.

Records may be whole chromosomes (``>chrX``) or samtools-style regions (``>chrX:38260001-38262000``,
the output of ``samtools faidx ref.fa chrX:38260001-38262000``), so a dossier can ship the few
kilobases around its targets instead of a genome. Chromosome names match with or without ``chr``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from pmpath.errors import AnalysisError

_REGION_NAME = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>[\d,]+)(?:-(?P<end>[\d,]+))?$")


@runtime_checkable
class ReferenceSequence(Protocol):
    """A source of reference bases."""

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Upper-case bases of ``chrom`` from ``start`` to ``end`` (1-based, inclusive)."""
        ...

    def extent(self, chrom: str, start: int, end: int) -> tuple[int, int]:
        """The widest interval (1-based, inclusive) around ``start``-``end`` that :meth:`fetch` can return.

        Raises AnalysisError when ``start``-``end`` itself is not covered.
        """
        ...


@dataclass(frozen=True)
class _Record:
    name: str
    chrom: str
    start: int  # 1-based coordinate of the record's first base
    length: int
    whole: bool  # a whole chromosome rather than a region

    @property
    def end(self) -> int:
        return self.start + self.length - 1

    def covers(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end


def chromosome_aliases(chrom: str) -> tuple[str, ...]:
    """``chrom`` and its spelling with or without the ``chr`` prefix."""
    bare = chrom[3:] if chrom.lower().startswith("chr") else chrom
    return (chrom, bare, f"chr{bare}")


def _parse_record(name: str, length: int, source: str) -> _Record:
    match = _REGION_NAME.match(name)
    if match is None:
        return _Record(name, name, 1, length, whole=True)
    start = int(match["start"].replace(",", ""))
    if start < 1:
        raise AnalysisError(
            f"{source}: record {name!r} starts at {start}, expected a 1-based start >= 1"
        )
    if match["end"] is not None:
        declared = int(match["end"].replace(",", "")) - start + 1
        # samtools truncates a region at the chromosome's end, so a shorter record is legitimate
        if length > declared:
            raise AnalysisError(
                f"{source}: record {name!r} holds {length} bases, expected at most {declared} for that region"
            )
    return _Record(name, match["chrom"], start, length, whole=False)


class _RecordReference:
    """Lookup shared by the implementations: which record covers an interval, and where in it."""

    def __init__(
        self, records: Mapping[str, int], slicer: Callable[[str, int, int], str], source: str
    ):
        self.source = source
        self._slice = slicer
        self._records = [_parse_record(name, length, source) for name, length in records.items()]

    def _record(self, chrom: str, start: int, end: int) -> _Record:
        if start < 1 or end < start:
            raise AnalysisError(
                f"{chrom}:{start}-{end}: expected 1 <= start <= end (1-based, inclusive)"
            )
        names = set(chromosome_aliases(chrom))
        candidates = [r for r in self._records if r.chrom in names]
        # a whole chromosome first, then the widest region that holds the interval
        for record in sorted(candidates, key=lambda r: (not r.whole, -r.length, r.start)):
            if record.covers(start, end):
                return record
        found = (
            ", ".join(r.name if not r.whole else f"{r.name} (1-{r.end})" for r in candidates[:6])
            or "none"
        )
        if not candidates:
            found += f" for {chrom}; records: {', '.join(r.name for r in self._records[:6])}"
        raise AnalysisError(
            f"{self.source}: {chrom}:{start}-{end} is not covered; found records {found}, "
            f"expected a record named {chrom} or a region record such as {chrom}:{max(1, start - 1000)}-{end + 1000} that contains it"
        )

    def fetch(self, chrom: str, start: int, end: int) -> str:
        record = self._record(chrom, start, end)
        return self._slice(record.name, start - record.start, end - start + 1).upper()

    def extent(self, chrom: str, start: int, end: int) -> tuple[int, int]:
        record = self._record(chrom, start, end)
        return record.start, record.end

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r}, {len(self._records)} records)"


class FastaReference(_RecordReference):
    """A FASTA file read through pyfaidx.

    An existing, up-to-date ``.fai`` index next to the file is used; otherwise the index is built in
    a temporary directory, so assessing a dossier never writes into it.

    Parameters
    ----------
    path
        FASTA file (plain, or bgzip-compressed with its ``.gzi``).

    Examples
    --------
    >>> ref = FastaReference("reference/targets.fa")  # doctest: +SKIP
    >>> ref.fetch("chrX", 38260101, 38260110)  # doctest: +SKIP
    'ACGTTGCAAT'
    """

    def __init__(self, path: str | Path):
        import pyfaidx

        self.path = Path(path)
        if not self.path.is_file():
            raise AnalysisError(
                f"reference FASTA {str(self.path)!r} does not exist, expected a FASTA file"
            )
        fai = Path(f"{self.path}.fai")
        options: dict[str, object] = {"as_raw": True, "sequence_always_upper": True}
        if not (fai.is_file() and fai.stat().st_mtime >= self.path.stat().st_mtime):
            self._index_dir = tempfile.TemporaryDirectory(prefix="pmpath-fai-")
            options["indexname"] = str(Path(self._index_dir.name) / f"{self.path.name}.fai")
            if self.path.suffix == ".gz" and not Path(f"{self.path}.gzi").is_file():
                options["gzi_indexname"] = str(Path(self._index_dir.name) / f"{self.path.name}.gzi")
        try:
            self._fasta = pyfaidx.Fasta(str(self.path), **options)
        except (
            pyfaidx.FastaIndexingError,
            pyfaidx.UnsupportedCompressionFormat,
            ValueError,
            OSError,
        ) as exc:
            raise AnalysisError(
                f"reference FASTA {str(self.path)!r} could not be indexed ({exc}), expected a FASTA file"
            ) from exc
        lengths = {name: len(record) for name, record in self._fasta.records.items()}
        super().__init__(lengths, self._fetch_raw, str(self.path))

    def _fetch_raw(self, name: str, offset: int, length: int) -> str:
        return str(self._fasta[name][offset : offset + length])


class InMemoryReference(_RecordReference):
    """Reference bases held in a dict of record name -> sequence, named as in a FASTA file.

    Examples
    --------
    >>> ref = InMemoryReference({"chr7:101-110": "ACGTACGTAA"})
    >>> ref.fetch("7", 103, 105)
    'GTA'
    """

    def __init__(self, sequences: Mapping[str, str], source: str = "in-memory reference"):
        self._sequences = dict(sequences)
        super().__init__({k: len(v) for k, v in self._sequences.items()}, self._fetch_raw, source)

    def _fetch_raw(self, name: str, offset: int, length: int) -> str:
        return self._sequences[name][offset : offset + length]
