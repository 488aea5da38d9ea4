"""The unit vocabulary: case-sensitive UCUM codes for endpoints and doses, the display forms accepted
for them, and conversions only between units of the same quantity.

Every endpoint declares a code from :data:`UNITS` and every dose a code from :data:`DOSE_UNITS`.
The usual display forms (``µmol/L``, ``mL/min/1.73 m²``, ``mcg/mL``, ``IU/L``, ``mmHg``,
``seizures/month``) are accepted and normalized to the code by :func:`normalize_unit` and
:func:`normalize_dose_unit`; anything else is refused with the nearest code suggested. Codes are
case-sensitive as UCUM's are: ``MG/DL`` is refused, with ``mg/dL`` suggested.

Conversion factors are not typed in by hand: each is evaluated from its code with the UCUM
definitions of the prefixes and atoms it uses (``tests/test_units.py`` checks every pair against
``ucumvert``, which reads UCUM's own ``ucum-essence.xml``). Two units convert only when they
measure the same declared quantity, which is stricter than UCUM in three ways, each on purpose:

- annotations count: ``{seizures}`` never becomes ``{crises}``, ``{score}`` never becomes ``1``,
  and ``mL/min/{1.73_m2}`` (normalized to body surface area) never becomes ``mL/min``;
- amount of substance is its own dimension, as in SI: ``mmol/L`` never becomes ``mg/dL`` (that
  needs the analyte's molar mass, which pmpath does not assume) nor ``10*9/L``; equivalents and
  osmoles are kept apart from moles too, since their ratio depends on the analyte;
- units that are dimensionally equal but mean different things do not convert: ``g/kg/d`` (an
  intake per body mass) and ``/min`` (a heart rate) are both a reciprocal time to UCUM.

International units (``[IU]``) are arbitrary units: they convert only among themselves, never to
enzyme units (``U``) or to a mass. Celsius (``Cel``) is a non-ratio scale and converts to nothing.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from pmpath.dossier.vocabulary import DAYS_PER_YEAR

__all__ = [
    "DISPLAY_RULES",
    "DOSE_UNITS",
    "DOSE_UNIT_CODES",
    "ENDPOINT_UNIT_CODES",
    "UNITS",
    "Unit",
    "UnitError",
    "conversion_factor",
    "convert",
    "display_rules_markdown",
    "dose_unit_table_markdown",
    "lookup",
    "normalize_dose_unit",
    "normalize_unit",
    "unit_table_markdown",
]


class UnitError(ValueError):
    """A unit is not in the vocabulary, or a conversion between two units is not defined.

    Attributes
    ----------
    found : str
        What was given, as written.
    expected : str
        What would have been accepted.
    suggestion : str or None
        The nearest known code, when one is close enough to be worth proposing.
    """

    def __init__(self, found: str, expected: str, suggestion: str | None = None) -> None:
        self.found = found
        self.expected = expected
        self.suggestion = suggestion
        super().__init__(f"found {found}, expected {expected}")


# ---------------------------------------------------------------------------------------------
# UCUM evaluation: a code's factor and dimension from the definitions of its prefixes and atoms.
# Only the atoms the vocabulary uses are defined; the vocabulary is closed, so user text never
# reaches the evaluator (it is matched against the vocabulary's codes and display forms instead).

_PREFIXES: dict[str, Fraction] = {
    "G": Fraction(10**9),
    "M": Fraction(10**6),
    "k": Fraction(10**3),
    "h": Fraction(10**2),
    "da": Fraction(10),
    "d": Fraction(1, 10),
    "c": Fraction(1, 10**2),
    "m": Fraction(1, 10**3),
    "u": Fraction(1, 10**6),
    "n": Fraction(1, 10**9),
    "p": Fraction(1, 10**12),
    "f": Fraction(1, 10**15),
}

_SECONDS_PER_DAY = Fraction(86400)
_SECONDS_PER_YEAR = Fraction(DAYS_PER_YEAR) * _SECONDS_PER_DAY  # UCUM's a = a_j, 365.25 d


@dataclass(frozen=True)
class _Atom:
    factor: Fraction  # in the coherent base: m, g, s, mol, and one base per arbitrary atom
    dimension: tuple[tuple[str, int], ...]
    metric: bool  # UCUM's isMetric: may take a prefix
    special: bool = False  # a non-ratio scale (Celsius): stands alone, converts to nothing


_PA = {"M": 1, "L": -1, "T": -2}
_ATOMS: dict[str, _Atom] = {
    code: _Atom(Fraction(factor), tuple(sorted(dim.items())), metric, special)
    for code, factor, dim, metric, special in (
        ("m", 1, {"L": 1}, True, False),
        ("g", 1, {"M": 1}, True, False),
        ("s", 1, {"T": 1}, True, False),
        ("mol", 1, {"N": 1}, True, False),
        ("L", Fraction(1, 1000), {"L": 3}, True, False),
        ("l", Fraction(1, 1000), {"L": 3}, True, False),
        ("min", 60, {"T": 1}, False, False),
        ("h", 3600, {"T": 1}, False, False),
        ("d", _SECONDS_PER_DAY, {"T": 1}, False, False),
        ("wk", 7 * _SECONDS_PER_DAY, {"T": 1}, False, False),
        ("a", _SECONDS_PER_YEAR, {"T": 1}, False, False),
        ("mo", _SECONDS_PER_YEAR / 12, {"T": 1}, False, False),  # mo = mo_j = a_j/12
        ("%", Fraction(1, 100), {}, False, False),
        ("10*", 10, {}, False, False),
        ("10^", 10, {}, False, False),
        ("Pa", 1000, _PA, True, False),  # N/m2 with the gram as base
        ("m[Hg]", Fraction("133.3220") * 1000 * 1000, _PA, True, False),  # 133.3220 kPa
        ("cal", Fraction("4.184") * 1000, {"M": 1, "L": 2, "T": -2}, True, False),  # cal_th
        ("kat", 1, {"N": 1, "T": -1}, True, False),
        ("U", Fraction(1, 10**6 * 60), {"N": 1, "T": -1}, True, False),  # umol/min
        ("eq", 1, {"eq": 1}, True, False),
        ("osm", 1, {"osm": 1}, True, False),
        ("[IU]", 1, {"[IU]": 1}, True, False),
        ("Cel", 1, {"Cel": 1}, True, True),
    )
}

_COMPONENT = re.compile(
    r"(?P<annotation_only>\{[!-z|~]*\})"
    r"|(?P<factor>\d+)(?![\d*^])"
    r"|(?P<unit>10\*|10\^|[A-Za-z%\[\]]+?)(?P<exponent>[+-]?\d+)?(?P<annotation>\{[!-z|~]*\})?"
    r"(?=[./)]|$)"
)


def _atom(symbol: str) -> tuple[Fraction, Counter[str], bool]:
    """Factor, dimension and specialness of a simple unit: an atom, or a prefix and a metric atom."""
    if symbol in _ATOMS:
        atom, scale = _ATOMS[symbol], Fraction(1)
    else:
        for prefix in sorted(_PREFIXES, key=len, reverse=True):
            rest = symbol[len(prefix) :]
            if symbol.startswith(prefix) and rest in _ATOMS and _ATOMS[rest].metric:
                atom, scale = _ATOMS[rest], _PREFIXES[prefix]
                break
        else:
            raise ValueError(f"{symbol!r} is not a UCUM atom pmpath defines")
    return atom.factor * scale, Counter(dict(atom.dimension)), atom.special


def _evaluate(code: str) -> tuple[Fraction, tuple[tuple[str, int], ...]]:
    """Factor to the coherent base and dimension of a UCUM code, annotations counted as dimensions.

    Operators ``.`` and ``/`` have equal precedence and associate to the left, as UCUM defines
    them: ``g/kg/d`` is ``(g/kg)/d``.
    """
    factor, dimension, pos = _term(code, 0)
    if pos != len(code):
        raise ValueError(f"unexpected {code[pos:]!r} in {code!r}")
    return factor, tuple(sorted((k, v) for k, v in dimension.items() if v))


def _term(code: str, pos: int) -> tuple[Fraction, Counter[str], int]:
    factor, dimension, sign = Fraction(1), Counter[str](), 1
    if code.startswith("/", pos):
        sign, pos = -1, pos + 1
    while True:
        f, d, pos = _component(code, pos)
        factor *= f**sign
        for base, exponent in d.items():
            dimension[base] += sign * exponent
        if pos < len(code) and code[pos] in "./":
            sign = 1 if code[pos] == "." else -1
            pos += 1
            continue
        return factor, dimension, pos


def _component(code: str, pos: int) -> tuple[Fraction, Counter[str], int]:
    if code.startswith("(", pos):
        factor, dimension, pos = _term(code, pos + 1)
        if not code.startswith(")", pos):
            raise ValueError(f"unclosed parenthesis in {code!r}")
        return factor, dimension, pos + 1
    match = _COMPONENT.match(code, pos)
    if match is None:
        raise ValueError(f"cannot read {code[pos:]!r} in {code!r}")
    if match["annotation_only"]:
        return Fraction(1), Counter({match["annotation_only"]: 1}), match.end()
    if match["factor"]:
        return Fraction(int(match["factor"])), Counter(), match.end()
    factor, dimension, special = _atom(match["unit"])
    exponent = int(match["exponent"] or 1)
    if special and (exponent != 1 or code != match["unit"]):
        raise ValueError(f"{match['unit']!r} is a non-ratio scale and cannot be combined")
    dimension = Counter({base: e * exponent for base, e in dimension.items()})
    if match["annotation"]:
        dimension[match["annotation"]] += 1
    return factor**exponent, dimension, match.end()


# ---------------------------------------------------------------------------------------------
# The vocabulary.


@dataclass(frozen=True)
class Unit:
    """One UCUM code of the vocabulary.

    Attributes
    ----------
    code : str
        The case-sensitive UCUM code, as dossiers should write it.
    quantity : str
        What is measured; a value converts only to units of the same quantity.
    label : str
        The unit's name in words.
    display_forms : tuple of str
        Other spellings accepted and normalized to ``code`` (beyond the general rules of
        :func:`display_rules_markdown`).
    factor : Fraction
        A value in this unit times ``factor`` is the value in the quantity's coherent base unit.
    dimension : tuple of (str, int)
        Base dimensions and annotations with their exponents, from the code.
    """

    code: str
    quantity: str
    label: str
    display_forms: tuple[str, ...]
    factor: Fraction
    dimension: tuple[tuple[str, int], ...]


_E, _D, _B = frozenset({"endpoint"}), frozenset({"dose"}), frozenset({"endpoint", "dose"})
_Declared = tuple[str, str, str, tuple[str, ...], frozenset[str]]


def _group(quantity: str, uses: frozenset[str], *rows: tuple[str, ...]) -> list[_Declared]:
    """Rows of (code, label, *display forms) measuring one quantity."""
    return [(code, quantity, label, tuple(forms), uses) for code, label, *forms in rows]


# Grouped by quantity, in the order the tables of docs/dossier.md show them. Display forms that
# the general rules already read (``mg/dl``, ``µg/mL``) are listed only where they help a reader.
_DECLARED: list[_Declared] = [
    *_group(
        "mass concentration",
        _E,
        ("pg/mL", "picogram per millilitre"),
        ("ng/L", "nanogram per litre"),
        ("ng/dL", "nanogram per decilitre"),
        ("ng/mL", "nanogram per millilitre"),
        ("ug/L", "microgram per litre", "µg/L", "mcg/L"),
        ("ug/dL", "microgram per decilitre", "µg/dL", "mcg/dL"),
        ("ug/mL", "microgram per millilitre", "µg/mL", "mcg/mL"),
        ("mg/L", "milligram per litre"),
        ("mg/dL", "milligram per decilitre", "mg/dl"),
        ("mg/mL", "milligram per millilitre"),
        ("g/L", "gram per litre"),
        ("g/dL", "gram per decilitre", "g/dl"),
    ),
    *_group(
        "amount concentration",
        _E,
        ("pmol/L", "picomole per litre"),
        ("nmol/L", "nanomole per litre"),
        ("nmol/mL", "nanomole per millilitre"),
        ("umol/L", "micromole per litre", "µmol/L", "μmol/L"),
        ("mmol/L", "millimole per litre", "mmol/l", "mM"),
        ("mol/L", "mole per litre"),
    ),
    *_group("equivalent concentration", _E, ("meq/L", "milliequivalent per litre", "mEq/L")),
    *_group("osmolality", _E, ("mosm/kg", "milliosmole per kilogram", "mOsm/kg")),
    *_group(
        "catalytic concentration",
        _E,
        ("U/L", "enzyme unit per litre"),
        ("U/mL", "enzyme unit per millilitre"),
        ("mU/L", "milli enzyme unit per litre"),
        ("ukat/L", "microkatal per litre", "µkat/L"),
    ),
    *_group(
        "international units per volume",
        _E,
        ("[IU]/L", "international unit per litre", "IU/L"),
        ("[IU]/mL", "international unit per millilitre", "IU/mL"),
        ("k[IU]/L", "kilo international unit per litre", "kIU/L"),
        ("m[IU]/L", "milli international unit per litre", "mIU/L"),
        ("m[IU]/mL", "milli international unit per millilitre", "mIU/mL"),
        ("u[IU]/mL", "micro international unit per millilitre", "µIU/mL", "uIU/mL"),
    ),
    *_group(
        "number concentration",
        _E,
        ("/uL", "per microlitre", "/µL", "cells/µL"),
        ("10*3/uL", "thousand per microlitre", "x10^3/µL", "10^3/uL", "K/uL"),
        ("10*6/uL", "million per microlitre", "x10^6/µL", "10^6/uL"),
        ("10*9/L", "10⁹ per litre", "x10^9/L", "×10⁹/L", "10^9/L", "G/L"),
        ("10*12/L", "10¹² per litre", "x10^12/L", "×10¹²/L", "10^12/L", "T/L"),
    ),
    *_group(
        "amount per amount of creatinine",
        _E,
        ("mmol/mol{creat}", "millimole per mole creatinine", "mmol/mol creatinine"),
        ("umol/mmol{creat}", "micromole per millimole creatinine", "µmol/mmol creatinine"),
    ),
    *_group(
        "mass per mass of creatinine",
        _E,
        ("mg/g{creat}", "milligram per gram creatinine", "mg/g creatinine"),
        ("ug/mg{creat}", "microgram per milligram creatinine", "µg/mg creatinine"),
    ),
    *_group(
        "mass per amount of creatinine",
        _E,
        ("mg/mmol{creat}", "milligram per millimole creatinine", "mg/mmol creatinine"),
    ),
    *_group(
        "volume rate per 1.73 m² body surface area",
        _E,
        (
            "mL/min/{1.73_m2}",
            "millilitre per minute per 1.73 m² (eGFR)",
            "mL/min/1.73m2",
            "mL/min/1.73 m²",
            "mL/min/1.73m^2",
        ),
        ("mL/s/{1.73_m2}", "millilitre per second per 1.73 m²", "mL/s/1.73m2", "mL/s/1.73 m²"),
    ),
    *_group(
        "volume rate",
        _E,
        ("mL/min", "millilitre per minute"),
        ("mL/h", "millilitre per hour", "mL/hr"),
        ("mL/d", "millilitre per day", "mL/day", "mL/24h"),
    ),
    *_group("mass per area (body mass index)", _E, ("kg/m2", "kilogram per square metre", "kg/m²")),
    *_group("area", _E, ("m2", "square metre", "m²")),
    *_group("length", _E, ("mm", "millimetre"), ("cm", "centimetre"), ("m", "metre")),
    *_group("mass", _D, ("ug", "microgram", "µg", "mcg")),
    *_group("mass", _B, ("mg", "milligram"), ("g", "gram")),
    *_group("mass", _E, ("kg", "kilogram")),
    *_group("volume", _D, ("uL", "microlitre", "µL")),
    *_group("volume", _B, ("mL", "millilitre", "ml", "cc")),
    *_group("volume", _E, ("L", "litre")),
    *_group(
        "time",
        _E,
        ("ms", "millisecond", "msec"),
        ("s", "second", "sec"),
        ("min", "minute"),
        ("h", "hour", "hr"),
        ("d", "day", "days"),
        ("wk", "week", "weeks"),
        ("mo", "month (a twelfth of a Julian year)", "months"),
        ("a", "year (Julian, 365.25 days)", "years", "yr"),
    ),
    *_group(
        "frequency",
        _E,
        ("/min", "per minute (heart or breathing rate)", "bpm", "beats/min", "breaths/min"),
        ("/h", "per hour"),
    ),
    *_group(
        "pressure", _E, ("mm[Hg]", "millimetre of mercury", "mmHg", "mm Hg"), ("kPa", "kilopascal")
    ),
    *_group("Celsius temperature", _E, ("Cel", "degree Celsius (converts to nothing)", "°C")),
    *_group("fraction", _E, ("%", "percent", "percent"), ("1", "fraction (unitless)")),
    *_group("score", _E, ("{score}", "score points", "score", "points")),
    *_group("ratio", _E, ("{ratio}", "ratio (unitless, never converted)", "ratio")),
    *_group("standard deviation score", _E, ("{z_score}", "z-score", "z-score", "SDS")),
    *_group(
        "mass per body mass per day",
        _B,
        ("g/kg/d", "gram per kilogram per day", "g/kg/day"),
        ("mg/kg/d", "milligram per kilogram per day", "mg/kg/day"),
    ),
    *_group(
        "mass per body surface area per day",
        _B,
        ("g/m2/d", "gram per square metre per day", "g/m²/day"),
        ("mg/m2/d", "milligram per square metre per day", "mg/m²/day"),
    ),
    *_group(
        "mass per day",
        _B,
        ("mg/d", "milligram per day", "mg/day", "mg/24h"),
        ("g/d", "gram per day", "g/day", "g/24h"),
    ),
    *_group(
        "energy per body mass per day",
        _E,
        ("kcal/kg/d", "kilocalorie per kilogram per day", "kcal/kg/day"),
    ),
    *_group("energy per day", _E, ("kcal/d", "kilocalorie per day", "kcal/day")),
    # Doses.
    *_group(
        "mass per body mass",
        _D,
        ("ng/kg", "nanogram per kilogram"),
        ("ug/kg", "microgram per kilogram", "µg/kg", "mcg/kg"),
        ("mg/kg", "milligram per kilogram"),
        ("g/kg", "gram per kilogram"),
    ),
    *_group("amount", _D, ("nmol", "nanomole"), ("umol", "micromole", "µmol")),
    *_group(
        "amount per body mass",
        _D,
        ("nmol/kg", "nanomole per kilogram"),
        ("umol/kg", "micromole per kilogram", "µmol/kg"),
        ("mmol/kg", "millimole per kilogram"),
    ),
    *_group(
        "mass per body surface area",
        _D,
        ("ug/m2", "microgram per square metre", "µg/m²", "mcg/m2"),
        ("mg/m2", "milligram per square metre", "mg/m²"),
    ),
    *_group("volume per body mass", _D, ("mL/kg", "millilitre per kilogram")),
    *_group("vector genomes", _D, ("{vector_genomes}", "vector genomes", "vg")),
    *_group(
        "vector genomes per body mass",
        _D,
        ("{vector_genomes}/kg", "vector genomes per kilogram", "vg/kg"),
    ),
    *_group("genome copies", _D, ("{copies}", "genome copies", "GC", "copies")),
    *_group(
        "genome copies per body mass",
        _D,
        ("{copies}/kg", "genome copies per kilogram", "GC/kg", "gc/kg", "copies/kg"),
    ),
    *_group("cells", _D, ("{cells}", "cells", "cells")),
    *_group("cells per body mass", _D, ("{cells}/kg", "cells per kilogram", "cells/kg")),
    *_group("international units", _D, ("[IU]", "international unit", "IU")),
    *_group(
        "international units per body mass",
        _D,
        ("[IU]/kg", "international unit per kilogram", "IU/kg"),
    ),
    *_group("catalytic activity", _D, ("U", "enzyme unit", "units")),
    *_group(
        "catalytic activity per body mass", _D, ("U/kg", "enzyme unit per kilogram", "units/kg")
    ),
]

# Counted things: a count, and a rate per day, week, month and year. A count of one thing never
# converts to a count of another, so each is its own pair of quantities.
_COUNTED = {
    "seizures": ("seizure", "seizures"),
    "crises": ("crisis", "crises"),
    "events": ("event", "events"),
}
_PERIODS = {"d": "day", "wk": "week", "mo": "month", "a": "year"}
for _name, (_singular, _plural) in _COUNTED.items():
    _DECLARED += _group(f"count of {_plural}", _E, (f"{{{_name}}}", _plural, _plural))
    _DECLARED += _group(
        f"{_plural} per time",
        _E,
        *(
            (f"{{{_name}}}/{p}", f"{_plural} per {w}", f"{_plural}/{w}")
            for p, w in _PERIODS.items()
        ),
    )


def _build() -> tuple[dict[str, Unit], dict[str, Unit]]:
    endpoint: dict[str, Unit] = {}
    dose: dict[str, Unit] = {}
    quantity_dimension: dict[str, tuple[tuple[str, int], ...]] = {}
    for code, quantity, label, forms, uses in _DECLARED:
        factor, dimension = _evaluate(code)
        # A quantity whose members differ in dimension would let a conversion mix them.
        if quantity_dimension.setdefault(quantity, dimension) != dimension:
            raise AssertionError(f"unit {code!r} does not share the dimension of {quantity!r}")
        unit = Unit(code, quantity, label, forms, factor, dimension)
        for vocabulary, use in ((endpoint, "endpoint"), (dose, "dose")):
            if use in uses:
                if code in vocabulary:
                    raise AssertionError(f"unit {code!r} declared twice")
                vocabulary[code] = unit
    return endpoint, dose


UNITS, DOSE_UNITS = _build()
"""Endpoint units and dosing units by code (a code used in both maps to the same :class:`Unit`)."""
_ALL: dict[str, Unit] = {**UNITS, **DOSE_UNITS}

ENDPOINT_UNIT_CODES: tuple[str, ...] = tuple(sorted(UNITS))
"""The endpoint unit codes, sorted: the JSON schema's enum for ``endpoints[].unit``."""

