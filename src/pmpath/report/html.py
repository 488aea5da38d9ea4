"""The HTML report: a platform overview, one page per patient, interactive plots and static SVGs.

Everything the pages need is written into the report directory (plotly.js once, as
``assets/plotly.min.js``; a cohort's plots once, shared by its patients' pages), so the report
opens offline and links to nothing outside itself. All text from the dossier is escaped by
Jinja2's autoescaping. The same assessment gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
from markupsafe import Markup

from pmpath.pathway.assessment import Assessment, PatientAssessment
from pmpath.pathway.flags import Flag, caveats
from pmpath.pathway.results import ImprovementResult
from pmpath.pathway.verdict import CRITERION_NAMES, Verdict
from pmpath.report.plots import (
    Chart,
    CriterionGraphics,
    OverlaidChart,
    RecordTable,
    SvgDrawing,
    SvgFrame,
    TextBlock,
    criterion_graphics,
    overlay_svg,
    plotly_config_json,
)

if TYPE_CHECKING:
    from pmpath.dossier import Dossier

PLOTLY_ASSET = "assets/plotly.min.js"
PLOTLY_VERSION = "4.1.1"
_PLOTLY_BUNDLE = "vendor/plotly-basic.min.js"  # the "basic" partial bundle: scatter, bar, pie


def plotly_js() -> str:
    """plotly.js's basic partial bundle (scatter and bar are all the charts use), vendored in the package."""
    return (resources.files("pmpath.report") / _PLOTLY_BUNDLE).read_text(encoding="utf-8")


COHORT_ASSETS = "assets"  # cohort-<fingerprint>.js: a cohort chart's Plotly figure, shared by pages
STATUS_SYMBOLS = {"met": "✓", "not_met": "✗", "insufficient": "?"}
STATUS_TEXT = {"met": "met", "not_met": "not met", "insufficient": "insufficient"}
PLATFORM_STATUS_TEXT = {
    "collecting": "collecting evidence",
    "ready_for_marketing_authorization": "ready for marketing authorization",
}


# --- numbers as readable tables ------------------------------------------------------------------


def format_value(value: Any) -> str:
    """A scalar as text: floats to 4 significant digits, ``None`` as a dash, booleans as yes/no."""
    if value is None:
        return "—"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if x == 0:
            return "0"
        exponent = math.floor(math.log10(abs(x)))
        if 4 <= exponent < 6:  # 12345.6 -> 12350 rather than 1.235e+04
            return f"{round(x, 3 - exponent):.0f}"
        return f"{x:.4g}"
    if isinstance(value, Enum):
        return format_value(value.value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def humanize(key: Any) -> str:
    text = str(key).replace("_", " ")
    return text[:1].upper() + text[1:]


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(str(k) for row in rows for k in row))


# --- page models ---------------------------------------------------------------------------------


@dataclass
class PlotView:
    """One figure on a page.

    ``figure_json`` is the page's own Plotly figure (already safe inside ``<script>``); for a
    cohort's chart ``cohort_key`` names its figure in the shared asset ``cohort_src`` and
    ``figure_json`` holds only what the page draws over it (the patient), or ``null``.
    """

    div_id: str
    title: str
    figure_json: Markup
    svg_href: str
    caption: str = ""  # Chart.caption: what the chart leaves out (a sampled cohort, for instance)
    number: int = 0  # "Figure <number>." on its page, counted from 1
    cohort_key: str | None = None
    cohort_src: str | None = None
    overlay_href: str | None = None  # the patient's layers, laid over the cohort's static SVG

    @property
    def alt(self) -> str:
        """The static figure's text alternative: its title and caption."""
        return f"{self.title}. {self.caption}" if self.caption else self.title


@dataclass
class CriterionView:
    verdict: Verdict
    anchor: str
    graphics: list[PlotView | TextBlock | RecordTable] = field(default_factory=list)
    notes: tuple[str, ...] = ()

    @property
    def caveats(self) -> list[str]:
        """The messages of the verdict's flags that bear on it (see :func:`caveat_messages`)."""
        return caveat_messages(self.verdict.flags)

    @property
    def decision(self) -> str:
        """The decision quantity of the primary endpoint, one line (criterion 5), else ""."""
        return decision_text(self.verdict)

    @property
    def result_html(self) -> Markup | None:
        """The criterion's typed result as the report shows it (its own ``to_html``), if it has one."""
        result = self.verdict.result
        if result is None or not hasattr(result, "to_html"):
            return None
        return Markup(result.to_html())  # the result escapes its own text


