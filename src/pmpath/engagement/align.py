"""Read-to-amplicon alignment: k-mer seeding, then a banded Gotoh alignment with affine gaps and a
traceback that places every indel at its leftmost equivalent position, compiled with numba and
run over a whole batch of reads in parallel threads.

Each read is seeded against a table of the k-mers (k = 10) that occur once among all amplicons;
the votes choose the amplicon, the strand (the read or its reverse complement) and the range of
diagonals the alignment needs (the two diagonals on either side of a large deletion included),
widened by a margin for small indels the seeds cannot see. The alignment is global in the read
and free at the amplicon's ends (a read may start or stop inside the amplicon; bases before the
amplicon's first or after its last base are overhang, not insertions). Scores are CRISPResso2's
(EDNAFULL match 5, mismatch -4, N -2, gap open -20, extension -2).

The result of a batch is, per read, a row over the amplicon: the base read at each position
(``A C G T N`` = 0-4), a deletion (5) or not covered (6), the base quality there, and the
number of bases inserted after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from pmpath.engagement.amplicon import Amplicon

__all__ = ["DELETION", "UNCOVERED", "AlignedBatch", "AmpliconIndex", "K", "align_batch"]

K = 10
DELETION = 5
UNCOVERED = 6
_NEG = -(1 << 28)
# Traceback bits: 0-1 the source of H (0 diagonal, 1 deletion state, 2 insertion state, 3 start),
# bit 2: the deletion state extends (else opens from H), bit 3: the insertion state extends.
_START = 3


@dataclass(frozen=True)
class AmpliconIndex:
    """The amplicons in the kernel's layout, with their table of unique k-mers."""

    amplicons: tuple[Amplicon, ...]
    ref: np.ndarray  # uint8 codes of all amplicons, concatenated
    ref_offsets: np.ndarray  # int64, n + 1
    kmer_amplicon: np.ndarray  # int32 over 4**K: amplicon index, -1 absent, -2 not unique
    kmer_position: np.ndarray  # int32 over 4**K

    @classmethod
    def build(cls, amplicons: list[Amplicon] | tuple[Amplicon, ...]) -> AmpliconIndex:
        from pmpath.engagement.fastq import BASE_CODES

        seqs = [np.frombuffer(a.sequence.encode(), dtype=np.uint8) for a in amplicons]
        ref = np.concatenate([BASE_CODES[s] for s in seqs]).astype(np.uint8)
        offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in seqs], out=offsets[1:])
        kamp = np.full(4**K, -1, dtype=np.int32)
        kpos = np.zeros(4**K, dtype=np.int32)
        _fill_kmers(ref, offsets, kamp, kpos)
        return cls(tuple(amplicons), ref, offsets, kamp, kpos)

    @property
    def max_length(self) -> int:
        return int(np.diff(self.ref_offsets).max())


@dataclass(frozen=True)
class AlignedBatch:
    """One batch's alignments; rows are reads, columns amplicon positions (up to the longest)."""

    amplicon: np.ndarray  # int32, -1 when no amplicon was found
    reverse: np.ndarray  # bool: the read aligned as its reverse complement
    identity: np.ndarray  # float32: matches / (aligned columns + read overhang)
    matches: np.ndarray  # int32
    mean_quality: np.ndarray  # float32 over the whole read
    codes: np.ndarray  # uint8 (n, L): 0-4 base, 5 deletion, 6 not covered
    quality: np.ndarray  # uint8 (n, L): base quality (for a deletion, the read base before it)
    insertions: np.ndarray  # uint8 (n, L): bases inserted after the position (255 = 255 or more)
    indel_span: np.ndarray  # uint8 (n, L): 1 an equivalent deletion covers, 2 an insertion flanks


@numba.njit(cache=True)
def _fill_kmers(ref, offsets, kamp, kpos):  # pragma: no cover - compiled
    for a in range(len(offsets) - 1):
        s, e = offsets[a], offsets[a + 1]
        for i in range(s, e - K + 1):
            h = 0
            ok = True
            for t in range(K):
                c = ref[i + t]
                if c > 3:
                    ok = False
                    break
                h = h * 4 + c
            if not ok:
                continue
            if kamp[h] == -1:
                kamp[h] = a
                kpos[h] = i - s
            else:
                kamp[h] = -2


