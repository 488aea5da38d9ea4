"""The sequencing-read quantifier against the simulator's exact truth and brute-force alignments."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from pmpath.engagement.align import DELETION, AmpliconIndex, align_batch
from pmpath.engagement.amplicon import Amplicon, design_target, reverse_complement
from pmpath.engagement.fastq import BASE_CODES
from pmpath.engagement.quantify import CLASSES, quantify
from pmpath.engagement.simulate import simulate_reads, write_fastq
from pmpath.errors import UsageError

DATA = Path("/work/shared/data/crispresso2")
if not DATA.is_dir():  # the lead's copy of the shared data
    DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "crispresso2"

ABE = json.loads((DATA / "abe_minus_strand" / "case.json").read_text()) if DATA.is_dir() else None
FANCF_AMPLICON = (
    "CGGATGTTCCAATCAGTACGCAGAGAGTCGCCGTCTCCAAGGTGAAAGCGGAAGTAGGGCCTTCGCGCACCTCATGGAATCCCTTCTGCAGCACCT"
    "GGATCGCTTTTCCGAGCTTCTGGCGGTCTCAAGCACTACCTACGTCAGCACCTGGGACCCCGCCACCGTGCGCCGGGCCTTGCAGTGGGCGCGCTAC"
    "CTGCGCCACATCCATCGGCGCTTTGGTCGG"
)
FANCF_GUIDE = "GGAATCCCTTCTGCAGCACC"
needs_data = pytest.mark.skipif(ABE is None, reason="shared CRISPResso2 data not present")


def _abe_target(window="1-20"):
    return design_target(Amplicon("amp", ABE["amplicon"]), ABE["guide"], "abe", window=window)


def _run(tmp_path, sim, target, paired=False, **kw):
    r1 = write_fastq(tmp_path / "r1.fastq.gz", sim.r1)
    r2 = write_fastq(tmp_path / "r2.fastq", sim.r2) if paired else None
    return quantify(r1, r2, targets=[target], per_read=True, **kw)


def _assert_exact(q, sim):
    a = q.amplicons[0]
    truth = collections.Counter(sim.classes)
    got = dict(a.classes, not_aligned=q.not_aligned)
    assert {c: got[c] for c in CLASSES} == {c: truth.get(c, 0) for c in CLASSES}
    assert [r[1] for r in q.reads] == sim.classes
    np.testing.assert_array_equal(a.counts, sim.counts)
    np.testing.assert_array_equal(a.insertions, sim.insertions)


# --------------------------------------------------------------------------- simulator truth


@needs_data
def test_error_free_single_end_minus_strand_guide_every_class_exact(tmp_path):
    t = _abe_target(window="4-8")
    t = design_target(t.amplicon, ABE["guide"], "abe", window="1-20", intended_positions=[6])
    assert t.strand == "-" and t.bystanders
    sim = simulate_reads(
        t,
        3000,
        intended_fraction=0.4,
        bystander_fraction=0.3,
        indel_fraction=0.3,
        junk_fraction=0.05,
        truncated_fraction=0.05,
        seed=1,
    )
    q = _run(tmp_path, sim, t)
    _assert_exact(q, sim)
    counts = dict(q.amplicons[0].classes)
    for cls in (
        "intended_only",
        "intended_with_bystanders",
        "bystanders_only",
        "indel",
        "truncated",
    ):
        assert counts[cls] > 0, cls


# Mates overlap; mates do not overlap (then the indels near the cut sit a few bases from the first
# mate's end, where a gap cannot pay for itself and any aligner with these scores calls mismatches).
@pytest.mark.parametrize(("read_length", "indels"), [(150, 0.2), (100, 0.0)])
def test_error_free_pairs_plus_strand_cbe_exact(tmp_path, read_length, indels):
    t = design_target(Amplicon("fancf", FANCF_AMPLICON), FANCF_GUIDE, "cbe")
    assert t.strand == "+" and t.editable
    sim = simulate_reads(
        t,
        2000,
        read_length=read_length,
        paired=True,
        indel_fraction=indels,
        junk_fraction=0.03,
        seed=2,
    )
    q = _run(tmp_path, sim, t, paired=True)
    _assert_exact(q, sim)


def test_error_free_nuclease_exact(tmp_path):
    t = design_target(Amplicon("fancf", FANCF_AMPLICON), FANCF_GUIDE, "nuclease")
    sim = simulate_reads(t, 2000, indel_fraction=0.5, truncated_fraction=0.05, seed=3)
    q = _run(tmp_path, sim, t)
    _assert_exact(q, sim)
    assert q.amplicons[0].classes["indel"] > 500


@needs_data
@pytest.mark.slow
def test_noisy_positions_within_a_tenth_of_a_point_of_the_realized_counts(tmp_path):
    t = _abe_target()
    sim = simulate_reads(
        t, 100_000, error_rate=0.01, indel_fraction=0.1, junk_fraction=0.01, seed=4
    )
    q = quantify(write_fastq(tmp_path / "r1.fastq.gz", sim.r1), targets=[t])
    a = q.amplicons[0]
    truth_cov = sim.counts.sum(axis=1)
    assert np.all(np.abs(a.coverage - truth_cov) <= 0.001 * truth_cov)
    pct = 100 * a.counts / a.coverage[:, None]
    truth = 100 * sim.counts / truth_cov[:, None]
    assert np.abs(pct - truth).max() <= 0.1
    k, n, _, _ = a.conversion()
    i = t.intended[0]
    assert abs(100 * k[i] / n[i] - truth[i, "ACGT".index(t.to_base)]) <= 0.1


def test_quality_filters_count_what_they_remove(tmp_path):
    t = design_target(Amplicon("fancf", FANCF_AMPLICON), FANCF_GUIDE, "cbe")
    good = simulate_reads(t, 300, quality_range=(30, 41), seed=5)
    poor = simulate_reads(t, 200, quality_range=(2, 12), seed=6)
    records = good.r1 + [(f"p{i}", s, q) for i, (_, s, q) in enumerate(poor.r1)]
    r1 = write_fastq(tmp_path / "r.fastq", records)
    q = quantify(r1, targets=[t], min_mean_quality=20)
    a = q.amplicons[0]
    assert a.filtered["low_mean_quality"] == 200
    assert a.classified == 300
    q = quantify(r1, targets=[t], min_window_quality=30)
    a = q.amplicons[0]
    assert a.filtered["low_window_quality"] == 200 and a.filtered["low_mean_quality"] == 0


def test_control_correction_matches_fisher_and_benjamini_hochberg(tmp_path):
    t = design_target(Amplicon("fancf", FANCF_AMPLICON), FANCF_GUIDE, "cbe")
    treated = simulate_reads(t, 1500, intended_fraction=0.2, indel_fraction=0, seed=7)
    control = simulate_reads(t, 1500, intended_fraction=0.0, bystander_fraction=0.0, seed=8)
    q = quantify(
        write_fastq(tmp_path / "t.fastq", treated.r1),
        targets=[t],
        control_r1=write_fastq(tmp_path / "c.fastq", control.r1),
    )
    to = "ACGT".index(t.to_base)
    ref = np.array(list(FANCF_AMPLICON))
    tested = np.flatnonzero(ref == t.from_base)
    assert [c.position - 1 for c in q.comparisons] == tested.tolist()
    p = []
    for i in tested:
        a, b = treated.counts[i, to], treated.counts[i].sum()
        c, d = control.counts[i, to], control.counts[i].sum()
        p.append(stats.fisher_exact([[a, b - a], [c, d - c]], alternative="greater").pvalue)
    p = np.array(p)
    np.testing.assert_allclose([c.p_value for c in q.comparisons], p, rtol=1e-9)
    order = np.argsort(p)
    m = len(p)
    bh = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    expected_q = np.empty(m)
    expected_q[order] = np.minimum(bh, 1)
    np.testing.assert_allclose([c.q_value for c in q.comparisons], expected_q, rtol=1e-9)
    edited = {i + 1 for i in t.intended}
    assert {c.position for c in q.comparisons if c.different} == edited


# --------------------------------------------------------------------------- alignment


def _encode(reads):
    offsets = np.zeros(len(reads) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in reads], out=offsets[1:])
    seq = BASE_CODES[np.frombuffer("".join(reads).encode(), dtype=np.uint8)]
    return seq, np.full(len(seq), 30, dtype=np.uint8), offsets


def _leftmost_deletion(ref: str, s: int, e: int) -> int:
    read = ref[:s] + ref[e:]
    size = e - s
    return min(k for k in range(len(ref) - size + 1) if ref[:k] + ref[k + size :] == read)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    amp=st.text(alphabet="ACGT", min_size=120, max_size=160),
    start=st.integers(30, 80),
    size=st.integers(1, 12),
    reverse=st.booleans(),
)
def test_deletions_are_left_aligned_like_brute_force(amp, start, size, reverse):
    index = AmpliconIndex.build([Amplicon("a", amp)])
    read = amp[:start] + amp[start + size :]
    if reverse:
        read = reverse_complement(read)
    a = align_batch(index, *_encode([read]))
    if a.amplicon[0] < 0:  # a low-complexity amplicon without unique seeds
        return
    row = a.codes[0][: len(amp)]
    deleted = np.flatnonzero(row == DELETION)
    if len(deleted) == size and np.all(np.diff(deleted) == 1):
        assert int(deleted[0]) == _leftmost_deletion(amp, start, start + size)
        assert bool(a.reverse[0]) == reverse


def test_homopolymer_deletion_and_insertion_placed_leftmost():
    rng = np.random.default_rng(0)
    left = "".join(rng.choice(list("ACGT"), 60))
    right = "".join(rng.choice(list("ACGT"), 60))
    amp = left + "C" + "AAAAA" + "G" + right
    index = AmpliconIndex.build([Amplicon("a", amp)])
    a = align_batch(index, *_encode([left + "CAAAAG" + right, left + "CAAAAAAAG" + right]))
    assert np.flatnonzero(a.codes[0] == DELETION).tolist() == [61]
    assert np.flatnonzero(a.insertions[1]).tolist() == [60] and a.insertions[1][60] == 2


def test_amplicon_without_the_guide_is_a_clear_error():
    with pytest.raises(UsageError, match="not in the amplicon on either strand"):
        design_target(Amplicon("x", FANCF_AMPLICON), "ACGTACGTACGTACGTACGT", "abe")


def test_window_counts_from_the_pam_distal_end_on_both_strands():
    plus = design_target(Amplicon("p", FANCF_AMPLICON), FANCF_GUIDE, "abe", window="4-8")
    g0 = FANCF_AMPLICON.index(FANCF_GUIDE)
    assert plus.window_indices == tuple(range(g0 + 3, g0 + 8))
    minus_amp = reverse_complement(FANCF_AMPLICON)
    minus = design_target(Amplicon("m", minus_amp), FANCF_GUIDE, "abe", window="4-8")
    n = len(FANCF_AMPLICON)
    assert minus.strand == "-"
    assert minus.window_indices == tuple(sorted(n - 1 - i for i in plus.window_indices))
    assert (minus.from_base, minus.to_base) == ("T", "C")


def test_conversion_interval_is_the_clopper_pearson_interval(tmp_path):
    from pmpath.engagement.interval import clopper_pearson

    t = design_target(Amplicon("fancf", FANCF_AMPLICON), FANCF_GUIDE, "cbe")
    sim = simulate_reads(t, 500, intended_fraction=0.3, indel_fraction=0, seed=9)
    a = quantify(write_fastq(tmp_path / "r.fastq", sim.r1), targets=[t]).amplicons[0]
    k, n, lo, hi = a.conversion()
    for i in t.editable:
        assert (lo[i], hi[i]) == pytest.approx(clopper_pearson(k[i], n[i]), abs=1e-10)


def test_prime_edit_from_the_pegrna_extension(tmp_path):
    g0 = FANCF_AMPLICON.index(FANCF_GUIDE)
    nick = g0 + 17
    flap = list(FANCF_AMPLICON[nick : nick + 10])
    flap[3] = "A" if flap[3] != "A" else "C"
    extension = reverse_complement("".join(flap)) + reverse_complement(
        FANCF_AMPLICON[nick - 13 : nick]
    )
    t = design_target(
        Amplicon("fancf", FANCF_AMPLICON), FANCF_GUIDE, "prime", pe_extension=extension
    )
    assert t.prime_edits == ((nick + 3, flap[3]),)
    edited = FANCF_AMPLICON[: nick + 3] + flap[3] + FANCF_AMPLICON[nick + 4 :]
    records = [(f"e{i}", edited, "I" * len(edited)) for i in range(30)]
    records += [(f"u{i}", FANCF_AMPLICON, "I" * len(edited)) for i in range(20)]
    a = quantify(write_fastq(tmp_path / "p.fastq", records), targets=[t]).amplicons[0]
    assert a.classes["intended_only"] == 30 and a.classes["unmodified"] == 20
