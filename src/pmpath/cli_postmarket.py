"""The `pmpath postmarket` commands: `signals` (disproportionality of drug-event pairs in spontaneous reports).

Registered as a sub-app at the end of :mod:`pmpath.cli`; shares its exit codes and options
through :mod:`pmpath.cli_common`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pmpath.cli_common import (
    EXIT_INVALID,
    Format,
    FormatOpt,
    Quiet,
    Strict,
    Verbose,
    _guarded,
    _line,
    _Steps,
    out,
)
from pmpath.errors import UsageError
from pmpath.formatting import format_number

postmarket_app = typer.Typer(
    name="postmarket",
    help="Post-market safety: disproportionality signals in spontaneous reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@postmarket_app.command("signals")
@_guarded()
def signals(
    reports: Annotated[
        Path | None,
        typer.Option(
            "--reports",
            help="CSV, TSV or Parquet file: one row per report x drug x event.",
        ),
    ] = None,
    faers: Annotated[
        Path | None,
        typer.Option(
            "--faers",
            help="Directory of FAERS quarterly ASCII extracts (DEMO, DRUG, REAC yyQn.txt), instead of --reports.",
        ),
    ] = None,
    id_col: Annotated[str, typer.Option("--id-col", help="Report id column.")] = "id",
    drug_col: Annotated[
        str, typer.Option("--drug-col", help="Drug column (openEBGM's caers.csv: var1).")
    ] = "drug",
    event_col: Annotated[
        str, typer.Option("--event-col", help="Event column (openEBGM's caers.csv: var2).")
    ] = "event",
    strata: Annotated[
        str,
        typer.Option(
            "--strata",
            help="Comma-separated stratum columns for E (with --faers: DEMO columns such as sex).",
        ),
    ] = "",
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output directory: created, or replaced atomically when it holds pmpath output; anything else is refused.",
        ),
    ] = Path("pmpath-signals"),
    squashing: Annotated[
        str,
        typer.Option(
            "--squashing",
            help="Points the prior is fitted on: auto (openEBGM's autoSquash), two-step (its squashData on counts 1 and 2), none (every pair).",
        ),
    ] = "auto",
    strict: Strict = False,
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """PRR, ROR, IC and MGPS (EBGM, EB05, EB95) of every drug-event pair: signals.tsv, prior.json, import_log.tsv, signals.html."""
    from pmpath.postmarket import detect_signals, read_faers, read_reports
    from pmpath.report.signals_page import write_signals

    if (reports is None) == (faers is None):
        raise UsageError(
            "--reports, --faers: found "
            + ("both" if reports is not None else "neither")
            + ", expected exactly one"
        )
    strata_cols = tuple(s.strip() for s in strata.split(",") if s.strip())
    steps = _Steps(quiet or fmt == Format.json, verbose)
    if reports is not None:
        steps.note(f"reading {reports}")
        rows = read_reports(
            reports, id_col=id_col, drug_col=drug_col, event_col=event_col, strata=strata_cols
        )
        source = reports.name
    else:
        steps.note(f"reading FAERS extracts under {faers}")
        rows = read_faers(faers, strata=strata_cols)
        source = faers.name or str(faers)
    log = rows.log
    if log and strict:
        for line in log.summary():
            _line(f"error: {line}")
        _line("invalid input (--strict): nothing was written")
        raise typer.Exit(EXIT_INVALID)
    steps.note(f"counting {len(rows)} report-drug-event rows")
    result = detect_signals(rows, squashing=squashing)
    for step, seconds in result.timings.items():
        steps.detail(f"{step}: {seconds:.2f} s")
    page = write_signals(result, out_dir, source=source)
    if fmt == Format.json:
        document = {
            "ok": True,
            "out": str(out_dir),
            "reports": result.reports,
            "pairs": len(result),
            "prior": result.prior.to_json(),
            "neg_log_likelihood": None if result.fit is None else result.fit.neg_log_likelihood,
            "import_problems": [{"source": s, "problem": p, "count": c} for s, p, c in log.counts],
        }
        sys.stdout.write(json.dumps(document) + "\n")
        return
    if not quiet:
        for line in log.summary():
            _line(f"warning: {line}")
        for note in log.notes:
            _line(f"note: {note}")
    if quiet:
        out.print(str(page), highlight=False)
        return
    out.print(
        f"{result.reports} reports, {len(result)} drug-event pairs; {result.fit or result.prior}",
        highlight=False,
    )
    top = result.table.head(10)
    for row in top.itertuples(index=False):
        out.print(
            f"  EB05 {format_number(row.EB05)}  EBGM {format_number(row.EBGM)}  N {row.N}  "
            f"{row.drug} · {row.event}",
            highlight=False,
            markup=False,
        )
    out.print(
        f"written: {out_dir / 'signals.tsv'}, prior.json, import_log.tsv, {page.name}",
        highlight=False,
    )
