"""Consequences on the hand-built transcript model, and the protein change against biocommons hgvs as a second implementation."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmpath.mechanism import FastaReference, InMemoryReference, SequenceVariant
from pmpath.mechanism.consequence import predict_consequence, shift_3prime, translate
from pmpath.mechanism.hgvs import HgvsMapper
from pmpath.mechanism.transcript import Transcript, read_annotation

FIXTURES = Path(__file__).parent / "fixtures" / "mechanism"
REF = FastaReference(FIXTURES / "genome.fa")
ANN = read_annotation(FIXTURES / "genes.gff3")
PLUS, MINUS = ANN["NM_PLUS.1"], ANN["NM_MINUS.1"]
COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


def sub(tx: Transcript, c: str, alt_on_transcript: str) -> SequenceVariant:
    """The substitution at c. ``c`` to ``alt_on_transcript`` (a transcript-strand base), in genomic terms."""
    g = tx.c_to_g(c)
    base = REF.fetch(tx.chrom, g, g)
    alt = alt_on_transcript if tx.strand == "+" else COMPLEMENT[alt_on_transcript]
    return SequenceVariant(tx.chrom, g, base, alt)


@pytest.mark.parametrize(
    ("tx", "c", "alt", "kind", "p"),
    [
        (PLUS, "35", "A", "nonsense", "p.(Trp12Ter)"),
        (PLUS, "37", "G", "missense", "p.(Thr13Ala)"),  # ACC > GCC
        (PLUS, "36", "A", "nonsense", "p.(Trp12Ter)"),  # TGG > TGA
        (PLUS, "2", "C", "start_lost", "p.(Met1?)"),
        (PLUS, "149", "C", "stop_lost", None),  # TAA > TCA: read-through
        (MINUS, "50", "A", "nonsense", "p.(Trp17Ter)"),
        (MINUS, "52", "G", "missense", "p.(Thr18Ala)"),
        (MINUS, "48", "G", "synonymous", "p.(Ala16=)"),  # GCA > GCG
    ],
)
def test_substitutions_by_hand(tx: Transcript, c: str, alt: str, kind: str, p: str | None) -> None:
    result = predict_consequence(tx, REF, sub(tx, c, alt))
    assert result.kind == kind
    if p is not None:
        assert result.hgvs_p == p
    if kind == "stop_lost":
        assert result.hgvs_p.startswith("p.(Ter50Ser")  # TCA is Ser


def test_codon_split_over_two_exons_is_translated_whole() -> None:
    # codon 34 = c.100 (exon 2) + c.101-102 (exon 3) = CTG (Leu); c.101T>C gives CCG (Pro)
    result = predict_consequence(PLUS, REF, sub(PLUS, "101", "C"))
    assert (result.kind, result.hgvs_p, result.codon_change) == (
        "missense",
        "p.(Leu34Pro)",
        "CTG>CCG",
    )
    assert "splice_region" in result.terms and result.splice_distance == 1
    minus = predict_consequence(MINUS, REF, sub(MINUS, "41", "C"))  # CTG > CCG again, minus strand
    assert (minus.hgvs_p, minus.codon_change) == ("p.(Leu14Pro)", "CTG>CCG")


def test_splice_region_distances() -> None:
    v = SequenceVariant("chrT1", 335, "G", "A")  # c.100+5
    r = predict_consequence(PLUS, REF, v)
    assert (r.kind, r.splice_distance, r.splice_side, r.intron) == (
        "splice_region",
        5,
        "intron_donor",
        2,
    )
    assert "intron +5 from the donor" in r.describe()
    g = PLUS.c_to_g("31-2")
    r = predict_consequence(PLUS, REF, SequenceVariant("chrT1", g, REF.fetch("chrT1", g, g), "C"))
    assert (r.kind, r.splice_distance, r.splice_side) == ("splice_site", 2, "intron_acceptor")
    g = PLUS.c_to_g("30+20")
    r = predict_consequence(
        PLUS,
        REF,
        SequenceVariant(
            "chrT1", g, REF.fetch("chrT1", g, g), "C" if REF.fetch("chrT1", g, g) != "C" else "A"
        ),
    )
    assert r.kind == "intron" and r.splice_distance is None
    g = MINUS.c_to_g("41-3")  # minus strand: acceptor side of intron 1
    r = predict_consequence(
        MINUS,
        REF,
        SequenceVariant(
            "chrT2",
            g,
            REF.fetch("chrT2", g, g),
            "N".replace("N", "A" if REF.fetch("chrT2", g, g) != "A" else "C"),
        ),
    )
    assert (r.kind, r.splice_distance, r.splice_side, r.intron) == (
        "splice_region",
        3,
        "intron_acceptor",
        1,
    )


def test_utrs() -> None:
    for c, kind in (("-15", "5_prime_utr"), ("*20", "3_prime_utr")):
        g = PLUS.c_to_g(c)
        b = REF.fetch("chrT1", g, g)
        assert (
            predict_consequence(
                PLUS, REF, SequenceVariant("chrT1", g, b, "A" if b != "A" else "C")
            ).kind
            == kind
        )


def test_indels() -> None:
    # c.43del in the A run: a frameshift, shifted to c.47del
    g = PLUS.c_to_g("42")
    v = SequenceVariant("chrT1", g, REF.fetch("chrT1", g, g + 1), REF.fetch("chrT1", g, g))
    r = predict_consequence(PLUS, REF, v)
    assert r.kind == "frameshift" and r.hgvs_p.startswith("p.(Lys16")
    # deleting codon 13 (c.37-39) is an in-frame deletion of Thr13
    g = PLUS.c_to_g("36")
    v = SequenceVariant("chrT1", g, REF.fetch("chrT1", g, g + 3), REF.fetch("chrT1", g, g))
    r = predict_consequence(PLUS, REF, v)
    assert (r.kind, r.hgvs_p) == ("inframe_deletion", "p.(Thr13del)")


def test_background_makes_a_bystander_judged_on_the_edited_allele() -> None:
    ref = InMemoryReference({"chr1": "AAATGTGGACCTAACCC"})
    tx = Transcript("NM_T.1", "T", "chr1", "+", ((1, 17),), 3, 14)  # ATG TGG ACC TAA
    alone = predict_consequence(tx, ref, SequenceVariant("chr1", 8, "G", "A"))
    assert alone.hgvs_p == "p.(Trp2Ter)"
    # with TGG already changed to TGA, a G>A at the codon's middle base keeps the stop: TAA
    on_top = predict_consequence(
        tx,
        ref,
        SequenceVariant("chr1", 7, "G", "A"),
        background=[SequenceVariant("chr1", 8, "G", "A")],
    )
    assert on_top.kind == "synonymous" and on_top.hgvs_p == "p.(Ter2=)"


def test_shift_3prime_on_both_strands() -> None:
    ref = InMemoryReference({"chr1": "GCAAAATG"})
    assert str(shift_3prime(SequenceVariant("chr1", 2, "CA", "C"), ref, "+")) == "chr1:5 AA>A"
    assert str(shift_3prime(SequenceVariant("chr1", 5, "AA", "A"), ref, "-")) == "chr1:2 CA>C"
    assert str(shift_3prime(SequenceVariant("chr1", 2, "C", "CA"), ref, "+")) == "chr1:6 A>AA"


def test_translate() -> None:
    assert translate("ATGTGGTAGAAA") == "MW*"
    assert translate("ATGNNN", to_stop=False) == "MX"


def test_protein_change_agrees_with_biocommons_hgvs() -> None:
    """Every substitution and 1- and 3-base deletion in both CDSs, away from the stop codon: same p. as biocommons hgvs.

    biocommons hgvs writes a synonymous stop as Ter60Ter and a lost start as p.Met1? (we write
    p.(Ter60=) and p.(Met1?)), and describes changes at the stop codon differently, so those are
    left out; exon-boundary indels differ in how far the 3' rule moves them.
    """
    mapper = HgvsMapper(REF, ANN)
    checked = 0
    for tx in (PLUS, MINUS):
        for c in range(8, tx.cds_length - 8):
            g = tx.c_to_g(str(c))
            if tx.g_to_n(g)[1] or any(tx.boundary_distance(x)[0] <= 4 for x in (g - 1, g, g + 3)):
                continue
            base = REF.fetch(tx.chrom, g, g)
            variants = [SequenceVariant(tx.chrom, g, base, b) for b in "ACGT" if b != base]
            variants.append(
                SequenceVariant(
                    tx.chrom,
                    g - 1,
                    REF.fetch(tx.chrom, g - 1, g),
                    REF.fetch(tx.chrom, g - 1, g - 1),
                )
            )
            variants.append(
                SequenceVariant(
                    tx.chrom,
                    g - 1,
                    REF.fetch(tx.chrom, g - 1, g + 2),
                    REF.fetch(tx.chrom, g - 1, g - 1),
                )
            )
            for v in variants:
                theirs = mapper.g_to_c(v, tx.id).p
                ours = predict_consequence(tx, REF, v)
                if theirs is None or ours.kind == "stop_lost":
                    continue
                assert ours.hgvs_p == theirs.split(":", 1)[1], (v, ours, theirs)
                checked += 1
    assert checked > 1200
