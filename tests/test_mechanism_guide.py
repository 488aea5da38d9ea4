"""Guide verification against hand-built sequences (tests/fixtures/mechanism/README.md) and random constructs.

Window convention: ABE8e-like editors edit protospacer positions 4-8 counted from the PAM-distal
end (a convention of the base-editing literature, so the expected positions are counted by hand).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pmpath.errors import AnalysisError
from pmpath.mechanism import (
    CheckStatus,
    Editor,
    FastaReference,
    InMemoryReference,
    MechanismClass,
    SequenceVariant,
    reverse_complement,
    scan_both_strands,
    verify_guide,
)

FIXTURE = Path(__file__).parent / "fixtures" / "mechanism" / "targets.fa"
ABE = Editor(edit_from="A", edit_to="G")
CBE = Editor(edit_from="C", edit_to="T")
SPACER = "GTCAGACTCGTTCGGATCCT"  # the patient's protospacer at chrX:1031-1050 with chrX:1036 G>A


@pytest.fixture(scope="module")
def ref() -> FastaReference:
    return FastaReference(FIXTURE)


def test_abe_corrects_on_the_plus_strand(ref: FastaReference) -> None:
    r = verify_guide(ref, SequenceVariant("chrX", 1036, "G", "A"), SPACER, ABE)
    assert r.status == CheckStatus.met and r.mechanism_class == MechanismClass.corrects
    h = r.hit
    assert (h.strand, h.protospacer_start, h.protospacer_end, h.pam, h.pam_start, h.pam_end) == (
        "+",
        1031,
        1050,
        "TGG",
        1051,
        1053,
    )
    assert h.mismatches == () and len(r.perfect_hits) == 1
    assert r.variant_positions == (6,) and r.in_window
    assert (r.variant_bases, r.reference_bases, r.restores_reference) == ("A", "G", True)
    # the other A in the window, position 4 = chrX:1034
    assert [(b.position, b.base, b.genomic_position) for b in r.bystanders] == [(4, "A", 1034)]
    assert r.edited_protospacer == "GTCGGGCTCGTTCGGATCCT"
    # on the reference allele the guide has one mismatch, at position 6
    [mm] = r.reference_hit.mismatches
    assert (mm.position, mm.guide_base, mm.target_base, mm.genomic_position) == (6, "A", "G", 1036)


def test_abe_corrects_on_the_minus_strand(ref: FastaReference) -> None:
    # chr2 is the reverse complement of chrX:1001-1080, chr2:q <-> chrX:1581-q
    r = verify_guide(ref, SequenceVariant("chr2", 545, "C", "T"), SPACER, ABE)
    assert r.status == CheckStatus.met and r.mechanism_class == MechanismClass.corrects
    h = r.hit
    assert (h.strand, h.protospacer_start, h.protospacer_end, h.pam, h.pam_start, h.pam_end) == (
        "-",
        531,
        550,
        "TGG",
        528,
        530,
    )
    assert r.variant_positions == (6,)
    assert [(b.position, b.genomic_position) for b in r.bystanders] == [(4, 547)]


def test_variant_outside_the_window(ref: FastaReference) -> None:
    r = verify_guide(
        ref,
        SequenceVariant("chrX", 1036, "G", "A"),
        SPACER,
        Editor(editing_window=(7, 9), edit_from="A", edit_to="G"),
    )
    assert r.status == CheckStatus.not_met and not r.in_window
    assert "position 6, outside the editing window 7-9" in r.reason


def test_editor_that_cannot_convert_the_variant_base(ref: FastaReference) -> None:
    r = verify_guide(ref, SequenceVariant("chrX", 1036, "G", "A"), SPACER, CBE)
    assert r.status == CheckStatus.not_met and r.mechanism_class is None
    assert "is A on the protospacer strand, expected C" in r.reason


def test_edit_to_something_other_than_the_reference_works_around(ref: FastaReference) -> None:
    # chrX:1037 is C (protospacer position 7); patient A there, A>G gives G, not C
    r = verify_guide(ref, SequenceVariant("chrX", 1037, "C", "A"), "GTCAGGATCGTTCGGATCCT", ABE)
    assert r.status == CheckStatus.met and r.mechanism_class == MechanismClass.works_around
    assert r.variant_positions == (7,) and r.restores_reference is False
    assert [b.position for b in r.bystanders] == [4]


def test_spacer_with_one_mismatch_is_not_met(ref: FastaReference) -> None:
    spacer = SPACER[:10] + "A" + SPACER[11:]  # position 11 (chrX:1041, a T) changed to A
    r = verify_guide(ref, SequenceVariant("chrX", 1036, "G", "A"), spacer, ABE)
    assert r.status == CheckStatus.not_met and r.perfect_hits == ()
    [mm] = r.hit.mismatches
    assert (mm.position, mm.guide_base, mm.target_base, mm.genomic_position) == (11, "A", "T", 1041)
    assert "1 mismatch(es) at protospacer position 11 (A>T)" in r.reason


def test_wrong_pam_is_not_met(ref: FastaReference) -> None:
    r = verify_guide(
        ref,
        SequenceVariant("chrX", 1036, "G", "A"),
        SPACER,
        Editor(pam="NAA", edit_from="A", edit_to="G"),
    )
    assert r.status == CheckStatus.not_met
    assert r.hit.protospacer_start == 1031 and not r.hit.pam_matches and r.hit.pam == "TGG"
    assert "PAM TGG does not match NAA" in r.reason


def test_nuclease_cut_distance(ref: FastaReference) -> None:
    # SpCas9 cuts between positions 17 and 18; position 6 is 17 - 6 + 1 = 12 bp away
    far = verify_guide(ref, SequenceVariant("chrX", 1036, "G", "A"), SPACER, Editor())
    assert far.status == CheckStatus.not_met and far.cut_distance == 12
    near_enough = verify_guide(
        ref, SequenceVariant("chrX", 1036, "G", "A"), SPACER, Editor(max_cut_distance=12)
    )
    assert (
        near_enough.status == CheckStatus.met
        and near_enough.mechanism_class == MechanismClass.works_around
    )
    assert any("HDR" in n for n in near_enough.notes)


def test_nuclease_next_to_the_cut_is_allele_selective(ref: FastaReference) -> None:
    # chrX:1047 is T at position 17, the last base before the cut
    r = verify_guide(ref, SequenceVariant("chrX", 1047, "T", "C"), "GTCAGGCTCGTTCGGACCCT", Editor())
    assert r.status == CheckStatus.met and r.cut_distance == 1 and r.variant_positions == (17,)
    assert [m.position for m in r.reference_hit.mismatches] == [17]
    assert not any("not allele-selective" in n for n in r.notes)


def test_guide_matching_both_alleles_is_flagged(ref: FastaReference) -> None:
    # the variant lies outside the protospacer, so the guide matches the reference allele too
    r = verify_guide(
        ref,
        SequenceVariant("chrX", 1060, "G", "A"),
        "GTCAGGCTCGTTCGGATCCT",
        Editor(max_cut_distance=20),
    )
    assert r.variant_positions == (
        30,
    )  # chrX:1060 is 13 bases past position 17, 10 past the protospacer
    assert r.status == CheckStatus.met and r.cut_distance == 13
    assert any("not allele-selective" in n for n in r.notes)


def test_deletion_with_base_editor_and_nuclease(ref: FastaReference) -> None:
    # chrX:1039 CG>C deletes G at 1040; the PAM-adjacent protospacer then spans 1030-1050 (one base gone)
    deletion = SequenceVariant("chrX", 1039, "CG", "C")
    spacer = "A" + "GTCAGGCTC" + "TTCGGATCCT"
    r = verify_guide(ref, deletion, spacer, ABE)
    assert r.status == CheckStatus.not_met and "deletion" in r.reason
    assert (r.hit.protospacer_start, r.hit.protospacer_end, r.hit.pam) == (1030, 1050, "TGG")
    n = verify_guide(ref, deletion, spacer, Editor())
    # junction bases chrX:1039 and 1041 sit at positions 10 and 11; the nearer, 11, is 17 - 11 + 1 = 7 bp from the cut
    assert n.variant_positions == (10, 11) and n.cut_distance == 7 and n.status == CheckStatus.met


def test_shorter_spacer_keeps_positions_anchored_to_the_pam(ref: FastaReference) -> None:
    r = verify_guide(ref, SequenceVariant("chrX", 1036, "G", "A"), SPACER[1:], ABE)
    assert r.status == CheckStatus.met and r.variant_positions == (6,)
    assert r.hit.protospacer_start == 1032
    assert any("19 nt" in n for n in r.notes)


def test_reference_problems_raise_analysis_errors(ref: FastaReference) -> None:
    with pytest.raises(AnalysisError, match="expected the variant's ref allele 'A'"):
        verify_guide(ref, SequenceVariant("chrX", 1036, "A", "G"), SPACER, ABE)
    with pytest.raises(AnalysisError, match="not covered"):
        verify_guide(ref, SequenceVariant("chrX", 5000, "A", "G"), SPACER, ABE)


def test_alignment_marks_window_and_variant(ref: FastaReference) -> None:
    lines = verify_guide(
        ref, SequenceVariant("chrX", 1036, "G", "A"), SPACER, ABE
    ).alignment_lines()
    text = "\n".join(lines)
    assert "5'-GTCAGACTCGTTCGGATCCT TGG-3'" in text
    window = next(line for line in lines if line.startswith("window"))
    variant = next(line for line in lines if line.startswith("variant"))
    patient = next(line for line in lines if line.startswith("patient"))
    first = patient.index("5'-") + 3  # column of protospacer position 1
    assert window.index("^") == first + 3 and window.rstrip().endswith("^" * 5)
    assert variant.index("*") == first + 5


def test_editor_validation() -> None:
    with pytest.raises(ValueError, match="editing_window"):
        Editor(editing_window=(0, 5))
    with pytest.raises(ValueError, match="both set"):
        Editor(edit_from="A")
    with pytest.raises(ValueError, match="IUPAC"):
        Editor(pam="NGX")


# ----------------------------------------------------------------------------- properties

bases = st.sampled_from("ACGT")
flank = st.text(alphabet="ACGT", min_size=50, max_size=70)


def _count_sites(seq: str, spacer: str) -> int:
    """Occurrences of spacer + NGG on either strand (an independent regex count)."""
    pattern = re.compile(f"(?={spacer}[ACGT]GG)")
    return len(pattern.findall(seq)) + len(pattern.findall(reverse_complement(seq)))


@settings(max_examples=60, deadline=None)
@given(
    left=flank,
    right=flank,
    spacer=st.text(alphabet="ACGT", min_size=20, max_size=20),
    pam_n=bases,
    k=st.integers(0, 19),
    ref_shift=st.integers(1, 3),
    minus=st.booleans(),
)
def test_guide_cut_from_a_random_sequence_is_found_where_it_was_cut(
    left, right, spacer, pam_n, k, ref_shift, minus
) -> None:
    patient_fwd = left + spacer + pam_n + "GG" + right
    assume(_count_sites(patient_fwd, spacer) == 1)
    ref_base = "ACGT"[("ACGT".index(spacer[k]) + ref_shift) % 4]
    reference_fwd = left + spacer[:k] + ref_base + spacer[k + 1 :] + pam_n + "GG" + right
    n, start = len(patient_fwd), 1001
    # the protospacer's k-th base sits at forward index len(left) + k of the construct
    idx = len(left) + k
    if minus:  # lay the construct on the minus strand of the record
        reference_seq = reverse_complement(reference_fwd)
        pos, ref_allele, alt = (
            start + n - 1 - idx,
            reverse_complement(ref_base),
            reverse_complement(spacer[k]),
        )
        proto = (start + n - len(left) - 20, start + n - 1 - len(left))
    else:
        reference_seq = reference_fwd
        pos, ref_allele, alt = start + idx, ref_base, spacer[k]
        proto = (start + len(left), start + len(left) + 19)
    reference = InMemoryReference({f"chr7:{start}-{start + n - 1}": reference_seq})
    r = verify_guide(
        reference,
        SequenceVariant("chr7", pos, ref_allele, alt),
        spacer,
        Editor(max_cut_distance=20),
    )
    assert r.status == CheckStatus.met
    assert (r.hit.strand, r.hit.protospacer_start, r.hit.protospacer_end) == (
        "-" if minus else "+",
        *proto,
    )
    assert r.variant_positions == (k + 1,)
    assert r.hit.protospacer == spacer and r.hit.pam == pam_n + "GG"


@settings(max_examples=60, deadline=None)
@given(
    left=st.text(alphabet="ACGT", max_size=30),
    right=st.text(alphabet="ACGT", max_size=30),
    spacer=st.text(alphabet="ACGT", min_size=20, max_size=20),
    k=st.integers(0, 19),
    shift=st.integers(1, 3),
    minus=st.booleans(),
)
def test_single_substitution_gives_one_mismatch_at_its_position(
    left, right, spacer, k, shift, minus
) -> None:
    site = spacer + "AGG"
    seq = left + (reverse_complement(site) if minus else site) + right
    mutated = spacer[:k] + "ACGT"[("ACGT".index(spacer[k]) + shift) % 4] + spacer[k + 1 :]
    placements = scan_both_strands(seq, mutated, "NGG")
    start = len(left) + (3 if minus else 0)
    [p] = [p for p in placements if p.strand == ("-" if minus else "+") and p.start == start]
    assert p.mismatches == (k,) and p.suffix_mismatches == ()
