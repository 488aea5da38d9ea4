"""Checking a large table over its distinct texts gives what checking every cell gives.

From 4096 rows a table's text columns are read dictionary-encoded (each distinct text once, and an
index per row) and the checks strip, parse and look up each distinct text once. These tests hold
that to the per-cell checking, for tables above the threshold holding whitespace around cells, bad
numbers, empty cells, duplicate keys and exact duplicate rows: the same findings in the same order,
the same typed values.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmpath.dossier.check import DateFrame, check_table
from pmpath.dossier.load import _first_rows, _mapped
from pmpath.dossier.source import EncodedColumn, Table, read_table
from pmpath.dossier.tables import NH_LONGITUDINAL, Column, TableKind, _date

ROWS = 4200  # above the 4096 rows from which columns are encoded

KIND = TableKind(
    "t",
    "Test table",
    "",
    (
        Column("id", "identifier", "", required=True),
        *_date("date", "day"),
        Column("x", "number", "", required=True, minimum=0, maximum=100),
        Column("n", "integer", ""),
        Column("flag", "boolean", ""),
        Column("kind", "choice", "", choices=("a", "b")),
        Column("note", "text", ""),
    ),
    keys=("id", "day"),
    key_extra=("note",),
)
DATES = DateFrame(dt.date(2026, 1, 10), dt.date(2027, 12, 31), dt.date(2020, 1, 1))

_NUMBERS = [
    "1",
    " 2",
    "3 ",
    "2.5",
    "-1",
    "-0",
    "0",
    "",
    "abc",
    "1e3",
    "nan",
    "inf",
    "1_000",
    "٣",
    "7.0",
]
_CELLS = {
    "id": ["P1", " P1", "P1 ", "P2", "", "P3", "p1"],
    "date": [
        "2026-01-10",
        " 2026-01-11",
        "2026-02-30",
        "2026/01/12",
        "",
        "2030-01-01",
        "2019-05-01",
    ],
    "study_day": ["1", "2", " 3", "0", "-1", "", "1.5", "x", "900"],
    "x": _NUMBERS,
    "n": _NUMBERS,
    "flag": ["true", " yes", "N", "", "maybe", "FALSE "],
    "kind": ["a", "b ", "c", "", " a"],
    "note": ["", "n1", " n1", "n2"],
}


def _table(columns: dict[str, list[str]], rows: int, seed: int) -> bytes:
    """CSV text of ``rows`` rows, each cell drawn from its column's cells."""
    rng = np.random.default_rng(seed)
    picked = {
        name: rng.choice(np.array(cells, dtype=object), rows) for name, cells in columns.items()
    }
    lines = [",".join(columns)]
    lines += [",".join(picked[name][i] for name in columns) for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _cell_by_cell(table: Table) -> Table:
    """The same table with every column held as one value per row (the form of a small table)."""
    return Table(table.path, dict(table.columns), table.row_lines, table.header_line)


def _check(table: Table, kind: TableKind, dates: DateFrame | None):
    findings: list = []
    checked = check_table(table, kind, findings, dates=dates)
    return findings, checked


def _assert_same_frames(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for name in a:
        x, y = a[name], b[name]
        assert x.dtype == y.dtype, name
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), name
            assert np.array_equal(np.signbit(x), np.signbit(y)), name  # -0.0 stays -0.0
        else:
            assert x.tolist() == y.tolist(), name


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sets(st.sampled_from(sorted(set(_CELLS) - {"id"})), min_size=1).map(
        lambda s: ["id", *sorted(s)]
    ),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 3, 40]),
)
def test_encoded_table_is_checked_as_cell_by_cell(names: list[str], seed: int, n_ids: int) -> None:
    """Any mix of columns, few or many distinct texts: findings and values as checked per cell.

    (Every table has the id column: a table of one column would lose its empty cells as blank
    lines.)
    """
    columns = {name: _CELLS[name] for name in names}
    columns["id"] = [*columns["id"], *(f"S{i}" for i in range(n_ids))]
    raw = _table(columns, ROWS, seed)
    findings: list = []
    table = read_table(raw, "t.csv", findings)
    assert not findings
    assert all(c.indices is not None for c in table.cells.values())  # read encoded
    encoded = _check(table, KIND, DATES)
    plain = _check(_cell_by_cell(table), KIND, DATES)
    assert encoded[0] == plain[0]
    if plain[1] is None:
        assert encoded[1] is None
        return
    _assert_same_frames(encoded[1].frame, plain[1].frame)


