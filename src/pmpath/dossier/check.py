"""Typing and checking one table against its declaration, by vectorized checks over whole columns.

:func:`check_table` turns a :class:`~pmpath.dossier.source.Table` of strings into a typed frame
using its :class:`~pmpath.dossier.tables.TableKind`: unknown columns, missing columns, bad cells,
dates (format, calendar, cutoff, before birth, disagreeing study days), exact duplicate rows and
repeated keys all become findings. One root cause is one finding: a problem repeated over many rows
is listed for the first :data:`MAX_ROWS_LISTED` rows and summarized once for the rest.

A column is checked over its values, an :class:`~pmpath.dossier.source.EncodedColumn`: a large
table's columns come dictionary-encoded, so each distinct text is stripped, parsed and looked up
once and the results are taken to the rows by the indices; the findings are the same as checking
every cell.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pmpath.dossier.source import EncodedColumn, Table
from pmpath.dossier.tables import Column, TableKind
from pmpath.errors import Finding, Severity

MAX_ROWS_LISTED = 10
"""Rows listed one by one for one problem in one column; the rest are counted in one finding."""

_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_TEXT_TYPES = frozenset({"text", "identifier", "choice"})


def day_column(date_column: str) -> str:
    """Name of the days-from-first-dose column a date column becomes (``date`` -> ``day``)."""
    return "day" if date_column == "date" else f"{date_column}_day"


@dataclass
class DateFrame:
    """What dates are checked against: the first dose, the data cutoff and the earliest plausible day."""

    first_dose: dt.date
    cutoff: dt.date
    earliest: dt.date | None = None  # birth, less a margin


@dataclass
class CheckedTable:
    """A typed table: our column names, numbers as floats, dates as days from first dose."""

    path: str
    frame: dict[str, np.ndarray]  # our column name -> values (numbers as float, text as str)
    lines: np.ndarray
    ignored_columns: list[str] = field(default_factory=list)
    display: dict[str, str] = field(default_factory=dict)  # our column name -> the file's
    row_kind: str = "line"  # "row" for Parquet
    # our column name -> its text as distinct values and row indices, for the text columns of a
    # table read dictionary-encoded (see EncodedColumn)
    encodings: dict[str, EncodedColumn] = field(default_factory=dict)

    def line(self, i: int) -> int:
        return int(self.lines[i])

    def encoded(self, column: str) -> EncodedColumn:
        """A column of :attr:`frame` as its distinct values and row indices when read that way."""
        found = self.encodings.get(column)
        return found if found is not None else EncodedColumn(self.frame[column])

    def __len__(self) -> int:
        return len(self.lines)

    def row_findings(
        self,
        findings: list[Finding],
        mask: np.ndarray,
        column: str,
        found: Callable[[int], str],
        expected: str,
    ) -> None:
        """A finding for each row in ``mask`` (the first few listed, the rest counted), as in checking."""
        _Sink(findings, self.path, self.lines, self.row_kind, self.display).rows(
            np.asarray(mask, dtype=bool), column, found, expected
        )


class _Sink:
    """Collects findings for one table, listing few rows per problem and counting the rest."""

    def __init__(
        self,
        findings: list[Finding],
        path: str,
        lines: np.ndarray,
        row_kind: str,
        display: dict[str, str],
    ):
        self.findings = findings
        self.path = path
        self.lines = lines
        self.display = display
        self.row_word = "row" if row_kind == "row" else "line"

    def name(self, column: str) -> str:
        return self.display.get(column, column)

    def add(self, line, column: str, found: str, expected: str, severity=Severity.error) -> None:
        line = None if line is None else int(line)
        self.findings.append(Finding(self.path, line, self.name(column), found, expected, severity))

    def rows(
        self,
        mask: np.ndarray,
        column: str,
        found: Callable[[int], str],
        expected: str,
        severity: Severity = Severity.error,
        values_of: EncodedColumn | None = None,
    ) -> None:
        """A finding for each row in ``mask``: the first few listed, the rest counted.

        With ``values_of``, ``mask`` and ``found`` are over that column's values rather than the
        rows: the rows are those whose value is in ``mask``.
        """
        if values_of is not None and values_of.indices is not None:
            if not mask.any():
                return
            value_index = values_of.indices
            mask = mask[value_index]
            found_value = found

            def found(i: int) -> str:
                return found_value(int(value_index[i]))

        if not mask.any():  # most checks flag no row: skip the set-up
            return
        idx = np.flatnonzero(mask)
        for i in idx[:MAX_ROWS_LISTED]:
            self.add(int(self.lines[i]), column, found(int(i)), expected, severity)
        rest = idx[MAX_ROWS_LISTED:]
        if len(rest):
            lines = [int(self.lines[i]) for i in rest[:5]]
            more = ", ".join(map(str, lines)) + (", ..." if len(rest) > 5 else "")
            self.add(
                None,
                column,
                f"the same problem on {len(rest)} more {self.row_word}s ({self.row_word}s {more})",
                expected,
                severity,
            )


def _quote(text: str, limit: int = 40) -> str:
    text = repr(text)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=1)
        close = [k for k in known if k.lower() in close]
    return f" (did you mean {close[0]!r}?)" if close else ""


_SMALL = 4096  # below this many rows, plain Python over the column beats pandas' overhead


def _strings(column: EncodedColumn) -> EncodedColumn:
    """A column of stripped strings ('' for empty cells), each value stripped once."""
    return column.derive(
        np.array(
            [v.strip() if isinstance(v, str) else str(v).strip() for v in column.values],
            dtype=object,
        )
    )


def _empty_mask(text: np.ndarray) -> np.ndarray:
    return text == ""


def _to_float(text: np.ndarray, rows: int) -> np.ndarray:
    """Numbers as floats, NaN where the text is not a number (or is empty).

    ``text`` holds the distinct texts of a column of ``rows`` rows (or all of them); which parser
    reads them depends on the rows, as it did when every cell was parsed: Python's ``float``
    for a small table, pandas' for a large one (the two disagree on ``1_000``, digits other than
    ASCII and the sign of ``-0``).
    """
    if rows < _SMALL:
        out = np.empty(len(text))
        for i, t in enumerate(text):
            try:
                out[i] = float(t) if t else np.nan
            except ValueError:
                out[i] = np.nan
        return out
    return pd.to_numeric(pd.Series(text, dtype=object).replace("", None), errors="coerce").to_numpy(
        dtype=float
    )


def _isin(text: np.ndarray, allowed) -> np.ndarray:
    allowed = frozenset(allowed)
    return np.fromiter((t in allowed for t in text), dtype=bool, count=len(text))


def _numbers(sink: _Sink, column: EncodedColumn, col: Column, required: bool) -> np.ndarray:
    """Parse a column of numbers: a float for each of ``column.values``, NaN where empty or invalid."""
    text = column.values
    empty = _empty_mask(text)
    values = _to_float(text, len(column))
    bad = ~empty & ~np.isfinite(values)
    kind = "a whole number" if col.type == "integer" else "a number"
    shown = text
    rows = _rows_of(sink, column)
    rows(bad, col.name, lambda i: _quote(shown[i]), kind)
    if required:
        rows(empty, col.name, lambda i: "an empty cell", kind)
    ok = np.isfinite(values)
    if col.type == "integer":
        frac = ok & (values != np.floor(np.where(ok, values, 0)))
        rows(frac, col.name, lambda i: _quote(shown[i]), "a whole number")
        ok &= ~frac
    if col.minimum is not None:
        low = ok & ((values <= col.minimum) if col.exclusive_minimum else (values < col.minimum))
        op = ">" if col.exclusive_minimum else ">="
        rows(low, col.name, lambda i: shown[i], f"a value {op} {col.minimum:g}")
        ok &= ~low
    if col.maximum is not None:
        high = ok & (values > col.maximum)
        rows(high, col.name, lambda i: shown[i], f"a value <= {col.maximum:g}")
        ok &= ~high
    return np.where(ok, values, np.nan)


def _rows_of(sink: _Sink, column: EncodedColumn) -> Callable[..., None]:
    """``sink.rows`` for masks over the values of ``column``."""
    return lambda mask, name, found, expected: sink.rows(
        mask, name, found, expected, values_of=column
    )


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_dates(text: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(well_formed, calendar_valid, ordinal day) per cell; each distinct text parsed once."""
    n = len(text)
    well = np.zeros(n, dtype=bool)
    valid = np.zeros(n, dtype=bool)
    ordinal = np.full(n, np.nan)
    cache: dict[str, tuple[bool, bool, float]] = {}
    for i, t in enumerate(text):
        hit = cache.get(t)
        if hit is None:
            if _ISO.fullmatch(t):
                try:
                    hit = (True, True, float(dt.date.fromisoformat(t).toordinal()))
                except ValueError:
                    hit = (True, False, np.nan)
            else:
                hit = (False, False, np.nan)
            cache[t] = hit
        well[i], valid[i], ordinal[i] = hit
    return well, valid, ordinal


