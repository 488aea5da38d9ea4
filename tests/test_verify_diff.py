"""``pmpath verify`` and ``pmpath diff`` as functions: does a report belong to a dossier, what moved.

Reports are written from a copy of the bundled ``abe-ucd`` example. Expected hashes are computed
here with hashlib from the files themselves; the verdict that moves is the one the edit is designed
to move (P04's edited reads cut to 10 of about 3,000, below the 20 % minimum: criterion 4 not met).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

import pmpath
from pmpath.dossier import load_dossier
from pmpath.errors import Severity, UsageError
from pmpath.examples import example_path
from pmpath.report import write_report
from pmpath.report.diff import diff_assessments
from pmpath.report.output import MARKER_NAME
from pmpath.report.verify import DifferenceKind, verify_report

CHANGED_PATIENT = "P04"
CHANGED_FILE = f"patients/{CHANGED_PATIENT}/engagement.csv"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _report(dossier_dir: Path, out: Path) -> Path:
    dossier = load_dossier(dossier_dir)
    return write_report(pmpath.assess(dossier_dir), dossier, out)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("original") / "abe-ucd"
    shutil.copytree(example_path("abe-ucd"), root)
    return root


@pytest.fixture(scope="module")
def report(original: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _report(original, tmp_path_factory.mktemp("reports") / "original")


@pytest.fixture(scope="module")
def changed_report(original: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A report of the dossier with P04's engagement reads cut to 10 edited per assay row."""
    root = tmp_path_factory.mktemp("changed") / "abe-ucd"
    shutil.copytree(original, root)
    path = root / CHANGED_FILE
    header, *rows = path.read_text().splitlines(keepends=True)
    edited = header.split(",").index("edited")
    cut = []
    for row in rows:
        fields = row.split(",")
        fields[edited] = "10"
        cut.append(",".join(fields))
    path.write_text(header + "".join(cut))
    return root, _report(root, tmp_path_factory.mktemp("reports") / "changed")


@pytest.fixture
def copy(original: Path, tmp_path: Path) -> Path:
    root = tmp_path / "dossier"
    shutil.copytree(original, root)
    return root


def _report_copy(report: Path, tmp_path: Path) -> Path:
    out = tmp_path / "report"
    shutil.copytree(report, out)
    return out


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


# --------------------------------------------------------------------------- verify


def test_a_report_belongs_to_its_dossier_wherever_the_dossier_is(
    report: Path, original: Path, copy: Path
) -> None:
    for root in (original, copy):
        result = verify_report(report, root)
        assert result.ok, result.lines()
        assert result.differences == []
        assert result.dossier_valid
        assert result.lines()[0].startswith(f"{report} belongs to {root}")
    marker = json.loads((report / MARKER_NAME).read_text())
    assert result.dossier_fingerprint == marker["dossier_fingerprint"]


def test_one_edited_input_is_named_with_both_hashes(report: Path, copy: Path) -> None:
    rel = "patients/P02/engagement.csv"
    before = _sha256(copy / rel)
    path = copy / rel
    path.write_text(
        path.read_text().replace("Amplicon sequencing", "Amplicon sequencing (re-read)")
    )
    after = _sha256(path)
    result = verify_report(report, copy)
    assert not result.ok
    changed = [d for d in result.differences if d.kind is DifferenceKind.input_changed]
    assert [(d.subject, d.recorded, d.found) for d in changed] == [(rel, before, after)]
    assert {d.kind for d in result.differences} == {
        DifferenceKind.input_changed,
        DifferenceKind.fingerprint,
    }
    line = next(line for line in result.lines() if line.startswith(rel))
    assert before in line and after in line
    assert "does not belong" in result.lines()[0]


def test_a_file_pmpath_does_not_read_leaves_the_report_belonging(report: Path, copy: Path) -> None:
    (copy / "notes.txt").write_text("a reviewer's notes\n")
    assert verify_report(report, copy).ok


def test_a_dossier_that_no_longer_validates_is_hashed_file_by_file(
    report: Path, copy: Path
) -> None:
    removed = "patients/P04/events.csv"
    (copy / removed).unlink()
    (copy / "patients" / "P04" / "extra.csv").write_text("a,b\n1,2\n")
    result = verify_report(report, copy)
    assert not result.ok
    assert not result.dossier_valid
    kinds = {(d.kind, d.subject, d.severity) for d in result.differences}
    assert (DifferenceKind.dossier, str(copy), Severity.error) in kinds
    assert (DifferenceKind.input_removed, removed, Severity.error) in kinds
    assert (DifferenceKind.dossier, "patients/P04/extra.csv", Severity.warning) in kinds
    assert not [d for d in result.differences if d.kind is DifferenceKind.input_changed]


def test_an_altered_report_contradicts_its_marker(
    report: Path, original: Path, tmp_path: Path
) -> None:
    out = _report_copy(report, tmp_path)
    forged = "0" * 64

    def forge(data: dict) -> None:
        data["inputs"][0]["sha256"] = forged

    _edit_json(out / "assessment.json", forge)
    result = verify_report(out, original)
    assert not result.ok
    assert result.differences[0].kind is DifferenceKind.report
    assert "altered" in result.differences[0].message
    assert any(
        d.kind is DifferenceKind.input_changed and d.recorded == forged for d in result.differences
    )


