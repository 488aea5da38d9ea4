"""Typing and checking one table against its declaration, by vectorized checks over whole columns.

:func:`check_table` turns a :class:`~pmpath.dossier.source.Table` of strings into a typed frame
using its :class:`~pmpath.dossier.tables.TableKind`: unknown columns, missing columns, bad cells,
dates (format, calendar, cutoff, before birth, disagreeing study days), exact duplicate rows and
repeated keys all become findings. One root cause is one finding: a problem repeated over many rows
is listed for the first :data:`MAX_ROWS_LISTED` rows and summarized once for the rest.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pmpath.dossier.source import Table
from pmpath.dossier.tables import Column, TableKind
from pmpath.errors import Finding, Severity

MAX_ROWS_LISTED = 10
"""Rows listed one by one for one problem in one column; the rest are counted in one finding."""

_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"


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

    def line(self, i: int) -> int:
        return int(self.lines[i])

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
    ) -> None:
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


def _strings(frame: dict[str, np.ndarray], column: str) -> np.ndarray:
    """A column as an object array of stripped strings ('' for empty cells)."""
    values = frame[column]
    return np.array(
        [v.strip() if isinstance(v, str) else str(v).strip() for v in values], dtype=object
    )


def _empty_mask(text: np.ndarray) -> np.ndarray:
    return text == ""


def _to_float(text: np.ndarray) -> np.ndarray:
    """Numbers as floats, NaN where the text is not a number (or is empty)."""
    if len(text) < _SMALL:
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


def _numbers(
    sink: _Sink, text: np.ndarray, col: Column, required: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of numbers; returns (values, valid) with NaN where empty or invalid."""
    empty = _empty_mask(text)
    values = _to_float(text)
    bad = ~empty & ~np.isfinite(values)
    kind = "a whole number" if col.type == "integer" else "a number"
    shown = text
    sink.rows(bad, col.name, lambda i: _quote(shown[i]), kind)
    if required:
        sink.rows(empty, col.name, lambda i: "an empty cell", kind)
    ok = np.isfinite(values)
    if col.type == "integer":
        frac = ok & (values != np.floor(np.where(ok, values, 0)))
        sink.rows(frac, col.name, lambda i: _quote(shown[i]), "a whole number")
        ok &= ~frac
    if col.minimum is not None:
        low = ok & ((values <= col.minimum) if col.exclusive_minimum else (values < col.minimum))
        op = ">" if col.exclusive_minimum else ">="
        sink.rows(low, col.name, lambda i: shown[i], f"a value {op} {col.minimum:g}")
        ok &= ~low
    if col.maximum is not None:
        high = ok & (values > col.maximum)
        sink.rows(high, col.name, lambda i: shown[i], f"a value <= {col.maximum:g}")
        ok &= ~high
    values = np.where(ok, values, np.nan)
    return values, ok | (empty & (not required))


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
    text: np.ndarray,
    name: str,
    dates: DateFrame | None,
) -> tuple[np.ndarray, np.ndarray]:
    """ISO dates -> days from first dose (float, NaN where empty); (days, valid)."""
    empty = _empty_mask(text)
    shown = text
    well_formed, calendar, ordinal = _parse_dates(text)
    wrong_format = ~empty & ~well_formed
    sink.rows(wrong_format, name, lambda i: _quote(shown[i]), "a date written YYYY-MM-DD")
    invalid = well_formed & ~calendar
    sink.rows(
        invalid, name, lambda i: f"{shown[i]!r}, not a calendar date", "a valid calendar date"
    )
    ok = calendar.copy()
    if dates is None:
        return np.full(len(text), np.nan), ok | empty
    days = ordinal - dates.first_dose.toordinal()
    days, ok = _within_dates(
        sink,
        name,
        days,
        ok,
        dates,
        late=lambda i: shown[i],
        early=lambda i: (
            f"{shown[i]}, before the patient's birth (first dose less the age at first dose)"
        ),
        noun="date",
    )
    return days, ok | empty


def _within_dates(sink, name, days, ok, dates: DateFrame, *, late, early, noun: str):
    """Days after the data cutoff or before the earliest plausible day are findings; (days, ok)."""
    cutoff_day = (dates.cutoff - dates.first_dose).days
    after = ok & (days > cutoff_day)
    sink.rows(after, name, late, f"a {noun} on or before the data cutoff {dates.cutoff}")
    ok = ok & ~after
    if dates.earliest is not None:
        early_day = (dates.earliest - dates.first_dose).days
        before = ok & (days < early_day)
        sink.rows(before, name, early, f"a {noun} on or after {dates.earliest}")
        ok &= ~before
    return np.where(ok, days, np.nan), ok


def _as_date(first_dose: dt.date, offset: float) -> str:
    """`` (2026-03-01)``: the calendar date of a day offset, when there is one."""
    try:
        return f" ({first_dose + dt.timedelta(days=int(offset))})"
    except (OverflowError, ValueError):
        return ""


