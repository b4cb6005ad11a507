"""The durable store: pragmas, migrations, atomic(), file modes, and files it must refuse."""
import errno
import hashlib
import os
import random
import sqlite3
import stat
import subprocess

import pytest

from core import migrations
from core.clock import FrozenClock, UlidFactory
from core.errors import StoreError
from core.office import Office
from core.settings import load_settings
from core.store import Store


def counts(store) -> dict:
    return {t: store.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("tickets", "ticket_events", "applications", "audit", "outbox",
                      "sequences")}


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_pragmas(office, settings):
    conn = office.store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == settings.store.busy_timeout_ms
    assert settings.store.busy_timeout_ms > 0


def test_busy_timeout_comes_from_settings(tmp_path, clock, ids):
    s = load_settings(tmp_path, environ={"NAFITHA_STORE__BUSY_TIMEOUT_MS": "1234"})
    office = Office.open(s, clock=clock, ids=ids)
    try:
        assert office.store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 1234
    finally:
        office.close()


def test_foreign_keys_are_enforced(office):
    import sqlite3
    with pytest.raises(sqlite3.IntegrityError):
        office.store.conn.execute(
            "INSERT INTO ticket_events(ticket_id, at, to_state, service_code, actor) "
            "VALUES ('no-such-ticket', 'x', 'waiting', 'r', 'me')")


def test_migrations_recorded_in_user_version(office):
    version = office.store.conn.execute("PRAGMA user_version").fetchone()[0]
    assert version == len(migrations.MIGRATIONS) >= 1
    tables = {r[0] for r in office.store.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"identity", "sequences", "audit", "audit_head", "outbox", "tickets",
            "ticket_events", "applications", "payments", "shifts", "licences",
            "users", "counters"} <= tables


def test_reopen_is_idempotent_and_keeps_data(settings, clock, ids):
    office = Office.open(settings, clock=clock, ids=ids)
    ticket = office.queue.take_ticket("R")
    before = counts(office.store)
    office.close()
    for _ in range(2):
        office = Office.open(settings, clock=clock, ids=ids)
        assert office.store.conn.execute("PRAGMA user_version").fetchone()[0] == \
            len(migrations.MIGRATIONS)
        assert counts(office.store) == before
        assert office.store.conn.execute("SELECT COUNT(*) FROM identity").fetchone()[0] == 1
        assert office.queue.get(ticket["id"])["number"] == "R001"
        office.close()


def test_a_new_migration_is_applied_once_on_reopen(settings, clock, ids, monkeypatch):
    Office.open(settings, clock=clock, ids=ids).close()
    calls = []
    shipped = len(migrations.MIGRATIONS)

    def m_next_add_note(db):
        calls.append(1)
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, m_next_add_note])
    for _ in range(2):
        office = Office.open(settings, clock=clock, ids=ids)
        assert office.store.conn.execute("PRAGMA user_version").fetchone()[0] == shipped + 1
        office.store.conn.execute("SELECT * FROM notes").fetchall()
        office.close()
    assert calls == [1]


def test_a_failing_migration_changes_nothing(settings, clock, ids, monkeypatch):
    Office.open(settings, clock=clock, ids=ids).close()
    shipped = len(migrations.MIGRATIONS)

    def m_next_broken(db):
        db.execute("CREATE TABLE half_done (id INTEGER)")
        db.execute("THIS IS NOT SQL")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, m_next_broken])
    with pytest.raises(StoreError) as info:
        Office.open(settings, clock=clock, ids=ids)
    assert str(settings.db_path) in str(info.value)
    monkeypatch.undo()
    office = Office.open(settings, clock=clock, ids=ids)
    conn = office.store.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == shipped
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'"
                        ).fetchone()[0] == 0
    office.close()


def test_a_migration_that_breaks_a_foreign_key_is_refused(settings, clock, ids, monkeypatch):
    # migrations run with foreign keys off (a table rebuild needs it), so apply() checks
    # them itself before committing
    office = Office.open(settings, clock=clock, ids=ids)
    ticket = office.queue.take_ticket("R")
    before = counts(office.store)
    office.close()
    shipped = len(migrations.MIGRATIONS)

    def m_next_orphans_events(db):
        db.execute("DELETE FROM tickets")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS,
                                                   m_next_orphans_events])
    with pytest.raises(StoreError, match="ticket_events row 1 -> tickets"):
        Office.open(settings, clock=clock, ids=ids)
    monkeypatch.undo()
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        conn = office.store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == shipped
        assert counts(office.store) == before
        assert office.queue.get(ticket["id"])["number"] == "R001"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        office.close()