def test_an_encoded_longitudinal_table_has_the_findings_of_one_checked_cell_by_cell() -> None:
    """A cohort table with every kind of problem, found the same way both ways."""
    raw = _table(
        {
            "subject": ["S1", " S1", "S2 ", "", "S3", *(f"S{i}" for i in range(4, 60))],
            "age": ["1.5", " 2.25", "", "-1", "x", "3", "3.0", "1_000", "-0"],
            "endpoint": ["ammonia", " ammonia", "ammonia ", "", "protein"],
            "value": _NUMBERS,
        },
        ROWS,
        seed=5,
    )
    findings: list = []
    table = read_table(raw, "longitudinal.csv", findings)
    encoded = _check(table, NH_LONGITUDINAL, None)
    plain = _check(_cell_by_cell(table), NH_LONGITUDINAL, None)
    fields = {f.field for f in encoded[0]}
    assert {"age", "value", "subject, age, endpoint"} <= fields  # the table does have problems
    assert any("identical to line" in f.found for f in encoded[0])
    assert encoded[0] == plain[0]
    _assert_same_frames(encoded[1].frame, plain[1].frame)
    assert set(encoded[1].encodings) == {"subject", "endpoint"}
    for name, column in encoded[1].encodings.items():
        assert column.decode().tolist() == plain[1].frame[name].tolist()


@settings(deadline=None, max_examples=50)
@given(
    st.lists(st.sampled_from(["a", " a", "a ", "b", "", "c"]), min_size=1, max_size=30),
    st.lists(st.integers(0, 5), min_size=1, max_size=300),
)
def test_first_rows_and_mapped_values_of_an_encoded_column(
    texts: list[str], picks: list[int]
) -> None:
    """The loader's lookups over distinct values equal those over every row, stripped duplicates
    (' a' and 'a' both 'a') included."""
    values = np.array([t.strip() for t in texts], dtype=object)
    indices = np.array([p % len(values) for p in picks], dtype=np.int32)
    encoded = EncodedColumn(values, indices)
    rows = EncodedColumn(values[indices])
    assert list(_first_rows(encoded).items()) == list(_first_rows(rows).items())
    mapping = {"a": 2.0, "b": np.nan, "": 0.5}
    assert np.array_equal(_mapped(encoded, mapping), _mapped(rows, mapping), equal_nan=True)


_PADDING = {
    "id": "Z{}",
    "date": "2026-03-01",
    "study_day": "51",
    "x": "1",
    "n": "1",
    "flag": "true",
    "kind": "a",
    "note": "",
}
# Python's float and pandas' parser (a small table's and a large one's) differ on these
_PARSED_APART = {"1_000", "٣", "-0"}


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sets(st.sampled_from(sorted(set(_CELLS) - {"id"})), min_size=1).map(
        lambda s: ["id", *sorted(s)]
    ),
    st.integers(0, 2**32 - 1),
    st.integers(1, 60),
)
def test_a_small_table_has_the_same_findings_when_grown_past_the_threshold(
    names: list[str], seed: int, rows: int
) -> None:
    """A small table (plain Python) and the same rows followed by valid ones up to a large,
    encoded table (arrow, pandas) have the same findings and the same values for those rows."""
    columns = {name: [c for c in _CELLS[name] if c not in _PARSED_APART] for name in names}
    raw = _table(columns, rows, seed)
    padding = "".join(
        ",".join(_PADDING[name].format(i) for name in names) + "\n" for i in range(ROWS)
    )
    small, large = read_table(raw, "t.csv", []), read_table(raw + padding.encode(), "t.csv", [])
    assert all(c.indices is None for c in small.cells.values())
    assert all(c.indices is not None for c in large.cells.values())
    f_small, c_small = _check(small, KIND, DATES)
    f_large, c_large = _check(large, KIND, DATES)
    assert f_small == f_large
    if c_small is None:
        assert c_large is None
        return
    for name, values in c_small.frame.items():
        head = c_large.frame[name][:rows]
        if values.dtype.kind == "f":
            assert np.array_equal(values, head, equal_nan=True), name
        else:
            assert values.tolist() == head.tolist(), name