@dataclass
class PatientView:
    patient: PatientAssessment
    page: str  # file name inside patients/
    criteria: list[CriterionView]
    concomitant_columns: list[str]

    @property
    def has_plots(self) -> bool:
        return any(isinstance(g, PlotView) for c in self.criteria for g in c.graphics)

    @property
    def cohort_scripts(self) -> list[str]:
        """The shared cohort figure assets the page loads, each once, in page order."""
        return list(
            dict.fromkeys(
                g.cohort_src
                for c in self.criteria
                for g in c.graphics
                if isinstance(g, PlotView) and g.cohort_src
            )
        )


def caveat_messages(flags: Sequence[Flag]) -> list[str]:
    """The messages of the flags that bear on a verdict.

    A flag counts when its severity is ``caveat`` (:attr:`pmpath.pathway.flags.Flag.is_caveat`).
    """
    return [f.message for f in caveats(flags)]


def decision_text(verdict: Verdict) -> str:
    """The primary endpoint's decision quantity as one line, for the overview ("" if none).

    From criterion 5's :class:`~pmpath.pathway.results.ImprovementResult`: estimate with unit,
    interval and threshold (``decision_text()``), else the primary endpoint's reason.
    """
    result = verdict.result
    if not isinstance(result, ImprovementResult):
        return ""
    if result.decision_estimate is not None:
        return f"{humanize(result.primary_endpoint)}: {result.decision_text()}"
    if result.primary is not None:
        return f"{humanize(result.primary_endpoint)}: {result.primary.reason}"
    return ""


def css_string(value: Any) -> str:
    """Text as the inside of a CSS double-quoted string (for ``@page`` margin boxes)."""
    text = format_value(value) if not isinstance(value, str) else value
    return re.sub(r'["\\\n\r<>]', lambda m: f"\\{ord(m.group()):x} ", text)


def _file_names(ids: Sequence[str]) -> list[str]:
    """A safe, distinct file-name stem for each patient id (ids are identifiers, but be sure)."""
    seen: set[str] = set()
    out = []
    for pid in ids:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", pid).strip(".") or "patient"
        candidate, k = stem, 2
        while candidate.lower() in seen:
            candidate, k = f"{stem}-{k}", k + 1
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def criterion_anchor(number: int) -> str:
    return f"criterion-{number}"


