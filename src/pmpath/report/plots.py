"""The report's plots: interactive Plotly figures and matching static SVGs, drawn from ``Verdict.figures``.

Each chart is described once as a :class:`Chart` (lines, markers, bands, bars, vertical lines,
shaded spans) and rendered twice: :meth:`Chart.plotly_json` for the HTML page and
:meth:`Chart.svg` (matplotlib, deterministic bytes) for the static copy. The builders take the
typed models of :mod:`pmpath.pathway.figures` (one per ``kind``, see :func:`graphic`) and read
nothing else. The natural-history charts are marked ``scope="cohort"``: they are the same for
every patient compared with the cohort, so a report draws them once; a natural-history curve that
carries the patient's measurements becomes an :class:`OverlaidChart` (the shared cohort chart,
the patient's layers drawn over it, and the patient's own static figure).

Rendering is most of a report's time, so: the Plotly figure is built as plain dicts (plotly.py's
validation would cost more than everything else; a test checks it would accept them unchanged), the
SVG's margins are measured from its labels instead of drawing twice for ``bbox_inches="tight"``,
and :func:`render_svgs` draws many charts in worker processes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import multiprocessing as mp
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
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
from pmpath.errors import UsageError
from pmpath.formatting import format_interval, format_number
from pmpath.pathway.figures import (
    AlignmentBlock,
    CohortRates,
    ConcomitantMark,
    ConversionProfile,
    EngagementForest,
    EventsFigure,
    FigureData,
    GenotypeTable,
    NaturalHistoryCurve,
    PatientMeasurements,
    SurvivalCurve,
    TrajectoryFigure,
)
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
    y_range: tuple[float, float] | None = None
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
        if self.y_range:
            yaxis["range"] = _plain(self.y_range)
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
        return self.svg_and_frame()[0]

    def svg_and_frame(self) -> tuple[bytes, SvgFrame]:
        """:meth:`svg` and where its axes lie in it, to draw more over it (:func:`overlay_svg`)."""
        with matplotlib.rc_context(SVG_RC):
            fig = self.figure()
            buf = io.BytesIO()
            FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None})
            ax = fig.axes[0]
            width, height = (float(v) * 72 for v in fig.get_size_inches())
            box = ax.get_position()
            frame = SvgFrame(
                width=width,
                height=height,
                left=box.x0 * width,
                top=(1 - box.y1) * height,
                axes_width=box.width * width,
                axes_height=box.height * height,
                x_range=tuple(float(v) for v in ax.get_xlim()),
                y_range=tuple(float(v) for v in ax.get_ylim()),
            )
        return _self_contained_svg(buf.getvalue(), self.title, self.caption), frame

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
        if self.y_range:
            ax.set_ylim(*self.y_range)
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


@dataclass(frozen=True)
class SvgFrame:
    """Where a static chart's axes lie in its SVG, in points from the top left, and their data ranges."""

    width: float
    height: float
    left: float
    top: float
    axes_width: float
    axes_height: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def point(self, x: float, y: float) -> tuple[float, float]:
        """SVG coordinates of the data point (x, y)."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return (
            self.left + (x - x0) / (x1 - x0) * self.axes_width,
            self.top + (y1 - y) / (y1 - y0) * self.axes_height,
        )


_OVERLAY_SYMBOL_PT = 3.2  # marker half-size in the overlay, as the chart's markers


def overlay_svg(frame: SvgFrame, chart: Chart) -> bytes:
    """``chart``'s lines, markers and vertical lines as a transparent SVG laid exactly over a static
    chart drawn with ``frame``: a patient's points over the cohort's shared SVG, a few hundred
    bytes instead of a whole chart drawn again. Clipped to the axes; the layers' names are listed
    above the axes' top right corner.
    """

    def num(v: float) -> str:
        return f"{v:.2f}".rstrip("0").rstrip(".")

    left, top = frame.left, frame.top
    parts: list[str] = []
    legend: list[tuple[str, str, str]] = []  # (symbol, colour, name)
    for layer in chart.layers:
        if isinstance(layer, Line):
            points = " ".join(
                "{},{}".format(*map(num, frame.point(x, y)))
                for x, y in zip(layer.x, layer.y, strict=True)
                if x is not None and y is not None
            )
            if points:
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{layer.color}" '
                    f'stroke-width="{num(layer.width)}" stroke-opacity="{num(layer.opacity)}"/>'
                )
        elif isinstance(layer, Markers):
            filled = _MPL_MARKER.get(layer.symbol, ("o", True))[1]
            fill = layer.color if filled else "white"
            r = _OVERLAY_SYMBOL_PT
            for x, y in zip(layer.x, layer.y, strict=True):
                if x is None or y is None:
                    continue
                cx, cy = map(num, frame.point(x, y))
                if layer.symbol == "diamond":
                    px, py = frame.point(x, y)
                    d = " ".join(f"{num(a)},{num(b)}" for a, b in ((px, py - r), (px + r, py), (px, py + r), (px - r, py)))  # fmt: skip
                    parts.append(f'<polygon points="{d}" fill="{fill}" stroke="{layer.color}"/>')
                else:
                    parts.append(
                        f'<circle cx="{cx}" cy="{cy}" r="{num(r)}" fill="{fill}" stroke="{layer.color}"/>'
                    )
            if layer.name:
                legend.append(
                    (
                        "◆" if layer.symbol == "diamond" else "○" if not filled else "●",
                        layer.color,
                        layer.name,
                    )
                )
        elif isinstance(layer, VLine):
            x, _ = frame.point(layer.x, frame.y_range[0])
            dash = ' stroke-dasharray="4,2"' if layer.dash != "solid" else ""
            parts.append(
                f'<line x1="{num(x)}" y1="{num(top)}" x2="{num(x)}" y2="{num(top + frame.axes_height)}" '
                f'stroke="{layer.color}" stroke-width="1"{dash}/>'
            )
            if layer.label:
                parts.append(
                    f'<text x="{num(x - 2)}" y="{num(top + 3)}" font-size="7" fill="{layer.color}" '
                    f'text-anchor="end" transform="rotate(-90 {num(x - 2)} {num(top + 3)})">'
                    f"{_xml_text(layer.label).decode()}</text>"
                )
    right = left + frame.axes_width
    key = "".join(
        f'<tspan fill="{color}">{symbol} {_xml_text(name).decode()}</tspan><tspan>  </tspan>'
        for symbol, color, name in legend
    )
    alt = _xml_text(chart.title).decode()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(frame.width)}pt" height="{num(frame.height)}pt" '
        f'viewBox="0 0 {num(frame.width)} {num(frame.height)}" role="img" aria-label="{alt}">\n'
        f"<title>{alt}</title>\n"
        f'<defs><clipPath id="axes"><rect x="{num(left)}" y="{num(top)}" width="{num(frame.axes_width)}" '
        f'height="{num(frame.axes_height)}"/></clipPath></defs>\n'
        f'<g clip-path="url(#axes)">{"".join(parts)}</g>\n'
        f'<text x="{num(right)}" y="{num(top - 3)}" font-size="7" text-anchor="end" '
        f'font-family="DejaVu Sans, sans-serif">{key}</text>\n'
        "</svg>\n"
    ).encode()


_SVG_DOCTYPE = re.compile(rb"<!DOCTYPE[^>]*>\s*")
_SVG_METADATA = re.compile(rb"\s*<metadata>.*?</metadata>", re.S)
_SVG_ROOT = re.compile(rb"<svg\b[^>]*>")


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> bytes:
    text = _NOT_XML.sub("", text)  # control characters cannot be written in XML 1.0
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


def _chart_svg(chart: Chart) -> tuple[bytes, SvgFrame]:  # module level: a worker process runs it
    return chart.svg_and_frame()


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
        self._pending: Iterator[tuple[bytes, SvgFrame]] | None = None
        self._svgs: list[tuple[bytes, SvgFrame]] | None = None
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
            self._svgs = [chart.svg_and_frame() for chart in self.charts]
        return [svg for svg, _ in self._svgs]

    def frames(self) -> list[SvgFrame]:
        """Where each chart's axes lie in its SVG (waits for the SVGs, as :meth:`result`)."""
        self.result()
        assert self._svgs is not None
        return [frame for _, frame in self._svgs]

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
    """A table of text cells under column labels (the genotype calls)."""

    kind: ClassVar[str] = "table"

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class OverlaidChart:
    """A cohort's chart, shared by every patient compared with it, with one patient drawn over it.

    ``cohort`` is drawn once per report (its Plotly figure in a shared asset, its SVG once);
    ``patient`` holds only the patient's layers: the page adds them to the cohort's interactive
    figure, and :func:`overlay_svg` draws them as a small transparent SVG laid over the cohort's
    static one (print and PDF), so no patient redraws the cohort.
    """

    kind: ClassVar[str] = "overlaid"

    cohort: Chart
    patient: Chart


