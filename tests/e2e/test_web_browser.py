"""The web page in a real headless browser: Debian's chromium driven by its chromedriver
(Selenium, SE_OFFLINE: nothing is downloaded). Pages load against a seeded database, the
filters and the search work, a board cell leads to its timeline, hostile text stays text;
the screenshots of docs/screenshots/ are taken here (FLINKSWATCH_SCREENSHOTS=1)."""

from __future__ import annotations

import base64
import csv
import io
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.db import engine as db
from app.db.tables import registrations
from app.db.webreads import WebReads
from app.web.access import Access
from app.web.health import Health, Metrics
from app.web.server import serve
from app.web.ui import WebUI
from tests.ci import import_or_fail
from tests.webseed import HOSTILE, NOW, STUCK_AFTER, seed

pytestmark = pytest.mark.e2e
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SHOTS = Path(__file__).parents[2] / "docs" / "screenshots"

webdriver = import_or_fail("selenium.webdriver", "pip install the test extra")
from selenium.webdriver.chrome.service import Service  # noqa: E402 - after the skip
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as expected  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(tmp_path_factory, crowded=False)


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seed and 12 recipients over 10 more providers, many stuck, waiting for various
    times: the board as an operations person sees it (issue 24)."""
    yield from _serve(tmp_path_factory, crowded=True)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The README's data (tests/webshots.py): 20 recipients over 12 providers, six months of
    requests, some stuck, late, acknowledged: /providers with every chart drawn."""
    from tests.webshots import realistic

    yield from _serve(tmp_path_factory, crowded=False, fill=realistic)


def _crowd(engine: Any) -> None:
    rows = []
    for i in range(12):
        for p in range(10):
            status = ("PENDING_APPROVAL", "PENDING_ACTIVATION", "ACTIVE", "ON_HOLD")[(i + p) % 4]
            waiting = timedelta(days=(i * 7 + p * 3) % 50 + 1, hours=i)
            rows.append(
                {
                    "client_id": f"client-{i:02d}",
                    "client_name": f"Recipient {i:02d} Holdings",
                    "provider_id": 9000 + p,
                    "provider_name": f"Caisse populaire {p}",
                    "country": "CA",
                    "registration_status": status,
                    "requested_on": NOW - waiting,
                    "first_seen_at": NOW - waiting,
                    "status_since": NOW - waiting,
                    "present": True,
                    "missing_polls": 0,
                }
            )
    with engine.begin() as conn:
        conn.execute(registrations.insert(), rows)


def _serve(factory: pytest.TempPathFactory, *, crowded: bool, fill: Any = seed) -> Iterator[str]:
    engine = db.make_engine(f"sqlite:///{factory.mktemp('web') / 'web.db'}")
    db.migrate(engine)
    fill(engine)
    if crowded:
        _crowd(engine)
    health = Health(interval=60)
    ui = WebUI(WebReads(engine, STUCK_AFTER), Access(mode="none"), clock=lambda: NOW)
    server = serve("127.0.0.1", 0, health, Metrics(health), ui)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) and shutil.which(DRIVER)):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium and chromium-driver are required in CI (.ci/run installs them)")
        pytest.skip("no /usr/bin/chromium: apt-get install chromium chromium-driver")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not try to download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _shoot(driver: Any, name: str) -> None:
    """Full-page screenshots at 1280 and 390 px, when asked (they are committed)."""
    if os.environ.get("FLINKSWATCH_SCREENSHOTS") != "1":
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        metrics["height"] = min(int(height), 2400 if width > 600 else 1800)  # the top of it
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        path = SHOTS / f"{name}-{width}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        if shutil.which("pngquant"):  # apt-get install pngquant: a quarter of the size
            quantise = ["pngquant", "--force", "--skip-if-larger", "--strip", "--output"]
            subprocess.run([*quantise, str(path), "--", str(path)], check=False)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize(
    ("path", "heading", "shot"),
    [
        ("/", "Registrations", "board"),
        ("/r/alpha/2000", "Alpha Lending · NBC", "timeline"),
        ("/providers", "Providers", "providers"),
        ("/activity", "Activity", "activity"),
    ],
)
def test_each_page_loads(site: str, browser: Any, path: str, heading: str, shot: str) -> None:
    d = browser
    d.get(site + path)
    assert d.find_element(By.TAG_NAME, "h1").text == heading
    assert d.execute_script("return document.styleSheets.length") == 1


