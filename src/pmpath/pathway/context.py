"""What the criteria share while one dossier is assessed: the dossier itself and cached fits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pmpath.dossier import Dossier, PatientRecord
from pmpath.pathway.verdict import Evidence


@dataclass
class AssessmentContext:
    dossier: Dossier
    cache: dict[str, Any] = field(default_factory=dict)  # e.g. natural-history fits per cohort

    def evidence(self, *paths: str) -> list[Evidence]:
        """Evidence entries (path with its SHA-256) for files the dossier read."""
        inputs = self.dossier.inputs
        return [Evidence(path=p, sha256=inputs[p]) for p in sorted(set(paths)) if p in inputs]

    def patient_files(self, patient: PatientRecord, *roles: str) -> list[str]:
        return [patient.files[r] for r in roles if r in patient.files]
