"""assessment.json against its published JSON Schema, and the keys other tools read from it.

Every assessment written for the bundled examples must validate against
:func:`pmpath.report.assessment_json.assessment_json_schema`; ``pmpath verify`` and ``pmpath diff``
(:mod:`pmpath.report.recorded`) read a fixed set of keys, which must stay where they are.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import jsonschema
import pytest

from pmpath.dossier import Dossier
from pmpath.examples import EXAMPLES
from pmpath.pathway import assess_dossier
from pmpath.report import assessment_json
from pmpath.report.assessment_json import ASSESSMENT_SCHEMA_VERSION, assessment_json_schema


@pytest.fixture(scope="module")
def written(example_dossiers: dict[str, Dossier]) -> dict[str, dict[str, Any]]:
    """Example name -> the parsed assessment.json bytes pmpath writes for it."""
    return {
        name: json.loads(assessment_json.dumps(assess_dossier(dossier)))
        for name, dossier in example_dossiers.items()
    }


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = assessment_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["default"] == ASSESSMENT_SCHEMA_VERSION == 3
    # version 2: a verdict carries its typed result only; no untyped numbers, no plot data
    verdict = schema["$defs"]["Verdict"]["properties"]
    assert "result" in verdict and not {"numbers", "plots", "figures"} & set(verdict)


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_criterion_of_the_examples_has_a_typed_result(
    written: dict[str, dict[str, Any]], name: str
) -> None:
    for patient in written[name]["patients"]:
        for criterion in patient["criteria"]:
            assert criterion["result"]["criterion"] == criterion["number"]
            assert "numbers" not in criterion


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_written_assessment_validates(written: dict[str, dict[str, Any]], name: str) -> None:
    validator = jsonschema.Draft202012Validator(assessment_json_schema())
    errors = sorted(validator.iter_errors(written[name]), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_schema_rejects_a_status_outside_the_vocabulary(written: dict[str, dict[str, Any]]) -> None:
    data = json.loads(json.dumps(written[EXAMPLES[0]]))
    data["patients"][0]["criteria"][0]["status"] = "passed"
    with pytest.raises(jsonschema.ValidationError, match="passed"):
        jsonschema.validate(data, assessment_json_schema())


@pytest.mark.parametrize("name", EXAMPLES)
def test_keys_other_tools_read_are_present(
    written: dict[str, dict[str, Any]], example_dossiers: dict[str, Dossier], name: str
) -> None:
    data = written[name]
    assert data["schema_version"] == ASSESSMENT_SCHEMA_VERSION
    assert isinstance(data["pmpath_version"], str)
    platform = data["platform"]
    assert platform["status"] in ("collecting", "ready_for_marketing_authorization")
    assert isinstance(platform["streak"], int)
    assert len(platform["analysis_plan_sha256"]) == 64
    for patient in data["patients"]:
        assert isinstance(patient["id"], str)
        assert patient["role"] in ("success", "failure", "undecided", "excluded")
        assert [c["number"] for c in patient["criteria"]] == [1, 2, 3, 4, 5]
        assert {c["status"] for c in patient["criteria"]} <= {"met", "not_met", "insufficient"}
    root = example_dossiers[name].root
    for entry in data["inputs"]:
        assert hashlib.sha256((root / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    # the fingerprint as a reviewer recomputes it: sha256 of the sorted `sha256sum` lines
    lines = "".join(
        f"{e['sha256']}  {e['path']}\n" for e in sorted(data["inputs"], key=lambda e: e["path"])
    )
    assert data["dossier_fingerprint"] == hashlib.sha256(lines.encode()).hexdigest()
    assert {"pmpath", "python", "numpy", "scipy", "statsmodels", "lifelines"} <= set(
        data["software"]
    )


@pytest.mark.parametrize("name", EXAMPLES)
def test_flags_are_typed_and_criterion_5_declares_its_decision_quantity(
    written: dict[str, dict[str, Any]], name: str
) -> None:
    for patient in written[name]["patients"]:
        for flag in patient["flags"] + [f for c in patient["criteria"] for f in c["flags"]]:
            assert flag["severity"] in ("info", "caveat", "warning") and flag["message"]
        result = patient["criteria"][4]["result"]
        if result is None:  # criterion 5 stopped before comparing (no natural history)
            continue
        assert result["criterion"] == 5
        assert set(result) >= {
            "decision_estimate",
            "decision_interval",
            "threshold",
            "decision_rule",
        }
        if result["primary"] is not None:
            assert result["decision_estimate"]["unit"] is not None and result["decision_rule"]


def test_the_caveats_reviewers_found_are_caveats(example_dossiers: dict[str, Dossier]) -> None:
    """Issue 6: ssaso-cln P02 had an antiseizure drug added during its seizure endpoint, abe-ucd
    P02 a regression-to-the-mean flag, abe-ucd P01 a diet loosened during protein tolerance; each
    must reach the verdict as a caveat of criterion 5, not only as text."""
    kinds = {
        (name, p.id): {(f.kind, f.criterion) for f in p.caveats}
        for name, dossier in example_dossiers.items()
        for p in assess_dossier(dossier).patients
    }
    assert ("concomitant_change", 5) in kinds["ssaso-cln", "P02"]
    assert ("regression_to_the_mean", 5) in kinds["abe-ucd", "P02"]
    assert ("concomitant_change", 5) in kinds["abe-ucd", "P01"]
    # issue 7: the clinician-set primary endpoint decides only by the plan's justification, which
    # every abe-ucd verdict shows; otherwise P04 is clean
    assert kinds["abe-ucd", "P04"] == {("endpoint_category", 5)}
    assert kinds["ssaso-cln", "P01"] == set()


def test_decision_quantity_of_a_rate_endpoint_is_a_ratio_against_the_plan(
    example_dossiers: dict[str, Dossier],
) -> None:
    dossier = example_dossiers["ssaso-cln"]
    plan = dossier.platform.analysis_plan.improvement
    for p in assess_dossier(dossier).patients:
        r = p.criterion(5).result
        mcid = plan.for_endpoint(dossier.platform.primary_endpoint).mcid
        assert mcid.value == 0  # the example's plan: any reduction, judged by the one-sided bound
        assert r.decision_estimate.unit == "ratio" and r.threshold.value == 1.0
        assert r.decision_interval.low < r.decision_estimate.value < r.decision_interval.high
        assert r.decision_interval.level == pytest.approx(1 - 2 * plan.alpha_one_sided)
