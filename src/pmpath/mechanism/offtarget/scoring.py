"""Off-target site scores: CFD (Doench et al. 2016, with CRISPRitz's bulge table) and MIT (Hsu et al. 2013).

Positions count from the guide's PAM-distal 5' end (1-20). CFD multiplies, over the alignment, the
activity of each mismatch (keyed by the guide's RNA base and the target-strand DNA base, i.e. the
complement of the site's base), of each bulged base, and of the PAM's 2nd and 3rd bases. It is
defined for SpCas9 with a 20-nt spacer and an NNN PAM only; elsewhere it is ``None`` (NA), never a
made-up number. The MIT score is defined for mismatch-only alignments of a 20-nt spacer at an NGG PAM;
with a bulge or another PAM it is ``None``.

Specificity scores of a guide follow CRISPOR (Haeussler et al. 2016): ``100 / (1 + sum CFD)`` and
``10000 / (100 + sum MIT)`` over the guide's off-target sites, the on-target site excluded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

__all__ = [
    "HSU_MISMATCH_PENALTY",
    "CfdTables",
    "cfd_score",
    "cfd_specificity",
    "cfd_tables",
    "mit_score",
    "mit_specificity",
]

BASES = "ACGT"
_INDEX = {b: i for i, b in enumerate(BASES)}
_COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}

#: Hsu et al. 2013 position-specific mismatch penalties (positions 1-20 from the PAM-distal end),
#: as CRISPOR's ``calcHitScore`` uses them.
HSU_MISMATCH_PENALTY = (
    0.0, 0.0, 0.014, 0.0, 0.0, 0.395, 0.317, 0.0, 0.389, 0.079,
    0.445, 0.508, 0.613, 0.851, 0.732, 0.828, 0.615, 0.804, 0.685, 0.583,
)  # fmt: skip


@dataclass(frozen=True)
class CfdTables:
    """The CFD tables as arrays, for the search kernel and the scorer alike.

    Attributes
    ----------
    mismatch : ndarray, shape (20, 4, 4)
        ``[pos-1, guide base, site base]`` activity; 1 where the bases match.
    pam : ndarray, shape (4, 4)
        ``[2nd base, 3rd base]`` of the PAM as read on the site's strand.
    dna_bulge : ndarray, shape (21, 4)
        ``[pos, extra site base]``: an extra DNA base between guide positions ``pos - 1`` and ``pos``
        (``pos`` 2-20; other rows 0).
    rna_bulge : ndarray, shape (21, 4)
        ``[pos, guide base]``: the guide base at ``pos`` (2-20) unpaired.
    """

    mismatch: np.ndarray
    pam: np.ndarray
    dna_bulge: np.ndarray
    rna_bulge: np.ndarray


def _rows(name: str) -> list[list[str]]:
    text = resources.files("pmpath.data").joinpath(name).read_text(encoding="utf-8")
    lines = [ln.split("\t") for ln in text.splitlines() if ln and not ln.startswith("#")]
    return lines[1:]  # the header


@cache
def cfd_tables() -> CfdTables:
    """The packaged CFD tables (see ``pmpath/data/SOURCES.md``)."""
    mismatch = np.ones((20, 4, 4))
    for rna, dna, pos, score in _rows("cfd_mismatch_scores.tsv"):
        guide = rna.replace("U", "T")
        site = _COMPLEMENT[
            dna
        ]  # the table's DNA base is the target strand's: the site's complement
        mismatch[int(pos) - 1, _INDEX[guide], _INDEX[site]] = float(score)
    pam = np.zeros((4, 4))
    for dinuc, score in _rows("cfd_pam_scores.tsv"):
        pam[_INDEX[dinuc[0]], _INDEX[dinuc[1]]] = float(score)
    dna_bulge = np.zeros((21, 4))
    rna_bulge = np.zeros((21, 4))
    for rna, dna, pos, score in _rows("cfd_bulge_scores.tsv"):
        if rna == "-":
            # the extra base sits on the protospacer strand as the site reads it: the table keys it
            # by the target strand's base, so the site's base is its complement
            dna_bulge[int(pos), _INDEX[_COMPLEMENT[dna]]] = float(score)
        else:
            rna_bulge[int(pos), _INDEX[rna.replace("U", "T")]] = float(score)
    for table in (mismatch, pam, dna_bulge, rna_bulge):
        table.setflags(write=False)
    return CfdTables(mismatch, pam, dna_bulge, rna_bulge)


def _columns(aligned_guide: str, aligned_site: str):
    """(guide position, guide base, site base) per alignment column; position of a DNA-bulge column is
    the next guide position's."""
    if len(aligned_guide) != len(aligned_site):
        raise ValueError("aligned guide and site differ in length")
    pos = 0
    for g, s in zip(aligned_guide.upper(), aligned_site.upper(), strict=True):
        if g != "-":
            pos += 1
            yield pos, g, s
        else:
            yield pos + 1, g, s


