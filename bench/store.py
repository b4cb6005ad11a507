"""Durable operations per second: take ticket (+ ticket event + audit + outbox) in one
transaction with synchronous=FULL, against a naive baseline in the same run that writes the
same rows with one autocommit per statement; and the same take ticket on a device whose key
signs the audit head at every commit (issue 17), against the unsigned run.

    python bench/store.py [--ops 1000] [--rounds 5]

Prints JSON. Target (issue 2): at least 500 durable operations/s on a 2-core machine; the
signed head may cost at most 10% of that rate (ratio >= 0.9)."""
from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.credentials import ceremony  # noqa: E402
from core.office import Office  # noqa: E402
from core.settings import load_settings  # noqa: E402

TARGET_OPS_PER_S = 500
TARGET_SIGNED_RATIO = 0.9


def run_nafitha(ops: int, signed: bool = False) -> float:
    with tempfile.TemporaryDirectory() as d:
        settings = load_settings(d, environ={})
        settings.queue.number_end = 9999
        if signed:
            ceremony.request(settings.data_dir, settings.device.id, settings.office.code)
        office = Office.open(settings)
        services = ["R", "A", "B", "E", "W", "D", "C", "T"]
        start = time.perf_counter()
        for i in range(ops):
            office.queue.take_ticket(services[i % len(services)])
        elapsed = time.perf_counter() - start
        audit = office.verify_audit()
        office.close()
    # the signed run really signed: a bench that measured unsigned commits would lie
    if not audit["ok"] or audit["signed"] != signed or audit["entries"] != ops:
        raise SystemExit(f"the {'signed' if signed else 'unsigned'} run's audit log is not "
                         f"what it should be: {audit}")
    return ops / elapsed


def run_naive(ops: int) -> float:
    """What a first attempt looks like: default journal, each statement its own commit."""
    with tempfile.TemporaryDirectory() as d:
        conn = sqlite3.connect(str(Path(d) / "naive.db"), isolation_level=None)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, number TEXT, service TEXT, "
                     "state TEXT, created_at TEXT)")
        conn.execute("CREATE TABLE ticket_events (id INTEGER PRIMARY KEY, ticket_id INTEGER, "
                     "at TEXT, to_state TEXT)")
        conn.execute("CREATE TABLE audit (seq INTEGER PRIMARY KEY, data TEXT)")
        conn.execute("CREATE TABLE outbox (seq INTEGER PRIMARY KEY, body TEXT)")
        start = time.perf_counter()
        for i in range(ops):
            now = time.strftime("%Y-%m-%dT%H:%M:%S")
            cur = conn.execute("INSERT INTO tickets (number, service, state, created_at) "
                               "VALUES (?, 'R', 'waiting', ?)", (f"R{i:03d}", now))
            conn.execute("INSERT INTO ticket_events (ticket_id, at, to_state) VALUES (?,?,?)",
                         (cur.lastrowid, now, "waiting"))
            conn.execute("INSERT INTO audit (data) VALUES (?)", (json.dumps({"t": i}),))
            conn.execute("INSERT INTO outbox (body) VALUES (?)", (json.dumps({"t": i}),))
        elapsed = time.perf_counter() - start
        conn.close()
    return ops / elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    nafitha, naive, signed = [], [], []
    for _ in range(args.rounds):  # interleaved so all see the same machine load
        naive.append(run_naive(args.ops))
        nafitha.append(run_nafitha(args.ops))
        signed.append(run_nafitha(args.ops, signed=True))
    signed_ratio = statistics.median(signed) / statistics.median(nafitha)
    result = {
        "benchmark": "store.durable_take_ticket",
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "cpus": __import__("os").cpu_count()},
        "ops_per_round": args.ops, "rounds": args.rounds,
        "nafitha_ops_per_s": {"median": round(statistics.median(nafitha), 1),
                              "all": [round(x, 1) for x in nafitha]},
        "baseline_naive_autocommit_ops_per_s": {"median": round(statistics.median(naive), 1),
                                                "all": [round(x, 1) for x in naive]},
        "ratio_vs_baseline": round(statistics.median(nafitha) / statistics.median(naive), 2),
        "target_ops_per_s": TARGET_OPS_PER_S,
        "meets_target": statistics.median(nafitha) >= TARGET_OPS_PER_S,
        "signed_audit_head": {
            "ops_per_s": {"median": round(statistics.median(signed), 1),
                          "all": [round(x, 1) for x in signed]},
            "baseline": "nafitha_ops_per_s (the same take ticket, no device key)",
            "ratio_vs_unsigned": round(signed_ratio, 3),
            "target_ratio": TARGET_SIGNED_RATIO,
            "meets_target": signed_ratio >= TARGET_SIGNED_RATIO},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
