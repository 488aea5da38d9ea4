"""Time `pmpath assess` on each bundled example (the issue's budget: under 10 s each on 2 cores).

Run: `make benchmark` or `.venv/bin/python benchmarks/assess_example.py [--repeat N]`.
Two timings per example: the whole command in a fresh process (imports included, what a user
waits for) and the assessment alone in this process (load + five criteria + report). No peer
tool computes this pathway's criteria, so there is no side-by-side ratio here; the ratio printed
is against the 10 s budget.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 10.0


def _time_cli(dossier: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pmpath.cli", "assess", str(dossier), "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def _time_in_process(dossier: Path, out: Path) -> float:
    from pmpath.dossier import load_dossier
    from pmpath.pathway import assess_dossier
    from pmpath.report import write_report

    start = time.perf_counter()
    loaded = load_dossier(dossier)
    write_report(assess_dossier(loaded), loaded, out)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from pmpath.examples import EXAMPLES, example_path

    print(f"{'example':<16}{'cli median s':>14}{'in-process s':>14}{'budget ratio':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in EXAMPLES:
            dossier = example_path(name)
            cli = [_time_cli(dossier, Path(tmp) / f"{name}-cli") for _ in range(args.repeat)]
            inproc = [
                _time_in_process(dossier, Path(tmp) / f"{name}-in") for _ in range(args.repeat)
            ]
            med = statistics.median(cli)
            print(
                f"{name:<16}{med:>14.2f}{statistics.median(inproc):>14.2f}{med / BUDGET_SECONDS:>14.2f}"
            )


if __name__ == "__main__":
    main()
