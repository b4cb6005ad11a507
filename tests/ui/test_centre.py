"""A service centre on this machine: one hub (`nafitha hub serve`, its own process), two
kiosks and two counters (the real Kivy apps under Xvfb, each its own process and data
directory, paired with `nafitha hub join`), and the display board in headless Chromium.
Residents take tickets at the kiosks, clerks call them at the counters, and the board
shows each call within a second."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from hubclient import join

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "ui"))
sys.path.insert(0, str(ROOT / "tests" / "hub"))
from counter_rig import CounterRig  # noqa: E402
from hubrig import HubProcess  # noqa: E402
from kiosk_rig import KioskRig  # noqa: E402

pytestmark = pytest.mark.ui


class OnHub:
    """A kiosk or counter rig whose app works through the hub (joined with a code)."""

    def __init__(self, rig, hub: HubProcess, code: str):
        self.rig = rig
        join(rig.data, hub.url, code)
        original = rig.argv
        rig.argv = lambda windowed=True: original(windowed) + ["--hub", hub.url]

    def __enter__(self):
        return self.rig.__enter__()

    def __exit__(self, *exc):
        return self.rig.__exit__(*exc)


def take_ticket(kiosk) -> str:
    p = kiosk.pilot
    p.tap("home:ticket")
    kiosk.wait_screen("services")
    p.tap("service:residence-certificate")
    kiosk.wait_screen("priority")
    p.tap("ticket:normal")
    state = kiosk.wait_screen("ticket", timeout_s=30)
    assert state["flags"]["printed"] is True  # its own printer, the job kept on the hub
    number = state["texts"]["number"]
    kiosk.go_home()
    return number


def board_page(browser, url: str, code: str):
    # The page's CSP is bypassed only for Playwright's wait_for_function, which evaluates its
    # predicate as a string (tests/hub/test_board.py runs the board with it enforced).
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page.goto(url + "/board")
    page.fill("#code", code)
    page.click("#pair-button")
    page.wait_for_function("window.boardTest && window.boardTest.renders > 0 && "
                           "window.boardTest.connected", timeout=15_000)
    return page


def test_two_kiosks_two_counters_and_a_board_share_one_queue(xvfb_display, tmp_path):
    from board_browser import chromium  # Debian's Chromium under Playwright (tests/hub)

    hub = HubProcess(tmp_path / "hub", users=(("sara", "clerk", "1234"),
                                              ("ali", "clerk", "4321"))).start()
    try:
        with chromium() as browser:
            board = board_page(browser, hub.board_url, hub.pair_code("board", "hall"))
            kiosks = [OnHub(KioskRig(tmp_path / f"kiosk{i}", "ar", camera=False), hub,
                            hub.pair_code("kiosk", f"kiosk-{i}")) for i in (1, 2)]
            counters = [OnHub(CounterRig(tmp_path / f"counter{i}", "en", camera=False), hub,
                              hub.pair_code("counter", str(i))) for i in (1, 2)]
            with kiosks[0] as k1, kiosks[1] as k2, counters[0] as c1, counters[1] as c2:
                first = take_ticket(k1)
                second = take_ticket(k2)
                assert (first, second) == ("R001", "R002")
                board.wait_for_function("""() => [...document.querySelectorAll('#waiting li')]
                    .some(li => li.querySelector('.prefix').textContent === 'R' &&
                                li.querySelector('.count').textContent === '2')""",
                                        timeout=5_000)

                c1.sign_in(("sara", "1234"))
                c1.pilot.keys("0")
                assert c1.enter()["screen"] == "desk"
                c2.sign_in(("ali", "4321"))
                c2.pilot.keys("0")
                assert c2.enter()["screen"] == "desk"
                # Each counter heard of both tickets without a key pressed.
                waiting = c2.pilot.wait_until(
                    lambda s: any(o["waiting"] == 2 for o in s["overview"]), timeout_s=10)
                assert waiting

                c1.pilot.press_key("f2")
                called_at = time.monotonic()
                assert c1.state()["ticket"]["number"] == first
                board.wait_for_function(
                    f"document.getElementById('hero-number').textContent === '{first}'",
                    timeout=5_000)
                latency = time.monotonic() - called_at
                c2.pilot.press_key("f2")
                assert c2.state()["ticket"]["number"] == second  # never the same ticket
                board.wait_for_function(
                    f"document.body.innerText.includes('{second}')", timeout=5_000)
                # The chime, then each call spoken in Arabic and English, in turn.
                board.wait_for_function(
                    "n => window.boardTest.announced.some(t => t.includes(n))", arg=second,
                    timeout=10_000)
                spoken = board.evaluate("window.boardTest.announced")
                assert f"التذكرة {first}، الشباك 1" in spoken
                assert f"Ticket {second}, counter 2" in spoken
                assert latency < 1.0, f"the board showed the call after {latency:.2f} s"
    finally:
        hub.stop()
