"""Time `pmpath simulate` (both scenarios, streak lengths 2-6) on each bundled example against its budget.

Run: `.venv/bin/python benchmarks/simulate.py [--n-sim 10000] [--max-patients 10]`. The budget is
the issue's: 10,000 simulated platforms in at most 60 s on 2 cores. The dossier is loaded once,
untimed; the time covers fitting the natural history, simulating and judging every patient of both
scenarios, and the streak rule. Prints the time, the budget ratio and the simulated per-patient
success rates.
"""

from __future__ import annotations

import argparse
import time

BUDGET_SECONDS = 60.0
BUDGET_PLATFORMS = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=BUDGET_PLATFORMS)
    parser.add_argument("--max-patients", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20251101)
    args = parser.parse_args()

    from pmpath.dossier import load_dossier
    from pmpath.examples import EXAMPLES, example_path
    from pmpath.pathway.simulate import simulate_platform

    print(
        f"{'example':<12} {'endpoint':<18} {'platforms':>9} {'patients':>9} {'seconds':>8} "
        f"{'budget ratio':>12} {'met untreated':>13} {'met effect':>10}"
    )
    for name in EXAMPLES:
        dossier = load_dossier(example_path(name))
        start = time.perf_counter()
        oc = simulate_platform(
            dossier, n_sim=args.n_sim, seed=args.seed, max_patients=args.max_patients
        )
        seconds = time.perf_counter() - start
        budget = BUDGET_SECONDS * args.n_sim / BUDGET_PLATFORMS
        patients = args.n_sim * args.max_patients * len(oc.rows)
        effect = oc.patient_success.get("plausible_effect", float("nan"))
        print(
            f"{name:<12} {oc.endpoint:<18} {args.n_sim:>9,} {patients:>9,} {seconds:>8.2f} "
            f"{seconds / budget:>12.2f} {oc.patient_success['no_effect']:>13.3f} {effect:>10.3f}"
        )


if __name__ == "__main__":
    main()
