"""The editing quantifier: FASTQ reads in, per-position counts, per-read classes and alleles out.

Reads stream in batches (:mod:`pmpath.engagement.fastq`), are aligned in parallel threads
(:mod:`pmpath.engagement.align`), and every batch is classified and counted with numpy before the
next is read, so memory does not grow with the number of reads. Mates of a pair are aligned
separately and merged on the amplicon: where both cover a position the base of higher quality
is kept (the first mate's on a tie), elsewhere the one mate that covers it, so a pair whose
mates do not overlap is still one molecule, classified where a mate covers the window.

Every percentage is defined once, in ``docs/engagement.md``; the code's names follow it:

- a position's *coverage* (its denominator) is the aligned reads that span it and pass the
  quality filters: ``A + C + G + T + N + deletion`` there;
- its *conversion %* is the share of that coverage carrying the editor's product base (on the
  amplicon's strand: the guide-strand conversion, complemented for a minus-strand guide), with a
  Clopper-Pearson 95% interval, defined only where the reference base is the editor's base;
- a class's share is of the amplicon's *classified* reads: aligned, passing the filters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np
from scipy import special

from pmpath.engagement.align import DELETION, UNCOVERED, AmpliconIndex, align_batch
from pmpath.engagement.amplicon import EditTarget
from pmpath.engagement.crispresso import QUANTIFICATION_COLUMNS
from pmpath.engagement.fastq import BASE_CODES, prefetch, read_batches
from pmpath.errors import AnalysisError, UsageError

__all__ = [
    "CLASSES",
    "CRISPRESSO_COLUMNS",
    "FILTERS",
    "AmpliconQuantification",
    "PositionComparison",
    "Quantification",
    "compare_to_control",
    "quantify",
    "quantify_batches",
]

#: pmpath's read classes, in the order of precedence a read is assigned by.
CLASSES = (
    "not_aligned",
    "truncated",
    "indel",
    "intended_with_bystanders",
    "intended_only",
    "bystanders_only",
    "other_substitutions",
    "unmodified",
)
#: Quality filters, counted apart (a filtered read has no class).
FILTERS = ("low_mean_quality", "low_window_quality")
CRISPRESSO_COLUMNS = QUANTIFICATION_COLUMNS  # CRISPResso2's quantification layout, one definition
_FLAGS = ("ins", "del", "sub")
_CODE = {b: i for i, b in enumerate("ACGTN")}
_LETTERS = np.frombuffer(b"ACGTN-.", dtype=np.uint8)
#: Bases each side of the window that an allele shows.
ALLELE_FLANK = 10


@dataclass(frozen=True)
class AmpliconQuantification:
    """What the reads of one amplicon show.

    Attributes
    ----------
    target : EditTarget
    counts : numpy.ndarray
        int64 ``(L, 6)``: reads with A, C, G, T, N or a deletion at each position.
    insertions : numpy.ndarray
        int64 ``(L,)``: reads with an insertion right after the position.
    classes : dict
        Reads per class of :data:`CLASSES` (``not_aligned`` is counted on the run, not here).
    filtered : dict
        Reads removed by each filter of :data:`FILTERS`.
    flags : dict
        Classified, non-truncated reads by the window's (insertion, deletion, substitution)
        flags, the counts behind CRISPResso2's columns; keys are 3-tuples of bool.
    alleles : dict
        Window +- 10 bp allele (bytes key, see :func:`decode_allele`) -> reads.
    indel_sizes : dict
        Net indel size in the window (inserted minus deleted bases) -> reads with an indel there.
    """

    target: EditTarget
    counts: np.ndarray
    insertions: np.ndarray
    classes: dict[str, int]
    filtered: dict[str, int]
    flags: dict[tuple[bool, bool, bool], int]
    alleles: dict[bytes, int]
    indel_sizes: dict[int, int]

    @property
    def name(self) -> str:
        return self.target.amplicon.name

    @property
    def coverage(self) -> np.ndarray:
        """Each position's denominator: A + C + G + T + N + deletion."""
        return self.counts.sum(axis=1)

    @property
    def classified(self) -> int:
        """Aligned reads that passed the filters (the denominator of class shares)."""
        return sum(v for k, v in self.classes.items() if k != "not_aligned")

    @property
    def aligned(self) -> int:
        return self.classified + sum(self.filtered.values())

    @property
    def allele_region(self) -> tuple[int, int]:
        """0-based half-open amplicon interval an allele shows (the window +- 10 bp)."""
        w = self.target.window_indices
        return max(0, w[0] - ALLELE_FLANK), min(
            len(self.target.amplicon.sequence), w[-1] + 1 + ALLELE_FLANK
        )

    def conversion(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per position: reads converted, coverage, and the Clopper-Pearson 95% bounds (fractions).

        NaN where the reference base is not the editor's base, where nothing covers the
        position, and for editors without a conversion (nuclease, prime).
        """
        t = self.target
        L = len(t.amplicon.sequence)
        k = np.full(L, np.nan)
        n = self.coverage.astype(float)
        lo = np.full(L, np.nan)
        hi = np.full(L, np.nan)
        if t.from_base is None:
            return k, n, lo, hi
        ref = np.frombuffer(t.amplicon.sequence.encode(), dtype=np.uint8)
        at = (ref == ord(t.from_base)) & (n > 0)
        kk = self.counts[:, _CODE[t.to_base]].astype(float)
        k[at] = kk[at]
        lo[at], hi[at] = _clopper_pearson(kk[at], n[at])
        return k, n, lo, hi

    def share(self, cls: str) -> float:
        """A class's reads over the classified reads (NaN when none were classified)."""
        total = self.classified
        return self.classes.get(cls, 0) / total if total else float("nan")

    def crispresso_counts(self) -> dict[str, int]:
        """CRISPResso2's quantification columns for this amplicon (see docs/engagement.md)."""
        f = self.flags
        out = {
            "Insertions": sum(v for k, v in f.items() if k[0]),
            "Deletions": sum(v for k, v in f.items() if k[1]),
            "Substitutions": sum(v for k, v in f.items() if k[2]),
            "Only Insertions": f.get((True, False, False), 0),
            "Only Deletions": f.get((False, True, False), 0),
            "Only Substitutions": f.get((False, False, True), 0),
            "Insertions and Deletions": f.get((True, True, False), 0),
            "Insertions and Substitutions": f.get((True, False, True), 0),
            "Deletions and Substitutions": f.get((False, True, True), 0),
            "Insertions Deletions and Substitutions": f.get((True, True, True), 0),
        }
        unmodified = f.get((False, False, False), 0)
        modified = sum(f.values()) - unmodified
        out["Unmodified"] = unmodified
        out["Modified"] = modified
        out["Discarded"] = sum(self.filtered.values()) + self.classes.get("truncated", 0)
        out["Reads_aligned"] = self.aligned
        return out


@dataclass(frozen=True)
class PositionComparison:
    """Treated against untreated control at one position (base editors: the conversion)."""

    amplicon: str
    position: int  # 1-based amplicon position
    treated_k: int
    treated_n: int
    control_k: int
    control_n: int
    difference: float  # treated minus control fraction
    ci_low: float
    ci_high: float
    p_value: float  # one-sided Fisher's exact, treated above control
    q_value: float  # Benjamini-Hochberg over the amplicon's tested positions
    different: bool  # q < alpha

    @property
    def background(self) -> float:
        return self.control_k / self.control_n if self.control_n else float("nan")


@dataclass(frozen=True)
class Quantification:
    """A sample's quantification over all its amplicons.

    Attributes
    ----------
    reads_in_input : int
        Reads (pairs) read from the FASTQ file(s).
    not_aligned : int
        Reads that aligned to no amplicon (below the identity threshold).
    amplicons : tuple of AmpliconQuantification
    control : Quantification or None
        The untreated control's own quantification, when one was given.
    comparisons : tuple of PositionComparison
        Per-position treated-against-control tests (empty without a control).
    reads : list or None
        ``(read_id, class, alleles)`` per read, when asked for.
    """

    reads_in_input: int
    not_aligned: int
    amplicons: tuple[AmpliconQuantification, ...]
    control: Quantification | None = None
    comparisons: tuple[PositionComparison, ...] = ()
    reads: list[tuple[str, str, str]] | None = field(default=None, repr=False)

    @property
    def aligned(self) -> int:
        return sum(a.aligned for a in self.amplicons)

    def amplicon(self, name: str) -> AmpliconQuantification:
        for a in self.amplicons:
            if a.name == name:
                return a
        raise UsageError(
            f"amplicon: found {name!r} (expected one of {[a.name for a in self.amplicons]})"
        )


def _clopper_pearson(k: np.ndarray, n: np.ndarray, confidence: float = 0.95):
    # the beta quantiles of pmpath.engagement.interval.clopper_pearson, vectorized; scipy.special
    # rather than scipy.stats keeps the streaming process small
    tail = (1 - confidence) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, special.betaincinv(np.maximum(k, 1e-300), n - k + 1, tail), 0.0)
        hi = np.where(k < n, special.betaincinv(k + 1, np.maximum(n - k, 1e-300), 1 - tail), 1.0)
    return lo, hi


