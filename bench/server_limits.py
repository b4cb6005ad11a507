"""The server under a hostile LAN (issue 18): N connections from one address (127.0.0.1) that
send half a request head and stall (slowloris), while a probe from another device's address
(127.0.0.2: Linux's loopback takes all of 127/8) opens a fresh connection for one request
every 50 ms, then a flood of one failing request (from 127.0.0.1). Each run is a server in its own process with a fixed
descriptor limit: `limited` is hub/server.py's serve(); the baseline is plain uvicorn.run, as
`nafitha hub serve` ran before. Measured per run: the server's peak descriptors, the probe's
answers (and p99), the stalled connections the server closed (and how many it still held
once they were all opened), the bytes and lines it logged.

    python bench/server_limits.py [--connections 20000] [--fd-limit 4096] [--flood 2000]
                                  [--hold-s 15] [--quick]

Prints JSON. Target: with serve(), the probe is answered throughout (>= 99 %), the flooding
address holds at most its bound (max_connections_per_address), the server never runs out of
descriptors (peak < its limit), every stalled connection is closed (at the head deadline, or
sooner to make room), and the flood logs one traceback and a summary."""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
FLOOD_FROM, PROBE_FROM = "127.0.0.1", "127.0.0.2"  # the misbehaving device, a kiosk


