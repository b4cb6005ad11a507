"""Issue 24's "done when", walked once: on a generated month (testing/kpi_month.py, whose
answers are computed by hand from what it did), the manager's page on the hub, the console at
central and `nafitha report` show the same figures; the charts read correctly in Arabic and
English (each chart's figures table says what the hand-computed month says); and the month's
open-data export passes its own dictionary's checks.

Everything is real: the office's store, the hub over HTTPS, the CLI in its own process, the
office enrolled with central over HTTP and its sync agent pushing the month's events, the
console in Chromium."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from central.open_data import JSON_FILE, check_export, export
from core.office import Office
from sync.agent import SyncAgent, enrol
from testing.kpi_month import generate_month

sys.path.append(str(Path(__file__).resolve().parents[2] / "hub"))  # after conftest's own dirs
from hubrig import RunningHub  # noqa: E402

SHOTS = Path("/tmp/shots-done-when-24")
MONTH = "2026-11"
NAFITHA = str(Path(sys.executable).with_name("nafitha"))


def figures_only(report: dict) -> dict:
    """A report without the moment it was made (and the console's choice of municipality,
    none here: every office)."""
    return {k: v for k, v in report.items() if k not in ("generated_at", "municipality")}


def chart_tables(page) -> dict:
    """Each chart's text alternative (the shared script's figures table), by canvas id."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        'canvas[data-chart][aria-describedby]')].map(c => [c.dataset.chart, [...document
        .getElementById(c.getAttribute('aria-describedby')).querySelectorAll('tr')]
        .map(r => [...r.cells].map(x => x.textContent.trim()))]))""")


@pytest.fixture
def month_at_central(site, tmp_path):
    """The generated month of MUH, enrolled with central as device G01 and pushed."""
    data = tmp_path / "office"
    office, expected = generate_month(data, "Asia/Bahrain", 2026, 11, seed=24,
                                      tickets_per_day=(8, 14), device="G01",
                                      root_key=site.central.root_key)
    settings = office.settings
    office.close()
    enrol(settings, site.url, site.central.enrol_code("MUH", role="hub")["code"])
    office = Office.open(settings, clock=site.clock)
    site.clock.set("2026-12-02T06:00:00+00:00")  # November is over in every zone
    for _ in range(200):
        if SyncAgent(office).once()["status"]["pending"] == 0:
            break
    assert SyncAgent(office).once()["status"]["pending"] == 0
    yield office, expected, data
    office.close()


def test_the_same_figures_on_the_hub_the_console_and_the_cli(month_at_central, site, browser,
                                                            sign_in):
    office, expected, data = month_at_central
    want = figures_only(dict(expected))
    assert want["visits"]["total"]["tickets"] > 200  # a real month, not an empty one

    # nafitha report: the CLI in its own process, on the office's data directory.
    out = subprocess.run([NAFITHA, "--data", str(data), "report", "month", MONTH, "--json"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "NAFITHA_OFFICE__CODE": "MUH"})
    assert out.returncode == 0, out.stderr
    assert figures_only(json.loads(out.stdout)) == want

    # The manager's page on the hub (supervisor huda, made by the generator).
    hub = RunningHub(office)
    try:
        context = browser.new_context(ignore_https_errors=True,
                                      viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto(f"{hub.url}/manager/sign-in?lang=en")
        page.fill("#username", "huda")
        page.fill("#pin", "987654")
        page.click("#sign-in-button")
        page.wait_for_url(f"{hub.url}/manager")
        answer = context.request.get(f"{hub.url}/manager/api/report?kind=month&month={MONTH}")
        assert figures_only(answer.json()) == want
        hub_charts = {}
        for lang in ("ar", "en"):
            page.goto(f"{hub.url}/manager/reports?kind=month&month={MONTH}&lang={lang}")
            page.wait_for_function("window.reportCharts && window.reportCharts.drawn > 0")
            assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"hub-month-{lang}.png"), full_page=True)
            hub_charts[lang] = chart_tables(page)
        context.close()
    finally:
        hub.stop()

    # The console at central, from the events the office's agent pushed: one operations
    # person reading Arabic, one English (a person's language is their account's).
    console_charts = {}
    for lang in ("ar", "en"):
        site.person(f"omar{lang}", "operations", None, language=lang, two_step=False)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = sign_in(context.new_page(), f"omar{lang}")
        page.goto(f"{site.url}/console/reports?period=month&month={MONTH}&office=MUH")
        assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
        shown = json.loads(page.locator("#report-data").text_content())
        assert figures_only(shown["report"]) == want
        page.wait_for_function("document.querySelectorAll('canvas[data-chart]"
                               "[aria-describedby]').length > 0")
        page.screenshot(path=str(SHOTS / f"console-month-{lang}.png"), full_page=True)
        console_charts[lang] = chart_tables(page)
        context.close()

    # The charts read right: each chart's figures table on the hub and on the console is
    # the same in both languages but for its words, and the volume-by-service table carries
    # the hand-computed tickets of each service.
    tickets_by_service = sorted(r["tickets"] for r in want["visits"]["by_service"]
                                if r["tickets"])
    for charts in (*hub_charts.values(), *console_charts.values()):
        volume = next(rows for cid, rows in charts.items() if "volume" in cid)
        shown = sorted(int(cells[1].replace(",", "")) for cells in volume[1:])
        assert shown == tickets_by_service, (volume, tickets_by_service)

    # Open data: the month's export, checked by its own dictionary.
    files = export(site.central, MONTH)
    assert check_export(files) == []
    published = json.loads(files[JSON_FILE])
    assert published  # the month is there, by office and service
