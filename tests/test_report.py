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

from pmpath.pathway.assessment import (
    AdverseEvent,
    Assessment,
    PatientAssessment,
    PatientRole,
    PlatformAssessment,
    PlatformStatus,
)
from pmpath.pathway.flags import Flag
from pmpath.pathway.verdict import CRITERION_NAMES, Evidence, Status, Verdict
from pmpath.report.html import display, format_value, render_html
from pmpath.report.plots import (
    SVG_RC,
    Chart,
    Line,
    SvgDrawing,
    criterion_graphics,
    render_svgs,
)

HOSTILE = "<script>alert('x')</script>"
SHA_A = "a" * 64
SHA_B = "0123456789abcdef" * 4


def _trajectory(name: str) -> dict:
    return {
        "endpoint": "ammonia",
        "name": name,
        "unit": "umol/L",
        "direction": "lower_is_better",
        "observed": {
            "day": [-60, -30, -1, 14, 60, 120],
            "value": [110.0, 95.5, 120.0, 60.0, 48.0, None],
            "phase": ["pre", "pre", "pre", "post", "post", "post"],
        },
        "prediction": {
            "day": [0, 60, 120],
            "mean": [100.0, 104.0, 108.0],
            "lower": [80.0, 82.0, 84.0],
            "upper": [120.0, 126.0, 132.0],
        },
        "concomitant": [
            {"day": 30, "kind": "diet", "description": f"protein restriction relaxed {HOSTILE}"}
        ],
    }


def _verdicts(statuses: dict[int, Status], with_plots: bool) -> list[Verdict]:
    plots: dict[int, dict] = {n: {} for n in range(1, 6)}
    if with_plots:
        plots[1] = {
            "variants": [{"gene": "CPS1", "hgvs": "c.1003C>T", "zygosity": "compound heterozygous"}]
        }
        plots[2] = {
            "alignment": {
                "lines": ["protospacer  ACGTACGTACGTACGTACGT", "target       ACGTACGTACGTACGTACGT"]
            }
        }
        plots[3] = {
            "continuous": {
                "ammonia": {
                    "observations": {
                        "age": [0.5, 1.0, 1.5, 0.7, 1.2],
                        "value": [90.0, 100.0, 112.0, 85.0, 96.0],
                        "subject": ["s1", "s1", "s1", "s2", "s2"],
                    },
                    "grid": {
                        "age": [0.5, 1.0, 1.5],
                        "mean": [88.0, 99.0, 110.0],
                        "lower": [80.0, 92.0, 101.0],
                        "upper": [96.0, 106.0, 119.0],
                    },
                    "unit": "umol/L",
                    "name": "Plasma ammonia",
                },
                "broken": {
                    "observations": {"age": [1.0, 2.0], "value": [1.0]}
                },  # malformed on purpose
            },
            "rates": {
                "crises": {
                    "rate_per_year": 3.2,
                    "lower": 2.1,
                    "upper": 4.8,
                    "name": "Metabolic crises",
                }
            },
            "survival": {
                "death": {
                    "timeline": [0.0, 1.0, 2.0, 3.0],
                    "survival": [1.0, 0.9, 0.7, 0.6],
                    "lower": [1.0, 0.8, 0.55, 0.4],
                    "upper": [1.0, 0.97, 0.85, 0.8],
                }
            },
        }
        plots[4] = {
            "assays": [
                {
                    "assay": "liver biopsy amplicon-seq",
                    "source": "patient",
                    "fraction": 0.42,
                    "lower": 0.35,
                    "upper": 0.49,
                    "minimum": 0.2,
                },
                {
                    "assay": "mouse liver",
                    "source": "animal_model",
                    "fraction": 0.6,
                    "lower": 0.5,
                    "upper": 0.7,
                    "minimum": 0.3,
                },
                {"assay": "hepatocytes", "source": "patient_derived_cells", "fraction": 0.8},
            ]
        }
        plots[5] = {
            "trajectory": _trajectory(f"Ammonia {HOSTILE}"),
            "events": {
                "endpoint": "crises",
                "periods": {
                    "start_day": [-180, -90, 0, 90],
                    "end_day": [-90, 0, 90, 180],
                    "count": [3, 2, 1, 0],
                },
                "longest_gap": {"start_day": 40, "end_day": 180},
                "concomitant": [{"day": 30, "kind": "diet", "description": "protein"}],
            },
            "supportive": {"glutamine": _trajectory("Glutamine")},
        }
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
                numbers={
                    "estimate": 0.123456789,
                    "n": 7,
                    "ok": True,
                    "missing": None,
                    "interval": [0.1, 0.2],
                    "by_endpoint": {
                        "ammonia": {"mean": 1.5, "sd": 0.25},
                        "glutamine": {"mean": 2.0, "sd": 0.5},
                    },
                    "assays": [{"assay": "a", "fraction": 0.5}, {"assay": "b", "fraction": 0.25}],
                },
                evidence=[Evidence(path=f"patients/P{n}/file.csv", sha256=SHA_A)],
                flags=[Flag(kind="note", severity="caveat", message=f"flag {n}", criterion=n)]
                if s != Status.met
                else [],
                plots=plots[n],
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
    assert f'title="{SHA_B}">{SHA_B[:12]}<' in html
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
    assert "<dt" in page and '<table class="numbers">' in page
    assert ">0.1235<" in page  # 0.123456789 to 4 significant digits
    assert "protospacer  ACGTACGTACGTACGTACGT" in page
    assert "c.1003C&gt;T" in page  # variants table, escaped
    assert "plot &#39;broken.broken&#39; not drawn" in page or "not drawn" in page
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
        assert html.count("<script src=") <= 1
        assert len(html) < len(js)  # the bundle is referenced, not inlined
    p1 = (report / "patients" / "P01.html").read_text(encoding="utf-8")
    assert p1.count('<script src="../assets/plotly.min.js"></script>') == 1
    # one interactive plot per static SVG linked (P01's own and its cohort's)
    linked = re.findall(r'href="\.\./plots/([^"]+\.svg)"', p1)
    assert p1.count("Plotly.newPlot(") == len(linked) == len(set(linked)) == 7
    assert all((report / "plots" / name).is_file() for name in linked)
    assert "<script src=" not in (report / "patients" / "P02.html").read_text(
        encoding="utf-8"
    )  # no plots


