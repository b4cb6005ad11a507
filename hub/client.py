"""What a service centre's kiosk or counter uses to reach the centre's hub.

`KioskHubClient` and `CounterHubClient` have the methods of core.kiosk_api.KioskApi and
core.counter_api.CounterApi, return the same shapes and raise the same core errors (the
hub sends `{"error": code, ...}` and the client raises the class with that code). When the
hub does not answer they raise core.errors.HubUnreachable, having changed nothing here;
the apps say so and keep what the person typed. The device's token comes from
`nafitha hub join URL CODE` (kept in the data directory as hub.json, mode 600)."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from pathlib import Path

import requests

from core import errors
from core.catalog import catalog_of, parse_service
from core.credentials.licence import VerificationResult

log = logging.getLogger("nafitha.hub")

PAIRING_FILE = "hub.json"
CONNECT_TIMEOUT_S = 2.0
CATALOG_TTL_S = 60.0
STREAM_BACKOFF_MAX_S = 5.0


def _error_classes() -> dict[str, type]:
    found, todo = {}, [errors.NafithaError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return found


ERRORS = _error_classes()


def error_from(payload: dict, status: int) -> errors.NafithaError:
    """The core error the hub reported, as the same class with the same details."""
    if not isinstance(payload, dict) or "error" not in payload:
        return errors.NafithaError(f"the hub answered {status}")
    details = {k: v for k, v in payload.items() if k not in ("error", "message")}
    cls = ERRORS.get(payload["error"], errors.NafithaError)
    exc = cls.__new__(cls)
    errors.NafithaError.__init__(exc, payload.get("message") or payload["error"], **details)
    if isinstance(exc, errors.ValidationError):
        exc.field = details.get("field")
    return exc


def pairing_path(data_dir) -> Path:
    return Path(data_dir) / PAIRING_FILE


def paired_url(data_dir) -> str | None:
    """The hub this device joined (hub.json), if any."""
    path = pairing_path(data_dir)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("url")


def join(data_dir, url: str, code: str, timeout_s: float = 10.0) -> dict:
    """Trade a pairing code for this device's token and keep it (hub.json, mode 600)."""
    url = url.rstrip("/")
    try:
        reply = requests.post(f"{url}/api/v1/pair", json={"code": code},
                              timeout=(CONNECT_TIMEOUT_S, timeout_s))
    except requests.RequestException as exc:
        raise errors.HubUnreachable(f"the hub at {url} does not answer: {exc}", url=url)
    if reply.status_code != 200:
        raise error_from(_json(reply), reply.status_code)
    body = reply.json()
    path = pairing_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": url, "token": body["token"], "device": body["device"]}, f, indent=2)
    return body["device"]


def _json(reply) -> dict:
    try:
        return reply.json()
    except ValueError:
        return {}


