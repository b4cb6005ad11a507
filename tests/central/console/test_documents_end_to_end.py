"""Issue 20's "done when", in Chromium and in Arabic: a clerk at an offline field office
photographs a title deed and two drawing pages for a building permit (synthetic photos,
cleaned up by devices/documents, kept through the counter's face); the office comes online
and its sync agent sends the events, then the files; the officer reads the pages in the
console, asks for a missing page; the request reaches the office and its counter shows it;
the clerk adds the page; the officer approves, and the office applies the decision.

Everything is real but the network's failure: the office is a core Office enrolled over HTTP
(tests/ops_devices.py), its agent pushes, pulls and uploads through central's API, and the
console is served by the same central (conftest.py)."""
from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path

import pytest

from core.faces.counter import CounterFace
from devices.documents.cleanup import clean_page, encode_page
from sync.agent import SyncAgent

from central_offices import PERMIT, nid
from ops_devices import Devices

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "devices" / "documents"))
from synthetic_pages import a4_page, photograph  # noqa: E402

NOTE = "الصفحة الثالثة من المخطط ناقصة"


@pytest.fixture
def devices(site, tmp_path):
    made = Devices(site, tmp_path)
    yield made
    made.close()


def capture(desk: CounterFace, application_id: str, doc_key: str, qr_text: str,
            angle: float) -> str:
    """What the counter's camera step does: photograph, clean up, keep. The page's SHA-256."""
    shot = photograph(a4_page(qr_text=qr_text), angle_deg=angle, seed=len(qr_text))
    data, media_type = encode_page(clean_page(shot.frame, mode="text"))
    kept = desk.add_document_page("sara", application_id, doc_key,
                                  base64.b64encode(data).decode(), media_type, "camera")
    assert kept["sha256"] == hashlib.sha256(data).hexdigest()
    return kept["sha256"]


def thumbs(page) -> list[str]:
    return [u.rsplit("/", 1)[-1] for u in
            page.locator("a.thumb").evaluate_all("as => as.map(a => a.href)")]


def test_a_clerk_captures_pages_offline_and_the_officer_reads_asks_and_approves(
        site, page, sign_in, devices):
    site.municipality("NTH", offices=("FLD",))
    officer = site.person("mariam", "officer", municipality="NTH", full_name="مريم أحمد")
    field = devices.add("FLD", "D01")
    field.users.create("sara", "clerk", "1234")
    field.payments.open_shift("sara", 20_000)
    desk = CounterFace(field, "1")
    desk.sign_in("sara", "1234")

    # No network: the permit is applied for and its pages captured at the counter.
    permit = field.applications.submit("building-permit-small", {
        **PERMIT, "full_name": "أحمد محمد الحسن", "national_id": nid(11)})
    deed = capture(desk, permit["id"], "title_deed", "DEED-1", 6.0)
    drawings = [capture(desk, permit["id"], "drawing", f"DRAWING-{n}", angle)
                for n, angle in ((1, -9.0), (2, 14.0))]
    assert field.attachments.pending()["files"] == 3
    assert site.central.counts()["applications"] == 0  # nothing has left the office

    # Online: events first, then the files.
    result = SyncAgent(field).once()
    assert result["uploaded"]["uploaded"] == 3 and result["uploaded"]["failed"] == 0
    assert field.attachments.pending() == {"files": 0, "bytes": 0}

    # The officer reads the pages: each image arrives whole.
    sign_in(page, officer.username)
    page.goto(f"{site.url}/console/applications/{permit['number']}")
    assert thumbs(page) == [deed, *drawings]
    page.wait_for_function("() => Array.from(document.querySelectorAll('a.thumb img'))"
                           ".every(i => i.complete && i.naturalWidth > 1000)")
    page.click(f"a.thumb[href$='{drawings[1]}']")
    assert page.inner_text("#viewer-caption") == "المخطط الهندسي المعتمد، الصفحة 2"
    page.keyboard.press("Escape")

    # A drawing page is missing: the officer asks for it.
    page.select_option("#doc-key", "drawing")
    page.fill("#doc-note", NOTE)
    with page.expect_navigation() as answer:
        page.click("#ask button[type=submit]")
    assert answer.value.status == 200
    assert "بانتظار المكتب" in page.inner_text("#doc-drawing .request")

    # The office pulls the request; the counter's checklist shows it with the note.
    SyncAgent(field).once()
    asked = {d["key"]: d for d in desk.document_checklist(permit["id"])}
    assert asked["drawing"]["request"]["note"] == NOTE
    assert asked["title_deed"]["request"] is None

    # The clerk adds the third page; it answers the request; it reaches central.
    third = capture(desk, permit["id"], "drawing", "DRAWING-3", -4.0)
    assert SyncAgent(field).once()["uploaded"]["uploaded"] == 1
    assert {d["key"]: d for d in desk.document_checklist(permit["id"])}["drawing"][
        "request"] is None
    page.goto(f"{site.url}/console/applications/{permit['number']}")
    assert thumbs(page) == [deed, *drawings, third]
    assert "بانتظار" not in page.inner_text("#doc-drawing .request")

    # The officer approves; the office applies the decision on its next pull.
    page.locator("#approve button[type=submit]").click()
    page.wait_for_url(f"**/console/applications/{permit['number']}*")
    assert SyncAgent(field).once()["pulled"]["decisions"] == 1
    assert field.applications.get(permit["id"])["state"] == "approved"
