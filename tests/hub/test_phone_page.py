"""The resident's phone page in a real browser: Debian's Chromium, driven by Playwright, at
phone size (360x740), against a real hub (uvicorn on loopback; the page on the plain-HTTP
listener as a phone on the centre's Wi-Fi opens it) over the test's office (hub/phone.py,
core/follow.py, docs/phone.md).

A ticket followed from taken -> others called -> near -> called "counter 3" live without a
reload; more time (back N places, the button then disabled, a second POST refused 409);
leave (confirmed, the ticket cancelled); a forged token's page refuses clearly; POSTs
without the page's header or from another origin refused; screenshots in Arabic and English
(docs/screenshots/phone-*.png, looked at); axe-core clean; nothing loaded from elsewhere."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests
from axe_check import axe_violations
from board_browser import ARGS, CHROMIUM
from playwright import sync_api

RES = "residence-certificate"
PHONE = {"width": 360, "height": 740}
READY = "window.phoneTest && window.phoneTest.renders > 0 && window.phoneTest.connected"
SHOTS = Path(os.environ.get("NAFITHA_SHOTS",
                            Path(__file__).resolve().parents[2] / "docs" / "screenshots"))


@pytest.fixture(scope="module")
def playwright():
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright, tmp_path):
    """A fresh profile per test, phone-sized with touch; CSP bypassed only for
    wait_for_function's string predicates (test_the_page_works_under_its_own_policy runs
    with it enforced)."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
        viewport=PHONE, locale="ar-BH", bypass_csp=True, has_touch=True, is_mobile=True,
        device_scale_factor=2)
    context.set_default_timeout(10_000)
    errors = []
    context.on("weberror", lambda error: errors.append(error.error))
    yield context
    context.close()
    assert errors == []  # no uncaught exception in the page's scripts


def follow(browser, hub, ticket, lang="ar"):
    page = browser.pages[0] if browser.pages else browser.new_page()
    # Vibration is counted by the page (window.phoneTest.vibrations); the browser's own is
    # replaced so a headless run records the pattern it was asked for.
    page.add_init_script("window.__vibrated = []; navigator.vibrate = function (p) "
                         "{ window.__vibrated.push(p); return true; };")
    url = f"{hub.board_url}/q/{hub.office.follow.token(ticket['id'])}"
    response = page.goto(url + ("?lang=en" if lang == "en" else ""))
    assert response.status == 200
    page.wait_for_function(READY)
    return page


def shows(page, predicate: str, arg=None, timeout=5_000):
    page.wait_for_function(f"s => {{ const t = window.phoneTest.state; return t && ({predicate}); }}",
                           arg=arg, timeout=timeout)


def shoot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.evaluate("document.getAnimations().forEach(a => a.finish())")
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def take(office, n, clock, service=RES):
    out = []
    for _ in range(n):
        out.append(office.queue.take_ticket(service))
        clock.advance(20)
    return out


def post(hub, ticket, what, headers=None) -> requests.Response:
    return requests.post(f"{hub.board_url}/q/{hub.office.follow.token(ticket['id'])}/{what}",
                         headers={"X-Nafitha-Follow": "1"} if headers is None else headers,
                         timeout=5)


