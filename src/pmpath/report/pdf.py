"""The report as one PDF: the overview and every patient page, printed by WeasyPrint.

WeasyPrint runs no JavaScript, so the PDF shows each chart's static SVG (the print styles of
``base.html`` swap them in) and takes its running header (platform, data cutoff) and page numbers
from the pages' ``@page`` rules. The pages are joined into one document so the page numbers run
on from the overview through the last patient, and links between pages become links inside the
PDF. Headings h1 and h2 become the PDF's bookmarks. The PDF is PDF/A-3b and reads only files inside
the report folder (any other address is refused, so nothing leaves the machine).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from pmpath.errors import OutputError, UsageError

PDF_NAME = "report.pdf"
PDF_VARIANT = "pdf/a-3b"

_STYLE = re.compile(r"<style>.*?</style>", re.S)
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>\s*", re.S)
_PLOTLY_DIV = re.compile(r'<div class="plotly-div"[^>]*></div>\s*')
_PATIENT_LINK = re.compile(r'href="patients/([^"#]+)\.html(?:#([^"]*))?"')


def _patient_pages(report_dir: Path, index: str) -> list[Path]:
    """The patient pages in the order the overview links them (then any others, by name)."""
    linked = dict.fromkeys(m.group(1) for m in _PATIENT_LINK.finditer(index))
    pages = [report_dir / "patients" / f"{stem}.html" for stem in linked]
    pages = [p for p in pages if p.is_file()]
    others = sorted(set((report_dir / "patients").glob("*.html")) - set(pages))
    return pages + others


def _article(text: str, key: str, where: Path) -> str:
    """One page's body as an ``<article>``, its ids and in-page links made distinct by ``key``."""
    body = _BODY.search(text)
    if body is None:
        raise OutputError(f"{where}: found no <body>, expected a page pmpath wrote")
    content = _SCRIPT.sub("", body.group(1))
    content = _PLOTLY_DIV.sub("", content)
    content = re.sub(r'\bid="([^"]+)"', rf'id="{key}--\1"', content)
    content = re.sub(r'href="#([^"]*)"', rf'href="#{key}--\1"', content)
    content = content.replace('src="../', 'src="').replace('href="../plots/', 'href="plots/')
    content = re.sub(r'href="(?:\.\./)?index\.html"', 'href="#index--page"', content)
    content = _PATIENT_LINK.sub(lambda m: f'href="#{m.group(1)}--{m.group(2) or "page"}"', content)
    # a patient page links its siblings as "P02.html"
    content = re.sub(
        r'href="([A-Za-z0-9._-]+)\.html(?:#([^"]*))?"',
        lambda m: f'href="#{m.group(1)}--{m.group(2) or "page"}"',
        content,
    )
    return f'<article class="pdf-page" id="{key}--page">\n{content}\n</article>\n'


def combined_html(report_dir: Path) -> str:
    """The overview and every patient page of ``report_dir`` as one HTML document for printing."""
    report_dir = Path(report_dir)
    index_path = report_dir / "index.html"
    if not index_path.is_file():
        raise UsageError(
            f"{report_dir}: found no index.html, expected a report folder written by pmpath"
        )
    index = index_path.read_text(encoding="utf-8")
    style = _STYLE.search(index)
    title = re.search(r"<title>(.*?)</title>", index, re.S)
    articles = [_article(index, "index", index_path)]
    for page in _patient_pages(report_dir, index):
        articles.append(_article(page.read_text(encoding="utf-8"), page.stem, page))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title.group(1) if title else html.escape(report_dir.name)}</title>\n"
        f"{style.group(0) if style else ''}\n</head>\n<body>\n{''.join(articles)}</body>\n</html>\n"
    )


def _local_fetcher(report_dir: Path):
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    root = report_dir.resolve()

    class LocalFetcher(URLFetcher):
        """Fetches files inside the report folder and ``data:`` URLs; refuses everything else."""

        def fetch(self, url: str, headers: object = None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file:"):
                from urllib.parse import unquote, urlparse

                path = Path(unquote(urlparse(url).path)).resolve()
                if path == root or root in path.parents:
                    return super().fetch(url, headers)
            raise FatalURLFetchingError(
                f"{url}: found an address outside the report folder {root}, expected only its own files"
            )

    return LocalFetcher()


def write_pdf(report_dir: Path, out: Path | None = None) -> Path:
    """Print the report in ``report_dir`` to ``report_dir/report.pdf`` (or ``out``).

    Parameters
    ----------
    report_dir
        A folder holding ``index.html``, ``patients/*.html`` and ``plots/*.svg`` as
        :func:`pmpath.report.html.render_html` writes them (the report's temporary folder while
        :func:`pmpath.report.write.write_report` builds it).
    out
        Where to write the PDF; by default ``report.pdf`` inside ``report_dir``.

    Returns
    -------
    Path
        The PDF written: PDF/A-3b, the overview then each patient page in the overview's order,
        page numbers "page N of M", bookmarks from the h1 and h2 headings.

    Raises
    ------
    UsageError
        ``report_dir`` holds no report.
    OutputError
        WeasyPrint or its system libraries (Pango, HarfBuzz, fontconfig) are missing, or a page
        refers to a file outside the report.
    """
    report_dir = Path(report_dir)
    document = combined_html(report_dir)
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: a system library (Pango) not found
        raise OutputError(
            f"PDF: found no usable WeasyPrint ({exc}), expected the Python package weasyprint and "
            "the Debian packages libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 "
            "fonts-dejavu-core (scripts/install-system-deps.sh installs them)"
        ) from exc
    target = Path(out) if out is not None else report_dir / PDF_NAME
    try:
        weasyprint.HTML(
            string=document,
            base_url=str(report_dir.resolve()) + "/",
            url_fetcher=_local_fetcher(report_dir),
        ).write_pdf(target, pdf_variant=PDF_VARIANT, uncompressed_pdf=False)
    except weasyprint.urls.FatalURLFetchingError as exc:
        raise OutputError(f"PDF: {exc}") from exc
    return target
