"""Criterion 2 with a transcript annotation: the verdict states the mechanism class, the consequence of the correction and of each bystander; the figure marks them.

The platform model has no annotation field yet, so the annotation goes into the context's cache
under ``targeting.ANNOTATION_KEY``, the place :func:`targeting.annotation_for` reads first.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from pmpath.dossier import Dossier, PatientRecord
from pmpath.dossier.model import Case, Platform
from pmpath.mechanism.transcript import read_annotation
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria import targeting
from pmpath.pathway.verdict import Status
from pmpath.report.plots import alignment_block

FIXTURES = Path(__file__).parent / "fixtures" / "mechanism"
PLUS_SPACER = "GGCATAGACCGGCAAAAAGG"  # NM_PLUS.1:c.35G>A at protospacer position 6 (README)


def _platform(modality: str, editor: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": "T",
        "name": "test platform",
        "synthetic": True,
        "modality": modality,
        "genome_build": "GRCh38",
        "reference_fasta": "reference/genome.fa",
        "data_cutoff": "2026-06-30",
        "invariant_components": [{"name": "lnp", "description": "LNP", "version": "1"}],
        "variable_component": {
            "kind": "aso" if "aso" in modality else "guide_rna",
            "description": "v",
        },
        "editor": editor,
        "diseases": [
            {
                "id": "d",
                "name": "D",
                "gene": "GENEP",
                "inheritance": "autosomal_recessive",
                "cohort": "nh",
            }
        ],
        "endpoints": [
            {
                "id": "ep",
                "name": "E",
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
    modality: str,
    editor: dict | None,
    variant: dict,
    sequence: str,
    annotation: bool = True,
):
    (tmp_path / "reference").mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "genome.fa", tmp_path / "reference" / "genome.fa")
    case = Case.model_validate(
        {
            "id": "P1",
            "diagnosis": {
                "disease": "d",
                "basis": "molecular",
                "sex": "female",
                "age_at_first_dose_years": 2,
            },
            "variants": [{"zygosity": "homozygous", "acmg_class": "pathogenic"} | variant],
            "therapy": {
                "product_id": "X",
                "batch": "B",
                "components": [{"name": "lnp", "version": "1"}],
                "targeting_sequence": sequence,
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
    inputs = {
        "platform.yaml": "a" * 64,
        "patients/P1/case.yaml": "b" * 64,
        "reference/genome.fa": "c" * 64,
    }
    dossier = Dossier(
        tmp_path,
        Platform.model_validate(_platform(modality, editor)),
        {},
        [record],
        inputs,
        "d" * 64,
    )
    ctx = AssessmentContext(dossier)
    if annotation:
        ctx.cache[targeting.ANNOTATION_KEY] = read_annotation(FIXTURES / "genes.gff3")
    verdict = targeting.evaluate(ctx, record)
    json.dumps(verdict.model_dump(mode="json"))
    return verdict


PLUS = {
    "gene": "GENEP",
    "chrom": "chrT1",
    "pos": 265,
    "ref": "G",
    "alt": "A",
    "hgvs_c": "NM_PLUS.1:c.35G>A",
}


def test_base_editor_verdict_states_the_correction_and_each_bystander(tmp_path: Path) -> None:
    v = assess(
        tmp_path, "adenine_base_editor", {"edit_from": "A", "edit_to": "G"}, PLUS, PLUS_SPACER
    )
    assert v.status == Status.met
    r = v.result
    assert r.mechanism_class == "corrects" and r.transcript == "NM_PLUS.1"
    assert r.variant_consequence == "nonsense p.(Trp12Ter)"
    assert r.edit_consequence == "restores the reference (reverts nonsense p.(Trp12Ter))"
    assert [(b.position, b.genomic_position, b.edit) for b in r.bystanders] == [
        (4, 263, "A>G"),
        (8, 267, "A>G"),
    ]
    assert r.bystanders[0].consequence.startswith("synonymous p.(Ala11=)")
    assert r.bystanders[1].consequence == "missense p.(Thr13Ala)"
    for text in (
        "mechanism corrects",
        "reverts nonsense p.(Trp12Ter)",
        "8 A>G missense p.(Thr13Ala)",
    ):
        assert text in v.summary
    (figure,) = v.figures
    assert any("^^^^^" in line for line in figure.lines) and any(
        "b   b" in line for line in figure.lines
    )
    assert figure.legend[-1] == "bystander b at position 8 (267) A>G: missense p.(Thr13Ala)"
    block = alignment_block(figure)
    assert block.lines[-1] == figure.legend[-1]
    assert "Thr13Ala" in r.to_text() and "Thr13Ala" in r.to_html()


def test_minus_strand_gene_found_without_hgvs(tmp_path: Path) -> None:
    variant = {"gene": "GENEM", "chrom": "chrT2", "pos": 321, "ref": "C", "alt": "T"}
    v = assess(
        tmp_path,
        "adenine_base_editor",
        {"edit_from": "A", "edit_to": "G"},
        variant,
        "CGCATAGACCCCGAAAAAGG",
    )
    assert v.status == Status.met and v.result.transcript == "NM_MINUS.1"
    assert [b.consequence for b in v.result.bystanders] == [
        "synonymous p.(Ala16=)",
        "missense p.(Thr18Ala)",
    ]


def test_aso_verdict_states_the_variant_consequence(tmp_path: Path) -> None:
    variant = {"gene": "GENEP", "chrom": "chrT1", "pos": 335, "ref": "G", "alt": "A"}
    from pmpath.mechanism import FastaReference, reverse_complement

    ref = FastaReference(FIXTURES / "genome.fa")
    patient = ref.fetch("chrT1", 326, 334) + "A" + ref.fetch("chrT1", 336, 343)
    v = assess(tmp_path, "splice_switching_aso", None, variant, reverse_complement(patient))
    assert v.status == Status.met
    assert v.result.variant_consequence == "splice region (intron +5 from the donor)"
    assert "splice region (intron +5 from the donor)" in v.summary


def test_without_annotation_the_verdict_says_so(tmp_path: Path) -> None:
    v = assess(
        tmp_path,
        "adenine_base_editor",
        {"edit_from": "A", "edit_to": "G"},
        PLUS,
        PLUS_SPACER,
        annotation=False,
    )
    assert v.status == Status.met and v.result.variant_consequence is None
    assert any("no transcript annotation" in a for a in v.assumptions)


def test_hgvs_c_that_names_another_change_is_flagged(tmp_path: Path) -> None:
    wrong = PLUS | {"hgvs_c": "NM_PLUS.1:c.36G>A"}
    v = assess(
        tmp_path, "adenine_base_editor", {"edit_from": "A", "edit_to": "G"}, wrong, PLUS_SPACER
    )
    [f] = [f for f in v.flags if f.kind == "hgvs_mismatch"]
    assert "chrT1:g.266G>A" in f.message and "chrT1:g.265G>A" in f.message
    ok = assess(
        tmp_path, "adenine_base_editor", {"edit_from": "A", "edit_to": "G"}, PLUS, PLUS_SPACER
    )
    assert not [f for f in ok.flags if f.kind == "hgvs_mismatch"]
