"""Supporting documents at central (central/documents.py), on SQLite and PostgreSQL: a real
office captures pages and its agent pushes the events and uploads the files over HTTP; central
records the pages at ingest, holds each file once, answers the back office (pages, read,
requests, pending bytes per office) and publishes its requests for a document to the office.

Bad input to request(): a clear error and nothing changed (no request row, no reference
change)."""
from __future__ import annotations

import hashlib
import random

import pytest
import sqlalchemy as sa

from central.app import create_app
from central.db import document_pages, document_requests, events, reference
from central.service import Central, CentralError
from sync.agent import SyncAgent

from bench_loader import load_bench
from central_offices import PERMIT, nid, working_office
from central_servers import ServerThread

bench = load_bench("_document_upload")


@pytest.fixture
def world(tmp_path, clock, central_db):
    central, _ = Central.init_root(tmp_path / "central", central_db, clock=clock)
    central.documents.new_id = iter(f"REQ{n}" for n in range(1, 100)).__next__
    server = ServerThread(create_app(central)).start()
    opened = []

    def office(code="MUH", device="D01", seed=1):
        o = working_office(tmp_path, server.url, central, code, device, clock, seed)
        opened.append(o)
        return o
    yield central, office
    for o in opened:
        o.close()
    server.stop()
    central.close()


def permit(office, n=1, name="Huda Saleh"):
    return office.applications.submit("building-permit-small", {
        **PERMIT, "full_name": name, "national_id": nid(n)})


def page(office, app, doc_key, seed, size=50_000):
    return office.attachments.add_page(app["id"], doc_key,
                                       bench.noise_jpeg(random.Random(seed), size),
                                       "image/jpeg", "camera", "sara")


def counts(central) -> tuple[int, int]:
    with central.engine.connect() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(document_requests))
                .scalar(), conn.execute(sa.select(sa.func.count()).select_from(reference))
                .scalar())


def test_pages_are_recorded_at_ingest_and_read_once_uploaded(world):
    central, office = world
    north = office()
    app = permit(north)
    deed = page(north, app, "title_deed", 1)
    drawings = [page(north, app, "drawing", s) for s in (2, 3)]
    agent = SyncAgent(north)
    agent.push()  # events only: central knows the pages, not yet the files
    listed = central.documents.pages(app["number"])
    assert [(p["doc_key"], p["page"], p["received"]) for p in listed] == [
        ("drawing", 1, False), ("drawing", 2, False), ("title_deed", 1, False)]
    assert listed[2]["sha256"] == deed["sha256"] and listed[2]["bytes"] == deed["bytes"]
    assert listed[2]["media_type"] == "image/jpeg" and listed[2]["source"] == "camera"
    total = sum(p["bytes"] for p in (deed, *drawings))
    assert central.documents.pending_by_office() == {"MUH": {"files": 3, "bytes": total}}
    with pytest.raises(CentralError) as caught:
        central.documents.read(deed["sha256"])
    assert caught.value.code == "document_not_received"
    agent.once()  # and now the files
    assert all(p["received"] for p in central.documents.pages(app["id"]))
    assert central.documents.pending_by_office() == {}
    data = central.documents.read(deed["sha256"], application=app["number"])
    assert hashlib.sha256(data).hexdigest() == deed["sha256"]


def test_a_removed_page_leaves_the_list(world):
    central, office = world
    north = office()
    app = permit(north)
    first, second = page(north, app, "drawing", 1), page(north, app, "drawing", 2)
    north.attachments.remove_page(app["id"], "drawing", 1, "sara")
    SyncAgent(north).once()
    assert [(p["page"], p["sha256"]) for p in central.documents.pages(app["id"])] == [
        (2, second["sha256"])]
    with central.engine.connect() as conn:
        removed = conn.execute(sa.select(document_pages.c.removed_at).where(
            document_pages.c.sha256 == first["sha256"])).scalar()
    assert removed is not None