@dataclass
class _ChartFiles:
    """Every chart of the report under its SVG file name; each distinct chart is drawn once.

    A patient's chart is ``<patient>_<criterion>_<name>``; a cohort's chart (the same natural
    history on the page of every patient compared with it) is ``cohort-<fingerprint>-<name>``,
    one file for all of them.
    """

    charts: dict[str, Chart] = field(default_factory=dict)  # file stem -> chart, in page order
    cohort: dict[str, str] = field(default_factory=dict)  # fingerprint -> file stem
    taken: set[str] = field(default_factory=set)  # lower-cased: distinct on any file system
    assets: dict[str, Chart] = field(default_factory=dict)  # asset key -> cohort chart
    overlays: dict[str, tuple[Chart, Chart]] = field(
        default_factory=dict
    )  # stem -> (cohort, patient)

    def overlay(self, cohort: Chart, patient: Chart, stem: str, number: int) -> str:
        """The file stem of a patient's overlay over a cohort chart's SVG."""
        base = f"{stem}_{number}_{patient.name}"
        name, k = base, 2
        while name.lower() in self.taken:
            name, k = f"{base}-{k}", k + 1
        self.taken.add(name.lower())
        self.overlays[name] = (cohort, patient)
        return name

    def write_overlays(self, plots_dir: Path, frames: Sequence[SvgFrame]) -> None:
        """Write each overlay; ``frames`` are those of :meth:`distinct`, in its order."""
        frame_of = dict(zip((c.fingerprint for c in self.distinct()), frames, strict=True))
        for name, (cohort, patient) in self.overlays.items():
            (plots_dir / f"{name}.svg").write_bytes(
                overlay_svg(frame_of[cohort.fingerprint], patient)
            )

    def asset(self, chart: Chart) -> str:
        """The key of a cohort chart's shared Plotly figure (``assets/<key>.js``)."""
        key = f"cohort-{chart.fingerprint[:16]}"
        self.assets.setdefault(key, chart)
        return key

    def write_assets(self, out_dir: Path) -> None:
        """One script per cohort chart, setting ``window.pmpathCohort[key]`` to its figure."""
        for key, chart in self.assets.items():
            write_report_text(
                out_dir / COHORT_ASSETS / f"{key}.js",
                f'(window.pmpathCohort = window.pmpathCohort || {{}})["{key}"] = '
                f"{chart.plotly_json()};\n",
            )

    def name(self, chart: Chart, stem: str, number: int) -> str:
        if chart.scope == "cohort":
            if chart.fingerprint in self.cohort:
                return self.cohort[chart.fingerprint]
            base = f"cohort-{chart.fingerprint[:12]}-{chart.name}"
        else:
            base = f"{stem}_{number}_{chart.name}"
        name, k = base, 2
        while name.lower() in self.taken:
            name, k = f"{base}-{k}", k + 1
        self.taken.add(name.lower())
        self.charts[name] = chart
        if chart.scope == "cohort":
            self.cohort[chart.fingerprint] = name
        return name

    def distinct(self) -> list[Chart]:
        return list({c.fingerprint: c for c in self.charts.values()}.values())

    def write_svgs(self, plots_dir: Path, svgs: Sequence[bytes]) -> None:
        """Write each file; ``svgs`` are those of :meth:`distinct`, in its order."""
        svg_of = dict(zip((c.fingerprint for c in self.distinct()), svgs, strict=True))
        for name, chart in self.charts.items():
            (plots_dir / f"{name}.svg").write_bytes(svg_of[chart.fingerprint])


def _div_id(name: str, div_ids: set[str]) -> str:
    div_id, k = f"plot-{name}", 2
    while div_id in div_ids:  # the same chart twice on one page
        div_id, k = f"plot-{name}-{k}", k + 1
    div_ids.add(div_id)
    return div_id


def _criterion_view(
    verdict: Verdict,
    stem: str,
    files: _ChartFiles,
    div_ids: set[str],
    plotly_json: dict[str, Markup],
) -> CriterionView:
    graphics: CriterionGraphics = criterion_graphics(verdict)
    views: list[PlotView | TextBlock | RecordTable] = []

    def own_json(chart: Chart) -> Markup:
        if chart.fingerprint not in plotly_json:
            plotly_json[chart.fingerprint] = Markup(chart.plotly_json())
        return plotly_json[chart.fingerprint]

    for item in graphics.items:
        if isinstance(item, Chart | OverlaidChart):
            chart = item.cohort if isinstance(item, OverlaidChart) else item
            name = files.name(chart, stem, verdict.number)
            view = PlotView(
                _div_id(name, div_ids), chart.title, Markup("null"), f"../plots/{name}.svg"
            )
            view.caption = chart.caption
            if chart.scope == "cohort":
                view.cohort_key = files.asset(chart)
                view.cohort_src = f"../{COHORT_ASSETS}/{view.cohort_key}.js"
            else:
                view.figure_json = own_json(chart)
            if isinstance(item, OverlaidChart):
                view.title = item.patient.title
                view.figure_json = own_json(item.patient)
                overlay = files.overlay(chart, item.patient, stem, verdict.number)
                view.overlay_href = f"../plots/{overlay}.svg"
            views.append(view)
        else:
            views.append(item)
    return CriterionView(verdict, criterion_anchor(verdict.number), views, graphics.notes)


