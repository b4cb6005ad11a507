"""A loopback SMS gateway for tests and demos: a real HTTP server (the generic JSON shape,
devices/messaging/http_gateway.py) and a real SMPP server (bind, submit_sm, enquire_link,
unbind) on 127.0.0.1, which record what they were given and play faults on demand.

    with GatewaySimulator() as sim:
        gateway = HttpGateway(sim.http_url, sim.api_key, timeout_s=0.3)
        sim.play("timeout", "throttle")     # the next submissions' fates, in order
        ...
        sim.delivered                      # what reached "phones": each ref once

Faults (one per submission, then "ok" again):
    ok        delivered; answered with the message's id
    timeout   delivered, then answered only after `delay_s` (past the client's timeout):
              the classic double-send trap, a resend under the same ref is a duplicate
    throttle  not delivered; HTTP 429 with Retry-After / SMPP ESME_RTHROTTLED
    reject    not delivered; HTTP 422 / SMPP ESME_RINVDSTADR
    error     not delivered; HTTP 503 / SMPP ESME_RSYSERR
A ref seen before is not delivered again (dedupe=True): HTTP answers 409 with the first id,
SMPP acknowledges with the first id. With dedupe=False (an SMSC that does not de-duplicate)
it is delivered again.
"""
from __future__ import annotations

import itertools
import json
import socket
import struct
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from smpplib import command, consts, pdu as smpp_pdu

from .smpp_gateway import REFERENCE_PARAM, SubmitWithReference, decode_text

FAULTS = ("ok", "timeout", "throttle", "reject", "error")


class _Sequence:
    """What smpplib's PDUs ask of a client when the simulator parses or makes one."""
    sequence = 0

    def next_sequence(self) -> int:
        return 0


