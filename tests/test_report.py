"""The HTML report: overview grid, patient pages, plotly.js once, deterministic shared SVGs, escaping."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import plotly.io as pio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from pydantic import ValidationError

from pmpath.errors import UsageError
from pmpath.pathway.assessment import (
    AdverseEvent,
    Assessment,
    PatientAssessment,
    PatientRole,
    PlatformAssessment,
    PlatformStatus,
)
from pmpath.pathway.figures import (
    AlignmentBlock,
    CohortRate,
    CohortRates,
    ConcomitantMark,
    EngagementForest,
    EventsFigure,
    ForestAssay,
    GenotypeTable,
    NaturalHistoryCurve,
    PatientMeasurements,
    QuantileBands,
    SurvivalCurve,
    TrajectoryFigure,
)
from pmpath.pathway.flags import Flag
from pmpath.pathway.results import EngagementResult, GenotypeCall
from pmpath.pathway.verdict import CRITERION_NAMES, Evidence, Status, Verdict
from pmpath.report.html import format_value, render_html
from pmpath.report.plots import (
    SVG_RC,
    Chart,
    Line,
    OverlaidChart,
    SvgDrawing,
    SvgFrame,
    criterion_graphics,
    engagement_chart,
    events_chart,
    graphic,
    natural_history_chart,
    natural_history_graphic,
    overlay_svg,
    render_svgs,
)

HOSTILE = "<script>alert('x')</script>"
SHA_A = "a" * 64
SHA_B = "0123456789abcdef" * 4


def _trajectory(name: str, role: str = "primary", endpoint: str = "ammonia") -> TrajectoryFigure:
    return TrajectoryFigure(
        role=role,
        endpoint=endpoint,
        name=name,
        unit="umol/L",
        direction="lower_is_better",
        day=[-60, -30, -1, 14, 60, 120],
        value=[110.0, 95.5, 120.0, 60.0, 48.0, None],
        phase=["pre", "pre", "pre", "post", "post", "post"],
        prediction_day=[0, 60, 120],
        prediction_mean=[100.0, 104.0, 108.0],
        prediction_lower=[80.0, 82.0, 84.0],
        prediction_upper=[120.0, 126.0, 132.0],
        concomitant=[
            ConcomitantMark(
                day=30, kind="diet", description=f"protein restriction relaxed {HOSTILE}"
            )
        ],
    )


def _curve(patient: bool = True, **update: object) -> NaturalHistoryCurve:
    curve = NaturalHistoryCurve(
        endpoint="ammonia",
        name="Plasma ammonia",
        unit="umol/L",
        subject=["s1", "s1", "s1", "s2", "s2"],
        age=[0.5, 1.0, 1.5, 0.7, 1.2],
        value=[90.0, 100.0, 112.0, 85.0, 96.0],
        grid_age=[0.5, 1.0, 1.5],
        grid_mean=[88.0, 99.0, 110.0],
        grid_lower=[80.0, 92.0, 101.0],
        grid_upper=[96.0, 106.0, 119.0],
        n_subjects=2,
        n_subjects_shown=2,
        patient=PatientMeasurements(
            patient="P01", age=[0.9, 1.1, 1.4], value=[131.0, 77.0, 71.5], age_at_first_dose=1.0
        )
        if patient
        else None,
    )
    return curve.model_copy(update=update)


def _figures(patient_points: bool = True) -> dict[int, list]:
    return {
        1: [
            GenotypeTable(
                calls=[
                    GenotypeCall(
                        variant="CPS1 c.1003C>T",
                        gene="CPS1",
                        acmg_class="pathogenic",
                        zygosity="compound heterozygous",
                        role="counted as P/LP",
                    )
                ]
            )
        ],
        2: [
            AlignmentBlock(
                lines=["protospacer  ACGTACGTACGTACGTACGT", "target       ACGTACGTACGTACGTACGT"]
            )
        ],
        3: [
            _curve(patient_points),
            SurvivalCurve(
                endpoint="death",
                name="Death",
                age=[0.0, 1.0, 2.0, 3.0],
                survival=[1.0, 0.9, 0.7, 0.6],
                lower=[1.0, 0.8, 0.55, 0.4],
                upper=[1.0, 0.97, 0.85, 0.8],
                n_subjects=20,
            ),
            CohortRates(
                rates=[
                    CohortRate(
                        endpoint="crises",
                        name="Metabolic crises",
                        rate_per_year=3.2,
                        lower=2.1,
                        upper=4.8,
                        n_subjects=20,
                        n_subjects_shown=0,
                    )
                ]
            ),
        ],
        4: [
            EngagementForest(
                confidence=0.95,
                assays=[
                    ForestAssay(
                        assay="liver biopsy amplicon-seq",
                        tier="patient",
                        fraction=0.42,
                        lower=0.35,
                        upper=0.49,
                        minimum=0.2,
                        deciding=True,
                    ),
                    ForestAssay(
                        assay="mouse liver",
                        tier="animal_model",
                        fraction=0.6,
                        lower=0.5,
                        upper=0.7,
                        minimum=0.3,
                    ),
                    ForestAssay(assay="hepatocytes", tier="patient_derived_cells", fraction=0.8),
                ],
            )
        ],
        5: [
            _trajectory(f"Ammonia {HOSTILE}"),
            EventsFigure(
                endpoint="crises",
                name="Metabolic crises",
                start_day=[-180, -90, 0, 90],
                end_day=[-90, 0, 90, 180],
                count=[3, 2, 1, 0],
                longest_gap=(40, 180),
                untreated_rate_per_year=3.0,
                untreated_rate_interval=(2.0, 4.5),
                concomitant=[ConcomitantMark(day=30, kind="diet", description="protein")],
            ),
            _trajectory("Glutamine", role="supportive", endpoint="glutamine"),
        ],
    }


def _verdicts(statuses: dict[int, Status], with_plots: bool) -> list[Verdict]:
    figures = _figures() if with_plots else {n: [] for n in range(1, 6)}
    out = []
    for n in range(1, 6):
        s = statuses[n]
        out.append(
            Verdict(
                number=n,
                name=CRITERION_NAMES[n],
                status=s,
                summary=f"criterion {n} {s.value} {HOSTILE}",
                method=f"method for criterion {n}",
                assumptions=[f"assumption {n}"],
                result=EngagementResult(confidence=0.95, deciding_tier=None) if n == 4 else None,
                evidence=[Evidence(path=f"patients/P{n}/file.csv", sha256=SHA_A)],
                flags=[Flag(kind="note", severity="caveat", message=f"flag {n}", criterion=n)]
                if s != Status.met
                else [],
                figures=figures[n],
            )
        )
    return out


def _assessment() -> Assessment:
    met = {n: Status.met for n in range(1, 6)}
    mixed = {1: Status.met, 2: Status.met, 3: Status.met, 4: Status.not_met, 5: Status.insufficient}
    patients = [
        PatientAssessment(
            id="P01",
            first_dose=dt.date(2024, 1, 10),
            disease="CPS1D",
            fatal_in_childhood=True,
            outcome="ongoing",
            success=True,
            role=PatientRole.success,
            counts_toward_platform=True,
            criteria=_verdicts(met, with_plots=True),
            adverse_events=[
                AdverseEvent(
                    study_day=3,
                    term="ALT increased",
                    serious=False,
                    relatedness="possible",
                    grade=2,
                )
            ],
            concomitant=[{"study_day": 31, "kind": "diet", "description": f"protein {HOSTILE}"}],
        ),
        PatientAssessment(
            id="P02",
            first_dose=dt.date(2024, 6, 1),
            disease="CPS1D",
            fatal_in_childhood=True,
            outcome="ongoing",
            success=False,
            role=PatientRole.failure,
            counts_toward_platform=True,
            flags=[
                Flag(
                    kind="standing",
                    severity="info",
                    message="criterion 4 not met: breaks the streak",
                )
            ],
            criteria=_verdicts(mixed, with_plots=False),
        ),
    ]
    platform = PlatformAssessment(
        id="abe-liver",
        name=f"Liver ABE {HOSTILE}",
        modality="adenine_base_editor",
        synthetic=True,
        status=PlatformStatus.collecting,
        streak=0,
        required_consecutive=3,
        streak_patients=[],
        data_cutoff=dt.date(2025, 1, 31),
        analysis_plan_sha256=SHA_B,
        analysis_plan_fixed_on=dt.date(2024, 3, 1),
        analysis_plan_changed_after_first_dose=True,
        priority_fatal_childhood=True,
        flags=[
            Flag(
                kind="synthetic_data",
                severity="info",
                message="synthetic example data: not evidence about any real therapy",
            )
        ],
    )
    inputs = [
        Evidence(path="platform.yaml", sha256=SHA_A),
        Evidence(path="patients/P01/case.yaml", sha256=SHA_B),
    ]
    return Assessment(pmpath_version="9.9.9", platform=platform, patients=patients, inputs=inputs)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    render_html(_assessment(), None, out)
    return out


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_index_lists_every_patient_and_status(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    assessment = _assessment()
    for patient in assessment.patients:
        assert f'href="patients/{patient.id}.html"' in html
        for verdict in patient.criteria:
            link = f'href="patients/{patient.id}.html#criterion-{verdict.number}"'
            cell = re.search(
                rf'<a class="status (\w+)" {re.escape(link)}[^>]*><span aria-hidden="true">(.)</span> ([a-z ]+)</a>',
                html,
            )
            assert cell is not None, (patient.id, verdict.number)
            assert cell.group(1) == verdict.status.value
            assert (
                cell.group(2)
                == {"met": "✓", "not_met": "✗", "insufficient": "?"}[verdict.status.value]
            )
            assert cell.group(3) == verdict.status.value.replace("_", " ")
    assert "0 of 3 consecutive" in html
    assert "SYNTHETIC" in html
    assert f'<span class="hash">{SHA_B}</span>' in html
    assert "changed after the first dose" in html
    assert "fatal in childhood" in html
    for role in ("success", "failure"):
        assert f'class="role {role}">{role}<' in html
    for e in assessment.inputs:  # provenance
        assert e.path in html and e.sha256 in html
    assert "pmpath 9.9.9" in html and "2025-01-31" in html


def test_patient_pages_have_every_section(report: Path) -> None:
    page = (report / "patients" / "P01.html").read_text(encoding="utf-8")
    for n in range(1, 6):
        assert f'id="criterion-{n}"' in page
    assert "ALT increased" in page and "Study day" in page
    assert '<table class="numbers">' in page and "<th>ACMG class</th>" in page
    assert "protospacer  ACGTACGTACGTACGTACGT" in page
    assert "CPS1 c.1003C&gt;T" in page  # genotype table, escaped
    assert "Edited fraction per assay" in page  # criterion 4's typed result
    assert "2024-01-10" not in page  # no calendar dates for patient events
    assert (report / "patients" / "P02.html").exists()


def test_self_contained_with_plotly_once(report: Path) -> None:
    js = (report / "assets" / "plotly.min.js").read_text(encoding="utf-8")
    assert len(js) > 100_000
    assert "plotly.js (basic - minified)" in js[:200]  # the partial bundle, not the 4.8 MB full one
    for page in [report / "index.html", *sorted((report / "patients").glob("*.html"))]:
        html = page.read_text(encoding="utf-8")
        assert (
            not re.search(r"https?://", html)
            and "cdn" not in html.lower()
            and "cdn" not in html.lower()
        )
        scripts = re.findall(r'<script src="([^"]+)"', html)
        assert all(re.fullmatch(r"\.\./assets/[\w.-]+\.js", src) for src in scripts)
        assert all((page.parent / src).is_file() for src in scripts)
        assert len(html) < len(js)  # the bundle is referenced, not inlined
    p1 = (report / "patients" / "P01.html").read_text(encoding="utf-8")
    assert p1.count('<script src="../assets/plotly.min.js"></script>') == 1
    # the three cohort charts' figures come from shared assets, one script each
    assert len(re.findall(r'<script src="\.\./assets/cohort-[0-9a-f]{16}\.js"></script>', p1)) == 3
    # one interactive plot per figure; the natural-history one links the patient's SVG and the cohort's
    linked = re.findall(r'href="\.\./plots/([^"]+\.svg)"', p1)
    assert p1.count("Plotly.newPlot(") == 7
    assert len(linked) == len(set(linked)) == 8
    assert all((report / "plots" / name).is_file() for name in linked)
    assert "<script src=" not in (report / "patients" / "P02.html").read_text(
        encoding="utf-8"
    )  # no plots


_FIGURE = re.compile(
    r'<div class="plotly-div" id="([^"]+)"></div>\n<script>\(function \(\) \{ '
    r'var f = pmpathFigure\((null|"[^"]+"), (.*?)\); Plotly\.newPlot\("\1"'
)
_ASSET = re.compile(
    r'^\(window\.pmpathCohort = window\.pmpathCohort \|\| \{\}\)\["([^"]+)"\] = (.*);\n$', re.S
)


def _page_figures(page: Path) -> dict[str, dict]:
    """Every figure of a page as plotly.js gets it: the shared cohort figure merged with the page's own."""
    html = page.read_text(encoding="utf-8")
    out = {}
    for div_id, key, own in _FIGURE.findall(html):
        own = json.loads(own)
        if key == "null":
            out[div_id] = own
            continue
        key = json.loads(key)
        asset = (page.parent.parent / "assets" / f"{key}.js").read_text(encoding="utf-8")
        match = _ASSET.match(asset)
        assert match is not None and match.group(1) == key
        cohort = json.loads(match.group(2))
        if own is None:
            out[div_id] = cohort
            continue
        layout = dict(cohort["layout"])
        for k in ("shapes", "annotations"):
            layout[k] = cohort["layout"].get(k, []) + own["layout"].get(k, [])
        out[div_id] = {"data": cohort["data"] + own["data"], "layout": layout}
    return out