def _dates(
    sink: _Sink,
    column: EncodedColumn,
    name: str,
    dates: DateFrame | None,
) -> np.ndarray:
    """ISO dates -> days from first dose (float, NaN where empty or invalid) for each of
    ``column.values``."""
    text = column.values
    rows = _rows_of(sink, column)
    empty = _empty_mask(text)
    shown = text
    well_formed, calendar, ordinal = _parse_dates(text)
    wrong_format = ~empty & ~well_formed
    rows(wrong_format, name, lambda i: _quote(shown[i]), "a date written YYYY-MM-DD")
    invalid = well_formed & ~calendar
    rows(invalid, name, lambda i: f"{shown[i]!r}, not a calendar date", "a valid calendar date")
    if dates is None:
        return np.full(len(text), np.nan)
    days = ordinal - dates.first_dose.toordinal()
    return _within_dates(
        rows,
        name,
        days,
        calendar,
        dates,
        late=lambda i: shown[i],
        early=lambda i: (
            f"{shown[i]}, before the patient's birth (first dose less the age at first dose)"
        ),
        noun="date",
    )


def _within_dates(rows, name, days, ok, dates: DateFrame, *, late, early, noun: str):
    """Days after the data cutoff or before the earliest plausible day are findings; the days
    that are ``ok`` and within, NaN for the others."""
    cutoff_day = (dates.cutoff - dates.first_dose).days
    after = ok & (days > cutoff_day)
    rows(after, name, late, f"a {noun} on or before the data cutoff {dates.cutoff}")
    ok = ok & ~after
    if dates.earliest is not None:
        early_day = (dates.earliest - dates.first_dose).days
        before = ok & (days < early_day)
        rows(before, name, early, f"a {noun} on or after {dates.earliest}")
        ok &= ~before
    return np.where(ok, days, np.nan)


