"""Supporting documents at the kiosk: after submitting an application whose service lets
residents capture documents here (the building permit's smart card and title deed), the
result screen offers the camera; each page is taken, cleaned, checked, then used or taken
again; a service with no such document never offers it.

The flow runs on the real core without a window (fast, every refusal); the resident's journey
runs on the real kiosk app under Xvfb, its camera seeing synthetic photos of A4 pages
(tests/devices/documents/synthetic_pages.py), and the store is read back. Which page was kept
is checked by the QR printed on each synthetic page, read from the stored file."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import DocumentStorageFull, ValidationError
from core.faces.kiosk import KioskFace
from devices.documents.cleanup import NoPageFound
from kiosk.devices import PrintResult
from kiosk.flow import KioskFlow
from kivy_env import kivy_ready
from ui.i18n import Translations
from ui.messages import DOCUMENT_ERRORS, PAGE_ERRORS, document_error
from ui.rtl import _ARABIC_FONT_CHARS

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "devices" / "documents"))
from synthetic_pages import a4_page, empty_desk, photograph

SERVICE = "building-permit-small"
SHOTS = ROOT / "docs" / "screenshots"
ARABIC = re.compile("[\u0600-\u06ff]")
LATIN = re.compile("[A-Za-z]")


def page_photo(qr_text: str, angle: float = 7.0, seed: int = 0) -> np.ndarray:
    return photograph(a4_page(qr_text=qr_text), angle_deg=angle, seed=seed).frame


def qr_of(data: bytes) -> str:
    """The QR printed on a stored page (each synthetic page carries its own)."""
    from devices.scanning.decoders import DecoderChain

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    return " ".join(d.text for d in DecoderChain().decode(image))


# --- the shared words of a refused page ----------------------------------------------------

def test_every_page_refusal_has_words_in_both_languages_the_kiosk_font_draws():
    assert set(PAGE_ERRORS.values()) == set(DOCUMENT_ERRORS)
    for key, words in DOCUMENT_ERRORS.items():
        assert set(words) == {"ar", "en"}, key
        assert ARABIC.search(words["ar"]) and not LATIN.search(words["ar"]), key
        assert all(_ARABIC_FONT_CHARS.match(ch) for ch in words["ar"]), key
        assert LATIN.search(words["en"]) and not ARABIC.search(words["en"]), key


def test_a_page_refusal_is_chosen_by_its_reason_or_code_never_its_message():
    no_page = NoPageFound("anything at all")
    assert document_error(no_page, "en") == "No page found: hold the whole page in view."
    assert document_error(no_page, "ar") == DOCUMENT_ERRORS["no_page"]["ar"]
    full = DocumentStorageFull("disk full", reason="disk_full")
    assert document_error(full, "en") == "The device's disk is full. Nothing was saved."
    # Another refusal is not a page's: the app's own words for it.
    assert document_error(ValidationError("no_page_found", field="x", problem="required"),
                          "en") is None
    assert document_error(None, "ar") is None
    with pytest.raises(ValueError):
        document_error(no_page, "fr")


# --- the flow, without a window -------------------------------------------------------------

class StillCamera:
    """A started camera (ScanService) that shows one picture until told another."""

    def __init__(self):
        self.frame = None

    def latest_frame(self):
        return self.frame


class FakeCamera:
    def __init__(self):
        self.service = StillCamera()


class FakeDevices:
    """A printer that prints, no card terminal, a camera that sees `camera.service.frame`."""

    can_pay = False

    def __init__(self):
        self.printed = []
        self.camera = FakeCamera()

    def print_document(self, kind, ref, lang):
        self.printed.append((kind, ref, lang))
        return PrintResult(True, f"job-{len(self.printed)}")


@pytest.fixture
def kiosk(office, valid_fields):
    """A resident at the kiosk; submit(service) leaves them on the result screen."""
    devices = FakeDevices()
    flow = KioskFlow(KioskFace(office), devices, "en")

    def submit(service: str = SERVICE):
        flow.start("apply")
        flow.choose_service(service)
        flow.visit.values = dict(valid_fields(service))
        flow.submit(pay_now=False)
        assert flow.screen == "result"
        return flow.visit.application

    return flow, devices.camera.service, submit


def words(flow, screen: str) -> tuple[dict, dict]:
    """A screen's texts and flags, computed by its view-model (no window)."""
    kivy_ready()
    from kiosk.screens.documents import DocumentsViewModel
    from kiosk.screens.result import ResultViewModel

    vm = {"documents": DocumentsViewModel, "result": ResultViewModel}[screen]()
    vm.refresh(flow, Translations.load("kiosk"))
    return dict(vm.texts), dict(vm.flags)