@numba.njit(cache=True, inline="always")
def _score(a, b):  # pragma: no cover - compiled
    if a == 4 or b == 4:
        return -2
    return 5 if a == b else -4


@numba.njit(cache=True)
def _seed(read, n, kamp, kpos, amps, diags):  # pragma: no cover - compiled
    """Collect unique k-mer hits; return how many (amplicon, diagonal) pairs were written."""
    m = 0
    h = 0
    valid = 0
    mask = (1 << (2 * K)) - 1
    for i in range(n):
        c = read[i]
        if c > 3:
            valid = 0
            h = 0
            continue
        h = ((h << 2) | c) & mask
        valid += 1
        if valid >= K:
            a = kamp[h]
            if a >= 0:
                amps[m] = a
                diags[m] = kpos[h] - (i - K + 1)
                m += 1
    return m


@numba.njit(cache=True)
def _best_band(amps, diags, m, margin):  # pragma: no cover - compiled
    """The amplicon with most hits, its hit count, and the band (lowest, highest diagonal)."""
    if m == 0:
        return -1, 0, 0, 0
    a_sorted = np.sort(amps[:m])
    best, best_n, cur, cur_n = a_sorted[0], 1, a_sorted[0], 1
    for t in range(1, m):
        if a_sorted[t] == cur:
            cur_n += 1
        else:
            cur, cur_n = a_sorted[t], 1
        if cur_n > best_n:
            best, best_n = cur, cur_n
    d = np.empty(best_n, dtype=np.int32)
    q = 0
    for t in range(m):
        if amps[t] == best:
            d[q] = diags[t]
            q += 1
    d.sort()
    # Diagonals seen twice or more bound the band (a lone random hit does not widen it).
    lo, hi, found = d[0], d[-1], False
    t = 0
    while t < best_n:
        u = t
        while u < best_n and d[u] == d[t]:
            u += 1
        if u - t >= 2 or best_n < 4:
            if not found:
                lo, found = d[t], True
            hi = d[t]
        t = u
    return best, best_n, lo - margin, hi + margin


