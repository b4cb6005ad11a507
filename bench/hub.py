"""The hub under a service centre's load: 10 kiosks taking tickets and 5 counters calling,
serving and finishing them at the same time, over loopback HTTP, against a baseline
measured in the same run.

    python bench/hub.py [--rounds 60 | --seconds S] [--pause-ms 0] [--device-procs 1] [--quick]

Starts a real hub (`nafitha hub serve --no-sync`, its own process) on a free loopback port
over a fresh data directory set up with the real CLI commands (`keys demo`, `user add` for
one clerk per counter, `hub pair` for every device; run in this process with click's
runner, so setup takes a second rather than 21 interpreter starts). Every device pairs
itself over HTTP (POST /api/v1/pair with its code), each counter's clerk signs in, then
all start together:

- each kiosk, per round: GET /api/v1/health, then POST /api/v1/kiosk/take-ticket (a fixed mix of
  residence certificate, address form and small building permit), then --pause-ms (default
  none: a closed loop, far more tickets per second than a real centre, so the figures are a
  worst case);
- each counter: call-next; with a ticket, step start_serving, then finish; with none, a
  50 ms pause (a clerk with nobody waiting). Counters 1-2 serve residence certificates,
  3 the other two services, 4-5 every service. Once every kiosk is done the counters
  drain the queue (each stops at its first empty call).

Kiosks stop after --rounds tickets each, or after --seconds.

Figures (ms): take-ticket, call-next (calls that returned a ticket; empty calls apart),
start-serving and finish, p50/p95/p99/max; tickets per second over the kiosks' phase.
Baseline: GET /api/v1/health, sent by the same kiosk threads on the same connections
between their tickets, so it sees the same hub, the same load and the same client: the
floor of HTTP + uvicorn (h11) + FastAPI on this machine. Ratios: operation over health.
Also health_idle: the same request sent 50 times by this process before the load starts
(what the hub's floor is when nobody else talks to it).
Target (the issue): take-ticket and call-next p99 at most 100 ms.

Checks, from what the devices saw and from the hub's SQLite read after the hub stopped:
ticket numbers unique and consecutive per service prefix; no ticket called twice or by two
counters; every call recorded under the counter and clerk that made it; the store's
tickets, ticket events and outbox events equal to what the devices did, and every ticket
done.

The GIL: the hub runs in its own process (as in a centre). The simulated devices are
threads in worker processes (`python bench/hub.py --worker`): by default one process for
the 10 kiosks and one for the 5 counters, each device its own thread, requests.Session and
token. requests releases the GIL while it waits on the socket, and a device spends far
less CPU per request than the hub does, so the devices do not hold the hub back; the
report gives the CPU seconds of the hub and of the devices to show it, and
--device-procs N spreads each role over N processes to check that the figures do not
move. Any delay on the client side is also in the health baseline.

Prints one JSON object. Exit code 1 if a request failed or a check did not hold."""
from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ROOT first: run as a script, bench/ is sys.path[0] and this file (hub.py) would hide the
# hub package from the CLI commands run below.
sys.path.insert(0, str(ROOT))

# bench/ on the path only for this import (as in bench/counter.py).
sys.path.insert(0, str(ROOT / "bench"))
try:
    from _kiosk import percentile, summary  # noqa: E402
finally:
    sys.path.remove(str(ROOT / "bench"))

NAFITHA = str(Path(sys.executable).with_name("nafitha"))
KIOSKS = 10
COUNTERS = 5
PIN = "1234"
TARGET_P99_MS = 100.0
QUICK_ROUNDS = 4
IDLE_S = 0.05  # a counter that found nobody waits this long before calling again
TIMEOUT_S = 30
# Kiosk i, round r takes MIX[(3 * i + r) % len(MIX)]: residence certificates dominate.
MIX = ("residence-certificate", "address-form", "residence-certificate",
       "building-permit-small", "residence-certificate")
SERVICES = ("residence-certificate", "address-form", "building-permit-small")
# Counter n's services (empty: every service); every service above has an all-services
# counter, so the counters always drain the queue.
COUNTER_SERVICES = (("residence-certificate",), ("residence-certificate",),
                    ("address-form", "building-permit-small"), (), ())


