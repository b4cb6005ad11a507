"""Supporting documents at the office (core/attachments.py): pages stored once by their
SHA-256, each add and remove one transaction with its audit entry and event, every bad input
refused with nothing changed, a swapped file caught on read, a full disk refused with
nothing half-stored, and the upload and retention bookkeeping."""
from __future__ import annotations

import errno
import hashlib
import io
import json
import os
from datetime import timedelta

import pytest
from PIL import Image

from core import attachments as attachments_module
from core import outbox
from core.attachments import MAX_APPLICATION_BYTES, MAX_PAGE_BYTES, sniff
from core.errors import (DocumentStorageFull, InvalidState, NotFound, StoreError,
                         ValidationError)

PERMIT = "building-permit-small"


def image(kind: str = "JPEG", shade: int = 200, size=(64, 90)) -> bytes:
    """A small real image; each shade gives different bytes (another file)."""
    out = io.BytesIO()
    Image.new("RGB", size, (shade, shade, shade)).save(out, kind)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_on_disk(office) -> list[str]:
    root = office.attachments.root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
        if root.exists() else []


def last_event(office) -> dict:
    return json.loads(office.store.one("SELECT body FROM outbox ORDER BY seq DESC "
                                       "LIMIT 1")["body"])


@pytest.fixture
def permit(submit_valid):
    return submit_valid(PERMIT)


@pytest.fixture
def docs(office):
    return office.attachments


def add(docs, app, key="title_deed", data=None, media_type="image/jpeg", source="camera",
        actor="sara"):
    return docs.add_page(app["id"], key, data if data is not None else image(), media_type,
                         source, actor)


# --- adding and removing pages ----------------------------------------------------------------
def test_a_page_is_stored_once_by_its_hash_with_its_event_and_audit(office, docs, permit):
    data = image()
    page = add(docs, permit, data=data)
    assert page == {"application_id": permit["id"], "doc_key": "title_deed", "page": 1,
                    "sha256": sha(data), "bytes": len(data), "media_type": "image/jpeg",
                    "source": "camera", "answers_request": None}
    path = docs.path_of(sha(data))
    assert path == office.settings.data_dir / "documents" / sha(data)[:2] / sha(data)
    assert path.read_bytes() == data and oct(path.stat().st_mode & 0o777) == "0o600"
    event = last_event(office)
    assert event["type"] == "application.document_added" and event["actor"] == "sara"
    assert event["entity_type"] == "application" and event["entity_id"] == permit["id"]
    assert event["data"] == {k: v for k, v in page.items() if k != "answers_request"}
    audit = office.store.one("SELECT * FROM audit ORDER BY seq DESC LIMIT 1")
    assert json.loads(audit["data"])["sha256"] == sha(data)  # the hash is in the chain
    assert office.verify_audit()["ok"]

    # the same file again (a second drawing page that is the same scan): a new page, the
    # file is not written twice
    mtime = path.stat().st_mtime_ns
    again = add(docs, permit, key="drawing", data=data, source="scanner")
    assert (again["doc_key"], again["page"], again["sha256"]) == ("drawing", 1, sha(data))
    assert path.stat().st_mtime_ns == mtime
    assert files_on_disk(office) == [f"{sha(data)[:2]}/{sha(data)}"]
    assert office.store.one("SELECT COUNT(*) AS n FROM document_files")["n"] == 1
    assert docs.read(sha(data)) == data


def test_pages_number_on_and_a_removed_number_is_not_used_again(office, docs, permit):
    pages = [add(docs, permit, key="drawing", data=image(shade=s)) for s in (10, 20, 30)]
    assert [p["page"] for p in pages] == [1, 2, 3]
    removed = docs.remove_page(permit["id"], "drawing", 2, "sara")
    assert removed == {"application_id": permit["id"], "doc_key": "drawing", "page": 2,
                       "sha256": pages[1]["sha256"]}
    event = last_event(office)
    assert event["type"] == "application.document_removed" and event["data"] == removed
    assert [p["page"] for p in docs.pages(permit["id"])] == [1, 3]
    assert add(docs, permit, key="drawing", data=image(shade=40))["page"] == 4
    assert office.verify_audit()["ok"]


