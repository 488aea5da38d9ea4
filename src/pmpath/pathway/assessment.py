"""The result of assessing a dossier: per-patient verdicts, the platform's streak and status."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from pmpath.pathway.verdict import Evidence, Status, Verdict


class PatientRole(StrEnum):
    """How a patient counts under the consecutive-patient rule."""

    success = "success"  # all five criteria met
    failure = "failure"  # criterion 4 or 5 not met: breaks the streak
    undecided = (
        "undecided"  # insufficient evidence (or natural history not met): neither counts nor breaks
    )
    excluded = (
        "excluded"  # criterion 1 or 2 not met, or a product outside the platform: does not count
    )


class PlatformStatus(StrEnum):
    collecting = "collecting"
    ready_for_marketing_authorization = "ready_for_marketing_authorization"


class AdverseEvent(BaseModel):
    study_day: int | None
    term: str
    serious: bool | None
    relatedness: str
    grade: int | None = None


class PatientAssessment(BaseModel):
    id: str
    first_dose: dt.date
    disease: str
    fatal_in_childhood: bool
    outcome: str
    success: bool
    role: PatientRole
    counts_toward_platform: bool
    flags: list[str] = Field(default_factory=list)
    criteria: list[Verdict]
    adverse_events: list[AdverseEvent] = Field(default_factory=list)
    concomitant: list[dict[str, Any]] = Field(default_factory=list)

    def criterion(self, number: int) -> Verdict:
        return next(c for c in self.criteria if c.number == number)


class PlatformAssessment(BaseModel):
    id: str
    name: str
    modality: str
    synthetic: bool
    status: PlatformStatus
    streak: int
    required_consecutive: int
    streak_patients: list[str]
    data_cutoff: dt.date
    analysis_plan_sha256: str
    analysis_plan_fixed_on: dt.date
    analysis_plan_changed_after_first_dose: bool
    priority_fatal_childhood: bool
    flags: list[str] = Field(default_factory=list)


class InputFinding(BaseModel):
    """A validation warning of the assessed dossier (errors never reach an assessment)."""

    file: str
    line: int | None = None
    field: str = ""
    found: str
    expected: str
    severity: str = "warning"


class IgnoredColumns(BaseModel):
    """Columns a table declares under ``ignore_columns``: hashed with the file, not used."""

    path: str
    columns: list[str]


class Assessment(BaseModel):
    pmpath_version: str
    platform: PlatformAssessment
    patients: list[PatientAssessment]
    inputs: list[Evidence]
    input_warnings: list[InputFinding] = Field(default_factory=list)
    ignored_columns: list[IgnoredColumns] = Field(default_factory=list)

    @property
    def statuses(self) -> dict[str, dict[int, Status]]:
        return {p.id: {c.number: c.status for c in p.criteria} for p in self.patients}
