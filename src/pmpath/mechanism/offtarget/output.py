"""Writing the search's results: SITES.tsv or .parquet, SITES.summary.tsv, and the amplicon panel PANEL.tsv.

Files are written atomically (:func:`pmpath.atomic.write_bytes`); an existing file is replaced only
when the caller says so (``force``), never silently.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from pmpath.atomic import write_bytes
from pmpath.errors import UsageError
from pmpath.mechanism.offtarget.genome import Genome

__all__ = ["PANEL_COLUMNS", "PANEL_FLANK", "panel_table", "summary_path", "write_table"]

PANEL_COLUMNS = (
    "site_id", "guide", "chrom", "start", "end", "strand", "amplicon", "cfd", "amplicon_start",
)  # fmt: skip
PANEL_FLANK = 150


def summary_path(sites_path: Path) -> Path:
    """``SITES.tsv`` -> ``SITES.summary.tsv`` (``.parquet`` likewise)."""
    return sites_path.with_name(f"{sites_path.stem}.summary{sites_path.suffix}")


def write_table(frame: pd.DataFrame, path: Path, *, force: bool = False) -> None:
    """TSV (NA as an empty cell) or Parquet, by the file's suffix."""
    path = Path(path)
    if path.exists() and not force:
        raise UsageError(
            f"{path}: exists; pass --force to replace it (pmpath never overwrites silently)"
        )
    if path.suffix == ".parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        write_bytes(path, buffer.getvalue())
    elif path.suffix in (".tsv", ".txt"):
        write_bytes(path, frame.to_csv(sep="\t", index=False, na_rep="").encode("utf-8"))
    else:
        raise UsageError(f"{path}: found suffix {path.suffix!r}, expected .tsv or .parquet")


def panel_table(sites: pd.DataFrame, genome: Genome, *, min_cfd: float = 0.0) -> pd.DataFrame:
    """Candidate sites as an amplicon panel: each site with 150 bp either side, as read on the + strand.

    ``start``/``end`` are the site's (protospacer and PAM, + strand, 0-based, end exclusive), as in
    SITES.tsv; ``amplicon_start`` is where the amplicon begins (150 bp before ``start``, less at a
    contig's edge), so the site is ``amplicon[start - amplicon_start : end - amplicon_start]``.

    Sites whose CFD is below ``min_cfd`` are left out (a site with CFD NA is kept: it cannot be ranked).
    """
    keep = sites[~(sites["cfd"] < min_cfd)] if min_cfd > 0 else sites
    rows = []
    for r in keep.itertuples():
        size = genome[r.chrom].size
        a0, a1 = max(0, int(r.start) - PANEL_FLANK), min(size, int(r.end) + PANEL_FLANK)
        rows.append(
            {
                "site_id": f"{r.guide}:{r.chrom}:{int(r.start)}:{r.strand}",
                "guide": r.guide,
                "chrom": r.chrom,
                "start": int(r.start),
                "end": int(r.end),
                "strand": r.strand,
                "amplicon": genome.fetch(r.chrom, a0, a1),
                "cfd": r.cfd,
                "amplicon_start": a0,
            }
        )
    return pd.DataFrame(rows, columns=list(PANEL_COLUMNS))