class HubConnection:
    """One device's way to the hub: its token, a requests session per thread, and the
    translation of HTTP failures into core errors."""

    def __init__(self, url: str, token: str, timeout_s: float = 5.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = (CONNECT_TIMEOUT_S, timeout_s)
        self._local = threading.local()
        self.online: bool | None = None  # None: not asked yet
        self._closed = False

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.token}"
            self._local.session = session
        return session

    def call(self, method: str, path: str, body: dict | None = None,
             clerk_session: str | None = None, timeout=None):
        headers = {"X-Clerk-Session": clerk_session} if clerk_session else None
        try:
            reply = self._session().request(method, f"{self.url}{path}", json=body,
                                            headers=headers, timeout=timeout or self.timeout)
        except requests.RequestException as exc:
            if self.online is not False:
                log.warning("hub %s unreachable: %s", self.url, exc)
            self.online = False
            raise errors.HubUnreachable(f"the hub at {self.url} does not answer",
                                        url=self.url) from None
        if self.online is False:
            log.info("hub %s is back", self.url)
        self.online = True
        if reply.status_code >= 400:
            raise error_from(_json(reply), reply.status_code)
        return reply.json()

    def get(self, path: str, **kw):
        return self.call("GET", path, **kw)

    def post(self, path: str, body: dict | None = None, **kw):
        return self.call("POST", path, body or {}, **kw)

    # --- live updates -------------------------------------------------------------------------
    def watch(self, on_change, stop: threading.Event) -> threading.Thread:
        """Follow /api/v1/events on a thread: on_change(marker) for each queue change, and
        once on every (re)connect (the caller catches up on what it missed). Reconnects by
        itself with a short backoff until `stop` is set."""
        def run():
            backoff = 0.5
            while not stop.is_set() and not self._closed:
                try:
                    with requests.get(f"{self.url}/api/v1/events", stream=True,
                                      headers={"Authorization": f"Bearer {self.token}",
                                               "Accept": "text/event-stream"},
                                      timeout=(CONNECT_TIMEOUT_S, 30)) as reply:
                        if reply.status_code != 200:
                            raise error_from(_json(reply), reply.status_code)
                        backoff = 0.5
                        for marker in _markers(reply):
                            if stop.is_set():
                                return
                            on_change(marker)
                except errors.PermissionDenied as exc:
                    log.error("live updates refused by the hub: %s", exc.message)
                    stop.wait(30)
                except (requests.RequestException, errors.NafithaError):
                    pass
                stop.wait(backoff)
                backoff = min(STREAM_BACKOFF_MAX_S, backoff * 2)

        thread = threading.Thread(target=run, name="hub-events", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self._closed = True


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


class HubPrintJobs:
    """The part of core.printing.PrintQueue a print worker uses, over the hub: this
    device's own jobs only (the hub keeps them durable)."""

    def __init__(self, conn: HubConnection):
        self.conn = conn

    def next_job(self, printer: str = "main") -> dict | None:
        return self.conn.get("/api/v1/print/next")

    def get(self, job_id: str) -> dict:
        return self.conn.get(f"/api/v1/print/jobs/{job_id}")

    def _state(self, job_id: str, state: str, **extra) -> dict:
        return self.conn.post(f"/api/v1/print/jobs/{job_id}/state", {"state": state, **extra})

    def mark_printing(self, job_id: str) -> dict:
        return self._state(job_id, "printing")

    def mark_done(self, job_id: str, size: int) -> None:
        self._state(job_id, "done", size=size)

    def mark_retry(self, job_id: str, error: str) -> None:
        self._state(job_id, "retry", error=error[:500])

    def mark_failed(self, job_id: str, error: str) -> None:
        self._state(job_id, "failed", error=error[:500])


class HubPrintSource:
    """What devices.printing.worker.PrintWorker reads: the device's printer settings, its
    jobs on the hub, and each job's document (drawn and printed here)."""

    def __init__(self, conn: HubConnection, settings):
        self.settings = settings
        self.printing = HubPrintJobs(conn)
        self._conn = conn

    def job_document(self, job: dict) -> dict:
        return self._conn.get(f"/api/v1/print/jobs/{job['id']}/document")


class _HubClient:
    """What kiosks and counters share: pairing, the office's facts, the catalogue."""

    role = ""
    remote = True  # every call is a LAN round trip: the apps keep it off the UI thread

    def __init__(self, conn: HubConnection, settings, device: dict):
        self.conn = conn
        self.device = device
        self.printer = device["name"]
        self.settings = settings
        self.print_source = HubPrintSource(conn, settings)
        self._catalog = None
        self._catalog_at = 0.0

    @classmethod
    def from_settings(cls, settings, url: str | None = None):
        """Open this device's pairing (hub.json in the data directory) and learn the
        office's facts from the hub. The settings that belong to the centre (office name,
        digits; a counter's name and services) are taken from the hub."""
        path = pairing_path(settings.data_dir)
        if not path.exists():
            raise errors.ConfigError(
                f"this device is not paired with a hub: on the hub run `nafitha hub pair "
                f"{cls.role} NAME`, then here `nafitha hub join URL CODE`", path=str(path))
        pairing = json.loads(path.read_text(encoding="utf-8"))
        url = (url or settings.hub.url or pairing["url"]).rstrip("/")
        conn = HubConnection(url, pairing["token"], settings.hub.timeout_s)
        cache = path.with_name("hub-cache.json")
        try:
            device = conn.get("/api/v1/me")
            office = conn.get("/api/v1/office")
            services = conn.get("/api/v1/services")
            cache.write_text(json.dumps({"device": device, "office": office,
                                         "services": services}), encoding="utf-8")
        except errors.HubUnreachable:
            if not cache.exists():
                raise errors.HubUnreachable(
                    f"the hub at {url} does not answer, and this device has never reached it "
                    f"(start it with `nafitha hub serve`)", url=url) from None
            known = json.loads(cache.read_text(encoding="utf-8"))
            device, office, services = known["device"], known["office"], known["services"]
        if device["role"] != cls.role:
            raise errors.ConfigError(f"this device is paired as a {device['role']}, not a "
                                     f"{cls.role}", path=str(path))
        settings = dataclasses.replace(settings, office=dataclasses.replace(
            settings.office, **{k: office[k] for k in ("code", "name_ar", "name_en",
                                                       "timezone", "digits")}))
        if cls.role == "counter":
            settings = dataclasses.replace(settings, counter=dataclasses.replace(
                settings.counter, name=device["name"], services=",".join(device["services"])))
        client = cls(conn, settings, device)
        client._set_catalog(services)
        client.currency_code = office.get("currency", "BHD")
        return client

    def _set_catalog(self, services: list[dict]) -> None:
        self._catalog = catalog_of([parse_service(s, f"hub service {s.get('code')!r}")
                                    for s in services])
        self._catalog_at = time.monotonic()

    def _fresh_catalog(self):
        if time.monotonic() - self._catalog_at > CATALOG_TTL_S:
            try:
                self._set_catalog(self.conn.get("/api/v1/services"))
            except errors.HubUnreachable:
                pass  # the last catalogue stays: the screens keep working
        return self._catalog

    def services(self) -> list:
        return list(self._fresh_catalog())

    def service(self, code: str):
        return self._fresh_catalog().get(code)

    def verify_licence(self, text: str) -> VerificationResult:
        return VerificationResult(**self.conn.post("/api/v1/verify", {"text": text}))

    def print_job(self, job_id: str) -> dict:
        return self.print_source.printing.get(job_id)

    def sync_status(self) -> dict:
        return self.conn.get("/api/v1/sync-status")

    def watch(self, on_change, stop: threading.Event):
        return self.conn.watch(on_change, stop)

    def hub_online(self) -> bool | None:
        return self.conn.online

    def close(self) -> None:
        self.conn.close()


class KioskHubClient(_HubClient):
    role = "kiosk"

    def take_ticket(self, service: str, priority: str | None) -> dict:
        return self.conn.post("/api/v1/kiosk/tickets", {"service": service,
                                                        "priority": priority})

    def check_field(self, service: str, key: str, value: str) -> str:
        return self.conn.post("/api/v1/kiosk/check-field",
                              {"service": service, "key": key, "value": value})["value"]

    def submit(self, service: str, fields: dict) -> dict:
        return self.conn.post("/api/v1/kiosk/applications", {"service": service,
                                                             "fields": fields})

    def application(self, reference: str) -> dict:
        return self.conn.post("/api/v1/kiosk/application", {"query": reference})

    def find_application(self, typed: str) -> dict:
        return self.conn.post("/api/v1/kiosk/find", {"query": typed})

    def record_card_payment(self, application: str, terminal_ref: str) -> dict:
        return self.conn.post("/api/v1/kiosk/card-payments",
                              {"application": application, "terminal_ref": terminal_ref})

    def issue_licence(self, application: str) -> dict:
        return self.conn.post("/api/v1/kiosk/licences", {"application": application})

    def enqueue_print(self, kind: str, ref: str, lang: str) -> dict:
        return self.conn.post("/api/v1/print/jobs", {"kind": kind, "ref": ref, "lang": lang})

    def abandon_print(self, job_id: str, reason: str) -> None:
        self.conn.post(f"/api/v1/print/jobs/{job_id}/abandon", {"reason": reason[:500]})

    def check_admin_pin(self, pin: str) -> bool:
        if not pin.isdigit() or not 4 <= len(pin) <= 8:
            return False
        return self.conn.post("/api/v1/kiosk/admin-pin", {"pin": pin})["ok"]


class CounterHubClient(_HubClient):
    role = "counter"

    def __init__(self, conn, settings, device):
        super().__init__(conn, settings, device)
        self.counter = device["name"]
        self.currency_code = "BHD"
        self._sessions: dict[str, str] = {}  # clerk -> session token

    def _clerk(self, clerk: str) -> str | None:
        return self._sessions.get(clerk)

    # --- people -----------------------------------------------------------------------------
    def sign_in(self, username: str, pin: str) -> dict:
        username = (username or "").strip().lower()
        reply = self.conn.post("/api/v1/counter/sign-in", {"username": username,
                                                           "pin": pin or ""})
        self._sessions[reply["account"]["username"]] = reply["session"]
        return reply["account"]

    def sign_out(self, clerk: str) -> None:
        session = self._sessions.pop(clerk, None)
        if session:
            self.conn.post("/api/v1/counter/sign-out", clerk_session=session)

    def counter_services(self) -> list[str]:
        return list(self.device["services"])

    # --- queue ------------------------------------------------------------------------------
    def queue_overview(self) -> list[dict]:
        return self.conn.get("/api/v1/counter/queue")

    def my_tickets(self) -> list[dict]:
        # Any signed-in clerk of this counter may look (the list is the counter's).
        return self.conn.get("/api/v1/counter/my-tickets", clerk_session=self._any_session())

    def call_next(self, clerk: str, services: list[str] | None) -> dict | None:
        return self.conn.post("/api/v1/counter/call-next", {"services": services},
                              clerk_session=self._clerk(clerk))

    def ticket_step(self, clerk: str, step: str, ticket: str, *args) -> dict:
        body = {"step": step, **({"service": args[0]} if args else {})}
        return self.conn.post(f"/api/v1/counter/tickets/{ticket}/step", body,
                              clerk_session=self._clerk(clerk))

    def ticket_application(self, ticket_id: str) -> dict | None:
        return self.conn.get(f"/api/v1/counter/tickets/{ticket_id}/application",
                             clerk_session=self._any_session())

    # --- applications -----------------------------------------------------------------------
    def _any_session(self) -> str | None:
        return next(iter(self._sessions.values()), None)

    def application(self, number: str) -> dict:
        return self.conn.post("/api/v1/counter/application", {"query": number},
                              clerk_session=self._any_session())

    def find(self, query: str) -> list[dict]:
        return self.conn.post("/api/v1/counter/find", {"query": query or ""},
                              clerk_session=self._any_session())

    def check_fields(self, service: str, values: dict) -> dict:
        return self.conn.post("/api/v1/counter/check-fields", {"service": service,
                                                               "values": values})

    def submit(self, clerk: str, service: str, fields: dict, ticket: str | None) -> dict:
        return self.conn.post("/api/v1/counter/applications",
                              {"service": service, "fields": fields, "ticket": ticket},
                              clerk_session=self._clerk(clerk))

    def decide(self, supervisor: str, pin: str, decision: str, application: str,
               reason: str) -> dict:
        return self.conn.post("/api/v1/counter/decisions",
                              {"supervisor": supervisor or "", "pin": pin or "",
                               "decision": decision, "application": application,
                               "reason": reason or ""}, clerk_session=self._any_session())

    # --- payments and shifts ----------------------------------------------------------------
    def take_payment(self, clerk: str, application: str, method: str,
                     tendered_minor: int | None, reference: str | None) -> dict:
        return self.conn.post("/api/v1/counter/payments",
                              {"application": application, "method": method,
                               "tendered_minor": tendered_minor, "reference": reference},
                              clerk_session=self._clerk(clerk))

    def void_payment(self, supervisor: str, pin: str, receipt: str, reason: str) -> dict:
        return self.conn.post("/api/v1/counter/payments/void",
                              {"supervisor": supervisor or "", "pin": pin or "",
                               "receipt": receipt, "reason": reason or ""},
                              clerk_session=self._any_session())

    def open_shift(self, clerk: str, float_minor: int) -> dict:
        return self.conn.post("/api/v1/counter/shift/open", {"amount_minor": float_minor},
                              clerk_session=self._clerk(clerk))

    def current_shift(self, clerk: str) -> dict | None:
        return self.conn.get("/api/v1/counter/shift", clerk_session=self._clerk(clerk))

    def close_shift(self, clerk: str, counted_minor: int) -> dict:
        return self.conn.post("/api/v1/counter/shift/close", {"amount_minor": counted_minor},
                              clerk_session=self._clerk(clerk))

    def z_report(self, shift: str) -> dict:
        return self.conn.get(f"/api/v1/counter/shifts/{shift}/z-report",
                             clerk_session=self._any_session())

    def currency(self) -> str:
        return self.currency_code

    # --- licences ---------------------------------------------------------------------------
    def issue_licence(self, clerk: str, application: str) -> dict:
        return self.conn.post("/api/v1/counter/licences", {"application": application},
                              clerk_session=self._clerk(clerk))

    def reprint_licence(self, clerk: str, licence: str, reason: str) -> dict:
        return self.conn.post("/api/v1/counter/licences/reprint",
                              {"licence": licence, "reason": reason or ""},
                              clerk_session=self._clerk(clerk))

    def revoke_licence(self, supervisor: str, pin: str, licence: str, reason: str) -> dict:
        return self.conn.post("/api/v1/counter/licences/revoke",
                              {"supervisor": supervisor or "", "pin": pin or "",
                               "licence": licence, "reason": reason or ""},
                              clerk_session=self._any_session())

    def enqueue_print(self, kind: str, ref: str, lang: str, copy: bool = False) -> dict:
        return self.conn.post("/api/v1/print/jobs", {"kind": kind, "ref": ref, "lang": lang,
                                                     "copy": copy})
