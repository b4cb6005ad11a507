"""What the back office reads (central/backoffice.py), on SQLite and PostgreSQL: two offices of
two municipalities do real work (applications, payments, licences), their sync agents push it
to central over HTTP, and the console's queries read it back, scoped by municipality.

- awaiting: review applications with no decision yet, oldest first, with their fields; filters;
  keyset paging; search by number, national ID and name words (Arabic spelling variants);
  another municipality's objects are "not found", as unknown ones
- a decision takes an application off the list; "reached the office" waits for the office's
  own approval event
- erasure deletes the blind-index rows; an index missing for older rows is filled once at open
- offices and alerts (silent office, old backlog, refusals), with the agent's two batch fields
- bad input: a clear 422 and nothing changed
"""
from __future__ import annotations

import base64
import gzip
import importlib.metadata
import json

import pytest
import requests
import sqlalchemy as sa

from central import backoffice
from central.app import create_app
from central.backoffice import BackOffice
from central.db import awaiting, meta, municipalities, offices, search_tags
from central.service import Central, CentralError
from core import outbox
from sync import protocol
from sync.agent import SyncAgent, read_enrolment

from central_offices import PEOPLE, do_work, nid, working_office
from central_servers import ServerThread

class RecordingSession(requests.Session):
    """A real session that keeps the batches it posts (decoded)."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def request(self, method, url, **kw):
        if url.endswith("/events"):
            self.batches.append(json.loads(gzip.decompress(kw["data"])))
        return super().request(method, url, **kw)


@pytest.fixture
def world(tmp_path, clock, central_db):
    """Central (HTTP on loopback) with municipalities NORTH (office MUH) and SOUTH (office
    RIF), each office enrolled and working, nothing pushed yet."""
    central, _ = Central.init_root(tmp_path / "central", central_db, clock=clock)
    server = ServerThread(create_app(central)).start()
    opened = []

    def office(code, device, seed):  # tests/central_offices.py
        o = working_office(tmp_path, server.url, central, code, device, clock, seed)
        opened.append(o)
        return o

    north, south = office("MUH", "D01", 1), office("RIF", "K01", 2)
    with central.engine.begin() as conn:
        for code in ("NORTH", "SOUTH"):
            conn.execute(sa.insert(municipalities).values(
                code=code, name_ar=code, name_en=code, created_at=central.now()))
        for code, municipality in (("MUH", "NORTH"), ("RIF", "SOUTH")):
            conn.execute(sa.update(offices).where(offices.c.code == code)
                         .values(municipality=municipality))
    yield central, north, south
    for o in opened:
        o.close()
    server.stop()
    central.close()


@pytest.fixture
def worked(world, clock):
    """North: three building permits a day apart (Ahmad's paid), an instant certificate
    issued; south: one permit. All pushed."""
    _, north, south = world
    return do_work(north, south, clock)  # tests/central_offices.py


def numbers(page) -> list[str]:
    return [i["number"] for i in page["items"]]


def state_of(central) -> dict:
    """Every table's row count, for "nothing changed"."""
    with central.engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in central_tables()}


def central_tables():
    from central.db import metadata
    return list(metadata.sorted_tables)


def test_awaiting_lists_review_applications_oldest_first_with_their_fields(world, worked, clock):
    central, *_ = world
    bo, p = BackOffice(central), worked["permits"]
    page = bo.awaiting(None)
    assert numbers(page) == [p[w]["number"] for w in ("ahmad", "fatima", "john", "south")]
    first = page["items"][0]
    assert first == {"number": p["ahmad"]["number"], "office": "MUH",
                     "service": "building-permit-small",
                     "submitted_at": p["ahmad"]["submitted_at"], "age_days": 3,
                     "fee_minor": p["ahmad"]["fee_minor"], "currency": "BHD", "paid": True,
                     "state": "paid", "applicant": PEOPLE["ahmad"]}
    assert [i["paid"] for i in page["items"]] == [True, False, False, False]
    assert page["next"] is None
    # Scoped: each municipality sees its own offices' only.
    assert numbers(bo.awaiting("NORTH")) == numbers(page)[:3]
    assert numbers(bo.awaiting("SOUTH")) == [p["south"]["number"]]
    # Filters.
    assert numbers(bo.awaiting(None, office="RIF")) == [p["south"]["number"]]
    assert numbers(bo.awaiting("NORTH", service="residence-certificate")) == []
    assert numbers(bo.awaiting(None, older_than_days=1)) == [p["ahmad"]["number"],
                                                              p["fatima"]["number"]]
    for office in ("RIF", "NOPE"):  # another municipality's office is as unknown as none
        with pytest.raises(CentralError) as refused:
            bo.awaiting("NORTH", office=office)
        assert (refused.value.status, refused.value.code) == (404, "unknown_office")


