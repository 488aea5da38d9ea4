"""The one number format of pmpath: terminal output, report, result models and analysis summaries.

Significant digits rather than fixed decimals, p-values as ``< 0.001`` below 0.001, percentages
with one convention (``46.5%``), effects estimated on a log scale shown back-transformed as ratios
(``×1.32``), and days as CDISC study days (there is no study day 0). Results render their own
numbers through these functions, so no template formats a number itself.
"""

from __future__ import annotations

import math

from pmpath.dossier.vocabulary import study_day

__all__ = [
    "MISSING",
    "format_interval",
    "format_number",
    "format_p_value",
    "format_percent",
    "format_quantity",
    "format_ratio",
    "format_study_day",
]

MISSING = "–"
"""What an absent or non-finite number is shown as (an en dash)."""

SIGNIFICANT_DIGITS = 3


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(float(x))


def format_number(x: float | None, digits: int = SIGNIFICANT_DIGITS) -> str:
    """``x`` to ``digits`` significant digits, without exponent between 1e-4 and 1e6.

    Examples
    --------
    >>> format_number(0.123456), format_number(15.04), format_number(1234567.0), format_number(None)
    ('0.123', '15', '1.23e+06', '–')
    >>> format_number(3), format_number(-0.000123456)
    ('3', '-0.000123')
    """
    if not _finite(x):
        return MISSING
    x = float(x)
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    if 1e-4 <= abs(x) < 1e6:
        text = f"{x:.{digits}g}"
        if "e" in text:  # .g switches to exponent for e.g. 123456 at 3 digits: round instead
            magnitude = math.floor(math.log10(abs(x)))
            text = str(int(round(x, digits - 1 - magnitude)))
        return text
    return f"{x:.{digits - 1}e}"


def format_p_value(p: float | None) -> str:
    """A p-value: two significant digits, ``< 0.001`` below 0.001.

    Examples
    --------
    >>> format_p_value(3e-28), format_p_value(0.0213), format_p_value(0.5), format_p_value(1.0)
    ('< 0.001', '0.021', '0.50', '1.0')
    """
    if not _finite(p):
        return MISSING
    p = float(p)
    if p < 0.001:
        return "< 0.001"
    return f"{p:#.2g}".rstrip(".")


def format_percent(fraction: float | None, digits: int = SIGNIFICANT_DIGITS) -> str:
    """A fraction (0-1) as a percentage, to ``digits`` significant digits (at most one decimal).

    Examples
    --------
    >>> format_percent(0.465), format_percent(2 / 3), format_percent(1.0), format_percent(0.00123)
    ('46.5%', '66.7%', '100%', '0.1%')
    """
    if not _finite(fraction):
        return MISSING
    pct = 100 * float(fraction)
    text = format_number(pct, digits)
    if "." in text and len(text.split(".")[1]) > 1:
        text = f"{pct:.1f}"
    return f"{text}%"


def format_ratio(log_effect: float | None, digits: int = SIGNIFICANT_DIGITS) -> str:
    """An effect on the log scale, back-transformed to a ratio: ``×exp(log_effect)``.

    Examples
    --------
    >>> format_ratio(math.log(1.32)), format_ratio(0.0), format_ratio(None)
    ('×1.32', '×1', '–')
    """
    if not _finite(log_effect):
        return MISSING
    return f"×{format_number(math.exp(float(log_effect)), digits)}"


def format_quantity(value: float | None, unit: str = "", digits: int = SIGNIFICANT_DIGITS) -> str:
    """A number with its unit: ``15 points``, ``46.5%`` for unit ``%`` given as a fraction, ``×0.4``
    for unit ``ratio``.

    Examples
    --------
    >>> format_quantity(15.04, "points"), format_quantity(0.465, "%"), format_quantity(0.4, "ratio")
    ('15 points', '46.5%', '×0.4')
    """
    if unit == "%":
        return format_percent(value, digits)
    if unit == "ratio":
        return MISSING if not _finite(value) else f"×{format_number(value, digits)}"
    text = format_number(value, digits)
    return f"{text} {unit}" if unit and text != MISSING else text


def format_interval(
    low: float | None, high: float | None, unit: str = "", digits: int = SIGNIFICANT_DIGITS
) -> str:
    """An interval as ``low to high unit`` (``to``, as negative bounds make a dash ambiguous).

    Examples
    --------
    >>> format_interval(-1.5, 3.25, "points"), format_interval(0.2, 0.71, "ratio")
    ('-1.5 to 3.25 points', '×0.2 to ×0.71')
    """
    if unit == "ratio":
        return f"{format_quantity(low, unit, digits)} to {format_quantity(high, unit, digits)}"
    if unit == "%":
        return f"{format_percent(low, digits)} to {format_percent(high, digits)}"
    text = f"{format_number(low, digits)} to {format_number(high, digits)}"
    return f"{text} {unit}" if unit else text


def format_study_day(offset: float | None) -> str:
    """A day offset from the first dose as a CDISC study day (offset 0 is ``study day 1``).

    Examples
    --------
    >>> format_study_day(0), format_study_day(75), format_study_day(-1), format_study_day(None)
    ('study day 1', 'study day 76', 'study day -1', '–')
    """
    if not _finite(offset):
        return MISSING
    return f"study day {study_day(math.floor(float(offset)))}"