@numba.njit(cache=True)
def _align_one(read, qual, n, ref, L, dlo, dhi, codes, quals, ins, span):  # pragma: no cover
    """Banded overlap alignment of read (length n) to ref (length L); fills one output row.

    Returns (matches, columns, read bases aligned). Band: diagonals d = j - i in [dlo, dhi].
    ``span`` marks, per amplicon position, bit 1: some equivalent placement of a deletion covers
    it; bit 2: some equivalent placement of an insertion has it as a flank.
    """
    W = dhi - dlo + 1
    go, ge = -20, -2
    Hp = np.full(W + 1, _NEG, dtype=np.int32)
    Ep = np.full(W + 1, _NEG, dtype=np.int32)
    Fp = np.full(W + 1, _NEG, dtype=np.int32)
    Hc = np.full(W + 1, _NEG, dtype=np.int32)
    Ec = np.full(W + 1, _NEG, dtype=np.int32)
    Fc = np.full(W + 1, _NEG, dtype=np.int32)
    tb = np.zeros((n + 1, W), dtype=np.uint8)
    best, bi, bj = _NEG, 0, 0
    for k in range(W):
        j = dlo + k
        if 0 <= j <= L:
            Hp[k] = 0
            tb[0, k] = _START
            if j == L:
                best, bi, bj = 0, 0, L
    for i in range(1, n + 1):
        ri = read[i - 1]
        for k in range(W):
            j = i + dlo + k
            if j < 0 or j > L:
                Hc[k] = _NEG
                Ec[k] = _NEG
                Fc[k] = _NEG
                continue
            if j == 0:
                Hc[k] = 0  # read bases before the amplicon's first base: free overhang
                Ec[k] = _NEG
                Fc[k] = _NEG
                tb[i, k] = _START
                continue
            t = 0
            # deletion of ref[j-1]: from the left neighbour in this row
            e = _NEG
            if k > 0:
                eo = Hc[k - 1] + go
                ee = Ec[k - 1] + ge
                if ee >= eo:
                    e = ee
                    t |= 4
                else:
                    e = eo
            # insertion of read[i-1]: from the cell above (same j, previous row): band index k + 1
            f = _NEG
            if k + 1 < W:
                fo = Hp[k + 1] + go
                fe = Fp[k + 1] + ge
                if fe >= fo:
                    f = fe
                    t |= 8
                else:
                    f = fo
            h = _NEG
            if Hp[k] > _NEG:
                h = Hp[k] + _score(ri, ref[j - 1])
            # ties go to the diagonal: traced back from the end, indels then sit leftmost
            if h >= e and h >= f:
                src = 0
            elif e >= f:
                h = e
                src = 1
            else:
                h = f
                src = 2
            Hc[k] = h
            Ec[k] = e
            Fc[k] = f
            tb[i, k] = t | src
            if j == L and h > best:  # the read may run on past the amplicon's end
                best, bi, bj = h, i, j
        if i == n:
            for k in range(W):
                j = n + dlo + k
                if 0 <= j <= L and Hc[k] > best:
                    best, bi, bj = Hc[k], n, j
        Hp, Hc = Hc, Hp
        Ep, Ec = Ec, Ep
        Fp, Fc = Fc, Fp
    if best <= _NEG // 2:
        return 0, 0, 0
    i, j, state = bi, bj, 0
    matches, cols, used = 0, 0, 0
    run_end, run_read = 0, 0
    while i > 0 and j > 0:
        k = j - i - dlo
        t = tb[i, k]
        if state == 0:
            src = t & 3
            if src == 0:
                c = read[i - 1]
                codes[j - 1] = c
                quals[j - 1] = qual[i - 1]
                if c == ref[j - 1]:
                    matches += 1
                cols += 1
                used += 1
                i -= 1
                j -= 1
            elif src == 1:
                state = 1
                run_end = j
            elif src == 2:
                state = 2
                run_read = i
            else:
                break
        elif state == 1:
            codes[j - 1] = 5
            quals[j - 1] = qual[i - 1]
            cols += 1
            j -= 1
            if not (t & 4):
                state = 0
                # equivalent placements further right: ref[s + u] == ref[e + u], read matching
                s0, e0, u = j, run_end, 0
                while e0 + u < L and ref[s0 + u] == ref[e0 + u] and codes[e0 + u] == ref[e0 + u]:
                    u += 1
                for q in range(s0, e0 + u):
                    span[q] |= 1
        else:
            if j - 1 < L and ins[j - 1] < 255:
                ins[j - 1] += 1
            cols += 1
            used += 1
            i -= 1
            if not (t & 8):
                state = 0
                a0, b0, p0, u = i, run_read, j - 1, 0
                while (
                    b0 + u < n
                    and p0 + 1 + u < L
                    and read[a0 + u] == read[b0 + u]
                    and codes[p0 + 1 + u] == read[b0 + u]
                ):
                    u += 1
                for q in range(max(p0, 0), min(p0 + u + 2, L)):
                    span[q] |= 2
    return matches, cols, used


@numba.njit(cache=True)
def _ungapped(read, qual, n, ref, L, d, codes, quals):  # pragma: no cover - compiled
    """The alignment on diagonal ``d`` alone, if no gapped one can beat it; else (-1, 0).

    A gap costs at least 20, and moving part of the read to another diagonal gains at most 9 per
    mismatch it repairs; seeds all on one diagonal and no 10 consecutive bases with 3 or more
    mismatches leave no gapped alignment better than this one (CRISPResso2's scores).
    """
    i0 = max(0, -d)
    i1 = min(n, L - d)
    if i1 - i0 < K:
        return -1, 0, 0
    matches = 0
    # mismatch positions, for the density check
    last1 = -100
    last2 = -100
    for i in range(i0, i1):
        c = read[i]
        r = ref[i + d]
        if c == r:
            matches += 1
        elif c != 4 and r != 4:
            if i - last2 < 10:
                return -1, 0, 0
            last2 = last1
            last1 = i
    for i in range(i0, i1):
        codes[i + d] = read[i]
        quals[i + d] = qual[i]
    return matches, i1 - i0, i1 - i0