@numba.njit(cache=True)
def _indel_size(codes, ins, rows, L, wlo, whi):  # pragma: no cover - compiled
    """Net size of the indels touching window [wlo, whi] (inserted minus deleted bases) per row."""
    out = np.zeros(len(rows), dtype=np.int32)
    for t in range(len(rows)):
        r = rows[t]
        total = 0
        j = 0
        while j < L:
            if codes[r, j] == 5:
                s = j
                while j < L and codes[r, j] == 5:
                    j += 1
                if s <= whi and j - 1 >= wlo:
                    total -= j - s
            else:
                j += 1
        for j in range(max(0, wlo - 1), min(L, whi + 1)):
            total += ins[r, j]
        out[t] = total
    return out


@numba.njit(cache=True)
def _count_positions(codes, ins, rows, L, counts, insertions):  # pragma: no cover - compiled
    for r in rows:
        for j in range(L):
            c = codes[r, j]
            if c < 6:
                counts[j, c] += 1
            if ins[r, j] > 0:
                insertions[j] += 1


@numba.njit(cache=True)
def _allele_hash(codes, ins, rows, lo, hi):  # pragma: no cover - compiled
    """FNV-1a over each row's codes and insertion counts in [lo, hi)."""
    out = np.empty(len(rows), dtype=np.uint64)
    prime = np.uint64(1099511628211)
    for t in range(len(rows)):
        r = rows[t]
        h = np.uint64(14695981039346656037)
        for j in range(lo, hi):
            h = (h ^ np.uint64(codes[r, j])) * prime
        for j in range(lo, hi):
            h = (h ^ np.uint64(ins[r, j])) * prime
        out[t] = h
    return out


