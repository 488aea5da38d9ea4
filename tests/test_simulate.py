"""``pmpath simulate``: the platform's operating characteristics from its own dossier.

Known answers: simulated patients are independent, so P(r consecutive successes within n
patients) must equal the classic run probability computed exactly from the simulated
per-patient success rate (enumerating all 2^n sequences); untreated patients must be judged met
at most as often as the calibrated rule allows (5%).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.dossier import load_dossier
from pmpath.examples import example_path
from pmpath.pathway.simulate import simulate_platform

runner = CliRunner()


def _run_probability(p: float, n: int, r: int) -> float:
    total = 0.0
    for mask in range(2**n):
        run = best = 0
        for i in range(n):
            run = run + 1 if (mask >> i) & 1 else 0
            best = max(best, run)
        k = bin(mask).count("1")
        if best >= r:
            total += p**k * (1 - p) ** (n - k)
    return total


@pytest.fixture(scope="module", params=["abe-ucd", "ssaso-cln"])
def characteristics(request):
    dossier = load_dossier(example_path(request.param))
    return simulate_platform(dossier, n_sim=3000, seed=11, max_patients=6)


def test_streak_probability_matches_the_independent_patients_formula(characteristics) -> None:
    oc = characteristics
    for scenario, rows in oc.rows.items():
        assert oc.patient_insufficient[scenario] == 0.0  # complete simulated follow-up
        p = oc.patient_success[scenario]
        for row in rows:
            exact = _run_probability(p, oc.max_patients, row.required_consecutive)
            assert abs(row.p_ready - exact) < 4 * max(row.mc_se, 1e-3), (scenario, row)


def test_untreated_patients_rarely_succeed_and_treated_ones_usually_do(characteristics) -> None:
    oc = characteristics
    assert oc.patient_success["no_effect"] <= 0.05
    assert oc.patient_success["plausible_effect"] >= 0.8
    no_effect = {r.required_consecutive: r.p_ready for r in oc.rows["no_effect"]}
    assert no_effect[3] <= 0.01
    # a longer required streak is never reached more often
    for rows in oc.rows.values():
        ps = [r.p_ready for r in rows]
        assert ps == sorted(ps, reverse=True)


def test_cli_writes_table_json_and_plot_reproducibly(tmp_path: Path) -> None:
    out = tmp_path / "oc"
    args = ["simulate", str(example_path("ssaso-cln")), "-o", str(out), "--n-sim", "300"]
    args += ["--seed", "5", "--max-patients", "5", "-q"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    tsv = (out / "operating_characteristics.tsv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(tsv.splitlines(), delimiter="\t"))
    assert list(rows[0]) == [
        "scenario",
        "required_consecutive",
        "max_patients",
        "p_ready",
        "mc_se",
        "n_sim",
        "seed",
    ]
    assert {r["scenario"] for r in rows} == {"no_effect", "plausible_effect"}
    assert {int(r["required_consecutive"]) for r in rows} == {2, 3, 4, 5, 6}
    assert all(r["n_sim"] == "300" and r["seed"] == "5" and r["max_patients"] == "5" for r in rows)
    doc = json.loads((out / "operating_characteristics.json").read_text(encoding="utf-8"))
    assert any("criteria 1-4 are taken as met" in a for a in doc["assumptions"])
    assert (out / "operating_characteristics.svg").read_bytes().startswith(b"<?xml")
    again = runner.invoke(app, args)  # replaces its own output, same numbers
    assert again.exit_code == 0, again.output
    assert (out / "operating_characteristics.tsv").read_text(encoding="utf-8") == tsv


def test_cli_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    result = runner.invoke(
        app, ["simulate", str(example_path("abe-ucd")), "-o", str(out), "--n-sim", "50"]
    )
    assert result.exit_code == 2
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert not (out / "operating_characteristics.tsv").exists()


def test_cli_bad_arguments_are_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", str(example_path("abe-ucd")), "-o", str(tmp_path / "x"), "--n-sim", "0"]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_an_unjustified_clinician_set_endpoint_never_reaches_readiness(tmp_path: Path) -> None:
    import shutil

    import yaml

    root = tmp_path / "abe"
    shutil.copytree(example_path("abe-ucd"), root)
    platform = root / "platform.yaml"
    data = yaml.safe_load(platform.read_text(encoding="utf-8"))
    for plan in data["analysis_plan"]["improvement"]["endpoints"].values():
        plan.pop("justification", None)
    platform.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    oc = simulate_platform(load_dossier(root), n_sim=200, seed=3, max_patients=4)
    assert all(r.p_ready == 0 for rows in oc.rows.values() for r in rows)
    assert oc.patient_success["plausible_effect"] == 0
    assert any("without a justification" in a for a in oc.assumptions)