def test_embedded_figures_are_valid_plotly_json(report: Path) -> None:
    figures = _page_figures(report / "patients" / "P01.html")
    assert len(figures) == 7
    for figure in figures.values():
        assert figure["data"] and "layout" in figure
    trajectory = next(f for i, f in figures.items() if i.endswith("_5_trajectory"))
    names = [trace.get("name") for trace in trajectory["data"]]
    assert "observed before first dose" in names and "observed after first dose" in names
    assert any(a["text"] == "first dose" for a in trajectory["layout"]["annotations"])
    # the concomitant change's description reaches plotly.js escaped, so it shows as text
    assert any(
        "&lt;script&gt;" in (a.get("hovertext") or "") for a in trajectory["layout"]["annotations"]
    )


def test_natural_history_chart_shows_the_patient(report: Path) -> None:
    """The patient page's natural-history figure is the cohort's with the patient's own points over it."""
    figures = _page_figures(report / "patients" / "P01.html")
    (figure,) = (f for i, f in figures.items() if "natural-history-ammonia" in i)
    traces = {t.get("name"): t for t in figure["data"]}
    assert "cohort subjects (n=2)" in traces and "cohort mean (fitted)" in traces
    before = traces["patient P01 before first dose"]
    after = traces["patient P01 after first dose"]
    assert (before["x"], before["y"]) == ([0.9], [131.0])
    assert (after["x"], after["y"]) == ([1.1, 1.4], [77.0, 71.5])
    assert any(a["text"] == "P01: first dose" for a in figure["layout"]["annotations"])
    (line,) = (s for s in figure["layout"]["shapes"] if s["type"] == "line")
    assert line["x0"] == line["x1"] == 1.0  # age at first dose
    # the static figure (print, PDF) is the patient's own, with the patient's points
    page = (report / "patients" / "P01.html").read_text(encoding="utf-8")
    stack = re.search(
        r'<div class="static-stack"><img class="static-plot" src="\.\./plots/(cohort-[0-9a-f]{12}-natural-history-ammonia\.svg)"'
        r'[^>]*><img class="static-overlay" src="\.\./plots/(P01_3_natural-history-ammonia-patient\.svg)"',
        page,
    )
    assert stack is not None
    cohort_svg, overlay = (
        (report / "plots" / name).read_text(encoding="utf-8") for name in stack.groups()
    )
    assert "patient P01" not in cohort_svg  # shared by every patient of the cohort
    assert "patient P01 after first dose" in overlay and "P01: first dose" in overlay
    root = ET.fromstring(overlay)
    ns = "{http://www.w3.org/2000/svg}"
    # the same size as the cohort's SVG, so it lies exactly over it: one marker per measurement
    assert (root.get("width"), root.get("height")) == (
        ET.fromstring(cohort_svg).get("width"),
        ET.fromstring(cohort_svg).get("height"),
    ) or root.get("viewBox") == ET.fromstring(cohort_svg).get("viewBox")
    assert len(root.findall(f".//{ns}circle")) == 1 and len(root.findall(f".//{ns}polygon")) == 2


