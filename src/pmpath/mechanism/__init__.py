"""Mechanism checks: is the genotype a specific molecular cause (criterion 1), and does the therapy act on it (criterion 2)?

A library with plain inputs and results: genotype rules for an allele set, a reference sequence
and a transcript annotation behind small interfaces, HGVS variants mapped offline (biocommons
hgvs), consequences on the transcript, target checks for CRISPR guides (base editors, nucleases)
and ASOs, and designs of both for a patient variant.

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
from pmpath.mechanism.aso_design import (
    AsoProperties,
    SiteSearch,
    aso_design,
    aso_properties,
    design_asos,
    search_sense_sites,
)
from pmpath.mechanism.consequence import Consequence, predict_consequence
from pmpath.mechanism.design import Bystander, Design, design_guides, guide_design
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
from pmpath.mechanism.hgvs import HgvsMapper, ResolvedVariant, parse_hgvs
from pmpath.mechanism.pam import CAS_VARIANTS, EDITORS, CasVariant, editor, editors_for, parse_pam
from pmpath.mechanism.reference import FastaReference, InMemoryReference, ReferenceSequence
from pmpath.mechanism.sequence import reverse_complement, scan_both_strands
from pmpath.mechanism.status import CheckStatus, MechanismClass
from pmpath.mechanism.transcript import Annotation, CPosition, Transcript, read_annotation
from pmpath.mechanism.variant_designs import VariantDesigns, design_for_variant, verify_for_variant

__all__ = [
    "CAS_VARIANTS",
    "EDITORS",
    "GENOTYPE_RULES",
    "AlleleCall",
    "AlleleWindow",
    "Annotation",
    "AsoHit",
    "AsoMismatch",
    "AsoProperties",
    "AsoVerification",
    "Bystander",
    "CPosition",
    "CasVariant",
    "CheckStatus",
    "Consequence",
    "Design",
    "EditableBase",
    "Editor",
    "FastaReference",
    "GenotypeAssessment",
    "GenotypeRule",
    "GuideHit",
    "GuideMismatch",
    "GuideVerification",
    "HgvsMapper",
    "InMemoryReference",
    "MechanismClass",
    "ReferenceSequence",
    "ResolvedVariant",
    "SequenceVariant",
    "SiteSearch",
    "TargetSite",
    "Transcript",
    "VariantDesigns",
    "allele_window",
    "aso_design",
    "aso_properties",
    "check_reference_allele",
    "design_asos",
    "design_for_variant",
    "design_guides",
    "editor",
    "editors_for",
    "genotype_consistent",
    "guide_design",
    "parse_hgvs",
    "parse_pam",
    "predict_consequence",
    "read_annotation",
    "reverse_complement",
    "scan_both_strands",
    "search_sense_sites",
    "verify_aso",
    "verify_for_variant",
    "verify_guide",
]
