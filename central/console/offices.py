"""Operations' pages: every office and device in the person's scope (/console/offices, which
updates itself every 15 s through /console/static/live.js) with each device's latest heartbeat
and its alerts (central/fleet.py), enrolment codes for new devices and revoking a device. Also the wording of ages ("3 hours ago") the front page shares.

Who may do what: everyone reads the offices page; making codes and revoking devices needs
the `offices` permission (operations, admin). Municipal staff see and act on their own
municipality's offices only: another's office, by URL or by a posted form, answers 404.
The enrolment code itself is shown once, on the answer to the POST (no-store), and is never
put in the audit, a URL or a log."""
from __future__ import annotations

import inspect
from datetime import datetime, timedelta

import segno
import sqlalchemy as sa
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from central import db
from central.backoffice import BackOffice
from central.documents import Documents
from central.fleet import Fleet
from central.service import CODE_RE, DEVICE_ROLES, SKEW_WARN_S, CentralError
from central.staff import Person

from . import i18n
from .web import audit, console, form, not_found, page, redirect, refusal, render, require

# The alert thresholds are BackOffice.alerts' own defaults: the page and the alerts agree.
_DEFAULTS = inspect.signature(BackOffice.alerts).parameters
SILENT_AFTER_H = _DEFAULTS["silent_after_h"].default
BACKLOG_OLDER_THAN_H = _DEFAULTS["backlog_older_than_h"].default
REFRESH_S = 15
DEFAULT_HOURS = 72
MAX_HOURS = 24 * 30  # Central.enrol_code's own limit


# --- ages and durations, in Arabic with its number agreement ----------------------------------
def _form(n: int) -> str:
    """Which Arabic form a count takes (after منذ, بمقدار: the genitive)."""
    if n == 1:
        return "1"
    if n == 2:
        return "2"
    if 3 <= n % 100 <= 10:
        return "few"
    if 11 <= n % 100 <= 99:
        return "many"
    return "hundred"


