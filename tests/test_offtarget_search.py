"""The off-target search against a brute-force search written here from strings, planted sites, CRISPOR's
CFD examples, and a real genome (E. coli, Debian's bowtie-examples) against a numpy sliding-window count."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmpath.errors import UsageError
from pmpath.mechanism.offtarget import (
    Genome,
    Guide,
    SearchSettings,
    cfd_score,
    mit_score,
    read_genome,
    read_guides,
    search_offtargets,
    summarize_sites,
)
from pmpath.mechanism.sequence import IUPAC, reverse_complement

ECOLI_CANDIDATES = (
    Path("/usr/share/doc/bowtie/examples/genomes/NC_008253.fna.gz"),
    Path(__file__).resolve().parents[1]
    / ".venv/testdata/usr/share/doc/bowtie/examples/genomes/NC_008253.fna.gz",
)


# --------------------------------------------------------------------------- brute force


def _pam_ok(bases: str, pattern: str) -> bool:
    return len(bases) == len(pattern) and all(
        b in IUPAC[p] for b, p in zip(bases, pattern, strict=True)
    )


def _mismatch_count(ag: str, asite: str) -> int:
    return sum(g != s for g, s in zip(ag, asite, strict=True) if g != "-" and s != "-")


def brute_force(seqs: dict[str, str], guide: str, st_: SearchSettings) -> dict:
    """Every locus's best alignment by enumerating every alignment as strings: {locus: (ag, asite, cfd)}."""
    L, pams = len(guide), st_.pams
    P = len(pams[0])
    found = {}
    for chrom, plus in seqs.items():
        n = len(plus)
        for strand, s in (("+", plus), ("-", reverse_complement(plus))):
            for e in range(L, n - P + 1):
                pam = s[e : e + P]
                which = next((k for k, pat in enumerate(pams) if _pam_ok(pam, pat)), None)
                if which is None:
                    continue
                options = []
                site = s[e - L : e]
                if "N" not in site:
                    options.append((guide, site, 0, 0, 0, 0))
                for d in range(1, st_.dna_bulge + 1):
                    if e - L - d < 0:
                        continue
                    site = s[e - L - d : e]
                    for p in range(2, L + 1):
                        ag = guide[: p - 1] + "-" * d + guide[p - 1 :]
                        if "N" not in site:
                            options.append((ag, site, d, 1, p - 1, 0))
                for r in range(1, st_.rna_bulge + 1):
                    site = s[e - L + r : e]
                    for p in range(2, L - r + 2):
                        asite = site[: p - 1] + "-" * r + site[p - 1 :]
                        if "N" not in site:
                            options.append((guide, asite, r, 1, p - 1, 1))
                best = None
                for ag, asite, blen, bulges, col, kind in options:
                    mm = _mismatch_count(ag, asite)
                    if mm > st_.mismatches:
                        continue
                    cfd = cfd_score(ag, asite, pam) if st_.cfd_defined(L) else -1.0
                    key = (mm + blen, bulges, -cfd, col, blen, kind)
                    if best is None or key < best[0]:
                        best = (key, ag, asite, cfd)
                if best is not None:
                    pam_position = e if strand == "+" else n - 1 - e
                    found[(chrom, strand, pam_position)] = (best[1], best[2] + pam, best[3])
    return found


def _as_found(frame, guide_name: str) -> dict:
    own = frame[frame["guide"] == guide_name]
    return {
        (r.chrom, r.strand, int(r.pam_position)): (
            r.aligned_guide[:-3],
            r.aligned_site,
            -1.0 if np.isnan(r.cfd) else r.cfd,
        )
        for r in own.itertuples()
    }


def _random_genome(rng, n: int) -> str:
    return "".join(rng.choice(list("ACGT"), n))


def _equal(found: dict, expected: dict) -> None:
    assert set(found) == set(expected)
    for key, (ag, asite, cfd) in expected.items():
        got = found[key]
        assert got[0] == ag, key
        assert got[1] == asite, key
        assert got[2] == pytest.approx(cfd, rel=1e-12, abs=1e-15), key


# --------------------------------------------------------------------------- scores


def test_cfd_reproduces_crispor_examples():
    # crispor.py's own calcCfdScore examples (23-mers: 20-nt protospacer + PAM)
    assert cfd_score("G" * 20, "G" * 17 + "AAA", "AGG") == pytest.approx(
        0.4635989007074176, rel=1e-12
    )
    assert cfd_score("G" * 20, "AAAAGAGA" + "G" * 12, "GGG") == pytest.approx(
        0.5140384614450001, rel=1e-12
    )
    assert cfd_score("ACGT" * 5, "ACGT" * 5, "TGG") == 1.0


def test_mit_score_known_values():
    guide = "ACGTACGTACGTACGTACGT"
    assert mit_score(guide, guide) == 100.0
    # one mismatch at position 20 (PAM-proximal): (1 - 0.583) * 100, single mismatch: no distance term
    site = guide[:19] + "A"
    assert mit_score(guide, site) == pytest.approx(41.7, rel=1e-12)
    # two mismatches at positions 1 and 20: penalties 0 and 0.583, mean distance 19, /n^2 = 4
    site2 = "C" + guide[1:19] + "A"
    assert mit_score(guide, site2) == pytest.approx((1 - 0.583) * (1 / 1.0) * 0.25 * 100, rel=1e-12)
    assert mit_score(guide, site, pam="NAG") is None
    assert mit_score(guide, guide[:19]) is None


