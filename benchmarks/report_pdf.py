"""Time the PDF report (`write_pdf`) on each bundled example against its budget: 2 s per patient page.

Run: `.venv/bin/python benchmarks/report_pdf.py [--repeat N]`. Each example is assessed and its HTML
report rendered once, untimed; then the PDF is printed N times and the median printed, in total and
per patient page (the total less the overview printed alone, divided by the patients), in wall-clock
and CPU seconds (CPU time is steadier on a shared machine). WeasyPrint is single-threaded, so the
2-core budget is the same as one core's. The first print in a process also pays WeasyPrint's import
and font set-up (about a second), which a `pmpath assess --pdf` run pays once.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS_PER_PATIENT = 2.0


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _page_count(pdf: Path) -> str:
    """The PDF's page count from poppler's pdfinfo, or "?" without it."""
    import shutil
    import subprocess

    if shutil.which("pdfinfo") is None:
        return "?"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False).stdout
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from pmpath.dossier import load_dossier
    from pmpath.examples import EXAMPLES, example_path
    from pmpath.pathway import assess_dossier
    from pmpath.report.html import render_html
    from pmpath.report.pdf import write_pdf

    print(
        f"{'example':<14}{'patients':>9}{'pages':>7}{'total s':>9}{'cpu s':>8}"
        f"{'s/patient':>11}{'cpu s/patient':>15}{'budget ratio':>14}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in EXAMPLES:
            assessment = assess_dossier(load_dossier(example_path(name)))
            out = Path(tmp) / name
            out.mkdir()
            render_html(assessment, None, out)
            n = len(list((out / "patients").glob("*.html")))
            write_pdf(out, Path(tmp) / "warm-up.pdf")  # imports, fonts
            # the overview alone: the same folder without its patient pages
            alone = Path(tmp) / f"{name}-overview"
            alone.mkdir()
            (alone / "index.html").write_bytes((out / "index.html").read_bytes())
            (alone / "patients").mkdir()
            whole = [_timed(lambda out=out: write_pdf(out)) for _ in range(args.repeat)]
            overview = [_timed(lambda alone=alone: write_pdf(alone)) for _ in range(args.repeat)]
            wall = statistics.median(w for w, _ in whole)
            cpu = statistics.median(c for _, c in whole)
            per_wall = (wall - statistics.median(w for w, _ in overview)) / max(n, 1)
            per_cpu = (cpu - statistics.median(c for _, c in overview)) / max(n, 1)
            pages = _page_count(out / "report.pdf")
            print(
                f"{name:<14}{n:>9}{pages:>7}{wall:>9.2f}{cpu:>8.2f}{per_wall:>11.2f}"
                f"{per_cpu:>15.2f}{per_cpu / BUDGET_SECONDS_PER_PATIENT:>14.2f}"
            )


if __name__ == "__main__":
    main()
