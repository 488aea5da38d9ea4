"""A reference FASTA read as ``samtools faidx`` reads it: its records, their index and every problem as a finding.

Records may be whole chromosomes (``>chrX``) or samtools-style regions (``>chrX:38260001-38262000``,
the output of ``samtools faidx ref.fa chrX:38260001-38262000``), whose bases start at the region's
first coordinate. Chromosome names match with or without ``chr``. The index is computed from the
file's bytes every time it is read, so a stale ``.fai`` (``git clone`` sets arbitrary modification
times) is never trusted and nothing is written beside the FASTA. This module is the one place that
parses FASTA: the dossier check and :class:`pmpath.mechanism.FastaReference` both use it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from pmpath.errors import Finding

IUPAC_DNA = b"ACGTNRYSWKMBDHVacgtnryswkmbdhv"
"""The letters a reference sequence may hold: the four bases, N and the IUPAC ambiguity codes."""

_BASES_AND_LINE_ENDS = IUPAC_DNA + b"\r\n"
_REGION_NAME = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>[\d,]+)(?:-(?P<end>[\d,]+))?$")
_GZIP_MAGIC = b"\x1f\x8b"
_FAST_LINES = 4096  # lines checked at once when a record's lines all have its width

EXPECTED_FASTA = "a FASTA file: a '>' header line naming each record, then its bases"
EXPECTED_BASES = (
    "IUPAC nucleotide letters only (A, C, G, T, N or the ambiguity codes R, Y, S, W, K, M, B, "
    "D, H, V; upper or lower case)"
)
EXPECTED_LAYOUT = (
    "every line of a record but its last to hold the same number of bases, with no blank line "
    "inside a record (the layout samtools faidx can index)"
)


# --------------------------------------------------------------------------- record names


class RegionNameError(ValueError):
    """A record named as a region whose bases do not fit the region (``found``, ``expected``)."""

    def __init__(self, found: str, expected: str):
        self.found = found
        self.expected = expected
        super().__init__(f"found {found}, expected {expected}")


@dataclass(frozen=True)
class RecordSpan:
    """Where a record's bases lie on their chromosome (1-based, inclusive coordinates)."""

    name: str
    chrom: str
    start: int
    length: int
    whole: bool
    """A whole chromosome (``>chrX``) rather than a region record (``>chrX:38260001-38262000``)."""

    @property
    def end(self) -> int:
        return self.start + self.length - 1

    def covers(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end

    @property
    def label(self) -> str:
        """The record as a reader should see it: a region's name, a chromosome's name and extent."""
        return self.name if not self.whole else f"{self.name} (1-{self.end})"


def record_span(name: str, length: int) -> RecordSpan:
    """The span of the record named ``name`` holding ``length`` bases.

    Raises
    ------
    RegionNameError
        A region record that starts before 1, or holds more bases than its name's region.
    """
    match = _REGION_NAME.match(name)
    if match is None:
        return RecordSpan(name, name, 1, length, whole=True)
    start = int(match["start"].replace(",", ""))
    if start < 1:
        raise RegionNameError(
            f"record {name!r} starting at {start}", "a region with a 1-based start >= 1"
        )
    if match["end"] is not None:
        declared = int(match["end"].replace(",", "")) - start + 1
        if declared < 1:
            raise RegionNameError(
                f"record {name!r}, a region whose end is before its start",
                "a region named chrom:start-end with start <= end",
            )
        # samtools truncates a region at the chromosome's end, so a shorter record is legitimate
        if length > declared:
            raise RegionNameError(
                f"record {name!r} holding {length} bases",
                f"at most {declared} for that region",
            )
    return RecordSpan(name, match["chrom"], start, length, whole=False)


def chromosome_aliases(chrom: str) -> tuple[str, ...]:
    """``chrom`` and its spelling with or without the ``chr`` prefix."""
    bare = chrom[3:] if chrom.lower().startswith("chr") else chrom
    return (chrom, bare, f"chr{bare}")


def records_on(spans: Sequence[RecordSpan], chrom: str) -> list[RecordSpan]:
    """The records on ``chrom`` (under any of its aliases), in file order."""
    names = set(chromosome_aliases(chrom))
    return [s for s in spans if s.chrom in names]


def covering_span(
    spans: Sequence[RecordSpan], chrom: str, start: int, end: int
) -> RecordSpan | None:
    """The record that holds ``chrom:start-end``: a whole chromosome first, then the widest region."""
    candidates = records_on(spans, chrom)
    for span in sorted(candidates, key=lambda s: (not s.whole, -s.length, s.start)):
        if span.covers(start, end):
            return span
    return None


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True)
class FaiEntry:
    """One line of a samtools ``.fai`` index: where a record's bases lie in the file."""

    name: str
    length: int
    offset: int
    """Byte offset of the record's first base."""
    line_bases: int
    line_width: int
    """Bytes per line, line ending included."""

    def fai_line(self) -> str:
        return f"{self.name}\t{self.length}\t{self.offset}\t{self.line_bases}\t{self.line_width}\n"

    def byte_of(self, offset: int) -> int:
        """File position of the base ``offset`` (0-based) of this record."""
        line, column = divmod(offset, self.line_bases)
        return self.offset + line * self.line_width + column


