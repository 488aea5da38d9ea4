"""Criterion 5's plan in the dossier: estimands, mcid units, endpoint categories and `acts_on`.

Each bad plan is a finding naming platform.yaml's line and field, what was found and what was
expected; the defaults a plan leaves out are the ones docs/dossier.md states (written out here,
not read from the models).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pmpath.dossier import load_dossier
from pmpath.dossier.load import load_platform
from pmpath.dossier.model import Endpoint, ImprovementPlan, Platform
from pmpath.dossier.tables import CONCOMITANT, table_json_schema
from pmpath.errors import DossierError, Finding
from pmpath.examples import example_path

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"

# docs/dossier.md, "The improvement plan": the defaults of an endpoint the plan does not list
DOCUMENTED_MEASURE = {
    "continuous": "mean_deviation",
    "count": "rate_ratio",
    "time_to_event": "event_free_time",
}
DOCUMENTED_INTERCURRENT = {
    "concomitant_change": "hypothetical",
    "transplant": "composite",
    "death": "composite",
    "withdrawal": "while_on_treatment",
    "lost_to_follow_up": "while_on_treatment",
}
STRATEGIES = [
    "hypothetical",
    "treatment_policy",
    "composite",
    "while_on_treatment",
    "principal_stratum",
]


@pytest.fixture
def dossier(tmp_path: Path) -> Path:
    target = tmp_path / "dossier"
    shutil.copytree(MINIMAL, target)
    return target


def append_plan(root: Path, improvement: str) -> Path:
    """Give the minimal dossier's plan an ``improvement:`` block (YAML text, indented 4)."""
    path = root / "platform.yaml"
    text = path.read_text()
    assert text.rstrip().endswith("fixed_on: 2025-01-01")
    path.write_text(text.rstrip() + "\n  improvement:\n" + improvement)
    return path


def plan_findings(root: Path) -> list[Finding]:
    with pytest.raises(DossierError) as exc:
        load_platform(root)
    return exc.value.findings


def line_of(path: Path, needle: str, after: int = 0) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if i > after and needle in line)


def endpoint(**kw) -> Endpoint:
    base = {
        "id": "e",
        "name": "E",
        "kind": "continuous",
        "unit": "g/kg/d",
        "direction": "higher_is_better",
    }
    return Endpoint.model_validate({**base, **kw})


# --------------------------------------------------------------------------- defaults


@pytest.mark.parametrize("kind", ["continuous", "count", "time_to_event"])
def test_an_endpoint_the_plan_leaves_out_gets_the_documented_defaults(kind: str) -> None:
    e = endpoint(kind=kind, unit="{events}" if kind == "count" else "g/kg/d")
    resolved = ImprovementPlan().for_endpoint(e)
    assert resolved.summary_measure.value == DOCUMENTED_MEASURE[kind]
    assert (resolved.mcid.value, resolved.mcid.unit) == (0.0, e.unit)
    assert resolved.onset_days == 0
    assert resolved.plausible_effect is None and resolved.justification is None
    assert {k.value: v.value for k, v in resolved.intercurrent.items()} == DOCUMENTED_INTERCURRENT


@given(
    overrides=st.dictionaries(
        st.sampled_from(sorted(DOCUMENTED_INTERCURRENT)), st.sampled_from(STRATEGIES)
    )
)
def test_the_plan_names_only_the_strategies_it_changes(overrides: dict[str, str]) -> None:
    plan = ImprovementPlan.model_validate({"endpoints": {"e": {"intercurrent": overrides}}})
    resolved = plan.for_endpoint(endpoint())
    assert {k.value: v.value for k, v in resolved.intercurrent.items()} == {
        **DOCUMENTED_INTERCURRENT,
        **overrides,
    }