# --- the devices (run in worker processes) ------------------------------------------------------
class Device:
    def __init__(self, url: str, spec: dict):
        import tempfile

        from hubclient import join, pairing_path
        from hubclient.connection import pinned_session
        self.url, self.spec = url, spec
        self.times: dict[str, list[float]] = {}
        self.errors: list[dict] = []
        # Paired as a real device is: the code proven over HTTPS, the certificate pinned.
        with tempfile.TemporaryDirectory(prefix="nafitha-bench-device-") as data:
            self.name = join(data, url, spec["code"])["name"]
            pairing = json.loads(pairing_path(data).read_text(encoding="utf-8"))
        self.http = pinned_session(pairing["fingerprint"])
        self.http.headers["Authorization"] = f"Bearer {pairing['token']}"

    def request(self, op: str, method: str, path: str, body=None, timed: bool = True):
        start = time.perf_counter()
        try:
            reply = self.http.request(method, self.url + path, json=body, timeout=TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            self.errors.append({"op": op, "error": repr(exc)[:300]})
            raise
        elapsed = time.perf_counter() - start
        if reply.status_code != 200:
            self.errors.append({"op": op, "status": reply.status_code,
                                "body": reply.text[:300]})
            raise RuntimeError(f"{op}: HTTP {reply.status_code}")
        if timed:
            self.times.setdefault(op, []).append(elapsed)
        return reply.json()


def run_kiosk(device: Device, index: int, rounds: int | None, deadline: float | None,
              pause_s: float, out: dict) -> None:
    tickets = []
    r = 0
    try:
        while (rounds is None or r < rounds) and (deadline is None or
                                                   time.monotonic() < deadline):
            device.request("health", "get", "/api/v1/health")
            ticket = device.request("take_ticket", "post", "/api/v1/kiosk/take-ticket",
                                    {"service": MIX[(3 * index + r) % len(MIX)],
                                     "priority": None})
            tickets.append({"id": ticket["id"], "number": ticket["number"],
                            "service": ticket["service_code"], "kiosk": device.name})
            r += 1
            if pause_s:
                time.sleep(pause_s)
    except Exception:  # noqa: BLE001 - the error is in device.errors
        pass
    out.update(tickets=tickets, times=device.times, errors=device.errors)


def run_counter(device: Device, stop: threading.Event, out: dict) -> None:
    served = []
    try:
        signed = device.request("sign_in", "post", "/api/v1/counter/sign-in",
                                {"username": device.spec["clerk"], "pin": PIN}, timed=False)
        device.http.headers["X-Clerk-Session"] = signed["session"]
        out["ready"].set()
        device.spec["go"].wait()
        while True:
            draining = stop.is_set()  # read before the call: a ticket taken before stop is seen
            start = time.perf_counter()
            ticket = device.request("call_next_any", "post", "/api/v1/counter/call-next",
                                    {"services": None}, timed=False)
            elapsed = time.perf_counter() - start
            if ticket is None:
                device.times.setdefault("call_next_empty", []).append(elapsed)
                if draining:
                    break
                time.sleep(IDLE_S)
                continue
            device.times.setdefault("call_next", []).append(elapsed)
            path = "/api/v1/counter/ticket-step"
            device.request("start_serving", "post", path,
                           {"step": "start_serving", "ticket": ticket["id"]})
            device.request("finish", "post", path, {"step": "finish", "ticket": ticket["id"]})
            served.append({"id": ticket["id"], "number": ticket["number"],
                           "counter": device.name, "clerk": device.spec["clerk"],
                           "called_as": ticket["counter"]})
    except Exception:  # noqa: BLE001 - the error is in device.errors
        out["ready"].set()
    out.update(served=served, times=device.times, errors=device.errors)


def worker(config: dict) -> dict:
    """One worker process: its devices pair (and sign in), say "ready" on stdout, start on
    "go" from stdin; counters drain once "stop" arrives. Prints one JSON line at the end."""
    url, role = config["url"], config["role"]
    go, stop = threading.Event(), threading.Event()
    devices, failed = [], []
    for spec in config["devices"]:
        try:
            devices.append(Device(url, {**spec, "go": go}))
        except Exception as exc:  # noqa: BLE001 - reported
            failed.append({"op": "pair", "device": spec["name"], "error": repr(exc)[:300]})
    outs = [{"ready": threading.Event()} for _ in devices]
    if role == "kiosk":
        threads = []
    else:
        threads = [threading.Thread(target=run_counter, args=(d, stop, o), daemon=True)
                   for d, o in zip(devices, outs)]
        for t in threads:
            t.start()
        for o in outs:
            o["ready"].wait(TIMEOUT_S)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "go":
            break
    cpu0, wall0 = time.process_time(), time.monotonic()
    go.set()
    if role == "kiosk":
        deadline = wall0 + config["seconds"] if config["seconds"] else None
        threads = [threading.Thread(target=run_kiosk, daemon=True,
                                    args=(d, spec["index"], config["rounds"], deadline,
                                          config["pause_ms"] / 1000, o))
                   for d, spec, o in zip(devices, config["devices"], outs)]
        for t in threads:
            t.start()
    else:
        def wait_for_stop():
            for line in sys.stdin:
                if line.strip() == "stop":
                    break
            stop.set()
        threading.Thread(target=wait_for_stop, daemon=True).start()
    for t in threads:
        t.join()
    result = {"role": role, "wall_s": time.monotonic() - wall0,
              "cpu_s": time.process_time() - cpu0, "errors": failed, "times": {},
              "tickets": [], "served": []}
    for o in outs:
        for op, values in o.get("times", {}).items():
            result["times"].setdefault(op, []).extend(values)
        result["errors"] += o.get("errors", [])
        result["tickets"] += o.get("tickets", [])
        result["served"] += o.get("served", [])
    return result


def worker_main() -> int:
    config = json.loads(sys.argv[sys.argv.index("--worker") + 1])
    print(json.dumps(worker(config)), flush=True)
    return 0


# --- the bench ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(data: Path, *args: str, env: dict | None = None) -> dict:
    from click.testing import CliRunner

    from nafitha.cli import cli as nafitha_cli
    result = CliRunner().invoke(nafitha_cli, ["--data", str(data), *args, "--json"], env=env)
    if result.exit_code != 0:
        raise RuntimeError(f"nafitha {' '.join(args)}: {result.output[-500:]}")
    return json.loads(result.stdout)


def set_up(data: Path) -> tuple[list[dict], list[dict]]:
    """Keys, one clerk per counter, and a pairing code for every device."""
    cli(data, "keys", "demo")
    kiosks = [{"index": i, "name": f"kiosk-{i + 1}",
               "code": cli(data, "hub", "pair", "kiosk", f"kiosk-{i + 1}")["code"]}
              for i in range(KIOSKS)]
    counters = []
    for i, services in enumerate(COUNTER_SERVICES):
        clerk = f"clerk{i + 1}"
        cli(data, "user", "add", clerk, "--role", "clerk", env={"NAFITHA_NEW_PIN": PIN})
        code = cli(data, "hub", "pair", "counter", str(i + 1),
                   "--services", ",".join(services))["code"]
        counters.append({"index": i, "name": str(i + 1), "code": code, "clerk": clerk})
    return kiosks, counters


class Hub:
    def __init__(self, data: Path, port: int):
        self.log = open(data.parent / "hub.log", "w+b")  # noqa: SIM115 - closed in stop()
        self.url = f"https://127.0.0.1:{port}"  # devices' HTTPS, as in a centre
        board_port = free_port()
        self.health_url = f"http://127.0.0.1:{board_port}"  # the board's plain listener
        # The closed loop takes tickets far faster than any person: the per-device limits
        # (core/faces per_minute) would measure the limit, not the hub.
        self.proc = subprocess.Popen(
            [NAFITHA, "--data", str(data), "hub", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--board-port", str(board_port), "--no-sync"], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env={**os.environ, "NAFITHA_HUB__RATE_LIMITS": "false"})
        import requests
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(self.health_url + "/api/v1/health", timeout=1).ok:
                    from core.tls import HubCertificate
                    self.fingerprint = HubCertificate.ensure(data).fingerprint  # made by serve
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the hub did not start: {self.output()[-2000:]}")
            time.sleep(0.05)

    def cpu_s(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")


class Worker:
    def __init__(self, config: dict):
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(config)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def expect(self, word: str, timeout: float = 60) -> None:
        line = self.lines.get(timeout=timeout)
        if line != word:
            raise RuntimeError(f"a worker said {line!r}, not {word!r}")

    def send(self, word: str) -> None:
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()

    def result(self, timeout: float) -> dict:
        line = self.lines.get(timeout=timeout)
        self.proc.wait(timeout=10)
        if line is None:
            raise RuntimeError(f"a worker ended without a result (exit {self.proc.returncode})")
        return json.loads(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def split(items: list, n: int) -> list[list]:
    return [part for part in (items[i::n] for i in range(n)) if part]


def idle_health(url: str, fingerprint: str, n: int = 50) -> list[float]:
    from hubclient.connection import pinned_session
    out = []
    with pinned_session(fingerprint) as http:
        for _ in range(n):
            start = time.perf_counter()
            http.get(url + "/api/v1/health", timeout=TIMEOUT_S).raise_for_status()
            out.append(time.perf_counter() - start)
    return out


def run(rounds: int | None, seconds: float | None, pause_ms: float, procs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="nafitha-bench-hub-") as tmp:
        data = Path(tmp) / "hub"
        kiosks, counters = set_up(data)
        hub = Hub(data, free_port())
        workers: list[Worker] = []
        try:
            common = {"url": hub.url, "rounds": rounds, "seconds": seconds,
                      "pause_ms": pause_ms}
            kiosk_workers = [Worker({**common, "role": "kiosk", "devices": part})
                             for part in split(kiosks, procs)]
            counter_workers = [Worker({**common, "role": "counter", "devices": part})
                               for part in split(counters, procs)]
            workers = kiosk_workers + counter_workers
            for w in workers:
                w.expect("ready")
            health_idle = idle_health(hub.url, hub.fingerprint)
            hub_cpu0 = hub.cpu_s()
            start = time.monotonic()
            for w in workers:
                w.send("go")
            limit = (seconds or 0) + (rounds or 0) * (5 + pause_ms / 1000) + 120
            kiosk_results = [w.result(limit) for w in kiosk_workers]
            ticket_phase_s = time.monotonic() - start
            for w in counter_workers:
                w.send("stop")
            counter_results = [w.result(120) for w in counter_workers]
            total_s = time.monotonic() - start
            hub_cpu = hub.cpu_s() - hub_cpu0
        finally:
            for w in workers:
                w.kill()
            hub_exit = hub.stop()
            hub_log = hub.output()
            hub.log.close()
        store = read_store(data / "nafitha.db")
    return report(kiosk_results, counter_results, store, counters,
                  {"ticket_phase_s": ticket_phase_s, "total_s": total_s, "hub_cpu_s": hub_cpu,
                   "hub_exit_code": hub_exit, "hub_log_tail": hub_log[-2000:],
                   "health_idle": health_idle})


def read_store(path: Path) -> dict:
    """What the hub wrote, read from its SQLite file once it has stopped."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        rows = lambda sql: [dict(r) for r in db.execute(sql)]  # noqa: E731
        return {
            "tickets": rows("SELECT id, number, prefix, service_code, daily_seq, state, "
                            "counter, call_count FROM tickets"),
            "events": rows("SELECT ticket_id, to_state, counter, actor FROM ticket_events"),
            "outbox": {r["type"]: r["n"] for r in rows(
                "SELECT type, COUNT(*) AS n FROM outbox WHERE type LIKE 'ticket.%' "
                "GROUP BY type")},
        }
    finally:
        db.close()


def report(kiosk_results: list[dict], counter_results: list[dict], store: dict,
           counters: list[dict], run_info: dict) -> dict:
    times: dict[str, list[float]] = {}
    for result in kiosk_results + counter_results:
        for op, values in result["times"].items():
            times.setdefault(op, []).extend(values)
    errors = [e for r in kiosk_results + counter_results for e in r["errors"]]
    taken = [t for r in kiosk_results for t in r["tickets"]]
    served = [s for r in counter_results for s in r["served"]]
    checks = check(taken, served, store, counters)
    figures = {op: stats(times.get(op, [])) for op in
               ("take_ticket", "call_next", "call_next_empty", "start_serving", "finish")}
    health = stats(times.get("health", []))
    ratio = lambda a, b: round(a / b, 2) if a and b else None  # noqa: E731
    p99s = [figures["take_ticket"]["p99_ms"], figures["call_next"]["p99_ms"]]
    requests_done = sum(len(v) for v in times.values())  # all but pairing and sign-in
    return {
        **figures,
        "baseline": {"health": health, "health_idle": stats(run_info["health_idle"])},
        "ratios": {f"{op}_{p}_over_health_{p}": ratio(figures[op][f"{p}_ms"],
                                                      health[f"{p}_ms"])
                   for op in ("take_ticket", "call_next") for p in ("p50", "p99")},
        "throughput": {
            "tickets_per_s": round(len(taken) / run_info["ticket_phase_s"], 1),
            "finished_per_s": round(len(served) / run_info["total_s"], 1),
            "requests_per_s": round(requests_done / run_info["total_s"], 1),
            "ticket_phase_s": round(run_info["ticket_phase_s"], 2),
            "total_s": round(run_info["total_s"], 2)},
        "target": {"p99_ms_at_most": TARGET_P99_MS, "take_ticket_p99_ms": p99s[0],
                   "call_next_p99_ms": p99s[1],
                   "met": all(p is not None and p <= TARGET_P99_MS for p in p99s)},
        "counts": {"tickets_taken": len(taken), "called": len(times.get("call_next", [])),
                   "started": len(times.get("start_serving", [])),
                   "finished": len(times.get("finish", [])),
                   "empty_calls": len(times.get("call_next_empty", [])),
                   "health": len(times.get("health", [])), "errors": len(errors)},
        "errors": errors[:20],
        "checks": checks,
        "cpu_s": {"hub": round(run_info["hub_cpu_s"], 2),
                  "kiosk_workers": round(sum(r["cpu_s"] for r in kiosk_results), 2),
                  "counter_workers": round(sum(r["cpu_s"] for r in counter_results), 2),
                  "wall": round(run_info["total_s"], 2)},
        "hub": {"exit_code": run_info["hub_exit_code"],
                "log_tail": run_info["hub_log_tail"] if errors or not checks["all"] else ""},
    }


def stats(values_s: list[float]) -> dict:
    """summary() of bench/_kiosk.py (n, p50, p95, max in ms) and p99."""
    out = summary(values_s)
    p99 = round(percentile([v * 1000 for v in values_s], 0.99), 1) if values_s else None
    return {"n": out["n"], "p50_ms": out["p50_ms"], "p95_ms": out["p95_ms"], "p99_ms": p99,
            "max_ms": out["max_ms"]}


def check(taken: list[dict], served: list[dict], store: dict, counters: list[dict]) -> dict:
    from collections import Counter, defaultdict

    # Numbers: unique, and per prefix exactly 1..n (what the devices were given, and the store).
    by_prefix: dict[str, list[int]] = defaultdict(list)
    for t in taken:
        by_prefix[t["number"].rstrip("0123456789")].append(int(t["number"].lstrip(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
    consecutive = all(sorted(v) == list(range(1, len(v) + 1)) for v in by_prefix.values())
    unique = len({t["number"] for t in taken}) == len(taken) == len({t["id"] for t in taken})
    store_seq: dict[str, list[int]] = defaultdict(list)
    for t in store["tickets"]:
        store_seq[t["prefix"]].append(t["daily_seq"])
    store_consecutive = all(sorted(v) == list(range(1, len(v) + 1))
                            for v in store_seq.values())
    # Calls: each ticket called once, by the counter that said it called it.
    called_ids = Counter(s["id"] for s in served)
    called_once = all(n == 1 for n in called_ids.values())
    called_as_self = all(s["called_as"] == s["counter"] for s in served)
    events = defaultdict(list)
    for e in store["events"]:
        events[e["to_state"]].append(e)
    clerk_of = {c["name"]: c["clerk"] for c in counters}
    store_calls = Counter(e["ticket_id"] for e in events["called"])
    by_id = {s["id"]: s for s in served}
    store_called_once = all(n == 1 for n in store_calls.values())
    calls_recorded_right = all(
        e["ticket_id"] in by_id and e["counter"] == by_id[e["ticket_id"]]["counter"]
        and e["actor"] == clerk_of.get(e["counter"]) for e in events["called"])
    every_ticket_served = set(called_ids) == {t["id"] for t in taken}
    # The store against what was done.
    tickets = store["tickets"]
    expected_outbox = {"ticket.taken": len(taken), "ticket.called": len(served),
                       "ticket.serving": len(served), "ticket.finished": len(served)}
    store_matches = {
        "tickets": len(tickets) == len(taken),
        "ticket_ids": {t["id"] for t in tickets} == {t["id"] for t in taken},
        "all_done_at_the_counter_that_called": all(
            t["state"] == "done" and t["call_count"] == 1
            and t["counter"] == by_id.get(t["id"], {}).get("counter") for t in tickets),
        "events": {k: len(events[k]) for k in ("waiting", "called", "serving", "done")} ==
        {"waiting": len(taken), "called": len(served), "serving": len(served),
         "done": len(served)} and len(store["events"]) == len(taken) + 3 * len(served),
        "outbox": {k: store["outbox"].get(k, 0) for k in expected_outbox} == expected_outbox
        and set(store["outbox"]) <= set(expected_outbox),
    }
    result = {
        "numbers_unique": unique,
        "numbers_consecutive_per_prefix": consecutive and store_consecutive,
        "per_prefix": {p: len(v) for p, v in sorted(by_prefix.items())},
        "no_ticket_called_twice": called_once and store_called_once and called_as_self,
        "calls_recorded_with_counter_and_clerk": calls_recorded_right,
        "every_ticket_called_and_finished": every_ticket_served,
        "store_matches": store_matches,
    }
    result["all"] = bool(taken) and all(
        v for k, v in result.items() if k not in ("per_prefix", "store_matches")) and all(
        store_matches.values())
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60, help="tickets per kiosk")
    parser.add_argument("--seconds", type=float,
                        help="kiosks take tickets for this long instead of --rounds")
    parser.add_argument("--pause-ms", type=float, default=0,
                        help="a kiosk's pause after each ticket (default: none)")
    parser.add_argument("--device-procs", type=int, default=1,
                        help="worker processes per role (kiosks, counters)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ROUNDS} tickets per kiosk (the smoke test in make test)")
    args = parser.parse_args(argv)
    rounds = QUICK_ROUNDS if args.quick else None if args.seconds else args.rounds
    seconds = None if args.quick else args.seconds
    result = run(rounds, seconds, args.pause_ms, max(1, args.device_procs))
    report_ = {"benchmark": "hub",
               "parameters": {"kiosks": KIOSKS, "counters": COUNTERS, "rounds": rounds,
                              "seconds": seconds, "pause_ms": args.pause_ms,
                              "device_procs": max(1, args.device_procs),
                              "quick": args.quick, "services": list(SERVICES)},
               "machine": {"python": platform.python_version(),
                           "cpus": len(os.sched_getaffinity(0))}, **result}
    print(json.dumps(report_, indent=2, ensure_ascii=False))
    return 0 if report_["checks"]["all"] and not report_["counts"]["errors"] else 1


if __name__ == "__main__":
    if "--worker" in sys.argv:
        sys.exit(worker_main())
    sys.exit(main())
