"""Transcript models from GFF3 and GTF, and c.<->g. mapping checked by hand against the layout in tests/fixtures/mechanism/README.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmpath.errors import AnalysisError, DossierError, UsageError
from pmpath.mechanism import FastaReference
from pmpath.mechanism.consequence import translate
from pmpath.mechanism.transcript import Annotation, CPosition, Transcript, read_annotation

FIXTURES = Path(__file__).parent / "fixtures" / "mechanism"


@pytest.fixture(scope="module")
def ann() -> Annotation:
    return read_annotation(FIXTURES / "genes.gff3")


@pytest.fixture(scope="module")
def ref() -> FastaReference:
    return FastaReference(FIXTURES / "genome.fa")


def test_gff3_and_gtf_give_the_same_model(ann: Annotation) -> None:
    gtf = read_annotation(FIXTURES / "genes.gtf")
    assert sorted(ann) == sorted(gtf) == ["NM_MINUS.1", "NM_PLUS.1"]
    for key in ann:
        a, b = ann[key], gtf[key]
        assert (a.chrom, a.strand, a.exons, a.cds_start, a.cds_end, a.gene) == (
            b.chrom,
            b.strand,
            b.exons,
            b.cds_start,
            b.cds_end,
            b.gene,
        )
    plus = ann["NM_PLUS.1"]
    assert (plus.strand, plus.exons, plus.cds_start, plus.cds_end, plus.protein_id) == (
        "+",
        ((101, 160), (261, 330), (431, 520)),
        131,
        480,
        "NP_PLUS.1",
    )
    assert ann["NM_MINUS.1"].exons_in_order == ((431, 500), (251, 330), (81, 150))


@pytest.mark.parametrize(
    ("c", "g"),
    [
        ("1", 131),
        ("30", 160),  # last base of exon 1
        ("30+1", 161),
        ("30+50", 210),  # intron of 100: the first half is written from the donor
        ("31-50", 211),
        ("31-1", 260),
        ("31", 261),
        ("100", 330),  # codon 34 starts here (exon 2) ...
        ("101", 431),  # ... and goes on in exon 3
        ("100+5", 335),
        ("150", 480),
        ("-1", 130),
        ("-15", 116),
        ("-30", 101),
        ("*1", 481),
        ("*20", 500),
        ("*40", 520),
    ],
)
def test_plus_strand_c_to_g_by_hand(ann: Annotation, c: str, g: int) -> None:
    tx = ann["NM_PLUS.1"]
    assert tx.c_to_g(c) == g
    assert str(tx.g_to_c(g)) == c


@pytest.mark.parametrize(
    ("c", "g"),
    [
        ("1", 470),
        ("40", 431),
        ("40+1", 430),
        ("40+5", 426),
        ("41-3", 333),
        ("41", 330),
        ("120", 251),
        ("121", 150),
        ("180", 91),
        ("-15", 485),
        ("-30", 500),
        ("*1", 90),
        ("*10", 81),
    ],
)
def test_minus_strand_c_to_g_by_hand(ann: Annotation, c: str, g: int) -> None:
    tx = ann["NM_MINUS.1"]
    assert tx.c_to_g(c) == g
    assert str(tx.g_to_c(g)) == c


def test_outside_the_transcript_continues_the_utr_numbering(ann: Annotation) -> None:
    plus, minus = ann["NM_PLUS.1"], ann["NM_MINUS.1"]
    assert str(plus.g_to_c(90)) == "-41"  # 11 bases before c.-30
    assert str(plus.g_to_c(530)) == "*50"
    assert str(minus.g_to_c(510)) == "-40"
    assert str(minus.g_to_c(70)) == "*21"


def test_codon_split_over_two_exons(ann: Annotation, ref: FastaReference) -> None:
    plus = ann["NM_PLUS.1"]
    codon = "".join(
        ref.fetch("chrT1", plus.c_to_g(str(c)), plus.c_to_g(str(c))) for c in (100, 101, 102)
    )
    assert codon == "CTG" == plus.cds(ref)[99:102]
    minus = ann["NM_MINUS.1"]
    assert minus.c_to_g("40") == 431 and minus.c_to_g("41") == 330
    assert minus.cds(ref)[39:42] == "CTG"


def test_cds_translates_to_a_full_open_reading_frame(ann: Annotation, ref: FastaReference) -> None:
    for tx, n in ((ann["NM_PLUS.1"], 50), (ann["NM_MINUS.1"], 60)):
        protein = translate(tx.cds(ref))
        assert len(protein) == n and protein.startswith("M") and protein.endswith("*")
        assert protein.count("*") == 1
        assert len(tx.mrna(ref)) == tx.length
        assert len(tx.pre_mrna(ref)) == tx.end - tx.start + 1
    assert translate(ann["NM_PLUS.1"].cds(ref))[11] == "W"  # codon 12 TGG


def test_boundary_distance(ann: Annotation) -> None:
    tx = ann["NM_PLUS.1"]
    assert tx.boundary_distance(160) == (1, "exon")
    assert tx.boundary_distance(263) == (3, "exon")  # c.33
    assert tx.boundary_distance(335) == (5, "intron_donor")
    assert tx.boundary_distance(428) == (3, "intron_acceptor")


@given(st.integers(min_value=60, max_value=560), st.sampled_from(["NM_PLUS.1", "NM_MINUS.1"]))
@settings(max_examples=200, deadline=None)
def test_g_to_c_round_trips(g: int, tx_id: str) -> None:
    tx = read_annotation_cached()[tx_id]
    c = tx.g_to_c(g)
    if tx.start <= g <= tx.end:
        assert tx.c_to_g(c) == g
    assert CPosition.parse(str(c)) == c


_CACHE: dict[str, Annotation] = {}


def read_annotation_cached() -> Annotation:
    if "a" not in _CACHE:
        _CACHE["a"] = read_annotation(FIXTURES / "genes.gff3")
    return _CACHE["a"]


def test_transcript_lookup_with_and_without_version(ann: Annotation) -> None:
    assert ann["NM_PLUS"].id == "NM_PLUS.1"
    with pytest.raises(DossierError) as info:
        ann.get_transcript("NM_PLUS.2")
    text = str(info.value)
    assert "genes.gff3" in text and "NM_PLUS.2" in text and "NM_PLUS.1" in text


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(DossierError, match="no such file"):
        read_annotation(tmp_path / "missing.gff3")
    empty = tmp_path / "empty.gff3"
    empty.write_text("##gff-version 3\nchr1\tx\tgene\t1\t10\t.\t+\t.\tID=g\n")
    with pytest.raises(DossierError, match="no transcript with exons"):
        read_annotation(empty)
    with pytest.raises(UsageError, match=r"c\. position"):
        CPosition.parse("1003++5")
    with pytest.raises(UsageError, match="overlapping"):
        Transcript("T", "G", "chr1", "+", ((1, 10), (5, 20)))
    tx = Transcript("T", "G", "chr1", "+", ((1, 10), (21, 30)), 1, 30)
    with pytest.raises(AnalysisError, match=r"\+ offset only after an exon's last base"):
        tx.c_to_g("5+2")
    with pytest.raises(AnalysisError, match=r"at most c\.20"):
        tx.c_to_g("25")
