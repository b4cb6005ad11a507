"""Central at national scale: 2,000 devices (100 municipalities x 20) push a realistic mix
of events over HTTP to `nafitha central serve` on PostgreSQL, with 1, 2 and 4 workers, while
the back-office console is in use.

    python bench/national.py [--municipalities 100] [--devices-per 20] [--rounds 5]
                             [--per-round 30] [--rate 5500] [--workers 1,2,4]
                             [--console-rate 3] [--no-unpaced] [--healthz 300] [--quick]
                             [--refresh-cache]

Prints JSON. Everything runs on loopback; every loop is bounded in count and time.

The mix: a centre's day, per device (each simulated device is one counter position of its
municipality, run by a real core Office; bench/_national_events.py):

    residents take a ticket, are called, served and finished      ticket.*        ~72 %
        (5 % do not show up: ticket.no_show)
    half of them submit an application (sealed fields; the        application.    ~9 %
        resident key travels in the batch's `keys`)                 submitted
        service mix: residence certificate 35 %, building and land
        tax 20 % (both instant), address form 15 %, building permit
        10 %, excavation, road works, drawings amendment and
        completion certificate 5 % each (review)
    instant services are paid at once; review ones once the back  payment.taken   ~7 %
        office approved them (cash 50 %, card 40 %, online 10 %)
    each paid application gets its licence, signed on the device  licence.issued  ~7 %
        with its enrolled certificate (verified by central on arrival)
    back-office decisions (90 % approve) applied at the device     application.    ~3 %
        on its next round, actor "central"                          approved/rejected
    a clerk opens a shift; a few wrong PINs                        shift.opened,   <1 %
                                                                    user.pin_failed
(measured shares are in the JSON: mix.measured_percent).

How the load runs: devices are enrolled for real (Central.enrol_code / Central.enrol with
each device's own Ed25519 key; their certificates sign the licences). Their event streams are
generated once by real Offices and cached under /tmp (bench/_national_events.py); each run
replays them into a fresh copy of an enrolled template database. A generator process (asyncio
+ httpx, one keep-alive connection per device, as the agent holds one) sends each device's
batches in order, one per period (batch / (rate / devices)) with +-25 % jitter and a random
start, never two in flight; before a batch whose events apply back-office decisions it makes
those decisions over HTTP (POST /v1/admin/applications/N/decision, as the back office would
between the device's pushes). Beside it a console process reads at --console-rate requests/s
(console_pages(): GET /v1/admin/offices and /v1/licences/{number} with the admin token; point
it at the console's pages once they exist). Unpaced: the same streams, each device sending
its next batch as soon as the last is answered (central's capacity).

Measured per worker count: events/s acknowledged (paced: in the steady state; unpaced: whole
run), batch latency p50/p95/p99 (send to reply), decision and console request latencies, CPU
split (cores used by central's workers, PostgreSQL, the generator, the console load, and the
machine's busy share, from /proc), PostgreSQL wait events sampled from pg_stat_activity, and
the acknowledgement check (every event sent acknowledged once, none refused, central's counts
equal). Baseline in the same run: GET /healthz round trips against the same central.
Targets: >= 5,000 events/s accepted with p99 <= 500 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import math
import os
import pickle
import platform
import random
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))
sys.path.append(str(HERE))  # bench/_central.py, bench/_national_events.py

import _national_events as streams
import httpx
from _central import CentralProcess, Postgres, machine_ticks, proc_table, tree_seconds

TARGET_EVENTS_PER_S = 5_000
TARGET_P99_MS = 500
JITTER = 0.25
MAX_CONNECTIONS = 5000  # per worker: 2,000 devices keep a connection each (default 1,000)


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def percentile(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(p / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def latency_ms(values: list[float]) -> dict:
    values = sorted(values)
    out = {k: (round(percentile(values, p) * 1000, 1) if values else None)
           for k, p in (("p50", 50), ("p95", 95), ("p99", 99))}
    out["max"] = round(values[-1] * 1000, 1) if values else None
    out["n"] = len(values)
    return out


def console_pages(licence_numbers: list[str]) -> list[str]:
    """What "the console in use" reads, in turn. Until the console exists: the offices page's
    data and licence look-ups (point this at the console's pages when they exist)."""
    pages = ["/v1/admin/offices"]
    for i, number in enumerate(licence_numbers[:20]):
        pages.append(f"/v1/licences/{number}")
        if i % 3 == 2:
            pages.append("/v1/admin/offices")
    return pages


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split()[0])