def _study_days(
    sink: _Sink, text: np.ndarray, name: str, dates: DateFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """CDISC study days -> days from first dose (float, NaN where empty); (days, valid)."""
    empty = _empty_mask(text)
    shown = text
    values = _to_float(text)
    finite = np.isfinite(values)
    bad = ~empty & (~finite | (values != np.floor(np.where(finite, values, 0))))
    sink.rows(bad, name, lambda i: _quote(shown[i]), "a whole study day")
    zero = ~bad & ~empty & (values == 0)
    sink.rows(
        zero,
        name,
        lambda i: "0",
        "a study day other than 0 (day 1 is the first dose, day -1 the day before)",
    )
    ok = ~empty & ~bad & ~zero
    days = np.where(ok, np.where(values > 0, values - 1, values), np.nan)
    if dates is not None:
        days, ok = _within_dates(
            sink,
            name,
            days,
            ok,
            dates,
            late=lambda i: f"study day {shown[i]}{_as_date(dates.first_dose, days[i])}",
            early=lambda i: f"study day {shown[i]}, before the patient's birth",
            noun="day",
        )
    return days, ok | empty


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
    raw = table.columns
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

    raw_cols = raw
    frame = {ours_of[c]: raw_cols[c] for c in raw if c in ours_of}
    n = len(table.row_lines)
    out: dict[str, object] = {}
    valid = np.ones(n, dtype=bool)
    for col in kind.columns:
        if col.name not in frame:
            continue
        text = _strings(frame, col.name)
        if col.type in ("number", "integer", "age"):
            values, ok = _numbers(sink, text, col, col.required)
            out[col.name] = values
            valid &= ok
        elif col.type == "boolean":
            low = np.array([t.lower() for t in text], dtype=object)
            is_true = _isin(low, _TRUE)
            is_false = _isin(low, _FALSE)
            empty = _empty_mask(text)
            bad = ~is_true & ~is_false & (~empty | col.required)
            shown = text
            sink.rows(bad, col.name, lambda i, s=shown: _quote(s[i]), "true or false")
            out[col.name] = np.where(is_true, True, np.where(is_false, False, None))
            valid &= ~bad
        elif col.type == "choice":
            empty = _empty_mask(text)
            bad = ~_isin(text, col.choices) & (~empty | col.required)
            shown = text
            sink.rows(
                bad,
                col.name,
                lambda i, s=shown: _quote(s[i]),
                "one of " + ", ".join(col.choices),
            )
            out[col.name] = text
            valid &= ~bad
        elif col.type in ("date", "study_day"):
            continue  # below, as pairs
        else:
            if col.required:
                empty = _empty_mask(text)
                sink.rows(empty, col.name, lambda i: "an empty cell", f"a {col.type}")
                valid &= ~empty
            out[col.name] = text
    for date_name, study_name in kind.date_pairs:
        n_days = np.full(n, np.nan)
        have_date = date_name in frame
        have_study = study_name in frame
        d_days = s_days = None
        if have_date:
            d_text = _strings(frame, date_name)
            d_days, ok = _dates(sink, d_text, date_name, dates)
            valid &= ok
        if have_study:
            s_text = _strings(frame, study_name)
            s_days, ok = _study_days(sink, s_text, study_name, dates)
            valid &= ok
        if d_days is not None and s_days is not None:
            both = np.isfinite(d_days) & np.isfinite(s_days)
            differ = both & (d_days != s_days)
            d_shown, s_shown = d_text, s_text
            sink.rows(
                differ,
                study_name,
                lambda i, s=s_shown, d=d_shown, n=date_name: f"study day {s[i]} beside {n} {d[i]}",
                f"the study day of {date_name} (or only one of the two)",
            )
            valid &= ~differ
            n_days = np.where(np.isfinite(d_days), d_days, s_days)
        else:
            n_days = d_days if d_days is not None else s_days
        # a row needs one of the pair
        absent = np.ones(n, dtype=bool)
        if have_date:
            absent &= _empty_mask(d_text)
        if have_study:
            absent &= _empty_mask(s_text)
        sink.rows(
            absent,
            date_name if have_date else study_name,
            lambda i: "an empty cell",
            f"a date in {date_name!r} or a study day in {study_name!r}",
        )
        valid &= ~absent
        out[day_column(date_name)] = n_days
        if have_date:
            out[date_name] = d_text
        if have_study:
            out[study_name] = s_text

    typed = {k: np.asarray(v) if not isinstance(v, np.ndarray) else v for k, v in out.items()}
    lines = np.asarray(table.row_lines, dtype=np.int64)
    _duplicates(sink, list(raw_cols.values()), typed, kind, lines)
    return CheckedTable(table.path, typed, lines, ignored, display, table.row_kind)


def _later_duplicates(columns: list[np.ndarray], candidates: np.ndarray | None = None):
    """Rows (indices) whose tuple of ``columns`` appeared before, each with the earlier index."""
    n = len(columns[0]) if columns else 0
    idx = np.arange(n) if candidates is None else candidates
    if candidates is None and n >= _SMALL:
        # one small integer per distinct tuple, built column by column (no frame of strings)
        key = np.zeros(n, dtype=np.int64)
        for c in columns:
            codes, uniques = pd.factorize(c, use_na_sentinel=False)
            key = pd.factorize(key * (len(uniques) + 1) + codes, use_na_sentinel=False)[0]
        dup = pd.Series(key).duplicated(keep=False).to_numpy()
        idx = np.flatnonzero(dup)
    first: dict[tuple, int] = {}
    later: dict[int, int] = {}
    for i in idx:
        key = tuple(c[i] for c in columns)
        j = first.setdefault(key, int(i))
        if j != i:
            later[int(i)] = j
    return later


def _duplicates(
    sink: _Sink,
    raw_cols: list[np.ndarray],
    typed: dict[str, np.ndarray],
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
