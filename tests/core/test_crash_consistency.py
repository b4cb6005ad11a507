"""SIGKILL a process in the middle of operations, again and again; the store must stay whole."""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.clock import SystemClock, UlidFactory
from core.outbox import check_sequence
from core.store import Store
from core.audit import verify_chain

ROOT = Path(__file__).resolve().parents[2]
KILLS = 30

# domain table -> (outbox event that created the row)
CREATED_BY = {"tickets": "ticket.taken", "applications": "application.submitted",
              "payments": "payment.taken", "licences": "licence.issued"}


def check_invariants(db_path: Path) -> dict:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = {}
        for table, event in CREATED_BY.items():
            # NOT IN (subquery) gets an automatic index; a correlated NOT EXISTS scanned the
            # whole outbox for every row (quadratic: most of this test's run time).
            orphans = conn.execute(
                f"SELECT COUNT(*) FROM {table} WHERE id NOT IN (SELECT entity_id FROM outbox "
                f"WHERE type = ?)", (event,)).fetchone()[0]
            assert orphans == 0, f"{orphans} {table} rows without their {event} event"
            counts[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        # one audit entry per outbox event, pointing at each other
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == \
            conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        unmatched = conn.execute(
            "SELECT COUNT(*) FROM outbox o LEFT JOIN audit a "
            "ON a.seq = json_extract(o.body, '$.audit_seq') "
            "AND a.hash = json_extract(o.body, '$.audit_hash') WHERE a.seq IS NULL").fetchone()[0]
        assert unmatched == 0
        # ticket numbers may come round again after the daily range wraps, never while live
        for sql in ("SELECT day, number, COUNT(*) c FROM tickets WHERE state IN "
                    "('waiting', 'called', 'serving') GROUP BY day, number HAVING c > 1",
                    "SELECT day, prefix, daily_seq, COUNT(*) c FROM tickets GROUP BY 1, 2, 3 "
                    "HAVING c > 1",
                    "SELECT receipt_number, COUNT(*) c FROM payments GROUP BY 1 HAVING c > 1",
                    "SELECT number, COUNT(*) c FROM licences GROUP BY 1 HAVING c > 1",
                    "SELECT number, COUNT(*) c FROM applications GROUP BY 1 HAVING c > 1"):
            assert conn.execute(sql).fetchall() == []
        # a licence exists only for a paid application, and then the application says issued
        bad = conn.execute("SELECT COUNT(*) FROM licences l JOIN applications a "
                           "ON a.id = l.application_id WHERE a.state != 'issued' "
                           "OR a.paid_at IS NULL").fetchone()[0]
        assert bad == 0
        return counts
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_a_consistent_store(tmp_path):
    rng = random.Random(20261124)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    previous = None
    grew = 0
    for attempt in range(KILLS):
        (tmp_path / "ready").unlink(missing_ok=True)
        (tmp_path / "progress").unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("crash_worker.py")),
                                 str(tmp_path)], env=env, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not (tmp_path / "progress").exists():  # started, and one round done
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "worker never became ready"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.02, 0.4))
        assert proc.poll() is None, f"worker died by itself: {proc.stderr.read().decode()}"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()

        counts = check_invariants(tmp_path / "nafitha.db")
        store = Store.open(tmp_path / "nafitha.db", SystemClock(), UlidFactory(SystemClock()))
        try:
            assert check_sequence(store) == []
            chain = verify_chain(store)
            assert chain["ok"], chain["problems"]
        finally:
            store.close()
        if previous is not None and counts["tickets"] > previous["tickets"]:
            grew += 1
        previous = counts
    # the loop really ran between kills (not just start-up and death)
    assert previous["licences"] > KILLS
    assert grew >= KILLS // 2