def duration(seconds: float, lang: str) -> str:
    """`seconds` as a readable length: minutes under two hours, hours under two days."""
    s = max(0, int(seconds))
    if s < 60:
        return i18n.t("age.now", lang)
    unit, n = ("minute", s // 60) if s < 2 * 3600 else \
        ("hour", s // 3600) if s < 2 * 86400 else ("day", s // 86400)
    form_ = _form(n)
    if form_ == "hundred" and unit != "day":
        form_ = "many"
    return i18n.t(f"age.{unit}.{form_}", lang, n=n)


def hours_text(hours: float, lang: str) -> str:
    return duration(hours * 3600, lang)


def ago(when: str | None, now: datetime, lang: str) -> str | None:
    if not when:
        return None
    try:
        seconds = (now - datetime.fromisoformat(when)).total_seconds()
    except (TypeError, ValueError):
        return None
    return i18n.t("age.ago", lang, d=duration(seconds, lang))


def when_text(when: str | None) -> str:
    """2026-11-24 08:00 (UTC, as stored)."""
    return (when or "")[:16].replace("T", " ")


def isolated(text: str) -> str:
    """Text put into a sentence of the other direction (a date in an Arabic sentence), kept
    whole by Unicode isolates: 2026-11-26 is not read as 26-11-2026."""
    return f"\u2066{text}\u2069"


def skew_text(skew: int | None, lang: str) -> str | None:
    if skew is None:
        return None
    if abs(skew) < 60:
        return i18n.t("age.in_step", lang)
    return i18n.t("age.ahead" if skew > 0 else "age.behind", lang, d=duration(abs(skew), lang))


def _ranges(gaps: list) -> str:
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in gaps[:5]) + \
        ("…" if len(gaps) > 5 else "")


# --- the offices page -----------------------------------------------------------------------------
def _device_view(d: dict, now: datetime, lang: str) -> dict:
    silent_cut = now - timedelta(hours=SILENT_AFTER_H)
    backlog_cut = now - timedelta(hours=BACKLOG_OLDER_THAN_H)
    revoked = d["revoked_at"] is not None
    heard = d["last_contact_at"] or d["enrolled_at"]
    badges = []
    if revoked:
        badges.append("revoked")
    else:
        if heard and datetime.fromisoformat(heard) < silent_cut:
            badges.append("silent")
        oldest = d["oldest_pending_at"]
        if d["backlog"] and oldest and oldest != "unknown" and \
                datetime.fromisoformat(oldest) < backlog_cut:
            badges.append("backlog_old")
        if d["clock_skew_s"] is not None and abs(d["clock_skew_s"]) > SKEW_WARN_S:
            badges.append("skew")
        if d["missing"]:
            badges.append("gaps")
    oldest = d["oldest_pending_at"]
    return {
        "key": d["key"], "device_id": d["device_id"], "role": d["role"], "revoked": revoked,
        "revoked_ago": ago(d["revoked_at"], now, lang),
        "contact_at": d["last_contact_at"], "contact_when": when_text(d["last_contact_at"]),
        "contact_ago": ago(d["last_contact_at"], now, lang),
        "enrolled_ago": ago(d["enrolled_at"], now, lang),
        "backlog": d["backlog"],
        "backlog_ago": None if not d["backlog"] or not oldest or oldest == "unknown"
        else ago(oldest, now, lang),
        "missing": d["missing"], "ranges": _ranges(d["gaps"]),
        "skew": skew_text(d["clock_skew_s"], lang), "skew_s": d["clock_skew_s"],
        "version": None if d["app_version"] == "unknown" else d["app_version"],
        "badges": badges, "trouble": any(b != "revoked" for b in badges)}


def size_text(n: int, lang: str) -> str:
    """Bytes as a reader counts them: 950 bytes, 12.5 kB, 3.2 MB (powers of 1000)."""
    if n < 1000:
        return i18n.t("size.bytes", lang, n=n)
    if n < 1_000_000:
        return i18n.t("size.kb", lang, n=f"{n / 1000:.1f}".removesuffix(".0"))
    return i18n.t("size.mb", lang, n=f"{n / 1_000_000:.1f}".removesuffix(".0"))


def _pending_documents(central) -> dict:
    """{office: {"files", "bytes"}}: document pages an office's events named that central
    has not received yet (central/documents.py)."""
    return Documents(central).pending_by_office()


def _health_view(h: dict, now: datetime, lang: str) -> dict:
    """One device's latest heartbeat as the page shows it (central/fleet.py)."""
    r = h["report"]
    alerts = []
    for a in h["alerts"]:
        values = {"d": duration(h["silent_s"], lang)} if a == "silent" else \
            {"skew": skew_text(h["skew_s"], lang)} if a == "clock_wrong" else {}
        alerts.append({"code": a, "text": i18n.t(f"alert.{a}", lang, **values),
                       "warn": a in ("paper_low", "clock_wrong", "no_backup", "disk_low")})
    return {"key": h["key"], "device": h["device"], "role": h["role"],
            "version": r["version"], "seen_at": h["seen_at"], "seen_when": when_text(h["seen_at"]),
            "seen_ago": ago(h["seen_at"], now, lang), "printer": r["printer"],
            "camera": r["camera"], "disk": i18n.t("health.mb", lang, n=r["disk_free_mb"]),
            "backlog": r["backlog"],
            "backlog_ago": None if r.get("backlog_age_s") is None
            else i18n.t("age.ago", lang, d=duration(r["backlog_age_s"], lang)),
            "backup_ago": ago(r.get("last_backup_at"), now, lang),
            "alerts": alerts, "trouble": bool(alerts)}


def offices_view(request: Request, person: Person) -> dict:
    central = console(request).central
    now = central.clock.now()
    lang = person.language
    found = BackOffice(central).offices(person.municipality)
    pending = _pending_documents(central)
    health = {}
    for h in Fleet(central).devices([o["office"] for o in found]):
        health.setdefault(h["office"], []).append(_health_view(h, now, lang))
    offices = []
    for o in found:
        devices = [_device_view(d, now, lang) for d in o["devices"]]
        devices.sort(key=lambda d: (d["revoked"], not d["trouble"], d["key"]))
        waiting = pending.get(o["office"]) or {"files": 0, "bytes": 0}
        beats = sorted(health.get(o["office"], []), key=lambda h: (not h["trouble"], h["key"]))
        offices.append({"code": o["office"], "municipality": o["municipality"],
                        "devices": devices, "health": beats,
                        "alert_count": sum(len(h["alerts"]) for h in beats),
                        "trouble": sum(d["trouble"] for d in devices) +
                        sum(h["trouble"] for h in beats),
                        "documents": {**waiting, "size": size_text(waiting["bytes"], lang)}})
    offices.sort(key=lambda o: (not o["trouble"], o["code"]))
    live = [d for o in offices for d in o["devices"] if not d["revoked"]]
    return {"offices": offices, "device_count": len(live),
            "trouble_count": sum(d["trouble"] for d in live) +
            sum(h["trouble"] for o in offices for h in o["health"]),
            "updated": now.strftime("%H:%M:%S"), "refresh_s": REFRESH_S,
            "silent_h": hours_text(SILENT_AFTER_H, lang),
            "backlog_h": hours_text(BACKLOG_OLDER_THAN_H, lang),
            "skew_limit": duration(SKEW_WARN_S, lang)}


@page("/offices")
def offices_page(request: Request, person: Person = require("read")):
    view = offices_view(request, person)
    done = request.query_params.get("revoked", "")
    # Only a device key of the person's scope is echoed (no other text from the URL).
    shown = [d["key"] for o in view["offices"] for d in o["devices"]]
    return render(request, person, "offices.html", revoked=done if done in shown else None,
                  **view)


# --- scope ------------------------------------------------------------------------------------------
def _office_of(request: Request, person: Person, office: str) -> dict | None:
    """The office (code, municipality) when `person` sees it, else None."""
    if not isinstance(office, str) or not CODE_RE.match(office):
        return None
    return next((o for o in console(request).staff.offices(person) if o["code"] == office),
                None)


def _device(request: Request, office: str, device_id: str) -> dict | None:
    if not CODE_RE.match(device_id or ""):
        return None
    with console(request).central.engine.connect() as conn:
        row = conn.execute(sa.select(db.devices).where(
            db.devices.c.key == f"{office}/{device_id}")).mappings().first()
    return dict(row) if row else None


# --- enrolment codes --------------------------------------------------------------------------------
def _enrol_form(request: Request, person: Person, status_code: int = 200, error: str = "",
                entered: dict | None = None):
    offices = console(request).staff.offices(person)
    entered = entered or {}
    if "office" not in entered:
        wanted = request.query_params.get("office", "")
        entered = {**entered, "office": wanted if any(o["code"] == wanted for o in offices)
                   else ""}
    return render(request, person, "enrol_code.html", status_code=status_code, error=error,
                  offices=offices, roles=DEVICE_ROLES, entered=entered,
                  hours_default=DEFAULT_HOURS, max_hours=MAX_HOURS, made=None)


@page("/offices/enrol")
def enrol_form(request: Request, person: Person = require("offices")):
    return _enrol_form(request, person)


def _hours(text: str) -> int:
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 4 and
            1 <= int(text) <= MAX_HOURS):
        raise CentralError(422, "invalid_ttl", f"hours: a whole number from 1 to {MAX_HOURS}")
    return int(text)