Graphic = Chart | OverlaidChart | TextBlock | RecordTable


@dataclass(frozen=True)
class CriterionGraphics:
    """What the report draws for one verdict, in page order."""

    items: tuple[Graphic, ...]
    notes: tuple[str, ...] = ()

    @property
    def charts(self) -> tuple[Chart, ...]:
        """Every chart drawn, an overlaid chart as its cohort and patient parts."""
        out: list[Chart] = []
        for g in self.items:
            if isinstance(g, Chart):
                out.append(g)
            elif isinstance(g, OverlaidChart):
                out += [g.cohort, g.patient]
        return tuple(out)


# --- labels --------------------------------------------------------------------------------------


def _axis_label(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def _percent(level: float) -> str:
    return f"{level:.0%}"


def _humanize(value: str) -> str:
    return value.replace("_", " ")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "plot"


def _sample_caption(shown: int, total: int, what: str, from_all: str) -> str:
    """'200 of 100,000 subjects' trajectories shown, sampled at random; bands from all subjects.'"""
    if shown >= total:
        return ""
    return f"{shown:,} of {total:,} subjects' {what} shown, sampled at random; {from_all}."


# --- criteria 1 and 2 ----------------------------------------------------------------------------

_GENOTYPE_COLUMNS = ("Variant", "Gene", "ACMG class", "ACMG criteria", "Zygosity", "Phase group", "Phase evidence", "Role")  # fmt: skip


def genotype_table(figure: GenotypeTable) -> RecordTable:
    """The patient's variant calls as a table of text."""
    rows = tuple(
        (
            c.variant,
            c.gene,
            _humanize(c.acmg_class),
            ", ".join(c.acmg_criteria),
            c.zygosity,
            "" if c.phase_group is None else str(c.phase_group),
            c.phase_evidence or "",
            c.role,
        )
        for c in figure.calls
    )
    return RecordTable(figure.title, _GENOTYPE_COLUMNS, rows)


def alignment_block(figure: AlignmentBlock) -> TextBlock:
    """The alignment lines (window ``^``, variant ``*``, bystanders ``b``), then what each mark does."""
    legend = tuple(figure.legend)
    return TextBlock(figure.title, (*figure.lines, *(("", *legend) if legend else ())))


# --- criterion 3 ---------------------------------------------------------------------------------


def _cohort_layers(curve: NaturalHistoryCurve) -> tuple[list[Layer], list[Layer], list[Layer]]:
    """(the fitted band, the cohort's observations and quantiles, the fitted mean) of a curve."""
    band: list[Layer] = []
    cohort: list[Layer] = []
    mean: list[Layer] = []
    if curve.subject:
        by_subject: dict[str, list[tuple[float, Number]]] = {}
        for s, a, v in zip(curve.subject, curve.age, curve.value, strict=True):
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
            f"{len(by_subject):,} of {curve.n_subjects:,} cohort subjects (random sample)"
            if curve.sampled
            else f"cohort subjects (n={len(by_subject)})"
        )
        # Lines without a marker per visit: a marker is an element of its own in the SVG,
        # and thousands of them made the chart most of a PDF page's printing time.
        cohort.append(Line(xs, ys, name=name, color=GREY, width=0.8, opacity=0.6))
        if lone_x:
            cohort.append(Markers(lone_x, lone_y, color=GREY, size=3))
    q = curve.quantiles
    if q is not None:
        tail = (1 - q.level) / 2
        central = f"{tail:.1%}-{1 - tail:.1%}"
        everyone = f"all {curve.n_subjects:,} subjects"
        cohort += [
            Line(q.age, q.lower, name=f"observed {central} ({everyone})", color=DARK, dash="dot", width=1.2),
            Line(q.age, q.upper, color=DARK, dash="dot", width=1.2),
            Line(q.age, q.median, name=f"observed median ({everyone})", color=DARK, dash="dash", width=1.2),
        ]  # fmt: skip
    if curve.grid_age:
        band.append(
            Band(
                curve.grid_age,
                curve.grid_lower,
                curve.grid_upper,
                name=f"{_percent(curve.band_level)} range of untreated values "
                + ("(published model)" if curve.published else "(fitted model)"),
                color=BLUE,
                opacity=0.15,
            )
        )
        mean.append(
            Line(
                curve.grid_age,
                curve.grid_mean,
                name="published mean" if curve.published else "cohort mean (fitted)",
                color=BLUE,
                width=2.2,
            )
        )
    return band, cohort, mean


