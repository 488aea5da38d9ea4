"""Writing a dossier from plain data: the inverse of :func:`pmpath.dossier.load.load_dossier`.

A :class:`DossierSpec` holds what a dossier says (the :class:`~pmpath.dossier.model.Platform`,
cohorts and cases as the pydantic models the loader validates with, tables as pandas frames in
the columns :mod:`pmpath.dossier.tables` declares, reference records) and :func:`write_dossier`
turns it into files: YAML with ``schema_version`` first and keys in the models' (and the docs')
order, tables with the declared column order, FASTA. Loading what it wrote gives the same models,
tables and variants (``tests/test_dossier_write.py`` checks that over generated dossiers).
``pmpath init``, ``scripts/generate_examples.py`` and the tests all write dossiers through it.

The writer checks that what it is given can be written and read back (declared columns, cells of
the column's type, file names that do not collide) and raises :class:`~pmpath.errors.UsageError`
otherwise; whether the content is good evidence is the loader's to say, so a test can write a
dossier that validation should refuse.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel

from pmpath import atomic
from pmpath.dossier import tables as T
from pmpath.dossier.load import CASE_FILE, COHORT_FILE, PATIENTS_DIR, PLATFORM_FILE
from pmpath.dossier.model import (
    SCHEMA_VERSION,
    Case,
    Cohort,
    CohortFile,
    Platform,
    TableRef,
)
from pmpath.errors import UsageError

__all__ = [
    "CohortSpec",
    "DossierSpec",
    "FastaRecord",
    "PatientSpec",
    "YamlNotes",
    "dossier_files",
    "fasta_index_text",
    "fasta_text",
    "table_bytes",
    "write_dossier",
    "yaml_text",
]

FASTA_WIDTH = 60
"""Bases per FASTA line, as samtools writes them."""

KeyPath = tuple[str | int, ...]
"""A place in a YAML document: mapping keys and list indices, e.g. ``("dosing", 0, "date")``."""


# --------------------------------------------------------------------------- the specification


@dataclass(frozen=True)
class YamlNotes:
    """Comments for one YAML file, placed by key path (``("diagnosis", "sex")``).

    Each text may hold several lines; an empty line becomes a blank line, any other line a
    ``#`` comment, so ``"\\nThe diseases ..."`` puts a blank line and then a comment above a key.
    """

    header: str = ""
    """Comment lines at the top of the file."""
    above: Mapping[KeyPath, str] = field(default_factory=dict)
    """Comment lines above a key (or above a list item, by its index)."""
    inline: Mapping[KeyPath, str] = field(default_factory=dict)
    """A comment at the end of a key's line."""
    below: Mapping[KeyPath, str] = field(default_factory=dict)
    """Comment lines after a key and everything under it (an optional key shown commented out)."""


@dataclass(frozen=True)
class FastaRecord:
    """One reference record: its name (``chrX`` or ``chrX:38400001-38400600``) and bases."""

    name: str
    sequence: str
    description: str = ""  # written after the name on the header line; not part of the name


@dataclass
class CohortSpec:
    """One natural-history cohort: its ``cohort.yaml`` entry and its tables.

    ``subjects`` and each frame of ``data`` (aligned with ``cohort.data``) use pmpath's column
    names (:data:`pmpath.dossier.tables.COHORT_TABLES`); a cohort whose ``columns:`` maps them to
    other names gets files with those names. Paths are relative to ``natural_history/``.
    """

    cohort: Cohort
    subjects: pd.DataFrame
    data: Sequence[pd.DataFrame] = ()

    def __post_init__(self) -> None:
        self.data = list(self.data)
        if len(self.data) != len(self.cohort.data):
            raise UsageError(
                f"cohort {self.cohort.id!r}: found {len(self.data)} data frames for "
                f"{len(self.cohort.data)} entries of cohort.data, expected one frame per entry, in order"
            )


