"""`pmpath postmarket signals` end to end: its files, the page, bad input in import_log.tsv, FAERS extracts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.errors import DossierError
from pmpath.postmarket import SIGNAL_COLUMNS, count_pairs, read_faers, read_reports

CAERS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "caers"
needs_caers = pytest.mark.skipif(
    not (CAERS / "caers.csv").exists(), reason=f"openEBGM's caers data not found at {CAERS}"
)
runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["postmarket", "signals", *args])


def _write_reports(path: Path, n_reports: int = 600, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    lines = ["report,product,reaction,sex"]
    for r in range(n_reports):
        sex = "F" if rng.random() < 0.6 else "M"
        drug = f"D{min(int(rng.zipf(1.7)), 30)}"
        for ev in {f"E{min(int(rng.zipf(1.6)), 40)}" for _ in range(rng.integers(1, 4))}:
            lines.append(f"R{r},{drug},{ev},{sex}")
    path.write_text("\n".join(lines) + "\n")


@needs_caers
def test_signals_on_caers_writes_every_file(tmp_path):
    out = tmp_path / "out"
    result = _run(
        "--reports",
        str(CAERS / "caers.csv"),
        "--drug-col",
        "var1",
        "--event-col",
        "var2",
        "--squashing",
        "two-step",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "signals.tsv", sep="\t", keep_default_na=False, na_values=["NaN"])
    assert tuple(table.columns) == SIGNAL_COLUMNS
    assert len(table) == 17189
    assert (np.diff(table["EB05"].to_numpy()) <= 0).all()  # sorted by EB05
    ref = pd.read_csv(CAERS / "caers_openEBGM_scores.csv").rename(
        columns={"var1": "drug", "var2": "event"}
    )
    merged = ref.merge(table, on=["drug", "event"])
    np.testing.assert_allclose(
        merged["E_y"], merged["E_x"], rtol=1e-13
    )  # full precision in the TSV
    prior = json.loads((out / "prior.json").read_text())
    assert prior["fitted"] and len(prior["starts"]) == 5
    assert prior["neg_log_likelihood"] <= 4161.930153 + 1e-6
    assert set(prior["hyperparameters"]) == {"alpha1", "beta1", "alpha2", "beta2", "P"}
    log = pd.read_csv(out / "import_log.tsv", sep="\t")
    assert list(log.columns) == ["source", "record", "problem", "example"]
    assert set(log["problem"]) == {"duplicated row (counted once)"}  # caers repeats 239 rows
    assert "239 records: duplicated row" in result.output
    page = (out / "signals.html").read_text()
    assert (out / "assets" / "plotly.min.js").exists()
    assert "EB05 against N" in page and "REUMOFAN PLUS" in page
    assert not re.search(r"""(src|href)=["']https?://""", page)  # offline
    first = page.index("<tbody>", page.index('id="pairs"'))
    assert page.index("REUMOFAN PLUS", first) < page.index("HYDROXYCUT", first)