# --- central -------------------------------------------------------------------------------------
class Central(CentralProcess):
    """`nafitha central --home H --db URL serve --workers N --port P --max-connections M`."""

    def start(self, timeout_s: float = 60):
        cmd = [sys.executable, "-m", "nafitha", "central", "--home", str(self.home),
               "--db", self.db_url, "serve", "--port", str(self.port), "--workers",
               str(self.workers), "--max-connections", str(MAX_CONNECTIONS)]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (read back by output())
        env = {k: v for k, v in os.environ.items()
               if k not in ("NAFITHA_CENTRAL_HOME", "NAFITHA_CENTRAL_DB")}
        self.proc = subprocess.Popen(cmd, cwd=HERE.parent, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, start_new_session=True)
        deadline, ready = time.monotonic() + timeout_s, 0
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"central exited ({self.proc.returncode}): {self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    ready += 1
                    if ready >= self.workers * 3:
                        return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"central did not start in {timeout_s} s: {self.output()}")
            time.sleep(0.05)


def init_database(home: Path, url: str, root_key: str) -> str:
    """Central.init_root on a fresh home and database, with the cached root key instead of a
    new one (the fleet's certificates are that key's). Returns the admin token."""
    from central.service import Central as Service
    from core.credentials import ceremony, keys

    original = ceremony.init_root

    def with_cached_root(out_dir: Path) -> dict:
        key = keys.read_private(Path(root_key))
        keys.write_private(key, Path(out_dir) / "root.key")
        keys.write_public(keys.public_bytes(key), Path(out_dir) / "root.pub")
        return {}

    ceremony.init_root = with_cached_root
    try:
        central, token = Service.init_root(home, url)
    finally:
        ceremony.init_root = original
    central.close()
    return token


def enrol_fleet(home: Path, url: str, devices: list[dict]) -> list[str]:
    """Enrol every device for real: a one-time code, then the enrolment with its own key."""
    from central.service import Central as Service
    central = Service.open(home, url)
    try:
        tokens = []
        for d in devices:
            code = central.enrol_code(d["office"], role="counter")["code"]
            tokens.append(central.enrol(code, d["office"], d["device"], d["public_key"])["token"])
        return tokens
    finally:
        central.close()


