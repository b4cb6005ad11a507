"""Our ASGI apps under uvicorn, with limits a hostile LAN cannot get past: several listeners
(the hub's HTTPS API and its plain-HTTP board, or central's API) in one process and one event
loop, each with

- a bound on open connections, checked as each is accepted (before a TLS handshake): at the
  bound, a new connection takes the place of the one that has waited longest without a
  request under way (mid-handshake, mid-head, or idle between requests), so stalling
  clients cannot keep others out; when every connection has a request under way (an event
  stream, a route at work) the new one is answered 503 (plain HTTP) or closed (TLS) at once.
  The process never runs out of descriptors (the soft RLIMIT_NOFILE is raised to the hard
  one at start, and the bounds are lowered to fit it if they must be);
- a bound on open connections from one peer address (its IP, IPv4 or IPv6; no header is
  trusted), below the listener's: past it, a new connection from that address takes the
  place of that same address's longest-waiting one, or is refused if all of its are busy.
  At the listener's bound, the one closed is the longest-waiting of the address that holds
  the most. A flood from one address never closes or keeps out another's connections;
- timeouts for slow clients: the request head within header_timeout_s of the connection (or
  of the first byte of a kept-alive connection's next request; a TLS handshake gets the same
  time), the body within body_timeout_s plus one second per min_body_bytes_per_s of its
  declared length, an idle keep-alive connection closed after keepalive_s. A response being
  sent is never timed: event streams (/api/v1/events, /board/events) live as long as their
  client;
- repeated log messages written once per interval (core/log_repeats.py) on the server's
  loggers (the root's handlers, asyncio, uvicorn).

    serve([Listener(app, "0.0.0.0", 8470, certfile=..., keyfile=..., name="api",
                    limits=ServerLimits.from_settings(settings.hub)),
           Listener(board_app, "0.0.0.0", 8471, name="board")],
          on_started=lambda running: print(running.urls))   # blocks until SIGINT/SIGTERM

Used by the CLI (`nafitha hub serve`, `nafitha central serve`): the CLI may import any layer,
while central/ itself never imports hub/ (tests/test_layering.py). uvicorn has no timeout for
a request's head nor a bound on connections that holds before a request arrives:
`LimitedH11Protocol` adds the timeouts to its h11 protocol, and our own accept loop counts the
connections (docs/hub.md "Limits")."""
from __future__ import annotations

import asyncio
import json
import logging
import resource
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import Server

from core import watchdog
from core.errors import ConfigError, NafithaError
from core.settings import HubSettings
from core.log_repeats import RepeatFilter

log = logging.getLogger("nafitha.server")

RESERVED_FDS = 256  # kept free of connections: the store, logs, printers, the sync agent
REPEAT_INTERVAL_S = 60.0
ACCEPT_RETRY_S = 0.5  # after a failed accept (descriptors short): let connections close
GRACEFUL_SHUTDOWN_S = 2  # then open event streams are cut
_BUSY_BODY = json.dumps({"error": "busy", "message": "too many connections are open; "
                                                     "try again in a moment"}).encode()
BUSY_REPLY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
              b"content-length: " + str(len(_BUSY_BODY)).encode() +
              b"\r\nretry-after: 1\r\nconnection: close\r\n\r\n" + _BUSY_BODY)


