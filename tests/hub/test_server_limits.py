"""hub/server.py against real sockets on loopback: slow heads and slow bodies are cut at their
deadlines while others are served, connections past the bound are refused at once, event
streams outlive every timeout, a flood of one error is a few log lines, TLS and plain
listeners run side by side, a flood from one address (127.0.0.1) holds at most its own bound
while another (127.0.0.2: Linux's loopback takes all of 127/8) is answered every time; the
[hub] limits are validated."""
from __future__ import annotations

import asyncio
import datetime
import ipaddress
import logging
import socket
import threading
import time
from contextlib import contextmanager

import pytest
import requests

from core.errors import ConfigError
from core.settings import load_settings
from hub.server import RESERVED_FDS, Listener, ServerLimits, _peer_address, serve

QUICK = {"header_timeout_s": 1.0, "body_timeout_s": 1.0, "keepalive_s": 30.0}


async def little_app(scope, receive, send):
    """/: ok; /echo: the body's length; /stream: an event every 0.2 s for 3 s (?n=events);
    /boom: raises."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    if path == "/boom":
        raise RuntimeError("the store is on fire")
    body = b"ok"
    if path == "/echo":
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size, more = size + len(message.get("body", b"")), message.get("more_body")
        body = str(size).encode()
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        for n in range(int(scope["query_string"].decode().partition("n=")[2] or 15)):
            await send({"type": "http.response.body", "body": f"data: {n}\n\n".encode(),
                        "more_body": True})
            await asyncio.sleep(0.2)
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def serving(*listeners):
    """serve() in a thread; yields its Running (urls, stats, limits) and stops it after."""
    ready, box = threading.Event(), {}

    def run():
        try:
            serve(list(listeners), on_started=lambda running: (box.update(running=running),
                                                               ready.set()))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc
            ready.set()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(15), "the server did not start"
    if "error" in box:
        raise box["error"]
    try:
        yield box["running"]
    finally:
        box["running"].stop()
        thread.join(15)
        assert not thread.is_alive(), "serve() did not return after stop()"


def listener(name="api", **limits) -> Listener:
    return Listener(little_app, "127.0.0.1", 0, name=name,
                    limits=ServerLimits(**{**QUICK, **limits}))


def address(url: str) -> tuple[str, int]:
    host, port = url.split("://")[1].rsplit(":", 1)
    return host, int(port)


def closed_by_server(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def connect_from(source: str, url: str) -> socket.socket:
    host, port = address(url)
    return socket.create_connection((host.strip("[]"), port), timeout=5,
                                    source_address=(source, 0))


def stall_from(source: str, url: str) -> socket.socket:
    sock = connect_from(source, url)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: hub\r\nX-Slow: ")  # never finished
    return sock


def ask(sock: socket.socket) -> bytes:
    """One GET / on a kept-alive connection: the answer ("ok", two bytes) or what came."""
    sock.sendall(b"GET / HTTP/1.1\r\nHost: hub\r\n\r\n")
    reply = b""
    while not reply.endswith(b"\r\n\r\nok"):
        part = sock.recv(4096)
        if not part:
            break
        reply += part
    return reply


def answered_from(source: str, url: str) -> bool:
    """A fresh connection from source, one request: answered 200 ok?"""
    try:
        with connect_from(source, url) as sock:
            return ask(sock).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def wait_for(condition, within_s=10.0):
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_half_sent_heads_are_closed_at_the_deadline_while_others_are_served():
    # All from 127.0.0.1, and room for them all: each one waits for its deadline.
    with serving(listener(max_connections_per_address=1000)) as running:
        url, stats = running.urls["api"], running.stats["api"]
        slow = []
        for _ in range(300):
            sock = socket.create_connection(address(url))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: hub\r\nX-Slow: ")  # never finished
            slow.append(sock)
        began = time.monotonic()
        with requests.Session() as client:
            answers = 0
            while time.monotonic() - began < 1.6:
                assert client.get(url + "/", timeout=5).text == "ok"
                answers += 1
                time.sleep(0.05)
        assert answers >= 10
        assert all(closed_by_server(sock, 3.0) for sock in slow)
        assert time.monotonic() - began < 6
        assert stats.head_timeouts == 300
        wait_for(lambda: stats.open == 0)
        for sock in slow:
            sock.close()
        # a connection that sends nothing at all is closed the same way
        idle = socket.create_connection(address(url))
        assert not closed_by_server(idle, 0.5) and closed_by_server(idle, 2.0)
        idle.close()


def test_at_the_bound_a_new_connection_takes_the_place_of_a_stalled_one():
    with serving(listener(max_connections=20, header_timeout_s=30)) as running:
        url, stats = running.urls["api"], running.stats["api"]
        stalled = []
        for _ in range(20):
            sock = socket.create_connection(address(url))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: hub\r\nX-Slow: ")
            stalled.append(sock)
        wait_for(lambda: stats.open == 20)
        sessions = [requests.Session() for _ in range(20)]
        for session in sessions:  # each answered, though the head deadline is far away
            assert session.get(url + "/", timeout=5).text == "ok"
        # twenty new connections held open (idle, kept alive): the stalled ones, older,
        # made the room
        assert stats.evicted == 20 and stats.refused == 0 and stats.head_timeouts == 0
        assert all(closed_by_server(sock, 2.0) for sock in stalled)
        assert stats.open == 20
        for sock in stalled:
            sock.close()
        for session in sessions:
            session.close()


def test_past_the_bound_busy_connections_are_kept_and_new_ones_refused_at_once():
    records = Collect("nafitha.server")
    with serving(listener(max_connections=20)) as running:
        url, stats = running.urls["api"], running.stats["api"]
        streams = []
        for _ in range(20):  # each has a request under way: none is given up for another
            sock = socket.create_connection(address(url))
            sock.sendall(b"GET /stream?n=25 HTTP/1.1\r\nHost: hub\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            streams.append(sock)
        for _ in range(10):
            with socket.create_connection(address(url)) as extra:
                extra.settimeout(2)
                reply = extra.recv(4096)
                assert reply.startswith(b"HTTP/1.1 503") and b'"busy"' in reply
        assert stats.refused == 10 and stats.evicted == 0 and stats.open == 20
        for sock in streams:  # still streaming
            sock.settimeout(2)
            assert b"data: " in sock.recv(4096)
        streams[0].close()
        wait_for(lambda: stats.open == 19)
        assert requests.get(url + "/", timeout=5).text == "ok"
        for sock in streams[1:]:
            sock.close()
    refusals = [r.getMessage() for r in records.records
                if "refusing new ones" in r.getMessage()]
    # ten refusals: the first one's line, and one that sums up the others when serve() ends
    assert len(refusals) == 2 and "(repeated 9 times in the last" in refusals[1]
    records.remove()


def test_a_flood_from_one_address_never_closes_or_keeps_out_another():
    # Three times the listener's bound, from one address: it holds 16, never the rest.
    with serving(listener(max_connections=100, max_connections_per_address=16,
                          header_timeout_s=30)) as running:
        url, stats = running.urls["api"], running.stats["api"]
        kept_alive = connect_from("127.0.0.2", url)  # older than the whole flood, then idle
        assert ask(kept_alive).startswith(b"HTTP/1.1 200")
        stalled, answers = [], 0
        for n in range(300):
            stalled.append(stall_from("127.0.0.1", url))
            if n % 10 == 9:
                assert answered_from("127.0.0.2", url), f"not answered after {n + 1} stalled"
                answers += 1
        wait_for(lambda: stats.open_by_address.get("127.0.0.1") == 16)
        assert ask(kept_alive).startswith(b"HTTP/1.1 200")  # never made room for the flood
        still_open = [sock for sock in stalled if not closed_by_server(sock, 0.01)]
        # the newest kept: each new one made room by closing its address's oldest
        assert len(still_open) == 16 and set(still_open) <= set(stalled[-24:])
        assert answers == 30 and stats.head_timeouts == 0
        assert stats.evicted == stats.evicted_per_address >= 284 - stats.refused_per_address
        kept_alive.close()
        for sock in stalled:
            sock.close()
        wait_for(lambda: stats.open == 0 and stats.open_by_address == {})


def test_an_address_whose_connections_are_all_busy_is_refused_and_others_served():
    with serving(listener(max_connections_per_address=4)) as running:
        url, stats = running.urls["api"], running.stats["api"]
        streams = []
        for _ in range(4):
            sock = connect_from("127.0.0.1", url)
            sock.sendall(b"GET /stream?n=25 HTTP/1.1\r\nHost: hub\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            streams.append(sock)
        for _ in range(3):
            with connect_from("127.0.0.1", url) as extra:
                reply = extra.recv(4096)
                assert reply.startswith(b"HTTP/1.1 503") and b'"busy"' in reply
        assert all(answered_from("127.0.0.2", url) for _ in range(5))
        assert stats.refused == stats.refused_per_address == 3 and stats.evicted == 0
        for sock in streams:  # still streaming
            assert b"data: " in sock.recv(4096)
            sock.close()


def test_at_the_listeners_bound_the_address_holding_most_makes_room():
    with serving(listener(max_connections=20, max_connections_per_address=16,
                          header_timeout_s=30)) as running:
        url, stats = running.urls["api"], running.stats["api"]
        kiosk = [connect_from("127.0.0.2", url) for _ in range(4)]  # the oldest, idle
        for sock in kiosk:
            assert ask(sock).startswith(b"HTTP/1.1 200")
        stalled = [stall_from("127.0.0.1", url) for _ in range(16)]
        wait_for(lambda: stats.open == 20)
        assert answered_from("127.0.0.3", url)  # a third device, the listener full
        assert stats.evicted == 1 and stats.evicted_per_address == 0
        assert closed_by_server(stalled[0], 2.0)  # 127.0.0.1's oldest, not the kiosk's
        assert all(ask(sock).startswith(b"HTTP/1.1 200") for sock in kiosk)
        for sock in kiosk + stalled:
            sock.close()


def test_connections_are_counted_by_the_peers_ip():
    assert _peer_address(("192.0.2.7", 50000)) == "192.0.2.7"
    assert _peer_address(("::ffff:192.0.2.7", 50000, 0, 0)) == "192.0.2.7"  # dual stack
    assert _peer_address(("2001:db8::7", 50000, 0, 0)) == "2001:db8::7"
    assert _peer_address(("fe80::7%eth0", 50000, 0, 2)) == "fe80::7%eth0"


def test_the_descriptor_limit_bounds_the_connections():
    import resource
    with serving(listener(max_connections=10_000_000,
                          max_connections_per_address=10_000_000)) as running:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        applied = running.limits["api"]
        assert applied.max_connections <= soft - RESERVED_FDS
        assert applied.max_connections_per_address == applied.max_connections


def test_an_event_stream_outlives_the_head_body_and_keepalive_timeouts():
    with serving(listener(header_timeout_s=0.5, body_timeout_s=0.5, keepalive_s=0.5)) as \
            running:
        began = time.monotonic()
        with requests.get(running.urls["api"] + "/stream", stream=True, timeout=5) as reply:
            events = [line for line in reply.iter_lines() if line.startswith(b"data:")]
        assert len(events) == 15 and time.monotonic() - began > 2.5
        assert running.stats["api"].head_timeouts == running.stats["api"].body_timeouts == 0


def test_the_hubs_own_event_stream_outlives_the_timeouts(office):
    """The real hub app: /api/v1/events stays open past every deadline and still carries
    the queue's changes."""
    from hub.app import create_app
    from hub.live import Live
    app = create_app(office, live=Live(office, poll_s=0.05))
    limits = ServerLimits(header_timeout_s=0.5, body_timeout_s=0.5, keepalive_s=0.5)
    with serving(Listener(app, "127.0.0.1", 0, name="hub", limits=limits)) as running:
        url = running.urls["hub"]
        token = app.state.devices.redeem(app.state.devices.create_pairing(
            "kiosk", "kiosk-1", [])["code"])[1]
        auth = {"Authorization": f"Bearer {token}"}
        with requests.get(url + "/api/v1/events", headers=auth, stream=True,
                          timeout=10) as stream:
            lines = stream.iter_lines()
            assert next(line for line in lines if line.startswith(b"data:"))
            time.sleep(1.5)  # three times every deadline
            taken = requests.post(url + "/api/v1/kiosk/take-ticket", headers=auth,
                                  json={"service": "residence-certificate"}, timeout=10)
            assert taken.status_code == 200, taken.text
            assert next(line for line in lines if line.startswith(b"data:"))
        assert running.stats["hub"].head_timeouts == 0


