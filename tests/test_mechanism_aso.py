"""ASO verification against the hand-built chr5 of tests/fixtures/mechanism (see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pmpath.errors import AnalysisError
from pmpath.mechanism import (
    CheckStatus,
    FastaReference,
    InMemoryReference,
    MechanismClass,
    SequenceVariant,
    TargetSite,
    reverse_complement,
    verify_aso,
)

FIXTURE = Path(__file__).parent / "fixtures" / "mechanism" / "targets.fa"
VARIANT = SequenceVariant("chr5", 50, "C", "T")
ASO_MINUS = "GGTACCTAGTATGCAAGT"  # = patient plus strand chr5:41-58: pairs with minus-strand RNA
ASO_PLUS = "ACTTGCATACTAGGTACC"  # its reverse complement: pairs with plus-strand RNA


@pytest.fixture(scope="module")
def ref() -> FastaReference:
    return FastaReference(FIXTURE)


def test_gene_on_minus_strand_is_inferred(ref: FastaReference) -> None:
    r = verify_aso(ref, VARIANT, ASO_MINUS)
    assert r.status == CheckStatus.met and r.mechanism_class == MechanismClass.works_around
    assert (r.gene_strand, r.strand_inferred) == ("-", True)
    assert (r.hit.start, r.hit.end, r.hit.target) == (41, 58, ASO_PLUS)
    assert r.covers_variant and r.variant_positions == (10,)  # ASO position k over chr5:40+k
    # on the reference allele the minus-strand RNA has G (complement of C) where the ASO has T
    [mm] = r.reference_mismatches
    assert (mm.position, mm.aso_base, mm.target_base, mm.genomic_position) == (10, "T", "G", 50)
    assert r.allele_selective is True


def test_gene_on_plus_strand_is_inferred(ref: FastaReference) -> None:
    r = verify_aso(ref, VARIANT, ASO_PLUS)
    assert r.status == CheckStatus.met and r.gene_strand == "+"
    assert (r.hit.start, r.hit.end, r.hit.target) == (41, 58, ASO_MINUS)
    assert r.variant_positions == (9,)  # ASO position k over chr5:59-k
    assert [m.position for m in r.reference_mismatches] == [9]


def test_declared_strand_that_disagrees(ref: FastaReference) -> None:
    r = verify_aso(ref, VARIANT, ASO_MINUS, gene_strand="+")
    assert r.status == CheckStatus.not_met and not r.strand_inferred
    assert any("pairs with the - strand's RNA, but the gene is declared on +" in n for n in r.notes)
    assert verify_aso(ref, VARIANT, ASO_MINUS, gene_strand="-").status == CheckStatus.met


def test_mismatch_is_reported_at_its_aso_position(ref: FastaReference) -> None:
    aso = ASO_MINUS[:2] + "A" + ASO_MINUS[3:]  # position 3 (over chr5:43, a T) changed T -> A
    r = verify_aso(ref, VARIANT, aso)
    assert r.status == CheckStatus.not_met and r.perfect_hits == ()
    [mm] = r.hit.mismatches
    # minus-strand RNA at chr5:43 is A (complement of T); an A in the ASO does not pair with it
    assert (mm.position, mm.aso_base, mm.target_base, mm.genomic_position) == (3, "A", "A", 43)
    assert "position 3" in r.reason


def test_site_other_than_the_variant(ref: FastaReference) -> None:
    # the variant at chr5:20 lies outside the ASO; the declared site 55-62 overlaps 55-58
    variant = SequenceVariant("chr5", 20, "A", "G")
    aso = "GGTACCTAGCATGCAAGT"  # the reference plus strand at 41-58
    r = verify_aso(ref, variant, aso, acts_on=TargetSite("chr5", 55, 62, "cryptic acceptor"))
    assert r.status == CheckStatus.met and r.site_overlap == 4 and not r.covers_variant
    assert r.reference_mismatches is None and r.allele_selective is None
    miss = verify_aso(ref, variant, aso, acts_on=TargetSite("chr5", 70, 80, "exon 7"))
    assert (
        miss.status == CheckStatus.not_met
        and "does not overlap the site chr5:70-80 (exon 7)" in miss.reason
    )


def test_aso_that_does_not_cover_the_variant(ref: FastaReference) -> None:
    r = verify_aso(ref, SequenceVariant("chr5", 20, "A", "G"), "GGTACCTAGCATGCAAGT", flank=40)
    assert r.status == CheckStatus.not_met and "does not cover the variant" in r.reason


def test_site_outside_the_reference_is_an_analysis_error(ref: FastaReference) -> None:
    with pytest.raises(AnalysisError, match="not covered"):
        verify_aso(ref, VARIANT, ASO_MINUS, acts_on=TargetSite("chr5", 300, 320, "far exon"))


def test_target_on_both_strands_needs_a_declared_strand() -> None:
    palindrome = "ACGTACGTTAACGTACGT"  # its own reverse complement
    assert reverse_complement(palindrome) == palindrome
    reference = InMemoryReference(
        {"chr1": "T" * 40 + palindrome[:8] + "C" + palindrome[9:] + "T" * 40}
    )
    variant = SequenceVariant("chr1", 49, "C", palindrome[8])
    r = verify_aso(reference, variant, palindrome)
    assert r.status == CheckStatus.insufficient and "both strands" in r.reason
    assert verify_aso(reference, variant, palindrome, gene_strand="+").status == CheckStatus.met


def test_alignment_pairs_target_and_aso(ref: FastaReference) -> None:
    lines = verify_aso(ref, VARIANT, ASO_MINUS).alignment_lines()
    assert any(line.endswith(f"5'-{ASO_PLUS}-3'") for line in lines)
    assert any(line.endswith(f"3'-{ASO_MINUS[::-1]}-5'") for line in lines)
    assert any("|" * 18 in line for line in lines)


def _overlapping_count(text: str, query: str) -> int:
    return sum(text.startswith(query, i) for i in range(len(text)))


@settings(max_examples=50, deadline=None)
@given(
    left=st.text(alphabet="ACGT", min_size=35, max_size=50),
    right=st.text(alphabet="ACGT", min_size=35, max_size=50),
    target=st.text(alphabet="ACGT", min_size=18, max_size=22),
    k=st.integers(0, 17),
    minus=st.booleans(),
)
def test_aso_for_a_random_target_is_placed_on_the_gene_strand(
    left, right, target, k, minus
) -> None:
    sense = left + target + right  # the gene's sense strand, 5'->3'
    forward = reverse_complement(sense) if minus else sense
    aso = reverse_complement(target)
    assume(
        _overlapping_count(forward, target)
        + _overlapping_count(reverse_complement(forward), target)
        == 1
    )
    idx = len(left) + k  # variant under the target's k-th base, forward index on the sense strand
    fidx = len(sense) - 1 - idx if minus else idx
    alt = forward[fidx]
    ref_base = {"A": "C", "C": "G", "G": "T", "T": "A"}[alt]
    reference = InMemoryReference({"chr3": forward[:fidx] + ref_base + forward[fidx + 1 :]})
    r = verify_aso(reference, SequenceVariant("chr3", fidx + 1, ref_base, alt), aso)
    assert r.status == CheckStatus.met and r.gene_strand == ("-" if minus else "+")
    assert r.hit.target == target
    assert r.variant_positions == (
        len(target) - k,
    )  # the target's k-th base pairs with ASO position m - k
