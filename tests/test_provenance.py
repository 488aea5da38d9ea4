"""The analysis-plan hash (RFC 8785 canonical JSON, SHA-256), the software versions, the fingerprint.

Known answers come from outside pmpath: RFC 8785's own examples (section 3.2.2's whole
transformation, section 3.2.3's sorting, Appendix B's number table), the plan defaults as
docs/dossier.md states them, and coreutils' ``sha256sum`` and ``sort`` for the fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import rfc8785
import yaml

from pmpath.dossier import load_dossier
from pmpath.dossier.fingerprint import dossier_fingerprint
from pmpath.dossier.load import load_platform
from pmpath.dossier.model import Platform
from pmpath.dossier.provenance import (
    canonical_plan_json,
    plan_document,
    plan_sha256,
    software_versions,
)
from pmpath.errors import DossierError
from pmpath.examples import EXAMPLES, example_path

# RFC 8785, Appendix B: IEEE 754 double (big-endian hex) -> the JCS form.
RFC8785_APPENDIX_B = [
    ("0000000000000000", "0"),  # zero
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),  # min positive
    ("8000000000000001", "-5e-324"),  # min negative
    ("7fefffffffffffff", "1.7976931348623157e+308"),  # max positive
    ("ffefffffffffffff", "-1.7976931348623157e+308"),  # max negative
    ("4340000000000000", "9007199254740992"),  # max positive integer
    ("c340000000000000", "-9007199254740992"),  # max negative integer
    ("4430000000000000", "295147905179352830000"),  # ~2**68
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]

# docs/dossier.md, the analysis_plan row: every default of the plan.
DOCUMENTED_DEFAULTS = {
    "natural_history": {
        "min_subjects": 20,
        "min_person_years": 40,
        "max_slope_relative_se": 0.5,
        "min_events": 20,
    },
    "engagement": {"confidence": 0.95},
    "improvement": {
        "alpha_one_sided": 0.025,
        "prediction_level": 0.95,
        "min_post_dose_visits": 2,
        "max_gap_probability": 0.05,
        "decision": "frequentist",
        "posterior_threshold": 0.975,
        "prior": {"mean": 0, "sd": None},
        "endpoints": {},
    },
}
# docs/dossier.md, the improvement plan: an endpoint's entry when the plan leaves it out.
DOCUMENTED_ENDPOINT_DEFAULTS = {"onset_days": 0, "plausible_effect": None, "justification": None}
DOCUMENTED_SUMMARY_MEASURE = {
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


def _double(bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(bits))[0]


# --------------------------------------------------------------------------- JCS itself


@pytest.mark.parametrize(("bits", "expected"), RFC8785_APPENDIX_B)
def test_numbers_are_written_as_rfc8785_appendix_b_says(bits: str, expected: str) -> None:
    assert rfc8785.dumps(_double(bits)) == expected.encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinities_have_no_canonical_form(bits: str) -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        rfc8785.dumps(_double(bits))


def test_the_brief_s_numbers() -> None:
    assert rfc8785.dumps([2 / 3, 1e21, 40.0, -0.0, 1e-7, 0.1]) == (
        b"[0.6666666666666666,1e+21,40,0,1e-7,0.1]"
    )


def test_rfc8785_section_3_2_2_example() -> None:
    """The RFC's whole transformation: numbers, string escaping and literals, sorted members."""
    rfc_input = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert rfc8785.dumps(json.loads(rfc_input)) == expected


def test_rfc8785_section_3_2_3_sorting_by_utf16_code_units() -> None:
    """The emoji (surrogates D83D DE00) sorts before U+FB33, although its code point is larger."""
    rfc_input = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    values = [v for _, v in json.loads(rfc8785.dumps(rfc_input)).items()]
    assert values == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


def test_strings_escape_only_what_json_requires() -> None:
    # RFC 8785 3.2.2.2: the short escapes, other controls as lowercase \u00xx, everything else as is
    text = '\b\t\n\f\r"\\\x01\x1f\x7f\u2028é/'
    assert rfc8785.dumps(text) == ('"\\b\\t\\n\\f\\r\\"\\\\\\u0001\\u001f\x7f\u2028é/"').encode()


# --------------------------------------------------------------------------- the plan hash


def _independent_jcs(value: object) -> str:
    """JCS for what a plan holds (ASCII keys, strings, integers, moderate floats), written apart."""
    if isinstance(value, dict):
        assert all(k.isascii() for k in value)  # so code-point order is UTF-16 order
        items = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(k)}:{_independent_jcs(v)}" for k, v in items) + "}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        assert 1e-6 <= abs(value) < 1e21  # where ECMAScript and Python's repr agree
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise AssertionError(f"a plan holds no {type(value).__name__}")