def test_embedded_figures_are_valid_plotly_json(report: Path) -> None:
    page = (report / "patients" / "P01.html").read_text(encoding="utf-8")
    figures = re.findall(
        r'<div class="plotly-div" id="([^"]+)"></div>\n<script>\(function \(\) \{ var f = (.*?); Plotly\.newPlot\("\1"',
        page,
    )
    assert len(figures) == 7
    for _, text in figures:
        figure = json.loads(text)
        assert figure["data"] and "layout" in figure
    trajectory = next(json.loads(t) for i, t in figures if i.endswith("_5_trajectory"))
    names = [trace.get("name") for trace in trajectory["data"]]
    assert "observed before first dose" in names and "observed after first dose" in names
    assert any(a["text"] == "first dose" for a in trajectory["layout"]["annotations"])
    # the concomitant change's description reaches plotly.js escaped, so it shows as text
    assert any(
        "&lt;script&gt;" in (a.get("hovertext") or "") for a in trajectory["layout"]["annotations"]
    )


def test_svgs_written_and_linked(report: Path) -> None:
    svgs = sorted(p.name for p in (report / "plots").glob("*.svg"))
    # criterion 3's charts describe the cohort: cohort-<12 hex digits of the chart's hash>-<name>
    cohort = {re.sub(r"^cohort-[0-9a-f]{12}-", "cohort-*-", n) for n in svgs}
    expected = {
        "cohort-*-natural-history-ammonia.svg",
        "cohort-*-natural-history-rates.svg",
        "cohort-*-survival-death.svg",
        "P01_4_engagement.svg",
        "P01_5_trajectory.svg",
        "P01_5_events.svg",
        "P01_5_supportive-glutamine.svg",
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


def test_malformed_plot_data_is_skipped_with_a_note() -> None:
    verdict = Verdict(
        number=5,
        name=CRITERION_NAMES[5],
        status=Status.insufficient,
        summary="s",
        method="m",
        plots={
            "trajectory": {"observed": {"day": [1, 2], "value": ["high", 3]}},
            "events": 7,
            "unknown": [1],
        },
    )
    graphics = criterion_graphics(verdict)
    assert graphics.items == ()
    assert len(graphics.notes) == 2
    assert "trajectory" in graphics.notes[0] and "'high'" in graphics.notes[0]
    assert criterion_graphics(verdict.model_copy(update={"plots": {}})).notes == ()


def test_events_chart_rates_per_30_days() -> None:
    # 3 events in 90 days -> 1 per 30 days; 1 event in 60 days -> 0.5 per 30 days.
    verdict = Verdict(
        number=5,
        name=CRITERION_NAMES[5],
        status=Status.met,
        summary="s",
        method="m",
        plots={"events": {"periods": {"start_day": [-90, 0], "end_day": [0, 60], "count": [3, 1]}}},
    )
    (chart,) = criterion_graphics(verdict).charts
    bars = [trace for trace in chart.plotly_figure().data if trace.type == "bar"]
    assert [list(b.y) for b in bars] == [[1.0], [0.5]]
    assert [list(b.width) for b in bars] == [[90.0], [60.0]]


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


def test_display_shapes() -> None:
    node = display(
        {
            "a": 1,
            "rows": [{"x": 1}, {"y": 2}],
            "nested": {"e1": {"m": 1.0}, "e2": {"m": 2.0, "s": 3}},
        }
    )
    assert node.kind == "definitions"
    kinds = {key: value.kind for _, key, value in node.items}
    assert kinds == {"a": "scalar", "rows": "table", "nested": "table"}
    rows = dict((key, value) for _, key, value in node.items)["nested"]
    assert [c[1] for c in rows.columns] == ["", "m", "s"]
    assert [[cell.text for cell in row] for row in rows.rows] == [["e1", "1", ""], ["e2", "2", "3"]]


def test_write_report_writes_json_and_html(tmp_path: Path) -> None:
    from pmpath.report import write_report

    out = write_report(
        _assessment(), None, tmp_path / "report"
    )  # the dossier is not needed for the HTML
    assert (out / "assessment.json").is_file() and (out / "index.html").is_file()
    assert (out / "patients" / "P01.html").is_file()


def test_adapter_shapes_are_drawn() -> None:
    """The shapes criteria 1-4's adapters write (see the plots module docstring) are drawn too."""
    plots_by_criterion = {
        1: {"genotype": [{"variant": "c.1A>G", "role": "counted as P/LP"}]},
        2: {"alignment": ["guide    5'-ACGT-3'", "patient  5'-ACGT-3'"]},
        3: {
            "cohort": "nh",
            "endpoints": {
                "ammonia": {
                    "kind": "continuous",
                    "name": "Ammonia",
                    "observations": {
                        "subject": ["a", "a", "b"],
                        "age": [1.0, 2.0, 1.5],
                        "value": [40.0, 45.0, 50.0],
                    },
                    "trajectory": {
                        "age": [1.0, 2.0],
                        "mean": [42.0, 47.0],
                        "lower": [30.0, 33.0],
                        "upper": [55.0, 60.0],
                        "level": 0.95,
                    },
                },
                "crises": {
                    "kind": "count",
                    "rate_per_year": 1.2,
                    "rate_ci": [1.0, 1.5],
                    "subjects": {"rate_per_year": [0.5, 2.0]},
                },
                "death": {
                    "kind": "time_to_event",
                    "km": {
                        "age": [0.0, 5.0],
                        "survival": [1.0, 0.8],
                        "lower": [1.0, 0.6],
                        "upper": [1.0, 0.9],
                    },
                },
                "odd": {"kind": "ordinal"},
            },
        },
        4: {
            "engagement_forest": {
                "confidence": 0.95,
                "groups": [
                    {
                        "tier": "patient",
                        "rows": [
                            {
                                "assay": "biopsy",
                                "tier": "patient",
                                "edited_fraction": 0.4,
                                "lower": 0.3,
                                "upper": 0.5,
                                "minimum_fraction": 0.2,
                                "deciding": True,
                            }
                        ],
                    }
                ],
            }
        },
    }
    kinds = {}
    for n, plots in plots_by_criterion.items():
        graphics = criterion_graphics(
            Verdict(
                number=n,
                name=CRITERION_NAMES[n],
                status=Status.met,
                summary="s",
                method="m",
                plots=plots,
            )
        )
        kinds[n] = [getattr(item, "name", None) or item.title for item in graphics.items]
        if n == 3:
            assert len(graphics.notes) == 1 and "'ordinal'" in graphics.notes[0]
        else:
            assert graphics.notes == ()
    assert kinds == {
        1: ["Genotype"],
        2: ["Alignment"],
        3: ["natural-history-ammonia", "survival-death", "natural-history-rates"],
        4: ["engagement"],
    }


def _page_svgs(page: Path) -> list[str]:
    return re.findall(r'href="\.\./plots/([^"]+\.svg)"', page.read_text(encoding="utf-8"))


def test_cohort_charts_are_drawn_once_and_shared(tmp_path: Path) -> None:
    """Patients compared with the same cohort link one SVG per cohort chart; their own charts stay theirs."""
    assessment = _assessment()
    p01 = assessment.patients[0]
    p02 = p01.model_copy(update={"id": "P02"})  # the same cohort as P01
    criteria = copy.deepcopy(p01.criteria)
    c3 = next(v for v in criteria if v.number == 3)
    c3.plots["continuous"]["ammonia"]["grid"]["mean"][0] = 87.0  # another cohort's fit
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
            f"{pid}_4_engagement.svg",
            f"{pid}_5_trajectory.svg",
            f"{pid}_5_events.svg",
            f"{pid}_5_supportive-glutamine.svg",
        ]
    # the shared chart's interactive copy is the same on both pages
    figure = re.compile(
        r'id="plot-(cohort-[^"]+-rates)"></div>\n<script>\(function \(\) \{ var f = (.*?);'
    )
    p1, p2 = (
        figure.findall((tmp_path / "patients" / f"{p}.html").read_text()) for p in ("P01", "P02")
    )
    assert p1 == p2 and len(p1) == 1


