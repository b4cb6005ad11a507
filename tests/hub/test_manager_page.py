"""The centre manager's live view (/manager, hub/manager.py) in a real browser: Debian's
Chromium driven by Playwright against a real hub (HTTPS, uvicorn on loopback) over the test's
office, with its frozen clock.

Sign-in (a supervisor in, a clerk's PIN refused and nothing written, five wrong PINs lock),
the session cookie's flags, sign-out's CSRF token, the idle timeout, the live view changing
without a reload when a ticket is taken and called, the alert past a service's target, a
counter on break with its reason, devices, sync and today's takings, the pages kept off the
plain board port, axe, and screenshots in Arabic and English on a desktop and a phone
(written to /tmp/shots-h3/ and looked at)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from axe_check import axe_violations
from board_browser import ARGS, CHROMIUM
from playwright import sync_api

from core import health, kpis, sync_state
from hub.manager import COOKIE, IDLE_S, Fmt

SHOTS = Path("/tmp/shots-h3")
RES = "residence-certificate"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def new_context(chromium, viewport=DESKTOP, bypass_csp=True):
    """A fresh browser profile (no cookie). The hub's certificate is its own (devices pin
    it at pairing); the browser is told to accept it. CSP is bypassed only so Playwright's
    string predicates and axe's injection run; test_the_pages_work_under_their_own_policy
    keeps it."""
    context = chromium.new_context(viewport=viewport, ignore_https_errors=True,
                                   bypass_csp=bypass_csp, locale="ar-BH")
    context.set_default_timeout(10_000)
    errors: list = []
    context.on("weberror", lambda error: errors.append(error.error))
    context.errors = errors
    return context


@pytest.fixture
def browser(chromium):
    context = new_context(chromium)
    yield context
    context.close()
    assert context.errors == []  # no uncaught exception in the pages' scripts


def sign_in(page, hub, username="huda", pin="987654", lang="ar"):
    page.goto(f"{hub.url}/manager/sign-in?lang={lang}")
    page.fill("#username", username)
    page.fill("#pin", pin)
    page.click("#sign-in-button")
    page.wait_for_load_state()


def signed_in_page(browser, hub, lang="ar"):
    page = browser.new_page()
    sign_in(page, hub, lang=lang)
    assert page.url.endswith("/manager"), page.url
    page.wait_for_selector("#live .live-body")
    return page


def session_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def row_text(page, selector: str) -> str:
    return page.inner_text(selector).replace("\n", " ").replace("\t", " ")


# --- sign-in -----------------------------------------------------------------------------------
def test_a_supervisor_signs_in_with_a_strict_httponly_secure_cookie(hub, browser, till):
    page = browser.new_page()
    response = page.goto(f"{hub.url}/manager")
    assert "/manager/sign-in" in page.url and response.status == 200  # no session: sign in
    assert page.evaluate("document.documentElement.dir") == "rtl"
    sign_in(page, hub)
    assert page.url == f"{hub.url}/manager"
    cookie = session_cookie(browser)
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/manager"
    assert COOKIE not in page.evaluate("document.cookie")  # never readable by scripts
    assert "huda" not in page.url and "987654" not in page.url  # nothing personal in URLs
    assert "المشرف: huda" in page.inner_text("header")
    for heading in ("الانتظار الآن", "الشبابيك", "إيرادات اليوم", "الأجهزة"):
        assert heading in page.inner_text("#live")


def test_a_clerks_pin_is_refused_and_nothing_changes(hub, browser, till, db_state):
    page = browser.new_page()
    page.goto(f"{hub.url}/manager/sign-in?lang=en")
    before = db_state()
    page.fill("#username", "sara")
    page.fill("#pin", "1234")  # right PIN, but a clerk's
    with page.expect_response(lambda r: r.url.endswith("/manager/sign-in")
                              and r.request.method == "POST") as answer:
        page.click("#sign-in-button")
    assert answer.value.status == 403
    error = page.inner_text("#sign-in-error")
    assert "clerk's account" in error and "supervisors only" in error
    assert session_cookie(browser) is None
    assert db_state() == before
    page.goto(f"{hub.url}/manager")
    assert "/manager/sign-in" in page.url  # still not signed in


def test_five_wrong_pins_lock_the_account_here(hub, browser, till, office):
    page = browser.new_page()
    page.goto(f"{hub.url}/manager/sign-in?lang=en")
    for attempt in range(1, 5):
        page.fill("#username", "huda")
        page.fill("#pin", "111111")
        page.click("#sign-in-button")
        page.wait_for_selector("#sign-in-error")
        assert f"Attempts left: {5 - attempt}." in page.inner_text("#sign-in-error")
    page.fill("#username", "huda")
    page.fill("#pin", "111111")
    page.click("#sign-in-button")
    assert "locked here until 11:05" in page.inner_text("#sign-in-error")  # Bahrain time
    page.fill("#username", "huda")
    page.fill("#pin", "987654")  # now the right PIN: still locked
    page.click("#sign-in-button")
    assert "This account is locked here" in page.inner_text("#sign-in-error")
    assert session_cookie(browser) is None
    locked = office.store.one("SELECT failed_attempts, locked_until FROM users "
                              "WHERE username = 'huda'")
    assert locked["failed_attempts"] == 5 and locked["locked_until"]
    audit = office.store.all("SELECT action FROM audit WHERE entity_id = 'huda' "
                             "AND action LIKE 'user.%' ORDER BY seq")
    assert [a["action"] for a in audit][-2:] == ["user.pin_failed", "user.locked"]


def test_a_sign_in_form_without_its_csrf_token_is_refused(hub, till):
    answer = hub.client().post(f"{hub.url}/manager/sign-in",
                          data={"username": "huda", "pin": "987654", "csrf": "forged"},
                          allow_redirects=False)
    assert answer.status_code == 403 and COOKIE not in answer.cookies
    assert "The form expired" in answer.text or "انتهت صلاحية النموذج" in answer.text


def test_sign_out_needs_the_sessions_csrf_token(hub, browser, till):
    page = signed_in_page(browser, hub)
    forged = browser.request.post(f"{hub.url}/manager/sign-out", form={"csrf": "forged"},
                                  max_redirects=0)
    assert forged.status == 403
    assert browser.request.get(f"{hub.url}/manager/api/live").status == 200  # still in
    page.click(".sign-out button")
    page.wait_for_url("**/manager/sign-in?signed_out=1")
    assert "تم تسجيل خروجك" in page.inner_text("#sign-in-notice")
    assert session_cookie(browser) is None
    assert browser.request.get(f"{hub.url}/manager/api/live").status == 403


def test_a_disabled_account_is_out_at_once(hub, browser, till, office):
    signed_in_page(browser, hub)
    assert browser.request.get(f"{hub.url}/manager/api/live").status == 200
    # What a full resync from central does to an account it no longer lists.
    with office.store.atomic():
        office.store.update("users", "username", "huda", {"disabled_at": office.store.now()})
    refused = browser.request.get(f"{hub.url}/manager/api/live")
    assert refused.status == 403 and refused.json()["reason"] == "supervisor_required"
    assert browser.request.get(f"{hub.url}/manager/reports", max_redirects=0).status == 303


def test_an_idle_session_ends_and_the_live_view_says_so(hub, browser, till, clock):
    page = signed_in_page(browser, hub, lang="en")
    page.evaluate("window.notReloaded = true")
    # The live view's own refreshes do not keep the session alive: past IDLE_S without a
    # person's request it has ended, and the page goes to the sign-in page.
    clock.advance(seconds=IDLE_S + 1)
    page.wait_for_url("**/manager/sign-in?ended=1", timeout=15_000)
    assert "Your session ended" in page.inner_text("#sign-in-notice")


# --- the live view -------------------------------------------------------------------------------
def waiting_row(page, service=RES) -> dict:
    return page.evaluate("""s => { const r = document.querySelector(`#waiting tr[data-service="${s}"]`);
        return {count: r.querySelector('.count').textContent.trim(),
                past: r.classList.contains('past-target'), text: r.innerText}; }""", service)


def test_the_live_view_changes_without_reload_and_alerts_past_target(hub, browser, till,
                                                                      office, clock):
    page = signed_in_page(browser, hub, lang="en")
    page.evaluate("window.notReloaded = true")
    assert waiting_row(page)["count"] == "0"
    first = office.queue.take_ticket(RES)
    office.queue.take_ticket(RES)
    page.wait_for_function(f"""document.querySelector('#waiting tr[data-service="{RES}"] .count')
                               .textContent.trim() === '2'""")
    row = waiting_row(page)
    assert not row["past"] and first["number"] in row["text"]  # the next one to call
    assert "No alerts." in page.inner_text("#alerts")

    office.queue.call_next("3")  # one called: one waits
    page.wait_for_function(f"""document.querySelector('#waiting tr[data-service="{RES}"] .count')
                               .textContent.trim() === '1'""")
    # 16 minutes later the one still waiting is past the 15-minute target. A person's
    # request at 10 minutes keeps the session (the refreshes alone would not).
    clock.advance(minutes=10)
    assert page.evaluate("fetch('/manager/api/live').then(r => r.status)") == 200
    clock.advance(minutes=6)
    page.wait_for_selector(f'#alerts li[data-service="{RES}"]')
    alert = page.inner_text("#alerts")
    assert "Past target" in alert and "longest wait 16 min, target 15 min" in alert
    assert waiting_row(page)["past"]
    assert page.evaluate("window.notReloaded") is True  # no reload: the panels were swapped
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "live-alert-en.png"), full_page=True)


def test_a_counter_on_break_shows_its_reason_and_clerk(hub, browser, till, office):
    with office.acting_as("sara"):
        office.counter_states.signed_in("3")
        office.counter_states.set("3", "break", "prayer")
    with office.acting_as("huda"):
        office.counter_states.signed_in("4")
    page = signed_in_page(browser, hub)
    state = page.get_attribute('#counters tr[data-counter="3"]', "data-state")
    text = row_text(page, '#counters tr[data-counter="3"]')
    assert state == "break" and "استراحة" in text and "صلاة" in text and "sara" in text
    assert page.get_attribute('#counters tr[data-counter="4"]', "data-state") == "idle"

    office.queue.take_ticket(RES)
    with office.acting_as("huda"):
        called = office.queue.call_next("4")
    page.wait_for_function("""document.querySelector('#counters tr[data-counter="4"]')
                              .dataset.state === 'serving'""")
    assert called["number"] in row_text(page, '#counters tr[data-counter="4"]')


def test_devices_sync_and_todays_takings(hub, browser, till, office, submit_valid, clock):
    hub.token("kiosk", "kiosk-1")  # paired, never heard from
    hub.token("counter", "3")
    report = {"role": "counter", "version": "1", "uptime_s": 60, "printer": "paper_out",
              "camera": "ok", "disk_free_mb": 30_000, "store_bytes": 0, "backlog": 0,
              "backlog_age_s": None, "clock": office.store.now(), "last_backup_at": None,
              "disk_full": False}
    health.record(office.store, "3", report)
    sync_state.put(office.store, last_error="central answered 503", last_error_at=office.store.now(),
                   last_attempt_at=office.store.now())
    paid = submit_valid(RES)
    office.payments.take(paid["id"], "cash", till.clerk, tendered_minor=5000)
    office.payments.open_shift("kiosk-1", 0)  # the kiosk's card shift
    carded = submit_valid(RES)
    office.payments.take(carded["id"], "card", "kiosk-1", reference="T0000001-000042-A1B2C3")

    page = signed_in_page(browser, hub, lang="en")
    counter = row_text(page, '#devices tr[data-device="3"]')
    assert page.get_attribute('#devices tr[data-device="3"]', "data-online") == "yes"
    assert "Online" in counter and "Paper out" in counter and "Working" in counter
    assert "Not seen yet" in row_text(page, '#devices tr[data-device="kiosk-1"]')
    assert "central answered 503" in page.inner_text("#sync-error")
    assert int(page.inner_text("#sync-backlog").replace(",", "")) == \
        office.outbox_status()["pending"] > 0

    revenue = kpis.report(kpis.HubFacts(office.store), kpis.Period.day(office.queue.today()),
                          today=office.queue.today())["revenue"]
    f = Fmt(office, "en")
    assert page.inner_text("#takings-total") == f.money(revenue["total_minor"],
                                                        revenue["currency"])
    methods = {r["key"] for r in revenue["by_method"]}
    assert methods == {"cash", "card"}  # both shifts, the kiosk's included
    for m in revenue["by_method"]:
        assert f.money(m["amount_minor"], revenue["currency"]) in \
            row_text(page, f'#takings tr[data-method="{m["key"]}"]')

    clock.advance(seconds=office.settings.health.silent_after_s + 1)
    assert browser.request.get(f"{hub.url}/manager/api/live").status == 200  # a person's
    page.reload()
    assert page.get_attribute('#devices tr[data-device="3"]', "data-online") == "no"
    assert "Offline" in row_text(page, '#devices tr[data-device="3"]')


def test_the_pages_are_not_on_the_plain_board_port(hub):
    for path in ("/manager", "/manager/sign-in", "/manager/reports", "/manager/api/live"):
        answer = requests.get(hub.board_url + path, allow_redirects=False)
        assert answer.status_code == 403 and answer.json()["reason"] == "https_required"


def test_a_device_or_no_session_gets_no_live_figures(hub, till):
    answer = hub.client(hub.token("counter", "3")).get(f"{hub.url}/manager/api/live")
    assert answer.status_code == 403 and answer.json()["reason"] == "supervisor_required"
    anonymous = hub.client().get(f"{hub.url}/manager/live", allow_redirects=False)
    assert anonymous.status_code == 303 and "/manager/sign-in" in anonymous.headers["location"]


def test_the_pages_work_under_their_own_policy(hub, chromium, till, office):
    context = new_context(chromium, bypass_csp=False)
    try:
        page = context.new_page()
        violations = []
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text else None)
        sign_in(page, hub)
        page.wait_for_selector("#live .live-body")
        office.queue.take_ticket(RES)
        deadline = time.monotonic() + 10
        while waiting_row(page)["count"] != "1":
            assert time.monotonic() < deadline, "the live view did not refresh"
            time.sleep(0.2)
        assert violations == []
    finally:
        context.close()


# --- accessibility and looks ---------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_axe_and_screenshots_desktop_and_phone(hub, chromium, till, office, lang, clock,
                                               submit_valid):
    with office.acting_as("sara"):
        office.counter_states.signed_in("3")
        office.counter_states.set("3", "break", "prayer")
    with office.acting_as("huda"):
        office.counter_states.signed_in("4")
    for _ in range(3):
        office.queue.take_ticket(RES)
    office.queue.take_ticket("excavation-permit")
    with office.acting_as("huda"):
        office.queue.call_next("4")
    hub.token("kiosk", "kiosk-1")
    hub.token("counter", "3")
    health.record(office.store, "3", {
        "role": "counter", "version": "1", "uptime_s": 60, "printer": "paper_low",
        "camera": "ok", "disk_free_mb": 30_000, "store_bytes": 0, "backlog": 0,
        "backlog_age_s": None, "clock": office.store.now(), "last_backup_at": None,
        "disk_full": False})
    paid = submit_valid(RES)
    office.payments.take(paid["id"], "cash", till.clerk, tendered_minor=5000)
    clock.advance(minutes=16)  # the R tickets still waiting are past their 15-minute target
    health.record(office.store, "3", {**health.latest(office.store)[0]["report"],
                                      "clock": office.store.now()})
    SHOTS.mkdir(exist_ok=True)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = new_context(chromium, viewport)
        try:
            page = context.new_page()
            page.goto(f"{hub.url}/manager/sign-in?lang={lang}")
            page.wait_for_function("document.fonts.status === 'loaded'")
            assert axe_violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            page.screenshot(path=str(SHOTS / f"sign-in-{lang}-{name}.png"), full_page=True)
            sign_in(page, hub, lang=lang)
            page.wait_for_function("document.fonts.status === 'loaded'")
            assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar"
                                                                     else "ltr")
            # The hub's own copy of the font drew the page (no system or remote font).
            assert page.evaluate("""[...document.fonts].some(f => f.status === 'loaded'
                && f.family.replace(/"/g, '') === 'Noto Sans Arabic')""")
            assert axe_violations(page) == []
            # Nothing wider than the screen but the tables' own scrolling boxes.
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            page.screenshot(path=str(SHOTS / f"live-{lang}-{name}.png"), full_page=True)
            assert context.errors == []
        finally:
            context.close()