def stored(office, app) -> list[tuple[str, int, str]]:
    return [(p["doc_key"], p["page"], p["source"]) for p in office.attachments.pages(app["id"])]


def test_a_title_deed_taken_again_then_used_is_the_one_page_stored(kiosk, office):
    flow, camera, submit = kiosk
    app = submit()
    texts, flags = words(flow, "result")
    assert flags["documents_offer"] is True
    assert texts["documents"] == ("You can add your documents now by holding them to the "
                                  "kiosk's camera: Smart card (ID), Title deed.")
    flow.start_documents()
    assert flow.screen == "documents"
    assert [d["key"] for d in flow.visit.documents.asked] == ["smart_card", "title_deed"]
    flow.next_document()  # no smart card photo: skipped
    texts, flags = words(flow, "documents")
    assert (texts["name"], texts["step"], texts["onward"]) == ("Title deed", "Document 2 of 2",
                                                               "Done")
    camera.frame = page_photo("deed-blurred", angle=-9)
    flow.take_photo()
    assert words(flow, "documents")[1]["mode"] == "review" and stored(office, app) == []
    flow.take_again()
    assert flow.visit.documents.review is None and stored(office, app) == []
    camera.frame = page_photo("deed", angle=6)
    flow.take_photo()
    page = flow.visit.documents.review
    assert page.preview.shape[0] > page.preview.shape[1]  # an upright A4 page
    flow.use_photo()
    assert stored(office, app) == [("title_deed", 1, "kiosk")]
    row = office.attachments.pages(app["id"])[0]
    assert qr_of(office.attachments.read(row["sha256"])) == "deed"
    texts, flags = words(flow, "documents")
    assert texts["message"] == "Page 1 is saved. Add another page of this document, or go on."
    assert flags["tone"] == "ok" and flags["mode"] == "camera"
    flow.next_document()  # the last: Done
    assert flow.screen == "result" and flow.documents_offered is False
    texts, flags = words(flow, "result")
    assert texts["documents"] == "Pages of your documents added: 1. Thank you."
    assert flags["documents_offer"] is False


def test_a_frame_without_a_page_is_said_and_stores_nothing(kiosk, office, db_state):
    flow, camera, submit = kiosk
    submit()
    flow.start_documents()
    camera.frame = empty_desk()
    before = db_state()
    flow.take_photo()
    texts, flags = words(flow, "documents")
    assert texts["message"] == "No page found: hold the whole page in view."
    assert flags["tone"] == "error" and flags["mode"] == "camera"
    assert flow.visit.documents.review is None and db_state() == before
    flow.lang = "ar"
    assert words(flow, "documents")[0]["message"] == \
        "لم يُعثر على صفحة: ضع الصفحة كاملة أمام الكاميرا."


def test_a_camera_without_a_picture_sends_the_resident_to_the_counter(kiosk, office,
                                                                      db_state):
    flow, _camera, submit = kiosk
    app = submit()
    flow.start_documents()
    flow.devices.camera.service = None  # the camera could not be opened
    before = db_state()
    flow.take_photo()
    assert words(flow, "documents")[0]["message"] == \
        "The camera is not working. Please bring your documents to the counter."
    assert db_state() == before and stored(office, app) == []