@dataclass(frozen=True)
class ServerLimits:
    """One listener's limits; the hub's come from [hub] in the settings, whose defaults
    (and their reasons) are these defaults too (core/settings.py HubSettings)."""
    max_connections: int = HubSettings.max_connections
    max_connections_per_address: int = HubSettings.max_connections_per_address
    header_timeout_s: float = HubSettings.header_timeout_s
    body_timeout_s: float = HubSettings.body_timeout_s
    min_body_bytes_per_s: int = HubSettings.min_body_bytes_per_s
    keepalive_s: float = HubSettings.keepalive_s

    @classmethod
    def from_settings(cls, hub) -> ServerLimits:
        """From the settings' [hub] section (validated there)."""
        return cls(max_connections=hub.max_connections,
                   max_connections_per_address=hub.max_connections_per_address,
                   header_timeout_s=hub.header_timeout_s, body_timeout_s=hub.body_timeout_s,
                   min_body_bytes_per_s=hub.min_body_bytes_per_s, keepalive_s=hub.keepalive_s)

    def __post_init__(self):
        if min(self.max_connections, self.max_connections_per_address,
               self.min_body_bytes_per_s) < 1 or min(
                self.header_timeout_s, self.body_timeout_s, self.keepalive_s) <= 0:
            raise ConfigError(f"server limits must be positive: {self}")

    @property
    def per_address_bound(self) -> int:
        """As applied: never above the listener's own bound."""
        return min(self.max_connections_per_address, self.max_connections)

    def body_deadline_s(self, declared_length: int | None) -> float:
        return self.body_timeout_s + (declared_length or 0) / self.min_body_bytes_per_s


@dataclass
class Listener:
    """An app on one address. certfile/keyfile (PEM): serve HTTPS. lifespan: run the app's
    startup and shutdown here; None (the default): only the first listener does, the others
    share its state (the board listener serves a view of the hub's own app)."""
    app: Any
    host: str
    port: int  # 0: a free port (tests); Running.urls says which
    certfile: str | None = None
    keyfile: str | None = None
    name: str = ""
    limits: ServerLimits = field(default_factory=ServerLimits)
    lifespan: bool | None = None


@dataclass
class ListenerStats:
    """Counted since start (bench/server_limits.py and the tests read them)."""
    open: int = 0
    accepted: int = 0
    refused: int = 0
    evicted: int = 0  # closed to make room: waiting longest with no request under way
    head_timeouts: int = 0
    body_timeouts: int = 0
    # Of refused and evicted: at the bound of their own address (its flood, not the others)
    refused_per_address: int = 0
    evicted_per_address: int = 0
    open_by_address: dict[str, int] = field(default_factory=dict)  # now; none: not listed


