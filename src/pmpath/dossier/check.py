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
    frame: pd.DataFrame
    lines: np.ndarray
    ignored_columns: list[str] = field(default_factory=list)
    display: dict[str, str] = field(default_factory=dict)  # our column name -> the file's

    def line(self, i: int) -> int:
        return int(self.lines[i])


class _Sink:
    """Collects findings for one table, listing few rows per problem and counting the rest."""

    def __init__(self, findings: list[Finding], table: Table, display: dict[str, str]):
        self.findings = findings
        self.table = table
        self.display = display
        self.row_word = "row" if getattr(table, "row_kind", "line") == "row" else "line"

    def name(self, column: str) -> str:
        return self.display.get(column, column)

    def add(self, line, column: str, found: str, expected: str, severity=Severity.error) -> None:
        line = None if line is None else int(line)
        self.findings.append(
            Finding(self.table.path, line, self.name(column), found, expected, severity)
        )

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
            self.add(self.table.line(int(i)), column, found(int(i)), expected, severity)
        rest = idx[MAX_ROWS_LISTED:]
        if len(rest):
            lines = [self.table.line(int(i)) for i in rest[:5]]
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


def _strings(frame: pd.DataFrame, column: str) -> pd.Series:
    s = frame[column]
    if s.dtype != object and not pd.api.types.is_string_dtype(s):
        s = s.astype(str)
    return s.fillna("").astype(str).str.strip()


