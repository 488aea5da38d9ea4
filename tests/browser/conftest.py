"""Fixtures for reading the bundled examples' reports in a real browser, as a reviewer would.

Both examples are rendered once per test session (``pmpath assess EXAMPLE --out DIR``, shared by
the pytest-xdist workers) and opened from ``file:`` in Debian's Chromium through Playwright's
``executable_path``; ``playwright install`` is never run, since it downloads a browser. axe-core
comes from ``.venv/node_modules`` (``make install`` puts it there with ``npm ci``) and is injected
into the page, so the tests use no network.

When Chromium, the ``playwright`` package or axe-core is missing, the tests that need it skip and
say what to install; with ``PMPATH_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead, so a
missing install step cannot pass as a green run. ``PMPATH_CHROMIUM`` and ``PMPATH_AXE_JS`` point at
another browser or axe build. Screenshots of each example's overview and first patient page are
kept in ``/tmp/pmpath-screens/`` (``PMPATH_SCREENS_DIR``) for people to look at.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import pickle
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pmpath.examples import EXAMPLES, example_path

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

#: The viewport widths a reviewer reads at: a desktop window and a phone.
VIEWPORT_WIDTHS: tuple[int, ...] = (1400, 390)
VIEWPORT_HEIGHT = 900

#: Chromium flags for a headless run that opens no connection of its own (no sync, no component
#: updates, no QUIC probes). Playwright adds a fresh ``--user-data-dir`` in a temporary folder.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

#: URL schemes that stay on the machine: the report's own files, inline data, and blank frames.
LOCAL_SCHEMES: tuple[str, ...] = ("file:", "data:", "blob:", "about:")

#: Elements plotly.js draws into: our ``plotly-div``, plotly's own classes once drawn.
PLOTLY_SELECTOR = ".plotly-div, .js-plotly-plot, .plotly-graph-div"

#: How long a page may take to draw its charts before the census counts what is there.
CHART_TIMEOUT_MS = 15_000

#: How much of a page the phone-width screenshots keep, in CSS px from the top.
PHONE_SCREENSHOT_HEIGHT = 8000

SCREENS_DIR = Path(os.environ.get("PMPATH_SCREENS_DIR", "/tmp/pmpath-screens"))


# --------------------------------------------------------------------------------------------
# What a page is and what was read off it


@dataclass(frozen=True)
class ReportPage:
    """One HTML page of an example's report.

    Attributes
    ----------
    example
        The bundled example, one of :data:`pmpath.examples.EXAMPLES`.
    path
        The page's POSIX path inside the report folder: ``index.html`` or ``patients/P01.html``.
    """

    example: str
    path: str

    @property
    def id(self) -> str:
        """``example/path``, the page's test id."""
        return f"{self.example}/{self.path}"


def expected_pages() -> list[ReportPage]:
    """Every page the examples' reports should have: the overview and one page per patient.

    Read from the example dossiers (their ``patients/`` folders), not from a rendered report, so
    the list is known when tests are collected and a page the report forgets is a failure.

    Returns
    -------
    list[ReportPage]
        Overview first, then patients in id order, per example.
    """
    pages = []
    for example in EXAMPLES:
        pages.append(ReportPage(example, "index.html"))
        patients = sorted(
            p.name for p in (example_path(example) / "patients").iterdir() if p.is_dir()
        )
        pages.extend(ReportPage(example, f"patients/{patient}.html") for patient in patients)
    return pages


@dataclass(frozen=True)
class Overflow:
    """Horizontal extent of a page against its viewport.

    Attributes
    ----------
    scroll_width
        ``document.documentElement.scrollWidth``, in CSS px.
    inner_width
        ``window.innerWidth``, in CSS px.
    culprits
        Where the page sticks out past the viewport's right edge: the outermost elements that do
        (``tag#id.class inside parent (right edge px)``) and the wide tables, preformatted blocks
        and images inside them, each with a count; empty when the page does not overflow.
    """

    scroll_width: int
    inner_width: int
    culprits: tuple[str, ...] = ()

    @property
    def overflows(self) -> bool:
        """Whether the page scrolls sideways."""
        return self.scroll_width > self.inner_width