def cfd_score(aligned_guide: str, aligned_site: str, pam: str) -> float | None:
    """CFD of one alignment of a 20-nt spacer to a site (``-`` marks a gap), at ``pam`` (3 bases).

    ``None`` when the spacer is not 20 nt, the PAM is not 3 bases, or a base is not ACGT.

    Examples
    --------
    >>> cfd_score("GGGGGGGGGGGGGGGGGGGG", "GGGGGGGGGGGGGGGGGGGG", "AGG")
    1.0
    """
    tables = cfd_tables()
    if len(aligned_guide.replace("-", "")) != 20 or len(pam) != 3:
        return None
    pam = pam.upper()
    if any(b not in _INDEX for b in pam[1:]):
        return None
    score = float(tables.pam[_INDEX[pam[1]], _INDEX[pam[2]]])
    for pos, g, s in _columns(aligned_guide, aligned_site):
        if g == "-":
            if s not in _INDEX or not 2 <= pos <= 20:
                return None
            score *= tables.dna_bulge[pos, _INDEX[s]]
        elif s == "-":
            if g not in _INDEX or not 2 <= pos <= 20:
                return None
            score *= tables.rna_bulge[pos, _INDEX[g]]
        else:
            if g not in _INDEX or s not in _INDEX:
                return None
            score *= tables.mismatch[pos - 1, _INDEX[g], _INDEX[s]]
    return float(score)


def mit_score(guide: str, site: str, pam: str = "NGG") -> float | None:
    """Hsu et al. 2013 hit score (0-100) of a mismatch-only 20-nt alignment, as CRISPOR computes it.

    ``None`` for other lengths, bulges or a PAM other than NGG.

    Examples
    --------
    >>> mit_score("ACGTACGTACGTACGTACGT", "ACGTACGTACGTACGTACGT")
    100.0
    """
    guide, site = guide.upper(), site.upper()
    if len(guide) != 20 or len(site) != 20 or "-" in guide + site:
        return None
    if len(pam) != 3 or pam[1:].upper() != "GG":
        return None
    mism = [i for i, (g, s) in enumerate(zip(guide, site, strict=True)) if g != s]
    score1 = 1.0
    for i in mism:
        score1 *= 1.0 - HSU_MISMATCH_PENALTY[i]
    n = len(mism)
    if n >= 2:
        mean_distance = (mism[-1] - mism[0]) / (n - 1)
        score2 = 1.0 / (((19.0 - mean_distance) / 19.0) * 4.0 + 1.0)
    else:
        score2 = 1.0
    score3 = 1.0 / (n * n) if n else 1.0
    return score1 * score2 * score3 * 100.0


def cfd_specificity(scores: Iterable[float]) -> float:
    """CRISPOR's CFD specificity, ``100 / (1 + sum)``, over a guide's off-target CFD scores.

    The caller passes only defined scores; for an editor CFD does not describe it is NA.
    """
    return 100.0 / (1.0 + float(sum(scores)))


def mit_specificity(scores: Iterable[float | None]) -> float:
    """CRISPOR's MIT specificity, ``10000 / (100 + sum)`` over off-target MIT hit scores (NA ignored)."""
    return 10000.0 / (100.0 + float(sum(s for s in scores if s is not None)))