def test_svgs_written_and_linked(report: Path) -> None:
    svgs = sorted(p.name for p in (report / "plots").glob("*.svg"))
    # criterion 3's charts describe the cohort: cohort-<12 hex digits of the chart's hash>-<name>
    cohort = {re.sub(r"^cohort-[0-9a-f]{12}-", "cohort-*-", n) for n in svgs}
    expected = {
        "cohort-*-natural-history-ammonia.svg",
        "cohort-*-natural-history-rates.svg",
        "cohort-*-survival-death.svg",
        "P01_3_natural-history-ammonia-patient.svg",
        "P01_4_engagement.svg",
        "P01_5_trajectory.svg",
        "P01_5_events.svg",
        "P01_5_supportive-trajectory-glutamine.svg",
    }
    assert cohort == expected and len(svgs) == len(expected)
    page = (report / "patients" / "P01.html").read_text(encoding="utf-8")
    for name in svgs:
        root = ET.parse(report / "plots" / name).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert f'href="../plots/{name}"' in page


def test_two_renders_are_byte_identical(report: Path, tmp_path: Path) -> None:
    render_html(_assessment(), None, tmp_path)
    assert _tree(tmp_path) == _tree(report)


def test_user_text_is_escaped(report: Path) -> None:
    for page in [report / "index.html", *sorted((report / "patients").glob("*.html"))]:
        html = page.read_text(encoding="utf-8")
        assert HOSTILE not in html
        assert (
            "alert(" not in html or "&lt;script&gt;alert(" in html or "\\u003cscript\\u003e" in html
        )
    index = (report / "index.html").read_text(encoding="utf-8")
    assert "Liver ABE &lt;script&gt;" in index
    for svg in (report / "plots").glob("*.svg"):
        assert "<script" not in svg.read_text(encoding="utf-8")


