"""The pathway: the five criteria as verdicts computed from the evidence, and the platform's rule."""

from pmpath.pathway.assess import assess_dossier, component_mismatches
from pmpath.pathway.assessment import (
    Assessment,
    PatientAssessment,
    PatientRole,
    PlatformAssessment,
    PlatformStatus,
)
from pmpath.pathway.rule import PatientStanding, apply_rule
from pmpath.pathway.verdict import CRITERION_NAMES, Evidence, Status, Verdict

__all__ = [
    "CRITERION_NAMES",
    "Assessment",
    "Evidence",
    "PatientAssessment",
    "PatientRole",
    "PatientStanding",
    "PlatformAssessment",
    "PlatformStatus",
    "Status",
    "Verdict",
    "apply_rule",
    "assess_dossier",
    "component_mismatches",
]
