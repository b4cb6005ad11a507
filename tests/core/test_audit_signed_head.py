"""The audit head signed with the device key: a log rewritten end to end (every hash
recomputed up to the head) is caught, so is a head signed by another key; an unsigned or
tampered head is never signed again by the next operation; a new key or an upgraded store
is sealed only when the whole chain checks out. Tampering is done on the SQLite rows."""
import json

import pytest

from core import audit, migrations
from core.credentials import ceremony, keys
from core.credentials.trust import device_key_path
from core.errors import InvalidState
from core.office import Office


@pytest.fixture
def worked(office, submit_valid, till, clock):
    """A certified office after a ticket, an application, a payment and a licence."""
    t = office.queue.take_ticket("R")
    app = submit_valid()
    clock.advance(minutes=1)
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=2000)
    office.licences.issue(app["id"])
    office.queue.cancel(t["id"])
    return office


def head(office) -> dict:
    return office.store.one("SELECT * FROM audit_head")


def rewrite_from(office, seq: int, edit) -> None:
    """What someone with the database file but not the key does: edit entry `seq`, then
    recompute every hash after it and the head, so the chain itself is intact."""
    conn = office.store.conn
    rows = office.store.all("SELECT * FROM audit WHERE seq >= ? ORDER BY seq", (seq,))
    prev = office.store.one("SELECT hash FROM audit WHERE seq = ?", (seq - 1,))
    prev_hash = prev["hash"] if prev else audit.GENESIS
    for row in rows:
        row["data"] = json.loads(row["data"])
        if row["seq"] == seq:
            edit(row)
        row["prev_hash"] = prev_hash
        row["hash"] = audit.audit_hash(row)
        conn.execute("UPDATE audit SET actor = ?, data = ?, prev_hash = ?, hash = ? "
                     "WHERE seq = ?", (row["actor"], json.dumps(row["data"]), row["prev_hash"],
                                       row["hash"], row["seq"]))
        prev_hash = row["hash"]
    conn.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (prev_hash,))


def payment_seq(office) -> int:
    return office.store.one("SELECT seq FROM audit WHERE action = 'payment.taken'")["seq"]


def pocket_nine_tenths(row):
    row["data"]["amount_minor"] //= 10  # 1.000 BHD recorded as 0.100


def test_every_commit_signs_the_head_with_the_device_key(worked, settings):
    result = worked.verify_audit()
    assert result["ok"] and result["signed"]
    record = head(worked)
    public = keys.public_bytes(keys.read_private(device_key_path(settings.data_dir)))
    assert record["signer"] == public.hex()
    message = json.dumps({"context": "nafitha.audit-head.v1", "device": "MUH/D01",
                          "hash": record["hash"], "seq": record["seq"]},
                         separators=(",", ":")).encode()
    assert keys.signature_ok(public, bytes.fromhex(record["signature"]), message)


def test_a_payment_edited_with_every_hash_recomputed_is_caught(worked):
    seq = payment_seq(worked)
    rewrite_from(worked, seq, pocket_nine_tenths)
    result = audit.verify_chain(worked.store)  # the chain alone looks intact...
    assert result["ok"]
    result = worked.verify_audit()  # ...the signed head does not
    assert not result["ok"] and not result["signed"]
    assert result["problems"] == ["the head's signature does not match it (the log was "
                                  "rewritten)"]


def test_a_head_signed_by_another_devices_key_is_refused(worked):
    rewrite_from(worked, payment_seq(worked), pocket_nine_tenths)
    other = keys.generate()  # e.g. the key of another device of the same office
    record = head(worked)
    signature = other.sign(audit.head_message(worked.store, record["seq"], record["hash"]))
    worked.store.conn.execute("UPDATE audit_head SET signature = ?, signer = ?",
                              (signature.hex(), keys.public_bytes(other).hex()))
    assert worked.verify_audit()["problems"] == [
        "the head is signed by another key, not this device's"]
    # claiming to be this device's key does not help: the signature is checked
    worked.store.conn.execute("UPDATE audit_head SET signer = ?",
                              (keys.public_bytes(worked.store.head_key.private()).hex(),))
    assert worked.verify_audit()["problems"] == [
        "the head's signature does not match it (the log was rewritten)"]


def test_another_devices_signed_head_does_not_fit_this_device(worked, settings):
    """The signature binds office and device: the same key's signature over the same head
    for D02 is not D01's."""
    record = head(worked)
    key = worked.store.head_key.private()
    worked.store.device_id = "D02"
    try:
        forged = key.sign(audit.head_message(worked.store, record["seq"], record["hash"]))
    finally:
        worked.store.device_id = "D01"
    worked.store.conn.execute("UPDATE audit_head SET signature = ?", (forged.hex(),))
    assert not worked.verify_audit()["ok"]


def test_a_stripped_signature_is_reported_and_never_laundered(worked, clock):
    rewrite_from(worked, payment_seq(worked), pocket_nine_tenths)
    worked.store.conn.execute("UPDATE audit_head SET signature = NULL, signer = NULL")
    assert "the head is not signed by this device's key" in worked.verify_audit()["problems"][0]
    worked.queue.take_ticket("R")  # the next operation chains on, but does not sign
    record = head(worked)
    assert record["signature"] is None
    assert not worked.verify_audit()["ok"]


