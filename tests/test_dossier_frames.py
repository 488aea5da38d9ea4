"""The loader's fast frame builder against pandas' own constructor.

``dossier.load._frame`` builds the thousands of small per-patient frames through a pandas
internal (``DataFrame._from_arrays``) with a shared Index of column names; whatever pandas
version is installed, its frames must equal ``pd.DataFrame(columns)`` in values, dtypes and
column names, and renaming one frame's columns must not rename another's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pmpath.dossier.load import _empty, _frame

texts = st.lists(st.text(max_size=5), min_size=3, max_size=3)
numbers = st.lists(st.floats(allow_nan=True, allow_infinity=False), min_size=3, max_size=3)


@settings(max_examples=60, deadline=None)
@given(day=numbers, term=texts, count=st.lists(st.integers(-5, 5), min_size=3, max_size=3))
def test_frames_equal_the_constructors(day, term, count):
    columns = {
        "day": np.array(day),
        "term": pd.Series(term, dtype=object),
        "count": np.array(count),
        "flag": np.array([True, False, True]),
        "label": "constant",  # a scalar broadcast to the rows
    }
    pd.testing.assert_frame_equal(_frame(columns), pd.DataFrame(columns))


def test_empty_frames_and_their_column_names_are_their_own():
    first, second = _empty("day", "term"), _empty("day", "term")
    pd.testing.assert_frame_equal(
        first, pd.DataFrame({c: pd.Series(dtype=object) for c in ("day", "term")})
    )
    first.columns = ["renamed", "term"]
    assert list(second.columns) == ["day", "term"]
    assert list(_empty("day", "term").columns) == ["day", "term"]
