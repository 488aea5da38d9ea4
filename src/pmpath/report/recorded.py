"""Reading a written ``assessment.json`` back: the stable keys ``pmpath verify`` and ``pmpath diff`` compare.

Only keys every version of ``assessment.json`` has are read (``pmpath_version``,
``platform.status/streak/analysis_plan_sha256``, ``patients[].id/role/criteria[].number/status``,
``inputs[].path/sha256``), plus ``dossier_fingerprint`` where a newer version writes it; every other
key is ignored, so an assessment written by an older or newer pmpath can still be compared.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pmpath.errors import UsageError, _one_line

__all__ = [
    "ASSESSMENT_NAME",
    "RecordedAssessment",
    "RecordedCriterion",
    "RecordedInput",
    "RecordedPatient",
    "RecordedPlatform",
    "assessment_file",
    "read_assessment",
]

ASSESSMENT_NAME = "assessment.json"


class _Recorded(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RecordedInput(_Recorded):
    """One input file of the assessed dossier: relative POSIX path and SHA-256 of its bytes."""

    path: str
    sha256: str


class RecordedCriterion(_Recorded):
    """One criterion's verdict: its number (1-5) and status (``met``, ``not_met``, ``insufficient``)."""

    number: int
    status: str


class RecordedPatient(_Recorded):
    """One patient: id, role under the consecutive-patient rule, and the criteria verdicts."""

    id: str
    role: str
    criteria: list[RecordedCriterion] = Field(default_factory=list)

    def status_of(self, number: int) -> str | None:
        """The status of criterion ``number``, ``None`` if the assessment has no such criterion."""
        return next((c.status for c in self.criteria if c.number == number), None)


class RecordedPlatform(_Recorded):
    """The platform's status, streak and analysis-plan hash."""

    status: str
    streak: int
    analysis_plan_sha256: str | None = None


class RecordedAssessment(_Recorded):
    """The stable part of an ``assessment.json``; :attr:`path` is the file it was read from."""

    path: Path
    pmpath_version: str
    platform: RecordedPlatform
    patients: list[RecordedPatient] = Field(default_factory=list)
    inputs: list[RecordedInput] = Field(default_factory=list)
    dossier_fingerprint: str | None = None

    @property
    def input_hashes(self) -> dict[str, str]:
        """Relative path -> SHA-256, as :func:`pmpath.dossier.fingerprint.dossier_fingerprint` takes it."""
        return {i.path: i.sha256.lower() for i in self.inputs}

    def patient(self, patient_id: str) -> RecordedPatient | None:
        return next((p for p in self.patients if p.id == patient_id), None)


def assessment_file(path: str | Path) -> Path:
    """The ``assessment.json`` that ``path`` names: the file itself, or the one in a report folder.

    Raises
    ------
    UsageError
        ``path`` does not exist, or is a folder without ``assessment.json``.
    """
    path = Path(path)
    if path.is_dir():
        inner = path / ASSESSMENT_NAME
        if not inner.is_file():
            raise UsageError(
                _one_line(
                    f"{path}: found a folder without {ASSESSMENT_NAME}, expected a report folder "
                    f"written by `pmpath assess` (or the path of an {ASSESSMENT_NAME})"
                )
            )
        return inner
    if not path.is_file():
        raise UsageError(
            _one_line(
                f"{path}: found no such file or folder, expected a report folder or an {ASSESSMENT_NAME}"
            )
        )
    return path


def read_assessment(path: str | Path) -> RecordedAssessment:
    """Read the stable keys of an ``assessment.json`` (or of the one in report folder ``path``).

    Parameters
    ----------
    path
        An ``assessment.json`` file, or a report folder holding one.

    Returns
    -------
    RecordedAssessment
        What verify and diff compare; keys not listed in this module's docstring are ignored.

    Raises
    ------
    UsageError
        The file is missing, unreadable, not JSON, or lacks one of the stable keys (the message
        names the file, the key, what was found and what was expected).

    Examples
    --------
    >>> import tempfile, pmpath
    >>> from pmpath.examples import example_path
    >>> from pmpath.report import write_report
    >>> out = write_report(pmpath.assess(example_path("ssaso-cln")), None, Path(tempfile.mkdtemp()) / "r")
    >>> recorded = read_assessment(out)
    >>> [(p.id, p.role) for p in recorded.patients]
    [('P01', 'success'), ('P02', 'success'), ('P03', 'failure')]
    """
    file = assessment_file(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise UsageError(
            _one_line(f"{file}: cannot be read ({exc.strerror}), expected a readable file")
        ) from exc
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise UsageError(
            _one_line(f"{file}: found bytes that are not UTF-8 ({exc.reason}), expected JSON text")
        ) from exc
    except json.JSONDecodeError as exc:
        raise UsageError(
            _one_line(
                f"{file}:{exc.lineno}:{exc.colno}: found invalid JSON ({exc.msg}), "
                f"expected an {ASSESSMENT_NAME} written by `pmpath assess`"
            )
        ) from exc
    if not isinstance(data, dict) or "pmpath_version" not in data:
        found = "an object without pmpath_version" if isinstance(data, dict) else "not an object"
        raise UsageError(
            _one_line(f"{file}: found {found}, expected an {ASSESSMENT_NAME} written by pmpath")
        )
    try:
        return RecordedAssessment.model_validate({**data, "path": file})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        found = "nothing" if error["type"] == "missing" else _shown(error.get("input"))
        raise UsageError(
            _one_line(f"{file}: {where}: found {found}, expected {_expected(error)}")
        ) from exc


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(error: dict) -> str:
    kind = error["type"]
    if kind == "missing":
        return "this key (every assessment.json has it)"
    if kind.startswith("int"):
        return "an integer"
    if kind.startswith("string"):
        return "a string"
    if kind.startswith("list"):
        return "a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "an object"
    return error.get("msg", "a value pmpath writes")
