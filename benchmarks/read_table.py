"""Time reading a large natural-history table: pmpath's read_table against pandas.read_csv (the peer).

Run: `.venv/bin/python benchmarks/read_table.py [--subjects 100000] [--visits 84] [--repeat 3]`.
Writes, in a temporary folder, a longitudinal CSV (subject, age, endpoint, value) of
subjects x visits rows (8.4 M rows and about 250 MB by default), then reads it with
``pmpath.dossier.source.read_table`` (pyarrow, every cell text, the physical line of each row
recovered) and with ``pandas.read_csv(dtype=str, keep_default_na=False)``, which gives the same
frame of text without line numbers. Prints the seconds of each (best of ``--repeat`` for
read_table, one run for pandas), their ratio, and the peak resident memory of each (each runs in a
fresh process; the file's bytes held in memory are part of read_table's).
``--crlf`` writes Windows line ends; ``--quoted`` puts every text value in quotes, as R's
write.csv does.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from pmpath.dossier.source import read_table


def write_cohort(path: Path, n_subjects: int, n_visits: int, *, crlf: bool, quoted: bool) -> int:
    """Write the simulated cohort's longitudinal table; returns its number of rows."""
    rng = np.random.default_rng(20250101)
    n = n_subjects * n_visits
    subject = pc.binary_join_element_wise(
        "S", pc.cast(pa.array(np.repeat(np.arange(n_subjects), n_visits)), pa.string()), ""
    )
    age = np.tile(np.arange(n_visits) * 0.25, n_subjects) + rng.uniform(0.0, 0.2, n)
    endpoint = np.array(["ammonia", "glutamine"])[rng.integers(0, 2, n)]
    value = rng.normal(50.0, 10.0, n)
    table = pa.table(
        {
            "subject": subject,
            "age": pc.cast(pa.array(np.round(age, 3)), pa.string()),
            "endpoint": pa.array(endpoint),
            "value": pc.cast(pa.array(np.round(value, 2)), pa.string()),
        }
    )
    # pyarrow's "needed" style quotes every text value, as R's write.csv does.
    options = pa_csv.WriteOptions(quoting_style="needed" if quoted else "none")
    pa_csv.write_csv(table, path, write_options=options)
    if crlf:
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    return n


def _time_read_table(path: str, n: int, repeat: int) -> tuple[float, float]:
    """Best seconds of read_table over ``repeat`` runs, and this process's peak memory (MB)."""
    raw = Path(path).read_bytes()
    times = []
    for _ in range(repeat):
        findings: list = []
        start = time.perf_counter()
        table = read_table(raw, "natural_history/longitudinal.csv", findings)
        times.append(time.perf_counter() - start)
        assert table is not None and not findings, findings[:3]
        assert len(table.frame) == n and table.line(n - 1) == n + 1
        del table
    return min(times), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _time_pandas(path: str, n: int) -> tuple[float, float]:
    start = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    seconds = time.perf_counter() - start
    assert len(frame) == n
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=84)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--crlf", action="store_true")
    parser.add_argument("--quoted", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pmpath-bench-") as tmp:
        path = Path(tmp) / "longitudinal.csv"
        n = write_cohort(path, args.subjects, args.visits, crlf=args.crlf, quoted=args.quoted)
        size = path.stat().st_size
        style = [s for s, on in (("CRLF", args.crlf), ("quoted", args.quoted)) if on]
        print(f"{n:,} rows, {size / 1e6:.0f} MB" + (f" ({', '.join(style)})" if style else ""))
        # Each reader runs in a fresh process, so its peak memory is its own.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            ours, ours_mb = pool.submit(_time_read_table, str(path), n, args.repeat).result()
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            peer, peer_mb = pool.submit(_time_pandas, str(path), n).result()
        print(
            f"read_table            {ours:6.2f} s  peak {ours_mb:6,.0f} MB  (best of {args.repeat})"
        )
        print(f"pandas.read_csv(str)  {peer:6.2f} s  peak {peer_mb:6,.0f} MB")
        print(f"ratio read_table / pandas: {ours / peer:.2f}")


if __name__ == "__main__":
    main()
