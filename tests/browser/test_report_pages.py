"""Every page of both example reports, read in Chromium as a reviewer reads it.

Each check is its own test, so a failure names what broke. Pages are visited once per viewport
width and shared between the checks (see ``conftest.read_page``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import (
    VIEWPORT_WIDTHS,
    PageReading,
    ReportPage,
    expected_pages,
    heading_problems,
)

pytestmark = pytest.mark.browser

PAGES = expected_pages()

#: Modebar buttons and plotly config flags that send a chart to a public service or link to it.
UPLOAD_OR_LOGO = re.compile(r"cloud|chart studio|share chart|^logo$", re.IGNORECASE)

ReadPage = Callable[[ReportPage, int], PageReading]
DESKTOP = VIEWPORT_WIDTHS[0]


def by_page(pages: list[ReportPage] = PAGES) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("page", pages, ids=[p.id for p in pages])


def test_every_html_page_of_the_reports_is_checked(rendered_reports: dict[str, Path]) -> None:
    """The report writes exactly the overview and one page per patient, so none goes unchecked."""
    for example, folder in rendered_reports.items():
        written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html"))
        expected = sorted(p.path for p in PAGES if p.example == example)
        assert written == expected, f"{folder}: found pages {written}, expected {expected}"


@by_page()
def test_no_console_errors(read_page: ReadPage, page: ReportPage) -> None:
    for width in VIEWPORT_WIDTHS:
        errors = read_page(page, width).console_errors
        assert errors == (), (
            f"{page.id} at {width} px: found console errors {errors}, expected none"
        )


@by_page()
def test_no_request_leaves_the_machine(read_page: ReadPage, page: ReportPage) -> None:
    for width in VIEWPORT_WIDTHS:
        reading = read_page(page, width)
        assert reading.requests, f"{page.id}: found no request at all, expected the page itself"
        assert reading.external_requests == (), (
            f"{page.id} at {width} px: found requests outside file: {reading.external_requests}, "
            "expected none"
        )


@by_page()
def test_every_chart_is_drawn(read_page: ReadPage, page: ReportPage) -> None:
    for width in VIEWPORT_WIDTHS:
        charts = read_page(page, width).charts
        assert charts.missing == (), (
            f"{page.id} at {width} px: {charts.rendered} charts drawn, found not drawn: "
            f"{list(charts.missing)}, expected every chart"
        )


@by_page([p for p in PAGES if p.path != "index.html"])
def test_patient_pages_show_charts(read_page: ReadPage, page: ReportPage) -> None:
    """A patient page without a single drawn chart means the charts broke, not that there are none."""
    charts = read_page(page, DESKTOP).charts
    assert charts.rendered > 0, f"{page.id}: found no drawn chart, expected the criteria's figures"


@pytest.mark.parametrize("width", VIEWPORT_WIDTHS, ids=[f"{w}px" for w in VIEWPORT_WIDTHS])
@by_page()
def test_no_horizontal_scrolling(read_page: ReadPage, page: ReportPage, width: int) -> None:
    overflow = read_page(page, width).overflow
    assert not overflow.overflows, (
        f"{page.id} at {width} px: found a page {overflow.scroll_width} px wide, expected at most "
        f"{overflow.inner_width} px (wide tables scroll in their own box); sticking out: "
        f"{list(overflow.culprits)}"
    )


@by_page()
def test_text_contrast_is_at_least_4_5_to_1(
    read_page: ReadPage, axe_js: Path, page: ReportPage
) -> None:
    violations = read_page(page, DESKTOP).contrast
    assert violations is not None, f"{page.id}: axe-core at {axe_js} did not run"
    described = [f"{v.target}: {v.summary.splitlines()[-1].strip()}" for v in violations[:10]]
    assert violations == (), (
        f"{page.id}: found {len(violations)} contrast violations, expected none: {described}"
    )


@by_page()
def test_the_page_declares_its_language(read_page: ReadPage, page: ReportPage) -> None:
    lang = read_page(page, DESKTOP).lang
    assert lang and lang.strip(), (
        f"{page.id}: found <html lang={lang!r}>, expected a language such as 'en'"
    )


@by_page()
def test_headings_form_an_outline(read_page: ReadPage, page: ReportPage) -> None:
    problems = heading_problems(read_page(page, DESKTOP).headings)
    assert problems == [], f"{page.id}: {problems}"


@by_page()
def test_charts_offer_no_cloud_upload_and_no_logo_link(
    read_page: ReadPage, page: ReportPage
) -> None:
    """plotly.js 4 offers to send a chart's data to a public service unless told not to."""
    offending = {
        chart: found
        for chart, titles in read_page(page, DESKTOP).chart_buttons.items()
        if (found := [t for t in titles if UPLOAD_OR_LOGO.search(t)])
    }
    assert offending == {}, f"{page.id}: charts offering upload or the plotly logo: {offending}"
