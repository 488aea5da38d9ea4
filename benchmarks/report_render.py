"""Time the HTML report (`render_html`) on each bundled example against its target: under 1.5 s.

Run: `.venv/bin/python benchmarks/report_render.py [--repeat N]`. Each example is loaded and assessed
once, untimed; then the report is rendered N times into fresh directories and the median printed,
with the static SVGs drawn as in `pmpath assess` (worker processes when there are enough charts).
No peer tool renders this report, so the ratio printed is against the 1.5 s target, not a peer.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 1.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from pmpath.dossier import load_dossier
    from pmpath.examples import EXAMPLES, example_path
    from pmpath.pathway import assess_dossier
    from pmpath.report.html import render_html

    print(f"{'example':<16}{'svg files':>10}{'median s':>10}{'min s':>10}{'target ratio':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in EXAMPLES:
            assessment = assess_dossier(load_dossier(example_path(name)))
            seconds = []
            for i in range(args.repeat):
                out = Path(tmp) / f"{name}-{i}"
                out.mkdir()
                start = time.perf_counter()
                render_html(assessment, None, out)
                seconds.append(time.perf_counter() - start)
            svgs = len(list((out / "plots").glob("*.svg")))
            med = statistics.median(seconds)
            print(
                f"{name:<16}{svgs:>10}{med:>10.2f}{min(seconds):>10.2f}{med / TARGET_SECONDS:>14.2f}"
            )


if __name__ == "__main__":
    main()