# --- following -------------------------------------------------------------------------------
def test_a_ticket_is_followed_from_taken_to_called_live(hub, browser, office, clock):
    tickets = take(office, 7, clock)
    mine = tickets[5]  # R006: five ahead
    page = follow(browser, hub, mine)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.inner_text("#number") == "R006"
    assert page.inner_text("#service") == office.catalog.get(RES).name.ar
    assert page.inner_text("#ahead") == "5"
    assert page.inner_text("#headline") == "أنت في الطابور"
    assert page.get_attribute("#status", "data-kind") == "waiting"
    assert page.is_enabled("#more-time")
    shoot(page, "phone-waiting-ar")
    renders = page.evaluate("window.phoneTest.renders")
    # Others are called: the page follows without a reload.
    office.queue.call_next("1", [RES])
    office.queue.call_next("2", [RES])
    shows(page, "t.people_ahead === 3")
    assert page.evaluate("window.phoneTest.renders") > renders
    assert page.get_attribute("#status", "data-kind") == "near"
    assert page.inner_text("#headline") == "اقترب دورك"
    assert "صالة الانتظار" in page.inner_text("#detail")
    shoot(page, "phone-near-ar")
    for counter in ("1", "2", "4"):
        office.queue.finish(office.queue.at_counter(counter)[0]["id"]) \
            if office.queue.at_counter(counter) else None
        office.queue.call_next(counter, [RES])
    shows(page, "t.people_ahead === 0")
    assert page.inner_text("#headline") == "أنت التالي"
    # Called at counter 3: shown the moment it happens, big, and the phone vibrates.
    office.queue.call_next("3", [RES])
    shows(page, "t.state === 'called'")
    assert page.inner_text("#headline") == "تفضل إلى الشباك 3"
    assert page.get_attribute("#status", "data-kind") == "called"
    assert page.is_hidden("#actions") and page.is_hidden("#figures")
    assert page.evaluate("window.phoneTest.vibrations") == 1
    assert page.evaluate("window.__vibrated.length") == 1
    size = page.evaluate("parseFloat(getComputedStyle(document.getElementById('headline'))"
                         ".fontSize)")
    assert size >= 30
    shoot(page, "phone-called-ar")
    # Called again: vibrates again, and says so.
    office.queue.recall(mine["id"])
    shows(page, "t.call_count === 2")
    assert page.evaluate("window.__vibrated.length") == 2
    assert "مرة أخرى" in page.inner_text("#detail")
    office.queue.start_serving(mine["id"])
    shows(page, "t.state === 'serving'")
    assert page.inner_text("#headline") == "تُخدم الآن في الشباك 3"
    office.queue.finish(mine["id"])
    shows(page, "t.state === 'done'")
    assert page.evaluate("window.phoneTest.view") == "done"


def test_english_and_the_language_switch(hub, browser, office, clock):
    tickets = take(office, 4, clock)
    page = follow(browser, hub, tickets[3], lang="en")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == \
        ["en", "ltr"]
    assert page.inner_text("#headline") == "Your turn is near"
    assert page.inner_text("#ahead") == "3"
    assert page.inner_text("#service") == office.catalog.get(RES).name.en
    assert page.inner_text("#more-time") == "I need more time"
    assert "back 3 places" in page.inner_text("#more-hint")
    assert axe_violations(page) == []
    shoot(page, "phone-near-en")
    page.click("#switch")
    page.wait_for_function(READY)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.inner_text("#switch") == "English"
    office.queue.call_next("3", [RES])
    office.queue.call_next("3", [RES])
    office.queue.call_next("3", [RES])
    office.queue.call_next("7", [RES])
    shows(page, "t.state === 'called'")
    assert page.inner_text("#headline") == "تفضل إلى الشباك 7"
    assert axe_violations(page) == []
    page.goto(page.url.split("?")[0] + "?lang=en")
    page.wait_for_function(READY)
    assert page.inner_text("#headline") == "Please go to counter 7"
    shoot(page, "phone-called-en")


def test_nothing_is_cut_off_at_phone_size(hub, browser, office, clock):
    tickets = take(office, 2, clock, "building-permit-small")  # a long service name
    for lang in ("ar", "en"):
        page = follow(browser, hub, tickets[1], lang=lang)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for sel in ("#number", "#service", "#headline", "#more-time", "#leave", "#switch"):
            box = page.locator(sel).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], sel


# --- more time ------------------------------------------------------------------------------
def test_more_time_moves_back_once(hub, browser, office, clock):
    tickets = take(office, 8, clock)
    mine = tickets[1]
    page = follow(browser, hub, mine, lang="en")
    assert page.inner_text("#ahead") == "1"
    page.click("#more-time")
    shows(page, "t.postponed === true")
    assert page.inner_text("#ahead") == "4"  # back 3 places (queue.more_time_places)
    assert page.inner_text("#note") == "You moved back 3 places."
    assert page.is_disabled("#more-time")
    assert page.inner_text("#more-time") == "Extra time already used"
    shoot(page, "phone-more-time-en")
    [reply] = page.evaluate("window.phoneTest.replies")
    assert reply == {"what": "more-time", "status": 200, "reason": None}
    order = [t["number"] for t in office.queue.list(("waiting",), service=RES)]
    assert order[:6] == ["R001", "R003", "R004", "R005", "R002", "R006"]
    # A second time, straight over HTTP: refused, nothing changes.
    again = post(hub, mine, "more-time")
    assert again.status_code == 409 and again.json()["reason"] == "already_postponed"
    assert [t["number"] for t in office.queue.list(("waiting",), service=RES)][:6] == order[:6]
    events = [json.loads(r[0]) for r in office.store.conn.execute(
        "SELECT body FROM outbox WHERE type = 'ticket.postponed'")]
    assert len(events) == 1 and events[0]["actor"] == "phone"


