"""The report's plots: interactive Plotly figures and matching static SVGs, drawn from ``Verdict.plots``.

Each chart is described once as a :class:`Chart` (lines, markers, bands, bars, vertical lines,
shaded spans) and rendered twice: :meth:`Chart.plotly_json` for the HTML page and
:meth:`Chart.svg` (matplotlib, deterministic bytes) for the static copy. Builders read only the keys
below; a missing key draws nothing, malformed data is skipped with a note in the report, never a crash.
The natural-history builders mark their charts ``scope="cohort"``: they are the same for every
patient compared with the cohort, so a report draws them once.

Rendering is most of a report's time, so: the Plotly figure is built as plain dicts (plotly.py's
validation would cost more than everything else; a test checks it would accept them unchanged), the
SVG's margins are measured from its labels instead of drawing twice for ``bbox_inches="tight"``,
and :func:`render_svgs` draws many charts in worker processes.

The keys of ``Verdict.plots`` understood here (days are days from first dose, day 0 = first dose;
ages in years; numbers may be ``null`` where unknown; "name" and "unit" are optional labels)::

    criterion 1  {"variants": [{column: value, ...}, ...]}                    table, one row per dict
    criterion 2  {"alignment": {"lines": [str, ...], "title": str?}}          monospace text block
                 (or a list of such dicts)
    criterion 3  {"continuous": {endpoint_id: {
                      "observations": {"age": [...], "value": [...], "subject": [...]},
                      "grid": {"age": [...], "mean": [...], "lower": [...], "upper": [...]},
                      "unit": str, "name": str}},
                  "rates": {endpoint_id: {"rate_per_year": r, "lower": l, "upper": u,
                                          "name": str, "unit": str}},
                  "survival": {endpoint_id: {"timeline": [...], "survival": [...],
                                             "lower": [...], "upper": [...], "name": str}}}
                 continuous: cohort spaghetti (light) with the mean curve and its band; "subject"
                 may be left out (points only), and either "observations" or "grid" may be absent.
                 Optional: "quantiles" {"age", "lower", "median", "upper", "level"} (observed
                 quantiles by age over all subjects, dotted) and "n_subjects", "n_subjects_shown"
                 (the observations are a random sample of whole subjects: legend and caption say so).
                 rates: one forest plot of all count endpoints (events per person-year with CI).
                 survival: Kaplan-Meier step curve with its band; timeline is age in years.
    criterion 4  {"assays": [{"assay": s, "source": tier, "fraction": f,
                              "lower": l, "upper": u, "minimum": m}, ...]}
                 forest plot of the edited fraction with its interval per assay, grouped by tier
                 (source: patient, animal_model, patient_derived_cells, other_in_vitro), each
                 assay's required minimum as a dashed mark; lower, upper, minimum are optional.
    criterion 5  {"trajectory": TRAJECTORY,
                  "events": {"endpoint": id, "name": str?, "periods": {"start_day": [...],
                             "end_day": [...], "count": [...]},
                             "longest_gap": {"start_day": a, "end_day": b},
                             "concomitant": [CONCOMITANT, ...]},
                  "supportive": {endpoint_id: TRAJECTORY}}
                 TRAJECTORY = {"endpoint": id, "name": str, "unit": str, "direction": str,
                               "observed": {"day": [...], "value": [...], "phase": ["pre"|"post"]},
                               "prediction": {"day": [...], "mean": [...], "lower": [...],
                                              "upper": [...]},
                               "concomitant": [CONCOMITANT, ...]}
                 CONCOMITANT = {"day": d, "kind": k, "description": s}
                 trajectory: observed before (open circles) and after (filled diamonds) the first
                 dose, the predicted untreated mean and band, the first dose and each concomitant
                 change as vertical lines. "phase" may be left out (day < 0 is "pre"). events: bars
                 of events per 30 days for each period (count * 30 / (end_day - start_day)), the
                 longest event-free gap shaded.

The shapes the criterion adapters write today are read too (each builder's docstring has the
details): criterion 1 ``{"genotype": [row, ...]}`` (a table like "variants"); criterion 2
``{"alignment": [str, ...]}`` (the lines themselves); criterion 3 ``{"endpoints": {endpoint_id:
{"kind": "continuous"|"count"|"time_to_event", "name", "unit", "observations", "trajectory" (the
grid), "rate_per_year", "rate_ci", "subjects", "km" {age, survival, lower, upper}}}}``; criterion 4
``{"engagement_forest": {"confidence": c, "groups": [{"tier", "rows": [{"assay", "tier",
"edited_fraction", "lower", "upper", "minimum_fraction", "deciding"}]}]}}``.

The keys are looked up whatever the criterion number, so a criterion may carry any of them.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import multiprocessing as mp
import numbers
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path
from matplotlib.transforms import blended_transform_factory

from pmpath.dossier.vocabulary import DAYS_PER_YEAR
from pmpath.pathway.verdict import Verdict

if TYPE_CHECKING:
    import plotly.graph_objects as go

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
GREEN = "#009E73"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
GREY = "#999999"
DARK = "#333333"

TIER_ORDER = ("patient", "animal_model", "patient_derived_cells", "other_in_vitro")
TIER_COLORS = {
    "patient": BLUE,
    "animal_model": ORANGE,
    "patient_derived_cells": GREEN,
    "other_in_vitro": PURPLE,
}

# Fixed salt and no date make matplotlib's SVG output byte-identical from run to run. Text is
# written as SVG text (selectable, and a quarter of the drawing time that glyph outlines take), laid
# out with DejaVu Sans, which the viewer uses where installed, else a narrower sans-serif.
SVG_RC = {
    "svg.hashsalt": "pmpath-report",
    "svg.fonttype": "none",
    "text.usetex": False,
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
}

SVG_WORKERS = 4  # most worker processes drawing SVGs (the report's time budget assumes 2 cores)
_CHARTS_PER_WORKER = 3  # fewer charts than this per worker are drawn faster without the pool

# Nothing leaves the machine: no "send to cloud" / "edit in Chart Studio" button (plotly.js shows
# one by default), no logo linking to plotly's site, no server URL to post to.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "plotlyServerURL": "",
    "responsive": True,
}

Number = float | None


class PlotDataError(ValueError):
    """``Verdict.plots`` holds data in a shape the report cannot draw."""


# --- chart description ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A polyline; ``None`` in ``x`` or ``y`` breaks it (one trace can hold many subjects)."""

    x: Sequence[Number]
    y: Sequence[Number]
    name: str | None = None
    color: str = DARK
    dash: str = "solid"  # solid | dash | dot
    width: float = 1.5
    opacity: float = 1.0
    marker_size: float = 0.0  # > 0 also draws a marker at each point


@dataclass(frozen=True)
class Markers:
    x: Sequence[Number]
    y: Sequence[Number]
    name: str | None = None
    color: str = DARK
    symbol: str = "circle"  # circle | circle-open | diamond | square
    size: float = 7.0
    hover: Sequence[str] | None = None


@dataclass(frozen=True)
class Band:
    """A filled interval between ``lower`` and ``upper`` along ``x``."""

    x: Sequence[Number]
    lower: Sequence[Number]
    upper: Sequence[Number]
    name: str | None = None
    color: str = GREY
    opacity: float = 0.25


@dataclass(frozen=True)
class Bars:
    """Bars spanning ``start``..``end`` on the x axis with the given heights."""

    start: Sequence[float]
    end: Sequence[float]
    height: Sequence[float]
    name: str | None = None
    color: str = BLUE
    hover: Sequence[str] | None = None