def test_a_full_disk_is_said_and_nothing_is_half_stored(kiosk, office, db_state,
                                                        monkeypatch):
    import errno

    flow, camera, submit = kiosk
    app = submit()
    flow.start_documents()
    camera.frame = page_photo("card", angle=4)
    flow.take_photo()
    before = db_state()

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "write", full)  # the page's file is written with os.write
    flow.use_photo()
    monkeypatch.undo()
    texts, flags = words(flow, "documents")
    assert texts["message"] == "The device's disk is full. Nothing was saved."
    assert flags["mode"] == "review"  # the page stays: use it again, or take it again
    assert db_state() == before and stored(office, app) == []
    files = [p for p in (office.settings.data_dir / "documents").rglob("*") if p.is_file()]
    assert files == []
    flow.use_photo()  # room again: the same page is kept
    assert stored(office, app) == [("smart_card", 1, "kiosk")]


def test_skipping_stores_nothing_and_says_to_bring_them(kiosk, office, db_state):
    flow, _camera, submit = kiosk
    app = submit()
    before = db_state()
    flow.skip_documents()  # "Skip, I will bring them"
    assert flow.screen == "result" and flow.visit.documents.finished
    texts, flags = words(flow, "result")
    assert texts["documents"] == "No documents were added. Please bring them to the counter."
    assert flags["documents_offer"] is False
    assert db_state() == before and stored(office, app) == []
    flow.skip_documents()  # once gone through, nothing more to skip
    assert flow.screen == "result" and db_state() == before


def test_an_application_to_pay_at_the_counter_offers_its_queue_ticket(kiosk, office):
    """Issue 25: "pay at the counter" gave no way into the queue. The result offers a
    ticket for the application's service (once the documents are dealt with); Back returns
    to the result; the ticket is an ordinary one, printed."""
    flow, _camera, submit = kiosk
    app = submit()
    texts, flags = words(flow, "result")
    assert flags["ticket_offer"] is False  # the documents come first
    flow.skip_documents()
    texts, flags = words(flow, "result")
    assert flags["ticket_offer"] is True and texts["queue_ticket"] == "Take a queue ticket to pay"
    flow.ticket_to_pay()
    assert (flow.screen, flow.visit.mode, flow.visit.service) == ("priority", "ticket", SERVICE)
    flow.back()
    assert flow.screen == "result" and flow.visit.application["id"] == app["id"]
    flow.ticket_to_pay()
    flow.take_ticket(None)
    assert flow.screen == "ticket"
    ticket = office.store.one("SELECT * FROM tickets WHERE id = ?", (flow.visit.ticket["id"],))
    assert ticket["service_code"] == SERVICE and ticket["channel"] == "kiosk"
    assert flow.devices.printed[-1] == ("ticket", ticket["id"], "en")


def test_a_paid_application_or_a_certificate_offers_no_queue_ticket(kiosk, office):
    flow, _camera, submit = kiosk
    submit("residence-certificate")  # unpaid, but nothing to wait for at the kiosk ...
    assert words(flow, "result")[1]["ticket_offer"] is True
    flow.visit.payment = {"id": "p-1", "receipt_number": "R-1"}  # ... once paid: none
    assert words(flow, "result")[1]["ticket_offer"] is False
    screen = flow.screen
    flow.ticket_to_pay()  # and the step does nothing
    assert flow.screen == screen and flow.visit.mode != "ticket"


def test_a_service_without_kiosk_documents_never_offers_the_camera(kiosk):
    flow, _camera, submit = kiosk
    submit("residence-certificate")
    texts, flags = words(flow, "result")
    assert flags["documents_offer"] is False and texts["documents"] == ""
    flow.start_documents()
    assert flow.screen == "result" and flow.visit.documents is None


def test_an_application_found_by_its_slip_is_not_offered_the_camera(kiosk):
    flow, _camera, submit = kiosk
    app = submit()
    number = app["number"]
    flow.wipe()
    flow.start("status")
    flow.find(number)
    flow.pay_found()
    flow.finish_unpaid()
    assert flow.screen == "result" and flow.documents_offered is False
    flow.start_documents()
    assert flow.screen == "result"