async def app(scope, receive, send):
    """/: ok; /boom: fails, the way a route fails on a full disk."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/boom":
        raise RuntimeError("database or disk is full")
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def run_server(mode: str, port: int, fd_limit: int, header_timeout_s: float) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))
    if mode == "limited":
        from hub.server import Listener, ServerLimits, serve
        limits = ServerLimits(max_connections=max(16, fd_limit // 4),
                              header_timeout_s=header_timeout_s)
        serve([Listener(app, "127.0.0.1", port, name="bench", limits=limits)])
    else:
        import uvicorn
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning",
                    timeout_graceful_shutdown=1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descriptors(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def connect(port: int, source: str, timeout: float) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                    source_address=(source, 0))


def probe_once(port: int) -> float | None:
    began = time.perf_counter()
    try:
        with connect(port, PROBE_FROM, timeout=2) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            reply = b""
            while part := sock.recv(4096):
                reply += part
        return time.perf_counter() - began if reply.startswith(b"HTTP/1.1 200") else None
    except OSError:
        return None


def one_run(mode: str, args) -> dict:
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix=f"bench-server-{mode}-", suffix=".log")[1])
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", mode, "--port",
             str(port), "--fd-limit", str(args.fd_limit), "--header-timeout",
             str(args.header_timeout_s)], stdout=log, stderr=log, cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while probe_once(port) is None:
            assert time.monotonic() < deadline and server.poll() is None, "no server"
            time.sleep(0.05)
        peak, probes, stop = [descriptors(server.pid)], [], threading.Event()

        def watch():
            while not stop.is_set():
                peak.append(descriptors(server.pid))
                probes.append(probe_once(port))
                time.sleep(0.05)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        stalled, refused_at_connect = [], 0
        began = time.monotonic()
        for _ in range(args.connections):
            try:
                sock = connect(port, FLOOD_FROM, timeout=1)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nX-Stall: ")
                stalled.append(sock)
            except OSError:
                refused_at_connect += 1
            if time.monotonic() - began > args.hold_s * 4:
                break  # connects are timing out one by one: enough
        opened_s = time.monotonic() - began
        # once the server has taken what the kernel queued for it (well within the deadline)
        time.sleep(min(0.5, args.header_timeout_s / 2))
        held_after_opening = sum(1 for sock in stalled if not _closed(sock))
        # held hold_s in all, and past the head deadline of the last one opened
        time.sleep(max(args.hold_s - opened_s, args.header_timeout_s + 1.0))
        closed = sum(1 for sock in stalled if _closed(sock))
        for sock in stalled:
            sock.close()
        flood_began = time.monotonic()
        flood_ok = 0
        for _ in range(args.flood):
            try:
                with connect(port, FLOOD_FROM, timeout=2) as sock:
                    sock.sendall(b"GET /boom HTTP/1.1\r\nHost: bench\r\n"
                                 b"Connection: close\r\n\r\n")
                    flood_ok += sock.recv(64).startswith(b"HTTP/1.1 500")
            except OSError:
                pass
        flood_s = time.monotonic() - flood_began
        stop.set()
        watcher.join(5)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    text = log_path.read_bytes()
    log_path.unlink()
    answered = [p for p in probes if p is not None]
    return {
        "server_descriptors_peak": max(peak), "server_descriptor_limit": args.fd_limit,
        "stalled_opened": len(stalled), "connect_failed": refused_at_connect,
        "stalled_closed_by_server": closed, "stalled_held_after_opening": held_after_opening,
        "probe": {"sent": len(probes), "answered": len(answered),
                  "answered_share": round(len(answered) / max(1, len(probes)), 4),
                  "p99_ms": round(1000 * sorted(answered)[int(0.99 * (len(answered) - 1))], 1)
                  if answered else None},
        "flood": {"requests": args.flood, "answered_500": flood_ok,
                  "seconds": round(flood_s, 2)},
        "log": {"bytes": len(text), "lines": text.count(b"\n"),
                "traceback_lines": text.count(b"Traceback")},
    }


def _closed(sock: socket.socket) -> bool:
    """Without waiting: the hold period is over, a close has arrived by now."""
    sock.setblocking(False)
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except OSError:  # nothing to read: still open
        return False


def report(args) -> dict:
    try:
        with socket.socket() as sock:
            sock.bind((PROBE_FROM, 0))
    except OSError as exc:
        raise SystemExit(f"the probe needs {PROBE_FROM} on the loopback (Linux has it): "
                         f"{exc}") from None
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:  # the attacker's own sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    limited = one_run("limited", args)
    baseline = one_run("baseline", args)
    target = {"probe_answered_share": 0.99, "flood_tracebacks_at_most": 1,
              "stalled_held_at_most": _per_address_default()}
    meets = (limited["probe"]["answered_share"] >= target["probe_answered_share"]
             and limited["stalled_held_after_opening"] <= target["stalled_held_at_most"]
             and limited["server_descriptors_peak"] < args.fd_limit
             and limited["stalled_closed_by_server"] == limited["stalled_opened"]
             and limited["log"]["traceback_lines"] <= target["flood_tracebacks_at_most"])
    return {
        "benchmark": "server_limits",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "parameters": {"connections": args.connections, "fd_limit": args.fd_limit,
                       "flood_from": FLOOD_FROM, "probe_from": PROBE_FROM,
                       "max_connections_per_address": _per_address_default(),
                       "flood": args.flood, "hold_s": args.hold_s,
                       "header_timeout_s": args.header_timeout_s, "quick": args.quick},
        "limited": limited,
        "baseline": baseline,
        "log_bytes_ratio": round(baseline["log"]["bytes"] / max(1, limited["log"]["bytes"]),
                                 1),
        "target": target,
        "meets_target": meets,
    }


def _per_address_default() -> int:
    from hub.server import ServerLimits
    return ServerLimits().max_connections_per_address


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=20_000)
    parser.add_argument("--fd-limit", type=int, default=4096)
    parser.add_argument("--flood", type=int, default=2000)
    parser.add_argument("--hold-s", type=float, default=15.0,
                        help="how long the stalled connections are held")
    parser.add_argument("--header-timeout", dest="header_timeout_s", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true",
                        help="300 connections, 100 failing requests, a 1 s head deadline")
    parser.add_argument("--serve", choices=("limited", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        run_server(args.serve, args.port, args.fd_limit, args.header_timeout_s)
        return 0
    if args.quick:
        args.connections, args.flood, args.hold_s, args.header_timeout_s = 300, 100, 2.5, 1.0
        args.fd_limit = 1024
    print(json.dumps(report(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
