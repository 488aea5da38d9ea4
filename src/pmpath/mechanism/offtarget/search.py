"""Genome-wide off-target search: every site of each guide within a mismatch and bulge budget, one row per locus.

A locus is ``(chrom, strand, pam_position)``, the PAM position being the 0-based + strand coordinate of
the PAM's first base as read on its own strand. Of a locus's alignments the search keeps the least by
(mismatches + bulge bases, number of bulges, -CFD, gap column, bulge length, DNA before RNA), so the
result is a total order a brute-force search reproduces (``tests/test_offtarget_search.py`` does).

Non-canonical PAMs (``alt_pams``) are searched only when asked and are scored with their CFD PAM
penalty; the primary PAM wins where both match.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pmpath.errors import UsageError
from pmpath.mechanism.offtarget.genome import Genome, decode, reverse_complement_codes
from pmpath.mechanism.offtarget.kernel import KIND_DNA, KIND_NONE, KIND_RNA, scan
from pmpath.mechanism.offtarget.scoring import (
    cfd_score,
    cfd_specificity,
    cfd_tables,
    mit_score,
    mit_specificity,
)
from pmpath.mechanism.sequence import IUPAC

__all__ = [
    "SITE_COLUMNS",
    "SUMMARY_COLUMNS",
    "Guide",
    "SearchSettings",
    "read_guides",
    "search_offtargets",
    "summarize_sites",
]

SITE_COLUMNS = (
    "guide", "chrom", "start", "end", "strand", "site", "pam", "aligned_guide", "aligned_site",
    "mismatches", "mismatch_positions", "dna_bulge", "rna_bulge", "bulge_position", "cfd", "mit",
    "region", "patient_specific", "pam_position",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "guide", "spacer", "sites", "perfect_matches", "mismatch_counts", "bulge_sites",
    "cfd_specificity", "mit_specificity", "max_offtarget_cfd", "patient_specific_sites",
)  # fmt: skip

_BASE_BIT = {b: 1 << i for i, b in enumerate("ACGT")}
CHUNK = (
    1 << 21
)  # PAM starts per kernel call: small enough to spread over threads, large enough to amortize


@dataclass(frozen=True)
class Guide:
    """A spacer (5'->3', no PAM) and its name."""

    name: str
    spacer: str


@dataclass(frozen=True)
class SearchSettings:
    """What the search looks for.

    Parameters
    ----------
    pam : str
        IUPAC PAM 3' of the protospacer (``NGG``: SpCas9).
    alt_pams : tuple of str
        Non-canonical PAMs also searched (``("NAG", "NGA")``), same length as ``pam``.
    mismatches, dna_bulge, rna_bulge : int
        Budgets: mismatches, and the longest DNA and RNA bulge (0 for none; at most 2 each).
    """

    pam: str = "NGG"
    alt_pams: tuple[str, ...] = ()
    mismatches: int = 4
    dna_bulge: int = 1
    rna_bulge: int = 1

    def __post_init__(self) -> None:
        for what, pattern in (("pam", self.pam), *(("alt_pam", p) for p in self.alt_pams)):
            if not pattern or any(ch not in IUPAC for ch in pattern.upper()):
                raise UsageError(
                    f"{what}: found {pattern!r}, expected a PAM in IUPAC letters (e.g. NGG)"
                )
            if len(pattern) != len(self.pam):
                raise UsageError(
                    f"{what}: found {pattern!r}, expected a PAM as long as {self.pam!r}"
                )
        if not 0 <= self.mismatches <= 8:
            raise UsageError(f"mismatches: found {self.mismatches}, expected 0 to 8")
        for what, value in (("dna_bulge", self.dna_bulge), ("rna_bulge", self.rna_bulge)):
            if not 0 <= value <= 2:
                raise UsageError(f"{what}: found {value}, expected 0, 1 or 2")

    @property
    def pams(self) -> tuple[str, ...]:
        return (self.pam.upper(), *(p.upper() for p in self.alt_pams))

    def cfd_defined(self, spacer_length: int) -> bool:
        """CFD describes SpCas9 with a 20-nt spacer and a 3-nt PAM only."""
        return spacer_length == 20 and self.pam.upper() == "NGG" and len(self.pam) == 3


def _check_spacer(name: str, spacer: str, where: str) -> str:
    upper = spacer.strip().upper()
    bad = sorted(set(upper) - set("ACGT"))
    if not upper or bad:
        raise UsageError(
            f"{where}: guide {name!r}: found {spacer!r}, expected a spacer of A, C, G, T"
        )
    if not 15 <= len(upper) <= 30:
        raise UsageError(
            f"{where}: guide {name!r}: found a spacer of {len(upper)} nt, expected 15 to 30 (20 for SpCas9)"
        )
    return upper


def read_guides(path: Path | str) -> list[Guide]:
    """Read GUIDES.tsv (columns ``name``, ``spacer``); errors name the line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such guides file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text file, expected a TSV of guides") from None
    rows = [(i, ln) for i, ln in enumerate(lines, start=1) if ln.strip() and not ln.startswith("#")]
    if not rows:
        raise UsageError(
            f"{path}: empty, expected a header `name<TAB>spacer` and one guide per line"
        )
    header = [c.strip() for c in rows[0][1].split("\t")]
    if "name" not in header or "spacer" not in header:
        raise UsageError(
            f"{path}: line {rows[0][0]}: found columns {header}, expected `name` and `spacer`"
        )
    iname, ispacer = header.index("name"), header.index("spacer")
    guides: list[Guide] = []
    seen: set[str] = set()
    for number, line in rows[1:]:
        cells = line.split("\t")
        if len(cells) <= max(iname, ispacer):
            raise UsageError(
                f"{path}: line {number}: found {len(cells)} columns, expected {len(header)}"
            )
        name = cells[iname].strip()
        if not name or name in seen:
            raise UsageError(f"{path}: line {number}: guide name {name!r} is empty or repeated")
        seen.add(name)
        guides.append(Guide(name, _check_spacer(name, cells[ispacer], f"{path}: line {number}")))
    if not guides:
        raise UsageError(f"{path}: no guides below the header")
    return guides


