"""The sequential monitoring output (``pmpath postmarket monitor``): monitor.tsv, monitor.json, import_log.tsv, a chart per event and monitor.html.

Follows the report's conventions: the shared ``base.html`` look, every number in human text
through :mod:`pmpath.formatting`, text escaped by Jinja2, static SVG charts drawn by
:class:`pmpath.report.plots.Chart`, and the folder replaced in one step by
:func:`pmpath.report.output.report_directory`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from pmpath import __version__
from pmpath.formatting import format_number
from pmpath.postmarket.monitor import EventMonitoring, MonitorResult, RowProblem, summarize_problems
from pmpath.report.html import template_environment, write_report_text
from pmpath.report.output import report_directory
from pmpath.report.plots import BLUE, DARK, GREY, VERMILLION, Chart, Line, Markers, VLine

__all__ = ["event_chart", "import_log_tsv", "monitor_tsv", "write_monitor"]

_LOOK_COLUMNS = (
    "Look",
    "Observed",
    "Expected",
    "Events",
    "LLR",
    "Critical value",
    "Signals at",
    "Status",
)


@dataclass(frozen=True)
class _Platform:  # what base.html's header and footer show for a page not made from a dossier
    id: str
    data_cutoff: None = None
    synthetic: bool = False


def _cell(value: object) -> str:
    """A TSV cell: full precision for numbers, tabs and line breaks escaped in text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def monitor_tsv(result: MonitorResult) -> str:
    """``monitor.tsv``: one line per event and look, columns :attr:`MonitorResult.TABLE_COLUMNS`."""
    lines = ["\t".join(result.TABLE_COLUMNS)]
    for row in result.table_rows():
        lines.append("\t".join(_cell(row[c]) for c in result.TABLE_COLUMNS))
    return "\n".join(lines) + "\n"


def import_log_tsv(problems: tuple[RowProblem, ...]) -> str:
    """``import_log.tsv``: source, record, problem, example; one line per record set aside."""
    lines = ["source\trecord\tproblem\texample"]
    for p in problems:
        lines.append("\t".join(_cell(v) for v in (p.source, p.record, p.problem, p.example)))
    return "\n".join(lines) + "\n"


def _axis(e: EventMonitoring) -> str:
    return (
        "Cumulative expected events"
        if e.method == "poisson"
        else "Cumulative events (cases + controls)"
    )


def _sample(e: EventMonitoring) -> list[float]:
    return [lk.expected if e.method == "poisson" else float(lk.events or 0) for lk in e.looks]