def test_malformed_figure_data_is_refused() -> None:
    """The figure models check their data: what the report draws is never guessed at."""
    with pytest.raises(ValidationError, match="lists of different lengths"):
        EventsFigure(endpoint="e", name="E", start_day=[0, 1], end_day=[1], count=[0, 0])
    with pytest.raises(ValidationError):
        _trajectory("x").model_validate({**_trajectory("x").model_dump(), "value": ["high"] * 6})
    with pytest.raises(ValidationError, match="kind"):
        Verdict(
            number=5,
            name="n",
            status=Status.met,
            summary="s",
            method="m",
            figures=[{"kind": "pie"}],
        )
    with pytest.raises(UsageError, match="expected one of"):
        graphic(object())  # type: ignore[arg-type]


def test_events_chart_rates_per_30_days() -> None:
    # 3 events in 90 days -> 1 per 30 days; 1 event in 60 days -> 0.5 per 30 days.
    chart = events_chart(
        EventsFigure(endpoint="e", name="E", start_day=[-90, 0], end_day=[0, 60], count=[3, 1])
    )
    bars = [trace for trace in chart.plotly_figure().data if trace.type == "bar"]
    assert [list(b.y) for b in bars] == [[1.0], [0.5]]
    assert [list(b.width) for b in bars] == [[90.0], [60.0]]


