"""`pmpath engagement`: target engagement from sequencing reads (quantify one sample, or a batch).

Options follow CRISPResso2's names (``-r1``, ``-r2``, ``-a``, ``-an``, ``-g``) so its users feel at
home. Bad input (a malformed FASTQ, a guide not in the amplicon) exits 2 with one line naming the
file, record or field, what was found and what was expected.
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
    help="Target engagement from sequencing reads: editing quantification (CRISPResso2-compatible).",
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
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Quantify every sample of a sheet in parallel, then write OUT/summary.tsv across samples."""
    from pmpath.engagement.output import summary_row, write_outputs, write_tsv
    from pmpath.engagement.quantify import compare_to_control

    rows = _read_sheet(sheet)
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
    for r in rows:
        q = results[r["sample"]]
        if r.get("control"):
            q = compare_to_control(q, results[r["control"]])
        write_outputs(q, out_dir / r["sample"], plots=not no_plots)
        summary += summary_row(r["sample"], q)
    columns = tuple(summary[0].keys()) if summary else ("sample",)
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
