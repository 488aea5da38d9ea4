"""Amplicon sequencing reads with exact truth, for the quantifier's tests and benchmark.

Each molecule is the amplicon with known edits (the intended base converted, bystanders
converted, or one indel near the cut, each placed at its leftmost equivalent position as the
aligner reports it), read as single-end reads or as mate pairs (overlapping or not), with
substitution sequencing errors at a given rate, random qualities, junk reads that match no
amplicon and reads truncated inside the window. The truth kept is each read's error-free class
and the realized per-position counts of the bases actually written (errors included, mates
merged by the quantifier's rule), against which the quantifier is exact up to alignment ties.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pmpath.engagement.amplicon import EditTarget, reverse_complement

__all__ = ["SimulatedReads", "simulate_reads", "write_fastq"]

_BASES = "ACGT"
_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)


@dataclass(frozen=True)
class SimulatedReads:
    """Simulated reads and their truth.

    Attributes
    ----------
    r1, r2 : list of (name, sequence, quality string)
        ``r2`` is empty for single-end reads.
    classes : list of str
        Each molecule's class when read without errors (see ``quantify.CLASSES``).
    counts : numpy.ndarray
        int64 ``(L, 6)``: realized A, C, G, T, N, deletion counts per amplicon position over
        the aligned molecules (junk excluded), after sequencing errors and mate merging.
    insertions : numpy.ndarray
        int64 ``(L,)``: molecules with an insertion after each position.
    """

    r1: list[tuple[str, str, str]]
    r2: list[tuple[str, str, str]]
    classes: list[str]
    counts: np.ndarray
    insertions: np.ndarray


def _left_deletion(ref: str, s: int, e: int) -> tuple[int, int]:
    while s > 0 and ref[s - 1] == ref[e - 1]:
        s, e = s - 1, e - 1
    return s, e


def _left_insertion(ref: str, p: int, ins: str) -> tuple[int, str]:
    # insertion after index p (between p and p + 1)
    while p >= 0 and ref[p] == ins[-1]:
        ins = ref[p] + ins[:-1]
        p -= 1
    return p, ins


def simulate_reads(
    target: EditTarget,
    n: int,
    *,
    intended_fraction: float = 0.4,
    bystander_fraction: float = 0.1,
    indel_fraction: float = 0.05,
    error_rate: float = 0.0,
    junk_fraction: float = 0.0,
    truncated_fraction: float = 0.0,
    read_length: int | None = None,
    paired: bool = False,
    quality_range: tuple[int, int] = (25, 41),
    seed: int = 0,
) -> SimulatedReads:
    """Simulate ``n`` reads (pairs) of ``target``'s amplicon with exact truth.

    Parameters
    ----------
    target : EditTarget
    n : int
    intended_fraction : float
        Chance that each intended base is converted (base editors).
    bystander_fraction : float
        Chance that each bystander base is converted.
    indel_fraction : float
        Chance of one indel (deletion of 1-20 bp or insertion of 1-4 bp) within 3 bp of the cut,
        in a molecule without base edits.
    error_rate : float
        Per-base substitution error rate of the sequencer.
    junk_fraction : float
        Reads of random sequence.
    truncated_fraction : float
        Single-end reads cut short inside the window.
    read_length : int, optional
        Read length (default the amplicon's); pairs read both ends of the molecule.
    paired : bool
        Write mate pairs (second mate reverse complemented from the molecule's far end).
    seed : int
    """
    rng = np.random.default_rng(seed)
    ref = target.amplicon.sequence
    L = len(ref)
    rl = read_length or L
    counts = np.zeros((L, 6), dtype=np.int64)
    insertions = np.zeros(L, dtype=np.int64)
    r1: list[tuple[str, str, str]] = []
    r2: list[tuple[str, str, str]] = []
    classes: list[str] = []
    win = set(target.window_indices)
    code = {b: i for i, b in enumerate("ACGTN")}
    lo_q, hi_q = quality_range
    ref_codes = np.array([code[b] for b in ref], dtype=np.uint8)
    to_code = code[target.to_base] if target.to_base else 0
    w_idx = np.array(target.window_indices)
    w_lo, w_hi = int(w_idx.min()), int(w_idx.max())
    for m in range(n):
        name = f"sim{m + 1}"
        if rng.random() < junk_fraction:
            seq = "".join(rng.choice(list(_BASES), rl))
            q = "".join(chr(33 + int(x)) for x in rng.integers(lo_q, hi_q, rl))
            r1.append((name, seq, q))
            if paired:
                r2.append((name, "".join(rng.choice(list(_BASES), rl)), q))
            classes.append("not_aligned")
            continue
        # the molecule: base codes and, per base, its amplicon index (-1 for an inserted base)
        mol = ref_codes.copy()
        mol_ref = np.arange(L)
        ins_at = -1  # amplicon index an insertion follows
        intended = bystander = False
        cls_indel = False
        if target.to_base is not None:
            hit_i = [i for i in target.intended if rng.random() < intended_fraction]
            hit_b = [i for i in target.bystanders if rng.random() < bystander_fraction]
            intended, bystander = bool(hit_i), bool(hit_b)
            mol[hit_i + hit_b] = to_code
        deleted = (0, 0)
        if not (intended or bystander) and rng.random() < indel_fraction:
            c = target.cut + int(rng.integers(-3, 4))
            if rng.random() < 0.6:
                size = int(rng.integers(1, 21))
                s0 = max(1, c - size // 2)
                s_, e_ = _left_deletion(ref, s0, min(L - 1, s0 + size))
                deleted = (s_, e_)
                u = 0  # equivalent placements to the right count as touching the window too
                while e_ + u < L and ref[s_ + u] == ref[e_ + u]:
                    u += 1
                cls_indel = bool(set(range(s_, e_ + u)) & win)
                mol = np.concatenate([mol[:s_], mol[e_:]])
                mol_ref = np.concatenate([mol_ref[:s_], mol_ref[e_:]])
            else:
                size = int(rng.integers(1, 5))
                ins = "".join(rng.choice(list(_BASES), size))
                p, ins = _left_insertion(ref, c, ins)
                if p >= 0:
                    ins_at = p
                    flanks, cur, q = {p, p + 1}, ins, p
                    while q + 1 < L and cur[0] == ref[q + 1]:
                        cur, q = cur[1:] + ref[q + 1], q + 1
                        flanks |= {q, q + 1}
                    cls_indel = bool(flanks & win)
                    extra = np.array([code[b] for b in ins], dtype=np.uint8)
                    mol = np.concatenate([mol[: p + 1], extra, mol[p + 1 :]])
                    mol_ref = np.concatenate(
                        [mol_ref[: p + 1], np.full(len(ins), -1), mol_ref[p + 1 :]]
                    )
        M = len(mol)
        truncated = (
            not paired and deleted == (0, 0) and ins_at < 0 and rng.random() < truncated_fraction
        )
        if truncated:
            stop_ref = int(rng.integers(w_lo, w_hi + 1))  # the read ends before this index
            spans = [(0, max(stop_ref, 25))]
        elif paired:
            spans = [(0, min(rl, M)), (max(0, M - rl), M)]
        else:
            spans = [(0, min(rl, M))]
        reads_bases = []
        for s_, e_ in spans:
            part = mol[s_:e_].copy()
            qual = rng.integers(lo_q, hi_q, len(part))
            if error_rate > 0:
                hit = np.flatnonzero(rng.random(len(part)) < error_rate)
                part[hit] = (part[hit] + rng.integers(1, 4, len(hit))) % 4
            reads_bases.append((s_, e_, part, qual))
        # realized truth: each molecule base as read (mates: the higher quality, R1 on a tie)
        base = np.full(M, 255, dtype=np.int64)
        bq = np.full(M, -1, dtype=np.int64)
        for s_, e_, part, qual in reads_bases:
            better = qual > bq[s_:e_]
            base[s_:e_][better] = part[better]
            bq[s_:e_][better] = qual[better]
        seen = (base != 255) & (mol_ref >= 0)
        np.add.at(counts, (mol_ref[seen], base[seen]), 1)
        covered = np.zeros(L, dtype=bool)
        covered[mol_ref[seen]] = True
        # a deletion is seen by a read covering the amplicon on both of its sides
        s_del, e_del = deleted
        if e_del > s_del:
            for s_, e_, _, _ in reads_bases:
                idx = mol_ref[s_:e_]
                idx = idx[idx >= 0]
                if idx.size and idx[0] < s_del and idx[-1] >= e_del and not covered[s_del]:
                    counts[s_del:e_del, 5] += 1
                    covered[s_del:e_del] = True
        if ins_at >= 0:
            left = int(np.flatnonzero(mol_ref == ins_at)[0])
            right = int(np.flatnonzero(mol_ref == ins_at + 1)[0]) if ins_at + 1 < L else M
            if any(s_ <= left and right < e_ for s_, e_, _, _ in reads_bases):
                insertions[ins_at] += 1
        if not covered[w_idx].all():
            cls = "truncated"
        elif cls_indel:
            cls = "indel"
        elif intended and bystander:
            cls = "intended_with_bystanders"
        elif intended:
            cls = "intended_only"
        elif bystander:
            cls = "bystanders_only"
        else:
            cls = "unmodified"
        classes.append(cls)
        _, _, part, qual = reads_bases[0]
        r1.append(
            (
                name,
                _LETTERS[part].tobytes().decode(),
                (qual + 33).astype(np.uint8).tobytes().decode(),
            )
        )
        if paired:
            _, _, part, qual = reads_bases[1]
            r2.append(
                (
                    name,
                    reverse_complement(_LETTERS[part].tobytes().decode()),
                    (qual[::-1] + 33).astype(np.uint8).tobytes().decode(),
                )
            )
    return SimulatedReads(r1, r2, classes, counts, insertions)


def write_fastq(path: Path | str, records: list[tuple[str, str, str]]) -> Path:
    """Write records to a FASTQ file (gzip-compressed when the name ends in ``.gz``)."""
    import gzip

    path = Path(path)
    text = "".join(f"@{n}\n{s}\n+\n{q}\n" for n, s, q in records).encode()
    if path.suffix == ".gz":
        with gzip.open(path, "wb", compresslevel=1) as fh:
            fh.write(text)
    else:
        path.write_bytes(text)
    return path
