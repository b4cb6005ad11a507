"""The sync agent: pushes the outbox to central, pulls signed reference data (docs/sync.md).

- One agent per device: a file lock in the data directory.
- A row is marked sent only after central's reply names its id, so a crash at any point
  means a resend, which central acknowledges without applying twice.
- Failures back off exponentially with jitter, honour Retry-After, and while central is
  unreachable a cheap /healthz probe notices it coming back.
"""
from __future__ import annotations

import base64
import fcntl
import importlib.metadata
import json
import logging
import os
import random
import time
from pathlib import Path

import requests

from core import outbox, sync_state
from core.coordinator import IDLE, Coordinator, Unavailable
from core.errors import NafithaError

from . import protocol
from .reference import apply_bundle, check_addressed

USER_AGENT = "nafitha-sync/1"
try:  # told to central with each batch (the back office's offices page)
    APP_VERSION = importlib.metadata.version("nafitha")
except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
    APP_VERSION = "unknown"
log = logging.getLogger("nafitha.sync")
# Failures that mean "central is not there": while they last a cheap probe notices it back.
AWAY_KINDS = ("offline", "busy", "server", "protocol")
CHECK_EVERY_S = 1.0
PURGE_EVERY_S = 3600.0  # look for closed cases whose personal data may go (docs/privacy.md)


class SyncError(Unavailable):
    """kind: offline | tls | server | busy | auth | rejected | protocol | config."""

    code = "sync_failed"

    def __init__(self, kind: str, message: str, retry_after: float | None = None):
        super().__init__(message, retry_after=retry_after, kind=kind)
        self.kind = kind


class AgentBusy(NafithaError):
    code = "sync_busy"


# --- the enrolment file ------------------------------------------------------------------------
def enrolment_path(data_dir: Path) -> Path:
    return Path(data_dir) / "keys" / "sync.json"


def read_enrolment(data_dir: Path) -> dict | None:
    path = enrolment_path(data_dir)
    if not path.exists():
        return None
    return json.loads(path.read_text())


def write_enrolment(data_dir: Path, values: dict) -> Path:
    path = enrolment_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)  # the token is a secret
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh, indent=2)
    tmp.replace(path)
    return path


