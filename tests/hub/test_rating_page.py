"""The counter's rating screen in a real browser: Debian's Chromium, driven by Playwright, at
tablet size, against a real hub (uvicorn on loopback; the page on the plain-HTTP listener
as a tablet opens it) over the test's office (hub/rating.py, docs/ratings.md).

Pairing through the page's form; a clerk finishes a ticket -> the screen asks -> a tap on 4
stores the rating (row, event) -> thanks -> clears; a second tap refused; another counter's
visit neither asked nor rateable with this screen's token; bad ratings over HTTP change
nothing; the question ends with the next call and with the window; screenshots in Arabic
and English (looked at); axe-core clean; the page works under its own CSP."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from axe_check import axe_violations
from board_browser import ARGS, CHROMIUM
from playwright import sync_api

from core.ratings import RATE_WITHIN_S

RES = "residence-certificate"
COOKIE = "nafitha_rating"
TABLET = {"width": 1280, "height": 800}
READY = "window.ratingTest && window.ratingTest.renders > 0 && window.ratingTest.connected"
SHOTS = Path(os.environ.get("NAFITHA_SHOTS", "/tmp/shots-h6"))


@pytest.fixture(scope="module")
def playwright():
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright, tmp_path):
    """A fresh profile per test, tablet-sized; CSP bypassed only for wait_for_function's
    string predicates (test_the_page_works_under_its_own_policy runs with it enforced)."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
        viewport=TABLET, locale="ar-BH", bypass_csp=True, has_touch=True)
    context.set_default_timeout(10_000)
    errors = []
    context.on("weberror", lambda error: errors.append(error.error))
    yield context
    context.close()
    assert errors == []  # no uncaught exception in the page's scripts


def screen_token(hub, name="rate-3", counter="3") -> str:
    return hub.devices.redeem(hub.devices.create_pairing("rating", name, counter=counter)
                              ["code"])[1]


def open_screen(browser, hub, lang="ar", counter="3", token=None):
    token = token or screen_token(hub, f"rate-{counter}", counter)
    browser.add_cookies([{"name": COOKIE, "value": token, "url": hub.board_url}])
    page = browser.pages[0] if browser.pages else browser.new_page()
    response = page.goto(f"{hub.board_url}/rating?lang={lang}")
    assert response.status == 200
    page.wait_for_function(READY)
    return page


def finish_a_visit(office, clock, counter="3", service=RES) -> dict:
    """A resident's ticket called, served and finished at `counter` (the clerk's steps)."""
    office.queue.take_ticket(service)
    clock.advance(60)
    ticket = office.queue.call_next(counter, [service])
    office.queue.start_serving(ticket["id"])
    clock.advance(180)
    return office.queue.finish(ticket["id"])


def asks_about(page, ticket, timeout=5_000):
    page.wait_for_function("t => window.ratingTest.view === 'ask' && "
                           "window.ratingTest.asking === t", arg=ticket["id"], timeout=timeout)


def post_rating(page, ticket_id, rating) -> dict:
    """POST /rating/rate from the page itself (its cookie, its origin): {status, body}."""
    return page.evaluate("""async ([ticket, rating]) => {
        const r = await fetch('/rating/rate', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({ticket, rating})});
        return {status: r.status, body: await r.json()}; }""", [ticket_id, rating])


def rated_events(office) -> list[dict]:
    return [json.loads(r[0])["data"] for r in office.store.conn.execute(
        "SELECT body FROM outbox WHERE type = 'ticket.rated' ORDER BY seq")]


def shoot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.evaluate("document.getAnimations().forEach(a => a.finish())")
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    return path


