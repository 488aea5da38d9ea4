"""The reference behind its interface: FASTA snippets named by region, whole chromosomes, the patient's allele window."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pmpath.errors import AnalysisError, DossierError
from pmpath.mechanism import (
    FastaReference,
    InMemoryReference,
    ReferenceSequence,
    SequenceVariant,
    allele_window,
)

FIXTURE = Path(__file__).parent / "fixtures" / "mechanism" / "targets.fa"


@pytest.fixture(scope="module")
def ref() -> FastaReference:
    return FastaReference(FIXTURE)


def test_region_record_is_offset_into(ref: FastaReference) -> None:
    # protospacer and PAM as laid out in fixtures/mechanism/README.md
    assert ref.fetch("chrX", 1031, 1053) == "GTCAGGCTCGTTCGGATCCT" + "TGG"
    assert ref.fetch("chrX", 1001, 1001) == "A"
    assert ref.fetch("chrX", 1080, 1080) == "C"
    assert ref.extent("chrX", 1036, 1036) == (1001, 1080)


def test_whole_chromosome_record_and_chr_aliases(ref: FastaReference) -> None:
    assert ref.fetch("chr5", 41, 58) == "GGTACCTAGCATGCAAGT"
    assert ref.fetch("5", 41, 58) == "GGTACCTAGCATGCAAGT"
    assert ref.fetch("X", 1036, 1036) == "G"
    assert ref.extent("chr5", 50, 50) == (1, 100)


def test_reverse_complement_record_agrees(ref: FastaReference) -> None:
    pair = {"A": "T", "C": "G", "G": "C", "T": "A"}
    for q in (501, 528, 545, 580):
        assert ref.fetch("chr2", q, q) == pair[ref.fetch("chrX", 1581 - q, 1581 - q)]


def test_uncovered_interval_names_what_was_found(ref: FastaReference) -> None:
    with pytest.raises(
        AnalysisError, match=r"chrX:1070-1090 is not covered; found records chrX:1001-1080"
    ):
        ref.fetch("chrX", 1070, 1090)
    with pytest.raises(AnalysisError, match="none for chr9"):
        ref.fetch("chr9", 1, 10)


def test_implementations_satisfy_the_protocol(ref: FastaReference) -> None:
    assert isinstance(ref, ReferenceSequence)
    assert isinstance(InMemoryReference({"chr1": "ACGT"}), ReferenceSequence)


def test_index_is_not_written_next_to_the_fasta(ref: FastaReference) -> None:
    assert not Path(f"{FIXTURE}.fai").exists()


def test_stale_index_beside_the_fasta_is_never_used(tmp_path: Path) -> None:
    """A .fai describing other bytes, newer than the FASTA (as a git clone may leave it), is ignored."""
    fasta = tmp_path / "t.fa"
    fasta.write_text(">chr5\nTTAGCAAAAA\nCC\n")
    # written for a layout of 4 bases per line: trusting it would read 'TTAG' then newline-shifted bases
    Path(f"{fasta}.fai").write_text("chr5\t12\t6\t4\t5\n")
    os.utime(fasta, (1_000_000_000, 1_000_000_000))
    assert FastaReference(fasta).fetch("chr5", 1, 12) == "TTAGCAAAAACC"
    assert Path(f"{fasta}.fai").read_text() == "chr5\t12\t6\t4\t5\n"  # left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.fa", "t.fa.fai"]


def test_bases_across_lines_and_crlf(tmp_path: Path) -> None:
    fasta = tmp_path / "crlf.fa"
    fasta.write_bytes(b">chr1:11-20 region\r\nacgt\r\nAACC\r\nGG\r\n")
    ref = FastaReference(fasta)
    assert ref.fetch("1", 11, 20) == "ACGTAACCGG"
    assert ref.fetch("chr1", 14, 17) == "TAAC"
    assert ref.extent("chr1", 15, 15) == (11, 20)


def test_huge_position_is_not_covered_rather_than_an_overflow(ref: FastaReference) -> None:
    with pytest.raises(AnalysisError, match="is not covered"):
        ref.fetch("chrX", 10**23, 10**23)


def test_region_record_longer_than_its_name_is_a_finding(tmp_path: Path) -> None:
    fasta = tmp_path / "bad.fa"
    fasta.write_text(">chr1:101-105\nACGTACGT\n")
    with pytest.raises(DossierError) as info:
        FastaReference(fasta)
    (finding,) = info.value.findings
    assert (finding.line, finding.field) == (1, "chr1:101-105")
    assert (
        finding.message
        == "found record 'chr1:101-105' holding 8 bases, expected at most 5 for that region"
    )


def test_in_memory_region_longer_than_its_name_is_an_analysis_error() -> None:
    with pytest.raises(AnalysisError, match="holding 8 bases, expected at most 5"):
        InMemoryReference({"chr1:101-105": "ACGTACGT"})


def test_missing_fasta_is_a_dossier_error(tmp_path: Path) -> None:
    with pytest.raises(DossierError, match=r"absent\.fa: found no such file"):
        FastaReference(tmp_path / "absent.fa")


def test_garbage_fasta_is_a_dossier_error_naming_the_line(tmp_path: Path) -> None:
    fasta = tmp_path / "garbage.fa"
    fasta.write_bytes(b">chr1\nACGT\nAC#T\n")
    with pytest.raises(DossierError) as info:
        FastaReference(fasta)
    (finding,) = info.value.findings
    assert (finding.line, finding.column, finding.found) == (3, 3, "the character '#'")


def test_file_changed_after_indexing_is_an_analysis_error(tmp_path: Path) -> None:
    fasta = tmp_path / "t.fa"
    fasta.write_text(">chr1\nACGT\n")
    ref = FastaReference(fasta)
    fasta.write_text(">chr1\nACGTACGT\n")
    with pytest.raises(AnalysisError, match="changed after it was indexed"):
        ref.fetch("chr1", 1, 2)


def test_ref_allele_mismatch_says_found_and_expected(ref: FastaReference) -> None:
    with pytest.raises(
        AnalysisError,
        match=r"the reference has 'G' at chrX:1036-1036, expected the variant's ref allele 'A'",
    ):
        allele_window(ref, SequenceVariant("chrX", 1036, "A", "G"), 5, 5)


def test_substitution_window() -> None:
    ref = InMemoryReference({"chr1:101-110": "ACGTACGTAC"})
    w = allele_window(ref, SequenceVariant("chr1", 104, "T", "G"), 2, 3)
    # window 102-107: CGTACG -> CGGACG
    assert (w.start, w.end, w.reference, w.patient, w.changed) == (
        102,
        107,
        "CGTACG",
        "CGGACG",
        (2,),
    )
    assert [w.reference_position(i) for i in range(6)] == [102, 103, 104, 105, 106, 107]


def test_deletion_window_maps_coordinates_across_the_junction() -> None:
    ref = InMemoryReference({"chr1": "AACCGGTTAA"})
    # VCF deletion of GG at 5-6 (anchor C at 4): AACC|TTAA
    w = allele_window(ref, SequenceVariant("chr1", 4, "CGG", "C"), 10, 10)
    assert w.patient == "AACCTTAA"
    assert w.changed == (3, 4)  # the bases either side of the junction
    assert [w.reference_position(i) for i in range(8)] == [1, 2, 3, 4, 7, 8, 9, 10]
    assert [w.patient_index(p) for p in (4, 5, 6, 7)] == [3, None, None, 4]


def test_insertion_window_has_no_coordinate_for_inserted_bases() -> None:
    ref = InMemoryReference({"chr1": "AACCGGTTAA"})
    w = allele_window(ref, SequenceVariant("chr1", 4, "C", "CAT"), 10, 10)
    assert w.patient == "AACCATGGTTAA"
    assert w.changed == (4, 5)
    assert [w.reference_position(i) for i in range(12)] == [
        1,
        2,
        3,
        4,
        None,
        None,
        5,
        6,
        7,
        8,
        9,
        10,
    ]


def test_window_is_clipped_to_the_reference() -> None:
    ref = InMemoryReference({"chr1:101-110": "ACGTACGTAC"})
    w = allele_window(ref, SequenceVariant("chr1", 102, "C", "T"), 50, 50)
    assert (w.start, w.end) == (101, 110)


def test_variant_validation() -> None:
    with pytest.raises(ValueError, match="expected a non-empty sequence of A, C, G, T"):
        SequenceVariant("chr1", 5, "<DEL>", "A")
    assert SequenceVariant("chr1", 5, "acg", "a").kind == "deletion"
    assert SequenceVariant("chr1", 5, "A", "AT").kind == "insertion"
    assert SequenceVariant("chr1", 5, "AC", "GT").kind == "substitution"
    assert SequenceVariant("chr1", 5, "AC", "TTT").kind == "delins"