# --- one worker per device -------------------------------------------------------------------
class AgentLock:
    """An exclusive flock on <data>/sync.lock; the kernel drops it if the process dies."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "sync.lock"
        self.fh = None

    def acquire(self) -> "AgentLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise AgentBusy(f"another sync agent is already running for this device "
                            f"(pid {holder}); only one may run", pid=holder)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self.fh = fh
        return self

    def release(self) -> None:
        if self.fh:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def tls_verify(sync_settings) -> str | bool:
    """requests' `verify`: the configured CA bundle, or the system's CAs."""
    if sync_settings.ca_bundle:
        return str(Path(sync_settings.ca_bundle).expanduser())
    return True


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class SyncAgent:
    def __init__(self, office, url: str | None = None, token: str | None = None,
                 session: requests.Session | None = None, sleep=None,
                 rng: random.Random | None = None):
        self.office = office
        self.store = office.store
        settings = office.settings
        self.config = settings.sync
        enrolment = read_enrolment(settings.data_dir) or {}
        self.url = (url or self.config.url or enrolment.get("url") or "").rstrip("/")
        self.token = token or enrolment.get("token")
        if not self.url or not self.token:
            raise SyncError("config", "this device is not enrolled with central: run "
                                      "`nafitha enrol URL CODE` first")
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.verify = tls_verify(self.config)
        self.timeout = (min(5.0, self.config.timeout_s), self.config.timeout_s)
        # One loop: sync, then wait interval_s (sooner when there is new work), backing off
        # with jitter while central fails (tests inject `sleep`: no real waiting).
        self.loop = Coordinator(f"central {self.url}", self._cycle, log,
                                idle_s=self.config.interval_s, retry_s=1.0,
                                max_backoff_s=self.config.backoff_max_s, jitter=True,
                                rng=rng or random.Random(), sleep=sleep,
                                should_wake=self._should_wake, check_s=CHECK_EVERY_S)
        self.backoff = self.loop.backoff
        self._next_probe = 0.0
        self._next_purge = 0.0
        self._started = time.monotonic()
        from .uploads import Uploader  # it builds on this module's SyncError
        self.uploader = Uploader(self)

    # --- HTTP --------------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kw) -> dict:
        try:
            response = self.session.request(method, self.url + path, timeout=self.timeout,
                                            verify=self.verify, **kw)
        except requests.exceptions.SSLError as exc:
            raise SyncError("tls", f"central's TLS certificate is not trusted "
                                   f"({type(exc).__name__}); check sync.ca_bundle")
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise SyncError("offline", f"central unreachable: {type(exc).__name__}")
        except requests.RequestException as exc:
            raise SyncError("offline", f"the request failed: {type(exc).__name__}: {exc}")
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        message = body.get("message") if isinstance(body, dict) else None
        if status == 200 and isinstance(body, (dict, list)):
            return body
        if status == 200:
            raise SyncError("protocol", "central's reply was cut off or not JSON")
        if status in (429, 503):
            raise SyncError("busy", message or f"central is busy ({status})",
                            retry_after=_retry_after(response))
        if status >= 500:
            raise SyncError("server", message or f"central failed ({status})",
                            retry_after=_retry_after(response))
        if status == 401:
            raise SyncError("auth", message or "central refused the device token")
        raise SyncError("rejected", f"central refused ({status}): {message or response.text[:200]}")

    # --- push --------------------------------------------------------------------------------
    def push(self) -> int:
        """Send every pending event, batch by batch. Returns how many central confirmed."""
        sent = 0
        settings = self.office.settings
        while not self.loop.stopped:
            rows = outbox.unsent_rows(self.store, self.config.batch_size)
            if not rows:
                break
            pending = outbox.pending_count(self.store)
            bodies = [r["body"] for r in rows]
            keys = self.office.sealer.keys_for(protocol.applications_named(
                json.loads(b) for b in bodies))
            after = outbox.pending(self.store, 1, after_seq=rows[-1]["seq"])
            body = protocol.encode_batch(settings.device.id, settings.office.code,
                                         self.store.now(), bodies, pending, keys,
                                         after[0]["at"] if after else None, APP_VERSION)
            reply = self._request("POST", protocol.API + "/events", data=body, headers={
                "Content-Encoding": "gzip", "Content-Type": "application/json"})
            acknowledged = reply.get("acknowledged") if isinstance(reply, dict) else None
            refused = reply.get("refused", []) if isinstance(reply, dict) else None
            if not isinstance(acknowledged, list) or not isinstance(refused, list) or \
                    not all(isinstance(r, dict) and isinstance(r.get("id"), str)
                            for r in refused):
                raise SyncError("protocol", "central's reply names no acknowledged events")
            named = set(acknowledged)
            confirmed = [r["seq"] for r in rows if r["id"] in named]
            if confirmed:
                outbox.mark_sent(self.store, confirmed, self.store.now())
            sent += len(confirmed)
            ours = {r["id"] for r in rows}
            refused = [r for r in refused if r["id"] in ours and r["id"] not in named]
            if refused:
                # Set aside with central's reason: not resent by itself, so what is behind
                # it goes on; the operator sees it (nafitha outbox list --held).
                outbox.hold(self.store, refused, self.store.now())
                log.warning("central refused %d event(s); held for the operator: %s",
                            len(refused), refused[0].get("reason", ""))
            confirmed = confirmed + [r["id"] for r in refused]
            extra = {}
            if reply.get("clock_skew_s") is not None:
                extra["clock_skew_s"] = reply["clock_skew_s"]
            sync_state.put(self.store, last_success_at=self.store.now(), last_error=None,
                           central_url=self.url, **extra)
            if len(confirmed) < len(rows):
                raise SyncError("protocol", f"central confirmed {len(confirmed)} of "
                                            f"{len(rows)} events; the rest will be resent")
        return sent

    # --- health ------------------------------------------------------------------------------
    def push_health(self) -> int:
        """Record this box's own heartbeat and forward the latest report of each device of
        the office to central (core/health.py; docs/operations/health.md). Central keeps the
        latest per device, so a resend is harmless. Best effort: a central without the route
        (an older release) or a refusal is logged and sync goes on."""
        from core import health
        try:
            health.record(self.store, self.office.settings.device.id, health.collect(
                self.store, self.office.settings, role="agent",
                uptime_s=time.monotonic() - self._started, version=APP_VERSION))
            body = health.outgoing(self.store)
        except NafithaError as exc:
            log.warning("no heartbeat this round: %s", exc.message)
            return 0
        try:
            reply = self._request("POST", protocol.API + "/health", json=body)
        except SyncError as exc:
            if exc.kind not in ("rejected", "protocol"):
                raise
            log.warning("central refused the office's heartbeats: %s", exc.message)
            return 0
        return int(reply.get("stored", 0)) if isinstance(reply, dict) else 0

    # --- pull --------------------------------------------------------------------------------
    def pull(self) -> dict:
        """Fetch and apply reference changes until central has no more."""
        total = {"changes": 0, "full": False, "decisions": 0, "users": 0, "services": 0,
                 "erased": 0, "revocation_list": None}
        for _ in range(10_000):
            cursor = int(sync_state.get(self.store, "cursor", 0))
            envelope = self._request("GET", protocol.API + "/reference",
                                     params={"cursor": cursor, "limit": 500})
            try:
                payload = protocol.open_bundle(envelope, self.office.trust().roots)
                check_addressed(payload, self.office, cursor)
            except protocol.ProtocolError as exc:
                raise SyncError("rejected", f"reference bundle refused: {exc.message}")
            summary = apply_bundle(self.office, payload)
            for key in ("changes", "decisions", "users", "services", "erased"):
                total[key] += summary[key]
            total["full"] |= summary["full"]
            total["revocation_list"] = summary["revocation_list"] or total["revocation_list"]
            if not payload.get("more"):
                break
        return total

    # --- cycles --------------------------------------------------------------------------------
    def once(self) -> dict:
        """Push everything pending, pull, then upload documents' files (after their
        application's events, sync/uploads.py). Records the outcome in sync_state."""
        sync_state.put(self.store, last_attempt_at=self.store.now())
        # Bookings whose window closed unchecked become no-shows: their events go now.
        self.office.appointments.mark_no_shows()
        try:
            sent = self.push()
            self.push_health()
            pulled = self.pull()
            uploaded = self.uploader.upload_all()
        except SyncError as exc:
            sync_state.put(self.store, last_error=f"{exc.kind}: {exc.message}",
                           last_error_at=self.store.now())
            raise
        sync_state.put(self.store, last_success_at=self.store.now(), last_error=None,
                       central_url=self.url)
        # Files central confirmed leave this device after documents.retention_days.
        uploaded["purged"] = self.office.attachments.purge(self.store.clock.now())["purged"]
        result = {"sent": sent, "pulled": pulled, "uploaded": uploaded,
                  "status": sync_state.status(self.store)}
        if time.monotonic() >= self._next_purge:  # central confirmed: old cases' data goes
            self._next_purge = time.monotonic() + PURGE_EVERY_S
            result["purged"] = self.office.purge_personal_data()["purged"]
        return result

    def probe(self) -> bool:
        try:
            self._request("GET", "/healthz")
            return True
        except SyncError:
            return False

    def _cycle(self):
        self.last_result = self.once()
        # Files still waiting after this round's time: go on at once (not "more" when only
        # files central refused are left).
        return "uploading" if self.last_result["uploaded"]["more"] else IDLE

    def _should_wake(self, failing: bool) -> bool:
        """While central is away: probe it every probe_interval_s and end the backoff when
        it answers. Otherwise: new local work ends the wait."""
        if failing and getattr(self.loop.failure, "kind", None) in AWAY_KINDS:
            if time.monotonic() < self._next_probe:
                return False
            self._next_probe = time.monotonic() + self.config.probe_interval_s
            return self.probe()
        return outbox.has_unsent(self.store)

    def run(self, cycles: int | None = None, on_cycle=None) -> None:
        """Sync until stopped (or for `cycles` cycles): promptly when there is new work,
        at least every interval_s otherwise, backing off while central fails.
        on_cycle(result, error): after each cycle, one of them None."""
        def tell(_result, failure):
            self._next_probe = time.monotonic() + self.config.probe_interval_s
            if on_cycle is not None:
                if failure is None:
                    on_cycle(self.last_result, None)
                elif isinstance(failure, SyncError):
                    on_cycle(None, failure)
                else:
                    on_cycle(None, SyncError("protocol", f"{type(failure).__name__}: "
                                                         f"{failure}"))
        self.loop.listen(tell)
        self.loop.run(max_polls=cycles)

    def stop(self) -> None:
        self.loop.stop()


