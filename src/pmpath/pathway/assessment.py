"""The result of assessing a dossier: per-patient verdicts, the platform's streak and status."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from pmpath.dossier.fingerprint import dossier_fingerprint
from pmpath.dossier.provenance import software_versions
from pmpath.pathway.flags import Flag, caveats
from pmpath.pathway.results import HierarchicalPooledResult, Interval, Quantity
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
    flags: list[Flag] = Field(default_factory=list)
    criteria: list[Verdict]
    adverse_events: list[AdverseEvent] = Field(default_factory=list)
    concomitant: list[dict[str, Any]] = Field(default_factory=list)

    def criterion(self, number: int) -> Verdict:
        return next(c for c in self.criteria if c.number == number)

    @property
    def caveats(self) -> list[Flag]:
        """Every caveat of this patient: its own, then each criterion's in criterion order."""
        return caveats(self.flags) + [f for c in self.criteria for f in c.caveats]


class PooledPatient(BaseModel):
    id: str
    own: Quantity = Field(description="The patient's own effect estimate.")
    pooled: Quantity = Field(description="Partially pooled toward the platform's mean.")


class PooledEffect(BaseModel):
    """The treatment effect across the platform's patients (partial pooling), beside the verdicts.

    Descriptive: the verdicts are per patient; this says how large and how consistent the effect is
    across them (``tau`` the between-patient SD on the model scale, ``i2`` its share of the spread).
    """

    endpoint: str
    method: str
    n_patients: int
    estimate: Quantity
    interval: Interval
    tau: float
    i2: float
    patients: list[PooledPatient] = Field(default_factory=list)
    hierarchical: HierarchicalPooledResult | None = Field(
        None,
        description="The hierarchical model sampled with NUTS, beside this one (plan sampler.method nuts).",
    )


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
    flags: list[Flag] = Field(default_factory=list)
    pooled_effect: PooledEffect | None = Field(
        None,
        description="The primary endpoint's effect pooled across patients (two or more compared).",
    )

    @property
    def caveats(self) -> list[Flag]:
        """The platform's flags that bear on every verdict (e.g. a plan fixed after the first dose)."""
        return caveats(self.flags)


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


ASSESSMENT_SCHEMA_VERSION = 3
"""Version of ``assessment.json``'s layout: a change that breaks :func:`assessment_json_schema` bumps it.

2: a verdict's untyped ``numbers`` are gone; everything is in its typed ``result``.
3: criterion 5's results follow the calibrated rule (estimand, lower bound, halves, posterior,
sensitivity, intercurrent events; ``fraction_beyond_band`` is gone)."""


class Assessment(BaseModel):
    """The whole assessment of one dossier, as written to ``assessment.json``."""

    schema_version: int = Field(
        ASSESSMENT_SCHEMA_VERSION, description="Version of this layout (ASSESSMENT_SCHEMA_VERSION)."
    )
    pmpath_version: str
    dossier_fingerprint: str = Field(
        "",
        description="SHA-256 of the sorted '<sha256>  <path>' lines of every input "
        "(pmpath.dossier.fingerprint.dossier_fingerprint); taken from ``inputs`` when not given.",
    )
    software: dict[str, str] = Field(
        default_factory=software_versions,
        description="Versions of the software that produced the numbers (pmpath, Python, numpy, ...).",
    )
    platform: PlatformAssessment
    patients: list[PatientAssessment]
    inputs: list[Evidence]
    input_warnings: list[InputFinding] = Field(default_factory=list)
    ignored_columns: list[IgnoredColumns] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fingerprint_from_inputs(self) -> Assessment:
        if not self.dossier_fingerprint:
            self.dossier_fingerprint = dossier_fingerprint({e.path: e.sha256 for e in self.inputs})
        return self

    @property
    def statuses(self) -> dict[str, dict[int, Status]]:
        return {p.id: {c.number: c.status for c in p.criteria} for p in self.patients}


def assessment_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``assessment.json``, as ``pmpath schema`` writes it.

    Returns
    -------
    dict
        :meth:`Assessment.model_json_schema` in serialization mode (every key written is required),
        with ``$id`` naming :data:`ASSESSMENT_SCHEMA_VERSION`.

    Examples
    --------
    >>> schema = assessment_json_schema()
    >>> {"schema_version", "dossier_fingerprint", "platform", "patients"} <= set(schema["required"])
    True
    """
    schema = Assessment.model_json_schema(mode="serialization")
    # assessment.json writes every field, defaults included: every property is required
    for obj in [schema, *schema.get("$defs", {}).values()]:
        if "properties" in obj:
            obj["required"] = sorted(obj["properties"])
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:pmpath:assessment:{ASSESSMENT_SCHEMA_VERSION}"
    return schema
