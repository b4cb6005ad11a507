"""Telling systemd that this process is alive (sd_notify, with no dependency): READY=1 once
it serves, WATCHDOG=1 every half of WatchdogSec from the thread whose hang matters (the Kivy
UI thread for the apps, the asyncio loop for the hub and central, the sync agent's loop),
STATUS=... for `systemctl status`, STOPPING=1 on the way out.

    from core import watchdog
    watchdog.ready()
    every watchdog.interval_s(): watchdog.ping()

With no $NOTIFY_SOCKET (not started by systemd, or a unit without Type=notify) every call is
a no-op. A failure to send is logged once, and once more when sending works again; it never
raises into the caller: a kiosk must not stop because systemd's socket went away.

The socket is an AF_UNIX datagram socket named by $NOTIFY_SOCKET: a path, or an abstract
name written with a leading "@". $WATCHDOG_USEC (set by systemd from WatchdogSec=) gives
the deadline; we ping at half of it. When the socket is set but WATCHDOG_USEC is not (a
unit with no WatchdogSec=, or a test), we ping every DEFAULT_INTERVAL_S."""
from __future__ import annotations

import logging
import os
import socket
import threading

log = logging.getLogger("nafitha.watchdog")

DEFAULT_INTERVAL_S = 5.0
MIN_INTERVAL_S = 0.05  # a tiny WatchdogSec= must not turn the ping into a busy loop


class Notifier:
    """One process's line to systemd. environ: the environment to read (tests pass theirs)."""

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET", "") or ""
        self.address = ("\0" + raw[1:]) if raw.startswith("@") else raw
        self.interval_s = _interval(env.get("WATCHDOG_USEC"))
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._failing = False
        self.sent = 0  # messages that reached the socket (status shows it)

    @property
    def enabled(self) -> bool:
        # WATCHDOG_PID is not checked: the kiosk and counter run under xinit, so the app
        # that pings is the unit's grandchild (its unit says NotifyAccess=all).
        return bool(self.address)

    def send(self, message: str) -> bool:
        """Send one notification; True when it reached the socket (False: disabled or
        failed, never an exception)."""
        if not self.enabled:
            return False
        with self._lock:
            try:
                if self._socket is None:
                    self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    self._socket.setblocking(False)
                self._socket.sendto(message.encode("utf-8"), self.address)
            except OSError as exc:
                if not self._failing:
                    log.warning("cannot tell systemd we are alive (%s): %s",
                                self.address.replace("\0", "@"), exc)
                    self._failing = True
                self._close()
                return False
            if self._failing:
                log.info("telling systemd we are alive again")
                self._failing = False
            self.sent += 1
            return True

    def ready(self) -> bool:
        return self.send("READY=1")

    def ping(self) -> bool:
        return self.send("WATCHDOG=1")

    def status(self, text: str) -> bool:
        # One line: systemd takes the message as newline-separated assignments.
        return self.send("STATUS=" + " ".join(str(text).split()))

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            except OSError:
                pass
            self._socket = None


def _int(text) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _interval(watchdog_usec) -> float:
    usec = _int(watchdog_usec)
    if usec is None or usec <= 0:
        return DEFAULT_INTERVAL_S
    return max(MIN_INTERVAL_S, usec / 1_000_000 / 2)


# --- the process's own notifier --------------------------------------------------------------
_default: Notifier | None = None


def notifier() -> Notifier:
    """This process's notifier, read from the environment on first use."""
    global _default
    if _default is None:
        _default = Notifier()
    return _default


def reset() -> None:
    """Read the environment again at the next call (tests; a forked worker)."""
    global _default
    if _default is not None:
        _default.close()
    _default = None


def enabled() -> bool:
    return notifier().enabled


def interval_s() -> float:
    return notifier().interval_s


def ready() -> bool:
    return notifier().ready()


def ping() -> bool:
    return notifier().ping()


def status(text: str) -> bool:
    return notifier().status(text)


def stopping() -> bool:
    return notifier().stopping()
