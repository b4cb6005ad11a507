"""Central's side of the offices' heartbeats (docs/operations/health.md): each office's agent
POSTs /v1/health with the latest report of every device of the office (a hub's own, its
kiosks' and counters'; a field office's one box); central keeps the latest per device and
derives alerts when it is read.

Time: no device's clock is trusted. The agent says how long ago its store received each
report (age_s, by its own clock) and each device's skew against its store; central adds the
agent's own skew (its sent_at against central's clock). "Last seen" is central's receipt time
minus the age; "silent" is computed when read, from central's clock, so a device that dies
still alerts. A clock years off is accepted and raises "clock_wrong" with the skew.

The wire shape is core/health.py's (FIELDS): central checks it here with its own model
(central may not import core.health, tests/test_layering.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from fastapi import FastAPI, Header
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.clock import iso

from . import db
from .service import CentralError

PrinterState = Literal["ok", "paper_low", "paper_out", "cover_open", "offline", "unknown",
                       "none"]
CameraState = Literal["ok", "missing", "error", "unknown", "none"]
Role = Literal["kiosk", "counter", "board", "hub", "agent"]
MAX_REPORTS = 200
MAX_COUNT = 10 ** 12
CLOCK_WRONG_S = 300  # the device's clock off by more than this: "clock wrong"
DEVICE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
PRINTER_ALERTS = {"paper_out": "paper_out", "paper_low": "paper_low",
                  "cover_open": "cover_open", "offline": "printer_offline"}
# Most urgent first (the page lists them in this order).
ALERTS = ("silent", "disk_full", "paper_out", "cover_open", "printer_offline", "disk_low",
          "no_backup", "clock_wrong", "paper_low", "camera")


def _moment(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an ISO 8601 time")
    if moment.tzinfo is None:
        raise ValueError("the time has no UTC offset")
    return iso(moment)


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    version: str = Field(min_length=1, max_length=64)
    uptime_s: int = Field(ge=0, le=MAX_COUNT)
    printer: PrinterState
    camera: CameraState
    disk_free_mb: int = Field(ge=0, le=MAX_COUNT)
    store_bytes: int = Field(ge=0, le=MAX_COUNT)
    backlog: int = Field(ge=0, le=MAX_COUNT)
    backlog_age_s: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    clock: str = Field(max_length=64)
    last_backup_at: str | None = Field(default=None, max_length=64)
    disk_full: bool = False
    timezone: str | None = Field(default=None, max_length=64)  # the office's, from its store's box

    _times = field_validator("clock", "last_backup_at")(lambda cls, v: _moment(v))


class Forwarded(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device: str = Field(pattern=DEVICE_NAME)
    age_s: int = Field(ge=0, le=MAX_COUNT)
    skew_s: int = Field(ge=-MAX_COUNT, le=MAX_COUNT)
    report: Report


class HealthBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sent_at: str = Field(max_length=64)
    reports: list[Forwarded] = Field(max_length=MAX_REPORTS)

    _sent = field_validator("sent_at")(lambda cls, v: _moment(v))


class HealthStored(BaseModel):
    stored: int  # reports kept (each replaces an older one of its device)
    clock_skew_s: int  # the agent's clock minus central's


@dataclass(frozen=True)
class Thresholds:
    """The alerts' limits: core.settings' [health] defaults (central may not import
    core.settings; tests/central/test_fleet_health.py checks they agree)."""
    disk_low_mb: int = 500
    disk_refuse_mb: int = 50
    silent_after_s: float = 180.0
    backup_max_age_h: float = 26.0


class Fleet:
    def __init__(self, central, settings: Thresholds | None = None):
        self.central = central
        self.settings = settings or Thresholds()

    def store(self, device: dict, batch: HealthBatch) -> dict:
        """Keep each forwarded report as the latest of its device (OFFICE/NAME)."""
        now = self.central.clock.now()
        agent_skew = round((datetime.fromisoformat(batch.sent_at) - now).total_seconds())
        office = device["office"]
        rows = []
        for item in batch.reports:
            seen = now - timedelta(seconds=min(item.age_s, 10 * 365 * 86400))
            rows.append({"key": f"{office}/{item.device}", "office": office,
                         "device": item.device, "via": device["key"], "role": item.report.role,
                         "report": json.dumps(item.report.model_dump(), sort_keys=True,
                                              separators=(",", ":")),
                         "seen_at": iso(seen), "received_at": iso(now),
                         "skew_s": item.skew_s + agent_skew})
        zones = {item.report.timezone for item in batch.reports if item.report.timezone}
        if len(zones) > 1:
            raise CentralError(422, "invalid_heartbeat", f"one office, one time zone: the "
                                                         f"reports name {sorted(zones)}",
                               field="timezone")
        if zones:
            self._follow_zone(office, zones.pop())
        table = db.device_health
        with self.central.engine.begin() as conn:
            for row in rows:
                old = conn.execute(sa.select(table.c.seen_at, table.c.office).where(
                    table.c.key == row["key"])).first()
                if old is None:
                    conn.execute(sa.insert(table).values(**row))
                elif old.seen_at <= row["seen_at"]:  # an older report never replaces a newer
                    conn.execute(sa.update(table).where(table.c.key == row["key"])
                                 .values(**row))
        return {"stored": len(rows), "clock_skew_s": agent_skew}

    def _follow_zone(self, office: str, name: str) -> None:
        """The office's days and hours are counted in the zone its own box reports (its
        settings' office.timezone): a change projects its facts again (central/reports.py)."""
        from .reports import set_timezone, stored_timezone
        if stored_timezone(self.central, office) != name:
            set_timezone(self.central, office, name, by="heartbeat")

    def devices(self, offices: list[str] | None = None) -> list[dict]:
        """Every device's latest report with its alerts, by central's clock now. offices:
        only these (None: all)."""
        table = db.device_health
        query = sa.select(table).order_by(table.c.office, table.c.device)
        if offices is not None:
            query = query.where(table.c.office.in_(offices))
        with self.central.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        now = self.central.clock.now()
        return [self.view(r, now) for r in rows]

    def view(self, row: dict, now: datetime) -> dict:
        report = json.loads(row["report"])
        silent_s = (now - datetime.fromisoformat(row["seen_at"])).total_seconds()
        return {**{k: row[k] for k in ("key", "office", "device", "via", "role", "seen_at",
                                       "received_at", "skew_s")},
                "report": report, "silent_s": max(0, round(silent_s)),
                "alerts": self.alerts(report, row["skew_s"], silent_s, now)}

    def alerts(self, report: dict, skew_s: int, silent_s: float, now: datetime) -> list[str]:
        h = self.settings
        found = set()
        if silent_s > h.silent_after_s:
            found.add("silent")
        if report.get("disk_full") or report["disk_free_mb"] < h.disk_refuse_mb:
            found.add("disk_full")
        elif report["disk_free_mb"] < h.disk_low_mb:
            found.add("disk_low")
        if report["printer"] in PRINTER_ALERTS:
            found.add(PRINTER_ALERTS[report["printer"]])
        if report["camera"] in ("missing", "error"):
            found.add("camera")
        backup = report.get("last_backup_at")
        # Only the boxes that hold a store worth backing up: a hub, a lone device's agent.
        if report["role"] in ("hub", "agent") and (
                backup is None or (now - datetime.fromisoformat(backup)).total_seconds()
                > h.backup_max_age_h * 3600):
            found.add("no_backup")
        if abs(skew_s) > CLOCK_WRONG_S:
            found.add("clock_wrong")
        return [a for a in ALERTS if a in found]


def add_fleet_routes(app: FastAPI, central) -> None:
    from .app import ERRORS  # the documented error shapes (central/app.py imports this)

    fleet = Fleet(central) if central is not None else None
    app.state.fleet = fleet

    @app.post("/v1/health", response_model=HealthStored, responses=ERRORS, tags=["devices"])
    async def health(batch: HealthBatch, authorization: str | None = Header(default=None)):
        """The office's latest heartbeats, forwarded by its agent (docs/operations/health.md).
        Idempotent: central keeps the latest report of each device."""
        device = await run_in_threadpool(central.authenticate, authorization)
        return await run_in_threadpool(fleet.store, device, batch)
