"""DNA sequence primitives for the target checks: IUPAC codes, reverse complements and a two-strand Hamming scan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pmpath.errors import UsageError

Strand = Literal["+", "-"]

IUPAC: dict[str, frozenset[str]] = {
    "A": frozenset("A"),
    "C": frozenset("C"),
    "G": frozenset("G"),
    "T": frozenset("T"),
    "R": frozenset("AG"),
    "Y": frozenset("CT"),
    "S": frozenset("CG"),
    "W": frozenset("AT"),
    "K": frozenset("GT"),
    "M": frozenset("AC"),
    "B": frozenset("CGT"),
    "D": frozenset("AGT"),
    "H": frozenset("ACT"),
    "V": frozenset("ACG"),
    "N": frozenset("ACGT"),
}

_COMPLEMENT = str.maketrans("ACGTRYSWKMBDHVNacgtryswkmbdhvn", "TGCAYRSWMKVHDBNtgcayrswmkvhdbn")


def reverse_complement(sequence: str) -> str:
    """Reverse complement of a DNA sequence in IUPAC letters (case is kept).

    Examples
    --------
    >>> reverse_complement("AACGTN")
    'NACGTT'
    >>> reverse_complement("NGG")
    'CCN'
    """
    unknown = sorted(set(sequence.upper()) - set(IUPAC))
    if unknown:
        raise UsageError(
            f"found {''.join(unknown)!r} in {sequence!r}, expected DNA letters in IUPAC code (ACGT and RYSWKMBDHVN)"
        )
    return sequence.translate(_COMPLEMENT)[::-1]


def iupac_mismatches(sequence: str, pattern: str) -> tuple[int, ...]:
    """0-based indices where ``sequence`` does not match the IUPAC ``pattern`` of the same length.

    A base outside ACGT in ``sequence`` (an N in the reference) never matches.
    """
    if len(sequence) != len(pattern):
        raise UsageError(
            f"found a sequence of {len(sequence)} bases and a pattern of {len(pattern)}, expected equal lengths"
        )
    return tuple(
        i
        for i, (base, code) in enumerate(zip(sequence.upper(), pattern.upper(), strict=True))
        if base not in IUPAC[code]
    )


def check_dna(sequence: str, what: str) -> str:
    """Upper-cased ``sequence`` if it is made of A, C, G and T only (U is read as T)."""
    upper = sequence.upper().replace("U", "T")
    bad = sorted(set(upper) - set("ACGT"))
    if not upper or bad:
        raise UsageError(f"{what}: found {sequence!r}, expected a non-empty sequence of A, C, G, T")
    return upper


@dataclass(frozen=True)
class Placement:
    """One place a query sits on a sequence, on either strand.

    Attributes
    ----------
    strand
        ``+``: the query reads 5'->3' along the given sequence; ``-``: along its reverse complement.
    start
        0-based index, in the given (forward) sequence, of the leftmost base the query covers.
    mismatches
        0-based indices into the query (from its 5' end) where the sequence differs.
    suffix
        The bases that follow the query's 3' end on its own strand (a PAM), read 5'->3'.
    suffix_mismatches
        0-based indices into the suffix pattern that do not match.
    """

    strand: Strand
    start: int
    length: int
    mismatches: tuple[int, ...]
    suffix: str = ""
    suffix_mismatches: tuple[int, ...] = ()

    @property
    def score(self) -> int:
        return len(self.mismatches) + len(self.suffix_mismatches)

    def forward_index(self, k: int) -> int:
        """Forward-sequence index of the query's k-th base (0-based from the query's 5' end)."""
        return self.start + k if self.strand == "+" else self.start + self.length - 1 - k

    def query_index(self, forward: int) -> int:
        """Inverse of :meth:`forward_index`; may fall outside ``0..length-1``."""
        return (
            forward - self.start if self.strand == "+" else self.start + self.length - 1 - forward
        )

    def suffix_span(self, suffix_length: int) -> tuple[int, int]:
        """Forward indices (first, last) of the suffix."""
        if self.strand == "+":
            return self.start + self.length, self.start + self.length + suffix_length - 1
        return self.start - suffix_length, self.start - 1


def scan_both_strands(sequence: str, query: str, suffix_pattern: str = "") -> list[Placement]:
    """Every placement of ``query`` (followed on its strand by ``suffix_pattern``) on both strands.

    The comparison is Hamming (no gaps): the windows we scan are tens to hundreds of bases, so a
    full scan is cheap and reports every near match. ``query`` is compared letter by letter,
    ``suffix_pattern`` in IUPAC code.

    Examples
    --------
    >>> [(p.strand, p.start, p.mismatches) for p in scan_both_strands("AACCGG", "CCG") if not p.mismatches]
    [('+', 2, ()), ('-', 3, ())]
    """
    seq = sequence.upper()
    query = query.upper()
    n, m, s = len(seq), len(query), len(suffix_pattern)
    out: list[Placement] = []
    for strand, text in (("+", seq), ("-", reverse_complement(seq))):
        for offset in range(n - m - s + 1):
            window = text[offset : offset + m]
            mismatches = tuple(k for k in range(m) if window[k] != query[k])
            suffix = text[offset + m : offset + m + s]
            suffix_mm = iupac_mismatches(suffix, suffix_pattern) if s else ()
            start = offset if strand == "+" else n - offset - m
            out.append(Placement(strand, start, m, mismatches, suffix, suffix_mm))  # type: ignore[arg-type]
    return out