def _effective_plan_from_yaml(platform_yaml: Path) -> dict:
    """platform.yaml's analysis_plan read with PyYAML, completed with docs/dossier.md's defaults."""
    data = yaml.safe_load(platform_yaml.read_text())
    stated = data["analysis_plan"]
    plan = {k: dict(v) for k, v in DOCUMENTED_DEFAULTS.items()}
    for section, values in stated.items():
        if isinstance(values, dict):
            plan[section].update(values)
        else:
            plan[section] = values.isoformat() if isinstance(values, dt.date) else values
    improvement = plan["improvement"]
    improvement["prior"] = {**DOCUMENTED_DEFAULTS["improvement"]["prior"], **improvement["prior"]}
    given = improvement["endpoints"]
    improvement["endpoints"] = {}
    for endpoint in data["endpoints"]:
        entry = {
            **DOCUMENTED_ENDPOINT_DEFAULTS,
            "mcid": {"value": 0, "unit": endpoint["unit"]},
            "summary_measure": DOCUMENTED_SUMMARY_MEASURE[endpoint["kind"]],
            **given.get(endpoint["id"], {}),
        }
        entry["intercurrent"] = {
            **DOCUMENTED_INTERCURRENT,
            **given.get(endpoint["id"], {}).get("intercurrent", {}),
        }
        improvement["endpoints"][endpoint["id"]] = entry
    return plan


@pytest.mark.parametrize("name", EXAMPLES)
def test_plan_hash_reproduced_independently(name: str) -> None:
    root = example_path(name)
    document = {
        "schema_version": 3,
        "analysis_plan": _effective_plan_from_yaml(root / "platform.yaml"),
    }
    expected = _independent_jcs(document).encode()
    platform = load_platform(root)
    assert canonical_plan_json(platform) == expected
    assert plan_sha256(platform) == hashlib.sha256(expected).hexdigest()
    assert load_dossier(root).plan_sha256 == hashlib.sha256(expected).hexdigest()


def test_abe_ucd_canonical_plan_known_answer() -> None:
    """Written out by hand from platform.yaml and docs/dossier.md (posterior_threshold, prior and
    three of the four endpoint entries left at their defaults, min_person_years written 40.0)."""
    intercurrent = (
        b'"intercurrent":{"concomitant_change":"hypothetical","death":"composite",'
        b'"lost_to_follow_up":"while_on_treatment","transplant":"composite",'
        b'"withdrawal":"while_on_treatment"},'
    )
    justification = (
        b"Protein tolerance is set by the metabolic team under a written protocol with ammonia "
        b"monitoring: natural protein is stepped up only after scheduled plasma ammonia (and "
        b"glutamine) values stay in the target range, and stepped back after a high value, so the "
        b"allowance a patient holds records what their metabolism tolerated rather than a free "
        b"choice. This is the endpoint of the published case that motivated the pathway (Musunuru K "
        b"et al. Patient-specific in vivo gene editing to treat a rare genetic disease. N Engl J Med "
        b"2025), and ammonia is reported beside it as a supportive, established biomarker."
    )
    expected = (
        b'{"analysis_plan":{"engagement":{"confidence":0.95},"fixed_on":"2024-01-15",'
        b'"improvement":{"alpha_one_sided":0.025,"decision":"frequentist","endpoints":{'
        b'"ammonia":{' + intercurrent + b'"justification":null,'
        b'"mcid":{"unit":"umol/L","value":0},"onset_days":0,"plausible_effect":null,'
        b'"summary_measure":"mean_deviation"},'
        b'"hyperammonemic_crises":{' + intercurrent + b'"justification":null,'
        b'"mcid":{"unit":"{crises}","value":0},"onset_days":0,"plausible_effect":null,'
        b'"summary_measure":"rate_ratio"},'
        b'"protein_tolerance":{' + intercurrent + b'"justification":"' + justification + b'",'
        b'"mcid":{"unit":"g/kg/d","value":0},"onset_days":0,'
        b'"plausible_effect":{"unit":"g/kg/d","value":0.3},"summary_measure":"mean_deviation"},'
        b'"scavenger_dose":{' + intercurrent + b'"justification":null,'
        b'"mcid":{"unit":"mg/kg/d","value":0},"onset_days":0,"plausible_effect":null,'
        b'"summary_measure":"mean_deviation"}},'
        b'"max_gap_probability":0.05,"min_post_dose_visits":2,'
        b'"posterior_threshold":0.975,"prediction_level":0.95,"prior":{"mean":0,"sd":null}},'
        b'"natural_history":{"max_slope_relative_se":0.5,'
        b'"min_events":20,"min_person_years":40,"min_subjects":20}},"schema_version":3}'
    )
    assert canonical_plan_json(load_platform(example_path("abe-ucd"))) == expected