@dataclass(frozen=True)
class FastaIndex:
    """A valid FASTA file's records, in file order: their index entries and spans."""

    entries: tuple[FaiEntry, ...]
    spans: tuple[RecordSpan, ...]

    def fai_text(self) -> str:
        """The index as ``samtools faidx`` writes it."""
        return "".join(e.fai_line() for e in self.entries)

    @cached_property
    def _by_name(self) -> dict[str, FaiEntry]:
        return {e.name: e for e in self.entries}

    def entry(self, name: str) -> FaiEntry:
        """The index entry of record ``name``; KeyError when there is none."""
        return self._by_name[name]

    def bases(self, stream: BinaryIO, name: str, offset: int, length: int) -> str:
        """``length`` bases of record ``name`` from ``offset`` (0-based), as written (case kept)."""
        entry = self.entry(name)
        if offset < 0 or length < 0 or offset + length > entry.length:
            raise ValueError(
                f"found bases {offset}-{offset + length} of {name!r}, expected at most {entry.length}"
            )
        if length == 0:
            return ""
        first = entry.byte_of(offset)
        last = entry.byte_of(offset + length - 1)
        stream.seek(first)
        raw = stream.read(last - first + 1)
        return raw.replace(b"\n", b"").replace(b"\r", b"").decode("ascii", errors="replace")


# --------------------------------------------------------------------------- parsing


def _describe_byte(byte: int) -> str:
    if byte == 0x20:
        return "a space"
    if byte == 0x09:
        return "a tab"
    if byte == 0x0D:
        return "a carriage return that does not end the line"
    if 0x21 <= byte < 0x7F:
        return f"the character {chr(byte)!r}"
    return f"the byte 0x{byte:02x}"


def _preview(raw: bytes, limit: int = 24) -> str:
    text = raw[:limit].decode("utf-8", errors="backslashreplace")
    return repr(text + ("..." if len(raw) > limit else ""))


@dataclass
class _OpenRecord:
    name: str | None  # None: a header without a usable name (already a finding)
    header_line: int
    offset: int
    length: int = 0
    line_bases: int | None = None
    line_width: int | None = None
    crlf: bool = False
    ended_at: int | None = None  # a shorter or blank line: only blank lines may follow
    ended_by_blank: bool = False
    layout_reported: bool = False
    bad_line: int | None = None
    bad_column: int | None = None
    bad_byte: int = 0
    n_bad_lines: int = 0


