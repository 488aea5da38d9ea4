"""`pmpath engagement`: target engagement from sequencing data: quantify editing in amplicon reads
(one sample, or a batch), splice correction from spliced alignments or RT-PCR reads, off-target
panels, and CRISPResso2 import.

Options follow CRISPResso2's names (``-r1``, ``-r2``, ``-a``, ``-an``, ``-g``) so its users feel at
home. Bad input (a malformed FASTQ, a guide not in the amplicon, a bad region) exits 2 with one line
naming the file, record or field, what was found and what was expected.
"""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pmpath.cli_common import Format, FormatOpt, Quiet, Verbose, _guarded, _Steps, err, out
from pmpath.errors import UsageError
from pmpath.formatting import format_interval, format_number, format_percent

__all__ = ["engagement_app"]

engagement_app = typer.Typer(
    help="Target engagement from sequencing reads, alignments and CRISPResso2 runs.",
    no_args_is_help=True,
)

SHEET_COLUMNS = ("sample", "r1", "r2", "amplicon", "guide", "editor", "control")


def _targets(
    amplicon: str,
    names: list[str] | None,
    guides: list[str],
    editor: str,
    window,
    intended,
    pe_extension,
):
    from pmpath.engagement.amplicon import (
        Amplicon,
        design_target,
        read_amplicons,
        reverse_complement,
    )

    amplicons = read_amplicons(amplicon)
    if names:
        if len(names) != len(amplicons):
            raise UsageError(
                f"amplicon name: {len(names)} given for {len(amplicons)} amplicon(s) (expected one each)"
            )
        amplicons = [Amplicon(n, a.sequence) for n, a in zip(names, amplicons, strict=True)]
    if not guides:
        raise UsageError("guide: none given (expected -g GUIDE)")
    targets = []
    for a in amplicons:
        if len(guides) == 1:  # one guide for every amplicon
            here = guides
        else:
            here = [
                g
                for g in guides
                if g.upper() in a.sequence or reverse_complement(g.upper()) in a.sequence
            ]
        if len(here) != 1:
            raise UsageError(
                f"amplicon {a.name!r}: {len(here)} of the guides occur in it (expected exactly one)"
            )
        targets.append(design_target(a, here[0], editor, window, intended, pe_extension))
    return targets


def _print_quantification(q, outdir: Path) -> None:
    table = Table(title=f"pmpath engagement quantify -> {outdir}", title_justify="left")
    for col in ("amplicon", "aligned", "class", "reads", "share"):
        table.add_column(col, justify="right" if col in ("aligned", "reads", "share") else "left")
    for a in q.amplicons:
        first = True
        for cls, n in a.classes.items():
            if n == 0:
                continue
            table.add_row(
                a.name if first else "",
                format_number(a.aligned, 9) if first else "",
                cls,
                format_number(n, 9),
                format_percent(a.share(cls)),
            )
            first = False
    out.print(table)
    out.print(
        f"{format_number(q.reads_in_input, 9)} reads, {format_number(q.not_aligned, 9)} not aligned",
        highlight=False,
    )