DOSE_UNIT_CODES: tuple[str, ...] = tuple(sorted(DOSE_UNITS))
"""The dosing unit codes, sorted: the JSON schema's enum for ``dosing[].unit``."""


# ---------------------------------------------------------------------------------------------
# Display forms: general rewrites, then the vocabulary's codes and declared display forms.

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺µμ×·⋅", "0123456789-+uux..")

# Whole words between operators, matched without regard to case (they are English, not UCUM).
_WORDS = {
    **{w: "d" for w in ("day", "days")},
    **{w: "wk" for w in ("week", "weeks", "wks")},
    **{w: "mo" for w in ("month", "months", "mos")},
    **{w: "a" for w in ("year", "years", "yr", "yrs")},
    **{w: "h" for w in ("hour", "hours", "hr", "hrs")},
    **{w: "min" for w in ("minute", "minutes", "mins")},
    **{w: "s" for w in ("second", "seconds", "sec", "secs")},
    **{w: f"{{{name}}}" for name, words in _COUNTED.items() for w in words},
    "percent": "%",
    "litre": "L",
    "liter": "L",
}
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^mcg$"), "ug"),
    (re.compile(r"^([kdcmunpf]?)l$"), r"\1L"),  # UCUM's l and L are both the litre
    (re.compile(r"^([kmunp]?)IU$"), r"\1[IU]"),
    (re.compile(r"^([mu]?)Eq$"), r"\1eq"),
    (re.compile(r"^([mu]?)Osm$"), r"\1osm"),
    (re.compile(r"^mmHg$"), "mm[Hg]"),
    (re.compile(r"^([A-Za-z]+)\^([+-]?\d+)$"), r"\1\2"),  # m^2
]
_TEN_POWER = re.compile(r"^x?10(?:\^|\*|E|e)([+-]?\d+)$")
_TOKENS = re.compile(r"\{[^{}]*\}|[./]|[^./{}]+")