def _patient_layers(patient: PatientMeasurements) -> list[Layer]:
    """The patient's measurements (open before the first dose, filled after) and the first dose."""
    before = [
        i for i, a in enumerate(patient.age) if a is not None and a <= patient.age_at_first_dose
    ]
    after = [
        i for i, a in enumerate(patient.age) if a is not None and a > patient.age_at_first_dose
    ]
    layers: list[Layer] = [
        Line(patient.age, patient.value, color=VERMILLION, width=1.0, opacity=0.7),
    ]
    for idx, name, symbol in (
        (before, f"patient {patient.patient} before first dose", "circle-open"),
        (after, f"patient {patient.patient} after first dose", "diamond"),
    ):
        if idx:
            layers.append(
                Markers(
                    [patient.age[i] for i in idx],
                    [patient.value[i] for i in idx],
                    name=name,
                    color=VERMILLION,
                    symbol=symbol,
                )
            )
    layers.append(
        VLine(patient.age_at_first_dose, f"{patient.patient}: first dose", color=VERMILLION)
    )
    return layers


def _padded(extent: tuple[float, float] | None, share: float = 0.05) -> tuple[float, float] | None:
    """An axis range around ``extent`` with a margin of ``share`` of its width on each side."""
    if extent is None:
        return None
    lo, hi = extent
    pad = (hi - lo) * share or abs(lo) * share or 1.0
    return (lo - pad, hi + pad)