@dataclass(frozen=True)
class ChartCensus:
    """The charts a page should show and which of them were drawn.

    Attributes
    ----------
    plotly_expected
        Interactive chart containers on the page (outermost elements matching
        :data:`PLOTLY_SELECTOR`).
    plotly_rendered
        Those with a ``.main-svg`` inside, that is, drawn by plotly.js.
    static_expected
        Static figures: ``<img>`` and outermost ``<svg>`` inside a ``<figure>``.
    static_rendered
        Those that show something: an image decoded with a non-zero natural width (for an image
        hidden on screen, such as a print-only figure, one that decodes when loaded on its own),
        or an SVG with at least one drawing element.
    missing
        What was not drawn: chart element ids, image sources, and the captions of figures (other
        than table figures) holding no drawn chart.
    """

    plotly_expected: int
    plotly_rendered: int
    static_expected: int
    static_rendered: int
    missing: tuple[str, ...]

    @property
    def rendered(self) -> int:
        """Charts drawn, interactive and static."""
        return self.plotly_rendered + self.static_rendered


@dataclass(frozen=True)
class Heading:
    """One heading in document order: its level (1 for ``h1``) and its text."""

    level: int
    text: str


@dataclass(frozen=True)
class ContrastViolation:
    """One element whose text fails axe-core's ``color-contrast`` rule (WCAG AA, 4.5:1).

    Attributes
    ----------
    target
        axe-core's CSS selector for the element.
    html
        The element's opening markup, as axe-core quotes it.
    summary
        axe-core's explanation, with the measured ratio and the colours.
    """

    target: str
    html: str
    summary: str


@dataclass(frozen=True)
class PageReading:
    """Everything read off one page at one viewport width, in one visit.

    Attributes
    ----------
    page
        Which page.
    width
        Viewport width in CSS px.
    console_errors
        Console messages of type ``error``, uncaught exceptions and failed loads, in order.
    requests
        Every URL the page requested, the page itself included, in order.
    overflow
        Horizontal extent against the viewport.
    charts
        Charts expected and drawn.
    headings
        Headings ``h1``-``h6`` in document order.
    lang
        The ``lang`` attribute of ``<html>``, or None.
    chart_buttons
        Per drawn plotly chart, the modebar buttons it offers (their titles) and ``logo`` if it
        shows the plotly logo link: ``{element id: (titles...)}``.
    contrast
        axe-core's contrast violations, read at the first of :data:`VIEWPORT_WIDTHS`; None at other
        widths or when axe-core is not installed.
    """

    page: ReportPage
    width: int
    console_errors: tuple[str, ...]
    requests: tuple[str, ...]
    overflow: Overflow
    charts: ChartCensus
    headings: tuple[Heading, ...]
    lang: str | None
    chart_buttons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    contrast: tuple[ContrastViolation, ...] | None = None

    @property
    def external_requests(self) -> tuple[str, ...]:
        """Requested URLs that leave the machine (anything but ``file:``, ``data:``, ``blob:``, ``about:``)."""
        return tuple(url for url in self.requests if not url.startswith(LOCAL_SCHEMES))


def heading_problems(headings: tuple[Heading, ...] | list[Heading]) -> list[str]:
    """What is wrong with a page's heading outline: not one ``h1`` first, or a skipped level.

    Parameters
    ----------
    headings
        The page's headings in document order.

    Returns
    -------
    list[str]
        One sentence per problem; empty for a sane outline.

    Examples
    --------
    >>> heading_problems([Heading(1, "P01"), Heading(2, "Criteria"), Heading(4, "Assay")])
    ["h4 'Assay' follows h2 'Criteria': found a jump of 2 levels, expected at most 1"]
    """
    problems = []
    h1 = [h for h in headings if h.level == 1]
    if len(h1) != 1:
        problems.append(f"found {len(h1)} h1 headings, expected exactly 1")
    if headings and headings[0].level != 1:
        problems.append(f"first heading is h{headings[0].level} {headings[0].text!r}, expected h1")
    for before, after in itertools.pairwise(headings):
        if after.level > before.level + 1:
            problems.append(
                f"h{after.level} {after.text!r} follows h{before.level} {before.text!r}: "
                f"found a jump of {after.level - before.level} levels, expected at most 1"
            )
    return problems