@dataclass
class PatientSpec:
    """One patient: the case, its tables by case field, and any other files of its folder.

    ``tables`` maps a case field of :data:`pmpath.dossier.tables.PATIENT_TABLES`
    (``measurements``, ``events``, ``engagement``, ``concomitant``, ``adverse_events``) to a frame
    in that table's declared columns. A table the case does not name yet is named
    ``<field>.csv``: after construction ``case`` is the case exactly as it will be written.
    ``files`` holds other files by path relative to the patient's folder (a VCF the case names as
    ``variants_vcf``, or a deliberately malformed table), written byte for byte.
    """

    case: Case
    tables: Mapping[str | T.TableKind, pd.DataFrame] = field(default_factory=dict)
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    directory: str | None = None  # folder under patients/; the case id by default

    def __post_init__(self) -> None:
        tables: dict[str, pd.DataFrame] = {}
        for key, frame in self.tables.items():
            name = key.name if isinstance(key, T.TableKind) else key
            if name not in T.PATIENT_TABLES:
                raise UsageError(
                    f"patient {self.case.id!r}: found a table for {name!r}, expected one of "
                    + ", ".join(T.PATIENT_TABLES)
                )
            tables[name] = frame
        self.tables = tables
        update = {n: f"{n}.csv" for n in tables if getattr(self.case, n) is None}
        if update:
            self.case = self.case.model_copy(update=update)
        files = {
            _clean_relative(p, f"patient {self.case.id!r} files"): v for p, v in self.files.items()
        }
        self.files = files
        for name in T.PATIENT_TABLES:
            ref = self.case.table(name)
            if (
                ref is not None
                and name not in tables
                and _clean_relative(ref.path, name) not in files
            ):
                raise UsageError(
                    f"patient {self.case.id!r}: case.yaml names {ref.path!r} as {name}, "
                    f"found no table for it, expected a frame in tables[{name!r}] (or the file in files)"
                )
        vcf = self.case.variants_vcf
        if vcf is not None and _clean_relative(vcf, "variants_vcf") not in files:
            raise UsageError(
                f"patient {self.case.id!r}: case.yaml names {vcf!r} as variants_vcf, found no such "
                "file, expected its text in files"
            )
        if self.directory is None:
            self.directory = self.case.id

    @property
    def folder(self) -> str:
        """The patient's folder, relative to the dossier."""
        return f"{PATIENTS_DIR}/{self.directory}"


@dataclass
class DossierSpec:
    """Everything a dossier holds, as plain data; :func:`write_dossier` writes it.

    Parameters
    ----------
    platform
        ``platform.yaml``; its ``reference_fasta`` is where ``reference`` is written.
    reference
        The reference records, as :class:`FastaRecord` or a mapping of name to bases.
    cohorts
        The natural-history cohorts of ``natural_history/cohort.yaml`` (none: no cohort.yaml).
    patients
        One :class:`PatientSpec` per patient, each written to ``patients/<directory>/``.
    documents
        Other files by path relative to the dossier (``README.md``, ``reference/README.md``).
    notes
        Comments for YAML files, by path relative to the dossier.
    yaml_header
        Comment lines put at the top of every YAML file (before a file's own ``notes.header``).
    fasta_index
        Also write the samtools ``.fai`` index beside the FASTA.
    """

    platform: Platform
    reference: Sequence[FastaRecord] | Mapping[str, str]
    cohorts: Sequence[CohortSpec] = ()
    patients: Sequence[PatientSpec] = ()
    documents: Mapping[str, str | bytes] = field(default_factory=dict)
    notes: Mapping[str, YamlNotes] = field(default_factory=dict)
    yaml_header: str = ""
    fasta_index: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.reference, Mapping):
            self.reference = [FastaRecord(n, s) for n, s in self.reference.items()]
        self.reference = list(self.reference)
        self.cohorts = list(self.cohorts)
        self.patients = list(self.patients)


# --------------------------------------------------------------------------- YAML


