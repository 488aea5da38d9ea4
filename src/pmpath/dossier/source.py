"""Reading dossier files safely and fast, keeping the line of every value so findings say `file:line: field`.

Every problem in a file becomes a :class:`~pmpath.errors.Finding`, never an exception: bytes that are
not UTF-8 (with the line and column of the first bad byte), a compressed or binary file where text
is expected, YAML anchors and aliases (refused before anything expands: a "billion laughs" file costs
nothing), YAML nested deeper than :data:`MAX_YAML_DEPTH`, duplicated keys, control characters and
bidirectional overrides, texts longer than :data:`MAX_TEXT_LENGTH` / :data:`MAX_CELL_LENGTH`, and
tables that are not the comma- or tab-separated text their name says. There is deliberately no
limit on a file's size: natural-history tables of millions of rows are legitimate.

YAML is parsed once, by libyaml when PyYAML was built with it (the pure-Python parser otherwise),
into a node tree that is checked, indexed by key path for line numbers, and then constructed.
Tables are read by pyarrow's CSV reader with every column as text, and the physical line of each
row is recovered from the raw bytes with numpy (blank lines, CRLF and quoted newlines included).
"""

from __future__ import annotations

import bisect
import codecs
import csv
import difflib
import hashlib
import io
import re
import reprlib
import types
import typing
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import yaml
from pydantic import BaseModel, ValidationError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from pmpath.errors import Finding

try:  # libyaml: about ten times faster than the pure-Python parser
    from yaml._yaml import CParser as _EventSource

    YAML_PARSER: Literal["libyaml", "python"] = "libyaml"
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _EventSource = None
    YAML_PARSER = "python"

__all__ = [
    "MAX_CELL_LENGTH",
    "MAX_FINDINGS_PER_KIND",
    "MAX_TEXT_LENGTH",
    "MAX_YAML_DEPTH",
    "YAML_PARSER",
    "EncodedColumn",
    "Table",
    "YamlDocument",
    "read_table",
    "read_yaml",
    "sha256_bytes",
    "validate_model",
]

MAX_YAML_DEPTH = 64
"""Deepest nesting of YAML mappings and lists accepted (a dossier file needs fewer than ten)."""

MAX_TEXT_LENGTH = 10_000
"""Longest text accepted as one YAML value, in characters (a platform name, a description)."""

MAX_CELL_LENGTH = 10_000
"""Longest text accepted in one table cell (or column name), in characters."""

