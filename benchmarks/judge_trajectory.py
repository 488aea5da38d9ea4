"""Time the vectorised criterion-5 rule for a progressive endpoint: simulate and judge n patients at once.

Run: `.venv/bin/python benchmarks/judge_trajectory.py [--patients 10000 100000] [--repeat 5]`.
Patients come from a fixed growth model (five pre-treatment visits over the year before dosing, six
post-dose visits over 18 months, dosing ages 2-16 years) through
:func:`pmpath.outcomes.simulate_trajectory_patients` and are judged with
:func:`pmpath.outcomes.judge_trajectory_batch` (main and leave-last-out analyses, flags, halves); the
script prints the median seconds of each step and, for comparison, of the scalar
:func:`pmpath.outcomes.judge_trajectory` on 200 patients scaled to the same n.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from pmpath.outcomes import (
    TrajectoryRule,
    UntreatedModel,
    judge_trajectory,
    judge_trajectory_batch,
    simulate_trajectory_patients,
)

MODEL = UntreatedModel(
    np.array([0.87, -0.023]),
    np.array([[3.8e-4, 1.1e-5], [1.1e-5, 1.4e-5]]),
    np.array([[0.0176, 3.9e-4], [3.9e-4, 3.6e-4]]),
    0.0065,
    age_center=6.0,
)
PRE = np.linspace(-1.0, 0.0, 5)
POST = np.arange(1, 7) * 0.25


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rule = TrajectoryRule()
    for n in args.patients:
        rng = np.random.default_rng(1)
        dose = rng.uniform(2.0, 16.0, n)

        def simulate(n=n, dose=dose, rng=rng):
            return simulate_trajectory_patients(
                MODEL, n, rng, pre_offsets_years=PRE, post_offsets_years=POST, dosing_ages=dose
            )

        data = simulate()
        sim = _median_seconds(simulate, args.repeat)
        judge = _median_seconds(
            lambda data=data, dose=dose: judge_trajectory_batch(
                MODEL, *data, "higher_is_better", rule, dosing_ages=dose
            ),
            args.repeat,
        )
        k = min(200, n)
        t = time.perf_counter()
        for i in range(k):
            judge_trajectory(
                MODEL, data[0][i], data[1][i], data[2][i], data[3][i], "higher_is_better", rule,
                dosing_age=dose[i],
            )  # fmt: skip
        scalar = (time.perf_counter() - t) / k * n
        print(
            f"{n:>8} patients: simulate {sim:.3f} s, judge (batch) {judge:.3f} s, "
            f"judge (scalar, extrapolated) {scalar:.1f} s"
        )


if __name__ == "__main__":
    main()