def test_store_written_by_a_newer_version_is_refused(settings, clock, ids):
    office = Office.open(settings, clock=clock, ids=ids)
    office.store.conn.execute("PRAGMA user_version = 99")
    office.close()
    with pytest.raises(StoreError) as info:
        Office.open(settings, clock=clock, ids=ids)
    assert "newer" in str(info.value) and "99" in str(info.value)


def test_atomic_rolls_back_everything(office):
    store = office.store
    before = counts(store)
    with pytest.raises(RuntimeError):
        with store.atomic():
            office.queue.take_ticket("R")  # nested: joins the outer transaction
            office.applications.submit("residence-certificate", {
                "full_name": "Ali", "national_id": "850101239", "phone": "33334444",
                "block": "1", "road": "2", "building": "3"})
            # the ticket, the application and its bill (core/bills.py)
            assert counts(store)["outbox"] == before["outbox"] + 3
            raise RuntimeError("power cut")
    assert counts(store) == before
    assert store.conn.execute("SELECT * FROM audit_head").fetchall() == []
    assert not store.in_transaction()
    # the numbers taken inside come back: the next ticket is still R001
    assert office.queue.take_ticket("R")["number"] == "R001"
    assert office.verify_audit()["ok"]


def test_atomic_commits_nested_work_once(office):
    with office.store.atomic():
        office.queue.take_ticket("R")
        office.queue.take_ticket("R")
        assert office.store.conn.in_transaction
    assert not office.store.conn.in_transaction
    assert counts(office.store)["tickets"] == 2


def test_actor_is_recorded_and_restored(office):
    with office.acting_as("sara"):
        office.queue.take_ticket("R")
    office.queue.take_ticket("R")
    actors = [r[0] for r in office.store.conn.execute("SELECT actor FROM audit ORDER BY seq")]
    assert actors == ["sara", "system"]


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_database_files_are_private(office, settings):
    office.queue.take_ticket("R")
    db = settings.db_path
    assert mode(db) == 0o600
    wal = db.with_name(db.name + "-wal")
    assert wal.exists()  # WAL mode with an uncheckpointed write
    assert mode(wal) == 0o600
    shm = db.with_name(db.name + "-shm")
    if shm.exists():
        assert mode(shm) == 0o600


def test_existing_database_is_made_private(settings, clock, ids):
    Office.open(settings, clock=clock, ids=ids).close()
    os.chmod(settings.db_path, 0o644)
    Office.open(settings, clock=clock, ids=ids).close()
    assert mode(settings.db_path) == 0o600


def test_new_data_directory_is_created_private(tmp_path, clock, ids):
    s = load_settings(tmp_path / "a" / "b", environ={})
    Office.open(s, clock=clock, ids=ids).close()
    assert s.db_path.exists()
    assert mode(tmp_path / "a" / "b") == 0o700


@pytest.mark.parametrize("content", [
    b"hello",
    random.Random(3).randbytes(8192),
    b"SQLite format 2\x00" + bytes(4080),
])
def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path, clock, ids, content):
    db = tmp_path / "nafitha.db"
    db.write_bytes(content)
    os.chmod(db, 0o644)
    with pytest.raises(StoreError) as info:
        Store.open(db, clock, ids)
    message = str(info.value)
    assert str(db) in message and "not a SQLite database" in message
    assert info.value.code == "store_unusable"
    assert db.read_bytes() == content
    assert mode(db) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nafitha.db"]


def test_a_damaged_sqlite_file_is_refused_and_its_bytes_unchanged(settings, clock, ids):
    office = Office.open(settings, clock=clock, ids=ids)
    for _ in range(200):
        office.queue.take_ticket("R")
    office.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    office.close()
    db = settings.db_path
    data = db.read_bytes()
    assert len(data) > 8192
    # keep the valid header page, overwrite the rest with noise
    db.write_bytes(data[:4096] + random.Random(4).randbytes(len(data) - 4096))
    before = sha(db)
    with pytest.raises(StoreError) as info:
        Office.open(settings, clock=clock, ids=ids)
    assert str(db) in str(info.value)
    assert "malformed" in str(info.value) or "damaged" in str(info.value)
    assert sha(db) == before


def test_a_directory_in_place_of_the_database(tmp_path, clock, ids):
    (tmp_path / "nafitha.db").mkdir()
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path / "nafitha.db", clock, ids)