class _Waiting:
    """A listener's connections with no request under way (mid-handshake, mid-head, idle
    between requests), oldest first, by peer address: the first to be closed when a new
    connection needs the room. Each is held with the call that closes it."""

    def __init__(self):
        self._by_address: dict[str | None, dict[Any, Callable[[], None]]] = {}

    def __bool__(self) -> bool:
        return bool(self._by_address)

    def has(self, address: str | None) -> bool:
        return address in self._by_address

    def add(self, key, address: str | None, close: Callable[[], None]) -> None:
        """As the newest of its address's (again, if it was there)."""
        self.discard(key, address)
        self._by_address.setdefault(address, {})[key] = close

    def discard(self, key, address: str | None) -> None:
        mine = self._by_address.get(address)
        if mine is not None and mine.pop(key, None) is not None and not mine:
            del self._by_address[address]  # no address is kept once its last one is gone

    def close_oldest(self, address: str | None) -> None:
        mine = self._by_address[address]
        key = next(iter(mine))
        close = mine.pop(key)
        if not mine:
            del self._by_address[address]
        close()

    def busiest(self, open_by_address: dict[str, int]) -> str | None:
        """Of the addresses with a connection waiting, the one holding the most open."""
        return max(self._by_address, key=lambda address: open_by_address.get(address, 0))


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request head and one for the body.
    Built by our accept loop with its listener's limits and a callback for when the
    connection is gone; uvicorn may also build it itself (`http=` of a uvicorn.Config, as
    central's several workers do), then with the default limits."""

    def __init__(self, config, server_state, app_state, _loop=None, *,
                 limits: ServerLimits | None = None, stats: ListenerStats | None = None,
                 on_lost: Callable[[], None] | None = None, waiting: _Waiting | None = None,
                 peer: str | None = None):
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits or ServerLimits()
        self.stats = stats or ListenerStats()
        self._on_lost = on_lost
        self._waiting = waiting if waiting is not None else _Waiting()
        self._peer = peer
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_late)
        self._waiting.add(self, self._peer, transport.abort)

    def data_received(self, data: bytes) -> None:
        if self._head_timer is None and self.conn.their_state is h11.IDLE:
            # The next request on a kept-alive connection: its head is timed from its first
            # byte (the idle wait before it is keepalive_s, uvicorn's own timer).
            self._head_timer = self.loop.call_later(self.limits.header_timeout_s,
                                                    self._head_late)
        super().data_received(data)
        self._follow_request()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._waiting.add(self, self._peer, self.transport.abort)  # idle: the newest
        self._follow_request()  # a pipelined request may have been read just now

    def connection_lost(self, exc) -> None:
        self._cancel_timers()
        self._waiting.discard(self, self._peer)
        try:
            super().connection_lost(exc)
        finally:
            on_lost, self._on_lost = self._on_lost, None
            if on_lost is not None:
                on_lost()

    def _follow_request(self) -> None:
        state = self.conn.their_state
        if state is h11.IDLE:
            return  # the head is still coming (its timer runs)
        self._waiting.discard(self, self._peer)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if state is h11.SEND_BODY:
            if self._body_timer is None:
                self._body_timer = self.loop.call_later(
                    self.limits.body_deadline_s(_declared_length(self.headers)),
                    self._body_late)
        elif self._body_timer is not None:
            # The request is in: whatever the response takes (an event stream) is not timed.
            self._body_timer.cancel()
            self._body_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.stats.head_timeouts += 1
            log.info("closed a connection that sent no complete request head within %s s",
                     self.limits.header_timeout_s)
            self.transport.abort()  # no graceful close for a stalling client (TLS included)

    def _body_late(self) -> None:
        self._body_timer = None
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            self.stats.body_timeouts += 1
            log.warning("closed a connection whose request body was too slow (%s s plus %d "
                        "bytes a second)", self.limits.body_timeout_s,
                        self.limits.min_body_bytes_per_s)
            self.transport.abort()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None


def _peer_address(address) -> str:
    """The peer's IP, the key its connections are counted under: an IPv4 client of a
    dual-stack IPv6 listener (::ffff:192.0.2.7) counts as its IPv4 address."""
    host = address[0] if isinstance(address, tuple) else str(address)
    if host.startswith("::ffff:") and "." in host:
        return host[len("::ffff:"):]
    return host


def _declared_length(headers) -> int | None:
    for name, value in headers or ():
        if name == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


class _SharedLifespan:
    """A listener without its own lifespan: the owner's state, no startup or shutdown."""

    def __init__(self, owner):
        self.owner = owner
        self.should_exit = False

    @property
    def state(self):
        return self.owner.state

    async def startup(self):
        pass

    async def shutdown(self):
        pass