def test_awaiting_pages_with_a_keyset_cursor(world, worked):
    central, *_ = world
    bo, seen, after = BackOffice(central), [], None
    while True:
        page = bo.awaiting(None, limit=1, after=after)
        seen += numbers(page)
        after = page["next"]
        if after is None:
            break
    assert seen == numbers(bo.awaiting(None)) and len(seen) == 4
    two = bo.awaiting(None, limit=2)
    assert numbers(bo.awaiting(None, limit=2, after=two["next"])) == seen[2:]


@pytest.mark.parametrize("typed, who", [
    ("احمد", ["ahmad"]), ("أحمد الحسن", ["ahmad"]), ("فاطمه", ["fatima", "south"]),
    ("فاطِمة علي", ["fatima"]), ("smith JOHN", ["john"]), ("john ahmad", [])])
def test_awaiting_finds_names_by_all_their_words_however_spelt(world, worked, typed, who):
    central, *_ = world
    p = worked["permits"]
    assert numbers(BackOffice(central).awaiting(None, search=typed)) == \
        [p[w]["number"] for w in who]


def test_awaiting_finds_a_number_or_a_national_id_exactly(world, worked):
    central, *_ = world
    bo, p = BackOffice(central), worked["permits"]
    assert numbers(bo.awaiting(None, search=p["john"]["number"].lower())) == \
        [p["john"]["number"]]
    assert numbers(bo.awaiting(None, search=nid(1))) == [p["fatima"]["number"]]
    arabic_digits = nid(1).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert numbers(bo.awaiting(None, search=arabic_digits)) == [p["fatima"]["number"]]
    assert numbers(bo.awaiting(None, search=nid(1)[:-1])) == []
    assert numbers(bo.awaiting("SOUTH", search=nid(1))) == []  # not in its scope
    # Nothing of a name or national ID is kept in clear in the index.
    with central.engine.connect() as conn:
        tags = conn.execute(sa.select(search_tags.c.tag)).scalars().all()
    assert tags and not any(nid(1) in t or "john" in t.lower() for t in tags)


def test_an_application_page_holds_everything_and_other_municipalities_see_nothing(
        world, worked):
    central, *_ = world
    bo, ahmad = BackOffice(central), worked["permits"]["ahmad"]
    page = bo.application("NORTH", ahmad["number"])
    assert page["fields"]["full_name"] == PEOPLE["ahmad"] and \
        page["fields"]["national_id"] == nid(0)
    assert page["state"] == "paid" and page["office"] == "MUH" and page["decision"] is None
    assert [(p["method"], p["amount_minor"], p["voided"]) for p in page["payments"]] == \
        [("cash", ahmad["fee_minor"], False)]
    assert page["reached_office"] is None and page["licence"] is None
    assert [h["type"] for h in page["history"]] == ["application.submitted", "payment.taken"]
    assert all(h["actor"] and h["received_at"] for h in page["history"])
    certificate = bo.application(None, worked["certificate"]["number"])
    assert certificate["licence"]["number"] == worked["licence"]["number"]
    assert certificate["history"][-1]["type"] == "licence.issued"
    unknown = []
    for who, number in (("SOUTH", ahmad["number"]), ("NORTH", "MUH-D01-A2026-999999")):
        with pytest.raises(CentralError) as refused:
            bo.application(who, number)
        unknown.append((refused.value.status, refused.value.code))
    assert unknown == [(404, "unknown_application")] * 2


def test_a_decision_takes_it_off_the_list_and_the_office_s_approval_is_shown(world, worked):
    central, north, _ = world
    bo, fatima = BackOffice(central), worked["permits"]["fatima"]
    central.decide(fatima["number"], "approved", conditions="no work after 5 pm", by="maryam")
    assert fatima["number"] not in numbers(bo.awaiting(None))
    page = bo.application("NORTH", fatima["number"])
    assert page["decision"]["state"] == "approved" and page["decision"]["decided_by"] == "maryam"
    assert page["reached_office"] is None
    SyncAgent(north).once()  # pulls the decision: the office approves
    SyncAgent(north).once()  # pushes its approval
    reached = bo.application("NORTH", fatima["number"])["reached_office"]
    assert reached["type"] == "application.approved" and reached["at"] and \
        reached["received_at"]
    assert fatima["number"] not in numbers(bo.awaiting(None))