def _plain(value: Any) -> Any:
    """A model dump as YAML-representable values: enums (keys too) as their values, tuples as lists."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _dump(value: Any, **options: Any) -> str:
    text = yaml.safe_dump(value, width=math.inf, allow_unicode=True, **options)
    return text.removesuffix("\n...\n").removesuffix("\n")


def _scalar(value: Any) -> str:
    """One YAML scalar on one line, quoted only where YAML would read it as something else."""
    if isinstance(value, dt.datetime):
        raise UsageError(f"found the date and time {value!r}, expected a date")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"found the number {value!r}, expected a finite number")
    text = _dump(value)
    if "\n" in text:  # a text with line breaks: one double-quoted line with escapes
        text = _dump(value, default_style='"')
    return text


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _comment_lines(text: str, indent: int) -> list[str]:
    """Leading empty lines are blank lines; every other line is a comment (``#`` alone if empty)."""
    lines = text.split("\n")
    blank = 0
    while blank < len(lines) - 1 and not lines[blank].strip():
        blank += 1
    pad = " " * indent
    return [""] * blank + [f"{pad}# {line}".rstrip() for line in lines[blank:]]


class _YamlEmitter:
    """Block-style YAML with two-space indented lists, and comments placed by key path."""

    def __init__(self, notes: YamlNotes):
        self.notes = notes
        self.lines: list[str] = []

    def _line(self, text: str, path: KeyPath) -> None:
        comment = self.notes.inline.get(path)
        self.lines.append(f"{text}  # {comment}" if comment else text)

    def _above(self, path: KeyPath, indent: int) -> None:
        if path in self.notes.above:
            self.lines.extend(_comment_lines(self.notes.above[path], indent))

    def _below(self, path: KeyPath, indent: int) -> None:
        if path in self.notes.below:
            self.lines.extend(_comment_lines(self.notes.below[path], indent))

    def value_text(self, value: Any) -> str | None:
        """The value on the key's own line (scalars, empty and scalar-only lists), else None."""
        if _is_scalar(value):
            return _scalar(value)
        if isinstance(value, list) and all(_is_scalar(v) for v in value):
            for v in value:
                _scalar(v)  # refuses what cannot be written
            flow = _dump([_plain(v) for v in value], default_flow_style=True)
            if "\n" not in flow:
                return flow  # [PS3, PM2]; a text with line breaks goes one item a line instead
        if not value:
            return "{}" if isinstance(value, dict) else "[]"
        return None

    def mapping(
        self, data: dict, indent: int, path: KeyPath, first_prefix: str | None = None
    ) -> None:
        for i, (key, value) in enumerate(data.items()):
            here = (*path, key)
            prefix = first_prefix if (i == 0 and first_prefix is not None) else " " * indent
            if i > 0 or first_prefix is None:
                self._above(here, indent)
            text = self.value_text(value)
            if text is not None:
                self._line(f"{prefix}{_scalar(key)}: {text}", here)
            elif isinstance(value, dict):
                self._line(f"{prefix}{_scalar(key)}:", here)
                self.mapping(value, indent + 2, here)
            else:
                self._line(f"{prefix}{_scalar(key)}:", here)
                self.sequence(value, indent + 2, here)
            self._below(here, indent)

    def sequence(self, items: list, indent: int, path: KeyPath) -> None:
        for j, item in enumerate(items):
            here = (*path, j)
            self._above(here, indent)
            dash = " " * indent + "- "
            text = self.value_text(item)
            if text is not None:
                self._line(f"{dash}{text}", here)
            elif isinstance(item, dict):
                first = next(iter(item))
                self._above((*here, first), indent + 2)
                self.mapping(item, indent + 2, here, first_prefix=dash)
            else:
                self.lines.append(dash.rstrip())  # a list in a list: "-" alone, the items below
                self.sequence(item, indent + 2, here)
            self._below(here, indent)


def yaml_text(model: BaseModel, notes: YamlNotes | None = None, *, header: str = "") -> str:
    """A model as a YAML document: fields in the model's order, the fields that were set.

    A field left at its default without being given is not written, so a dossier says what its
    author said; ``schema_version`` is always written, first, when the model has one.

    Parameters
    ----------
    model
        A :class:`~pmpath.dossier.model.Platform`, :class:`~pmpath.dossier.model.CohortFile` or
        :class:`~pmpath.dossier.model.Case` (any pydantic model of plain values).
    notes
        Comments to place in the document.
    header
        Comment lines put above the file's own ``notes.header``.

    Examples
    --------
    >>> from pmpath.dossier.model import Outcome
    >>> print(yaml_text(Outcome(status="died", date="2025-03-01", reason="pneumonia")), end="")
    status: died
    date: 2025-03-01
    reason: pneumonia
    """
    notes = notes or YamlNotes()
    data = _plain(model.model_dump(mode="python", exclude_unset=True))
    if "schema_version" in type(model).model_fields:
        data = {
            "schema_version": SCHEMA_VERSION,
            **{k: v for k, v in data.items() if k != "schema_version"},
        }
    emitter = _YamlEmitter(notes)
    top = "\n".join(t for t in (header.strip("\n"), notes.header.strip("\n")) if t)
    if top:
        emitter.lines.extend(_comment_lines(top, 0))
        emitter.lines.append("")
    emitter.mapping(data, 0, ())
    return "\n".join(emitter.lines) + "\n"


# --------------------------------------------------------------------------- tables


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return bool(value is pd.NA)


def _number_text(value: Any) -> str:
    """The shortest text that reads back as the same number (integers without a decimal point)."""
    if isinstance(value, bool | np.bool_):
        raise ValueError("a true/false value")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, str):
        number = float(value)  # a number written as text is kept as written
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        return value.strip()
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _integer_text(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        raise ValueError("a true/false value")
    number = float(value)
    if not math.isfinite(number) or not number.is_integer():
        raise ValueError("not a whole number")
    return str(int(number)) if not isinstance(value, numbers.Integral) else str(int(value))


def _date_text(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        if value != value.normalize():
            raise ValueError("a time of day, not a date")
        return value.date().isoformat()
    if isinstance(value, dt.datetime):
        raise ValueError("a date and time, not a date")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip()).isoformat()
    raise ValueError("not a date")


def _study_day_text(value: Any) -> str:
    text = _integer_text(value)
    if text == "0":
        raise ValueError("study day 0, which does not exist (day 1 is the first dose)")
    return text


def _boolean_text(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower()
    raise ValueError("not true or false")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, numbers.Number):
        return _number_text(value)
    if isinstance(value, dt.date):
        return _date_text(value)
    return str(value)


_FORMATTERS = {
    "number": _number_text,
    "age": _number_text,
    "integer": _integer_text,
    "boolean": _boolean_text,
    "date": _date_text,
    "study_day": _study_day_text,
}

_EXPECTED = {
    "number": "a finite number",
    "age": "a finite number of years",
    "integer": "a whole number",
    "boolean": "true or false",
    "date": "a date (datetime.date, a pandas Timestamp at midnight, or YYYY-MM-DD)",
    "study_day": "a whole study day other than 0",
}


def _column_cells(values: Iterable[Any], column: T.Column | None, where: str) -> list[str]:
    fmt = _FORMATTERS.get(column.type, _text) if column is not None else _text
    separator = column.separator if column is not None else None
    out: list[str] = []
    for row, value in enumerate(values):
        if separator is not None and isinstance(value, list | tuple):
            # a list-valued cell (acts_on): the items joined, empty when there are none
            items = [_text(v) for v in value]
            bad = [v for v in items if not v or separator in v or v != v.strip()]
            if bad:
                raise UsageError(
                    f"{where}, row {row}: found the item {bad[0]!r}, expected items without "
                    f"{separator!r} or spaces at either end"
                )
            out.append(separator.join(items))
            continue
        if _missing(value):
            out.append("")
            continue
        try:
            out.append(fmt(value))
        except (ValueError, TypeError, OverflowError) as exc:
            expected = _EXPECTED.get(column.type, "a text") if column is not None else "a text"
            raise UsageError(
                f"{where}, row {row}: found {value!r} ({exc}), expected {expected}"
            ) from exc
    if column is not None and column.type == "choice":
        for row, cell in enumerate(out):
            if cell and cell not in column.choices:
                raise UsageError(
                    f"{where}, row {row}: found {cell!r}, expected one of {', '.join(column.choices)}"
                )
    return out


def table_bytes(
    frame: pd.DataFrame,
    kind: T.TableKind,
    path: str,
    *,
    rename: Mapping[str, str] | None = None,
    ignore_columns: Sequence[str] = (),
) -> bytes:
    """A table of ``kind`` as the bytes of a CSV, TSV or Parquet file (by ``path``'s suffix).

    Columns are written in the declared order; the columns named in ``ignore_columns`` (which
    the dossier declares as not used) follow in the frame's order.

    Parameters
    ----------
    frame
        The rows, in pmpath's column names (:class:`~pmpath.dossier.tables.TableKind`). Missing
        values (``None``, ``NaN``, ``NaT``) are empty cells.
    kind
        The kind of table.
    path
        Where the table goes, for its format and for messages.
    rename
        pmpath's column name -> the file's, for cohort files with ``columns:``.
    ignore_columns
        Columns of the frame that are not the kind's, written as they are.

    Raises
    ------
    UsageError
        A column the kind does not declare (and not ignored), a required column missing, or a
        cell that is not of its column's type.

    Examples
    --------
    >>> import pandas as pd
    >>> from pmpath.dossier.tables import CONCOMITANT
    >>> frame = pd.DataFrame({"kind": ["diet"], "study_day": [75], "description": ["protein, up"]})
    >>> print(table_bytes(frame, CONCOMITANT, "concomitant.csv").decode(), end="")
    study_day,kind,description
    75,diet,"protein, up"
    """
    rename = dict(rename or {})
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise UsageError(f"{path}: found the columns {names}, expected each column once")
    unknown = [c for c in names if kind.column(c) is None and c not in ignore_columns]
    if unknown:
        raise UsageError(
            f"{path}: found the columns {', '.join(map(repr, unknown))}, expected columns of the "
            f"{kind.title.lower()} table ({', '.join(kind.names)}), or columns listed in ignore_columns"
        )
    missing = [c for c in kind.required if c not in names]
    missing += [f"{a} or {b}" for a, b in kind.date_pairs if a not in names and b not in names]
    if missing:
        raise UsageError(
            f"{path}: found no column {', '.join(missing)}, expected every required column"
        )
    ordered = [c.name for c in kind.columns if c.name in names]
    ordered += [c for c in names if c not in ordered]
    header = [rename.get(c, c) for c in ordered]
    columns = [
        _column_cells(frame[c].tolist(), kind.column(c), f"{path}: column {c!r}") for c in ordered
    ]
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        table = pa.table(
            {
                h: pa.array(col, type=pa.large_string())
                for h, col in zip(header, columns, strict=True)
            }
        )
        pq.write_table(table, sink)
        return sink.getvalue().to_pybytes()
    if suffix in (".tsv", ".tab"):
        delimiter = "\t"
    elif suffix == ".csv":
        delimiter = ","
    else:
        raise UsageError(
            f"{path}: found the suffix {suffix or '(none)'!r}, expected .csv, .tsv or .parquet"
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- FASTA


def fasta_text(records: Sequence[FastaRecord], width: int = FASTA_WIDTH) -> str:
    """Records as FASTA, ``width`` bases a line.

    Examples
    --------
    >>> print(fasta_text([FastaRecord("chr1", "ACGTAC")], width=4), end="")
    >chr1
    ACGT
    AC
    """
    out: list[str] = []
    for record in records:
        out.append(
            f">{record.name} {record.description}\n" if record.description else f">{record.name}\n"
        )
        seq = record.sequence
        out.extend(seq[i : i + width] + "\n" for i in range(0, len(seq), width))
    return "".join(out)


def fasta_index_text(records: Sequence[FastaRecord], width: int = FASTA_WIDTH) -> str:
    """The samtools ``.fai`` of :func:`fasta_text`'s output: name, length, offset, bases and bytes a line."""
    out: list[str] = []
    offset = 0
    for record in records:
        header = (
            f">{record.name} {record.description}\n" if record.description else f">{record.name}\n"
        )
        offset += len(header.encode())
        n = len(record.sequence)
        out.append(f"{record.name}\t{n}\t{offset}\t{width}\t{width + 1}\n")
        offset += n + math.ceil(n / width)
    return "".join(out)


# --------------------------------------------------------------------------- the whole dossier


def _clean_relative(path: str, what: str) -> str:
    parts = path.replace("\\", "/").split("/")
    if not path or path.startswith("/") or ".." in parts:
        raise UsageError(
            f"{what}: found the path {path!r}, expected a relative path inside the dossier"
        )
    return "/".join(p for p in parts if p not in ("", "."))


def _join(folder: str, rel: str) -> str:
    return _clean_relative(f"{folder}/{rel}" if folder else rel, rel)


def _encode(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


def dossier_files(spec: DossierSpec) -> dict[str, bytes]:
    """Every file of the dossier ``spec`` describes: relative POSIX path -> bytes, in writing order.

    Raises
    ------
    UsageError
        Two files at one path, a table that cannot be written (:func:`table_bytes`), or a value
        YAML cannot hold.
    """
    files: dict[str, bytes] = {}

    def put(rel: str, content: str | bytes, what: str) -> None:
        if rel in files:
            raise UsageError(
                f"{rel}: found {what} at a path already written, expected each file once"
            )
        files[rel] = _encode(content)

    def yaml_file(rel: str, model: BaseModel) -> None:
        put(rel, yaml_text(model, spec.notes.get(rel), header=spec.yaml_header), "a YAML file")

    yaml_file(PLATFORM_FILE, spec.platform)
    fasta = _clean_relative(spec.platform.reference_fasta, "reference_fasta")
    put(fasta, fasta_text(spec.reference), "the reference FASTA")
    if spec.fasta_index:
        put(f"{fasta}.fai", fasta_index_text(spec.reference), "the FASTA index")

    if spec.cohorts:
        base = str(PurePosixPath(COHORT_FILE).parent)
        yaml_file(COHORT_FILE, CohortFile(cohorts=[c.cohort for c in spec.cohorts]))
        for c in spec.cohorts:
            if c.cohort.literature is not None:  # a published summary: cohort.yaml only
                continue
            sub = c.cohort.subjects
            rel = _join(base, sub.path)
            put(
                rel,
                table_bytes(
                    c.subjects,
                    T.NH_SUBJECTS,
                    rel,
                    rename=sub.columns,
                    ignore_columns=sub.ignore_columns,
                ),
                f"the subjects of cohort {c.cohort.id!r}",
            )
            for data, frame in zip(c.cohort.data, c.data, strict=True):
                rel = _join(base, data.path)
                kind = T.COHORT_TABLES[data.kind]
                put(
                    rel,
                    table_bytes(
                        frame, kind, rel, rename=data.columns, ignore_columns=data.ignore_columns
                    ),
                    f"the {data.kind} data of cohort {c.cohort.id!r}",
                )

    for p in spec.patients:
        folder = _clean_relative(p.folder, "patient directory")
        yaml_file(f"{folder}/{CASE_FILE}", p.case)
        for name, frame in p.tables.items():
            ref: TableRef = p.case.table(name)  # type: ignore[assignment]  # set by PatientSpec
            rel = _join(folder, ref.path)
            put(
                rel,
                table_bytes(frame, T.PATIENT_TABLES[name], rel, ignore_columns=ref.ignore_columns),
                f"the {name} table of patient {p.case.id!r}",
            )
        for rel, content in p.files.items():
            put(_join(folder, rel), content, f"a file of patient {p.case.id!r}")

    for rel, content in spec.documents.items():
        put(_clean_relative(rel, "documents"), content, "a document")
    return files


def write_dossier(spec: DossierSpec, path: str | Path) -> list[Path]:
    """Write the dossier ``spec`` describes at ``path``, a new or empty directory.

    The dossier is built beside ``path`` and put in place whole (:func:`pmpath.atomic.directory`):
    a failure or a crash leaves ``path`` as it was, never half a dossier.

    Parameters
    ----------
    spec
        What the dossier holds.
    path
        The dossier directory: it must not exist, or be empty.

    Returns
    -------
    list of Path
        Every file written, sorted.

    Raises
    ------
    UsageError
        ``path`` is a file or a non-empty directory (it is left untouched), or ``spec`` cannot be
        written (:func:`dossier_files`).

    Examples
    --------
    The skeleton ``pmpath init`` writes, with a second patient who is the first one renamed:

    >>> import tempfile
    >>> from pmpath.dossier import load_dossier
    >>> from pmpath.dossier.model import Modality
    >>> from pmpath.dossier.scaffold import skeleton_spec
    >>> spec = skeleton_spec(Modality.splice_switching_aso, "MY-ASO", "My ASO platform")
    >>> first = spec.patients[0]
    >>> spec.patients.append(PatientSpec(first.case.model_copy(update={"id": "P2"}), first.tables))
    >>> root = Path(tempfile.mkdtemp()) / "dossier"
    >>> files = write_dossier(spec, root)
    >>> [p.id for p in load_dossier(root).patients]
    ['EXAMPLE-01', 'P2']
    """
    path = Path(path)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise UsageError(
            f"{path}: found an existing file, expected a new or empty directory for the dossier"
        )
    if path.is_dir():
        entries = sorted(os.listdir(path))
        if entries:
            shown = ", ".join(entries[:5]) + (
                f" and {len(entries) - 5} more" if len(entries) > 5 else ""
            )
            raise UsageError(
                f"{path}: found a non-empty directory ({shown}), expected a new or empty directory; nothing was written"
            )
    files = dossier_files(spec)
    with atomic.directory(path) as tmp:
        for rel, content in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return sorted(path / rel for rel in files)
