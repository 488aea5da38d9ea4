"""DNA primitives: reverse complement, IUPAC matching, the two-strand Hamming scan."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmpath.mechanism import reverse_complement, scan_both_strands
from pmpath.mechanism.sequence import IUPAC, iupac_mismatches

dna = st.text(alphabet="ACGT", min_size=0, max_size=200)
iupac = st.text(alphabet="".join(IUPAC), min_size=0, max_size=200)


def test_reverse_complement_by_hand() -> None:
    assert reverse_complement("ATGC") == "GCAT"
    assert reverse_complement("NGG") == "CCN"
    assert reverse_complement("RYKMSW") == "WSKMRY"  # R<->Y, K<->M, S and W self-complementary
    assert reverse_complement("acgT") == "Acgt"


def test_reverse_complement_rejects_non_dna() -> None:
    with pytest.raises(ValueError, match="'X'"):
        reverse_complement("ACXG")


@given(iupac)
def test_reverse_complement_twice_is_identity(seq: str) -> None:
    assert reverse_complement(reverse_complement(seq)) == seq


@given(iupac)
def test_complement_of_a_code_is_the_code_of_the_complements(seq: str) -> None:
    pair = {"A": "T", "C": "G", "G": "C", "T": "A"}
    for code, comp in zip(seq, reverse_complement(seq)[::-1], strict=True):
        assert IUPAC[comp] == frozenset(pair[b] for b in IUPAC[code])


def test_iupac_pattern_matching() -> None:
    assert iupac_mismatches("TGG", "NGG") == ()
    assert iupac_mismatches("TGA", "NGG") == (2,)
    assert iupac_mismatches("AGG", "NRG") == ()  # R = A or G
    assert iupac_mismatches("ACG", "NRG") == (1,)
    assert iupac_mismatches("NGG", "NGG") == (0,)  # an N in the sequence never matches


def test_scan_finds_both_strands_with_forward_coordinates() -> None:
    # AACCGG: CCG reads at 2-4 on +; on -, CCG is the reverse complement of CGG at 3-5
    hits = [(p.strand, p.start) for p in scan_both_strands("AACCGG", "CCG") if not p.mismatches]
    assert hits == [("+", 2), ("-", 3)]


def test_scan_reports_the_pam_on_the_query_strand() -> None:
    # minus strand: the PAM lies to the left of the protospacer in forward coordinates
    seq = "CCA" + reverse_complement("ACGTAC")  # forward: CCA GTACGT; on -: ACGTAC TGG
    [p] = [p for p in scan_both_strands(seq, "ACGTAC", "NGG") if p.score == 0]
    assert (p.strand, p.start, p.suffix, p.suffix_span(3)) == ("-", 3, "TGG", (0, 2))
