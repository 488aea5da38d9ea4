"""Where each off-target site falls: coding exon, UTR or non-coding exon, intron, or intergenic, from a GFF3 or GTF.

The annotation is read as the 9-column tab-separated table both formats are (pandas), keeping
``gene``, ``exon`` and ``CDS`` features; a gene's name comes from ``Name``/``gene_name``/``gene``
(``ID``/``gene_id`` otherwise). A site takes the most consequential region it overlaps: coding exon,
then exon (UTR or non-coding), then intron (inside a gene, in no exon), then intergenic.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pmpath.errors import UsageError

__all__ = ["Annotation", "read_annotation"]

_RANK = {"coding_exon": 0, "exon": 1, "intron": 2}
_NAME_KEYS = ("Name", "gene_name", "gene", "ID", "gene_id")


@dataclass(frozen=True)
class _Track:
    starts: np.ndarray  # 0-based, sorted
    ends: np.ndarray  # exclusive, in start order
    prefix_max_end: np.ndarray
    names: np.ndarray

    def overlapping(self, start: int, end: int) -> list[str]:
        j = int(np.searchsorted(self.starts, end, side="left")) - 1
        hits = []
        while j >= 0 and self.prefix_max_end[j] > start:
            if self.ends[j] > start:
                hits.append(str(self.names[j]))
            j -= 1
        return hits


def _attributes(text: str) -> dict[str, str]:
    out = {}
    for part in text.strip().strip(";").split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" in part:  # GFF3
            key, _, value = part.partition("=")
        else:  # GTF: key "value"
            m = re.match(r'(\S+)\s+"?([^"]*)"?', part)
            if not m:
                continue
            key, value = m.group(1), m.group(2)
        out[key.strip()] = value.strip()
    return out


class Annotation:
    """Gene, exon and CDS intervals per chromosome."""

    def __init__(self, features: pd.DataFrame, source: str = "<memory>"):
        self.source = source
        self._tracks: dict[tuple[str, str], _Track] = {}
        for (chrom, kind), part in features.groupby(["chrom", "kind"], sort=False):
            part = part.sort_values("start", kind="stable")
            ends = part["end"].to_numpy(np.int64)
            self._tracks[(str(chrom), str(kind))] = _Track(
                part["start"].to_numpy(np.int64),
                ends,
                np.maximum.accumulate(ends),
                part["name"].to_numpy(object),
            )

    def region(self, chrom: str, start: int, end: int) -> str:
        """``coding_exon:GENE``, ``exon:GENE``, ``intron:GENE`` or ``intergenic`` for ``[start, end)``."""
        for kind, label in (("CDS", "coding_exon"), ("exon", "exon"), ("gene", "intron")):
            track = self._tracks.get((chrom, kind))
            if track is None:
                continue
            names = sorted(set(track.overlapping(start, end)))
            if names:
                return f"{label}:{','.join(names)}"
        return "intergenic"


def read_annotation(path: Path | str) -> Annotation:
    """Read a GFF3 or GTF file (``.gz`` allowed); errors name the line."""
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such annotation file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the annotation ({exc})") from None
    rows = []
    parents: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            if line.startswith("##FASTA"):
                break
            continue
        cells = line.split("\t")
        if len(cells) != 9:
            raise UsageError(
                f"{path}: line {number}: found {len(cells)} tab-separated columns, expected 9 (GFF3/GTF)"
            )
        kind = cells[2]
        if kind not in ("gene", "exon", "CDS"):
            if kind in ("mRNA", "transcript"):
                attrs = _attributes(cells[8])
                if "ID" in attrs and "Parent" in attrs:
                    parents[attrs["ID"]] = attrs["Parent"]
            continue
        try:
            start, end = int(cells[3]) - 1, int(cells[4])
        except ValueError:
            raise UsageError(
                f"{path}: line {number}: found start {cells[3]!r} and end {cells[4]!r}, expected whole numbers"
            ) from None
        if start < 0 or end <= start:
            raise UsageError(
                f"{path}: line {number}: found start {start + 1} > end {end}, expected start <= end"
            )
        attrs = _attributes(cells[8])
        rows.append((cells[0], kind, start, end, attrs))
    genes: dict[str, str] = {}
    for _chrom, kind, _s, _e, attrs in rows:
        if kind == "gene" and "ID" in attrs:
            genes[attrs["ID"]] = next((attrs[k] for k in _NAME_KEYS if k in attrs), attrs["ID"])
    records = []
    for chrom, kind, start, end, attrs in rows:
        name = next((attrs[k] for k in _NAME_KEYS[:3] if k in attrs and kind == "gene"), None)
        if name is None:
            parent = attrs.get("Parent", "").split(",")[0]
            gene_id = parents.get(parent, parent)
            name = genes.get(gene_id) or attrs.get("gene_name") or attrs.get("gene_id") or gene_id
            if not name:
                name = next((attrs[k] for k in _NAME_KEYS if k in attrs), "?")
        records.append({"chrom": chrom, "kind": kind, "start": start, "end": end, "name": name})
    if not records:
        raise UsageError(
            f"{path}: no gene, exon or CDS features, expected a GFF3 or GTF annotation"
        )
    return Annotation(pd.DataFrame(records), source=str(path))