def test_bad_rows_are_logged_and_left_out(tmp_path):
    src = tmp_path / "reports.csv"
    _write_reports(src)
    text = src.read_text().splitlines()
    text += [
        "R1,D1,E1,F",  # may duplicate an existing row: appended twice below to be sure
        "R1,D1,E1,F",
        "R9999,,E2,F",  # missing drug
        "R9998,D2,E2,F,extra",  # wrong number of fields
        "R0,D1,E5,M" if text[1].endswith(",F") else "R0,D1,E5,F",  # conflicting sex for R0
    ]
    src.write_text("\n".join(text) + "\n")
    out = tmp_path / "out"
    result = _run(
        "--reports",
        str(src),
        "--id-col",
        "report",
        "--drug-col",
        "product",
        "--event-col",
        "reaction",
        "--strata",
        "sex",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    log = pd.read_csv(out / "import_log.tsv", sep="\t", dtype=str)
    problems = " | ".join(log["problem"])
    assert "duplicated row" in problems
    assert "missing product" in problems
    assert "conflicting sex" in problems
    assert any("field" in p for p in log["problem"])  # the malformed row, with its line
    malformed = log[log["problem"].str.contains("field")]
    assert malformed["record"].iloc[0] == f"line {len(text) - 1}"
    missing = log[log["problem"] == "missing product"]
    assert missing["record"].iloc[0] == f"line {len(text) - 2}"
    table = pd.read_csv(out / "signals.tsv", sep="\t")
    assert "R9999" not in set(table["drug"])
    page = (out / "signals.html").read_text()
    assert "The input had problems" in page


def test_strict_refuses_bad_rows_and_writes_nothing(tmp_path):
    src = tmp_path / "reports.csv"
    _write_reports(src)
    src.write_text(src.read_text() + "R5,,E1,F\n")
    out = tmp_path / "out"
    result = _run(
        "--reports",
        str(src),
        "--id-col",
        "report",
        "--drug-col",
        "product",
        "--event-col",
        "reaction",
        "--strict",
        "-o",
        str(out),
    )
    assert result.exit_code == 2
    assert "missing product" in result.output
    assert not out.exists()


def test_missing_column_exits_2_naming_it(tmp_path):
    src = tmp_path / "reports.csv"
    _write_reports(src)
    result = _run("--reports", str(src), "--id-col", "report", "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "drug" in result.output and "Traceback" not in result.output
    with pytest.raises(DossierError, match="a column named drug"):
        read_reports(src, id_col="report")


def test_reports_and_faers_are_exclusive(tmp_path):
    result = _run("-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and "neither" in result.output


def test_parquet_input_gives_the_same_counts(tmp_path):
    src = tmp_path / "reports.csv"
    _write_reports(src)
    frame = pd.read_csv(src, dtype=str)
    frame.to_parquet(tmp_path / "reports.parquet")
    kw = {"id_col": "report", "drug_col": "product", "event_col": "reaction"}
    a = count_pairs(read_reports(src, **kw).rows).table
    b = count_pairs(read_reports(tmp_path / "reports.parquet", **kw).rows).table
    pd.testing.assert_frame_equal(a, b)


def test_json_output(tmp_path):
    src = tmp_path / "reports.csv"
    _write_reports(src)
    result = _run(
        "--reports",
        str(src),
        "--id-col",
        "report",
        "--drug-col",
        "product",
        "--event-col",
        "reaction",
        "--format",
        "json",
        "-o",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout.strip().splitlines()[-1])
    assert doc["ok"] and doc["pairs"] > 0 and doc["reports"] == 600


def test_refuses_to_replace_a_folder_that_is_not_pmpath_output(tmp_path):
    src = tmp_path / "reports.csv"
    _write_reports(src)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = _run(
        "--reports",
        str(src),
        "--id-col",
        "report",
        "--drug-col",
        "product",
        "--event-col",
        "reaction",
        "-o",
        str(out),
    )
    assert result.exit_code == 2
    assert (out / "notes.txt").read_text() == "keep me"


# --------------------------------------------------------------------------- FAERS

_DEMO = "primaryid$caseid$caseversion$i_f_code$event_dt$sex$age"
_DRUG = "primaryid$caseid$drug_seq$role_cod$drugname$prod_ai"
_REAC = "primaryid$caseid$pt$drug_rec_act"


def _write_faers(folder: Path) -> None:
    """Two quarters: case 100 in versions 1 (24Q1) and 2 (24Q2), case 200 once, case 300 with a tie."""
    q1, q2 = folder / "faers_ascii_2024q1" / "ASCII", folder / "faers_ascii_2024q2" / "ASCII"
    q1.mkdir(parents=True)
    q2.mkdir(parents=True)
    (q1 / "DEMO24Q1.txt").write_text(
        "\n".join(
            [_DEMO, "1001$100$1$I$20240101$F$50", "2001$200$1$I$20240105$M$61", "3001$300$1$I$$F$"]
        )
        + "\n"
    )
    (q1 / "DRUG24Q1.txt").write_text(
        "\n".join(
            [
                _DRUG,
                "1001$100$1$PS$aspirin $ASPIRIN",
                "2001$200$1$PS$IBUPROFEN$IBUPROFEN",
                "2001$200$2$C$Aspirin$ASPIRIN",
                "3001$300$1$PS$DRUGX$X",
                "9999$999$1$PS$ORPHAN$O",
            ]
        )
        + "\n"
    )
    (q1 / "REAC24Q1.txt").write_text(
        "\n".join(
            [_REAC, "1001$100$Nausea$", "2001$200$Headache$", "2001$200$Nausea$", "3001$300$Rash$"]
        )
        + "\n"
    )
    (q2 / "DEMO24Q2.txt").write_text(
        "\n".join([_DEMO, "1002$100$2$F$20240101$F$50", "3002$300$1$I$$F$", "4001$400$1$I$$M$"])
        + "\n"
    )
    (q2 / "DRUG24Q2.txt").write_text(
        "\n".join(
            [
                _DRUG,
                "1002$100$1$PS$ASPIRIN$ASPIRIN",
                "3002$300$1$PS$DRUGY$Y",
                "4001$400$1$PS$ASPIRIN$ASPIRIN$extra",
            ]
        )
        + "\n"
    )
    (q2 / "REAC24Q2.txt").write_text(
        "\n".join([_REAC, "1002$100$Vomiting$", "3002$300$Rash$", "4001$400$Rash$"]) + "\n"
    )


def test_faers_keeps_each_case_latest_version_and_logs_problems(tmp_path):
    _write_faers(tmp_path / "faers")
    reports = read_faers(tmp_path / "faers", strata=["sex"])
    rows = reports.rows.to_pandas()
    # case 100: version 2 (primaryid 1002) only; its version-1 drug and event are gone
    assert set(rows.loc[rows["id"] == "1002", "event"]) == {"VOMITING"}
    assert "1001" not in set(rows["id"])
    # case 300: one version under two primaryids: the largest (3002) kept, logged
    assert set(rows.loc[rows["id"].str.startswith("300"), "id"]) == {"3002"}
    # drug names trimmed and upper-cased; one row per report x drug x event
    assert set(rows.loc[rows["id"] == "2001", "drug"]) == {"IBUPROFEN", "ASPIRIN"}
    assert len(rows.loc[rows["id"] == "2001"]) == 4
    problems = {p for _, p, _ in reports.log.counts}
    assert "case version under two primaryids (the largest kept)" in problems
    assert "primaryid not in any DEMO file (left out)" in problems
    assert "row with the wrong number of fields" in problems  # 4001's drug row has an extra field
    assert any("superseded" in n for n in reports.log.notes)
    c = count_pairs(reports.rows).table.set_index(["drug", "event"])
    assert c.loc[("ASPIRIN", "NAUSEA"), "N"] == 1  # 2001 only: 1001 was superseded
    assert c.loc[("ASPIRIN", "VOMITING"), "N"] == 1


def test_faers_cli(tmp_path):
    _write_faers(tmp_path / "faers")
    out = tmp_path / "out"
    result = _run("--faers", str(tmp_path / "faers"), "-o", str(out), "--strata", "sex")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "signals.tsv", sep="\t")
    pairs = set(zip(table["drug"], table["event"], strict=True))
    assert ("ASPIRIN", "VOMITING") in pairs and ("DRUGX", "RASH") not in pairs
    log = pd.read_csv(out / "import_log.tsv", sep="\t", dtype=str)
    assert set(log["source"]) >= {"DEMO files", "DRUG files", "DRUG24Q2.txt"}
    assert "superseded" in result.output


def test_faers_directory_without_files(tmp_path):
    (tmp_path / "empty").mkdir()
    result = _run("--faers", str(tmp_path / "empty"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "DEMO" in result.output


def test_the_log_counts_every_problem_and_keeps_twenty_examples():
    from pmpath.postmarket import reports_from_frame

    frame = pd.DataFrame(
        {"id": [f"R{i}" for i in range(30)] * 2, "drug": ["A"] * 60, "event": ["x"] * 60}
    )
    reports = reports_from_frame(frame)
    assert reports.log.counts == (("<frame>", "duplicated row (counted once)", 30),)
    assert len(reports.log.examples) == 20
    assert reports.log.examples[0].record == "row 31"
    assert len(reports) == 30
    lines = reports.log.to_tsv().splitlines()
    assert lines[0] == "source\trecord\tproblem\texample" and len(lines) == 21
