"""Engagement rows that name sequencing data: validation findings for missing or malformed files,
and criterion 4 counting at the therapy's target base from an imported CRISPResso2 run (checked
against CRISPResso2's own frequency table), with an untreated control and the per-position figure."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path

import pytest
from scipy import stats

from pmpath.dossier import load_dossier
from pmpath.errors import DossierError
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria.engagement import evaluate
from pmpath.pathway.figures import ConversionProfile
from pmpath.pathway.verdict import Status
from pmpath.report.plots import Chart, graphic

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
ABE = Path("/work/shared/data/crispresso2/abe_minus_strand/CRISPResso_on_abe_minus")
GUIDE = "CTCGCACACGGTTCTCGTTG"
HEADER = "assay,source,replicate,tissue,edited,total,minimum_fraction"

needs_data = pytest.mark.skipif(not ABE.is_dir(), reason="shared CRISPResso2 runs not present")


@pytest.fixture
def dossier(tmp_path: Path) -> Path:
    target = tmp_path / "dossier"
    shutil.copytree(MINIMAL, target)
    case = target / "patients/P1/case.yaml"
    case.write_text(case.read_text().replace("GTGCCAGTCTAGGCATCGAT", GUIDE))
    return target


def _engagement(path: Path, extra: str, rows: list[str]) -> None:
    (path / "patients/P1/engagement.csv").write_text(
        f"{HEADER},{extra}\n" + "".join(r + "\n" for r in rows)
    )


def _findings(path: Path) -> list[str]:
    with pytest.raises(DossierError) as info:
        load_dossier(path)
    return [str(f) for f in info.value.findings]


def _frequency(position: int, base: str) -> tuple[int, int]:
    """(count of base, A+C+G+T+N+-) at 1-based position, straight from CRISPResso2's file."""
    with (ABE / "Nucleotide_frequency_table.txt").open() as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    column = {r[0]: float(r[position]) for r in rows[1:]}
    return int(column[base]), int(sum(column.values()))


# ----------------------------------------------------------------- criterion 4 from CRISPResso2


@needs_data
def test_crispresso_row_counts_at_the_target_base(dossier: Path) -> None:
    shutil.copytree(ABE, dossier / "patients/P1/crispresso_abe")
    _engagement(
        dossier,
        "crispresso_dir,target_position,control_of",
        [
            "amp,patient_derived_cells,1,hepatocyte,,,0.2,crispresso_abe,135,",
            "amp,patient_derived_cells,ctrl,hepatocyte,12,19604,0.2,,,1",
        ],
    )
    loaded = load_dossier(dossier)
    assert not any("no YAML file" in str(w) for w in loaded.warnings)
    v = evaluate(AssessmentContext(loaded), loaded.patients[0])
    (assay,) = v.result.assays
    # minus-strand guide: A>G reads T>C on the amplicon; target 0-based 134 in case.json
    edited, total = _frequency(135, "C")
    assert (assay.edited, assay.total, assay.replicates) == (edited, total, 1)
    assert assay.data == "crispresso2" and assay.target_position == 135
    assert v.status == Status.met  # 30.5% against a 20% minimum
    assert assay.background.value == pytest.approx(12 / 19604)
    p = stats.fisher_exact([[edited, total - edited], [12, 19604 - 12]], alternative="greater")
    assert assay.background_p_value == pytest.approx(p.pvalue, abs=1e-300)
    profiles = [f for f in v.figures if isinstance(f, ConversionProfile)]
    (profile,) = profiles
    assert profile.target_position == 135
    assert (profile.window_start, profile.window_end) == (133, 137)  # protospacer 4-8, minus strand
    assert set(profile.ref) == {"T"}
    i = profile.position.index(135)
    assert profile.treated_pct[i] == pytest.approx(100 * edited / total)
    assert "T>C on the amplicon" in profile.conversion
    assert any(e.path.endswith("crispresso_abe/CRISPResso2_info.json") for e in v.evidence)
    chart = graphic(profile)
    assert isinstance(chart, Chart) and chart.y_label == "Conversion (%)"


@needs_data
def test_two_editable_bases_need_target_position(dossier: Path) -> None:
    shutil.copytree(ABE, dossier / "patients/P1/crispresso_abe")
    _engagement(
        dossier, "crispresso_dir", ["amp,patient_derived_cells,1,hepatocyte,,,0.2,crispresso_abe"]
    )
    loaded = load_dossier(dossier)
    v = evaluate(AssessmentContext(loaded), loaded.patients[0])
    assert v.status == Status.insufficient
    assert "found 2 editable A bases (amplicon positions 133, 135)" in v.summary