def test_events_chart_draws_the_expected_untreated_rate() -> None:
    """3 events a year untreated is 3 * 30 / 365.25 per 30 days, drawn across the periods with its interval."""
    (figure,) = (f for f in _figures()[5] if isinstance(f, EventsFigure))
    chart = events_chart(figure)
    traces = {t.name: t for t in chart.plotly_figure().data}
    rate = traces["expected untreated rate"]
    assert list(rate.x) == [-180, 180]
    assert list(rate.y) == pytest.approx([3.0 * 30 / 365.25] * 2)
    band = traces["interval of the expected untreated rate"]
    assert min(band.y) == pytest.approx(2.0 * 30 / 365.25)
    assert max(band.y) == pytest.approx(4.5 * 30 / 365.25)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.123456789, "0.1235"),
        (12345.6, "12350"),
        (1234.56, "1235"),
        (2.5e-7, "2.5e-07"),
        (3, "3"),
        (None, "—"),
        (True, "yes"),
        (float("nan"), "NaN"),
    ],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text


@given(st.floats(min_value=-1e300, max_value=1e300).filter(lambda x: x != 0))
def test_format_value_keeps_four_significant_digits(x: float) -> None:
    shown = float(format_value(x))
    assert math.isclose(shown, x, rel_tol=5e-4)


def test_write_report_writes_json_and_html(tmp_path: Path) -> None:
    from pmpath.report import write_report

    out = write_report(
        _assessment(), None, tmp_path / "report"
    )  # the dossier is not needed for the HTML
    assert (out / "assessment.json").is_file() and (out / "index.html").is_file()
    assert (out / "patients" / "P01.html").is_file()


