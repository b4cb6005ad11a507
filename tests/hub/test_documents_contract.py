"""Supporting documents through the faces: the same calls, answers and refusals against the
in-process core (a field office) and over a real hub on loopback (a service centre), a page
near its 2 MB limit included (the hub takes a body that large on these routes only)."""
from __future__ import annotations

import base64
import hashlib
import io
import os

import pytest
from PIL import Image

from core.attachments import MAX_PAGE_BYTES
from core.errors import NotFound, PermissionDenied, ValidationError
from core.faces import PAGE_BODY_BYTES
from core.http_policy import DEFAULT_MAX_BODY
from http_policy_probe import raw_request

PERMIT = "building-permit-small"


@pytest.fixture
def counter(counter, till):
    """The shared counter face (conftest.py), its clerk signed in."""
    counter.sign_in(till.clerk, till.clerk_pin)
    return counter


def jpeg(shade: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), (shade, shade, shade)).save(out, "JPEG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def large_jpeg(size: int) -> bytes:
    """JPEG magic and then noise: a page of `size` bytes that no compression shrinks."""
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)


# --- the counter ------------------------------------------------------------------------------
def test_a_clerk_captures_pages_reads_them_back_and_retakes_one(counter, office, till,
                                                               valid_fields):
    app = counter.submit(till.clerk, PERMIT, valid_fields(PERMIT), None)
    listed = counter.document_checklist(app["id"])
    assert [d["key"] for d in listed] == ["smart_card", "title_deed", "drawing"]
    assert all(d["pages"] == [] and d["request"] is None for d in listed)

    deed = counter.add_document_page(till.clerk, app["id"], "title_deed", b64(jpeg()),
                                     "image/jpeg", "camera")
    assert (deed["doc_key"], deed["page"], deed["source"]) == ("title_deed", 1, "camera")
    big = large_jpeg(MAX_PAGE_BYTES - 1000)  # near the limit: ~2.7 MB of base64 in JSON
    drawing = counter.add_document_page(till.clerk, app["number"], "drawing", b64(big),
                                        "image/jpeg", "scanner")
    assert drawing["sha256"] == hashlib.sha256(big).hexdigest()
    assert drawing["bytes"] == len(big)
    assert office.store.one("SELECT actor FROM audit ORDER BY seq DESC LIMIT 1")["actor"] == \
        till.clerk

    back = counter.document_page(app["id"], drawing["sha256"])
    assert back == {"media_type": "image/jpeg", "data": b64(big)}
    assert office.attachments.missing_required(app["id"]) == []

    removed = counter.remove_document_page(till.clerk, app["id"], "drawing", 1)
    assert removed["sha256"] == drawing["sha256"]
    assert office.attachments.missing_required(app["id"]) == ["drawing"]
    with pytest.raises(NotFound):
        counter.remove_document_page(till.clerk, app["id"], "drawing", 1)


def test_bad_pages_at_the_counter_change_nothing(counter, office, till, valid_fields,
                                                 db_state):
    app = counter.submit(till.clerk, PERMIT, valid_fields(PERMIT), None)
    other = counter.submit(till.clerk, PERMIT, valid_fields(PERMIT), None)
    page = counter.add_document_page(till.clerk, app["id"], "title_deed", b64(jpeg()),
                                     "image/jpeg", "camera")
    before = db_state()
    bad = [
        (ValidationError, "document_not_asked", ("passport", b64(jpeg(1)), "image/jpeg")),
        (ValidationError, "not_base64", ("drawing", "not base64 at all!", "image/jpeg")),
        (ValidationError, "not_an_image", ("drawing", b64(b"%PDF-1.7 x" * 20), "image/jpeg")),
        (ValidationError, "media_type_mismatch", ("drawing", b64(jpeg(2)), "image/png")),
        (ValidationError, "page_too_large",
         ("drawing", b64(large_jpeg(MAX_PAGE_BYTES + 1)), "image/jpeg")),
    ]
    for error, reason, (key, data, media_type) in bad:
        with pytest.raises(error) as info:
            counter.add_document_page(till.clerk, app["id"], key, data, media_type, "camera")
        assert info.value.details.get("reason") == reason, (reason, info.value.details)
    with pytest.raises(ValidationError):  # a source the counter does not have
        counter.add_document_page(till.clerk, app["id"], "drawing", b64(jpeg(3)),
                                  "image/jpeg", "kiosk")
    with pytest.raises(NotFound):
        counter.add_document_page(till.clerk, "MUH-D01-A2026-999999", "drawing",
                                  b64(jpeg(4)), "image/jpeg", "camera")
    with pytest.raises(NotFound):  # a page read only through its own application
        counter.document_page(other["id"], page["sha256"])
    with pytest.raises(NotFound):
        counter.remove_document_page(till.clerk, app["id"], "title_deed", 2)
    assert db_state() == before


# --- the kiosk --------------------------------------------------------------------------------
def test_a_resident_captures_a_kiosk_document_of_the_application_just_submitted(
        kiosk, office, valid_fields, submit_valid, db_state):
    app = kiosk.submit(PERMIT, valid_fields(PERMIT))
    page = kiosk.add_document_page(app["number"], "title_deed", b64(jpeg()), "image/jpeg")
    assert (page["doc_key"], page["page"], page["source"]) == ("title_deed", 1, "kiosk")
    assert set(page) == {"application_id", "doc_key", "page", "sha256", "bytes", "media_type",
                         "source", "answers_request"}  # nothing personal
    assert office.store.one("SELECT actor FROM audit ORDER BY seq DESC LIMIT 1")["actor"] == \
        office.settings.kiosk.account

    elsewhere = submit_valid(PERMIT)  # made at a counter, not in this kiosk's journey
    before = db_state()
    with pytest.raises(PermissionDenied) as info:
        kiosk.add_document_page(app["number"], "drawing", b64(jpeg(1)), "image/jpeg")
    assert info.value.details["reason"] == "not_at_kiosk"
    for reference in (elsewhere["number"], "MUH-D01-A2026-999999"):
        with pytest.raises(PermissionDenied) as info:
            kiosk.add_document_page(reference, "title_deed", b64(jpeg(2)), "image/jpeg")
        assert info.value.details["reason"] == "not_your_journey"
    with pytest.raises(ValidationError):
        kiosk.add_document_page(app["number"], "title_deed", b64(b"GIF89a..."), "image/jpeg")
    assert db_state() == before


# --- the hub's body limit ---------------------------------------------------------------------
def test_the_hub_takes_a_page_sized_body_on_the_page_routes_only(hub):
    for path in ("/api/v1/counter/add-document-page", "/api/v1/kiosk/add-document-page"):
        status, _, body, _ = raw_request(hub.url, path,
                                         [f"Content-Length: {PAGE_BODY_BYTES + 1}"])
        assert status == 413, path
        assert f"the limit here is {PAGE_BODY_BYTES}" in body["message"]
    status, _, body, _ = raw_request(hub.url, "/api/v1/counter/remove-document-page",
                                     [f"Content-Length: {DEFAULT_MAX_BODY + 1}"])
    assert status == 413 and f"the limit here is {DEFAULT_MAX_BODY}" in body["message"]
    assert PAGE_BODY_BYTES > len(b64(large_jpeg(MAX_PAGE_BYTES))) > DEFAULT_MAX_BODY