MAX_FINDINGS_PER_KIND = 20
"""Findings of one kind listed per file (bad characters, ragged rows); the rest are counted."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- text hygiene

_UTF8_BOM = b"\xef\xbb\xbf"

# (leading bytes, what the file is, what to do), for files that should have been plain text.
_BINARY_FORMATS: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it: gunzip"),
    (b"BZh", "a bzip2-compressed file", "decompress it: bunzip2"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it: unxz"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", "decompress it: unzstd"),
    (
        b"PK\x03\x04",
        "a ZIP archive (an Excel .xlsx workbook is one)",
        "in Excel: Save As 'CSV UTF-8'",
    ),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook", "in Excel: Save As 'CSV UTF-8'"),
    (b"PAR1", "a Parquet file", "name it .parquet"),
    (b"\xff\xfe", "UTF-16 text", "save it as UTF-8, e.g. in Excel: Save As 'CSV UTF-8'"),
    (b"\xfe\xff", "UTF-16 text", "save it as UTF-8, e.g. in Excel: Save As 'CSV UTF-8'"),
)

# Characters that have no place in a dossier's text: C0 controls other than tab, line feed and
# carriage return, DEL, the C1 controls (NEL among them, a line break to YAML), the Unicode line and
# paragraph separators (line breaks to YAML, invisible elsewhere), and the bidirectional embeddings,
# overrides and isolates that make text display in another order than it reads (CVE-2021-42574).
_FORBIDDEN_CLASS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_FORBIDDEN = re.compile(f"[{_FORBIDDEN_CLASS}]")
_BREAKS = re.compile(r"\r\n|\r|\n")
# The same characters as pyarrow (RE2) writes them; tab, CR and LF are legitimate inside a cell.
_FORBIDDEN_RE2 = (
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x{9f}\x{2028}\x{2029}\x{202a}-\x{202e}\x{2066}-\x{2069}]"
)
# Bytes that are fine in text by themselves: tab, LF, CR, printable ASCII, and every byte of a
# multi-byte UTF-8 character (those are checked as characters).
_TEXT_BYTES = bytes([9, 10, 13, *range(0x20, 0x7F), *range(0x80, 0x100)])


def _describe_char(ch: str) -> str:
    code = ord(ch)
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        kind = "a bidirectional-text control"
    elif code in (0x2028, 0x2029):
        kind = "a Unicode line separator"
    else:
        kind = "a control character"
    name = unicodedata.name(ch, "")
    return f"{kind} U+{code:04X}" + (f" ({name})" if name else "")


_FORBIDDEN_EXPECTED = (
    "printable text (tab is allowed; control characters and bidirectional overrides are not, "
    "as they can make a text display differently from what it says)"
)


def _sniff_binary(raw: bytes) -> tuple[str, str] | None:
    head = raw[:6]
    for magic, what, action in _BINARY_FORMATS:
        if head.startswith(magic):
            if magic == b"BZh" and not (len(head) > 3 and head[3:4].isdigit()):
                continue
            return what, action
    return None


def _line_col_bytes(raw: bytes, pos: int) -> tuple[int, int]:
    """1-based line and character column of byte offset ``pos`` (CRLF, CR and LF end lines)."""
    prefix = raw[:pos]
    line = prefix.count(b"\n") + prefix.count(b"\r") - prefix.count(b"\r\n") + 1
    start = max(prefix.rfind(b"\n"), prefix.rfind(b"\r")) + 1
    column = len(prefix[start:].decode("utf-8", errors="replace")) + 1
    return line, column


def _line_col_text(text: str, pos: int) -> tuple[int, int]:
    prefix = text[:pos]
    line = len(_BREAKS.findall(prefix)) + 1
    start = max(prefix.rfind("\n"), prefix.rfind("\r")) + 1
    return line, pos - start + 1


_MAX_PLACED = 1000  # forbidden characters placed by line and column; the rest are only counted


def _is_bidi(ch: str) -> bool:
    return "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069"


def _forbidden_in(text: str) -> tuple[list[tuple[int, int, str]], int]:
    """(line, column, character) of the first forbidden characters, and how many more there are."""
    matches = _FORBIDDEN.finditer(text)
    first = [m for _, m in zip(range(_MAX_PLACED), matches, strict=False)]
    if not first:
        return [], 0
    more = sum(1 for _ in matches)
    ends = [m.end() for m in _BREAKS.finditer(text, 0, first[-1].start())]
    out = []
    for m in first:
        line = bisect.bisect_right(ends, m.start())
        start = ends[line - 1] if line else 0
        out.append((line + 1, m.start() - start + 1, m.group()))
    return out, more


def _first_bad_utf8(raw: bytes) -> tuple[int, str] | None:
    """Byte offset and reason of the first byte that is not UTF-8, decoding in chunks.

    Chunks keep memory flat: decoding a 200 MB table at once makes a string of up to 800 MB.
    """
    if raw.isascii():
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    chunk = 1 << 20
    for offset in range(0, len(view), chunk):
        piece = view[offset : offset + chunk]
        final = offset + chunk >= len(view)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(piece, final)
        except UnicodeDecodeError as exc:
            return offset - pending + exc.start, exc.reason
    return None


def _plain_text(raw: bytes, rel_path: str, findings: list[Finding]) -> bytes | None:
    """The file's bytes without a UTF-8 byte-order mark, or ``None`` (with a finding) when the
    file is not UTF-8 text: compressed, binary, UTF-16 or with bytes that are not UTF-8."""
    sniffed = _sniff_binary(raw)
    if sniffed is not None:
        what, action = sniffed
        findings.append(Finding(rel_path, None, "", what, f"plain UTF-8 text ({action})"))
        return None
    body = raw[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else raw
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, column = _line_col_bytes(raw, nul)
        findings.append(
            Finding(
                rel_path,
                line,
                "",
                "binary data (a NUL byte)",
                "plain UTF-8 text",
                column=column,
            )
        )
        return None
    bad = _first_bad_utf8(body)
    if bad is not None:
        pos, reason = bad
        pos += len(raw) - len(body)
        line, column = _line_col_bytes(raw, pos)
        findings.append(
            Finding(
                rel_path,
                line,
                "",
                f"bytes that are not UTF-8 (byte 0x{raw[pos]:02x}: {reason})",
                "UTF-8 text (re-save the file as UTF-8; Latin-1 and Windows-1252 are not accepted)",
                column=column,
            )
        )
        return None
    return body


class _Capped:
    """Adds findings of one kind to a list, at most :data:`MAX_FINDINGS_PER_KIND`, then counts."""

    def __init__(self, findings: list[Finding], path: str, what: str):
        self.findings, self.path, self.what = findings, path, what
        self.count = 0

    def add(self, finding: Finding) -> None:
        self.count += 1
        if self.count <= MAX_FINDINGS_PER_KIND:
            self.findings.append(finding)

    def close(self, expected: str, uncounted: int = 0) -> None:
        """Add one finding counting those not listed (and ``uncounted`` never added)."""
        self.count += uncounted
        if self.count > MAX_FINDINGS_PER_KIND:
            more = self.count - min(self.count - uncounted, MAX_FINDINGS_PER_KIND)
            self.findings.append(
                Finding(self.path, None, "", f"{more} more {self.what} not listed", expected)
            )


# --------------------------------------------------------------------------- YAML


@dataclass
class YamlDocument:
    """A parsed YAML file: its data, and the line of every key path in it.

    ``reported`` holds the key paths read_yaml already made a finding for (an impossible date,
    an integer too long to read), so :func:`validate_model` does not report the same value again.
    """

    path: str
    data: Any
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)
    reported: set[tuple[Any, ...]] = field(default_factory=set)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """Line of the deepest known prefix of ``loc`` (pydantic's error location)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


class _Refused(Exception):
    """A YAML construct pmpath will not read; stops composing at once (nothing is expanded)."""

    def __init__(self, mark: Any, found: str, expected: str):
        super().__init__(found)
        self.mark, self.found, self.expected = mark, found, expected


class _Composer(Composer):
    """PyYAML's composer, refusing anchors, aliases and deep nesting as the events arrive."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if type(event) is ScalarEvent and event.anchor is None and not self.yaml_path_resolvers:
            # most nodes: PyYAML's compose_node and compose_scalar_node in one call (without
            # path resolvers, descending and ascending the resolver does nothing)
            self.get_event()
            tag = event.tag
            if tag is None or tag == "!":
                tag = self.resolve(ScalarNode, event.value, event.implicit)
            return ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        if isinstance(event, AliasEvent):
            raise _Refused(
                event.start_mark,
                f"a YAML alias (*{event.anchor})",
                "values written out in full (dossiers do not use YAML anchors and aliases)",
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(
                event.start_mark,
                f"a YAML anchor (&{anchor})",
                "values written out in full (dossiers do not use YAML anchors and aliases)",
            )
        if not isinstance(event, SequenceStartEvent | MappingStartEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _Refused(
                    event.start_mark,
                    f"YAML nested more than {MAX_YAML_DEPTH} levels deep",
                    f"at most {MAX_YAML_DEPTH} levels of nested mappings and lists",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Constructor(SafeConstructor):
    """SafeConstructor that notes duplicated keys and unreadable values instead of failing.

    Each note is (node, found, expected); read_yaml adds the line and the key path. An unreadable
    value is kept as the text written, so validation can go on.
    """

    def __init__(self) -> None:
        super().__init__()
        self.duplicates: list[tuple[Node, str, str]] = []
        self.unreadable: list[tuple[Node, str, str]] = []

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # an unhashable key: SafeConstructor reports it
                    continue
                if first is not key_node:
                    self.duplicates.append(
                        (
                            key_node,
                            f"the key {key_node.value!r} a second time "
                            f"(first on line {first.start_mark.line + 1})",
                            "each key once in a mapping (YAML keeps only the last value)",
                        )
                    )
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:  # 2025-02-30
            self.unreadable.append(
                (
                    node,
                    f"{node.value!r}, which is not a calendar date ({exc})",
                    "a valid date written YYYY-MM-DD (put text in quotes)",
                )
            )
            return node.value

    def construct_yaml_int(self, node: ScalarNode) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            self.unreadable.append(
                (node, f"an integer of {len(node.value):,} characters", "a number of ordinary size")
            )
            return node.value


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)
_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)


class _PythonLoader(Reader, Scanner, Parser, _Composer, _Constructor, Resolver):
    """PyYAML's pure-Python scanner and parser, feeding the checking composer above."""

    def __init__(self, stream: str):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Composer.__init__(self)
        _Constructor.__init__(self)
        Resolver.__init__(self)


if _EventSource is not None:

    class _LibyamlLoader(_Composer, _EventSource, _Constructor, Resolver):  # type: ignore[misc, valid-type]
        """libyaml's scanner and parser (C), feeding the checking composer above."""

        def __init__(self, stream: str):
            _EventSource.__init__(self, stream)
            _Composer.__init__(self)
            _Constructor.__init__(self)
            Resolver.__init__(self)

    _Loader: type = _LibyamlLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _Loader = _PythonLoader


def _describe_document(data: Any) -> str:
    if data is None:
        return "an empty document"
    if isinstance(data, list):
        return "a list"
    if isinstance(data, str):
        return "a single text"
    return f"a single value ({type(data).__name__})"


def _walk(
    node: Node,
    prefix: tuple[Any, ...],
    doc: YamlDocument,
    unreadable: set[int],
    scalars: list[tuple[tuple[Any, ...], ScalarNode]],
) -> None:
    """Index the line of every key path, and collect the scalars with their key paths.

    Recursion is bounded by MAX_YAML_DEPTH, which the composer enforced.
    """
    doc.lines.setdefault(prefix, node.start_mark.line + 1)
    if id(node) in unreadable:
        doc.reported.add(prefix)
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            path = (*prefix, key)
            if isinstance(key_node, ScalarNode):
                scalars.append((path, key_node))
            _walk(value_node, path, doc, unreadable, scalars)
            doc.lines[path] = key_node.start_mark.line + 1
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*prefix, i), doc, unreadable, scalars)
    elif isinstance(node, ScalarNode):
        scalars.append((prefix, node))


