"""The display board page in a real browser: Debian's Chromium, driven by Playwright, against
a real hub (uvicorn on loopback) over the test's office.

Pairing through the page's form, a call on the board within a second and its announcement,
waiting counts, screenshots in both languages (NAFITHA_WRITE_SCREENSHOTS=1 writes them to
docs/screenshots/board/), memory and DOM size over 1500 calls, and the board reconnecting by
itself after the hub restarts."""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import pytest

from playwright import sync_api

from board_browser import ARGS, CHROMIUM
from hubrig import RunningHub

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "board"
RES = "residence-certificate"
COOKIE = "nafitha_board"
READY = "window.boardTest && window.boardTest.renders > 0 && window.boardTest.connected"

@pytest.fixture(scope="module")
def playwright():
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright, tmp_path):
    """A fresh Chromium profile per test (no cookie survives), a TV-sized window. The pages'
    Content-Security-Policy is bypassed here only because Playwright's wait_for_function
    evaluates its predicate as a string; test_the_pages_work_under_their_own_policy runs
    them with it enforced."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
        viewport={"width": 1920, "height": 1080}, locale="ar-BH", bypass_csp=True)
    context.set_default_timeout(10_000)
    errors = []
    context.on("weberror", lambda error: errors.append(error.error))
    yield context
    context.close()
    assert errors == []  # no uncaught exception in the page's scripts


def open_board(browser, hub, lang: str = "ar", name: str = "hall"):
    """A paired board (its cookie set directly) showing the live board."""
    browser.add_cookies([{"name": COOKIE, "value": hub.token("board", name), "url": hub.board_url}])
    page = browser.pages[0] if browser.pages else browser.new_page()
    response = page.goto(f"{hub.board_url}/board?lang={lang}")
    assert response.status == 200
    page.wait_for_function(READY)
    return page


def wait_for_marker(page, office, timeout=10_000):
    """The board has drawn the queue as it is now."""
    page.wait_for_function("m => window.boardTest.marker === m", arg=office.queue.change_marker(),
                           timeout=timeout)


def shown_numbers(page) -> list[str]:
    return page.evaluate("""() => [document.getElementById('hero-number'),
        ...document.querySelectorAll('#others .number')]
        .map(e => e.textContent).filter(Boolean)""")


def waiting_counts(page) -> dict:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#waiting li')]
        .map(li => [li.querySelector('.prefix').textContent,
                    li.querySelector('.count').textContent]))""")


# --- pairing -----------------------------------------------------------------------------------
def pair_through_form(page, hub, code: str):
    response = page.goto(f"{hub.board_url}/board")
    assert response.status == 401
    page.fill("#code", code)
    page.click("#pair-button")


def board_cookie(browser) -> dict | None:
    return next((c for c in browser.cookies() if c["name"] == COOKIE), None)


def test_a_board_pairs_through_the_pairing_page(hub, browser):
    page = browser.new_page()
    pair_through_form(page, hub, hub.pair_code("board", "hall"))
    page.wait_for_function(READY)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    cookie = board_cookie(browser)
    assert cookie and cookie["httpOnly"] and cookie["value"].startswith("nfh_")
    assert COOKIE not in page.evaluate("document.cookie")  # the token never reaches scripts
    assert hub.devices.get("hall")["paired_at"] is not None
    page.reload()
    page.wait_for_function(READY)  # the cookie keeps the board paired


def test_a_wrong_or_expired_code_shows_why_and_sets_no_cookie(hub, browser, clock, tmp_path):
    page = browser.new_page()
    pair_through_form(page, hub, "ABCD-EFGH")
    page.wait_for_selector("#pair-error", state="visible")
    assert page.get_attribute("#pair-error", "data-reason") == "pairing_code"
    text = page.inner_text("#pair-error")
    assert "الرمز غير صحيح" in text and "That code is wrong" in text
    page.screenshot(path=str(tmp_path / "pair-error.png"))

    code = hub.pair_code("board", "hall")
    clock.advance(hours=2)
    page.fill("#code", code)
    page.click("#pair-button")
    page.wait_for_function("document.getElementById('pair-error').dataset.reason === "
                           "'pairing_expired'")
    assert "انتهت صلاحية" in page.inner_text("#pair-error")
    assert board_cookie(browser) is None
    assert page.evaluate("location.pathname") == "/board"  # no reload: still the form


