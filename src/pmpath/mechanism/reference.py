"""Reference sequence behind one small interface: a FASTA file today, anything with ``fetch`` tomorrow.

Records may be whole chromosomes (``>chrX``) or samtools-style regions (``>chrX:38260001-38262000``,
the output of ``samtools faidx ref.fa chrX:38260001-38262000``), so a dossier can ship the few
kilobases around its targets instead of a genome. Chromosome names match with or without ``chr``.
The FASTA is parsed by :mod:`pmpath.dossier.fasta`, the same reading the dossier's validation uses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from pmpath.dossier.fasta import (
    RecordSpan,
    RegionNameError,
    chromosome_aliases,
    covering_span,
    read_fasta,
    record_span,
    records_on,
)
from pmpath.errors import AnalysisError, DossierError, Finding

__all__ = [
    "FastaReference",
    "InMemoryReference",
    "ReferenceSequence",
    "chromosome_aliases",
]


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


class _RecordReference:
    """Lookup shared by the implementations: which record covers an interval, and where in it."""

    def __init__(
        self, spans: Sequence[RecordSpan], slicer: Callable[[str, int, int], str], source: str
    ):
        self.source = source
        self._slice = slicer
        self._records = list(spans)

    def _record(self, chrom: str, start: int, end: int) -> RecordSpan:
        if start < 1 or end < start:
            raise AnalysisError(
                f"{chrom}:{start}-{end}: expected 1 <= start <= end (1-based, inclusive)"
            )
        record = covering_span(self._records, chrom, start, end)
        if record is not None:
            return record
        candidates = records_on(self._records, chrom)
        found = ", ".join(r.label for r in candidates[:6]) or "none"
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
    """A plain-text FASTA file, indexed in memory from its own bytes.

    The index is computed every time the file is opened (about half a second for a whole human
    chromosome), so a ``.fai`` beside the file is never used: it may be stale whatever its
    modification time says, and nothing is ever written next to the FASTA. The dossier's
    validation checks such a ``.fai`` against the FASTA.

    Parameters
    ----------
    path
        FASTA file, uncompressed.

    Raises
    ------
    DossierError
        The file is missing or is not a FASTA pmpath can read; the findings name the line.

    Examples
    --------
    >>> ref = FastaReference("reference/targets.fa")  # doctest: +SKIP
    >>> ref.fetch("chrX", 38260101, 38260110)  # doctest: +SKIP
    'ACGTTGCAAT'
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        findings: list[Finding] = []
        index = read_fasta(self.path, str(self.path), findings)
        if index is None:
            raise DossierError(findings)
        self._index = index
        self._stamp = self._file_stamp()
        super().__init__(index.spans, self._fetch_raw, str(self.path))

    def _file_stamp(self) -> tuple[int, int]:
        stat = os.stat(self.path)
        return stat.st_size, stat.st_mtime_ns

    def _fetch_raw(self, name: str, offset: int, length: int) -> str:
        try:
            if self._file_stamp() != self._stamp:
                raise AnalysisError(
                    f"reference FASTA {str(self.path)!r} changed after it was indexed, expected it unchanged during an assessment"
                )
            with self.path.open("rb") as stream:
                return self._index.bases(stream, name, offset, length)
        except OSError as exc:
            raise AnalysisError(
                f"reference FASTA {str(self.path)!r} cannot be read ({exc.strerror}), expected a readable file"
            ) from exc


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
        spans = []
        for name, seq in self._sequences.items():
            try:
                spans.append(record_span(name, len(seq)))
            except RegionNameError as exc:
                raise AnalysisError(
                    f"{source}: found {exc.found}, expected {exc.expected}"
                ) from exc
        super().__init__(spans, self._fetch_raw, source)

    def _fetch_raw(self, name: str, offset: int, length: int) -> str:
        return self._sequences[name][offset : offset + length]