def _make_code(request: Request, person: Person, fields: dict):
    # National staff may name a new office; municipal staff choose one of theirs (anything
    # else they post is answered 404 below).
    office = (fields.get("new_office") or "").strip() or fields.get("office", "")
    if not isinstance(office, str) or not CODE_RE.match(office):
        raise CentralError(422, "invalid_office", "office: 1-8 capital letters or digits")
    role = fields.get("role", "")
    if role not in DEVICE_ROLES:
        raise CentralError(422, "invalid_role", f"role: one of {', '.join(DEVICE_ROLES)}")
    hours = _hours(fields.get("hours", ""))
    known = _office_of(request, person, office)
    if known is None and person.municipality is not None:
        raise not_found(person)  # another municipality's office, or one that does not exist
    made = console(request).central.enrol_code(office, ttl_hours=hours, role=role)
    # The code never goes into the audit: what was made, for where, until when.
    audit(request, person, "device.enrol_code", "office", office,
          known["municipality"] if known else None,
          {"role": role, "hours": hours, "expires_at": made["expires_at"],
           "new_office": known is None})
    return made


@page("/offices/enrol", methods=("POST",))
async def enrol_make(request: Request, person: Person = require("offices")):
    fields = await form(request, person)
    try:
        made = await run_in_threadpool(_make_code, request, person, fields)
    except CentralError as exc:
        entered = {k: fields.get(k, "") for k in ("office", "new_office", "role", "hours")}
        return await run_in_threadpool(_enrol_form, request, person, exc.status,
                                       refusal(person, exc), entered)
    central = console(request).central
    expires = datetime.fromisoformat(made["expires_at"])
    # A QR made here, from a code made here (12 letters and digits and two dashes): an SVG
    # data: URI in an <img>, so nothing in it can run, and the CSP allows img-src data:.
    qr = segno.make(made["code"], error="m").svg_data_uri(scale=8, border=4, dark="#0b1d30",
                                                          light="#ffffff")
    response = render(request, person, "enrol_code.html", made=made, qr=qr,
                      expires_when=isolated(when_text(made["expires_at"])),
                      expires_in=duration((expires - central.clock.now()).total_seconds(),
                                          person.language))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- revoking a device ------------------------------------------------------------------------------
