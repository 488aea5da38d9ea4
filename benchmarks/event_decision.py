"""Time and calibrate the event-endpoint rule: the operating characteristics table of calibration_events.md.

Run: `.venv/bin/python benchmarks/event_decision.py [--n 20000] [--seed 1]`. Patients are drawn
with :func:`pmpath.outcomes.simulate_event_patients` from the ssaso-cln seizure cohort's fitted
gamma-Poisson model (and, to exercise the event-free-run route, from two rarer synthetic rates;
and with events clustered within months, as the cohort itself was generated):
six monthly pre-treatment periods (the last the worst unless said), nine monthly post-dose periods.
For each scenario the script prints, as a Markdown table, the fraction judged met (frequentist and
Bayesian rule), the share met on each frequentist route, the one-sided rate-ratio test's rejection
rate with its 99% Clopper-Pearson interval, the sensitivity analysis' met fraction, and the seconds
:func:`pmpath.outcomes.judge_event_rates_batch` took for the whole scenario.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from pmpath.dossier import load_dossier
from pmpath.examples import example_path
from pmpath.formatting import format_number, format_percent
from pmpath.natural_history import fit_event_rate
from pmpath.outcomes import (
    EventRule,
    UntreatedRate,
    judge_event_rates_batch,
    simulate_event_patients,
    within_patient_dispersion,
)

MONTH = 30.4375


def seizure_model() -> tuple[UntreatedRate, float]:
    """The cohort's rate model (as criterion 3 fits it) and its within-patient dispersion."""
    table = load_dossier(example_path("ssaso-cln")).cohorts["cln7-nh"].events
    windows = table[table["endpoint"] == "seizures"].reset_index(drop=True)
    fit = fit_event_rate(windows, "seizures")
    return UntreatedRate(
        float(fit.rate_per_year), float(fit.dispersion)
    ), within_patient_dispersion(windows)


def clopper_pearson(k: int, n: int, level: float = 0.99) -> tuple[float, float]:
    tail = (1 - level) / 2
    lo = stats.beta.ppf(tail, k, n - k + 1) if k > 0 else 0.0
    hi = stats.beta.ppf(1 - tail, k + 1, n - k) if k < n else 1.0
    return float(lo), float(hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cohort, clustering = seizure_model()
    month_rules = {"onset_days": 2 * MONTH}
    gamma_poisson = [
        ("untreated, last pre period the worst", {}, {}),
        ("untreated, pre periods in random order", {"last_pre_worst": False}, {}),
        ("85% fall", {"rate_ratio": 0.15}, {}),
        ("50% fall", {"rate_ratio": 0.5}, {}),
        ("untreated, onset_days 61", month_rules, month_rules),
        ("85% fall from day 61, onset_days 61", {"rate_ratio": 0.15, **month_rules}, month_rules),
    ]
    seizures = f"ssaso-cln seizures ({format_number(cohort.rate_per_year)}/year, dispersion {format_number(cohort.dispersion)})"
    runs = [(seizures, cohort, label, sim, rule, {}) for label, sim, rule in gamma_poisson]
    for name, model in (
        ("synthetic 12/year, dispersion 0.3", UntreatedRate(12.0, 0.3)),
        ("synthetic 6/year, dispersion 0.5", UntreatedRate(6.0, 0.5)),
    ):
        runs += [(name, model, label, sim, rule, {}) for label, sim, rule in gamma_poisson[:3]]
    clustered = (
        f"{seizures}, clustered within months (period dispersion {format_number(clustering)})"
    )
    within = UntreatedRate(cohort.rate_per_year, cohort.dispersion, period_dispersion=clustering)
    for label, sim, _ in gamma_poisson[:4]:
        sim = {**sim, "period_dispersion": clustering}
        runs.append(
            (clustered, cohort, label + "; model without period_dispersion (fallback)", sim, {}, {})
        )
        runs.append((clustered, within, label + "; model with period_dispersion", sim, {}, {}))
    print(
        "| truth | scenario | met (frequentist) | rate route | run route | met (Bayesian) | "
        "one-sided test at 2.5% (99% CI) | met without last pre period | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    seed = args.seed
    for name, model, label, simulation, rule_fields, _ in runs:
        sim = simulate_event_patients(model, args.n, np.random.default_rng(seed), **simulation)
        seed += 1
        rule = EventRule(**rule_fields)
        t0 = time.perf_counter()
        b = judge_event_rates_batch(sim.start_day, sim.end_day, sim.counts, model, rule)
        seconds = time.perf_counter() - t0
        bayes = judge_event_rates_batch(
            sim.start_day,
            sim.end_day,
            sim.counts,
            model,
            EventRule(decision="bayesian", **rule_fields),
        )
        k = int(np.sum(b.p_one_sided < rule.alpha_one_sided))
        lo, hi = clopper_pearson(k, args.n)
        print(
            f"| {name} | {label} | {format_percent(b.met.mean())} | {format_percent(b.rate_route.mean())} | "
            f"{format_percent(b.run_route.mean())} | {format_percent(bayes.met.mean())} | "
            f"{format_percent(k / args.n)} ({format_percent(lo)} to {format_percent(hi)}) | "
            f"{format_percent(np.mean(b.sensitivity_decision == 'met'))} | {seconds:.2f} |"
        )


if __name__ == "__main__":
    main()
