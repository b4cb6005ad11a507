"""The console's reports and open-data pages in Chromium (central/console/reports.py), on
real offices' tickets pushed to central: MUH (municipality NORTH, Bahrain) and RIF (SOUTH,
Kolkata) on 24 November 2026.

- A national operations person sees both offices' figures: headline numbers, the three
  charts drawn by the shared script, the tables; Arabic right to left and English, desktop
  and phone, no serious axe finding, nothing wider than the window (screenshots in
  /tmp/shots-h4, looked at).
- The CSV and XLSX downloads hold the same figures (read back with csv and openpyxl), and
  each is in the console audit log.
- NORTH's staff see only MUH, whatever the URL asks; an officer has no download (403, nothing
  written); bad choices (a backwards range, over 366 days, an unknown office or service,
  another municipality's office or municipality) are a 422 page in words, changing nothing.
- Open data: the month's files, checked by their own dictionary, downloaded and checked
  again; not for an officer; a month not over is refused in words."""
from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from central import db
from central.open_data import CSV_FILE, FILES, check_export
from core.clock import UlidFactory
from core.office import Office
from core.settings import load_settings
from sync.agent import SyncAgent, enrol

from axe_check import axe_violations
from test_every_page import OUTSIDE

SHOTS = Path("/tmp/shots-h4")
PHONE = {"width": 390, "height": 844}
SERVICE = "residence-certificate"
MONTH_URL = "/console/reports?period=month&month=2026-11"
WORDS = {"ar": {"nav": "التقارير", "tickets": "التذاكر", "backwards": "يوم البداية بعد يوم النهاية",
                "too_long": "لا يتجاوز 366 يومًا", "office": "المكتب «RIF» غير معروف لك",
                "service": "ليست في دليل الخدمات", "municipality": "هذه البلدية غير معروفة لك",
                "future": "هذا الشهر لم ينتهِ بعد", "by_office": "الزيارات حسب المكتب"},
         "en": {"nav": "Reports", "tickets": "Tickets", "backwards": "The first day is after the "
                "last", "too_long": "at most 366 days", "office": "Office “RIF” is not one",
                "service": "not in the catalogue", "municipality": "This municipality is not "
                "one you can see", "future": "This month is not over yet",
                "by_office": "Visits by office"}}


def office_at(site, tmp_path, code: str, device: str, timezone: str, seed: int) -> Office:
    settings = load_settings(tmp_path / f"{code}-{device}", environ={
        "NAFITHA_OFFICE__CODE": code, "NAFITHA_DEVICE__ID": device,
        "NAFITHA_OFFICE__TIMEZONE": timezone})
    enrol(settings, site.url, site.central.enrol_code(code, role="hub")["code"])
    office = Office.open(settings, clock=site.clock,
                         ids=UlidFactory(site.clock, random.Random(seed)))
    office.users.create("sara", "clerk", "1234")
    return office


@pytest.fixture
def busy(site, tmp_path):
    """24 Nov from 08:00 UTC: MUH serves 6 tickets (waits 1..6 min, 4 min each), RIF serves 2
    and one is a no-show; both push; then 20 days pass (November is nearly over)."""
    from central import reports
    north = office_at(site, tmp_path, "MUH", "D02", "Asia/Bahrain", seed=1)
    south = office_at(site, tmp_path, "RIF", "K01", "Asia/Kolkata", seed=2)
    site.municipality("NORTH", ("MUH",))
    site.municipality("SOUTH", ("RIF",))
    reports.set_timezone(site.central, "RIF", "Asia/Kolkata")
    for n in range(6):
        ticket = north.queue.take_ticket(SERVICE)
        site.clock.advance(minutes=n + 1)
        north.queue.call_next("1")
        north.queue.start_serving(ticket["id"])
        site.clock.advance(minutes=4)
        north.queue.finish(ticket["id"])
    for n in range(3):
        ticket = south.queue.take_ticket(SERVICE)
        site.clock.advance(minutes=2)
        south.queue.call_next("2")
        if n == 2:
            south.queue.no_show(ticket["id"])
        else:
            south.queue.finish(ticket["id"])
    for office in (north, south):
        assert SyncAgent(office).once()["status"]["pending"] == 0
    site.clock.advance(hours=24 * 20)
    yield {"north": north, "south": south}
    north.close()
    south.close()