def access_by_permission_bits(path, mode_wanted, *args, **kwargs):
    """os.access as an unprivileged owner sees it: from the permission bits alone.

    The tests run as root, and for root os.access(W_OK) is True whatever the bits say (and
    the kernel really would let root write). So for the read-only-directory test we answer
    as the kiosk's unprivileged account would, which is the case the check exists for."""
    bits = stat.S_IMODE(os.stat(path).st_mode)
    needed = ((mode_wanted & os.R_OK and not bits & stat.S_IRUSR)
              or (mode_wanted & os.W_OK and not bits & stat.S_IWUSR)
              or (mode_wanted & os.X_OK and not bits & stat.S_IXUSR))
    return not needed


def test_read_only_data_directory_is_refused_and_nothing_is_created(tmp_path, clock, ids,
                                                                     monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o500)
    try:
        if os.geteuid() == 0:
            monkeypatch.setattr("core.store.os.access", access_by_permission_bits)
        settings = load_settings(data, environ={})
        with pytest.raises(StoreError) as info:
            Office.open(settings, clock=clock, ids=ids)
        assert str(data) in str(info.value) and "not writable" in str(info.value)
        assert list(data.iterdir()) == []
    finally:
        os.chmod(data, 0o700)


def test_kernel_refusal_despite_os_access_is_a_store_error(tmp_path, clock, ids, monkeypatch):
    # A read-only mount (or an immutable directory) refuses even root, while os.access may
    # still say yes; the creation error must come out as a StoreError, not an OSError.
    real_open = os.open

    def read_only_fs(path, flags, *args):
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr("core.store.os.open", read_only_fs)
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path / "nafitha.db", clock, ids)
    assert "Read-only file system" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_opening_with_another_device_id_is_refused(settings, clock, ids):
    Office.open(settings, clock=clock, ids=ids).close()
    other = load_settings(settings.data_dir, environ={"NAFITHA_DEVICE__ID": "D02"})
    before = sha(settings.db_path)
    with pytest.raises(StoreError) as info:
        Office.open(other, clock=clock, ids=ids)
    message = str(info.value)
    assert "D01" in message and "D02" in message and "MUH" in message
    assert sha(settings.db_path) == before


def test_opening_with_another_office_code_is_refused(settings, clock, ids):
    Office.open(settings, clock=clock, ids=ids).close()
    other = load_settings(settings.data_dir, environ={"NAFITHA_OFFICE__CODE": "RIF"})
    with pytest.raises(StoreError, match="RIF"):
        Office.open(other, clock=clock, ids=ids)


def test_sequences_are_taken_only_inside_atomic(office):
    with pytest.raises(AssertionError):
        office.store.next_sequence("receipt")
    with office.store.atomic():
        assert office.store.next_sequence("x") == 1
        assert office.store.next_sequence("x") == 2
    with pytest.raises(ZeroDivisionError):
        with office.store.atomic():
            assert office.store.next_sequence("x") == 3
            1 / 0
    with office.store.atomic():
        assert office.store.next_sequence("x") == 3


def test_ids_are_deterministic_with_a_seeded_factory(tmp_path):
    a = UlidFactory(FrozenClock(), random.Random(7))
    b = UlidFactory(FrozenClock(), random.Random(7))
    first = [a.new() for _ in range(5)]
    assert first == [b.new() for _ in range(5)]
    assert first == sorted(first) and len(set(first)) == 5


def test_read_only_data_directory_for_real(tmp_path, clock, ids):
    """No monkeypatching: root ignores permission bits, so as root the directory is made
    immutable (chattr +i), which the kernel enforces even for root."""
    data = tmp_path / "ro"
    data.mkdir()
    as_root = os.geteuid() == 0
    if as_root:
        subprocess.run(["chattr", "+i", str(data)], check=True)
    else:
        os.chmod(data, 0o500)
    try:
        with pytest.raises(StoreError) as info:
            Office.open(load_settings(data, environ={}), clock=clock, ids=ids)
        assert str(data) in str(info.value)
        assert list(data.iterdir()) == []
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(data)], check=True)
        else:
            os.chmod(data, 0o700)


def test_another_programs_sqlite_database_is_refused_and_untouched(tmp_path, clock, ids):
    path = tmp_path / "nafitha.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        Office.open(load_settings(tmp_path, environ={}), clock=clock, ids=ids)
    assert "another program" in str(info.value) and "invoices" in str(info.value)
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["invoices"]
    conn.close()
    assert len(path.read_bytes()) == len(before)
