"""The hub's report pages (/manager/reports, hub/manager.py) in Chromium against a real hub:
a day's figures on the page equal core.kpis.report for the same store; week, month and a
chosen range; the charts drawn by the shared script; the CSV, XLSX and PDF downloads; and the
bad inputs (a backwards range, a range over 366 days, an unknown service, a file asked for
without a supervisor's session), each refused with a clear message and nothing changed.
Screenshots in Arabic and English, desktop and phone, go to /tmp/shots-h3/."""
from __future__ import annotations

import io
from datetime import date as dt_date
from pathlib import Path

import openpyxl
import pytest
from axe_check import axe_violations
from board_browser import ARGS, CHROMIUM
from hubrig import RunningHub
from playwright import sync_api

from core import kpis
from hub.manager import Fmt
from testing.kpi_month import generate_month

SHOTS = Path("/tmp/shots-h3")
RES, DIG = "residence-certificate", "excavation-permit"
DAY = "2026-11-24"  # the frozen clock's day in Bahrain
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def new_context(chromium, viewport=DESKTOP):
    # CSP bypassed so axe can be injected; test_manager_page.py runs the pages under it.
    context = chromium.new_context(viewport=viewport, ignore_https_errors=True,
                                   bypass_csp=True, accept_downloads=True)
    context.set_default_timeout(10_000)
    context.errors = []
    context.on("weberror", lambda error: context.errors.append(error.error))
    return context


@pytest.fixture
def browser(chromium):
    context = new_context(chromium)
    yield context
    context.close()
    assert context.errors == []


def signed_in(context, hub, lang="en"):
    page = context.new_page()
    page.goto(f"{hub.url}/manager/sign-in?lang={lang}")
    page.fill("#username", "huda")
    page.fill("#pin", "987654")
    page.click("#sign-in-button")
    page.wait_for_url(f"{hub.url}/manager")
    return page


@pytest.fixture
def busy_day(office, till, clock, submit_valid):
    """A morning at the centre: five tickets at two counters (served, no-show, still
    waiting), two paid applications, one by card at the kiosk's shift."""
    with office.acting_as("sara"):
        office.counter_states.signed_in("3")
    tickets = [office.queue.take_ticket(s) for s in (RES, RES, DIG, RES, DIG)]
    clock.advance(minutes=4)
    with office.acting_as("sara"):
        first = office.queue.call_next("3")
        office.queue.start_serving(first["id"])
    clock.advance(minutes=7)
    with office.acting_as("sara"):
        office.queue.finish(first["id"])
        second = office.queue.call_next("3")
        office.queue.start_serving(second["id"])
    clock.advance(minutes=12)
    with office.acting_as("sara"):
        office.queue.finish(second["id"])
        third = office.queue.call_next("3")
        office.queue.no_show(third["id"])
    paid = submit_valid(RES)
    office.payments.take(paid["id"], "cash", till.clerk, tendered_minor=5000)
    office.payments.open_shift("kiosk-1", 0)
    carded = submit_valid(RES)
    office.payments.take(carded["id"], "card", "kiosk-1", reference="T0000001-000042-A1B2C3")
    clock.advance(minutes=3)
    return tickets


def the_report(office, period, services=None) -> dict:
    return kpis.report(kpis.HubFacts(office.store), period, services=services,
                       today=office.queue.today())


def figure(page, scope: str, name: str) -> str:
    return page.inner_text(f'{scope} [data-figure="{name}"]').strip()


