"""A fault-injecting HTTP proxy to put between a sync agent and central (tests only).

Each request is read whole (headers + Content-Length body), then a seeded random choice says
what happens to it:

    pass                forwarded, the reply returned unchanged
    drop_before         the connection is closed (sometimes reset); central never sees it
    drop_after_commit   forwarded and answered by central, then the connection is closed
                        without a reply: central committed, the agent never hears of it
    error_500           500 without forwarding (Retry-After: 0 or 1)
    error_503           503 without forwarding (Retry-After: 0 or 1)
    commit_then_503     forwarded (central commits), but the agent gets a 503
    timeout             held past the agent's timeout, then forwarded anyway (a late commit
                        that can race the agent's own resend)
    truncate            the reply's body is cut short under its original Content-Length and
                        the connection closed (an incomplete read)
    truncate_json       the reply's body is cut short with a matching Content-Length: a
                        well-formed HTTP 200 whose JSON is cut off
    duplicate           sent to central twice (at once or one after the other), one reply
                        returned
    replay              an earlier recorded event batch is sent to central first
                        (reordering), then this request is forwarded

Every upstream request goes over a fresh connection with `Connection: close`, and the client
connection is closed after each reply (requests reconnects). Counts of every fault, by kind
and by path, are kept in `counts` / `event_counts` so tests can prove each one happened, and
central's own replies to event batches are tallied (`central_stored`, `central_duplicates`)
whether or not the agent saw them. `arm_after_commit(fn)` runs fn once central has accepted
the next batch, before the reply goes back (to SIGKILL an agent in exactly that window).
"""
from __future__ import annotations

import json
import random
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections import Counter

KINDS = ("pass", "drop_before", "drop_after_commit", "error_500", "error_503",
         "commit_then_503", "timeout", "truncate", "truncate_json", "duplicate", "replay")
FAULTS = KINDS[1:]

DEFAULT_WEIGHTS = {"pass": 40, "drop_before": 7, "drop_after_commit": 8, "error_500": 5,
                   "error_503": 5, "commit_then_503": 4, "timeout": 2, "truncate": 6,
                   "truncate_json": 5, "duplicate": 8, "replay": 8}

EVENTS_PATH = "/v1/events"
MAX_HEAD = 64 * 1024


class Incomplete(Exception):
    """The peer closed the connection before a whole request or reply arrived."""


