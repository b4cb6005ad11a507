"""An application's supporting documents in the console, in Chromium (central/console/
applications.py, templates/_documents.html, static/documents.js): real offices
(tests/central_offices.py) capture pages (office.attachments.add_page), their sync agents push
the events and upload the files to a served central, and officers read them, page through,
zoom and rotate them, and ask for a missing one; the request reaches the office and the next
page answers it.

The page images are served only to whoever may open the application page (another
municipality's officer: 404), only for a page of that application; a page whose event arrived
but whose file did not says "not received yet". Approving waits for a page of every required
document (building-permit-small: the title deed and the drawing); rejecting does not."""
from __future__ import annotations

import hashlib
import io
import random

import pytest
import sqlalchemy as sa
from PIL import Image

from central import db
from central.console.offices import size_text
from central.documents import MAX_NOTE
from central.staff import Person
from sync.agent import SyncAgent

from axe_check import axe_violations
from conftest import VIEWPORT


def picture(width: int, height: int, colour: tuple, kind: str = "PNG",
            noise: bool = False) -> bytes:
    """A small real image: a coloured page with a dark band, so each page differs."""
    image = Image.frombytes("RGB", (width, height), random.Random(width).randbytes(
        width * height * 3)) if noise else Image.new("RGB", (width, height), colour)
    for x in range(width // 5, width * 4 // 5):
        for y in range(height // 10, height // 10 + 6):
            image.putpixel((x, y), (20, 20, 20))
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


TITLE = picture(300, 420, (230, 225, 200))
DRAWING_1 = picture(420, 300, (200, 220, 240))
DRAWING_2 = picture(360, 360, (210, 240, 210), "JPEG")
# Named by its event, its file not uploaded; noise, so its size is some kilobytes.
DRAWING_3 = picture(120, 120, (240, 210, 210), noise=True)
CARD = picture(340, 214, (250, 250, 250))
JOHN_DRAWING = picture(320, 240, (225, 235, 245))
FATIMA_DEED = picture(200, 280, (235, 235, 215))  # a page of another application


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def add(office, application_id: str, doc_key: str, data: bytes, source: str = "camera"):
    kind = "image/jpeg" if data[:3] == b"\xff\xd8\xff" else "image/png"
    return office.attachments.add_page(application_id, doc_key, data, kind, source, "sara")


@pytest.fixture
def pages(work):
    """Ahmad's permit: a title deed page and two drawing pages that reached central, and a
    third drawing page whose event reached central but whose file did not (pushed only).
    Fatima's permit: a title deed page."""
    north, ahmad = work["north"], work["permits"]["ahmad"]
    add(north, work["permits"]["fatima"]["id"], "title_deed", FATIMA_DEED)
    add(north, ahmad["id"], "title_deed", TITLE)
    add(north, ahmad["id"], "drawing", DRAWING_1, "scanner")
    add(north, ahmad["id"], "drawing", DRAWING_2, "import")
    result = SyncAgent(north).once()
    assert result["uploaded"]["more"] is False
    add(north, ahmad["id"], "drawing", DRAWING_3)
    SyncAgent(north).push()
    return work


def everything(central) -> dict:
    """Every row of every table but the sessions, to prove a refused request changed
    nothing."""
    with central.engine.connect() as conn:
        return {t.name: sorted(tuple(map(str, r)) for r in conn.execute(sa.select(t)))
                for t in db.metadata.sorted_tables if t.name != "console_sessions"}


def requests_of(central) -> list:
    with central.engine.connect() as conn:
        return conn.execute(sa.select(
            db.document_requests.c.doc_key, db.document_requests.c.note,
            db.document_requests.c.requested_by, db.document_requests.c.office,
            db.document_requests.c.answered_at)).all()


def officer(site, sign_in, page, municipality="NORTH", name="maryam", language="ar"):
    someone = site.person(name, role="officer", municipality=municipality,
                          full_name="مريم أحمد" if language == "ar" else "Maryam Ahmed",
                          language=language)
    sign_in(page, someone.username)
    return someone


def csrf_of(page) -> str:
    return page.locator("input[name=csrf]").first.input_value()


def shown(page) -> str:
    return page.locator("#viewer-image").get_attribute("src").rsplit("/", 1)[-1]


def width_of(page) -> float:
    return page.evaluate("() => document.getElementById('viewer-image')"
                         ".getBoundingClientRect().width")


def test_an_officer_reads_the_pages_and_asks_for_a_missing_document(
        site, pages, page, sign_in):
    ahmad = pages["permits"]["ahmad"]
    officer(site, sign_in, page)
    page.goto(f"{site.url}/console/applications/{ahmad['number']}")

    # Each document the service asks for, with its pages; the third drawing page is named
    # by its event but its file has not arrived: said so, no broken image.
    assert "وثيقة ملكية العقار" in page.inner_text("#doc-title_deed h3")
    assert "مطلوب قبل القرار" in page.inner_text("#doc-drawing h3")
    assert "اختياري" in page.inner_text("#doc-smart_card h3")
    assert "لم تُرفق صفحات بعد" in page.inner_text("#doc-smart_card")
    links = page.locator("a.thumb").evaluate_all("as => as.map(a => a.href)")
    assert [u.rsplit("/", 1)[-1] for u in links] == [sha(TITLE), sha(DRAWING_1),
                                                     sha(DRAWING_2)]
    assert page.inner_text("#doc-drawing .thumb.missing") == \
        "الصفحة 3: لم تصل بعد من المكتب"
    page.wait_for_function("() => Array.from(document.querySelectorAll('a.thumb img'))"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator("#doc-drawing img").count() == 2

    # The viewer: the title deed, large.
    page.click(f"a.thumb[href$='{sha(TITLE)}']")
    assert page.locator("#viewer").evaluate("d => d.open") is True
    page.wait_for_function("() => document.getElementById('viewer-image').naturalWidth > 0")
    assert shown(page) == sha(TITLE)
    assert page.inner_text("#viewer-position") == "الصفحة 1 من 3"
    assert page.inner_text("#viewer-caption") == "وثيقة ملكية العقار، الصفحة 1"
    assert page.evaluate("() => document.activeElement.id") == "viewer-close"

    # Zoom in twice, then out once: the page's rendered width follows.
    fitted = width_of(page)
    page.click("#viewer-zoom-in")
    page.click("#viewer-zoom-in")
    assert width_of(page) == pytest.approx(fitted * 2, abs=2)
    assert page.inner_text("#viewer-zoom") == "التكبير: 200٪"
    page.click("#viewer-zoom-out")
    assert width_of(page) == pytest.approx(fitted * 1.5, abs=2)

    # Rotate a quarter turn, then a full turn back.
    page.click("#viewer-rotate")
    assert page.locator("#viewer-image").evaluate("i => i.style.transform") == \
        "rotate(90deg)"
    for _ in range(3):
        page.click("#viewer-rotate")
    assert page.locator("#viewer-image").evaluate("i => i.style.transform") == "rotate(0deg)"

    # Page through across documents: the button, then the keyboard (in Arabic the left
    # arrow goes on), round to the first again.
    page.click("#viewer-next")
    assert shown(page) == sha(DRAWING_1)
    assert page.inner_text("#viewer-position") == "الصفحة 2 من 3"
    assert page.locator("#viewer-image").evaluate("i => i.style.transform") == "rotate(0deg)"
    page.keyboard.press("ArrowLeft")
    assert shown(page) == sha(DRAWING_2)
    page.keyboard.press("ArrowRight")
    assert shown(page) == sha(DRAWING_1)
    page.click("#viewer-prev")
    assert shown(page) == sha(TITLE)
    page.click("#viewer-prev")
    assert shown(page) == sha(DRAWING_2)  # wraps round
    page.keyboard.press("+")
    assert page.inner_text("#viewer-zoom") == "التكبير: 150٪"
    page.keyboard.press("r")
    assert page.locator("#viewer-image").evaluate("i => i.style.transform") == \
        "rotate(90deg)"
    page.keyboard.press("Escape")
    assert page.locator("#viewer").evaluate("d => d.open") is False
    # Back on the thumbnail of the page last shown (the dialog's close event comes after).
    page.wait_for_function("s => (document.activeElement.getAttribute('href') || '')"
                           ".endsWith(s)", arg=sha(DRAWING_2))

    # Ask for the missing smart card, with a note that has markup in it (shown as text).
    note = "<b>both sides</b> please"
    page.select_option("#doc-key", "smart_card")
    page.fill("#doc-note", note)
    with page.expect_navigation() as answer:
        page.click("#ask button[type=submit]")
    assert answer.value.status == 200 and page.url.endswith("?asked=1#documents")
    assert "أُرسل الطلب إلى المكتب" in page.inner_text("#asked-notice")
    request = page.inner_text("#doc-smart_card .request")
    assert "طُلب في 27 نوفمبر 2026" in request and "من مريم أحمد: بانتظار المكتب" in request
    assert page.inner_text("#doc-smart_card .request .note") == note
    assert page.locator("#doc-smart_card .request b").count() == 0
    assert requests_of(site.central) == [("smart_card", note, "maryam", "MUH", None)]
    audit = site.staff.audit_log(Person("reader", "Reader", "auditor", None))
    assert audit[0]["action"] == "application.document_request"
    assert (audit[0]["actor"], audit[0]["entity_id"], audit[0]["municipality"]) == \
        ("maryam", ahmad["number"], "NORTH")
    assert audit[0]["detail"]["doc_key"] == "smart_card" and \
        audit[0]["detail"]["with_note"] is True
    assert note not in str(audit)  # the note is the office's, not the audit's

    # The office pulls the request; the clerk adds the card; it answers the request.
    north = pages["north"]
    SyncAgent(north).once()
    checklist = {d["key"]: d for d in north.attachments.checklist(ahmad["id"])}
    assert checklist["smart_card"]["request"]["note"] == note
    add(north, ahmad["id"], "smart_card", CARD)
    SyncAgent(north).once()
    page.goto(f"{site.url}/console/applications/{ahmad['number']}")
    request = page.inner_text("#doc-smart_card .request")
    assert "وأضافه المكتب في" in request and "بانتظار" not in request
    assert page.locator(f"#doc-smart_card a.thumb[href$='{sha(CARD)}']").count() == 1
    assert requests_of(site.central)[0][4] is not None


@pytest.fixture
def axe_page(browser):
    """A page whose context lets axe-core be injected (the console's CSP forbids inline
    script; the other tests keep it, so the viewer is proven to work under it)."""
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_the_viewer_in_english_goes_on_with_the_right_arrow_and_is_accessible(
        site, pages, axe_page, sign_in):
    page = axe_page
    ahmad = pages["permits"]["ahmad"]
    officer(site, sign_in, page, language="en")
    page.goto(f"{site.url}/console/applications/{ahmad['number']}")
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert "Title deed" in page.inner_text("#doc-title_deed h3")
    assert page.inner_text("#doc-drawing .thumb.missing") == \
        "Page 3: not received yet from the office"
    assert axe_violations(page) == []
    page.click(f"a.thumb[href$='{sha(DRAWING_1)}']")
    page.keyboard.press("ArrowRight")
    assert shown(page) == sha(DRAWING_2)
    assert page.inner_text("#viewer-position") == "Page 3 of 3"
    page.keyboard.press("ArrowLeft")
    assert shown(page) == sha(DRAWING_1)
    assert page.inner_text("#viewer-next").endswith("→")
    assert axe_violations(page) == []
    page.keyboard.press("Escape")


def test_the_viewer_in_arabic_points_next_to_the_left_and_is_accessible(
        site, pages, axe_page, sign_in):
    page = axe_page
    ahmad = pages["permits"]["ahmad"]
    officer(site, sign_in, page)
    page.goto(f"{site.url}/console/applications/{ahmad['number']}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert axe_violations(page) == []
    page.click(f"a.thumb[href$='{sha(TITLE)}']")
    assert page.inner_text("#viewer-next").endswith("←")
    # In a right-to-left page "next" sits to the left of "previous".
    prev_box = page.locator("#viewer-prev").bounding_box()
    next_box = page.locator("#viewer-next").bounding_box()
    assert next_box["x"] < prev_box["x"]
    assert axe_violations(page) == []


def test_page_images_are_served_to_the_application_s_readers_only(
        site, pages, page, sign_in, browser):
    ahmad, fatima = pages["permits"]["ahmad"], pages["permits"]["fatima"]
    officer(site, sign_in, page)
    base = f"{site.url}/console/applications/{ahmad['number']}/documents"

    answer = page.request.get(f"{base}/{sha(TITLE)}")
    assert answer.status == 200 and answer.body() == TITLE
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "private, no-store"
    answer = page.request.get(f"{base}/{sha(DRAWING_2)}")
    assert answer.status == 200 and answer.headers["content-type"] == "image/jpeg"
    assert answer.body() == DRAWING_2

    # Not a page of this application (it is Fatima's), not received yet, not a hash at all.
    for name in (sha(FATIMA_DEED), sha(DRAWING_3), "0" * 64, "not-a-hash", sha(TITLE).upper()):
        answer = page.request.get(f"{base}/{name}")
        assert answer.status == 404, name
        assert answer.headers["content-type"].startswith("text/html")
    # Fatima's page is hers to show.
    answer = page.request.get(f"{site.url}/console/applications/{fatima['number']}/"
                              f"documents/{sha(FATIMA_DEED)}")
    assert answer.status == 200 and answer.body() == FATIMA_DEED

    # Another municipality's officer: 404, as if absent; signed out: the sign-in page.
    other = browser.new_context()
    try:
        someone = other.new_page()
        officer(site, sign_in, someone, municipality="SOUTH", name="khalid")
        answer = someone.request.get(f"{base}/{sha(TITLE)}")
        assert answer.status == 404 and answer.body() != TITLE
    finally:
        other.close()
    anonymous = browser.new_context()
    try:
        answer = anonymous.request.get(f"{base}/{sha(TITLE)}", max_redirects=0)
        assert answer.status == 303 and answer.headers["location"] == "/console/sign-in"
    finally:
        anonymous.close()


@pytest.mark.parametrize("fields, status, words", [
    ({"doc_key": "passport"}, 422, "هذه الخدمة لا تطلب هذا المستند"),
    ({"doc_key": "Title Deed"}, 422, "المستند غير معروف"),
    ({"doc_key": "smart_card", "note": "x" * (MAX_NOTE + 1)}, 422, "الملاحظة: سطر واحد"),
    ({"doc_key": "smart_card", "note": "bring \u202eit"}, 422, "الملاحظة: سطر واحد"),
    ({"doc_key": "smart_card", "note": "two\nlines"}, 422, "الملاحظة: سطر واحد"),
], ids=["not-asked", "not-a-key", "note-too-long", "note-bidi", "note-two-lines"])
def test_a_bad_document_request_is_refused_and_records_nothing(
        site, pages, page, sign_in, fields, status, words):
    ahmad = pages["permits"]["ahmad"]
    officer(site, sign_in, page)
    page.goto(f"{site.url}/console/applications/{ahmad['number']}")
    before = everything(site.central)
    answer = page.request.post(
        f"{site.url}/console/applications/{ahmad['number']}/documents/requests",
        form={"csrf": csrf_of(page), **fields})
    assert answer.status == status
    assert words in answer.text()
    assert everything(site.central) == before
    assert requests_of(site.central) == []


def test_a_document_request_without_a_csrf_token_or_twice_or_by_a_reader_changes_nothing(
        site, pages, page, sign_in, browser):
    ahmad = pages["permits"]["ahmad"]
    url = f"{site.url}/console/applications/{ahmad['number']}/documents/requests"
    # An auditor of the municipality (reads, may not ask) and another municipality's
    # officer, signed in (a sign-in is audited) before anything is compared.
    others = []
    for name, role, municipality, code in (("rashid", "auditor", "NORTH", 403),
                                           ("khalid", "officer", "SOUTH", 404)):
        context = browser.new_context()
        other = context.new_page()
        sign_in(other, site.person(name, role=role, municipality=municipality).username)
        others.append((context, other, code))
    officer(site, sign_in, page)
    try:
        page.goto(f"{site.url}/console/applications/{ahmad['number']}")
        before = everything(site.central)
        for form in ({"doc_key": "smart_card"}, {"doc_key": "smart_card", "csrf": "forged"}):
            answer = page.request.post(url, form=form)
            assert answer.status == 403 and "رمز الحماية" in answer.text()
        assert everything(site.central) == before

        # The auditor sees the documents but no form, and a forged post is forbidden;
        # the other municipality's officer is told the application does not exist.
        for _context, other, code in others:
            if code == 403:
                other.goto(f"{site.url}/console/applications/{ahmad['number']}")
                assert other.locator("#doc-title_deed a.thumb").count() == 1
                assert other.locator("#ask").count() == 0
            else:
                other.goto(f"{site.url}/console/applications")
            answer = other.request.post(url, form={"csrf": csrf_of(other),
                                                   "doc_key": "title_deed"})
            assert answer.status == code
            assert everything(site.central) == before

        # Asked once; asking again while the office has not answered is refused.
        assert page.request.post(url, form={"csrf": csrf_of(page), "doc_key": "smart_card"}
                                 ).status == 200
        before = everything(site.central)
        answer = page.request.post(url, form={"csrf": csrf_of(page), "doc_key": "smart_card"})
        assert answer.status == 409 and "سبق طلب هذا المستند" in answer.text()
        assert everything(site.central) == before
    finally:
        for context, _other, _code in others:
            context.close()


def test_approving_waits_for_every_required_document_and_rejecting_does_not(
        site, pages, page, sign_in):
    john, ahmad = pages["permits"]["john"], pages["permits"]["ahmad"]
    officer(site, sign_in, page)
    # John's permit has no pages at all: both required documents are named.
    page.goto(f"{site.url}/console/applications/{john['number']}")
    before = everything(site.central)
    with page.expect_navigation() as answer:
        page.click("#approve button")
    assert answer.value.status == 422
    problem = page.inner_text("#problem")
    assert "وثيقة ملكية العقار" in problem and "المخطط الهندسي المعتمد" in problem
    assert "البطاقة الذكية" not in problem  # not required
    assert everything(site.central) == before

    # Only the title deed reached central (the drawing's event arrived, its file did not).
    add(pages["north"], john["id"], "title_deed", CARD)
    SyncAgent(pages["north"]).once()
    add(pages["north"], john["id"], "drawing", JOHN_DRAWING)
    SyncAgent(pages["north"]).push()
    page.goto(f"{site.url}/console/applications/{john['number']}")
    before = everything(site.central)
    with page.expect_navigation() as answer:
        page.click("#approve button")
    assert answer.value.status == 422
    problem = page.inner_text("#problem")
    assert "المخطط الهندسي المعتمد" in problem and "وثيقة ملكية العقار" not in problem
    assert everything(site.central) == before

    # Rejecting stays possible.
    page.fill("#reason", "المخطط غير مرفق")
    with page.expect_navigation() as answer:
        page.click("#reject button")
    assert answer.value.status == 200 and page.url.endswith("?done=rejected")

    # Ahmad's permit has a page of each required document: approved.
    page.goto(f"{site.url}/console/applications/{ahmad['number']}")
    with page.expect_navigation() as answer:
        page.click("#approve button")
    assert answer.value.status == 200 and page.url.endswith("?done=approved")


def test_the_offices_page_counts_each_office_s_document_bytes_not_yet_uploaded(
        site, pages, page, sign_in):
    officer(site, sign_in, page, municipality=None, name="nasser")
    page.goto(f"{site.url}/console/offices")
    muh = page.locator("#office-MUH .pending-documents")
    assert (muh.get_attribute("data-files"), muh.get_attribute("data-bytes")) == \
        ("1", str(len(DRAWING_3)))
    assert 40_000 < len(DRAWING_3) < 50_000
    assert f"عدد الملفات 1، الحجم {size_text(len(DRAWING_3), 'ar')}" in muh.inner_text()
    assert "ك.ب" in muh.inner_text()
    rif = page.locator("#office-RIF .pending-documents")
    assert rif.get_attribute("data-files") == "0" and "لا شيء" in rif.inner_text()
    SyncAgent(pages["north"]).once()  # the file goes up
    page.goto(f"{site.url}/console/offices")
    assert page.locator("#office-MUH .pending-documents").get_attribute("data-files") == "0"


def test_after_the_resident_is_erased_the_pages_say_so_and_their_images_are_gone(
        site, pages, page, sign_in):
    ahmad = pages["permits"]["ahmad"]
    site.central.erase_resident([ahmad["number"]], "resident's request")
    officer(site, sign_in, page)
    page.goto(f"{site.url}/console/applications/{ahmad['number']}")
    assert page.locator("a.thumb").count() == 0
    assert page.inner_text("#doc-title_deed .thumb.missing") == \
        "الصفحة 1: حُذفت مع بيانات مقدّم الطلب"
    answer = page.request.get(f"{site.url}/console/applications/{ahmad['number']}/documents/"
                              f"{sha(TITLE)}")
    assert answer.status == 404


@pytest.mark.parametrize("n, ar, en", [(0, "0 بايت", "0 bytes"), (999, "999 بايت", "999 bytes"),
                                       (1000, "1 ك.ب", "1 kB"), (43_210, "43.2 ك.ب", "43.2 kB"),
                                       (3_250_000, "3.2 م.ب", "3.2 MB"),
                                       (40_000_000, "40 م.ب", "40 MB")])
def test_sizes_read_as_bytes_kilobytes_or_megabytes(n, ar, en):
    assert (size_text(n, "ar"), size_text(n, "en")) == (ar, en)