# --- the generator process -----------------------------------------------------------------------
async def send_all(spec: dict, devices: list[dict], expected_ids: list) -> dict:
    tokens, admin = spec["tokens"], spec["admin_token"]
    period = spec["period_s"]
    rng = random.Random(spec["seed"])
    # One client and connection per device; one TLS context for all (loopback HTTP needs
    # none, and httpx would otherwise load the CA bundle once per client: ~0.1 s each).
    tls = ssl.create_default_context()
    clients = [httpx.AsyncClient(base_url=spec["url"], timeout=120, verify=tls,
                                 limits=httpx.Limits(max_connections=1))
               for _ in devices]
    latencies, decision_lat, replies = [], [], []
    errors: dict[str, int] = {}
    acked_total, refused = 0, []
    acked_ids: set[str] = set()
    first = last = None
    loop = asyncio.get_running_loop()
    start_wall = spec["start_at"]
    await asyncio.sleep(max(0.0, start_wall - time.time()))
    cpu0 = time.process_time()
    t0 = loop.time() + 0.2

    async def post(client, path, **kw):
        try:
            r = await client.post(path, **kw)
            return r.status_code, (r.json() if r.status_code in (200, 409) else r.text[:200])
        except httpx.HTTPError as exc:
            return type(exc).__name__, None

    async def device(i: int, offset: float, jitters: list[float]):
        nonlocal acked_total, first, last
        client, d = clients[i], devices[i]
        headers = {"Authorization": f"Bearer {tokens[i]}", "Content-Encoding": "gzip",
                   "Content-Type": "application/json"}
        admin_headers = {"Authorization": f"Bearer {admin}"}
        for k, body in enumerate(d["batches"]):
            if period is not None:
                delay = t0 + offset + (k + jitters[k]) * period - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            for number, state, reason in d["needs"][k]:
                for _attempt in range(5):
                    sent = loop.time()
                    status, reply = await post(
                        client, f"/v1/admin/applications/{number}/decision",
                        json={"decision": state, "reason": reason}, headers=admin_headers)
                    if status == 200 or status == 409 and reply.get("error") == \
                            "already_decided":
                        decision_lat.append(loop.time() - sent)
                        break
                    errors[f"decision {status}"] = errors.get(f"decision {status}", 0) + 1
                    await asyncio.sleep(1.0)
            for _attempt in range(20):
                sent = loop.time()
                first = sent if first is None else min(first, sent)
                status, reply = await post(client, "/v1/events", content=body, headers=headers)
                done = loop.time()
                if status == 200:
                    latencies.append(done - sent)
                    got = reply["acknowledged"]
                    acked_total += len(got)
                    acked_ids.update(got)
                    refused.extend(reply.get("refused") or [])
                    replies.append((done, len(got)))
                    last = done if last is None else max(last, done)
                    break
                errors[f"events {status}"] = errors.get(f"events {status}", 0) + 1
                await asyncio.sleep(1.0)  # as the agent would: back off, then resend

    tasks = []
    for i, d in enumerate(devices):
        offset = rng.uniform(0, period) if period else 0.0
        jitters = [rng.uniform(-JITTER, JITTER) for _ in d["batches"]]
        tasks.append(asyncio.create_task(device(i, offset, jitters)))
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), spec["max_s"])
    except TimeoutError:
        errors["timed_out"] = 1
    finally:
        for c in clients:
            await c.aclose()
    cpu = time.process_time() - cpu0
    wall = (last or loop.time()) - (first or t0)
    n = max(len(d["batches"]) for d in devices)
    if period and n >= 4:
        lo, hi = t0 + 1.5 * period, t0 + (n - 1.5) * period
        steady = sum(c for t, c in replies if lo <= t < hi) / (hi - lo)
        window = [round(lo - t0, 1), round(hi - t0, 1)]
    else:
        steady, window = acked_total / max(wall, 1e-9), None
    sent_events = sum(len(b) for per in expected_ids for b in per)
    expected = {i for per in expected_ids for b in per for i in b}
    return {"events_sent": sent_events, "acknowledged": acked_total,
            "acknowledged_unique": len(acked_ids),
            "acknowledged_exactly_once": acked_ids == expected and acked_total == sent_events,
            "refused": len(refused), "refused_examples": refused[:3],
            "requests": len(latencies), "decisions": len(decision_lat),
            "seconds": round(wall, 2), "events_per_s": round(steady, 1),
            "events_per_s_whole_run": round(acked_total / max(wall, 1e-9), 1),
            "steady_window_s": window,
            "batch_latency_ms": latency_ms(latencies),
            "decision_latency_ms": latency_ms(decision_lat),
            "errors": errors, "generator_cpu_s": round(cpu, 2)}