def natural_history_chart(curve: NaturalHistoryCurve) -> Chart:
    """The cohort's trajectories (light) with the fitted mean curve and its band (no patient)."""
    band, cohort, mean = _cohort_layers(curve)
    return Chart(
        x_range=_padded(curve.age_extent),
        y_range=_padded(curve.value_extent),
        name=f"natural-history-{_slug(curve.endpoint)}",
        title=f"Natural history: {curve.name}",
        x_label="Age (years)",
        y_label=_axis_label(curve.name, curve.unit),
        layers=tuple(band + cohort + mean),  # the band under the subjects, the mean on top
        scope="cohort",
        caption=f"Literature-only natural history: the published mean and range ({curve.published}); "
        "no subjects' data."
        if curve.published
        else _sample_caption(
            curve.n_subjects_shown, curve.n_subjects, "trajectories", "bands from all subjects"
        ),
    )


def natural_history_graphic(curve: NaturalHistoryCurve) -> Chart | OverlaidChart:
    """The cohort's chart, with the patient drawn over it when the curve carries the patient."""
    chart = natural_history_chart(curve)
    if curve.patient is None:
        return chart
    patient = Chart(
        name=f"{chart.name}-patient",
        title=f"{chart.title}: patient {curve.patient.patient}",
        x_label=chart.x_label,
        y_label=chart.y_label,
        layers=tuple(_patient_layers(curve.patient)),
        caption=chart.caption,
    )
    return OverlaidChart(chart, patient)


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


def _published_survival_chart(curve: SurvivalCurve) -> Chart:
    """A literature-only survival: the published points (and their intervals) and the comparator curve."""
    layers: list[Layer] = [
        Line(
            curve.weibull_age,
            curve.weibull_survival,
            name="comparator curve (assumed between the published points)",
            color=BLUE,
            width=2.0,
        ),
        Markers(curve.age, curve.survival, name="published survival", color=VERMILLION, size=7),
    ]
    for a, lo, hi in zip(curve.age, curve.lower, curve.upper, strict=True):
        if lo is not None and hi is not None and hi > lo:
            layers.append(Line([a, a], [lo, hi], color=VERMILLION, width=1.2))
    return Chart(
        name=f"survival-{_slug(curve.endpoint)}",
        title=f"Natural history: {curve.name} (event-free probability, published)",
        x_label="Age (years)",
        y_label="Probability event-free",
        layers=tuple(layers),
        scope="cohort",
        caption=f"Literature-only natural history ({curve.published}); comparator curve: {curve.comparator}.",
    )


