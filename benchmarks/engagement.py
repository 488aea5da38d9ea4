"""Time `pmpath engagement quantify` on 1M distinct noisy 250-bp reads (the issue's budget: 20 s on
2 cores, 500 MB resident).

Run: `.venv/bin/python benchmarks/engagement.py [--reads N] [--keep DIR]`.
The reads are simulated like the tests' simulator (adenine base editing on a minus-strand guide,
bystanders, deletions near the cut, 1% substitution errors) but generated in bulk with numpy, and
every read is made distinct (collapsing identical reads would not help). The command runs in a
fresh process (imports and loading the compiled kernels included, what a user waits for); its
peak resident memory is the child's maximum RSS. CRISPResso2 2.3.4 took 858 s and 4.0 GB for 1M
single-end 250-bp reads of which 403k were distinct on this machine, aligning about 1,600
distinct reads/s; the ratios printed are against those. Other processes on a shared machine slow
this down: the CPU time is printed beside the wall time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CRISPRESSO_SECONDS = 858.0
CRISPRESSO_DISTINCT_PER_SECOND = 1600.0
BUDGET_SECONDS = 20.0
BUDGET_MB = 500.0
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "crispresso2"


def _case() -> tuple[str, str]:
    case = Path("/work/shared/data/crispresso2/abe_minus_strand/case.json")
    if not case.is_file():
        case = DATA / "abe_minus_strand" / "case.json"
    d = json.loads(case.read_text())
    return d["amplicon"], d["guide"]


def generate(path: Path, n: int, seed: int = 0) -> int:
    """Write ``n`` distinct reads to ``path`` (gzip); return how many distinct sequences it holds."""
    from pmpath.engagement.amplicon import Amplicon, design_target

    amplicon, guide = _case()
    t = design_target(Amplicon("amp", amplicon), guide, "abe", window="1-20")
    rng = np.random.default_rng(seed)
    ref = np.frombuffer(amplicon.encode(), dtype=np.uint8)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    code = np.full(256, 0, dtype=np.uint8)
    code[letters] = np.arange(4)
    to = ord(t.to_base)
    chunk = 100_000
    seen: set[bytes] = set()
    with gzip.open(path, "wb", compresslevel=1) as fh:
        for first in range(0, n, chunk):
            m = min(chunk, n - first)
            reads = np.tile(ref, (m, 1))
            for i, p in [(i, 0.4) for i in t.intended] + [(i, 0.1) for i in t.bystanders]:
                reads[rng.random(m) < p, i] = to
            err = rng.random(reads.shape) < 0.01
            shift = rng.integers(1, 4, size=int(err.sum()), dtype=np.uint8)
            reads[err] = letters[(code[reads[err]] + shift) % 4]
            quals = rng.integers(25 + 33, 41 + 33, size=reads.shape, dtype=np.uint8)
            deletion = rng.random(m) < 0.05
            lines = []
            for r in range(m):
                seq = reads[r].tobytes()
                while seq in seen:  # make every read distinct
                    row = reads[r].copy()
                    j = int(rng.integers(0, len(row)))
                    row[j] = letters[(code[row[j]] + 1) % 4]
                    reads[r] = row
                    seq = row.tobytes()
                seen.add(seq)
                q = quals[r].tobytes()
                if deletion[r]:
                    s = t.cut + int(rng.integers(-5, 3))
                    size = int(rng.integers(1, 16))
                    seq = seq[:s] + seq[s + size :]
                    q = q[: len(seq)]
                lines.append(b"@r%d\n%s\n+\n%s\n" % (first + r, seq, q))
            fh.write(b"".join(lines))
    return len(seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Keep the reads and the output here.")
    args = parser.parse_args(argv)
    amplicon, guide = _case()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        fq = work / "reads.fastq.gz"
        start = time.perf_counter()
        if fq.is_file():
            distinct = args.reads  # generate() made them distinct
            print(f"reusing {fq} (its reads were made distinct when generated)")
        else:
            distinct = generate(fq, args.reads)
            elapsed = time.perf_counter() - start
            print(f"generated {args.reads:,} reads ({distinct:,} distinct) in {elapsed:.1f} s")
        cmd = [
            sys.executable,
            "-m",
            "pmpath",
            "engagement",
            "quantify",
            "-r1",
            str(fq),
            "-a",
            amplicon,
            "-g",
            guide,
            "--editor",
            "abe",
            "--window",
            "1-20",
            "--no-plots",
            "--format",
            "json",
            "-o",
            str(work / "out"),
        ]
        # A forked child's maximum RSS starts from its parent's (this process holds the generated
        # reads' arrays), so the command runs under a small launcher whose own child is measured.
        launcher = (
            "import json, resource, subprocess, sys\n"
            "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "sys.stdout.write(json.dumps({'rc': done.returncode, 'out': done.stdout, 'err': done.stderr,"
            " 'cpu': u.ru_utime + u.ru_stime, 'maxrss_kb': u.ru_maxrss}))\n"
        )
        start = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-c", launcher, *cmd],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
        wall = time.perf_counter() - start
        report = json.loads(run.stdout)
        if report["rc"] != 0:
            sys.stderr.write(report["out"] + report["err"])
            return report["rc"]
        cpu = report["cpu"]
        peak_mb = report["maxrss_kb"] / 1024
        result = json.loads(report["out"])
        rate = args.reads / wall
        scale = args.reads / 1_000_000
        print(
            f"quantified {result['reads_in_input']:,} reads in {wall:.1f} s wall ({cpu:.1f} s CPU)"
        )
        print(f"  {rate:,.0f} reads/s; peak RSS {peak_mb:.0f} MB")
        print(
            f"  budget: {BUDGET_SECONDS * scale:.1f} s and {BUDGET_MB:.0f} MB -> "
            f"{'met' if wall <= BUDGET_SECONDS * scale and peak_mb <= BUDGET_MB else 'NOT met'}"
        )
        print(
            f"  vs CRISPResso2: x{CRISPRESSO_SECONDS * scale / wall:.0f} on time (858 s per 1M), "
            f"x{(distinct / wall) / CRISPRESSO_DISTINCT_PER_SECOND:.0f} on distinct reads/s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