def event_chart(e: EventMonitoring, name: str) -> Chart:
    """The log-likelihood ratio at each look against the critical value, over the cumulative sample."""
    x = _sample(e)
    y = [lk.llr for lk in e.looks]
    cv = e.design.critical_value
    end = e.max_sample_size
    layers: list = [
        Line(x=[0.0, end], y=[cv, cv], name="critical value", color=VERMILLION, dash="dash"),
        Line(x=[0.0, *x], y=[0.0, *y], name="log-likelihood ratio", color=BLUE, marker_size=5.0),
        VLine(x=end, label="end of surveillance", color=GREY),
    ]
    signal = [(xi, lk.llr) for xi, lk in zip(x, e.looks, strict=True) if lk.status == "signal"]
    if signal:
        layers.append(
            Markers(
                x=[signal[0][0]],
                y=[signal[0][1]],
                name="signal",
                color=DARK,
                symbol="diamond",
                size=10.0,
            )
        )
    top = max([cv, *y]) * 1.1 if y else cv * 1.1
    return Chart(
        name=name,
        title=f"{e.code}: {e.label}",
        x_label=_axis(e),
        y_label="Log-likelihood ratio",
        layers=tuple(layers),
        x_range=(0.0, max([end, *x]) * 1.02),
        y_range=(0.0, top),
        height=360,
        scope="cohort",
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "event"


def _sentence(e: EventMonitoring) -> str:
    unit = "expected events" if e.method == "poisson" else "events"
    if e.status == "signal":
        lk = next(lk for lk in e.looks if lk.status == "signal")
        return (
            f"Signal at look {lk.look}: {format_number(lk.observed)} observed against"
            f" {format_number(lk.expected)} expected, log-likelihood ratio {format_number(lk.llr)}"
            f" at or above the critical value {format_number(e.design.critical_value, 6)}."
        )
    if e.status == "no data":
        return "No looks in the event data."
    last = e.looks[-1]
    where = (
        "Surveillance ended without a signal"
        if e.status == "ended"
        else f"No signal so far; surveillance continues to {format_number(e.max_sample_size)} {unit}"
    )
    return (
        f"{where}: after look {last.look}, {format_number(last.observed)} observed against"
        f" {format_number(last.expected)} expected, log-likelihood ratio {format_number(last.llr)}"
        f" below the critical value {format_number(e.design.critical_value, 6)}."
    )


def _numbers(e: EventMonitoring) -> list[tuple[str, str]]:
    d = e.design
    kind = "continuous" if d.continuous else f"group sequential, {len(d.looks)} looks"
    unit = "expected events" if e.method == "poisson" else "events"
    return [
        ("Method", f"{e.method} MaxSPRT, {kind}"),
        ("Critical value", format_number(d.critical_value, 7)),
        ("Alpha", f"{format_number(d.alpha, 4)} (target {format_number(d.alpha_target)})"),
        ("Maximum sample size", f"{format_number(e.max_sample_size)} {unit}"),
        ("Fewest events to signal", format_number(e.min_events)),
    ]


def _rows(e: EventMonitoring) -> list[list[str]]:
    return [
        [
            lk.look,
            format_number(lk.observed),
            format_number(lk.expected),
            format_number(lk.events) if lk.events is not None else "",
            format_number(lk.llr),
            format_number(lk.critical_value, 6),
            format_number(lk.critical_count) if lk.critical_count is not None else "none",
            lk.status,
        ]
        for lk in e.looks
    ]


def write_monitor(result: MonitorResult, out: Path, *, source: str) -> Path:
    """Write monitor.tsv, monitor.json, import_log.tsv, plots/<event>.svg and monitor.html into ``out``.

    ``out`` is created, or replaced in one step when it holds earlier pmpath output; any other
    folder is refused (:class:`pmpath.errors.UsageError`). Returns the page's path.
    """
    names = [f"{i + 1:02d}-{_slug(e.code)}" for i, e in enumerate(result.events)]
    charts = [
        event_chart(e, n) if e.looks else None for e, n in zip(result.events, names, strict=True)
    ]
    document = {"pmpath_version": __version__, "source": source, **result.to_json()}
    summary = summarize_problems(result.problems)
    with report_directory(Path(out), dossier_root=None, dossier_fingerprint=None) as tmp:
        write_report_text(tmp / "monitor.tsv", monitor_tsv(result))
        write_report_text(
            tmp / "monitor.json", json.dumps(document, indent=2, allow_nan=False) + "\n"
        )
        write_report_text(tmp / "import_log.tsv", import_log_tsv(result.problems))
        (tmp / "plots").mkdir()
        views = []
        for e, name, chart in zip(result.events, names, charts, strict=True):
            chart_path = None
            if chart is not None:
                chart_path = f"plots/{name}.svg"
                (tmp / chart_path).write_bytes(chart.svg())
            views.append(
                {
                    "anchor": f"event-{name}",
                    "code": e.code,
                    "label": e.label,
                    "sentence": _sentence(e),
                    "numbers": _numbers(e),
                    "chart": chart_path,
                    "caption": (
                        "The statistic at each look (blue) and the critical value (dashed); the test"
                        " signals the first time the statistic reaches it with at least"
                        f" {format_number(e.min_events)} events."
                    ),
                    "columns": _LOOK_COLUMNS,
                    "rows": _rows(e),
                    "notes": list(e.notes),
                }
            )
        signals = sum(e.status == "signal" for e in result.events)
        view = {
            "title": result.title or "monitoring plan",
            "source": source,
            "summary": f"{format_number(len(result.events))} events monitored, {format_number(signals)} with a signal",
            "events": views,
            "problems": summary,
            "problem_total": format_number(len(result.problems)),
        }
        page = (
            template_environment()
            .get_template("monitor.html")
            .render(view=view, platform=_Platform(id=source), version=__version__)
        )
        write_report_text(tmp / "monitor.html", page)
    return Path(out) / "monitor.html"
