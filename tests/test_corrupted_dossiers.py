"""Corrupted dossiers: each is refused with exit 2, a message naming file, line and field, and no report.

Every case of the integrity issue has a row here. A case is a mutation of a copy of the minimal
fixture; the test runs `pmpath validate` and `pmpath assess --out` on it, in process, and checks
the exit code, that one printed finding names the file (with the line where there is one) and
the field, and that `--out` was not created.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmpath.cli import app

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
P1 = "patients/P1"
runner = CliRunner()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[Path], None]
    file: str
    line: int | None
    field: str  # a substring of the finding's field ("" to skip)
    says: str  # a substring of the finding's text


def _m(fn):
    return fn


CASES = [
    Case(
        "misnamed-case-file",
        lambda d: (d / P1 / "case.yaml").rename(d / P1 / "case.yml"),
        f"{P1}/case.yml",
        None,
        "",
        "case.yaml",
    ),
    Case(
        "capitalized-case-file",
        lambda d: (d / P1 / "case.yaml").rename(d / P1 / "Case.yaml"),
        f"{P1}/Case.yaml",
        None,
        "",
        "case.yaml",
    ),
    Case(
        "patient-folder-without-case",
        lambda d: (d / "patients/P2").mkdir() or (d / "patients/P2/notes.txt").write_text("x"),
        "patients/P2",
        None,
        "",
        "without case.yaml",
    ),
    Case(
        "duplicated-measurement-row",
        lambda d: append(d / P1 / "measurements.csv", "30,protein_tolerance,1.20,g/kg/d\n"),
        f"{P1}/measurements.csv",
        6,
        "",
        "identical to line 4",
    ),
    Case(
        "duplicate-measurement-key",
        lambda d: append(d / P1 / "measurements.csv", "30,protein_tolerance,1.25,g/kg/d\n"),
        f"{P1}/measurements.csv",
        6,
        "endpoint",
        "as line 4",
    ),
    Case(
        "duplicate-event-period",
        lambda d: append(d / P1 / "events.csv", "2026-01-10,2026-06-30,crises,1\n"),
        f"{P1}/events.csv",
        4,
        "endpoint",
        "as line 3",
    ),
    Case(
        "overlapping-event-periods",
        lambda d: append(d / P1 / "events.csv", "2026-03-01,2026-04-01,crises,0\n"),
        f"{P1}/events.csv",
        4,
        "start",
        "overlapping",
    ),
    Case(
        "duplicate-engagement-replicate",
        lambda d: append(
            d / P1 / "engagement.csv", "hep,patient_derived_cells,2,hepatocyte,470,1000,0.2\n"
        ),
        f"{P1}/engagement.csv",
        4,
        "replicate",
        "as line 3",
    ),
    Case(
        "duplicated-natural-history-row",
        lambda d: append(d / "natural_history/tolerance.csv", "S1,2.0,protein_tolerance,0.88\n"),
        "natural_history/tolerance.csv",
        None,
        "",
        "identical to line 3",
    ),
    Case(
        "duplicated-natural-history-event",
        lambda d: append(d / "natural_history/crises.csv", "S1,1.0,2.0,crises,3\n"),
        "natural_history/crises.csv",
        None,
        "",
        "",
    ),
    Case(
        "misspelt-column",
        lambda d: edit(d / P1 / "engagement.csv", "replicate", "replicat"),
        f"{P1}/engagement.csv",
        1,
        "replicat",
        "did you mean 'replicate'",
    ),
    Case(
        "date-and-study-day-disagree",
        lambda d: (d / P1 / "concomitant.csv").write_text(
            "date,study_day,kind,description\n2026-03-01,40,diet,protein liberalized\n"
        ),
        f"{P1}/concomitant.csv",
        2,
        "study_day",
        "study day 40",
    ),
    Case(
        "duplicated-yaml-key",
        lambda d: edit(
            d / P1 / "case.yaml", "synthetic: true\n", "synthetic: true\nsynthetic: false\n"
        ),
        f"{P1}/case.yaml",
        None,
        "",
        "synthetic",
    ),
    Case(
        "invalid-calendar-date",
        lambda d: edit(d / P1 / "concomitant.csv", "2026-03-01", "2026-02-30"),
        f"{P1}/concomitant.csv",
        2,
        "date",
        "not a calendar date",
    ),
    Case(
        "compact-date-format",
        lambda d: edit(d / P1 / "concomitant.csv", "2026-03-01", "20260301"),
        f"{P1}/concomitant.csv",
        2,
        "date",
        "YYYY-MM-DD",
    ),
    Case(
        "date-before-birth",
        lambda d: edit(d / P1 / "concomitant.csv", "2026-03-01", "2020-03-01"),
        f"{P1}/concomitant.csv",
        2,
        "date",
        "before the patient's birth",
    ),
    Case(
        "non-integer-count",
        lambda d: edit(d / P1 / "events.csv", "crises,2\n", "crises,2.5\n"),
        f"{P1}/events.csv",
        2,
        "count",
        "whole number",
    ),
    Case(
        "semicolon-separated",
        lambda d: (d / P1 / "engagement.csv").write_text(
            (d / P1 / "engagement.csv").read_text().replace(",", ";")
        ),
        f"{P1}/engagement.csv",
        None,
        "",
        "semicolon",
    ),
    Case(
        "gzip-instead-of-csv",
        lambda d: (d / P1 / "events.csv").write_bytes(
            gzip.compress((d / P1 / "events.csv").read_bytes())
        ),
        f"{P1}/events.csv",
        None,
        "",
        "gzip",
    ),
    Case(
        "latin1-bytes",
        lambda d: (d / P1 / "concomitant.csv").write_bytes(
            b"date,kind,description\n2026-03-01,diet,prot\xe9in liberalized\n"
        ),
        f"{P1}/concomitant.csv",
        2,
        "",
        "UTF-8",
    ),
    Case(
        "yaml-alias-bomb",
        lambda d: append(
            d / P1 / "case.yaml",
            'x0: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
            + "".join(
                f"x{i}: &{chr(97 + i)} [{','.join(['*' + chr(96 + i)] * 9)}]\n" for i in range(1, 9)
            ),
        ),
        f"{P1}/case.yaml",
        None,
        "",
        "alias",
    ),
    Case(
        "deeply-nested-yaml",
        lambda d: append(d / P1 / "case.yaml", "deep: " + "[" * 5000 + "]" * 5000 + "\n"),
        f"{P1}/case.yaml",
        None,
        "",
        "",
    ),
    Case(
        "bidi-override-in-text",
        lambda d: edit(d / "platform.yaml", "name: ", "name: \u202eevil "),
        "platform.yaml",
        None,
        "name",
        "",
    ),
    Case(
        "very-long-platform-name",
        lambda d: edit(d / "platform.yaml", "name: ", "name: " + "x" * 200_000),
        "platform.yaml",
        None,
        "name",
        "",
    ),
    Case(
        "empty-subjects-table",
        lambda d: (d / "natural_history/subjects.csv").write_text("subject,sex\n"),
        "natural_history/subjects.csv",
        None,
        "subject",
        "no rows",
    ),
    Case(
        "subject-missing-from-subjects",
        lambda d: append(d / "natural_history/tolerance.csv", "S9,1.0,protein_tolerance,0.9\n"),
        "natural_history/tolerance.csv",
        None,
        "subject",
        "'S9'",
    ),
    Case(
        "assay-with-two-sources",
        lambda d: edit(
            d / P1 / "engagement.csv",
            "hep,patient_derived_cells,2,",
            "hep,animal_model,2,",
        ),
        f"{P1}/engagement.csv",
        2,
        "source",
        "animal_model",
    ),
    Case(
        "wrong-unit-reported-once",
        lambda d: (d / P1 / "measurements.csv").write_text(
            "study_day,endpoint,value,unit\n"
            + "".join(f"{-90 + 10 * i},protein_tolerance,0.8,umol/L\n" for i in range(9))
        ),
        f"{P1}/measurements.csv",
        2,
        "unit",
        "9 rows",
    ),
    Case(
        "garbage-fasta",
        lambda d: (d / "reference/targets.fa").write_text("this is not a fasta file\n"),
        "reference/targets.fa",
        None,
        "",
        "",
    ),
    Case(
        "empty-fasta",
        lambda d: (d / "reference/targets.fa").write_text(""),
        "reference/targets.fa",
        None,
        "",
        "",
    ),
    Case(
        "ref-base-differs-from-reference",
        lambda d: edit(d / P1 / "case.yaml", "ref: G", "ref: T"),
        f"{P1}/case.yaml",
        None,
        "variants.0",
        "",
    ),
    Case(
        "variant-outside-reference",
        lambda d: edit(d / P1 / "case.yaml", "pos: 1025", "pos: 900000"),
        f"{P1}/case.yaml",
        None,
        "variants.0",
        "",
    ),
    Case(
        "absurd-variant-position",
        lambda d: edit(d / P1 / "case.yaml", "pos: 1025", "pos: 100000000000000000000000"),
        f"{P1}/case.yaml",
        None,
        "variants.0",
        "",
    ),
    Case(
        "symlink-loop",
        lambda d: (
            (d / P1 / "engagement.csv").unlink()
            or (d / P1 / "engagement.csv").symlink_to(d / P1 / "engagement.csv")
        ),
        f"{P1}/case.yaml",
        None,
        "engagement",
        "",
    ),
    Case(
        "study-day-beyond-the-calendar",
        lambda d: edit(d / P1 / "measurements.csv", "-60,", "2912435,"),
        f"{P1}/measurements.csv",
        2,
        "study_day",
        "data cutoff",
    ),
    # issue 7: the criterion-5 plan fields and the concomitant acts_on column
    Case(
        "acts-on-an-unknown-endpoint",
        lambda d: (d / P1 / "concomitant.csv").write_text(
            "date,kind,description,acts_on\n2026-03-01,diet,protein liberalized,protein_tolerance;seizures\n"
        ),
        f"{P1}/concomitant.csv",
        2,
        "acts_on",
        "seizures",
    ),
    Case(
        "mcid-in-a-foreign-unit",
        lambda d: edit(
            d / "platform.yaml",
            "  fixed_on: 2025-01-01\n",
            "  fixed_on: 2025-01-01\n  improvement:\n    endpoints:\n      protein_tolerance:\n"
            "        mcid: {value: 0.1, unit: mg/dL}\n",
        ),
        "platform.yaml",
        None,
        "mcid",
        "mg/dL",
    ),
    Case(
        "plan-for-an-unknown-endpoint",
        lambda d: edit(
            d / "platform.yaml",
            "  fixed_on: 2025-01-01\n",
            "  fixed_on: 2025-01-01\n  improvement:\n    endpoints:\n      walking:\n        onset_days: 30\n",
        ),
        "platform.yaml",
        None,
        "endpoints",
        "walking",
    ),
    Case(
        "removed-band-rule-in-a-v3-plan",
        lambda d: edit(
            d / "platform.yaml",
            "  fixed_on: 2025-01-01\n",
            "  fixed_on: 2025-01-01\n  improvement:\n    max_rate_ratio: 0.5\n",
        ),
        "platform.yaml",
        None,
        "max_rate_ratio",
        "pmpath migrate",
    ),
    # issue 8: the external control's description
    Case(
        "cohort-era-reversed",
        lambda d: edit(
            d / "natural_history/cohort.yaml",
            "    subjects:\n",
            "    era: {first_year: 2020, last_year: 2010}\n    subjects:\n",
        ),
        "natural_history/cohort.yaml",
        None,
        "era",
        "2010",
    ),
    Case(
        "old-schema-version",
        lambda d: edit(d / "platform.yaml", "schema_version: 3", "schema_version: 1"),
        "platform.yaml",
        None,
        "schema_version",
        "pmpath migrate",
    ),
]


@pytest.fixture
def dossier(tmp_path: Path) -> Path:
    target = tmp_path / "dossier"
    shutil.copytree(MINIMAL, target)
    return target


def _finding_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line and not line.startswith("pmpath:")]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corrupted_dossier_is_refused_with_a_precise_finding(
    case: Case, dossier: Path, tmp_path: Path
) -> None:
    case.mutate(dossier)
    result = runner.invoke(app, ["validate", str(dossier), "--format", "json"])
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)
    assert data["valid"] is False
    matching = [
        f
        for f in data["findings"]
        if f["file"] == case.file
        and (case.line is None or f["line"] == case.line)
        and case.field in f["field"]
        and case.says in f"{f['found']} {f['expected']}"
        and f["severity"] == "error"
    ]
    assert matching, json.dumps(data["findings"], indent=1)[:3000]
    # the text form names file:line: field
    text = runner.invoke(app, ["validate", str(dossier)])
    assert text.exit_code == 2
    where = case.file + (f":{case.line}:" if case.line else ":")
    assert any(line.startswith(where) for line in _finding_lines(text.stderr)), text.stderr
    assert "Traceback" not in text.output
    # and assess writes nothing
    out = tmp_path / "report"
    assessed = runner.invoke(app, ["assess", str(dossier), "--out", str(out)])
    assert assessed.exit_code == 2, assessed.output
    assert not out.exists()


def test_findings_are_one_per_line_and_end_with_a_count(dossier: Path) -> None:
    long = "x" * 300
    edit(dossier / P1 / "engagement.csv", "replicate", f"replicate_{long}")
    result = runner.invoke(app, ["validate", str(dossier)], terminal_width=40)
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{P1}/engagement.csv:1: replicate_{long}:") for line in lines)
    assert lines[-2].endswith("error, 0 warnings") or "1 error" in lines[-2]
    assert lines[-1].startswith("invalid dossier")


def test_unreferenced_file_is_a_warning_listed_in_the_report(dossier: Path, tmp_path: Path) -> None:
    (dossier / P1 / "old_labs.csv").write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["validate", str(dossier), "--format", "json"])
    assert result.exit_code == 0
    (w,) = json.loads(result.stdout)["findings"]
    assert (w["file"], w["severity"]) == (f"{P1}/old_labs.csv", "warning")
    strict = runner.invoke(app, ["validate", str(dossier), "--strict"])
    assert strict.exit_code == 2 and f"{P1}/old_labs.csv" in strict.stderr
    out = tmp_path / "report"
    assert runner.invoke(app, ["assess", str(dossier), "--out", str(out), "-q"]).exit_code == 0
    assert f"{P1}/old_labs.csv" in (out / "index.html").read_text()
    data = json.loads((out / "assessment.json").read_text())
    assert [w["file"] for w in data["input_warnings"]] == [f"{P1}/old_labs.csv"]


def test_ignored_columns_are_hashed_and_shown_as_not_used(dossier: Path, tmp_path: Path) -> None:
    path = dossier / P1 / "engagement.csv"
    lines = path.read_text().splitlines()
    path.write_text(
        "\n".join([lines[0] + ",site"] + [line + ",Boston" for line in lines[1:]]) + "\n"
    )
    assert runner.invoke(app, ["validate", str(dossier)]).exit_code == 2  # unknown column
    edit(
        dossier / P1 / "case.yaml",
        "engagement: engagement.csv",
        "engagement: {path: engagement.csv, ignore_columns: [site]}",
    )
    out = tmp_path / "report"
    result = runner.invoke(app, ["assess", str(dossier), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "assessment.json").read_text())
    assert data["ignored_columns"] == [{"path": f"{P1}/engagement.csv", "columns": ["site"]}]


def test_excel_export_with_bom_and_crlf_loads(dossier: Path) -> None:
    path = dossier / P1 / "measurements.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    result = runner.invoke(app, ["validate", str(dossier)])
    assert result.exit_code == 0, result.output


def test_internal_error_is_one_line_and_a_crash_log(
    dossier: Path, tmp_path: Path, monkeypatch
) -> None:
    import pmpath.dossier.load as load

    def boom(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(load, "_load_cohorts", boom)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    result = runner.invoke(app, ["validate", str(dossier)])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("internal error, please report")
    (log,) = (tmp_path / "state" / "pmpath").glob("crash-*.log")
    assert str(log) in line and "simulated bug" in log.read_text()


def test_parquet_findings_count_rows_not_lines(dossier: Path) -> None:
    """Parquet has no lines: a problem repeated past the listed ones is counted in rows."""
    import pandas as pd

    rows = [("S1", 2.0 + i, 1.0 + i, "crises", 0) for i in range(15)]  # every window ends too early
    frame = pd.DataFrame(rows, columns=["subject", "age_start", "age_end", "endpoint", "count"])
    frame.astype(str).to_parquet(dossier / "natural_history/crises.parquet")
    (dossier / "natural_history/crises.csv").unlink()
    edit(dossier / "natural_history/cohort.yaml", "path: crises.csv", "path: crises.parquet")
    result = runner.invoke(app, ["validate", str(dossier), "--format", "json"])
    assert result.exit_code == 2
    found = [f for f in json.loads(result.stdout)["findings"] if f["field"] == "age_end"]
    (summary,) = [f for f in found if f["line"] is None]
    assert "more rows (rows " in summary["found"]
