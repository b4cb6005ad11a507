"""The hash-chained audit log: intact after real work; an edited, removed (middle or tail) or
swapped entry is found by verify_audit(). Tampering is done on the SQLite rows directly."""
import json

import pytest

from core.audit import audit_hash


@pytest.fixture
def worked(office, submit_valid, till, clock):
    """An office after a morning of ordinary operations (11 audit entries)."""
    t = office.queue.take_ticket("R")
    office.queue.call_next("1")
    office.queue.start_serving(t["id"])
    app = submit_valid()
    clock.advance(minutes=1)
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=2000)
    lic = office.licences.issue(app["id"])
    office.licences.record_reprint(lic["id"], "jam")
    office.queue.finish(t["id"])
    return office


def entries(office) -> int:
    return office.store.one("SELECT COUNT(*) AS n FROM audit")["n"]


def test_chain_is_intact_after_operations(worked):
    result = worked.verify_audit()
    assert result["ok"] and result["problems"] == []
    assert result["entries"] == entries(worked) == 12
    actions = [r["action"] for r in worked.store.all("SELECT action FROM audit ORDER BY seq")]
    assert actions == ["user.created", "user.created", "shift.opened", "ticket.taken",
                       "ticket.called", "ticket.serving", "application.submitted",
                       "bill.issued", "payment.taken", "licence.issued", "licence.reprinted",
                       "ticket.finished"]
    head = worked.store.one("SELECT seq, hash FROM audit_head")
    assert result["head"] == head["hash"] and head["seq"] == result["entries"]


def test_each_entry_links_to_the_one_before(worked):
    rows = worked.store.all("SELECT * FROM audit ORDER BY seq")
    assert rows[0]["prev_hash"] == "0" * 64
    for before, after in zip(rows, rows[1:]):
        assert after["prev_hash"] == before["hash"]
        assert after["seq"] == before["seq"] + 1


def test_empty_log_verifies(office):
    assert office.verify_audit() == {"ok": True, "entries": 0, "problems": [], "head": None,
                                     "signed": False}


def test_edited_entry_is_detected(worked):
    row = worked.store.one("SELECT seq, data FROM audit WHERE action = 'payment.taken'")
    data = json.loads(row["data"])
    data["amount_minor"] = 1  # someone pockets the rest
    worked.store.conn.execute("UPDATE audit SET data = ? WHERE seq = ?",
                              (json.dumps(data), row["seq"]))
    result = worked.verify_audit()
    assert not result["ok"]
    assert f"entry {row['seq']} was altered (hash mismatch)" in result["problems"]


@pytest.mark.parametrize("column, value", [("actor", "nobody"), ("at", "2020-01-01"),
                                           ("action", "ticket.cancelled"),
                                           ("entity_id", "X")])
def test_any_edited_column_is_detected(worked, column, value):
    worked.store.conn.execute(f"UPDATE audit SET {column} = ? WHERE seq = 3", (value,))
    assert "entry 3 was altered (hash mismatch)" in worked.verify_audit()["problems"]


def test_edit_with_a_recomputed_hash_breaks_the_next_link(worked):
    row = worked.store.one("SELECT * FROM audit WHERE seq = 4")
    row["actor"] = "mallory"
    row["data"] = json.loads(row["data"])
    worked.store.conn.execute("UPDATE audit SET actor = ?, hash = ? WHERE seq = 4",
                              ("mallory", audit_hash(row)))
    problems = worked.verify_audit()["problems"]
    assert "entry 5 does not follow entry 4 (chain broken)" in problems
    assert not any("entry 4 was altered" in p for p in problems)


def test_removed_middle_entry_is_detected(worked):
    worked.store.conn.execute("DELETE FROM audit WHERE seq = 5")
    result = worked.verify_audit()
    assert not result["ok"]
    assert "entry 5 is missing (next is 6)" in result["problems"]
    assert "entry 6 does not follow entry 5 (chain broken)" in result["problems"]


def test_removed_tail_is_detected(worked):
    last = entries(worked)
    worked.store.conn.execute("DELETE FROM audit WHERE seq >= ?", (last - 1,))
    result = worked.verify_audit()
    assert not result["ok"]
    assert result["problems"] == [
        f"the log ends at entry {last - 2} but the head records entry {last} "
        f"(entries removed from the end)"]


def test_removed_last_entry_alone_is_detected(worked):
    last = entries(worked)
    worked.store.conn.execute("DELETE FROM audit WHERE seq = ?", (last,))
    assert not worked.verify_audit()["ok"]


def test_everything_removed_but_the_head(worked):
    worked.store.conn.execute("DELETE FROM audit")
    assert not worked.verify_audit()["ok"]


def test_removed_head_is_detected(worked):
    worked.store.conn.execute("DELETE FROM audit_head")
    assert worked.verify_audit()["problems"] == ["the head record is missing"]


def swap_contents(office, a: int, b: int):
    cols = ["at", "actor", "action", "entity_type", "entity_id", "data", "prev_hash", "hash"]
    ra = office.store.one(f"SELECT {', '.join(cols)} FROM audit WHERE seq = ?", (a,))
    rb = office.store.one(f"SELECT {', '.join(cols)} FROM audit WHERE seq = ?", (b,))
    sets = ", ".join(f"{c} = ?" for c in cols)
    office.store.conn.execute(f"UPDATE audit SET {sets} WHERE seq = ?", (*rb.values(), a))
    office.store.conn.execute(f"UPDATE audit SET {sets} WHERE seq = ?", (*ra.values(), b))


def test_two_swapped_entries_are_detected(worked):
    swap_contents(worked, 3, 4)
    result = worked.verify_audit()
    assert not result["ok"]
    assert "entry 3 does not follow entry 2 (chain broken)" in result["problems"]
    assert "entry 3 was altered (hash mismatch)" in result["problems"]


def test_swapped_sequence_numbers_are_detected(worked):
    conn = worked.store.conn
    conn.execute("UPDATE audit SET seq = -1 WHERE seq = 6")
    conn.execute("UPDATE audit SET seq = 6 WHERE seq = 7")
    conn.execute("UPDATE audit SET seq = 7 WHERE seq = -1")
    result = worked.verify_audit()
    assert not result["ok"]
    assert any(p.startswith("entry 6") for p in result["problems"])


def test_verify_reads_a_clean_log_as_clean_after_reopen(worked, settings, clock, ids):
    from core.office import Office
    worked.close()
    again = Office.open(settings, clock=clock, ids=ids)
    try:
        assert again.verify_audit()["ok"]
    finally:
        again.close()
