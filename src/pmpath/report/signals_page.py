"""The disproportionality page (``signals.html``): the MGPS prior and its starts, EB05 against N, the pairs by EB05.

Follows the report's conventions: the shared ``base.html`` look, every number through
:mod:`pmpath.formatting`, text escaped by Jinja2, and plotly.js written beside the page
(``assets/plotly.min.js``) so that it opens offline and links to nothing outside itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from markupsafe import Markup

from pmpath import __version__
from pmpath.formatting import format_number
from pmpath.postmarket.signals import SignalTable
from pmpath.report.html import PLOTLY_ASSET, plotly_js, template_environment, write_report_text
from pmpath.report.output import report_directory
from pmpath.report.plots import plotly_config_json

__all__ = ["PAGE_ROWS", "PLOT_POINTS", "render_signals_page", "write_signals"]

PAGE_ROWS = 500
"""Pairs listed on the page (the first by EB05); ``signals.tsv`` has them all."""

PLOT_POINTS = 20_000
"""Pairs drawn in the plot: the first by EB05 (the rest sit at the bottom left, summarized)."""

_COLUMNS = ("drug", "event", "N", "E", "EBGM", "EB05", "EB95", "PRR", "ROR", "IC", "IC025")


@dataclass(frozen=True)
class _Platform:  # what base.html's header and footer show for a page not made from a dossier
    id: str
    data_cutoff: None = None
    synthetic: bool = False


def _json_script(value) -> Markup:
    """JSON safe inside a <script> element (no ``</``, no ``<!--``)."""
    text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _figure(result: SignalTable) -> tuple[Markup, str]:
    t = result.table
    shown = t.head(PLOT_POINTS)
    hover = [f"{d} · {e}" for d, e in zip(shown["drug"], shown["event"], strict=True)]
    n = shown["N"].to_numpy(dtype=float)
    eb05 = shown["EB05"].to_numpy(dtype=float)
    figure = {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "x": np.round(n, 0).tolist(),
                "y": [float(format_number(v, 4)) for v in eb05],
                "text": hover,
                "hovertemplate": "%{text}<br>N %{x}<br>EB05 %{y}<extra></extra>",
                "marker": {"size": 5, "opacity": 0.6, "color": "#2b4c9b"},
                "name": "pairs",
            }
        ],
        "layout": {
            "xaxis": {"type": "log", "title": {"text": "N (reports with the pair)"}},
            "yaxis": {"type": "log", "title": {"text": "EB05"}},
            "shapes": [
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": 2,
                    "y1": 2,
                    "line": {"dash": "dot", "color": "#9c1c1c", "width": 1},
                }
            ],
            "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
            "hovermode": "closest",
            "showlegend": False,
        },
    }
    left = len(t) - len(shown)
    what = (
        f"all {format_number(len(shown))} pairs"
        if left == 0
        else f"the {format_number(len(shown))} pairs with the largest EB05"
    )
    caption = (
        "EB05 (the 5% quantile of the posterior of the reporting ratio) against N, log scales, "
        f"for {what}; the dotted line is EB05 = 2."
    )
    if left > 0:
        caption += f" {format_number(left)} pairs with smaller EB05 are not drawn."
    return _json_script(figure), caption


def _start_rows(result: SignalTable) -> list[dict]:
    if result.fit is None:
        return []
    rows = []
    for k, s in enumerate(result.fit.starts, start=1):
        estimate = s.estimate.as_tuple() if s.estimate is not None else (None,) * 5
        rows.append(
            {
                "start": f"{k}: " + ", ".join(format_number(v, 3) for v in s.start.as_tuple()),
                "estimate": [format_number(v, 5) for v in estimate],
                "negll": format_number(s.neg_log_likelihood, 10),
                "converged": "yes" if s.converged else f"no ({s.message})",
                "iterations": str(s.iterations),
            }
        )
    return rows


@dataclass(frozen=True)
class _View:
    source: str
    reports: str
    pairs: str
    prior_text: str
    prior_numbers: list[tuple[str, str]]
    starts: list[dict]
    method: str
    figure: Markup
    figure_caption: str
    columns: tuple[str, ...]
    rows: list[list[str]]
    table_note: str
    problems: list[str]
    problem_total: str
    notes: list[str]


def _cell(column: str, value) -> str:
    if column in ("drug", "event"):
        return str(value)
    if column == "N":
        return str(int(value))
    if isinstance(value, float) and np.isinf(value):
        return "∞"
    return format_number(value, 4)


def render_signals_page(result: SignalTable, out_dir: Path, *, source: str) -> Path:
    """Write ``signals.html`` (and ``assets/plotly.min.js``) into ``out_dir``; returns the page's path."""
    out_dir = Path(out_dir)
    prior = result.prior
    numbers = [
        ("α1, β1", f"{format_number(prior.alpha1, 6)}, {format_number(prior.beta1, 6)}"),
        ("α2, β2", f"{format_number(prior.alpha2, 6)}, {format_number(prior.beta2, 6)}"),
        ("P", format_number(prior.p, 6)),
    ]
    if result.fit is not None:
        fit = result.fit
        numbers += [
            (
                "−log-likelihood",
                f"{format_number(fit.neg_log_likelihood, 10)} on {format_number(fit.points)} points",
            ),
            ("Starts converged", f"{sum(s.converged for s in fit.starts)} of {len(fit.starts)}"),
        ]
        prior_text = (
            "Fitted by maximum likelihood, truncated at N* = 1, on "
            + {
                "auto": "the pairs squashed as openEBGM's autoSquash squashes them.",
                "two-step": "the pairs squashed as openEBGM's squashData (counts 1 and 2).",
                "none": "every pair (not squashed).",
            }[result.squashing]
        )
    else:
        prior_text = "Given, not fitted."
    if result.strata:
        numbers.append(("Strata of E", ", ".join(result.strata)))
    figure, caption = _figure(result)
    shown = result.table.head(PAGE_ROWS)
    rows = [
        [_cell(c, v) for c, v in zip(_COLUMNS, r, strict=True)]
        for r in shown[list(_COLUMNS)].itertuples(index=False, name=None)
    ]
    note = (
        f"The {format_number(len(shown))} pairs with the largest EB05 of {format_number(len(result.table))}; "
        "signals.tsv has every pair and every column at full precision. PRR and ROR are crude (unstratified)."
    )
    view = _View(
        source=source,
        reports=format_number(result.reports),
        pairs=format_number(len(result.table)),
        prior_text=prior_text,
        prior_numbers=numbers,
        starts=_start_rows(result),
        method=(
            "EBGM = exp(E[log λ | N]); EB05 and EB95 are the 5% and 95% quantiles of the posterior "
            "two-gamma mixture (DuMouchel 1999). IC = log2((N + 0.5)/(E + 0.5)) with limits from "
            "gamma(N + 0.5, E + 0.5) quantiles (Norén et al. 2013)."
        ),
        figure=figure,
        figure_caption=caption,
        columns=_COLUMNS,
        rows=rows,
        table_note=note,
        problems=result.log.summary(),
        problem_total=format_number(result.log.total),
        notes=list(result.log.notes),
    )
    env = template_environment()
    page = env.get_template("signals.html").render(
        view=view,
        platform=_Platform(id=source),
        version=__version__,
        plotly_src=PLOTLY_ASSET,
        plotly_config=Markup(plotly_config_json()),
    )
    path = out_dir / "signals.html"
    write_report_text(path, page)
    write_report_text(out_dir / PLOTLY_ASSET, plotly_js())
    return path


def write_signals(result: SignalTable, out: Path, *, source: str) -> Path:
    """Write ``OUT/signals.tsv``, ``prior.json``, ``import_log.tsv`` and ``signals.html``; ``OUT`` is replaced atomically.

    ``OUT`` is created, or replaced in one step when it holds earlier pmpath output; any other
    folder is refused (:class:`pmpath.errors.UsageError`), as for every pmpath report.
    """
    prior = {"pmpath_version": __version__, "source": source, **result.prior_json()}
    with report_directory(Path(out), dossier_root=None, dossier_fingerprint=None) as tmp:
        (tmp / "signals.tsv").write_text(result.to_tsv(), encoding="utf-8", newline="\n")
        (tmp / "prior.json").write_text(
            json.dumps(prior, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        (tmp / "import_log.tsv").write_text(result.log.to_tsv(), encoding="utf-8", newline="\n")
        render_signals_page(result, tmp, source=source)
    return Path(out) / "signals.html"
