"""ASO designs: pairing with the patient's pre-mRNA, gapmer gap positions, Tm and folding, and the sense-strand site search (against brute force)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmpath.errors import DossierError, UsageError
from pmpath.mechanism import (
    CheckStatus,
    FastaReference,
    MechanismClass,
    SequenceVariant,
    reverse_complement,
)
from pmpath.mechanism.aso_design import (
    SiteSearch,
    aso_design,
    aso_properties,
    design_asos,
    read_transcript_fasta,
    search_sense_sites,
)
from pmpath.mechanism.transcript import read_annotation

FIXTURES = Path(__file__).parent / "fixtures" / "mechanism"
REF = FastaReference(FIXTURES / "genome.fa")
ANN = read_annotation(FIXTURES / "genes.gff3")
SPLICE = SequenceVariant("chrT1", 335, "G", "A")  # NM_PLUS.1:c.100+5G>A
MINUS_VARIANT = SequenceVariant("chrT2", 321, "C", "T")  # NM_MINUS.1:c.50G>A


def test_splice_switching_asos_cover_the_variant_on_the_sense_strand() -> None:
    designs = design_asos(REF, SPLICE, "aso-splice", ANN["NM_PLUS.1"])
    assert len(designs) == 18  # every 18-mer over one base
    for d in designs:
        assert d.status == CheckStatus.met and d.mechanism_class == MechanismClass.works_around
        assert d.strand == "+"
        (k,) = d.variant_positions
        # the ASO is the reverse complement of the patient's pre-mRNA; position k pairs with the variant
        site = reverse_complement(d.sequence)
        assert site[len(site) - k] == "A"
        assert "intron +5 from the donor" in d.consequence
        assert d.tm is not None and 30 < d.tm < 80
        assert d.row()["aso"] == d.sequence and d.row()["pam"] == ""


def test_gapmer_keeps_the_allele_difference_in_the_gap() -> None:
    designs = design_asos(REF, MINUS_VARIANT, "gapmer", ANN["NM_MINUS.1"])
    assert len(designs) == 10  # ASO positions 6..15 of a 20-mer
    gaps = sorted(int(dict(d.extra)["gap_position"]) for d in designs)
    assert gaps == list(range(1, 11))
    for d in designs:
        (k,) = d.variant_positions
        assert int(dict(d.extra)["gap_position"]) == k - 5
        assert "1 mismatch(es) against the reference allele" in d.consequence
        # minus-strand gene: the ASO pairs with the minus strand's RNA, so it reads along the plus strand
        assert d.strand == "-"


def test_gapmer_with_the_difference_in_a_wing_is_not_met() -> None:
    tx = ANN["NM_MINUS.1"]
    # shift the ASO so the variant sits at position 3 (a wing)
    patient_plus = REF.fetch("chrT2", 300, 320) + "T" + REF.fetch("chrT2", 322, 340)
    aso = patient_plus[21 - 2 : 21 - 2 + 20]  # ASO along the plus strand; the variant at index 2
    r = aso_design(REF, MINUS_VARIANT, aso, "gapmer", tx)
    assert r.variant_positions == (3,)
    assert r.status == CheckStatus.not_met and "wing" in r.consequence


def test_properties_tm_and_folding() -> None:
    import primer3
    import RNA

    p = aso_properties("GGTACCTAGTATGCAAGT")
    assert p.tm == pytest.approx(primer3.calc_tm("GGTACCTAGTATGCAAGT"))
    assert p.gc == pytest.approx(8 / 18)
    hairpin = aso_properties("GGGGAAAACCCC")  # folds back on itself
    assert hairpin.hairpin_dg < 0 and "(" in hairpin.hairpin_structure
    assert hairpin.hairpin_dg == pytest.approx(RNA.fold("GGGGAAAACCCC")[1], abs=0.01)


def _brute(target: str, seq: str, k: int) -> list[tuple[int, int]]:
    m = len(target)
    out = []
    for i in range(len(seq) - m + 1):
        mm = sum(a != b for a, b in zip(seq[i : i + m], target, strict=True))
        if mm <= k:
            out.append((i + 1, mm))
    return out


@given(
    st.text(alphabet="ACGT", min_size=8, max_size=12),
    st.text(alphabet="ACGT", min_size=0, max_size=200),
    st.integers(0, 2),
)
@settings(max_examples=150, deadline=None)
def test_site_search_matches_brute_force(target: str, seq: str, k: int) -> None:
    got = [(s.start, s.mismatches) for s in search_sense_sites(target, {"r": seq}, k)]
    assert got == _brute(target, seq, k)


def test_site_search_skips_the_own_locus_and_finds_a_planted_copy(tmp_path: Path) -> None:
    tx = ANN["NM_PLUS.1"]
    [d] = design_asos(REF, SPLICE, "aso-splice", tx)[:1]
    site = reverse_complement(d.sequence)
    planted = "ACGT" * 5 + site[:4] + ("C" if site[4] != "C" else "G") + site[5:] + "ACGT" * 5
    fa = tmp_path / "tx.fa"
    fa.write_text(f">NM_OTHER.1 planted\n{planted}\n")
    search = SiteSearch(ANN, REF, read_transcript_fasta(fa))
    r = aso_design(REF, SPLICE, d.sequence, "aso-splice", tx, search=search)
    assert (
        "0 mm: 0; 1 mm: 1" in r.offtarget_summary and "NM_OTHER.1:21 (1 mm)" in r.offtarget_summary
    )


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="ASO: found"):
        aso_properties("ACGTXX")
    with pytest.raises(UsageError, match="ASO kind"):
        design_asos(REF, SPLICE, "sirna")
    with pytest.raises(DossierError, match="no such file"):
        read_transcript_fasta(tmp_path / "none.fa")
    with pytest.raises(UsageError, match="gapmer wings"):
        aso_design(REF, SPLICE, "ACGTACGTAC", "gapmer", wings=(5, 5))
