"""This device's health report (a heartbeat) and the latest report of each device of the office
(docs/operations/health.md).

A kiosk or counter sends its report every settings.health.heartbeat_s through its face (in a
centre the hub keeps it per device; in a field office the in-process face keeps it here); the
hub records its own too. The sync agent forwards the latest of each to central (`outgoing`).

The device's clock travels as a value ("clock"): the receiver stores when it received the
report by its own clock, and the skew between the two; the device's time is never taken for
"last seen". A report that cannot be read (a clock that does not parse, a state nobody
defined, a negative size) is refused whole: nothing is stored.

Core stays free of device libraries: the app passes its printer's and camera's states in
(PRINTER_STATES, CAMERA_STATES)."""
from __future__ import annotations

import importlib.metadata
import json
import math
import shutil
from datetime import datetime

from . import backup
from .clock import iso
from .errors import ValidationError

SCHEMA = 19  # core/migrations.py m019_device_health
PRINTER_STATES = ("ok", "paper_low", "paper_out", "cover_open", "offline", "unknown", "none")
CAMERA_STATES = ("ok", "missing", "error", "unknown", "none")
ROLES = ("kiosk", "counter", "board", "hub", "agent")
MAX_TEXT = 64
MAX_COUNT = 10 ** 12
FIELDS = ("role", "version", "uptime_s", "printer", "camera", "disk_free_mb", "store_bytes",
          "backlog", "backlog_age_s", "clock", "last_backup_at", "disk_full", "timezone")


def app_version() -> str:
    try:
        return importlib.metadata.version("nafitha")
    except importlib.metadata.PackageNotFoundError:  # a source tree, not installed
        return "unknown"


def _last_backup(settings) -> str | None:
    """When this device's last good backup was taken (core/backup.py), ISO text; None:
    never."""
    found = backup.last_backup(settings)
    return (found or {}).get("at")


def collect(store, settings, *, role: str, uptime_s: float, printer: str = "none",
            camera: str = "none", version: str | None = None, clock=None) -> dict:
    """This device's report now. printer/camera: the app's reading of its devices ("none":
    it has none). store None: a centre's kiosk or counter, whose store is the hub's (no
    backlog of its own; `clock` gives its time)."""
    from . import outbox  # keeps this module's import light

    state = outbox.status(store) if store is not None else \
        {"pending": 0, "backlog_age_seconds": None}
    now = store.now() if store is not None else iso((clock or store_clock()).now())
    try:
        free = shutil.disk_usage(settings.data_dir).free
    except OSError:
        free = 0
    try:
        size = settings.db_path.stat().st_size if store is not None else 0
    except OSError:
        size = 0
    report = {"role": role, "version": version or app_version(),
              "uptime_s": max(0, int(uptime_s)), "printer": printer, "camera": camera,
              "disk_free_mb": free // 1_000_000, "store_bytes": size,
              "backlog": state["pending"], "backlog_age_s": state["backlog_age_seconds"],
              "clock": now, "last_backup_at": _last_backup(settings),
              "disk_full": bool(getattr(store, "disk_full", False)),
              # The box that keeps the office's store says its zone: central counts the
              # office's days and hours in it (a kiosk's own settings are not the office's).
              "timezone": settings.office.timezone if store is not None else None}
    return validate(report)


def store_clock():
    from .clock import SystemClock
    return SystemClock()


def _refuse(field: str, message: str):
    raise ValidationError(f"heartbeat refused: {field}: {message}; nothing was stored",
                          field=field, reason="invalid_heartbeat")


