"""Time indexing a whole-chromosome reference FASTA: pmpath's in-memory index against samtools faidx (the peer).

Run: `.venv/bin/python benchmarks/fasta_index.py [--megabases 250] [--width 60] [--repeat 3]`.
Writes, in a temporary folder, one record of ``--megabases`` million bases (chr1 of GRCh38 is
about 249) in lines of ``--width``, then indexes it with ``pmpath.dossier.fasta.read_fasta``
(every line checked, the .fai computed in memory, nothing written) and with ``pysam.faidx``
(samtools, which writes the .fai). Prints the seconds of each (best of ``--repeat``) and checks
that both give the same index.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pysam

from pmpath.dossier.fasta import read_fasta
from pmpath.errors import Finding


def _write(path: Path, megabases: int, width: int) -> None:
    line = (b"ACGTNacgtRYKM" * (width // 13 + 1))[:width] + b"\n"
    n_lines, rest = divmod(megabases * 1_000_000, width)
    block = line * 10_000
    with path.open("wb") as f:
        f.write(b">chr1 benchmark\n")
        for _ in range(n_lines // 10_000):
            f.write(block)
        f.write(line * (n_lines % 10_000))
        if rest:
            f.write(line[:rest] + b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabases", type=int, default=250)
    parser.add_argument("--width", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pmpath-bench-") as tmp:
        path = Path(tmp) / "chr1.fa"
        _write(path, args.megabases, args.width)
        size = path.stat().st_size / 1e6
        ours = []
        for _ in range(args.repeat):
            findings: list[Finding] = []
            start = time.perf_counter()
            index = read_fasta(path, "chr1.fa", findings)
            ours.append(time.perf_counter() - start)
            assert index is not None and not findings, findings
        start = time.perf_counter()
        pysam.faidx(str(path))
        samtools = time.perf_counter() - start
        same = Path(f"{path}.fai").read_text() == index.fai_text()
        print(f"{size:.0f} MB FASTA, {args.width}-column lines")
        print(f"pmpath read_fasta: {min(ours):.2f} s (best of {args.repeat})")
        print(f"samtools faidx:    {samtools:.2f} s")
        print(f"ratio:             {min(ours) / samtools:.2f}; same index: {same}")


if __name__ == "__main__":
    main()
