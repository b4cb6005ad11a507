"""A stand-in for systemd's $NOTIFY_SOCKET: a bound datagram socket read by a thread that
records (time, message), so a sender never finds the queue full (core/watchdog.py)."""
from __future__ import annotations

import socket
import tempfile
import threading
import time


class FakeSystemd:
    def __init__(self):
        # A short path: a Unix socket's name is at most 107 bytes (tmp_path can be longer).
        self.dir = tempfile.TemporaryDirectory(prefix="sdn-")
        self.path = f"{self.dir.name}/notify"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def texts(self, since: float = 0.0) -> list[str]:
        return [m for t, m in list(self.messages) if t >= since]

    def pings(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        return [t for t, m in list(self.messages) if m == "WATCHDOG=1" and since <= t < until]

    def wait_for(self, predicate, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError(f"not seen in {timeout_s} s: {self.messages[-5:]}")

    def settle(self, quiet_s: float = 0.2) -> None:
        """Until nothing arrived for quiet_s (what was on its way is in)."""
        while True:
            count = len(self.messages)
            time.sleep(quiet_s)
            if len(self.messages) == count:
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        self.dir.cleanup()

    def __enter__(self) -> "FakeSystemd":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