class _Accumulator:
    """Running counts of one amplicon over batches."""

    def __init__(self, target: EditTarget):
        self.target = target
        L = len(target.amplicon.sequence)
        self.L = L
        self.ref = BASE_CODES[np.frombuffer(target.amplicon.sequence.encode(), dtype=np.uint8)]
        self.counts = np.zeros((L, 6), dtype=np.int64)
        self.insertions = np.zeros(L, dtype=np.int64)
        self.filtered = dict.fromkeys(FILTERS, 0)
        self.alleles: dict[int, list] = {}  # hash -> [reads, key]
        self.indel_sizes: dict[int, int] = {}
        w = np.array(target.window_indices, dtype=np.int64)
        self.win = w
        lo = max(0, int(w[0]) - ALLELE_FLANK)
        hi = min(L, int(w[-1]) + 1 + ALLELE_FLANK)
        self.region = (lo, hi)
        self.to_code = _CODE[target.to_base] if target.to_base else -1
        self.prime = [(i, _CODE[b]) for i, b in target.prime_edits]
        col = {int(i): k for k, i in enumerate(w)}
        self.editable_cols = np.array([col[i] for i in target.editable], dtype=np.int64)
        self.intended_cols = np.array([col[i] for i in target.intended], dtype=np.int64)
        self.bystander_cols = np.array([col[i] for i in target.bystanders], dtype=np.int64)
        self.prime_cols = [(col[i], b) for i, b in self.prime]
        self.classes_counts = np.zeros(len(CLASSES), dtype=np.int64)
        self.flag_counts = np.zeros(8, dtype=np.int64)

    def classify(self, Cw: np.ndarray, Sw: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Class index (into CLASSES) per read from its window columns, and the window's flags.

        ``Cw`` holds the codes and ``Sw`` the indel spans at the window positions. An indel is
        in the window when any of its equivalent placements touches it (a deletion covers a
        window base, an insertion has one as a flank), so that left-aligning it, which the
        tables report, never moves it out of the window.
        """
        ref_w = self.ref[self.win]
        n = len(Cw)
        truncated = (Cw == UNCOVERED).any(axis=1)
        has_del = (Sw & 1).any(axis=1)
        has_ins = (Sw & 2).any(axis=1)
        sub = (Cw < 4) & (Cw != ref_w)
        expected = np.zeros_like(sub)
        intended_any = np.zeros(n, dtype=bool)
        bystander_any = np.zeros(n, dtype=bool)
        if self.to_code >= 0:
            for k in self.editable_cols:
                expected[:, k] = Cw[:, k] == self.to_code
            if self.intended_cols.size:
                intended_any = expected[:, self.intended_cols].any(axis=1)
            if self.bystander_cols.size:
                bystander_any = expected[:, self.bystander_cols].any(axis=1)
        elif self.prime:
            for k, b in self.prime_cols:
                expected[:, k] = Cw[:, k] == b
            intended_any = expected[:, [k for k, _ in self.prime_cols]].all(axis=1)
        other = (sub & ~expected).any(axis=1)
        cls = np.full(n, CLASSES.index("unmodified"), dtype=np.int8)
        # assign from the lowest precedence up, so that the highest wins
        cls[other] = CLASSES.index("other_substitutions")
        if self.prime:
            partial = expected.any(axis=1) & ~intended_any
            cls[partial] = CLASSES.index("other_substitutions")
            cls[intended_any & ~other] = CLASSES.index("intended_only")
        else:
            cls[bystander_any & ~intended_any] = CLASSES.index("bystanders_only")
            cls[intended_any & ~bystander_any] = CLASSES.index("intended_only")
            cls[intended_any & bystander_any] = CLASSES.index("intended_with_bystanders")
        cls[has_del | has_ins] = CLASSES.index("indel")
        cls[truncated] = CLASSES.index("truncated")
        return cls, {"ins": has_ins, "del": has_del, "sub": sub.any(axis=1), "truncated": truncated}

    def add(self, C, Q, Ins, S, rows, meanq, min_mean_quality, min_window_quality):
        """Count the batch rows ``rows`` (reads of this amplicon) without copying whole rows.

        Returns each row's class index (into CLASSES), -1 for low mean quality, -2 for low
        window quality, and the allele key rows of the kept reads.
        """
        n = len(rows)
        win = self.win
        Cw = C[np.ix_(rows, win)]
        status = np.full(n, -1, dtype=np.int8)
        low_mean = meanq[rows] < min_mean_quality
        if min_window_quality > 0:
            Qw = np.where(Cw == UNCOVERED, 255, Q[np.ix_(rows, win)])
            low_win = ~low_mean & (Qw.min(axis=1) < min_window_quality)
        else:
            low_win = np.zeros(n, dtype=bool)
        self.filtered["low_mean_quality"] += int(low_mean.sum())
        self.filtered["low_window_quality"] += int(low_win.sum())
        status[low_win] = -2
        keep = ~(low_mean | low_win)
        kept = rows[keep]
        Cw = Cw[keep]
        _count_positions(C, Ins, kept, self.L, self.counts, self.insertions)
        cls, flags = self.classify(Cw, S[np.ix_(kept, win)])
        self.classes_counts += np.bincount(cls, minlength=len(CLASSES))
        ok = ~flags["truncated"]
        key = flags["ins"][ok] * 4 + flags["del"][ok] * 2 + flags["sub"][ok].astype(np.int64)
        self.flag_counts += np.bincount(key, minlength=8)
        indel = ok & (flags["ins"] | flags["del"])
        if indel.any():
            sizes = _indel_size(C, Ins, kept[indel], self.L, int(win[0]), int(win[-1]))
            for sz, v in zip(*np.unique(sizes, return_counts=True), strict=True):
                self.indel_sizes[int(sz)] = self.indel_sizes.get(int(sz), 0) + int(v)
        lo, hi = self.region
        if len(kept):
            # a 64-bit hash per allele keeps the per-batch sort on integers
            h = _allele_hash(C, Ins, kept, lo, hi)
            uniq, first, cnt = np.unique(h, return_index=True, return_counts=True)
            alleles = self.alleles
            for u, f, v in zip(uniq.tolist(), first.tolist(), cnt.tolist(), strict=True):
                entry = alleles.get(u)
                if entry is None:
                    r = kept[f]
                    alleles[u] = [v, C[r, lo:hi].tobytes() + Ins[r, lo:hi].tobytes()]
                else:
                    entry[0] += v
        status[keep] = cls
        return status, kept

    def result(self) -> AmpliconQuantification:
        return AmpliconQuantification(
            self.target,
            self.counts.copy(),
            self.insertions.copy(),
            {c: int(self.classes_counts[i]) for i, c in enumerate(CLASSES) if i > 0},
            dict(self.filtered),
            {
                (bool(k & 4), bool(k & 2), bool(k & 1)): int(v)
                for k, v in enumerate(self.flag_counts)
                if v
            },
            {key: count for count, key in self.alleles.values()},
            dict(sorted(self.indel_sizes.items())),
        )


def decode_allele(target: EditTarget, key: bytes) -> tuple[str, str]:
    """An allele key -> (aligned sequence over the region, variants in amplicon coordinates).

    The sequence shows ``-`` for a deleted base and ``(+n)`` after a base followed by ``n``
    inserted bases; variants read ``135T>C``, ``140_142del`` and ``150_151ins3`` (1-based).
    """
    L = len(target.amplicon.sequence)
    w = target.window_indices
    lo = max(0, w[0] - ALLELE_FLANK)
    hi = min(L, w[-1] + 1 + ALLELE_FLANK)
    m = hi - lo
    arr = np.frombuffer(key, dtype=np.uint8)
    codes, ins = arr[:m], arr[m:]
    ref = target.amplicon.sequence
    if codes.max() < DELETION and not ins.any():  # substitutions only: the common case, quickly
        seq = _LETTERS[codes].tobytes().decode()
        refc = np.frombuffer(ref[lo:hi].encode(), dtype=np.uint8)
        diff = np.flatnonzero((_LETTERS[codes] != refc) & (codes < 4))
        return seq, ",".join(f"{lo + j + 1}{ref[lo + j]}>{seq[j]}" for j in diff.tolist())
    seq = []
    variants = []
    j = 0
    while j < m:
        c = int(codes[j])
        p = lo + j
        if c == DELETION:
            s = j
            while j < m and codes[j] == DELETION:
                seq.append("-")
                j += 1
            a, b = lo + s + 1, lo + j
            variants.append(f"{a}del" if a == b else f"{a}_{b}del")
            if ins[j - 1]:
                seq.append(f"(+{int(ins[j - 1])})")
                variants.append(f"{lo + j}_{lo + j + 1}ins{int(ins[j - 1])}")
            continue
        base = "ACGTN."[c] if c != UNCOVERED else "."
        seq.append(base)
        if c < 4 and base != ref[p]:
            variants.append(f"{p + 1}{ref[p]}>{base}")
        if ins[j]:
            seq.append(f"(+{int(ins[j])})")
            variants.append(f"{p + 1}_{p + 2}ins{int(ins[j])}")
        j += 1
    return "".join(seq), ",".join(variants)


def _merge_mates(a1, a2, aligned1, aligned2):
    """Merge two mates' alignment rows on the amplicon (higher quality wins where both cover)."""
    amp = np.where(aligned1, a1.amplicon, np.where(aligned2, a2.amplicon, -1))
    conflict = aligned1 & aligned2 & (a1.amplicon != a2.amplicon)
    amp[conflict] = -1
    use1 = aligned1 & ~conflict
    use2 = aligned2 & ~conflict
    C1 = np.where(use1[:, None], a1.codes, UNCOVERED)
    C2 = np.where(use2[:, None], a2.codes, UNCOVERED)
    Q1 = np.where(use1[:, None], a1.quality, 0)
    Q2 = np.where(use2[:, None], a2.quality, 0)
    take2 = (C1 == UNCOVERED) | ((C2 != UNCOVERED) & (Q2 > Q1))
    C = np.where(take2, C2, C1)
    Q = np.where(take2, Q2, Q1)
    Ins = np.where(take2, a2.insertions, a1.insertions)
    S = np.where(use1[:, None], a1.indel_span, 0) | np.where(use2[:, None], a2.indel_span, 0)
    return amp, C, Q, Ins, S


def quantify_batches(
    batches,
    targets: Sequence[EditTarget],
    *,
    min_identity: float = 60.0,
    min_mean_quality: float = 0.0,
    min_window_quality: int = 0,
    per_read: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Quantification:
    """Quantify an iterable of :class:`~pmpath.engagement.fastq.ReadBatch` (see :func:`quantify`)."""
    if not targets:
        raise UsageError("amplicons: none given (expected at least one amplicon with its guide)")
    names = [t.amplicon.name for t in targets]
    if len(set(names)) != len(names):
        raise UsageError(f"amplicons: names repeat (expected unique names): {names}")
    index = AmpliconIndex.build([t.amplicon for t in targets])
    accs = [_Accumulator(t) for t in targets]
    total = 0
    not_aligned = 0
    reads: list[tuple[str, str, str]] | None = [] if per_read else None
    threshold = min_identity / 100.0

    amp_lengths = np.diff(index.ref_offsets)

    def ok(a, offsets):
        # enough of the read must match: half of the read or of the amplicon, whichever is shorter
        lengths = np.minimum(np.diff(offsets), amp_lengths[np.maximum(a.amplicon, 0)])
        need = np.maximum(lengths // 2, 20)
        return (a.amplicon >= 0) & (a.identity >= threshold) & (a.matches >= need)

    for batch in batches:
        n = len(batch)
        total += n
        a1 = align_batch(index, batch.seq, batch.qual, batch.offsets)
        al1 = ok(a1, batch.offsets)
        if batch.seq2 is not None:
            a2 = align_batch(index, batch.seq2, batch.qual2, batch.offsets2)
            al2 = ok(a2, batch.offsets2)
            amp, C, Q, Ins, S = _merge_mates(a1, a2, al1, al2)
            l1 = np.diff(batch.offsets)
            l2 = np.diff(batch.offsets2)
            meanq = (a1.mean_quality * l1 + a2.mean_quality * l2) / np.maximum(l1 + l2, 1)
        else:
            amp = np.where(al1, a1.amplicon, -1)
            C, Q, Ins, S, meanq = (
                a1.codes,
                a1.quality,
                a1.insertions,
                a1.indel_span,
                a1.mean_quality,
            )
        unaligned = amp < 0
        not_aligned += int(unaligned.sum())
        status = np.full(n, -3, dtype=np.int8)  # -3 not aligned
        keys: dict[int, tuple[int, bytes]] = {}
        for ai, acc in enumerate(accs):
            rows = np.flatnonzero(amp == ai)
            if rows.size == 0:
                continue
            st, kept = acc.add(C, Q, Ins, S, rows, meanq, min_mean_quality, min_window_quality)
            status[rows] = st
            if per_read:
                lo, hi = acc.region
                for r in kept.tolist():
                    keys[r] = (ai, C[r, lo:hi].tobytes() + Ins[r, lo:hi].tobytes())
        if per_read:
            names_ = batch.names or [str(batch.first + i + 1) for i in range(n)]
            for r in range(n):
                s = int(status[r])
                if s >= 0:
                    ai, key = keys[r]
                    _, variants = decode_allele(accs[ai].target, key)
                    label = (
                        CLASSES[s]
                        if len(accs) == 1
                        else f"{accs[ai].target.amplicon.name}:{CLASSES[s]}"
                    )
                    reads.append((names_[r], label, variants))
                else:
                    reads.append(
                        (
                            names_[r],
                            {-1: "low_mean_quality", -2: "low_window_quality", -3: "not_aligned"}[
                                s
                            ],
                            "",
                        )
                    )
        if progress is not None:
            progress(n)
    if total == 0:
        raise AnalysisError("no reads to quantify")
    return Quantification(total, not_aligned, tuple(a.result() for a in accs), reads=reads)


def quantify(
    r1: Path | str,
    r2: Path | str | None = None,
    *,
    targets: Sequence[EditTarget],
    control_r1: Path | str | None = None,
    control_r2: Path | str | None = None,
    min_identity: float = 60.0,
    min_mean_quality: float = 0.0,
    min_window_quality: int = 0,
    per_read: bool = False,
    batch_size: int = 10_000,
    alpha: float = 0.05,
    progress: Callable[[int], None] | None = None,
) -> Quantification:
    """Quantify editing in a FASTQ sample (single or paired), optionally against an untreated control.

    Parameters
    ----------
    r1, r2 : path
        The reads (FASTQ or FASTQ.gz); ``r2`` the second mates.
    targets : sequence of EditTarget
        One per amplicon (:func:`~pmpath.engagement.amplicon.design_target`).
    control_r1, control_r2 : path, optional
        An untreated control sample, quantified the same way.
    min_identity : float
        Percent of aligned columns that must match for a read to count as aligned (CRISPResso2's
        default 60).
    min_mean_quality : float
        Reads (pairs) whose mean base quality is lower are filtered out.
    min_window_quality : int
        Reads with a base of lower quality at a covered window position are filtered out.
    per_read : bool
        Keep ``(read_id, class, alleles)`` for every read (memory grows with the reads).
    batch_size : int
        Reads per batch.
    alpha : float
        False discovery rate for the treated-against-control tests.

    Returns
    -------
    Quantification

    Raises
    ------
    FastqError
        A malformed FASTQ file (names file and record).
    """
    batches = prefetch(read_batches(r1, r2, batch_size=batch_size, keep_names=per_read))
    result = quantify_batches(
        batches,
        targets,
        min_identity=min_identity,
        min_mean_quality=min_mean_quality,
        min_window_quality=min_window_quality,
        per_read=per_read,
        progress=progress,
    )
    if control_r1 is None:
        if control_r2 is not None:
            raise UsageError("control_r2 given without control_r1")
        return result
    control = quantify_batches(
        prefetch(read_batches(control_r1, control_r2, batch_size=batch_size)),
        targets,
        min_identity=min_identity,
        min_mean_quality=min_mean_quality,
        min_window_quality=min_window_quality,
    )
    return compare_to_control(result, control, alpha=alpha)


def compare_to_control(
    treated: Quantification, control: Quantification, *, alpha: float = 0.05
) -> Quantification:
    """Test each editable position, treated above control (one-sided Fisher's exact, BH at ``alpha``).

    Background is the control's conversion at the position; the difference has Newcombe's
    hybrid score 95% interval. The statistics are :mod:`pmpath.engagement.compare`'s.
    """
    from pmpath.engagement.compare import benjamini_hochberg, fisher_greater, newcombe_difference

    comparisons: list[PositionComparison] = []
    for tq in treated.amplicons:
        cq = control.amplicon(tq.name)
        kt, nt, _, _ = tq.conversion()
        kc, nc, _, _ = cq.conversion()
        tested = np.flatnonzero(~np.isnan(kt) & ~np.isnan(kc) & (nt > 0) & (nc > 0))
        if not tested.size:
            continue
        ps = fisher_greater(kt[tested], nt[tested], kc[tested], nc[tested])
        rows = []
        for i, p in zip(tested, ps, strict=True):
            a, b, c, d = int(kt[i]), int(nt[i]), int(kc[i]), int(nc[i])
            lo, hi = newcombe_difference(a, b, c, d)
            rows.append((int(i), a, b, c, d, float(p), lo, hi))
        q = benjamini_hochberg([r[5] for r in rows])
        for r, qv in zip(rows, q, strict=True):
            i, a, b, c, d, p, lo, hi = r
            comparisons.append(
                PositionComparison(
                    tq.name,
                    i + 1,
                    a,
                    b,
                    c,
                    d,
                    a / b - c / d,
                    lo,
                    hi,
                    p,
                    float(qv),
                    bool(qv < alpha),
                )
            )
    return Quantification(
        treated.reads_in_input,
        treated.not_aligned,
        treated.amplicons,
        control=control,
        comparisons=tuple(comparisons),
        reads=treated.reads,
    )