def test_the_plan_defaults_of_v3() -> None:
    plan = ImprovementPlan()
    assert plan.decision.value == "frequentist"
    assert plan.posterior_threshold == 0.975
    assert (plan.prior.mean, plan.prior.sd) == (0.0, None)
    assert plan.endpoints == {}
    # kept readable for the criterion until the new rule replaces it; no longer a plan field
    assert "min_fraction_beyond_band" not in ImprovementPlan.model_fields


def test_several_primary_endpoints_are_allowed_and_listed_in_order() -> None:
    data = yaml.safe_load((example_path("abe-ucd") / "platform.yaml").read_text())
    data["endpoints"][1]["role"] = "primary"
    platform = Platform.model_validate(data)
    assert [e.id for e in platform.primary_endpoints] == ["protein_tolerance", "ammonia"]
    assert platform.primary_endpoint.id == "protein_tolerance"
    for e in data["endpoints"]:
        e["role"] = "supportive"
    with pytest.raises(ValueError, match="at least one endpoint with role: primary"):
        Platform.model_validate(data)


# --------------------------------------------------------------------------- findings


def test_a_plan_for_an_unknown_endpoint_is_a_finding(dossier: Path) -> None:
    path = append_plan(
        dossier, "    endpoints:\n      protein_tolerence:\n        onset_days: 30\n"
    )
    (f,) = plan_findings(dossier)
    assert f.path == "platform.yaml"
    assert f.field == "analysis_plan.improvement.endpoints.protein_tolerence"
    assert f.line == line_of(path, "protein_tolerence:")
    assert "unknown endpoint 'protein_tolerence'" in f.found
    assert "protein_tolerance" in f.expected and "crises" in f.expected


@pytest.mark.parametrize(
    ("entry", "mcid", "field", "found", "expected"),
    [
        # a relative change needs a count or log-scale endpoint
        (
            "protein_tolerance",
            "{value: 0.2, unit: '%'}",
            "unit",
            "a relative change needs",
            "'g/kg/d'",
        ),
        ("protein_tolerance", "{value: 0.2, unit: mg/dL}", "unit", "'mg/dL'", "'g/kg/d'"),
        ("protein_tolerance", "{value: -0.1, unit: g/kg/d}", "value", "-0.1", ">= 0"),
        # crises: a lower_is_better count endpoint
        ("crises", "{value: 1.5, unit: ratio}", "value", "1.5 ratio", "at most 1"),
        ("crises", "{value: 120, unit: '%'}", "value", "120 %", "below 100"),
        (
            "crises",
            "{value: 1, unit: '{seizures}'}",
            "unit",
            "'{seizures}'",
            "'{crises}', 'ratio' or '%'",
        ),
    ],
)
def test_an_mcid_in_the_wrong_unit_or_direction_is_a_finding(
    dossier: Path, entry: str, mcid: str, field: str, found: str, expected: str
) -> None:
    path = append_plan(dossier, f"    endpoints:\n      {entry}:\n        mcid: {mcid}\n")
    (f,) = plan_findings(dossier)
    assert f.path == "platform.yaml"
    assert f.field == f"analysis_plan.improvement.endpoints.{entry}.mcid.{field}"
    assert f.line == line_of(path, "mcid:")
    assert found in f.found and expected in f.expected, f


@pytest.mark.parametrize(
    ("unit", "value"), [("'%'", 50), ("ratio", 0.5), ("ratio", 1), ("'{crises}'", 2)]
)
def test_relative_and_absolute_mcids_a_count_endpoint_accepts(
    dossier: Path, unit: str, value: float
) -> None:
    append_plan(
        dossier, f"    endpoints:\n      crises:\n        mcid: {{value: {value}, unit: {unit}}}\n"
    )
    plan = load_platform(dossier).analysis_plan.improvement
    mcid = plan.endpoints["crises"].mcid
    assert mcid.value == value and mcid.unit == unit.strip("'")


def test_a_plausible_effect_must_point_the_benefit_way(dossier: Path) -> None:
    append_plan(
        dossier,
        "    endpoints:\n      crises:\n        plausible_effect: {value: 1, unit: ratio}\n",
    )
    (f,) = plan_findings(dossier)
    assert f.field.endswith("crises.plausible_effect.value")
    assert "below 1" in f.expected