class GatewaySimulator:
    def __init__(self, api_key: str = "sim-key", delay_s: float = 1.0, dedupe: bool = True,
                 retry_after_s: int = 2, system_id: str = "nafitha", password: str = "secret"):
        self.api_key = api_key
        self.delay_s = delay_s
        self.dedupe = dedupe
        self.retry_after_s = retry_after_s
        self.system_id, self.password = system_id, password
        self.delivered: list[dict] = []   # what reached phones, in order
        self.submissions: list[dict] = []  # every submission and how it was answered
        self._faults: deque[str] = deque()
        self._by_ref: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._http: ThreadingHTTPServer | None = None
        self._smpp: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # --- control ---------------------------------------------------------------------------
    def play(self, *faults: str) -> None:
        for fault in faults:
            if fault not in FAULTS:
                raise ValueError(f"fault must be one of {', '.join(FAULTS)}, not {fault!r}")
        with self._lock:
            self._faults.extend(faults)

    def refs(self) -> list[str]:
        with self._lock:
            return [d["ref"] for d in self.delivered]

    @property
    def http_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}/messages"

    @property
    def smpp_port(self) -> int:
        return self._smpp.getsockname()[1]

    def start(self) -> "GatewaySimulator":
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._smpp = socket.create_server(("127.0.0.1", 0))
        self._smpp.settimeout(0.05)
        for target, name in ((lambda: self._http.serve_forever(poll_interval=0.05),
                              "sms-sim-http"),
                             (self._accept_smpp, "sms-sim-smpp")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._smpp is not None:
            self._smpp.close()
        for thread in self._threads:
            thread.join(2)

    def __enter__(self) -> "GatewaySimulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- one submission, whatever the protocol ---------------------------------------------
    def submit(self, via: str, ref: str | None, to: str, text: str,
               data_coding: int | None = None,
               channel: str = "sms") -> tuple[str, str | None]:
        """(outcome, message id): outcome is a fault name or "duplicate"."""
        with self._lock:
            fault = self._faults.popleft() if self._faults else "ok"
            if fault in ("ok", "timeout") and ref and self.dedupe and ref in self._by_ref:
                outcome, message_id = "duplicate", self._by_ref[ref]
            elif fault in ("ok", "timeout"):
                outcome, message_id = fault, f"SIM{next(self._ids):06d}"
                self.delivered.append({"ref": ref, "to": to, "text": text, "id": message_id,
                                       "via": via, "data_coding": data_coding,
                                       "channel": channel,
                                       "at": time.time()})
                if ref:
                    self._by_ref[ref] = message_id
            else:
                outcome, message_id = fault, None
            self.submissions.append({"ref": ref, "to": to, "via": via, "outcome": outcome})
        return outcome, message_id

    # --- SMPP ------------------------------------------------------------------------------
    def _accept_smpp(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._smpp.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            threading.Thread(target=self._serve_smpp, args=(conn,), daemon=True,
                             name="sms-sim-smpp-conn").start()

    def _serve_smpp(self, conn: socket.socket) -> None:
        client = _Sequence()
        conn.settimeout(0.5)
        with conn:
            while not self._stopping.is_set():
                try:
                    data = _read_pdu(conn)
                except (socket.timeout, TimeoutError):
                    continue
                except (OSError, ConnectionError):
                    return
                if data is None:
                    return
                name = smpp_pdu.extract_command(data)
                if name == "submit_sm":
                    request = SubmitWithReference("submit_sm", client=client, sequence=0,
                                                  allow_unknown_opt_params=True)
                else:
                    request = command.factory(name, client=client, sequence=0,
                                              allow_unknown_opt_params=True)
                request.parse(data)
                replies = {"bind_transmitter": "bind_transmitter_resp",
                           "bind_transceiver": "bind_transceiver_resp",
                           "enquire_link": "enquire_link_resp", "unbind": "unbind_resp"}
                if name in replies:
                    status = consts.SMPP_ESME_ROK
                    extra = {}
                    if name.startswith("bind"):
                        extra = {"system_id": "NAFITHA-SIM"}
                        if _text(request.system_id) != self.system_id or \
                                _text(request.password) != self.password:
                            status = consts.SMPP_ESME_RINVPASWD
                    if not _send(conn, replies[name], request.sequence, status, **extra):
                        return
                    if name == "unbind":
                        return
                elif name == "submit_sm":
                    if not self._submit_smpp(conn, request):
                        return
                else:
                    _send(conn, "generic_nack", request.sequence, consts.SMPP_ESME_RINVCMDID)

    def _submit_smpp(self, conn, request) -> bool:
        octets = request.short_message or getattr(request, "message_payload", None) or b""
        text = decode_text(octets, request.data_coding or 0)
        ref = _text(getattr(request, REFERENCE_PARAM, None)) or None
        to = "+" + _text(request.destination_addr)
        outcome, message_id = self.submit("smpp", ref, to, text, request.data_coding or 0)
        status = {"throttle": consts.SMPP_ESME_RTHROTTLED,
                  "reject": consts.SMPP_ESME_RINVDSTADR,
                  "error": consts.SMPP_ESME_RSYSERR}.get(outcome, consts.SMPP_ESME_ROK)
        if outcome == "timeout":
            time.sleep(self.delay_s)  # the client has given up by now
        return _send(conn, "submit_sm_resp", request.sequence, status,
                     message_id=message_id or "")


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return value or ""


def _read_pdu(conn: socket.socket) -> bytes | None:
    head = _recv(conn, 4)
    if head is None:
        return None
    length = struct.unpack(">L", head)[0]
    body = _recv(conn, length - 4)
    return None if body is None else head + body


def _recv(conn: socket.socket, n: int) -> bytes | None:
    parts, got = [], 0
    while got < n:
        part = conn.recv(n - got)
        if not part:
            return None
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _send(conn, name: str, sequence: int, status: int, **fields) -> bool:
    reply = command.factory(name, client=_Sequence(), sequence=sequence, **fields)
    reply.status = status
    reply.sequence = sequence
    try:
        conn.sendall(reply.generate())
        return True
    except OSError:
        return False


# --- HTTP ------------------------------------------------------------------------------------
def _handler(sim: GatewaySimulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: tests read `submissions`
            pass

        def do_POST(self):  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.headers.get("Authorization") != f"Bearer {sim.api_key}":
                return self._answer(401, {"error": "bad key"})
            try:
                body = json.loads(raw)
                ref, to, text = body["reference"], body["to"], body["text"]
                channel = body.get("channel", "sms")
            except (ValueError, KeyError, TypeError, AttributeError):
                return self._answer(400, {"error": "to, text and reference are needed"})
            if channel not in ("sms", "whatsapp"):
                return self._answer(422, {"error": f"unknown channel {channel!r}"})
            outcome, message_id = sim.submit("http", ref, to, text, channel=channel)
            if outcome == "timeout":
                time.sleep(sim.delay_s)  # delivered, and the answer comes too late
            if outcome in ("ok", "timeout"):
                return self._answer(201, {"id": message_id, "status": "accepted"})
            if outcome == "duplicate":
                return self._answer(409, {"id": message_id, "error": "duplicate reference"})
            if outcome == "throttle":
                return self._answer(429, {"error": "too many requests"},
                                    {"Retry-After": str(sim.retry_after_s)})
            if outcome == "reject":
                return self._answer(422, {"error": "invalid destination"})
            return self._answer(503, {"error": "try later"})

        def _answer(self, status: int, body: dict, headers: dict | None = None):
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (a timeout fault)

    return Handler
