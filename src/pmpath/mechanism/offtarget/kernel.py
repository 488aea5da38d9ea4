"""The off-target scan kernel: a PAM prefilter and a packed, bit-parallel comparison, compiled by numba.

The genome strand is a ``uint8`` array (A=0, C=1, G=2, T=3, anything else 4). A rolling 2-bit code of the
``L`` bases ending at each position is compared with each guide's code by one XOR; the mismatch mask
has a bit per position, so the mismatches of an alignment are one popcount. A bulge splits the guide
at position ``p``: its PAM-proximal part aligns to the window ending at the PAM, its PAM-distal part to
the window ending ``d`` bases earlier (a DNA bulge of ``d`` extra site bases) or ``r`` bases later (an
RNA bulge of ``r`` unpaired guide bases), so every bulged alignment is two masked popcounts of masks
the scan already has. A bound over both halves of the guide discards nearly every PAM before the
bulge positions are tried.

Positions on the guide are 1-based from the PAM-distal end. A DNA bulge at ``p`` (2..L) puts its extra
bases between guide positions ``p - 1`` and ``p``; an RNA bulge at ``p`` leaves guide positions
``p .. p + r - 1`` unpaired (``p >= 2``, ``p + r - 1 <= L``). Gaps never sit at either end of the
protospacer: a terminal gap is the same site as a shorter alignment, the artifact Cas-OFFinder 3
users report.

For each PAM and guide the kernel keeps one alignment, the least by (mismatches + bulge bases, number
of bulges, -CFD, gap column, bulge length, DNA before RNA): the order a brute-force search reproduces.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["HIT_FIELDS", "scan"]

#: Columns of the kernel's hit array.
HIT_FIELDS = (
    "pam_start",
    "guide",
    "pam_index",
    "kind",
    "bulge_length",
    "bulge_position",
    "mismatches",
)
KIND_NONE, KIND_DNA, KIND_RNA = 0, 1, 2
_RING = 8  # ring buffer of window codes: ends e - D .. e + R, D and R at most 3


@intrinsic
def _popcount(typingctx, x):
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


@njit(cache=True, nogil=True, inline="always")
def _cfd(seq, e, L, gcodes_b, gi, kind, blen, p, mm_tab, pam_tab, dna_tab, rna_tab):
    """CFD of one alignment, reading the site's bases from ``seq`` (PAM at ``e``)."""
    score = pam_tab[seq[e + 1], seq[e + 2]]
    for j in range(1, L + 1):  # guide position
        g = gcodes_b[gi, j - 1]
        if kind == KIND_NONE:
            s = seq[e - L + j - 1]
        elif kind == KIND_DNA:
            s = seq[e - blen - L + j - 1] if j < p else seq[e - L + j - 1]
        else:
            if p <= j < p + blen:
                score *= rna_tab[j, g]
                continue
            s = seq[e + blen - L + j - 1] if j < p else seq[e - L + j - 1]
        if s != g:
            score *= mm_tab[j - 1, g, s]
    if kind == KIND_DNA:
        for t in range(blen):
            score *= dna_tab[p, seq[e - L + p - 1 - blen + t]]
    return score


