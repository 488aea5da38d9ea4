"""Mechanism checks: is the genotype a specific molecular cause (criterion 1), and does the therapy act on it (criterion 2)?

A library with plain inputs and results: genotype rules for an allele set, a reference sequence
behind a small interface, and target checks for CRISPR guides (base editors, nucleases) and ASOs.

Examples
--------
>>> from pmpath.mechanism import AlleleCall, genotype_consistent
>>> a = genotype_consistent("OTC", "x_linked", "male", [AlleleCall("OTC", "pathogenic", "hemizygous")])
>>> a.status.value, a.rule.id
('met', 'xl_male_hemizygous')
"""

from pmpath.mechanism.allele import (
    AlleleWindow,
    SequenceVariant,
    allele_window,
    check_reference_allele,
)
from pmpath.mechanism.aso import AsoHit, AsoMismatch, AsoVerification, TargetSite, verify_aso
from pmpath.mechanism.genotype import (
    GENOTYPE_RULES,
    AlleleCall,
    GenotypeAssessment,
    GenotypeRule,
    genotype_consistent,
)
from pmpath.mechanism.guide import (
    EditableBase,
    Editor,
    GuideHit,
    GuideMismatch,
    GuideVerification,
    verify_guide,
)
from pmpath.mechanism.reference import FastaReference, InMemoryReference, ReferenceSequence
from pmpath.mechanism.sequence import reverse_complement, scan_both_strands
from pmpath.mechanism.status import CheckStatus, MechanismClass

__all__ = [
    "GENOTYPE_RULES",
    "AlleleCall",
    "AlleleWindow",
    "AsoHit",
    "AsoMismatch",
    "AsoVerification",
    "CheckStatus",
    "EditableBase",
    "Editor",
    "FastaReference",
    "GenotypeAssessment",
    "GenotypeRule",
    "GuideHit",
    "GuideMismatch",
    "GuideVerification",
    "InMemoryReference",
    "MechanismClass",
    "ReferenceSequence",
    "SequenceVariant",
    "TargetSite",
    "allele_window",
    "check_reference_allele",
    "genotype_consistent",
    "reverse_complement",
    "scan_both_strands",
    "verify_aso",
    "verify_guide",
]
