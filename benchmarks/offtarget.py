"""Benchmark: the genome-wide off-target search against Cas-OFFinder's measured times.

Measured on this project's 2-core machines: Cas-OFFinder 2.4.1 (OpenCL on the CPU) searched a 100 Mb
genome for 10 guides with up to 4 mismatches (NGG) in 5.6 s (326 MB); Cas-OFFinder 3.0 with one DNA
and one RNA bulge took 158 s. Targets: at most 5.6 s without bulges, 16 s with, under 1 GB, cost
linear in genome size and guides.

The genome is synthetic (uniform random bases with 2% N runs and planted near-sites of each guide),
written as FASTA so reading it is measured too; the "index" is the encoded genome (one byte per base),
built once and timed apart from the search.

    python benchmarks/offtarget.py            # 25, 50, 100 Mb
    python benchmarks/offtarget.py --sizes 100 --guides 10
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from pmpath.mechanism.offtarget import Guide, SearchSettings, read_genome, search_offtargets
from pmpath.mechanism.offtarget.genome import Genome, decode

CAS_OFFINDER_MISMATCH_S = 5.6
CAS_OFFINDER_BULGE_S = 158.0
HUMAN_BASES = 3.1e9


def write_genome(path: Path, size: int, guides: list[str], seed: int) -> None:
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)[
        rng.integers(0, 4, size, dtype=np.uint8)
    ].copy()
    for start in rng.integers(
        0, size - 5000, size // 1_000_000
    ):  # ~0.2% N: gaps like a real assembly
        letters[start : start + 2000] = ord("N")
    for guide in guides:  # a few near-sites per guide so the output is not empty
        for k in range(5):
            at = int(rng.integers(0, size - 30))
            site = bytearray((guide + "AGG").encode())
            for w in rng.choice(20, size=k, replace=False):
                site[w] = ord("ACGT"["ACGT".index(chr(site[w])) - 1])
            letters[at : at + 23] = np.frombuffer(bytes(site), dtype=np.uint8)
    chroms = 4
    per = size // chroms
    with path.open("wb") as fh:
        for c in range(chroms):
            part = letters[c * per : (c + 1) * per]
            fh.write(f">chr{c + 1} synthetic\n".encode())
            width = 60
            body = part[: len(part) // width * width].reshape(-1, width)
            lines = np.hstack([body, np.full((body.shape[0], 1), ord("\n"), np.uint8)])
            fh.write(lines.tobytes())
            rest = part[len(part) // width * width :]
            if rest.size:
                fh.write(rest.tobytes() + b"\n")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="25,50,100", help="genome sizes in Mb")
    parser.add_argument("--guides", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    guides = [
        Guide(f"g{i}", decode(rng.integers(0, 4, 20, dtype=np.uint8))) for i in range(args.guides)
    ]
    # compile the kernel outside the timings (numba caches it on disk after the first run)
    search_offtargets(Genome.from_strings({"warm": "ACGT" * 50}), guides[:1])
    print(f"{args.guides} guides, NGG, up to 4 mismatches")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for mb in (float(s) for s in args.sizes.split(",")):
            size = int(mb * 1e6)
            fasta = Path(tmp) / f"genome_{mb:g}.fa"
            write_genome(fasta, size, [g.spacer for g in guides], args.seed)
            t = time.perf_counter()
            genome = read_genome(fasta)
            t_index = time.perf_counter() - t
            t = time.perf_counter()
            plain = search_offtargets(genome, guides, SearchSettings(dna_bulge=0, rna_bulge=0))
            t_plain = time.perf_counter() - t
            t = time.perf_counter()
            bulged = search_offtargets(genome, guides, SearchSettings(dna_bulge=1, rna_bulge=1))
            t_bulge = time.perf_counter() - t
            results.append((mb, t_index, t_plain, t_bulge))
            if mb == max(float(x) for x in args.sizes.split(",")) and len(guides) > 1:
                half = guides[: len(guides) // 2]
                t = time.perf_counter()
                search_offtargets(genome, half, SearchSettings(dna_bulge=1, rna_bulge=1))
                t_half = time.perf_counter() - t
                print(
                    f"guides: {len(half)} -> {len(guides)} ({len(guides) / len(half):.1f}x) at {mb:g} Mb "
                    f"with bulges: {t_bulge / t_half:.2f}x the time"
                )
            print(
                f"{mb:>5g} Mb: read+encode (index) {t_index:5.2f} s | no bulges {t_plain:5.2f} s "
                f"({len(plain)} sites) | 1 DNA + 1 RNA bulge {t_bulge:5.2f} s ({len(bulged)} sites) | "
                f"peak RSS {peak_mb():.0f} MB"
            )
            fasta.unlink()
            del genome
    mb, _t_index, t_plain, t_bulge = results[-1]
    scale = 100.0 / mb
    print(
        f"at 100 Mb: no bulges {t_plain * scale:.2f} s (Cas-OFFinder 2.4.1 {CAS_OFFINDER_MISMATCH_S} s: "
        f"{CAS_OFFINDER_MISMATCH_S / (t_plain * scale):.1f}x faster; target <= 5.6 s), "
        f"bulges {t_bulge * scale:.2f} s (Cas-OFFinder 3.0 {CAS_OFFINDER_BULGE_S} s: "
        f"{CAS_OFFINDER_BULGE_S / (t_bulge * scale):.1f}x faster; target <= 16 s)"
    )
    if len(results) > 1:
        (m0, _, p0, b0), (m1, _, p1, b1) = results[0], results[-1]
        print(
            f"scaling {m0:g} -> {m1:g} Mb ({m1 / m0:.1f}x the genome): no bulges {p1 / p0:.2f}x, "
            f"bulges {b1 / b0:.2f}x the time"
        )
    print(
        f"index: one byte per base, so {HUMAN_BASES / 1e9:.1f} GB for a human genome held at once; "
        f"the scan itself needs one record and its reverse complement at a time"
    )
    print(f"peak RSS {peak_mb():.0f} MB (target <= 1024 MB)")


if __name__ == "__main__":
    main()
