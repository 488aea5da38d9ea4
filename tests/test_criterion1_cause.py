"""Criterion 1 adapter: dossier diagnosis, disease and variants -> the genotype rules -> a Verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pmpath.dossier import Dossier, PatientRecord
from pmpath.dossier.model import Case, Platform
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria import cause
from pmpath.pathway.verdict import Status

PLATFORM = {
    "id": "T-ABE",
    "name": "test platform",
    "synthetic": True,
    "modality": "adenine_base_editor",
    "genome_build": "GRCh38",
    "reference_fasta": "reference/targets.fa",
    "data_cutoff": "2026-06-30",
    "invariant_components": [{"name": "lnp", "description": "LNP", "version": "1"}],
    "variable_component": {"kind": "guide_rna", "description": "spacer"},
    "editor": {"edit_from": "A", "edit_to": "G"},
    "diseases": [
        {
            "id": "ar_disease",
            "name": "Recessive disease",
            "gene": "GENE1",
            "inheritance": "autosomal_recessive",
            "mondo": "MONDO:0000001",
            "cohort": "nh",
        },
        {
            "id": "otcd",
            "name": "OTC deficiency",
            "gene": "OTC",
            "inheritance": "x_linked",
            "cohort": "nh",
        },
    ],
    "endpoints": [
        {
            "id": "ep",
            "name": "Endpoint",
            "kind": "continuous",
            "unit": "g/kg/d",
            "direction": "higher_is_better",
            "role": "primary",
        }
    ],
    "analysis_plan": {"fixed_on": "2025-01-01"},
}


def variant(**kw: Any) -> dict[str, Any]:
    base = {
        "gene": "GENE1",
        "chrom": "chr1",
        "pos": 100,
        "ref": "A",
        "alt": "G",
        "zygosity": "heterozygous",
        "acmg_class": "pathogenic",
        "acmg_criteria": ["PVS1", "PM2"],
    }
    return base | kw


def assess(
    variants: list[dict[str, Any]],
    disease: str = "ar_disease",
    sex: str = "female",
    basis: str = "molecular",
):
    case = Case.model_validate(
        {
            "id": "P1",
            "diagnosis": {
                "disease": disease,
                "basis": basis,
                "sex": sex,
                "age_at_first_dose_years": 2,
            },
            "variants": variants,
            "therapy": {
                "product_id": "X",
                "batch": "B",
                "components": [{"name": "lnp", "version": "1"}],
                "targeting_sequence": "ACGTACGTACGTACGTACGT",
            },
            "dosing": [{"date": "2026-01-01", "dose": 1, "unit": "mg/kg"}],
        }
    )
    empty = pd.DataFrame()
    record = PatientRecord(
        case,
        "patients/P1",
        list(case.variants),
        empty,
        empty,
        empty,
        empty,
        empty,
        {"case": "patients/P1/case.yaml"},
    )
    inputs = {"platform.yaml": "a" * 64, "patients/P1/case.yaml": "b" * 64}
    dossier = Dossier(Path("."), Platform.model_validate(PLATFORM), {}, [record], inputs, "c" * 64)
    return cause.evaluate(AssessmentContext(dossier), record)


def test_compound_heterozygous_in_trans_is_met() -> None:
    v = assess(
        [
            variant(pos=100, allele=1, phase_evidence="parental_testing", hgvs_c="c.100A>G"),
            variant(
                pos=200,
                allele=2,
                phase_evidence="parental_testing",
                acmg_class="uncertain_significance",
                acmg_criteria=["PS3", "PM2"],
            ),
        ]
    )
    assert v.number == 1 and v.name == "Specific molecular cause"
    assert v.status == Status.met
    assert v.result.rule == "ar_in_trans" and v.result.n_functional_vus == 1
    assert v.result.disease_ids == ["MONDO:0000001"]
    assert v.result.criterion == 1 and v.result.rule == "ar_in_trans"
    assert "Recessive disease (MONDO:0000001), GENE1" in v.summary
    assert any("VUS counted as pathogenic on functional evidence" in f.message for f in v.flags)
    assert [e.path for e in v.evidence] == ["patients/P1/case.yaml", "platform.yaml"]
    (table,) = v.figures
    assert [call.role for call in table.calls] == ["counted as P/LP", "counted as P/LP"]
    assert table.calls[0].variant == "GENE1 c.100A>G (chr1:100 A>G)"


def test_unphased_pair_is_insufficient() -> None:
    v = assess([variant(pos=100), variant(pos=200)])
    assert v.status == Status.insufficient and v.result.rule == "ar_phase_unknown"


def test_variant_in_another_gene_is_not_met() -> None:
    v = assess([variant(gene="GENE2", zygosity="homozygous")])
    assert v.status == Status.not_met and v.result.rule == "no_variant_in_gene"
    assert "GENE2" in v.summary and any("other genes" in f.message for f in v.flags)


def test_clinical_diagnosis_is_not_met() -> None:
    v = assess([variant(zygosity="homozygous")], basis="clinical")
    assert v.status == Status.not_met and v.result.rule == "clinical_basis"


def test_x_linked_male() -> None:
    assert (
        assess(
            [variant(gene="OTC", chrom="chrX", zygosity="hemizygous")], disease="otcd", sex="male"
        ).status
        == Status.met
    )
    v = assess(
        [variant(gene="OTC", chrom="chrX", zygosity="hemizygous")], disease="otcd", sex="female"
    )
    assert v.status == Status.not_met and v.result.rule == "hemizygous_female"


def test_pathogenic_without_criteria_is_flagged() -> None:
    v = assess([variant(zygosity="homozygous", acmg_criteria=[])])
    assert v.status == Status.met and any(
        "without listing its ACMG criteria" in f.message for f in v.flags
    )
