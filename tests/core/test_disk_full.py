"""Disk full at the store (issue 23, "Disk full"): an operation that hits SQLITE_FULL (the disk
made genuinely full for the file with SQLite's max_page_count) or ENOSPC ends with DiskFull,
rolled back whole: rows, audit log and outbox as they were; the store says so
(`store.disk_full`) until an operation commits again, and works once there is room."""
import errno

import pytest

from core.errors import DiskFull, StoreError, is_disk_full
from hubclient.connection import error_from


def fill_the_disk(store) -> None:
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")


def room_again(store) -> None:
    store.conn.execute("PRAGMA max_page_count = 1073741823")


def counts(office) -> dict:
    one = office.store.one
    return {"applications": one("SELECT COUNT(*) AS n FROM applications")["n"],
            "audit": one("SELECT COUNT(*) AS n FROM audit")["n"],
            "outbox": one("SELECT COUNT(*) AS n FROM outbox")["n"]}


def test_a_full_disk_refuses_an_application_and_changes_nothing(office, submit_valid, db_state):
    submit_valid()
    fill_the_disk(office.store)
    before, seen = db_state(), counts(office)
    with pytest.raises(DiskFull) as full:
        for _ in range(500):  # until the next page is needed
            submit_valid()
            before, seen = db_state(), counts(office)
    exc = full.value
    assert isinstance(exc, StoreError) and is_disk_full(exc)
    assert exc.details["reason"] == "disk_full" and exc.details["fault"] == "SQLITE_FULL"
    assert exc.message.startswith("the disk is full: ") and exc.message.endswith(
        "; nothing was changed")
    assert exc.to_dict()["reason"] == "disk_full"
    # Nothing half-written: every row, the audit chain and the outbox as before the refusal.
    assert not office.store.conn.in_transaction
    assert db_state() == before and counts(office) == seen
    assert office.store.disk_full is True
    room_again(office.store)
    app = submit_valid()
    assert office.store.disk_full is False
    after = counts(office)
    assert after["applications"] == seen["applications"] + 1
    assert after["audit"] > seen["audit"] and after["outbox"] > seen["outbox"]
    assert office.applications.get(app["id"])["number"] == app["number"]
    assert office.verify_audit()["ok"]


def test_enospc_inside_an_operation_is_disk_full_and_rolled_back(office, db_state):
    before = db_state()

    def write_then_no_space():
        with office.store.atomic():
            office.queue.take_ticket("R")  # nested: its rows are in this transaction
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFull) as full:
        write_then_no_space()
    assert full.value.details["reason"] == "disk_full"
    assert db_state() == before and office.store.disk_full is True
    office.queue.take_ticket("R")
    assert office.store.disk_full is False


def test_other_store_faults_are_not_called_disk_full(office):
    assert not is_disk_full(StoreError("x.db is damaged; restore it from a backup"))
    assert not is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_disk_full(None)


def test_a_full_disk_reported_by_the_hub_is_still_disk_full():
    # A service centre's kiosk gets the hub's JSON (code store_unusable, reason disk_full).
    payload = DiskFull("the disk is full: /data/nafitha.db could not be written; nothing "
                       "was changed", path="/data/nafitha.db").to_dict()
    assert payload["error"] == "store_unusable"
    again = error_from(payload, 503)
    assert isinstance(again, StoreError) and is_disk_full(again)
    assert not is_disk_full(error_from({"error": "store_unusable", "message": "busy"}, 503))