def test_a_slow_body_is_cut_and_a_quick_one_answered():
    with serving(listener(body_timeout_s=1.0, min_body_bytes_per_s=1024)) as running:
        url, stats = running.urls["api"], running.stats["api"]
        assert requests.post(url + "/echo", data=b"x" * 1000, timeout=5).text == "1000"
        began = time.monotonic()
        with socket.create_connection(address(url)) as sock:
            # 1 s + 1000 bytes at 1024 bytes/s: cut near 2 s, not after the 20 s it would take
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: hub\r\nContent-Length: 1000\r\n\r\n")
            cut = False
            while time.monotonic() - began < 6 and not cut:
                try:
                    sock.sendall(b"x" * 10)
                except OSError:
                    cut = True
                cut = cut or closed_by_server(sock, 0.2)
            elapsed = time.monotonic() - began
        assert cut and 1.8 < elapsed < 4, elapsed
        assert stats.body_timeouts == 1 and stats.head_timeouts == 0


def test_a_flood_of_one_error_is_logged_once():
    errors = Collect("uvicorn.error")
    with serving(listener()) as running:
        with requests.Session() as client:
            for _ in range(300):
                assert client.get(running.urls["api"] + "/boom", timeout=5).status_code == 500
    tracebacks = [r for r in errors.records if "Exception in ASGI application" in r.msg]
    assert len(tracebacks) == 1
    # when the server stops, the repeats are summed up in one line
    summaries = [r.getMessage() for r in errors.records if "repeated" in r.getMessage()]
    assert len(summaries) == 1 and "repeated 299 times" in summaries[0]
    assert len([r for r in errors.records if r.levelno >= logging.ERROR]) == 2
    errors.remove()


