"""The kiosk when something is wrong, and its kiosk mode: faults said plainly with the
resident's work kept, touch targets of at least 15 mm, and no way out without staff."""
from __future__ import annotations

import re

import pytest

from core.users import hash_pin
from testing.pilot_client import PilotError
from ui.theme import MIN_TOUCH_MM, mm_to_px

from kiosk_rig import PERSON, KioskRig

pytestmark = pytest.mark.ui

ARABIC = re.compile("[\u0600-\u06ff]")
RESIDENCE = ["208", "2811", "1234"]
ADMIN_PIN = "2468"
MIN_TOUCH_PX = mm_to_px(MIN_TOUCH_MM, 92.0)


def apply_and_pay(rig):
    person = PERSON[rig.lang]
    p = rig.pilot
    p.tap("home:apply")
    rig.wait_screen("services")
    p.tap("service:residence-certificate")
    rig.wait_screen("service")
    p.tap("start_form")
    rig.fill_form([person["full_name"], person["national_id"], person["phone"], *RESIDENCE])
    rig.wait_screen("review")
    p.tap("pay_now")
    return rig.wait_screen("result", timeout_s=40)


def test_printer_out_of_paper_keeps_the_licence_and_sends_the_resident_to_the_counter(
        xvfb_display, tmp_path):
    with KioskRig(tmp_path, lang="ar", printer_state="paper_out") as rig:
        state = apply_and_pay(rig)
        assert state["flags"]["printed"] is False
        assert "الموظف" in state["texts"]["printed"]  # "see the counter"
        assert ARABIC.search(state["chrome"]["fault"])
        office = rig.office()
        licence = office.licences.get(state["texts"]["number"])
        assert licence["signed_payload"].startswith("NF1:")
        jobs = office.printing.jobs()
        assert [j["state"] for j in jobs if j["kind"] == "licence"] == ["failed"], \
            "the job must not print later for the next resident"
        assert rig.printer.jobs == []
        # Paper back: the counter reprints it (marked COPY).
        rig.printer.state = "ok"
        copy = office.printing.reprint_licence(licence["number"], "paper ran out at the kiosk")
        assert copy["print_job"]["copy"] == 1 and copy["reprint_count"] == 1


def test_camera_unavailable_is_said_plainly_with_another_way_to_check(xvfb_display, tmp_path):
    url = "https://verify.example.bh/licence"
    with KioskRig(tmp_path, lang="en", camera=False,
                  extra_env={"NAFITHA_LICENCE__VERIFY_URL": url}) as rig:
        rig.pilot.tap("home:verify")
        state = rig.pilot.wait_until(lambda s: s["texts"].get("camera_off"), timeout_s=15)
        assert state["scanner"] in ("no_camera", "reconnecting")
        assert "counter" in state["texts"]["camera_off"]
        # Not a black box: the phone's way in, at the check page printed on every licence.
        assert "phone" in state["texts"]["phone_way"] and rig.pilot.text("phone_url") == url
        assert state["flags"]["camera_off"] is True  # the preview folds away (verify.kv)
        assert rig.pilot.layout() == []  # and nothing is cut off or out of place
        rig.pilot.tap("back")
        assert rig.wait_screen("home")["screen"] == "home"


@pytest.fixture(scope="module")
def kiosk_mode(xvfb_display, tmp_path_factory):
    rig = KioskRig(tmp_path_factory.mktemp("kiosk-mode"), lang="ar", windowed=False,
                   extra_env={"NAFITHA_KIOSK__ADMIN_PIN_HASH": hash_pin(ADMIN_PIN)})
    with rig:
        yield rig


def test_kiosk_mode_is_fullscreen_without_cursor_and_refuses_escape_and_close(kiosk_mode):
    p = kiosk_mode.pilot
    window = p.call("window")
    assert window["fullscreen"] in ("auto", True) and window["show_cursor"] is False
    assert window["exit_on_escape"] == 0
    assert p.call("request_close") is True
    assert p.call("escape") is True
    assert kiosk_mode.state()["screen"] == "home"  # still running


def test_every_touch_target_is_at_least_15_mm_and_large_text_grows_them(kiosk_mode):
    p, rig = kiosk_mode.pilot, kiosk_mode

    def check(where):
        targets = p.call("touch_targets")
        assert targets, where
        small = [t for t in targets if min(t["width"], t["height"]) < MIN_TOUCH_PX]
        assert not small, f"{where}: under 15 mm: {small}"
        return targets

    check("home")
    p.tap("home:apply")
    rig.wait_screen("services")
    check("services")
    p.tap("service:address-form")
    rig.wait_screen("service")
    p.tap("start_form")
    normal = {t["id"]: t["height"] for t in check("form")}
    p.tap("large_text")
    large = {t["id"]: t["height"] for t in check("form, large text")}
    assert large["next"] > normal["next"] and large["key:ب"] > normal["key:ب"]
    rig.fill_form([PERSON["ar"]["full_name"], PERSON["ar"]["national_id"],
                   PERSON["ar"]["phone"]])
    check("choice field")
    p.tap("home")
    state = rig.wait_screen("home")
    assert state["large_text"] is False, "the next resident starts with normal text"


def test_staff_leave_only_with_the_hidden_gesture_and_the_admin_pin(kiosk_mode):
    """... and leaving closes the kiosk's day: its card shift, reconciled against the
    terminal's own batch report."""
    p = kiosk_mode.pilot
    apply_and_pay(kiosk_mode)  # a card payment on the kiosk's shift
    p.tap("done")
    kiosk_mode.wait_screen("home")
    for _ in range(4):
        p.tap("admin_corner")
    assert kiosk_mode.state()["admin_pad"] is False
    p.tap("admin_corner")
    assert kiosk_mode.state()["admin_pad"] is True
    p.type("1111")
    p.tap("admin_close")
    p.settle()
    assert p.text("admin_message") == "رقم غير صحيح."
    assert kiosk_mode.state()["admin_pad"] is True
    p.type(ADMIN_PIN)
    try:
        p.tap("admin_close")
    except PilotError:
        pass  # the app may close before the tap's reply
    p.proc.wait(timeout=30)
    assert p.returncode == 0
    import sqlite3
    db = sqlite3.connect(kiosk_mode.data / "nafitha.db")
    shifts = db.execute("SELECT clerk, closed_at FROM shifts").fetchall()
    checks = db.execute("SELECT card_check FROM payments WHERE method = 'card'").fetchall()
    reconciled = db.execute("SELECT COUNT(*) FROM card_reconciliations").fetchone()[0]
    db.close()
    assert len(shifts) == 1 and shifts[0][0] == "kiosk" and shifts[0][1] is not None
    assert checks == [("matched",)] and reconciled == 1
