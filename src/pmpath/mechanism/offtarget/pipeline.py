"""The whole off-target job as one call: read, search both strands, annotate, add the patient's own sites, summarize."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from pmpath.mechanism.offtarget.annotate import Annotation
from pmpath.mechanism.offtarget.genome import Genome
from pmpath.mechanism.offtarget.patient import PatientGenome, patient_specific_sites
from pmpath.mechanism.offtarget.search import (
    Guide,
    SearchSettings,
    search_offtargets,
    summarize_sites,
)

__all__ = ["OfftargetResult", "run_offtarget"]


@dataclass
class OfftargetResult:
    """Sites (reference and patient-specific), the per-guide summary, and what was set aside."""

    sites: pd.DataFrame
    summary: pd.DataFrame
    settings: SearchSettings
    skipped_variants: list[tuple[int, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def run_offtarget(
    genome: Genome,
    guides: Sequence[Guide],
    settings: SearchSettings | None = None,
    *,
    annotation: Annotation | None = None,
    patient: PatientGenome | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> OfftargetResult:
    """Search ``genome`` for every guide's sites; annotate regions; add patient-specific sites.

    Examples
    --------
    >>> g = Genome.from_strings({"c": "TTTT" + "GACGCATAAAGATGAGACGC" + "TGG" + "TTTT"})
    >>> out = run_offtarget(g, [Guide("g1", "GACGCATAAAGATGAGACGC")])
    >>> out.summary.loc[0, "mismatch_counts"]
    '1-0-0-0-0'
    """
    settings = settings or SearchSettings()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    sites = search_offtargets(genome, guides, settings, threads=threads, progress=progress)
    timings["search"] = time.perf_counter() - t
    skipped: list[tuple[int, str]] = []
    if patient is not None:
        t = time.perf_counter()
        extra = patient_specific_sites(genome, guides, sites, patient, settings)
        sites = pd.concat([sites, extra], ignore_index=True) if len(extra) else sites
        skipped = list(patient.skipped)
        timings["patient"] = time.perf_counter() - t
    if annotation is not None:
        t = time.perf_counter()
        sites["region"] = [
            annotation.region(c, int(s), int(e))
            for c, s, e in zip(sites["chrom"], sites["start"], sites["end"], strict=True)
        ]
        timings["annotate"] = time.perf_counter() - t
    order = {g.name: i for i, g in enumerate(guides)}
    chroms = {c: i for i, c in enumerate(genome.names)}
    sites = (
        sites.assign(_g=sites["guide"].map(order), _c=sites["chrom"].map(chroms))
        .sort_values(["_g", "_c", "start", "strand", "patient_specific"], kind="stable")
        .drop(columns=["_g", "_c"])
        .reset_index(drop=True)
    )
    summary = summarize_sites(sites[~sites["patient_specific"]], guides, settings)
    summary["patient_specific_sites"] = [
        int(((sites["guide"] == g.name) & sites["patient_specific"]).sum()) for g in guides
    ]
    return OfftargetResult(sites, summary, settings, skipped, timings)
