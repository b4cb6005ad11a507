"""assets/web/report-charts.js in Debian's Chromium (Playwright): the demo page draws the
three charts of assets/web/demo-report.json; each canvas has ink, its text alternative
carries the report's figures, Arabic runs right to left (reversed x axis, value axis on the
right), numbers follow the office's digits, and nothing is fetched from elsewhere.
Screenshots: /tmp/shots-report-charts/charts-{ar,en}.png (looked at)."""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import math
import re
import shutil
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from core.http_policy import SECURITY_HEADERS
from core.report_files import SHARED_WEB_DIR

sys.path.insert(0, str(Path(__file__).parents[1] / "hub"))
from board_browser import ARGS, CHROMIUM

sys.path.insert(0, str(Path(__file__).parents[1]))
from axe_check import axe_violations

SHOTS = Path("/tmp/shots-report-charts")
# The demo pages live with the tests, not in assets/web: the hub and central serve that folder.
DEMO_DIR = Path(__file__).resolve().parent / "report_charts_demo"
DEMO = json.loads((DEMO_DIR / "demo-report.json").read_text(encoding="utf-8"))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves assets/web with the security headers of the hub and central (core.http_policy):
    the charts must work under their Content-Security-Policy (no inline script or style)."""

    def end_headers(self):
        for name, value in SECURITY_HEADERS:
            self.send_header(name.decode(), value.decode())
        super().end_headers()

    def log_message(self, *args):  # the test output is not an access log
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    served = tmp_path_factory.mktemp("report-charts-site")
    for folder in (SHARED_WEB_DIR, DEMO_DIR):
        for path in folder.iterdir():
            shutil.copy(path, served / path.name)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_demo(browser, site):
    """open_demo(lang) -> the demo page drawn in lang; afterwards: no page error, no console
    error, no request outside the local server."""
    contexts, problems = [], []

    def open_(lang: str, path: str = "demo.html?lang={lang}", ready="body[data-drawn=yes]"):
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        def outside(route):
            problems.append(f"fetched {route.request.url}")
            route.abort()
        page.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), outside)
        page.goto(f"{site}/{path.format(lang=lang)}")
        page.wait_for_selector(ready, state="attached")
        return page
    yield open_
    for context in contexts:
        context.close()
    assert problems == []


def figures(page, canvas_id: str) -> list[list[str]]:
    """The rows (header first) of the table that follows the canvas's box."""
    return page.evaluate("""id => {
        const table = document.getElementById(id + '-figures').querySelector('table');
        return [...table.rows].map(r => [...r.cells].map(c => c.textContent));
    }""", canvas_id)


def ink(page, canvas_id: str) -> int:
    return page.evaluate("""id => {
        const c = document.getElementById(id), ctx = c.getContext('2d');
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
    }""", canvas_id)


def one(seconds) -> str:
    """Seconds as the charts write minutes: tenths, half up."""
    return "—" if seconds is None else f"{math.floor(seconds / 6 + 0.5) / 10:.1f}"