@njit(cache=True, nogil=True)
def scan(
    seq,
    lo,
    hi,
    pam_allowed,
    gcodes,
    gcodes_b,
    L,
    max_mm,
    max_dna,
    max_rna,
    use_cfd,
    mm_tab,
    pam_tab,
    dna_tab,
    rna_tab,
    out,
    out_cfd,
):
    """Scan PAM starts ``e`` in ``[lo, hi)`` of ``seq``; write hits to ``out`` / ``out_cfd``.

    Returns the number of hits, or ``-1`` when ``out`` is too small (the caller retries larger).
    """
    n = seq.shape[0]
    n_pam = pam_allowed.shape[0]
    P = pam_allowed.shape[1]
    n_guides = gcodes.shape[0]
    even = np.uint64(0)
    for j in range(L):
        even |= np.uint64(1) << np.uint64(2 * j)
    full = (np.uint64(1) << np.uint64(2 * L)) - np.uint64(1)
    # masks of guide positions: high[p] = positions 1..p-1, low[p] = positions p..L (bit 2(L-j))
    high = np.zeros(L + 2, dtype=np.uint64)
    low = np.zeros(L + 2, dtype=np.uint64)
    for p in range(1, L + 2):
        for j in range(1, L + 1):
            bit = np.uint64(1) << np.uint64(2 * (L - j))
            if j < p:
                high[p] |= bit
            else:
                low[p] |= bit
    h = L // 2
    ring_c = np.zeros(_RING, dtype=np.uint64)
    ring_n = np.zeros(_RING, dtype=np.uint64)
    count = 0
    cap = out.shape[0]

    start = max(L, lo - max_dna)
    stop = min(n, hi - 1 + max_rna)  # last window end needed
    if start > stop:
        return 0
    c = np.uint64(0)
    nm = np.uint64(0)
    for j in range(start - L, start):
        b = seq[j]
        c = ((c << np.uint64(2)) | np.uint64(b & 3)) & full
        nm = ((nm << np.uint64(2)) | np.uint64(1 if b > 3 else 0)) & even
    for i in range(start, stop + 1):
        ring_c[i % _RING] = c
        ring_n[i % _RING] = nm
        e = i - max_rna
        if e >= lo and e < hi and e >= L and e + P <= n:
            pam_index = -1
            for k in range(n_pam):
                ok = True
                for q in range(P):
                    b = seq[e + q]
                    if b > 3 or ((pam_allowed[k, q] >> b) & 1) == 0:
                        ok = False
                        break
                if ok:
                    pam_index = k
                    break
            if pam_index >= 0:
                cu = ring_c[e % _RING]
                nu = ring_n[e % _RING]
                for gi in range(n_guides):
                    x = cu ^ gcodes[gi]
                    mu = ((x | (x >> np.uint64(1))) & even) | nu
                    best_edits = 1 << 30
                    best_bulges = 0
                    best_cfd = -1.0
                    best_col = 0
                    best_kind = -1
                    best_len = 0
                    best_p = 0
                    best_mm = 0
                    m0 = _popcount(mu)
                    if nu == 0 and m0 <= max_mm:
                        best_edits = m0
                        best_kind = KIND_NONE
                        best_mm = m0
                        if use_cfd:
                            best_cfd = _cfd(
                                seq, e, L, gcodes_b, gi, KIND_NONE, 0, 0,
                                mm_tab, pam_tab, dna_tab, rna_tab,
                            )  # fmt: skip
                    for kind in (KIND_DNA, KIND_RNA):
                        limit = max_dna if kind == KIND_DNA else max_rna
                        for blen in range(1, limit + 1):
                            if kind == KIND_DNA:
                                if e - blen < L:
                                    continue
                                slot = (e - blen) % _RING
                            else:
                                if e + blen > n:
                                    continue
                                slot = (e + blen) % _RING
                            xs = ring_c[slot] ^ gcodes[gi]
                            ms = ((xs | (xs >> np.uint64(1))) & even) | ring_n[slot]
                            gap = 0 if kind == KIND_DNA else blen
                            lo_idx = h + 1 + gap if h + 1 + gap <= L + 1 else L + 1
                            bound = min(_popcount(ms & high[h + 1]), _popcount(mu & low[lo_idx]))
                            if bound > max_mm:
                                continue
                            p_last = L if kind == KIND_DNA else L - blen + 1
                            for p in range(2, p_last + 1):
                                lo_p = p if kind == KIND_DNA else p + blen
                                mm = _popcount(ms & high[p]) + _popcount(mu & low[lo_p])
                                if mm > max_mm:
                                    continue
                                if (ring_n[slot] & high[p]) | (nu & low[lo_p]):
                                    continue
                                if kind == KIND_DNA:
                                    bad = False
                                    for t in range(blen):
                                        if seq[e - L + p - 1 - blen + t] > 3:
                                            bad = True
                                    if bad:
                                        continue
                                edits = mm + blen
                                if edits > best_edits:
                                    continue
                                if edits == best_edits and best_bulges == 0 and best_kind >= 0:
                                    continue
                                cfd = -1.0
                                if use_cfd:
                                    cfd = _cfd(
                                        seq, e, L, gcodes_b, gi, kind, blen, p,
                                        mm_tab, pam_tab, dna_tab, rna_tab,
                                    )  # fmt: skip
                                col = p - 1
                                # equal edits and both one bulge: higher CFD, leftmost gap, shorter, DNA first
                                better = (
                                    edits < best_edits
                                    or best_kind < 0
                                    or cfd > best_cfd
                                    or (
                                        cfd == best_cfd
                                        and (col, blen, kind) < (best_col, best_len, best_kind)
                                    )
                                )
                                if better:
                                    best_edits = edits
                                    best_bulges = 1
                                    best_cfd = cfd
                                    best_col = col
                                    best_kind = kind
                                    best_len = blen
                                    best_p = p
                                    best_mm = mm
                    if best_kind >= 0:
                        if count >= cap:
                            return -1
                        out[count, 0] = e
                        out[count, 1] = gi
                        out[count, 2] = pam_index
                        out[count, 3] = best_kind
                        out[count, 4] = best_len
                        out[count, 5] = best_p
                        out[count, 6] = best_mm
                        out_cfd[count] = best_cfd
                        count += 1
        if i < n:
            b = seq[i]
            c = ((c << np.uint64(2)) | np.uint64(b & 3)) & full
            nm = ((nm << np.uint64(2)) | np.uint64(1 if b > 3 else 0)) & even
    return count
