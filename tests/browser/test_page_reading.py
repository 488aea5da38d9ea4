"""The browser tests' measurements, checked on small pages whose answer is known by construction.

A check that cannot fail proves nothing: each helper of ``conftest`` is shown here to find the
problem it looks for (a page wider than the window, grey-on-grey text, a skipped heading level, a
request to another host, a figure whose image is missing) and to pass the page without it.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from .conftest import (
    Heading,
    chart_census,
    contrast_violations,
    heading_outline,
    heading_problems,
    horizontal_overflow,
    open_page,
)

pytestmark = pytest.mark.browser

#: A 10x10 square as an image URL, decoded by the browser without any file.
SQUARE = (
    "data:image/svg+xml;base64,"
    + base64.b64encode(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    ).decode()
)


def page_file(tmp_path: Path, body: str, name: str = "page.html") -> str:
    path = tmp_path / name
    path.write_text(f'<!doctype html><html lang="en"><head></head><body>{body}</body></html>')
    return path.as_uri()


WIDE_TABLE = "<table><tr>" + "<td style='min-width:200px'>cell</td>" * 10 + "</tr></table>"


def test_a_table_wider_than_the_window_overflows_unless_it_scrolls_in_its_box(
    browser, tmp_path: Path
) -> None:
    with open_page(browser, page_file(tmp_path, WIDE_TABLE, "wide.html"), 1400) as (page, _, _):
        overflow = horizontal_overflow(page)
    assert overflow.overflows and overflow.scroll_width >= 2000
    assert any(c.startswith("table") for c in overflow.culprits), overflow.culprits

    boxed = f"<div style='overflow-x:auto'>{WIDE_TABLE}</div>"
    with open_page(browser, page_file(tmp_path, boxed, "boxed.html"), 1400) as (page, _, _):
        assert not horizontal_overflow(page).overflows


def test_grey_on_grey_text_is_a_contrast_violation_and_black_on_white_is_not(
    browser, axe_js: Path, tmp_path: Path
) -> None:
    # WCAG relative luminance: #777 is 0.1845, #888 is 0.2462, so (0.2462+0.05)/(0.1845+0.05) = 1.26:1.
    body = "<p id='faint' style='color:#777;background:#888'>faint</p><p id='plain'>plain</p>"
    with open_page(browser, page_file(tmp_path, body), 1400) as (page, _, _):
        violations = contrast_violations(page, axe_js)
    assert [v.target for v in violations] == ["#faint"]
    assert "contrast of 1.26" in violations[0].summary


def test_a_skipped_heading_level_and_a_second_h1_are_found(browser, tmp_path: Path) -> None:
    body = "<h1>Report</h1><h2>Patients</h2><h4>P01</h4><h1>Again</h1>"
    with open_page(browser, page_file(tmp_path, body), 1400) as (page, _, _):
        outline = heading_outline(page)
    assert outline == (
        Heading(1, "Report"),
        Heading(2, "Patients"),
        Heading(4, "P01"),
        Heading(1, "Again"),
    )
    problems = heading_problems(outline)
    assert len(problems) == 2
    assert "found 2 h1 headings" in problems[0]
    assert "h4 'P01' follows h2 'Patients'" in problems[1]
    assert (
        heading_problems([Heading(1, "a"), Heading(2, "b"), Heading(3, "c"), Heading(2, "d")]) == []
    )


def test_a_request_to_another_host_is_recorded_and_never_sent(browser, tmp_path: Path) -> None:
    # Loopback's discard port: nothing listens, and the route aborts the request before it is sent.
    body = "<img src='http://127.0.0.1:9/tracker.png' alt=''>"
    with open_page(browser, page_file(tmp_path, body), 1400) as (_, errors, requests):
        pass
    assert "http://127.0.0.1:9/tracker.png" in requests
    assert any("tracker.png" in e for e in errors)


def test_a_figure_whose_image_is_missing_is_not_drawn(browser, tmp_path: Path) -> None:
    (tmp_path / "square.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )
    hidden = "style='display:none' loading='lazy'"
    body = (
        f"<figure><img src='{SQUARE}' alt='square'><figcaption>drawn</figcaption></figure>"
        "<figure><svg width='10' height='10'><rect width='10' height='10'/></svg></figure>"
        f"<figure><img src='square.svg' {hidden} alt='print only'><figcaption>for print</figcaption></figure>"
        "<figure><img src='missing.png' alt='missing'><figcaption>Figure 2: lost</figcaption></figure>"
        f"<figure><img src='gone.svg' {hidden} alt='gone'><figcaption>Figure 3: lost in print</figcaption></figure>"
        "<figure><table><tr><td>a table figure needs no chart</td></tr></table></figure>"
    )
    with open_page(browser, page_file(tmp_path, body), 1400) as (page, errors, _):
        census = chart_census(page)
    assert (census.static_expected, census.static_rendered) == (5, 3)
    assert census.missing == (
        "image missing.png",
        "image gone.svg",
        "figure without a drawn chart: Figure 2: lost",
        "figure without a drawn chart: Figure 3: lost in print",
    )
    assert any("missing.png" in e for e in errors)