class _FastaParser:
    """Line-by-line reading with a fast path over runs of full-width lines (most of a genome)."""

    def __init__(self, rel: str, findings: list[Finding]):
        self.rel = rel
        self.findings = findings
        self.n_findings = len(findings)
        self.entries: list[FaiEntry] = []
        self.spans: list[RecordSpan] = []
        self.header_lines: dict[str, int] = {}
        self.line_no = 0
        self.offset = 0
        self.record: _OpenRecord | None = None
        self.stray_reported = False
        self.n_headers = 0

    def error(
        self, line: int | None, field: str, found: str, expected: str, column: int | None = None
    ) -> None:
        self.findings.append(Finding(self.rel, line, field, found, expected, column=column))

    def feed(self, block: bytes) -> None:
        """Complete lines (the last one may lack its newline only at the end of the file)."""
        pos, n = 0, len(block)
        while pos < n:
            rec = self.record
            if rec is not None and rec.line_width is not None and rec.ended_at is None:
                width = rec.line_width
                k = min((n - pos) // width, _FAST_LINES)
                if k:
                    limit = pos + k * width
                    if self._full_lines(block[pos:limit], rec, k):
                        rec.length += k * rec.line_bases  # type: ignore[operator]
                        self.line_no += k
                        self.offset += k * width
                        pos = limit
                        continue
                    while pos < limit:
                        pos = self._next_line(block, pos)
                    continue
            pos = self._next_line(block, pos)

    @staticmethod
    def _full_lines(chunk: bytes, rec: _OpenRecord, k: int) -> bool:
        """``chunk`` is exactly ``k`` lines of the record's width, holding bases only."""
        width = rec.line_width
        assert width is not None
        if chunk.translate(None, _BASES_AND_LINE_ENDS):
            return False
        if chunk.count(b"\n") != k or chunk[width - 1 :: width] != b"\n" * k:
            return False
        if rec.crlf:
            return width >= 2 and chunk.count(b"\r") == k and chunk[width - 2 :: width] == b"\r" * k
        return b"\r" not in chunk

    def _next_line(self, block: bytes, pos: int) -> int:
        eol = block.find(b"\n", pos)
        end = len(block) if eol < 0 else eol + 1
        self._line(block[pos:end])
        return end

    def _line(self, raw: bytes) -> None:
        self.line_no += 1
        line = self.line_no
        self.offset += len(raw)
        if raw[:1] == b">":
            self._header(raw, line)
            return
        # a carriage return counts as a line ending only before a newline, as in samtools
        body = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith(b"\n") else raw
        rec = self.record
        if rec is None:
            if body and not self.stray_reported:  # samtools refuses even spaces here
                self.stray_reported = True
                self.error(
                    line,
                    "",
                    f"{_preview(body)} before the first '>' header line",
                    EXPECTED_FASTA,
                )
            return
        if not body:
            if rec.ended_at is None:
                rec.ended_at = line
                rec.ended_by_blank = True
            return
        bad = body.translate(None, IUPAC_DNA)
        if bad:
            if rec.bad_line is None:
                rec.bad_line = line
                rec.bad_byte = bad[0]
                rec.bad_column = body.index(bad[:1]) + 1
            rec.n_bad_lines += 1
            rec.length += len(body)
            return
        if rec.ended_at is not None:
            if not rec.layout_reported and rec.name is not None:
                rec.layout_reported = True
                after = "a blank line" if rec.ended_by_blank else "a shorter line"
                self.error(
                    line, rec.name, f"bases after {after} at line {rec.ended_at}", EXPECTED_LAYOUT
                )
            rec.length += len(body)
            return
        if rec.line_bases is None:
            rec.line_bases = len(body)
            # samtools counts a newline even when the record's only line ends the file without one
            rec.line_width = len(raw) if raw.endswith(b"\n") else len(body) + 1
            rec.crlf = raw.endswith(b"\r\n")
        elif len(body) > rec.line_bases:
            if not rec.layout_reported and rec.name is not None:
                rec.layout_reported = True
                self.error(
                    line,
                    rec.name,
                    f"a line of {len(body)} bases after lines of {rec.line_bases}",
                    EXPECTED_LAYOUT,
                )
        elif len(body) < rec.line_bases:
            rec.ended_at = line
        elif (
            raw.endswith(b"\n")
            and len(raw) != rec.line_width
            and not rec.layout_reported
            and rec.name is not None
        ):
            rec.layout_reported = True
            ending = "CRLF" if raw.endswith(b"\r\n") else "LF"
            first = "CRLF" if rec.crlf else "LF"
            self.error(
                line,
                rec.name,
                f"a line ending in {ending} after lines ending in {first}",
                "one kind of line ending within a record",
            )
        rec.length += len(body)

    def _header(self, raw: bytes, line: int) -> None:
        self._close()
        self.n_headers += 1
        text = raw[1:].rstrip(b"\r\n")
        name_bytes = text.split(None, 1)[0] if text[:1] and not text[:1].isspace() else b""
        name: str | None = None
        if not name_bytes:
            self.error(
                line,
                "",
                "a header line with no name"
                + (f" ({_preview(raw.rstrip())})" if text.strip() else ""),
                "'>' followed at once by the record's name, such as >chrX or >chrX:38260001-38262000",
            )
        else:
            try:
                name = name_bytes.decode("utf-8")
            except UnicodeDecodeError:
                self.error(
                    line,
                    "",
                    f"a record name with bytes that are not UTF-8 ({_preview(name_bytes)})",
                    "a record name in UTF-8 text, such as chrX",
                )
        if name is not None and name in self.header_lines:
            self.error(
                line,
                name,
                f"a second record named {name!r} (the first is at line {self.header_lines[name]})",
                "each record name once",
            )
            name = None
        if name is not None:
            self.header_lines[name] = line
        self.record = _OpenRecord(name, line, self.offset)

    def _close(self) -> None:
        rec, self.record = self.record, None
        if rec is None:
            return
        ok = rec.name is not None and not rec.layout_reported
        if rec.bad_line is not None:
            more = rec.n_bad_lines - 1
            self.error(
                rec.bad_line,
                rec.name or "",
                _describe_byte(rec.bad_byte)
                + (
                    f" (and {more} more line{'s' if more > 1 else ''} like it in this record)"
                    if more
                    else ""
                ),
                EXPECTED_BASES,
                column=rec.bad_column,
            )
            ok = False
        if rec.name is None:
            return
        if rec.length == 0 and rec.bad_line is None:
            self.error(
                rec.header_line,
                rec.name,
                f"record {rec.name!r} with no bases",
                "the record's bases on the lines after its header",
            )
            return
        try:
            span = record_span(rec.name, rec.length)
        except RegionNameError as exc:
            self.error(rec.header_line, rec.name, exc.found, exc.expected)
            return
        if ok:
            assert rec.line_bases is not None and rec.line_width is not None
            self.entries.append(
                FaiEntry(rec.name, rec.length, rec.offset, rec.line_bases, rec.line_width)
            )
            self.spans.append(span)

    def finish(self) -> FastaIndex | None:
        self._close()
        if self.n_headers == 0 and not self.stray_reported:
            self.error(
                None,
                "",
                "an empty file" if self.offset == 0 else "a file of blank lines only",
                EXPECTED_FASTA,
            )
        if len(self.findings) > self.n_findings:
            return None
        return FastaIndex(tuple(self.entries), tuple(self.spans))


def index_fasta(
    stream: BinaryIO, rel: str, findings: list[Finding], *, chunk_size: int = 1 << 22
) -> FastaIndex | None:
    """Index the FASTA read from ``stream``; every problem becomes a finding on ``rel``.

    Parameters
    ----------
    stream
        The FASTA's bytes, read in chunks of ``chunk_size`` (the result does not depend on it).
    rel
        The file's path as findings name it (relative to the dossier).
    findings
        Problems are appended here, with the line (and column) they are on.

    Returns
    -------
    FastaIndex or None
        The records, or None when the file is not a FASTA pmpath can read.
    """
    parser = _FastaParser(rel, findings)
    pending: list[bytes] = []
    first = True
    while True:
        block = stream.read(max(chunk_size, len(_GZIP_MAGIC)) if first else chunk_size)
        if first:
            first = False
            if block[:2] == _GZIP_MAGIC:
                parser.error(
                    None,
                    "",
                    "a gzip-compressed file",
                    "an uncompressed FASTA (decompress it with gunzip; pmpath reads plain text)",
                )
                return None
        if not block:
            break
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            pending.append(block)  # a line longer than the chunk: keep it whole
            continue
        parser.feed(b"".join([*pending, block[:cut]]))
        pending = [block[cut:]] if cut < len(block) else []
    if pending:
        parser.feed(b"".join(pending))
    return parser.finish()


def read_fasta(path: Path, rel: str, findings: list[Finding]) -> FastaIndex | None:
    """Index the FASTA file at ``path`` (see :func:`index_fasta`); an unreadable file is a finding."""
    try:
        with path.open("rb") as stream:
            return index_fasta(stream, rel, findings)
    except FileNotFoundError:
        findings.append(Finding(rel, None, "", "no such file", EXPECTED_FASTA))
    except IsADirectoryError:
        findings.append(Finding(rel, None, "", "a directory", EXPECTED_FASTA))
    except OSError as exc:
        findings.append(
            Finding(
                rel,
                None,
                "",
                f"a file that cannot be read ({exc.strerror})",
                "a readable FASTA file",
            )
        )
    return None