@pytest.fixture
def open_as(browser, site, sign_in):
    contexts = []

    def go(username: str, role: str, municipality: str | None, lang: str, viewport=None):
        site.person(username, role, municipality, language=lang, two_step=False)
        context = browser.new_context(bypass_csp=True, accept_downloads=True,
                                      viewport=viewport or {"width": 1366, "height": 900},
                                      locale="ar-BH" if lang == "ar" else "en-GB")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return sign_in(context.new_page(), username)
    yield go
    for context in contexts:
        context.close()


def look(page, name: str, lang: str) -> None:
    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == \
        (lang, "rtl" if lang == "ar" else "ltr")
    assert axe_violations(page) == [], (name, lang)
    wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, (name, lang, wide, page.evaluate(OUTSIDE))
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SHOTS / f"{name}-{lang}-{width}.png"), full_page=True)


def everything(central) -> dict:
    with central.engine.connect() as conn:
        return {t.name: sorted(tuple(map(str, r)) for r in conn.execute(sa.select(t)))
                for t in (db.console_audit, db.offices, *db.FACTS.values())}


def table_rows(page, table: str) -> list[list[str]]:
    return page.locator(f"#{table} tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent.trim()))")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_month_across_offices_with_charts_and_tables(site, busy, open_as, lang):
    words = WORDS[lang]
    page = open_as("omar", "operations", None, lang)
    page.click(f"nav.menu a >> text={words['nav']}")
    page.wait_for_url("**/console/reports")
    assert page.input_value("#kind") == "month"
    page.fill("#f-month", "2026-11")
    with page.expect_navigation():
        page.click("#choose button[type=submit]")
    assert page.locator("#report").get_attribute("data-offices") == "MUH RIF"
    assert page.inner_text("[data-figure=tickets]") == "9"
    assert page.inner_text("[data-figure=served]") == "8"
    # Waiting by hour, volume by service, the trend by day and (a month) by week.
    page.wait_for_function("() => window.reportCharts && window.reportCharts.drawn === 4")
    assert page.locator("#charts canvas[role=img]").count() == 4
    by_office = table_rows(page, "visits_by_office")
    assert [r[0] for r in by_office] == ["MUH", "RIF"]
    assert [r[2:5] for r in by_office] == [["6", "6", "0"], ["3", "2", "1"]]
    assert words["by_office"] in page.inner_text("#d-visits_by_office summary")
    # Every day of the month, the tickets on the 24th (RIF's at 14:20 local in Kolkata).
    by_day = {r[0]: r[1] for r in table_rows(page, "visits_by_day")}
    assert len(by_day) == 30 and by_day["2026-11-24"] == "9" and by_day["2026-11-23"] == "0"
    look(page, "reports-month", lang)
    page.set_viewport_size(PHONE)
    look(page, "reports-month", lang)