def _pam_masks(pams: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(pams), len(pams[0])), dtype=np.uint8)
    for k, pattern in enumerate(pams):
        for q, ch in enumerate(pattern):
            out[k, q] = sum(_BASE_BIT[b] for b in IUPAC[ch])
    return out


def _codes(spacer: str) -> tuple[int, np.ndarray]:
    packed = 0
    bases = np.array(["ACGT".index(b) for b in spacer], dtype=np.uint8)
    for b in bases:
        packed = (packed << 2) | int(b)
    return packed, bases


def _alignment(guide: str, site_bases: str, kind: int, blen: int, p: int) -> tuple[str, str]:
    """Aligned guide and site (protospacer part) with ``-`` for gaps."""
    if kind == KIND_NONE:
        return guide, site_bases
    if kind == KIND_DNA:
        return guide[: p - 1] + "-" * blen + guide[p - 1 :], site_bases
    return guide, site_bases[: p - 1] + "-" * blen + site_bases[p - 1 :]


def _scan_strand(seq, settings, guides, pam_masks, use_cfd, executor, progress):
    L = len(guides[0].spacer)
    P = pam_masks.shape[1]
    packed = np.array([_codes(g.spacer)[0] for g in guides], dtype=np.uint64)
    bases = np.stack([_codes(g.spacer)[1] for g in guides])
    tables = cfd_tables()
    n = seq.size

    def run(lo: int, hi: int) -> np.ndarray:
        cap = 4096
        while True:
            out = np.zeros((cap, 7), dtype=np.int64)
            out_cfd = np.zeros(cap, dtype=np.float64)
            got = scan(
                seq, lo, hi, pam_masks, packed, bases, L, settings.mismatches,
                settings.dna_bulge, settings.rna_bulge, use_cfd, tables.mismatch, tables.pam,
                tables.dna_bulge, tables.rna_bulge, out, out_cfd,
            )  # fmt: skip
            if got >= 0:
                if progress is not None:
                    progress(hi - lo)
                return np.column_stack([out[:got].astype(np.float64), out_cfd[:got]])
            cap *= 8

    bounds = [(lo, min(lo + CHUNK, n - P + 1)) for lo in range(L, max(L, n - P + 1), CHUNK)]
    if not bounds:
        return np.zeros((0, 8))
    parts = list(executor.map(lambda b: run(*b), bounds))
    return np.concatenate(parts) if parts else np.zeros((0, 8))