def test_a_kiosk_code_is_refused_on_the_board(hub, browser):
    page = browser.new_page()
    page.goto(f"{hub.board_url}/board?lang=en")
    assert page.evaluate("document.documentElement.dir") == "ltr"
    page.fill("#code", hub.pair_code("kiosk", "kiosk-1"))
    page.click("#pair-button")
    page.wait_for_selector("#pair-error", state="visible")
    assert page.get_attribute("#pair-error", "data-reason") == "not_a_board"
    assert "not a board" in page.inner_text("#pair-error")
    assert board_cookie(browser) is None


# --- calls -------------------------------------------------------------------------------------
def test_a_call_is_on_the_board_within_a_second_and_announced(hub, browser, office, clock):
    tickets = [office.queue.take_ticket(RES) for _ in range(5)]
    page = open_board(browser, hub)
    latencies = []
    for i, ticket in enumerate(tickets):
        clock.advance(30)
        started = time.monotonic()
        office.queue.call_next("3")
        page.wait_for_function("n => document.getElementById('hero-number').textContent === n",
                               arg=ticket["number"], timeout=5_000, polling=10)
        latencies.append(time.monotonic() - started)
    print(f"\ncall -> board latency (s): {', '.join(f'{t:.3f}' for t in latencies)}; "
          f"median {statistics.median(latencies):.3f}, max {max(latencies):.3f}")
    assert max(latencies) < 1.0
    assert shown_numbers(page)[:2] == [tickets[-1]["number"], tickets[-2]["number"]]
    assert page.inner_text("#hero-counter") == "الشباك 3"

    first = tickets[0]["number"]
    ar, en = f"التذكرة {first}، الشباك 3", f"Ticket {first}, counter 3"
    page.wait_for_function("t => t.every(x => window.boardTest.announced.includes(x))",
                           arg=[ar, en], timeout=20_000)
    last = tickets[-1]
    spoken = f"Ticket {last['number']}, counter 3"
    page.wait_for_function("t => window.boardTest.announced.includes(t)", arg=spoken,
                           timeout=20_000)

    office.queue.recall(last["id"], "3")  # the same ticket again: announced again, flashing
    page.wait_for_function("t => window.boardTest.announced.filter(x => x === t).length === 2",
                           arg=spoken, timeout=20_000)
    assert page.evaluate("t => window.boardTest.announced.filter(x => x === t).length",
                         f"التذكرة {last['number']}، الشباك 3") == 2
    assert page.evaluate("document.getElementById('hero-call').classList.contains('flash')")


def test_a_tap_enables_the_chime_and_speech_still_follows(hub, browser, office):
    page = open_board(browser, hub)
    assert page.is_visible("#sound")  # audio is locked until someone taps the screen
    assert page.evaluate("window.boardTest.sound") == "suspended"
    page.click("#sound")
    page.wait_for_selector("#sound", state="hidden")
    page.wait_for_function("window.boardTest.sound === 'running'")
    ticket = office.queue.take_ticket(RES)
    office.queue.call_next("3")
    page.wait_for_function("t => t.every(x => window.boardTest.announced.includes(x))",
                           arg=[f"التذكرة {ticket['number']}، الشباك 3",
                                f"Ticket {ticket['number']}, counter 3"], timeout=20_000)


def test_english_board_and_arabic_digits(hub, browser, office):
    office.queue.take_ticket(RES)
    page = open_board(browser, hub, lang="en")
    office.queue.call_next("12")
    page.wait_for_function("document.getElementById('hero-number').textContent === 'R001'")
    assert page.evaluate("document.documentElement.dir") == "ltr"
    assert page.inner_text("#hero-counter") == "Counter 12"
    assert page.inner_text("#hero-counter-other") == "الشباك 12"  # Latin digits on an en page

    office.settings.office.digits = "arabic"
    page.goto(f"{hub.board_url}/board?lang=ar")
    office.queue.take_ticket(RES)  # a change: a fresh snapshot with the new setting
    wait_for_marker(page, office)
    assert page.inner_text("#hero-number") == "R٠٠١"
    assert page.inner_text("#hero-counter") == "الشباك ١٢"
    assert waiting_counts(page)["R"] == "١"


def test_waiting_counts_follow_tickets_taken(hub, browser, office):
    page = open_board(browser, hub)
    assert set(waiting_counts(page).values()) == {"0"}
    assert len(waiting_counts(page)) == len(office.catalog)
    for _ in range(3):
        office.queue.take_ticket(RES)
    office.queue.take_ticket("excavation-permit")
    page.wait_for_function("""() => {
        const c = Object.fromEntries([...document.querySelectorAll('#waiting li')]
            .map(li => [li.querySelector('.prefix').textContent,
                        li.querySelector('.count').textContent]));
        return c.R === '3' && c.E === '1'; }""", timeout=3_000)
    office.queue.call_next("1")
    page.wait_for_function("""() => [...document.querySelectorAll('#waiting li')].some(li =>
        li.querySelector('.prefix').textContent === 'R' &&
        li.querySelector('.count').textContent === '2')""", timeout=3_000)