class _ListenerServer(Server):
    """uvicorn's Server for one listener, with our accept loop in place of asyncio's (which
    accepts whatever comes until descriptors run out)."""

    def __init__(self, listener: Listener, limits: ServerLimits):
        self.listener = listener
        self.limits = limits
        self.name = listener.name or f"{listener.host}:{listener.port}"
        self.stats = ListenerStats()
        super().__init__(uvicorn.Config(
            listener.app, host=listener.host, port=listener.port,
            ssl_certfile=listener.certfile, ssl_keyfile=listener.keyfile,
            http=LimitedH11Protocol, ws="none", log_config=None, access_log=False,
            timeout_keep_alive=limits.keepalive_s,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S))
        self.config.load()
        self.lifespan = None  # set by serve()
        self.socket: socket.socket | None = None
        self._accepting: asyncio.Task | None = None
        self._starting: set[asyncio.Task] = set()
        self.waiting = _Waiting()

    @property
    def tls(self) -> bool:
        return self.config.ssl is not None

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1] if self.socket else self.listener.port

    @property
    def url(self) -> str:
        host = self.listener.host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def bind(self) -> None:
        family = socket.AF_INET6 if ":" in self.listener.host else socket.AF_INET
        try:
            self.socket = socket.create_server((self.listener.host, self.listener.port),
                                               family=family, backlog=self.config.backlog)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {self.listener.host}:{self.listener.port} "
                              f"({self.name}): {exc.strerror or exc}") from exc
        self.socket.setblocking(False)

    async def startup(self, sockets=None) -> None:
        self.servers = []  # uvicorn's shutdown closes these; ours is self.socket
        self._accepting = asyncio.get_running_loop().create_task(self._accept_loop())
        log.info("%s listening on %s", self.name, self.url)
        self.started = True

    async def shutdown(self, sockets=None) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
        if self.socket is not None:
            self.socket.close()
        await super().shutdown()

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self.stats.accepted % 32 == 0:
                # An accept that is ready does not yield: let the connections' callbacks
                # (closes included) run between bursts.
                await asyncio.sleep(0)
            try:
                conn, address = await loop.sock_accept(self.socket)
            except OSError as exc:
                log.error("%s: accepting a connection failed: %s", self.name,
                          exc.strerror or exc)
                await asyncio.sleep(ACCEPT_RETRY_S)
                continue
            self.stats.accepted += 1
            # asyncio's transport sets TCP_NODELAY only on sockets whose proto says TCP, and
            # an accepted socket of socket.create_server says 0: without it, Nagle and the
            # client's delayed ACK hold each answer ~40 ms.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peer = _peer_address(address)
            open_by_address = self.stats.open_by_address
            if open_by_address.get(peer, 0) >= self.limits.per_address_bound and \
                    self.limits.per_address_bound < self.limits.max_connections:
                # Its own flood: only its own connections make room, never another's. (At
                # an equal bound one address holds them all: the listener's bound is met.)
                if not self.waiting.has(peer):
                    self._refuse(conn, peer)
                    continue
                self._evict_oldest(peer)
            elif self.stats.open >= self.limits.max_connections:
                if not self.waiting:
                    self._refuse(conn)
                    continue
                self._evict_oldest()
            self.stats.open += 1
            open_by_address[peer] = open_by_address.get(peer, 0) + 1
            task = loop.create_task(self._take(conn, peer))
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    def _evict_oldest(self, peer: str | None = None) -> None:
        """peer: at that address's bound, its own longest-waiting; None: at the listener's
        bound, the longest-waiting of the address that holds the most."""
        if peer is None:
            self.waiting.close_oldest(self.waiting.busiest(self.stats.open_by_address))
            log.warning("%s: %d connections are open, the most allowed: closing the ones "
                        "that wait longest without a request", self.name,
                        self.limits.max_connections)
        else:
            self.waiting.close_oldest(peer)
            self.stats.evicted_per_address += 1
            log.warning("%s: %d connections are open from %s, the most allowed from one "
                        "address: closing its ones that wait longest without a request",
                        self.name, self.limits.per_address_bound, peer)
        self.stats.evicted += 1

    def _refuse(self, conn: socket.socket, peer: str | None = None) -> None:
        """peer: at that address's bound (its connections all busy); None: the listener's."""
        self.stats.refused += 1
        if peer is None:
            log.warning("%s: %d connections are open, the most allowed: refusing new ones",
                        self.name, self.limits.max_connections)
        else:
            self.stats.refused_per_address += 1
            log.warning("%s: %d connections are open from %s, the most allowed from one "
                        "address: refusing its new ones", self.name,
                        self.limits.per_address_bound, peer)
        try:
            if not self.tls:
                conn.send(BUSY_REPLY)  # non-blocking: whatever fits, never a wait
        except OSError:
            pass
        finally:
            conn.close()

    async def _take(self, conn: socket.socket, peer: str) -> None:
        released = False

        def release():
            nonlocal released
            if not released:
                released = True
                self.stats.open -= 1
                open_by_address = self.stats.open_by_address
                open_by_address[peer] -= 1
                if not open_by_address[peer]:
                    del open_by_address[peer]  # a LAN's worth of addresses, not a history

        def protocol():
            return LimitedH11Protocol(config=self.config, server_state=self.server_state,
                                      app_state=self.lifespan.state, limits=self.limits,
                                      stats=self.stats, on_lost=release, waiting=self.waiting,
                                      peer=peer)
        handshake = asyncio.current_task()
        if self.tls:  # a handshake under way waits too (cancelling it closes the socket)
            self.waiting.add(handshake, peer, handshake.cancel)
        try:
            await asyncio.get_running_loop().connect_accepted_socket(
                protocol, sock=conn, ssl=self.config.ssl,
                ssl_handshake_timeout=self.limits.header_timeout_s if self.tls else None)
        except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001 - a failed handshake, evicted
            log.info("%s: a connection ended before its first request: %s", self.name,
                     type(exc).__name__)
            conn.close()
            release()
        finally:
            self.waiting.discard(handshake, peer)