# --- the figures ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_days_figures_are_core_kpis_report(hub, browser, office, busy_day, lang):
    page = signed_in(browser, hub, lang)
    page.goto(f"{hub.url}/manager/reports?kind=day&date={DAY}")
    page.wait_for_selector("#report")
    report = the_report(office, kpis.Period.day(DAY))
    v, f = report["visits"], Fmt(office, lang)
    total = v["total"]
    assert (total["tickets"], total["served"], total["no_show"]) == (5, 2, 1)  # real data
    for key in ("tickets", "served", "no_show", "cancelled", "left", "open"):
        assert figure(page, "#summary", key) == f.n(total[key]), key
    assert figure(page, "#summary", "wait_mean") == f.mins(total["wait_s"]["mean"])
    assert figure(page, "#summary", "wait_p90") == f.mins(total["wait_s"]["p90"])
    assert figure(page, "#summary", "service_mean") == f.mins(total["service_s"]["mean"])
    assert figure(page, "#summary", "within_target") == f.share(total["within_target"])
    for row in v["by_service"]:
        scope = f'#by-service tr[data-key="{row["key"]}"]'
        assert figure(page, scope, "tickets") == f.n(row["tickets"])
        assert figure(page, scope, "wait_mean") == f.mins(row["wait_s"]["mean"])
    names = {s.code: s.name for s in office.catalog}
    assert getattr(names[RES], lang) in page.inner_text("#by-service")  # catalogue names
    for row in v["by_hour"]:  # the hours with tickets; quiet hours are left out
        hour = f'#by-hour tr[data-key="{row["key"]}"]'
        if row["tickets"]:
            assert figure(page, hour, "tickets") == f.n(row["tickets"])
        else:
            assert page.query_selector(hour) is None
    assert figure(page, '#by-counter tr[data-key="3"]', "served") == f.n(2)
    assert "sara" in page.inner_text("#by-clerk")
    revenue = report["revenue"]
    assert page.inner_text('[data-figure="revenue_total"]') == \
        f.money(revenue["total_minor"], revenue["currency"])
    for row in revenue["by_method"]:
        assert figure(page, f'#revenue-by-method tr[data-key="{row["key"]}"]', "amount") == \
            f.money(row["amount_minor"], revenue["currency"])
    assert figure(page, "#applications", "submitted") == \
        f.n(report["applications"]["submitted"])
    # The same figures through the page's JSON answer.
    answer = browser.request.get(f"{hub.url}/manager/api/report?kind=day&date={DAY}")
    same = answer.json()
    assert answer.status == 200 and same["visits"] == v and same["revenue"] == revenue


def test_a_service_filter_narrows_every_figure(hub, browser, office, busy_day):
    page = signed_in(browser, hub)
    page.goto(f"{hub.url}/manager/reports?kind=day&date={DAY}&service={DIG}")
    report = the_report(office, kpis.Period.day(DAY), services=[DIG])
    assert figure(page, "#summary", "tickets") == str(report["visits"]["total"]["tickets"]) == "2"
    assert page.input_value("#service") == DIG


@pytest.mark.parametrize("query,kind,first,last", [
    ("kind=week&date=2026-11-24", "week", "2026-11-22", "2026-11-28"),  # Sunday to Saturday
    ("kind=month&month=2026-11", "month", "2026-11-01", "2026-11-30"),
    ("kind=range&from=2026-11-01&to=2026-11-24", "range", "2026-11-01", "2026-11-24"),
])
def test_week_month_and_a_chosen_range(hub, browser, office, busy_day, query, kind, first,
                                       last):
    page = signed_in(browser, hub)
    page.goto(f"{hub.url}/manager/reports?{query}")
    assert page.get_attribute("#report", "data-from") == first
    assert page.get_attribute("#report", "data-to") == last
    assert page.input_value("#kind") == kind
    report = the_report(office, kpis.Period.parse(first, last))
    assert figure(page, "#summary", "tickets") == str(report["visits"]["total"]["tickets"])
    assert page.is_visible(f'#by-day tr[data-key="{DAY}"]')
    assert "download-pdf" not in page.content()  # the printable PDF is a day's


def test_the_charts_are_drawn_by_the_shared_script(hub, browser, busy_day):
    page = signed_in(browser, hub, "ar")
    page.goto(f"{hub.url}/manager/reports?kind=month&month=2026-11")
    page.wait_for_function("window.reportCharts && window.reportCharts.drawn > 0")
    drawn = page.evaluate("window.reportCharts.drawn")
    assert drawn == page.evaluate("document.querySelectorAll('#charts canvas').length") == 4
    # Each chart's figures as a table too (the shared script's text alternative).
    assert page.evaluate("document.querySelectorAll('#charts .chart-figures table').length") == 4


