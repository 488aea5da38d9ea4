"""Time and memory of validating and assessing large dossiers, against issue 5's targets (2 cores).

Run: `.venv/bin/python benchmarks/dossier_scale.py [--subjects 100000] [--patients 1000] [--workdir DIR]`.
Two dossiers are built from the bundled ``abe-ucd`` example (generation is not timed):

- **large cohort**: the ``otc-nh`` natural-history cohort replaced by ``--subjects`` generated
  subjects with ``--visits`` visits each, every visit measuring the three continuous endpoints
  (100,000 x 28 x 3 = 8.4 M rows of ``longitudinal.csv``, 284 MB: the example's long endpoint
  names make it larger than the issue's 200 MB file, so a little harder), and three crisis windows
  per subject in ``events.csv``. Values follow the example's linear mixed model (random intercept
  and slope per subject; parameters of ``scripts/generate_examples.py``), drawn with numpy from one seed.
- **many patients**: the example's four patients copied to ``--patients`` patients with new ids
  (``P0001``, ...) and every date moved back by a whole number of days per copy, so each copy is
  still valid (same ages, same days from first dose) and the first doses are spread out.

Each measurement runs in a fresh Python process (so the peak resident memory is that of the step
alone): ``load_dossier`` (validate), then ``assess_dossier`` + ``write_report``. The script prints
seconds, the peak resident set size (``getrusage``; and, sampled, the peak while assessing on top of
the loaded dossier) and the ratio to the targets: the large cohort validated and assessed in at most
60 s and 2 GB, 1,000 patients validated in at most 10 s (``--assess-patients`` times assessing them
too, without a target). A ratio above 1 misses the target.
``--workdir`` keeps the generated dossiers there and reuses them on the next run.
``--growth spline`` (or ``both``, the default) measures the large cohort again with every continuous
endpoint's growth curve a natural spline in age with its df chosen by AIC (1-4) and the three subject
covariates (``analysis_plan.natural_history.endpoints``), against the same targets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SEED = 20250611
COHORT = "otc-nh"
PREFIX = "OTC"
# Targets of issue 5, section 6.
COHORT_SECONDS = 60.0
COHORT_BYTES = 2 * 1024**3
PATIENTS_SECONDS = 10.0
PATIENTS_AT_TARGET = 1000
# scripts/generate_examples.py, abe-ucd: (endpoint, scale, beta0, beta1, sd_b0, sd_b1, sd_e, decimals, lower)
GROWTH = (
    ("protein_tolerance", "identity", 0.90, -0.020, 0.15, 0.015, 0.08, 2, 0.25),
    ("ammonia", "log", float(np.log(45.0)), 0.040, 0.30, 0.020, 0.18, 0, 1.0),
    ("scavenger_dose", "identity", 350.0, -12.0, 50.0, 5.0, 20.0, 0, 50.0),
)
AGE_CENTER = 5.0
CRISIS_RATE, CRISIS_ALPHA = 1.5, 0.5
WINDOWS = 3  # crisis windows per subject
# analysis_plan.natural_history.endpoints of the --growth spline variant
_SPLINE_ENTRY = "{age_shape: spline, covariates: [genotype_class, sex, age_at_onset]}"
SPLINE_PLAN = f"    endpoints: {{{', '.join(f'{g[0]}: {_SPLINE_ENTRY}' for g in GROWTH)}}}\n"
PLAN_ANCHOR = "    min_events: 20\n"
DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


# --------------------------------------------------------------------------- building the dossiers


def _write_csv(path: Path, columns: dict[str, object]) -> None:
    """Write columns (numpy arrays, or (codes, labels) pairs for repeated strings) with pyarrow."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    arrays = {}
    for name, col in columns.items():
        if isinstance(col, tuple):
            codes, labels = col
            arrays[name] = pa.DictionaryArray.from_arrays(
                pa.array(codes, pa.int32()), pa.array(labels, pa.string())
            ).cast(pa.string())
        else:
            arrays[name] = pa.array(col)
    with path.open("wb") as sink:  # pyarrow quotes the header; the dossier's CSVs do not
        sink.write((",".join(arrays) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16)
        pacsv.write_csv(pa.table(arrays), sink, options)


def build_cohort(dossier: Path, n_subjects: int, n_visits: int) -> int:
    """Replace the ``otc-nh`` cohort's subjects, longitudinal and events tables; returns the row count."""
    rng = np.random.default_rng(SEED)
    n = n_subjects
    null = rng.uniform(size=n) < 0.45
    neonatal = null | (rng.uniform(size=n) < 0.5)
    onset = np.where(neonatal, rng.uniform(0.003, 0.02, n), rng.uniform(0.3, 4.0, n))
    at_diagnosis = rng.uniform(size=n) < 0.3
    entry = np.where(
        at_diagnosis, onset + rng.uniform(0.02, 0.1, n), rng.uniform(onset + 0.02, 12.0)
    )
    span = np.minimum(rng.uniform(1.5, 6.0, n), 18.0 - entry)
    # Visits evenly spread over the span with a jitter of 30 % of the spacing: distinct ages after
    # rounding to 3 decimals, so no (subject, age, endpoint) key repeats.
    step = np.arange(n_visits) + rng.uniform(-0.3, 0.3, (n, n_visits))
    step[:, 0], step[:, -1] = 0.0, n_visits - 1
    ages = np.round(entry[:, None] + span[:, None] * step / (n_visits - 1), 3)
    labels = np.char.add(PREFIX, np.char.zfill(np.arange(1, n + 1).astype(str), 6))
    sexes = np.array(["female", "male"])
    classes = np.array(["missense", "null"])
    folder = dossier / "natural_history" / COHORT
    _write_csv(
        folder / "subjects.csv",
        {
            "subject": labels,
            "sex": (
                (rng.uniform(size=n) < 0.75).astype(np.int32),
                sexes.tolist(),
            ),
            "genotype_class": (null.astype(np.int32), classes.tolist()),
            "age_at_onset": np.round(onset, 3),
        },
    )
    blocks = []
    for k, (_, scale, b0, b1, sd0, sd1, sde, decimals, lower) in enumerate(GROWTH):
        u0 = rng.normal(0.0, sd0, (n, 1))
        u1 = rng.normal(0.0, sd1, (n, 1))
        z = b0 + u0 + (b1 + u1) * (ages - AGE_CENTER) + rng.normal(0.0, sde, (n, n_visits))
        value = np.maximum(np.exp(z) if scale == "log" else z, lower)
        blocks.append((k, np.round(value, decimals)))
    # rows sorted by subject, then endpoint, then age, as the example's
    value = np.stack([v for _, v in blocks], axis=1)  # (n, endpoints, visits)
    n_end = len(GROWTH)
    subject_code = np.repeat(np.arange(n, dtype=np.int32), n_end * n_visits)
    endpoint_code = np.tile(np.repeat(np.arange(n_end, dtype=np.int32), n_visits), n)
    _write_csv(
        folder / "longitudinal.csv",
        {
            "subject": (subject_code, labels.tolist()),
            "age": np.broadcast_to(ages[:, None, :], value.shape).reshape(-1),
            "endpoint": (endpoint_code, [g[0] for g in GROWTH]),
            "value": value.reshape(-1),
        },
    )
    cut = np.linspace(0, n_visits - 1, WINDOWS + 1).round().astype(int)
    start, end = ages[:, cut[:-1]], ages[:, cut[1:]]
    mu = CRISIS_RATE * (end - start)
    counts = rng.poisson(rng.gamma(1.0 / CRISIS_ALPHA, CRISIS_ALPHA * mu))
    _write_csv(
        folder / "events.csv",
        {
            "subject": (np.repeat(np.arange(n, dtype=np.int32), WINDOWS), labels.tolist()),
            "age_start": start.reshape(-1),
            "age_end": end.reshape(-1),
            "endpoint": (np.zeros(n * WINDOWS, np.int32), ["hyperammonemic_crises"]),
            "count": counts.reshape(-1).astype(np.int64),
        },
    )
    return int(value.size)


def _shift_dates(text: str, days: int) -> str:
    def moved(m: re.Match[str]) -> str:
        date = dt.date(int(m[1]), int(m[2]), int(m[3])) - dt.timedelta(days=days)
        return date.isoformat()

    return DATE.sub(moved, text)


def build_patients(dossier: Path, n_patients: int) -> None:
    """Replace ``patients/`` by ``n_patients`` copies of the example's patients, new ids, dates moved back."""
    patients = dossier / "patients"
    templates = sorted(p for p in patients.iterdir() if p.is_dir())
    texts = {t.name: {f.name: f.read_text() for f in t.iterdir()} for t in templates}
    shutil.rmtree(patients)
    patients.mkdir()
    width = max(4, len(str(n_patients)))
    for i in range(n_patients):
        template = templates[i % len(templates)].name
        new_id = f"P{i + 1:0{width}d}"
        shift = i // len(templates)  # days earlier than the template
        folder = patients / new_id
        folder.mkdir()
        for name, text in texts[template].items():
            text = _shift_dates(text, shift)
            if name == "case.yaml":
                text = re.sub(rf"\b{re.escape(template)}\b", new_id, text)
            (folder / name).write_text(text)


def build(workdir: Path, subjects: int, visits: int, patients: int) -> dict[str, Path]:
    """The two dossiers under ``workdir``, generated unless a previous run left them with these sizes."""
    from pmpath.examples import example_path

    source = example_path("abe-ucd")
    digest = hashlib.sha256()
    for f in sorted(source.rglob("*")):  # a changed example (a new schema) is built afresh
        if f.is_file():
            digest.update(f.relative_to(source).as_posix().encode() + b"\0" + f.read_bytes())
    example = digest.hexdigest()
    out = {}
    for kind, size in (("cohort", (subjects, visits)), ("patients", (patients,))):
        if not size[0]:
            continue
        target = workdir / f"abe-ucd-{kind}"
        stamp = target / ".dossier_scale.json"
        wanted = {"kind": kind, "size": list(size), "seed": SEED, "example": example}
        if not (stamp.exists() and json.loads(stamp.read_text()) == wanted):
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target)
            start = time.perf_counter()
            if kind == "cohort":
                rows = build_cohort(target, subjects, visits)
                what = f"{subjects:,} subjects, {rows:,} longitudinal rows"
            else:
                build_patients(target, patients)
                what = f"{patients:,} patients"
            size_mb = sum(f.stat().st_size for f in target.rglob("*") if f.is_file()) / 1e6
            print(
                f"built {target} ({what}, {size_mb:.0f} MB) in {time.perf_counter() - start:.1f} s",
                file=sys.stderr,
            )
            stamp.write_text(json.dumps(wanted))
        out[kind] = target
    return out