def _numbers(
    sink: _Sink, text: pd.Series, col: Column, required: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of numbers; returns (values, valid) with NaN where empty or invalid."""
    empty = (text == "").to_numpy()
    values = pd.to_numeric(text.where(~empty, None), errors="coerce").to_numpy(dtype=float)
    bad = ~empty & ~np.isfinite(values)
    kind = "a whole number" if col.type == "integer" else "a number"
    shown = text.to_numpy()
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


def _dates(
    sink: _Sink,
    text: pd.Series,
    name: str,
    dates: DateFrame | None,
) -> tuple[np.ndarray, np.ndarray]:
    """ISO dates -> days from first dose (float, NaN where empty); (days, valid)."""
    empty = (text == "").to_numpy()
    shown = text.to_numpy()
    well_formed = text.str.fullmatch(_ISO_DATE).to_numpy(dtype=bool)
    wrong_format = ~empty & ~well_formed
    sink.rows(wrong_format, name, lambda i: _quote(shown[i]), "a date written YYYY-MM-DD")
    parsed = pd.to_datetime(text.where(well_formed, None), format="%Y-%m-%d", errors="coerce")
    invalid = well_formed & parsed.isna().to_numpy()
    sink.rows(
        invalid, name, lambda i: f"{shown[i]!r}, not a calendar date", "a valid calendar date"
    )
    ok = well_formed & ~invalid
    if dates is None:
        return np.full(len(text), np.nan), ok | empty
    days = np.full(len(text), np.nan)
    first = pd.Timestamp(dates.first_dose)
    days[ok] = ((parsed[ok] - first) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    cutoff_day = (dates.cutoff - dates.first_dose).days
    late = ok & (days > cutoff_day)
    sink.rows(late, name, lambda i: shown[i], f"a date on or before the data cutoff {dates.cutoff}")
    ok &= ~late
    if dates.earliest is not None:
        early_day = (dates.earliest - dates.first_dose).days
        early = ok & (days < early_day)
        sink.rows(
            early,
            name,
            lambda i: (
                f"{shown[i]}, before the patient's birth (first dose less the age at first dose)"
            ),
            f"a date on or after {dates.earliest}",
        )
        ok &= ~early
    days = np.where(ok, days, np.nan)
    return days, ok | empty


def _study_days(
    sink: _Sink, text: pd.Series, name: str, dates: DateFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """CDISC study days -> days from first dose (float, NaN where empty); (days, valid)."""
    empty = (text == "").to_numpy()
    shown = text.to_numpy()
    values = pd.to_numeric(text.where(~empty, None), errors="coerce").to_numpy(dtype=float)
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
        cutoff_day = (dates.cutoff - dates.first_dose).days
        late = ok & (days > cutoff_day)
        sink.rows(
            late,
            name,
            lambda i: (
                f"study day {shown[i]} ({dates.first_dose + dt.timedelta(days=int(days[i]))})"
            ),
            f"a day on or before the data cutoff {dates.cutoff}",
        )
        ok &= ~late
        if dates.earliest is not None:
            early_day = (dates.earliest - dates.first_dose).days
            early = ok & (days < early_day)
            sink.rows(
                early,
                name,
                lambda i: f"study day {shown[i]}, before the patient's birth",
                f"a day on or after {dates.earliest}",
            )
            ok &= ~early
        days = np.where(ok, days, np.nan)
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
    sink = _Sink(findings, table, display)
    raw = table.frame
    ignored = [c for c in ignore_columns if c in raw.columns]
    for c in ignore_columns:
        if c not in raw.columns:
            findings.append(
                Finding(
                    table.path,
                    1,
                    c,
                    "a column listed in ignore_columns that the file does not have",
                    f"one of the file's columns: {', '.join(map(str, raw.columns))}",
                    Severity.warning,
                )
            )
    ours_of = {c: rename.get(c, c) for c in raw.columns if c not in ignored}
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
                f"columns {', '.join(map(str, raw.columns)) or '(none)'}",
                f"the required column(s) {', '.join(display.get(m, m) for m in missing)}",
            )
        )
        return None
    if not ok_structure:
        return None

    frame = raw.rename(columns=ours_of)[[ours_of[c] for c in raw.columns if c in ours_of]]
    n = len(frame)
    out: dict[str, object] = {}
    valid = np.ones(n, dtype=bool)
    for col in kind.columns:
        if col.name not in frame.columns:
            continue
        text = _strings(frame, col.name)
        if col.type in ("number", "integer", "age"):
            values, ok = _numbers(sink, text, col, col.required)
            out[col.name] = values
            valid &= ok
        elif col.type == "boolean":
            low = text.str.lower()
            is_true = low.isin(_TRUE).to_numpy()
            is_false = low.isin(_FALSE).to_numpy()
            empty = (text == "").to_numpy()
            bad = ~is_true & ~is_false & (~empty | col.required)
            shown = text.to_numpy()
            sink.rows(bad, col.name, lambda i, s=shown: _quote(s[i]), "true or false")
            out[col.name] = np.where(is_true, True, np.where(is_false, False, None))
            valid &= ~bad
        elif col.type == "choice":
            empty = (text == "").to_numpy()
            bad = ~text.isin(col.choices).to_numpy() & (~empty | col.required)
            shown = text.to_numpy()
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
                empty = (text == "").to_numpy()
                sink.rows(empty, col.name, lambda i: "an empty cell", f"a {col.type}")
                valid &= ~empty
            out[col.name] = text
    for date_name, study_name in kind.date_pairs:
        n_days = np.full(n, np.nan)
        have_date = date_name in frame.columns
        have_study = study_name in frame.columns
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
            d_shown, s_shown = d_text.to_numpy(), s_text.to_numpy()
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
            absent &= (d_text == "").to_numpy()
        if have_study:
            absent &= (s_text == "").to_numpy()
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

    typed = pd.DataFrame(out, index=pd.RangeIndex(n))
    lines = np.asarray(table.row_lines, dtype=np.int64)
    _duplicates(sink, frame, typed, kind, lines)
    return CheckedTable(table.path, typed, lines, ignored, display)


def _duplicates(
    sink: _Sink, raw: pd.DataFrame, typed: pd.DataFrame, kind: TableKind, lines: np.ndarray
) -> None:
    """Exact duplicate rows, then repeated keys, each a finding on the later row."""
    if len(raw) < 2:
        return
    keys = [k for k in kind.keys if k in typed.columns]
    keys += [k for k in kind.key_extra if k in typed.columns]
    if keys and len(keys) >= len([k for k in kind.keys]):
        key_frame = typed[keys]
        dup_any = key_frame.duplicated(keep=False).to_numpy()
        if not dup_any.any():
            return
        idx = np.flatnonzero(dup_any)
        sub_raw = raw.iloc[idx]
        sub_key = key_frame.iloc[idx]
        exact_later = sub_raw.duplicated(keep="first").to_numpy()
        first_line: dict[tuple, int] = {}
        first_raw: dict[tuple, int] = {}
        exact_rows: list[int] = []
        key_rows: list[int] = []
        exact_first: dict[int, int] = {}
        key_first: dict[int, int] = {}
        raw_values = sub_raw.astype(str).to_numpy()
        key_values = sub_key.to_numpy()
        for j, i in enumerate(idx):
            k = tuple(key_values[j])
            r = tuple(raw_values[j])
            if exact_later[j]:
                exact_rows.append(int(i))
                exact_first[int(i)] = first_raw[r]
            elif k in first_line:
                key_rows.append(int(i))
                key_first[int(i)] = first_line[k]
            first_line.setdefault(k, int(lines[i]))
            first_raw.setdefault(r, int(lines[i]))
        _report_dups(sink, exact_rows, exact_first, "", kind, exact=True)
        _report_dups(sink, key_rows, key_first, ", ".join(keys), kind, exact=False)
    else:
        dup = raw.duplicated(keep="first").to_numpy()
        if not dup.any():
            return
        firsts: dict[tuple, int] = {}
        exact_first = {}
        values = raw.astype(str).to_numpy()
        rows = []
        for i in range(len(raw)):
            r = tuple(values[i])
            if dup[i]:
                rows.append(i)
                exact_first[i] = firsts[r]
            else:
                firsts.setdefault(r, int(lines[i]))
        _report_dups(sink, rows, exact_first, "", kind, exact=True)


def _report_dups(sink: _Sink, rows, first_of, keys: str, kind: TableKind, exact: bool) -> None:
    mask = np.zeros(len(sink.table.row_lines), dtype=bool)
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
