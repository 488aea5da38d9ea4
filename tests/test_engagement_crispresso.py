"""CRISPResso2 import: numbers read back equal CRISPResso2's own files, the minus-strand base-editing
run's conversion at the target equals a count made independently from the allele table, a bad
folder is a UsageError naming the file, and the summary writer reproduces CRISPResso2's file."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from scipy import stats

from pmpath.engagement.crispresso import (
    QUANTIFICATION_COLUMNS,
    QuantificationRow,
    crispresso_findings_problem,
    parse_window_coordinates,
    read_crispresso,
    read_quantification_summary,
    reverse_complement,
    write_quantification_summary,
)
from pmpath.errors import UsageError

DATA = Path("/work/shared/data/crispresso2")
ABE = DATA / "abe_minus_strand" / "CRISPResso_on_abe_minus"
FANCF = DATA / "fancf_nuclease" / "expected_CRISPResso_on_FANC.Cas9"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared CRISPResso2 runs not present")


def _raw_table(path: Path) -> list[list[str]]:
    with path.open() as fh:
        return [r for r in csv.reader(fh, delimiter="\t") if r]


@pytest.fixture(scope="module")
def abe():
    return read_crispresso(ABE)


@pytest.fixture(scope="module")
def fancf():
    return read_crispresso(FANCF)


@pytest.fixture(scope="module")
def case() -> dict:
    return json.loads((DATA / "abe_minus_strand" / "case.json").read_text())


# ----------------------------------------------------------------- numbers equal the files


@pytest.mark.parametrize("folder", [ABE, FANCF])
def test_class_counts_equal_the_summary_file(folder: Path) -> None:
    rows = _raw_table(folder / "CRISPResso_quantification_of_editing_frequency.txt")
    header, values = rows[0], rows[1]
    row = read_crispresso(folder).amplicon().classes
    assert row.amplicon == values[0]
    fields = dict(zip(header, values, strict=True))
    assert row.reads_aligned == int(fields["Reads_aligned"])
    assert row.unmodified == int(fields["Unmodified"])
    assert row.modified == int(fields["Modified"])
    assert row.only_substitutions == int(fields["Only Substitutions"])
    assert row.deletions_and_substitutions == int(fields["Deletions and Substitutions"])
    assert row.unmodified_pct == pytest.approx(float(fields["Unmodified%"]), abs=1e-8)
    # the classes partition the modified reads (CRISPResso2's own invariant)
    parts = (
        row.only_insertions
        + row.only_deletions
        + row.only_substitutions
        + row.insertions_and_deletions
        + row.insertions_and_substitutions
        + row.deletions_and_substitutions
        + row.insertions_deletions_and_substitutions
    )
    assert parts == row.modified
    assert row.unmodified + row.modified == row.reads_aligned


@pytest.mark.parametrize("folder", [ABE, FANCF])
def test_position_counts_equal_the_frequency_table(folder: Path) -> None:
    rows = _raw_table(folder / "Nucleotide_frequency_table.txt")
    amplicon = read_crispresso(folder).amplicon()
    bases = rows[0][1:]
    assert "".join(p.ref for p in amplicon.positions) == "".join(bases) == amplicon.sequence
    by = {r[0]: [float(x) for x in r[1:]] for r in rows[1:]}
    for p in amplicon.positions:
        i = p.position - 1
        assert (p.A, p.C, p.G, p.T, p.N, p.deletion) == tuple(
            by[k][i] for k in ("A", "C", "G", "T", "N", "-")
        )
        assert p.coverage == sum(by[k][i] for k in by)


def test_percentage_table_alone_gives_the_same_counts(tmp_path: Path, abe) -> None:
    # Without the frequency table the counts come from the percentage table (duplicate column
    # names, fractions of the aligned reads); they must round back to the same integers.
    folder = tmp_path / "run"
    shutil.copytree(ABE, folder)
    (folder / "Nucleotide_frequency_table.txt").unlink()
    info = json.loads((folder / "CRISPResso2_info.json").read_text())
    del info["results"]["refs"]["Reference"]["nuc_freq_filename"]
    (folder / "CRISPResso2_info.json").write_text(json.dumps(info))
    run = read_crispresso(folder)
    assert "Nucleotide_percentage_table" in run.amplicon().counts_from
    assert run.amplicon().positions == abe.amplicon().positions


def test_window_is_shifted_from_zero_based(abe, fancf) -> None:
    # -wc -10 -w 10 on a 20-nt guide at 0-based 120-139: the window is the whole protospacer,
    # 1-based 121-140; FANCF's window (size 1 at the cut, 0-based 91-92) is 92-93.
    assert abe.amplicon().window == tuple(range(121, 141))
    guide = abe.amplicon().guides[0]
    assert (guide.start, guide.end, guide.strand) == (121, 140, "-")
    assert fancf.amplicon().window == (92, 93)
    assert fancf.amplicon().guides[0].strand == "+"


def test_qwc_coordinates_are_zero_based(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(FANCF, folder)
    info = json.loads((folder / "CRISPResso2_info.json").read_text())
    del info["results"]["refs"]["Reference"]["include_idxs"]
    info["running_info"]["args"]["value"]["quantification_window_coordinates"] = "90-94_100"
    (folder / "CRISPResso2_info.json").write_text(json.dumps(info))
    assert read_crispresso(folder).amplicon().window == (91, 92, 93, 94, 95, 101)


def test_parse_window_coordinates_rejects_out_of_range() -> None:
    with pytest.raises(UsageError, match="0-based ranges"):
        parse_window_coordinates("5-30", 20, "qwc")


# ----------------------------------------------------------------- conversion: independent counts


def test_minus_strand_conversion_at_target_equals_allele_table_count(abe, case) -> None:
    # case.json: the guide is on the amplicon's minus strand; A>G on the guide reads T>C on the
    # amplicon. Count it ourselves by walking every allele's alignment to the target position.
    amplicon = abe.amplicon()
    assert amplicon.sequence == case["amplicon"]
    assert reverse_complement(case["guide"]) in case["amplicon"]
    target = case["target_index0"] + 1
    assert case["amplicon"][target - 1] == "T"
    converted = covered = 0
    for allele in abe.alleles:
        base = allele.base_at(target)
        if base is None:
            continue
        covered += allele.reads
        converted += allele.reads * (base == "C")
    assert covered == amplicon.classes.reads_aligned
    p = amplicon.position(target)
    assert p.in_window
    assert amplicon.converted(target) == (converted, covered)
    assert p.conversion_pct == pytest.approx(100 * converted / covered, abs=1e-12)
    # Clopper-Pearson from scipy's beta quantiles, independent of interval.py
    lo = stats.beta.ppf(0.025, converted, covered - converted + 1)
    hi = stats.beta.ppf(0.975, converted + 1, covered - converted)
    assert (p.ci_low, p.ci_high) == pytest.approx((100 * lo, 100 * hi), rel=1e-9)
    # the bystander, also a T on the amplicon, is converted less often than the target
    bystander = amplicon.position(case["bystander_index0"] + 1)
    assert 0 < bystander.conversion_pct < p.conversion_pct


def test_conversion_is_empty_off_the_editor_base_and_for_nuclease(abe, fancf) -> None:
    for p in abe.amplicon().positions:
        assert (p.conversion_pct is None) == (p.ref != "T")
    assert all(p.conversion_pct is None for p in fancf.amplicon().positions)
    with pytest.raises(UsageError, match="nuclease"):
        fancf.amplicon().converted(92)
    with pytest.raises(UsageError, match="expected T"):
        abe.amplicon().converted(1)  # a G


def test_conversion_can_be_given_for_a_nuclease_run() -> None:
    run = read_crispresso(FANCF, conversion=("C", "T"))
    p = run.amplicon().positions[0]  # C with two T reads in 235
    assert (p.ref, p.T, p.coverage) == ("C", 2, 235)
    assert p.conversion_pct == pytest.approx(200 / 235)


def test_alleles_read_back_sum_to_aligned_reads(abe, fancf) -> None:
    for run in (abe, fancf):
        assert sum(a.reads for a in run.alleles) == run.amplicon().classes.reads_aligned


# ----------------------------------------------------------------- bad folders


@pytest.mark.parametrize(
    "missing",
    [
        "CRISPResso2_info.json",
        "CRISPResso_quantification_of_editing_frequency.txt",
        "Alleles_frequency_table.zip",
    ],
)
def test_missing_file_names_the_file(tmp_path: Path, missing: str) -> None:
    folder = tmp_path / "run"
    shutil.copytree(FANCF, folder)
    (folder / missing).unlink()
    with pytest.raises(UsageError, match=missing.replace(".", r"\.") + ": file not found"):
        read_crispresso(folder)
    assert missing in crispresso_findings_problem(folder)


def test_missing_nucleotide_tables_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(FANCF, folder)
    (folder / "Nucleotide_frequency_table.txt").unlink()
    (folder / "Nucleotide_percentage_table.txt").unlink()
    with pytest.raises(UsageError, match=r"Nucleotide_percentage_table\.txt: file not found"):
        read_crispresso(folder)


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(FANCF, folder)
    (folder / "CRISPResso2_info.json").write_text('{"running_info": ')
    with pytest.raises(UsageError, match=r"CRISPResso2_info\.json: malformed JSON"):
        read_crispresso(folder)
    assert "malformed JSON" in crispresso_findings_problem(folder)


def test_json_without_refs_names_the_field(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(FANCF, folder)
    (folder / "CRISPResso2_info.json").write_text('{"running_info": {}, "results": {}}')
    with pytest.raises(UsageError, match=r"results\.refs"):
        read_crispresso(folder)


def test_bad_count_cell_names_line_and_column(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(FANCF, folder)
    path = folder / "Nucleotide_frequency_table.txt"
    rows = _raw_table(path)
    rows[2][5] = "many"
    path.write_text("\n".join("\t".join(r) for r in rows) + "\n")
    with pytest.raises(UsageError, match=r"line 3 \(C\) column 6: found 'many'"):
        read_crispresso(folder)


def test_not_a_zip_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(FANCF, folder)
    (folder / "Alleles_frequency_table.zip").write_text("not a zip")
    with pytest.raises(UsageError, match=r"Alleles_frequency_table\.zip: not a readable zip"):
        read_crispresso(folder)


def test_alleles_optional_when_not_required(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(FANCF, folder)
    (folder / "Alleles_frequency_table.zip").unlink()
    assert read_crispresso(folder, require_alleles=False).alleles == ()


def test_good_folder_has_no_problem() -> None:
    assert crispresso_findings_problem(ABE) is None
    assert crispresso_findings_problem(FANCF) is None


# ----------------------------------------------------------------- the summary writer


@pytest.mark.parametrize("folder", [ABE, FANCF])
def test_summary_round_trips_byte_for_byte(tmp_path: Path, folder: Path) -> None:
    source = folder / "CRISPResso_quantification_of_editing_frequency.txt"
    rows = read_quantification_summary(source)
    out = write_quantification_summary(rows, tmp_path / "q.txt")
    assert out.read_bytes() == source.read_bytes()
    assert read_quantification_summary(out) == rows


def test_summary_writer_layout_from_counts(tmp_path: Path) -> None:
    row = QuantificationRow("amp1", 100, 90, 90, 60, 30, 0, 1, 2, 27, 1, 2, 27, 0, 0, 0, 0)
    empty = QuantificationRow("amp2", 100, 90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    path = write_quantification_summary([row, empty], tmp_path / "q.txt")
    rows = _raw_table(path)
    assert tuple(rows[0]) == QUANTIFICATION_COLUMNS
    assert rows[1][:3] == ["amp1", "66.66666667", "33.33333333"]
    assert rows[2][1:3] == ["", ""]
    with pytest.raises(UsageError, match="at least one"):
        write_quantification_summary([], tmp_path / "x.txt")


def test_zip_member_is_found_by_suffix(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(FANCF, folder)
    with zipfile.ZipFile(FANCF / "Alleles_frequency_table.zip") as z:
        text = z.read("Alleles_frequency_table.txt")
    with zipfile.ZipFile(folder / "Alleles_frequency_table.zip", "w") as z:
        z.writestr("renamed.txt", text)
    assert len(read_crispresso(folder).alleles) == 198