def test_every_figure_kind_is_drawn() -> None:
    """Each figure model becomes a graphic: plotly traces from its data, an SVG with its labels."""
    drawn = {}
    for n, figures in _figures().items():
        items = criterion_graphics(
            Verdict(number=n, name="n", status=Status.met, summary="s", method="m", figures=figures)
        ).items
        drawn[n] = [type(item).__name__ for item in items]
        for figure, item in zip(figures, items, strict=True):
            if isinstance(item, OverlaidChart):
                assert item.cohort.scope == "cohort" and item.patient.scope == "patient"
                charts = [item.patient, item.cohort]
            elif isinstance(item, Chart):
                charts = [item]
            else:
                continue
            for chart in charts:
                data = chart.plotly_dict()["data"]
                assert data, (figure.kind, chart.name)
            svg = charts[-1].svg().decode("utf-8")
            assert charts[-1].title.replace("<", "&lt;").replace(">", "&gt;") in svg
    assert drawn == {
        1: ["RecordTable"],
        2: ["TextBlock"],
        3: ["OverlaidChart", "Chart", "Chart"],
        4: ["Chart"],
        5: ["Chart", "Chart", "Chart"],
    }
    # the patient's layers only: the page adds them to the shared cohort figure
    overlay = natural_history_graphic(_curve()).patient
    assert [t.get("name") for t in overlay.plotly_dict()["data"]] == [
        None,
        "patient P01 before first dose",
        "patient P01 after first dose",
    ]
    assert natural_history_graphic(_curve(patient=False)) == natural_history_chart(
        _curve(patient=False)
    )


@pytest.mark.parametrize(("x", "y"), [(0.5, 80.0), (1.5, 119.0), (1.0, 100.0)])
def test_overlay_points_land_where_matplotlib_draws_them(x: float, y: float) -> None:
    """SvgFrame.point agrees with matplotlib's own data-to-display transform of the same chart."""
    chart = natural_history_chart(_curve(patient=False))
    _, frame = chart.svg_and_frame()
    with matplotlib.rc_context(SVG_RC):
        fig = chart.figure()
        FigureCanvasSVG(fig).print_svg(io.BytesIO())
        px, py = fig.axes[0].transData.transform((x, y)) / fig.dpi * 72
        height = fig.get_size_inches()[1] * 72
    assert frame.point(x, y) == pytest.approx((px, height - py), abs=0.01)


@settings(max_examples=25, deadline=None)
@given(
    patient=st.text(
        st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30
    ).filter(str.strip),
    values=st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=8
    ),
)
def test_overlay_is_well_formed_whatever_the_patient(patient: str, values: list[float]) -> None:
    """Any patient id and values give an overlay SVG that parses, names the patient and has one marker per value."""
    ages = [1.0 + i / 4 for i in range(len(values))]
    frame = SvgFrame(
        width=540, height=300, left=50, top=30, axes_width=470, axes_height=230,
        x_range=(0.0, 4.0), y_range=(-1e6, 1e6),
    )  # fmt: skip
    mine = PatientMeasurements(patient=patient, age=ages, value=values, age_at_first_dose=1.1)
    chart = natural_history_graphic(_curve().model_copy(update={"patient": mine})).patient
    root = ET.fromstring(overlay_svg(frame, chart))
    ns = "{http://www.w3.org/2000/svg}"
    markers = root.findall(f".//{ns}circle") + root.findall(f".//{ns}polygon")
    assert len(markers) == len(values)
    assert patient in "".join(root.itertext())
    # control characters, which XML cannot hold, are dropped rather than breaking the file
    ET.fromstring(overlay_svg(frame, Chart("c", "P\x1f01", "x", "y", chart.layers)))


def test_engagement_chart_orders_tiers_and_marks_minimums() -> None:
    (figure,) = _figures()[4]
    chart = engagement_chart(figure)
    labels = [label for _, label in chart.y_ticks]
    assert labels == [
        "liver biopsy amplicon-seq [patient, deciding]",
        "mouse liver [animal model]",
        "hepatocytes [patient derived cells]",
    ]
    minimum = next(t for t in chart.plotly_dict()["data"] if t.get("name") == "required minimum")
    assert [x for x in minimum["x"] if x is not None] == [0.2, 0.2, 0.3, 0.3]
    assert chart.title == "Target engagement: edited fraction by assay, with 95% interval"


def _page_svgs(page: Path) -> list[str]:
    return re.findall(r'href="\.\./plots/([^"]+\.svg)"', page.read_text(encoding="utf-8"))


