"""Typed flags: what a reader should know beside a verdict, and whether it bears on the verdict.

A *caveat* is a flag that bears on a verdict: a concomitant change during the primary endpoint's
follow-up, a regression-to-the-mean flag, an analysis plan fixed after the first dose, an external
control that differs from the patient (ages, genotype class, era of care, assay), a fallback
model. The report marks a verdict that carries a caveat; ``info`` flags are context, ``warning``
flags point at a problem in the evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class FlagSeverity(StrEnum):
    """How much a flag matters, ordered info < caveat < warning."""

    info = "info"
    caveat = "caveat"
    warning = "warning"

    @property
    def rank(self) -> int:
        return list(FlagSeverity).index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, FlagSeverity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, FlagSeverity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, FlagSeverity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, FlagSeverity):
            return NotImplemented
        return self.rank >= other.rank


class Flag(BaseModel):
    """One flag of a verdict, a patient or the platform.

    Examples
    --------
    >>> f = Flag(kind="concomitant_change", severity="caveat", message="diet loosened on study day 76",
    ...          criterion=5, endpoint="protein_tolerance")
    >>> f.is_caveat, str(f)
    (True, 'diet loosened on study day 76')
    """

    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="What the flag is about, e.g. 'concomitant_change'.")
    severity: FlagSeverity
    message: str = Field(description="One sentence for the reader.")
    criterion: int | None = Field(None, ge=1, le=5, description="The criterion it affects.")
    endpoint: str | None = Field(None, description="The endpoint it affects.")

    @property
    def is_caveat(self) -> bool:
        return self.severity == FlagSeverity.caveat

    def __str__(self) -> str:
        return self.message


def caveats(flags: Iterable[Flag]) -> list[Flag]:
    """The flags of ``flags`` that bear on a verdict (severity ``caveat``), in order."""
    return [f for f in flags if f.is_caveat]


# Kinds used by the criteria, the rule and the platform, named once so readers can filter on them.
CONCOMITANT_CHANGE = "concomitant_change"
REGRESSION_TO_MEAN = "regression_to_the_mean"
PLAN_AFTER_FIRST_DOSE = "analysis_plan_after_first_dose"
EXTERNAL_CONTROL_MISMATCH = "external_control_mismatch"  # age, genotype class, era or assay
EXTERNAL_CONTROL_NOT_STATED = "external_control_not_stated"  # a comparability field nobody stated
FALLBACK_MODEL = "fallback_model"
EXTRAPOLATION = "extrapolation"
ENDPOINT_ANALYSIS = "endpoint_analysis"
STOPPED_EARLY = "stopped_early"
SYNTHETIC_DATA = "synthetic_data"
LITERATURE_ONLY = "literature_only_natural_history"  # a published summary, no subjects' data
STANDING = "standing"  # how the consecutive-patient rule counts the patient