def _moment(value, field: str, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        _refuse(field, "an ISO 8601 time with its offset")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _refuse(field, f"{value[:40]!r} is not an ISO 8601 time")
    if moment.tzinfo is None:
        _refuse(field, "the time has no UTC offset")
    return iso(moment)


def _count(value, field: str, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not 0 <= value <= MAX_COUNT:
        _refuse(field, f"a number from 0 to {MAX_COUNT}")
    return int(value)


def validate(report) -> dict:
    """The report in its one shape, or ValidationError (reason invalid_heartbeat: a device's
    report, not a value a person typed, so no `problem` for ui/messages). A clock
    years off is a readable clock: accepted (the receiver raises "clock wrong")."""
    if not isinstance(report, dict):
        _refuse("report", "an object")
    unknown = sorted(set(report) - set(FIELDS))
    if unknown:
        _refuse(unknown[0], "not a field of a heartbeat")
    if report.get("role") not in ROLES:
        _refuse("role", f"one of {', '.join(ROLES)}")
    version = report.get("version")
    if not isinstance(version, str) or not 0 < len(version) <= MAX_TEXT:
        _refuse("version", f"text of 1 to {MAX_TEXT} characters")
    if report.get("printer") not in PRINTER_STATES:
        _refuse("printer", f"one of {', '.join(PRINTER_STATES)}")
    if report.get("camera") not in CAMERA_STATES:
        _refuse("camera", f"one of {', '.join(CAMERA_STATES)}")
    if not isinstance(report.get("disk_full", False), bool):
        _refuse("disk_full", "true or false")
    zone = report.get("timezone")
    if zone is not None and not _is_zone(zone):
        _refuse("timezone", "an IANA time zone such as Asia/Bahrain")
    return {"role": report["role"], "version": version,
            "uptime_s": _count(report.get("uptime_s"), "uptime_s"),
            "printer": report["printer"], "camera": report["camera"],
            "disk_free_mb": _count(report.get("disk_free_mb"), "disk_free_mb"),
            "store_bytes": _count(report.get("store_bytes"), "store_bytes"),
            "backlog": _count(report.get("backlog"), "backlog"),
            "backlog_age_s": _count(report.get("backlog_age_s"), "backlog_age_s", True),
            "clock": _moment(report.get("clock"), "clock", True),
            "last_backup_at": _moment(report.get("last_backup_at"), "last_backup_at", False),
            "disk_full": bool(report.get("disk_full", False)),
            "timezone": zone}


def _is_zone(name) -> bool:
    """The office's zone, which central counts its days and hours in (docs/kpis.md)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    if not isinstance(name, str) or not 0 < len(name) <= MAX_TEXT or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _name(device) -> str:
    if not isinstance(device, str) or not 0 < len(device) <= MAX_TEXT:
        _refuse("device", f"a name of 1 to {MAX_TEXT} characters")
    return device


def record(store, device: str, report) -> dict:
    """Keep `device`'s latest report, received now by this store's clock. Returns what was
    stored: the report, received_at and skew_s (the device's clock minus ours)."""
    device = _name(device)
    clean = validate(report)
    if not store.has_schema(SCHEMA):
        raise ValidationError("this store predates heartbeats (schema 19): upgrade it first",
                              field="store", reason="invalid_heartbeat")
    now = store.clock.now()
    skew = round((datetime.fromisoformat(clean["clock"]) - now).total_seconds())
    row = {"device": device, "role": clean["role"],
           "report": json.dumps(clean, sort_keys=True, separators=(",", ":")),
           "received_at": iso(now), "skew_s": skew}
    with store.atomic():
        store.conn.execute(
            "INSERT INTO device_health (device, role, report, received_at, skew_s) "
            "VALUES (:device, :role, :report, :received_at, :skew_s) ON CONFLICT(device) DO "
            "UPDATE SET role = excluded.role, report = excluded.report, "
            "received_at = excluded.received_at, skew_s = excluded.skew_s", row)
    return {"device": device, "report": clean, "received_at": row["received_at"],
            "skew_s": skew}


def latest(store) -> list[dict]:
    """Each device's latest report, with its age by this store's clock."""
    if not store.has_schema(SCHEMA):
        return []
    now = store.clock.now()
    return [{"device": r["device"], "role": r["role"], "report": json.loads(r["report"]),
             "received_at": r["received_at"], "skew_s": r["skew_s"],
             "age_s": max(0, round((now - datetime.fromisoformat(r["received_at"]))
                                   .total_seconds()))}
            for r in store.all("SELECT device, role, report, received_at, skew_s "
                               "FROM device_health ORDER BY device")]


def outgoing(store) -> dict:
    """What the agent sends central: its clock, and each device's latest report with how
    long ago this store received it and its clock's skew against this store (so central,
    adding this store's own skew, never needs to trust any device's time)."""
    return {"sent_at": store.now(),
            "reports": [{"device": r["device"], "age_s": r["age_s"], "skew_s": r["skew_s"],
                         "report": r["report"]} for r in latest(store)]}
