"""What every criterion returns: a status, its typed result, its method, the evidence it used and its figures."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pmpath.dossier.vocabulary import Status
from pmpath.pathway.figures import FigureData
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
        None,
        description="The criterion's typed result, with units; None when the criterion could not "
        "get as far as a result (the summary says why).",
    )
    evidence: list[Evidence] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    figures: list[FigureData] = Field(
        default_factory=list,
        exclude=True,  # in the HTML report, not in assessment.json
        description="Typed data for the report's figures (pmpath.pathway.figures), not part of the verdict.",
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