def _platform_with(plan: dict) -> Platform:
    data = yaml.safe_load((example_path("abe-ucd") / "platform.yaml").read_text())
    data["analysis_plan"] = plan
    return Platform.model_validate(data)


def test_defaults_are_part_of_the_plan() -> None:
    """Leaving a threshold to its default and writing the default out are the same plan."""
    implicit = _platform_with({"fixed_on": dt.date(2024, 1, 15)})
    explicit = _platform_with({"fixed_on": dt.date(2024, 1, 15), **DOCUMENTED_DEFAULTS})
    assert plan_sha256(implicit) == plan_sha256(explicit)
    changed = _platform_with(
        {"fixed_on": dt.date(2024, 1, 15), "improvement": {"posterior_threshold": 0.99}}
    )
    assert plan_sha256(changed) != plan_sha256(implicit)
    # an endpoint's entry written out with the documented defaults is the same plan as none
    platform = load_platform(example_path("abe-ucd"))
    entries = {
        e.id: {
            **DOCUMENTED_ENDPOINT_DEFAULTS,
            "mcid": {"value": 0, "unit": e.unit},
            "summary_measure": DOCUMENTED_SUMMARY_MEASURE[e.kind.value],
            "intercurrent": DOCUMENTED_INTERCURRENT,
        }
        for e in platform.endpoints
    }
    written = _platform_with(
        {"fixed_on": dt.date(2024, 1, 15), "improvement": {"endpoints": entries}}
    )
    assert plan_sha256(written) == plan_sha256(implicit)
    onset = {"ammonia": {"onset_days": 30}}
    later_onset = _platform_with(
        {"fixed_on": dt.date(2024, 1, 15), "improvement": {"endpoints": onset}}
    )
    assert plan_sha256(later_onset) != plan_sha256(implicit)
    later = _platform_with({"fixed_on": dt.date(2024, 1, 16)})
    assert plan_sha256(later) != plan_sha256(implicit)


def test_the_wrapper_carries_the_format_version() -> None:
    document = plan_document(load_platform(example_path("abe-ucd")))
    assert document["schema_version"] == 3
    assert document["analysis_plan"]["improvement"]["posterior_threshold"] == 0.975
    assert "min_fraction_beyond_band" not in document["analysis_plan"]["improvement"]


def test_a_plan_value_without_a_json_number_is_a_finding() -> None:
    platform = _platform_with(
        {"fixed_on": dt.date(2024, 1, 15), "natural_history": {"min_subjects": 2**60}}
    )
    with pytest.raises(DossierError) as caught:
        plan_sha256(platform)
    (finding,) = caught.value.findings
    assert finding.path == "platform.yaml"
    assert finding.field == "analysis_plan.natural_history.min_subjects"
    assert str(2**60) in finding.found


def test_an_infinite_threshold_is_refused_if_validation_lets_it_through() -> None:
    try:
        platform = _platform_with(
            {"fixed_on": dt.date(2024, 1, 15), "natural_history": {"min_person_years": math.inf}}
        )
    except ValueError:
        pytest.skip("the model refuses an infinite min_person_years itself")
    with pytest.raises(DossierError) as caught:
        plan_sha256(platform)
    assert caught.value.findings[0].field == "analysis_plan.natural_history.min_person_years"


# --------------------------------------------------------------------------- versions, fingerprint


def test_software_versions_name_what_makes_the_numbers() -> None:
    versions = software_versions()
    assert list(versions) == [
        "pmpath",
        "python",
        "numpy",
        "scipy",
        "statsmodels",
        "lifelines",
        "pandas",
        "pyarrow",
    ]
    assert versions["python"] == ".".join(str(n) for n in sys.version_info[:3])
    import numpy

    assert versions["numpy"] == numpy.__version__


@pytest.mark.skipif(
    shutil.which("sha256sum") is None or shutil.which("sort") is None,
    reason="needs coreutils' sha256sum and sort",
)
@pytest.mark.parametrize("name", EXAMPLES)
def test_fingerprint_reproduced_with_sha256sum_and_sort(name: str) -> None:
    """As a reviewer would: ``sha256sum FILE... | LC_ALL=C sort -k2 | sha256sum``."""
    dossier = load_dossier(example_path(name))
    files = " ".join(f"'{path}'" for path in dossier.inputs)
    result = subprocess.run(
        ["sh", "-c", f"sha256sum {files} | LC_ALL=C sort -k2 | sha256sum"],
        cwd=dossier.root,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
    )
    assert result.stdout.split()[0] == dossier_fingerprint(dossier.inputs)
