"""The report as a document: nothing leaves the machine, numbered figures, headings, print and PDF.

The known answers come from the example dossiers' own files, not from the report code: ssaso-cln's
P02 had clobazam added on study day 21 of its seizure endpoint (``concomitant.tsv``), so its
criterion-5 verdict carries a caveat; the platform and patient ids are the dossier's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pmpath.dossier import Dossier
from pmpath.pathway import assess_dossier
from pmpath.report import write_report

LINK_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "srcset", "data"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]?([^'\";\s]+)")
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


class _Page(HTMLParser):
    """What the tests read of one page: links, headings, figures, meta tags, inline CSS."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.headings: list[int] = []
        self.metas: list[dict[str, str]] = []
        self.images: list[dict[str, str]] = []
        self.lang: str | None = None
        self.css: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.links += [v for k, v in a.items() if k in LINK_ATTRIBUTES]
        if "style" in a:
            self.css.append(a["style"])
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "meta":
            self.metas.append(a)
        elif tag == "img":
            self.images.append(a)
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag in ("style", "script"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.css.append(data)
        elif self._in == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)


def _read(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _is_local(link: str) -> bool:
    """A link inside the report: relative, a fragment or a data: URL; no scheme, no host."""
    return link.startswith(("#", "data:")) or (
        not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", link) and not link.startswith("//")
    )


@pytest.fixture(scope="module")
def reports(
    example_dossiers: dict[str, Dossier], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    return {
        name: write_report(assess_dossier(dossier), dossier, out / name)
        for name, dossier in example_dossiers.items()
    }


def _pages(report: Path) -> list[Path]:
    return [report / "index.html", *sorted((report / "patients").glob("*.html"))]


def test_no_page_refers_to_anything_outside_the_report(reports: dict[str, Path]) -> None:
    for report in reports.values():
        for path in _pages(report):
            page = _read(path)
            outside = [link for link in page.links if not _is_local(link)]
            for css in page.css:
                outside += [u or i for u, i in CSS_URL.findall(css) if not _is_local(u or i)]
            assert not outside, f"{path}: found links leaving the report {outside}, expected none"


def test_every_page_forbids_network_connections(reports: dict[str, Path]) -> None:
    for report in reports.values():
        for path in _pages(report):
            csp = [
                m["content"]
                for m in _read(path).metas
                if m.get("http-equiv", "").lower() == "content-security-policy"
            ]
            assert len(csp) == 1, f"{path}: found {len(csp)} CSP meta tags, expected 1"
            directives = {d.split()[0]: d.split()[1:] for d in csp[0].split(";") if d.strip()}
            assert directives.get("connect-src") == ["'none'"], f"{path}: {csp[0]}"
            assert directives.get("default-src") == ["'none'"], f"{path}: {csp[0]}"


def test_charts_offer_no_upload_and_no_logo_link(reports: dict[str, Path]) -> None:
    seen = 0
    for report in reports.values():
        for path in sorted((report / "patients").glob("*.html")):
            for script in _read(path).scripts:
                for config in re.findall(r"Plotly\.newPlot\([^;]*?, (\{[^{}]*\})\)", script):
                    seen += 1
                    assert '"showSendToCloud": false' in config, f"{path}: {config}"
                    assert '"displaylogo": false' in config, f"{path}: {config}"
                    assert '"showEditInChartStudio": false' in config, f"{path}: {config}"
    assert seen > 0, "found no Plotly.newPlot call, expected the criteria's charts"


def test_static_svgs_are_self_contained_and_titled(reports: dict[str, Path]) -> None:
    for report in reports.values():
        svgs = sorted((report / "plots").glob("*.svg"))
        assert svgs
        for svg in svgs:
            text = svg.read_text(encoding="utf-8")
            assert "<!DOCTYPE" not in text and "<metadata" not in text, svg
            root = ET.fromstring(text)
            title = root.find("{http://www.w3.org/2000/svg}title")
            assert title is not None and title.text and title.text.strip(), svg
            assert root.get("aria-label") == title.text, svg
            for element in root.iter():
                for key in ("href", XLINK_HREF):
                    link = element.get(key)
                    assert link is None or link.startswith("#"), f"{svg}: {key}={link!r}"
                for css in [element.get("style") or "", element.text or ""]:
                    for u, i in CSS_URL.findall(css):
                        assert (u or i).startswith("#"), f"{svg}: url({u or i})"


def test_headings_form_one_outline_per_page(reports: dict[str, Path]) -> None:
    for report in reports.values():
        for path in _pages(report):
            page = _read(path)
            assert page.lang == "en", path
            assert page.headings.count(1) == 1 and page.headings[0] == 1, (path, page.headings)
            for before, after in zip(page.headings, page.headings[1:], strict=False):
                assert after <= before + 1, (
                    f"{path}: found h{before} then h{after}, expected no skipped level"
                )


def test_figures_are_numbered_with_a_text_alternative(reports: dict[str, Path]) -> None:
    for report in reports.values():
        for path in sorted((report / "patients").glob("*.html")):
            page = _read(path)
            text = "".join(page.text)
            numbers = [int(n) for n in re.findall(r"Figure (\d+)\.", text)]
            figures = [i for i in page.images if "static-plot" in i.get("class", "")]
            assert numbers == list(range(1, len(figures) + 1)), (path, numbers)
            for k, image in enumerate(figures, start=1):
                assert image["alt"].startswith(f"Figure {k}. "), (path, image)
                assert (path.parent / image["src"]).is_file(), (path, image["src"])


def test_overview_marks_a_verdict_that_carries_a_caveat(reports: dict[str, Path]) -> None:
    index = (reports["ssaso-cln"] / "index.html").read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(
            r'<tr>\s*<td class="patient"><a href="patients/(\w+)\.html".*?</tr>', index, re.S
        )
    }
    assert set(rows) == {"P01", "P02", "P03"}
    # concomitant.tsv of P02: clobazam added on study day 21 of the seizure endpoint
    assert "Clobazam" in rows["P02"]
    assert re.search(
        r'class="status met" href="patients/P02\.html#criterion-5"[^>]*data-caveat="true"',
        rows["P02"],
    )
    assert 'class="caveat-mark"' in rows["P02"]
    assert "Patients in dosing order" in index


def _pdf_tools() -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        pytest.skip(f"WeasyPrint is not usable here ({exc}): run scripts/install-system-deps.sh")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not found: install the Debian package poppler-utils")


@pytest.mark.slow
def test_pdf_holds_the_overview_and_every_patient_with_page_numbers(
    example_dossiers: dict[str, Dossier], tmp_path: Path
) -> None:
    _pdf_tools()
    dossier = example_dossiers["ssaso-cln"]
    out = write_report(assess_dossier(dossier), dossier, tmp_path / "report", pdf=True)
    pdf = out / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")
    pages = [p for p in pages if p.strip()]
    assert "ssaso-cln" in pages[0]
    for patient in ("P01", "P02", "P03"):
        assert f"Patient {patient}" in text, patient
    assert "page 1 of " in pages[0]
    total = len(pages)
    assert f"page {total} of {total}" in pages[-1]
    xmp = subprocess.run(
        ["pdfinfo", "-meta", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp, xmp
