"""One device's way to its hub: HTTPS pinned to the certificate seen at pairing, the token
from pairing (renewed by itself past half its life), a requests session per thread, HTTP
failures turned back into core's errors, and the live updates (server-sent events)."""
from __future__ import annotations

import json
import logging
import threading
import time

import requests
from requests.adapters import HTTPAdapter

from core import errors
from core.coordinator import IDLE, Coordinator, Unavailable
from core.pairing import RENEW_HEADER

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


class PinnedAdapter(HTTPAdapter):
    """HTTPS to a server whose certificate has this SHA-256 fingerprint, whatever its name
    or issuer (a hub's self-signed certificate, pinned at pairing); any other certificate
    is refused before a byte of the request is sent."""

    def __init__(self, fingerprint: str, **kw):
        self.fingerprint = fingerprint
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw.update(assert_fingerprint=self.fingerprint, cert_reqs="CERT_NONE",
                  assert_hostname=False)
        super().init_poolmanager(*args, **kw)

    def send(self, request, verify=True, **kw):
        # No CA chain to check: the pool asserts the pinned fingerprint instead.
        return super().send(request, verify=False, **kw)


def pinned_session(fingerprint: str | None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between a device and its hub
    if fingerprint:
        session.mount("https://", PinnedAdapter(fingerprint))
    return session


def certificate_refused(exc: Exception) -> bool:
    """A TLS failure (another certificate than the pinned one), not an absent hub."""
    return isinstance(exc, requests.exceptions.SSLError)


def refused_certificate(url: str) -> errors.PermissionDenied:
    return errors.PermissionDenied(
        f"the server at {url} is not the hub this device paired with (its certificate "
        f"changed); if the hub was replaced, pair this device again (nafitha hub join)",
        reason="hub_certificate", url=url)


def reply_json(reply) -> dict:
    try:
        return reply.json()
    except ValueError:
        return {}


class HubConnection:
    """fingerprint: the hub certificate's SHA-256 pinned at pairing. on_renewed(token,
    device): called after the token was renewed (the caller keeps it in hub.json)."""

    def __init__(self, url: str, token: str, timeout_s: float = 5.0,
                 fingerprint: str | None = None, on_renewed=None):
        self.url = url.rstrip("/")
        self.token = token
        self.fingerprint = fingerprint
        self.on_renewed = on_renewed
        self.timeout = (CONNECT_TIMEOUT_S, timeout_s)
        self._local = threading.local()
        self._renewing = threading.Lock()
        self.online: bool | None = None  # None: not asked yet
        self._loops: list[Coordinator] = []

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = pinned_session(self.fingerprint)
        return session

    def call(self, method: str, path: str, body: dict | None = None,
             clerk_session: str | None = None, timeout=None,
             idempotency_key: str | None = None):
        headers = {"Authorization": f"Bearer {self.token}"}
        if clerk_session:
            headers["X-Clerk-Session"] = clerk_session
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        timeout = timeout or self.timeout
        budget = time.monotonic() + (timeout[1] if isinstance(timeout, tuple) else timeout)
        for attempt in range(ATTEMPTS):
            try:
                reply = self._session().request(method, f"{self.url}{path}", json=body,
                                                headers=headers, timeout=timeout)
                break
            except requests.RequestException as exc:
                if certificate_refused(exc):
                    log.error("hub %s refused: its certificate is not the paired one", self.url)
                    raise refused_certificate(self.url) from None
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
        if reply.headers.get(RENEW_HEADER) == "due":
            self.renew()
        return reply.json()

    def renew(self) -> None:
        """Trade the token for a new one (once, whichever thread sees the hint first). A
        failure changes nothing: the old token works on, and the next answer asks again."""
        if not self._renewing.acquire(blocking=False):
            return
        try:
            reply = self._session().post(f"{self.url}/api/v1/renew", timeout=self.timeout,
                                         headers={"Authorization": f"Bearer {self.token}"})
            if reply.status_code != 200:
                log.warning("hub %s did not renew the token: %s", self.url,
                            reply_json(reply).get("message", reply.status_code))
                return
            body = reply.json()
            if self.on_renewed is not None:
                self.on_renewed(body["token"], body["device"])
            self.token = body["token"]
            log.info("hub %s: device token renewed", self.url)
        except requests.RequestException as exc:
            log.warning("hub %s: token renewal failed: %s", self.url, type(exc).__name__)
        finally:
            self._renewing.release()

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
            with pinned_session(self.fingerprint).get(
                    f"{self.url}/api/v1/events", stream=True,
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
            if certificate_refused(exc):
                raise Unavailable("no live updates: the hub's certificate is not the paired "
                                  "one", retry_after=REFUSED_WAIT_S) from None
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
