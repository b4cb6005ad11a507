"""Faults of the disk or the file (a full disk, played by SQLite's max_page_count) end an
operation with one StoreError that says so and that nothing was changed; the store is whole
and usable once there is room again. (The CLI's one line: tests/cli/test_cli_store_faults.py;
the hub's JSON 503: tests/hub/test_hub_store_faults.py.)"""
import pytest

from core.errors import StoreError
from core.store import Store


def fill_the_disk(store) -> int:
    """No page can be added to the file any more (per connection)."""
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    return pages


def test_a_full_disk_is_one_store_error_and_changes_nothing(office, db_state):
    office.queue.take_ticket("R")
    fill_the_disk(office.store)
    before = db_state()
    with pytest.raises(StoreError) as full:
        for _ in range(500):  # until the next page is needed
            office.queue.take_ticket("R")
            before = db_state()
    assert full.value.message.startswith("the disk is full: ")
    assert full.value.message.endswith("; nothing was changed")
    assert full.value.details["fault"] == "SQLITE_FULL"
    assert isinstance(full.value.__cause__, Exception)  # the SQLite error, kept for logs
    assert not office.store.conn.in_transaction and db_state() == before
    office.store.conn.execute("PRAGMA max_page_count = 1073741823")  # room again
    office.queue.take_ticket("R")
    assert office.verify_audit()["ok"] and office.verify_audit()["signed"]


def test_an_integrity_error_is_not_called_a_disk_fault(office):
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError):
        with office.store.atomic():
            office.store.conn.execute("INSERT INTO identity(device_id, office_code, "
                                      "created_at) VALUES (NULL, 'X', 'x')")