DISPLAY_RULES: tuple[str, ...] = (
    "surrounding and inner spaces are dropped, and ` per ` reads as `/`",
    "`µ` and `μ` read as `u`, `mcg` as `ug`; superscript digits as digits (`m²` is `m2`, `m^2` too)",
    "a lower-case `l` for the litre reads as `L` (`mg/dl` is `mg/dL`)",
    "`IU` reads as `[IU]`, `mEq` as `meq`, `mOsm` as `mosm`, `mmHg` as `mm[Hg]`",
    "`x10^9`, `×10⁹`, `10^9` and `10E9` read as `10*9`",
    "`1.73m2`, `1.73 m²` and `1.73m^2` read as `{1.73_m2}`",
    "the words day, week, month, year, hour, minute, second (and yr, hr, wks, sec) read as `d`, "
    "`wk`, `mo`, `a`, `h`, `min`, `s`; litre as `L`; percent as `%`; seizures, crises and events "
    "as `{seizures}`, `{crises}`, `{events}`",
    "anything else must match a code exactly, case included: `MG/DL` is refused, `mg/dL` suggested",
)


def _rewrite(text: str) -> str:
    """Apply the general display-form rules; a code comes out as it went in."""
    text = re.sub(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)", r"10^\1", text.strip()).translate(_SUPERSCRIPTS)
    text = re.sub(r"\s+per\s+", "/", text)
    text = re.sub(r"1\.73\s*m\^?2(?![\d}])", "{1.73_m2}", text)
    text = re.sub(r"\s+", "", text)
    out = []
    for token in _TOKENS.findall(text):
        if token.startswith("{") or token in (".", "/"):
            out.append(token)
            continue
        if (word := _WORDS.get(token.lower())) is not None:
            token = word
        elif (power := _TEN_POWER.match(token)) is not None:
            token = f"10*{power[1]}"
        else:
            for pattern, replacement in _RULES:
                token = pattern.sub(replacement, token)
        out.append(token)
    return "".join(out)


