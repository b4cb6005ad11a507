"""One device's way to its hub: the token from pairing, a requests session per thread, HTTP
failures turned back into core's errors, and the live updates (server-sent events)."""
from __future__ import annotations

import json
import logging
import threading
import time

import requests

from core import errors
from core.coordinator import IDLE, Coordinator, Unavailable

log = logging.getLogger("nafitha.hub")

CONNECT_TIMEOUT_S = 2.0
STREAM_BACKOFF_S = 0.5
STREAM_BACKOFF_MAX_S = 5.0
REFUSED_WAIT_S = 30.0  # the hub refused live updates (a revoked token): ask again later
# A call whose answer did not come is sent again by itself, with the same idempotency key
# for a write (the hub then answers with the first reply): at most this many times, for at
# most the call's own timeout, so a hub that is away is still said at once.
ATTEMPTS = 3
RETRY_WAITS_S = (0.2, 0.5)


def _error_classes() -> dict[str, type]:
    found, todo = {}, [errors.NafithaError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return found


def error_from(payload: dict, status: int) -> errors.NafithaError:
    """The core error the hub reported, as the same class with the same details."""
    if not isinstance(payload, dict) or "error" not in payload:
        return errors.NafithaError(f"the hub answered {status}")
    details = {k: v for k, v in payload.items() if k not in ("error", "message")}
    cls = _error_classes().get(payload["error"], errors.NafithaError)
    exc = cls.__new__(cls)
    errors.NafithaError.__init__(exc, payload.get("message") or payload["error"], **details)
    if isinstance(exc, errors.ValidationError):
        exc.field = details.get("field")
    return exc


def reply_json(reply) -> dict:
    try:
        return reply.json()
    except ValueError:
        return {}


class HubConnection:
    def __init__(self, url: str, token: str, timeout_s: float = 5.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = (CONNECT_TIMEOUT_S, timeout_s)
        self._local = threading.local()
        self.online: bool | None = None  # None: not asked yet
        self._loops: list[Coordinator] = []

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.token}"
            self._local.session = session
        return session

    def call(self, method: str, path: str, body: dict | None = None,
             clerk_session: str | None = None, timeout=None,
             idempotency_key: str | None = None):
        headers = {"X-Clerk-Session": clerk_session} if clerk_session else {}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        timeout = timeout or self.timeout
        budget = time.monotonic() + (timeout[1] if isinstance(timeout, tuple) else timeout)
        for attempt in range(ATTEMPTS):
            try:
                reply = self._session().request(method, f"{self.url}{path}", json=body,
                                                headers=headers or None, timeout=timeout)
                break
            except requests.RequestException as exc:
                if attempt + 1 < ATTEMPTS and time.monotonic() < budget:
                    self._local.session = None  # a fresh connection for the retry
                    time.sleep(RETRY_WAITS_S[min(attempt, len(RETRY_WAITS_S) - 1)])
                    continue
                if self.online is not False:
                    log.warning("hub %s unreachable: %s", self.url, exc)
                self.online = False
                raise errors.HubUnreachable(f"the hub at {self.url} does not answer",
                                            url=self.url) from None
        if self.online is False:
            log.info("hub %s is back", self.url)
        self.online = True
        if reply.status_code >= 400:
            raise error_from(reply_json(reply), reply.status_code)
        return reply.json()

    def get(self, path: str, **kw):
        return self.call("GET", path, **kw)

    def post(self, path: str, body: dict | None = None, **kw):
        return self.call("POST", path, body or {}, **kw)

    # --- live updates -------------------------------------------------------------------------
    def watch(self, on_change) -> Coordinator:
        """Follow /api/v1/events on a thread: on_change(marker) for each queue change, and
        once on every (re)connect (the caller catches up on what it missed). Reconnects by
        itself with a short backoff until the returned loop is stopped."""
        loop = Coordinator(f"live updates from {self.url}", lambda: self._follow(loop, on_change),
                           log, idle_s=STREAM_BACKOFF_S, retry_s=STREAM_BACKOFF_S,
                           max_backoff_s=STREAM_BACKOFF_MAX_S)
        self._loops.append(loop)
        return loop.start()

    def _follow(self, loop: Coordinator, on_change):
        """One connection's life: IDLE when it ends after working (reconnect soon)."""
        connected = False
        try:
            with requests.get(f"{self.url}/api/v1/events", stream=True,
                              headers={"Authorization": f"Bearer {self.token}",
                                       "Accept": "text/event-stream"},
                              timeout=(CONNECT_TIMEOUT_S, 30)) as reply:
                if reply.status_code != 200:
                    error = error_from(reply_json(reply), reply.status_code)
                    raise Unavailable(f"live updates refused: {error.message}",
                                      retry_after=REFUSED_WAIT_S
                                      if isinstance(error, errors.PermissionDenied) else None)
                connected = True
                for marker in _markers(reply):
                    if loop.stopped:
                        break
                    on_change(marker)
        except requests.RequestException as exc:
            if connected:
                return IDLE  # the hub went away mid-stream: reconnect soon
            raise Unavailable(f"no live updates: {type(exc).__name__}") from None
        return IDLE

    def close(self) -> None:
        for loop in self._loops:
            loop.stop(timeout_s=0)


def _markers(reply):
    event = None
    for raw in reply.iter_lines(decode_unicode=True):
        line = raw or ""
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "queue":
            yield json.loads(line[5:])["marker"]
        elif not line:
            event = None
