"""The `pmpath postmarket` commands: sequential monitoring of pre-specified adverse events (``monitor``).

Registered as a sub-app at the end of :mod:`pmpath.cli`; shares its exit codes and options
through :mod:`pmpath.cli_common`: 0 done, 1 an analysis could not run, 2 invalid input (a bad
plan, bad event rows, a refused output folder), 3 the output could not be written.
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
    Verbose,
    _guarded,
    _line,
    _Steps,
    out,
)
from pmpath.formatting import format_number

__all__ = ["postmarket_app"]

postmarket_app = typer.Typer(
    help="Post-market safety: sequential monitoring of pre-specified adverse events.",
    no_args_is_help=True,
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
    fmt: FormatOpt = Format.text,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Each look's MaxSPRT statistic against its critical value: monitor.tsv, monitor.json, import_log.tsv, a chart per event, monitor.html.

    Bad event rows are left out, listed in import_log.tsv and counted here; the output is still
    written, and the command exits 2 so that no one mistakes an incomplete analysis for a clean one.
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
    page = write_monitor(result, out_dir, source=data.source)
    summary = summarize_problems(result.problems)
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
            _line(f"error: {line}")
        _line(
            f"invalid input: {len(result.problems)} record{'s' * (len(result.problems) != 1)}"
            f" left out (see {out_dir / 'import_log.tsv'})"
        )
        raise typer.Exit(EXIT_INVALID)