@pytest.mark.skipif(os.environ.get("FLINKSWATCH_SCREENSHOTS") != "1", reason="screenshots asked")
def test_screenshots(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> None:
    """The README's screenshots, from realistic data (tests/webshots.py)."""
    from tests.webshots import realistic

    for site in _serve(tmp_path_factory, crowded=False, fill=realistic):
        browser.get(site + "/")
        first = browser.find_element(By.CSS_SELECTOR, "table.attention-list tbody a")
        timeline = first.get_attribute("href")
        for url, shot in ((site + "/", "board"), (timeline, "timeline"),
                          (site + "/providers", "providers"),
                          (site + "/activity", "activity")):  # fmt: skip
            browser.get(url)
            _shoot(browser, shot)


def test_filter_and_search_narrow_the_board(site: str, browser: Any) -> None:
    d = browser
    d.get(site + "/")
    assert len(d.find_elements(By.CSS_SELECTOR, "table.board td a")) == 6
    d.find_element(By.NAME, "q").send_keys("desj")
    d.find_element(By.CSS_SELECTOR, "form.filters button").click()
    WebDriverWait(d, 10).until(expected.url_contains("q=desj"))  # the submitted page loaded
    assert len(d.find_elements(By.CSS_SELECTOR, "table.board td a")) == 2
    d.get(site + "/")
    d.find_element(By.NAME, "stuck").click()
    d.find_element(By.CSS_SELECTOR, "form.filters button").click()
    WebDriverWait(d, 10).until(expected.url_contains("stuck=1"))
    cells = d.find_elements(By.CSS_SELECTOR, "table.board td.stuck a")
    # The cell's word is short; its full word is the reader's (and the title's).
    assert [c.text.splitlines()[0] for c in cells] == ["approval"]
    word = cells[0].find_element(By.CSS_SELECTOR, ".vh").get_attribute("textContent")
    assert word == "PENDING_APPROVAL"
    assert len(d.find_elements(By.CSS_SELECTOR, "table.board td a")) == 1


def test_a_board_cell_leads_to_its_timeline(site: str, browser: Any) -> None:
    d = browser
    d.get(site + "/?client=alpha&provider=NBC")
    d.find_element(By.CSS_SELECTOR, "table.board td a").click()
    WebDriverWait(d, 10).until(expected.url_contains("/r/"))
    assert d.current_url.endswith("/r/alpha/2000")
    assert len(d.find_elements(By.CSS_SELECTOR, "ol.events li")) == 3
    link = d.find_element(By.PARTIAL_LINK_TEXT, "slack:#nbc")
    assert link.get_attribute("href") == "https://slack.com/archives/C0123/p1700000000000100"


def test_hostile_text_is_shown_as_text(site: str, browser: Any) -> None:
    d = browser
    d.get(site + "/r/evil/3000")
    assert d.find_element(By.TAG_NAME, "h1").text == f"{HOSTILE} · Chase"
    assert d.find_elements(By.TAG_NAME, "script") == []
    d.get(site + "/activity")
    assert HOSTILE in d.find_element(By.TAG_NAME, "main").text
    assert d.find_elements(By.TAG_NAME, "script") == []


def test_csv_download_matches_the_board(site: str, browser: Any) -> None:
    d = browser
    d.get(site + "/?country=US")
    href = d.find_element(By.LINK_TEXT, "CSV").get_attribute("href")
    assert href == site + "/?country=US&format=csv"
    with urllib.request.urlopen(href, timeout=5) as answer:  # noqa: S310 - our own server
        rows = list(csv.DictReader(io.StringIO(answer.read().decode())))
    # As `flinkswatch status` sorts: by recipient name ("<script>..." before "Alpha...").
    assert [(r["client_id"], r["provider_name"], r["country"]) for r in rows] == [
        ("evil", "Chase", "US"),
        ("alpha", "Chase", "US"),
    ]
    shown = d.find_elements(By.CSS_SELECTOR, "table.board td a")
    assert len(shown) == len(rows)


AXE = Path(__file__).parents[1] / "vendor" / "axe.min.js"  # axe-core 4.14.1 (npm, MPL-2.0)


SCREENS = [(1280, 900), (390, 844)]


def _screen(driver: Any, width: int, height: int, scheme: str = "light") -> None:
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    media = {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", media)


@pytest.fixture
def screen(browser: Any) -> Iterator[Any]:
    """The browser, put back to its own screen and colours after the test."""
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


# Each visible cell holding a status on the first screen whose text overflows it (clipped).
CLIPPED = """
const cells = document.querySelectorAll(
  'table.board td, ul.cells li, table.attention-list td, table th');
return [...cells].filter(c => {
  const box = c.getBoundingClientRect();
  if (c.offsetParent === null || box.top >= innerHeight) return false;
  // Cut by its scroll region's (or the window's) right edge, part of it showing: the edge of
  // the region's content, left of its own scrollbar.
  const region = c.closest('.scroll');
  const edge = r => r.getBoundingClientRect().left + r.clientLeft + r.clientWidth;
  const right = Math.min(innerWidth, region ? edge(region) : innerWidth);
  const cut = box.left < right && box.right > right + 1;
  return cut || c.scrollWidth > c.clientWidth;
}).map(c => c.textContent.trim().slice(0, 40));
"""


def _assert_fits(screen: Any, width: int, height: int, url: str) -> None:
    """At this size the page never scrolls sideways (only a table's own region may) and no
    status word or heading is cut (CLIPPED)."""
    _screen(screen, width, height)
    screen.get(url)
    page = "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    scroll_width, client_width = screen.execute_script(page)
    assert scroll_width <= client_width
    assert screen.execute_script(CLIPPED) == []


@pytest.mark.parametrize(("width", "height"), SCREENS)
@pytest.mark.parametrize("path", ["/", "/?provider=Caisse+populaire+3", "/activity", "/providers"])
def test_no_page_scroll_nor_clipped_text(
    crowded: str, screen: Any, width: int, height: int, path: str
) -> None:
    _assert_fits(screen, width, height, crowded + path)


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_needs_attention_comes_first_longest_waiting_first(
    crowded: str, screen: Any, width: int, height: int
) -> None:
    _screen(screen, width, height)
    screen.get(crowded + "/")
    rows = screen.find_elements(By.CSS_SELECTOR, "table.attention-list tbody tr")
    waiting = [int(r.get_attribute("data-waiting")) for r in rows]
    assert len(waiting) > 10
    assert waiting == sorted(waiting, reverse=True)
    first = rows[0].find_element(By.CSS_SELECTOR, "a")
    assert first.location["y"] < height  # on the first screen
    first.click()  # one click to its timeline
    WebDriverWait(screen, 10).until(expected.url_contains("/r/"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["/", "/r/alpha/2000", "/providers", "/activity"])
def test_no_serious_accessibility_violation(
    crowded: str, screen: Any, path: str, scheme: str
) -> None:
    browser, site = screen, crowded
    _screen(browser, 1280, 900, scheme)
    browser.get(site + path)
    assert _serious(browser) == []


def _serious(browser: Any) -> list[Any]:
    """axe's serious and critical violations on the page loaded (id, impact, 3 targets)."""
    browser.execute_script(AXE.read_text(encoding="utf-8"))  # WebDriver's, not the page's
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations), e => done(String(e)));"
    )
    assert isinstance(result, list), result
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