class Running:
    """What on_started receives: the listeners' addresses and counters, and stop()."""

    def __init__(self, servers: list[_ListenerServer]):
        self._servers = servers

    @property
    def urls(self) -> dict[str, str]:
        return {s.name: s.url for s in self._servers}

    @property
    def stats(self) -> dict[str, ListenerStats]:
        return {s.name: s.stats for s in self._servers}

    @property
    def limits(self) -> dict[str, ServerLimits]:
        """As applied (max_connections lowered to fit the descriptor limit if it had to)."""
        return {s.name: s.limits for s in self._servers}

    def stop(self) -> None:
        """From any thread: serve() returns once open connections are closed (event
        streams are cut after a short grace)."""
        for s in self._servers:
            s.should_exit = True


def serve(listeners: list[Listener], *,
          on_started: Callable[[Running], None] | None = None) -> None:
    """Serve every listener in this thread's event loop until SIGINT or SIGTERM (in the main
    thread) or Running.stop(). Raises ConfigError when an address cannot be listened on."""
    if not listeners:
        raise ConfigError("nothing to serve: no listener given")
    names = [listener.name or f"{listener.host}:{listener.port}" for listener in listeners]
    if len(set(names)) != len(names):
        raise ConfigError(f"listener names must differ: {names}")
    repeats = RepeatFilter(interval_s=REPEAT_INTERVAL_S)
    added_handler = _install_logging(repeats)
    try:
        limits = _fit_descriptors([listener.limits for listener in listeners])
        servers = [_ListenerServer(listener, limit)
                   for listener, limit in zip(listeners, limits)]
        _assign_lifespans(servers)
        runner = asyncio.Runner(loop_factory=servers[0].config.get_loop_factory())
        with runner, _signals_stop(servers):
            runner.run(_serve(servers, repeats, on_started))
    finally:
        repeats.uninstall()
        if added_handler is not None:
            logging.getLogger().removeHandler(added_handler)


async def _serve(servers: list[_ListenerServer], repeats: RepeatFilter, on_started) -> None:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_log_loop_error)
    started: list[_ListenerServer] = []
    owners = [s for s in servers if not isinstance(s.lifespan, _SharedLifespan)]
    lifespans_started = []
    try:
        for server in servers:
            server.bind()
        for server in owners:
            lifespans_started.append(server)
            await server.lifespan.startup()
            if server.lifespan.should_exit:
                raise NafithaError(f"{server.name}: the app failed to start (see the log)")
        for server in servers:
            await server.startup()
            started.append(server)
        if on_started is not None:
            on_started(Running(servers))
        flushing = loop.create_task(_flush_now_and_then(repeats))
        # systemd's watchdog (core/watchdog.py), pinged from this event loop: a loop that
        # hangs stops the pings and systemd restarts the server.
        pinging = loop.create_task(_ping_watchdog()) if watchdog.enabled() else None
        watchdog.ready()
        try:
            await asyncio.gather(*(server.main_loop() for server in servers))
        finally:
            watchdog.stopping()
            flushing.cancel()
            if pinging is not None:
                pinging.cancel()
    finally:
        for server in servers:
            if server not in started and server.socket is not None:
                server.socket.close()
        # The listeners that share a lifespan end before the one that owns it.
        sharing = [s for s in started if s not in owners]
        await asyncio.gather(*(s.shutdown() for s in sharing))
        await asyncio.gather(*(s.shutdown() for s in started if s in owners))
        for server in lifespans_started:
            if server not in started:  # (a started server's shutdown ended its lifespan)
                await server.lifespan.shutdown()


