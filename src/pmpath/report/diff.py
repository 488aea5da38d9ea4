"""What changed between two assessments of a platform, for a resubmission: inputs, verdicts, status.

:func:`diff_assessments` is ``pmpath diff OLD NEW``. Each side is an ``assessment.json`` or a report
folder holding one; only the keys every version writes are compared (see
:mod:`pmpath.report.recorded`), so assessments written by different pmpath versions can be compared.
The result lists the input files added, removed or changed, each patient's criteria and role that
moved, the platform's status and streak, and the analysis-plan hash; it renders as one line per
change (:meth:`AssessmentDiff.lines`) or as JSON (:meth:`AssessmentDiff.to_json`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from pmpath.errors import _one_line
from pmpath.report.recorded import RecordedAssessment, read_assessment

__all__ = [
    "AssessmentDiff",
    "CriterionChange",
    "InputChange",
    "PlatformChange",
    "RoleChange",
    "diff_assessments",
]


class _Change(BaseModel):
    model_config = ConfigDict(frozen=True)


class InputChange(_Change):
    """An input file added, removed or changed (``None``: the file is not in that assessment)."""

    path: str
    change: Literal["added", "removed", "changed"]
    old_sha256: str | None
    new_sha256: str | None

    @property
    def message(self) -> str:
        if self.change == "added":
            return f"input added: {self.path} (sha256 {self.new_sha256})"
        if self.change == "removed":
            return f"input removed: {self.path} (sha256 {self.old_sha256})"
        return f"input changed: {self.path} (sha256 {self.old_sha256} -> {self.new_sha256})"


class PlatformChange(_Change):
    """A platform-level value that moved: ``status``, ``streak``, ``analysis_plan_sha256``, ``pmpath_version``."""

    field: Literal["status", "streak", "analysis_plan_sha256", "pmpath_version"]
    old: str | int | None
    new: str | int | None

    @property
    def message(self) -> str:
        label = {
            "status": "platform status",
            "streak": "platform streak",
            "analysis_plan_sha256": "analysis plan hash",
            "pmpath_version": "pmpath version",
        }[self.field]
        return f"{label}: {_value(self.old)} -> {_value(self.new)}"


class RoleChange(_Change):
    """A patient's role that moved; ``old`` ``None`` for a patient new in NEW, ``new`` ``None`` for one gone."""

    patient: str
    old: str | None
    new: str | None

    @property
    def message(self) -> str:
        if self.old is None:
            return f"patient {self.patient}: added, role {self.new}"
        if self.new is None:
            return f"patient {self.patient}: removed (role was {self.old})"
        return f"patient {self.patient} role: {self.old} -> {self.new}"


class CriterionChange(_Change):
    """A criterion verdict of a patient in both assessments that moved (``None``: not assessed)."""

    patient: str
    number: int
    old: str | None
    new: str | None

    @property
    def message(self) -> str:
        return f"patient {self.patient} criterion {self.number}: {_value(self.old)} -> {_value(self.new)}"


class AssessmentDiff(BaseModel):
    """Every change from the OLD assessment to the NEW one.

    Attributes
    ----------
    old, new
        The two ``assessment.json`` files compared.
    inputs
        Input files added, removed or changed, by path.
    platform
        Platform status, streak, analysis-plan hash and pmpath version that moved.
    roles
        Patients added, removed, or whose role moved, in NEW's patient order (then OLD's).
    criteria
        Criterion verdicts that moved for patients in both, by patient then criterion number.
    """

    model_config = ConfigDict(frozen=True)

    old: Path
    new: Path
    inputs: list[InputChange]
    platform: list[PlatformChange]
    roles: list[RoleChange]
    criteria: list[CriterionChange]
    _patient_order: list[str] = PrivateAttr(default_factory=list)  # NEW's order, then OLD-only

    @property
    def changed(self) -> bool:
        """Whether anything at all differs."""
        return bool(self.inputs or self.platform or self.roles or self.criteria)

    def lines(self) -> list[str]:
        """One line per change: platform, then patients, then inputs; empty when nothing differs."""
        changes = [*self.platform, *self._patient_changes(), *self.inputs]
        return [_one_line(c.message) for c in changes]

    def _patient_changes(self) -> list[RoleChange | CriterionChange]:
        order = list(
            dict.fromkeys(
                [*self._patient_order, *(c.patient for c in [*self.roles, *self.criteria])]
            )
        )
        return sorted(
            [*self.roles, *self.criteria],
            key=lambda c: (order.index(c.patient), 0 if isinstance(c, RoleChange) else c.number),
        )

    def to_text(self) -> str:
        """The lines, or one line saying nothing changed."""
        lines = self.lines() or [_one_line(f"no changes between {self.old} and {self.new}")]
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """``{"old", "new", "changed", "platform", "roles", "criteria", "inputs"}`` as JSON text."""
        data = self.model_dump(mode="json")
        return json.dumps({**data, "changed": self.changed}, indent=2, ensure_ascii=False) + "\n"


