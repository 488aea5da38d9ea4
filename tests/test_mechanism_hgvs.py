"""HGVS parsing, mapping and 3' normalization (biocommons hgvs over our own data provider), checked by hand and against our transcript arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmpath.errors import DossierError, UsageError
from pmpath.mechanism import FastaReference, InMemoryReference, SequenceVariant
from pmpath.mechanism.hgvs import HgvsMapper, parse_hgvs
from pmpath.mechanism.transcript import read_annotation

FIXTURES = Path(__file__).parent / "fixtures" / "mechanism"
REF = FastaReference(FIXTURES / "genome.fa")
ANN = read_annotation(FIXTURES / "genes.gff3")


@pytest.fixture(scope="module")
def mapper() -> HgvsMapper:
    return HgvsMapper(REF, ANN)


@pytest.mark.parametrize(
    ("text", "g", "vcf", "p"),
    [
        ("NM_PLUS.1:c.35G>A", "chrT1:g.265G>A", ("chrT1", 265, "G", "A"), "NP_PLUS.1:p.(Trp12Ter)"),
        ("NM_PLUS:c.35G>A", "chrT1:g.265G>A", ("chrT1", 265, "G", "A"), "NP_PLUS.1:p.(Trp12Ter)"),
        ("NM_PLUS.1:c.100+5G>A", "chrT1:g.335G>A", ("chrT1", 335, "G", "A"), None),
        (
            "NM_MINUS.1:c.50G>A",
            "chrT2:g.321C>T",
            ("chrT2", 321, "C", "T"),
            "NP_MINUS.1:p.(Trp17Ter)",
        ),
        ("chrT1:g.265G>A", "chrT1:g.265G>A", ("chrT1", 265, "G", "A"), None),
    ],
)
def test_maps_to_the_genome_by_hand(
    mapper: HgvsMapper, text: str, g: str, vcf: tuple, p: str | None
) -> None:
    r = mapper.resolve(text)
    assert r.g == g
    assert (r.vcf.chrom, r.vcf.pos, r.vcf.ref, r.vcf.alt) == vcf
    assert r.p == p


def test_utr_positions_map_by_hand(mapper: HgvsMapper) -> None:
    b116 = REF.fetch("chrT1", 116, 116)  # c.-15
    b500 = REF.fetch("chrT1", 500, 500)  # c.*20
    other = {"A": "C", "C": "G", "G": "T", "T": "A"}
    r = mapper.resolve(f"NM_PLUS.1:c.-15{b116}>{other[b116]}")
    assert r.g == f"chrT1:g.116{b116}>{other[b116]}"
    assert r.c == f"NM_PLUS.1:c.-15{b116}>{other[b116]}"
    r = mapper.resolve(f"NM_PLUS.1:c.*20{b500}>{other[b500]}")
    assert r.g == f"chrT1:g.500{b500}>{other[b500]}"


def test_three_prime_rule_shows_both_forms(mapper: HgvsMapper) -> None:
    # c.43-47 is an A run (AAAAA then G): deleting any one A is c.47del
    r = mapper.resolve("NM_PLUS.1:c.43del")
    assert (r.c_given, r.c) == ("NM_PLUS.1:c.43del", "NM_PLUS.1:c.47del")
    assert r.normalized_differs
    assert r.g == "chrT1:g.277del"  # 230 + 47
    forms = r.forms()
    assert forms[0] == "as written: NM_PLUS.1:c.43del" and "3' rule" in forms[1]
    # the minus-strand gene: 3' on the transcript is 5' on the genome
    r = mapper.resolve("NM_MINUS.1:c.58del")
    assert r.c == "NM_MINUS.1:c.62del"
    assert r.g == "chrT2:g.313del"  # the genome's own 3'-most form (371 - 58)
    assert r.vcf.ref[1:] == "T" and len(r.vcf.ref) == 2


def test_dup_normalizes_and_gives_a_vcf_insertion(mapper: HgvsMapper) -> None:
    r = mapper.resolve("NM_PLUS.1:c.44dup")
    assert r.c == "NM_PLUS.1:c.47dup"
    assert (r.vcf.pos, r.vcf.ref, r.vcf.alt) == (277, "A", "AA")


def test_g_to_c_of_a_vcf_variant(mapper: HgvsMapper) -> None:
    r = mapper.g_to_c(SequenceVariant("chrT2", 321, "C", "T"), "NM_MINUS.1")
    assert r.c == "NM_MINUS.1:c.50G>A"
    r = mapper.g_to_c(SequenceVariant("chrT1", 334, "TG", "T"), "NM_PLUS.1")  # intronic deletion
    assert r.c is not None and r.c.startswith("NM_PLUS.1:c.100+")


@given(st.integers(min_value=104, max_value=517), st.sampled_from("ACGT"))
@settings(max_examples=80, deadline=None)
def test_substitutions_agree_with_our_transcript_arithmetic(g: int, alt: str) -> None:
    """A second implementation: Transcript.g_to_c must give biocommons' c. position for every substitution."""
    base = REF.fetch("chrT1", g, g)
    if alt == base:
        return
    r = _MAPPER.g_to_c(SequenceVariant("chrT1", g, base, alt), "NM_PLUS.1")
    assert r.c == f"NM_PLUS.1:c.{ANN['NM_PLUS.1'].g_to_c(g)}{base}>{alt}"


_MAPPER = HgvsMapper(REF, ANN)


def test_unparsable_hgvs_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"does not parse as HGVS.*expected e\.g\."):
        parse_hgvs("NM_PLUS.1:c.35G>>A", "--variant")


def test_protein_variants_cannot_be_mapped(mapper: HgvsMapper) -> None:
    with pytest.raises(UsageError, match=r"p\. is for display only"):
        mapper.resolve("NP_PLUS.1:p.Trp12Ter")


def test_stated_reference_allele_must_match_the_fasta(mapper: HgvsMapper) -> None:
    with pytest.raises(DossierError) as info:
        mapper.resolve("NM_PLUS.1:c.35C>A")
    [finding] = info.value.findings
    assert "genome.fa" in finding.path and "'G'" in finding.found and "'C'" in finding.expected


def test_missing_transcript_and_missing_contig() -> None:
    with pytest.raises(DossierError, match=r"no transcript NM_NOPE\.1"):
        HgvsMapper(REF, ANN).resolve("NM_NOPE.1:c.35G>A")
    elsewhere = InMemoryReference({"chr9": "ACGT" * 50}, "other.fa")
    with pytest.raises(DossierError) as info:
        HgvsMapper(elsewhere, ANN).resolve("NM_PLUS.1:c.35G>A")
    [finding] = info.value.findings
    assert (finding.path, finding.field) == ("other.fa", "contig") and "chrT1" in finding.found