def _forms(vocabulary: dict[str, Unit]) -> dict[str, str]:
    forms: dict[str, str] = {}
    for unit in vocabulary.values():
        for form in (unit.code, *unit.display_forms):
            for key in (form, _rewrite(form)):
                if forms.setdefault(key, unit.code) != unit.code:
                    raise AssertionError(
                        f"display form {key!r} names {forms[key]!r} and {unit.code!r}"
                    )
    return forms


_FORMS = {"endpoint": _forms(UNITS), "dose": _forms(DOSE_UNITS), "any": _forms(_ALL)}
_WHAT = {
    "endpoint": "an endpoint unit (a UCUM code such as mg/dL, umol/L, {score})",
    "dose": "a dosing unit (a UCUM code such as mg, mg/kg, nmol/kg, {vector_genomes}/kg)",
    "any": "a UCUM code from pmpath's unit vocabulary",
}


@functools.lru_cache(maxsize=4096)
def _resolve(text: str, vocabulary: str) -> tuple[str | None, str | None, bool]:
    """(code, None, False) for an accepted text, else (None, nearest code or None, whether the
    nearest code differs only in case). Failures are cached too: a table repeats its unit on
    every row."""
    forms = _FORMS[vocabulary]
    stripped = text.strip()
    rewritten = _rewrite(stripped)
    for key in (stripped, rewritten):
        if key in forms:
            return forms[key], None, False
    folded = {key.casefold(): code for key, code in forms.items()}
    for key in (stripped, rewritten, _rewrite(stripped.lower())):
        if key.casefold() in folded:
            return None, folded[key.casefold()], True
    import difflib  # only on the error path

    close = difflib.get_close_matches(rewritten, list(forms), n=1, cutoff=0.7)
    return None, (forms[close[0]] if close else None), False


