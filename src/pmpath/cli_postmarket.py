"""The `pmpath postmarket` commands: `signals` (disproportionality of drug-event pairs in spontaneous
reports) and `monitor` (sequential monitoring of pre-specified adverse events).

Registered as a sub-app at the end of :mod:`pmpath.cli`; shares its exit codes and options
through :mod:`pmpath.cli_common`: 0 done, 1 an analysis could not run, 2 invalid input (bad rows,
a bad plan, a refused output folder), 3 the output could not be written.
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

__all__ = ["postmarket_app"]

postmarket_app = typer.Typer(
    name="postmarket",
    help="Post-market safety: disproportionality signals in spontaneous reports, sequential monitoring.",
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


@postmarket_app.command("monitor")
@_guarded()
def monitor_command(
    plan: Annotated[
        Path, typer.Option("--plan", help="MONITOR.yaml: the events, their method and design.")
    ],
    events: Annotated[
        Path,
        typer.Option(
            "--events", help="EVENTS.csv: one row per event and look (counts of the look)."
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output folder (replaced if it holds pmpath output)."),
    ],
    strict: Strict = False,
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Each look's MaxSPRT statistic against its critical value: monitor.tsv, monitor.json, import_log.tsv, a chart per event, monitor.html.

    Bad event rows are left out, listed in import_log.tsv, counted on stderr and marked in the page
    and monitor.json (``ok`` false); the command exits 0, as `signals` does. With ``--strict`` a bad
    row exits 2 and nothing is written.
    """
    from pmpath.postmarket.monitor import load_plan, monitor, read_events, summarize_problems
    from pmpath.report.monitor_page import write_monitor

    steps = _Steps(quiet or fmt == Format.json, verbose)
    steps.note(f"reading {plan}")
    the_plan = load_plan(plan)
    steps.note(f"reading {events}")
    data = read_events(events, the_plan)
    steps.note(f"computing critical values for {len(the_plan.events)} events")
    result = monitor(the_plan, data)
    summary = summarize_problems(result.problems)
    if result.problems and strict:
        for line in summary:
            _line(f"error: {line}")
        _line("invalid input (--strict): nothing was written")
        raise typer.Exit(EXIT_INVALID)
    page = write_monitor(result, out_dir, source=data.source)
    if fmt == Format.json:
        document = {
            "ok": not result.problems,
            "out": str(out_dir),
            "events": [
                {
                    "code": e.code,
                    "status": e.status,
                    "signal_look": e.signal_look,
                    "critical_value": e.design.critical_value,
                    "alpha": e.design.alpha,
                }
                for e in result.events
            ],
            "import_problems": [
                {"source": p.source, "record": p.record, "problem": p.problem}
                for p in result.problems
            ],
        }
        sys.stdout.write(json.dumps(document) + "\n")
    else:
        if not quiet:
            for e in result.events:
                where = f" at look {e.signal_look}" if e.signal_look is not None else ""
                last = e.looks[-1] if e.looks else None
                detail = (
                    f"; last look {last.look}: LLR {format_number(last.llr)}, critical value"
                    f" {format_number(e.design.critical_value, 6)}"
                    if last is not None
                    else ""
                )
                out.print(
                    f"{e.code} ({e.label}): {e.status}{where}{detail}",
                    highlight=False,
                    markup=False,
                )
                for note in e.notes:
                    steps.detail(f"{e.code}: {note}")
        out.print(
            f"written: {out_dir / 'monitor.tsv'}, monitor.json, import_log.tsv, plots/, {page.name}",
            highlight=False,
            markup=False,
        )
    if result.problems:
        for line in summary:
            _line(f"warning: {line}")
        _line(
            f"{len(result.problems)} record{'s' * (len(result.problems) != 1)} left out "
            f"(see {out_dir / 'import_log.tsv'}); --strict makes this an error"
        )
