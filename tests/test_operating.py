"""The platform simulator's streak algebra against the rule itself (:func:`apply_rule`)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmpath.dossier.vocabulary import Status
from pmpath.errors import UsageError
from pmpath.pathway.operating import FAILURE, SUCCESS, UNDECIDED, ready_within
from pmpath.pathway.rule import PatientStanding, apply_rule

_STATUS = {SUCCESS: Status.met, UNDECIDED: Status.insufficient, FAILURE: Status.not_met}


def _first_ready_by_rule(row: list[int], r: int) -> int:
    """The first number of treated patients after which apply_rule says ready (0: never)."""
    for k in range(1, len(row) + 1):
        standings = [
            PatientStanding(
                f"P{i}", {1: Status.met, 2: Status.met, 3: Status.met, 4: Status.met, 5: _STATUS[c]}
            )
            for i, c in enumerate(row[:k])
        ]
        if apply_rule(standings, r).ready:
            return k
    return 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([SUCCESS, UNDECIDED, FAILURE]), min_size=8, max_size=8),
        min_size=1,
        max_size=6,
    ),
    st.integers(1, 8),
)
def test_ready_within_agrees_with_apply_rule(rows: list[list[int]], horizon: int) -> None:
    codes = np.array(rows)
    got = ready_within(codes, [1, 2, 3, 4], max_patients=horizon)
    for res in got:
        firsts = [_first_ready_by_rule(row[:horizon], res.required_consecutive) for row in rows]
        assert res.p_ready == pytest.approx(np.mean([f > 0 for f in firsts]))
        reached = [f for f in firsts if f > 0]
        if reached:
            assert res.mean_patients_to_ready == pytest.approx(np.mean(reached))


def test_success_probability_p_gives_known_streak_chance() -> None:
    """Independent successes with probability p: P(3 in a row within 3 patients) = p^3, and within
    n the classic run recursion (checked by exact enumeration of all 2^n sequences)."""
    rng = np.random.default_rng(7)
    p, n = 0.7, 6
    codes = np.where(rng.random((200_000, n)) < p, SUCCESS, FAILURE)
    exact = 0.0
    for mask in range(2**n):
        seq = [(mask >> i) & 1 for i in range(n)]
        run = best = 0
        for s in seq:
            run = run + 1 if s else 0
            best = max(best, run)
        if best >= 3:
            exact += p ** sum(seq) * (1 - p) ** (n - sum(seq))
    (three_of_three,) = ready_within(codes, [3], max_patients=3)
    (three_of_six,) = ready_within(codes, [3], max_patients=6)
    assert abs(three_of_three.p_ready - p**3) < 4 * three_of_three.mc_se
    assert abs(three_of_six.p_ready - exact) < 4 * three_of_six.mc_se


@pytest.mark.parametrize(
    ("codes", "kwargs", "match"),
    [
        (np.zeros(3), {}, "dimension"),
        (np.array([[2]]), {}, "found code 2"),
        (np.array([[1]]), {"required": [0]}, "at least 1"),
        (np.array([[1]]), {"max_patients": 2}, "max_patients"),
    ],
)
def test_caller_mistakes(codes, kwargs, match) -> None:
    with pytest.raises(UsageError, match=match):
        ready_within(codes, kwargs.pop("required", [1]), **kwargs)