@engagement_app.command("quantify")
@_guarded()
def quantify_command(
    r1: Annotated[Path, typer.Option("-r1", "--fastq-r1", help="Reads (FASTQ or FASTQ.gz).")],
    amplicon: Annotated[
        str, typer.Option("-a", "--amplicon", help="Amplicon sequence, or a FASTA file of several.")
    ],
    guide: Annotated[
        list[str],
        typer.Option(
            "-g",
            "--guide",
            help="Guide (protospacer), either strand; repeat for several amplicons.",
        ),
    ],
    out_dir: Annotated[Path, typer.Option("-o", "--output", help="Output folder.")] = Path(
        "pmpath-engagement"
    ),
    r2: Annotated[Path | None, typer.Option("-r2", "--fastq-r2", help="Second mates.")] = None,
    amplicon_name: Annotated[
        list[str] | None, typer.Option("-an", "--amplicon-name", help="Amplicon name(s).")
    ] = None,
    editor: Annotated[str, typer.Option("--editor", help="abe, cbe, nuclease or prime.")] = "abe",
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            help="Protospacer positions FIRST-LAST from the PAM-distal end (default per editor).",
        ),
    ] = None,
    intended_position: Annotated[
        list[int] | None,
        typer.Option("--intended-position", help="Protospacer position of the target base."),
    ] = None,
    pe_extension: Annotated[
        str | None,
        typer.Option("--pe-extension", help="Prime editor: pegRNA RT template + PBS, 5'->3'."),
    ] = None,
    control_r1: Annotated[
        Path | None, typer.Option("--control-r1", help="Untreated control reads.")
    ] = None,
    control_r2: Annotated[
        Path | None, typer.Option("--control-r2", help="Untreated control second mates.")
    ] = None,
    min_mean_quality: Annotated[
        float, typer.Option("--min-mean-quality", help="Minimum mean read quality.")
    ] = 0.0,
    min_window_quality: Annotated[
        int,
        typer.Option("--min-window-quality", help="Minimum base quality at every window position."),
    ] = 0,
    min_identity: Annotated[
        float,
        typer.Option("--min-identity", help="Percent identity for a read to count as aligned."),
    ] = 60.0,
    per_read: Annotated[bool, typer.Option("--per-read", help="Also write reads.tsv.gz.")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the SVG plots.")] = False,
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Quantify editing in one sample: positions.tsv, classes.tsv, quantification.tsv, alleles.tsv, plots."""
    from pmpath.engagement.output import write_outputs
    from pmpath.engagement.quantify import quantify

    steps = _Steps(quiet or fmt == Format.json, verbose)
    targets = _targets(
        amplicon, amplicon_name, guide, editor, window, intended_position, pe_extension
    )
    steps.note(f"quantifying {r1}" + (f" + {r2}" if r2 else ""))
    q = quantify(
        r1,
        r2,
        targets=targets,
        control_r1=control_r1,
        control_r2=control_r2,
        min_identity=min_identity,
        min_mean_quality=min_mean_quality,
        min_window_quality=min_window_quality,
        per_read=per_read,
    )
    written = write_outputs(q, out_dir, plots=not no_plots)
    if fmt == Format.json:
        sys.stdout.write(
            json.dumps(
                {
                    "ok": True,
                    "output": str(out_dir),
                    "reads_in_input": q.reads_in_input,
                    "not_aligned": q.not_aligned,
                    "amplicons": [
                        {"amplicon": a.name, "classes": a.classes, "filtered": a.filtered}
                        for a in q.amplicons
                    ],
                    "files": [str(p) for p in written],
                }
            )
            + "\n"
        )
    elif quiet:
        out.print(str(out_dir), highlight=False)
    else:
        _print_quantification(q, out_dir)


# --------------------------------------------------------------------------- batch


def _read_sheet(sheet: Path) -> list[dict]:
    if not sheet.is_file():
        raise UsageError(f"{sheet}: no such sample sheet (expected a CSV file)")
    with sheet.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in ("sample", "r1", "amplicon", "guide") if c not in header]
        if missing:
            raise UsageError(
                f"{sheet}, line 1: missing column(s) {', '.join(missing)} "
                f"(expected {', '.join(SHEET_COLUMNS)})"
            )
        rows = []
        for line, row in enumerate(reader, 2):
            row = {k: (v or "").strip() for k, v in row.items() if k}
            row["_line"] = line
            if not row["sample"]:
                raise UsageError(f"{sheet}, line {line}: sample: empty (expected a sample id)")
            rows.append(row)
    if not rows:
        raise UsageError(f"{sheet}: no samples (expected one row per sample)")
    ids = [r["sample"] for r in rows]
    seen: set[str] = set()
    for r in rows:
        if r["sample"] in seen:
            raise UsageError(
                f"{sheet}, line {r['_line']}: sample: {r['sample']!r} repeats (expected unique ids)"
            )
        seen.add(r["sample"])
    for r in rows:
        c = r.get("control", "")
        if c and c not in ids:
            raise UsageError(
                f"{sheet}, line {r['_line']}: control: found {c!r} (expected the sample id of a row)"
            )
        for key in ("r1", "r2"):
            if r.get(key):
                p = Path(r[key])
                r[key] = str(p if p.is_absolute() else sheet.parent / p)
        a = r["amplicon"]
        if a and not set(a.upper()) <= set("ACGTN") and not Path(a).is_absolute():
            r["amplicon"] = str(sheet.parent / a)
    return rows


def _collect(rows: list[dict], out_dir: Path, sheet: Path) -> None:
    """OUT/summary.tsv from every sample's OUT/<sample>/summary.tsv, in the sheet's order."""
    from pmpath.atomic import write_bytes

    header, lines = None, []
    for r in rows:
        path = out_dir / r["sample"] / "summary.tsv"
        if not path.is_file():
            raise UsageError(
                f"{sheet}, line {r['_line']}: sample {r['sample']}: no {path} (expected the "
                "sample's own run: pmpath engagement batch SHEET --sample ID)"
            )
        text = path.read_text(encoding="utf-8").splitlines()
        if header is None:
            header = text[0]
        elif text[0] != header:
            raise UsageError(
                f"{path}: line 1: found other columns than {out_dir / rows[0]['sample']}"
            )
        lines += text[1:]
    write_bytes(out_dir / "summary.tsv", ("\n".join([header or "sample", *lines]) + "\n").encode())


def _worker_init() -> None:
    import numba

    numba.set_num_threads(1)  # one process per core: threads inside would oversubscribe


def _run_sample(row: dict):
    from pmpath.engagement.quantify import quantify

    targets = _targets(
        row["amplicon"],
        None,
        [row["guide"]],
        row.get("editor") or "abe",
        row.get("window") or None,
        [int(x) for x in row["intended_position"].split(";")]
        if row.get("intended_position")
        else None,
        row.get("pe_extension") or None,
    )
    return quantify(row["r1"], row.get("r2") or None, targets=targets)


@engagement_app.command("batch")
@_guarded()
def batch_command(
    sheet: Annotated[
        Path,
        typer.Argument(
            help="Sample sheet (CSV): sample, r1, r2, amplicon, guide, editor, control."
        ),
    ],
    out_dir: Annotated[
        Path, typer.Option("-o", "--output", help="Output folder (one subfolder per sample).")
    ] = Path("pmpath-engagement-batch"),
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Samples run at once (default: the cores).")
    ] = 0,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the SVG plots.")] = False,
    sample: Annotated[
        str | None,
        typer.Option(
            "--sample",
            help="Run only this sample of the sheet (and its control): one job of a workflow.",
        ),
    ] = None,
    collect: Annotated[
        bool,
        typer.Option(
            "--collect",
            help="Quantify nothing: gather OUT/<sample>/summary.tsv of every sample into OUT/summary.tsv.",
        ),
    ] = False,
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Quantify every sample of a sheet in parallel, then write OUT/summary.tsv across samples.

    ``--sample ID`` runs one sample and ``--collect`` gathers the per-sample summaries, the two
    steps of ``workflows/engagement/Snakefile`` (one cluster job per sample, then the summary).
    """
    from pmpath.engagement.output import summary_row, write_outputs, write_tsv
    from pmpath.engagement.quantify import compare_to_control

    rows = _read_sheet(sheet)
    if collect:
        _collect(rows, out_dir, sheet)
        if not quiet:
            out.print(str(out_dir / "summary.tsv"), highlight=False)
        return
    if sample is not None:
        chosen = [r for r in rows if r["sample"] == sample]
        if not chosen:
            raise UsageError(
                f"--sample: found {sample!r}, expected a sample id of {sheet} "
                f"({', '.join(r['sample'] for r in rows[:8])})"
            )
        control = chosen[0].get("control")
        keep = {sample, control} if control else {sample}
        rows_to_run = [r for r in rows if r["sample"] in keep]
    else:
        rows_to_run = rows
    rows, written_rows = (
        rows_to_run,
        [r for r in rows_to_run if sample is None or r["sample"] == sample],
    )
    workers = jobs or len(os.sched_getaffinity(0))
    results: dict[str, object] = {}
    show = not (quiet or fmt == Format.json)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
    )
    with (
        progress,
        ProcessPoolExecutor(
            max_workers=min(workers, len(rows)),
            initializer=_worker_init,
            # numba's thread pool does not survive fork: workers start from a clean server process
            mp_context=mp.get_context("forkserver"),
        ) as pool,
    ):
        task = progress.add_task("samples", total=len(rows))
        futures = {pool.submit(_run_sample, r): r for r in rows}
        for fut in as_completed(futures):
            r = futures[fut]
            try:
                results[r["sample"]] = fut.result()
            except UsageError as exc:
                for f in futures:
                    f.cancel()
                raise UsageError(
                    f"{sheet}, line {r['_line']} (sample {r['sample']}): {exc}"
                ) from exc
            progress.advance(task)
    summary = []
    for r in written_rows:
        q = results[r["sample"]]
        if r.get("control"):
            q = compare_to_control(q, results[r["control"]])
        write_outputs(q, out_dir / r["sample"], plots=not no_plots)
        own = summary_row(r["sample"], q)
        write_tsv(
            out_dir / r["sample"] / "summary.tsv",
            tuple(own[0].keys()),
            [list(x.values()) for x in own],
        )
        summary += own
    columns = tuple(summary[0].keys()) if summary else ("sample",)
    if sample is None:
        write_tsv(out_dir / "summary.tsv", columns, [list(s.values()) for s in summary])
    if fmt == Format.json:
        sys.stdout.write(
            json.dumps({"ok": True, "output": str(out_dir), "samples": summary}, default=str) + "\n"
        )
        return
    if quiet:
        out.print(str(out_dir / "summary.tsv"), highlight=False)
        return
    table = Table(title=f"pmpath engagement batch -> {out_dir}", title_justify="left")
    for col in ("sample", "amplicon", "reads", "edited", "target conversion (95% CI)"):
        table.add_column(col, justify="left" if col in ("sample", "amplicon") else "right")
    for s in summary:
        conv = (
            f"{format_percent(s['target_conversion_pct'] / 100)} "
            f"({format_interval(s['target_ci_low'] / 100, s['target_ci_high'] / 100, '%')})"
            if s["target_position"]
            else "–"
        )
        table.add_row(
            s["sample"],
            s["amplicon"],
            format_number(s["reads_classified"], 9),
            format_percent(s["edited_pct"] / 100),
            conv,
        )
    out.print(table)


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
