"""assessment.json's canonical form: sorted keys, 6 significant digits, NaN as null, stable bytes."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmpath import atomic
from pmpath.report.assessment_json import canonical


def test_floats_are_rounded_to_six_significant_digits() -> None:
    assert canonical(1 / 3) == 0.333333
    assert canonical(123456789.0) == 123457000.0
    assert canonical(np.float32(2.5)) == 2.5
    assert canonical([float("nan"), float("inf")]) == [None, None]
    assert canonical({"d": dt.date(2026, 1, 2), "b": np.bool_(True), "i": np.int64(3)}) == {
        "d": "2026-01-02",
        "b": True,
        "i": 3,
    }


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError):
        canonical(object())


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_canonical_floats_are_idempotent_and_json_safe(x: float) -> None:
    c = canonical(x)
    assert canonical(c) == c
    json.dumps(c, allow_nan=False)
    if c is not None and x != 0:
        assert math.isclose(c, x, rel_tol=5e-6)


def test_atomic_directory_keeps_the_old_output_on_failure(tmp_path) -> None:
    out = tmp_path / "report"
    with atomic.directory(out) as tmp:
        (tmp / "a.txt").write_text("first")
    with pytest.raises(RuntimeError), atomic.directory(out) as tmp:
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("analysis failed midway")
    assert (out / "a.txt").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["report"]
