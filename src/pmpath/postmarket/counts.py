"""Counting drug-event pairs in spontaneous reports as Ibis expressions (DuckDB by default, Spark or BigQuery alike).

From one row per report x drug x event (``id``, ``drug``, ``event`` and optional stratum columns)
:func:`pair_counts_expr` builds the expression of one row per observed pair: ``N`` (unique reports
with the pair), the unique-report marginals ``n_drug``, ``n_event`` and ``n_total``, and the expected
count ``E``. Without strata E = n_drug n_event / n_total; with strata it is the Mantel-Haenszel-style
sum over strata of n_drug,s n_event,s / n_total,s, each margin counted within the stratum (as
openEBGM's ``processRaw(stratify = TRUE)``). Repeated rows of one report count once.

The expression only uses grouping, distinct and joins, so the same counts run on any Ibis backend;
:func:`count_pairs` executes it (on an in-memory DuckDB for a DataFrame or an Arrow table) and returns
a :class:`PairCounts`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pmpath.errors import UsageError

__all__ = ["PairCounts", "count_pairs", "pair_counts_expr"]

REQUIRED = ("id", "drug", "event")


def _check_columns(table: ir.Table, strata: Sequence[str]) -> None:
    columns = set(table.columns)
    missing = [c for c in (*REQUIRED, *strata) if c not in columns]
    if missing:
        raise UsageError(
            f"report table: found columns {sorted(columns)}, expected also {', '.join(missing)}"
        )
    clash = [s for s in strata if s in REQUIRED or s in ("N", "E")]
    if clash:
        raise UsageError(
            f"strata: found {', '.join(clash)}, expected stratum columns other than id, drug, event"
        )


def pair_counts_expr(reports: ir.Table, strata: Sequence[str] = ()) -> ir.Table:
    """The Ibis expression of every observed pair's N, marginals and E (not executed).

    Parameters
    ----------
    reports : ibis.Table
        Columns ``id``, ``drug``, ``event`` and the ``strata`` columns.
    strata : sequence of str
        Stratum columns (sex, age group, year...); empty for the unstratified E.

    Returns
    -------
    ibis.Table
        ``drug``, ``event``, ``N``, ``n_drug``, ``n_event``, ``n_total`` (int64) and ``E`` (float64).
    """
    strata = list(strata)
    _check_columns(reports, strata)
    t = reports
    triples = t.select("id", "drug", "event").distinct()
    pairs = triples.group_by(["drug", "event"]).aggregate(N=triples.count())
    drugs = t.select("id", "drug").distinct()
    drugs = drugs.group_by("drug").aggregate(n_drug=drugs.count())
    events = t.select("id", "event").distinct()
    events = events.group_by("event").aggregate(n_event=events.count())
    ids = t.select("id").distinct()
    total = ids.aggregate(n_total=ids.count()).mutate(_one=ibis.literal(1))
    crude = (
        pairs.join(drugs, "drug")
        .join(events, "event")
        .mutate(_one=ibis.literal(1))
        .join(total, "_one")
        .drop("_one")
    )
    if not strata:
        return crude.mutate(
            E=crude.n_drug.cast("float64")
            * crude.n_event.cast("float64")
            / crude.n_total.cast("float64")
        ).select("drug", "event", "N", "n_drug", "n_event", "n_total", "E")
    sd = t.select("id", "drug", *strata).distinct()
    sd = sd.group_by(["drug", *strata]).aggregate(n_ds=sd.count())
    se = t.select("id", "event", *strata).distinct()
    se = se.group_by(["event", *strata]).aggregate(n_es=se.count())
    ss = t.select("id", *strata).distinct()
    ss = ss.group_by(strata).aggregate(n_s=ss.count())
    keys = pairs.select("drug", "event")
    per_stratum = keys.join(sd, "drug").join(se, ["event", *strata]).join(ss, strata)
    per_stratum = per_stratum.mutate(
        e_s=per_stratum.n_ds.cast("float64")
        * per_stratum.n_es.cast("float64")
        / per_stratum.n_s.cast("float64")
    )
    expected = per_stratum.group_by(["drug", "event"]).aggregate(E=per_stratum.e_s.sum())
    return crude.join(expected, ["drug", "event"]).select(
        "drug", "event", "N", "n_drug", "n_event", "n_total", "E"
    )


@dataclass(frozen=True)
class PairCounts:
    """Every observed drug-event pair's counts, sorted by drug then event.

    Attributes
    ----------
    table : pandas.DataFrame
        ``drug``, ``event``, ``N``, ``n_drug``, ``n_event``, ``n_total``, ``E``.
    reports : int
        Unique report ids.
    strata : tuple of str
        The stratum columns E was computed over (empty: unstratified).
    """

    table: pd.DataFrame
    reports: int
    strata: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.table)

    @property
    def n(self) -> np.ndarray:
        return self.table["N"].to_numpy(dtype=np.int64)

    @property
    def e(self) -> np.ndarray:
        return self.table["E"].to_numpy(dtype=float)


def _encoded(reports) -> tuple[pa.Table, dict[str, pa.Array]]:
    """Arrow columns as integer codes (the counting groups integers, not strings); the dictionaries to decode."""
    table = (
        pa.Table.from_pandas(reports, preserve_index=False)
        if isinstance(reports, pd.DataFrame)
        else reports
    )
    columns, dictionaries = {}, {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_integer(column.type):
            columns[name] = column
            continue
        encoded = pc.dictionary_encode(column).combine_chunks()
        columns[name] = encoded.indices
        dictionaries[name] = encoded.dictionary
    return pa.table(columns), dictionaries


def count_pairs(reports, strata: Sequence[str] = ()) -> PairCounts:
    """Count N, the marginals and E of every observed pair (executes :func:`pair_counts_expr`).

    Parameters
    ----------
    reports : ibis.Table, pandas.DataFrame or pyarrow.Table
        One row per report x drug x event: ``id``, ``drug``, ``event`` and the ``strata`` columns.
        A DataFrame or Arrow table runs on an in-memory DuckDB (its text columns counted as
        integer codes, decoded after); an Ibis table on its own backend.
    strata : sequence of str
        Stratum columns for E.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"id": [1, 1, 2, 3], "drug": ["A", "A", "A", "B"],
    ...                      "event": ["x", "y", "x", "x"]})
    >>> c = count_pairs(rows)
    >>> c.table[["drug", "event", "N", "E"]].to_dict("list")
    {'drug': ['A', 'A', 'B'], 'event': ['x', 'y', 'x'], 'N': [2, 1, 1], 'E': [2.0, 0.6666666666666666, 1.0]}
    """
    strata = tuple(strata)
    if isinstance(reports, ir.Table):
        result = pair_counts_expr(reports, strata).to_pyarrow()
    elif isinstance(reports, (pd.DataFrame, pa.Table)):
        missing = [
            c
            for c in (*REQUIRED, *strata)
            if c
            not in list(
                reports.columns if isinstance(reports, pd.DataFrame) else reports.column_names
            )
        ]
        if missing:
            raise UsageError(
                f"report table: found columns {sorted(map(str, reports.columns if isinstance(reports, pd.DataFrame) else reports.column_names))}, "
                f"expected also {', '.join(missing)}"
            )
        table = (
            reports[[*REQUIRED, *strata]]
            if isinstance(reports, pd.DataFrame)
            else reports.select([*REQUIRED, *strata])
        )
        codes, dictionaries = _encoded(table)
        _bound_duckdb_memory(codes.num_rows if hasattr(codes, "num_rows") else len(codes))
        result = pair_counts_expr(ibis.memtable(codes), strata).to_pyarrow()
        for name in ("drug", "event"):
            if name in dictionaries:
                index = result.column_names.index(name)
                decoded = dictionaries[name].take(result.column(name).cast(pa.int64()))
                result = result.set_column(index, name, decoded)
    else:
        raise UsageError(
            f"reports: found {type(reports).__name__}, expected an ibis Table, a pandas DataFrame or an Arrow table"
        )
    result = result.sort_by([("drug", "ascending"), ("event", "ascending")])
    frame = result.to_pandas()
    for column in ("N", "n_drug", "n_event", "n_total"):
        frame[column] = frame[column].astype(np.int64)
    frame["E"] = frame["E"].astype(float)
    n_total = int(frame["n_total"].iloc[0]) if len(frame) else 0
    return PairCounts(frame, n_total, strata)


#: DuckDB's working memory for counting in-memory rows: this many bytes per row, at least the floor.
#: Its default (80% of RAM) lets the hash aggregation keep far more than it needs; with a bound it
#: spills to disk instead (1M reports: 643 MB peak instead of 758 MB, and no slower).
DUCKDB_BYTES_PER_ROW = 32
DUCKDB_MIN_MEMORY = 128 * 2**20


def _bound_duckdb_memory(rows: int) -> None:
    """Bound the default DuckDB backend's memory to what counting ``rows`` rows needs."""
    limit = max(DUCKDB_MIN_MEMORY, DUCKDB_BYTES_PER_ROW * int(rows))
    # another default backend (Spark, BigQuery) has its own memory management: nothing to set
    with contextlib.suppress(Exception):
        ibis.get_backend().raw_sql(f"SET memory_limit='{limit // 2**20}MB'")