# --- screenshots -------------------------------------------------------------------------------
def realistic_queue(office, clock):
    """Tickets waiting for several services, three counters serving, a few called earlier."""
    plan = {RES: 9, "address-form": 4, "building-permit-small": 3, "excavation-permit": 1,
            "road-works-permit": 2, "building-land-tax": 6}
    for service, n in plan.items():
        for _ in range(n):
            office.queue.take_ticket(service)
            clock.advance(20)
    desks = {"1": [RES], "2": ["address-form", "building-permit-small"],
             "3": ["building-land-tax", "road-works-permit"]}
    for counter in ("1", "2", "3", "1", "3"):  # called and finished: "recently called"
        clock.advance(90)
        ticket = office.queue.call_next(counter, desks[counter])
        clock.advance(60)
        office.queue.finish(ticket["id"])
    for counter in ("2", "3", "1"):  # now at the counters; counter 1 called last
        clock.advance(45)
        office.queue.call_next(counter, desks[counter])


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_board_screenshots(hub, browser, office, clock, lang, tmp_path):
    realistic_queue(office, clock)
    page = open_board(browser, hub, lang=lang)
    wait_for_marker(page, office)
    page.evaluate("document.getAnimations().forEach(a => a.finish())")  # no half-blink
    out = SCREENSHOTS if os.environ.get("NAFITHA_WRITE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"board-{lang}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 20_000
    assert len(shown_numbers(page)) == 3
    # Every call as it happened: the 3 at the counters now and the 5 finished before them.
    assert page.evaluate("document.querySelectorAll('#recent li:not([hidden])').length") == 8
    # Mirrored: in Arabic "now serving" is on the right, in English on the left.
    box = page.locator("section.now").bounding_box()
    recent = page.locator("section.recent").bounding_box()
    assert (box["x"] > recent["x"]) == (lang == "ar")
    assert fits(page) == []


def fits(page) -> list[str]:
    """What spills out of its box (nothing should): every call, row and service tile lies
    inside its panel and is not wider than itself; the newest call lies inside its area."""
    return page.evaluate("""() => {
        const out = [];
        const inside = (inner, outer, what) => {
            const a = inner.getBoundingClientRect(), b = outer.getBoundingClientRect();
            if (a.width && (a.left < b.left - 1 || a.right > b.right + 1 ||
                            a.top < b.top - 1 || a.bottom > b.bottom + 1)) out.push(what);
        };
        for (const li of document.querySelectorAll('#others li, #recent li, #waiting li')) {
            if (li.hidden) continue;
            inside(li, li.closest('section'), 'outside: ' + li.textContent);
            if (li.scrollWidth > li.clientWidth + 1) out.push('cut: ' + li.textContent);
        }
        const hero = document.getElementById('hero');
        for (const id of ['hero-call', 'hero-service']) inside(document.getElementById(id), hero, id);
        inside(hero, hero.closest('section'), 'hero');
        const top = document.querySelector('.top');
        if (top.scrollWidth > top.clientWidth + 1) out.push('header');
        return out; }""")


def test_a_full_board_still_fits(hub, browser, office, clock, tmp_path):
    """Ten calls at counters with long names, eight recent, a long office name: the newest
    call shrinks to fit, nothing is cut off."""
    office.settings.office.name_en = "Muharraq Municipal Services Centre, Block 204"
    for i in range(30):
        office.queue.take_ticket(RES if i % 2 else "building-land-tax")
    for i in range(8):
        clock.advance(30)
        office.queue.finish(office.queue.call_next(str(i + 1))["id"])
    for i in range(10):
        clock.advance(30)
        office.queue.call_next(f"Desk-{i + 10}")
    for lang in ("ar", "en"):
        page = open_board(browser, hub, lang=lang)
        wait_for_marker(page, office)
        page.evaluate("document.getAnimations().forEach(a => a.finish())")
        page.screenshot(path=str(tmp_path / f"full-{lang}.png"))
        assert len(shown_numbers(page)) == 10
        assert page.evaluate("document.querySelectorAll('#recent li:not([hidden])').length") == 8
        assert fits(page) == [], lang


# --- a long day --------------------------------------------------------------------------------
def page_metrics(page, cdp) -> dict:
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.collectGarbage")
    heap = cdp.send("Runtime.getHeapUsage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {"heap": heap["usedSize"], "nodes": page.evaluate(
        "document.getElementsByTagName('*').length"), "listeners": metrics["JSEventListeners"],
        "dom_nodes": metrics["Nodes"], "renders": page.evaluate("window.boardTest.renders"),
        "announced": page.evaluate("window.boardTest.announced.length")}