def _as_date(first_dose: dt.date, offset: float) -> str:
    """`` (2026-03-01)``: the calendar date of a day offset, when there is one."""
    try:
        return f" ({first_dose + dt.timedelta(days=int(offset))})"
    except (OverflowError, ValueError):
        return ""


def _study_days(
    sink: _Sink, column: EncodedColumn, name: str, dates: DateFrame | None
) -> np.ndarray:
    """CDISC study days -> days from first dose (float, NaN where empty or invalid) for each of
    ``column.values``."""
    text = column.values
    rows = _rows_of(sink, column)
    empty = _empty_mask(text)
    shown = text
    values = _to_float(text, len(column))
    finite = np.isfinite(values)
    bad = ~empty & (~finite | (values != np.floor(np.where(finite, values, 0))))
    rows(bad, name, lambda i: _quote(shown[i]), "a whole study day")
    zero = ~bad & ~empty & (values == 0)
    rows(
        zero,
        name,
        lambda i: "0",
        "a study day other than 0 (day 1 is the first dose, day -1 the day before)",
    )
    ok = ~empty & ~bad & ~zero
    days = np.where(ok, np.where(values > 0, values - 1, values), np.nan)
    if dates is not None:
        days = _within_dates(
            rows,
            name,
            days,
            ok,
            dates,
            late=lambda i: f"study day {shown[i]}{_as_date(dates.first_dose, days[i])}",
            early=lambda i: f"study day {shown[i]}, before the patient's birth",
            noun="day",
        )
    return days


