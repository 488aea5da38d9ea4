"""Criterion 2 adapter: platform modality and editor, reference FASTA, the case's therapy -> a Verdict.

Sequences and coordinates are those of tests/fixtures/mechanism/targets.fa (see its README).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from pmpath.dossier import Dossier, PatientRecord
from pmpath.dossier.model import Case, Platform
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria import targeting
from pmpath.pathway.verdict import Status

FIXTURE = Path(__file__).parent / "fixtures" / "mechanism" / "targets.fa"
SPACER = "GTCAGACTCGTTCGGATCCT"


def platform(
    modality: str = "adenine_base_editor", editor: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": "T",
        "name": "test platform",
        "synthetic": True,
        "modality": modality,
        "genome_build": "GRCh38",
        "reference_fasta": "reference/targets.fa",
        "data_cutoff": "2026-06-30",
        "invariant_components": [{"name": "lnp", "description": "LNP", "version": "1"}],
        "variable_component": {
            "kind": "aso" if "aso" in modality else "guide_rna",
            "description": "variable",
        },
        "editor": editor,
        "diseases": [
            {
                "id": "d",
                "name": "Disease",
                "gene": "GENE1",
                "inheritance": "autosomal_recessive",
                "cohort": "nh",
            }
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


def assess(
    tmp_path: Path,
    plat: dict[str, Any],
    variants: list[dict[str, Any]],
    sequence: str,
    **therapy: Any,
):
    (tmp_path / "reference").mkdir(exist_ok=True)
    shutil.copy(FIXTURE, tmp_path / "reference" / "targets.fa")
    base = {"gene": "GENE1", "zygosity": "homozygous", "acmg_class": "pathogenic"}
    case = Case.model_validate(
        {
            "id": "P1",
            "diagnosis": {
                "disease": "d",
                "basis": "molecular",
                "sex": "female",
                "age_at_first_dose_years": 2,
            },
            "variants": [base | v for v in variants],
            "therapy": {
                "product_id": "X",
                "batch": "B",
                "components": [{"name": "lnp", "version": "1"}],
                "targeting_sequence": sequence,
            }
            | therapy,
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
    inputs = {
        "platform.yaml": "a" * 64,
        "patients/P1/case.yaml": "b" * 64,
        "reference/targets.fa": "c" * 64,
    }
    dossier = Dossier(tmp_path, Platform.model_validate(plat), {}, [record], inputs, "d" * 64)
    verdict = targeting.evaluate(AssessmentContext(dossier), record)
    json.dumps(verdict.model_dump(mode="json"))  # the result must be JSON-able
    return verdict


ABE_VARIANT = {"chrom": "chrX", "pos": 1036, "ref": "G", "alt": "A"}


def test_adenine_base_editor_corrects(tmp_path: Path) -> None:
    v = assess(tmp_path, platform(editor={"edit_from": "A", "edit_to": "G"}), [ABE_VARIANT], SPACER)
    assert v.number == 2 and v.status == Status.met
    n = v.result
    assert (n.strand, n.start, n.end, n.pam) == ("+", 1031, 1050, "TGG")
    assert n.location == "chrX:1031-1050 (+)"
    assert (
        n.variant_positions == [6]
        and n.editing_window == [4, 8]
        and n.mechanism_class == "corrects"
    )
    assert v.result.criterion == 2 and v.result.molecule == "guide"
    assert v.result.bystander_positions == [4] and v.result.reference_allele_mismatches == 1
    assert any("bystander" in f.message for f in v.flags)
    assert [e.path for e in v.evidence] == [
        "patients/P1/case.yaml",
        "platform.yaml",
        "reference/targets.fa",
    ]
    (alignment,) = v.figures
    assert any(SPACER in line for line in alignment.lines)


def test_missing_conversion_defaults_by_modality(tmp_path: Path) -> None:
    v = assess(tmp_path, platform(editor={}), [ABE_VARIANT], SPACER)
    assert v.status == Status.met and any("A>G assumed" in a for a in v.assumptions)
    c = assess(tmp_path, platform("cytosine_base_editor", editor={}), [ABE_VARIANT], SPACER)
    assert c.status == Status.not_met and c.result.edit == "C>T"


def test_minus_strand_target_via_second_variant(tmp_path: Path) -> None:
    variants = [
        {"chrom": "chr1", "pos": 5, "ref": "A", "alt": "G"},
        {"chrom": "chr2", "pos": 545, "ref": "C", "alt": "T"},
    ]
    v = assess(
        tmp_path,
        platform(editor={"edit_from": "A", "edit_to": "G"}),
        variants,
        SPACER,
        target_variant=1,
    )
    assert v.status == Status.met and v.result.strand == "-" and v.result.start == 531


def test_nuclease_distance(tmp_path: Path) -> None:
    v = assess(tmp_path, platform("nuclease", editor={}), [ABE_VARIANT], SPACER)
    assert (
        v.status == Status.not_met
        and v.result.cut_distance.value == 12
        and v.result.max_cut_distance.value == 10
    )


def test_prime_editor_is_insufficient_without_the_template(tmp_path: Path) -> None:
    v = assess(tmp_path, platform("prime_editor", editor={}), [ABE_VARIANT], SPACER)
    assert v.status == Status.insufficient and "pegRNA" in v.summary
    assert not any("HDR" in f.message for f in v.flags)


def test_splice_switching_aso_on_a_site(tmp_path: Path) -> None:
    site = {"chrom": "chr5", "start": 55, "end": 62, "description": "cryptic acceptor"}
    v = assess(
        tmp_path,
        platform("splice_switching_aso"),
        [{"chrom": "chr5", "pos": 20, "ref": "A", "alt": "G"}],
        "GGTACCTAGCATGCAAGT",
        acts_on=site,
    )
    assert v.status == Status.met
    assert (
        v.result.gene_strand == "-"
        and v.result.site_overlap == 4
        and v.result.mechanism_class == "works_around"
    )
    assert any("inferred as -" in a for a in v.assumptions)


def test_gapmer_allele_selectivity(tmp_path: Path) -> None:
    # over the variant (chr5:50, ASO position 10) the gapmer mismatches the reference allele: allele-selective
    v = assess(
        tmp_path,
        platform("gapmer_aso"),
        [{"chrom": "chr5", "pos": 50, "ref": "C", "alt": "T"}],
        "GGTACCTAGTATGCAAGT",
    )
    assert (
        v.status == Status.met
        and v.result.allele_selective is True
        and v.result.reference_allele_mismatches == 1
    )
    # acting on a site away from the variant (chr5:20) it binds both alleles alike
    site = {"chrom": "chr5", "start": 41, "end": 58, "description": "exon"}
    w = assess(
        tmp_path,
        platform("gapmer_aso"),
        [{"chrom": "chr5", "pos": 20, "ref": "A", "alt": "G"}],
        "GGTACCTAGCATGCAAGT",
        acts_on=site,
    )
    assert (
        w.status == Status.met
        and w.result.covers_variant is False
        and w.result.allele_selective is None
    )
    assert any("knock down both alleles" in f.message for f in w.flags)


def test_reference_mismatch_is_insufficient_with_the_reason(tmp_path: Path) -> None:
    v = assess(
        tmp_path,
        platform(editor={}),
        [{"chrom": "chrX", "pos": 1036, "ref": "A", "alt": "G"}],
        SPACER,
    )
    assert v.status == Status.insufficient
    assert (
        "the reference has 'G'" in v.summary
        and "expected the variant's ref allele 'A'" in v.summary
    )


def test_target_variant_out_of_range_is_insufficient(tmp_path: Path) -> None:
    v = assess(tmp_path, platform(editor={}), [], SPACER)
    assert v.status == Status.insufficient and "declares 0 variant" in v.summary