def _normalize(text: object, vocabulary: str) -> str:
    if not isinstance(text, str):
        raise UnitError(
            f"{text!r} ({type(text).__name__})",
            f"{_WHAT[vocabulary]} written as text (in YAML, quote it: '{text}')",
        )
    code, suggestion, case_only = _resolve(text, vocabulary)
    if code is not None:
        return code
    if suggestion is None:
        expected = f"{_WHAT[vocabulary]}; the unit tables in docs/dossier.md list them all"
    elif case_only:
        expected = f"{suggestion!r} (UCUM codes are case-sensitive)"
    else:
        expected = f"{_WHAT[vocabulary]}; did you mean {suggestion!r}?"
    raise UnitError(f"unit {text!r}", expected, suggestion)


def normalize_unit(text: str) -> str:
    """The endpoint unit code for a code or an accepted display form.

    Parameters
    ----------
    text : str
        A UCUM code (``umol/L``) or a display form (``µmol/L``), as written in the dossier.

    Returns
    -------
    str
        The code, one of :data:`ENDPOINT_UNIT_CODES`.

    Raises
    ------
    UnitError
        When ``text`` is not an endpoint unit; ``suggestion`` holds the nearest code, if any.

    Examples
    --------
    >>> normalize_unit("mL/min/1.73 m²")
    'mL/min/{1.73_m2}'
    >>> normalize_unit("seizures/month")
    '{seizures}/mo'
    """
    return _normalize(text, "endpoint")


