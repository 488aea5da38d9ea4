"""Criterion 2 reads the case's off-target table: flagged sites are caveats, a plan rule can fail the criterion."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from pmpath.dossier import load_dossier
from pmpath.errors import DossierError
from pmpath.mechanism.offtarget.search import SITE_COLUMNS
from pmpath.pathway.assess import assess_dossier

SPACER = "AAACGACCTGCTACTTCTAG"  # abe-ucd P01's guide


def _site(**kw) -> dict:
    row = {c: "" for c in SITE_COLUMNS}
    row.update(
        guide="P01", strand="+", site="", pam="AGG", aligned_guide=SPACER + "NGG", aligned_site="",
        mismatches=0, mismatch_positions="", dna_bulge=0, rna_bulge=0, bulge_position="", cfd=1.0,
        mit="", region="intergenic", patient_specific=False,
    )  # fmt: skip
    row.update(kw)
    row["pam_position"] = row["end"] - 3
    return row


def _with_sites(example_copy, rows, *, rule: str | None = None):
    root = example_copy("abe-ucd")
    case_dir = root / "patients" / "P01"
    pd.DataFrame(rows, columns=list(SITE_COLUMNS)).to_csv(
        case_dir / "offtarget.tsv", sep="\t", index=False
    )
    case = case_dir / "case.yaml"
    case.write_text(case.read_text() + "offtarget: offtarget.tsv\n")
    if rule is not None:
        platform = root / "platform.yaml"
        doc = yaml.safe_load(platform.read_text())
        doc["analysis_plan"]["targeting"] = {"offtarget_rule": rule, "offtarget_max_cfd": 0.3}
        platform.write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


ROWS = [
    # the on-target, over the variant at chrX:38400181 (1-based): one mismatch on the reference
    _site(chrom="chrX", start=38400170, end=38400193, mismatches=1, cfd=0.9, region="coding_exon:OTC"),
    _site(chrom="chrX", start=38400170, end=38400193, cfd=1.0, patient_specific=True, region="coding_exon:OTC"),
    # a coding-exon site above the threshold, one below, and a patient-specific intronic one
    _site(chrom="chr7", start=1000, end=1023, mismatches=2, cfd=0.45, region="coding_exon:GENEA"),
    _site(chrom="chr7", start=5000, end=5023, mismatches=3, cfd=0.05, region="coding_exon:GENEB"),
    _site(chrom="chr3", start=200, end=224, mismatches=1, dna_bulge=1, cfd=0.1, region="intron:GENEC", patient_specific=True),
    _site(chrom="chr5", start=77, end=100, mismatches=4, cfd=0.6, region="intergenic"),
]  # fmt: skip


def _criterion2(root):
    assessment = assess_dossier(load_dossier(root))
    patient = next(p for p in assessment.patients if p.id == "P01")
    return next(c for c in patient.criteria if c.number == 2)


def test_flagged_sites_are_caveats_and_the_verdict_stands(example_copy):
    verdict = _criterion2(_with_sites(example_copy, ROWS))
    assert verdict.status == "met"
    summary = verdict.result.offtarget
    assert summary.on_target == 2
    loci = {f.locus for f in summary.flagged}
    # default threshold 0.2: the 0.45 coding site and the patient-specific intronic one; not the
    # intergenic 0.6 site, not the 0.05 coding site, not the on-target rows
    assert loci == {"chr7:1000-1023 (+)", "chr3:200-224 (+)"}
    kinds = [f.kind for f in verdict.caveats]
    assert kinds.count("offtarget_site") == 2
    # reference, mismatch-only rows by mismatches: the on-target (1), chr7 (2 and 3), chr5 (4)
    assert summary.mismatch_counts == "0-1-1-1-1"
    assert "offtarget.tsv" in summary.file
    assert any("offtarget.tsv" in e.path for e in verdict.evidence)


def test_a_plan_rule_makes_flagged_sites_fail(example_copy):
    verdict = _criterion2(_with_sites(example_copy, ROWS, rule="not_met"))
    assert verdict.status == "not_met"
    assert "offtarget_rule" in verdict.summary
    # the plan's threshold 0.3 still flags the 0.45 site
    assert any(f.locus == "chr7:1000-1023 (+)" for f in verdict.result.offtarget.flagged)


def test_rows_of_another_guide_are_a_finding(example_copy):
    other = _site(chrom="chr1", start=10, end=33, aligned_guide="ACGT" * 5 + "NGG", guide="other")
    root = _with_sites(example_copy, [*ROWS, other])
    loaded = load_dossier(root)
    assert any("other guides" in f.found for f in loaded.warnings)


def test_a_table_without_the_therapys_guide_is_an_error(example_copy):
    other = _site(chrom="chr1", start=10, end=33, aligned_guide="ACGT" * 5 + "NGG", guide="other")
    root = _with_sites(example_copy, [other])
    with pytest.raises(DossierError) as exc:
        load_dossier(root)
    assert any("no site of the therapy's spacer" in f.found for f in exc.value.findings)


def test_platform_annotation_is_an_input_and_a_missing_one_a_finding(example_copy):
    root = example_copy("abe-ucd")
    platform = root / "platform.yaml"
    text = platform.read_text()
    gff = Path(__file__).parent / "fixtures/mechanism/genes.gff3"
    (root / "reference/genes.gff3").write_bytes(gff.read_bytes())
    platform.write_text(text + "annotation: reference/genes.gff3\n")
    loaded = load_dossier(root)
    assert loaded.platform.annotation == "reference/genes.gff3"
    assert "reference/genes.gff3" in loaded.inputs
    platform.write_text(text + "annotation: reference/missing.gff3\n")
    with pytest.raises(DossierError) as exc:
        load_dossier(root)
    assert any("missing.gff3" in f.found for f in exc.value.findings)
