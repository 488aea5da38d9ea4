"""`pmpath engagement ...`: target engagement from sequencing data (splice correction from spliced
alignments, off-target panels, CRISPResso2 import).

Each command is a self-contained function; the quantifier's own commands (quantify, batch) join
this sub-app from their module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pmpath.cli_common import Format, FormatOpt, Quiet, Verbose, _guarded, _Steps, out
from pmpath.errors import UsageError

__all__ = ["engagement_app"]

engagement_app = typer.Typer(
    help="Target engagement from sequencing reads, alignments and CRISPResso2 runs.",
    no_args_is_help=True,
)


def _out_dir(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out: found {path}, a file, expected a directory (created if absent)")
    path.mkdir(parents=True, exist_ok=True)
    return path


@engagement_app.command("splice")
@_guarded()
def engagement_splice(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    bam: Annotated[
        Path | None,
        typer.Option("--bam", help="Treated sample's spliced alignments (BAM; indexed or not)."),
    ] = None,
    aberrant: Annotated[
        str | None,
        typer.Option(
            "--aberrant",
            help="With --bam: aberrant junction CHR:START-END, 1-based first and last intron base (STAR's SJ.out.tab).",
        ),
    ] = None,
    corrected: Annotated[
        str | None,
        typer.Option("--corrected", help="With --bam: corrected junction CHR:START-END."),
    ] = None,
    control_bam: Annotated[
        Path | None, typer.Option("--control-bam", help="Untreated sample's alignments.")
    ] = None,
    reads: Annotated[
        Path | None,
        typer.Option("--reads", help="Instead of --bam: RT-PCR amplicon reads (FASTQ[.gz])."),
    ] = None,
    control_reads: Annotated[
        Path | None, typer.Option("--control-reads", help="Untreated RT-PCR amplicon reads.")
    ] = None,
    aberrant_isoform: Annotated[
        str | None,
        typer.Option(
            "--aberrant-isoform", help="With --reads: aberrant isoform, sequence or FASTA."
        ),
    ] = None,
    corrected_isoform: Annotated[
        str | None,
        typer.Option(
            "--corrected-isoform", help="With --reads: corrected isoform, sequence or FASTA."
        ),
    ] = None,
    min_mapq: Annotated[
        int, typer.Option("--min-mapq", min=0, help="Skip alignments below this mapping quality.")
    ] = 0,
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Percent corrected splicing (corrected / (corrected + aberrant) reads) with a
    Clopper-Pearson 95% interval, treated against untreated; writes OUT/splicing.tsv."""
    from pmpath.engagement.splice import (
        parse_junction,
        read_isoform,
        splice_correction,
        splice_correction_from_isoforms,
        write_splicing_tsv,
    )
    from pmpath.formatting import format_interval, format_number, format_p_value

    steps = _Steps(quiet or fmt == Format.json, verbose)
    if (bam is None) == (reads is None):
        raise UsageError(
            "--bam / --reads: give spliced alignments (--bam) or RT-PCR reads (--reads), one of them"
        )
    if bam is not None:
        if aberrant is None or corrected is None:
            raise UsageError(
                "--aberrant / --corrected: both junctions are needed with --bam (CHR:START-END)"
            )
        aberrant_j = parse_junction(aberrant, "--aberrant")
        corrected_j = parse_junction(corrected, "--corrected")
        steps.note(f"counting junction reads in {bam}")
        result = splice_correction(
            bam, aberrant_j, corrected_j, control_bam=control_bam, min_mapq=min_mapq
        )
    else:
        if aberrant_isoform is None or corrected_isoform is None:
            raise UsageError(
                "--aberrant-isoform / --corrected-isoform: both isoforms are needed with --reads"
            )
        a_name, a_seq = read_isoform(aberrant_isoform, "--aberrant-isoform")
        c_name, c_seq = read_isoform(corrected_isoform, "--corrected-isoform")
        steps.note(f"assigning reads of {reads} to the isoforms")
        result = splice_correction_from_isoforms(
            reads,  # type: ignore[arg-type]
            a_seq,
            c_seq,
            control_reads=control_reads,
            aberrant_name=a_name if a_name != "--aberrant-isoform" else "aberrant",
            corrected_name=c_name if c_name != "--corrected-isoform" else "corrected",
        )
    path = write_splicing_tsv(result, _out_dir(out_dir) / "splicing.tsv")
    if fmt == Format.json:
        t, c = result.treated, result.control
        sys.stdout.write(
            json.dumps(
                {
                    "ok": True,
                    "written": [str(path)],
                    "treated_corrected_pct": t.corrected_pct,
                    "control_corrected_pct": None if c is None else c.corrected_pct,
                    "p_value": None if result.comparison is None else result.comparison.p_value,
                }
            )
            + "\n"
        )
        return
    if quiet:
        out.print(str(path), highlight=False)
        return
    for s in (result.treated, result.control):
        if s is None:
            continue
        out.print(
            f"{s.sample}: {s.corrected_reads} corrected, {s.aberrant_reads} aberrant: "
            f"{format_number(s.corrected_pct)}% corrected splicing "
            f"(95% CI {format_interval(s.ci_low, s.ci_high)}%)",
            highlight=False,
        )
    if result.comparison is not None:
        c = result.comparison
        out.print(
            f"above untreated: {format_number(c.above_background_pct)} percentage points "
            f"(95% CI {format_interval(c.ci_low, c.ci_high)} points), one-sided Fisher p {format_p_value(c.p_value)}",
            highlight=False,
        )
    out.print(f"wrote {path}", highlight=False)