async def _ping_watchdog() -> None:
    while True:
        watchdog.ping()
        await asyncio.sleep(watchdog.interval_s())


async def _flush_now_and_then(repeats: RepeatFilter) -> None:
    while True:
        await asyncio.sleep(min(5.0, repeats.interval_s))
        repeats.flush()


def _log_loop_error(loop, context) -> None:
    """asyncio's own errors (a failed TLS handshake, ...) logged under their fixed message,
    so repeats of one are one message to the repeat filter (the default handler puts
    object addresses in the text)."""
    exception = context.get("exception")
    logging.getLogger("asyncio").error(
        str(context.get("message", "event loop error")).replace("%", "%%"),
        exc_info=(type(exception), exception, exception.__traceback__) if exception else None)


def _assign_lifespans(servers: list[_ListenerServer]) -> None:
    owner = None
    for index, server in enumerate(servers):
        wanted = server.listener.lifespan
        if wanted or (wanted is None and index == 0):
            server.lifespan = server.config.lifespan_class(server.config)
            owner = owner or server.lifespan
    for server in servers:
        if server.lifespan is None:
            if owner is None:  # every listener said lifespan=False
                owner = uvicorn.config.import_from_string(
                    uvicorn.config.LIFESPAN["off"])(server.config)
            server.lifespan = _SharedLifespan(owner)


def _fit_descriptors(limits: list[ServerLimits]) -> list[ServerLimits]:
    """Raise the soft descriptor limit to the hard one; if the listeners' connections and a
    reserve still do not fit, lower each listener's bound in proportion (and say so)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # a container may refuse: fit within the soft limit
    budget = max(len(limits) * 16, soft - RESERVED_FDS)
    total = sum(limit.max_connections for limit in limits)
    if total <= budget:
        return limits
    log.warning("the descriptor limit is %d: open connections bounded to %d in all rather "
                "than %d", soft, budget, total)
    lowered = [replace(limit, max_connections=max(1, limit.max_connections * budget // total))
               for limit in limits]
    return [replace(limit, max_connections_per_address=limit.per_address_bound)
            for limit in lowered]


def _install_logging(repeats: RepeatFilter) -> logging.Handler | None:
    """Warnings and errors to stderr when nothing else is set up (uvicorn's loggers
    propagate to the root: log_config=None), and the repeat filter on every path out."""
    root = logging.getLogger()
    added = None
    if not root.handlers:
        added = logging.StreamHandler()
        added.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: "
                                             "%(message)s"))
        root.addHandler(added)
    uvicorn_log = logging.getLogger("uvicorn")
    repeats.install(*root.handlers, *uvicorn_log.handlers, root, uvicorn_log,
                    logging.getLogger("uvicorn.error"), logging.getLogger("asyncio"), log)
    return added


class _signals_stop:
    """SIGINT/SIGTERM stop every listener (a second SIGINT: without waiting for
    connections); only in the main thread, where signals can be caught."""

    def __init__(self, servers):
        self.servers = servers
        self.previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._stop)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _stop(self, sig, _frame):
        for server in self.servers:
            if server.should_exit and sig == signal.SIGINT:
                server.force_exit = True
            server.should_exit = True
