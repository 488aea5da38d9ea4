"""End to end: the command line on the bundled examples and the contract other tools rely on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.examples import EXAMPLES, example_path

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def check_contract(data: dict) -> None:
    assert set(data) >= {"platform", "patients", "inputs", "pmpath_version"}
    platform = data["platform"]
    assert platform["status"] in ("collecting", "ready_for_marketing_authorization")
    assert isinstance(platform["streak"], int) and platform["required_consecutive"] >= 1
    assert {"id"} <= set(platform)
    for patient in data["patients"]:
        assert {
            "id",
            "first_dose",
            "success",
            "counts_toward_platform",
            "criteria",
            "adverse_events",
        } <= set(patient)
        assert [c["number"] for c in patient["criteria"]] == [1, 2, 3, 4, 5]
        for c in patient["criteria"]:
            assert c["status"] in ("met", "not_met", "insufficient")
            assert {"name", "summary", "method", "result", "evidence"} <= set(c)
            assert "numbers" not in c and "plots" not in c and "figures" not in c
            for e in c["evidence"]:
                assert (
                    not e["path"].startswith("/")
                    and "\\" not in e["path"]
                    and len(e["sha256"]) == 64
                )
    for entry in data["inputs"]:
        assert len(entry["sha256"]) == 64 and not entry["path"].startswith("/")


@pytest.fixture(scope="module")
def example_reports(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for name in EXAMPLES:
        target = tmp_path_factory.mktemp(name) / "report"
        result = run("assess", str(example_path(name)), "--out", str(target))
        assert result.exit_code == 0, result.output
        out[name] = target
    return out


@pytest.mark.parametrize("name", EXAMPLES)
def test_assess_writes_report_and_contract_json(example_reports, name: str) -> None:
    out = example_reports[name]
    assert (out / "index.html").is_file()
    data = json.loads((out / "assessment.json").read_text())
    check_contract(data)
    # every input recorded with the hash of its raw bytes
    import hashlib

    root = example_path(name)
    for entry in data["inputs"]:
        assert hashlib.sha256((root / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_assessment_json_is_byte_identical_across_runs(
    example_reports, tmp_path: Path, name: str
) -> None:
    again = tmp_path / "again"
    assert run("assess", str(example_path(name)), "--out", str(again), "--quiet").exit_code == 0
    assert (again / "assessment.json").read_bytes() == (
        example_reports[name] / "assessment.json"
    ).read_bytes()


def test_validate_clean_and_broken(tmp_path: Path) -> None:
    result = run("validate", str(MINIMAL))
    assert result.exit_code == 0 and "valid" in result.output
    broken = tmp_path / "broken"
    shutil.copytree(MINIMAL, broken)
    (broken / "patients/P1/engagement.csv").unlink()
    text = (
        (broken / "patients/P1/measurements.csv")
        .read_text()
        .replace("-30,protein_tolerance", "-30,bogus")
    )
    (broken / "patients/P1/measurements.csv").write_text(text)
    result = runner.invoke(app, ["validate", str(broken)])
    assert result.exit_code == 2
    assert (
        "patients/P1/measurements.csv:3: endpoint: found unknown endpoint 'bogus'" in result.stderr
    )
    assert "patients/P1/case.yaml:" in result.stderr and "engagement" in result.stderr


def test_assess_invalid_dossier_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(MINIMAL, broken)
    (broken / "platform.yaml").write_text("id: [unclosed\n")
    result = runner.invoke(app, ["assess", str(broken), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "platform.yaml:" in result.stderr
    assert not (tmp_path / "out").exists()


def test_schema_command_writes_json_schema(tmp_path: Path) -> None:
    result = run("schema", "--out", str(tmp_path))
    assert result.exit_code == 0
    schema = json.loads((tmp_path / "case.schema.json").read_text())
    assert "therapy" in schema["properties"] and "dosing" in schema["required"]
    assert json.loads((tmp_path / "platform.schema.json").read_text())["title"] == "Platform"


def test_demo_assesses_both_examples(tmp_path: Path) -> None:
    result = run("demo", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    for name in EXAMPLES:
        assert (tmp_path / name / "index.html").is_file()
        check_contract(json.loads((tmp_path / name / "assessment.json").read_text()))


def test_console_script_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pmpath", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("init", "validate", "assess", "demo", "schema"):
        assert command in done.stdout


def test_phenopacket_export_then_import_round_trips_variants(tmp_path: Path) -> None:
    import yaml

    from pmpath.dossier import load_dossier

    dossier = example_path("abe-ucd")
    out = tmp_path / "p02.json"
    assert run("phenopacket", "export", str(dossier), "P02", "--out", str(out)).exit_code == 0
    assert json.loads(out.read_text())["id"] == "P02"
    fragment_file = tmp_path / "case-fragment.yaml"
    result = run(
        "phenopacket", "import", str(out), "--dossier", str(dossier), "--out", str(fragment_file)
    )
    assert result.exit_code == 0, result.output
    fragment = yaml.safe_load(fragment_file.read_text())
    original = next(p for p in load_dossier(dossier).patients if p.id == "P02")
    assert fragment["diagnosis"]["disease"] == original.case.diagnosis.disease
    assert [
        (v["chrom"], v["pos"], v["ref"], v["alt"], v["zygosity"]) for v in fragment["variants"]
    ] == [(v.chrom, v.pos, v.ref, v.alt, v.zygosity.value) for v in original.variants]


def test_phenopacket_export_unknown_patient_exits_2() -> None:
    result = runner.invoke(app, ["phenopacket", "export", str(example_path("abe-ucd")), "NOPE"])
    assert result.exit_code == 2 and "P01" in result.stderr


def test_init_then_validate(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    assert run("init", str(target), "--id", "MY-ABE", "--name", "Mine").exit_code == 0
    assert run("validate", str(target)).exit_code == 0
    assert runner.invoke(app, ["init", str(target)]).exit_code == 2


def test_schema_writes_a_schema_per_table_kind(tmp_path: Path) -> None:
    from pmpath.dossier.tables import ALL_TABLES

    assert run("schema", "--out", str(tmp_path)).exit_code == 0
    for kind in ALL_TABLES:
        schema = json.loads((tmp_path / "tables" / f"{kind.name}.schema.json").read_text())
        assert set(schema["items"]["properties"]) == set(kind.names)
        assert set(schema["items"]["required"]) == set(kind.required)
    case = json.loads((tmp_path / "case.schema.json").read_text())
    assert case["properties"]["schema_version"]["const"] == 3


def test_long_steps_report_progress_as_plain_lines_off_a_terminal(monkeypatch) -> None:
    import pmpath.dossier.load as load

    monkeypatch.setattr(load, "PROGRESS_FILE_BYTES", 1000)
    result = runner.invoke(app, ["validate", str(example_path("abe-ucd"))])
    assert result.exit_code == 0
    progress = [ln for ln in result.stderr.splitlines() if ln.startswith("pmpath: reading ")]
    assert any("natural_history/otc-nh/longitudinal.csv" in ln for ln in progress)
    quiet = runner.invoke(app, ["validate", str(example_path("abe-ucd")), "--quiet"])
    assert "pmpath: reading" not in quiet.stderr


def test_validate_json_is_one_object_sorted_by_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(MINIMAL, broken)
    (broken / "patients/P1/concomitant.csv").write_text(
        "date,kind,description\n2026-02-30,diet,x\n20260301,diet,y\n"
    )
    (broken / "patients/P1/notes.txt").write_text("n")
    result = runner.invoke(app, ["validate", str(broken), "--format", "json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["valid"] is False
    keys = [(f["file"], f["line"] or 0) for f in data["findings"]]
    assert keys == sorted(keys)
    assert {f["severity"] for f in data["findings"]} == {"error", "warning"}
    for f in data["findings"]:
        assert set(f) == {"file", "line", "column", "field", "found", "expected", "severity"}


def test_hash_plan_show_hashes_to_the_printed_hash() -> None:
    import hashlib

    printed = (
        subprocess.run(
            [sys.executable, "-m", "pmpath", "hash-plan", str(example_path("abe-ucd"))],
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    shown = subprocess.run(
        [sys.executable, "-m", "pmpath", "hash-plan", str(example_path("abe-ucd")), "--show"],
        capture_output=True,
        check=True,
    ).stdout
    assert hashlib.sha256(shown).hexdigest() == printed


def test_verify_and_diff_on_the_command_line(example_reports, tmp_path: Path) -> None:
    report = example_reports["abe-ucd"]
    assert run("verify", str(report), str(example_path("abe-ucd"))).exit_code == 0
    copy = tmp_path / "abe"
    shutil.copytree(example_path("abe-ucd"), copy)
    path = copy / "patients/P01/adverse_events.csv"
    path.write_text(path.read_text().replace("Infusion related reaction", "Infusion reaction"))
    result = runner.invoke(app, ["verify", str(report), str(copy)])
    assert result.exit_code == 2 and "patients/P01/adverse_events.csv" in result.stdout
    new = tmp_path / "new"
    assert run("assess", str(copy), "--out", str(new), "-q").exit_code == 0
    changed = run("diff", str(report), str(new), "--format", "json")
    assert changed.exit_code == 0 and "patients/P01/adverse_events.csv" in changed.stdout


@pytest.mark.slow
def test_assess_pdf_writes_report_pdf_beside_the_html(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not found: install the Debian package poppler-utils")
    out = tmp_path / "report"
    result = run("assess", str(example_path("ssaso-cln")), "--out", str(out), "--pdf", "-q")
    assert result.exit_code == 0, result.output
    text = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "ssaso-cln" in text and all(p in text for p in ("P01", "P02", "P03"))
    assert "page 1 of" in text.lower() or "1 of" in text
