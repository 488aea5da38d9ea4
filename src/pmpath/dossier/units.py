"""The unit vocabulary: UCUM codes pmpath accepts, and conversions only where they are defined.

A dimension check alone cannot tell g/kg/d from {seizures}/mo, so every endpoint declares a UCUM
code from this table and values convert only between codes of the same ``kind`` with a known factor.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    code: str  # UCUM case-sensitive code
    kind: str  # what is measured; conversion only within a kind
    factor: float  # multiply by this to reach the kind's base unit
    label: str


_UNITS = [
    Unit("umol/L", "amount concentration", 1e-6, "micromole per litre"),
    Unit("mmol/L", "amount concentration", 1e-3, "millimole per litre"),
    Unit("mol/L", "amount concentration", 1.0, "mole per litre"),
    Unit("mg/dL", "mass concentration", 1e-2, "milligram per decilitre"),
    Unit("g/L", "mass concentration", 1.0, "gram per litre"),
    Unit("ug/dL", "mass concentration", 1e-5, "microgram per decilitre"),
    Unit("g/kg/d", "mass per body mass per day", 1.0, "gram per kilogram per day"),
    Unit("mg/kg/d", "mass per body mass per day", 1e-3, "milligram per kilogram per day"),
    Unit(
        "mg/m2/d", "mass per body surface area per day", 1.0, "milligram per square metre per day"
    ),
    Unit("g/m2/d", "mass per body surface area per day", 1e3, "gram per square metre per day"),
    Unit("{score}", "score", 1.0, "score points"),
    Unit("%", "fraction", 1e-2, "percent"),
    Unit("1", "fraction", 1.0, "fraction (unitless)"),
    Unit("{seizures}", "seizure count", 1.0, "seizures"),
    Unit("{crises}", "crisis count", 1.0, "metabolic crises"),
    Unit("{events}", "event count", 1.0, "events"),
    Unit("{seizures}/mo", "seizure rate", 1.0, "seizures per month"),
    Unit("{seizures}/d", "seizure rate", 365.25 / 12, "seizures per day"),
    Unit("{crises}/a", "crisis rate", 1.0, "crises per year"),
    Unit("a", "time", 1.0, "year"),
    Unit("mo", "time", 1.0 / 12, "month"),
    Unit("d", "time", 1.0 / 365.25, "day"),
    Unit("m", "length", 1.0, "metre"),
    Unit("kg", "mass", 1.0, "kilogram"),
]
UNITS: dict[str, Unit] = {u.code: u for u in _UNITS}


class UnitError(ValueError):
    """A unit is not in the vocabulary, or a conversion between two units is not defined."""


def lookup(code: str) -> Unit:
    try:
        return UNITS[code]
    except KeyError:
        known = ", ".join(sorted(UNITS))
        raise UnitError(f"unknown unit {code!r}; expected a UCUM code from: {known}") from None


def conversion_factor(from_code: str, to_code: str) -> float:
    """Factor that turns a value in ``from_code`` into ``to_code``; raises UnitError when undefined."""
    src, dst = lookup(from_code), lookup(to_code)
    if src.kind != dst.kind:
        raise UnitError(
            f"cannot convert {from_code!r} ({src.kind}) to {to_code!r} ({dst.kind}): "
            "no conversion is defined between different quantities"
        )
    return src.factor / dst.factor


def convert(value: float, from_code: str, to_code: str) -> float:
    return value * conversion_factor(from_code, to_code)