def test_same_chart_twice_on_a_page_has_distinct_plots(tmp_path: Path) -> None:
    """A cohort chart drawn by two criteria of one patient: one SVG, two plot elements with their own ids."""
    rates = {"rates": {"crises": {"rate_per_year": 3.2, "lower": 2.1, "upper": 4.8}}}
    verdicts = [
        Verdict(
            number=n,
            name=CRITERION_NAMES[n],
            status=Status.met,
            summary="s",
            method="m",
            plots=rates,
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
    assert len(charts) == 7
    for chart in charts:
        ours = json.loads(chart.plotly_json())
        validated = json.loads(pio.to_json(chart.plotly_figure(), validate=True))
        assert ours == validated, chart.name


def test_svgs_are_the_same_drawn_in_worker_processes() -> None:
    charts = _fixture_charts()
    alone = render_svgs(charts, workers=1)
    with SvgDrawing(charts, workers=2) as drawing:
        assert drawing.workers == 2  # 7 charts: enough for two
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
    continuous = {
        "ammonia": {
            "observations": {"age": [1.0, 2.0], "value": [40.0, 44.0], "subject": ["s1", "s1"]},
            "grid": {"age": [1.0, 2.0], "mean": [41.0, 43.0], "lower": [30.0, 31.0], "upper": [50.0, 52.0]},
            "quantiles": {"age": [1.2, 1.8], "lower": [31.0, 33.0], "median": [41.0, 43.0], "upper": [51.0, 53.0], "level": 0.95},
            "n_subjects": 100000,
            "n_subjects_shown": 1,
        }
    }  # fmt: skip
    verdict = Verdict(
        number=3,
        name=CRITERION_NAMES[3],
        status=Status.met,
        summary="s",
        method="m",
        plots={"continuous": continuous},
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
        "Natural history: ammonia. 1 of 100,000 subjects&#39; trajectories shown, sampled at random; "
        "bands from all subjects."
    )
    figure = json.loads(re.search(r"var f = (.*?);", page).group(1))
    names = [trace.get("name") for trace in figure["data"]]
    assert "1 of 100,000 cohort subjects (random sample)" in names
    assert "observed 2.5%-97.5% (all 100,000 subjects)" in names
    assert "observed median (all 100,000 subjects)" in names


def test_charts_use_only_the_basic_bundles_trace_types(report: Path) -> None:
    """The vendored partial bundle draws scatter, bar and pie traces only: a chart of another type
    would render as an empty frame, so every trace in every page must be one of those."""
    types = set()
    for page in sorted((report / "patients").glob("*.html")):
        for chunk in re.findall(r'"type":\s*"([a-z0-9]+)"', page.read_text(encoding="utf-8")):
            types.add(chunk)
    traces = types - {"line", "rect", "linear", "log", "date", "category", "-"}  # shape/axis types
    assert traces and traces <= {"scatter", "bar", "pie"}, traces