def test_a_tls_listener_and_a_plain_one_in_one_process(tmp_path):
    cert, key = self_signed(tmp_path)
    tls = Listener(little_app, "127.0.0.1", 0, certfile=str(cert), keyfile=str(key),
                   name="api", limits=ServerLimits(**QUICK))
    with serving(tls, listener("board")) as running:
        assert running.urls["api"].startswith("https://")
        assert requests.get(running.urls["api"] + "/", verify=str(cert), timeout=5).text == "ok"
        assert requests.get(running.urls["board"] + "/", timeout=5).text == "ok"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(running.urls["api"] + "/", timeout=5)  # an unknown certificate
        # a connection that never starts its TLS handshake is closed at the head deadline
        silent = socket.create_connection(address(running.urls["api"]))
        assert closed_by_server(silent, 3.0)
        silent.close()
        wait_for(lambda: running.stats["api"].open == 0)


def test_an_address_in_use_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            serve([Listener(little_app, "127.0.0.1", port, name="api")])


@pytest.mark.parametrize("key, value, words", [
    ("max_connections", 0, "between 16 and 100000"),
    ("max_connections_per_address", 2, "between 4 and 100000"),
    ("max_connections_per_address", 100_001, "between 4 and 100000"),
    ("header_timeout_s", 0, "between 1 and 300 seconds"),
    ("body_timeout_s", 99999, "between 1 and 3600 seconds"),
    ("min_body_bytes_per_s", 10, "between 1024 and"),
    ("keepalive_s", -1, "between 1 and 3600 seconds"),
])
def test_bad_limits_in_the_settings_are_a_config_error(tmp_path, key, value, words):
    (tmp_path / "nafitha.toml").write_text(f"[hub]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=words) as info:
        load_settings(tmp_path, environ={})
    assert info.value.details["key"] == f"hub.{key}"


def test_the_settings_give_the_server_its_limits(tmp_path):
    (tmp_path / "nafitha.toml").write_text("[hub]\nmax_connections = 64\nkeepalive_s = 5\n"
                                           "max_connections_per_address = 8\n")
    limits = ServerLimits.from_settings(load_settings(tmp_path, environ={}).hub)
    assert (limits.max_connections, limits.max_connections_per_address, limits.keepalive_s,
            limits.header_timeout_s) == (64, 8, 5, 10.0)
    assert ServerLimits.from_settings(load_settings(tmp_path / "none", environ={}).hub) \
        .max_connections_per_address == 64  # the default: a centre's kiosks hold a few


class Collect(logging.Handler):
    def __init__(self, logger: str):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.logger = logging.getLogger(logger)
        self.logger.addHandler(self)
        self.level_before = self.logger.level
        self.logger.setLevel(logging.INFO)

    def emit(self, record):
        self.records.append(record)

    def remove(self):
        self.logger.removeHandler(self)
        self.logger.setLevel(self.level_before)


def self_signed(directory):
    """A throwaway certificate for 127.0.0.1 (the hub's real one is made at set-up)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test hub")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "hub.pem", directory / "hub.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_accepted_connections_send_small_writes_at_once(monkeypatch):
    """Our accept loop hands asyncio sockets whose proto is 0, so asyncio does not set
    TCP_NODELAY itself: serve() must, or Nagle and the client's delayed ACK hold every
    answer ~40 ms (measured: health p50 44 ms without, 1 ms with)."""
    options = []
    real = socket.socket.setsockopt

    def spy(self, level, option, value, *rest):
        options.append((self.getsockname()[0], level, option, value))
        return real(self, level, option, value, *rest)
    monkeypatch.setattr(socket.socket, "setsockopt", spy)
    with serving(listener()) as running:
        assert requests.get(running.urls["api"] + "/", timeout=5).ok
    assert ("127.0.0.1", socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) in options
