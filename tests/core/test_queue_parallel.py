"""Several counters, each its own process, on one SQLite file: BEGIN IMMEDIATE serialises
call next, so no two counters ever get the same ticket."""
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from core import migrations

from core.audit import verify_chain
from core.office import Office
from core.outbox import check_sequence
from core.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("queue_worker.py")
PROCESSES = 4
CALLS_EACH = 25


def start_workers(data_dir: Path, calls: int, go: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NAFITHA_DATA", None)
    return [subprocess.Popen([sys.executable, str(WORKER), str(data_dir), f"C{n}", str(calls),
                              str(go)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for n in range(PROCESSES)]


def release_together(procs, data_dir: Path, go: Path) -> None:
    """Wait until every worker has opened the store, then let them all go at once."""
    deadline = time.monotonic() + 60
    while len(list(data_dir.glob("ready-*"))) < len(procs):
        for p in procs:
            assert p.poll() is None, p.communicate()[1]
        assert time.monotonic() < deadline, "workers never became ready"
        time.sleep(0.01)
    go.touch()


def collect(procs) -> list[list]:
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    return results


@pytest.mark.slow
def test_counters_in_parallel_processes_never_get_the_same_ticket(settings, clock, ids,
                                                                  tmp_path):
    office = Office.open(settings, clock=clock, ids=ids)
    taken = {office.queue.take_ticket("R" if i % 2 else "B")["id"] for i in range(100)}
    outbox_before = office.outbox_status()["total"]
    office.close()

    go = tmp_path / "go"
    procs = start_workers(settings.data_dir, CALLS_EACH, go)
    release_together(procs, settings.data_dir, go)
    results = collect(procs)

    got = [t for r in results for t in r]
    assert None not in got
    assert len(got) == PROCESSES * CALLS_EACH == 100
    assert len(set(got)) == 100, Counter(got).most_common(3)
    assert set(got) == taken

    office = Office.open(settings, clock=clock, ids=ids)
    try:
        conn = office.store.conn
        rows = conn.execute("SELECT state, counter, call_count FROM tickets").fetchall()
        assert {r[0] for r in rows} == {"called"} and {r[2] for r in rows} == {1}
        # each ticket went waiting -> called exactly once, by the counter that reported it
        by_counter = {t: f"C{n}" for n, r in enumerate(results) for t in r}
        events = conn.execute("SELECT ticket_id, counter FROM ticket_events "
                              "WHERE to_state = 'called'").fetchall()
        assert len(events) == 100 and dict(events) == by_counter
        # one audit entry and one outbox event per call, with no gaps and an intact chain
        assert office.outbox_status()["total"] == outbox_before + 100
        assert check_sequence(office.store) == []
        assert verify_chain(office.store)["ok"]
        # they really ran side by side: the calls of different counters interleave
        order = [r[0] for r in conn.execute(
            "SELECT counter FROM ticket_events WHERE to_state = 'called' ORDER BY id")]
        switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
        assert switches >= PROCESSES - 1
    finally:
        office.close()


@pytest.mark.slow
def test_more_calls_than_tickets_gives_each_ticket_once(settings, clock, ids, tmp_path):
    office = Office.open(settings, clock=clock, ids=ids)
    taken = {office.queue.take_ticket("R")["id"] for _ in range(30)}
    office.close()
    go = tmp_path / "go"
    procs = start_workers(settings.data_dir, 10, go)  # 40 calls for 30 tickets
    release_together(procs, settings.data_dir, go)
    got = [t for r in collect(procs) for t in r]
    assert got.count(None) == 10
    real = [t for t in got if t]
    assert len(real) == len(set(real)) == 30 and set(real) == taken


OPEN_SCRIPT = """
import sys, time
from core.clock import SystemClock
from core.office import Office
from core.settings import load_settings
data, go = sys.argv[1], float(sys.argv[2])
while time.time() < go:
    pass
Office.open(load_settings(data, environ={}), clock=SystemClock()).close()
print("opened")
"""


@pytest.mark.slow
def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path):
    # Races fixed in core: a second mkdir of the new data directory failed (store.py); each
    # read user_version 0 and ran the first migration, all but one failing with "table
    # identity already exists" (migrations.py); two could both write the identity row
    # (store.py).
    data = tmp_path / "new"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    go = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_SCRIPT, str(data), str(go)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert out.strip() == "opened"
    import sqlite3
    conn = sqlite3.connect(data / "nafitha.db")
    try:
        assert conn.execute("SELECT COUNT(*) FROM identity").fetchone()[0] == 1
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations.MIGRATIONS)
    finally:
        conn.close()