# --- enrolment --------------------------------------------------------------------------------
def enrol(settings, url: str, code: str, session: requests.Session | None = None) -> dict:
    """Ask central for this device's certificate and token with a one-time code."""
    from core.credentials import ceremony
    from core.office import Office

    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SyncError("config", f"{url!r} is not an http:// or https:// URL")
    existing = read_enrolment(settings.data_dir)
    if existing:
        raise SyncError("config", f"this device is already enrolled with {existing['url']} as "
                                  f"{existing['office']}/{existing['device_id']}; remove "
                                  f"{enrolment_path(settings.data_dir)} to enrol again")
    office = Office.open(settings)
    try:
        request = office.request_key()  # the key, and the audit head signed with it
    finally:
        office.close()
    session = session or requests.Session()
    verify = tls_verify(settings.sync)
    try:
        response = session.post(f"{url}{protocol.API}/enrol", json={
            "code": code, "office": settings.office.code, "device_id": settings.device.id,
            "public_key": request["public_key"]}, timeout=settings.sync.timeout_s,
            verify=verify)
    except requests.exceptions.SSLError:
        raise SyncError("tls", "central's TLS certificate is not trusted; check sync.ca_bundle")
    except requests.RequestException as exc:
        raise SyncError("offline", f"central unreachable at {url}: {type(exc).__name__}")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        raise SyncError("rejected", f"enrolment refused ({response.status_code}): "
                                    f"{body.get('message', response.text[:200])}")
    cert = ceremony.install(settings.data_dir, base64.b64decode(body["certificate"]),
                            bytes.fromhex(body["root_public_key"]))
    write_enrolment(settings.data_dir, {"url": url, "token": body["token"],
                                        "device_id": body["device_id"], "office": body["office"],
                                        "token_expires_at": body["token_expires_at"]})
    return {"url": url, "device_id": body["device_id"], "office": body["office"],
            "token_expires_at": body["token_expires_at"],
            "licence_types": list(cert.licence_types)}


