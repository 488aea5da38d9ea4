"""Time `pmpath.mechanism` designs on the test transcript model: HGVS resolution, guide designs per editor, ASO designs with the site search.

Run: `.venv/bin/python benchmarks/mechanism_design.py [--repeat N]`. The inputs are the small
model in tests/fixtures/mechanism (two 600-bp contigs), so the numbers measure per-variant
overhead (biocommons hgvs set-up, the scans, primer3 and ViennaRNA calls), not genome size.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from pmpath.mechanism import FastaReference, design_for_variant, read_annotation

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "mechanism"

CASES = [
    ("abe8e NGG", "NM_PLUS.1:c.35G>A", "abe8e", None),
    ("abe8e SpRY", "NM_PLUS.1:c.35G>A", "abe8e", "spry"),
    ("spcas9 nuclease", "NM_MINUS.1:c.50G>A", "spcas9", None),
    ("aso-splice", "NM_PLUS.1:c.100+5G>A", "aso-splice", None),
    ("gapmer", "NM_MINUS.1:c.50G>A", "gapmer", None),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ref = FastaReference(FIXTURES / "genome.fa")
    ann = read_annotation(FIXTURES / "genes.gff3")
    for label, variant, editor, pam in CASES:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            run = design_for_variant(ref, ann, variant, editor, pam=pam)
            times.append(time.perf_counter() - start)
        print(f"{label:<16} {len(run.designs):>3} designs  median {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
