"""The evidence dossier: its schema, loading with line-numbered validation, and content hashes."""

from pmpath.dossier.load import CohortTables, Dossier, PatientRecord, load_dossier, plan_hash
from pmpath.dossier.model import Case, Cohort, CohortFile, Platform, Variant

__all__ = [
    "Case",
    "Cohort",
    "CohortFile",
    "CohortTables",
    "Dossier",
    "PatientRecord",
    "Platform",
    "Variant",
    "load_dossier",
    "plan_hash",
]
