"""A kiosk for everyone (issue 25): "a blind resident can take a ticket with the keypad and
headphones alone (tested by the recorded speech)". The real kiosk under Xvfb; the keypad is
Kivy's window key events (the pilot's "keypad"/"hold_key" calls), the headphones the
keypad's jack key (F9), and the speech engine the recording fake (NAFITHA_SPEECH=record):
each test asserts what was spoken, in which language and in what order."""
from __future__ import annotations

import time

import pytest
from kiosk_rig import KioskRig
from PIL import Image

from core.catalog import load_catalog
from ui.i18n import Translations

pytestmark = pytest.mark.ui

TR = Translations.load("kiosk")
SERVICE = "residence-certificate"


def service_name(lang: str) -> str:
    return next(s for s in load_catalog() if s.code == SERVICE).name.get(lang)


def spoken(p) -> list[tuple[str, str]]:
    return [tuple(s) for s in p.call("spoken")]


def wait_spoken(p, predicate, timeout_s: float = 20) -> list[tuple[str, str]]:
    """The recording once `predicate(recording)` holds (speech follows the next frames)."""
    deadline = time.monotonic() + timeout_s
    while True:
        said = spoken(p)
        if predicate(said):
            return said
        if time.monotonic() > deadline:
            raise AssertionError(f"speech never matched; spoken so far: {said!r}")
        time.sleep(0.1)


def key(p, name: str) -> dict:
    return p.call("keypad", name)


def focus_on(p, wanted: str, limit: int = 30) -> dict:
    """Move on (Down) until the focused control's words contain `wanted`, as a resident
    listening for it would."""
    access = p.state()["access"]
    for _ in range(limit):
        if access["focused"] and wanted in access["focused"]:
            return access
        access = key(p, "down")
    raise AssertionError(f"never focused {wanted!r}; last {access['focused']!r}")


def take_ticket_by_keypad(rig, lang: str) -> str:
    """From the start screen with the guide on: choose Take a ticket, the service, a normal
    ticket; every step by keypad and by ear. Returns the ticket number."""
    p = rig.pilot
    before = len(spoken(p))
    focus_on(p, TR.get("home.ticket", lang))
    key(p, "enter")
    services_title = TR.get("services.title_ticket", lang) \
        if "services.title_ticket" in TR.entries else ""
    said = wait_spoken(p, lambda s: len(s) > before + 1 and p.state()["screen"] != "home")
    new = said[before:]
    assert all(language == lang for _, language in new), new
    if services_title:
        assert any(services_title in text for text, _ in new), new  # the screen's title
    before = len(said)
    # Arrows until the service is heard; the last thing spoken is the focused control.
    access = focus_on(p, service_name(lang))
    said = wait_spoken(p, lambda s: s and service_name(lang) in s[-1][0])
    assert access["ring"] is not None  # the focus ring is drawn around it
    key(p, "enter")
    rig.wait_screen("priority")
    # The priority screen: its question, then the first choice (a normal ticket) focused.
    said = wait_spoken(p, lambda s: s[-1][0] == TR.get("ticket.normal", lang))
    assert TR.get("ticket.title", lang) in said[-2][0]
    # Held Enter (auto-repeat): one ticket, not twenty.
    p.call("hold_key", "enter", 20)
    state = rig.wait_screen("ticket")
    number = state["texts"]["number"]
    said = wait_spoken(p, lambda s: any(number in text for text, _ in s[-2:]))
    last = said[-2][0] if number in said[-2][0] else said[-1][0]
    assert TR.get("ticket.your_number", lang) in last and number in last
    assert last.index(TR.get("ticket.your_number", lang)) < last.index(number)
    return number