def check_table(
    table: Table,
    kind: TableKind,
    findings: list[Finding],
    *,
    rename: dict[str, str] | None = None,
    ignore_columns: list[str] | tuple[str, ...] = (),
    dates: DateFrame | None = None,
    ignore_field: str = "ignore_columns",
) -> CheckedTable | None:
    """Type ``table`` by ``kind``; every problem becomes a finding. None when unusable as a whole.

    Parameters
    ----------
    rename
        The file's column name -> ours, for files that name columns their own way (cohort.yaml's
        ``columns:``).
    ignore_columns
        Columns the dossier declares as not used; they are kept out of the frame, not flagged.
    dates
        First dose, cutoff and earliest day for date and study-day columns; ``None`` for tables
        without dates.
    """
    rename = dict(rename or {})
    display = {ours: theirs for theirs, ours in rename.items()}
    sink = _Sink(findings, table.path, table.row_lines, table.row_kind, display)
    raw = table.cells
    ignored = [c for c in ignore_columns if c in raw]
    for c in ignore_columns:
        if c not in raw:
            findings.append(
                Finding(
                    table.path,
                    1,
                    c,
                    "a column listed in ignore_columns that the file does not have",
                    f"one of the file's columns: {', '.join(map(str, raw))}",
                    Severity.warning,
                )
            )
    ours_of = {c: rename.get(c, c) for c in raw if c not in ignored}
    known = list(kind.names)
    ok_structure = True
    for theirs, ours in ours_of.items():
        if ours not in known:
            hint = suggest(theirs, known)
            findings.append(
                Finding(
                    table.path,
                    1,
                    theirs,
                    f"unknown column {theirs!r}{hint}",
                    f"a column of the {kind.title.lower()} table ({', '.join(known)}), "
                    f"or the column listed under {ignore_field} to record that it is not used",
                )
            )
            ok_structure = False
    present = set(ours_of.values())
    missing = [c for c in kind.required if c not in present]
    for a, b in kind.date_pairs:
        if a not in present and b not in present:
            missing.append(f"{a} or {b}")
    if missing:
        findings.append(
            Finding(
                table.path,
                1,
                ", ".join(display.get(m, m) for m in missing),
                f"columns {', '.join(map(str, raw)) or '(none)'}",
                f"the required column(s) {', '.join(display.get(m, m) for m in missing)}",
            )
        )
        return None
    if not ok_structure:
        return None

    frame = {ours_of[c]: raw[c] for c in raw if c in ours_of}
    # Each column is checked over its values (a large table's distinct texts): per_value holds
    # what is computed for each value, with the column's row indices; out the rows' values.
    per_value: dict[str, EncodedColumn] = {}
    for col in kind.columns:
        if col.name not in frame:
            continue
        text = _strings(frame[col.name])
        shown = text.values
        rows = _rows_of(sink, text)
        if col.type in ("number", "integer", "age"):
            values = _numbers(sink, text, col, col.required)
            per_value[col.name] = text.derive(values)
        elif col.type == "boolean":
            low = np.array([t.lower() for t in shown], dtype=object)
            is_true = _isin(low, _TRUE)
            is_false = _isin(low, _FALSE)
            empty = _empty_mask(shown)
            bad = ~is_true & ~is_false & (~empty | col.required)
            rows(bad, col.name, lambda i, s=shown: _quote(s[i]), "true or false")
            per_value[col.name] = text.derive(
                np.where(is_true, True, np.where(is_false, False, None))
            )
        elif col.type == "choice":
            empty = _empty_mask(shown)
            bad = ~_isin(shown, col.choices) & (~empty | col.required)
            rows(
                bad,
                col.name,
                lambda i, s=shown: _quote(s[i]),
                "one of " + ", ".join(col.choices),
            )
            per_value[col.name] = text
        elif col.type in ("date", "study_day"):
            continue  # below, as pairs
        else:
            if col.required:
                empty = _empty_mask(shown)
                rows(empty, col.name, lambda i: "an empty cell", f"a {col.type}")
            per_value[col.name] = text
    out = {name: column.decode() for name, column in per_value.items()}
    encodings = {
        name: column
        for name, column in per_value.items()
        if column.indices is not None and kind.column(name).type in _TEXT_TYPES
    }
    for date_name, study_name in kind.date_pairs:
        have_date = date_name in frame
        have_study = study_name in frame
        d_days = s_days = None
        if have_date:
            d_text = _strings(frame[date_name])
            d_values = _dates(sink, d_text, date_name, dates)
            per_value[day_column(date_name)] = d_text.derive(d_values)
            d_days = d_text.take(d_values)
        if have_study:
            s_text = _strings(frame[study_name])
            s_values = _study_days(sink, s_text, study_name, dates)
            per_value[day_column(date_name)] = s_text.derive(s_values)
            s_days = s_text.take(s_values)
        if d_days is not None and s_days is not None:
            del per_value[day_column(date_name)]  # a day of each row, from two columns
            d_shown, s_shown = d_text.decode(), s_text.decode()
            both = np.isfinite(d_days) & np.isfinite(s_days)
            differ = both & (d_days != s_days)
            sink.rows(
                differ,
                study_name,
                lambda i, s=s_shown, d=d_shown, n=date_name: f"study day {s[i]} beside {n} {d[i]}",
                f"the study day of {date_name} (or only one of the two)",
            )
            n_days = np.where(np.isfinite(d_days), d_days, s_days)
        else:
            n_days = d_days if d_days is not None else s_days
        # a row needs one of the pair
        if have_date and have_study:
            absent = _empty_mask(d_shown) & _empty_mask(s_shown)
        else:
            only = d_text if have_date else s_text
            absent = only.take(_empty_mask(only.values))
        sink.rows(
            absent,
            date_name if have_date else study_name,
            lambda i: "an empty cell",
            f"a date in {date_name!r} or a study day in {study_name!r}",
        )
        out[day_column(date_name)] = n_days
        if have_date:
            out[date_name] = d_shown if have_study else d_text.decode()
        if have_study:
            out[study_name] = s_shown if have_date else s_text.decode()

    typed = {k: np.asarray(v) if not isinstance(v, np.ndarray) else v for k, v in out.items()}
    lines = np.asarray(table.row_lines, dtype=np.int64)
    keyed = {k: per_value[k] if k in per_value else EncodedColumn(v) for k, v in typed.items()}
    _duplicates(sink, list(raw.values()), keyed, kind, lines)
    return CheckedTable(table.path, typed, lines, ignored, display, table.row_kind, encodings)


