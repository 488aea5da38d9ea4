"""The Snakemake workflow (one job per sample, then the summary) gives the same summary as `pmpath engagement batch`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.engagement.amplicon import design_target
from pmpath.engagement.simulate import simulate_reads, write_fastq

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflows/engagement/Snakefile"
AMPLICON = (
    "GGCTCACCAAGTGCCCATAAGGGCCGTCAGTCGTTTTGACTTAACGGAGACGATCCTACATATGCGCAATGACATCCCGCGACGGCAT"
    "ATCAATAAGAGATGCGGTCGGCGAACAGTCCTCAACGAGAACCGTGTGCGAGTCTCCTCCACGGTCTGTTATGCCGTGCCACC"
)
GUIDE = "CTCGCACACGGTTCTCGTTG"

snakemake = shutil.which("snakemake") or (Path(sys.executable).parent / "snakemake")


def _sheet(tmp_path: Path) -> Path:
    target = design_target(AMPLICON, GUIDE, "abe")
    for name, fraction, seed in (("treated", 0.4, 1), ("untreated", 0.0, 2)):
        reads = simulate_reads(
            target,
            300,
            intended_fraction=fraction,
            bystander_fraction=0.05 if fraction else 0.0,
            seed=seed,
        )
        write_fastq(tmp_path / f"{name}.fastq.gz", reads.r1)
    sheet = tmp_path / "samples.csv"
    sheet.write_text(
        "sample,r1,r2,amplicon,guide,editor,control\n"
        f"treated,treated.fastq.gz,,{AMPLICON},{GUIDE},abe,untreated\n"
        f"untreated,untreated.fastq.gz,,{AMPLICON},{GUIDE},abe,\n"
    )
    return sheet


def test_one_sample_then_collect_equals_the_batch(tmp_path):
    sheet = _sheet(tmp_path)
    whole = CliRunner().invoke(
        app, ["engagement", "batch", str(sheet), "-o", str(tmp_path / "a"), "-q"]
    )
    assert whole.exit_code == 0, whole.output
    for sample in ("untreated", "treated"):
        one = CliRunner().invoke(
            app,
            [
                "engagement",
                "batch",
                str(sheet),
                "--sample",
                sample,
                "-o",
                str(tmp_path / "b"),
                "-q",
            ],
        )
        assert one.exit_code == 0, one.output
    done = CliRunner().invoke(
        app, ["engagement", "batch", str(sheet), "--collect", "-o", str(tmp_path / "b"), "-q"]
    )
    assert done.exit_code == 0, done.output
    assert (tmp_path / "a/summary.tsv").read_text() == (tmp_path / "b/summary.tsv").read_text()
    assert (tmp_path / "a/treated/positions.tsv").read_text() == (
        tmp_path / "b/treated/positions.tsv"
    ).read_text()


def test_collect_names_a_sample_that_has_not_run(tmp_path):
    sheet = _sheet(tmp_path)
    result = CliRunner().invoke(
        app, ["engagement", "batch", str(sheet), "--collect", "-o", str(tmp_path / "c")]
    )
    assert result.exit_code == 2
    assert "line 2: sample treated" in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(
    not Path(snakemake).exists(),
    reason="snakemake is not installed (pip install 'pmpath[workflow]')",
)
def test_snakemake_workflow_runs_locally_and_equals_the_batch(tmp_path):
    sheet = _sheet(tmp_path)
    whole = CliRunner().invoke(
        app, ["engagement", "batch", str(sheet), "-o", str(tmp_path / "a"), "-q"]
    )
    assert whole.exit_code == 0, whole.output
    run = subprocess.run(
        [
            str(snakemake), "-s", str(SNAKEFILE), "--cores", "2", "--directory", str(tmp_path),
            "--config", f"sheet={sheet}", f"out={tmp_path / 'w'}", f"pmpath={sys.executable} -m pmpath",
            "--quiet", "all",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "w/summary.tsv").read_text() == (tmp_path / "a/summary.tsv").read_text()