def test_the_downloads_hold_the_same_figures_and_are_audited(site, busy, open_as):
    page = open_as("omar", "operations", None, "en")
    page.goto(f"{site.url}{MONTH_URL}")
    with page.expect_download() as got:
        page.click("#export-csv")
    text = Path(got.value.path()).read_bytes().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    at = lines.index(["Visits by office"])
    header, muh, rif = lines[at + 1], lines[at + 2], lines[at + 3]
    assert header[:4] == ["Code", "Office", "Tickets", "Served"]
    assert muh[:4] == ["MUH", "MUH", "6", "6"] and rif[:5] == ["RIF", "RIF", "3", "2", "1"]
    with page.expect_download() as got:
        page.click("#export-xlsx")
    assert got.value.suggested_filename == "nafitha-report-2026-11-01-2026-11-30.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
    sheet = book["Visits by office"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["MUH", "MUH", 6, 6] in [v[:4] for v in values]
    assert ["RIF", "RIF", 3, 2] in [v[:4] for v in values]
    with site.central.engine.connect() as conn:
        actions = conn.execute(sa.select(db.console_audit.c.action, db.console_audit.c.detail)
                               .where(db.console_audit.c.action == "report.export")).all()
    assert [json.loads(d)["format"] for _, d in actions] == ["csv", "xlsx"]


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_bad_choices_are_refused_in_words_and_change_nothing(site, busy, open_as, lang):
    words = WORDS[lang]
    page = open_as("noor", "finance", "NORTH", lang)
    # A municipality's staff: MUH only, whatever is asked for.
    page.goto(f"{site.url}{MONTH_URL}")
    assert page.locator("#report").get_attribute("data-offices") == "MUH"
    assert page.locator("#f-municipality").count() == 0
    assert page.locator("#f-office option").all_inner_texts() == ["MUH"]
    before = everything(site.central)
    for query, said in (
            ("period=range&from=2026-11-20&to=2026-11-01", words["backwards"]),
            ("period=range&from=2025-01-01&to=2026-11-01", words["too_long"]),
            ("period=month&month=2026-11&office=RIF", words["office"]),
            ("period=month&month=2026-11&office=NOPE", "NOPE"),
            ("period=month&month=2026-11&service=no-such-service", words["service"]),
            ("period=month&month=2026-11&municipality=SOUTH", words["municipality"])):
        for path in ("/console/reports", "/console/reports/export.csv"):
            response = page.goto(f"{site.url}{path}?{query}")
            assert response.status == 422, (path, query, response.status)
            assert said in page.inner_text("main"), (path, query)
    page.goto(f"{site.url}/console/reports?period=range&from=2026-11-20&to=2026-11-01")
    assert words["backwards"] in page.inner_text("#problem")
    assert page.locator("#report").count() == 0 and page.input_value("#kind") == "range"
    look(page, "reports-refused", lang)
    assert everything(site.central) == before


def test_an_officer_reads_but_does_not_download(site, busy, open_as):
    page = open_as("mariam", "officer", None, "ar")
    page.goto(f"{site.url}{MONTH_URL}")
    assert page.locator("#export-csv").count() == 0 and page.locator("#no-export").count() == 1
    # A week runs Sunday to Saturday; a day is a day; a service narrows the figures.
    for query, span, tickets in (
            ("period=week&date=2026-11-24", ("2026-11-22", "2026-11-28", "week"), "9"),
            ("period=day&date=2026-11-23", ("2026-11-23", "2026-11-23", "day"), "0"),
            ("period=month&month=2026-11&office=RIF", ("2026-11-01", "2026-11-30", "month"),
             "3"),
            (f"period=month&month=2026-11&service={SERVICE}",
             ("2026-11-01", "2026-11-30", "month"), "9"),
            ("period=month&month=2026-11&service=building-permit-small",
             ("2026-11-01", "2026-11-30", "month"), "0")):
        assert page.goto(f"{site.url}/console/reports?{query}").status == 200, query
        report = page.locator("#report")
        assert tuple(report.get_attribute(a) for a in ("data-from", "data-to", "data-kind")) \
            == span, query
        assert page.inner_text("[data-figure=tickets]") == tickets, query
        page.wait_for_function("() => window.reportCharts !== undefined")
        weeks = page.locator("canvas[data-group=week]").count()
        assert weeks == (1 if span[2] == "month" else 0), query
    before = everything(site.central)
    for path in ("/console/reports/export.csv?period=month&month=2026-11",
                 "/console/reports/export.xlsx", "/console/open-data",
                 "/console/open-data/2026-11/office-services.csv"):
        assert page.goto(f"{site.url}{path}").status == 403, path
    assert page.locator("nav.menu a[href='/console/open-data']").count() == 0
    assert everything(site.central) == before


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_open_data_files_pass_their_dictionary(site, busy, open_as, lang):
    site.clock.advance(hours=24 * 10)  # 14 December: November is over
    page = open_as("omar", "operations", None, lang)
    page.click("nav.menu a[href='/console/open-data']")
    page.wait_for_url("**/console/open-data")
    assert page.input_value("#f-month") == "2026-11"
    assert "5" in page.inner_text("#threshold")
    files = {}
    for name in FILES:
        response = page.request.get(f"{site.url}/console/open-data/2026-11/{name}")
        assert response.status == 200
        files[name] = response.body()
    assert check_export(files) == []
    rows = list(csv.DictReader(io.StringIO(files[CSV_FILE].decode())))
    assert [(r["office"], r["tickets"], r["served"]) for r in rows] == [("MUH", "6", "6"),
                                                                        ("RIF", "", "")]
    bundle = zipfile.ZipFile(io.BytesIO(page.request.get(
        f"{site.url}/console/open-data/2026-11/all.zip").body()))
    assert sorted(n.split("/")[-1] for n in bundle.namelist()) == sorted(FILES)
    look(page, "open-data", lang)
    page.set_viewport_size(PHONE)
    look(page, "open-data", lang)
    before = everything(site.central)
    response = page.goto(f"{site.url}/console/open-data?month=2026-12")
    assert response.status == 422 and WORDS[lang]["future"] in page.inner_text("#problem")
    assert page.request.get(f"{site.url}/console/open-data/2026-12/schema.json").status == 422
    assert page.request.get(f"{site.url}/console/open-data/2026-11/secrets.txt").status == 404
    assert everything(site.central) == before
