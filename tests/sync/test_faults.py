"""Exactly-once through a hostile network: a fault-injecting proxy between the agent and
central (tests/sync/fault_proxy.py) drops connections before and after central commits,
answers 500/503, holds requests past the agent's timeout, truncates replies, duplicates and
replays (reorders) requests; the agent process is also SIGKILLed at random moments.

Whatever happens, central must end with exactly the outbox's events (same ids and bodies, no
duplicates, sequence 1..N with no gaps, one audit entry each) and the office with every row
marked sent.

Seeds: each test draws a random seed (printed, and named in every assertion message); set
NAFITHA_FAULT_SEED to replay one.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from central.db import audit, devices, events
from core.text import with_check_digit
from sync.agent import SyncAgent, SyncError

from fault_proxy import FAULTS, FaultProxy

KEY = "MUH/D01"
NAFITHA = str(Path(sys.executable).with_name("nafitha"))
FORM = {"full_name": "فاطمة علي", "phone": "33334444", "block": "204", "road": "15",
        "building": "12"}


def seed_for(test: str) -> int:
    seed = int(os.environ.get("NAFITHA_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"{test}: NAFITHA_FAULT_SEED={seed}")
    return seed


# --- making outbox events ----------------------------------------------------------------------
class Workload:
    """Adds outbox events to an office: mostly cheap synthetic ones, mixed with real
    operations (queue tickets, paid and issued residence certificates)."""

    def __init__(self, office, rng: random.Random):
        self.office, self.rng = office, rng
        self.licences: list[str] = []
        self.applications = 0
        if not office.store.one("SELECT 1 FROM users WHERE username = 'sara'"):
            office.users.create("sara", "clerk", "1234")
            office.payments.open_shift("sara", 20_000)

    def synthetic(self, n: int) -> None:
        store = self.office.store
        with store.atomic():
            for i in range(n):
                store.record("user.pin_failed", "user", "sara",
                             {"username": "sara", "failures": 1 + i % 3})

    def ticket(self) -> None:
        self.office.queue.take_ticket("residence-certificate")

    def licence(self) -> None:
        n = self.applications
        self.applications += 1
        nid = with_check_digit(f"{85010000 + n:08d}", "luhn")
        app = self.office.applications.submit("residence-certificate",
                                              {**FORM, "national_id": nid})
        self.office.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
        self.licences.append(self.office.licences.issue(app["id"])["number"])

    def add(self, at_least: int) -> int:
        """Roughly `at_least` more events in random chunks; a real operation now and then."""
        before = pending_total(self.office)
        while (left := at_least - (pending_total(self.office) - before)) > 0:
            roll = self.rng.random()
            if roll < 0.08:
                self.licence()
            elif roll < 0.25:
                self.ticket()
            else:
                self.synthetic(min(left, self.rng.randint(1, 400)))
        return pending_total(self.office) - before


def pending_total(office) -> int:
    return office.store.one("SELECT COUNT(*) AS n FROM outbox")["n"]


def unsent(office) -> int:
    return office.store.one("SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL")["n"]


# --- the invariant -------------------------------------------------------------------------------
def assert_exactly_once(central, office, workload: Workload, why: str) -> int:
    """Central holds exactly the outbox: same ids and bodies, seq 1..N, one audit entry
    each, no gaps; every outbox row is marked sent. Returns N."""
    outbox = office.store.all("SELECT seq, id, body, sent_at FROM outbox ORDER BY seq")
    n = len(outbox)
    assert [r["seq"] for r in outbox] == list(range(1, n + 1)), why
    not_sent = [r["id"] for r in outbox if r["sent_at"] is None]
    assert not not_sent, f"{why}: {len(not_sent)} outbox rows not marked sent"

    with central.engine.connect() as conn:
        held = conn.execute(sa.select(events.c.id, events.c.seq, events.c.body)
                            .where(events.c.device_key == KEY).order_by(events.c.seq)).all()
        device = conn.execute(sa.select(devices.c.last_seq, devices.c.received)
                              .where(devices.c.key == KEY)).one()
        audit_seqs = conn.execute(sa.select(audit.c.seq).where(audit.c.device_key == KEY)
                                  .order_by(audit.c.seq)).scalars().all()
        # received=0 makes _gaps compute the gaps from the events really held.
        gaps = central._gaps(conn, KEY, device.last_seq, 0)
        other = conn.execute(sa.select(sa.func.count()).select_from(events)
                             .where(events.c.device_key != KEY)).scalar()

    ids = [r.id for r in held]
    assert len(ids) == len(set(ids)), f"{why}: duplicate ids at central"
    missing = {r["id"] for r in outbox} - set(ids)
    extra = set(ids) - {r["id"] for r in outbox}
    assert not missing and not extra, \
        f"{why}: central lacks {len(missing)} and has {len(extra)} unknown events"
    assert len(held) == n, why
    assert [r.seq for r in held] == list(range(1, n + 1)), f"{why}: central's seqs have gaps"
    by_id = {r["id"]: r for r in outbox}
    for r in held:  # same event under the same id: body and place in the sequence
        assert r.seq == by_id[r.id]["seq"] and r.body == by_id[r.id]["body"], (why, r.id)
    assert (device.last_seq, device.received) == (n, n), f"{why}: device row {device}"
    assert gaps == [], f"{why}: gaps {gaps}"
    assert audit_seqs == list(range(1, n + 1)), f"{why}: audit entries are not 1..{n}"
    assert other == 0, why
    [office_row] = central.offices()
    [d] = office_row["devices"]
    assert (d["received"], d["last_seq"], d["missing"], d["gaps"]) == (n, n, 0, []), why

    # The domain tables were built once from the events.
    counts = central.counts()
    assert counts["events"] == n and counts["audit"] == n, why
    local = {t: office.store.one(f"SELECT COUNT(*) AS n FROM {t}")["n"]
             for t in ("applications", "payments", "licences")}
    assert counts["applications"] == local["applications"] == workload.applications, why
    assert counts["payments"] == local["payments"], why
    assert counts["licences"] == local["licences"] == len(workload.licences), why
    for number in workload.licences[:: max(1, len(workload.licences) // 5)]:
        assert central.licence_status(number)["status"] == "valid", (why, number)
    # Duplicates, replays and cut-off replies are not refusals: nothing was ever rejected.
    assert central.rejections() == [], f"{why}: {central.rejections()[:3]}"
    return n


def assert_every_fault(proxy, n: int, why: str) -> None:
    """Every fault hit an event batch; summed over every reply central gave (those the agent
    never saw too), each event was stored exactly once and resends were acknowledged."""
    summary = proxy.summary()
    hit = summary["event_faults"]
    assert all(hit.get(k, 0) >= 1 for k in FAULTS), f"{why}: not every fault hit a batch: {hit}"
    assert summary["errors"] == [], f"{why}: the proxy itself failed: {summary['errors']}"
    assert summary["central_stored"] == n, (why, summary["central_stored"], n)
    assert summary["central_duplicates"] > 0, why


# --- in-process agent, 10,000+ events ------------------------------------------------------------
SYNC_ENV = {"NAFITHA_SYNC__BATCH_SIZE": "200", "NAFITHA_SYNC__TIMEOUT_S": "1.5",
            "NAFITHA_SYNC__BACKOFF_MAX_S": "0.3", "NAFITHA_SYNC__INTERVAL_S": "0.3",
            "NAFITHA_SYNC__PROBE_INTERVAL_S": "0.1"}


@pytest.mark.slow
def test_ten_thousand_events_through_random_faults_arrive_exactly_once(
        make_central, serve, make_office, central_db):
    seed = seed_for("in-process")
    why = f"NAFITHA_FAULT_SEED={seed}"
    rng = random.Random(seed)
    central = make_central(central_db)
    server = serve(central)
    office = make_office(central, server.url, **{**SYNC_ENV, "NAFITHA_SYNC__BATCH_SIZE": "120"})
    workload = Workload(office, rng)
    workload.add(8_000)
    with FaultProxy(server.url, seed=seed, timeout_s=1.8) as proxy:
        agent = SyncAgent(office, url=proxy.url, rng=random.Random(seed))
        failures: Counter = Counter()
        cycles, deadline = 0, time.monotonic() + 240
        while True:
            cycles += 1
            assert time.monotonic() < deadline, f"{why}: not drained: {proxy.summary()}"
            if cycles % 3 == 0 and pending_total(office) < 10_200:
                workload.add(rng.randint(50, 600))  # new work arrives while syncing
            try:
                result = agent.once()
            except SyncError as exc:
                failures[exc.kind] += 1
                continue
            if result["status"]["pending"] == 0 and pending_total(office) >= 10_000:
                break
    summary = proxy.summary()  # after stop(): every connection finished
    print(f"{why}: {cycles} cycles, agent errors {dict(failures)}\n"
          f"{json.dumps(summary, indent=1)}")

    n = assert_exactly_once(central, office, workload, why)
    assert n >= 10_000
    assert_every_fault(proxy, n, why)
    # The agent saw the faults as what they are: unreachable, server error, busy, cut off.
    assert {"offline", "server", "busy", "protocol"} <= set(failures), (why, failures)
    assert set(failures) <= {"offline", "server", "busy", "protocol"}, (why, failures)
    # Straight to central afterwards: nothing left to send, nothing new stored.
    assert SyncAgent(office, url=server.url).once()["sent"] == 0
    assert central.counts()["events"] == n


# --- a real agent process, SIGKILLed --------------------------------------------------------------
def _agent_env(office, proxy_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAFITHA_")}
    env.update(SYNC_ENV)
    env.update({"NAFITHA_DATA": str(office.settings.data_dir),
                "NAFITHA_OFFICE__CODE": office.settings.office.code,
                "NAFITHA_DEVICE__ID": office.settings.device.id,
                "NAFITHA_SYNC__URL": proxy_url, "PYTHONUNBUFFERED": "1"})
    return env


def _start_agent(env, log: Path) -> subprocess.Popen:
    with open(log, "ab") as fh:
        return subprocess.Popen([NAFITHA, "sync", "run"], env=env, stdout=fh, stderr=fh,
                                stdin=subprocess.DEVNULL)


def _wait_for_request(proc, proxy, seen: int, log: Path, why: str, timeout: float = 60) -> None:
    """Until the agent process has sent the proxy at least one request."""
    deadline = time.monotonic() + timeout
    while proxy.summary()["requests"] <= seen:
        assert proc.poll() is None, f"{why}: the agent exited ({proc.returncode}): " \
                                    f"{log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"{why}: the agent sent nothing"
        time.sleep(0.02)


@pytest.mark.slow
def test_sigkilled_agent_process_still_delivers_exactly_once(
        make_central, serve, make_office, tmp_path):
    seed = seed_for("sigkill")
    why = f"NAFITHA_FAULT_SEED={seed}"
    rng = random.Random(seed)
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url, **SYNC_ENV)
    workload = Workload(office, rng)
    workload.add(3_000)
    log = tmp_path / "agent.log"
    kills = rng.randint(9, 12)
    t0, timeline = time.monotonic(), []
    after_commit_kills = 0
    with FaultProxy(server.url, seed=seed, timeout_s=1.8) as proxy:
        env = _agent_env(office, proxy.url)
        proc = _start_agent(env, log)
        try:
            _wait_for_request(proc, proxy, 0, log, why)
            # One agent per device: a second one refuses to start while this one runs.
            other = subprocess.run([NAFITHA, "sync", "once"], env=env, capture_output=True,
                                   text=True, timeout=60)
            assert other.returncode == 1, (why, other.stdout, other.stderr)
            assert "another sync agent" in other.stderr, (why, other.stderr)
            assert proc.poll() is None

            for k in range(kills):
                if k % 3 == 2:
                    # Precisely between central's commit and the agent's: the proxy kills
                    # the agent once central has accepted a batch, before the reply.
                    proxy.arm_after_commit(lambda p=proc: (p.send_signal(signal.SIGKILL),
                                                           p.wait(10)))
                    workload.add(rng.randint(1, 200))  # armed first: this batch is caught
                    deadline = time.monotonic() + 60
                    while proc.poll() is None:
                        assert time.monotonic() < deadline, f"{why}: no batch was committed"
                        time.sleep(0.01)
                    after_commit_kills += 1
                else:  # at a random moment
                    time.sleep(rng.uniform(0.05, 0.8))
                    assert proc.poll() is None, f"{why}: agent died by itself: " \
                                                f"{log.read_text()[-2000:]}"
                    proc.send_signal(signal.SIGKILL)
                assert proc.wait(10) == -signal.SIGKILL, (why, log.read_text()[-2000:])
                timeline.append(f"kill {k + 1} at {time.monotonic() - t0:.1f} s, "
                                f"{unsent(office)} unsent")
                if k % 2 == 0:  # new work while no agent runs
                    workload.add(rng.randint(1, 200))
                seen = proxy.summary()["requests"]
                proc = _start_agent(env, log)
                if k % 2 == 1:  # ... or while it starts
                    workload.add(rng.randint(1, 200))
                _wait_for_request(proc, proxy, seen, log, why)

            # The last agent drains everything, faults and all.
            deadline = time.monotonic() + 120
            while unsent(office):
                assert proc.poll() is None, f"{why}: {log.read_text()[-2000:]}"
                assert time.monotonic() < deadline, \
                    f"{why}: {unsent(office)} still unsent: {proxy.summary()}"
                time.sleep(0.1)
            timeline.append(f"drained at {time.monotonic() - t0:.1f} s")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0, f"{why}: {log.read_text()[-2000:]}"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    summary = proxy.summary()  # after stop(): every connection finished
    print(f"{why}: {kills} SIGKILLs ({after_commit_kills} right after central's commit)\n"
          + "\n".join(timeline) + f"\n{json.dumps(summary, indent=1)}")

    n = assert_exactly_once(central, office, workload, why)
    assert_every_fault(proxy, n, why)
