"""Off-target site editing on a multiplexed amplicon panel: read and validate the panel file the
off-target search writes, and compare each site's edit % in treated against control.

``PANEL.tsv`` (tab-separated, header line) has one row per candidate site: ``site_id``, ``guide``,
``chrom``, ``start``, ``end`` (1-based inclusive, the protospacer on the genome), ``strand``
(``+``/``-``), ``amplicon`` (the site with 150 bp either side, as on the + strand) and ``cfd`` (the
CFD score, 0 to 1). Per site the statistics are those of :mod:`pmpath.engagement.compare`:
background rate, edit % above background with a Newcombe interval, one-sided Fisher's exact test
and Benjamini-Hochberg control over the sites tested. The result is a caveat shown beside
criterion 2, never a verdict by itself.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pmpath.engagement.compare import CountComparison, SiteComparison, compare_counts
from pmpath.engagement.compare import tsv_cell as _cell
from pmpath.errors import AnalysisError, UsageError

__all__ = [
    "PANEL_COLUMNS",
    "PANEL_RESULT_COLUMNS",
    "PanelResult",
    "PanelSite",
    "PanelSiteResult",
    "compare_panel",
    "quantify_panel_reads",
    "read_panel",
    "read_site_counts",
    "write_panel_tsv",
]

PANEL_COLUMNS = ("site_id", "guide", "chrom", "start", "end", "strand", "amplicon", "cfd")
_DNA = re.compile(r"^[ACGTN]+$")


@dataclass(frozen=True)
class PanelSite:
    """One candidate off-target site of the panel (a row of PANEL.tsv)."""

    site_id: str
    guide: str
    chrom: str
    start: int
    end: int
    strand: str
    amplicon: str
    cfd: float


def _fail(path: Path, line: int, column: str, found: object, expected: str) -> UsageError:
    return UsageError(f"{path}: line {line}: column {column}: found {found!r}, expected {expected}")


def read_panel(path: Path | str) -> tuple[PanelSite, ...]:
    """Read and validate ``PANEL.tsv``; every error names the line and column.

    Raises
    ------
    UsageError
        Missing file or column, a malformed cell, or a repeated ``site_id``.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: file not found, expected the off-target panel (PANEL.tsv)")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh, delimiter="\t"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from exc
    rows = [(i, r) for i, r in enumerate(rows, start=1) if r and not r[0].startswith("#")]
    if not rows:
        raise UsageError(
            f"{path}: empty file, expected a header line with {', '.join(PANEL_COLUMNS)}"
        )
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    missing = [c for c in PANEL_COLUMNS if c not in header]
    if missing:
        raise UsageError(
            f"{path}: line {header_line}: columns {', '.join(missing)} missing, expected {', '.join(PANEL_COLUMNS)}"
        )
    at = {c: header.index(c) for c in PANEL_COLUMNS}
    sites: list[PanelSite] = []
    seen: dict[str, int] = {}
    for line, row in rows[1:]:
        if len(row) < len(header):
            raise UsageError(f"{path}: line {line}: found {len(row)} cells, expected {len(header)}")
        cell = {c: row[at[c]].strip() for c in PANEL_COLUMNS}
        site_id = cell["site_id"]
        if not site_id:
            raise _fail(path, line, "site_id", site_id, "a site identifier")
        if site_id in seen:
            raise _fail(
                path, line, "site_id", site_id, f"a new id (already on line {seen[site_id]})"
            )
        seen[site_id] = line
        if not cell["guide"]:
            raise _fail(path, line, "guide", "", "the guide's name (or spacer)")
        if not _DNA.match(cell["amplicon"].upper()):
            raise _fail(
                path, line, "amplicon", cell["amplicon"][:30], "a DNA sequence of A, C, G, T, N"
            )
        if not cell["chrom"]:
            raise _fail(path, line, "chrom", "", "a chromosome name")
        bounds = {}
        for column in ("start", "end"):
            try:
                bounds[column] = int(cell[column])
            except ValueError:
                raise _fail(
                    path, line, column, cell[column], "a 0-based position (as SITES.tsv)"
                ) from None
            if bounds[column] < 0:
                raise _fail(path, line, column, bounds[column], "a 0-based position (>= 0)")
        if bounds["end"] <= bounds["start"]:
            raise _fail(
                path, line, "end", bounds["end"], f"> start ({bounds['start']}), end exclusive"
            )
        if cell["strand"] not in ("+", "-"):
            raise _fail(path, line, "strand", cell["strand"], "+ or -")
        try:
            cfd = float(cell["cfd"])
        except ValueError:
            cfd = math.nan
        if cell["cfd"] and not (math.isfinite(cfd) and 0 <= cfd <= 1):
            raise _fail(
                path, line, "cfd", cell["cfd"], "a CFD score between 0 and 1, or empty (NA)"
            )
        if len(cell["amplicon"]) < bounds["end"] - bounds["start"]:
            raise _fail(
                path,
                line,
                "amplicon",
                f"{len(cell['amplicon'])} bases",
                f"at least the site's {bounds['end'] - bounds['start']} bases",
            )
        sites.append(
            PanelSite(
                site_id,
                cell["guide"],
                cell["chrom"],
                bounds["start"],
                bounds["end"],
                cell["strand"],
                cell["amplicon"].upper(),
                cfd,
            )
        )
    if not sites:
        raise UsageError(f"{path}: no site rows, expected at least one site after the header")
    return tuple(sites)


