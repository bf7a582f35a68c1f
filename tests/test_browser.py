"""The HTML report in a real headless browser: Debian's Chromium driven by Playwright (no browser download).

Checks that every chart renders (visible SVG with a non-zero size and drawn paths), that the page sends no
request beyond loading itself, and that it prints. Skipped, with the reason, where Chromium or Playwright
is missing; in CI (CI=true) a missing browser fails the test instead, so CI must install Chromium
(`apt-get install -y chromium`; playwright comes from the test extra).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import upstream

from planner import db, report
from planner.config import load_config

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = pytest.mark.browser


def _missing(reason: str) -> None:
    """Skip where the browser is missing; in CI (CI=true) the browser is required, so fail instead."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; CI must run the browser test (.ci/run: apt-get install -y chromium)")
    pytest.skip(reason)


def _browser_or_skip():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    exe = CHROMIUM if CHROMIUM.exists() else (Path(p) if (p := shutil.which("chromium")) else None)
    if exe is None:
        _missing("no Chromium executable at /usr/bin/chromium (apt-get install -y chromium)")
    return sync_playwright, exe


@pytest.fixture(scope="module")
def html_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    cfg = load_config(None)
    con = db.connect(folder / "planner.duckdb")
    upstream.load_demo(con, folder / "exports", days=2, scale=0.05, config=cfg)
    upstream.standin_analyze(con, cfg, "20261102T060000Z-aaaaaa", volume=10000)
    report.render(con, folder / "out", ["html"], now=datetime(2026, 11, 2, tzinfo=UTC))
    con.close()
    return folder / "out" / "plan.html"


def test_charts_render_and_nothing_leaves_the_page(html_file, tmp_path):
    sync_playwright, exe = _browser_or_skip()
    url = html_file.resolve().as_uri()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(exe), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requested: list[str] = []
            page.on("request", lambda req: requested.append(req.url))

            def guard(route):
                if route.request.url == url:
                    route.continue_()
                else:
                    route.abort()

            page.route("**/*", guard)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url, wait_until="load")
            page.wait_for_timeout(200)

            charts = page.locator("svg.chart")
            assert charts.count() == 6
            for i in range(charts.count()):
                chart = charts.nth(i)
                assert chart.is_visible()
                box = chart.bounding_box()
                assert box and box["width"] > 300 and box["height"] > 50, (chart.get_attribute("data-chart"), box)
                assert chart.locator("path").count() > 10
            assert page.title().startswith("LLM migration plan")
            assert requested == [url], requested
            assert errors == []

            page.emulate_media(media="print")
            assert page.locator("svg.chart").first.is_visible()
            pdf = page.pdf(format="A4")
            assert pdf[:4] == b"%PDF" and len(pdf) > 10_000
            (tmp_path / "plan.pdf").write_bytes(pdf)
        finally:
            browser.close()


def test_the_request_guard_would_see_an_outside_request(html_file, tmp_path):
    """Control for the test above: a page that does reach out is caught (CSP removed, one remote image)."""
    sync_playwright, exe = _browser_or_skip()
    html = html_file.read_text(encoding="utf-8")
    html = html.replace('<meta http-equiv="Content-Security-Policy"', '<meta name="x-removed"')
    html = html.replace("</main>", '<img src="http://planner.invalid/pixel.png" alt=""></main>')
    leaky = tmp_path / "leaky.html"
    leaky.write_text(html, encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(exe), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            requested: list[str] = []
            page.on("request", lambda req: requested.append(req.url))
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else route.abort())
            page.goto(leaky.resolve().as_uri(), wait_until="load")
            assert "http://planner.invalid/pixel.png" in requested
        finally:
            browser.close()