@numba.njit(cache=True)
def _revcomp(src, dst, qsrc, qdst, n):  # pragma: no cover - compiled
    for t in range(n):
        c = src[n - 1 - t]
        dst[t] = 3 - c if c < 4 else 4
        qdst[t] = qsrc[n - 1 - t]


@numba.njit(parallel=True, cache=True, nogil=True)
def _align_all(
    seq,
    qual,
    offsets,
    ref,
    ref_offsets,
    kamp,
    kpos,
    margin,
    Lmax,
    codes,
    quals,
    ins,
    span,
    out_amp,
    out_rev,
    out_ident,
    out_match,
    out_meanq,
):  # pragma: no cover - compiled
    nreads = len(offsets) - 1
    for r in numba.prange(nreads):
        s = offsets[r]
        n = offsets[r + 1] - s
        read = seq[s : s + n]
        rq = qual[s : s + n]
        total = 0
        for t in range(n):
            total += rq[t]
        out_meanq[r] = total / n if n > 0 else 0.0
        out_amp[r] = -1
        if n < K:
            continue
        amps = np.empty(n, dtype=np.int32)
        diags = np.empty(n, dtype=np.int32)
        m = _seed(read, n, kamp, kpos, amps, diags)
        a, hits, dlo, dhi = _best_band(amps, diags, m, margin)
        use_rc = False
        if hits * 4 < n - K + 1:
            rc = np.empty(n, dtype=np.uint8)
            rcq = np.empty(n, dtype=np.uint8)
            _revcomp(read, rc, rq, rcq, n)
            m2 = _seed(rc, n, kamp, kpos, amps, diags)
            a2, hits2, dlo2, dhi2 = _best_band(amps, diags, m2, margin)
            if hits2 > hits:
                a, hits, dlo, dhi = a2, hits2, dlo2, dhi2
                read = rc
                rq = rcq
                use_rc = True
        if a < 0:
            continue
        rs = ref_offsets[a]
        L = ref_offsets[a + 1] - rs
        mt = -1
        if dhi - dlo == 2 * margin:
            mt, cols, used = _ungapped(
                read, rq, n, ref[rs : rs + L], L, dlo + margin, codes[r], quals[r]
            )
        if mt < 0:
            mt, cols, used = _align_one(
                read, rq, n, ref[rs : rs + L], L, dlo, dhi, codes[r], quals[r], ins[r], span[r]
            )
        out_amp[r] = a
        out_rev[r] = use_rc
        out_match[r] = mt
        # read bases past the amplicon's ends count as columns, as in CRISPResso2's score
        total = cols + n - used
        out_ident[r] = mt / total if total > 0 else 0.0


def align_batch(
    index: AmpliconIndex, seq: np.ndarray, qual: np.ndarray, offsets: np.ndarray, margin: int = 12
) -> AlignedBatch:
    """Align every read of a batch (flat arrays, see :class:`~pmpath.engagement.fastq.ReadBatch`).

    Parameters
    ----------
    index : AmpliconIndex
    seq, qual, offsets : numpy.ndarray
        Base codes, Phred qualities and read offsets.
    margin : int
        Diagonals added on each side of the seeded band: the longest indel found where no seed
        shows it (larger ones are found between seeds on both sides).
    """
    n = len(offsets) - 1
    L = index.max_length
    codes = np.full((n, L), UNCOVERED, dtype=np.uint8)
    quals = np.zeros((n, L), dtype=np.uint8)
    ins = np.zeros((n, L), dtype=np.uint8)
    span = np.zeros((n, L), dtype=np.uint8)
    amp = np.empty(n, dtype=np.int32)
    rev = np.zeros(n, dtype=np.bool_)
    ident = np.zeros(n, dtype=np.float32)
    match = np.zeros(n, dtype=np.int32)
    meanq = np.zeros(n, dtype=np.float32)
    _align_all(
        seq,
        qual,
        offsets.astype(np.int64),
        index.ref,
        index.ref_offsets,
        index.kmer_amplicon,
        index.kmer_position,
        margin,
        L,
        codes,
        quals,
        ins,
        span,
        amp,
        rev,
        ident,
        match,
        meanq,
    )
    return AlignedBatch(amp, rev, ident, match, meanq, codes, quals, ins, span)