def diff_assessments(old: str | Path, new: str | Path) -> AssessmentDiff:
    """Compare two assessments of a platform (``assessment.json`` files or report folders).

    Parameters
    ----------
    old, new
        The earlier and the later assessment.

    Returns
    -------
    AssessmentDiff
        The changes; ``lines()`` renders one per line, ``to_json()`` as JSON.

    Raises
    ------
    UsageError
        Either side is missing, not JSON, or not an ``assessment.json`` (the message names the
        file and the key).

    Examples
    --------
    >>> import tempfile, pmpath
    >>> from pmpath.examples import example_path
    >>> from pmpath.report import write_report
    >>> out = write_report(pmpath.assess(example_path("abe-ucd")), None, Path(tempfile.mkdtemp()) / "r")
    >>> diff_assessments(out, out / "assessment.json").changed
    False
    """
    a, b = read_assessment(old), read_assessment(new)
    diff = AssessmentDiff(
        old=a.path,
        new=b.path,
        inputs=_input_changes(a, b),
        platform=_platform_changes(a, b),
        roles=_role_changes(a, b),
        criteria=_criterion_changes(a, b),
    )
    diff._patient_order = _patient_order(a, b)
    return diff


def _input_changes(a: RecordedAssessment, b: RecordedAssessment) -> list[InputChange]:
    old, new = a.input_hashes, b.input_hashes
    out = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        out.append(InputChange(path=path, change=change, old_sha256=before, new_sha256=after))
    return out


def _platform_changes(a: RecordedAssessment, b: RecordedAssessment) -> list[PlatformChange]:
    pairs = [
        ("status", a.platform.status, b.platform.status),
        ("streak", a.platform.streak, b.platform.streak),
        ("analysis_plan_sha256", a.platform.analysis_plan_sha256, b.platform.analysis_plan_sha256),
        ("pmpath_version", a.pmpath_version, b.pmpath_version),
    ]
    return [PlatformChange(field=f, old=x, new=y) for f, x, y in pairs if x != y]


def _patient_order(a: RecordedAssessment, b: RecordedAssessment) -> list[str]:
    return list(dict.fromkeys([p.id for p in b.patients] + [p.id for p in a.patients]))


def _role_changes(a: RecordedAssessment, b: RecordedAssessment) -> list[RoleChange]:
    out = []
    for pid in _patient_order(a, b):
        before, after = a.patient(pid), b.patient(pid)
        old_role = before.role if before else None
        new_role = after.role if after else None
        if old_role != new_role or (before is None) != (after is None):
            out.append(RoleChange(patient=pid, old=old_role, new=new_role))
    return out


def _criterion_changes(a: RecordedAssessment, b: RecordedAssessment) -> list[CriterionChange]:
    out = []
    for pid in _patient_order(a, b):
        before, after = a.patient(pid), b.patient(pid)
        if before is None or after is None:
            continue  # a patient added or removed is one role line
        numbers = sorted({c.number for c in before.criteria} | {c.number for c in after.criteria})
        for n in numbers:
            old_status, new_status = before.status_of(n), after.status_of(n)
            if old_status != new_status:
                out.append(CriterionChange(patient=pid, number=n, old=old_status, new=new_status))
    return out


def _value(value: object) -> str:
    return "absent" if value is None else str(value)