def test_changes_need_the_pages_header_and_origin(hub, office, clock):
    mine = take(office, 3, clock)[0]
    for headers in ({}, {"X-Nafitha-Follow": "0"}):
        refused = post(hub, mine, "more-time", headers)
        assert refused.status_code == 403
        assert refused.json()["reason"] == "follow_header_missing"
    cross = post(hub, mine, "leave", {"X-Nafitha-Follow": "1",
                                     "Origin": "http://evil.example"})
    assert cross.status_code == 403 and cross.json()["reason"] == "cross_origin"
    assert office.queue.get(mine["id"])["state"] == "waiting"
    assert office.follow.view(mine["id"])["postponed"] is False


# --- leave ----------------------------------------------------------------------------------
def test_leave_asks_first_then_cancels(hub, browser, office, clock):
    tickets = take(office, 3, clock)
    mine = tickets[2]
    page = follow(browser, hub, mine)
    page.click("#leave")
    assert page.is_visible("#confirm") and page.is_hidden("#actions")
    assert page.inner_text("#confirm-title") == "مغادرة الطابور؟"
    shoot(page, "phone-leave-ar")
    page.click("#leave-no")  # changed their mind: nothing happens
    assert page.is_visible("#actions") and page.is_hidden("#confirm")
    assert office.queue.get(mine["id"])["state"] == "waiting"
    page.click("#leave")
    page.click("#leave-yes")
    shows(page, "t.state === 'cancelled'")
    assert page.inner_text("#headline") == "غادرت الطابور"
    assert page.is_hidden("#actions")
    assert office.queue.get(mine["id"])["state"] == "cancelled"
    assert office.queue.events(mine["id"])[-1]["actor"] == "phone"
    shoot(page, "phone-left-ar")
    assert post(hub, mine, "leave").status_code == 409  # gone already


# --- refusals -------------------------------------------------------------------------------
def test_a_forged_token_shows_a_clear_refusal(hub, browser, office, clock):
    mine = take(office, 1, clock)[0]
    token = office.follow.token(mine["id"])
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    page = browser.new_page()
    response = page.goto(f"{hub.board_url}/q/{forged}")
    assert response.status == 403
    page.wait_for_function("window.phoneTest && window.phoneTest.view === 'refused'")
    assert page.inner_text("#refused-title") == "هذا الرابط غير صالح"
    assert page.is_hidden("#ticket") and page.is_hidden("#actions")
    assert page.get_attribute("#refused", "data-reason") == "forged"
    shoot(page, "phone-forged-ar")
    other = f"RIF.{mine['id']}.{token.rsplit('.', 1)[1]}"
    page.goto(f"{hub.board_url}/q/{other}?lang=en")
    page.wait_for_function("window.phoneTest && window.phoneTest.view === 'refused'")
    assert page.inner_text("#refused-title") == "A ticket from another centre"
    assert page.inner_text("#ticket") == "" or page.is_hidden("#ticket")
    # The state and the stream refuse it too, with the same reason.
    for what in ("state", "events"):
        r = requests.get(f"{hub.board_url}/q/{forged}/{what}", timeout=5)
        assert r.status_code == 403 and r.json()["reason"] == "forged"
    escaped = requests.get(f"{hub.board_url}/q/%22%3E%3Cscript%3E", timeout=5)
    assert escaped.status_code == 403 and "<script>" not in escaped.text.split("</head>")[1]


def test_the_page_works_under_its_own_policy_and_loads_nothing_from_elsewhere(
        hub, playwright, office, clock, tmp_path):
    mine = take(office, 2, clock)[1]
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "strict"), executable_path=CHROMIUM, headless=True, args=ARGS,
        viewport=PHONE)
    try:
        page = context.new_page()
        asked = []
        page.on("request", lambda r: asked.append(r.url))
        violations = []
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text else None)
        page.goto(f"{hub.board_url}/q/{office.follow.token(mine['id'])}")
        page.wait_for_function("window.phoneTest && window.phoneTest.connected")
        page.evaluate("document.fonts.ready")
        assert violations == []
        assert all(u.startswith(hub.board_url) for u in asked), asked
        assert any("/q/fonts/NotoSansArabic" in u for u in asked)  # the hub's own font
    finally:
        context.close()