def test_pages_by_number_or_id_and_the_checklist(office, docs, permit):
    add(docs, permit, key="drawing", data=image(shade=1))
    add(docs, permit, key="smart_card", data=image("PNG", shade=2), media_type="image/png")
    by_number = docs.pages(permit["number"])
    assert [(p["doc_key"], p["page"]) for p in by_number] == [("drawing", 1), ("smart_card", 1)]
    assert by_number[0]["added_by"] == "sara" and by_number[0]["stored"] is True
    checklist = docs.checklist(permit["id"])
    assert [(d["key"], d["required"], d["at_kiosk"], len(d["pages"]), d["request"])
            for d in checklist] == [("smart_card", False, True, 1, None),
                                    ("title_deed", True, True, 0, None),
                                    ("drawing", True, False, 1, None)]
    assert checklist[1]["ar"] == "وثيقة ملكية العقار" and checklist[1]["en"] == "Title deed"
    assert docs.missing_required(permit["id"]) == ["title_deed"]
    add(docs, permit, data=image("WEBP", shade=3), media_type="image/webp")
    assert docs.missing_required(permit["id"]) == []


def test_a_service_that_asks_nothing_required_misses_nothing(docs, submit_valid):
    app = submit_valid("residence-certificate")
    assert [d["key"] for d in docs.checklist(app["id"])] == ["document_1", "document_2"]
    assert docs.missing_required(app["id"]) == []


# --- bad input: a clear error, and nothing changed --------------------------------------------
@pytest.mark.parametrize("case, error, reason", [
    ("not_asked", ValidationError, "document_not_asked"),
    ("not_an_image", ValidationError, "not_an_image"),
    ("empty", ValidationError, "not_an_image"),
    ("extension_lies", ValidationError, "media_type_mismatch"),
    ("pdf", ValidationError, "media_type_not_taken"),
    ("page_too_large", ValidationError, "page_too_large"),
    ("unknown_source", ValidationError, "unknown_source"),
])
def test_a_bad_page_is_refused_and_changes_nothing(office, docs, permit, db_state, case,
                                                    error, reason):
    add(docs, permit)  # something already there, so "nothing changed" means something
    before, on_disk = db_state(), files_on_disk(office)
    args = {"key": "title_deed", "data": image(shade=7), "media_type": "image/jpeg",
            "source": "camera"}
    args.update({
        "not_asked": {"key": "marriage_certificate"},
        "not_an_image": {"data": b"%PDF-1.7 pretending to be a photo" * 10},
        "empty": {"data": b""},
        "extension_lies": {"data": image("PNG")},  # PNG bytes named image/jpeg
        "pdf": {"data": b"%PDF-1.7\n", "media_type": "application/pdf"},
        "page_too_large": {"data": b"\xff\xd8\xff" + b"\0" * MAX_PAGE_BYTES},
        "unknown_source": {"source": "fax"},
    }[case])
    with pytest.raises(error) as info:
        add(docs, permit, **args)
    assert info.value.details["reason"] == reason
    assert db_state() == before and files_on_disk(office) == on_disk


