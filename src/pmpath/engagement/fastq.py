"""Streaming FASTQ input for the editing quantifier: reads in numpy batches, never all at once.

Sequences are read with dnaio (plain or gzip-compressed, single or paired files) and handed on
as flat byte arrays (bases coded ``A=0, C=1, G=2, T=3, N=4``, Phred qualities as numbers) with
an offset per read, the layout the alignment kernel wants. Every malformed input is a
:class:`FastqError` naming the file and the 1-based record number: a truncated gzip stream,
mate files of different lengths or with different read names, letters other than ACGTN,
qualities whose length differs from the sequence's, an empty file.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dnaio
import numpy as np

from pmpath.errors import UsageError

__all__ = ["BASE_CODES", "FastqError", "ReadBatch", "prefetch", "read_batches"]

#: Byte -> base code; 255 marks a letter that is not a base (lower case is accepted).
BASE_CODES = np.full(256, 255, dtype=np.uint8)
for _code, _letters in enumerate(("Aa", "Cc", "Gg", "Tt", "Nn")):
    for _letter in _letters:
        BASE_CODES[ord(_letter)] = _code

_LINE = re.compile(r"line (\d+)")


class FastqError(UsageError):
    """A FASTQ file that cannot be read: names the file, the record (1-based), found and expected."""

    def __init__(self, path: Path | str, record: int | None, problem: str):
        self.path, self.record, self.problem = str(path), record, problem
        where = f"{path}, record {record}" if record is not None else str(path)
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # a batch worker hands it to the parent process
        return (type(self), (self.path, self.record, self.problem))


@dataclass(frozen=True)
class ReadBatch:
    """A batch of reads (or read pairs) in flat arrays.

    Attributes
    ----------
    first : int
        0-based index of the batch's first record in the file.
    seq, qual : numpy.ndarray
        uint8 base codes and Phred qualities of all reads of the batch, concatenated.
    offsets : numpy.ndarray
        int64, ``len + 1``: read ``i`` is ``seq[offsets[i]:offsets[i + 1]]``.
    seq2, qual2, offsets2 : numpy.ndarray or None
        The same for the second mates of a paired run.
    names : list of str or None
        Read names (first mate's, without the comment), kept only when asked.
    """

    first: int
    seq: np.ndarray
    qual: np.ndarray
    offsets: np.ndarray
    seq2: np.ndarray | None = None
    qual2: np.ndarray | None = None
    offsets2: np.ndarray | None = None
    names: list[str] | None = None

    def __len__(self) -> int:
        return len(self.offsets) - 1


def _record_of(exc: Exception) -> int | None:
    match = _LINE.search(str(exc))
    return (int(match.group(1)) - 1) // 4 + 1 if match else None


def _open(path: Path):
    if not path.is_file():
        raise FastqError(path, None, "no such file (expected a FASTQ or FASTQ.gz file)")
    try:
        return dnaio.open(path, mode="r", fileformat="fastq")
    except EOFError as exc:  # a small gzip file is read whole on opening
        raise FastqError(path, 1, f"the compressed file is truncated or corrupt ({exc})") from exc
    except (dnaio.UnknownFileFormat, dnaio.FileFormatError, OSError) as exc:
        raise FastqError(path, None, f"not a FASTQ file ({exc})") from exc


def _records(path: Path) -> Iterator[dnaio.SequenceRecord]:
    """Every record of ``path``, with dnaio's and the decompressor's errors turned into FastqError."""
    n = 0
    with _open(path) as reader:
        it = iter(reader)
        while True:
            try:
                record = next(it)
            except StopIteration:
                break
            except dnaio.FileFormatError as exc:
                record_no = _record_of(exc) or n + 1
                problem = str(exc).split(": ", 1)[-1]
                if "Length of sequence and qualities differ" in problem:
                    problem = "sequence and quality lines have different lengths"
                raise FastqError(path, record_no, problem) from exc
            except (EOFError, OSError) as exc:
                raise FastqError(
                    path, n + 1, f"the compressed file is truncated or corrupt ({exc})"
                ) from exc
            n += 1
            yield record
    if n == 0:
        raise FastqError(path, None, "the file is empty (expected at least one FASTQ record)")


def _pack(path: Path, first: int, seqs: list[str], quals: list[bytes]):
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    raw = np.frombuffer("".join(seqs).encode("ascii", "replace"), dtype=np.uint8)
    seq = BASE_CODES[raw]
    bad = np.flatnonzero(seq == 255)
    if bad.size:
        i = int(np.searchsorted(offsets, bad[0], side="right")) - 1
        letter = chr(raw[bad[0]]) if raw[bad[0]] < 128 else "a non-ASCII character"
        raise FastqError(
            path,
            first + i + 1,
            f"the sequence has {letter!r} at base {int(bad[0] - offsets[i]) + 1} "
            "(expected only A, C, G, T or N)",
        )
    qual = np.frombuffer(b"".join(quals), dtype=np.uint8)
    if qual.size and int(qual.min()) < 33:
        raise FastqError(path, first + 1, "a quality character is below '!' (expected Phred+33)")
    return seq, qual - np.uint8(33), offsets


def _mate_name(name: str) -> str:
    head = name.split(None, 1)[0] if name else ""
    return head[:-2] if head.endswith(("/1", "/2")) else head


def read_batches(
    r1: Path | str,
    r2: Path | str | None = None,
    *,
    batch_size: int = 20_000,
    keep_names: bool = False,
) -> Iterator[ReadBatch]:
    """Stream a FASTQ file (or a pair of mate files) in batches of ``batch_size`` reads.

    Parameters
    ----------
    r1, r2 : path
        FASTQ or FASTQ.gz; ``r2`` the second mates, in the same order with the same names.
    batch_size : int
        Reads (pairs) per batch.
    keep_names : bool
        Keep the read names (for the per-read call file).

    Yields
    ------
    ReadBatch

    Raises
    ------
    FastqError
        The file and record of the first problem found.
    """
    if batch_size < 1:
        raise UsageError(f"batch_size must be at least 1, found {batch_size!r}")
    p1 = Path(r1)
    p2 = Path(r2) if r2 is not None else None
    it1 = _records(p1)
    it2 = _records(p2) if p2 is not None else None
    first = 0
    done = False
    while not done:
        seqs: list[str] = []
        quals: list[bytes] = []
        names: list[str] = []
        seqs2: list[str] = []
        quals2: list[bytes] = []
        for rec in it1:
            seqs.append(rec.sequence)
            quals.append(rec.qualities_as_bytes())
            if keep_names or it2 is not None:
                names.append(rec.name)
            if it2 is not None:
                try:
                    mate = next(it2)
                except StopIteration:
                    raise FastqError(
                        p2,
                        first + len(seqs),
                        f"the file ends after {first + len(seqs) - 1} records but {p1} has more "
                        "(expected the same number of reads in both mate files)",
                    ) from None
                if _mate_name(mate.name) != _mate_name(rec.name):
                    raise FastqError(
                        p2,
                        first + len(seqs),
                        f"read name {_mate_name(mate.name)!r} does not match "
                        f"{_mate_name(rec.name)!r} in {p1} (expected mates in the same order)",
                    )
                seqs2.append(mate.sequence)
                quals2.append(mate.qualities_as_bytes())
            if len(seqs) == batch_size:
                break
        else:
            done = True
            if it2 is not None:
                extra = next(it2, None)
                if extra is not None:
                    n = first + len(seqs)
                    raise FastqError(
                        p2,
                        n + 1,
                        f"the file has more records than {p1}, which ends after {n} "
                        "(expected the same number of reads in both mate files)",
                    )
        if not seqs:
            break
        seq, qual, offsets = _pack(p1, first, seqs, quals)
        kw = {}
        if it2 is not None:
            s2, q2, o2 = _pack(p2, first, seqs2, quals2)
            kw = {"seq2": s2, "qual2": q2, "offsets2": o2}
        yield ReadBatch(
            first,
            seq,
            qual,
            offsets,
            names=[n.split(None, 1)[0] for n in names] if keep_names else None,
            **kw,
        )
        first += len(seqs)


def prefetch(batches: Iterator[ReadBatch], depth: int = 2) -> Iterator[ReadBatch]:
    """Read the next batches in a thread while the caller works on the current one.

    Exceptions of the reader (a :class:`FastqError`) are raised in the caller, in order.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    _END = object()

    def work() -> None:
        try:
            for b in batches:
                while not stop.is_set():
                    try:
                        q.put(b, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_END)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    thread = threading.Thread(target=work, name="pmpath-fastq", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