def test_a_rewritten_head_stays_caught_after_more_work(worked):
    rewrite_from(worked, payment_seq(worked), pocket_nine_tenths)
    before = worked.verify_audit()["problems"]
    worked.queue.take_ticket("R")
    worked.queue.take_ticket("B")
    record = head(worked)
    assert record["signature"] is None  # the stale signature is cleared, not renewed
    assert not worked.verify_audit()["ok"] and before


def test_a_failed_operation_leaves_the_signed_head_as_it_was(worked):
    before = head(worked)
    with pytest.raises(Exception):
        with worked.store.atomic():
            worked.store.record("ticket.taken", "ticket", "X", {"n": 1})
            raise RuntimeError("the printer caught fire")
    assert head(worked) == before and worked.verify_audit()["ok"]


def test_signed_head_verifies_after_reopen(worked, settings, clock, ids):
    worked.close()
    again = Office.open(settings, clock=clock, ids=ids)
    try:
        result = again.verify_audit()
        assert result["ok"] and result["signed"]
    finally:
        again.close()


@pytest.fixture
def keyless(settings, clock, ids):
    office = Office.open(settings, clock=clock, ids=ids)
    yield office
    office.close()


def test_without_a_key_the_head_is_unsigned_and_that_is_not_a_problem(keyless):
    keyless.queue.take_ticket("R")
    result = keyless.verify_audit()
    assert result["ok"] and not result["signed"]
    assert head(keyless)["signature"] is None


def test_a_new_key_seals_the_intact_log_and_signs_from_then_on(keyless, settings, clock,
                                                                ids):
    keyless.queue.take_ticket("R")
    # another process (`nafitha keys request`) creates the key while this one runs
    other = Office.open(settings, clock=clock, ids=ids)
    try:
        request = other.request_key()
    finally:
        other.close()
    assert request["device_id"] == "D01"
    assert keyless.verify_audit()["signed"]
    keyless.queue.take_ticket("B")  # this process picked the new key up
    result = keyless.verify_audit()
    assert result["ok"] and result["signed"] and result["entries"] == 2


def test_a_key_created_without_sealing_leaves_the_head_unsigned(keyless, settings):
    keyless.queue.take_ticket("R")
    ceremony.request(settings.data_dir, "D01", "MUH")  # the key alone, no seal
    keyless.queue.take_ticket("B")
    assert head(keyless)["signature"] is None
    assert not keyless.verify_audit()["ok"]
    assert keyless.seal_audit() == {"sealed": True, "entries": 2}
    assert keyless.verify_audit()["ok"] and keyless.seal_audit()["sealed"] is False


def test_a_broken_log_is_not_sealed(keyless, settings):
    keyless.queue.take_ticket("R")
    keyless.queue.take_ticket("B")
    keyless.store.conn.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 1")
    ceremony.request(settings.data_dir, "D01", "MUH")
    with pytest.raises(InvalidState, match="not intact"):
        keyless.seal_audit()
    keyless.request_key()  # the CLI path: the key is kept, the head stays unsigned
    assert head(keyless)["signature"] is None
    assert "entry 1 was altered (hash mismatch)" in keyless.verify_audit()["problems"]


def old_store(settings, clock, ids, monkeypatch, tamper=False):
    """A store written by a Nafitha before signed heads (schema 9), with a device key."""
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:9])
    office = Office.open(settings, clock=clock, ids=ids)
    office.queue.take_ticket("R")
    office.queue.take_ticket("B")
    if tamper:
        office.store.conn.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
    office.close()
    monkeypatch.undo()
    ceremony.request(settings.data_dir, "D01", "MUH")


def test_upgrading_to_signed_heads_seals_an_intact_log(settings, clock, ids, monkeypatch):
    old_store(settings, clock, ids, monkeypatch)
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        assert office.store.conn.execute("PRAGMA user_version").fetchone()[0] == \
            len(migrations.MIGRATIONS)
        result = office.verify_audit()
        assert result["ok"] and result["signed"] and result["entries"] == 2
    finally:
        office.close()


def test_upgrading_does_not_seal_a_tampered_log(settings, clock, ids, monkeypatch):
    old_store(settings, clock, ids, monkeypatch, tamper=True)
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        assert head(office)["signature"] is None
        problems = office.verify_audit()["problems"]
        assert "entry 2 was altered (hash mismatch)" in problems
        assert any("not signed" in p for p in problems)
    finally:
        office.close()


def test_entries_undone_by_a_savepoint_are_not_what_gets_signed(worked):
    """A back-office decision that fails inside a bundle is rolled back to its savepoint:
    the head signed at commit is the one that stays."""
    store = worked.store
    with store.atomic():
        store.record("ticket.taken", "ticket", "A", {"n": 1})
        with pytest.raises(RuntimeError):
            with store.savepoint():
                store.record("ticket.taken", "ticket", "B", {"n": 2})
                raise RuntimeError("refused")
    assert worked.verify_audit()["ok"] and worked.verify_audit()["signed"]
    with store.atomic():  # nothing kept at all: the head is the one before
        with pytest.raises(RuntimeError):
            with store.savepoint():
                store.record("ticket.taken", "ticket", "C", {"n": 3})
                raise RuntimeError("refused")
    assert worked.verify_audit()["ok"] and worked.verify_audit()["signed"]
