"""A genome for the off-target scan: FASTA (plain or gzip) read once into one ``uint8`` array per record.

A=0, C=1, G=2, T=3 (either case); every other IUPAC letter is 4 and never matches a guide or a PAM
base. Anything else is a malformed FASTA: the error names the file, the record and the line.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pmpath.errors import UsageError

__all__ = ["Genome", "encode", "read_genome"]

_CODE = np.full(256, 255, dtype=np.uint8)
for _i, _b in enumerate("ACGT"):
    _CODE[ord(_b)] = _CODE[ord(_b.lower())] = _i
for _b in "RYSWKMBDHVN":
    _CODE[ord(_b)] = _CODE[ord(_b.lower())] = 4
_COMPLEMENT_CODE = np.array([3, 2, 1, 0, 4], dtype=np.uint8)
LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)


def encode(sequence: str | bytes) -> np.ndarray:
    """A sequence as codes (A=0, C=1, G=2, T=3, other IUPAC 4); raises on a non-IUPAC letter."""
    raw = sequence.encode("ascii") if isinstance(sequence, str) else bytes(sequence)
    codes = _CODE[np.frombuffer(raw, dtype=np.uint8)]
    if codes.size and codes.max() == 255:
        bad = raw[int(np.argmax(codes == 255))]
        raise UsageError(f"found {chr(bad)!r} in a sequence, expected IUPAC DNA letters")
    return codes


def decode(codes: np.ndarray) -> str:
    """Codes back to letters (4 reads as N)."""
    return LETTERS[codes].tobytes().decode("ascii")


def reverse_complement_codes(codes: np.ndarray) -> np.ndarray:
    """The reverse complement, as codes."""
    return _COMPLEMENT_CODE[codes[::-1]]


@dataclass
class Genome:
    """Records of a genome as codes, in file order; ``names`` are the FASTA records' first words."""

    names: list[str]
    sequences: list[np.ndarray]
    source: str = "<memory>"
    _by_name: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {n: i for i, n in enumerate(self.names)}

    @classmethod
    def from_strings(cls, records: dict[str, str] | Iterable[tuple[str, str]]) -> Genome:
        items = records.items() if isinstance(records, dict) else records
        names, seqs = [], []
        for name, seq in items:
            names.append(name)
            seqs.append(encode(seq))
        return cls(names, seqs)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.sequences[self._by_name[name]]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def size(self) -> int:
        return int(sum(s.size for s in self.sequences))

    def fetch(self, name: str, start: int, end: int) -> str:
        """Bases ``[start, end)`` of a record, + strand, uppercase."""
        seq = self[name]
        return decode(seq[max(0, start) : min(seq.size, end)])


def read_genome(path: Path | str) -> Genome:
    """Read a FASTA file (``.gz`` allowed) into a :class:`Genome`.

    Raises
    ------
    UsageError
        The file is missing, empty, not FASTA, or holds a letter that is not IUPAC DNA (the error
        names the record and the line).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            magic = fh.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such genome FASTA file") from None
    except (OSError, EOFError) as exc:
        raise UsageError(f"{path}: cannot read the genome ({exc})") from None
    stripped = data.lstrip()
    if not stripped:
        raise UsageError(f"{path}: the genome file is empty, expected FASTA records")
    if not stripped.startswith(b">"):
        line = stripped.split(b"\n", 1)[0][:40]
        raise UsageError(
            f"{path}: line 1: found {line.decode('latin-1')!r}, expected a FASTA header starting with '>'"
        )
    names: list[str] = []
    seqs: list[np.ndarray] = []
    offset = len(data) - len(stripped)
    line_of = 1 + data.count(b"\n", 0, offset)
    for chunk in stripped[1:].split(b"\n>"):
        header, _, body = chunk.partition(b"\n")
        name = header.split(None, 1)[0].decode("utf-8", "replace") if header.strip() else ""
        if not name:
            raise UsageError(f"{path}: line {line_of}: a FASTA header without a name")
        if name in names:
            raise UsageError(
                f"{path}: line {line_of}: record {name!r} appears twice, expected unique names"
            )
        raw = body.translate(None, b"\r\n\t ")
        codes = _CODE[np.frombuffer(raw, dtype=np.uint8)]
        if codes.size and codes.max() == 255:
            bad_at = int(np.argmax(codes == 255))
            # the line of the bad byte: count newlines in the body up to it
            pos, seen = 0, 0
            for n_line, text in enumerate(body.split(b"\n"), start=1):
                clean = text.translate(None, b"\r\t ")
                if seen + len(clean) > bad_at:
                    pos = n_line
                    break
                seen += len(clean)
            bad = chr(raw[bad_at])
            raise UsageError(
                f"{path}: record {name!r}, line {line_of + pos}: found {bad!r}, expected DNA letters (IUPAC)"
            )
        names.append(name)
        seqs.append(codes)
        line_of += 1 + chunk.count(b"\n")
    return Genome(names, seqs, source=str(path))