def _patient_view(
    patient: PatientAssessment, stem: str, files: _ChartFiles, plotly_json: dict[str, Markup]
) -> PatientView:
    div_ids: set[str] = set()
    criteria = [
        _criterion_view(v, stem, files, div_ids, plotly_json)
        for v in sorted(patient.criteria, key=lambda v: v.number)
    ]
    figures = [g for c in criteria for g in c.graphics if isinstance(g, PlotView)]
    for k, figure in enumerate(figures, start=1):
        figure.number = k
    columns = list(
        dict.fromkeys(["study_day", "kind", "description", *_columns(patient.concomitant)])
    )
    return PatientView(patient, f"{stem}.html", criteria, columns)


@functools.cache  # one environment per process: templates are compiled once
def template_environment() -> jinja2.Environment:
    """The report's Jinja environment (its templates, filters and status vocabulary), shared by
    every page pmpath writes: the assessment report, the signals and monitoring pages."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pmpath.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = format_value
    env.filters["humanize"] = humanize
    env.filters["css_string"] = css_string
    env.globals.update(
        STATUS_SYMBOLS=STATUS_SYMBOLS,
        STATUS_TEXT=STATUS_TEXT,
        PLATFORM_STATUS_TEXT=PLATFORM_STATUS_TEXT,
        CRITERION_NAMES=CRITERION_NAMES,
        criterion_anchor=criterion_anchor,
    )
    return env


def render_html(assessment: Assessment, dossier: Dossier | None, out_dir: Path) -> None:
    """Write ``index.html``, ``patients/<id>.html``, ``plots/*.svg`` and ``assets/plotly.min.js``.

    A patient's static plots are ``plots/<id>_<criterion>_<name>.svg``; the natural-history
    cohort's are ``plots/cohort-<hash>-<name>.svg``, written once and linked from the page of every
    patient compared with that cohort, and their interactive figures ``assets/cohort-<hash>.js``,
    loaded by those pages, which draw the patient's own measurements over them (a patient's
    static natural-history figure is the cohort's fitted band with the patient's points). Each distinct chart is drawn once, the SVGs in worker
    processes while the pages are written (see :class:`pmpath.report.plots.SvgDrawing`).

    Parameters
    ----------
    assessment
        What to report; everything on the pages comes from it.
    dossier
        Accepted for the report writer's signature and not used: the assessment carries all the
        report shows.
    out_dir
        An existing (usually empty, temporary) directory to write into.
    """
    out_dir = Path(out_dir)
    plots_dir = out_dir / "plots"
    patients_dir = out_dir / "patients"
    plots_dir.mkdir(parents=True, exist_ok=True)
    patients_dir.mkdir(parents=True, exist_ok=True)
    env = template_environment()

    stems = _file_names([p.id for p in assessment.patients])
    files = _ChartFiles()
    plotly_json: dict[str, Markup] = {}  # by chart fingerprint
    views = [
        _patient_view(p, stem, files, plotly_json)
        for p, stem in zip(assessment.patients, stems, strict=True)
    ]
    # The SVGs are drawn in worker processes while this one writes the pages.
    with SvgDrawing(files.distinct()) as drawing:
        _write_pages(assessment, views, env, out_dir)
        files.write_assets(out_dir)
        files.write_svgs(plots_dir, drawing.result())
        files.write_overlays(plots_dir, drawing.frames())


def _write_pages(
    assessment: Assessment, views: list[PatientView], env: jinja2.Environment, out_dir: Path
) -> None:
    numbers = sorted(
        {c.number for p in assessment.patients for c in p.criteria} | set(CRITERION_NAMES)
    )
    page_of = {v.patient.id: v.page for v in views}
    common = {
        "assessment": assessment,
        "platform": assessment.platform,
        "version": assessment.pmpath_version,
    }
    index = env.get_template("index.html").render(
        **common, views=views, numbers=numbers, page_of=page_of, root=""
    )
    write_report_text(out_dir / "index.html", index)
    patient_template = env.get_template("patient.html")
    config = Markup(plotly_config_json())
    for view in views:
        page = patient_template.render(
            **common, view=view, root="../", plotly_src=f"../{PLOTLY_ASSET}", plotly_config=config
        )
        write_report_text(out_dir / "patients" / view.page, page)
    if any(v.has_plots for v in views):
        write_report_text(out_dir / PLOTLY_ASSET, plotly_js())


def write_report_text(path: Path, text: str) -> None:
    """One page or asset of a report folder being built, as UTF-8 with Unix line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