@needs_data
def test_reads_row_goes_through_the_quantifier(dossier: Path) -> None:
    # the shared run's own reads: pmpath's quantifier against CRISPResso2's frequency table
    case = json.loads((ABE.parent / "case.json").read_text())
    shutil.copy(ABE.parent / "reads.fastq.gz", dossier / "patients/P1/r1.fastq.gz")
    (dossier / "patients/P1/amp.fa").write_text(f">amp\n{case['amplicon']}\n")
    _engagement(
        dossier,
        "reads_r1,amplicon,target_position",
        ["amp,patient_derived_cells,1,hepatocyte,,,0.2,r1.fastq.gz,amp.fa,135"],
    )
    loaded = load_dossier(dossier)
    assert "patients/P1/r1.fastq.gz" in loaded.inputs
    v = evaluate(AssessmentContext(loaded), loaded.patients[0])
    (assay,) = v.result.assays
    assert assay.data == "reads"
    edited, total = _frequency(135, "C")  # CRISPResso2's count at the target on the same reads
    assert abs(assay.edited / assay.total - edited / total) < 0.005  # within 0.5 percentage point
    assert v.status == Status.met


# ----------------------------------------------------------------- validation findings


def test_missing_files_are_findings(dossier: Path) -> None:
    _engagement(
        dossier,
        "reads_r1,amplicon,crispresso_dir,bam,aberrant_junction,corrected_junction",
        [
            "a,patient,1,liver,,,0.2,nope.fastq,amp1,,,,",
            "b,patient,1,liver,,,0.2,,,no_dir,,,",
            "c,patient,1,liver,,,0.2,,,,no.bam,chr1:10-20,chr1:10-30",
        ],
    )
    text = "\n".join(_findings(dossier))
    assert "reads_r1: found no file 'patients/P1/nope.fastq'" in text
    assert "crispresso_dir: found no folder 'patients/P1/no_dir'" in text
    assert "bam: found no file 'patients/P1/no.bam'" in text


@needs_data
def test_crispresso_folder_without_required_file_is_a_finding(dossier: Path) -> None:
    folder = dossier / "patients/P1/run"
    shutil.copytree(ABE, folder)
    (folder / "CRISPResso_quantification_of_editing_frequency.txt").unlink()
    _engagement(dossier, "crispresso_dir", ["amp,patient,1,liver,,,0.2,run"])
    text = "\n".join(_findings(dossier))
    assert (
        "crispresso_dir: found patients/P1/run/CRISPResso_quantification_of_editing_frequency.txt: file not found"
        in text
    )


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (
            "r1\nACGT\n+\nIIII\n",
            1,
            "found header line 'r1', expected a FASTQ record starting with '@'",
        ),
        ("@r1\nACGT\n-\nIIII\n", 3, "found separator line '-'"),
        ("@r1\nACXT\n+\nIIII\n", 2, "found letters 'X' in the sequence"),
        ("@r1\nACGT\n+\nIII\n", 4, "found 3 quality characters for 4 bases"),
        ("", 1, "found an empty file"),
    ],
)
def test_malformed_fastq_is_a_finding(dossier: Path, content: str, line: int, message: str) -> None:
    (dossier / "patients/P1/r1.fastq").write_text(content)
    _engagement(dossier, "reads_r1,amplicon", ["amp,patient,1,liver,,,0.2,r1.fastq,amp1"])
    findings = _findings(dossier)
    hit = [f for f in findings if f.startswith(f"patients/P1/r1.fastq:{line}:")]
    assert hit and message in hit[0], findings


def test_truncated_gzip_fastq_is_a_finding(dossier: Path) -> None:
    data = gzip.compress(b"@r1\nACGT\n+\nIIII\n" * 100)
    (dossier / "patients/P1/r1.fastq.gz").write_bytes(data[:20])
    _engagement(dossier, "reads_r1,amplicon", ["amp,patient,1,liver,,,0.2,r1.fastq.gz,amp1"])
    assert any("cannot be decompressed" in f or "truncated" in f for f in _findings(dossier))


@pytest.mark.parametrize(
    ("extra", "row", "message"),
    [
        (
            "reads_r1",
            "amp,patient,1,liver,,,0.2,",
            "edited: found an empty cell, expected edited and total, or reads_r1",
        ),
        ("reads_r1", "amp,patient,1,liver,5,,0.2,", "total: found an empty cell"),
        (
            "reads_r1,amplicon",
            "amp,patient,1,liver,,,0.2,r1.fastq,",
            "amplicon: found an empty cell",
        ),
        (
            "reads_r1,amplicon",
            "amp,patient,1,liver,5,10,0.2,r1.fastq,amp1",
            "edited: found counts beside reads_r1",
        ),
        (
            "reads_r2",
            "amp,patient,1,liver,5,10,0.2,r1.fastq",
            "reads_r2: found reads_r2 without reads_r1",
        ),
        (
            "control_of",
            "amp,patient,1,liver,5,10,0.2,9",
            "control_of: found '9', expected a replicate label of assay 'amp'",
        ),
        (
            "bam,aberrant_junction,corrected_junction",
            "amp,patient,1,liver,,,0.2,x.bam,chr1:20-10,",
            "aberrant_junction: found 'chr1:20-10'",
        ),
    ],
)
def test_row_rules_are_findings(dossier: Path, extra: str, row: str, message: str) -> None:
    (dossier / "patients/P1/r1.fastq").write_text("@r1\nACGT\n+\nIIII\n")
    _engagement(dossier, extra, [row])
    findings = _findings(dossier)
    assert any(message in f for f in findings), findings
