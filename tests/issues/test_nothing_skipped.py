"""Issue 5, section 2: a dossier is assessed exactly as it stands, or refused with every finding.

Invariants that once broke, each on a copy of a bundled example:

- A patient folder whose ``case.yaml`` is misnamed (``case.yml``, ``Case.yaml``) was skipped in
  silence: renaming abe-ucd's failed patient's file turned "collecting, streak 1" into "ready for
  marketing authorization" and ``validate`` said valid. It is now a finding (exit 2).
- Two duplicated post-dose measurement rows flipped criterion 5 from ``not_met`` to ``met``, and
  duplicated natural-history rows shrank standard errors. Duplicate rows are findings.
- A misspelt column (``replicat``) was dropped, pooling replicates and narrowing criterion 4's
  interval from 25-34% to 29-30%. Unknown columns are findings naming the nearest known one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pmpath
from pmpath.cli import app
from pmpath.dossier import load_dossier
from pmpath.errors import DossierError
from pmpath.examples import example_path

runner = CliRunner()


@pytest.fixture
def abe(tmp_path: Path) -> Path:
    target = tmp_path / "abe-ucd"
    shutil.copytree(example_path("abe-ucd"), target)
    return target


def failed_patient(path: Path) -> str:
    assessment = pmpath.assess(path)
    (failed,) = [p.id for p in assessment.patients if p.role.value == "failure"]
    assert assessment.platform.status.value == "collecting"
    return failed


@pytest.mark.parametrize("name", ["case.yml", "Case.yaml", "case.yaml.bak"])
def test_misnamed_case_file_is_a_finding_not_a_skipped_patient(abe: Path, name: str) -> None:
    failed = failed_patient(abe)
    folder = abe / "patients" / failed
    (folder / "case.yaml").rename(folder / name)
    result = runner.invoke(app, ["validate", str(abe)])
    assert result.exit_code == 2
    assert f"patients/{failed}/{name}:" in result.stderr and "'case.yaml'" in result.stderr


def test_duplicated_post_dose_rows_are_findings_not_a_changed_verdict(abe: Path) -> None:
    failed = failed_patient(abe)
    path = abe / "patients" / failed / "measurements.csv"
    lines = path.read_text().splitlines()
    post = [ln for ln in lines[1:] if ln.split(",")[1] == "protein_tolerance"][-2:]
    path.write_text("\n".join([*lines, *post]) + "\n")
    with pytest.raises(DossierError) as info:
        load_dossier(abe)
    found = [f for f in info.value.findings if f.path.endswith(f"{failed}/measurements.csv")]
    assert len(found) == 2 and all("identical to line" in f.found for f in found)
    assert [f.line for f in found] == [len(lines) + 1, len(lines) + 2]


def test_duplicated_natural_history_rows_are_findings(abe: Path) -> None:
    path = abe / "natural_history/otc-nh/longitudinal.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, *lines[1:21]]) + "\n")
    with pytest.raises(DossierError) as info:
        load_dossier(abe)
    found = [f for f in info.value.findings if f.path == "natural_history/otc-nh/longitudinal.csv"]
    # ten listed one by one, the other ten counted in one finding: one root cause, few lines
    assert len(found) == 11
    (summary,) = [f for f in found if f.line is None]
    assert "the same problem on 10 more lines" in summary.found


def test_misspelt_replicate_column_is_a_finding(abe: Path) -> None:
    path = abe / "patients/P01/engagement.csv"
    path.write_text(path.read_text().replace("replicate", "replicat", 1))
    with pytest.raises(DossierError) as info:
        load_dossier(abe)
    (f,) = info.value.findings
    assert (f.path, f.line, f.field) == ("patients/P01/engagement.csv", 1, "replicat")
    assert "did you mean 'replicate'" in f.found
