"""The kiosk's and the counter's heartbeat (docs/operations/health.md): every
settings.health.heartbeat_s, off the UI thread, the app's health report (core/health.py) goes
through its face: to the hub in a centre (which keeps it per device), to the local store in a
field office (where the agent forwards it to central).

    loop = start_heartbeat(app)   # in ShellApp.on_start; None when the face cannot take one
    stop_heartbeat(app)           # in ShellApp.on_stop

The printer's and camera's states are read here, from the app's devices (core has no device
library): `printer_state(devices)`, `camera_state(devices)`."""
from __future__ import annotations

import logging
import time

from core import health
from core.coordinator import IDLE, Coordinator

log = logging.getLogger("nafitha.health")


def printer_state(devices) -> str:
    """ok | paper_low | paper_out | cover_open | offline | unknown | none, from the printer
    worker's last status query (devices/printing: DLE EOT)."""
    worker = getattr(devices, "printer", None)
    if worker is None:
        return "none"
    status = getattr(getattr(worker, "status", None), "printer", None)
    if status is None:
        return "unknown"
    if status.paper == "out":
        return "paper_out"
    if "cover open" in (status.detail or ""):
        return "cover_open"
    if status.online is False:
        return "offline"
    if status.paper == "low":
        return "paper_low"
    if status.online is True and status.paper == "ok":
        return "ok"
    return "unknown"


CAMERA = {"running": "ok", "no_camera": "missing", "reconnecting": "error",
          "failed": "error", "starting": "unknown", "stopped": "unknown", "ended": "unknown"}


def camera_state(devices) -> str:
    camera = getattr(devices, "camera", None)
    if camera is None:
        return "none"
    service = getattr(camera, "service", None)
    if service is None:  # opened only while a screen scans: not yet open is not a fault
        return "unknown"
    return CAMERA.get(getattr(service.status, "state", ""), "unknown")


class Heartbeat:
    """One report every `every_s` through `backend.heartbeat` on a Coordinator's thread."""

    def __init__(self, backend, settings, role: str, devices=None, clock=None,
                 every_s: float | None = None):
        self.backend, self.settings, self.role, self.devices = backend, settings, role, devices
        self.clock = clock
        self.started = time.monotonic()
        self.sent = 0
        self.loop = Coordinator(f"heartbeat {role}", self.beat, log,
                                idle_s=every_s or settings.health.heartbeat_s,
                                retry_s=min(5.0, every_s or settings.health.heartbeat_s),
                                max_backoff_s=settings.health.heartbeat_s)

    def report(self) -> dict:
        office = getattr(self.backend, "office", None)  # in-process: the office's store
        return health.collect(getattr(office, "store", None), self.settings, role=self.role,
                              uptime_s=time.monotonic() - self.started,
                              printer=printer_state(self.devices),
                              camera=camera_state(self.devices), clock=self.clock)

    def beat(self):
        self.backend.heartbeat(self.report())
        self.sent += 1
        return IDLE

    def start(self) -> Heartbeat:
        self.loop.start()
        return self

    def stop(self) -> None:
        self.loop.stop(timeout_s=2.0)


def start_heartbeat(app) -> Heartbeat | None:
    """The app's heartbeat, started; None when its face takes none (a test's fake)."""
    if not callable(getattr(app.backend, "heartbeat", None)):
        return None
    role = getattr(app, "translations", "") or "kiosk"
    if role not in ("kiosk", "counter"):
        return None
    app.heartbeat = Heartbeat(app.backend, app.settings, role, getattr(app, "devices", None),
                              getattr(app, "clock", None)).start()
    return app.heartbeat


def stop_heartbeat(app) -> None:
    beat = getattr(app, "heartbeat", None)
    if beat is not None:
        beat.stop()
