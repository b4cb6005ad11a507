"""The faces through the hub, derived from their declarations (core/faces): each operation
becomes a method of the same name and signature that calls the hub's route for it
(hub/routes.py) and returns the same shapes and raises the same core errors. Nothing here
names an operation."""
from __future__ import annotations

import dataclasses
import inspect
import time
import typing
import uuid

from core import errors
from core.catalog import catalog_of, parse_service
from core.faces import Face, Operation, operations_of, wire_params
from core.faces.counter import CounterFace
from core.faces.device import CatalogueReader
from core.faces.kiosk import KioskFace
from core.faces.printing import PrintJobs

from .connection import HubConnection

CATALOG_TTL_S = 60.0


def remote_operations(face: type[Face]) -> type:
    """A mixin with one method per operation of `face`, each a call to the hub."""
    methods = {op.name: _remote_method(face, op) for op in operations_of(face).values()}
    return type(f"{face.__name__}Operations", (), {"face": face, **methods})


def _remote_method(face: type[Face], op: Operation):
    declared = getattr(face, op.name)
    signature = inspect.signature(declared)
    returns = typing.get_type_hints(declared).get("return")
    sent = [p.name for p in wire_params(face, op)]
    has_body = bool(sent)
    path = f"/api/v1/{face.name}/{op.path}"
    method = "GET" if op.reads and not has_body else "POST"

    def call(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = bound.arguments
        clerk = values.get("clerk") if op.who == "clerk" else None
        if op.session == "end":
            session = self.sessions.pop(clerk, None)
            if session is None:
                return {"ok": True}  # not signed in here: nothing to end
        elif op.who == "clerk":
            session = self.sessions.get(clerk)
        elif op.who != "device":
            session = next(iter(self.sessions.values()), None)  # any clerk of this counter
        else:
            session = None
        body = {name: values[name] for name in sent} if has_body else None
        # One key per call, kept through its retries (hubclient.connection.ATTEMPTS).
        key = uuid.uuid4().hex if op.retry == "keyed" else None
        reply = self.conn.call(method, path, body, clerk_session=session, idempotency_key=key)
        if op.session == "start":
            self.sessions[reply["account"]["username"]] = reply["session"]
            return reply["account"]
        if dataclasses.is_dataclass(returns) and isinstance(reply, dict):
            return returns(**reply)
        return reply

    call.__name__ = call.__qualname__ = op.name
    call.__doc__ = declared.__doc__
    call.__signature__ = signature
    return call


class RemoteFace(CatalogueReader):
    """What every face through the hub shares: the connection, the clerks' sessions, the
    device's own settings and a copy of the catalogue (refreshed at most every minute, kept
    while the hub is away)."""

    remote = True  # every call is a LAN round trip: the apps keep it off the UI thread
    face: type[Face]

    def __init__(self, conn: HubConnection, settings, device: dict, services=None):
        self.conn = conn
        self.settings = settings
        self.device = device
        self.printer = device["name"]
        self.sessions: dict[str, str] = {}  # clerk -> session token
        self._catalog, self._catalog_at = None, 0.0
        if services is not None:
            self._set_catalog(services)

    def _set_catalog(self, services: list[dict]) -> None:
        self._catalog = catalog_of([parse_service(s, f"hub service {s.get('code')!r}")
                                    for s in services])
        self._catalog_at = time.monotonic()

    @property
    def catalog(self):
        if self._catalog is None or time.monotonic() - self._catalog_at > CATALOG_TTL_S:
            try:
                self._set_catalog(self.catalogue())
            except errors.HubUnreachable:
                if self._catalog is None:
                    raise
                # The last catalogue stays: the screens keep working.
        return self._catalog

    def print_jobs(self) -> "RemotePrintJobs":
        return RemotePrintJobs(self.conn, self.settings, self.device)

    def watch(self, on_change):
        return self.conn.watch(on_change)

    def hub_online(self) -> bool | None:
        return self.conn.online

    def close(self) -> None:
        self.conn.close()


class RemoteKiosk(remote_operations(KioskFace), RemoteFace):
    pass


class RemoteCounter(remote_operations(CounterFace), RemoteFace):
    def __init__(self, conn, settings, device, services=None):
        super().__init__(conn, settings, device, services)
        self.counter = device["name"]
        self.counter_services = list(device["services"])


class RemotePrintJobs(remote_operations(PrintJobs)):
    def __init__(self, conn: HubConnection, settings, device: dict):
        self.conn = conn
        self.settings = settings
        self.printer = device["name"]
        self.sessions: dict[str, str] = {}


REMOTE = {"kiosk": RemoteKiosk, "counter": RemoteCounter}
