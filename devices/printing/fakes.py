"""Recording fakes for printers (DESIGN.md house style 3: tests assert what was really sent).

FakeNetworkPrinter  a real TCP server on 127.0.0.1 that records every job and answers
                    DLE EOT status queries from a scripted state; unplug()/plug() it.
RecordingTransport  an in-memory Transport with scripted status and scripted send failures,
                    for the print worker's tests.

States shared by both: "ok", "paper_low", "paper_out", "offline" (cover open), "silent"
(never answers a status query) — plus "unplugged" for RecordingTransport.
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from PIL import Image

from .transports import PrinterError, PrinterStatus, Transport, parse_status

STATES = ("ok", "paper_low", "paper_out", "offline", "silent")

# The bytes a real Epson printer answers to DLE EOT 1 / 2 / 4 in each state.
_ONLINE, _OFFLINE = 0x12, 0x1A
STATUS_BYTES = {
    "ok":        {1: _ONLINE, 2: 0x12, 3: 0x12, 4: 0x12},
    "paper_low": {1: _ONLINE, 2: 0x12, 3: 0x12, 4: 0x12 | 0x0C},
    # paper out: the printer goes offline, says why (bit 5) and both sensors report
    "paper_out": {1: _OFFLINE, 2: 0x12 | 0x20, 3: 0x12, 4: 0x12 | 0x0C | 0x60},
    "offline":   {1: _OFFLINE, 2: 0x12 | 0x04, 3: 0x12, 4: 0x12},   # cover open
}
DLE_EOT = b"\x10\x04"


def status_for_state(state: str) -> PrinterStatus:
    """The PrinterStatus a transport decodes from a fake in `state`."""
    if state == "silent":
        return PrinterStatus(None, "unknown", "no answer")
    answers = STATUS_BYTES[state]
    return parse_status(answers[1], answers[2], answers[4])


class FakeNetworkPrinter:
    """A printer on port 9100 of 127.0.0.1 (a random free port), in a thread.

    with FakeNetworkPrinter() as printer:
        transport = open_transport(printer.config(timeout_s=0.5), tmp_path)
        transport.send(data, "job")
        assert printer.received == data

    A connection whose bytes are all DLE EOT n queries is a status conversation: each query is
    answered (unless state is "silent") and recorded in `status_queries`, not in the jobs.
    Any other byte makes the connection a job; everything from there to the end of the
    connection is one entry of `jobs`.
    """

    def __init__(self, state: str = "ok", host: str = "127.0.0.1"):
        self.host = host
        self.port = 0
        self._state = "ok"
        self.state = state
        self.stalled = False  # True: accept connections but stop reading (a jammed printer)
        self._jobs: list[bytes] = []
        self.status_queries: list[int] = []
        self.connections = 0
        self._cond = threading.Condition()
        self._active: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._running = False

    # -- scripted state ---------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        if value not in STATES:
            raise ValueError(f"state must be one of {STATES}, got {value!r}")
        self._state = value

    @property
    def plugged(self) -> bool:
        return self._listener is not None

    def unplug(self) -> None:
        """Stop listening and drop open connections: connects are refused, sends fail."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _shutdown(listener)  # wakes the thread blocked in accept(); close() alone does not
            listener.close()
        with self._cond:
            for conn in list(self._active):
                _shutdown(conn)

    def plug(self) -> None:
        """Listen again on the same port."""
        if self._listener is None:
            self._listen()

    # -- what was received ------------------------------------------------------------
    @property
    def jobs(self) -> list[bytes]:
        """The bytes of each finished job connection (waits up to 1 s for open ones).

        A job is recorded before the fake closes its end, so a client that waits for the close
        (NetworkTransport does) always finds its job here; one that does not should use
        wait_for_jobs()."""
        with self._cond:
            self._cond.wait_for(lambda: not self._active, timeout=1.0)
            return list(self._jobs)

    @property
    def received(self) -> bytes:
        """Every job's bytes, concatenated; status queries excluded."""
        return b"".join(self.jobs)

    def wait_for_jobs(self, count: int, timeout: float = 2.0) -> list[bytes]:
        with self._cond:
            self._cond.wait_for(lambda: len(self._jobs) >= count, timeout=timeout)
            return list(self._jobs)

    def clear(self) -> None:
        with self._cond:
            self._jobs.clear()
            self.status_queries.clear()

    def config(self, **overrides) -> dict:
        """[printer] settings for open_transport pointing at this fake."""
        return {"transport": "network", "host": self.host, "port": self.port, **overrides}

    # -- server -------------------------------------------------------------------------
    def start(self) -> "FakeNetworkPrinter":
        self._running = True
        self._listen()
        return self

    def stop(self) -> None:
        self._running = False
        self.unplug()
        for thread in self._threads:
            thread.join(timeout=2.0)

    def __enter__(self) -> "FakeNetworkPrinter":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(8)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        thread = threading.Thread(target=self._accept_loop, args=(listener,),
                                  name=f"fake-printer-{self.port}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while self._running and self._listener is listener:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return  # closed by unplug() or stop()
            with self._cond:
                self._active.add(conn)
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        job = bytearray()
        pending = b""
        is_job = False
        try:
            conn.settimeout(0.05)
            while self._running:
                if self.stalled:
                    time.sleep(0.01)
                    continue
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                if is_job:
                    job += chunk
                    continue
                pending += chunk
                while pending:
                    if not DLE_EOT.startswith(pending[:2]) or (
                            len(pending) >= 3 and pending[2] not in (1, 2, 3, 4)):
                        is_job, job = True, bytearray(pending)
                        pending = b""
                        break
                    if len(pending) < 3:
                        break  # wait for the rest of the query
                    self._answer(conn, pending[2])
                    pending = pending[3:]
            job += pending
        except OSError:
            pass  # reset by the client or dropped by unplug()
        finally:
            with self._cond:  # recorded before the client can see the connection close
                if job:
                    self._jobs.append(bytes(job))
                self._active.discard(conn)
                self._cond.notify_all()
            conn.close()

    def _answer(self, conn: socket.socket, n: int) -> None:
        with self._cond:
            self.status_queries.append(n)
        if self.state != "silent":
            conn.sendall(bytes((STATUS_BYTES[self.state][n],)))


def _shutdown(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


@dataclass(frozen=True)
class SentJob:
    job_name: str
    data: bytes
    image: Image.Image | None


class RecordingTransport(Transport):
    """In memory: records every job, answers status from `state` (or `status_override`), and
    fails the next N sends when told to (`fail_next(n, "printer offline")`).

    `state` is one of the FakeNetworkPrinter states or "unplugged" (every send fails with
    "printer unplugged" and status is offline). Only "unplugged" and fail_next make sends fail:
    a real network printer out of paper usually still takes the bytes."""

    def __init__(self, name: str = "recording", state: str = "ok"):
        super().__init__()
        self.name = name
        self.state = state
        self.status_override: PrinterStatus | None = None
        self.sent: list[SentJob] = []
        self.attempts: list[str] = []   # job names of every send, failed ones included
        self.status_calls = 0
        self.closed = False
        self._failures: list[str] = []

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        if value not in STATES + ("unplugged",):
            raise ValueError(f"state must be one of {STATES + ('unplugged',)}, got {value!r}")
        self._state = value

    def fail_next(self, count: int = 1, message: str = "printer offline") -> None:
        with self._lock:
            self._failures.extend([message] * count)

    def send(self, data: bytes, job_name: str, image: Image.Image | None = None) -> None:
        with self._lock:
            self.attempts.append(job_name)
            if self.closed:
                raise PrinterError(f"transport {self.name} is closed")
            if self._failures:
                raise PrinterError(self._failures.pop(0))
            if self.state == "unplugged":
                raise PrinterError("printer unplugged")
            self.sent.append(SentJob(job_name, bytes(data), image.copy() if image else None))

    def status(self) -> PrinterStatus:
        with self._lock:
            self.status_calls += 1
        if self.status_override is not None:
            return self.status_override
        if self.state == "unplugged":
            return PrinterStatus(False, "unknown", "printer unplugged")
        return status_for_state(self.state)

    def close(self) -> None:
        self.closed = True

    @property
    def jobs(self) -> list[bytes]:
        return [job.data for job in self.sent]

    @property
    def job_names(self) -> list[str]:
        return [job.job_name for job in self.sent]

    @property
    def received(self) -> bytes:
        return b"".join(self.jobs)