def calls(office, clock, n: int, services=(RES, "address-form", "excavation-permit")):
    for i in range(n):
        service = services[i % len(services)]
        office.queue.take_ticket(service)
        clock.advance(5)
        ticket = office.queue.call_next(str(1 + i % 6), [service])
        office.queue.finish(ticket["id"])


def test_memory_and_dom_stay_flat_over_1500_calls(hub, browser, office, clock):
    page = open_board(browser, hub)
    cdp = browser.new_cdp_session(page)
    cdp.send("Performance.enable")
    calls(office, clock, 100)
    wait_for_marker(page, office)
    before = page_metrics(page, cdp)
    started = time.monotonic()
    for _ in range(70):
        calls(office, clock, 20)
        time.sleep(0.06)  # pace: the hub's poller sends the board a picture per batch
    wait_for_marker(page, office, timeout=20_000)
    after = page_metrics(page, cdp)
    print(f"\nboard over 1500 calls ({time.monotonic() - started:.1f} s): before {before}, "
          f"after {after}")
    assert after["renders"] > before["renders"] + 50
    assert after["heap"] < before["heap"] * 1.5 + 2_000_000
    assert abs(after["nodes"] - before["nodes"]) <= 3
    assert after["listeners"] <= before["listeners"] + 3
    assert after["announced"] <= 50


# --- the hub restarts --------------------------------------------------------------------------
def test_the_board_reconnects_after_the_hub_restarts(hub, browser, office, clock,
                                                    tmp_path):
    office.queue.take_ticket(RES)
    ticket = office.queue.take_ticket(RES)
    page = open_board(browser, hub)
    assert page.is_hidden("#reconnecting")
    port, board_port = hub.port, hub.board_port
    hub.stop()
    page.wait_for_function("!window.boardTest.connected", timeout=10_000)
    page.wait_for_selector("#reconnecting", state="visible", timeout=5_000)
    page.screenshot(path=str(tmp_path / "reconnecting.png"))
    renders = page.evaluate("window.boardTest.renders")
    again = RunningHub(office, port=port, board_port=board_port)
    try:
        page.wait_for_function(READY, timeout=10_000)
        page.wait_for_function("r => window.boardTest.renders > r", arg=renders)
        office.queue.call_next("2")
        clock.advance(30)
        office.queue.call_next("2")
        started = time.monotonic()
        page.wait_for_function("n => document.getElementById('hero-number').textContent === n",
                               arg=ticket["number"], timeout=5_000)
        assert time.monotonic() - started < 3
        assert page.is_hidden("#reconnecting")
        assert page.evaluate("location.pathname") == "/board"
    finally:
        again.stop()


def test_the_pages_work_under_their_own_policy(hub, playwright, tmp_path):
    """With the Content-Security-Policy enforced (no inline script, nothing from elsewhere),
    the pairing form and the board still work, and the browser reports no violation."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "strict-profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
        viewport={"width": 1920, "height": 1080}, locale="ar-BH")
    context.set_default_timeout(10_000)
    console = []
    try:
        page = context.new_page()
        page.on("console", lambda message: console.append(message.text))
        reply = page.goto(f"{hub.board_url}/board?lang=en")
        assert "default-src 'self'" in reply.headers["content-security-policy"]
        page.wait_for_selector("html[dir='ltr'][lang='en']", state="attached")  # lang.js ran
        page.fill("#code", "ABCD-EFGH")
        page.click("#pair-button")  # pair.js answers with the reason
        page.wait_for_selector("#pair-error[data-reason='pairing_code']", state="visible")
        hub.office.queue.take_ticket("R")
        hub.office.queue.call_next("1")
        context.add_cookies([{"name": COOKIE, "value": hub.token("board", "hall"),
                              "url": hub.board_url}])
        page.goto(f"{hub.board_url}/board")
        page.wait_for_selector("html[dir='rtl'][lang='ar']", state="attached")
        page.wait_for_selector("#hero-number >> text=R001")  # board.js drew the call
    finally:
        context.close()
    assert not [m for m in console if "Content Security Policy" in m], console