def _field_name(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def _check_yaml_scalars(
    doc: YamlDocument,
    scalars: list[tuple[tuple[Any, ...], ScalarNode]],
    raw_hits: list[tuple[int, int, str]],
    unlisted: int,
    findings: list[Finding],
) -> None:
    """Texts too long, and forbidden characters, named by key path where a value holds them."""
    rel_path = doc.path
    pending = {(line, col): ch for line, col, ch in raw_hits}
    last_placed = raw_hits[-1][0] if raw_hits else 0  # beyond it, characters are only counted
    chars = _Capped(findings, rel_path, "control or bidirectional characters")
    for path, node in scalars:
        value = node.value
        if len(value) > MAX_TEXT_LENGTH:
            findings.append(
                Finding(
                    rel_path,
                    node.start_mark.line + 1,
                    _field_name(path),
                    f"a text of {len(value):,} characters",
                    f"at most {MAX_TEXT_LENGTH:,} characters",
                )
            )
        if not _FORBIDDEN.search(value):
            continue
        first, last = node.start_mark.line + 1, node.end_mark.line + 1
        here = sorted(k for k in pending if first <= k[0] <= last)
        for key in here:
            ch = pending.pop(key)
            chars.add(
                Finding(
                    rel_path,
                    key[0],
                    _field_name(path),
                    _describe_char(ch),
                    _FORBIDDEN_EXPECTED,
                    column=key[1],
                )
            )
        if not here and not (unlisted and first > last_placed):
            # written as an escape ("\u202e") inside a double-quoted string
            ch = _FORBIDDEN.search(value).group()  # type: ignore[union-attr]
            chars.add(
                Finding(
                    rel_path,
                    first,
                    _field_name(path),
                    f"{_describe_char(ch)} (written as an escape)",
                    _FORBIDDEN_EXPECTED,
                    column=node.start_mark.column + 1,
                )
            )
    for (line, col), ch in sorted(pending.items()):  # in comments
        chars.add(Finding(rel_path, line, "", _describe_char(ch), _FORBIDDEN_EXPECTED, column=col))
    chars.close(_FORBIDDEN_EXPECTED, unlisted)


def read_yaml(raw: bytes, rel_path: str, findings: list[Finding]) -> YamlDocument | None:
    """Parse one YAML document; every problem becomes a finding with its line.

    Returns ``None`` when the file cannot be read as a mapping (not UTF-8 text, malformed YAML,
    anchors or aliases, nesting deeper than :data:`MAX_YAML_DEPTH`, control characters), and the
    document otherwise, even when findings were made about its values (duplicated keys, texts
    over :data:`MAX_TEXT_LENGTH`, bidirectional overrides, impossible dates), so that validation
    can go on and report everything at once.
    """
    body = _plain_text(raw, rel_path, findings)
    if body is None:
        return None
    text = body.decode("utf-8")
    raw_hits, unlisted = _forbidden_in(text)
    breaking = _Capped(findings, rel_path, "control characters")
    for line, col, ch in raw_hits:
        if not _is_bidi(ch):
            breaking.add(
                Finding(rel_path, line, "", _describe_char(ch), _FORBIDDEN_EXPECTED, column=col)
            )
    if breaking.count:  # libyaml refuses these, or counts them as line breaks
        breaking.close(_FORBIDDEN_EXPECTED, unlisted)
        return None

    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as refusal:
        findings.append(
            Finding(
                rel_path,
                refusal.mark.line + 1,
                "",
                refusal.found,
                refusal.expected,
                column=refusal.mark.column + 1,
            )
        )
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{problem} ({exc.context}"
            if exc.context_mark is not None and exc.context_mark is not mark:
                problem += f" on line {exc.context_mark.line + 1}"
            problem += ")"
        if isinstance(exc, yaml.constructor.ConstructorError):  # a tag such as !!python/object
            found = f"a YAML value pmpath does not read: {problem.removeprefix('found ')}"
            expected = "plain YAML values: text, numbers, dates, true/false, lists and mappings"
        else:
            found = f"malformed YAML: {problem.removeprefix('found ')}"
            expected = "well-formed YAML (see docs/dossier.md for the layout)"
        findings.append(
            Finding(
                rel_path,
                mark.line + 1 if mark is not None else None,
                "",
                found,
                expected,
                column=mark.column + 1 if mark is not None else None,
            )
        )
        return None
    except yaml.YAMLError as exc:  # ReaderError: a character libyaml will not read
        position = getattr(exc, "position", None)
        line, col = _line_col_text(text, position) if isinstance(position, int) else (None, None)
        findings.append(
            Finding(
                rel_path,
                line,
                "",
                f"a character YAML does not accept ({str(exc).splitlines()[0]})",
                "plain UTF-8 text",
                column=col,
            )
        )
        return None
    finally:
        loader.dispose()

    doc = YamlDocument(rel_path, data)
    scalars: list[tuple[tuple[Any, ...], ScalarNode]] = []
    if node is not None:
        _walk(node, (), doc, {id(n) for n, _, _ in loader.unreadable}, scalars)
        paths = {id(n): p for p, n in scalars}
        for problem_node, found, expected in loader.duplicates + loader.unreadable:
            findings.append(
                Finding(
                    rel_path,
                    problem_node.start_mark.line + 1,
                    _field_name(paths.get(id(problem_node), ())),
                    found,
                    expected,
                    column=problem_node.start_mark.column + 1,
                )
            )
    _check_yaml_scalars(doc, scalars, raw_hits, unlisted, findings)
    if not isinstance(data, dict):
        findings.append(
            Finding(
                rel_path, 1, "", _describe_document(data), "a mapping of fields (key: value lines)"
            )
        )
        return None
    return doc


# --------------------------------------------------------------------------- pydantic models


_SHORT = reprlib.Repr()  # keyword arguments need Python 3.12
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist = 2, 4, 4
_SHORT.maxstring = _SHORT.maxother = 50


def _describe_input(value: Any) -> str:
    """A short rendering of a value (cheap for a 10 MB text or a whole document)."""
    text = _SHORT.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


M = TypeVar("M", bound=BaseModel)

_UNION_TAGS = frozenset({"longitudinal", "events", "time_to_event"})


def _file_location(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the tags pydantic adds for discriminated unions: they are not keys in the file."""
    return tuple(
        p
        for i, p in enumerate(loc)
        if not (p in _UNION_TAGS and i > 0 and isinstance(loc[i - 1], int))
    )


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation may hold once Optional, Annotated and unions are taken apart."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [t for a in typing.get_args(annotation) for t in _unwrap(a)]
    return [annotation]


def _model_tag(model: type[BaseModel]) -> set[Any]:
    kind = model.model_fields.get("kind")
    if kind is None:
        return set()
    return set(typing.get_args(kind.annotation))


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that holds the last key of ``loc`` (pydantic's location), if one does."""
    current: list[Any] = [model]
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        models = [t for t in current if isinstance(t, type) and issubclass(t, BaseModel)]
        if len(models) > 1 and isinstance(part, str):  # a discriminated union: loc holds the tag
            tagged = [m for m in models if part in _model_tag(m)]
            if len(tagged) == 1:
                current = tagged
                continue
        if len(models) == 1 and isinstance(part, str):
            info = models[0].model_fields.get(part)
            if info is None:
                info = next((f for f in models[0].model_fields.values() if f.alias == part), None)
            if info is None:
                return None
            current = _unwrap(info.annotation)
            continue
        containers = [t for t in current if typing.get_origin(t) in (list, tuple, dict, set)]
        if len(containers) != 1:
            return None
        args = typing.get_args(containers[0])
        if not args:
            return None
        current = _unwrap(args[-1] if typing.get_origin(containers[0]) is dict else args[0])
    models = [t for t in current if isinstance(t, type) and issubclass(t, BaseModel)]
    return models[0] if len(models) == 1 else None


def _unknown_field(model: type[M], loc: tuple[Any, ...]) -> str:
    holder = _model_at(model, loc[:-1])
    if holder is None:
        return "one of the schema's fields (see `pmpath schema`)"
    names = [f.alias or name for name, f in holder.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}one of {', '.join(names)}"


_SHOULD = re.compile(r"^[A-Z]\w*(?: \w+)? should (?:be|have) ")
_EXPECTED = re.compile(r"(?:^|[\s,:;])expected ")


def pydantic_expected(message: str) -> str:
    """Pydantic's message as what was expected: 'Input should be a valid integer' -> 'a valid integer'."""
    message = message.removeprefix("Value error, ")
    for prefix, replacement in (
        ("Input should be ", ""),
        ("String should match ", "text matching "),
        ("String should have ", "text with "),
    ):
        if message.startswith(prefix):
            return replacement + message.removeprefix(prefix)
    return message


def _split_message(msg: str, value: Any) -> tuple[str, str]:
    """A pydantic or validator message as (found, expected).

    Validators in model.py write "found X, expected Y"; pydantic writes "Input should be Y".
    """
    if msg.startswith("found ") and ", expected " in msg:
        found, expected = msg[len("found ") :].split(", expected ", 1)
        return found, expected
    should = _SHOULD.match(msg)
    if should:
        return _describe_input(value), msg[should.end() :]
    expected_at = _EXPECTED.search(msg)
    if expected_at:
        return _describe_input(value), msg[expected_at.end() :]
    return msg, ""


def validate_model(model: type[M], doc: YamlDocument, findings: list[Finding]) -> M | None:
    """Validate ``doc`` against ``model``; every pydantic error becomes a finding with its line.

    Errors at a key path read_yaml already reported (``doc.reported``) are not repeated.
    """
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            loc_keys = _file_location(loc)
            if any(loc_keys[: len(p)] == p for p in doc.reported):
                continue
            field_name = _field_name(loc_keys)
            msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
            value = err.get("input")
            if err["type"] == "missing":
                found, expected = "nothing", "this required field"
            elif err["type"] == "extra_forbidden":
                found = f"an unknown field {_describe_input(loc_keys[-1] if loc_keys else value)}"
                expected = _unknown_field(model, loc)
            else:
                found, expected = _split_message(msg, value)
            findings.append(Finding(doc.path, doc.line_of(loc_keys), field_name, found, expected))
        return None


# --------------------------------------------------------------------------- tables


def _string_dtype() -> pd.StringDtype:
    """pandas' default text dtype (``str``, pyarrow-backed, NaN as the missing value)."""
    try:
        return pd.StringDtype("pyarrow", na_value=np.nan)
    except TypeError:  # pragma: no cover - pandas < 2.3
        return pd.StringDtype("pyarrow")


_STRING = _string_dtype()


@dataclass(frozen=True, eq=False)  # arrays do not compare as one truth value
class EncodedColumn:
    """A column as values and, for each row, the index of its value: the column is ``values[indices]``.

    A large table's text columns are read this way (arrow's dictionary encoding: each distinct
    text once), so that work per cell (stripping, parsing a number, looking a text up) is done once
    per distinct text and taken to the rows by the indices; what is computed per value keeps the
    indices (:meth:`derive`). ``indices`` is ``None`` for a column held as is, one value per row
    (a small table's). ``values`` need not be distinct.
    """

    values: np.ndarray
    indices: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.values) if self.indices is None else len(self.indices)

    def take(self, per_value: np.ndarray) -> np.ndarray:
        """Something computed for each of :attr:`values`, for each row."""
        return per_value if self.indices is None else per_value[self.indices]

    def decode(self) -> np.ndarray:
        """The column, one value per row."""
        return self.take(self.values)

    def at(self, row: int) -> Any:
        """The value of one row."""
        return self.values[row if self.indices is None else self.indices[row]]

    def derive(self, values: np.ndarray) -> EncodedColumn:
        """The column of ``values[i]`` where this column has ``self.values[i]``."""
        return EncodedColumn(values, self.indices)

    def codes(self) -> tuple[np.ndarray, int]:
        """One integer per row, the same for rows of equal values (NaN equal to NaN), and how many."""
        codes, uniques = pd.factorize(self.values, use_na_sentinel=False)
        return self.take(codes), len(uniques)


class Table:
    """A data file read as text: its columns (every cell text, empty cells ``""``) and where each
    row came from.

    ``cells`` maps each column name to an :class:`EncodedColumn` of ``str`` (dictionary-encoded
    for a large table); ``columns`` maps it to an object array of ``str`` and ``frame`` is the same
    as a pandas frame of text, each built when first asked for (the checks work on ``cells``).
    ``row_lines[i]`` is the 1-based physical line on which row ``i`` starts for CSV/TSV
    (``row_kind == "line"``: blank lines and a header after leading blank lines counted, CRLF
    counted once, a quoted cell spanning lines counted in full), and the 1-based row number for
    Parquet (``row_kind == "row"``). ``header_line`` is the line of the column names (``None``
    for Parquet and for an empty file).
    """

    def __init__(
        self,
        path: str,
        frame: pd.DataFrame | dict[str, np.ndarray | EncodedColumn],
        row_lines: Any,
        header_line: int | None = 1,
        row_kind: Literal["line", "row"] = "line",
    ) -> None:
        self.path = path
        self.row_lines = np.asarray(row_lines, dtype=np.int64)  # also when given a list
        self.header_line = header_line
        self.row_kind = row_kind
        self._columns: dict[str, np.ndarray] | None = None
        if isinstance(frame, pd.DataFrame):
            self._frame: pd.DataFrame | None = frame
            self._columns = {
                str(c): frame[c].to_numpy(dtype=object, na_value="") for c in frame.columns
            }
            self.cells = {name: EncodedColumn(col) for name, col in self._columns.items()}
        else:
            self._frame = None
            self.cells = {
                name: col if isinstance(col, EncodedColumn) else EncodedColumn(col)
                for name, col in frame.items()
            }

    @property
    def columns(self) -> dict[str, np.ndarray]:
        if self._columns is None:
            self._columns = {name: col.decode() for name, col in self.cells.items()}
        return self._columns

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = pd.DataFrame(
                {name: pd.Series(col, dtype=_STRING) for name, col in self.columns.items()}
            )
        return self._frame

    def __repr__(self) -> str:
        return f"Table({self.path!r}, {len(self.row_lines)} rows, columns {list(self.cells)})"

    def line(self, i: int) -> int:
        return int(self.row_lines[i])

    def where(self, i: int) -> str:
        """``line 12`` or ``row 12``: how to name row ``i`` in a message."""
        return f"{self.row_kind} {self.line(i)}"


_TSV_SUFFIXES = frozenset({".tsv", ".tab"})
_CHUNK = 1 << 24


def _positions(a: np.ndarray, byte: int) -> np.ndarray:
    """Offsets of ``byte`` in ``a``, found in chunks to keep the temporary masks small."""
    parts = [np.flatnonzero(a[i : i + _CHUNK] == byte) + i for i in range(0, len(a), _CHUNK)]
    return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, dtype=np.int64)


def _line_structure(buf: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """Start offsets of the physical lines, whether each is blank, and the longest line's bytes.

    CRLF, LF and a lone CR each end a line, as in pyarrow's reader and in editors.
    """
    a = np.frombuffer(buf, dtype=np.uint8)
    n = len(a)
    lf = _positions(a, 10)
    ends, nexts = lf, lf + 1
    cr_count = buf.count(b"\r") if buf.find(b"\r") >= 0 else 0
    if cr_count:
        ends = lf - ((lf > 0) & (a[np.maximum(lf - 1, 0)] == 13))
        if cr_count != buf.count(b"\r\n"):  # old Mac line ends, or a stray CR
            cr = _positions(a, 13)
            lone = cr[(cr + 1 >= n) | (a[np.minimum(cr + 1, n - 1)] != 10)]
            ends = np.concatenate([ends, lone])
            nexts = np.concatenate([nexts, lone + 1])
            order = np.argsort(nexts, kind="stable")
            ends, nexts = ends[order], nexts[order]
    starts = np.concatenate([np.zeros(1, dtype=np.int64), nexts])
    del nexts
    ends = np.concatenate([ends, np.full(1, n, dtype=np.int64)])
    if starts[-1] >= n:  # the file ends with a line break: no line after it
        starts, ends = starts[:-1], ends[:-1]
    lengths = ends - starts
    return starts, lengths <= 0, int(lengths.max(initial=0))


def _record_lines_by_csv(text: str, sep: str) -> np.ndarray | None:
    """First line of every record as Python's csv module reads them (the slow, sure way)."""
    out: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    before = 0
    try:
        for row in reader:
            if row:
                out.append(before + 1)
            before = reader.line_num
    except csv.Error:
        return None
    return np.asarray(out, dtype=np.int64)


def _record_lines(
    starts: np.ndarray, blank: np.ndarray, extra: np.ndarray | None, n_records: int
) -> np.ndarray | None:
    """1-based first line of each record, from the physical lines and the line breaks inside
    each record's quoted cells (``extra``); ``None`` if they cannot account for the records."""
    nonblank = np.flatnonzero(~blank)
    if extra is None or not extra.any():
        return nonblank + 1 if len(nonblank) == n_records else None
    out = np.empty(n_records, dtype=np.int64)
    j = prev = 0
    for r in np.flatnonzero(extra):
        count = r - prev
        if j + count >= len(nonblank):
            return None
        out[prev:r] = nonblank[j : j + count]
        j += count
        out[r] = nonblank[j]
        j = int(np.searchsorted(nonblank, nonblank[j] + extra[r], side="right"))
        prev = r + 1
    rest = n_records - prev
    if j + rest != len(nonblank):
        return None
    out[prev:] = nonblank[j:]
    return out + 1


def _line_breaks_in(array: pa.ChunkedArray, has_cr: bool) -> np.ndarray:
    """Line breaks (CRLF, LF or CR) in each cell."""
    lf = np.asarray(pc.count_substring(array, "\n").to_numpy(zero_copy_only=False), dtype=np.int64)
    if not has_cr:
        return lf
    cr, crlf = (
        np.asarray(pc.count_substring(array, s).to_numpy(zero_copy_only=False), dtype=np.int64)
        for s in ("\r", "\r\n")
    )
    return lf + cr - crlf


def _first_line(buf: bytes, start: int) -> str:
    """The text of the physical line starting at byte ``start`` (the header's first line)."""
    piece = buf[start : start + (1 << 20)]
    text = codecs.getincrementaldecoder("utf-8")().decode(piece, final=False)
    return _BREAKS.split(text, maxsplit=1)[0]


def _separator_finding(rel_path: str, line: int, header: str, suffix: str) -> Finding | None:
    """One finding for a file separated by another character than its name says."""
    shown = header if len(header) <= 80 else header[:77] + "..."
    if suffix in _TSV_SUFFIXES:
        if "\t" not in header and header.count(",") >= 1:
            return Finding(
                rel_path,
                line,
                "",
                f"a comma-separated file (header {shown!r})",
                "tab-separated values, as the name .tsv says (or rename the file .csv)",
            )
        return None
    if "," in header:
        return None
    if ";" in header:
        return Finding(
            rel_path,
            line,
            "",
            f"a semicolon-separated file (header {shown!r})",
            "comma-separated values (CSV): in Excel, Save As 'CSV UTF-8 (Comma delimited)', "
            "or change the list separator to ','",
        )
    if "\t" in header:
        return Finding(
            rel_path,
            line,
            "",
            f"a tab-separated file (header {shown!r})",
            "comma-separated values (CSV), or name the file .tsv",
        )
    return None


def _read_arrow_csv(
    data: pa.Buffer, sep: str, n_guess: int, quoted: bool
) -> tuple[pa.Table, list[tuple[int, int, int | None, str]]]:
    """Every record, the header as row 0, every column text; ragged records are set aside.

    Columns are named f0, f1, ... and typed as text up to ``n_guess`` (the separators on the
    header's first line, plus one); a header that holds more columns is read a second time.
    """
    ragged: list[tuple[int, int, int | None, str]] = []

    def set_aside(row: Any) -> str:
        ragged.append((row.expected_columns, row.actual_columns, row.number, row.text))
        return "skip"

    def read(types_for: list[str]) -> pa.Table:
        ragged.clear()
        return pa_csv.read_csv(
            data,
            read_options=pa_csv.ReadOptions(use_threads=False, autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(
                delimiter=sep,
                newlines_in_values=quoted,
                ignore_empty_lines=True,
                invalid_row_handler=set_aside,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.large_string() for name in types_for},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,  # checked already, with the line of the first bad byte
            ),
        )

    table = read([f"f{i}" for i in range(n_guess)])
    if any(t != pa.large_string() for t in table.schema.types):  # the header was not what it seemed
        table = read(table.column_names)
    return table, ragged


_SMALL_TABLE = (
    1 << 16
)  # bytes; below this an unquoted table is split in Python (pyarrow's set-up costs more)


def _read_unquoted_small(
    body: bytes, sep: str
) -> tuple[pa.Table, list[tuple[int, int, int | None, str]]]:
    """What :func:`_read_arrow_csv` returns, for a small table without quotes: split in Python.

    Without quotes a record is one line and a field is the text between separators, so this is
    exactly pyarrow's reading (records numbered from 1 among non-blank lines, the header first).
    """
    records: list[list[str]] = []
    ragged: list[tuple[int, int, int | None, str]] = []
    width = None
    number = 0
    for line in re.split(r"\r\n|\r|\n", body.decode("utf-8")):
        if not line:
            continue
        number += 1
        fields = line.split(sep)
        if width is None:
            width = len(fields)
        if len(fields) != width:
            ragged.append((width, len(fields), number, line))
            continue
        records.append(fields)
    columns = list(zip(*records, strict=True)) if records else []
    table = pa.table(
        {f"f{i}": pa.array(col, type=pa.large_string()) for i, col in enumerate(columns)}
    )
    return table, ragged


def _more_below(count: int, kind: str) -> str:
    if count == 0:
        return ""
    return f" ({count:,} more {kind}{'s' if count > 1 else ''} below)"


def _quoted_line_breaks(
    arrow: pa.Table,
    ragged: list[tuple[int, int, int | None, str]],
    kept: np.ndarray | slice,
    n_records: int,
    has_cr: bool,
) -> np.ndarray | None:
    """Line breaks inside each record's quoted cells (all but the first line of the record)."""
    if any(r[2] is None for r in ragged):
        return None
    extra = np.zeros(n_records, dtype=np.int64)
    if arrow.num_rows:
        extra[kept] = sum(_line_breaks_in(c, has_cr) for c in arrow.columns)
    for _, _, number, text in ragged:
        extra[number - 1] = len(_BREAKS.findall(text))  # type: ignore[operator]
    return extra


def _csv_record_lines(
    body: bytes,
    sep: str,
    starts: np.ndarray,
    blank: np.ndarray,
    extra: np.ndarray | None,
    n_records: int,
    numbered: bool,
) -> np.ndarray:
    """1-based first line of each record (header included): from the line structure when it
    accounts for every record, else as Python's csv module reads the file."""
    lines = _record_lines(starts, blank, extra, n_records) if numbered else None
    if lines is None:
        lines = _record_lines_by_csv(body.decode("utf-8"), sep)
    if lines is None or len(lines) != n_records:
        # The two readers disagree on an oddly quoted file: count non-blank lines instead.
        nonblank = np.flatnonzero(~blank) + 1
        lines = nonblank[:n_records]
        if len(lines) < n_records:
            lines = np.concatenate([lines, np.full(n_records - len(lines), lines[-1])])
    return lines


def _cell_checks(
    rel_path: str,
    columns: list[pa.ChunkedArray],
    names: list[str],
    lines: np.ndarray,
    kind: str,
    suspect: bool,
    check_length: bool,
    findings: list[Finding],
) -> None:
    """Too-long cells and forbidden characters, one finding per column (first row, and a count).

    ``suspect`` and ``check_length`` say whether the raw bytes may hold either at all.
    """
    for name, column in zip(names, columns, strict=True):
        if len(column) == 0:
            continue
        if check_length and pc.max(pc.binary_length(column)).as_py() > MAX_CELL_LENGTH:
            long = (
                np.asarray(pc.utf8_length(column).to_numpy(zero_copy_only=False)) > MAX_CELL_LENGTH
            )
            rows = np.flatnonzero(long)
            if len(rows):
                more = _more_below(len(rows) - 1, kind)
                length = pc.utf8_length(column[int(rows[0])]).as_py()
                findings.append(
                    Finding(
                        rel_path,
                        int(lines[rows[0]]),
                        name,
                        f"a cell of {length:,} characters{more}",
                        f"at most {MAX_CELL_LENGTH:,} characters in a cell",
                    )
                )
        if not suspect:
            continue
        hit = np.asarray(
            pc.match_substring_regex(column, _FORBIDDEN_RE2).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        rows = np.flatnonzero(hit)
        if len(rows):
            value = column[int(rows[0])].as_py()
            ch = _FORBIDDEN.search(value).group()  # type: ignore[union-attr]
            more = _more_below(len(rows) - 1, kind)
            findings.append(
                Finding(
                    rel_path,
                    int(lines[rows[0]]),
                    name,
                    f"{_describe_char(ch)}{more}",
                    _FORBIDDEN_EXPECTED,
                )
            )


def _suspect_bytes(data: bytes) -> bool:
    """Whether the bytes may hold a forbidden character: a quick pass, as most tables hold none.

    Looks for C0 controls and DEL, and for the UTF-8 forms of the C1 controls (C2 80-9F), the
    line separators and bidirectional controls (E2 80 A8-AE, E2 81 A6-A9).
    """
    if data.translate(None, _TEXT_BYTES):
        return True
    if data.isascii():
        return False
    a = np.frombuffer(data, dtype=np.uint8)
    n = len(a)
    c2 = _positions(a, 0xC2)
    if (
        len(c2)
        and ((a[np.minimum(c2 + 1, n - 1)] >= 0x80) & (a[np.minimum(c2 + 1, n - 1)] <= 0x9F)).any()
    ):
        return True
    e2 = _positions(a, 0xE2)
    if not len(e2):
        return False
    second, third = a[np.minimum(e2 + 1, n - 1)], a[np.minimum(e2 + 2, n - 1)]
    return bool(
        (
            ((second == 0x80) & (third >= 0xA8) & (third <= 0xAE))
            | ((second == 0x81) & (third >= 0xA6) & (third <= 0xA9))
        ).any()
    )


_RELEASE_FROM = 1 << 24  # bytes of table text from which arrow's freed memory is returned at once
_ENCODE_FROM = 4096  # rows; from here on a column's distinct texts are made into str once each


def _text_column(col: pa.ChunkedArray) -> EncodedColumn:
    """A column of ``str``; a large column as its distinct texts and each row's index into them.

    A registry table of millions of rows repeats its subject ids, endpoints and many values:
    one Python string per cell would take gigabytes, one per distinct text and an index per
    cell a few tens of megabytes, and the checks then look at each distinct text once.
    """
    if len(col) < _ENCODE_FROM:
        return EncodedColumn(np.asarray(col.to_numpy(), dtype=object))
    encoded = pc.dictionary_encode(
        col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    )
    texts = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    return EncodedColumn(texts, encoded.indices.to_numpy(zero_copy_only=False))


def _frame(columns: list[pa.ChunkedArray], names: list[str]) -> dict[str, EncodedColumn]:
    return {name: _text_column(col) for name, col in zip(names, columns, strict=True)}


def _duplicate_columns(rel_path: str, names: list[str], line: int | None) -> list[Finding]:
    out = []
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        seen.setdefault(name, []).append(i + 1)
    for name, positions in seen.items():
        if len(positions) > 1:
            out.append(
                Finding(
                    rel_path,
                    line,
                    name,
                    f"the column name {name!r} {len(positions)} times "
                    f"(columns {', '.join(map(str, positions))})",
                    "each column name once",
                )
            )
    return out


def _read_parquet(raw: bytes, rel_path: str, findings: list[Finding]) -> Table | None:
    try:
        arrow = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        findings.append(
            Finding(
                rel_path,
                None,
                "",
                f"a file Parquet cannot read ({first})",
                "a Parquet file (or name a comma-separated file .csv)",
            )
        )
        return None
    names = [str(n).strip() for n in arrow.column_names]
    duplicates = _duplicate_columns(rel_path, names, None)
    if duplicates:
        findings.extend(duplicates)
        return None
    columns = []
    for name, column in zip(names, arrow.columns, strict=True):
        try:
            text = (
                column if column.type == pa.large_string() else pc.cast(column, pa.large_string())
            )
        except (pa.ArrowException, ValueError):
            findings.append(
                Finding(
                    rel_path,
                    None,
                    name,
                    f"a column of type {column.type}",
                    "plain values (text, numbers, dates or true/false)",
                )
            )
            return None
        columns.append(pc.fill_null(text, ""))
    lines = np.arange(1, arrow.num_rows + 1, dtype=np.int64)
    _cell_checks(rel_path, columns, names, lines, "row", True, True, findings)
    return Table(rel_path, _frame(columns, names), lines, header_line=None, row_kind="row")


def read_table(raw: bytes, rel_path: str, findings: list[Finding]) -> Table | None:
    """Read a CSV (``,``), TSV (``.tsv``/``.tab``: tab) or Parquet file into a frame of text.

    The first non-blank line holds the column names. A UTF-8 byte-order mark and CRLF line ends
    are accepted; blank lines are skipped. An empty file is a table of no columns and no rows,
    a header alone one of no rows: whether that is a problem is the loader's to say.

    Returns ``None`` (with findings) when the file cannot be read as a table: not UTF-8 text, a
    separator other than the name says, a column name given twice. Rows with the wrong number
    of fields are findings (with their lines) and are left out of the table; texts over
    :data:`MAX_CELL_LENGTH` and forbidden characters are findings on a table that is returned.
    """
    suffix = PurePosixPath(rel_path).suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(raw, rel_path, findings)
    body = _plain_text(raw, rel_path, findings)
    if body is None:
        return None
    sep = "\t" if suffix in _TSV_SUFFIXES else ","

    starts, blank, longest = _line_structure(body)
    nonblank = np.flatnonzero(~blank)
    if len(nonblank) == 0:
        return Table(rel_path, {}, np.empty(0, dtype=np.int64), header_line=None)
    header_line = int(nonblank[0]) + 1
    first_line = _first_line(body, int(starts[nonblank[0]]))
    wrong_sep = _separator_finding(rel_path, header_line, first_line, suffix)
    if wrong_sep is not None:
        findings.append(wrong_sep)
        return None

    quoted = body.find(b'"') >= 0
    data = pa.py_buffer(body)
    if body[-1:] not in (b"\n", b"\r"):  # pyarrow needs a line end to take a lone header
        data = pa.py_buffer(body + b"\n")
    try:
        if not quoted and len(body) < _SMALL_TABLE:
            arrow, ragged = _read_unquoted_small(body, sep)
        else:
            arrow, ragged = _read_arrow_csv(data, sep, first_line.count(sep) + 1, quoted)
    except (pa.ArrowException, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        findings.append(
            Finding(
                rel_path,
                None,
                "",
                f"a file that cannot be read as a table ({first})",
                "comma- or tab-separated text (see docs/dossier.md)",
            )
        )
        return None

    n_records = arrow.num_rows + len(ragged)
    ragged_index = np.asarray([r[2] - 1 for r in ragged if r[2] is not None], dtype=np.int64)
    kept: np.ndarray | slice = slice(None)
    if len(ragged_index):
        mask = np.ones(n_records, dtype=bool)
        mask[ragged_index] = False
        kept = mask
    # Each record starts on a non-blank line and ends on one; with as many non-blank lines as
    # records, no record spans lines and there is no need to look into the cells.
    spanning = quoted and int((~blank).sum()) != n_records
    has_cr = body.find(b"\r") >= 0
    extra = _quoted_line_breaks(arrow, ragged, kept, n_records, has_cr) if spanning else None
    record_lines = _csv_record_lines(
        body, sep, starts, blank, extra, n_records, len(ragged_index) == len(ragged)
    )

    if (len(ragged_index) and ragged_index.min() == 0) or arrow.num_rows == 0:
        findings.append(
            Finding(
                rel_path,
                header_line,
                "",
                "a header line that could not be read",
                "column names separated by " + ("tabs" if sep == "\t" else "commas"),
            )
        )
        return None

    names = [str(arrow.column(i)[0].as_py()).strip() for i in range(arrow.num_columns)]
    duplicates = _duplicate_columns(rel_path, names, header_line)
    if duplicates:
        findings.extend(duplicates)
        return None

    fields_word = "tab-separated" if sep == "\t" else "comma-separated"
    rows = _Capped(findings, rel_path, "rows with the wrong number of fields")
    for expected_n, actual_n, number, text in ragged:
        line = int(record_lines[number - 1]) if number is not None else None
        spans = len(_BREAKS.findall(text))
        found = f"{actual_n} {fields_word} field{'s' if actual_n != 1 else ''}"
        if spans and text.count('"') % 2:
            found += f' and a quote (") opened but not closed, running over {spans + 1} lines'
        rows.add(Finding(rel_path, line, "", found, f"{expected_n}, one per column of the header"))
    rows.close("one field per column of the header in every row")

    lines = record_lines[kept]
    columns = [c.slice(1) for c in arrow.columns]
    suspect = _suspect_bytes(body)
    # A cell is no longer than its line unless a quoted cell holds line breaks.
    check_length = longest > MAX_CELL_LENGTH or (extra is not None and bool(extra.any()))
    header = [c.slice(0, 1) for c in arrow.columns]
    _cell_checks(rel_path, header, names, lines[:1], "column name", suspect, check_length, findings)
    row_lines = lines[1:]
    _cell_checks(rel_path, columns, names, row_lines, "row", suspect, check_length, findings)
    table = Table(rel_path, _frame(columns, names), row_lines, header_line=header_line)
    if len(body) >= _RELEASE_FROM:
        # arrow's allocator keeps freed pages for reuse; a large table's would stay resident
        del arrow, columns, header, data
        pa.default_memory_pool().release_unused()
    return table
