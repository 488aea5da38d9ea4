"""Guide designs: every PAM and window on both strands, bystanders and their consequences on a plus- and a minus-strand gene.

The expected guides are found by hand from the layout in tests/fixtures/mechanism/README.md; the
PAM scans are checked against a brute-force enumeration written here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmpath.errors import UsageError
from pmpath.mechanism import (
    CheckStatus,
    FastaReference,
    InMemoryReference,
    MechanismClass,
    SequenceVariant,
    reverse_complement,
)
from pmpath.mechanism.design import (
    GUIDE_COLUMNS,
    design_guides,
    gc_fraction,
    guide_design,
    longest_run,
)
from pmpath.mechanism.pam import CAS_VARIANTS, editor, editors_for, parse_pam
from pmpath.mechanism.sequence import IUPAC
from pmpath.mechanism.transcript import read_annotation

FIXTURES = Path(__file__).parent / "fixtures" / "mechanism"
REF = FastaReference(FIXTURES / "genome.fa")
ANN = read_annotation(FIXTURES / "genes.gff3")
PLUS_VARIANT = SequenceVariant("chrT1", 265, "G", "A")  # NM_PLUS.1:c.35G>A p.Trp12Ter
MINUS_VARIANT = SequenceVariant("chrT2", 321, "C", "T")  # NM_MINUS.1:c.50G>A p.Trp17Ter


def test_abe8e_spcas9_plus_strand_gene() -> None:
    [d] = design_guides(REF, PLUS_VARIANT, editors_for("abe8e"), ANN["NM_PLUS.1"], "abe8e")
    assert (d.design, d.kind, d.strand, d.sequence, d.pam) == (
        "abe8e-1",
        "base_editor",
        "+",
        REF.fetch("chrT1", 260, 264) + "A" + REF.fetch("chrT1", 266, 279),
        "AGG",
    )
    assert d.variant_positions == (6,) and d.mechanism_class == MechanismClass.corrects
    by = {b.position: b for b in d.bystanders}
    assert sorted(by) == [4, 8]
    assert by[4].genomic_position == 263 and by[4].consequence.hgvs_p == "p.(Ala11=)"
    assert "splice_region" in by[4].consequence.terms  # c.33 is 3 bases into exon 2
    assert by[8].genomic_position == 267 and by[8].consequence.hgvs_p == "p.(Thr13Ala)"
    assert d.consequence == "restores the reference (reverts nonsense p.(Trp12Ter))"
    row = d.row()
    assert tuple(row) == GUIDE_COLUMNS
    assert row["bystanders"].split(";")[1] == "8:A>G:missense p.(Thr13Ala)"
    assert row["offtarget_summary"] == "" and row["tm"] == ""


def test_abe8e_spcas9_minus_strand_gene() -> None:
    designs = design_guides(REF, MINUS_VARIANT, editors_for("abe8e"), ANN["NM_MINUS.1"], "abe8e")
    by_pos = {d.variant_positions: d for d in designs}
    d = by_pos[(6,)]
    assert d.strand == "-" and d.pam == "AGG"
    assert d.sequence == reverse_complement(
        REF.fetch("chrT2", 307, 320) + "T" + REF.fetch("chrT2", 322, 326)
    )
    assert [(b.position, b.genomic_position, b.consequence.hgvs_p) for b in d.bystanders] == [
        (4, 323, "p.(Ala16=)"),
        (8, 319, "p.(Thr18Ala)"),
    ]
    assert all(x.strand == "-" and x.mechanism_class == MechanismClass.corrects for x in designs)


def _brute_force_sites(seq: str, pam: str, length: int) -> set[tuple[str, str]]:
    """(strand, protospacer) of every site next to ``pam``, by direct enumeration."""
    out = set()
    for strand, text in (("+", seq), ("-", reverse_complement(seq))):
        for i in range(len(text) - length - len(pam) + 1):
            p = text[i + length : i + length + len(pam)]
            if all(b in IUPAC[c] for b, c in zip(p, pam, strict=True)):
                out.add((strand, text[i : i + length]))
    return out


@pytest.mark.parametrize("cas", sorted(CAS_VARIANTS))
@pytest.mark.parametrize("variant", [PLUS_VARIANT, MINUS_VARIANT], ids=["plus", "minus"])
def test_every_pam_nuclease_designs_match_brute_force(cas: str, variant: SequenceVariant) -> None:
    eds = editors_for("spcas9", cas)
    designs = design_guides(REF, variant, eds, None, cas)
    found = {(d.strand, d.sequence) for d in designs}
    # brute force: every site on the patient allele whose cut is within 10 bp of the variant
    from pmpath.mechanism import allele_window

    expected = set()
    for e in eds:
        w = allele_window(REF, variant, 60, 60)
        L = e.protospacer_length
        for strand, proto in _brute_force_sites(w.patient, e.pam, L):
            text = w.patient if strand == "+" else reverse_complement(w.patient)
            for i in [k for k in range(len(text)) if text.startswith(proto, k)]:
                # forward index of the changed base, in this strand's coordinates
                changed = w.changed[0] if strand == "+" else len(text) - 1 - w.changed[0]
                q = changed - i + 1  # protospacer position
                cut_after = L - 3
                dist = cut_after - q + 1 if q <= cut_after else q - cut_after
                if dist <= 10:
                    expected.add((strand, proto))
    assert found == expected
    if (
        cas != "sacas9"
    ):  # the fixture has no NNGRRT near either variant; see the synthetic test below
        assert {d.strand for d in designs} == {"+", "-"}
    assert all(
        d.mechanism_class == MechanismClass.works_around and d.cut_distance <= 10 for d in designs
    )


@pytest.mark.parametrize(("name", "conv"), [("abe8e", ("A", "G")), ("be4max", ("C", "T"))])
@pytest.mark.parametrize("cas", sorted(CAS_VARIANTS))
def test_every_pam_and_window_for_base_editors(name: str, conv: tuple[str, str], cas: str) -> None:
    """Random targets: a designed guide always has the variant in the window as the converted base."""
    for variant in (PLUS_VARIANT, MINUS_VARIANT):
        for e in editors_for(name, cas):
            for d in design_guides(REF, variant, [e], None):
                lo, hi = e.editing_window
                assert all(lo <= q <= hi for q in d.variant_positions)
                assert all(d.sequence[q - 1] == conv[0] for q in d.variant_positions)
                assert all(d.sequence[b.position - 1] == conv[0] for b in d.bystanders)
                assert all(lo <= b.position <= hi for b in d.bystanders)
                assert len(d.sequence) == e.protospacer_length


@given(
    st.text(alphabet="ACGT", min_size=70, max_size=70),
    st.integers(min_value=25, max_value=45),
    st.sampled_from(["A", "C", "G", "T"]),
    st.tuples(st.integers(1, 6), st.integers(0, 6)),
)
@settings(max_examples=60, deadline=None)
def test_custom_window_designs_are_complete(
    seq: str, pos: int, alt: str, window: tuple[int, int]
) -> None:
    """Against brute force: every NGG site with the variant base (an A on its strand) in a custom window is designed."""
    ref = InMemoryReference({"chr1": seq})
    base = seq[pos - 1]
    if alt == base:
        return
    lo, hi = window[0], window[0] + window[1]
    v = SequenceVariant("chr1", pos, base, alt)
    e = editor("abe8e", window=(lo, hi))
    got = {(d.strand, d.sequence) for d in design_guides(ref, v, [e], None)}
    patient = seq[: pos - 1] + alt + seq[pos:]
    expected = set()
    for strand, proto in _brute_force_sites(patient, "NGG", 20):
        text = patient if strand == "+" else reverse_complement(patient)
        changed = pos - 1 if strand == "+" else len(text) - pos
        for i in [k for k in range(len(text)) if text.startswith(proto, k)]:
            q = changed - i + 1
            if lo <= q <= hi and proto[q - 1] == "A" and 1 <= q <= 20:
                expected.add((strand, proto))
    assert got == expected


def test_cbe_works_around_when_the_conversion_does_not_restore() -> None:
    # patient T (ref A) on the plus strand read by a C>T editor cannot act; on a G>A variant's
    # minus strand the patient base is T too; so build a C variant: ref G -> alt C, CBE makes T
    seq = "T" * 10 + "GTCAGGCTCGTTCGGATCCT" + "TGG" + "T" * 10
    ref = InMemoryReference({"chr1": seq})
    v = SequenceVariant("chr1", 16, "G", "C")  # protospacer position 6
    [d] = [x for x in design_guides(ref, v, editors_for("be4max"), None) if x.strand == "+"]
    assert d.mechanism_class == MechanismClass.works_around and d.variant_positions == (6,)
    assert d.consequence.startswith("compensatory change")


def test_verify_a_given_guide_gives_the_same_row_as_the_design() -> None:
    [d] = design_guides(REF, PLUS_VARIANT, editors_for("abe8e"), ANN["NM_PLUS.1"], "abe8e")
    v = guide_design(REF, PLUS_VARIANT, d.sequence, editor("abe8e"), ANN["NM_PLUS.1"], "abe8e-1")
    assert v.row() == d.row()
    bad = guide_design(REF, PLUS_VARIANT, "A" * 20, editor("abe8e"), ANN["NM_PLUS.1"])
    assert bad.status == CheckStatus.not_met and bad.mechanism_class is None


def test_gc_and_poly_t() -> None:
    assert gc_fraction("GGCCAT") == pytest.approx(4 / 6)
    assert longest_run("ATTTTG", "T") == 4
    d = guide_design(
        InMemoryReference({"chr1": "A" * 10 + "GTCATTTTCGTTCGGATCCT" + "TGG" + "A" * 10}),
        SequenceVariant("chr1", 13, "C", "A"),
        "GTAATTTTCGTTCGGATCCT",
        editor("spcas9"),
    )
    assert d.poly_t and d.row()["poly_t"] == "yes"
    assert d.gc == pytest.approx(8 / 20)


def test_bad_pam_and_guide_letters() -> None:
    with pytest.raises(UsageError, match=r"PAM: found 'NGZ' with Z, expected IUPAC"):
        parse_pam("NGZ")
    with pytest.raises(UsageError, match="PAM"):
        editors_for("abe8e", pam="NG-G")
    with pytest.raises(UsageError, match=r"spacer: found 'GTCAGXCTCG"):
        guide_design(REF, PLUS_VARIANT, "GTCAGXCTCGTTCGGATCCT", editor("abe8e"))
    with pytest.raises(UsageError, match="editor: found 'prime'"):
        editors_for("prime")
    assert editors_for("abe8e", pam="sacas9")[0].pam == "NNGRRT"
    assert [e.pam for e in editors_for("abe8e", "spry")] == ["NRN", "NYN"]
    assert editors_for("abe8e", pam="nngrrt", window=(3, 12))[0].editing_window == (3, 12)


@pytest.mark.parametrize("strand", ["+", "-"])
def test_sacas9_abe_on_each_strand(strand: str) -> None:
    """A 21-nt protospacer followed by NNGRRT: the variant at position 6 of the window 4-8, by hand."""
    proto = (
        "CTGCTAGCTCGTTCGGATCCA"  # 21 nt, A at position 6 (the patient's base), no other A in 4-8
    )
    plus = "T" * 12 + proto + "CAGAAT" + "T" * 12
    site = plus if strand == "+" else reverse_complement(plus)
    reference_site = (
        site.replace(proto, proto[:5] + "G" + proto[6:])
        if strand == "+"
        else reverse_complement(plus.replace(proto, proto[:5] + "G" + proto[6:]))
    )
    ref = InMemoryReference({"chr1": reference_site})
    pos = 12 + 6 if strand == "+" else len(plus) - (12 + 6) + 1
    ref_base = reference_site[pos - 1]
    v = SequenceVariant("chr1", pos, ref_base, "A" if strand == "+" else "T")
    designs = design_guides(ref, v, editors_for("abe8e", "sacas9"), None)
    [d] = [x for x in designs if x.sequence == proto]
    assert (d.strand, d.pam, d.variant_positions, d.mechanism_class) == (
        strand,
        "CAGAAT",
        (6,),
        MechanismClass.corrects,
    )
    assert d.bystanders == ()
