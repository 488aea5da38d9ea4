"""Checking the plain tables the natural-history fits take: the columns are there and hold finite numbers.

Each fit calls :func:`numeric_table` once, so every fit reports a bad table the same way: which
endpoint, which column, what was found and what was expected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pmpath.errors import AnalysisError


def numeric_table(data: pd.DataFrame, endpoint: str, numeric: tuple[str, ...]) -> pd.DataFrame:
    """Return ``data[["subject", *numeric]]`` with the numeric columns as float.

    Parameters
    ----------
    data : pandas.DataFrame
        The table given to a fit; extra columns are ignored.
    endpoint : str
        Endpoint id, named in error messages.
    numeric : tuple of str
        Columns that must hold finite numbers.

    Raises
    ------
    AnalysisError
        When a column is missing, a value is not a finite number, or the table is empty.
    """
    if not isinstance(data, pd.DataFrame):
        raise AnalysisError(
            f"endpoint {endpoint!r}: found {type(data).__name__}, expected a pandas DataFrame"
        )
    wanted = ("subject", *numeric)
    missing = [c for c in wanted if c not in data.columns]
    if missing:
        raise AnalysisError(
            f"endpoint {endpoint!r}: missing column(s) {missing}; found {list(data.columns)}, expected {list(wanted)}"
        )
    out = data[list(wanted)].copy()
    if out.empty:
        raise AnalysisError(
            f"endpoint {endpoint!r}: found no rows, expected at least one observation"
        )
    if out["subject"].isna().any():
        raise AnalysisError(
            f"endpoint {endpoint!r}: found {int(out['subject'].isna().sum())} row(s) without a subject, expected every row to name its subject"
        )
    for column in numeric:
        values = pd.to_numeric(out[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            first = data[column].iloc[int(np.flatnonzero(bad)[0])]
            raise AnalysisError(
                f"endpoint {endpoint!r}: column {column!r} has {int(bad.sum())} value(s) that are not finite numbers "
                f"(first: {first!r}), expected finite numbers"
            )
        out[column] = values
    return out.reset_index(drop=True)
