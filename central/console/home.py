"""The front page (/console): the alerts of BackOffice.alerts (an office silent too long, a
backlog waiting too long, refusals in the last 24 hours), each with a link to its office, and
a few counts: applications awaiting a decision, devices in touch in the last hour, offices.
Like the offices page it updates itself every 15 s (/console/static/live.js)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi import Request

from central import db
from central.backoffice import BackOffice
from central.staff import Person, scope_offices
from core.clock import iso

from .offices import (BACKLOG_OLDER_THAN_H, REFRESH_S, SILENT_AFTER_H, ago, hours_text,
                      isolated, when_text)
from .web import console, page, render, require


def _counts(request: Request, person: Person, now) -> dict:
    with console(request).central.engine.connect() as conn:
        def count(table, *where):
            return conn.execute(sa.select(sa.func.count()).select_from(table)
                                .where(*where)).scalar()
        return {
            "awaiting": count(db.awaiting, scope_offices(person, db.awaiting.c.office)),
            "online": count(db.devices, db.devices.c.revoked_at.is_(None),
                            db.devices.c.last_contact_at >= iso(now - timedelta(hours=1)),
                            scope_offices(person, db.devices.c.office)),
            "offices": count(db.offices, scope_offices(person))}


def _alert_view(alert: dict, now, lang: str) -> dict:
    office = alert.get("office") or ""
    device = alert.get("device")
    reason = None
    if alert["kind"] == "refused":
        # "<device>: n refusal(s) in 24 hours; the latest: <reason>" (central's own words)
        reason = alert["message"].partition("; the latest: ")[2] or None
    return {"kind": alert["kind"], "office": office, "device": device,
            "count": alert.get("count"), "at": isolated(when_text(alert["since"])),
            "ago": ago(alert["since"], now, lang), "reason": reason,
            "linked": bool(device) or alert["kind"] == "silent"}


@page("")
def home(request: Request, person: Person = require("read")):
    central = console(request).central
    now = central.clock.now()
    alerts = [_alert_view(a, now, person.language)
              for a in BackOffice(central).alerts(person.municipality, now=now)]
    return render(request, person, "home.html", alerts=alerts,
                  counts=_counts(request, person, now), refresh_s=REFRESH_S,
                  updated=now.strftime("%H:%M:%S"),
                  silent_h=hours_text(SILENT_AFTER_H, person.language),
                  backlog_h=hours_text(BACKLOG_OLDER_THAN_H, person.language))