# Each status shown whole-word-broken over two lines (PENDING_APP / ROVAL).
BROKEN = """
return [...document.querySelectorAll('main .st')]
  .filter(s => s.offsetParent !== null && s.getClientRects().length > 1)
  .map(s => s.textContent);
"""


@pytest.mark.parametrize(("width", "height"), SCREENS)
@pytest.mark.parametrize("path", ["/providers", "/activity", "/", "/r/rcp-000/5300"])
def test_realistic_pages_fit_without_page_scroll_nor_clipped_text(
    real: str, screen: Any, width: int, height: int, path: str
) -> None:
    _assert_fits(screen, width, height, real + path)
    assert screen.execute_script(BROKEN) == []


# Each chart drawn to the width: its box, its texts' rendered height (a chart scaled down to
# fit shrinks them), the texts outside its box and the pairs of texts that overlap.
CHARTS = """
const main = document.querySelector('main').getBoundingClientRect();
return [...document.querySelectorAll('svg.fluid')].map(svg => {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')].map(t => [t, t.getBoundingClientRect()]);
  const overlapping = [];
  texts.forEach(([a, p], i) => texts.slice(i + 1).forEach(([b, q]) => {
    if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom)
      overlapping.push([a.textContent, b.textContent]);
  }));
  return {
    chart: svg.getAttribute('class'), left: box.left, right: box.right, main: main.right,
    smallest: Math.min(...texts.map(([, r]) => r.height)),
    outside: texts.filter(([, r]) => r.left < box.left - 1 || r.right > box.right + 1)
      .map(([t]) => t.textContent),
    overlapping, ticks: svg.querySelectorAll('text.tick').length,
  };
});
"""


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_providers_charts_fit_the_screen_with_readable_axis_values(
    real: str, screen: Any, width: int, height: int
) -> None:
    _screen(screen, width, height)
    screen.get(real + "/providers")
    charts = {c["chart"]: c for c in screen.execute_script(CHARTS)}
    assert set(charts) == {"bars fluid", "curves fluid", "weekly fluid"}
    for chart in charts.values():
        assert chart["left"] >= 0
        assert chart["right"] <= chart["main"] <= width
        assert chart["smallest"] >= 11, chart  # 11-12 px text, not scaled down to fit
        assert chart["outside"] == []
        assert chart["overlapping"] == []
    # The weekly chart's counts (0 and round values) and its weeks are on its axes.
    ticks = screen.find_elements(By.CSS_SELECTOR, "svg.weekly text.tick")
    values = [t.text for t in ticks if t.get_attribute("text-anchor") == "end"]
    assert values[0] == "0"
    assert len(values) >= 3
    assert values[-1] == "5 Oct"  # the latest week, at the right edge
    assert charts["weekly fluid"]["ticks"] >= 3 + 6
    days = screen.find_elements(By.CSS_SELECTOR, "svg.curves text.tick")
    assert [t.text for t in days][:4] == ["100%", "50%", "0%", "0 d"]  # share, then days
    # Its summary is what a screen reader says of it.
    desc = screen.find_element(By.ID, "weekly-desc").get_attribute("textContent")
    assert desc.startswith("26 weeks, each from a Monday: ")
    # The table's five columns all show, on a phone too.
    headers = screen.find_elements(By.CSS_SELECTOR, "table.providers thead th")
    assert [h.text for h in headers] == ["Measure", "Count", "Still going", "Median", "p90"]
    assert all(h.rect["x"] + h.rect["width"] <= width for h in headers)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), SCREENS)
@pytest.mark.parametrize("path", ["/providers", "/activity"])
def test_realistic_pages_have_no_serious_accessibility_violation(
    real: str, screen: Any, path: str, width: int, height: int, scheme: str
) -> None:
    _screen(screen, width, height, scheme)
    screen.get(real + path)
    assert _serious(screen) == []
