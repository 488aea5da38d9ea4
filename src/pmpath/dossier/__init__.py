"""The evidence dossier: its schema, loading with line-numbered validation, and content hashes."""

from pmpath.dossier.load import CohortTables, Dossier, PatientRecord, load_dossier, plan_hash
from pmpath.dossier.model import Case, Cohort, CohortFile, Platform, Variant
from pmpath.dossier.write import CohortSpec, DossierSpec, FastaRecord, PatientSpec, write_dossier

__all__ = [
    "Case",
    "Cohort",
    "CohortFile",
    "CohortSpec",
    "CohortTables",
    "Dossier",
    "DossierSpec",
    "FastaRecord",
    "PatientRecord",
    "PatientSpec",
    "Platform",
    "Variant",
    "load_dossier",
    "plan_hash",
    "write_dossier",
]
