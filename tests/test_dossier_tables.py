"""Property tests for the table parser: study days and ISO dates mean the same day; line numbers stick."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pmpath.dossier.check import DateFrame, check_table
from pmpath.dossier.source import read_table
from pmpath.dossier.tables import Column, TableKind, _date

KIND = TableKind("t", "Test table", "", (*_date("date", "day"), Column("x", "text", "")))

FIRST = dt.date(2026, 1, 10)
CUTOFF = dt.date(2027, 12, 31)


def parse(text: str):
    findings: list = []
    table = read_table(text.encode(), "t.csv", findings)
    assert not findings
    checked = check_table(table, KIND, findings, dates=DateFrame(FIRST, CUTOFF))
    return checked.frame["day"], findings, table


@settings(deadline=None)
@given(st.lists(st.integers(-400, 700), min_size=1, max_size=20, unique=True))
def test_iso_dates_and_study_days_agree(offsets: list[int]) -> None:
    dates = [FIRST + dt.timedelta(days=o) for o in offsets]
    study = [o + 1 if o >= 0 else o for o in offsets]  # CDISC: no study day 0
    by_date, f1, _ = parse("date,x\n" + "".join(f"{d.isoformat()},1\n" for d in dates))
    by_day, f2, _ = parse("study_day,x\n" + "".join(f"{s},1\n" for s in study))
    assert not f1 and not f2
    assert np.array_equal(by_date, by_day) and by_date.tolist() == offsets


@settings(deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=15))
def test_blank_lines_do_not_shift_reported_line_numbers(blanks: list[bool]) -> None:
    lines, expected = ["study_day,x"], []
    for i, blank in enumerate(blanks):
        if blank:
            lines.append("")
        lines.append(f"{i + 1},1")
        expected.append(len(lines))
    _, _, table = parse("\n".join(lines) + "\n")
    assert list(table.row_lines) == expected


def test_study_day_zero_and_dates_after_cutoff_are_findings() -> None:
    _, findings, _ = parse("study_day,x\n0,1\n800,1\n")
    assert [(f.line, f.field) for f in findings] == [(2, "study_day"), (3, "study_day")]
    assert "no study day 0" in findings[0].message or "other than 0" in findings[0].message
    assert "data cutoff" in findings[1].message