def test_an_application_over_its_total_is_refused(office, docs, permit, db_state,
                                                  monkeypatch):
    page = image()
    # As if the application already held just under the limit.
    monkeypatch.setattr(attachments_module, "MAX_APPLICATION_BYTES",
                        len(page) * 2 + len(page) // 2)
    add(docs, permit, data=page)
    add(docs, permit, key="drawing", data=image(shade=9))
    before, on_disk = db_state(), files_on_disk(office)
    with pytest.raises(ValidationError) as info:
        add(docs, permit, key="drawing", data=image(shade=11))
    assert info.value.details["reason"] == "application_too_large"
    assert info.value.field == "application"
    assert db_state() == before and files_on_disk(office) == on_disk
    # a removed page no longer counts
    docs.remove_page(permit["id"], "drawing", 1, "sara")
    assert add(docs, permit, key="drawing", data=image(shade=11))["page"] == 2
    assert MAX_APPLICATION_BYTES == 40_000_000  # the shipped limit (monkeypatched above)


def test_an_unknown_or_closed_application_is_refused(office, docs, permit, db_state):
    before = db_state()
    with pytest.raises(NotFound):
        docs.add_page("MUH-D01-A2026-999999", "title_deed", image(), "image/jpeg", "camera",
                      "sara")
    assert db_state() == before and files_on_disk(office) == []
    office.applications.withdraw(permit["id"])
    before = db_state()
    with pytest.raises(InvalidState) as info:
        add(docs, permit)
    assert info.value.details["reason"] == "closed"
    assert db_state() == before and files_on_disk(office) == []


@pytest.mark.parametrize("page", [2, 0, "1", None])
def test_removing_a_page_that_does_not_exist_changes_nothing(docs, permit, db_state, page):
    add(docs, permit)
    before = db_state()
    with pytest.raises(NotFound) as info:
        docs.remove_page(permit["id"], "title_deed", page, "sara")
    assert info.value.details["reason"] == "no_page"
    assert db_state() == before


def test_removing_a_page_twice_is_refused_the_second_time(docs, permit, db_state):
    add(docs, permit)
    docs.remove_page(permit["id"], "title_deed", 1, "sara")
    before = db_state()
    with pytest.raises(NotFound):
        docs.remove_page(permit["id"], "title_deed", 1, "sara")
    assert db_state() == before


def test_a_full_disk_at_capture_is_refused_and_nothing_is_half_stored(office, docs, permit,
                                                                    db_state, monkeypatch):
    add(docs, permit, data=image(shade=1))
    before, on_disk = db_state(), files_on_disk(office)
    real_write, calls = os.write, []

    def write_then_full(fd, data):
        calls.append(len(data))
        if len(calls) == 1:  # the first part goes to disk, then the disk is full
            return real_write(fd, bytes(data[:100]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(attachments_module.os, "write", write_then_full)
    with pytest.raises(DocumentStorageFull) as info:
        add(docs, permit, key="drawing", data=image(shade=2))
    monkeypatch.undo()
    assert len(calls) == 2  # the partial temporary file existed, and was taken away
    assert info.value.details["reason"] == "disk_full" and info.value.code == "store_unusable"
    assert "disk is full" in info.value.message and "nothing was stored" in info.value.message
    assert db_state() == before and files_on_disk(office) == on_disk
    # with space again, the same page goes in whole
    page = add(docs, permit, key="drawing", data=image(shade=2))
    assert docs.read(page["sha256"]) == image(shade=2)


def test_a_failure_after_the_file_was_written_takes_the_file_away(office, docs, permit,
                                                                 db_state, monkeypatch):
    before = db_state()

    def refuse(*args, **kwargs):
        raise StoreError("the disk could not write the database")

    monkeypatch.setattr(office.store, "record", refuse)
    with pytest.raises(StoreError):
        add(docs, permit)
    assert db_state() == before and files_on_disk(office) == []


# --- reading ----------------------------------------------------------------------------------
def test_a_swapped_file_is_caught_and_the_error_names_the_application(office, docs, permit):
    page = add(docs, permit)
    docs.path_of(page["sha256"]).write_bytes(image(shade=99))  # someone swapped it
    with pytest.raises(StoreError) as info:
        docs.read(page["sha256"])
    assert info.value.details["reason"] == "document_changed"
    assert permit["number"] in info.value.message
    assert "Sample" not in info.value.message  # a name, no content
    docs.path_of(page["sha256"]).unlink()
    with pytest.raises(StoreError) as info:
        docs.read(page["sha256"])
    assert info.value.details["reason"] == "document_missing"
    with pytest.raises(NotFound):
        docs.read("0" * 64)
    with pytest.raises(ValidationError):
        docs.read("../../nafitha.db")


# --- the back office's requests ---------------------------------------------------------------
def request_body(app, **overrides) -> dict:
    return {"id": "REQ1", "application_id": app["id"], "doc_key": "drawing",
            "note": "page 2 of the drawing is unreadable", "requested_by": "officer.huda",
            "requested_at": "2026-11-24T09:00:00+00:00", **overrides}


def test_a_request_is_kept_once_shown_and_answered_by_the_next_page(office, docs, permit,
                                                                    db_state):
    kept = docs.apply_request(request_body(permit))
    assert kept["id"] == "REQ1" and kept["answered_at"] is None
    before = db_state()
    assert docs.apply_request(request_body(permit)) == kept  # the same request again
    assert db_state() == before
    shown = {d["key"]: d["request"] for d in docs.checklist(permit["id"])}
    assert shown["drawing"]["note"] == "page 2 of the drawing is unreadable"
    assert shown["title_deed"] is None
    add(docs, permit)  # another document does not answer it
    assert {d["key"]: d["request"] for d in docs.checklist(permit["id"])}["drawing"]
    page = add(docs, permit, key="drawing", data=image(shade=5))
    assert page["answers_request"] == "REQ1"
    assert last_event(office)["data"]["answers_request"] == "REQ1"
    assert {d["key"]: d["request"] for d in docs.checklist(permit["id"])}["drawing"] is None
    # once answered, the next page answers nothing
    add(docs, permit, key="drawing", data=image(shade=6))
    assert "answers_request" not in last_event(office)["data"]


@pytest.mark.parametrize("overrides, error", [
    ({"doc_key": "marriage_certificate"}, ValidationError),
    ({"application_id": "NO-SUCH"}, NotFound),
    ({"requested_at": "yesterday"}, ValidationError),
    ({"note": 5}, ValidationError),
    ({"id": ""}, ValidationError),
    ({"extra": "x"}, ValidationError),
])
def test_a_bad_request_is_refused_and_changes_nothing(docs, permit, db_state, overrides,
                                                      error):
    before = db_state()
    with pytest.raises(error):
        docs.apply_request(request_body(permit, **overrides))
    assert db_state() == before


# --- upload and retention ---------------------------------------------------------------------
def mark_all_sent(office):
    seqs = [r["seq"] for r in outbox.unsent_rows(office.store, 10_000)]
    outbox.mark_sent(office.store, seqs, office.store.now())


def test_a_file_is_uploaded_once_its_events_are_confirmed(office, docs, permit):
    first = add(docs, permit, data=image(shade=1))
    assert docs.to_upload() == []  # its add event has not reached central
    assert docs.pending() == {"files": 1, "bytes": first["bytes"]}
    mark_all_sent(office)
    ready = docs.to_upload()
    assert ready == [{"sha256": first["sha256"], "bytes": first["bytes"],
                      "media_type": "image/jpeg", "path": str(docs.path_of(first["sha256"]))}]
    second = add(docs, permit, key="drawing", data=image(shade=2))
    assert [f["sha256"] for f in docs.to_upload()] == []  # the application waits again
    assert docs.pending() == {"files": 2, "bytes": first["bytes"] + second["bytes"]}
    mark_all_sent(office)
    assert [f["sha256"] for f in docs.to_upload()] == [first["sha256"], second["sha256"]]
    docs.confirm_uploaded(first["sha256"], office.store.now())
    docs.confirm_uploaded(first["sha256"], "2030-01-01T00:00:00.000+00:00")  # again: no change
    assert office.store.one("SELECT confirmed_at FROM document_files WHERE sha256 = ?",
                            (first["sha256"],))["confirmed_at"] == office.store.now()
    assert [f["sha256"] for f in docs.to_upload()] == [second["sha256"]]
    assert docs.pending() == {"files": 1, "bytes": second["bytes"]}
    with pytest.raises(NotFound):
        docs.confirm_uploaded("f" * 64, office.store.now())


def test_purge_deletes_confirmed_files_after_retention_and_keeps_the_record(office, docs,
                                                                          permit, clock):
    assert office.settings.documents.retention_days == 30
    kept, gone = add(docs, permit, data=image(shade=1)), add(docs, permit, key="drawing",
                                                             data=image(shade=2))
    mark_all_sent(office)
    docs.confirm_uploaded(gone["sha256"], office.store.now())
    now = clock.now()
    assert docs.purge(now + timedelta(days=29))["purged"] == 0
    result = docs.purge(now + timedelta(days=31))
    assert result == {"purged": 1, "bytes": gone["bytes"], "retention_days": 30}
    assert not docs.path_of(gone["sha256"]).exists()
    assert docs.path_of(kept["sha256"]).exists()  # not confirmed: stays, however old
    pages = {p["doc_key"]: p for p in docs.pages(permit["id"])}
    assert pages["drawing"]["stored"] is False and pages["title_deed"]["stored"] is True
    with pytest.raises(NotFound) as info:
        docs.read(gone["sha256"])
    assert info.value.details["reason"] == "purged"
    assert docs.pending() == {"files": 1, "bytes": kept["bytes"]}
    assert docs.purge(now + timedelta(days=60))["purged"] == 0  # once
    # captured again after it left: stored again, and read
    again = add(docs, permit, key="drawing", data=image(shade=2))
    assert docs.read(again["sha256"]) == image(shade=2)


def test_sniff_knows_the_three_image_types():
    assert sniff(image("JPEG")) == "image/jpeg"
    assert sniff(image("PNG")) == "image/png"
    assert sniff(image("WEBP")) == "image/webp"
    assert sniff(b"GIF89a") is None and sniff(b"") is None


# --- settings and older stores ----------------------------------------------------------------
@pytest.mark.parametrize("days", ["-1", "3651", "soon"])
def test_a_retention_outside_its_range_is_refused(tmp_path, days):
    from core.errors import ConfigError
    from core.settings import load_settings
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={"NAFITHA_DOCUMENTS__RETENTION_DAYS": days})
    assert "documents.retention_days" in info.value.message
    assert load_settings(tmp_path, environ={"NAFITHA_DOCUMENTS__RETENTION_DAYS": "0"}) \
        .documents.retention_days == 0


def test_a_store_before_m017_has_nothing_to_upload_or_purge(settings, clock, ids,
                                                            monkeypatch, certified):
    from core import migrations
    from core.office import Office
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:16])
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        assert not office.attachments.ready
        assert office.attachments.pending() == {"files": 0, "bytes": 0}
        assert office.attachments.to_upload() == []
        assert office.attachments.purge(clock.now())["purged"] == 0
    finally:
        office.close()
    monkeypatch.undo()
    office = Office.open(settings, clock=clock, ids=ids)  # upgraded: the tables are there
    try:
        assert office.attachments.ready and office.attachments.pending()["files"] == 0
    finally:
        office.close()