def survival_chart(curve: SurvivalCurve) -> Chart:
    """Kaplan-Meier curve of the cohort with its confidence band (or a published survival summary)."""
    if curve.published:
        return _published_survival_chart(curve)
    bx, bl = _steps(curve.age, curve.lower)
    _, bu = _steps(curve.age, curve.upper)
    sx, sy = _steps(curve.age, curve.survival)
    return Chart(
        name=f"survival-{_slug(curve.endpoint)}",
        title=f"Natural history: {curve.name} (event-free probability)",
        x_label="Age (years)",
        y_label="Probability event-free",
        layers=(
            Band(
                bx,
                bl,
                bu,
                name=f"{_percent(curve.confidence)} confidence band of the Kaplan-Meier estimate",
                color=BLUE,
                opacity=0.2,
            ),
            Line(
                sx,
                sy,
                name="Kaplan-Meier estimate"
                + (" (left-truncated at the age of entry)" if curve.left_truncated else ""),
                color=BLUE,
                width=2.0,
            ),
            *(
                [
                    Line(
                        curve.weibull_age,
                        curve.weibull_survival,
                        name="Weibull fit",
                        color=VERMILLION,
                        dash="dash",
                    )
                ]
                if curve.weibull_age
                else []
            ),
        ),
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


def rates_chart(figure: CohortRates) -> Chart:
    """Forest plot of the cohort's event rates per person-year, one row per count endpoint,
    with each subject's own rate (of a random sample when there are many) as light points."""
    rows = [(r.name, "", r.rate_per_year, r.lower, r.upper, None) for r in figure.rates]
    captions = []
    for r in figure.rates:
        caption = _sample_caption(
            r.n_subjects_shown,
            r.n_subjects,
            "own rates",
            "the cohort rate and its interval are from all subjects",
        )
        if r.published:
            caption = f"published rate ({r.published}), no subjects' data."
        if caption:
            captions.append(f"{r.name}: {caption}")
    layers, ticks = _forest(
        rows,
        lambda _g: BLUE,
        lambda _g: f"cohort rate with {_percent(figure.confidence)} confidence interval",
    )
    px: list[Number] = []
    py: list[Number] = []
    for (pos, _), r in zip(ticks, figure.rates, strict=True):
        px += r.subject_rates
        py += [pos] * len(r.subject_rates)
    if px:
        name = "cohort subjects (random sample)" if captions else "cohort subjects"
        layers.insert(0, Markers(px, py, name=name, color=GREY, symbol="circle-open", size=5))
    values = [v for r in rows for v in (r[2], r[3], r[4]) if v is not None]
    values += [v for v in px if v is not None]
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


# --- criterion 4 ---------------------------------------------------------------------------------


def engagement_chart(figure: EngagementForest) -> Chart:
    """Forest plot of the measured fraction per assay, grouped by evidence tier."""
    rows = [
        (
            f"{a.assay} [{_humanize(a.tier)}{', deciding' if a.deciding else ''}]",
            a.tier,
            a.fraction,
            a.lower,
            a.upper,
            a.minimum,
        )
        for a in figure.assays
    ]
    rank = {t: k for k, t in enumerate(TIER_ORDER)}
    # known tiers in evidence order, then others by name; assays keep their order within a tier
    rows.sort(key=lambda r: (rank.get(r[1], len(rank)), r[1] if r[1] not in rank else ""))
    layers, ticks = _forest(rows, lambda g: TIER_COLORS.get(g, GREY))
    values = [v for r in rows for v in (r[2], r[3], r[4], r[5]) if v is not None]
    return Chart(
        name="engagement",
        title=f"Target engagement: {figure.measure} by assay, with "
        f"{_percent(figure.confidence)} interval",
        x_label=figure.measure.capitalize(),
        y_label="",
        layers=tuple(layers),
        y_ticks=ticks,
        x_range=(min(0.0, *values) - 0.02, max(1.0, *values) + 0.02),
        height=max(300, 140 + 34 * len(rows)),
    )


def conversion_chart(figure: ConversionProfile) -> Chart:
    """Conversion % by amplicon position for one sequenced sample: point and interval per editable
    base, the untreated control beside it, the editing window shaded and the target marked."""
    layers: list[Layer] = []
    if figure.window_start is not None and figure.window_end is not None:
        layers.append(
            Span(figure.window_start - 0.5, figure.window_end + 0.5, "editing window", color=GREEN)
        )
    seg_x: list[Number] = []
    seg_y: list[Number] = []
    for x, lo, hi in zip(figure.position, figure.treated_low, figure.treated_high, strict=True):
        if lo is not None and hi is not None:
            seg_x += [x, x, None]
            seg_y += [lo, hi, None]
    if seg_x:
        layers.append(Line(seg_x, seg_y, color=VERMILLION, width=2.0))
    level = _percent(figure.confidence)
    hover = [
        f"position {p} ({r}): {format_number(v)}% ({level} CI {format_interval(lo, hi)}%)"
        for p, r, v, lo, hi in zip(
            figure.position,
            figure.ref,
            figure.treated_pct,
            figure.treated_low,
            figure.treated_high,
            strict=True,
        )
    ]
    layers.append(
        Markers(
            list(figure.position),
            list(figure.treated_pct),
            name="treated",
            color=VERMILLION,
            symbol="diamond",
            hover=hover,
        )
    )
    if figure.control_pct:
        layers.append(
            Markers(
                list(figure.position),
                list(figure.control_pct),
                name="untreated control",
                color=BLUE,
                symbol="circle-open",
            )
        )
    if figure.target_position is not None:
        layers.append(VLine(float(figure.target_position), "target base", color=DARK, dash="dot"))
    values = [v for v in (*figure.treated_high, *figure.control_pct) if v is not None]
    xs = list(figure.position) or [0]
    return Chart(
        name=f"conversion-{_slug(figure.assay)}-{_slug(figure.replicate)}",
        title=f"{figure.assay}, replicate {figure.replicate}: conversion by position, with {level} interval",
        x_label=f"Position on amplicon {figure.amplicon}".rstrip(),
        y_label="Conversion (%)",
        layers=tuple(layers),
        x_range=(min(xs) - 1.5, max(xs) + 1.5),
        y_range=(0.0, max(values, default=1.0) * 1.1 or 1.0),
        caption=f"{figure.conversion}; {figure.source}."
        if figure.source
        else f"{figure.conversion}.",
    )


# --- criterion 5 ---------------------------------------------------------------------------------


def _concomitant_lines(marks: Sequence[ConcomitantMark]) -> list[VLine]:
    lines = []
    for m in marks:
        short = m.description if len(m.description) <= 32 else m.description[:31] + "…"
        lines.append(
            VLine(
                m.day,
                f"{m.kind}: {short}" if short else m.kind,
                color=PURPLE,
                dash="dash",
                hover=m.description,
            )
        )
    return lines


def _figure_name(base: str, role: str, endpoint: str) -> str:
    return base if role == "primary" else f"supportive-{base}-{_slug(endpoint)}"


def trajectory_chart(figure: TrajectoryFigure) -> Chart:
    """Observed values before and after the first dose against the predicted untreated course."""
    layers: list[Layer] = []
    level = _percent(figure.prediction_level)
    if figure.population_mean:
        layers.append(
            Band(
                figure.prediction_day,
                figure.population_lower,
                figure.population_upper,
                name=f"{level} range of the cohort at the patient's ages",
                color=SKY,
                opacity=0.12,
            )
        )
    if figure.prediction_day:
        layers.append(
            Band(
                figure.prediction_day,
                figure.prediction_lower,
                figure.prediction_upper,
                name=f"{level} prediction interval of the untreated course",
                color=GREY,
                opacity=0.3,
            )
        )
        layers.append(
            Line(
                figure.prediction_day,
                figure.prediction_mean,
                name="predicted untreated course (mean)",
                color=DARK,
                dash="dash",
            )
        )
    for phase, name, color, symbol in (
        ("pre", "observed before first dose", BLUE, "circle-open"),
        ("post", "observed after first dose", VERMILLION, "diamond"),
    ):
        idx = [i for i, p in enumerate(figure.phase) if p == phase]
        if idx:
            layers.append(
                Markers(
                    [figure.day[i] for i in idx],
                    [figure.value[i] for i in idx],
                    name=name,
                    color=color,
                    symbol=symbol,
                )
            )
    layers.append(VLine(0.0, "first dose", color=DARK, dash="solid"))
    layers.extend(_concomitant_lines(figure.concomitant))
    direction = f" ({_humanize(figure.direction)})" if figure.direction else ""
    return Chart(
        name=_figure_name("trajectory", figure.role, figure.endpoint),
        title=f"{figure.name}: observed vs predicted untreated course{direction}",
        x_label="Days from first dose",
        y_label=_axis_label(figure.name, figure.unit),
        layers=tuple(layers),
    )


def events_chart(figure: EventsFigure) -> Chart:
    """Event rate per 30 days in each observation period, the expected untreated rate and the
    longest event-free gap shaded."""
    groups: dict[str, tuple[list[float], list[float], list[float], list[str]]] = {
        "pre": ([], [], [], []),
        "post": ([], [], [], []),
    }
    for a, b, n in zip(figure.start_day, figure.end_day, figure.count, strict=True):
        if a is None or b is None or b <= a:
            continue
        g = groups["pre" if a < 0 else "post"]
        g[0].append(a)
        g[1].append(b)
        g[2].append(n * 30.0 / (b - a))
        g[3].append(f"days {a:g} to {b:g}: {n:g} events ({n * 30.0 / (b - a):.3g} per 30 days)")
    layers: list[Layer] = []
    if figure.longest_gap is not None:
        g0, g1 = figure.longest_gap
        layers.append(Span(g0, g1, f"longest event-free gap: {g1 - g0:g} days", color=GREEN))
    names = {"pre": ("before first dose", BLUE), "post": ("after first dose", VERMILLION)}
    for phase, (a, b, h, hover) in groups.items():
        if a:
            layers.append(Bars(a, b, h, name=names[phase][0], color=names[phase][1], hover=hover))
    days = [x for x in (*figure.start_day, *figure.end_day) if x is not None]
    if figure.untreated_rate_per_year is not None and days:
        per_30 = 30.0 / DAYS_PER_YEAR
        x = [min(days), max(days)]
        if figure.untreated_rate_interval is not None:
            lo, hi = (v * per_30 for v in figure.untreated_rate_interval)
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
        rate = figure.untreated_rate_per_year * per_30
        layers.append(
            Line(x, [rate, rate], name="expected untreated rate", color=DARK, dash="dash")
        )
    layers.append(VLine(0.0, "first dose", color=DARK, dash="solid"))
    layers.extend(_concomitant_lines(figure.concomitant))
    return Chart(
        name=_figure_name("events", figure.role, figure.endpoint),
        title=f"{figure.name}: events per 30 days",
        x_label="Days from first dose",
        y_label="Events per 30 days",
        layers=tuple(layers),
    )


# --- one verdict ---------------------------------------------------------------------------------


def graphic(figure: FigureData) -> Graphic:
    """What the report draws for one figure of a verdict."""
    match figure:
        case GenotypeTable():
            return genotype_table(figure)
        case AlignmentBlock():
            return alignment_block(figure)
        case NaturalHistoryCurve():
            return natural_history_graphic(figure)
        case CohortRates():
            return rates_chart(figure)
        case SurvivalCurve():
            return survival_chart(figure)
        case EngagementForest():
            return engagement_chart(figure)
        case ConversionProfile():
            return conversion_chart(figure)
        case TrajectoryFigure():
            return trajectory_chart(figure)
        case EventsFigure():
            return events_chart(figure)
    raise UsageError(
        f"figure: found {type(figure).__name__}, expected one of pmpath.pathway.figures.FigureData"
    )


def criterion_graphics(verdict: Verdict) -> CriterionGraphics:
    """Charts, text blocks and tables for one verdict, from its typed ``figures``, in page order."""
    return CriterionGraphics(tuple(graphic(f) for f in verdict.figures))


def plotly_config_json() -> str:
    return json.dumps(PLOTLY_CONFIG, sort_keys=True)


__all__ = [
    "PLOTLY_CONFIG",
    "SVG_RC",
    "Band",
    "Bars",
    "Chart",
    "CriterionGraphics",
    "Graphic",
    "Line",
    "Markers",
    "OverlaidChart",
    "RecordTable",
    "Span",
    "SvgDrawing",
    "SvgFrame",
    "TextBlock",
    "VLine",
    "alignment_block",
    "conversion_chart",
    "criterion_graphics",
    "engagement_chart",
    "events_chart",
    "genotype_table",
    "graphic",
    "natural_history_chart",
    "natural_history_graphic",
    "overlay_svg",
    "plotly_config_json",
    "rates_chart",
    "render_svgs",
    "survival_chart",
    "trajectory_chart",
]