# --- a generated month with known answers (testing/kpi_month.py) --------------------------------
@pytest.fixture(scope="module")
def month(tmp_path_factory, root_key):
    office, expected = generate_month(tmp_path_factory.mktemp("manager-month") / "data",
                                      "Asia/Bahrain", 2026, 11, seed=5,
                                      tickets_per_day=(6, 10), root_key=root_key)
    office.store.clock.set("2026-12-01T06:00:00+00:00")  # the day after: every ticket left
    hub = RunningHub(office)
    yield hub, expected
    hub.stop()
    office.close()


def test_the_generated_months_hand_computed_figures_on_the_page(month, browser):
    hub, expected = month
    after = hub.office.queue.today()
    assert after == "2026-12-01"
    page = signed_in(browser, hub)
    got = browser.request.get(f"{hub.url}/manager/api/report?kind=month&month=2026-11").json()
    assert got.pop("generated_at") and got == dict(expected)
    day = "2026-11-10"
    want = expected.for_period(kpis.Period.day(day), dt_date.fromisoformat(after))
    page.goto(f"{hub.url}/manager/reports?kind=day&date={day}")
    f, total = Fmt(hub.office, "en"), want["visits"]["total"]
    assert total["tickets"] > 0
    for key in ("tickets", "served", "no_show", "cancelled", "left", "open"):
        assert figure(page, "#summary", key) == f.n(total[key]), key
    assert figure(page, "#summary", "wait_mean") == f.mins(total["wait_s"]["mean"])
    assert figure(page, "#summary", "within_target") == f.share(total["within_target"])
    for row in want["visits"]["by_counter"]:
        if row["key"] is not None:
            assert figure(page, f'#by-counter tr[data-key="{row["key"]}"]', "served") == \
                f.n(row["served"])
    revenue = want["revenue"]
    assert page.inner_text('[data-figure="revenue_total"]') == \
        f.money(revenue["total_minor"], revenue["currency"])
    for key in ("issued", "reprinted", "revoked"):
        assert figure(page, "#licences", key) == f.n(want["licences"][key])
    SHOTS.mkdir(exist_ok=True)
    for lang in ("ar", "en"):  # a full month, looked at
        page.goto(f"{hub.url}/manager/reports?kind=month&month=2026-11&lang={lang}")
        page.wait_for_function("window.reportCharts && window.reportCharts.drawn === 4")
        page.wait_for_timeout(400)  # Chart.js' first animation
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / f"reports-generated-month-{lang}.png"),
                        full_page=True)


# --- downloads -----------------------------------------------------------------------------------
def test_the_downloads_open(hub, browser, office, busy_day):
    page = signed_in(browser, hub)
    page.goto(f"{hub.url}/manager/reports?kind=day&date={DAY}")
    files = {}
    for fmt in ("csv", "xlsx", "pdf"):
        with page.expect_download() as caught:
            page.click(f"#download-{fmt}")
        files[fmt] = Path(caught.value.path()).read_bytes()
        assert caught.value.suggested_filename == f"nafitha-MUH-{DAY}.{fmt}"
    report = the_report(office, kpis.Period.day(DAY))
    assert b"\n" in files["csv"] and str(report["visits"]["total"]["tickets"]).encode() in files["csv"]
    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    assert book.sheetnames and any(sheet.max_row > 1 for sheet in book.worksheets)
    assert files["pdf"].startswith(b"%PDF")
    answer = browser.request.get(f"{hub.url}/manager/reports/file.csv?kind=day&date={DAY}")
    assert answer.headers["content-disposition"].startswith("attachment;")


# --- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("query,reason,words", [
    ("kind=range&from=2026-11-24&to=2026-11-01", "backwards_range", "the end date is before"),
    ("kind=range&from=2024-01-01&to=2026-11-24", "range_too_long", "at most 366 days"),
    ("kind=day&date=2026-11-24&service=dog-licence", "unknown_service", "no such service"),
    ("kind=day&date=2026-02-30", "not_a_date", "That date is not valid"),
    ("kind=month&month=2026-13", "not_a_month", "That month is not valid"),
    ("kind=year&date=2026-11-24", "bad_kind", "Unknown kind of period"),
])
def test_bad_input_is_refused_clearly_and_changes_nothing(hub, browser, busy_day, db_state,
                                                          query, reason, words):
    page = signed_in(browser, hub)
    before = db_state()
    answer = page.goto(f"{hub.url}/manager/reports?{query}")
    assert answer.status == 422
    assert words in page.inner_text("#report-error")
    assert not page.query_selector("#report")
    api = browser.request.get(f"{hub.url}/manager/api/report?{query}")
    assert api.status == 422 and api.json()["reason"] == reason
    export = browser.request.get(f"{hub.url}/manager/reports/file.xlsx?{query}")
    assert export.status == 422 and export.json()["reason"] == reason
    assert db_state() == before