def test_the_https_listener_serves_it_too_and_the_board_port_only_under_q(hub, office, clock):
    mine = take(office, 1, clock)[0]
    token = office.follow.token(mine["id"])
    assert hub.http.get(f"{hub.url}/q/{token}/state", timeout=5).json()["number"] == "R001"
    assert requests.get(f"{hub.board_url}/queue", timeout=5).status_code == 403
    state = requests.get(f"{hub.board_url}/q/{token}/state", timeout=5).json()
    assert set(state) >= {"number", "service_ar", "service_en", "state", "people_ahead",
                          "estimated_wait_minutes", "counter", "postponed",
                          "can_have_more_time", "more_time_places"}
    assert "id" not in state and "priority" not in state  # nothing more than the page shows


# --- "text me when my turn is near" -----------------------------------------------------------
def test_the_sms_card_asks_consent_checks_the_number_and_subscribes(hub, browser, office,
                                                                   clock):
    office.settings.messages.gateway = "simulated"  # the office sends messages
    tickets = take(office, 6, clock)
    mine = tickets[5]
    page = follow(browser, hub, mine)
    page.wait_for_selector("#sms:not([hidden])")
    assert page.inner_text("#sms-title") == "أرسل لي رسالة عند اقتراب دوري"
    # Bad input, each refused with a clear word and nothing recorded: no consent ticked...
    page.fill("#sms-number", "36001234")
    page.click("#sms-send")
    assert page.inner_text("#sms-error") == "يرجى تأكيد الموافقة على تلقي الرسائل أولًا."
    # ...and a number in a wrong format (the server's check).
    page.fill("#sms-number", "12-34")
    page.check("#sms-consent")
    page.click("#sms-send")
    page.wait_for_function("window.phoneTest.replies.some(r => r.what === 'sms')")
    assert page.evaluate("window.phoneTest.replies.at(-1)") == \
        {"what": "sms", "status": 422, "reason": "not_phone"}
    assert "رقم الهاتف غير صحيح" in page.inner_text("#sms-error")
    assert office.messages.subscription_of_ticket(mine["id"]) is None
    assert office.store.one("SELECT COUNT(*) AS n FROM message_consents")["n"] == 0
    # A good number: consent recorded as given on the phone, the number shown back masked.
    page.fill("#sms-number", "36001234")
    page.click("#sms-send")
    page.wait_for_selector("#sms-done:not([hidden])")
    assert "+973*****234" in page.inner_text("#sms-done")
    assert page.is_hidden("#sms-form")
    sub = office.messages.subscription_of_ticket(mine["id"])
    assert (sub["number"], sub["language"]) == ("+97336001234", "ar")
    consent = office.messages.consent_of("36001234")
    assert (consent["channel"], consent["given_by"]) == ("phone", "phone")
    shoot(page, "phone-sms-ar")
    # The whole number never travels back to the page.
    state = requests.get(f"{hub.board_url}/q/{office.follow.token(mine['id'])}/sms",
                         timeout=5).json()
    assert state == {"offered": True, "number": "+973*****234", "near_threshold": 3}


def test_the_sms_card_is_absent_where_the_office_sends_no_messages(hub, browser, office,
                                                                  clock):
    assert office.settings.messages.gateway == "none"
    mine = take(office, 2, clock)[1]
    page = follow(browser, hub, mine)
    assert page.evaluate("window.phoneTest.state.sms_offered") is False
    assert page.is_hidden("#sms")
    # And the route refuses it: a page cannot subscribe where nothing would be sent.
    reply = requests.post(f"{hub.board_url}/q/{office.follow.token(mine['id'])}/sms",
                          json={"number": "36001234", "consent": True},
                          headers={"X-Nafitha-Follow": "1"}, timeout=5)
    assert (reply.status_code, reply.json()["reason"]) == (409, "messages_off")


def test_subscribing_needs_the_pages_header_and_ticked_consent(hub, office, clock):
    office.settings.messages.gateway = "simulated"
    mine = take(office, 2, clock)[1]
    url = f"{hub.board_url}/q/{office.follow.token(mine['id'])}/sms"
    body = {"number": "36001234", "consent": True}
    assert requests.post(url, json=body, timeout=5).status_code == 403
    reply = requests.post(url, json={**body, "consent": False},
                          headers={"X-Nafitha-Follow": "1"}, timeout=5)
    assert (reply.status_code, reply.json()["reason"]) == (422, "consent_required")
    token = office.follow.token(mine["id"])
    forged = url.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert requests.post(forged, json=body, headers={"X-Nafitha-Follow": "1"},
                         timeout=5).status_code == 403
    assert office.messages.subscription_of_ticket(mine["id"]) is None
