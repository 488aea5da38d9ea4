"""The design table's off-target column: each guide design searched genome-wide, summarized in one cell."""

from __future__ import annotations

import dataclasses
import math

from pmpath.mechanism.offtarget.genome import Genome
from pmpath.mechanism.offtarget.search import (
    Guide,
    SearchSettings,
    search_offtargets,
    summarize_sites,
)

__all__ = ["offtarget_cell", "with_offtarget_summaries"]


def offtarget_cell(row) -> str:
    """``"0-1-2-3-4 mm, 2 bulged, CFD spec 95.1, MIT spec 88.0"`` from a summary row."""
    parts = [f"{row['mismatch_counts']} mm", f"{int(row['bulge_sites'])} bulged"]
    for label, key in (("CFD spec", "cfd_specificity"), ("MIT spec", "mit_specificity")):
        value = row[key]
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            parts.append(f"{label} {value:.1f}")
    return ", ".join(parts)


def with_offtarget_summaries(run, genome: Genome, settings: SearchSettings | None = None):
    """``run`` (a :class:`~pmpath.mechanism.variant_designs.VariantDesigns` of guides) with every design's
    ``offtarget_summary`` filled from a search of ``genome``; ASO designs are returned unchanged."""
    settings = settings or SearchSettings()
    guides = [d for d in run.designs if not d.is_aso]
    if not guides:
        return run
    queries = [Guide(d.design, d.sequence) for d in guides]
    sites = search_offtargets(genome, queries, settings)
    summary = summarize_sites(sites, queries, settings).set_index("guide")
    filled = tuple(
        d
        if d.is_aso
        else dataclasses.replace(d, offtarget_summary=offtarget_cell(summary.loc[d.design]))
        for d in run.designs
    )
    kept = [n for n in run.notes if not n.startswith("offtarget_summary is empty")]
    kept.append(
        f"offtarget_summary: sites of each spacer in {genome.source} with up to {settings.mismatches} "
        f"mismatches, DNA bulges up to {settings.dna_bulge} and RNA bulges up to {settings.rna_bulge} "
        f"at {settings.pam} (on-target included in the counts, excluded from the specificity scores)"
    )
    notes = tuple(kept)
    return dataclasses.replace(run, designs=filled, notes=notes)