# --------------------------------------------------------------------------------------------
# JavaScript run in the page

_OVERFLOW_JS = """() => {
  const inner = window.innerWidth;
  const scroll = document.documentElement.scrollWidth;
  const right = el => Math.round(el.getBoundingClientRect().right + window.scrollX);
  const describe = el => {
    const cls = (typeof el.className === 'string' && el.className.trim())
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls}`;
  };
  const counts = new Map();
  const note = (text) => counts.set(text, (counts.get(text) || 0) + 1);
  if (scroll > inner) {
    for (const el of document.body.querySelectorAll('*')) {
      if (right(el) <= inner + 1) continue;
      const parent = el.parentElement;
      // Where the overflow starts (the parent still fits), and the wide content itself.
      if (parent && right(parent) <= inner + 1) note(`${describe(el)} inside ${describe(parent)} (right edge ${right(el)} px)`);
      else if (el.matches('table, pre, svg, img, canvas, .js-plotly-plot') && !el.parentElement.closest('table, pre, svg'))
        note(`${describe(el)} ${Math.round(el.getBoundingClientRect().width)} px wide (right edge ${right(el)} px)`);
    }
  }
  const culprits = [...counts].slice(0, 12).map(([text, n]) => n > 1 ? `${text} x${n}` : text);
  return {scroll_width: scroll, inner_width: inner, culprits};
}"""

_CHARTS_DRAWN_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter(el => !el.parentElement || !el.parentElement.closest(selector))
  .every(el => el.querySelector('.main-svg'))"""

_IMAGES_SETTLED_JS = """() => Promise.race([
  Promise.all([...document.images].filter(img => img.getClientRects().length > 0).map(img => img.complete ? null
    : new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); }))),
  new Promise(done => setTimeout(done, 3000)),
]).then(() => true)"""

# Static figures hidden on screen (kept for print, often loading="lazy") are not drawn there: they
# count as drawn when their image decodes in a probe, so a broken print figure is still found.
_CHART_CENSUS_JS = """async (selector) => {
  const describe = el => el.id ? '#' + el.id : el.tagName.toLowerCase();
  const shown = el => el.getClientRects().length > 0;
  const plotly = [...document.querySelectorAll(selector)]
    .filter(el => !el.parentElement || !el.parentElement.closest(selector));
  const drawnPlotly = plotly.filter(el => el.querySelector('.main-svg'));
  const images = [...document.querySelectorAll('figure img')];
  const decodes = async img => {
    if (shown(img)) return img.complete && img.naturalWidth > 0;
    const probe = new Image();
    probe.src = img.currentSrc || img.src;
    try { await probe.decode(); return probe.naturalWidth > 0; } catch (e) { return false; }
  };
  const drawnImages = new Set();
  for (const img of images) if (await decodes(img)) drawnImages.add(img);
  const svgs = [...document.querySelectorAll('figure svg')]
    .filter(svg => !svg.closest(selector) && !(svg.parentElement && svg.parentElement.closest('svg')));
  const drawnSvg = svg => svg.querySelector('path, rect, circle, ellipse, line, polyline, polygon, text, use, image') !== null;
  const missing = [];
  for (const el of plotly) if (!drawnPlotly.includes(el)) missing.push('interactive chart ' + describe(el));
  for (const img of images) if (!drawnImages.has(img)) missing.push('image ' + (img.getAttribute('src') || describe(img)).slice(0, 120));
  for (const svg of svgs) if (!drawnSvg(svg)) missing.push('empty svg ' + describe(svg));
  for (const figure of document.querySelectorAll('figure')) {
    if (figure.querySelector('table')) continue;
    const drawn = [...figure.querySelectorAll(selector)].some(el => el.querySelector('.main-svg'))
      || [...figure.querySelectorAll('img')].some(img => drawnImages.has(img))
      || [...figure.querySelectorAll('svg')].some(svg => !svg.closest(selector) && drawnSvg(svg));
    if (!drawn) {
      const caption = figure.querySelector('figcaption');
      missing.push('figure without a drawn chart: ' + (caption ? caption.textContent.trim().slice(0, 120) : describe(figure)));
    }
  }
  return {
    plotly_expected: plotly.length, plotly_rendered: drawnPlotly.length,
    static_expected: images.length + svgs.length,
    static_rendered: drawnImages.size + svgs.filter(drawnSvg).length,
    missing,
  };
}"""

_HEADINGS_JS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
  .map(h => [Number(h.tagName[1]), h.textContent.replace(/\\s+/g, ' ').trim().slice(0, 80)])"""

