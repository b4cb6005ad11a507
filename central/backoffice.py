"""What the municipality's back office reads (docs/console.md, "What the back office reads"):
the applications awaiting a decision, an application's whole page, licences, offices with
their devices, and the alerts.

Every method takes the reader's municipality: None (national staff) sees everything; a code
sees only its own offices' objects, and another municipality's object is "not found", exactly
as an unknown one.

Fast at a million applications: the awaiting list reads the small `awaiting` table (kept at
ingest and at a decision), an application's page reads by indexed ids, and a search by
national ID or name goes through `search_tags`: a blind index, HMAC-SHA256 with the search
key (home/search.key, a private file like data.key) of the normalised national ID and of
each normalised name word. Names and IDs are never kept or compared in clear; erasing a
resident deletes their tags."""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from core.clock import iso, parse_iso
from core.sealing import SealingError, is_sealed, unseal
from core.text import search_key, to_ascii_digits

from . import db
from . import service as _svc  # CentralError and the bulk helpers (a cycle: used at call time)
from .db import (applications, awaiting, decisions, devices, events, licences, meta, offices,
                 payments, rejections, resident_keys, search_tags)

MAX_LIMIT = 200
MAX_SEARCH = 100  # characters: a number, a national ID or a few name words
MAX_WORDS = 8
NAME_FIELDS = re.compile(r"(^|_)name$")  # full_name, owner_name: the words searched by
NUMBER_LIKE = re.compile(r"[A-Z0-9]+(-[A-Z0-9]+)+")  # MUH-D01-A2026-000001, MUH-2026-D01-...
BACKFILLED = "search_index_backfilled"  # meta: existing applications indexed once
REVIEW_STATES = ("submitted", "paid")
DECIDED_AT_OFFICE = ("application.approved", "application.rejected")


def _refuse(status: int, code: str, message: str):
    return _svc.CentralError(status, code, message)


# --- kept at ingest, decision and erasure (central/service.py calls these) ---------------------
def tags_of(search_key_file, fields: dict) -> set[str]:
    """The blind-index tags of an application's opened fields: its national ID, each word of
    each name field."""
    tags = set()
    nid = fields.get("national_id")
    if isinstance(nid, str) and _national_id(nid):
        tags.add(search_key_file.tag("nid", _national_id(nid)))
    for key, value in fields.items():
        if NAME_FIELDS.search(key) and isinstance(value, str):
            tags.update(search_key_file.tag("name", w) for w in search_key(value).split())
    return tags


def _national_id(text: str) -> str:
    return re.sub(r"[\s-]", "", to_ascii_digits(text))


def _fields(central, conn, rows: list[dict]) -> dict:
    """{application id: opened fields (a dict), "erased", or None (no key held)} for rows
    with id and body, in one query for their keys."""
    ids = [r["id"] for r in rows]
    held = {}
    for among in _svc._among(conn, resident_keys.c.application_id, ids):
        held.update({r.application_id: r for r in conn.execute(sa.select(
            resident_keys.c.application_id, resident_keys.c.wrapped,
            resident_keys.c.erased_at).where(among))})
    out = {}
    for row in rows:
        body = row["body"] if isinstance(row["body"], dict) else json.loads(row["body"])
        value, key = body.get("fields"), held.get(row["id"])
        if key is not None and key.erased_at is not None:
            out[row["id"]] = "erased"
        elif not is_sealed(value):  # sent in clear by a device older than sealing
            out[row["id"]] = value if isinstance(value, dict) else None
        elif key is None or key.wrapped is None:
            out[row["id"]] = None
        else:
            try:
                resident = central.data_key.unwrap(key.wrapped, row["id"])
                out[row["id"]] = json.loads(unseal(resident, row["id"], value))
            except (SealingError, ValueError):
                out[row["id"]] = None
    return out


