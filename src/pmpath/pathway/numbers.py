"""The report's and results' number format: :mod:`pmpath.formatting`, re-exported for the pathway layer.

The functions live at the bottom layer so the analysis packages (which never import the pathway)
write their reasons and summaries in the same format as the report.
"""

from pmpath.formatting import (
    MISSING,
    SIGNIFICANT_DIGITS,
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    format_quantity,
    format_ratio,
    format_study_day,
)

__all__ = [
    "MISSING",
    "SIGNIFICANT_DIGITS",
    "format_interval",
    "format_number",
    "format_p_value",
    "format_percent",
    "format_quantity",
    "format_ratio",
    "format_study_day",
]