def test_a_summary_measure_the_endpoint_kind_has_not_is_a_finding(dossier: Path) -> None:
    append_plan(
        dossier, "    endpoints:\n      protein_tolerance:\n        summary_measure: rate_ratio\n"
    )
    (f,) = plan_findings(dossier)
    assert f.field.endswith("protein_tolerance.summary_measure")
    assert "mean_deviation or slope_change" in f.expected


def test_an_unknown_intercurrent_strategy_is_a_finding(dossier: Path) -> None:
    append_plan(
        dossier,
        "    endpoints:\n      crises:\n        intercurrent: {death: ignore}\n",
    )
    (f,) = plan_findings(dossier)
    assert "intercurrent" in f.field and "hypothetical" in f.expected


def test_every_plan_problem_is_reported_at_once(dossier: Path) -> None:
    append_plan(
        dossier,
        "    endpoints:\n      nope: {}\n      crises:\n        mcid: {value: 3, unit: ratio}\n"
        "      protein_tolerance:\n        summary_measure: event_free_time\n",
    )
    fields = sorted(f.field.rsplit(".", 2)[-2:][-1] for f in plan_findings(dossier))
    assert fields == ["nope", "summary_measure", "value"]


def test_the_band_rule_in_a_v3_plan_is_a_finding_naming_migrate(dossier: Path) -> None:
    path = append_plan(dossier, "    min_fraction_beyond_band: 0.5\n")
    (f,) = plan_findings(dossier)
    assert f.field == "analysis_plan.improvement.min_fraction_beyond_band"
    assert f.line == line_of(path, "min_fraction_beyond_band")
    assert "removed in schema version 3" in f.found and "pmpath migrate" in f.expected


def test_an_established_biomarker_needs_its_citation(dossier: Path) -> None:
    path = dossier / "platform.yaml"
    text = path.read_text().replace(
        "    role: primary\n", "    role: primary\n    category: biomarker_established\n", 1
    )
    path.write_text(text)
    (f,) = plan_findings(dossier)
    assert f.field == "endpoints.0.citation"
    assert f.line == line_of(path, "- id: protein_tolerance")
    assert "without a citation" in f.found and "citation" in f.expected
    path.write_text(
        text.replace(
            "    category: biomarker_established\n",
            "    category: biomarker_established\n    citation: Author et al. 2020\n",
        )
    )
    assert load_platform(dossier).endpoints[0].citation == "Author et al. 2020"


# --------------------------------------------------------------------------- acts_on


def test_acts_on_is_loaded_as_a_tuple_of_endpoint_ids(dossier: Path) -> None:
    (dossier / "patients/P1/concomitant.csv").write_text(
        "date,kind,description,acts_on\n"
        "2026-03-01,diet,protein liberalized,protein_tolerance\n"
        "2026-03-02,medication,two at once, crises ; protein_tolerance \n"
        "2026-03-03,other,acts on nothing,\n"
    )
    (patient,) = load_dossier(dossier).patients
    assert list(patient.concomitant["acts_on"]) == [
        ("protein_tolerance",),
        ("crises", "protein_tolerance"),
        (),
    ]


def test_a_table_without_acts_on_acts_on_nothing(dossier: Path) -> None:
    (patient,) = load_dossier(dossier).patients
    assert list(patient.concomitant["acts_on"]) == [()]


def test_acts_on_an_unknown_endpoint_is_a_finding_with_its_line(dossier: Path) -> None:
    (dossier / "patients/P1/concomitant.csv").write_text(
        "date,kind,description,acts_on\n"
        "2026-03-01,diet,protein liberalized,protein_tolerance\n"
        "2026-03-02,medication,clobazam,protein_tolerance;seizures\n"
    )
    with pytest.raises(DossierError) as exc:
        load_dossier(dossier)
    (f,) = exc.value.findings
    assert (f.path, f.line, f.field) == ("patients/P1/concomitant.csv", 3, "acts_on")
    assert "unknown endpoint 'seizures'" in f.found
    assert "protein_tolerance" in f.expected and "';'" in f.expected