# --------------------------------------------------------------------------- measuring


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


class _ResidentPeak:
    """The largest resident set size seen while a step runs, sampled every 10 ms (Linux /proc).

    ``getrusage`` gives the peak of the whole process; this gives the peak of one step, so the
    memory assessing adds on top of the loaded dossier is seen even below the loader's own peak.
    """

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def now() -> int:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * resource.getpagesize()
        except OSError:
            return 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            self._stop.wait(0.01)

    def __enter__(self) -> _ResidentPeak:
        self.peak = self.now()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


def measure(dossier: Path, out: Path, assess: bool) -> dict[str, float]:
    """Run in a fresh process: seconds and peak bytes after loading, then after assessing and reporting."""
    from pmpath.dossier import load_dossier
    from pmpath.pathway import assess_dossier
    from pmpath.report import write_report

    result: dict[str, float] = {"baseline_bytes": _peak_bytes()}
    start = time.perf_counter()
    loaded = load_dossier(dossier)
    result["validate_s"] = time.perf_counter() - start
    result["validate_bytes"] = _peak_bytes()
    if assess:
        result["loaded_bytes"] = _ResidentPeak.now()
        with _ResidentPeak() as during:
            start = time.perf_counter()
            assessment = assess_dossier(loaded)
            result["assess_s"] = time.perf_counter() - start
            start = time.perf_counter()
            write_report(assessment, loaded, out)
            result["report_s"] = time.perf_counter() - start
        result["assess_peak_bytes"] = during.peak
        result["peak_bytes"] = _peak_bytes()
        result["report_bytes"] = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        result["assessment_json_bytes"] = (out / "assessment.json").stat().st_size
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # on a shared machine, beside the wall time
    return result