def console_load(spec: dict) -> dict:
    """GET console pages at `rate` requests/s until the stop file appears (or max_s)."""
    pages, rate = spec["pages"], spec["rate"]
    headers = {"Authorization": f"Bearer {spec['admin_token']}"}
    lat, errors = {"offices": [], "licence": []}, {}
    time.sleep(max(0.0, spec["start_at"] - time.time()))
    cpu0, t0 = time.process_time(), time.monotonic()
    k = 0
    with httpx.Client(base_url=spec["url"], timeout=60) as client:
        while time.monotonic() - t0 < spec["max_s"] and not os.path.exists(spec["stop"]):
            due = t0 + k / rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            path = pages[k % len(pages)]
            k += 1
            sent = time.monotonic()
            try:
                status = client.get(path, headers=headers).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            if status == 200:
                lat["offices" if "offices" in path else "licence"].append(
                    time.monotonic() - sent)
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1
    every = lat["offices"] + lat["licence"]
    return {"requests": k, "rate": rate, "latency_ms": latency_ms(every),
            "by_page_ms": {name: latency_ms(v) for name, v in lat.items()},
            "errors": errors, "cpu_s": round(time.process_time() - cpu0, 2),
            "seconds": round(time.monotonic() - t0, 2)}


def child_main(kind: str, spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    if kind == "send":
        with open(spec["fleet"], "rb") as fh:
            devices = pickle.load(fh)["devices"]
        with open(spec["ids"], "rb") as fh:
            expected_ids = pickle.load(fh)
        result = asyncio.run(send_all(spec, devices, expected_ids))
    else:
        result = console_load(spec)
    Path(spec["out"]).write_text(json.dumps(result))
    return 0


# --- one run -------------------------------------------------------------------------------------
def healthz_baseline(url: str, n: int) -> dict:
    lat = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(n):
            sent = time.perf_counter()
            client.get("/healthz").raise_for_status()
            lat.append(time.perf_counter() - sent)
    return latency_ms(lat)


class PgSampler(threading.Thread):
    """pg_stat_activity twice a second: active client backends by wait event."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stop_flag = url.replace("postgresql+psycopg://", "postgresql://"), \
            threading.Event()
        self.samples, self.waits, self.active = 0, {}, []

    def run(self):
        import psycopg
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop_flag.wait(0.5):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, '') "
                    "FROM pg_stat_activity WHERE backend_type = 'client backend' AND "
                    "state = 'active' AND pid <> pg_backend_pid()").fetchall()
                self.samples += 1
                self.active.append(len(rows))
                for kind, event in rows:
                    key = f"{kind}:{event}" if event else kind
                    self.waits[key] = self.waits.get(key, 0) + 1

    def result(self) -> dict:
        total = sum(self.waits.values()) or 1
        top = sorted(self.waits.items(), key=lambda kv: -kv[1])[:8]
        return {"samples": self.samples,
                "active_backends_mean": round(statistics.mean(self.active), 2)
                if self.active else None,
                "active_backends_max": max(self.active) if self.active else None,
                "share_by_wait": {k: round(v / total, 3) for k, v in top},
                "lock_wait_share": round(sum(v for k, v in self.waits.items()
                                             if k.startswith("Lock")) / total, 3)}


def pg_stats(url: str) -> dict:
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute("SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, "
                           "blks_read, blks_hit, deadlocks, "
                           "pg_database_size(current_database()) FROM pg_stat_database "
                           "WHERE datname = current_database()").fetchone()
    return dict(zip(("xact_commit", "xact_rollback", "tup_inserted", "tup_updated",
                     "blks_read", "blks_hit", "deadlocks", "database_bytes"), row))


def run_one(ctx: dict, workers: int, mode: str, n: int) -> dict:
    pg, work = ctx["pg"], ctx["work"]
    name = f"national_run_{n}"
    pg.server.psql(f"CREATE DATABASE {name} TEMPLATE {ctx['template']};")
    base, _, query = ctx["template_url"].partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    result = {"workers": workers, "mode": mode}
    try:
        with Central(ctx["home"], url, workers=workers) as server:
            result["healthz_baseline_ms"] = healthz_baseline(server.url, ctx["healthz"])
            start_at = time.time() + ctx["child_start_s"]
            stop = work / f"stop-{n}"
            specs = {
                "send": {"fleet": ctx["fleet_file"], "ids": ctx["ids_file"],
                         "tokens": ctx["tokens"], "admin_token": ctx["admin_token"],
                         "url": server.url, "period_s": ctx["period_s"] if mode == "paced"
                         else None, "seed": 100 * workers + n, "start_at": start_at,
                         "max_s": ctx["max_s"], "out": str(work / f"send-{n}.json")},
                "console": {"pages": ctx["pages"], "rate": ctx["console_rate"],
                            "admin_token": ctx["admin_token"], "url": server.url,
                            "start_at": start_at, "max_s": ctx["max_s"] + 30,
                            "stop": str(stop), "out": str(work / f"console-{n}.json")}}
            procs = {}
            for kind, spec in specs.items():
                path = work / f"{kind}-{n}.spec.json"
                path.write_text(json.dumps(spec))
                procs[kind] = subprocess.Popen([sys.executable, __file__, f"--_{kind}",
                                                str(path)], cwd=HERE.parent)
            sampler = PgSampler(url)
            time.sleep(max(0.0, start_at - time.time()))
            before = pg_stats(url)
            table = proc_table()
            c0, p0 = tree_seconds(server.proc.pid, table), tree_seconds(ctx["postmaster"], table)
            m0, w0 = machine_ticks(), time.perf_counter()
            self0 = time.process_time()
            sampler.start()
            try:
                procs["send"].wait(ctx["max_s"] + 60)
            finally:
                table = proc_table()
                c1, p1 = tree_seconds(server.proc.pid, table), \
                    tree_seconds(ctx["postmaster"], table)
                m1, wall = machine_ticks(), time.perf_counter() - w0
                self_cpu = time.process_time() - self0
                stop.touch()
                sampler.stop_flag.set()
                sampler.join(5)
                for p in procs.values():
                    try:
                        p.wait(60)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
            time.sleep(1.5)  # backends flush their statistics at most once a second
            after = pg_stats(url)
            send = json.loads(Path(specs["send"]["out"]).read_text())
            console = json.loads(Path(specs["console"]["out"]).read_text())
        result.update(send)
        result["console"] = console
        result["cpu_cores"] = {
            "central_workers": round((c1 - c0) / wall, 2),
            "postgresql": round((p1 - p0) / wall, 2),
            "generator": round(send["generator_cpu_s"] / wall, 2),
            "console_load": round(console["cpu_s"] / wall, 2),
            "bench_sampler": round(self_cpu / wall, 2),
            "machine_busy_share": round((m1[0] - m0[0]) / max(1, m1[1] - m0[1]), 2),
            "machine_cores": os.cpu_count(), "wall_s": round(wall, 1)}
        # What one event costs the whole machine (central, PostgreSQL, the load itself) and
        # so the most this machine could take if every core did nothing else.
        spent = (c1 - c0) + (p1 - p0) + send["generator_cpu_s"] + console["cpu_s"]
        per_event_ms = 1000 * spent / max(1, send["events_sent"])
        result["cpu_cores"]["cpu_ms_per_event"] = round(per_event_ms, 3)
        result["cpu_cores"]["machine_ceiling_events_per_s"] = round(
            (os.cpu_count() or 1) * 1000 / max(per_event_ms, 1e-6))
        result["postgresql"] = {"activity": sampler.result(),
                                **{k: after[k] - before[k] for k in after}}
        result["postgresql"]["commits_per_s"] = round(result["postgresql"]["xact_commit"] /
                                                      wall, 1)
        result["postgresql"]["database_bytes_per_event"] = round(
            result["postgresql"]["database_bytes"] / max(1, send["events_sent"]))
        from central.service import Central as Service
        held = Service.open(ctx["home"], url)
        try:
            counts = held.counts()
            with held.engine.connect() as conn:
                import sqlalchemy as sa
                refused_held = conn.execute(sa.text(
                    "SELECT count(*) FROM events WHERE refused IS NOT NULL")).scalar()
                rejections = conn.execute(sa.text("SELECT count(*) FROM rejections")).scalar()
        finally:
            held.close()
        result["central_counts"] = {**counts, "refused_events": refused_held,
                                    "rejections": rejections}
        result["central_holds_what_was_sent"] = counts["events"] == send["events_sent"] and \
            refused_held == 0 and rejections == 0
        result["meets_target"] = mode == "paced" and \
            send["events_per_s"] >= TARGET_EVENTS_PER_S and \
            (send["batch_latency_ms"]["p99"] or 1e9) <= TARGET_P99_MS
    finally:
        pg.server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE);")
    return result


# --- main ----------------------------------------------------------------------------------------
def measured_mix(devices: list[dict]) -> dict:
    total: dict[str, int] = {}
    for d in devices:
        for k, v in d["types"].items():
            total[k] = total.get(k, 0) + v
    n = sum(total.values())
    return {"events": n, "by_type": dict(sorted(total.items(), key=lambda kv: -kv[1])),
            "percent": {k: round(v / n * 100, 2) for k, v in
                        sorted(total.items(), key=lambda kv: -kv[1])}}


def batch_ids(cache: Path, devices: list[dict]) -> Path:
    path = cache / "ids.pickle"
    if not path.exists():
        ids = [[[e["id"] for e in json.loads(gzip.decompress(b))["events"]]
                for b in d["batches"]] for d in devices]
        with open(path.with_suffix(".part"), "wb") as fh:
            pickle.dump(ids, fh, protocol=pickle.HIGHEST_PROTOCOL)
        path.with_suffix(".part").rename(path)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--municipalities", type=int, default=100)
    parser.add_argument("--devices-per", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="batches per device")
    parser.add_argument("--per-round", type=int, default=30, help="events per batch (about)")
    parser.add_argument("--rate", type=float, default=5500, help="offered events/s (paced)")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--console-rate", type=float, default=3.0)
    parser.add_argument("--healthz", type=int, default=300)
    parser.add_argument("--no-unpaced", action="store_true")
    parser.add_argument("--refresh-cache", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="a few devices and seconds (the test suite)")
    args = parser.parse_args(argv)
    if args.quick:
        args.municipalities, args.devices_per, args.rounds, args.per_round = 2, 2, 4, 20
        args.rate, args.workers, args.console_rate, args.healthz = 200, "1", 5, 20
    workers = [int(w) for w in args.workers.split(",")]
    started = time.perf_counter()
    fleet = streams.build(args.municipalities, args.devices_per, args.rounds, args.per_round,
                          refresh=args.refresh_cache)
    cache = Path(fleet["cache"])
    devices = fleet["devices"]
    ids_file = batch_ids(cache, devices)
    events_per_device = statistics.mean(sum(d["types"].values()) for d in devices)
    per_batch = events_per_device / args.rounds
    period = per_batch / (args.rate / len(devices))
    licence_numbers = [n for d in devices[::max(1, len(devices) // 40)] for n in d["licences"]]
    work = Path(tempfile.mkdtemp(prefix="bench-national-"))
    os.chmod(work, 0o755)  # embedded PostgreSQL runs as its own user when we are root
    pg = None
    try:
        pg = Postgres(work / "pgdata")
        template = "national_template"
        pg.server.psql(f"CREATE DATABASE {template};")
        base, _, query = pg.uri.partition("?")
        template_url = f"{base.rsplit('/', 1)[0]}/{template}" + (f"?{query}" if query else "")
        home = work / "central"
        admin_token = init_database(home, template_url, fleet["root_key"])
        enrol_started = time.perf_counter()
        log(f"national: enrolling {len(devices)} devices")
        tokens = enrol_fleet(home, template_url, devices)
        enrol_s = time.perf_counter() - enrol_started
        n_batches = args.rounds
        ctx = {"pg": pg, "work": work, "home": home, "template": template,
               "template_url": template_url, "fleet_file": str(cache / "fleet.pickle"),
               "ids_file": str(ids_file), "tokens": tokens, "admin_token": admin_token,
               "period_s": period, "pages": console_pages(licence_numbers),
               "console_rate": args.console_rate, "healthz": args.healthz,
               "postmaster": postmaster_pid(work / "pgdata"),
               "child_start_s": 3 + len(devices) / 400,
               "max_s": max(60.0, period * (n_batches + 2) * 3)}
        runs = []
        for w in workers:
            for mode in ["paced"] + ([] if args.no_unpaced else ["unpaced"]):
                run = run_one(ctx, w, mode, len(runs) + 1)
                runs.append(run)
                log(f"national: {mode} workers={w}: {run['events_per_s']:.0f} ev/s, batch p50 "
                    f"{run['batch_latency_ms']['p50']} p99 {run['batch_latency_ms']['p99']} "
                    f"ms, console p95 {run['console']['latency_ms']['p95']} ms, cpu "
                    f"{run['cpu_cores']}, exactly once {run['acknowledged_exactly_once']}, "
                    f"errors {run['errors']}")
                log("national: run " + json.dumps(run, ensure_ascii=False))
        result = {
            "benchmark": "national",
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "postgresql": pg.version()},
            "fleet": {"municipalities": args.municipalities,
                      "devices_per_municipality": args.devices_per, "devices": len(devices),
                      "batches_per_device": args.rounds,
                      "events_per_batch_mean": round(per_batch, 1),
                      "events_per_run": sum(sum(d["types"].values()) for d in devices),
                      "enrolment_s": round(enrol_s, 1), "streams_cached": fleet["cached"],
                      "streams_build_s": fleet["build_s"]},
            "mix": {"stated": {
                "tickets": "take, call, serve, finish per visitor (5 % no-show)",
                "applications": f"{int(streams.P_APPLICATION * 100)} % of visitors; "
                                f"service shares {streams.SERVICE_MIX}",
                "payments": "instant services at once; review ones after approval "
                            f"(methods {dict(streams.PAY_METHODS)})",
                "licences": "every paid application; signed by the device, verified by "
                            "central",
                "decisions": f"review applications decided by the back office over HTTP "
                             f"({int(streams.P_REJECTED * 100)} % rejected), applied at the "
                             f"device next round (actor central)",
                "pin_failures": f"{int(streams.P_PIN_FAILED * 100)} % of rounds"},
                "measured": measured_mix(devices)},
            "load": {"offered_events_per_s": args.rate, "period_s": round(period, 2),
                     "jitter": JITTER, "console_rate_per_s": args.console_rate,
                     "console_pages": ctx["pages"][:4],
                     "max_connections_per_worker": MAX_CONNECTIONS},
            "runs": runs,
            "target_events_per_s": TARGET_EVENTS_PER_S, "target_p99_ms": TARGET_P99_MS,
        }
        paced = [r for r in runs if r["mode"] == "paced"]
        unpaced = [r for r in runs if r["mode"] == "unpaced"]
        meeting = [r for r in paced if r["meets_target"]]
        result["summary"] = {
            "paced_events_per_s": {r["workers"]: r["events_per_s"] for r in paced},
            "paced_p99_ms": {r["workers"]: r["batch_latency_ms"]["p99"] for r in paced},
            "unpaced_events_per_s": {r["workers"]: r["events_per_s"] for r in unpaced},
            "unpaced_vs_1_worker": {r["workers"]: round(r["events_per_s"] /
                                                        unpaced[0]["events_per_s"], 2)
                                    for r in unpaced} if unpaced else {},
            "cpu_cores": {f"{r['mode']} {r['workers']}": {
                k: r["cpu_cores"][k] for k in ("central_workers", "postgresql", "generator",
                                               "console_load", "machine_busy_share",
                                               "cpu_ms_per_event",
                                               "machine_ceiling_events_per_s")}
                for r in runs},
            "meets_target_with_workers": [r["workers"] for r in meeting],
            "every_event_acknowledged_once": all(r["acknowledged_exactly_once"] and
                                                 r["central_holds_what_was_sent"] and
                                                 r["refused"] == 0 for r in runs),
            "total_s": round(time.perf_counter() - started, 1),
        }
    finally:
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("--_send", "--_console"):
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        sys.exit(child_main(sys.argv[1][3:], sys.argv[2]))
    sys.exit(main())