def _read_message(sock: socket.socket, buffered: bytes = b"") -> tuple[bytes, bytes, bytes]:
    """One HTTP message: (head without the blank line, body, bytes left over). A body is
    read by Content-Length, or to EOF when the message has none (a reply with
    `Connection: close`)."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise Incomplete("closed inside the head")
        data += chunk
        if len(data) > MAX_HEAD and b"\r\n\r\n" not in data:
            raise Incomplete("head too long")
    head, rest = data.split(b"\r\n\r\n", 1)
    headers = _headers(head)
    if "transfer-encoding" in headers:
        raise Incomplete("chunked messages are not supported by this proxy")
    length = headers.get("content-length")
    if length is None:
        if head.startswith(b"HTTP/"):  # a reply: read to EOF
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return head, rest, b""
                rest += chunk
        return head, b"", rest  # a request without a body
    length = int(length)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise Incomplete(f"closed after {len(rest)} of {length} body bytes")
        rest += chunk
    return head, rest[:length], rest[length:]


def _headers(head: bytes) -> dict[str, str]:
    out = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        out[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return out


def _with_header(head: bytes, name: str, value: str) -> bytes:
    """The head with `name` replaced by (or set to) value."""
    lines = head.split(b"\r\n")
    keep = [lines[0]] + [ln for ln in lines[1:]
                         if ln.partition(b":")[0].strip().lower() != name.lower().encode()]
    return b"\r\n".join(keep + [f"{name}: {value}".encode("latin-1")])


def _response(status: int, reason: str, body: bytes, extra: dict | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json",
            f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class FaultProxy:
    """`FaultProxy(upstream_url, seed=...)`; `.start()` gives `.url`; `.stop()`.

    weights: kind -> relative weight (DEFAULT_WEIGHTS). timeout_s: how long a `timeout`
    request is held (longer than the agent's timeout). ensure_each: every fault is injected
    at least once into an event batch among the first event requests (at seeded positions),
    so a short run still exercises all of them. faults_on: False passes everything (e.g. to
    drain at the end of a test)."""

    def __init__(self, upstream_url: str, seed: int, weights: dict | None = None,
                 timeout_s: float = 2.5, ensure_each: bool = True, history: int = 64,
                 tls: tuple[str, str] | None = None):
        # tls: (certfile, keyfile) of an HTTPS upstream (a hub): the proxy presents the same
        # certificate, so a pinned client goes through it, and its faults hit the requests
        # and replies inside TLS, as a failing network would.
        self.tls = tls
        host_port = upstream_url.split("://", 1)[1].rstrip("/")
        host, _, port = host_port.partition(":")
        self.upstream = (host, int(port or 80))
        self.seed = seed
        self.rng = random.Random(seed)
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        self.timeout_s = timeout_s
        self.faults_on = True
        self.lock = threading.Lock()
        self.counts: Counter = Counter()  # kind -> requests it was applied to
        self.event_counts: Counter = Counter()  # the same, for POST /v1/events only
        self.paths: Counter = Counter()
        self.upstream_sent = 0  # requests central was sent (replays and duplicates included)
        self.requests_seen = 0
        self.incomplete = 0  # client connections that closed before a whole request
        # Summed over every reply central gave to an event batch (replays, duplicates and
        # replies the agent never saw included): each event must be stored exactly once.
        self.central_stored = 0
        self.central_duplicates = 0
        self._active = 0  # connections being handled
        self.errors: list[str] = []  # unexpected proxy failures (tests assert none)
        self.recorded: list[bytes] = []  # raw event batches seen, for `replay`
        self.history = history
        self._forced: dict[int, str] = {}
        self._event_requests = 0
        if ensure_each:
            order = list(FAULTS)
            self.rng.shuffle(order)
            # One forced fault in each pair of event requests, the other left to chance.
            for i, kind in enumerate(order):
                self._forced[2 * i + 1 + self.rng.randrange(2)] = kind
        self._after_commit = None
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self.url = None

    # --- life ---------------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting; requests still held (`timeout`) are forwarded at once, and every
        connection is finished before this returns, so `summary()` is final."""
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
        deadline = time.monotonic() + 30
        while self._active and time.monotonic() < deadline:
            time.sleep(0.02)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def summary(self) -> dict:
        with self.lock:
            return {"seed": self.seed, "requests": self.requests_seen,
                    "upstream_sent": self.upstream_sent, "incomplete": self.incomplete,
                    "central_stored": self.central_stored,
                    "central_duplicates": self.central_duplicates,
                    "faults": dict(sorted(self.counts.items())),
                    "event_faults": dict(sorted(self.event_counts.items())),
                    "paths": dict(self.paths), "errors": list(self.errors)}

    def arm_after_commit(self, fn) -> None:
        """Call fn() once, the next time central accepts an event batch (200), before the
        reply goes back: e.g. to SIGKILL the agent between central's commit and its own."""
        with self.lock:
            self._after_commit = fn

    def _committed(self, is_events: bool, reply: bytes) -> None:
        if not is_events or not reply.startswith(b"HTTP/1.1 200"):
            return
        with self.lock:
            fn, self._after_commit = self._after_commit, None
        if fn is not None:
            fn()

    # --- the choice -----------------------------------------------------------------------------
    def _choose(self, is_events: bool, raw: bytes) -> tuple[str, dict]:
        with self.lock:
            self.requests_seen += 1
            kind = None
            if is_events:
                self._event_requests += 1
                kind = self._forced.pop(self._event_requests, None)
            if not self.faults_on:
                kind = "pass"
            elif kind is None:
                kinds = list(self.weights)
                kind = self.rng.choices(kinds, [self.weights[k] for k in kinds])[0]
            if kind == "replay" and not self.recorded:
                if is_events:  # nothing to replay yet: a forced replay waits for the next
                    later = self._event_requests + 1
                    while later in self._forced:
                        later += 1
                    self._forced[later] = "replay"
                kind = "pass"
            # Every random draw for a request is made here, under the lock, so one seed gives
            # one sequence of decisions whatever the threads do.
            plan = {"reset": self.rng.random() < 0.5,
                    "concurrent": self.rng.random() < 0.5,
                    "retry_after": self.rng.choice(("0", "0", "1")),
                    "cut": self.rng.random(),
                    "old": self.recorded[self.rng.randrange(len(self.recorded))]
                    if kind == "replay" else None}
            self.counts[kind] += 1
            if is_events:
                self.event_counts[kind] += 1
                self.recorded.append(raw)
                del self.recorded[:-self.history]
            return kind, plan

    # --- one client connection ----------------------------------------------------------------
    def _handle(self, client: socket.socket) -> None:
        with self.lock:
            self._active += 1
        try:
            self._handle_one(client)
        finally:
            with self.lock:
                self._active -= 1

    def _handle_one(self, client: socket.socket) -> None:
        client.settimeout(30)
        try:
            if self.tls:
                server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                server_side.load_cert_chain(*self.tls)
                client = server_side.wrap_socket(client, server_side=True)
            head, body, _ = _read_message(client)
        except (Incomplete, OSError):
            with self.lock:
                self.incomplete += 1  # e.g. an agent killed while sending
            client.close()
            return
        try:
            self._serve_one(client, head, body)
        except Exception as exc:  # noqa: BLE001 - recorded; the test asserts there are none
            with self.lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            try:
                client.close()
            except OSError:
                pass

    def _serve_one(self, client: socket.socket, head: bytes, body: bytes) -> None:
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, target = request_line.split(" ")[:2]
        path = target.split("?", 1)[0]
        is_events = method == "POST" and path == EVENTS_PATH
        raw = _with_header(head, "Connection", "close") + b"\r\n\r\n" + body
        kind, plan = self._choose(is_events, raw)
        with self.lock:
            self.paths[f"{method} {path}"] += 1

        if kind == "drop_before":
            self._drop(client, plan["reset"])
        elif kind in ("error_500", "error_503"):
            status = 500 if kind == "error_500" else 503
            reason = "Internal Server Error" if status == 500 else "Service Unavailable"
            self._send(client, _response(status, reason, b'{"error":"proxy","message":'
                                                       b'"injected fault"}',
                                         {"Retry-After": plan["retry_after"]}))
        elif kind == "timeout":
            # Hold the request past the agent's timeout; then central gets it anyway.
            self._stopping.wait(self.timeout_s)
            reply = self._forward(raw)
            self._send(client, reply)  # the agent has usually gone by now
        elif kind == "duplicate":
            if plan["concurrent"]:
                replies = [None, None]

                def send(i):
                    try:
                        replies[i] = self._forward(raw)
                    except Exception as exc:  # noqa: BLE001
                        with self.lock:
                            self.errors.append(f"duplicate: {type(exc).__name__}: {exc}")
                threads = [threading.Thread(target=send, args=(i,)) for i in (0, 1)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self._send(client, replies[0] or replies[1] or b"")
            else:
                self._forward(raw)
                self._send(client, self._forward(raw))
        elif kind == "replay":
            self._forward(plan["old"])
            reply = self._forward(raw)
            self._committed(is_events, reply)
            self._send(client, reply)
        else:
            reply = self._forward(raw)
            self._committed(is_events, reply)
            if kind == "pass":
                self._send(client, reply)
            elif kind == "drop_after_commit":
                self._drop(client, plan["reset"])
            elif kind == "commit_then_503":
                self._send(client, _response(503, "Service Unavailable",
                                             b'{"error":"proxy","message":"injected fault"}',
                                             {"Retry-After": plan["retry_after"]}))
            elif kind in ("truncate", "truncate_json"):
                rhead, rbody = reply.split(b"\r\n\r\n", 1)
                cut = rbody[:int(len(rbody) * plan["cut"] * 0.9)]
                if kind == "truncate_json":
                    rhead = _with_header(rhead, "Content-Length", str(len(cut)))
                self._send(client, rhead + b"\r\n\r\n" + cut)
            else:
                raise AssertionError(kind)

    # --- plumbing -------------------------------------------------------------------------------
    def _forward(self, raw: bytes) -> bytes:
        """Send one request to central on a fresh connection; its whole reply (with
        Connection: close and an exact Content-Length)."""
        with socket.create_connection(self.upstream, timeout=60) as up:
            if self.tls:
                client_side = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                client_side.check_hostname = False
                client_side.verify_mode = ssl.CERT_NONE  # the hub's own certificate, known
                up = client_side.wrap_socket(up)
            with self.lock:
                self.upstream_sent += 1
            up.sendall(raw)
            head, body, _ = _read_message(up)
        if raw.startswith(f"POST {EVENTS_PATH} ".encode()) and head.startswith(b"HTTP/1.1 200"):
            reply = json.loads(body)
            with self.lock:
                self.central_stored += reply["stored"]
                self.central_duplicates += reply["duplicates"]
        head = _with_header(head, "Connection", "close")
        head = _with_header(head, "Content-Length", str(len(body)))
        return head + b"\r\n\r\n" + body

    @staticmethod
    def _send(client: socket.socket, data: bytes) -> None:
        try:
            client.sendall(data)
        except OSError:
            pass  # the agent gave up (timeout) or was killed

    @staticmethod
    def _drop(client: socket.socket, reset: bool) -> None:
        if reset:  # RST instead of FIN: "connection reset by peer"
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