def test_the_kiosk_cannot_add_a_document_the_service_keeps_for_the_counter(kiosk, office,
                                                                           db_state):
    from core.errors import PermissionDenied
    flow, camera, submit = kiosk
    app = submit()
    flow.start_documents()
    camera.frame = page_photo("drawing", angle=3)
    flow.take_photo()
    flow.visit.documents.asked[0] = {"key": "drawing", "ar": "مخطط", "en": "Drawing"}
    before = db_state()
    flow.use_photo()
    assert isinstance(flow.visit.documents.problem, PermissionDenied)
    assert flow.visit.documents.problem.details["reason"] == "not_at_kiosk"
    assert words(flow, "documents")[0]["message"] == \
        "This page could not be saved. Please take it again, or bring the document to the counter."
    assert db_state() == before and stored(office, app) == []


# --- the real kiosk, under Xvfb -------------------------------------------------------------

RESIDENCE = ["full_name", "national_id", "phone", "208", "2811", "1234"]
PERMIT = ["full_name", "national_id", "phone", "7781", "208", "2811", "12", "32.5", ""]


def show(rig, frame: np.ndarray) -> None:
    """Put a picture in front of the kiosk's camera (read when the camera next opens: it
    opens afresh for each picture)."""
    part = rig.camera_image.with_suffix(".tmp.png")
    cv2.imwrite(str(part), frame)
    os.replace(part, rig.camera_image)


def apply_for(rig, service: str, template) -> dict:
    """Fill in and submit, pay at the counter: the result screen."""
    from kiosk_rig import PERSON

    p = rig.pilot
    p.tap("home:apply")
    rig.wait_screen("services")
    p.tap(f"service:{service}")
    rig.wait_screen("service")
    p.tap("start_form")
    rig.fill_form([PERSON[rig.lang].get(a, a) for a in template])
    rig.wait_screen("review")
    p.tap("pay_counter")
    return rig.wait_screen("result")


def stored_pages(rig, number: str) -> list[tuple[str, int, str, str]]:
    """(document, page, source, the QR on the stored file) of every page of the application."""
    office = rig.office()
    try:
        app = office.applications.get(number)
        return [(p["doc_key"], p["page"], p["source"], qr_of(office.attachments.read(p["sha256"])))
                for p in office.attachments.pages(app["id"])]
    finally:
        office.close()


def take(rig) -> dict:
    """Take photo; the cleaned page (or the refusal) once the worker is done."""
    rig.pilot.tap("take")
    return rig.pilot.wait_until(lambda s: not s["busy"], timeout_s=30)


def check_screenshot(path: Path) -> None:
    image = cv2.imread(str(path))
    assert image is not None and image.shape[:2] == (1080, 1920), path
    assert image.std() > 20


def big_enough(rig) -> None:
    from core.settings import load_settings
    from ui.theme import MIN_TOUCH_MM, mm_to_px
    small = mm_to_px(MIN_TOUCH_MM, load_settings(rig.data, environ={}).kiosk.screen_dpi)
    targets = rig.pilot.call("touch_targets")
    assert targets and not [t for t in targets if min(t["width"], t["height"]) < small]