def test_the_vendored_chart_js_is_the_recorded_one():
    readme = (SHARED_WEB_DIR / "README.md").read_text(encoding="utf-8")
    recorded = re.search(r"chart\.js@(\d+\.\d+\.\d+).*?sha256\s+`([0-9a-f]{64})`", readme,
                         re.DOTALL)
    data = (SHARED_WEB_DIR / "chart.umd.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded.group(2)
    assert data.startswith(f"/*!\n * Chart.js v{recorded.group(1)}".encode())
    assert recorded.group(1).startswith("4.")
    assert "MIT License" in (SHARED_WEB_DIR / "chart.js-LICENSE.md").read_text(encoding="utf-8")
    # the chart script loads nothing itself
    script = (SHARED_WEB_DIR / "report-charts.js").read_text(encoding="utf-8")
    assert not re.search(r"https?://|fetch\(|import\(|XMLHttpRequest", script)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_charts_draw_with_their_figures(open_demo, lang):
    page = open_demo(lang)
    SHOTS.mkdir(exist_ok=True)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.screenshot(path=str(SHOTS / f"charts-{lang}.png"), full_page=True)
    canvases = ("wait", "volume", "trend", "weeks")
    for canvas in canvases:
        assert ink(page, canvas) > 5000, canvas  # bars, lines and axes drawn
        assert page.get_attribute(f"#{canvas}", "role") == "img"
        assert page.get_attribute(f"#{canvas}", "aria-describedby") == f"{canvas}-figures"
    report, labels = DEMO["report"], DEMO["labels"]

    # waiting by hour: every hour from the first to the last, mean and p90 in minutes
    rows = figures(page, "wait")
    assert rows[0] == ["الساعة", "متوسط الانتظار (دقيقة)", "المئين 90 للانتظار (دقيقة)"] \
        if lang == "ar" else ["Hour", "Mean wait (min)", "90th percentile wait (min)"]
    assert rows[1:] == [[f"{r['key']:02d}:00", one(r["wait_s"]["mean"]), one(r["wait_s"]["p90"])]
                        for r in report["visits"]["by_hour"]]
    assert page.get_attribute("#wait", "aria-label") == (
        "الانتظار حسب ساعة أخذ التذكرة" if lang == "ar" else "Waiting by hour the ticket was taken")

    # volume by service: busiest first, names in the page's language
    busiest = sorted(report["visits"]["by_service"], key=lambda r: -r["tickets"])
    assert figures(page, "volume")[1:] == [
        [labels["service"][r["key"]][lang], str(r["tickets"]), str(r["served"]),
         str(r["tickets"] - r["served"])] for r in busiest]

    # the trend by week: weeks start on Sunday; tickets summed, the mean wait weighted
    weeks: dict[date, list] = {}
    for r in DEMO["month"]["visits"]["by_day"]:
        day = date.fromisoformat(r["key"])
        start = day - timedelta(days=(day.weekday() + 1) % 7)
        w = weeks.setdefault(start, [0, 0, 0.0])
        w[0] += r["tickets"]
        w[1] += r["wait_s"]["n"]
        w[2] += r["wait_s"]["mean"] * r["wait_s"]["n"]
    rows = figures(page, "weeks")[1:]
    assert [(row[1], row[2]) for row in rows] == [
        (str(t), one(s / n)) for _, (t, n, s) in sorted(weeks.items())]
    assert [date.fromisoformat("2026-03-01").weekday(), len(rows)] == [6, 4]  # a Sunday
    assert rows[0][0] == ("1 مارس" if lang == "ar" else "1 Mar")
    assert len(figures(page, "trend")) == 1 + len(DEMO["month"]["visits"]["by_day"])


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_arabic_runs_right_to_left(open_demo, lang):
    page = open_demo(lang)
    layout = page.evaluate("""() => {
        const at = id => Chart.getChart(document.getElementById(id));
        const wait = at('wait'), volume = at('volume'), trend = at('trend');
        const x = wait.scales.x;
        return {
            firstHourX: x.getPixelForValue(0), lastHourX: x.getPixelForValue(x.max),
            waitAxisLeft: wait.scales.y.left, waitArea: [wait.chartArea.left, wait.chartArea.right],
            serviceAxisLeft: volume.scales.y.left, volumeArea: [volume.chartArea.left, volume.chartArea.right],
            zeroX: volume.scales.x.getPixelForValue(0), tenX: volume.scales.x.getPixelForValue(10),
            legendRtl: wait.options.plugins.legend.rtl, tooltipRtl: wait.options.plugins.tooltip.rtl,
            ticketsAxisLeft: trend.scales.y.left, minutesAxisLeft: trend.scales.y1.left,
        };
    }""")
    rtl = lang == "ar"
    # the first hour is at the right in Arabic, at the left in English
    assert (layout["firstHourX"] > layout["lastHourX"]) is rtl
    # the value axis stands on the right in Arabic
    assert (layout["waitAxisLeft"] >= layout["waitArea"][1]) is rtl
    # bars of the volume chart grow from the right in Arabic; the names are on the right
    assert (layout["zeroX"] > layout["tenX"]) is rtl
    assert (layout["serviceAxisLeft"] >= layout["volumeArea"][1]) is rtl
    assert (layout["ticketsAxisLeft"] > layout["minutesAxisLeft"]) is rtl
    assert layout["legendRtl"] is rtl and layout["tooltipRtl"] is rtl
    # the table reads in the page's direction
    assert page.get_attribute("#wait-figures", "dir") == ("rtl" if rtl else "ltr")


def test_arabic_digits_when_the_office_shows_them(open_demo):
    page = open_demo("ar")
    rows = page.evaluate("""demo => {
        const root = document.getElementById('charts');
        NafithaCharts.draw(root, demo.report, Object.assign({}, demo.labels, {digits: 'arabic'}), 'ar');
        NafithaCharts.draw(root, demo.report, Object.assign({}, demo.labels, {digits: 'arabic'}), 'ar');
        return {wait: [...document.querySelectorAll('#wait-figures tr')].map(r => [...r.cells].map(c => c.textContent)),
                tables: root.querySelectorAll('.chart-figures').length,
                charts: root.querySelectorAll('canvas').length};
    }""", DEMO)
    assert rows["wait"][1] == ["٠٧:٠٠", "٣٫٠", "٦٫٠"]
    assert rows["tables"] == rows["charts"] == 2  # drawing again replaced, did not add


def test_a_report_with_no_visits_says_so(open_demo):
    page = open_demo("en")
    result = page.evaluate("""() => {
        const root = document.getElementById('charts');
        const charts = NafithaCharts.draw(root, {visits: {}}, {}, 'en');
        return {n: charts.length, label: document.getElementById('wait').getAttribute('aria-label'),
                rows: document.querySelectorAll('#volume-figures tbody tr').length};
    }""")
    assert result == {"n": 2, "label": "Waiting by hour the ticket was taken. No data in this period.",
                      "rows": 0}


def test_a_page_under_the_csp_draws_from_its_data(open_demo):
    # the hub's and the console's way: no inline script, the report as JSON in the page
    page = open_demo("en", "demo-page-data.html", ready="#wait-figures")
    assert ink(page, "wait") > 5000
    assert figures(page, "wait")[1:] == [["08:00", "5.0", "7.0"], ["09:00", "—", "—"],
                                         ["10:00", "10.3", "15.0"]]  # 615 s: half up
    assert page.evaluate("NafithaCharts.drawn.length") == 1


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_axe_finds_nothing_on_the_charts(browser, site, lang):
    # every impact, minor included: the text alternatives are what a screen reader gets
    context = browser.new_context(bypass_csp=True)  # to inject axe-core
    try:
        page = context.new_page()
        page.goto(f"{site}/demo.html?lang={lang}")
        page.wait_for_selector("body[data-drawn=yes]")
        assert axe_violations(page, ("minor", "moderate", "serious", "critical")) == []
    finally:
        context.close()