# --- a restored store's catch-up (core/backup.py, docs/operations/backup.md) -----------------
TAIL_PATH = "/v1/devices/self/tail"


def fetch_tail(settings, data_dir: Path, after_seq: int,
               session: requests.Session | None = None) -> list[dict] | None:
    """The events central holds from this device after outbox seq `after_seq` (a restore's
    high-water marks), with the enrolment found in data_dir (the restored keys). None: the
    device is not enrolled, there is no central to ask. SyncError when central cannot
    answer (the restore then stops and changes nothing)."""
    enrolment = read_enrolment(data_dir) or {}
    url = (settings.sync.url or enrolment.get("url") or "").rstrip("/")
    if not url or not enrolment.get("token"):
        return None
    session = session or requests.Session()
    headers = {"Authorization": f"Bearer {enrolment['token']}", "User-Agent": USER_AGENT}
    events: list[dict] = []
    while True:
        try:
            response = session.get(url + TAIL_PATH, params={"after_seq": after_seq,
                                                            "limit": 1000},
                                   headers=headers, timeout=settings.sync.timeout_s,
                                   verify=tls_verify(settings.sync))
        except requests.RequestException as exc:
            raise SyncError("offline", f"central unreachable at {url}: {type(exc).__name__}")
        if response.status_code != 200:
            raise SyncError("rejected", f"central refused the catch-up "
                                        f"({response.status_code}): {response.text[:200]}")
        try:
            body = response.json()
            page = [json.loads(text) for text in body["events"]]
        except (ValueError, KeyError, TypeError):
            raise SyncError("protocol", "central's catch-up reply was cut off or not JSON")
        events += page
        if not body.get("more") or not page:
            return events
        after_seq = page[-1]["seq"]