def test_acts_on_is_declared_for_docs_and_schema() -> None:
    column = CONCOMITANT.column("acts_on")
    assert column is not None and not column.required and column.separator == ";"
    schema = table_json_schema(CONCOMITANT)
    assert schema["items"]["properties"]["acts_on"]["type"] == "string"
    assert "acts_on" not in schema["items"]["required"]


def test_the_example_clobazam_start_acts_on_the_seizure_endpoint() -> None:
    dossier = load_dossier(example_path("ssaso-cln"))
    p02 = next(p for p in dossier.patients if p.id == "P02")
    row = p02.concomitant.iloc[0]
    assert "Clobazam" in row["description"] and row["acts_on"] == ("seizures",)
    assert dossier.platform.endpoint("seizures").category.value == "clinical_outcome"


def test_the_abe_ucd_plan_justifies_its_clinician_set_primary_endpoint() -> None:
    platform = load_platform(example_path("abe-ucd"))
    primary = platform.primary_endpoint
    assert (primary.id, primary.category.value) == ("protein_tolerance", "clinician_set")
    plan = platform.analysis_plan.improvement.for_endpoint(primary)
    assert "ammonia monitoring" in plan.justification
    ammonia = platform.endpoint("ammonia")
    assert ammonia.role == "supportive" and ammonia.category.value == "biomarker_established"
    assert ammonia.citation


# --------------------------------------------------------------------------- robustness

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 500),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["%", "ratio", "g/kg/d", "{crises}", "mg/dL", "", "hypothetical", "death"]),
    st.lists(st.integers(), max_size=2),
)
_ENTRY_KEYS = st.sampled_from(
    ["mcid", "plausible_effect", "onset_days", "justification", "summary_measure", "intercurrent"]
)
_ENTRIES = st.dictionaries(
    _ENTRY_KEYS,
    st.one_of(_VALUES, st.dictionaries(st.sampled_from(["value", "unit", "death"]), _VALUES)),
    max_size=4,
)


@given(
    plan=st.dictionaries(
        st.sampled_from(["protein_tolerance", "crises", "other", "0"]), _ENTRIES, max_size=3
    )
    | _VALUES
)
def test_any_plan_entry_is_a_platform_or_findings_never_a_crash(plan: object) -> None:
    data = yaml.safe_load((MINIMAL / "platform.yaml").read_text())
    data["analysis_plan"]["improvement"] = {"endpoints": plan}
    try:
        platform = Platform.model_validate(data)
    except ValueError as exc:  # pydantic's ValidationError, which the loader turns into findings
        assert str(exc)
    else:
        for e in platform.endpoints:
            resolved = platform.analysis_plan.improvement.for_endpoint(e)
            assert resolved.mcid is not None and resolved.summary_measure is not None


def test_the_writer_joins_acts_on_and_refuses_an_id_it_could_not_read_back() -> None:
    import pandas as pd

    from pmpath.dossier.write import table_bytes
    from pmpath.errors import UsageError

    frame = pd.DataFrame(
        {
            "study_day": [21, 40],
            "kind": ["medication", "diet"],
            "description": ["clobazam", "protein"],
            "acts_on": [("seizures", "motor_language_score"), ()],
        }
    )
    text = table_bytes(frame, CONCOMITANT, "c.csv").decode()
    assert text.splitlines() == [
        "study_day,kind,description,acts_on",
        "21,medication,clobazam,seizures;motor_language_score",
        "40,diet,protein,",
    ]
    frame.loc[1, "acts_on"] = ("a;b",)
    with pytest.raises(UsageError, match="'a;b'"):
        table_bytes(frame, CONCOMITANT, "c.csv")