def search_offtargets(
    genome: Genome,
    guides: Sequence[Guide],
    settings: SearchSettings | None = None,
    *,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Every site of every guide in ``genome`` within the settings' budgets, one row per locus and guide.

    Parameters
    ----------
    genome : Genome
    guides : sequence of Guide
        Spacers of one length (5'->3', no PAM).
    settings : SearchSettings
    threads : int, optional
        Kernel threads (default: the machine's cores).
    progress : callable, optional
        Called with the number of positions scanned as each chunk finishes (both strands count).

    Returns
    -------
    pandas.DataFrame
        :data:`SITE_COLUMNS` (``region`` empty and ``patient_specific`` False until annotated), sorted by
        guide order, chrom order, start, strand. ``cfd`` and ``mit`` are NaN where undefined.
    """
    settings = settings or SearchSettings()
    if not guides:
        raise UsageError("guides: found none, expected at least one guide")
    lengths = {len(g.spacer) for g in guides}
    if len(lengths) != 1:
        raise UsageError(f"guides: found spacer lengths {sorted(lengths)}, expected one length")
    L = lengths.pop()
    use_cfd = settings.cfd_defined(L)
    pams = settings.pams
    pam_masks = _pam_masks(pams)
    P = len(pams[0])
    rows: list[dict] = []
    workers = threads or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as executor:
        for chrom_index, (chrom, plus) in enumerate(
            zip(genome.names, genome.sequences, strict=True)
        ):
            n = plus.size
            for strand in ("+", "-"):
                seq = plus if strand == "+" else reverse_complement_codes(plus)
                hits = _scan_strand(seq, settings, guides, pam_masks, use_cfd, executor, progress)
                for e, gi, pam_index, kind, blen, p, mm, _cfd in hits:
                    e, gi, kind, blen, p, mm = (
                        int(e),
                        int(gi),
                        int(kind),
                        int(blen),
                        int(p),
                        int(mm),
                    )
                    guide = guides[gi].spacer
                    if kind == KIND_DNA:
                        s0 = e - L - blen
                    elif kind == KIND_RNA:
                        s0 = e - L + blen
                    else:
                        s0 = e - L
                    span = decode(seq[s0 : e + P])
                    proto, pam = span[: e - s0], span[e - s0 :]
                    ag, asite = _alignment(guide, proto, kind, blen, p)
                    positions = []
                    pos = 0
                    for g, s in zip(ag, asite, strict=True):
                        if g != "-":
                            pos += 1
                        if g != "-" and s != "-" and g != s:
                            positions.append(pos)
                    cfd = cfd_score(ag, asite, pam) if use_cfd else None
                    mit = (
                        mit_score(guide, proto, pam)
                        if kind == KIND_NONE and L == 20 and settings.pam.upper() == "NGG"
                        else None
                    )
                    if strand == "+":
                        start, end = s0, e + P
                    else:
                        start, end = n - (e + P), n - s0
                    rows.append(
                        {
                            "guide": guides[gi].name,
                            "chrom": chrom,
                            "start": start,
                            "end": end,
                            "strand": strand,
                            "site": span,
                            "pam": pam,
                            "aligned_guide": ag + pams[int(pam_index)],
                            "aligned_site": asite + pam,
                            "mismatches": mm,
                            "mismatch_positions": ",".join(map(str, positions)),
                            "dna_bulge": blen if kind == KIND_DNA else 0,
                            "rna_bulge": blen if kind == KIND_RNA else 0,
                            "bulge_position": p if kind != KIND_NONE else None,
                            "cfd": np.nan if cfd is None else cfd,
                            "mit": np.nan if mit is None else mit,
                            "region": "",
                            "patient_specific": False,
                            "pam_position": (e if strand == "+" else n - 1 - e),
                            "_guide_order": gi,
                            "_chrom_order": chrom_index,
                        }
                    )
    frame = pd.DataFrame(rows, columns=[*SITE_COLUMNS, "_guide_order", "_chrom_order"])
    frame = frame.sort_values(["_guide_order", "_chrom_order", "start", "strand"], kind="stable")
    frame["bulge_position"] = frame["bulge_position"].astype("Int64")
    return frame.drop(columns=["_guide_order", "_chrom_order"]).reset_index(drop=True)


def summarize_sites(
    sites: pd.DataFrame, guides: Sequence[Guide], settings: SearchSettings | None = None
) -> pd.DataFrame:
    """One row per guide: site counts by mismatch number (``0-1-2-3-4``), bulged sites, and CRISPOR's
    CFD and MIT specificity scores over the off-targets (one perfect match, the on-target, excluded).
    """
    settings = settings or SearchSettings()
    out = []
    for guide in guides:
        own = sites[sites["guide"] == guide.name]
        plain = own[(own["dna_bulge"] == 0) & (own["rna_bulge"] == 0)]
        counts = [int((plain["mismatches"] == k).sum()) for k in range(settings.mismatches + 1)]
        perfect = counts[0] if counts else 0
        off = own.copy()
        if perfect:
            first = plain.index[plain["mismatches"] == 0][0]
            off = off.drop(index=first)
        use_cfd = settings.cfd_defined(len(guide.spacer))
        cfd_values = off["cfd"].dropna().tolist()
        mit_values = off["mit"].dropna().tolist()
        out.append(
            {
                "guide": guide.name,
                "spacer": guide.spacer,
                "sites": len(own),
                "perfect_matches": perfect,
                "mismatch_counts": "-".join(map(str, counts)),
                "bulge_sites": int(len(own) - len(plain)),
                "cfd_specificity": cfd_specificity(cfd_values) if use_cfd else np.nan,
                "mit_specificity": mit_specificity(mit_values)
                if len(guide.spacer) == 20 and settings.pam.upper() == "NGG"
                else np.nan,
                "max_offtarget_cfd": max(cfd_values) if cfd_values else np.nan,
                "patient_specific_sites": int(own["patient_specific"].sum()),
            }
        )
    return pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))