def test_a_page_is_served_only_for_its_own_application(world):
    central, office = world
    north = office()
    mine, other = permit(north, 1), permit(north, 2, "Sara Ali")
    deed = page(north, mine, "title_deed", 1)
    SyncAgent(north).once()
    with pytest.raises(CentralError) as caught:
        central.documents.read(deed["sha256"], application=other["number"])
    assert caught.value.status == 404 and caught.value.code == "unknown_document"
    with pytest.raises(CentralError) as caught:
        central.documents.read("not a hash")
    assert caught.value.code == "invalid_sha256"


def test_a_document_event_about_another_offices_application_is_refused(world):
    central, office = world
    north, south = office("MUH", "D01", 1), office("RIF", "K01", 2)
    app = permit(north)
    SyncAgent(north).once()
    # South's device claims a page of north's application (its own, audited event).
    with south.store.atomic(actor="sara"):
        south.store.record("application.document_added", "application", app["id"], {
            "application_id": app["id"], "doc_key": "drawing", "page": 1,
            "sha256": "ab" * 32, "bytes": 1000, "media_type": "image/jpeg",
            "source": "camera"})
    SyncAgent(south).push()
    with central.engine.connect() as conn:
        refused = conn.execute(sa.select(events.c.refused).where(
            events.c.type == "application.document_added")).scalars().all()
    assert refused == ["id_taken"]
    assert central.documents.pages(app["id"]) == []


def test_a_request_is_published_to_the_office_and_answered_by_a_page(world):
    central, office = world
    north = office()
    app = permit(north)
    agent = SyncAgent(north)
    agent.once()
    asked = central.documents.request(app["number"], "drawing", "  the second sheet  ",
                                      by="officer:huda")
    assert asked == {"id": "REQ1", "application_id": app["id"], "doc_key": "drawing",
                     "note": "the second sheet", "requested_by": "officer:huda",
                     "requested_at": central.now(), "number": app["number"],
                     "office": "MUH", "answered_at": None}
    with central.engine.connect() as conn:
        change = conn.execute(sa.select(reference).where(
            reference.c.kind == "document_request")).mappings().one()
    assert change["office"] == "MUH" and change["key"] == "REQ1"
    assert central.documents.requests(app["id"])[0]["answered_at"] is None
    agent.once()
    [row] = [d for d in north.attachments.checklist(app["id"]) if d["key"] == "drawing"]
    assert row["request"]["id"] == "REQ1"
    page(north, app, "drawing", 4)
    agent.once()
    [answered] = central.documents.requests(app["number"])
    assert answered["answered_at"] is not None
    # Answered: the same document may be asked for again.
    assert central.documents.request(app["number"], "drawing", None)["id"] == "REQ2"


@pytest.mark.parametrize("application, doc_key, note, code", [
    ("MUH-D01-A2026-999999", "drawing", "", "unknown_application"),
    (None, "passport", "", "document_not_asked"),
    (None, "Drawing!", "", "invalid_doc_key"),
    (None, "drawing", "x" * 501, "invalid_note"),
    (None, "drawing", "two\nlines", "invalid_note"),
])
def test_a_bad_request_is_refused_and_changes_nothing(world, application, doc_key, note,
                                                      code):
    central, office = world
    north = office()
    app = permit(north)
    SyncAgent(north).once()
    before = counts(central)
    with pytest.raises(CentralError) as caught:
        central.documents.request(application or app["number"], doc_key, note, by="x")
    assert caught.value.code == code
    assert counts(central) == before


def test_asking_twice_or_after_the_decision_is_refused(world):
    central, office = world
    north = office()
    app = permit(north)
    SyncAgent(north).once()
    central.documents.request(app["number"], "title_deed", "", by="x")
    before = counts(central)
    with pytest.raises(CentralError) as caught:
        central.documents.request(app["number"], "title_deed", "", by="x")
    assert caught.value.code == "already_requested" and caught.value.status == 409
    assert counts(central) == before
    central.decide(app["number"], "rejected", "no deed")
    before = counts(central)
    with pytest.raises(CentralError) as caught:
        central.documents.request(app["number"], "drawing", "", by="x")
    assert caught.value.code == "already_decided"
    assert counts(central) == before
