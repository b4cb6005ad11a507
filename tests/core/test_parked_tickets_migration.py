"""m006: tickets accept the 'parked' state; an existing store keeps its tickets, their events,
the applications that refer to them, the indexes and the foreign keys."""
import sqlite3

import pytest

from core import migrations
from core.office import Office

RELATED = ("tickets", "ticket_events", "applications", "audit", "outbox")


def rows(office, table):
    found = [list(r) for r in office.store.conn.execute(f"SELECT * FROM {table}")]
    if table == "applications":  # m012 seals the fields: compare what they say
        for r in found:
            r[4] = office.applications.fields_of({"id": r[0], "fields": r[4]})
    return sorted(map(tuple, found), key=repr)


def schema(office, name):
    return office.store.one("SELECT sql FROM sqlite_master WHERE name = ?", (name,))["sql"]


@pytest.fixture
def before_m006(settings, clock, ids, monkeypatch, valid_nid):
    """A store at schema 5 with tickets in every state it allowed, their events and an
    application that refers to a ticket; returns its rows, closed."""
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:5])
    office = Office.open(settings, clock=clock, ids=ids)
    q = office.queue
    served = q.take_ticket("R")
    q.call_next("1")
    q.start_serving(served["id"])
    q.finish(served["id"])
    resident = {"full_name": "Ali Hasan", "national_id": valid_nid(), "phone": "33123456",
                "block": "204", "road": "15", "building": "12"}
    office.applications.submit("R", resident, ticket=served["number"])
    q.take_ticket("R")
    q.call_next("2")
    q.take_ticket("B", "elderly")
    q.cancel(q.take_ticket("E")["id"])
    old = {t: rows(office, t) for t in RELATED}
    indexes = {n: schema(office, n) for n in ("tickets_waiting", "tickets_day_number")}
    assert office.store.conn.execute("PRAGMA user_version").fetchone()[0] == 5
    office.close()
    monkeypatch.undo()
    return old, indexes


def test_upgrade_keeps_tickets_events_and_references(before_m006, settings, clock, ids):
    old, indexes = before_m006
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        conn = office.store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations.MIGRATIONS)
        # later migrations may append columns (m009: outbox held_*): compare what was there
        assert {t: [r[:len(old[t][0])] for r in rows(office, t)] for t in RELATED} == old
        assert len(old["tickets"]) == 4 and len(old["ticket_events"]) == 9
        assert {n: schema(office, n) for n in indexes} == indexes
        assert "UNIQUE (day, prefix, daily_seq)" in schema(office, "tickets")
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'tickets_new'"
                            ).fetchone()[0] == 0
        # the children still refer to tickets(id), foreign keys are on and hold
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        for child in ("ticket_events", "applications"):
            assert [(r[2], r[4]) for r in conn.execute(
                f"PRAGMA foreign_key_list({child})") if r[3] == "ticket_id"] == [("tickets", "id")]
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO ticket_events(ticket_id, at, to_state, service_code, "
                         "actor) VALUES ('no-such-ticket', 'x', 'waiting', 'r', 'me')")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE tickets SET state = 'lost'")
        # the ticket called before the upgrade can be parked and resumed
        called = office.queue.list(("called",))[0]
        assert office.queue.park(called["number"])["state"] == "parked"
        assert office.queue.resume(called["number"])["state"] == "serving"
        assert office.queue.call_next("1")["number"] == "B001"
    finally:
        office.close()