# --- pairing -------------------------------------------------------------------------------
def test_a_rating_screen_pairs_through_its_form(hub, browser, office, settings):
    """The operator pairs it with the CLI (`nafitha hub pair rating NAME --counter 3`) and
    types the code into the page."""
    from click.testing import CliRunner

    from nafitha.cli import cli
    base = ["--data", str(settings.data_dir), "hub", "pair", "rating", "rate-3"]
    out = CliRunner().invoke(cli, base)
    assert out.exit_code == 1 and "needs its counter" in out.output  # no --counter: refused
    out = CliRunner().invoke(cli, base + ["--counter", "3", "--json"])
    assert out.exit_code == 0, out.output
    code = json.loads(out.output)["code"]
    assert "/rating" in CliRunner().invoke(cli, base + ["--counter", "3"]).output
    listed = CliRunner().invoke(cli, ["--data", str(settings.data_dir), "hub", "devices"])
    assert re.search(r"rating\s+rate-3\s+waiting for its code faces counter 3", listed.output)
    page = browser.new_page()
    response = page.goto(f"{hub.board_url}/rating")
    assert response.status == 401
    page.fill("#code", code)
    page.click("#pair-button")
    page.wait_for_function(READY)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    cookie = next(c for c in browser.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert COOKIE not in page.evaluate("document.cookie")  # the token never reaches scripts
    assert page.inner_text("#counter-ar") == "الشباك 3"
    assert page.evaluate("window.ratingTest.view") == "idle"


def test_another_devices_code_is_spent_and_refused(hub, browser, office, tmp_path):
    page = browser.new_page()
    page.goto(f"{hub.board_url}/rating?lang=en")
    page.fill("#code", hub.pair_code("board", "hall"))
    page.click("#pair-button")
    page.wait_for_selector("#pair-error", state="visible")
    assert page.get_attribute("#pair-error", "data-reason") == "not_a_rating_screen"
    assert "not a rating screen" in page.inner_text("#pair-error")
    assert not [c for c in browser.cookies() if c["name"] == COOKIE]
    assert hub.devices.list() == []  # the board's code was spent and its device revoked
    assert axe_violations(page) == []
    shoot(page, "pair-error-en")


def test_the_screens_token_renews_itself_in_use(hub, browser, office, clock):
    """A screen runs for months: past half its token's life, the page's state check gets a
    new cookie (the old token works a short while more), and the screen keeps asking."""
    page = open_screen(browser, hub)
    before = next(c for c in browser.cookies() if c["name"] == COOKIE)["value"]
    clock.advance(days=office.settings.hub.token_days // 2 + 1)
    assert page.evaluate("""async () => (await fetch('/rating/state',
        {credentials: 'same-origin'})).status""") == 200
    after = next(c for c in browser.cookies() if c["name"] == COOKIE)
    assert after["value"] != before and after["httpOnly"]
    assert hub.devices.authenticate(after["value"], ("rating",))["counter"] == "3"
    clock.advance(days=office.settings.hub.token_days // 2 + 1)  # the first token has expired
    page.reload()
    page.wait_for_function(READY)
    ticket = finish_a_visit(office, clock)
    asks_about(page, ticket)


# --- a visit rated ---------------------------------------------------------------------------
def test_a_finished_visit_is_asked_rated_with_a_tap_and_cleared(hub, browser, office, clock):
    page = open_screen(browser, hub)
    assert page.evaluate("window.ratingTest.view") == "idle"
    ticket = finish_a_visit(office, clock, counter="3")
    asks_about(page, ticket)
    assert page.inner_text("#ticket-ar") == f"التذكرة {ticket['number']}"
    assert page.is_visible("#rate-4")
    assert axe_violations(page) == []

    page.tap("#rate-4")
    page.wait_for_function("window.ratingTest.view === 'thanks'")
    assert page.evaluate("window.ratingTest.replies") == [{"status": 200, "reason": None}]
    stored = office.ratings.of_ticket(ticket["id"])
    assert (stored["rating"], stored["counter"], stored["service_code"]) == (4, "3", RES)
    assert rated_events(office) == [{"id": ticket["id"], "rating": 4, "counter": "3",
                                     "service_code": RES}]
    assert "شكرًا لك" in page.inner_text("#view-thanks")
    assert axe_violations(page) == []

    # A second tap: the faces are gone and the hub refuses it anyway; nothing changes.
    page.evaluate("document.getElementById('rate-1').click()")
    again = post_rating(page, ticket["id"], 1)
    assert again["status"] == 409 and again["body"]["reason"] == "already_rated"
    assert office.ratings.of_ticket(ticket["id"])["rating"] == 4
    assert len(rated_events(office)) == 1
    page.wait_for_function("window.ratingTest.view === 'idle'", timeout=10_000)  # thanks ends
    assert len(page.evaluate("window.ratingTest.replies")) == 1  # the late tap sent nothing


def test_only_its_own_counters_visits_and_whole_ratings(hub, browser, office, clock):
    page = open_screen(browser, hub, counter="3")
    elsewhere = finish_a_visit(office, clock, counter="4")
    mine = finish_a_visit(office, clock, counter="3")
    asks_about(page, mine)  # counter 4's finish came first and was never asked here
    refused = post_rating(page, elsewhere["id"], 5)
    assert refused["status"] == 403 and refused["body"]["reason"] == "other_counter"
    for bad in (0, 6, "4", 4.5, None):
        reply = post_rating(page, mine["id"], bad)
        assert reply["status"] == 422 and reply["body"]["field"] == "rating", bad
    # A form another site could post (text/plain, no preflight) is not read as a rating.
    status = page.evaluate("""async t => (await fetch('/rating/rate', {method: 'POST',
        credentials: 'same-origin', headers: {'Content-Type': 'text/plain'},
        body: JSON.stringify({ticket: t, rating: 5})})).status""", mine["id"])
    assert status == 422
    assert office.ratings.of_ticket(elsewhere["id"]) is None
    assert office.ratings.of_ticket(mine["id"]) is None and rated_events(office) == []
    # A board's token does not open the rating routes.
    board = hub.client(hub.token("board", "hall"))
    reply = board.post(f"{hub.url}/rating/rate", json={"ticket": mine["id"], "rating": 5})
    assert reply.status_code == 403 and reply.json()["reason"] == "role"
    assert office.ratings.of_ticket(mine["id"]) is None


def test_the_next_call_and_the_window_end_the_question(hub, browser, office, clock):
    page = open_screen(browser, hub)
    first = finish_a_visit(office, clock)
    asks_about(page, first)
    office.queue.take_ticket(RES)
    called = office.queue.call_next("3")  # the next resident comes to the counter
    page.wait_for_function("window.ratingTest.view === 'idle'", timeout=5_000)

    clock.advance(120)
    second = office.queue.finish(called["id"])
    clock.advance(RATE_WITHIN_S - 2)  # two seconds of the window left when the page looks
    page.reload()
    page.wait_for_function(READY)
    asks_about(page, second)
    page.wait_for_function("window.ratingTest.view === 'idle'", timeout=6_000)
    clock.advance(3)
    late = post_rating(page, second["id"], 5)
    assert late["status"] == 409 and late["body"]["reason"] == "rating_closed"
    assert office.ratings.of_ticket(second["id"]) is None


# --- how it looks ----------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_screenshots_in_both_languages(hub, browser, office, clock, lang):
    office.settings.office.name_en = "Muharraq Municipal Services Centre"
    page = open_screen(browser, hub, lang=lang, counter="Desk-12")
    shoot(page, f"rating-idle-{lang}")
    ticket = finish_a_visit(office, clock, counter="Desk-12", service="building-permit-small")
    asks_about(page, ticket)
    shoot(page, f"rating-ask-{lang}")
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
    # Mirrored: in Arabic face 1 is on the right, in English on the left.
    one, five = (page.locator(f"#rate-{n}").bounding_box() for n in (1, 5))
    assert (one["x"] > five["x"]) == (lang == "ar")
    assert fits(page) == []
    assert axe_violations(page) == []
    page.click("#rate-5")
    page.wait_for_function("window.ratingTest.view === 'thanks'")
    shoot(page, f"rating-thanks-{lang}")
    assert fits(page) == []


def fits(page) -> list[str]:
    """What spills out of the window or its box (nothing should)."""
    return page.evaluate("""() => {
        const out = [], W = innerWidth, H = innerHeight;
        for (const el of document.querySelectorAll('.face, .view h1, .view p, .top .bi')) {
            const r = el.getBoundingClientRect();
            if (!r.width) continue;
            if (r.left < -1 || r.right > W + 1 || r.top < -1 || r.bottom > H + 1)
                out.push('outside: ' + el.textContent.trim().slice(0, 30));
            if (el.scrollWidth > el.clientWidth + 1) out.push('cut: ' + el.textContent.trim().slice(0, 30));
        }
        return out; }""")


def test_the_page_works_under_its_own_policy(hub, playwright, office, clock, tmp_path):
    """With the Content-Security-Policy enforced, the screen asks and a tap is stored, and
    the browser reports no violation."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "strict-profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
        viewport=TABLET, locale="ar-BH")
    context.set_default_timeout(10_000)
    console = []
    try:
        context.add_cookies([{"name": COOKIE, "value": screen_token(hub), "url": hub.board_url}])
        page = context.new_page()
        page.on("console", lambda message: console.append(message.text))
        reply = page.goto(f"{hub.board_url}/rating")
        assert "default-src 'self'" in reply.headers["content-security-policy"]
        page.wait_for_selector("#view-idle", state="visible")
        page.wait_for_selector("#counter-ar >> text=الشباك 3")  # rate.js drew the state
        ticket = finish_a_visit(office, clock)
        page.wait_for_selector("#rate-2", state="visible")
        page.click("#rate-2")
        page.wait_for_selector("#view-thanks", state="visible")
        assert office.ratings.of_ticket(ticket["id"])["rating"] == 2
    finally:
        context.close()
    assert not [m for m in console if "Content Security Policy" in m], console
