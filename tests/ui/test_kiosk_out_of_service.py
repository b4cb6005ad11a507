"""The kiosk when its disk is (nearly) full (issue 23, "Disk full"): "out of service" over every
screen, in Arabic and English, sending the resident to the counter; no payment is started it
could not record; back by itself when there is room.

The flow's part runs on the real core without a window; the app's part is the real kiosk
under Xvfb, its free-space reading played by NAFITHA_PILOT_DISK_FREE_MB and the pilot call
"disk_free_mb" (filling a real disk under the bench's data directory would need a mount
per test)."""
from __future__ import annotations

import contextlib

import pytest
from PIL import Image

from core.errors import DiskFull, is_disk_full
from core.faces.kiosk import KioskFace
from kiosk.flow import DISK_FULL_HOLD_S, KioskFlow
from testing.pilot_client import PilotError
from ui.i18n import Translations

from kiosk_rig import KioskRig


class Devices:
    """A card terminal that records every charge it was asked for."""
    can_pay = True

    def __init__(self):
        self.charged = []

    def next_reference(self, number):
        return f"{number}-1", None

    def charge(self, reference, amount, currency, on_progress=None):
        self.charged.append(reference)
        raise AssertionError("a payment was started while out of service")

    def print_document(self, kind, ref, lang):
        raise AssertionError("nothing is printed while out of service")


@pytest.fixture
def flow(office):
    return KioskFlow(KioskFace(office), Devices(), "ar")


def to_review(flow, valid_fields):
    flow.start("apply")
    flow.choose_service("residence-certificate")
    flow.begin_form()
    for field in flow.fields():
        flow.type_into_field(valid_fields().get(field.key, ""))
        flow.next_step()
    assert flow.screen == "review"


def test_low_disk_refuses_to_submit_or_pay_and_comes_back(flow, office, valid_fields,
                                                          clock, db_state):
    refuse = office.settings.health.disk_refuse_mb
    assert flow.check_disk(refuse + 100, refuse, clock.now()) is False
    to_review(flow, valid_fields)
    assert flow.check_disk(refuse - 1, refuse, clock.now()) is True and flow.out_of_service
    before = db_state()
    with pytest.raises(DiskFull):
        flow.submit(pay_now=True)
    assert db_state() == before and flow.screen == "review"  # nothing stored, no payment
    assert flow.check_disk(refuse + 1, refuse, clock.now()) is True
    assert not flow.out_of_service
    flow.submit(pay_now=True)
    assert flow.screen == "payment" and flow.visit.application["number"]


def test_a_store_that_is_full_puts_the_kiosk_out_of_service_for_a_while(flow, office,
                                                                       valid_fields, clock):
    to_review(flow, valid_fields)
    flow.submit(pay_now=True)
    full = DiskFull("the disk is full: x could not be written; nothing was changed")
    flow.failed(full)
    assert flow.out_of_service and flow.visit.fault == "store"
    # A payment is not started, even before the next reading of free space.
    with pytest.raises(DiskFull):
        flow.pay()
    assert flow.devices.charged == [] and flow.visit.payment_state is None
    # Free space looks fine (the hub's disk, or the store's own limit): held for a while...
    assert flow.check_disk(10_000, 50, clock.now()) is False and flow.out_of_service
    clock.advance(seconds=DISK_FULL_HOLD_S - 1)
    assert flow.check_disk(10_000, 50, clock.now()) is False and flow.out_of_service
    # ... then the kiosk lets the next resident try.
    clock.advance(seconds=2)
    assert flow.check_disk(10_000, 50, clock.now()) is True and not flow.out_of_service
    assert is_disk_full(full)


def test_the_words_are_polite_in_both_languages_and_send_to_the_counter():
    tr = Translations.load("kiosk")
    assert "الموظف" in tr.get("out_of_service.body", "ar")
    assert "counter" in tr.get("out_of_service.body", "en")
    assert "out of service" in tr.get("out_of_service.title", "en")


def overlay_share(path) -> float:
    """How much of the screenshot is the overlay's dark veil (not the home screen)."""
    image = Image.open(path).convert("L")
    small = image.resize((image.width // 8, image.height // 8))
    dark = sum(1 for v in small.tobytes() if v < 60)
    return dark / (small.width * small.height)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_kiosk_goes_out_of_service_and_comes_back(lang, xvfb_display, tmp_path):
    with KioskRig(tmp_path / "rig", lang=lang,
                  extra_env={"NAFITHA_PILOT_DISK_FREE_MB": "12"}) as rig:
        p = rig.pilot
        state = p.wait_until(lambda s: s["out_of_service"]["shown"], timeout_s=15)
        assert state["screen"] == "home" and state["out_of_service"]["flow"] is True
        texts = set(p.call("all_texts"))
        assert "هذا الجهاز خارج الخدمة مؤقتاً" in texts
        assert "This kiosk is temporarily out of service" in texts
        shot = p.screenshot(tmp_path / f"out-of-service-{lang}.png")
        assert overlay_share(shot) > 0.05
        # Taps do not reach the screen under it.
        with contextlib.suppress(PilotError):  # the pilot may refuse a covered widget
            p.tap("home:apply")
        assert p.state()["screen"] == "home"
        # Room again: the kiosk is back and a visit starts.
        assert p.call("disk_free_mb", 5000) is False
        state = p.wait_until(lambda s: not s["out_of_service"]["shown"], timeout_s=10)
        back = p.screenshot(tmp_path / f"back-{lang}.png")
        assert overlay_share(back) < overlay_share(shot)
        p.tap("home:apply")
        rig.wait_screen("services")
        # Out of service in the middle of a visit: the resident is forgotten, not kept
        # waiting under the notice.
        assert p.call("disk_free_mb", 3) is True
        state = p.wait_until(lambda s: s["out_of_service"]["shown"], timeout_s=10)
        assert state["screen"] == "home" and state["visit"]["mode"] is None
