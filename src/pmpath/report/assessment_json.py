"""assessment.json: the machine-readable assessment, byte-identical for the same dossier.

Keys are sorted, floats are written to 6 significant digits, NaN and infinities as null, dates as
ISO strings; plot data stays out (it is in the HTML report). The top-level ``schema_version``
(:data:`~pmpath.pathway.assessment.ASSESSMENT_SCHEMA_VERSION`) names the layout that
:func:`assessment_json_schema` describes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from enum import Enum
from typing import Any

import numpy as np

from pmpath.pathway.assessment import (
    ASSESSMENT_SCHEMA_VERSION,
    Assessment,
    assessment_json_schema,
)

__all__ = [
    "ASSESSMENT_SCHEMA_VERSION",
    "assessment_dict",
    "assessment_json_schema",
    "canonical",
    "dumps",
]


def canonical(value: Any) -> Any:
    """Turn ``value`` into plain JSON types with rounded floats, recursively."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, np.ndarray):
        return [canonical(v) for v in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        if not math.isfinite(x):
            return None
        return float(f"{x:.6g}")
    if isinstance(value, Enum):
        return canonical(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"cannot write {type(value).__name__} to assessment.json")


def assessment_dict(assessment: Assessment) -> dict[str, Any]:
    """The plain-JSON form of ``assessment`` (plot data excluded by the models themselves)."""
    return canonical(assessment.model_dump(mode="python"))


def dumps(assessment: Assessment) -> bytes:
    return (
        json.dumps(
            assessment_dict(assessment),
            sort_keys=True,
            indent=2,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n"
    ).encode()