def normalize_dose_unit(text: str) -> str:
    """The dosing unit code for a code or an accepted display form (``vg/kg``, ``mcg/kg``).

    Parameters
    ----------
    text : str
        A UCUM code or a display form, as written in ``case.yaml``'s ``dosing[].unit``.

    Returns
    -------
    str
        The code, one of :data:`DOSE_UNIT_CODES`.

    Raises
    ------
    UnitError
        When ``text`` is not a dosing unit; ``suggestion`` holds the nearest code, if any.

    Examples
    --------
    >>> normalize_dose_unit("vg/kg")
    '{vector_genomes}/kg'
    """
    return _normalize(text, "dose")


def lookup(code: str) -> Unit:
    """The :class:`Unit` for an endpoint or dosing code, or an accepted display form of one.

    Raises
    ------
    UnitError
        When ``code`` is in neither vocabulary.
    """
    return _ALL[_normalize(code, "any")]


_HINTS = {
    frozenset({"mass concentration", "amount concentration"}): (
        "converting needs the analyte's molar mass, which pmpath does not assume; "
        "report the values in the endpoint's unit"
    ),
    frozenset({"amount per amount of creatinine", "mass per amount of creatinine"}): (
        "converting needs the analyte's molar mass, which pmpath does not assume"
    ),
    frozenset({"mass per mass of creatinine", "mass per amount of creatinine"}): (
        "converting needs the molar mass of creatinine, which pmpath does not assume"
    ),
}


