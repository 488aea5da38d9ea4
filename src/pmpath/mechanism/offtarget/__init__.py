"""Genome-wide off-target search for CRISPR guides: mismatches, DNA and RNA bulges, CFD and MIT scores,
the region of each site, and sites that exist only in the patient's own genome."""

from pmpath.mechanism.offtarget.genome import Genome, read_genome
from pmpath.mechanism.offtarget.scoring import (
    cfd_score,
    cfd_specificity,
    mit_score,
    mit_specificity,
)
from pmpath.mechanism.offtarget.search import (
    SITE_COLUMNS,
    SUMMARY_COLUMNS,
    Guide,
    SearchSettings,
    read_guides,
    search_offtargets,
    summarize_sites,
)

__all__ = [
    "SITE_COLUMNS",
    "SUMMARY_COLUMNS",
    "Genome",
    "Guide",
    "SearchSettings",
    "cfd_score",
    "cfd_specificity",
    "mit_score",
    "mit_specificity",
    "read_genome",
    "read_guides",
    "search_offtargets",
    "summarize_sites",
]