@pytest.mark.ui
def test_a_resident_adds_a_title_deed_at_the_kiosk_in_arabic(xvfb_display, tmp_path):
    from kiosk_rig import KioskRig

    with KioskRig(tmp_path / "rig", lang="ar") as rig:
        p = rig.pilot
        # A residence certificate asks for nothing at the kiosk: no offer.
        state = apply_for(rig, "residence-certificate", RESIDENCE)
        assert state["flags"]["documents_offer"] is False and state["texts"]["documents"] == ""
        ids = p.id_list()
        assert "done" in ids and "documents_add" not in ids and "documents_skip" not in ids
        p.tap("done")
        rig.wait_screen("home")

        state = apply_for(rig, SERVICE, PERMIT)
        number = state["texts"]["number"]
        assert state["flags"]["documents_offer"] is True
        assert "البطاقة الذكية" in state["texts"]["documents"] and \
            "وثيقة ملكية العقار" in state["texts"]["documents"]
        ids = p.id_list()
        assert "documents_add" in ids and "documents_skip" in ids and "done" not in ids
        big_enough(rig)

        # A picture without a page: said, nothing stored.
        show(rig, empty_desk())
        p.tap("documents_add")
        state = rig.wait_screen("documents")
        assert state["rtl"] is True
        assert state["texts"]["name"] == "البطاقة الذكية (الهوية)"
        assert state["texts"]["step"] == "المستند 1 من 2"
        state = take(rig)
        assert state["texts"]["message"] == "لم يُعثر على صفحة: ضع الصفحة كاملة أمام الكاميرا."
        assert state["flags"]["tone"] == "error" and state["flags"]["mode"] == "camera"
        assert stored_pages(rig, number) == []

        # No smart card now; the title deed, first blurred: taken again, nothing stored.
        show(rig, page_photo("deed-blurred", angle=-9))
        p.tap("next_document")
        state = rig.wait_screen("documents")
        assert state["texts"]["name"] == "وثيقة ملكية العقار"
        assert state["texts"]["onward"] == "تم"
        state = take(rig)
        assert state["flags"]["mode"] == "review" and state["visit"]["documents"]["reviewing"]
        assert stored_pages(rig, number) == []
        show(rig, page_photo("deed", angle=6))
        p.tap("take_again")
        assert rig.state()["flags"]["mode"] == "camera"
        assert stored_pages(rig, number) == []
        state = take(rig)
        assert state["flags"]["mode"] == "review"
        big_enough(rig)
        shot = p.screenshot(SHOTS / "kiosk-documents-ar.png")
        check_screenshot(shot)
        p.tap("use_photo")
        state = rig.pilot.wait_until(lambda s: not s["busy"], timeout_s=30)
        assert state["texts"]["message"].startswith("حُفظت الصفحة 1")
        assert stored_pages(rig, number) == [("title_deed", 1, "kiosk", "deed")]

        p.tap("next_document")  # the last document: Done
        state = rig.wait_screen("result")
        assert state["texts"]["documents"] == "أُضيفت صفحات مستنداتك: 1. شكراً لك."
        assert "done" in p.id_list()
        p.tap("done")
        rig.wait_screen("home")
        assert stored_pages(rig, number) == [("title_deed", 1, "kiosk", "deed")]


@pytest.mark.ui
def test_skipping_or_walking_away_stores_nothing_in_english(xvfb_display, tmp_path):
    from kiosk_rig import KioskRig

    with KioskRig(tmp_path / "rig", lang="en") as rig:
        p = rig.pilot
        state = apply_for(rig, SERVICE, PERMIT)
        skipped = state["texts"]["number"]
        assert p.text("documents_skip") == "Skip, I will bring them"
        p.tap("documents_skip")
        state = rig.wait_screen("result")
        assert state["texts"]["documents"] == \
            "No documents were added. Please bring them to the counter."
        assert "queue_ticket" in p.id_list()  # to pay at the counter
        p.tap("done")
        state = rig.wait_screen("home")
        assert state["visit"]["application"] is None
        assert stored_pages(rig, skipped) == []

        state = apply_for(rig, SERVICE, PERMIT)
        left = state["texts"]["number"]
        show(rig, page_photo("card", angle=-5, seed=2))
        p.tap("documents_add")
        state = rig.wait_screen("documents")
        assert state["rtl"] is False and state["texts"]["onward"] == "Skip this document"
        assert not ARABIC.search(state["texts"]["hint"])
        state = take(rig)
        assert state["flags"]["mode"] == "review"
        shot = p.screenshot(SHOTS / "kiosk-documents-en.png")
        check_screenshot(shot)
        # The resident walks away while checking the page: the idle timeout still applies,
        # and nothing was stored.
        p.advance(61)
        assert rig.state()["idle_prompt"] is True
        p.advance(10)
        state = rig.wait_screen("home")
        assert state["visit"]["documents"] is None and state["scanner"] == "no_camera"
        assert stored_pages(rig, left) == []
