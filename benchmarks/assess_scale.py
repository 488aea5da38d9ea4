"""Assess and render a generated 1,000-patient dossier: time per patient, report size per patient.

Issue 6's budget on 2 cores: at most 60 s for 1,000 patients without ``--pdf``, and a report
whose size grows linearly with the patients. The dossier is the bundled abe-ucd example with its
patients copied (new ids, dates moved back a day per copy), built by ``benchmarks/dossier_scale.py``.

    .venv/bin/python benchmarks/assess_scale.py                 # 1,000 patients (and 100 for the slope)
    .venv/bin/python benchmarks/assess_scale.py --patients 200 --pdf

Prints the time per patient for loading, assessing, rendering and (with ``--pdf``) the PDF
separately, the report's size per patient at both sizes, and the ratio to the budget.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import tempfile
import time
from pathlib import Path

BUDGET_S = 60.0
BUDGET_PATIENTS = 1000


def _scale_module():
    path = Path(__file__).with_name("dossier_scale.py")
    spec = importlib.util.spec_from_file_location("dossier_scale", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def run(patients: int, workdir: Path, pdf: bool) -> dict[str, float]:
    from pmpath.dossier import load_dossier
    from pmpath.examples import example_path
    from pmpath.pathway import assess_dossier
    from pmpath.report import write_report

    dossier = workdir / f"patients-{patients}"
    if not dossier.exists():
        shutil.copytree(example_path("abe-ucd"), dossier)
        _scale_module().build_patients(dossier, patients)
    out = workdir / f"report-{patients}"
    t0 = time.perf_counter()
    loaded = load_dossier(dossier)
    t1 = time.perf_counter()
    assessment = assess_dossier(loaded)
    t2 = time.perf_counter()
    write_report(assessment, loaded, out)
    t3 = time.perf_counter()
    result = {"load": t1 - t0, "assess": t2 - t1, "render": t3 - t2, "size": _size(out)}
    if pdf:
        from pmpath.report.pdf import write_pdf

        t4 = time.perf_counter()
        write_pdf(out)
        result["pdf"] = time.perf_counter() - t4
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=BUDGET_PATIENTS)
    parser.add_argument("--pdf", action="store_true", help="also time the PDF")
    parser.add_argument("--workdir", type=Path, help="keep the generated dossiers and reports here")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pmpath-assess-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    small = max(args.patients // 10, 10)
    rows = {n: run(n, workdir, args.pdf) for n in (small, args.patients)}
    for n, r in rows.items():
        per = {k: 1000 * v / n for k, v in r.items() if k != "size"}
        print(
            f"{n:>6,} patients: load {r['load']:6.1f} s, assess {r['assess']:6.1f} s, "
            f"render {r['render']:6.1f} s"
            + (f", pdf {r['pdf']:6.1f} s" if "pdf" in r else "")
            + "; per patient: "
            + ", ".join(f"{k} {v:.0f} ms" for k, v in per.items())
            + f"; report {r['size'] / 1e6:.1f} MB ({r['size'] / n / 1e3:.0f} kB per patient)"
        )
    big = rows[args.patients]
    total = big["load"] + big["assess"] + big["render"]
    budget = BUDGET_S * args.patients / BUDGET_PATIENTS
    print(f"budget {budget:.0f} s without --pdf: {total:.1f} s, ratio {total / budget:.2f}")
    growth = (big["size"] / args.patients) / (rows[small]["size"] / small)
    print(
        f"report size per patient, {args.patients} vs {small} patients: ratio {growth:.2f} (1 = linear)"
    )


if __name__ == "__main__":
    main()
