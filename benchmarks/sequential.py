"""Time the exact MaxSPRT critical values and performance (pmpath.postmarket.sequential).

Run: `.venv/bin/python benchmarks/sequential.py`. R's `Sequential` answers CV.Poisson for
alpha 0.05 and T >= 2 from a table (instant) and computes every other case; there is no side-by-
side run here, only each computation's time on this machine.
"""

from __future__ import annotations

import time

from pmpath.postmarket import (
    critical_value_binomial,
    critical_value_poisson,
    performance_binomial,
    performance_poisson,
)

CASES = [
    ("CV.Poisson T=10", lambda: critical_value_poisson(10, 0.05)),
    ("CV.Poisson T=100, alpha 0.01", lambda: critical_value_poisson(100, 0.01)),
    ("CV.Poisson T=1000", lambda: critical_value_poisson(1000, 0.05)),
    (
        "CV.G.Poisson T=200, 20 looks",
        lambda: critical_value_poisson(200, 0.05, group_sizes=[10] * 20),
    ),
    ("CV.Binomial N=200, z=1", lambda: critical_value_binomial(200, 0.05, matching_ratio=1)),
    ("CV.Binomial N=1000, z=2", lambda: critical_value_binomial(1000, 0.05, matching_ratio=2)),
    ("Performance.Poisson T=1000, RR=1.5", lambda: performance_poisson(1000, 4.3249, rr=1.5)),
    (
        "Performance.Binomial N=1000",
        lambda: performance_binomial(1000, 4.0, matching_ratio=2, rr=1.5),
    ),
]


def main() -> None:
    for name, run in CASES:
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        print(f"{name:40s} {seconds:7.3f} s   {result}")


if __name__ == "__main__":
    main()
