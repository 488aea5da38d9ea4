"""The platform's operating characteristics: how often the consecutive-patient rule reaches readiness.

A simulated platform is a sequence of treated patients, each judged on criterion 5 (criteria 1-4
taken as met): ``met`` is a success, ``not_met`` a failure that breaks the streak, ``insufficient``
an undecided patient who neither counts nor breaks but, once a later patient is decided, blocks
readiness as :func:`pmpath.pathway.rule.apply_rule` does. :func:`ready_within` evaluates the rule
for every simulated platform and every streak length at once: one pass over the (at most
``max_patients``) positions, vectorised over platforms, so one simulated sequence serves every
required number of consecutive successes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pmpath.errors import UsageError

__all__ = [
    "FAILURE",
    "SUCCESS",
    "UNDECIDED",
    "ReadyProbability",
    "ready_within",
]

SUCCESS, UNDECIDED, FAILURE = 1, 0, -1
"""Per-patient outcome codes: criterion 5 met, insufficient, not met."""


@dataclass(frozen=True)
class ReadyProbability:
    """The chance that a platform is ready within ``max_patients``, by simulation."""

    required_consecutive: int
    max_patients: int
    p_ready: float
    mc_se: float  # Monte Carlo standard error, sqrt(p (1 - p) / n_sim)
    n_sim: int
    mean_patients_to_ready: float  # among platforms that became ready; NaN if none did


def ready_within(
    outcomes: np.ndarray, required: Sequence[int], max_patients: int | None = None
) -> list[ReadyProbability]:
    """For each streak length in ``required``: the share of platforms ready within ``max_patients``.

    Parameters
    ----------
    outcomes
        (n_sim, n_patients) outcome codes (:data:`SUCCESS`, :data:`UNDECIDED`, :data:`FAILURE`),
        patients in order of first dose.
    required
        Required numbers of consecutive successes (each at least 1).
    max_patients
        Horizon: only the first ``max_patients`` patients are treated (default: all columns).

    Returns
    -------
    list[ReadyProbability]
        One per element of ``required``, in its order.

    Notes
    -----
    After patient ``k`` the rule's state is the current run of successes and whether an
    undecided patient sits before the last decided one ("waiting", which blocks readiness for
    good in a simulation, as nobody's evidence is completed later). A platform is ready at the
    first ``k`` with ``run >= r`` and nothing waiting; it stays ready (authorization is not
    withdrawn by a later failure in this count).

    Examples
    --------
    >>> codes = np.array([[1, 1, 1, -1], [1, -1, 1, 1], [0, 1, 1, 1]])
    >>> [round(r.p_ready, 3) for r in ready_within(codes, [2, 3])]
    [0.667, 0.333]
    """
    codes = np.asarray(outcomes)
    if codes.ndim != 2:
        raise UsageError(
            f"outcomes: found an array of {codes.ndim} dimension(s), expected (n_sim, n_patients)"
        )
    bad = ~np.isin(codes, (SUCCESS, UNDECIDED, FAILURE))
    if bad.any():
        raise UsageError(
            f"outcomes: found code {codes[bad][0].item()!r}, expected {SUCCESS} (met), {UNDECIDED} (insufficient) or {FAILURE} (not met)"
        )
    required = [int(r) for r in required]
    if not required or min(required) < 1:
        raise UsageError(f"required: found {required!r}, expected streak lengths of at least 1")
    n_sim, n_patients = codes.shape
    horizon = n_patients if max_patients is None else int(max_patients)
    if not 1 <= horizon <= n_patients:
        raise UsageError(
            f"max_patients: found {max_patients!r}, expected 1 to the {n_patients} simulated patients"
        )
    if n_sim == 0:
        raise UsageError("outcomes: found no simulated platform, expected at least one row")
    req = np.asarray(required)
    run = np.zeros(n_sim, dtype=np.int64)
    pending = np.zeros(n_sim, dtype=bool)  # an undecided patient since the last decided one
    waiting = np.zeros(n_sim, dtype=bool)  # an undecided patient before a decided one: blocked
    ready_at = np.full((n_sim, req.size), -1, dtype=np.int64)
    for k in range(horizon):
        c = codes[:, k]
        decided = c != UNDECIDED
        waiting |= pending & decided
        pending = (pending & ~decided) | (c == UNDECIDED)
        run = np.where(c == SUCCESS, run + 1, np.where(c == FAILURE, 0, run))
        now = (run[:, None] >= req[None, :]) & ~waiting[:, None] & (ready_at < 0)
        ready_at[now] = k + 1
    out = []
    for j, r in enumerate(required):
        hit = ready_at[:, j] > 0
        p = float(hit.mean())
        out.append(
            ReadyProbability(
                required_consecutive=r,
                max_patients=horizon,
                p_ready=p,
                mc_se=math.sqrt(p * (1 - p) / n_sim),
                n_sim=n_sim,
                mean_patients_to_ready=float(ready_at[hit, j].mean()) if hit.any() else math.nan,
            )
        )
    return out