def _revoke_target(request: Request, person: Person, office: str, device_id: str):
    known = _office_of(request, person, office)
    if known is None:
        raise not_found(person)
    device = _device(request, office, device_id)
    if device is None:
        raise not_found(person)
    return known, device


def _revoke_page(request: Request, person: Person, office: str, device_id: str,
                 status_code: int = 200, error: str = ""):
    known, device = _revoke_target(request, person, office, device_id)
    now = console(request).central.clock.now()
    return render(request, person, "revoke_device.html", status_code=status_code, error=error,
                  office=known, device=_device_view(
                      {**device, "missing": device["last_seq"] - device["received"],
                       "gaps": [], "app_version": device["app_version"] or "unknown"},
                      now, person.language))


@page("/offices/{office}/devices/{device_id}/revoke")
def revoke_confirm(request: Request, office: str, device_id: str,
                   person: Person = require("offices")):
    return _revoke_page(request, person, office, device_id)


def _revoke(request: Request, person: Person, office: str, device_id: str, fields: dict):
    known, device = _revoke_target(request, person, office, device_id)
    if device["revoked_at"] is not None:
        raise CentralError(409, "device_revoked", f"{device['key']} is already revoked")
    if fields.get("confirm") != "yes":
        raise CentralError(422, "confirm_revoke", "tick the confirmation")
    try:
        console(request).central.revoke_device(office, device_id)
    except CentralError as exc:
        if exc.code == "unknown_device":  # revoked by someone else a moment ago
            raise CentralError(409, "device_revoked", f"{device['key']} is already revoked")
        raise
    audit(request, person, "device.revoke", "device", device["key"], known["municipality"],
          {"role": device["role"]})
    return device["key"]


@page("/offices/{office}/devices/{device_id}/revoke", methods=("POST",))
async def revoke(request: Request, office: str, device_id: str,
                 person: Person = require("offices")):
    fields = await form(request, person)
    try:
        key = await run_in_threadpool(_revoke, request, person, office, device_id, fields)
    except CentralError as exc:
        return await run_in_threadpool(_revoke_page, request, person, office, device_id,
                                       exc.status, refusal(person, exc))
    return redirect(f"/console/offices?revoked={key}")