def test_cohort_charts_are_drawn_once_and_shared(tmp_path: Path) -> None:
    """Patients compared with the same cohort link one SVG per cohort chart; their own charts stay theirs."""
    assessment = _assessment()
    p01 = assessment.patients[0]
    p02 = p01.model_copy(update={"id": "P02"})  # the same cohort as P01
    criteria = copy.deepcopy(p01.criteria)
    c3 = next(v for v in criteria if v.number == 3)
    c3.figures[0] = _curve(grid_mean=[87.0, 99.0, 110.0])  # another cohort's fit
    p03 = p01.model_copy(update={"id": "P03", "criteria": criteria})
    render_html(assessment.model_copy(update={"patients": [p01, p02, p03]}), None, tmp_path)

    pages = {
        pid: _page_svgs(tmp_path / "patients" / f"{pid}.html") for pid in ("P01", "P02", "P03")
    }
    cohort = {pid: [n for n in names if n.startswith("cohort-")] for pid, names in pages.items()}
    assert len(cohort["P01"]) == 3 and cohort["P01"] == cohort["P02"]
    shared = set(cohort["P01"]) & set(cohort["P03"])
    assert {re.sub(r"^cohort-[0-9a-f]{12}-", "", n) for n in shared} == {
        "natural-history-rates.svg",
        "survival-death.svg",
    }  # only the changed chart differs
    on_disk = sorted(p.name for p in (tmp_path / "plots").glob("cohort-*.svg"))
    assert on_disk == sorted(set(cohort["P01"]) | set(cohort["P03"]))
    for pid, names in pages.items():
        own = [n for n in names if not n.startswith("cohort-")]
        assert own == [
            f"{pid}_3_natural-history-ammonia-patient.svg",
            f"{pid}_4_engagement.svg",
            f"{pid}_5_trajectory.svg",
            f"{pid}_5_events.svg",
            f"{pid}_5_supportive-trajectory-glutamine.svg",
        ]
    # the shared charts' interactive figures are in one asset each, loaded by both pages
    figure = re.compile(
        r'id="plot-(cohort-[^"]+-rates)"></div>\n<script>\(function \(\) \{ var f = pmpathFigure\(("[^"]+"), null\);'
    )
    p1, p2 = (
        figure.findall((tmp_path / "patients" / f"{p}.html").read_text()) for p in ("P01", "P02")
    )
    assert p1 == p2 and len(p1) == 1
    assets = sorted(p.name for p in (tmp_path / "assets").glob("cohort-*.js"))
    assert len(assets) == 4  # natural history (two fits), rates, survival


def test_same_chart_twice_on_a_page_has_distinct_plots(tmp_path: Path) -> None:
    """A cohort chart drawn by two criteria of one patient: one SVG, two plot elements with their own ids."""
    (rates,) = (f for f in _figures()[3] if isinstance(f, CohortRates))
    verdicts = [
        Verdict(
            number=n,
            name=CRITERION_NAMES[n],
            status=Status.met,
            summary="s",
            method="m",
            figures=[rates],
        )
        for n in (3, 5)
    ]
    assessment = _assessment()
    patient = assessment.patients[1].model_copy(update={"criteria": verdicts})
    render_html(assessment.model_copy(update={"patients": [patient]}), None, tmp_path)
    page = (tmp_path / "patients" / "P02.html").read_text(encoding="utf-8")
    ids = re.findall(r'<div class="plotly-div" id="([^"]+)">', page)
    assert len(ids) == 2 and len(set(ids)) == 2
    assert len(set(_page_svgs(tmp_path / "patients" / "P02.html"))) == 1
    assert len(list((tmp_path / "plots").glob("*.svg"))) == 1


def _fixture_charts() -> list[Chart]:
    return [c for v in _assessment().patients[0].criteria for c in criterion_graphics(v).charts]


def test_plotly_json_is_what_plotly_validates() -> None:
    """The figures are built as plain dicts; plotly.py's own validators accept them and change nothing."""
    charts = _fixture_charts()
    assert len(charts) == 8  # the natural history as the cohort's chart and the patient's layers
    for chart in charts:
        ours = json.loads(chart.plotly_json())
        validated = json.loads(pio.to_json(chart.plotly_figure(), validate=True))
        assert ours == validated, chart.name


def test_svgs_are_the_same_drawn_in_worker_processes() -> None:
    charts = _fixture_charts()
    alone = render_svgs(charts, workers=1)
    with SvgDrawing(charts, workers=2) as drawing:
        assert drawing.workers == 2  # 8 charts: enough for two
        assert drawing.result() == alone
        assert drawing.result() == alone  # asked again: the same list
    assert alone == [c.svg() for c in charts]
    assert render_svgs([]) == []
    with pytest.raises(ValueError, match="workers: found 0"):
        render_svgs(charts, workers=0)


_LABEL = st.text(alphabet="abcdWMil ()_-$%0123456789µ", max_size=140)


