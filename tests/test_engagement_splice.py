"""Splice correction: junction reads counted from small BAMs built here with known truth (CIGAR N
spans, 1-based intron bounds as STAR's SJ.out.tab), percent corrected splicing against scipy's
Clopper-Pearson and Fisher's exact, RT-PCR isoform assignment, and the command's exit codes."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pysam
import pytest
from scipy import stats
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.engagement.crispresso import reverse_complement
from pmpath.engagement.splice import (
    Junction,
    count_isoform_reads,
    count_junction_reads,
    parse_junction,
    splice_correction,
)
from pmpath.errors import AnalysisError, UsageError

HEADER = {
    "HD": {"VN": "1.6", "SO": "coordinate"},
    "SQ": [{"SN": "chr1", "LN": 5000}, {"SN": "chr2", "LN": 5000}],
}
# Intron bounds, 1-based inclusive: a read at 1-based POS with CIGAR 50M...N has its intron start at
# POS + 50 (the first skipped base).
CORRECTED = Junction("chr1", 1101, 1900)  # 50M800N50M at POS 1051
ABERRANT = Junction("chr1", 1101, 1500)  # 50M400N50M at POS 1051


def _record(name: str, flag: int, chrom: str, pos: int, cigar: str, mapq: int = 60) -> str:
    length = sum(int(n) for n, op in _cigar_ops(cigar) if op in "MIS=X")
    seq = "A" * length
    return "\t".join(
        [name, str(flag), chrom, str(pos), str(mapq), cigar, "*", "0", "0", seq, "I" * length]
    )


def _cigar_ops(cigar: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r"(\d+)([MIDNSHP=X])", cigar)


def _bam(path: Path, records: list[str], index: bool = True) -> Path:
    unsorted = path.with_suffix(".unsorted.bam")
    header = pysam.AlignmentHeader.from_dict(HEADER)
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as fh:
        for line in records:
            fh.write(pysam.AlignedSegment.fromstring(line, header))
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    if index:
        pysam.index(str(path))
    return path


def _treated_records() -> list[str]:
    recs = []
    for i in range(6):  # 6 corrected fragments
        recs.append(_record(f"c{i}", 0, "chr1", 1051, "50M800N50M"))
    recs.append(_record("c_soft", 0, "chr1", 1061, "10S40M800N50M"))  # soft clip: same intron
    recs.append(_record("c_del", 0, "chr1", 1049, "20M2D30M800N50M"))  # D shifts: 1049+52 = 1101
    for i in range(2):  # 2 aberrant fragments
        recs.append(_record(f"a{i}", 0, "chr1", 1051, "50M400N50M"))
    # a pair whose both mates cross the aberrant junction: one fragment
    recs.append(_record("pair", 99, "chr1", 1061, "40M400N50M"))
    recs.append(_record("pair", 147, "chr1", 1081, "20M400N70M"))
    # not counted
    recs.append(_record("off_by_one", 0, "chr1", 1052, "50M800N50M"))  # intron 1102-1901
    recs.append(_record("secondary", 256, "chr1", 1051, "50M800N50M"))
    recs.append(_record("duplicate", 1024, "chr1", 1051, "50M800N50M"))
    recs.append(_record("supplementary", 2048, "chr1", 1051, "50M800N50M"))
    recs.append(_record("low_mapq", 0, "chr1", 1051, "50M800N50M", mapq=1))
    recs.append(_record("other_chrom", 0, "chr2", 1051, "50M800N50M"))
    recs.append(_record("unspliced", 0, "chr1", 1051, "100M"))
    return recs


def _control_records() -> list[str]:
    recs = [_record(f"c{i}", 0, "chr1", 1051, "50M800N50M") for i in range(1)]
    recs += [_record(f"a{i}", 0, "chr1", 1051, "50M400N50M") for i in range(7)]
    return recs


@pytest.fixture
def bams(tmp_path: Path) -> tuple[Path, Path]:
    return _bam(tmp_path / "treated.bam", _treated_records()), _bam(
        tmp_path / "control.bam", _control_records()
    )


# ----------------------------------------------------------------- junction strings


def test_parse_junction() -> None:
    assert parse_junction("chr1:1,101-1,900") == CORRECTED
    assert str(CORRECTED) == "chr1:1101-1900"


@pytest.mark.parametrize("bad", ["chr1:1900-1101", "chr1:0-10", "chr1-1101-1900", "chr1:a-b", ""])
def test_parse_junction_rejects(bad: str) -> None:
    with pytest.raises(UsageError, match="--aberrant: found"):
        parse_junction(bad, "--aberrant")


# ----------------------------------------------------------------- counting


@pytest.mark.parametrize("indexed", [True, False])
def test_junction_counts_are_the_known_truth(tmp_path: Path, indexed: bool) -> None:
    bam = _bam(tmp_path / "t.bam", _treated_records(), index=indexed)
    counts = count_junction_reads(bam, [CORRECTED, ABERRANT], min_mapq=10)
    assert counts == {CORRECTED: 8, ABERRANT: 3}
    # without the mapping-quality filter the low-MAPQ read counts too
    assert count_junction_reads(bam, [CORRECTED])[CORRECTED] == 9


def test_percent_corrected_against_scipy(bams) -> None:
    treated, control = bams
    result = splice_correction(treated, ABERRANT, CORRECTED, control_bam=control, min_mapq=10)
    t, c = result.treated, result.control
    assert (t.corrected_reads, t.aberrant_reads) == (8, 3)
    assert (c.corrected_reads, c.aberrant_reads) == (1, 7)
    assert t.corrected_pct == pytest.approx(100 * 8 / 11)
    lo = stats.beta.ppf(0.025, 8, 11 - 8 + 1)
    hi = stats.beta.ppf(0.975, 8 + 1, 11 - 8)
    assert (t.ci_low, t.ci_high) == pytest.approx((100 * lo, 100 * hi), rel=1e-9)
    p = stats.fisher_exact([[8, 3], [1, 7]], alternative="greater").pvalue
    assert result.comparison.p_value == pytest.approx(p, rel=1e-9)
    assert result.comparison.above_background_pct == pytest.approx(100 * (8 / 11 - 1 / 8))


def test_no_supporting_read_is_an_analysis_error(bams) -> None:
    treated, _ = bams
    with pytest.raises(AnalysisError, match="no read supports"):
        splice_correction(treated, Junction("chr1", 3000, 3100), Junction("chr1", 3000, 3200))


def test_unknown_chromosome_and_missing_bam(bams, tmp_path: Path) -> None:
    treated, _ = bams
    with pytest.raises(UsageError, match="chromosome 'chrX' not in the BAM header"):
        count_junction_reads(treated, [Junction("chrX", 10, 20)])
    with pytest.raises(UsageError, match="file not found"):
        count_junction_reads(tmp_path / "none.bam", [CORRECTED])
    (tmp_path / "junk.bam").write_text("not a bam")
    with pytest.raises(UsageError, match=r"junk\.bam"):
        count_junction_reads(tmp_path / "junk.bam", [CORRECTED])


# ----------------------------------------------------------------- RT-PCR isoform reads


def _mutate(seq: str, n: int, rng: random.Random) -> str:
    s = list(seq)
    for i in rng.sample(range(len(s)), n):
        s[i] = {"A": "C", "C": "G", "G": "T", "T": "A"}[s[i]]
    return "".join(s)


def test_isoform_reads_known_assignment(tmp_path: Path) -> None:
    rng = random.Random(3)
    exon1 = "".join(rng.choice("ACGT") for _ in range(120))
    pseudo = "".join(rng.choice("ACGT") for _ in range(60))
    exon2 = "".join(rng.choice("ACGT") for _ in range(120))
    corrected, aberrant = exon1 + exon2, exon1 + pseudo + exon2
    reads = (
        [corrected] * 5
        + [_mutate(corrected, 3, rng) for _ in range(4)]
        + [reverse_complement(corrected)] * 2
        + [aberrant] * 3
        + [_mutate(aberrant, 2, rng)]
        + ["".join(rng.choice("ACGT") for _ in range(240))] * 2  # junk
    )
    fastq = tmp_path / "rtpcr.fastq"
    fastq.write_text("".join(f"@r{i}\n{s}\n+\n{'I' * len(s)}\n" for i, s in enumerate(reads)))
    counts = count_isoform_reads(fastq, aberrant, corrected)
    assert (counts.corrected_reads, counts.aberrant_reads, counts.unassigned) == (11, 4, 2)
    assert counts.reads == len(reads)


def test_isoform_fastq_errors_name_the_record(tmp_path: Path) -> None:
    fastq = tmp_path / "bad.fastq"
    fastq.write_text("@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\nIII\n")
    with pytest.raises(UsageError, match="record 2: sequence and quality of different lengths"):
        count_isoform_reads(fastq, "ACGTAAAA", "ACGTCCCC")


# ----------------------------------------------------------------- the command


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_cli_splice_writes_splicing_tsv(bams, tmp_path: Path) -> None:
    treated, control = bams
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "engagement",
            "splice",
            "--bam",
            str(treated),
            "--control-bam",
            str(control),
            "--aberrant",
            str(ABERRANT),
            "--corrected",
            str(CORRECTED),
            "--min-mapq",
            "10",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = _rows(out / "splicing.tsv")
    assert [r["sample"] for r in rows] == ["treated", "control"]
    assert (rows[0]["corrected_reads"], rows[0]["aberrant_reads"], rows[0]["total"]) == (
        "8",
        "3",
        "11",
    )
    assert float(rows[0]["corrected_pct"]) == pytest.approx(100 * 8 / 11)
    assert float(rows[0]["p_value"]) == pytest.approx(
        stats.fisher_exact([[8, 3], [1, 7]], alternative="greater").pvalue
    )
    assert rows[1]["p_value"] == ""
    assert "corrected splicing" in result.output


@pytest.mark.parametrize(
    ("aberrant", "message"),
    [
        ("chr1:1500-1101", "--aberrant: found 'chr1:1500-1101'"),
        ("chr1", "--aberrant: found 'chr1'"),
    ],
)
def test_cli_bad_region_exits_2(bams, tmp_path: Path, aberrant: str, message: str) -> None:
    treated, _ = bams
    result = CliRunner().invoke(
        app,
        [
            "engagement",
            "splice",
            "--bam",
            str(treated),
            "--aberrant",
            aberrant,
            "--corrected",
            str(CORRECTED),
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_missing_bam_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "engagement",
            "splice",
            "--bam",
            str(tmp_path / "x.bam"),
            "--aberrant",
            str(ABERRANT),
            "--corrected",
            str(CORRECTED),
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    assert "x.bam: file not found" in result.output


def test_cli_splice_from_rt_pcr_reads(tmp_path: Path) -> None:
    rng = random.Random(5)
    exon1 = "".join(rng.choice("ACGT") for _ in range(100))
    pseudo = "".join(rng.choice("ACGT") for _ in range(40))
    exon2 = "".join(rng.choice("ACGT") for _ in range(100))
    corrected, aberrant = exon1 + exon2, exon1 + pseudo + exon2
    (tmp_path / "aberrant.fa").write_text(f">pseudoexon_in\n{aberrant[:120]}\n{aberrant[120:]}\n")

    def fastq(name: str, seqs: list[str]) -> Path:
        path = tmp_path / name
        path.write_text("".join(f"@r{i}\n{s}\n+\n{'I' * len(s)}\n" for i, s in enumerate(seqs)))
        return path

    treated = fastq("t.fastq", [corrected] * 9 + [aberrant] * 3)
    control = fastq("c.fastq", [corrected] * 1 + [aberrant] * 11)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "engagement",
            "splice",
            "--reads",
            str(treated),
            "--control-reads",
            str(control),
            "--aberrant-isoform",
            str(tmp_path / "aberrant.fa"),
            "--corrected-isoform",
            corrected,
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = _rows(out / "splicing.tsv")
    assert (rows[0]["corrected_reads"], rows[0]["aberrant_reads"]) == ("9", "3")
    assert rows[0]["aberrant_junction"] == "pseudoexon_in"
    assert (rows[1]["corrected_reads"], rows[1]["aberrant_reads"]) == ("1", "11")
    assert float(rows[0]["p_value"]) == pytest.approx(
        stats.fisher_exact([[9, 3], [1, 11]], alternative="greater").pvalue
    )


def test_cli_splice_needs_bam_or_reads(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["engagement", "splice", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "--bam / --reads" in result.output