def test_the_printable_pdf_is_a_days_only(hub, browser, busy_day, db_state):
    signed_in(browser, hub)
    before = db_state()
    refused = browser.request.get(f"{hub.url}/manager/reports/file.pdf?kind=week&date={DAY}")
    assert refused.status == 422 and refused.json()["reason"] == "pdf_day_only"
    assert "choose a single day" in refused.json()["words"]
    other = browser.request.get(f"{hub.url}/manager/reports/file.docx?kind=day&date={DAY}")
    assert other.status == 422 and other.json()["reason"] == "bad_format"
    assert db_state() == before


def test_arabic_words_for_a_backwards_range(hub, browser, busy_day):
    page = signed_in(browser, hub, "ar")
    page.goto(f"{hub.url}/manager/reports?kind=range&from=2026-11-24&to=2026-11-01")
    assert "تاريخ النهاية قبل تاريخ البداية" in page.inner_text("#report-error")


def test_a_file_without_a_supervisors_session_is_refused(hub, busy_day, db_state, till):
    # A counter with a clerk signed in: its credentials open nothing here.
    counter = hub.client(hub.token("counter", "3"))
    session = counter.post(f"{hub.url}/api/v1/counter/sign-in",
                           json={"username": till.clerk, "pin": till.clerk_pin})
    assert session.status_code == 200
    headers = {"X-Clerk-Session": session.json()["session"]}
    before = db_state()
    query = f"kind=day&date={DAY}"
    anonymous = hub.client().get(f"{hub.url}/manager/reports/file.xlsx?{query}",
                                 allow_redirects=False)
    assert anonymous.status_code == 303 and \
        anonymous.headers["location"].startswith("/manager/sign-in")
    for path in ("/manager/reports/file.csv", "/manager/reports/file.pdf",
                 "/manager/api/report", "/manager/reports"):
        refused = counter.get(f"{hub.url}{path}?{query}", headers=headers,
                              allow_redirects=False)
        assert refused.status_code == 403 and refused.json()["reason"] == "supervisor_required"
    forged = hub.client().get(f"{hub.url}/manager/reports/file.csv?{query}",
                              cookies={"nafitha_manager": "forged"}, allow_redirects=False)
    assert forged.status_code == 303
    assert db_state() == before


# --- accessibility and looks ---------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_axe_and_screenshots(hub, chromium, busy_day, lang):
    SHOTS.mkdir(exist_ok=True)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = new_context(chromium, viewport)
        try:
            page = signed_in(context, hub, lang)
            for label, query in (("day", f"kind=day&date={DAY}"),
                                 ("month", "kind=month&month=2026-11"),
                                 ("error", "kind=range&from=2026-11-24&to=2026-11-01")):
                page.goto(f"{hub.url}/manager/reports?{query}")
                page.wait_for_function("document.fonts.status === 'loaded'")
                if label != "error":
                    page.wait_for_function("window.reportCharts && "
                                           "window.reportCharts.drawn > 0")
                    page.wait_for_timeout(400)  # Chart.js' first animation
                page.screenshot(path=str(SHOTS / f"reports-{label}-{lang}-{name}.png"),
                                full_page=True)
                assert axe_violations(page) == [], label
                # Nothing wider than the screen but the tables' own scrolling boxes.
                wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
                    .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().width > w)
                    .map(e => e.tagName + '.' + e.className)""", viewport["width"])
                assert wide == [], label
                assert page.evaluate("document.documentElement.scrollWidth") <= \
                    viewport["width"], label
            assert context.errors == []
        finally:
            context.close()