def test_a_report_of_another_version_with_the_old_plan_hash_belongs_with_warnings(
    report: Path, original: Path, tmp_path: Path
) -> None:
    out = _report_copy(report, tmp_path)
    plan = load_dossier(original).platform.analysis_plan.model_dump(mode="json")
    old_hash = hashlib.sha256(
        json.dumps(plan, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()  # how pmpath 0.1.0 hashed the plan, before RFC 8785

    def older(data: dict) -> None:
        data["pmpath_version"] = "0.0.9"
        if "platform" in data:
            data["platform"]["analysis_plan_sha256"] = old_hash

    _edit_json(out / "assessment.json", older)
    _edit_json(out / MARKER_NAME, older)
    result = verify_report(out, original)
    assert result.ok, result.lines()
    assert {(d.kind, d.severity) for d in result.differences} == {
        (DifferenceKind.pmpath_version, Severity.warning),
        (DifferenceKind.analysis_plan, Severity.warning),
    }
    assert any("0.0.9" in line for line in result.lines())
    assert not verify_report(out, original, strict=True).ok


def test_a_report_without_its_marker_uses_the_inputs_it_lists(
    report: Path, original: Path, tmp_path: Path
) -> None:
    out = _report_copy(report, tmp_path)
    (out / MARKER_NAME).unlink()
    result = verify_report(out, original)
    assert result.ok
    assert [(d.kind, d.subject) for d in result.differences] == [
        (DifferenceKind.report, MARKER_NAME)
    ]


def test_what_is_not_a_report_or_a_dossier_is_a_usage_error(
    report: Path, original: Path, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match=r"without assessment\.json"):
        verify_report(tmp_path, original)
    with pytest.raises(UsageError, match="no such folder"):
        verify_report(report, tmp_path / "nowhere")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "assessment.json").write_text('{"pmpath_version": "0.1.0",\n  "platform": }')
    with pytest.raises(UsageError, match=r"assessment.json:2:15: found invalid JSON"):
        verify_report(broken, original)


# --------------------------------------------------------------------------- diff


def test_an_assessment_does_not_differ_from_itself(report: Path) -> None:
    diff = diff_assessments(report, report / "assessment.json")
    assert not diff.changed
    assert diff.lines() == []
    assert diff.to_text().startswith("no changes between")


def test_a_changed_patient_shows_its_input_and_the_verdicts_that_moved(
    report: Path, original: Path, changed_report: tuple[Path, Path]
) -> None:
    changed_root, new = changed_report
    diff = diff_assessments(report, new)
    assert [(c.path, c.change, c.old_sha256, c.new_sha256) for c in diff.inputs] == [
        (
            CHANGED_FILE,
            "changed",
            _sha256(original / CHANGED_FILE),
            _sha256(changed_root / CHANGED_FILE),
        )
    ]
    assert [(c.patient, c.number, c.old, c.new) for c in diff.criteria] == [
        (CHANGED_PATIENT, 4, "met", "not_met")
    ]
    assert [(c.patient, c.old, c.new) for c in diff.roles] == [
        (CHANGED_PATIENT, "success", "failure")
    ]
    # P04 was the platform's whole streak (abe-ucd's README: P03 fails, P04 succeeds)
    assert [(c.field, c.old, c.new) for c in diff.platform] == [("streak", 1, 0)]
    lines = diff.lines()
    assert lines == [
        "platform streak: 1 -> 0",
        f"patient {CHANGED_PATIENT} role: success -> failure",
        f"patient {CHANGED_PATIENT} criterion 4: met -> not_met",
        f"input changed: {CHANGED_FILE} (sha256 {_sha256(original / CHANGED_FILE)} -> "
        f"{_sha256(changed_root / CHANGED_FILE)})",
    ]
    data = json.loads(diff.to_json())
    assert data["changed"] is True
    assert data["criteria"] == [
        {"patient": CHANGED_PATIENT, "number": 4, "old": "met", "new": "not_met"}
    ]
    assert data["inputs"][0]["path"] == CHANGED_FILE


def _assessment(tmp_path: Path, name: str, patients: list, **platform) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "pmpath_version": "0.1.0",
                "schema_version": 7,  # a newer key: ignored
                "platform": {"status": "collecting", "streak": 0, **platform},
                "patients": patients,
                "inputs": [],
            }
        )
    )
    return path


def test_diff_tolerates_older_and_newer_assessments(tmp_path: Path) -> None:
    old = _assessment(
        tmp_path,
        "old",
        [
            {"id": "A", "role": "undecided", "criteria": [{"number": 5, "status": "insufficient"}]},
            {"id": "B", "role": "success", "criteria": []},
        ],
    )  # no analysis_plan_sha256: an older assessment
    new = _assessment(
        tmp_path,
        "new",
        [
            {
                "id": "A",
                "role": "success",
                "criteria": [
                    {"number": 5, "status": "met", "result": {"kind": "typed"}},
                    {"number": 4, "status": "met"},
                ],
            },
            {"id": "C", "role": "failure", "criteria": []},
        ],
        streak=1,
        analysis_plan_sha256="a" * 64,
    )
    assert diff_assessments(old, new).lines() == [
        "platform streak: 0 -> 1",
        f"analysis plan hash: absent -> {'a' * 64}",
        "patient A role: undecided -> success",
        "patient A criterion 4: absent -> met",
        "patient A criterion 5: insufficient -> met",
        "patient C: added, role failure",
        "patient B: removed (role was success)",
    ]


def test_an_assessment_missing_a_stable_key_is_named(tmp_path: Path) -> None:
    good = _assessment(tmp_path, "good", [])
    bad = _assessment(tmp_path, "bad", [{"id": "A", "criteria": []}])
    with pytest.raises(UsageError, match=r"bad.json: patients.0.role: found nothing"):
        diff_assessments(good, bad)
    with pytest.raises(UsageError, match="no such file or folder"):
        diff_assessments(good, tmp_path / "missing.json")
