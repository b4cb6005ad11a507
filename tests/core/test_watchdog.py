"""core/watchdog.py: sd_notify to a fake $NOTIFY_SOCKET, a no-op without one, never an
exception from a broken one; and the long-running loops that ping it (the hub's event loop
in hub/server.py, the sync agent's Coordinator)."""
from __future__ import annotations

import logging
import socket
import tempfile
import threading
import time

import pytest

from core import watchdog
from core.coordinator import IDLE, Coordinator
from core.watchdog import Notifier


@pytest.fixture
def fake_socket():
    with tempfile.TemporaryDirectory(prefix="sdn-") as d:  # short: a socket name <= 107 B
        path = f"{d}/notify"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(2)
        yield path, sock
        sock.close()


def received(sock, n):
    return [sock.recv(4096).decode() for _ in range(n)]


def test_messages_arrive_at_the_socket(fake_socket):
    path, sock = fake_socket
    n = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000"})
    assert n.enabled and n.interval_s == 1.5
    assert n.ready() and n.ping() and n.status("serving 3\nkiosks") and n.stopping()
    assert received(sock, 4) == ["READY=1", "WATCHDOG=1", "STATUS=serving 3 kiosks",
                                 "STOPPING=1"]
    assert n.sent == 4


def test_an_abstract_socket_name_works():
    name = f"nafitha-test-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).ping()
        assert sock.recv(100) == b"WATCHDOG=1"
    finally:
        sock.close()


def test_without_notify_socket_every_call_is_a_no_op(fake_socket):
    _path, sock = fake_socket
    n = Notifier({})
    assert not n.enabled
    assert (n.ready(), n.ping(), n.status("x"), n.stopping()) == (False,) * 4
    sock.settimeout(0.05)
    with pytest.raises(TimeoutError):
        sock.recv(100)


def test_default_interval_when_watchdog_usec_is_unset_or_bad():
    assert Notifier({"NOTIFY_SOCKET": "/x"}).interval_s == watchdog.DEFAULT_INTERVAL_S
    assert Notifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "soon"}).interval_s == \
        watchdog.DEFAULT_INTERVAL_S
    assert Notifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1"}).interval_s == \
        watchdog.MIN_INTERVAL_S


def test_a_broken_socket_never_raises_and_logs_once_then_once_on_recovery(caplog):
    with tempfile.TemporaryDirectory(prefix="sdn-") as d:
        path = f"{d}/notify"
        n = Notifier({"NOTIFY_SOCKET": path})
        with caplog.at_level(logging.INFO, logger="nafitha.watchdog"):
            assert [n.ping() for _ in range(3)] == [False, False, False]
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(path)
            try:
                assert n.ping() and n.ping()
            finally:
                sock.close()
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        infos = [r for r in caplog.records if r.levelno == logging.INFO]
        assert len(warnings) == 1 and "cannot tell systemd" in warnings[0].getMessage()
        assert len(infos) == 1 and n.sent == 2


def test_the_module_notifier_reads_the_environment(fake_socket, monkeypatch):
    path, sock = fake_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    watchdog.reset()
    try:
        assert watchdog.enabled() and watchdog.interval_s() == 0.5
        assert watchdog.ping()
        assert received(sock, 1) == ["WATCHDOG=1"]
    finally:
        monkeypatch.delenv("NOTIFY_SOCKET")
        watchdog.reset()
    assert not watchdog.enabled()


# --- the loops that ping ------------------------------------------------------------------------
def test_the_agent_loop_pings_after_each_poll_and_while_it_waits():
    beats = []
    loop = Coordinator("central test", lambda: IDLE, logging.getLogger("test"), idle_s=0.3,
                       heartbeat=lambda: beats.append(time.monotonic()), heartbeat_s=0.05)
    loop.run(max_polls=2)  # poll, wait 0.3 s (pinging), poll
    assert len(beats) >= 5


def test_a_hung_poll_stops_the_agent_loop_pings():
    beats, release = [], threading.Event()
    loop = Coordinator("central test", lambda: release.wait(5) and IDLE,
                       logging.getLogger("test"), idle_s=0.05,
                       heartbeat=lambda: beats.append(1), heartbeat_s=0.02)
    loop.start()
    time.sleep(0.2)
    during = len(beats)
    time.sleep(0.2)
    assert len(beats) == during == 1  # the one ping before the poll that hangs
    release.set()
    time.sleep(0.2)
    loop.stop()
    assert len(beats) > during


def test_the_hub_server_pings_from_its_event_loop(fake_socket, monkeypatch):
    from hub.server import Listener, serve
    path, sock = fake_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # a ping every 0.05 s
    watchdog.reset()

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return

    running = []
    thread = threading.Thread(target=lambda: serve(
        [Listener(app, "127.0.0.1", 0, name="t")], on_started=running.append), daemon=True)
    try:
        thread.start()
        messages = received(sock, 5)
        assert messages[0] in ("READY=1", "WATCHDOG=1")
        assert "READY=1" in messages and messages.count("WATCHDOG=1") >= 3
    finally:
        deadline = time.monotonic() + 5
        while not running and time.monotonic() < deadline:
            time.sleep(0.01)
        running[0].stop()
        thread.join(10)
        monkeypatch.delenv("NOTIFY_SOCKET")
        watchdog.reset()
    assert not thread.is_alive()
    rest = []
    sock.settimeout(0.2)
    try:
        while True:
            rest.append(sock.recv(100).decode())
    except TimeoutError:
        pass
    assert rest[-1] == "STOPPING=1"