@settings(max_examples=15, deadline=None)
@given(
    title=_LABEL,
    x_label=_LABEL,
    y_label=_LABEL,
    tick_labels=st.none() | st.lists(_LABEL, min_size=1, max_size=4),
    scale=st.sampled_from([1e-9, 1e-3, 1.0, 123.0, 1e5, 1e9]),
    offset=st.sampled_from([0.0, -250.0, 1e6]),
)
def test_static_chart_stays_on_its_canvas(
    title: str,
    x_label: str,
    y_label: str,
    tick_labels: list[str] | None,
    scale: float,
    offset: float,
) -> None:
    """Whatever the labels and numbers, nothing drawn falls outside the SVG (the layout is measured, not drawn twice)."""
    ys = [offset + scale * v for v in (1.0, 2.5, 2.0, 4.0)]
    chart = Chart(
        name="c",
        title=title,
        x_label=x_label,
        y_label=y_label,
        layers=(Line([scale * x for x in (0.0, 1.0, 2.0, 3.0)], ys, name="series"),),
        y_ticks=tuple(zip(ys, tick_labels, strict=False)) if tick_labels else (),
    )
    with matplotlib.rc_context(SVG_RC):
        fig = chart.figure()
        FigureCanvasSVG(fig).print_svg(io.BytesIO())  # lays out at 72 dpi, as the report's SVG
        width, height = fig.get_size_inches() * 72
        drawn = fig.get_tightbbox(RendererSVG(width, height, io.StringIO()))
    assert width >= 540 - 1e-9
    tolerance = 0.5 / 72  # inches: half a point
    assert drawn.x0 >= -tolerance and drawn.y0 >= -tolerance
    assert drawn.x1 <= width / 72 + tolerance and drawn.y1 <= height / 72 + tolerance


def test_sampled_cohort_chart_says_so_in_its_caption(tmp_path: Path) -> None:
    """A natural-history chart of a sample of the cohort: the caption under it names the sample."""
    curve = _curve(
        patient=False,
        subject=["s1", "s1"],
        age=[1.0, 2.0],
        value=[40.0, 44.0],
        quantiles=QuantileBands(
            age=[1.2, 1.8], lower=[31.0, 33.0], median=[41.0, 43.0], upper=[51.0, 53.0], level=0.95
        ),
        n_subjects=100000,
        n_subjects_shown=1,
    )
    verdict = Verdict(
        number=3,
        name=CRITERION_NAMES[3],
        status=Status.met,
        summary="s",
        method="m",
        figures=[curve],
    )
    assessment = _assessment()
    patient = assessment.patients[1].model_copy(update={"criteria": [verdict]})
    render_html(assessment.model_copy(update={"patients": [patient]}), None, tmp_path)
    page = (tmp_path / "patients" / "P02.html").read_text(encoding="utf-8")
    caption = re.search(
        r'<figcaption><span class="fig-number">Figure \d+\.</span> (.*?)</figcaption>', page
    )
    assert caption is not None
    assert caption.group(1).startswith(
        "Natural history: Plasma ammonia. 1 of 100,000 subjects&#39; trajectories shown, sampled at random; "
        "bands from all subjects."
    )
    (figure,) = _page_figures(tmp_path / "patients" / "P02.html").values()
    names = [trace.get("name") for trace in figure["data"]]
    assert "1 of 100,000 cohort subjects (random sample)" in names
    assert "observed 2.5%-97.5% (all 100,000 subjects)" in names
    assert "observed median (all 100,000 subjects)" in names


def test_charts_use_only_the_basic_bundles_trace_types(report: Path) -> None:
    """The vendored partial bundle draws scatter, bar and pie traces only: a chart of another type
    would render as an empty frame, so every trace in every page must be one of those."""
    types = set()
    pages = sorted((report / "patients").glob("*.html")) + sorted(
        (report / "assets").glob("cohort-*.js")
    )
    for page in pages:
        for chunk in re.findall(r'"type":\s*"([a-z0-9]+)"', page.read_text(encoding="utf-8")):
            types.add(chunk)
    traces = types - {"line", "rect", "linear", "log", "date", "category", "-"}  # shape/axis types
    assert traces and traces <= {"scatter", "bar", "pie"}, traces


def test_every_hash_is_shown_in_full(report: Path) -> None:
    """Issue 6: a reviewer checks hashes by copying them; the plan hash is never shortened."""
    index = (report / "index.html").read_text(encoding="utf-8")
    assert SHA_B in index
    assert not re.search(r'class="hash"[^>]*>[0-9a-f]{1,63}<', index)
