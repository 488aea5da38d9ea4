"""Time pmpath's disproportionality pipeline (counting, squashing, prior fit, scores) against openEBGM's 67 s.

Run: `.venv/bin/python benchmarks/signals.py [--reports 1000000] [--seed 20251201] [--no-exact]`;
`--reports 20000000` is the FAERS-scale run (target: at most 2 minutes, generation not counted).

The reports are generated with a fixed seed: drugs and events Zipf-distributed, each drug in one of
60 classes and each event in one of 40 groups, with overdispersed class-group affinities (gamma,
shape 0.5) so the prior fit is not degenerate, and a few planted signals (a drug that brings an
event in 30% of its reports). 1M reports give about 2.85M report-drug-event rows and half a
million pairs, the size of the measurement quoted in issue 12 (openEBGM 0.9.1 on 2 cores: 67 s and
708 MB; data processing 9 s, squashing 1 s, prior fit 15 s, scores with quantiles 38 s).

The rows are written to a Parquet file and the analysis runs in a fresh process that reads it, so
the peak memory printed is the analysis's own (reading the file is timed apart). The benchmark then
checks that (1) the planted signals rank at the top by EB05 and (2) the fast path equals pmpath's
exact computation with the same prior to 1e-4: EB05/EB95 from the vectorized Newton quantiles
against plain bisection on every pair, and the prior fitted on squashed points against the one
fitted on every pair (their EB05 compared; the likelihood of both on every pair printed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

OPENEBGM_SECONDS = 67.0
OPENEBGM_STEPS = {"counting": 9.0, "squashing": 1.0, "prior fit": 15.0, "scores": 38.0}
N_PLANTED = 8


def _zipf_weights(n: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def generate(n_reports: int, seed: int) -> tuple[pa.Table, list[tuple[str, str]]]:
    """Report x drug x event rows (``id``, ``drug``, ``event``) and the planted pairs."""
    rng = np.random.default_rng(seed)
    n_drugs, n_events, n_classes, n_groups = 4000, 3000, 60, 40
    p_drug = _zipf_weights(n_drugs, 1.05)
    p_event = _zipf_weights(n_events, 0.95)
    drug_class = rng.integers(0, n_classes, n_drugs)
    event_group = rng.integers(0, n_groups, n_events)
    affinity = rng.gamma(0.5, 2.0, (n_classes, n_groups))
    # per class, the event distribution: popularity x class-group affinity
    p_event_class = p_event[None, :] * affinity[:, event_group]
    cum_event_class = np.cumsum(p_event_class / p_event_class.sum(axis=1, keepdims=True), axis=1)
    cum_drug = np.cumsum(p_drug)

    k_drug = 1 + rng.poisson(0.45, n_reports)
    k_event = 1 + rng.poisson(1.0, n_reports)
    report_of_drug = np.repeat(np.arange(n_reports), k_drug)
    drugs = np.minimum(np.searchsorted(cum_drug, rng.random(report_of_drug.size)), n_drugs - 1)
    first = np.concatenate([[0], np.cumsum(k_drug)[:-1]])
    primary_class = drug_class[drugs[first]]
    report_of_event = np.repeat(np.arange(n_reports), k_event)
    cls = primary_class[report_of_event]
    u = rng.random(report_of_event.size)
    events = np.empty(report_of_event.size, dtype=np.int64)
    order = np.argsort(cls, kind="stable")
    bounds = np.searchsorted(cls[order], np.arange(n_classes + 1))
    for c in range(n_classes):
        idx = order[bounds[c] : bounds[c + 1]]
        events[idx] = np.minimum(np.searchsorted(cum_event_class[c], u[idx]), n_events - 1)
    # planted signals: drugs of middling popularity that bring a rare event in 30% of their reports
    planted_drugs = rng.choice(np.arange(40, 400), N_PLANTED, replace=False)
    planted_events = rng.choice(np.arange(300, 2000), N_PLANTED, replace=False)
    extra_r, extra_e = [], []
    for d, e in zip(planted_drugs, planted_events, strict=True):
        reports = np.unique(report_of_drug[drugs == d])
        hit = reports[rng.random(reports.size) < 0.3]
        extra_r.append(hit)
        extra_e.append(np.full(hit.size, e))
    report_of_event = np.concatenate([report_of_event, *extra_r])
    events = np.concatenate([events, *extra_e])
    # the cross product of each report's drugs and events
    ev_order = np.argsort(report_of_event, kind="stable")
    report_of_event, events = report_of_event[ev_order], events[ev_order]
    ev_count = np.bincount(report_of_event, minlength=n_reports)
    ev_start = np.concatenate([[0], np.cumsum(ev_count)[:-1]])
    reps = ev_count[report_of_drug]
    row_report = np.repeat(report_of_drug, reps)
    row_drug = np.repeat(drugs, reps)
    offset = np.arange(row_report.size) - np.repeat(np.cumsum(reps) - reps, reps)
    row_event = events[ev_start[row_report] + offset]
    drug_names = np.array([f"DRUG{i:05d}" for i in range(n_drugs)], dtype=object)
    event_names = np.array([f"EVENT{j:05d}" for j in range(n_events)], dtype=object)
    table = pa.table(
        {
            "id": pa.array(row_report.astype(np.int64)),
            "drug": pa.DictionaryArray.from_arrays(
                pa.array(row_drug.astype(np.int32)), pa.array(drug_names, pa.string())
            ).cast(pa.string()),
            "event": pa.DictionaryArray.from_arrays(
                pa.array(row_event.astype(np.int32)), pa.array(event_names, pa.string())
            ).cast(pa.string()),
        }
    )
    planted = [
        (drug_names[d], event_names[e]) for d, e in zip(planted_drugs, planted_events, strict=True)
    ]
    return table, planted


def analyse(path: Path, exact: bool) -> dict:
    """Run in a fresh process: read the Parquet rows, then time each step of the pipeline."""
    from pmpath.postmarket import (
        auto_squash,
        count_pairs,
        disproportionality,
        fit_prior,
        neg_log_likelihood,
        posterior_quantile_bisect,
        posterior_scores,
    )

    times: dict[str, tuple[float, float]] = {}  # step -> (wall, CPU of every thread) seconds

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    def timed(step, fn):
        t0, c0 = time.perf_counter(), cpu()
        value = fn()
        times[step] = (time.perf_counter() - t0, cpu() - c0)
        return value

    # drug and event as dictionary columns: the strings once each, not once per row
    rows = timed("reading parquet", lambda: pq.read_table(path, read_dictionary=["drug", "event"]))
    n_rows = rows.num_rows
    held = [
        rows
    ]  # handed over, so the rows are freed once counted: the counts are all that is needed
    del rows
    counts = timed("counting", lambda: count_pairs(held.pop()))
    n, e = counts.n, counts.e
    points = timed("squashing", lambda: auto_squash(n, e))
    fit = timed("prior fit", lambda: fit_prior(points.n, points.e, points.weight))
    t = counts.table

    def score():
        disproportionality(n, e, t["n_drug"].to_numpy(), t["n_event"].to_numpy(), counts.reports)
        return posterior_scores(fit.prior, n, e)

    scores = timed("scores", score)
    order = np.argsort(-scores.eb05, kind="stable")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    top = [(t["drug"].iloc[i], t["event"].iloc[i]) for i in order[:50]]
    result = {
        "rows": n_rows,
        "reports": counts.reports,
        "pairs": len(counts),
        "squashed_points": len(points),
        "times": times,
        "peak_mb": peak_mb,
        "prior": fit.prior.to_json(),
        "neg_log_likelihood": fit.neg_log_likelihood,
        "starts": [(s.converged, s.neg_log_likelihood) for s in fit.starts],
        "top": top,
    }
    if exact:
        t0 = time.perf_counter()
        lo = posterior_quantile_bisect(fit.prior, n, e, 0.05)
        hi = posterior_quantile_bisect(fit.prior, n, e, 0.95)
        result["quantile_max_rel_diff"] = float(
            max(np.max(np.abs(scores.eb05 / lo - 1)), np.max(np.abs(scores.eb95 / hi - 1)))
        )
        full = fit_prior(n, e, starts=(fit.prior,))  # every pair, from the squashed optimum
        full_scores = posterior_scores(full.prior, n, e)
        result["unsquashed_prior"] = full.prior.to_json()
        result["negll_all_pairs_squashed_prior"] = neg_log_likelihood(fit.prior, n, e)
        result["negll_all_pairs_unsquashed_prior"] = full.neg_log_likelihood
        result["eb05_squashed_vs_unsquashed_max_rel_diff"] = float(
            np.max(np.abs(scores.eb05 / full_scores.eb05 - 1))
        )
        result["ebgm_squashed_vs_unsquashed_max_rel_diff"] = float(
            np.max(np.abs(scores.ebgm / full_scores.ebgm - 1))
        )
        result["exact_seconds"] = time.perf_counter() - t0
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20251201)
    parser.add_argument(
        "--no-exact", action="store_true", help="Skip the exact (slow) comparisons."
    )
    parser.add_argument("--_analyse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._analyse is not None:
        print(json.dumps(analyse(args._analyse, exact=not args.no_exact), default=str))
        return 0

    t0 = time.perf_counter()
    table, planted = generate(args.reports, args.seed)
    gen_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reports.parquet"
        pq.write_table(table, path)
        del table
        print(f"generated {args.reports:,} reports in {gen_s:.1f} s (not counted)")
        cmd = [sys.executable, __file__, "--_analyse", str(path)]
        if args.no_exact:
            cmd.append("--no-exact")
        # A child's peak RSS starts from its parent's at the fork (this process held the generated
        # table), so the analysis runs under a small launcher and its own peak is the launcher's
        # RUSAGE_CHILDREN figure.
        launcher = (
            "import json, resource, subprocess, sys\n"
            "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "sys.stderr.write(done.stderr)\n"
            "sys.stdout.write(json.dumps({'rc': done.returncode, 'out': done.stdout,"
            " 'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
        )
        run = subprocess.run(
            [sys.executable, "-c", launcher, *cmd], check=True, capture_output=True, text=True
        )
    report = json.loads(run.stdout)
    if report["rc"] != 0:
        raise SystemExit(f"the analysis failed: {run.stderr[-2000:]}")
    r = json.loads(report["out"].strip().splitlines()[-1])
    r["peak_mb"] = report["maxrss_kb"] / 1024
    print(
        f"{r['rows']:,} report-drug-event rows, {r['reports']:,} reports, {r['pairs']:,} pairs, "
        f"{r['squashed_points']:,} squashed points"
    )
    total = total_cpu = 0.0
    for step, (seconds, cpu_s) in r["times"].items():
        peer = OPENEBGM_STEPS.get(step)
        if step != "reading parquet":
            total += seconds
            total_cpu += cpu_s
        ratio = (
            f"  (openEBGM {peer:.0f} s: x{peer / seconds:.1f} faster)"
            if peer
            else "  (not counted)"
        )
        print(f"  {step:16s} {seconds:7.2f} s wall, {cpu_s:7.2f} s CPU{ratio}")
    print(
        f"  {'total':16s} {total:7.2f} s wall, {total_cpu:7.2f} s CPU; openEBGM {OPENEBGM_SECONDS:.0f} s "
        f"for 1M reports: ratio {total / OPENEBGM_SECONDS:.3f} (target <= 0.1 at 1M reports)"
    )
    with open("/proc/loadavg") as fh:
        print(
            f"  load average while measuring: {fh.read().split()[0]} on {os.cpu_count()} cores "
            "(wall times are only comparable on an otherwise idle machine)"
        )
    print(
        f"  peak memory of the analysis process: {r['peak_mb']:.0f} MB (openEBGM 708 MB, target <= 700 MB)"
    )
    print(
        f"  prior {r['prior']}; -log-likelihood {r['neg_log_likelihood']:.6f}; starts {r['starts']}"
    )
    top = {tuple(p) for p in r["top"][: len(planted)]}
    ok_planted = top == set(planted)
    ranks = [r["top"].index(list(p)) + 1 if list(p) in r["top"] else None for p in planted]
    print(f"planted signals at the top by EB05: {'yes' if ok_planted else 'NO'} (ranks {ranks})")
    ok_exact = True
    if "quantile_max_rel_diff" in r:
        q = r["quantile_max_rel_diff"]
        ok_exact = q <= 1e-4
        print(
            f"vectorized EB05/EB95 vs bisection, same prior: max relative difference {q:.2e} "
            f"({'ok' if ok_exact else 'ABOVE'} 1e-4)"
        )
        print(
            f"squashed (autoSquash) vs unsquashed prior fit: EB05 max relative difference "
            f"{r['eb05_squashed_vs_unsquashed_max_rel_diff']:.2e}, EBGM "
            f"{r['ebgm_squashed_vs_unsquashed_max_rel_diff']:.2e}; -log-likelihood on every pair "
            f"{r['negll_all_pairs_squashed_prior']:.4f} (squashed fit) vs "
            f"{r['negll_all_pairs_unsquashed_prior']:.4f} (unsquashed fit); "
            f"exact checks took {r['exact_seconds']:.1f} s"
        )
    return 0 if ok_planted and ok_exact else 1


if __name__ == "__main__":
    sys.exit(main())