def test_erasure_removes_the_resident_from_the_index(world, worked):
    central, *_ = world
    bo, john = BackOffice(central), worked["permits"]["john"]
    central.erase_resident([john["number"]], "the resident asked")
    assert numbers(bo.awaiting(None, search="John Smith")) == []
    assert numbers(bo.awaiting(None, search=nid(2))) == []
    with central.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(search_tags).where(
            search_tags.c.application_id == john["id"])).scalar() == 0
    page = bo.application(None, john["number"])
    assert page["fields"] == "erased" and page["applicant"] == "erased"
    assert bo.awaiting(None, search=john["number"])["items"][0]["applicant"] == "erased"


def test_the_index_of_older_applications_is_filled_once_at_open(world, worked, clock):
    central, *_ = world
    with central.engine.begin() as conn:
        conn.execute(sa.delete(search_tags))
        conn.execute(sa.delete(meta).where(meta.c.key == backoffice.BACKFILLED))
    assert numbers(BackOffice(central).awaiting(None, search="احمد")) == []
    url = central.engine.url.render_as_string(hide_password=False)
    again = Central.open(central.home, None if url.startswith("sqlite") else url, clock)
    try:
        assert numbers(BackOffice(again).awaiting(None, search="احمد")) == \
            [worked["permits"]["ahmad"]["number"]]
        assert backoffice.backfill(again) == 0  # marked: not again
    finally:
        again.close()


def test_licences_by_number_national_id_and_status(world, worked, clock):
    central, *_ = world
    bo, licence = BackOffice(central), worked["licence"]
    listed = bo.licences("NORTH")["items"]
    assert [(i["number"], i["status"], i["application_number"]) for i in listed] == \
        [(licence["number"], "valid", worked["certificate"]["number"])]
    assert bo.licences("SOUTH")["items"] == []
    for typed in (licence["number"], worked["certificate"]["number"], nid(10), "instant"):
        assert [i["number"] for i in bo.licences(None, search=typed)["items"]] == \
            [licence["number"]]
    central.revoke_licence(licence["number"], "issued in error", by="maryam")
    revoked = bo.licence("NORTH", licence["number"])
    assert revoked["status"] == "revoked" and revoked["revocation"]["reason"] == \
        "issued in error"
    assert [i["number"] for i in bo.licences(None, status="revoked")["items"]] == \
        [licence["number"]]
    assert bo.licences(None, status="valid")["items"] == []
    with pytest.raises(CentralError) as refused:
        bo.licence("SOUTH", licence["number"])
    assert refused.value.status == 404


def test_offices_show_devices_with_version_and_backlog(world, worked):
    central, *_ = world
    bo = BackOffice(central)
    everything = bo.offices(None)
    assert [(o["office"], o["municipality"]) for o in everything] == \
        [("MUH", "NORTH"), ("RIF", "SOUTH")]
    device = everything[0]["devices"][0]
    assert device["role"] == "hub" and device["missing"] == 0 and device["gaps"] == []
    assert device["app_version"] == importlib.metadata.version("nafitha")
    assert device["backlog"] == 0 and device["oldest_pending_at"] is None
    assert [o["office"] for o in bo.offices("SOUTH")] == ["RIF"]
    # An older device sends neither field: "unknown".
    with central.engine.begin() as conn:
        conn.execute(sa.text("UPDATE devices SET app_version = NULL, backlog = 3 "
                             "WHERE office = 'RIF'"))
    south_device = bo.offices("SOUTH")[0]["devices"][0]
    assert south_device["app_version"] == south_device["oldest_pending_at"] == "unknown"


def test_the_agent_tells_the_oldest_unsent_event_and_its_version(world, clock):
    _, north, _ = world
    for _ in range(5):
        north.queue.take_ticket("residence-certificate")
        clock.advance(minutes=1)
    waiting = outbox.pending(north.store, 100)
    north.settings.sync.batch_size = 3
    session = RecordingSession()
    SyncAgent(north, session=session).push()
    first = session.batches[0]
    assert first["oldest_pending_at"] == waiting[3]["at"]
    assert first["app_version"] == importlib.metadata.version("nafitha")
    assert session.batches[-1].get("oldest_pending_at") is None