def index(central, conn, rows: list[dict]) -> None:
    """Write the search tags of these applications (rows with id and body), replacing any."""
    if not rows:
        return
    opened = _fields(central, conn, rows)
    ids = [r["id"] for r in rows]
    for among in _svc._among(conn, search_tags.c.application_id, ids):
        conn.execute(sa.delete(search_tags).where(among))
    tagged = [(tag, i) for i in ids if isinstance(opened[i], dict)
              for tag in sorted(tags_of(central.search_key, opened[i]))]
    if tagged:
        _svc._insert_many(conn, search_tags, ("tag", "application_id"), tagged)


def forget(conn, application_ids: list[str]) -> None:
    """An erased resident can no longer be found: their tags go with their key."""
    for among in _svc._among(conn, search_tags.c.application_id, list(application_ids)):
        conn.execute(sa.delete(search_tags).where(among))


def refresh_awaiting(conn, application_ids) -> None:
    """Keep `awaiting` true for these applications: for review, submitted or paid, with no
    decision of central's yet."""
    ids = sorted(set(application_ids))
    if not ids:
        return
    for among in _svc._among(conn, awaiting.c.application_id, ids):
        conn.execute(sa.delete(awaiting).where(among))
    a = applications.alias("a")
    for among in _svc._among(conn, a.c.id, ids):
        conn.execute(sa.insert(awaiting).from_select(
            ["application_id", "number", "office", "service_code", "submitted_at"],
            sa.select(a.c.id, a.c.number, a.c.office, a.c.service_code, a.c.submitted_at)
            .outerjoin(decisions, decisions.c.application_id == a.c.id)
            .where(among, a.c.issue_mode == "review", a.c.state.in_(REVIEW_STATES),
                   a.c.submitted_at.is_not(None), decisions.c.application_id.is_(None))))


def backfill(central, chunk: int = 2000) -> int:
    """Index the applications that arrived before the search index (once; marked in
    `meta`). Returns how many were read."""
    with central.engine.connect() as conn:
        if conn.execute(sa.select(meta.c.value).where(meta.c.key == BACKFILLED)).first():
            return 0
    done, last = 0, ""
    while True:
        with central.engine.begin() as conn:
            rows = [dict(r) for r in conn.execute(
                sa.select(applications.c.id, applications.c.body)
                .where(applications.c.id > last).order_by(applications.c.id).limit(chunk))
                .mappings()]
            if not rows:
                conn.execute(sa.delete(meta).where(meta.c.key == BACKFILLED))
                conn.execute(sa.insert(meta).values(key=BACKFILLED, value=central.now()))
                return done
            index(central, conn, rows)
            done, last = done + len(rows), rows[-1]["id"]