def _later_duplicates(columns: list[EncodedColumn], candidates: np.ndarray | None = None):
    """Rows (indices) whose tuple of ``columns`` appeared before, each with the earlier index."""
    n = len(columns[0]) if columns else 0
    idx = np.arange(n) if candidates is None else candidates
    if candidates is None and n >= _SMALL:
        idx = np.flatnonzero(_repeated(_row_keys(columns)))
    first: dict[tuple, int] = {}
    later: dict[int, int] = {}
    for i in idx:
        key = tuple(c.at(i) for c in columns)
        j = first.setdefault(key, int(i))
        if j != i:
            later[int(i)] = j
    return later


def _repeated(key: np.ndarray) -> np.ndarray:
    """Rows whose key another row has too; by sorting, faster than hashing millions of keys."""
    ordered = np.sort(key)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return np.zeros(len(key), dtype=bool)
    return np.isin(key, ordered[1:][same])


def _row_keys(columns: list[EncodedColumn]) -> np.ndarray:
    """One integer per row, the same for rows equal in every column (by factorizing; NaN equal).

    Built column by column from each column's codes, without a frame of strings; the key is
    renumbered only when the next column could overflow it.
    """
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    bound = 1  # key < bound
    for c in columns:
        codes, count = c.codes()
        if bound * (count + 1) >= 1 << 62:
            key, uniques = pd.factorize(key)
            bound = len(uniques)
        key = key * (count + 1) + codes
        bound *= count + 1
    return key


def _duplicates(
    sink: _Sink,
    raw_cols: list[EncodedColumn],
    typed: dict[str, EncodedColumn],
    kind: TableKind,
    lines: np.ndarray,
) -> None:
    """Exact duplicate rows, then repeated keys, each a finding on the later row."""
    if len(lines) < 2 or not raw_cols:
        return
    keys = [k for k in (*kind.keys, *kind.key_extra) if k in typed]
    if keys and all(k in typed for k in kind.keys):
        key_cols = [typed[k] for k in keys]
        by_key = _later_duplicates(key_cols)
        if not by_key:
            return
        involved = np.array(sorted({*by_key, *by_key.values()}), dtype=np.int64)
        exact = _later_duplicates(raw_cols, involved)
        exact_rows = sorted(exact)
        key_rows = sorted(i for i in by_key if i not in exact)
        _report_dups(sink, exact_rows, {i: int(lines[j]) for i, j in exact.items()}, "", kind, True)
        _report_dups(
            sink,
            key_rows,
            {i: int(lines[by_key[i]]) for i in key_rows},
            ", ".join(keys),
            kind,
            False,
        )
    else:
        exact = _later_duplicates(raw_cols)
        rows = sorted(exact)
        _report_dups(sink, rows, {i: int(lines[j]) for i, j in exact.items()}, "", kind, True)


def _report_dups(sink: _Sink, rows, first_of, keys: str, kind: TableKind, exact: bool) -> None:
    mask = np.zeros(len(sink.lines), dtype=bool)
    mask[rows] = True
    if exact:
        sink.rows(
            mask,
            "",
            lambda i: f"a row identical to line {first_of[i]}",
            "each row once (a repeated row would count the same observation twice)",
        )
    else:
        sink.rows(
            mask,
            keys,
            lambda i: f"the same {kind.key_note or keys} as line {first_of[i]}",
            f"one row per {kind.key_note or keys} (add `time` or `sample_id` to tell repeated measurements apart)"
            if kind.key_extra
            else f"one row per {kind.key_note or keys}",
        )