def test_alerts_silent_office_old_backlog_and_refusals(world, worked, clock):
    central, north, south = world
    bo = BackOffice(central)
    assert bo.alerts(None) == []
    # The north's device reports a backlog whose oldest event is 10 hours old.
    for _ in range(4):
        north.queue.take_ticket("residence-certificate")
    rows = outbox.unsent_rows(north.store, 10)
    oldest = json.loads(rows[2]["body"])["at"]
    clock.advance(hours=10)
    device = central.authenticate(f"Bearer {read_enrolment(north.settings.data_dir)['token']}")
    central.ingest(device, protocol.encode_batch(
        "D01", "MUH", north.store.now(), [r["body"] for r in rows[:2]], pending=len(rows),
        oldest_pending_at=oldest, app_version="0.1.0"), "gzip")
    # The south's device sends something central cannot read.
    south_device = central.authenticate(
        f"Bearer {read_enrolment(south.settings.data_dir)['token']}")
    with pytest.raises(CentralError):
        central.ingest(south_device, b"not gzip", "gzip")
    kinds = {(a["kind"], a["office"]) for a in bo.alerts(None)}
    assert kinds == {("backlog", "MUH"), ("refused", "RIF")}
    assert [a["kind"] for a in bo.alerts("NORTH")] == ["backlog"]
    backlog = bo.alerts("NORTH")[0]
    assert backlog["since"] == oldest and backlog["count"] == 2
    # A day and more later, both are silent; the refusal is older than 24 hours.
    later = clock.now().replace(microsecond=0) + __import__("datetime").timedelta(hours=30)
    kinds = {(a["kind"], a["office"]) for a in bo.alerts(None, now=later)}
    assert kinds == {("silent", "MUH"), ("silent", "RIF"), ("backlog", "MUH")}
    assert bo.alerts(None, now=later, silent_after_h=48, backlog_older_than_h=48) == []


@pytest.mark.parametrize("call, code", [
    (lambda bo: bo.awaiting(None, limit=0), "invalid_limit"),
    (lambda bo: bo.awaiting(None, limit=10_000), "invalid_limit"),
    (lambda bo: bo.awaiting(None, limit=True), "invalid_limit"),
    (lambda bo: bo.awaiting(None, after="not a cursor"), "invalid_cursor"),
    (lambda bo: bo.awaiting(None, after=base64.urlsafe_b64encode(b'{"a": 1}').decode()),
     "invalid_cursor"),
    (lambda bo: bo.awaiting(None, search="x" * 500), "invalid_search"),
    (lambda bo: bo.awaiting(None, search="Ahmad\x00"), "invalid_search"),
    (lambda bo: bo.awaiting(None, search="a b c d e f g h i j"), "invalid_search"),
    (lambda bo: bo.awaiting(None, service="x'; DROP TABLE awaiting; --"), "invalid_service"),
    (lambda bo: bo.awaiting(None, older_than_days=-1), "invalid_age"),
    (lambda bo: bo.awaiting(None, office="muh\x00"), "invalid_office"),
    (lambda bo: bo.licences(None, status="lost"), "invalid_status"),
    (lambda bo: bo.licences(None, after="%%%"), "invalid_cursor"),
    (lambda bo: bo.alerts(None, silent_after_h=0), "invalid_threshold"),
    (lambda bo: bo.alerts(None, now="yesterday"), "invalid_time"),
])
def test_bad_input_is_refused_clearly_and_changes_nothing(world, worked, call, code):
    central, *_ = world
    before = state_of(central)
    with pytest.raises(CentralError) as refused:
        call(BackOffice(central))
    assert (refused.value.status, refused.value.code) == (422, code)
    assert refused.value.message
    assert state_of(central) == before


def test_an_unknown_municipality_is_not_found(world):
    central, *_ = world
    for call in (lambda bo: bo.awaiting("NOWHERE"), lambda bo: bo.offices("NOWHERE"),
                 lambda bo: bo.application("NOWHERE\x00", "X")):
        with pytest.raises(CentralError) as refused:
            call(BackOffice(central))
        assert (refused.value.status, refused.value.code) == (404, "unknown_municipality")


def test_a_batch_field_of_the_wrong_shape_is_refused(world):
    central, north, _ = world
    north.queue.take_ticket("residence-certificate")
    device = central.authenticate(f"Bearer {read_enrolment(north.settings.data_dir)['token']}")
    bodies = [r["body"] for r in outbox.unsent_rows(north.store, 10)]
    for extra in ({"oldest_pending_at": "last week"}, {"app_version": ""},
                  {"app_version": "1.0\n"}):
        with pytest.raises(CentralError) as refused:
            central.ingest(device, protocol.encode_batch("D01", "MUH", north.store.now(),
                                                         bodies, 1, **extra), "gzip")
        assert refused.value.status == 422
    assert central.counts()["events"] == 0
    with central.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(awaiting)).scalar() == 0
