"""Time the natural-history growth fits: pmpath's REML engines against lme4 and statsmodels' MixedLM.

Run: `.venv/bin/python benchmarks/natural_history.py [--lme4-subjects 10000] [--lme4-visits 20]
[--subjects 50 200 1000] [--visits 7] [--repeat 5] [--no-statsmodels]`.

First the target: a cohort of 10,000 subjects x 20 visits fitted with correlated random intercept
and slope must take at most a tenth of lme4's time. The script prints pmpath's time (median of
``--repeat``), its ratio to lme4's 4.8 s for that size (:data:`LME4_SECONDS`, lme4 1.1-31 on the
2-core machine of the issue) and, when ``Rscript`` with lme4 is installed, lme4's time measured on
the same data and the largest difference of the estimates (target 1e-4). Then the uncorrelated and
intercept-only fits, the spline-in-age selection (df 1-4 by AIC), a fit with covariates, and both
together (spline by AIC and three covariates) on the same cohort, then criterion 5's batch judgement
of 10,000 simulated untreated patients with the linear and with the spline+covariate model (seconds
and the share wrongly met). Last, the statsmodels table: each cohort is simulated from a known random intercept-and-slope model (visits every 1.5 years with
jitter, 15% of visits missing), fitted by REML with both engines on the same data, and the script
prints the seconds for each (median of ``--repeat`` runs for pmpath, one run for statsmodels, which
tries BFGS, L-BFGS and Powell in turn as growth.py's fallback does), their ratio, and how far the
estimates are apart: the REML criterion difference (negative: pmpath found the lower minimum) and the
largest relative difference of the fixed effects (in SEs), G (correlation-scaled) and s^2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from pmpath.natural_history import fit_longitudinal
from pmpath.natural_history.reml import RemlFit, fit_reml

# lme4 1.1-31's lmer(y ~ t + (t | subject)) on 10,000 subjects x 20 visits (issue 8).
LME4_SECONDS = 4.8
# pmpath must be at least this many times faster than lme4 on that cohort.
TARGET_RATIO = 10.0
_R_SCRIPT = """
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$subject <- factor(d$subject)
secs <- system.time(m <- lmer(y ~ t + (t | subject), d))[["elapsed"]]
vc <- as.data.frame(VarCorr(m))
cat(toJSON(list(seconds = secs, fixed = unname(fixef(m)), sd = vc$sdcor, criterion = REMLcrit(m)),
           digits = NA, auto_unbox = TRUE))
"""

TRUE_G = np.array([[9.0, 0.3], [0.3, 0.25]])
TRUE_SIGMA = 2.0


def simulate(
    n_subjects: int, n_visits: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ages centred at 8 years, values and subject ids of a simulated untreated cohort."""
    rng = np.random.default_rng(seed)
    u = rng.multivariate_normal([0.0, 0.0], TRUE_G, size=n_subjects)
    visits = 2.0 + 1.5 * np.arange(n_visits)
    ages = visits[None, :] + rng.normal(0.0, 0.3, (n_subjects, n_visits))
    y = 40.0 + u[:, :1] + (1.5 + u[:, 1:]) * (ages - 8.0)
    y += rng.normal(0.0, TRUE_SIGMA, y.shape)
    kept = rng.random(y.shape) > 0.15
    kept[:, 0] = True
    subject = np.repeat(np.arange(n_subjects), n_visits).reshape(n_subjects, n_visits)
    return ages[kept] - 8.0, y[kept], subject[kept]


def fit_statsmodels(t: np.ndarray, y: np.ndarray, groups: np.ndarray):
    from statsmodels.regression.mixed_linear_model import MixedLM

    x = np.column_stack([np.ones_like(t), t])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in ("bfgs", "lbfgs", "powell"):
            result = MixedLM(y, x, groups=groups, exog_re=x).fit(reml=True, method=method)
            if result.converged:
                return method, result
    return method, result


def _scaled_gap(a: np.ndarray, b: np.ndarray) -> float:
    scale = np.sqrt(np.outer(np.diag(b), np.diag(b)))
    return float(np.max(np.abs(a - b) / scale))


def agreement(ours: RemlFit, peer) -> dict[str, float]:
    se = np.sqrt(np.diag(ours.fixed_effects_cov))
    return {
        "criterion": ours.deviance + 2.0 * float(peer.llf),
        "fixed (SE)": float(np.max(np.abs(ours.fixed_effects - np.asarray(peer.fe_params)) / se)),
        "G": _scaled_gap(ours.random_effects_cov, np.asarray(peer.cov_re)),
        "s2": abs(ours.residual_variance / float(peer.scale) - 1.0),
    }


