"""Criterion 4 adapter: a patient's engagement table becomes assays, a status, a typed result and a forest plot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pmpath.dossier import load_dossier
from pmpath.engagement import clopper_pearson
from pmpath.errors import DossierError
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria.engagement import assay_results, evaluate
from pmpath.pathway.verdict import Status

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
HEADER = "assay,source,replicate,tissue,edited,total,minimum_fraction\n"


@pytest.fixture
def dossier(tmp_path: Path) -> Path:
    target = tmp_path / "dossier"
    shutil.copytree(MINIMAL, target)
    return target


def write_engagement(path: Path, engagement_csv: str) -> None:
    (path / "patients/P1/engagement.csv").write_text(HEADER + engagement_csv)


def verdict(path: Path, engagement_csv: str | None = None):
    if engagement_csv is not None:
        (path / "patients/P1/engagement.csv").write_text(HEADER + engagement_csv)
    loaded = load_dossier(path)
    return evaluate(AssessmentContext(loaded), loaded.patients[0])


def test_minimal_fixture_is_met_by_patient_derived_cells(dossier: Path) -> None:
    v = verdict(dossier)
    assert v.number == 4 and v.name == "Target engagement"
    assert v.status == Status.met
    assert v.result.deciding_tier == "patient_derived_cells"
    (assay,) = v.result.assays
    assert assay.method == "beta_binomial_design_effect" and assay.deciding
    assert (assay.assay, assay.replicates, assay.edited, assay.total) == ("hep", 2, 930, 2000)
    assert assay.fraction.unit == "%" and assay.fraction.value == pytest.approx(930 / 2000)
    assert str(assay.fraction) == "46.5%"
    assert assay.interval.low > 0.2 and assay.interval.level == 0.95
    (forest,) = v.figures
    (row,) = forest.assays
    assert (row.fraction, row.lower, row.minimum) == (
        assay.fraction.value,
        assay.interval.low,
        assay.minimum.value,
    )
    assert [e.path for e in v.evidence] == ["patients/P1/engagement.csv"]
    assert any("no patient assay" in f.message for f in v.flags)
    json.dumps(v.model_dump(mode="json"), allow_nan=False)


def test_patient_tier_decides_and_disagreement_is_flagged(dossier: Path) -> None:
    v = verdict(
        dossier,
        "biopsy,patient,1,liver,12,1000,0.2\nhep,patient_derived_cells,1,hepatocyte,450,1000,0.2\nhep,patient_derived_cells,2,hepatocyte,480,1000,0.2\n",
    )
    assert v.status == Status.not_met
    assert v.result.deciding_tier == "patient"
    assert [t.status for t in v.result.tiers] == ["not_met", None, "met", None]
    assert any(
        "patient_derived_cells evidence is met while the deciding patient evidence is not_met"
        in f.message
        for f in v.flags
    )
    assert any(f.message.startswith("biopsy: one replicate sample") for f in v.flags)
    (forest,) = v.figures
    assert [a.tier for a in forest.assays] == ["patient", "patient_derived_cells"]
    assert [a.deciding for a in forest.assays] == [True, False]
    biopsy = forest.assays[0]
    assert (biopsy.lower, biopsy.upper) == pytest.approx(clopper_pearson(12, 1000))
    assert biopsy.minimum == 0.2
    assert v.result.assays[0].intracluster_correlation is None


def test_rows_sharing_a_replicate_label_are_a_validation_finding(dossier: Path) -> None:
    """Two rows with one (assay, replicate) would be pooled or double-counted: refused at validate."""
    write_engagement(
        dossier, "biopsy,patient,A,liver,300,1000,0.2\nbiopsy,patient,A,liver,340,1000,0.2\n"
    )
    with pytest.raises(DossierError) as info:
        load_dossier(dossier)
    (f,) = info.value.findings
    assert (f.path, f.line, f.field) == ("patients/P1/engagement.csv", 3, "assay, replicate")
    assert "line 2" in f.found


def test_inconsistent_assay_rows_are_a_validation_finding(dossier: Path) -> None:
    write_engagement(
        dossier, "biopsy,patient,1,liver,300,1000,0.2\nbiopsy,patient,2,liver,340,1000,0.3\n"
    )
    with pytest.raises(DossierError) as info:
        load_dossier(dossier)
    (f,) = info.value.findings
    assert (f.path, f.field) == ("patients/P1/engagement.csv", "minimum_fraction")
    assert "'biopsy'" in f.found and "0.2" in f.found and "0.3" in f.found


def test_no_engagement_table_is_insufficient(dossier: Path) -> None:
    case = dossier / "patients/P1/case.yaml"
    case.write_text(case.read_text().replace("engagement: engagement.csv\n", ""))
    v = verdict(dossier)
    assert v.status == Status.insufficient
    assert v.evidence == []
    assert "no target-engagement assay" in v.summary


def test_confidence_comes_from_the_analysis_plan(dossier: Path) -> None:
    platform = dossier / "platform.yaml"
    text = platform.read_text()
    assert "  fixed_on: 2025-01-01\n" in text
    platform.write_text(
        text.replace(
            "  fixed_on: 2025-01-01\n",
            "  fixed_on: 2025-01-01\n  engagement:\n    confidence: 0.8\n",
        )
    )
    v = verdict(dossier, "biopsy,patient,1,liver,25,100,0.2\n")
    assert v.result.confidence == 0.8 and v.figures[0].confidence == 0.8
    interval = v.result.assays[0].interval
    assert (interval.low, interval.high) == pytest.approx(clopper_pearson(25, 100, 0.8))
    assert "80%" in v.method


def test_assay_results_groups_rows_by_assay_and_replicate() -> None:
    frame = pd.DataFrame(
        {
            "assay": ["a", "a", "a", "b"],
            "source": ["patient", "patient", "patient", "animal_model"],
            "edited": [1.0, 2.0, 3.0, 4.0],
            "total": [10.0, 10.0, 10.0, 10.0],
            "minimum_fraction": [0.1, 0.1, 0.1, 0.2],
            "replicate": ["1", " 1", "2", "1"],
            "tissue": ["liver", "liver", "liver", ""],
        }
    )
    a, b = assay_results(frame)
    assert (a.assay, a.source, list(a.replicates), a.minimum_fraction, a.tissue) == (
        "a",
        "patient",
        [(3, 20), (3, 10)],
        0.1,
        "liver",
    )
    assert (b.assay, list(b.replicates)) == ("b", [(4, 10)])
