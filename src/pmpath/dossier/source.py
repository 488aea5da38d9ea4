"""Reading dossier files with their line numbers, so every finding can say `file:line: field`.

YAML is parsed twice from the same bytes: once to Python objects, once to the node tree that
remembers where each key and value started. Tables are read as text first and typed per cell.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from pmpath.errors import Finding


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class YamlDocument:
    """A parsed YAML file: its data, and the line of every key path in it."""

    path: str
    data: Any
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """Line of the deepest known prefix of ``loc`` (pydantic's error location)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


def _index_lines(node: yaml.Node, prefix: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out.setdefault(prefix, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*prefix, key)] = key_node.start_mark.line + 1
            _index_lines(value_node, (*prefix, key), out)
            out[(*prefix, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*prefix, i), out)


def read_yaml(raw: bytes, rel_path: str, findings: list[Finding]) -> YamlDocument | None:
    """Parse YAML; a syntax error becomes a finding with the line it was found on."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        findings.append(
            Finding(
                rel_path,
                None,
                "",
                f"found bytes that are not UTF-8 ({exc.reason}), expected UTF-8 text",
            )
        )
        return None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        findings.append(Finding(rel_path, line, "", f"malformed YAML: {problem}"))
        return None
    doc = YamlDocument(rel_path, data)
    if node is not None:
        _index_lines(node, (), doc.lines)
    if not isinstance(data, dict):
        findings.append(
            Finding(rel_path, 1, "", f"found {type(data).__name__}, expected a mapping of fields")
        )
        return None
    return doc


def _describe_input(value: Any) -> str:
    text = repr(value)
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


def validate_model(model: type[M], doc: YamlDocument, findings: list[Finding]) -> M | None:
    """Validate ``doc`` against ``model``; every pydantic error becomes a finding with its line."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc_keys = _file_location(tuple(err["loc"]))
            field_name = ".".join(str(p) for p in loc_keys)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "missing, expected this required field"
            elif err["type"] == "extra_forbidden":
                msg = f"found unknown field ({_describe_input(err.get('input'))}), expected one of the schema's fields (see `pmpath schema`)"
            elif "input" in err and not msg.startswith("found"):
                msg = f"found {_describe_input(err['input'])}, expected: {msg}"
            findings.append(Finding(doc.path, doc.line_of(loc_keys), field_name, msg))
        return None


@dataclass
class Table:
    """A data file read as text: its frame (all strings), and the line of each row."""

    path: str
    frame: pd.DataFrame
    row_lines: list[int]

    def line(self, i: int) -> int:
        return self.row_lines[i]


def read_table(raw: bytes, rel_path: str, findings: list[Finding]) -> Table | None:
    """Read CSV/TSV (header on line 1) or Parquet into a frame of strings."""
    suffix = Path(rel_path).suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(io.BytesIO(raw)).astype("string")
        else:
            sep = "\t" if suffix in (".tsv", ".tab") else ","
            frame = pd.read_csv(
                io.BytesIO(raw),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=True,
                comment=None,
            )
    except (pd.errors.ParserError, ValueError, OSError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        line = None
        m = re.search(r"line (\d+)", first)
        if m:
            line = int(m.group(1))
        findings.append(Finding(rel_path, line, "", f"malformed table: {first}"))
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    if suffix == ".parquet":
        lines = list(range(1, len(frame) + 1))
    else:
        # Blank lines are skipped by the reader; recover each row's physical line.
        text_lines = raw.decode("utf-8", errors="replace").splitlines()
        lines = [i + 1 for i, t in enumerate(text_lines) if t.strip()][1:]
        if len(lines) != len(frame):  # quoted newlines: fall back to row order
            lines = list(range(2, len(frame) + 2))
    return Table(rel_path, frame.reset_index(drop=True), lines)
