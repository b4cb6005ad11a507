"""What the kiosk's screens say, from their view models without a window.

- The ticket screen says the wait in words: nobody ahead is "you are next", an estimate of
  nothing is "under a minute", never "about 0 min" (kiosk/screens/ticket.py).
- A certificate issued at once shows its number and its application's number, which the
  status look-up asks for (kiosk/screens/result.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.faces.kiosk import KioskFace
from kiosk.flow import KioskFlow
from kiosk.screens.result import ResultViewModel
from kiosk.screens.ticket import wait_text
from ui.i18n import Translations

sys.path.append(str(Path(__file__).parent))
from test_flow import FakeDevices, fill, start_apply  # noqa: E402


@pytest.mark.parametrize("lang, ahead, minutes, words", [
    ("en", 0, 0, "You are next: watch the screen for your number."),
    ("ar", 0, 0, "أنت التالي: تابع الشاشة ليُنادى رقمك."),
    ("en", 0, 7, "You are next: watch the screen for your number."),
    ("en", 2, 0, "Estimated wait: under a minute"),
    ("ar", 2, 0, "الانتظار المتوقع: أقل من دقيقة"),
    ("en", 4, 12, "Estimated wait: about 12 min"),
])
def test_the_wait_in_words(lang, ahead, minutes, words):
    tr = Translations.load("kiosk")
    said = wait_text({"people_ahead": ahead, "estimated_wait_minutes": minutes}, lang, tr)
    assert said == words and " 0 " not in said


@pytest.mark.parametrize("lang, label", [("ar", "رقم الطلب: "), ("en", "Application number: ")])
def test_a_certificate_shows_its_application_number_too(office, valid_fields, lang, label):
    flow = KioskFlow(KioskFace(office), FakeDevices(), lang)
    start_apply(flow)
    fill(flow, valid_fields())
    flow.submit(pay_now=True)
    flow.pay()
    assert flow.screen == "result" and flow.visit.licence
    texts, _rows, flags = ResultViewModel().compute(flow, Translations.load("kiosk"))
    assert texts["number"] == flow.visit.licence["number"] and flags["licence"]
    assert texts["application_number"] == label + flow.visit.application["number"]


def test_an_application_received_shows_its_number_once(office, valid_fields):
    flow = KioskFlow(KioskFace(office), FakeDevices(), "en")
    start_apply(flow, "address-form")
    fill(flow, valid_fields("address-form"))
    flow.submit(pay_now=False)
    texts, _rows, _flags = ResultViewModel().compute(flow, Translations.load("kiosk"))
    assert texts["number"] == flow.visit.application["number"]
    assert texts["application_number"] == ""