def _run_measure(dossier: Path, out: Path, assess: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--measure", str(dossier), "--out", str(out)]
    if not assess:
        command.append("--validate-only")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"measuring {dossier} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _report(
    title: str, r: dict[str, float], target: str, target_s: float, target_bytes: float | None
) -> None:
    """Print one measurement; ``target`` is what the time target covers: "all" steps or "validate"."""
    timed = r["validate_s"] + (
        r.get("assess_s", 0.0) + r.get("report_s", 0.0) if target == "all" else 0.0
    )
    peak = r.get("peak_bytes", r["validate_bytes"])
    print(f"\n{title}")
    print(
        f"  validate (load_dossier)     {r['validate_s']:8.1f} s   peak {r['validate_bytes'] / 1e9:5.2f} GB"
    )
    if "assess_s" in r:
        print(f"  assess_dossier              {r['assess_s']:8.1f} s")
        print(f"  write_report                {r['report_s']:8.1f} s   peak {peak / 1e9:5.2f} GB")
        if r.get("assess_peak_bytes"):
            print(
                f"  resident after loading {r['loaded_bytes'] / 1e9:.2f} GB, at most "
                f"{r['assess_peak_bytes'] / 1e9:.2f} GB while assessing and reporting"
            )
        print(
            f"  report size                 {r['report_bytes'] / 1e6:8.1f} MB  "
            f"(assessment.json {r['assessment_json_bytes'] / 1e3:.0f} kB)"
        )
    what = "validate + assess + report" if target == "all" else "validate"
    print(f"  target {target_s:g} s for {what}: {timed:.1f} s, ratio {timed / target_s:.2f}")
    if "cpu_s" in r:
        print(
            f"  CPU time of the process (all steps) {r['cpu_s']:.1f} s, load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
    if target_bytes is not None:
        print(
            f"  target {target_bytes / 1024**3:g} GB peak memory: {peak / 1e9:.2f} GB, ratio {peak / target_bytes:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000, help="cohort subjects (0: skip)")
    parser.add_argument("--visits", type=int, default=28, help="visits per cohort subject")
    parser.add_argument("--patients", type=int, default=1000, help="patients (0: skip)")
    parser.add_argument("--assess-patients", action="store_true", help="also assess the patients")
    parser.add_argument("--workdir", type=Path, help="keep and reuse the generated dossiers here")
    parser.add_argument(
        "--growth",
        choices=("linear", "spline", "both"),
        default="both",
        help="large cohort's growth curves: the plan's default straight line, spline by AIC with covariates, or both",
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--validate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.out, not args.validate_only)))
        return
    if args.visits < 2:
        parser.error(f"--visits: found {args.visits}, expected at least 2")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        dossiers = build(workdir, args.subjects, args.visits, args.patients)
        if "cohort" in dossiers:
            rows = args.subjects * args.visits * len(GROWTH)
            platform = dossiers["cohort"] / "platform.yaml"
            for growth in ("linear", "spline"):
                if args.growth not in (growth, "both"):
                    continue
                original = platform.read_text()
                if growth == "spline":  # the plan edited for this run only
                    platform.write_text(original.replace(PLAN_ANCHOR, PLAN_ANCHOR + SPLINE_PLAN, 1))
                try:
                    r = _run_measure(
                        dossiers["cohort"], Path(tmp) / f"report-cohort-{growth}", assess=True
                    )
                finally:
                    platform.write_text(original)
                shape = "straight lines" if growth == "linear" else "splines by AIC + 3 covariates"
                _report(
                    f"large cohort: {args.subjects:,} subjects, {rows:,} longitudinal rows, {shape}",
                    r, "all", COHORT_SECONDS, COHORT_BYTES,
                )  # fmt: skip
        if "patients" in dossiers:
            r = _run_measure(
                dossiers["patients"], Path(tmp) / "report-patients", assess=args.assess_patients
            )
            scaled = PATIENTS_SECONDS * args.patients / PATIENTS_AT_TARGET
            title = (
                f"{args.patients:,} patients (target scaled from {PATIENTS_SECONDS:g} s per 1,000)"
            )
            _report(title, r, "validate", scaled, None)


if __name__ == "__main__":
    main()