# --------------------------------------------------------------------------- brute force equality


@pytest.mark.parametrize("budget", [(4, 0, 0), (3, 1, 1), (2, 2, 2)])
def test_search_equals_brute_force_on_a_small_genome(budget):
    rng = np.random.default_rng(11)
    seqs = {"c1": _random_genome(rng, 2500), "c2": _random_genome(rng, 900)}
    guide = "GACGCATAAAGATGAGACGC"
    # plant a few near-sites so the budget matters
    seqs["c1"] = seqs["c1"][:300] + guide[:8] + "T" + guide[8:] + "AGG" + seqs["c1"][324:]
    seqs["c2"] = (
        seqs["c2"][:200]
        + reverse_complement(guide[:5] + "A" + guide[6:] + "TGG")
        + seqs["c2"][223:]
    )
    mm, d, r = budget
    st_ = SearchSettings(mismatches=mm, dna_bulge=d, rna_bulge=r)
    frame = search_offtargets(Genome.from_strings(seqs), [Guide("g", guide)], st_, threads=2)
    _equal(_as_found(frame, "g"), brute_force(seqs, guide, st_))
    assert not frame.duplicated(["guide", "chrom", "strand", "pam_position"]).any()


def test_alternative_pams_equal_brute_force_with_their_cfd_penalty():
    rng = np.random.default_rng(5)
    guide = "TTGACCAGTCAGGATCAAGC"
    seqs = {"c": _random_genome(rng, 1500)}
    seqs["c"] = seqs["c"][:100] + guide + "CAG" + seqs["c"][123:]
    st_ = SearchSettings(mismatches=3, dna_bulge=1, rna_bulge=0, alt_pams=("NAG", "NGA"))
    frame = search_offtargets(Genome.from_strings(seqs), [Guide("g", guide)], st_)
    _equal(_as_found(frame, "g"), brute_force(seqs, guide, st_))
    exact = frame[(frame["mismatches"] == 0) & (frame["dna_bulge"] == 0)]
    assert list(exact["pam"]) == ["CAG"]
    assert exact["cfd"].iloc[0] == pytest.approx(0.25925925899999996)  # the CFD table's AG PAM


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    genome=st.text(alphabet="ACGTN", min_size=0, max_size=160),
    guide=st.text(alphabet="ACGT", min_size=20, max_size=20),
    plant=st.booleans(),
)
def test_search_equals_brute_force_property(genome, guide, plant):
    if plant:
        genome = genome[: len(genome) // 2] + guide + "GGG" + genome[len(genome) // 2 :]
    seqs = {"c": genome} if genome else {"c": "A"}
    st_ = SearchSettings(mismatches=5, dna_bulge=1, rna_bulge=1)
    frame = search_offtargets(Genome.from_strings(seqs), [Guide("g", guide)], st_, threads=1)
    _equal(_as_found(frame, "g"), brute_force(seqs, guide, st_))


# --------------------------------------------------------------------------- planted sites


def _mutate(rng, guide: str, k: int) -> str:
    where = rng.choice(20, size=k, replace=False)
    bases = list(guide)
    for w in where:
        bases[w] = rng.choice([b for b in "ACGT" if b != bases[w]])
    return "".join(bases)


def test_planted_sites_are_all_found_on_both_strands():
    rng = np.random.default_rng(2024)
    guides = [Guide(f"g{i}", _random_genome(rng, 20)) for i in range(3)]
    background = list(_random_genome(rng, 400_000))
    planted = []
    pos = 1000
    for guide in guides:
        for k, (kind, length) in itertools.product(
            range(5), [("none", 0), ("dna", 1), ("dna", 2), ("rna", 1), ("rna", 2)]
        ):
            if kind != "none" and k > 2:
                continue  # a bulge plus at most 2 mismatches keeps edits within the default budget
            proto = _mutate(rng, guide.spacer, k)
            if kind == "dna":
                cut = int(rng.integers(5, 15))
                proto = proto[:cut] + _random_genome(rng, length) + proto[cut:]
            elif kind == "rna":
                cut = int(rng.integers(5, 15))
                proto = proto[:cut] + proto[cut + length :]
            site = proto + "TGG"
            strand = "+" if len(planted) % 2 == 0 else "-"
            text = site if strand == "+" else reverse_complement(site)
            background[pos : pos + len(text)] = list(text)
            pam_position = pos + len(proto) if strand == "+" else pos + 2
            planted.append((guide.name, strand, pam_position, k, kind, length))
            pos += 3000
    seqs = {"chrP": "".join(background)}
    st_ = SearchSettings(mismatches=4, dna_bulge=2, rna_bulge=2)
    frame = search_offtargets(Genome.from_strings(seqs), guides, st_)
    index = {(r.guide, r.strand, int(r.pam_position)): r for r in frame.itertuples()}
    for name, strand, pam_position, k, _kind, length in planted:
        row = index.get((name, strand, pam_position))
        assert row is not None, (name, strand, pam_position)
        edits = row.mismatches + row.dna_bulge + row.rna_bulge
        assert edits <= k + length  # the best alignment is never worse than the planted one


# --------------------------------------------------------------------------- summary, inputs


def test_summary_counts_and_crispor_specificity():
    rng = np.random.default_rng(3)
    guide = "GACGCATAAAGATGAGACGC"
    seqs = {"c": _random_genome(rng, 3000)}
    one_mm = guide[:19] + ("A" if guide[19] != "A" else "C")
    seqs["c"] = (
        seqs["c"][:100] + guide + "AGG" + seqs["c"][123:500] + one_mm + "CGG" + seqs["c"][523:]
    )
    st_ = SearchSettings(mismatches=2, dna_bulge=0, rna_bulge=0)
    frame = search_offtargets(Genome.from_strings(seqs), [Guide("g", guide)], st_)
    summary = summarize_sites(frame, [Guide("g", guide)], st_).iloc[0]
    counts = [int((frame["mismatches"] == k).sum()) for k in range(3)]
    assert summary["mismatch_counts"] == "-".join(map(str, counts))
    assert counts[0] == 1 and counts[1] >= 1
    off = frame[frame["mismatches"] > 0]
    assert summary["cfd_specificity"] == pytest.approx(100 / (1 + off["cfd"].sum()))
    assert summary["mit_specificity"] == pytest.approx(10000 / (100 + off["mit"].sum()))


def test_bad_guides_and_pams_and_genomes(tmp_path):
    bad = tmp_path / "guides.tsv"
    bad.write_text("name\tspacer\ng1\tACGTACGTACGTACGTACGX\n")
    with pytest.raises(UsageError, match=r"line 2.*'g1'.*A, C, G, T"):
        read_guides(bad)
    with pytest.raises(UsageError, match="IUPAC"):
        SearchSettings(pam="NGZ")
    notfasta = tmp_path / "g.fa"
    notfasta.write_text("hello\nACGT\n")
    with pytest.raises(UsageError, match=r"line 1.*'>'"):
        read_genome(notfasta)
    badletter = tmp_path / "b.fa"
    badletter.write_text(">c1 desc\nACGT\nAC1T\n")
    with pytest.raises(UsageError, match=r"'c1', line 3: found '1'"):
        read_genome(badletter)


def test_genome_reads_gzip_and_first_word(tmp_path):
    path = tmp_path / "g.fa.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(">chrA some description\nACGTN\nacgt\n>chrB\nGG\n")
    genome = read_genome(path)
    assert genome.names == ["chrA", "chrB"]
    assert genome.fetch("chrA", 0, 9) == "ACGTNACGT"


# --------------------------------------------------------------------------- a real genome


def _ecoli() -> Path | None:
    return next((p for p in ECOLI_CANDIDATES if p.exists()), None)


def _numpy_mismatch_sites(codes: np.ndarray, guide: str, max_mm: int) -> set[tuple[str, int]]:
    """Mismatch-only NGG sites by sliding windows in numpy (strand, pam_position)."""
    from numpy.lib.stride_tricks import sliding_window_view

    g = np.array(["ACGT".index(b) for b in guide], dtype=np.uint8)
    out = set()
    n = codes.size
    for strand, seq in (("+", codes), ("-", np.array([3, 2, 1, 0, 4], np.uint8)[codes[::-1]])):
        windows = sliding_window_view(seq, 23)
        pam_ok = (windows[:, 21] == 2) & (windows[:, 22] == 2) & (windows[:, 20] < 4)
        proto = windows[pam_ok, :20]
        mm = (proto != g).sum(axis=1)
        clean = (proto < 4).all(axis=1)
        starts = np.flatnonzero(pam_ok)[(mm <= max_mm) & clean]
        for s in starts:
            e = int(s) + 20
            out.add((strand, e if strand == "+" else n - 1 - e))
    return out


@pytest.mark.skipif(
    _ecoli() is None, reason="Debian's bowtie-examples (E. coli genome) is not installed"
)
def test_ecoli_genome_mismatch_only_equals_numpy():
    genome = read_genome(_ecoli())
    chrom = genome.names[0]
    codes = genome[chrom]
    rng = np.random.default_rng(8)
    guides = []
    for i in range(3):  # real protospacers of the genome followed by NGG
        while True:
            s = int(rng.integers(0, codes.size - 23))
            text = genome.fetch(chrom, s, s + 23)
            if text.endswith("GG") and "N" not in text:
                guides.append(Guide(f"eco{i}", text[:20]))
                break
    st_ = SearchSettings(mismatches=4, dna_bulge=0, rna_bulge=0)
    frame = search_offtargets(genome, guides, st_)
    for guide in guides:
        own = frame[frame["guide"] == guide.name]
        got = {(r.strand, int(r.pam_position)) for r in own.itertuples()}
        assert got == _numpy_mismatch_sites(codes, guide.spacer, 4)
        assert (own["mismatches"] == 0).sum() >= 1  # its own locus
