"""The unit vocabulary: UCUM codes, display forms, and conversions only within one quantity.

Known answers come from UCUM's definitions (the prefixes, a = 365.25 d, mo = a/12, wk = 7 d,
m[Hg] = 133.3220 kPa, U = umol/min) and from ``ucumvert``, an independent UCUM implementation
that reads UCUM's ``ucum-essence.xml`` into pint.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmpath.dossier.units import (
    DOSE_UNIT_CODES,
    DOSE_UNITS,
    ENDPOINT_UNIT_CODES,
    UNITS,
    UnitError,
    conversion_factor,
    convert,
    dose_unit_table_markdown,
    lookup,
    normalize_dose_unit,
    normalize_unit,
    unit_table_markdown,
)
from pmpath.dossier.vocabulary import DAYS_PER_MONTH

ALL_UNITS = {**UNITS, **DOSE_UNITS}
BY_QUANTITY: dict[str, list[str]] = defaultdict(list)
for _unit in ALL_UNITS.values():
    BY_QUANTITY[_unit.quantity].append(_unit.code)
CONVERTIBLE = sorted(q for q, codes in BY_QUANTITY.items() if len(codes) > 1)


# --- known answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1, "mg/dL", "mg/L", 10),  # a decilitre is a tenth of a litre
        (1, "g/dL", "g/L", 10),
        (1, "ng/mL", "ug/L", 1),
        (1, "ng/mL", "pg/mL", 1000),
        (1, "ng/mL", "ng/L", 1000),
        (1, "ug/dL", "ug/L", 10),
        (1, "mmol/L", "umol/L", 1000),
        (1, "nmol/mL", "umol/L", 1),
        (1, "umol/L", "nmol/L", 1000),
        (1, "a", "d", 365.25),  # UCUM: a = a_j, the mean Julian year
        (1, "wk", "d", 7),
        (1, "mo", "d", 365.25 / 12),  # UCUM: mo = mo_j = a_j/12
        (1, "d", "h", 24),
        (1, "h", "s", 3600),
        (1, "s", "ms", 1000),
        (1, "{seizures}/d", "{seizures}/mo", DAYS_PER_MONTH),
        (1, "{seizures}/wk", "{seizures}/d", 1 / 7),
        (12, "{crises}/a", "{crises}/mo", 1),
        (1, "{events}/mo", "{events}/a", 12),
        (1, "mL/s/{1.73_m2}", "mL/min/{1.73_m2}", 60),
        (1, "mL/min", "mL/h", 60),
        (1, "10*9/L", "10*3/uL", 1),  # 10^9 per litre = 10^3 per microlitre
        (1, "10*3/uL", "/uL", 1000),
        (1, "10*12/L", "10*6/uL", 1),
        (1, "mm[Hg]", "kPa", 0.1333220),  # UCUM: m[Hg] = 133.3220 kPa
        (1, "U/L", "ukat/L", 1 / 60),  # 1 U = 1 umol/min = 16.67 nkat
        (1, "u[IU]/mL", "m[IU]/L", 1),
        (1, "k[IU]/L", "[IU]/mL", 1),
        (1, "g/kg/d", "mg/kg/d", 1000),
        (1, "g/m2/d", "mg/m2/d", 1000),
        (1, "g/d", "mg/d", 1000),
        (1, "%", "1", 0.01),
        (1, "m", "cm", 100),
        (1, "cm", "mm", 10),
        (1, "kg", "g", 1000),
        (1, "L", "mL", 1000),
        (1, "mmol/mol{creat}", "umol/mmol{creat}", 1),
        (1, "mg/g{creat}", "ug/mg{creat}", 1),
        (1, "mg/kg", "ug/kg", 1000),
        (1, "ug/kg", "ng/kg", 1000),
        (1, "umol/kg", "nmol/kg", 1000),
        (1, "mg/m2", "ug/m2", 1000),
        (1, "mL", "uL", 1000),
    ],
)
def test_known_conversions(value, source, target, expected):
    assert convert(value, source, target) == pytest.approx(expected, rel=1e-12)


def test_month_of_the_vocabulary_is_the_dossiers_month():
    assert conversion_factor("mo", "d") == pytest.approx(DAYS_PER_MONTH, rel=1e-15)


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("mg/dL", "mmol/L"),  # mass to amount needs the analyte's molar mass
        ("mg/dL", "umol/L"),  # 88.4 umol/L per mg/dL holds for creatinine only
        ("umol/L", "10*9/L"),  # UCUM's mol is a number; here amount of substance is its own
        ("meq/L", "mmol/L"),  # equivalents per mole depend on the ion's charge
        ("mosm/kg", "mmol/L"),
        ("[IU]/L", "U/L"),  # international units are arbitrary
        ("[IU]/L", "/uL"),
        ("{seizures}", "{crises}"),
        ("{seizures}/mo", "{crises}/mo"),
        ("{seizures}/mo", "{seizures}"),
        ("{events}/a", "/h"),
        ("{score}", "1"),
        ("{score}", "%"),
        ("{ratio}", "1"),
        ("{z_score}", "{score}"),
        ("mL/min/{1.73_m2}", "mL/min"),  # normalized to body surface area, or not
        ("g/kg/d", "/min"),  # both a reciprocal time to UCUM
        ("g/kg/d", "g/d"),
        ("mg/kg", "%"),  # both dimensionless to UCUM
        ("mg/kg", "mg"),
        ("mg/g{creat}", "mg/mmol{creat}"),
        ("mmol/mol{creat}", "%"),
        ("kg/m2", "kg"),
        ("d", "m"),
        ("Cel", "1"),
        ("{vector_genomes}/kg", "{copies}/kg"),
        ("{vector_genomes}/kg", "mg/kg"),
    ],
)
def test_conversion_refused_between_quantities(source, target):
    with pytest.raises(UnitError) as raised:
        conversion_factor(source, target)
    with pytest.raises(UnitError):
        conversion_factor(target, source)
    assert source in raised.value.found
    assert target in raised.value.expected


def test_mass_to_amount_refusal_names_the_molar_mass():
    with pytest.raises(UnitError, match="molar mass"):
        conversion_factor("mg/dL", "umol/L")


@pytest.mark.parametrize("text", ["furlong", "", "mg/", "ppm", "mmol/mg", "{seizures}/fortnight"])
def test_unknown_units_refused(text):
    with pytest.raises(UnitError) as raised:
        normalize_unit(text)
    assert repr(text) in raised.value.found
    with pytest.raises(UnitError):
        conversion_factor(text, "mg/dL")


# --- display forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("µmol/L", "umol/L"),  # U+00B5 micro sign
        ("μmol/L", "umol/L"),  # U+03BC Greek mu
        ("umol/l", "umol/L"),
        ("mL/min/1.73m2", "mL/min/{1.73_m2}"),
        ("mL/min/1.73 m²", "mL/min/{1.73_m2}"),
        ("mL/min/1.73m^2", "mL/min/{1.73_m2}"),
        ("ml/min/1.73 m2", "mL/min/{1.73_m2}"),
        ("kg/m²", "kg/m2"),
        ("kg/m^2", "kg/m2"),
        ("mcg/mL", "ug/mL"),
        ("µg/dL", "ug/dL"),
        ("IU/L", "[IU]/L"),
        ("mIU/L", "m[IU]/L"),
        ("µIU/mL", "u[IU]/mL"),
        ("mmHg", "mm[Hg]"),
        ("mm Hg", "mm[Hg]"),
        ("g/kg/day", "g/kg/d"),
        ("mg/kg/day", "mg/kg/d"),
        ("mg/m²/day", "mg/m2/d"),
        ("seizures/month", "{seizures}/mo"),
        ("seizures per month", "{seizures}/mo"),
        ("Seizures/day", "{seizures}/d"),
        ("crises/year", "{crises}/a"),
        ("crises/yr", "{crises}/a"),
        ("events per week", "{events}/wk"),
        ("seizures", "{seizures}"),
        ("mg/dl", "mg/dL"),
        (" mg/dL ", "mg/dL"),
        ("mg / dL", "mg/dL"),
        ("x10^9/L", "10*9/L"),
        ("×10⁹/L", "10*9/L"),
        ("10E9/L", "10*9/L"),
        ("mEq/L", "meq/L"),
        ("mOsm/kg", "mosm/kg"),
        ("bpm", "/min"),
        ("beats per minute", "/min"),
        ("percent", "%"),
        ("score", "{score}"),
        ("years", "a"),
        ("°C", "Cel"),
    ],
)
def test_display_forms_normalize_to_the_code(text, code):
    assert normalize_unit(text) == code
    assert normalize_unit(code) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("vg/kg", "{vector_genomes}/kg"),
        ("mcg/kg", "ug/kg"),
        ("µg/kg", "ug/kg"),
        ("GC/kg", "{copies}/kg"),
        ("IU/kg", "[IU]/kg"),
        ("mg/m²", "mg/m2"),
        ("ml/kg", "mL/kg"),
        ("ml", "mL"),
        ("mg/kg/day", "mg/kg/d"),
        ("nmol/kg", "nmol/kg"),
    ],
)
def test_dose_display_forms_normalize_to_the_code(text, code):
    assert normalize_dose_unit(text) == code


def test_every_code_and_declared_display_form_normalizes():
    for vocabulary, normalize in ((UNITS, normalize_unit), (DOSE_UNITS, normalize_dose_unit)):
        for unit in vocabulary.values():
            assert normalize(unit.code) == unit.code
            for form in unit.display_forms:
                assert normalize(form) == unit.code, form


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [("MG/DL", "mg/dL"), ("Mg/dL", "mg/dL"), ("UMOL/L", "umol/L"), ("KG/M2", "kg/m2")],
)
def test_codes_are_case_sensitive_and_the_case_is_suggested(text, suggestion):
    with pytest.raises(UnitError) as raised:
        normalize_unit(text)
    assert raised.value.suggestion == suggestion
    assert "case-sensitive" in raised.value.expected
    assert repr(suggestion) in str(raised.value)


def test_near_miss_suggests_the_nearest_code():
    with pytest.raises(UnitError) as raised:
        normalize_unit("mL/min/1.73")
    assert raised.value.suggestion == "mL/min/{1.73_m2}"


def test_vocabularies_are_separate():
    with pytest.raises(UnitError):
        normalize_unit("{vector_genomes}/kg")
    with pytest.raises(UnitError):
        normalize_dose_unit("mg/dL")
    assert lookup("vg/kg").code == "{vector_genomes}/kg"


def test_a_number_is_refused_with_a_hint_to_quote_it():
    with pytest.raises(UnitError, match="quote"):
        normalize_unit(1)  # type: ignore[arg-type]  # YAML reads `unit: 1` as an int


def test_code_tuples_are_the_sorted_vocabularies():
    assert list(ENDPOINT_UNIT_CODES) == sorted(UNITS)
    assert list(DOSE_UNIT_CODES) == sorted(DOSE_UNITS)
    for code in ("ng/mL", "pg/mL", "umol/L", "mL/min/{1.73_m2}", "kg/m2", "%", "{score}"):
        assert code in ENDPOINT_UNIT_CODES
    for code in ("mg", "mg/kg", "nmol/kg", "{vector_genomes}/kg", "mL"):
        assert code in DOSE_UNIT_CODES


@pytest.mark.parametrize(
    ("table", "vocabulary"),
    [(unit_table_markdown, UNITS), (dose_unit_table_markdown, DOSE_UNITS)],
)
def test_markdown_table_has_one_row_per_code(table, vocabulary):
    lines = table().splitlines()
    assert lines[0].startswith("| code |")
    rows = [line for line in lines[2:] if line.startswith("| `")]
    assert len(rows) == len(lines) - 2 == len(vocabulary)
    codes = [row.split("`")[1] for row in rows]
    assert sorted(codes) == sorted(vocabulary)
    assert all(row.count("|") == 5 for row in rows)


# --- properties ------------------------------------------------------------------------------


@st.composite
def same_quantity(draw, n: int) -> list[str]:
    quantity = draw(st.sampled_from(CONVERTIBLE))
    return [draw(st.sampled_from(BY_QUANTITY[quantity])) for _ in range(n)]


@given(same_quantity(2))
def test_conversion_round_trip_is_identity(pair):
    a, b = pair
    assert conversion_factor(a, b) * conversion_factor(b, a) == pytest.approx(1, rel=1e-12)


@given(same_quantity(3))
def test_conversion_is_transitive(triple):
    a, b, c = triple
    assert conversion_factor(a, b) * conversion_factor(b, c) == pytest.approx(
        conversion_factor(a, c), rel=1e-12
    )


@given(st.sampled_from(sorted(ALL_UNITS)), st.sampled_from(sorted(ALL_UNITS)))
def test_conversion_defined_exactly_within_a_quantity(a, b):
    if ALL_UNITS[a].quantity == ALL_UNITS[b].quantity:
        factor = conversion_factor(a, b)
        assert math.isfinite(factor) and factor > 0
    else:
        with pytest.raises(UnitError):
            conversion_factor(a, b)


# --- against an independent UCUM implementation -------------------------------------------------

# ucumvert is a test dependency only: its registry takes half a second to build, too slow for
# every dossier load, so the runtime evaluates the few atoms it needs itself.


@pytest.fixture(scope="module")
def ucum():
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


def test_every_code_is_valid_ucum():
    from ucumvert import get_ucum_parser

    parser = get_ucum_parser()
    for code in ALL_UNITS:
        parser.parse(code)  # raises on a syntax error


def test_every_factor_agrees_with_ucumvert(ucum):
    """Each pair within a quantity converts by the factor UCUM's own definitions give.

    pint's mm[Hg] is 133.322387 Pa (mercury's conventional density times standard gravity),
    UCUM's is 133.3220 Pa: they differ by 3e-6, so pressure is compared at that precision.
    """
    for quantity in CONVERTIBLE:
        rel = 1e-5 if quantity == "pressure" else 1e-12
        for a, b in itertools.permutations(BY_QUANTITY[quantity], 2):
            expected = ucum.from_ucum(a).to(ucum.from_ucum(b).units).magnitude
            expected /= ucum.from_ucum(b).magnitude
            assert conversion_factor(a, b) == pytest.approx(expected, rel=rel), (a, b)