def test_a_blind_resident_takes_a_ticket_with_the_keypad_and_headphones_alone(
        xvfb_display, tmp_path):
    with KioskRig(tmp_path, lang="ar", extra_env={"NAFITHA_SPEECH": "record"}) as rig:
        p = rig.pilot
        rig.wait_screen("home")
        assert spoken(p) == []  # no guide until asked for
        tickets_before = rig.office().store.one("SELECT count(*) AS n FROM tickets")["n"]

        # Headphones plugged in: the guide starts, says how to use it, reads the screen
        # (title first) and the focused control, all in Arabic.
        access = key(p, "headphones_in")
        said = wait_spoken(p, lambda s: len(s) >= 3)
        assert said[0] == (TR.get("access.guide_started", "ar"), "ar")
        assert said[1][0].startswith(TR.get("home.welcome", "ar")) and said[1][1] == "ar"
        assert TR.get("home.prompt", "ar") in said[1][0]
        assert said[2] == (f'{TR.get("home.ticket", "ar")}. {TR.get("home.ticket_hint", "ar")}',
                           "ar")
        assert p.state()["access"]["audio_guide"] is True

        # Reading order in Arabic: the next control is the one on the left of the first row.
        access = key(p, "left")
        assert access["focused"].startswith(TR.get("home.apply", "ar")), access
        access = key(p, "right")
        assert access["focused"].startswith(TR.get("home.ticket", "ar")), access

        # A held arrow: 25 auto-repeats at once move the focus once, and say one thing.
        count = len(spoken(p))
        access = p.call("hold_key", "down", 25)
        assert len(spoken(p)) == count + 1
        assert access["focused"].startswith(TR.get("home.apply", "ar")), access
        access = key(p, "up")
        assert access["focused"].startswith(TR.get("home.ticket", "ar")), access

        number = take_ticket_by_keypad(rig, "ar")
        office = rig.office()
        ticket = office.store.one("SELECT * FROM tickets WHERE number = ?", (number,))
        assert ticket is not None and ticket["state"] == "waiting"
        assert ticket["priority"] in (None, "", "normal")
        assert office.store.one("SELECT count(*) AS n FROM tickets")["n"] == tickets_before + 1

        # Back to the start (Escape is the keypad's Back; the ticket screen's Start),
        # then the language: the same guide speaks English from then on.
        focus_on(p, TR.get("common.home", "ar"))
        key(p, "enter")
        rig.wait_screen("home")
        assert p.state()["access"]["audio_guide"] is True  # still plugged in
        before = len(spoken(p))
        focus_on(p, TR.get("common.language", "ar"))
        key(p, "enter")
        said = wait_spoken(p, lambda s: any(lang == "en" for _, lang in s[before:]))
        english = [text for text, lang in said[before:] if lang == "en"]
        assert english[0].startswith(TR.get("home.welcome", "en")), english
        # In English, Right is the reading direction.
        key(p, "down")
        access = focus_on(p, TR.get("home.ticket", "en"))
        access = key(p, "right")
        assert access["focused"].startswith(TR.get("home.apply", "en")), access
        key(p, "left")

        number_en = take_ticket_by_keypad(rig, "en")
        assert number_en != number
        assert rig.office().store.one("SELECT * FROM tickets WHERE number = ?",
                                      (number_en,)) is not None

        # Escape is Back: from the ticket to the start. Digits type into a number field
        # (each one spoken); a held 9 types one 9; Backspace deletes the last digit.
        key(p, "escape")
        rig.wait_screen("home")
        focus_on(p, TR.get("home.status", "en"))
        key(p, "enter")
        rig.wait_screen("status")
        key(p, "1")
        key(p, "2")
        p.call("hold_key", "9", 15)
        assert p.state()["visit"]["typed"] == "129"
        assert spoken(p)[-1] == ("1 2 9", "en")
        key(p, "backspace")
        assert p.state()["visit"]["typed"] == "12"

        # Unplugged: the guide stops, the keypad goes on silently.
        key(p, "headphones_out")
        assert p.state()["access"]["audio_guide"] is False
        count = len(spoken(p))
        key(p, "down")
        time.sleep(0.3)
        assert len(spoken(p)) == count


def test_no_audio_device_says_so_in_both_languages_and_the_kiosk_works_on(
        xvfb_display, tmp_path):
    cards = tmp_path / "cards"
    cards.write_text("--- no soundcards ---\n")
    with KioskRig(tmp_path, lang="ar", extra_env={"NAFITHA_SPEECH": "record",
                                                  "NAFITHA_SOUND_CARDS": str(cards)}) as rig:
        p = rig.pilot
        rig.wait_screen("home")
        p.tap("audio_guide")
        state = p.state()
        assert state["access"]["no_audio"] is True
        assert state["texts"]["no_audio"] == TR.get("access.no_audio", "ar")
        assert state["texts"]["no_audio_other"] == TR.get("access.no_audio", "en")
        shown = {i.get("id"): i.get("text") for i in p.ids()}
        assert shown.get("no_audio") == TR.get("access.no_audio", "ar")
        # High contrast from the start screen: white on black, the focus ring still yellow.
        p.tap("high_contrast")
        state = rig.wait_screen("home")
        assert state["access"]["palette"] == "high_contrast"
        key(p, "down")
        ring = p.state()["access"]["ring"]
        shot = Image.open(p.screenshot(tmp_path / "high-contrast.png")).convert("RGB")
        height = shot.height
        assert shot.getpixel((5, height - 5)) == (0, 0, 0)  # the background
        x, y = int(ring[0]) - 6, height - int(ring[1]) + 6  # just outside the control
        r, g, b = shot.getpixel((x, y - 1))
        assert r > 200 and g > 180 and b < 80, (r, g, b)  # yellow
        # Nothing is spoken, and the keypad and the screen still take a ticket.
        focus_on(p, TR.get("home.ticket", "ar"))
        key(p, "enter")
        rig.wait_screen("services")
        p.tap(f"service:{SERVICE}")
        rig.wait_screen("priority")
        p.tap("ticket:normal")
        state = rig.wait_screen("ticket")
        assert rig.office().store.one("SELECT * FROM tickets WHERE number = ?",
                                      (state["texts"]["number"],)) is not None
        assert spoken(p) == []
        # The next resident starts without the guide (headphones were never plugged in).
        p.tap("home")
        state = rig.wait_screen("home")
        assert state["access"]["audio_guide"] is False and "no_audio" not in state["texts"]
        assert state["access"]["palette"] == "standard"