@functools.lru_cache(maxsize=4096)
def conversion_factor(from_code: str, to_code: str) -> float:
    """The factor that turns a value in ``from_code`` into a value in ``to_code``.

    Parameters
    ----------
    from_code, to_code : str
        Codes (or accepted display forms) from the endpoint or dosing vocabulary.

    Returns
    -------
    float
        ``value_in_to = value_in_from * factor``, from the exact ratio of the UCUM definitions.

    Raises
    ------
    UnitError
        When either unit is unknown, or the two measure different quantities (a different
        dimension, annotation or meaning): then no conversion is defined.

    Examples
    --------
    >>> conversion_factor("mg/dL", "mg/L")
    10.0
    """
    src, dst = lookup(from_code), lookup(to_code)
    if src.quantity != dst.quantity:
        same = ", ".join(sorted(u.code for u in _ALL.values() if u.quantity == dst.quantity))
        expected = f"a unit convertible to {dst.code!r}, which measures {dst.quantity}: {same}"
        hint = _HINTS.get(frozenset({src.quantity, dst.quantity}))
        if hint:
            expected += f"; {hint}"
        raise UnitError(f"{from_code!r} ({src.quantity})", expected)
    return float(src.factor / dst.factor)


def convert(value: float, from_code: str, to_code: str) -> float:
    """``value`` in ``from_code`` expressed in ``to_code``; raises :class:`UnitError` when undefined.

    Examples
    --------
    >>> convert(1.0, "mmol/L", "umol/L")
    1000.0
    """
    return value * conversion_factor(from_code, to_code)


# ---------------------------------------------------------------------------------------------
# Documentation: the tables docs/dossier.md shows, generated from the declaration above.


def _table(vocabulary: dict[str, Unit]) -> str:
    rows = [
        "| code | unit | display forms accepted | quantity (converts within) |",
        "| --- | --- | --- | --- |",
    ]
    for unit in vocabulary.values():
        forms = ", ".join(f"`{f}`" for f in unit.display_forms) or "-"
        rows.append(f"| `{unit.code}` | {unit.label} | {forms} | {unit.quantity} |")
    return "\n".join(rows) + "\n"


def unit_table_markdown() -> str:
    """The endpoint unit vocabulary as a Markdown table: code, name, display forms, quantity."""
    return _table(UNITS)


def dose_unit_table_markdown() -> str:
    """The dosing unit vocabulary as a Markdown table: code, name, display forms, quantity."""
    return _table(DOSE_UNITS)


def display_rules_markdown() -> str:
    """The general display-form rules, as a Markdown bullet list, for beside the tables."""
    return "".join(f"- {rule}\n" for rule in DISPLAY_RULES)
