"""What every criterion returns: a status, its numbers, its method and the evidence it used."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pmpath.dossier.vocabulary import Status
from pmpath.pathway.flags import Flag, caveats
from pmpath.pathway.results import CriterionResult


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str  # relative POSIX path inside the dossier
    sha256: str


class Verdict(BaseModel):
    """One criterion's verdict for one patient."""

    number: int = Field(ge=1, le=5)
    name: str
    status: Status
    summary: str  # one line
    method: str
    assumptions: list[str] = Field(default_factory=list)
    result: CriterionResult | None = Field(
        None, description="The criterion's typed result, with units (criteria 1, 4 and 5 today)."
    )
    numbers: dict[str, Any] = Field(default_factory=dict)
    evidence: list[Evidence] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    plots: dict[str, Any] = Field(
        default_factory=dict,
        exclude=True,  # in the HTML report, not in assessment.json
        description="Data for the report's plots (not part of the verdict).",
    )

    @property
    def caveats(self) -> list[Flag]:
        """The flags that bear on this verdict (severity ``caveat``)."""
        return caveats(self.flags)


CRITERION_NAMES = {
    1: "Specific molecular cause",
    2: "Therapy targets the cause",
    3: "Well-characterized natural history",
    4: "Target engagement",
    5: "Clinical improvement",
}