@engagement_app.command("panel")
@_guarded()
def engagement_panel(
    panel: Annotated[
        Path, typer.Option("--panel", help="PANEL.tsv of candidate off-target sites.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    r1: Annotated[Path | None, typer.Option("-r1", "--r1", help="Treated reads, R1 FASTQ.")] = None,
    r2: Annotated[Path | None, typer.Option("-r2", "--r2", help="Treated reads, R2 FASTQ.")] = None,
    control_r1: Annotated[
        Path | None, typer.Option("--control-r1", help="Control reads, R1 FASTQ.")
    ] = None,
    control_r2: Annotated[
        Path | None, typer.Option("--control-r2", help="Control reads, R2 FASTQ.")
    ] = None,
    counts: Annotated[
        Path | None,
        typer.Option(
            "--counts",
            help="Treated per-site counts TSV (site_id, edited, total), instead of reads.",
        ),
    ] = None,
    control_counts: Annotated[
        Path | None, typer.Option("--control-counts", help="Control per-site counts TSV.")
    ] = None,
    editor: Annotated[
        str,
        typer.Option("--editor", help="abe, cbe, nuclease or prime (how a site counts as edited)."),
    ] = "nuclease",
    alpha: Annotated[
        float,
        typer.Option("--alpha", min=0.0, max=1.0, help="Benjamini-Hochberg level over sites."),
    ] = 0.05,
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Off-target panel: per site edit % in treated and control, the difference with a Newcombe
    interval, one-sided Fisher's exact with Benjamini-Hochberg over sites; writes OUT/panel.tsv."""
    from pmpath.engagement.panel import (
        compare_panel,
        quantify_panel_reads,
        read_panel,
        read_site_counts,
        write_panel_tsv,
    )
    from pmpath.formatting import format_number

    steps = _Steps(quiet or fmt == Format.json, verbose)
    sites = read_panel(panel)
    if (r1 is None) == (counts is None):
        raise UsageError(
            "-r1 / --counts: give treated reads (-r1) or treated counts (--counts), one of them"
        )
    if (control_r1 is None) == (control_counts is None):
        raise UsageError(
            "--control-r1 / --control-counts: give control reads or control counts, one of them"
        )
    steps.note(f"{len(sites)} panel site(s) from {panel}")
    treated = (
        read_site_counts(counts)
        if counts is not None
        else quantify_panel_reads(sites, r1, r2, editor=editor)  # type: ignore[arg-type]
    )
    control = (
        read_site_counts(control_counts)
        if control_counts is not None
        else quantify_panel_reads(sites, control_r1, control_r2, editor=editor)  # type: ignore[arg-type]
    )
    result = compare_panel(sites, treated, control, alpha=alpha)
    path = write_panel_tsv(result, _out_dir(out_dir) / "panel.tsv")
    edited = [s.site.site_id for s in result.edited_sites]
    if fmt == Format.json:
        sys.stdout.write(
            json.dumps({"ok": True, "written": [str(path)], "edited_sites": edited}) + "\n"
        )
        return
    if quiet:
        out.print(str(path), highlight=False)
        return
    out.print(
        f"{len(edited)} of {len(result.comparison.sites)} tested site(s) edited above control "
        f"(Benjamini-Hochberg {format_number(alpha)}){': ' + ', '.join(edited) if edited else ''}",
        highlight=False,
    )
    out.print(f"wrote {path}", highlight=False)


@engagement_app.command("import-crispresso")
@_guarded()
def engagement_import_crispresso(
    folder: Annotated[
        Path, typer.Argument(help="A CRISPResso2 output folder (CRISPResso_on_NAME).")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Import a CRISPResso2 run: writes OUT/positions.tsv (pmpath's per-position definitions) and
    OUT/quantification.tsv (CRISPResso2's summary layout)."""
    from pmpath import atomic
    from pmpath.engagement.crispresso import read_crispresso, write_quantification_summary

    run = read_crispresso(folder, require_alleles=False)
    target = _out_dir(out_dir)
    columns = [
        "amplicon",
        "position",
        "ref",
        "A",
        "C",
        "G",
        "T",
        "N",
        "deletion",
        "coverage",
        "in_window",
        "conversion_pct",
        "ci_low",
        "ci_high",
    ]
    lines = ["\t".join(columns)]
    for a in run.amplicons:
        for p in a.positions:
            cells = [a.name, p.position, p.ref, p.A, p.C, p.G, p.T, p.N, p.deletion, p.coverage]
            cells += ["true" if p.in_window else "false"]
            cells += [
                "" if x is None else repr(round(x, 10))
                for x in (p.conversion_pct, p.ci_low, p.ci_high)
            ]
            lines.append("\t".join(str(c) for c in cells))
    positions = target / "positions.tsv"
    atomic.write_bytes(positions, ("\n".join(lines) + "\n").encode())
    summary = target / "quantification.tsv"
    write_quantification_summary([a.classes for a in run.amplicons], summary)
    written = [str(positions), str(summary)]
    if fmt == Format.json:
        sys.stdout.write(json.dumps({"ok": True, "written": written}) + "\n")
        return
    for w in written:
        out.print(w if quiet else f"wrote {w}", highlight=False)