# --- reading -------------------------------------------------------------------------------------
class BackOffice:
    def __init__(self, central):
        self.central = central
        self.engine = central.engine

    # -- checks shared by the pages
    def _scope(self, conn, municipality):
        """None (everything) or a select of the municipality's office codes."""
        if municipality is None:
            return None
        if not isinstance(municipality, str) or not _svc.CODE_RE.match(municipality) or \
                conn.execute(sa.select(db.municipalities.c.code).where(
                    db.municipalities.c.code == municipality)).first() is None:
            raise _refuse(404, "unknown_municipality", f"no municipality {municipality!r}")
        return sa.select(offices.c.code).where(offices.c.municipality == municipality)

    @staticmethod
    def _in_scope(column, scope):
        return sa.true() if scope is None else column.in_(scope)

    @staticmethod
    def _limit(limit) -> int:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise _refuse(422, "invalid_limit", f"limit: 1 to {MAX_LIMIT}")
        return limit

    @staticmethod
    def _cursor(after) -> tuple[str, str] | None:
        """The page after this cursor (what the previous page gave as `next`)."""
        if after is None:
            return None
        try:
            assert isinstance(after, str) and len(after) <= 200
            value = json.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)))
            assert isinstance(value, list) and len(value) == 2
            assert all(isinstance(v, str) and "\x00" not in v for v in value)
            return value[0], value[1]
        except (AssertionError, ValueError, UnicodeDecodeError):
            raise _refuse(422, "invalid_cursor", "after: the `next` value of the page "
                                                 "before, as given")

    @staticmethod
    def _next(rows: list, limit: int, *keys: str) -> str | None:
        if len(rows) <= limit:
            return None
        last = rows[limit - 1]
        return base64.urlsafe_b64encode(json.dumps([last[k] for k in keys]).encode()) \
            .decode("ascii").rstrip("=")

    def _search(self, search) -> tuple[str, object] | None:
        """("number", text) or ("tags", [tag, ...]) for what the officer typed."""
        if search is None:
            return None
        if not isinstance(search, str) or len(search) > MAX_SEARCH or \
                any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 for c in search):
            raise _refuse(422, "invalid_search", f"search: an application or licence number, "
                                                 f"a national ID or a name, one line of at "
                                                 f"most {MAX_SEARCH} characters")
        text = search.strip()
        if not text:
            return None
        if NUMBER_LIKE.fullmatch(text.upper()) and any(c.isdigit() for c in text):
            return "number", text.upper()
        nid = _national_id(text)
        if nid.isdigit():
            return "tags", [self.central.search_key.tag("nid", nid)]
        words = sorted(set(search_key(text).split()))
        if len(words) > MAX_WORDS:
            raise _refuse(422, "invalid_search", f"search: at most {MAX_WORDS} name words")
        return "tags", [self.central.search_key.tag("name", w) for w in words]

    @staticmethod
    def _tagged(column, tags: list[str]) -> list:
        return [column.in_(sa.select(search_tags.c.application_id).where(search_tags.c.tag == t))
                for t in tags]

    def _office(self, conn, office, scope) -> str:
        if not isinstance(office, str) or not _svc.CODE_RE.match(office):
            raise _refuse(422, "invalid_office", "office: 1-8 capital letters or digits")
        found = conn.execute(sa.select(offices.c.code).where(
            offices.c.code == office, self._in_scope(offices.c.code, scope))).first()
        if found is None:
            raise _refuse(404, "unknown_office", f"no office {office}")
        return office

    # -- the awaiting list
    def awaiting(self, municipality: str | None, office: str | None = None,
                 service: str | None = None, older_than_days: int | None = None,
                 search: str | None = None, limit: int = 50, after: str | None = None) -> dict:
        """Applications waiting for a back-office decision, oldest submitted first:
        {"items": [...], "next": cursor or None}."""
        limit, cursor, terms = self._limit(limit), self._cursor(after), self._search(search)
        if service is not None and (not isinstance(service, str) or len(service) > 64
                                    or not re.fullmatch(r"[a-z0-9-]+", service)):
            raise _refuse(422, "invalid_service", "service: a service code (e.g. "
                                                  "building-permit-small)")
        if older_than_days is not None and (isinstance(older_than_days, bool) or not isinstance(
                older_than_days, int) or not 0 <= older_than_days <= 3650):
            raise _refuse(422, "invalid_age", "older_than_days: 0 to 3650")
        now = self.central.clock.now()
        with self.engine.connect() as conn:
            scope = self._scope(conn, municipality)
            where = [self._in_scope(awaiting.c.office, scope)]
            if office is not None:
                where.append(awaiting.c.office == self._office(conn, office, scope))
            if service is not None:
                where.append(awaiting.c.service_code == service)
            if older_than_days is not None:
                where.append(awaiting.c.submitted_at < iso(now - timedelta(days=older_than_days)))
            if terms and terms[0] == "number":
                where.append(awaiting.c.number == terms[1])
            elif terms:
                where += self._tagged(awaiting.c.application_id, terms[1])
            if cursor:
                where.append(sa.tuple_(awaiting.c.submitted_at, awaiting.c.application_id)
                             > sa.tuple_(sa.literal(cursor[0]), sa.literal(cursor[1])))
            rows = [dict(r) for r in conn.execute(
                sa.select(awaiting.c.application_id.label("id"), awaiting.c.number,
                          awaiting.c.office, awaiting.c.service_code, awaiting.c.submitted_at,
                          applications.c.state, applications.c.fee_minor,
                          applications.c.currency, applications.c.body)
                .join(applications, applications.c.id == awaiting.c.application_id)
                .where(*where).order_by(awaiting.c.submitted_at, awaiting.c.application_id)
                .limit(limit + 1)).mappings()]
            opened = _fields(self.central, conn, rows[:limit])
        items = [{"number": r["number"], "office": r["office"], "service": r["service_code"],
                  "submitted_at": r["submitted_at"],
                  "age_days": (now - parse_iso(r["submitted_at"])).days,
                  "fee_minor": r["fee_minor"], "currency": r["currency"],
                  "paid": r["state"] == "paid", "state": r["state"],
                  "applicant": _applicant(opened[r["id"]])} for r in rows[:limit]]
        return {"items": items, "next": self._next(rows, limit, "submitted_at", "id")}

    # -- one application
    def application(self, municipality: str | None, number: str) -> dict:
        """Everything central holds of an application, its fields opened."""
        with self.engine.connect() as conn:
            scope = self._scope(conn, municipality)
            app = None if not isinstance(number, str) or "\x00" in number else \
                conn.execute(sa.select(applications).where(
                    applications.c.number == number,
                    self._in_scope(applications.c.office, scope))).mappings().first()
            if app is None:
                raise _refuse(404, "unknown_application",
                              f"no application {str(number)[:64]!r} has reached central")
            app = dict(app)
            body = json.loads(app["body"])
            fields = _fields(self.central, conn, [app])[app["id"]]
            pays = conn.execute(sa.select(payments).where(
                payments.c.application_id == app["id"]).order_by(payments.c.source_seq)) \
                .mappings().all()
            lic = conn.execute(sa.select(licences).where(
                licences.c.application_id == app["id"])).mappings().first()
            decision = conn.execute(sa.select(decisions).where(
                decisions.c.application_id == app["id"])).mappings().first()
            entity_ids = [app["id"], *(p["id"] for p in pays), *([lic["id"]] if lic else [])]
            history = conn.execute(sa.select(
                events.c.type, events.c.entity_id, events.c.at, events.c.received_at,
                events.c.device_key, events.c.seq, events.c.body, events.c.refused)
                .where(events.c.entity_id.in_(entity_ids))
                .order_by(events.c.at, events.c.device_key, events.c.seq)).mappings().all()
        reached = next(({"type": h["type"], "at": h["at"], "received_at": h["received_at"]}
                        for h in history if h["entity_id"] == app["id"] and not h["refused"]
                        and h["type"] in DECIDED_AT_OFFICE), None)
        return {
            "number": app["number"], "id": app["id"], "office": app["office"],
            "device": app["device_key"], "service": app["service_code"], "state": app["state"],
            "issue_mode": app["issue_mode"], "fee_minor": app["fee_minor"],
            "currency": app["currency"], "submitted_at": app["submitted_at"],
            "paid_at": body.get("paid_at"), "fields": _shown(fields),
            "applicant": _applicant(fields),
            "payments": [{"receipt_number": p["receipt_number"], "method": p["method"],
                          "amount_minor": p["amount_minor"], "currency": p["currency"],
                          "taken_at": json.loads(p["body"]).get("taken_at"),
                          "voided": p["voided_at"] is not None, "voided_at": p["voided_at"]}
                         for p in pays],
            "licence": self._licence_view(lic, app["number"]) if lic else None,
            "decision": None if decision is None else {
                k: decision[k] for k in ("state", "reason", "conditions", "decided_by",
                                         "decided_at")},
            "reached_office": reached,
            "history": [{"type": h["type"], "at": h["at"], "received_at": h["received_at"],
                         "device": h["device_key"],
                         "actor": json.loads(h["body"]).get("actor"),
                         "refused": h["refused"]} for h in history]}

    # -- licences
    def _licence_view(self, row, application_number: str | None) -> dict:
        now = iso(self.central.clock.now())
        status = "revoked" if row["revoked_at"] else \
            "expired" if row["valid_until"] < now else "valid"
        return {"number": row["number"], "type": row["licence_type"], "office": row["office"],
                "application_number": application_number, "issued_at": row["issued_at"],
                "valid_until": row["valid_until"], "reprints": row["reprint_count"],
                "status": status,
                "revocation": None if not row["revoked_at"] else {
                    "at": row["revoked_at"], "reason": row["revoke_reason"],
                    "by": row["revoked_by"]}}

    def licences(self, municipality: str | None, search: str | None = None,
                 status: str | None = None, limit: int = 50, after: str | None = None) -> dict:
        """Licences, newest issued first: {"items": [...], "next": cursor or None}."""
        limit, cursor, terms = self._limit(limit), self._cursor(after), self._search(search)
        if status not in (None, "valid", "revoked", "expired"):
            raise _refuse(422, "invalid_status", "status: valid, revoked or expired")
        now = iso(self.central.clock.now())
        with self.engine.connect() as conn:
            scope = self._scope(conn, municipality)
            where = [self._in_scope(licences.c.office, scope)]
            if terms and terms[0] == "number":
                where.append(sa.or_(licences.c.number == terms[1], licences.c.application_id
                                    == sa.select(applications.c.id).where(
                                        applications.c.number == terms[1]).scalar_subquery()))
            elif terms:
                where += self._tagged(licences.c.application_id, terms[1])
            if status == "revoked":
                where.append(licences.c.revoked_at.is_not(None))
            elif status:
                where += [licences.c.revoked_at.is_(None), licences.c.valid_until < now
                          if status == "expired" else licences.c.valid_until >= now]
            if cursor:
                where.append(sa.tuple_(licences.c.issued_at, licences.c.id)
                             < sa.tuple_(sa.literal(cursor[0]), sa.literal(cursor[1])))
            rows = [dict(r) for r in conn.execute(
                sa.select(licences, applications.c.number.label("application_number"))
                .outerjoin(applications, applications.c.id == licences.c.application_id)
                .where(*where).order_by(licences.c.issued_at.desc(), licences.c.id.desc())
                .limit(limit + 1)).mappings()]
        return {"items": [self._licence_view(r, r["application_number"]) for r in rows[:limit]],
                "next": self._next(rows, limit, "issued_at", "id")}

    def licence(self, municipality: str | None, number: str) -> dict:
        with self.engine.connect() as conn:
            scope = self._scope(conn, municipality)
            row = None if not isinstance(number, str) or "\x00" in number else conn.execute(
                sa.select(licences, applications.c.number.label("application_number"))
                .outerjoin(applications, applications.c.id == licences.c.application_id)
                .where(licences.c.number == number,
                       self._in_scope(licences.c.office, scope))).mappings().first()
        if row is None:
            raise _refuse(404, "unknown_licence",
                          f"no licence {str(number)[:64]!r} has reached central")
        return self._licence_view(row, row["application_number"])

    # -- offices, devices and alerts
    def offices(self, municipality: str | None) -> list[dict]:
        """Every office in scope with its devices: role, last contact, backlog and its age,
        missing events, clock skew, app version ("unknown": a device that does not say)."""
        now = self.central.clock.now()
        with self.engine.connect() as conn:
            scope = self._scope(conn, municipality)
            office_rows = conn.execute(sa.select(offices).where(
                self._in_scope(offices.c.code, scope)).order_by(offices.c.code)).mappings().all()
            by_office: dict[str, list] = {}
            for d in conn.execute(sa.select(devices).where(
                    self._in_scope(devices.c.office, scope)).order_by(devices.c.key)).mappings():
                gaps = self.central._gaps(conn, d["key"], d["last_seq"], d["received"])
                by_office.setdefault(d["office"], []).append(_device_view(d, gaps, now))
        out = []
        for o in office_rows:
            mine = by_office.get(o["code"], [])
            contacts = [d["last_contact_at"] for d in mine if d["last_contact_at"]]
            out.append({"office": o["code"], "municipality": o["municipality"],
                        "devices": mine, "last_contact_at": max(contacts, default=None),
                        "missing_events": sum(d["missing"] for d in mine),
                        "backlog": sum(d["backlog"] or 0 for d in mine)})
        return out

    def alerts(self, municipality: str | None, now: datetime | str | None = None,
               silent_after_h: float = 24, backlog_older_than_h: float = 6) -> list[dict]:
        """What needs someone's attention: an office silent too long, a device's backlog
        waiting too long, batches or events refused in the last 24 hours."""
        for name, value in (("silent_after_h", silent_after_h),
                            ("backlog_older_than_h", backlog_older_than_h)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not 0 < value <= 24 * 365:
                raise _refuse(422, "invalid_threshold", f"{name}: hours, above 0, at most "
                                                        f"a year")
        if now is None:
            now = self.central.clock.now()
        elif isinstance(now, str):
            try:
                now = parse_iso(now)
            except ValueError:
                raise _refuse(422, "invalid_time", "now: an ISO-8601 time")
        silent_cut = iso(now - timedelta(hours=silent_after_h))
        backlog_cut = iso(now - timedelta(hours=backlog_older_than_h))
        since = iso(now - timedelta(hours=24))
        out = []
        with self.engine.connect() as conn:
            scope = self._scope(conn, municipality)
            live = conn.execute(sa.select(devices).where(
                devices.c.revoked_at.is_(None), self._in_scope(devices.c.office, scope))
                .order_by(devices.c.key)).mappings().all()
            heard: dict[str, str] = {}
            for d in live:
                heard[d["office"]] = max(heard.get(d["office"], ""),
                                         d["last_contact_at"] or d["enrolled_at"])
            for office, last in sorted(heard.items()):
                if last < silent_cut:
                    out.append({"kind": "silent", "office": office, "device": None,
                                "since": last, "message": f"{office}: nothing heard since "
                                                          f"{last[:16]}"})
            for d in live:
                if d["backlog"] and d["oldest_pending_at"] and \
                        d["oldest_pending_at"] < backlog_cut:
                    out.append({"kind": "backlog", "office": d["office"], "device": d["key"],
                                "since": d["oldest_pending_at"], "count": d["backlog"],
                                "message": f"{d['key']}: {d['backlog']} event(s) waiting since "
                                           f"{d['oldest_pending_at'][:16]}"})
            keys = sa.select(devices.c.key).where(self._in_scope(devices.c.office, scope))
            refused = conn.execute(
                sa.select(rejections.c.device_key, sa.func.count().label("n"),
                          sa.func.max(rejections.c.at).label("last"),
                          sa.func.max(rejections.c.id).label("latest"))
                .where(rejections.c.at >= since, rejections.c.device_key.in_(keys)
                       if scope is not None else sa.true())
                .group_by(rejections.c.device_key).order_by(rejections.c.device_key)).all()
            reasons = dict(conn.execute(sa.select(rejections.c.id, rejections.c.reason).where(
                rejections.c.id.in_([r.latest for r in refused]))).all()) if refused else {}
            for r in refused:
                out.append({"kind": "refused", "office": (r.device_key or "/").split("/")[0],
                            "device": r.device_key, "since": r.last, "count": r.n,
                            "message": f"{r.device_key}: {r.n} refusal(s) in 24 hours; the "
                                       f"latest: {(reasons.get(r.latest) or '')[:200]}"})
        return out


def _device_view(d, gaps: list, now: datetime) -> dict:
    backlog_since = d["oldest_pending_at"] if d["app_version"] or d["oldest_pending_at"] \
        else ("unknown" if d["backlog"] else None)
    age = None
    if backlog_since and backlog_since != "unknown":
        try:
            age = max(0, round((now - parse_iso(backlog_since)).total_seconds()))
        except ValueError:
            backlog_since = "unknown"
    return {"key": d["key"], "device_id": d["device_id"], "role": d["role"],
            "enrolled_at": d["enrolled_at"], "revoked_at": d["revoked_at"],
            "last_contact_at": d["last_contact_at"], "last_seq": d["last_seq"],
            "received": d["received"], "missing": d["last_seq"] - d["received"], "gaps": gaps,
            "backlog": d["backlog"], "oldest_pending_at": backlog_since,
            "backlog_age_s": age, "clock_skew_s": d["clock_skew_s"],
            "app_version": d["app_version"] or "unknown"}


def _applicant(fields) -> str | None:
    if fields == "erased":
        return "erased"
    return fields.get("full_name") if isinstance(fields, dict) else None


def _shown(fields):
    return fields if fields == "erased" or isinstance(fields, dict) else None