def lme4_fit(t: np.ndarray, y: np.ndarray, groups: np.ndarray) -> dict | None:
    """lme4's time and estimates on the same data, or None without Rscript and lme4."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data, script = Path(tmp) / "cohort.csv", Path(tmp) / "fit.R"
        pd.DataFrame({"subject": groups, "t": t, "y": y}).to_csv(data, index=False)
        script.write_text(_R_SCRIPT)
        run = subprocess.run(
            ["Rscript", str(script), str(data)], capture_output=True, text=True, check=False
        )
    if run.returncode != 0:
        print(f"  lme4 not run: {run.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(run.stdout)


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def against_lme4(n_subjects: int, n_visits: int, repeat: int) -> None:
    t, y, groups = simulate(n_subjects, n_visits, seed=2026)
    print(f"{n_subjects} subjects x {n_visits} visits ({len(y)} rows after 15% missing)")
    ours_s, ours = timed(lambda: fit_reml(t, y, groups), repeat)
    print(
        f"  pmpath correlated   {ours_s:8.3f} s   {LME4_SECONDS / ours_s:6.1f}x faster than lme4's "
        f"{LME4_SECONDS} s (target >= {TARGET_RATIO:g}x){'' if ours.converged else '  NOT CONVERGED'}"
    )
    peer = lme4_fit(t, y, groups)
    if peer is not None:
        sd = np.sqrt(np.diag(ours.random_effects_cov))
        corr = ours.random_effects_cov[0, 1] / (sd[0] * sd[1])
        mine = np.array([sd[0], sd[1], corr, np.sqrt(ours.residual_variance)])  # VarCorr order
        gap = max(
            float(np.max(np.abs(ours.fixed_effects - peer["fixed"]))),
            float(np.max(np.abs(mine - np.array(peer["sd"])))),
        )
        print(
            f"  lme4 measured       {peer['seconds']:8.3f} s   {peer['seconds'] / ours_s:6.1f}x; "
            f"largest estimate difference {gap:.1e} (target 1e-4), criterion difference "
            f"{ours.deviance - peer['criterion']:.1e}"
        )
    for structure in ("uncorrelated", "intercept_only"):
        secs, _ = timed(lambda s=structure: fit_reml(t, y, groups, structure=s), repeat)
        print(f"  pmpath {structure:<13}{secs:8.3f} s")
    rng = np.random.default_rng(7)
    table = pd.DataFrame({"subject": groups, "age": t + 8.0, "value": y})
    per_subject = pd.DataFrame(
        {
            "subject": np.arange(n_subjects),
            "genotype_class": rng.choice(["truncating", "hypomorphic", "missense"], n_subjects),
            "sex": rng.choice(["F", "M"], n_subjects),
            "age_at_onset": rng.uniform(0.2, 3.0, n_subjects),
        }
    )
    table = table.merge(per_subject, on="subject", how="left")
    secs, curve = timed(
        lambda: fit_longitudinal(table, "score", age_center=8, age_shape="spline"), 1
    )
    print(f"  pmpath spline by AIC{secs:8.3f} s   (df {curve.spline_df} of {curve.aic_table})")
    secs, _ = timed(
        lambda: fit_longitudinal(
            table, "score", age_center=8, covariates=["genotype_class", "sex", "age_at_onset"]
        ),
        1,
    )
    print(f"  pmpath covariates   {secs:8.3f} s")
    covariates = ["genotype_class", "sex", "age_at_onset"]
    secs, both = timed(
        lambda: fit_longitudinal(
            table, "score", age_center=8, age_shape="spline", covariates=covariates
        ),
        1,
    )
    print(f"  pmpath spline+covariates{secs:4.3f} s   (df {both.spline_df} by AIC, 3 covariates)")
    counterfactuals(curve_linear=fit_longitudinal(table, "score", age_center=8), curve=both)


def counterfactuals(curve_linear, curve, n_patients: int = 10_000) -> None:
    """Criterion 5's batch judgement of simulated patients: the linear model against spline+covariates."""
    from pmpath.outcomes import UntreatedModel, judge_trajectory_batch, simulate_trajectory_patients

    patient = {"genotype_class": "missense", "sex": "M", "age_at_onset": 1.0}
    for name, c in (("linear", curve_linear), ("spline+covariates", curve)):
        model = UntreatedModel.from_growth_curve(c, patient)
        data = simulate_trajectory_patients(
            model,
            n_patients,
            np.random.default_rng(3),
            pre_offsets_years=[-1.0, -0.5, 0.0],
            post_offsets_years=[0.5, 1.0, 1.5, 2.0],
            dosing_ages=8.0,
        )
        secs, out = timed(
            lambda m=model, d=data: judge_trajectory_batch(
                m, *d, "higher_is_better", dosing_ages=8.0
            ),
            3,
        )
        print(
            f"  criterion 5, {n_patients:,} patients, {name:<17}{secs:8.3f} s   "
            f"(met under no effect: {out.met.mean():.3f}, nominal 0.025)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lme4-subjects", type=int, default=10_000)
    parser.add_argument("--lme4-visits", type=int, default=20)
    parser.add_argument("--subjects", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--visits", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-statsmodels", action="store_true")
    args = parser.parse_args()

    fit_reml(*simulate(20, 5, 0))  # warm up imports and caches
    against_lme4(args.lme4_subjects, args.lme4_visits, args.repeat)
    if args.no_statsmodels:
        return
    print()
    print(
        f"{'subjects':>8} {'rows':>6} {'pmpath s':>9} {'statsmodels s':>14} {'ratio':>7}  "
        f"{'d criterion':>11} {'fixed/SE':>9} {'G':>8} {'s2':>8}  peer method"
    )
    for n in args.subjects:
        t, y, groups = simulate(n, args.visits, seed=n)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            ours = fit_reml(t, y, groups)
            times.append(time.perf_counter() - start)
        ours_s = statistics.median(times)
        start = time.perf_counter()
        method, peer = fit_statsmodels(t, y, groups)
        peer_s = time.perf_counter() - start
        gap = agreement(ours, peer)
        print(
            f"{n:>8} {len(y):>6} {ours_s:>9.4f} {peer_s:>14.3f} {peer_s / ours_s:>6.0f}x  "
            f"{gap['criterion']:>11.2e} {gap['fixed (SE)']:>9.1e} {gap['G']:>8.1e} {gap['s2']:>8.1e}  "
            f"{method}{'' if peer.converged else ' (not converged)'}"
        )
        if not ours.converged:
            print(f"  pmpath engine did not converge (gradient {ours.gradient:.2g})")


if __name__ == "__main__":
    main()