@dataclass(frozen=True)
class VLine:
    x: float
    label: str = ""
    color: str = DARK
    dash: str = "dash"
    hover: str = ""


@dataclass(frozen=True)
class Span:
    """A shaded stretch of the x axis."""

    start: float
    end: float
    label: str = ""
    color: str = GREEN
    opacity: float = 0.15


Layer = Line | Markers | Band | Bars | VLine | Span

_PLOTLY_DASH = {"solid": "solid", "dash": "dash", "dot": "dot"}
_MPL_DASH = {"solid": "-", "dash": "--", "dot": ":"}
_MPL_MARKER = {
    "circle": ("o", True),
    "circle-open": ("o", False),
    "diamond": ("D", True),
    "square": ("s", True),
}


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:g})"


def _plotly_text(text: str) -> str:
    # plotly.js renders a subset of HTML in labels (including links); entities show text literally.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mpl_text(text: str) -> str:
    # A pair of dollar signs would start mathtext.
    return text.replace("$", r"\$")


def _array(values: Sequence[Number]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _finite(value: Any) -> float | None:
    """A number as a JSON-ready float; ``None`` (null: a gap for plotly.js) if missing or not finite."""
    if value is None:
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def _plain(values: Sequence[Any]) -> list[float | None]:
    return [_finite(v) for v in values]


def _without_none(d: dict[str, Any]) -> dict[str, Any]:
    # plotly.py drops properties set to None (and empty shape and annotation lists); doing the same
    # keeps the JSON equal to a validated figure's
    return {k: v for k, v in d.items() if v is not None}


# What plotly.py writes for template="none": plotly.js's own defaults, no theme.
_PLOTLY_TEMPLATE = {"data": {"scatter": [{"type": "scatter"}]}}
_PLOTLY_AXIS = {
    "showgrid": True,
    "gridcolor": "#e5e5e5",
    "zeroline": False,
    "linecolor": "#888",
    "showline": True,
    "ticks": "outside",
    "automargin": True,  # long tick labels (assay names) widen the margin instead of being cut
}

# Static layout, in points: the space around the axes is measured from the labels (see
# Chart._fit_axes) rather than found by drawing twice, as bbox_inches="tight" does.
_SVG_WIDTH_IN = 7.5
_OUTER_PT = 5.0  # blank border around everything
_TITLE_SIZE = 10.0
_TITLE_PAD_PT = 14.0  # title baseline above the axes: room for span labels drawn on the top edge
_SVG_TICKS = 6  # at most this many intervals between numbered ticks on an axis


@dataclass(frozen=True)
class Chart:
    """One plot, described once and rendered as a Plotly figure and a static SVG.

    ``scope`` says what the chart describes: ``"patient"`` (drawn for one patient) or ``"cohort"``
    (the natural-history cohort: the same chart on the page of every patient compared with it, so
    the report writes its SVG once). ``caption`` is a sentence the page prints under the chart
    (what a sampled chart leaves out, for instance); it is not drawn in the chart itself.
    """

    kind: ClassVar[str] = "chart"

    name: str  # file-name part: plots/<patient>_<criterion>_<name>.svg (cohort-<hash>-<name>.svg)
    title: str
    x_label: str
    y_label: str
    layers: tuple[Layer, ...]
    y_ticks: tuple[tuple[float, str], ...] = ()
    x_range: tuple[float, float] | None = None
    height: int = 420
    scope: Literal["patient", "cohort"] = "patient"
    caption: str = ""

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of everything drawn: equal charts, and only those, share it."""
        return hashlib.sha256(repr(self).encode("utf-8")).hexdigest()

    def plotly_dict(self) -> dict[str, Any]:
        """``{"data": [...], "layout": {...}}`` as plain JSON values; all label text escaped for plotly.js.

        Built directly rather than through ``plotly.graph_objects`` (whose validation costs more
        than the rest of the report); :meth:`plotly_figure` validates the same dict.
        """
        data: list[dict[str, Any]] = []
        shapes: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        for layer in self.layers:
            name = _plotly_text(layer.name) if getattr(layer, "name", None) else None
            legend = {"name": name, "showlegend": name is not None}
            if isinstance(layer, Line):
                data.append(
                    {
                        "type": "scatter",
                        "x": _plain(layer.x),
                        "y": _plain(layer.y),
                        "mode": "lines+markers" if layer.marker_size > 0 else "lines",
                        "line": {
                            "color": layer.color,
                            "dash": _PLOTLY_DASH[layer.dash],
                            "width": layer.width,
                        },
                        "marker": {"size": layer.marker_size, "color": layer.color},
                        "opacity": layer.opacity,
                        "connectgaps": False,
                        "hoverinfo": "x+y+name" if name else "x+y",
                        **legend,
                    }
                )
            elif isinstance(layer, Markers):
                data.append(
                    {
                        "type": "scatter",
                        "x": _plain(layer.x),
                        "y": _plain(layer.y),
                        "mode": "markers",
                        "marker": {
                            "color": layer.color,
                            "symbol": layer.symbol,
                            "size": layer.size,
                            "line": {"color": layer.color, "width": 1.5},
                        },
                        "hovertext": [_plotly_text(h) for h in layer.hover]
                        if layer.hover
                        else None,
                        **legend,
                    }
                )
            elif isinstance(layer, Band):
                keep = [
                    i
                    for i in range(len(layer.x))
                    if None not in (layer.x[i], layer.lower[i], layer.upper[i])
                ]
                xs = [layer.x[i] for i in keep]
                data.append(
                    {
                        "type": "scatter",
                        "x": _plain(xs + xs[::-1]),
                        "y": _plain(
                            [layer.upper[i] for i in keep] + [layer.lower[i] for i in keep][::-1]
                        ),
                        "mode": "lines",
                        "fill": "toself",
                        "fillcolor": _rgba(layer.color, layer.opacity),
                        "line": {"width": 0, "color": layer.color},
                        "hoverinfo": "skip",
                        **legend,
                    }
                )
            elif isinstance(layer, Bars):
                data.append(
                    {
                        "type": "bar",
                        "x": _plain(
                            [(a + b) / 2 for a, b in zip(layer.start, layer.end, strict=True)]
                        ),
                        "y": _plain(layer.height),
                        "width": _plain(
                            [b - a for a, b in zip(layer.start, layer.end, strict=True)]
                        ),
                        "marker": {"color": layer.color, "line": {"color": "white", "width": 1}},
                        "hovertext": [_plotly_text(h) for h in layer.hover]
                        if layer.hover
                        else None,
                        "hoverinfo": "text" if layer.hover else "x+y",
                        **legend,
                    }
                )
            elif isinstance(layer, VLine):
                shapes.append(
                    {
                        "type": "line",
                        "xref": "x",
                        "yref": "paper",
                        "x0": _finite(layer.x),
                        "x1": _finite(layer.x),
                        "y0": 0,
                        "y1": 1,
                        "line": {
                            "color": layer.color,
                            "dash": _PLOTLY_DASH[layer.dash],
                            "width": 1.2,
                        },
                    }
                )
                if layer.label:
                    annotations.append(
                        {
                            "x": _finite(layer.x),
                            "y": 1,
                            "xref": "x",
                            "yref": "paper",
                            "text": _plotly_text(layer.label),
                            "hovertext": _plotly_text(layer.hover) if layer.hover else None,
                            "showarrow": False,
                            "textangle": -90,
                            "xanchor": "right",
                            "yanchor": "top",
                            "font": {"size": 10, "color": layer.color},
                        }
                    )
            elif isinstance(layer, Span):
                shapes.append(
                    {
                        "type": "rect",
                        "xref": "x",
                        "yref": "paper",
                        "x0": _finite(layer.start),
                        "x1": _finite(layer.end),
                        "y0": 0,
                        "y1": 1,
                        "fillcolor": _rgba(layer.color, layer.opacity),
                        "line": {"width": 0},
                        "layer": "below",
                    }
                )
                if layer.label:
                    annotations.append(
                        {
                            "x": _finite((layer.start + layer.end) / 2),
                            "y": 1,
                            "xref": "x",
                            "yref": "paper",
                            "text": _plotly_text(layer.label),
                            "showarrow": False,
                            "yanchor": "bottom",
                            "font": {"size": 10, "color": layer.color},
                        }
                    )
        yaxis = dict(_PLOTLY_AXIS, title={"text": _plotly_text(self.y_label)})
        if self.y_ticks:
            yaxis.update(
                tickmode="array",
                tickvals=_plain([p for p, _ in self.y_ticks]),
                ticktext=[_plotly_text(t) for _, t in self.y_ticks],
                showgrid=False,
            )
        xaxis = dict(_PLOTLY_AXIS, title={"text": _plotly_text(self.x_label)})
        if self.x_range:
            xaxis["range"] = _plain(self.x_range)
        layout = {
            "template": _PLOTLY_TEMPLATE,
            "title": {
                "text": _plotly_text(self.title),
                "x": 0,
                "xanchor": "left",
                "font": {"size": 15},
            },
            "xaxis": xaxis,
            "yaxis": yaxis,
            "height": self.height,
            "margin": {"l": 70, "r": 20, "t": 60, "b": 40},
            # Below the x-axis title, never on it: placed from the figure's bottom edge, and
            # plotly.js grows the bottom margin to fit it.
            "legend": {
                "orientation": "h",
                "yref": "container",
                "yanchor": "bottom",
                "y": 0,
                "x": 0,
            },
            "plot_bgcolor": "white",
            "paper_bgcolor": "white",
            "font": {
                "family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
                "size": 12,
            },
            "shapes": shapes or None,
            "annotations": [_without_none(a) for a in annotations] or None,
            "bargap": 0,
            "hovermode": "closest",
        }
        return {"data": [_without_none(t) for t in data], "layout": _without_none(layout)}

    def plotly_figure(self) -> go.Figure:
        """The interactive figure as a validated ``plotly.graph_objects.Figure`` (for notebooks)."""
        import plotly.graph_objects as go

        return go.Figure(self.plotly_dict())

    def plotly_json(self) -> str:
        """``{"data": ..., "layout": ...}`` safe to place inside an HTML ``<script>`` element."""
        text = json.dumps(self.plotly_dict(), sort_keys=True, separators=(",", ":"))
        # No "</script>" or "<!--" can end the element early.
        return text.replace("<", "\\u003c").replace(">", "\\u003e")

    def svg(self) -> bytes:
        """The same chart as a static SVG; identical bytes for identical charts."""
        with matplotlib.rc_context(SVG_RC):
            fig = self.figure()
            buf = io.BytesIO()
            FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None})
        return _self_contained_svg(buf.getvalue(), self.title, self.caption)

    def figure(self) -> Figure:
        """The static chart as a matplotlib figure, laid out as :meth:`svg` draws it.

        Build and draw it inside ``matplotlib.rc_context(SVG_RC)`` to get the SVG's fonts and sizes.
        """
        fig = Figure(figsize=(_SVG_WIDTH_IN, self.height / 100))
        ax = fig.add_subplot()
        top = blended_transform_factory(ax.transData, ax.transAxes)
        for layer in self.layers:
            label = _mpl_text(layer.name) if getattr(layer, "name", None) else None
            if isinstance(layer, Line):
                ax.plot(
                    _array(layer.x),
                    _array(layer.y),
                    linestyle=_MPL_DASH[layer.dash],
                    color=layer.color,
                    linewidth=layer.width,
                    alpha=layer.opacity,
                    marker="o" if layer.marker_size > 0 else None,
                    markersize=layer.marker_size / 2,
                    label=label,
                )
            elif isinstance(layer, Markers):
                marker, filled = _MPL_MARKER.get(layer.symbol, ("o", True))
                ax.plot(
                    _array(layer.x),
                    _array(layer.y),
                    linestyle="none",
                    marker=marker,
                    markersize=layer.size * 0.8,
                    markerfacecolor=layer.color if filled else "none",
                    markeredgecolor=layer.color,
                    label=label,
                )
            elif isinstance(layer, Band):
                ax.fill_between(
                    _array(layer.x),
                    _array(layer.lower),
                    _array(layer.upper),
                    color=layer.color,
                    alpha=layer.opacity,
                    linewidth=0,
                    label=label,
                )
            elif isinstance(layer, Bars):
                # One collection rather than ax.bar's artist per bar: the same picture,
                # drawn several times faster.
                bars = PolyCollection(
                    [
                        [(a, 0.0), (a, h), (b, h), (b, 0.0)]
                        for a, b, h in zip(layer.start, layer.end, layer.height, strict=True)
                    ],
                    facecolors=layer.color,
                    edgecolors="white",
                    linewidths=0.8,
                    label=label,
                )
                bars.sticky_edges.y.append(0.0)  # bars stand on the x axis, as ax.bar's do
                ax.add_collection(bars)
            elif isinstance(layer, VLine):
                ax.axvline(
                    layer.x, color=layer.color, linestyle=_MPL_DASH[layer.dash], linewidth=1.0
                )
                if layer.label:
                    ax.text(
                        layer.x,
                        0.98,
                        _mpl_text(layer.label),
                        transform=top,
                        rotation=90,
                        ha="right",
                        va="top",
                        fontsize=7,
                        color=layer.color,
                    )
            elif isinstance(layer, Span):
                ax.axvspan(
                    layer.start, layer.end, color=layer.color, alpha=layer.opacity, linewidth=0
                )
                if layer.label:
                    ax.text(
                        (layer.start + layer.end) / 2,
                        1.0,
                        _mpl_text(layer.label),
                        transform=top,
                        ha="center",
                        va="bottom",
                        fontsize=7,
                        color=layer.color,
                    )
        ax.set_xlabel(_mpl_text(self.x_label))
        ax.set_ylabel(_mpl_text(self.y_label))
        # Fewer ticks than matplotlib's default: as readable, and each tick is five artists to draw.
        ax.locator_params(nbins=_SVG_TICKS)
        if self.y_ticks:
            ax.set_yticks([p for p, _ in self.y_ticks], [_mpl_text(t) for _, t in self.y_ticks])
            ax.grid(False, axis="y")
        if self.x_range:
            ax.set_xlim(*self.x_range)
        if ax.get_legend_handles_labels()[1]:
            ax.legend(fontsize=7, loc="best", framealpha=0.85)
        self._fit_axes(fig, ax)
        return fig

    def _fit_axes(self, fig: Figure, ax: Axes) -> None:
        """Place the axes, title and axis labels from measured label sizes, so one draw suffices.

        Everything outside the axes is measured here, in points, with the font the SVG is drawn
        with: tick labels, axis labels, the title and axis offset texts ("1e6"). The figure grows
        where a title or axis label is longer than the axes, as ``bbox_inches="tight"`` would let
        it; fixing the title and label positions spares matplotlib the passes that find them by
        drawing.
        """
        width, height = fig.get_size_inches() * 72
        rc = matplotlib.rcParams
        size = rc["font.size"]  # tick and axis labels
        line = _text_height(size)

        def tick_labels(axis: Any) -> tuple[list[str], str]:
            lo, hi = sorted(axis.get_view_interval())
            locs = [x for x in axis.get_majorticklocs() if lo <= x <= hi]
            formatter = axis.get_major_formatter()
            return [t for t in formatter.format_ticks(locs) if t], formatter.get_offset()

        x_ticks, x_offset = tick_labels(ax.xaxis)
        y_ticks, y_offset = tick_labels(ax.yaxis)
        y_tick_w = max((_text_width(t, size) for t in y_ticks), default=0.0)
        x_tick_w = max((_text_width(t, size) for t in x_ticks), default=0.0)
        # from the axes' edge to the far side of the tick labels
        y_ticks_room = rc["ytick.major.size"] + rc["ytick.major.pad"] + y_tick_w
        x_ticks_room = rc["xtick.major.size"] + rc["xtick.major.pad"] + line
        label_gap = rc["axes.labelpad"]

        left = _OUTER_PT + y_ticks_room + ((line + label_gap) if self.y_label else 0.0)
        bottom = _OUTER_PT + x_ticks_room + ((line + label_gap) if self.x_label else 0.0)
        bottom += line if x_offset else 0.0
        right = _OUTER_PT + x_tick_w / 2  # the last tick's label may stand out past the axes
        title_pad = _TITLE_PAD_PT + (line if y_offset else 0.0)
        top = _OUTER_PT + title_pad + _text_height(_TITLE_SIZE)

        axes_w = max(
            width - left - right,
            _text_width(_mpl_text(self.title), _TITLE_SIZE) + _OUTER_PT - right,  # left-aligned
            _text_width(_mpl_text(self.x_label), size),
        )
        axes_h = max(height - top - bottom, _text_width(_mpl_text(self.y_label), size))
        width, height = left + axes_w + right, bottom + axes_h + top
        fig.set_size_inches(width / 72, height / 72)
        fig.subplots_adjust(
            left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
        )
        ax.set_title(_mpl_text(self.title), loc="left", fontsize=_TITLE_SIZE, pad=title_pad, y=1.0)
        ax.yaxis.set_label_coords(-(y_ticks_room + label_gap) / axes_w, 0.5)
        ax.xaxis.set_label_coords(0.5, -(x_ticks_room + label_gap) / axes_h)


_SVG_DOCTYPE = re.compile(rb"<!DOCTYPE[^>]*>\s*")
_SVG_METADATA = re.compile(rb"\s*<metadata>.*?</metadata>", re.S)
_SVG_ROOT = re.compile(rb"<svg\b[^>]*>")


def _xml_text(text: str) -> bytes:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    ).encode("utf-8")


def _self_contained_svg(svg: bytes, title: str, caption: str = "") -> bytes:
    """matplotlib's SVG without its DTD reference and metadata (links to w3.org and matplotlib.org),
    with the chart's title as its text alternative (``<title>``, ``role="img"``, ``aria-label``)."""
    svg = _SVG_DOCTYPE.sub(b"", svg, count=1)
    svg = _SVG_METADATA.sub(b"", svg, count=1)
    alt = _xml_text(f"{title}. {caption}" if caption else title)
    root = _SVG_ROOT.search(svg)
    if root is None:
        return svg
    opening = root.group()[:-1] + b' role="img" aria-label="' + alt + b'">'
    return svg[: root.start()] + opening + b"\n <title>" + alt + b"</title>" + svg[root.end() :]


@functools.lru_cache(maxsize=4096)
def _measure(text: str, size: float, family: tuple[str, ...]) -> tuple[float, float]:
    prop = FontProperties(family=list(family), size=size)
    width, height, _ = text_to_path.get_text_width_height_descent(text, prop, ismath=False)
    return width, height


def _text_width(text: str, size: float) -> float:
    """Width in points of one line of text in the current font, as matplotlib lays it out."""
    return _measure(text, size, tuple(matplotlib.rcParams["font.family"]))[0]


def _text_height(size: float) -> float:
    """Height in points of a line of text in the current font (matplotlib's line: as tall as "lp")."""
    return _measure("lp", size, tuple(matplotlib.rcParams["font.family"]))[1]


def _chart_svg(chart: Chart) -> bytes:  # a module-level function, so a worker process can run it
    return chart.svg()


class SvgDrawing:
    """The SVGs of many charts, drawn in worker processes while the caller goes on with its work.

    Use it as a context manager, and :meth:`result` for the SVGs::

        with SvgDrawing(charts) as drawing:
            ...  # anything else; the charts are being drawn meanwhile
            svgs = drawing.result()

    Parameters
    ----------
    charts
        The charts to draw; :meth:`result` has one SVG per chart, in the same order.
    workers
        Largest number of worker processes; by default the CPUs this process may use, at most
        :data:`SVG_WORKERS`. Fewer are started for few charts (starting a process costs about as
        much as drawing a chart), and none with ``workers=1`` or where processes cannot be forked;
        the bytes are the same either way.

    Notes
    -----
    The workers are forked: they start at once, with matplotlib and all else this process has
    imported. Fork is not safe on macOS, and spawned workers would import everything again, so
    other platforms draw the charts in this process when :meth:`result` is called.
    """

    def __init__(self, charts: Sequence[Chart], workers: int | None = None) -> None:
        self.charts = list(charts)
        if workers is None:
            workers = min(SVG_WORKERS, _usable_cpus())
        if workers < 1:
            raise ValueError(f"workers: found {workers}, expected a positive number")
        self.workers = min(workers, len(self.charts) // _CHARTS_PER_WORKER)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: Iterator[bytes] | None = None
        self._svgs: list[bytes] | None = None
        if self.workers > 1 and sys.platform.startswith("linux"):
            try:
                from pmpath.report.workers import end_with_parent

                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=mp.get_context("fork"),
                    initializer=end_with_parent,  # no workers left behind by a killed pmpath
                    initargs=(os.getpid(),),
                )
                self._pending = self._pool.map(_chart_svg, self.charts)  # forks and starts now
            except OSError:  # no processes to be had here (a sandbox, a resource limit)
                self.close()

    def result(self) -> list[bytes]:
        """Wait for the SVGs: one per chart, in the order given."""
        if self._svgs is None and self._pending is not None:
            try:
                self._svgs = list(self._pending)
            except BrokenProcessPool:  # a worker was killed (out of memory?): draw them here
                self.close()
        if self._svgs is None:
            self._svgs = [chart.svg() for chart in self.charts]
        return self._svgs

    def close(self) -> None:
        """Stop the workers; charts not yet drawn are dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool, self._pending = None, None

    def __enter__(self) -> SvgDrawing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_svgs(charts: Sequence[Chart], workers: int | None = None) -> list[bytes]:
    """:meth:`Chart.svg` of each chart, in order, drawn in worker processes when that pays.

    The same as :class:`SvgDrawing` for a caller with nothing else to do meanwhile.
    """
    with SvgDrawing(charts, workers) as drawing:
        return drawing.result()


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


@dataclass(frozen=True)
class TextBlock:
    """Preformatted text (an alignment), shown in a monospace block."""

    kind: ClassVar[str] = "text"

    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class RecordTable:
    """Rows of a table as dicts; the page renders them like the verdict's numbers."""

    kind: ClassVar[str] = "table"

    title: str
    rows: tuple[Mapping[str, Any], ...]


Graphic = Chart | TextBlock | RecordTable


@dataclass(frozen=True)
class CriterionGraphics:
    """What the report draws for one verdict, in page order, and what it had to skip."""

    items: tuple[Graphic, ...]
    notes: tuple[str, ...]

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(g for g in self.items if isinstance(g, Chart))


# --- reading plot data defensively ---------------------------------------------------------------


def _mapping(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise PlotDataError(f"{where}: found {type(data).__name__}, expected a mapping")
    return data


def _floats(data: Mapping[str, Any], key: str, where: str) -> list[Number]:
    if key not in data:
        raise PlotDataError(f"{where}: missing {key!r}")
    values = data[key]
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, list | tuple):
        raise PlotDataError(
            f"{where}.{key}: found {type(values).__name__}, expected a list of numbers"
        )
    out: list[Number] = []
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
        elif isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise PlotDataError(f"{where}.{key}[{i}]: found {v!r}, expected a number or null")
        else:
            f = float(v)
            out.append(f if math.isfinite(f) else None)
    return out


def _number(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> Number:
    v = data.get(key)
    if v is None:
        if required:
            raise PlotDataError(f"{where}: missing {key!r}")
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise PlotDataError(f"{where}.{key}: found {v!r}, expected a number")
    f = float(v)
    return f if math.isfinite(f) else None


def _labels(data: Mapping[str, Any], key: str, where: str) -> list[str]:
    values = data[key]
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, list | tuple):
        raise PlotDataError(f"{where}.{key}: found {type(values).__name__}, expected a list")
    return ["" if v is None else str(v) for v in values]


def _same_length(where: str, **columns: Sequence[Any]) -> int:
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        found = ", ".join(f"{k}: {n}" for k, n in lengths.items())
        raise PlotDataError(
            f"{where}: lists of different lengths ({found}), expected equal lengths"
        )
    return next(iter(lengths.values()), 0)


def _label(value: Any, default: str) -> str:
    return default if value is None or value == "" else str(value)


def _axis_label(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def _level_text(level: Any, what: str) -> str:
    """A band's legend entry: "95% prediction interval ..." when the data gives its level."""
    if isinstance(level, float) and 0 < level < 1:
        return f"{level:.0%} {what}"
    return what


def _humanize(value: str) -> str:
    return value.replace("_", " ")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "plot"


# --- builders ------------------------------------------------------------------------------------


def _concomitant_lines(items: Any, where: str) -> list[VLine]:
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        raise PlotDataError(f"{where}: found {type(items).__name__}, expected a list of changes")
    lines = []
    for i, item in enumerate(items):
        item = _mapping(item, f"{where}[{i}]")
        day = _number(item, "day", f"{where}[{i}]")
        if day is None:
            continue
        kind = _label(item.get("kind"), "change")
        description = _label(item.get("description"), "")
        short = description if len(description) <= 32 else description[:31] + "…"
        lines.append(
            VLine(
                day,
                f"{kind}: {short}" if short else kind,
                color=PURPLE,
                dash="dash",
                hover=description,
            )
        )
    return lines


def trajectory_chart(data: Any, name: str, where: str) -> Chart:
    """Observed values before and after the first dose against the predicted untreated course."""
    d = _mapping(data, where)
    observed = _mapping(d.get("observed"), f"{where}.observed")
    day = _floats(observed, "day", f"{where}.observed")
    value = _floats(observed, "value", f"{where}.observed")
    if "phase" in observed and observed["phase"] is not None:
        phase = _labels(observed, "phase", f"{where}.observed")
    else:
        phase = ["pre" if x is not None and x < 0 else "post" for x in day]
    _same_length(f"{where}.observed", day=day, value=value, phase=phase)

    layers: list[Layer] = []
    if d.get("prediction") is not None:
        pred = _mapping(d["prediction"], f"{where}.prediction")
        p_day = _floats(pred, "day", f"{where}.prediction")
        mean = _floats(pred, "mean", f"{where}.prediction")
        if "lower" in pred and "upper" in pred:
            lower = _floats(pred, "lower", f"{where}.prediction")
            upper = _floats(pred, "upper", f"{where}.prediction")
            _same_length(f"{where}.prediction", day=p_day, mean=mean, lower=lower, upper=upper)
            layers.append(
                Band(
                    p_day,
                    lower,
                    upper,
                    name=_level_text(
                        pred.get("level"), "prediction interval of the untreated course"
                    ),
                    color=GREY,
                    opacity=0.3,
                )
            )
        _same_length(f"{where}.prediction", day=p_day, mean=mean)
        layers.append(
            Line(p_day, mean, name="predicted untreated course (mean)", color=DARK, dash="dash")
        )
    pre = [i for i, p in enumerate(phase) if p == "pre"]
    post = [i for i, p in enumerate(phase) if p != "pre"]
    if pre:
        layers.append(
            Markers(
                [day[i] for i in pre],
                [value[i] for i in pre],
                name="observed before first dose",
                color=BLUE,
                symbol="circle-open",
            )
        )
    if post:
        layers.append(
            Markers(
                [day[i] for i in post],
                [value[i] for i in post],
                name="observed after first dose",
                color=VERMILLION,
                symbol="diamond",
            )
        )
    layers.append(VLine(0.0, "first dose", color=DARK, dash="solid"))
    layers.extend(_concomitant_lines(d.get("concomitant"), f"{where}.concomitant"))

    label = _label(d.get("name"), _label(d.get("endpoint"), name))
    direction = _label(d.get("direction"), "")
    return Chart(
        name=name,
        title=f"{label}: observed vs predicted untreated course"
        + (f" ({_humanize(direction)})" if direction else ""),
        x_label="Days from first dose",
        y_label=_axis_label(label, _label(d.get("unit"), "")),
        layers=tuple(layers),
    )


def events_chart(data: Any, where: str) -> Chart:
    """Event rate per 30 days in each observation period, with the longest event-free gap shaded."""
    d = _mapping(data, where)
    periods = _mapping(d.get("periods"), f"{where}.periods")
    start = _floats(periods, "start_day", f"{where}.periods")
    end = _floats(periods, "end_day", f"{where}.periods")
    count = _floats(periods, "count", f"{where}.periods")
    _same_length(f"{where}.periods", start_day=start, end_day=end, count=count)
    groups: dict[str, tuple[list[float], list[float], list[float], list[str]]] = {
        "pre": ([], [], [], []),
        "post": ([], [], [], []),
    }
    for a, b, n in zip(start, end, count, strict=True):
        if a is None or b is None or n is None or b <= a:
            continue
        g = groups["pre" if a < 0 else "post"]
        g[0].append(a)
        g[1].append(b)
        g[2].append(n * 30.0 / (b - a))
        g[3].append(f"days {a:g} to {b:g}: {n:g} events ({n * 30.0 / (b - a):.3g} per 30 days)")
    layers: list[Layer] = []
    gap = d.get("longest_gap")
    if gap is not None:
        gap = _mapping(gap, f"{where}.longest_gap")
        g0 = _number(gap, "start_day", f"{where}.longest_gap")
        g1 = _number(gap, "end_day", f"{where}.longest_gap")
        if g0 is not None and g1 is not None:
            layers.append(Span(g0, g1, f"longest event-free gap: {g1 - g0:g} days", color=GREEN))
    names = {"pre": ("before first dose", BLUE), "post": ("after first dose", VERMILLION)}
    for phase, (a, b, h, hover) in groups.items():
        if a:
            layers.append(Bars(a, b, h, name=names[phase][0], color=names[phase][1], hover=hover))
    if not any(isinstance(x, Bars) for x in layers):
        raise PlotDataError(f"{where}.periods: no period with end_day > start_day")
    layers.extend(
        _untreated_rate_layers(d.get("rates_per_year"), start, end, f"{where}.rates_per_year")
    )
    layers.append(VLine(0.0, "first dose", color=DARK, dash="solid"))
    layers.extend(_concomitant_lines(d.get("concomitant"), f"{where}.concomitant"))
    label = _label(d.get("name"), _label(d.get("endpoint"), "events"))
    return Chart(
        name="events",
        title=f"{label}: events per 30 days",
        x_label="Days from first dose",
        y_label="Events per 30 days",
        layers=tuple(layers),
    )


def _untreated_rate_layers(
    rates: Any, start: Sequence[Number], end: Sequence[Number], where: str
) -> list[Layer]:
    """The expected untreated rate (per 30 days) across the chart, with its interval when given."""
    if rates is None:
        return []
    rates = _mapping(rates, where)
    rate = _number(rates, "untreated_patient", where, required=False)
    days = [x for x in (*start, *end) if x is not None]
    if rate is None or not days:
        return []
    per_30 = 30.0 / DAYS_PER_YEAR
    x = [min(days), max(days)]
    layers: list[Layer] = []
    interval = rates.get("untreated_patient_interval")
    if isinstance(interval, list | tuple) and len(interval) == 2 and None not in interval:
        lo, hi = float(interval[0]) * per_30, float(interval[1]) * per_30
        layers.append(
            Band(
                x,
                [lo, lo],
                [hi, hi],
                name="interval of the expected untreated rate",
                color=GREY,
                opacity=0.25,
            )
        )
    layers.append(
        Line(
            x,
            [rate * per_30] * 2,
            name="expected untreated rate",
            color=DARK,
            dash="dash",
            width=1.5,
        )
    )
    return layers


def _count(data: Mapping[str, Any], key: str, where: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise PlotDataError(f"{where}.{key}: found {value!r}, expected a whole number >= 0")
    return int(value)


def _sample_caption(shown: int | None, total: int | None, what: str, from_all: str) -> str:
    """'200 of 100,000 subjects' trajectories shown, sampled at random; bands from all subjects.'"""
    if shown is None or total is None or shown >= total:
        return ""
    return f"{shown:,} of {total:,} subjects' {what} shown, sampled at random; {from_all}."


def natural_history_chart(endpoint: str, data: Any, where: str) -> Chart:
    """The cohort's trajectories (light) with the fitted mean curve and its band.

    Optional keys: ``quantiles`` {age, lower, median, upper, level} (observed quantiles by age over
    every subject, drawn dotted) and ``n_subjects`` / ``n_subjects_shown`` (a cohort larger than a
    chart can show sends a random sample of whole subjects; the legend and the caption say so).
    """
    d = _mapping(data, where)
    cohort: list[Layer] = []
    fitted: list[Layer] = []
    total = _count(d, "n_subjects", where)
    shown = _count(d, "n_subjects_shown", where)
    sampled = shown is not None and total is not None and shown < total
    if d.get("observations") is not None:
        obs = _mapping(d["observations"], f"{where}.observations")
        age = _floats(obs, "age", f"{where}.observations")
        value = _floats(obs, "value", f"{where}.observations")
        if obs.get("subject") is not None:
            subject = _labels(obs, "subject", f"{where}.observations")
            _same_length(f"{where}.observations", age=age, value=value, subject=subject)
            by_subject: dict[str, list[tuple[float, Number]]] = {}
            for s, a, v in zip(subject, age, value, strict=True):
                if a is not None:
                    by_subject.setdefault(s, []).append((a, v))
            xs: list[Number] = []
            ys: list[Number] = []
            lone_x: list[Number] = []  # subjects seen once: a point, as a line would not show
            lone_y: list[Number] = []
            for points in by_subject.values():
                if len(points) == 1:
                    lone_x.append(points[0][0])
                    lone_y.append(points[0][1])
                    continue
                for a, v in sorted(points, key=lambda p: p[0]):
                    xs.append(a)
                    ys.append(v)
                xs.append(None)
                ys.append(None)
            name = (
                f"{len(by_subject):,} of {total:,} cohort subjects (random sample)"
                if sampled
                else f"cohort subjects (n={len(by_subject)})"
            )
            # Lines without a marker per visit: a marker is an element of its own in the SVG,
            # and thousands of them made the chart most of a PDF page's printing time.
            cohort.append(Line(xs, ys, name=name, color=GREY, width=0.8, opacity=0.6))
            if lone_x:
                cohort.append(Markers(lone_x, lone_y, color=GREY, size=3))
        else:
            _same_length(f"{where}.observations", age=age, value=value)
            name = "cohort observations (random sample)" if sampled else "cohort observations"
            cohort.append(Markers(age, value, name=name, color=GREY, size=4))
    if d.get("quantiles") is not None:
        w = f"{where}.quantiles"
        q = _mapping(d["quantiles"], w)
        q_age = _floats(q, "age", w)
        q_lower, q_median, q_upper = (_floats(q, k, w) for k in ("lower", "median", "upper"))
        _same_length(w, age=q_age, lower=q_lower, median=q_median, upper=q_upper)
        level = q.get("level")
        central = (
            f"{(1 - level) / 2:.1%}-{1 - (1 - level) / 2:.1%}"
            if isinstance(level, float) and 0 < level < 1
            else "range"
        )
        everyone = "all subjects" if total is None else f"all {total:,} subjects"
        cohort += [
            Line(q_age, q_lower, name=f"observed {central} ({everyone})", color=DARK, dash="dot", width=1.2),
            Line(q_age, q_upper, color=DARK, dash="dot", width=1.2),
            Line(q_age, q_median, name=f"observed median ({everyone})", color=DARK, dash="dash", width=1.2),
        ]  # fmt: skip
    if d.get("grid") is not None:
        grid = _mapping(d["grid"], f"{where}.grid")
        g_age = _floats(grid, "age", f"{where}.grid")
        mean = _floats(grid, "mean", f"{where}.grid")
        if "lower" in grid and "upper" in grid:
            lower = _floats(grid, "lower", f"{where}.grid")
            upper = _floats(grid, "upper", f"{where}.grid")
            _same_length(f"{where}.grid", age=g_age, mean=mean, lower=lower, upper=upper)
            fitted.append(
                Band(
                    g_age,
                    lower,
                    upper,
                    name=_level_text(grid.get("level"), "range of untreated values (fitted model)"),
                    color=BLUE,
                    opacity=0.15,
                )
            )
        _same_length(f"{where}.grid", age=g_age, mean=mean)
        fitted.append(Line(g_age, mean, name="cohort mean (fitted)", color=BLUE, width=2.2))
    # The band under the subjects' lines, the mean on top of them.
    layers = fitted[:-1] + cohort + fitted[-1:]
    if not layers:
        raise PlotDataError(f"{where}: neither 'observations' nor 'grid'")
    label = _label(d.get("name"), endpoint)
    return Chart(
        name=f"natural-history-{_slug(endpoint)}",
        title=f"Natural history: {label}",
        x_label="Age (years)",
        y_label=_axis_label(label, _label(d.get("unit"), "")),
        layers=tuple(layers),
        scope="cohort",
        caption=_sample_caption(shown, total, "trajectories", "bands from all subjects"),
    )


def _steps(x: Sequence[Number], y: Sequence[Number]) -> tuple[list[Number], list[Number]]:
    """Right-continuous step function through (x, y) as a polyline."""
    xs: list[Number] = []
    ys: list[Number] = []
    for i, (a, b) in enumerate(zip(x, y, strict=True)):
        if i:
            xs.append(a)
            ys.append(ys[-1])
        xs.append(a)
        ys.append(b)
    return xs, ys


def survival_chart(endpoint: str, data: Any, where: str) -> Chart:
    """Kaplan-Meier curve of the cohort with its confidence band."""
    d = _mapping(data, where)
    t = _floats(d, "timeline", where)
    s = _floats(d, "survival", where)
    _same_length(where, timeline=t, survival=s)
    layers: list[Layer] = []
    if "lower" in d and "upper" in d:
        lower = _floats(d, "lower", where)
        upper = _floats(d, "upper", where)
        _same_length(where, timeline=t, lower=lower, upper=upper)
        bx, bl = _steps(t, lower)
        _, bu = _steps(t, upper)
        layers.append(
            Band(
                bx,
                bl,
                bu,
                name=_level_text(d.get("level"), "confidence band of the Kaplan-Meier estimate"),
                color=BLUE,
                opacity=0.2,
            )
        )
    sx, sy = _steps(t, s)
    layers.append(Line(sx, sy, name="Kaplan-Meier estimate", color=BLUE, width=2.0))
    label = _label(d.get("name"), endpoint)
    return Chart(
        name=f"survival-{_slug(endpoint)}",
        title=f"Natural history: {label} (event-free probability)",
        x_label="Age (years)",
        y_label="Probability event-free",
        layers=tuple(layers),
        x_range=None,
        scope="cohort",
    )


def _forest(
    rows: list[tuple[str, str, Number, Number, Number, Number]],
    color_of: Callable[[str], str],
    name_of: Callable[[str], str] = _humanize,
) -> tuple[list[Layer], tuple[tuple[float, str], ...]]:
    """Point and interval per row, top to bottom, a blank line between groups; rows are (label, group, x, lower, upper, minimum)."""
    layers: list[Layer] = []
    ticks: list[tuple[float, str]] = []
    positions: dict[str, list[int]] = {}
    y = 0.0
    previous = None
    for i, (label, group, *_rest) in enumerate(rows):
        if previous is not None and group != previous:
            y -= 0.6
        previous = group
        ticks.append((y, label))
        positions.setdefault(group, []).append(i)
        y -= 1.0
    for group, idx in positions.items():
        gx: list[Number] = []
        gy: list[Number] = []
        seg_x: list[Number] = []
        seg_y: list[Number] = []
        for i in idx:
            pos = ticks[i][0]
            _, _, x, lo, hi, _ = rows[i]
            gx.append(x)
            gy.append(pos)
            if lo is not None and hi is not None:
                seg_x += [lo, hi, None]
                seg_y += [pos, pos, None]
        if seg_x:
            layers.append(Line(seg_x, seg_y, color=color_of(group), width=2.0))
        layers.append(
            Markers(
                gx,
                gy,
                name=name_of(group) or None,
                color=color_of(group),
                symbol="square",
                size=8,
            )
        )
    min_x: list[Number] = []
    min_y: list[Number] = []
    for (pos, _), row in zip(ticks, rows, strict=True):
        if row[5] is not None:
            min_x += [row[5], row[5], None]
            min_y += [pos - 0.4, pos + 0.4, None]
    if min_x:
        layers.append(
            Line(min_x, min_y, name="required minimum", color=DARK, dash="dash", width=1.5)
        )
    return layers, tuple(ticks)


def engagement_chart(data: Any, where: str, interval: str = "interval") -> Chart:
    """Forest plot of the edited fraction per assay, grouped by evidence tier."""
    if not isinstance(data, list | tuple) or not data:
        raise PlotDataError(
            f"{where}: found {type(data).__name__}, expected a non-empty list of assays"
        )
    parsed = []
    for i, item in enumerate(data):
        w = f"{where}[{i}]"
        item = _mapping(item, w)
        source = _label(item.get("source"), "other")
        tier = _humanize(source) + (", deciding" if item.get("deciding") is True else "")
        parsed.append(
            (
                f"{_label(item.get('assay'), f'assay {i + 1}')} [{tier}]",
                source,
                _number(item, "fraction", w),
                _number(item, "lower", w, required=False),
                _number(item, "upper", w, required=False),
                _number(item, "minimum", w, required=False),
            )
        )
    rank = {t: k for k, t in enumerate(TIER_ORDER)}
    # known tiers in evidence order, then others by name; assays keep their order within a tier
    parsed.sort(key=lambda r: (rank.get(r[1], len(rank)), r[1] if r[1] not in rank else ""))
    layers, ticks = _forest(parsed, lambda g: TIER_COLORS.get(g, GREY))
    values = [v for r in parsed for v in (r[2], r[3], r[4], r[5]) if v is not None]
    return Chart(
        name="engagement",
        title=f"Target engagement: edited fraction by assay, with {interval}",
        x_label="Edited fraction",
        y_label="",
        layers=tuple(layers),
        y_ticks=ticks,
        x_range=(min(0.0, *values) - 0.02, max(1.0, *values) + 0.02),
        height=max(300, 140 + 34 * len(parsed)),
    )


def rates_chart(data: Any, where: str) -> Chart:
    """Forest plot of the cohort's event rates per person-year, one row per count endpoint.

    Each endpoint may add ``"subjects": {"rate_per_year": [...]}``: every subject's own rate,
    drawn as light points on its row, and ``n_subjects`` / ``n_subjects_shown`` when those are a
    random sample of the cohort (the caption says so).
    """
    d = _mapping(data, where)
    rows = []
    subject_rates: list[list[Number]] = []
    captions: list[str] = []
    for endpoint, item in d.items():
        w = f"{where}.{endpoint}"
        item = _mapping(item, w)
        rows.append(
            (
                _label(item.get("name"), str(endpoint)),
                "",
                _number(item, "rate_per_year", w),
                _number(item, "lower", w, required=False),
                _number(item, "upper", w, required=False),
                None,
            )
        )
        subjects = item.get("subjects")
        subject_rates.append(
            _floats(_mapping(subjects, f"{w}.subjects"), "rate_per_year", f"{w}.subjects")
            if subjects is not None
            else []
        )
        caption = _sample_caption(
            _count(item, "n_subjects_shown", w),
            _count(item, "n_subjects", w),
            "own rates",
            "the cohort rate and its interval are from all subjects",
        )
        if caption:
            captions.append(f"{rows[-1][0]}: {caption}")
    if not rows:
        raise PlotDataError(f"{where}: no endpoints")
    layers, ticks = _forest(
        rows, lambda _g: BLUE, lambda _g: "cohort rate with confidence interval"
    )
    px: list[Number] = []
    py: list[Number] = []
    for (pos, _), rates in zip(ticks, subject_rates, strict=True):
        px += rates
        py += [pos] * len(rates)
    if px:
        name = "cohort subjects (random sample)" if captions else "cohort subjects"
        layers.insert(0, Markers(px, py, name=name, color=GREY, symbol="circle-open", size=5))
    values = [v for r in rows for v in (r[2], r[3], r[4]) if v is not None] + [
        v for v in px if v is not None
    ]
    return Chart(
        name="natural-history-rates",
        title="Natural history: event rates",
        x_label="Events per person-year",
        y_label="",
        layers=tuple(layers),
        y_ticks=ticks,
        x_range=(0.0, max(values, default=1.0) * 1.08 or 1.0),
        height=max(260, 140 + 34 * len(rows)),
        scope="cohort",
        caption=" ".join(captions),
    )


# --- reading verdict.plots: each builder takes (data, where, notes) -------------------------------

Builder = Callable[[Any, str, list[str]], list[Graphic]]
_DATA_ERRORS = (PlotDataError, KeyError, TypeError, ValueError, IndexError)


def _guarded(notes: list[str], where: str, build: Callable[[], list[Graphic]]) -> list[Graphic]:
    """Run one builder; malformed data becomes a note instead of an exception."""
    try:
        return build()
    except _DATA_ERRORS as exc:
        notes.append(f"plot '{where}' not drawn: {exc}")
        return []


def _each_endpoint(chart: Callable[[str, Any, str], Chart]) -> Builder:
    """One chart per endpoint; one malformed endpoint does not hide the others."""

    def build(data: Any, where: str, notes: list[str]) -> list[Graphic]:
        out: list[Graphic] = []
        for endpoint, value in _mapping(data, where).items():
            w = f"{where}.{endpoint}"
            out += _guarded(notes, w, lambda e=endpoint, v=value, w=w: [chart(str(e), v, w)])
        return out

    return build


def _one(chart: Callable[[Any, str], Chart]) -> Builder:
    return lambda data, where, notes: [chart(data, where)]


def _records(title: str) -> Builder:
    def build(data: Any, where: str, notes: list[str]) -> list[Graphic]:
        if not isinstance(data, list | tuple) or not all(isinstance(r, Mapping) for r in data):
            raise PlotDataError(f"{where}: expected a list of rows (mappings)")
        return [RecordTable(title, tuple(data))] if data else []

    return build


def _alignment(data: Any, where: str, notes: list[str]) -> list[Graphic]:
    if isinstance(data, list | tuple) and all(isinstance(x, str) for x in data):
        return [TextBlock("Alignment", tuple(data))]
    blocks = data if isinstance(data, list | tuple) else [data]
    out: list[Graphic] = []
    for i, block in enumerate(blocks):
        w = f"{where}[{i}]" if isinstance(data, list | tuple) else where
        block = _mapping(block, w)
        lines = block.get("lines")
        if not isinstance(lines, list | tuple):
            raise PlotDataError(
                f"{w}.lines: found {type(lines).__name__}, expected a list of strings"
            )
        out.append(TextBlock(_label(block.get("title"), "Alignment"), tuple(str(x) for x in lines)))
    return out


def _endpoints(data: Any, where: str, notes: list[str]) -> list[Graphic]:
    """``{"endpoints": {id: {"kind": ..., ...}}}``, the shape criterion 3's adapter writes.

    continuous: observations {subject, age, value}, ``trajectory`` {age, mean, lower, upper} (the
    grid) and optionally ``quantiles``, ``n_subjects``, ``n_subjects_shown`` (see
    :func:`natural_history_chart`); count: ``rate_per_year``, ``rate_ci`` [lower, upper] and optionally
    ``subjects`` {rate_per_year}, ``n_subjects``, ``n_subjects_shown``; time_to_event: ``km`` {age,
    survival, lower, upper}.
    """
    out: list[Graphic] = []
    rates: dict[str, Any] = {}
    for endpoint, value in _mapping(data, where).items():
        w = f"{where}.{endpoint}"
        if not isinstance(value, Mapping):
            notes.append(f"plot '{w}' not drawn: found {type(value).__name__}, expected a mapping")
            continue
        kind = value.get("kind")
        if kind == "continuous":
            grid = value.get("grid", value.get("trajectory"))
            out += _guarded(
                notes,
                w,
                lambda e=endpoint, v=value, g=grid, w=w: [
                    natural_history_chart(str(e), {**v, "grid": g}, w)
                ],
            )
        elif kind == "time_to_event":
            km = value.get("km")
            if isinstance(km, Mapping):
                curve = {
                    "name": value.get("name"),
                    **km,
                    "timeline": km.get("timeline", km.get("age")),
                }
            else:
                curve = value
            out += _guarded(
                notes, w, lambda e=endpoint, c=curve, w=w: [survival_chart(str(e), c, w)]
            )
        elif kind == "count":
            ci = value.get("rate_ci")
            lower, upper = (
                (ci[0], ci[1])
                if isinstance(ci, list | tuple) and len(ci) == 2
                else (value.get("lower"), value.get("upper"))
            )
            rates[str(endpoint)] = {
                "name": value.get("name"),
                "rate_per_year": value.get("rate_per_year"),
                "lower": lower,
                "upper": upper,
                "subjects": value.get("subjects"),
                "n_subjects": value.get("n_subjects"),
                "n_subjects_shown": value.get("n_subjects_shown"),
            }
        else:
            notes.append(
                f"plot '{w}' not drawn: found kind {kind!r}, expected continuous, count or time_to_event"
            )
    if rates:
        out += _guarded(notes, f"{where} (rates)", lambda: [rates_chart(rates, where)])
    return out


def _engagement_forest(data: Any, where: str, notes: list[str]) -> list[Graphic]:
    """``{"engagement_forest": {"confidence": c, "groups": [{"tier", "rows": [...]}]}}``, the shape
    criterion 4's adapter writes; rows carry assay, tier, edited_fraction, lower, upper,
    minimum_fraction and deciding."""
    d = _mapping(data, where)
    groups = d.get("groups")
    if not isinstance(groups, list | tuple):
        raise PlotDataError(
            f"{where}.groups: found {type(groups).__name__}, expected a list of tiers"
        )
    assays = []
    for i, group in enumerate(groups):
        group = _mapping(group, f"{where}.groups[{i}]")
        rows = group.get("rows") or []
        if not isinstance(rows, list | tuple):
            raise PlotDataError(
                f"{where}.groups[{i}].rows: found {type(rows).__name__}, expected a list"
            )
        for j, row in enumerate(rows):
            row = _mapping(row, f"{where}.groups[{i}].rows[{j}]")
            assays.append(
                {
                    "assay": row.get("assay"),
                    "source": row.get("tier", row.get("source", group.get("tier"))),
                    "fraction": row.get("edited_fraction", row.get("fraction")),
                    "lower": row.get("lower"),
                    "upper": row.get("upper"),
                    "minimum": row.get("minimum_fraction", row.get("minimum")),
                    "deciding": row.get("deciding", group.get("deciding")),
                }
            )
    confidence = d.get("confidence")
    interval = (
        f"{confidence:.0%} interval"
        if isinstance(confidence, float) and 0 < confidence < 1
        else "interval"
    )
    return [engagement_chart(assays, where, interval)]


def _supportive(endpoint: str, data: Any, where: str) -> Chart:
    return trajectory_chart(data, f"supportive-{_slug(endpoint)}", where)


# In page order; the second key of a pair is the shape an adapter writes today (see the docstrings
# of _endpoints and _engagement_forest).
_BUILDERS: tuple[tuple[str, Builder], ...] = (
    ("variants", _records("Variants")),
    ("genotype", _records("Genotype")),
    ("alignment", _alignment),
    ("continuous", _each_endpoint(natural_history_chart)),
    ("rates", _one(rates_chart)),
    ("survival", _each_endpoint(survival_chart)),
    ("endpoints", _endpoints),
    ("assays", _one(engagement_chart)),
    ("engagement_forest", _engagement_forest),
    ("trajectory", _one(lambda d, w: trajectory_chart(d, "trajectory", w))),
    ("events", _one(events_chart)),
    ("supportive", _each_endpoint(_supportive)),
)


def criterion_graphics(verdict: Verdict) -> CriterionGraphics:
    """Charts, text blocks and tables for one verdict from the keys of ``verdict.plots`` it knows.

    Keys that are absent draw nothing; data in an unexpected shape is skipped and named in
    ``notes`` so the page can say what is missing.
    """
    items: list[Graphic] = []
    notes: list[str] = []
    plots = verdict.plots or {}
    for key, build in _BUILDERS:
        if plots.get(key) is not None:
            items += _guarded(notes, key, lambda b=build, k=key: b(plots[k], k, notes))
    return CriterionGraphics(tuple(items), tuple(notes))


def plotly_config_json() -> str:
    return json.dumps(PLOTLY_CONFIG, sort_keys=True)