def read_site_counts(path: Path | str) -> dict[str, tuple[int, int]]:
    """Per-site ``(edited, total)`` from a TSV with columns ``site_id``, ``edited``, ``total``
    (for counts made elsewhere, e.g. by another quantifier)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: file not found, expected site counts (site_id, edited, total)")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        need = ("site_id", "edited", "total")
        if reader.fieldnames is None or any(c not in reader.fieldnames for c in need):
            raise UsageError(
                f"{path}: line 1: found {reader.fieldnames!r}, expected columns {', '.join(need)}"
            )
        out: dict[str, tuple[int, int]] = {}
        for line, row in enumerate(reader, start=2):
            try:
                edited, total = int(row["edited"]), int(row["total"])
            except (TypeError, ValueError):
                raise UsageError(
                    f"{path}: line {line}: found edited {row['edited']!r}, total {row['total']!r}, expected whole read counts"
                ) from None
            if not 0 <= edited <= total:
                raise UsageError(
                    f"{path}: line {line}: found {edited} edited of {total}, expected 0 <= edited <= total"
                )
            out[row["site_id"]] = (edited, total)
    return out


@dataclass(frozen=True)
class PanelSiteResult:
    """One site: the panel row and its comparison (None when treated or control had no reads)."""

    site: PanelSite
    treated: tuple[int, int] | None
    control: tuple[int, int] | None
    comparison: SiteComparison | None
    note: str = ""


@dataclass(frozen=True)
class PanelResult:
    """Every site of the panel, treated against control, BH-controlled over the tested sites."""

    sites: tuple[PanelSiteResult, ...]
    alpha: float
    comparison: CountComparison

    @property
    def edited_sites(self) -> tuple[PanelSiteResult, ...]:
        """Sites where treated exceeds control after Benjamini-Hochberg control."""
        return tuple(
            s for s in self.sites if s.comparison is not None and not s.comparison.not_different
        )


def compare_panel(
    sites: Sequence[PanelSite],
    treated: Mapping[str, tuple[int, int]],
    control: Mapping[str, tuple[int, int]],
    *,
    alpha: float = 0.05,
) -> PanelResult:
    """Per-site treated against control, with BH over the sites that have reads in both.

    Parameters
    ----------
    sites : sequence of PanelSite
    treated, control : mapping of site_id -> (edited, total)
        Per-site counts (from the quantifier, or :func:`read_site_counts`). A site missing from a
        mapping or with no reads is reported, untested, with a note.

    Raises
    ------
    UsageError
        A count names a site that is not on the panel.
    AnalysisError
        No site has reads in both treated and control.
    """
    ids = {s.site_id for s in sites}
    for name, counts in (("treated", treated), ("control", control)):
        unknown = sorted(set(counts) - ids)
        if unknown:
            raise UsageError(f"{name}: found site {unknown[0]!r}, expected a site_id of the panel")
    tested = [
        s
        for s in sites
        if treated.get(s.site_id, (0, 0))[1] > 0 and control.get(s.site_id, (0, 0))[1] > 0
    ]
    if not tested:
        raise AnalysisError(
            "no panel site has reads in both treated and control, nothing to compare"
        )
    comparison = compare_counts(
        [treated[s.site_id] for s in tested],
        [control[s.site_id] for s in tested],
        [s.site_id for s in tested],
        alpha=alpha,
    )
    by_id = {c.label: c for c in comparison.sites}
    out = []
    for s in sites:
        c = by_id.get(s.site_id)
        t, k = treated.get(s.site_id), control.get(s.site_id)
        note = ""
        if c is None:
            side = "treated" if not t or t[1] == 0 else "control"
            note = f"no {side} reads at this site: not tested"
        out.append(PanelSiteResult(s, t, k, c, note))
    return PanelResult(tuple(out), alpha, comparison)


PANEL_RESULT_COLUMNS = (
    "site_id",
    "chrom",
    "start",
    "end",
    "strand",
    "cfd",
    "treated_edited",
    "treated_total",
    "treated_pct",
    "control_edited",
    "control_total",
    "background_pct",
    "above_background_pct",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "not_different",
    "note",
)


def write_panel_tsv(result: PanelResult, path: Path | str) -> Path:
    """Write ``panel.tsv``: one row per site (percentages in %, interval Newcombe hybrid score of
    the difference, p one-sided Fisher's exact, q Benjamini-Hochberg over the tested sites)."""
    from pmpath import atomic

    lines = ["\t".join(PANEL_RESULT_COLUMNS)]
    for r in result.sites:
        s, c = r.site, r.comparison
        t = r.treated or (None, None)
        k = r.control or (None, None)
        row = [
            s.site_id,
            s.chrom,
            s.start,
            s.end,
            s.strand,
            s.cfd,
            t[0],
            t[1],
            None if c is None else c.treated_pct,
            k[0],
            k[1],
            None if c is None else c.background_pct,
            None if c is None else c.above_background_pct,
            None if c is None else c.ci_low,
            None if c is None else c.ci_high,
            None if c is None else c.p_value,
            None if c is None else c.q_value,
            None if c is None else c.not_different,
            r.note,
        ]
        lines.append("\t".join(_cell(x) for x in row))
    path = Path(path)
    atomic.write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path


def _site_protospacer(site: PanelSite, flank: int = 150, pam_length: int = 3) -> str:
    """The site's protospacer as it reads on its own strand, from the amplicon (site +- ``flank``)."""
    from pmpath.engagement.amplicon import reverse_complement

    span = site.end - site.start
    offset = min(flank, site.start)  # a site near its contig's start has less flank
    bases = site.amplicon[offset : offset + span]
    if site.strand == "+":
        return bases[: span - pam_length]
    return reverse_complement(bases)[: span - pam_length]


def quantify_panel_reads(
    sites: Sequence[PanelSite],
    r1: Path,
    r2: Path | None = None,
    *,
    editor: str = "nuclease",
) -> dict[str, tuple[int, int]]:
    """Per-site ``(edited, total)`` from a multiplexed panel's reads, through the quantifier.

    Each site is one amplicon, its protospacer the site's own bases (an off-target site differs from
    the guide); reads are assigned to the amplicon they align to best. A nuclease counts modified
    reads (an indel or substitution in the window) of the aligned ones; a base editor the reads
    converted at any editable base of the window, of those covering the window's first editable base.
    """
    import numpy as np

    from pmpath.engagement.amplicon import Amplicon, design_target
    from pmpath.engagement.quantify import quantify

    targets = [
        design_target(Amplicon(site.site_id, site.amplicon), _site_protospacer(site), editor)
        for site in sites
    ]
    result = quantify(r1, r2, targets=targets)
    counts: dict[str, tuple[int, int]] = {}
    for site, amp in zip(sites, result.amplicons, strict=True):
        if editor == "nuclease" or amp.target.from_base is None:
            c = amp.crispresso_counts()
            counts[site.site_id] = (int(c["Modified"]), int(c["Reads_aligned"]))
        else:
            converted, coverage, _lo, _hi = amp.conversion()
            idx = [i for i in amp.target.editable]
            if not idx:
                counts[site.site_id] = (0, int(amp.aligned))
                continue
            best = max(idx, key=lambda i: np.nan_to_num(converted[i]))
            counts[site.site_id] = (int(np.nan_to_num(converted[best])), int(coverage[best]))
    return counts