_CHART_BUTTONS_JS = """() => Object.fromEntries([...document.querySelectorAll('.js-plotly-plot')].map((gd, i) => {
  const titles = [...gd.querySelectorAll('.modebar-btn')]
    .map(btn => btn.getAttribute('data-title') || btn.getAttribute('title') || btn.className.baseVal || btn.className);
  const context = gd._context || {};
  if (gd.querySelector('.plotlyjsicon') || context.displaylogo) titles.push('logo');
  if (context.showSendToCloud) titles.push('showSendToCloud');
  if (context.showEditInChartStudio) titles.push('showEditInChartStudio');
  return [gd.id || 'chart-' + i, titles];
}))"""

_AXE_CONTRAST_JS = """() => axe.run(document, {runOnly: ['color-contrast'], resultTypes: ['violations']})
  .then(result => result.violations.flatMap(v => v.nodes.map(node => ({
    target: node.target.join(' '), html: node.html, summary: node.failureSummary || v.help,
  }))))"""


# --------------------------------------------------------------------------------------------
# Reading a page


def _is_required() -> bool:
    return os.environ.get("PMPATH_REQUIRE_BROWSER", "") not in ("", "0")


def _unavailable(reason: str) -> None:
    """Skip (or, under ``PMPATH_REQUIRE_BROWSER=1``, fail) with ``reason``."""
    if _is_required():
        pytest.fail(f"{reason} (PMPATH_REQUIRE_BROWSER is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def chromium_executable() -> Path | None:
    """The system Chromium to drive: ``PMPATH_CHROMIUM``, else ``/usr/bin/chromium``, else PATH."""
    configured = os.environ.get("PMPATH_CHROMIUM")
    if configured:
        return Path(configured)
    if Path("/usr/bin/chromium").is_file():
        return Path("/usr/bin/chromium")
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(found) if found else None


def axe_script() -> Path:
    """Where ``make install`` puts axe-core: ``PMPATH_AXE_JS``, else ``<venv>/node_modules/axe-core/axe.min.js``."""
    configured = os.environ.get("PMPATH_AXE_JS")
    if configured:
        return Path(configured)
    return Path(sys.prefix) / "node_modules" / "axe-core" / "axe.min.js"


@contextmanager
def open_page(
    browser: Browser, url: str, width: int
) -> Iterator[tuple[Page, list[str], list[str]]]:
    """Open ``url`` in a fresh browser context at ``width`` and watch what it does.

    Requests to anything but the local schemes are recorded and then aborted, so a test can never
    reach the network even where one exists.

    Parameters
    ----------
    browser
        A launched Chromium.
    url
        The page, usually a ``file:`` URL.
    width
        Viewport width in CSS px (the height is :data:`VIEWPORT_HEIGHT`).

    Yields
    ------
    tuple[Page, list[str], list[str]]
        The loaded page, its console errors so far (grows while the page lives), and every
        request URL so far.
    """
    context = browser.new_context(viewport={"width": width, "height": VIEWPORT_HEIGHT})
    context.route(re.compile(r"^(?!(file|data|blob|about):)"), lambda route: route.abort())
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("requestfailed", lambda req: errors.append(f"failed to load {req.url}: {req.failure}"))
    page.on("request", lambda req: requests.append(req.url))
    try:
        page.goto(url, wait_until="load")
        _wait_for_charts(page)
        yield page, errors, requests
    finally:
        context.close()


def _wait_for_charts(page: Page) -> None:
    """Wait until every plotly chart is drawn and images have settled (or the timeout passes)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with suppress(PlaywrightTimeout):  # the census then reports which charts were not drawn
        page.wait_for_function(_CHARTS_DRAWN_JS, arg=PLOTLY_SELECTOR, timeout=CHART_TIMEOUT_MS)
    page.evaluate(_IMAGES_SETTLED_JS)
    page.evaluate("() => document.fonts.ready.then(() => true)")


def horizontal_overflow(page: Page) -> Overflow:
    """Measure whether ``page`` scrolls sideways, and which elements stick out."""
    raw = page.evaluate(_OVERFLOW_JS)
    return Overflow(raw["scroll_width"], raw["inner_width"], tuple(raw["culprits"]))


def chart_census(page: Page) -> ChartCensus:
    """Count the charts ``page`` should show and those it drew."""
    raw = page.evaluate(_CHART_CENSUS_JS, PLOTLY_SELECTOR)
    return ChartCensus(
        plotly_expected=raw["plotly_expected"],
        plotly_rendered=raw["plotly_rendered"],
        static_expected=raw["static_expected"],
        static_rendered=raw["static_rendered"],
        missing=tuple(raw["missing"]),
    )


def heading_outline(page: Page) -> tuple[Heading, ...]:
    """The headings of ``page`` in document order."""
    return tuple(Heading(level, text) for level, text in page.evaluate(_HEADINGS_JS))


def contrast_violations(page: Page, axe_js: Path) -> list[ContrastViolation]:
    """Run axe-core's ``color-contrast`` rule on ``page`` and return its violations.

    Parameters
    ----------
    page
        A loaded page.
    axe_js
        ``axe.min.js`` from the npm package ``axe-core``.

    Returns
    -------
    list[ContrastViolation]
        One per failing element; empty when all text reaches its contrast threshold.
    """
    # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not
    # govern (a <script> tag would be refused by script-src).
    opened_axe = page.evaluate(axe_js.read_text(encoding="utf-8") + "\n;typeof window.axe")
    assert opened_axe == "object", (
        f"{axe_js}: found window.axe of type {opened_axe}, expected axe-core"
    )
    return [ContrastViolation(**node) for node in page.evaluate(_AXE_CONTRAST_JS)]


def take_screenshot(
    page: Page, directory: Path, name: str, *, keep: bool = False, max_height: int | None = None
) -> Path:
    """Save a full-page PNG of ``page`` as ``directory/name.png``.

    Parameters
    ----------
    page
        A loaded page.
    directory
        Where to write (created if needed), usually a pytest temporary folder.
    name
        File name without ``.png``.
    keep
        Also copy it into :data:`SCREENS_DIR`, for people to look at after the run.
    max_height
        Keep only the top this many CSS px (the whole width, so overflow still shows): a phone
        screenshot of a patient page is 30,000 px tall and slow to encode.

    Returns
    -------
    Path
        The written PNG.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    clip = None
    if max_height is not None:
        width, height = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        clip = {"x": 0, "y": 0, "width": width, "height": min(height, max_height)}
    page.screenshot(path=str(path), full_page=True, clip=clip)
    if keep:
        SCREENS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENS_DIR / path.name)
    return path


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder of this test session shared by its pytest-xdist workers (per-worker otherwise)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if worker_id != "master" else base) / "browser"
    root.mkdir(exist_ok=True)
    return root


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (created if needed), across processes."""
    with open(lock_file, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def rendered_reports(shared_dir: Path) -> dict[str, Path]:
    """Both examples' reports, rendered once per session by ``pmpath assess``: example -> folder.

    Under pytest-xdist the workers share one rendering: the first to take the lock renders, the
    others wait and reuse it.
    """
    root = shared_dir / "reports"
    reports = {example: root / example for example in EXAMPLES}
    with _exclusive(shared_dir / "reports.lock"):
        if not (shared_dir / "reports.done").exists():
            root.mkdir(exist_ok=True)
            # Both at once: each is mostly one core's work.
            assess = [sys.executable, "-m", "pmpath", "assess"]
            runs = {
                example: subprocess.Popen(
                    [*assess, str(example_path(example)), "--out", str(out), "--quiet"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for example, out in reports.items()
            }
            failed = {}
            for example, run in runs.items():
                _, stderr = run.communicate()
                if run.returncode != 0:
                    failed[example] = f"exited {run.returncode}, expected 0:\n{stderr[-4000:]}"
            if failed:
                pytest.fail("\n".join(f"pmpath assess {ex} {why}" for ex, why in failed.items()))
            (shared_dir / "reports.done").touch()
    return reports


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright; skips with the reason when unavailable."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed: run `make install`")
    executable = chromium_executable()
    if executable is None or not executable.exists():
        _unavailable(
            "Chromium not found at /usr/bin/chromium (or PMPATH_CHROMIUM): run "
            "`sudo scripts/install-system-deps.sh` (Debian package chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), args=list(CHROMIUM_ARGS)
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def axe_js() -> Path:
    """``axe.min.js`` installed by ``make install``; skips with the reason when missing."""
    path = axe_script()
    if not path.is_file():
        _unavailable(
            f"axe-core not found at {path}: run `make install` (npm ci from tests/browser/package-lock.json)"
        )
    return path


def _kept_for_people(page: ReportPage) -> bool:
    """The overview and the first patient page of each example are kept in :data:`SCREENS_DIR`."""
    if page.path == "index.html":
        return True
    first = next(
        p for p in expected_pages() if p.example == page.example and p.path != "index.html"
    )
    return page == first


def visit(browser: Browser, file: Path, page: ReportPage, width: int, screens: Path) -> PageReading:
    """Open one report page at ``width`` and read everything the tests check, in one visit.

    At the first of :data:`VIEWPORT_WIDTHS` axe-core's contrast rule runs too, when
    :func:`axe_script` is installed. The overview and first patient page are screenshotted.
    """
    axe = axe_script()
    with open_page(browser, file.as_uri(), width) as (opened, errors, requests):
        buttons: dict[str, Any] = opened.evaluate(_CHART_BUTTONS_JS)
        reading = PageReading(
            page=page,
            width=width,
            console_errors=tuple(errors),
            requests=tuple(requests),
            overflow=horizontal_overflow(opened),
            charts=chart_census(opened),
            headings=heading_outline(opened),
            lang=opened.evaluate("() => document.documentElement.getAttribute('lang')"),
            chart_buttons={chart: tuple(titles) for chart, titles in buttons.items()},
        )
        if _kept_for_people(page):
            name = f"{page.example}-{page.path.removesuffix('.html').replace('/', '-')}-{width}"
            tall = None if width == VIEWPORT_WIDTHS[0] else PHONE_SCREENSHOT_HEIGHT
            take_screenshot(opened, screens, name, keep=True, max_height=tall)
        if width == VIEWPORT_WIDTHS[0] and axe.is_file():
            # After the other readings: axe-core runs in the page, which must not count as its own.
            reading = replace(reading, contrast=tuple(contrast_violations(opened, axe)))
    return reading


@pytest.fixture(scope="session")
def read_page(
    browser: Browser, rendered_reports: dict[str, Path], shared_dir: Path
) -> Callable[[ReportPage, int], PageReading]:
    """``read_page(page, width)``: the reading of one report page at one width, visited once.

    The tests that each check one thing share the visit: readings are kept (pickled) in the
    session's shared folder, so under pytest-xdist no page is visited twice at one width.
    """
    store = shared_dir / "readings"
    store.mkdir(exist_ok=True)
    screens = shared_dir / "screens"

    def read(page: ReportPage, width: int) -> PageReading:
        name = f"{page.example}-{page.path.replace('/', '-')}-{width}"
        kept = store / f"{name}.pickle"
        with _exclusive(store / f"{name}.lock"):
            if kept.exists():
                return pickle.loads(kept.read_bytes())
            file = rendered_reports[page.example] / page.path
            assert file.is_file(), f"{file}: found no such page, expected the report to write it"
            reading = visit(browser, file, page, width, screens)
            kept.write_bytes(pickle.dumps(reading))
        return reading

    return read
