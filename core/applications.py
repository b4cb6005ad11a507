"""Applications: draft -> submitted -> paid -> approved -> issued, or rejected / withdrawn.

Instant-issue services are approved automatically when paid. A review-required service may
also be approved before it is paid (the state then stays 'approved' and payment is recorded
on the row); a licence is issued only when the application is approved and paid."""
from __future__ import annotations

import json

from . import codes
from .catalog import validate_fields
from .credentials import qr_fit
from .credentials.licence import worst_case_code
from .errors import InvalidState, NotFound, ValidationError
from .sealing import is_sealed
from .text import clean_text, search_key

STATES = ("draft", "submitted", "paid", "approved", "issued", "rejected", "withdrawn")
SUBMIT_CHANNELS = ("kiosk", "counter")  # where an application is made (docs/kpis.md)


class Applications:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.settings = office.settings
        self.sealer = office.sealer

    def _validate(self, service, values: dict, partial: bool) -> dict:
        if not isinstance(values, dict):
            raise ValidationError("fields must be a mapping of field name to value",
                                  field="fields")
        v = self.settings.validation
        clean = validate_fields(service, values, v.national_id_pattern, v.national_id_check,
                                v.phone_pattern, v.max_amount_minor, partial=partial)
        if not partial:  # the name and address are signed into the licence's QR code
            self._check_licence_fits(service.licence_type, clean, "", "full_name",
                                     "the name and address are too long for the licence")
        return clean

    def check(self, service: str, values: dict) -> dict:
        """The cleaned values, or ValidationError for the first bad one; stores nothing and
        does not require the missing fields (a form checks each field as it is filled)."""
        return self._validate(self.office.catalog.get(service), values, partial=True)

    def row(self, application: str) -> dict:
        row = self.store.one("SELECT * FROM applications WHERE id = ? OR number = ?",
                             (application, application))
        if row is None:
            raise NotFound(f"no application {application!r}", application=application)
        return row

    def _new_number(self, year: int) -> str:
        seq = self.store.next_sequence(f"application:{year}")
        return f"{self.settings.office.code}-{self.settings.device.id}-A{year}-{seq:06d}"

    def _fee(self, service, fields: dict) -> int:
        if service.fee_from_field:
            return int(fields[service.fee_from_field])
        return service.fee_minor

    def submit(self, service: str, fields: dict, ticket: str | None = None,
               channel: str | None = None) -> dict:
        """Validate every field against the catalogue and submit; the fee is fixed now.
        `channel` ('kiosk' or 'counter'): where it was made, for the figures (docs/kpis.md);
        only the submitted event carries it."""
        if channel is not None and channel not in SUBMIT_CHANNELS:
            raise ValidationError(f"channel: one of {', '.join(SUBMIT_CHANNELS)}",
                                  field="channel", reason="unknown_channel")
        svc = self.office.catalog.offered(service, self.settings.office.code)
        clean = self._validate(svc, fields, partial=False)
        with self.store.atomic():
            ticket_id = self.office.queue.ticket_row(ticket)["id"] if ticket else None
            now = self.store.now()
            row = {"id": self.store.ids.new(),
                   "number": self._new_number(self.store.clock.now().astimezone(
                       self.settings.tz).year),
                   "service_code": svc.code, "state": "submitted",
                   "fee_minor": self._fee(svc, clean), "currency": svc.currency,
                   "licence_type": svc.licence_type, "validity_days": svc.validity_days,
                   "issue_mode": svc.issue, "ticket_id": ticket_id, "created_at": now,
                   "submitted_at": now, "paid_at": None, "decided_at": None, "decided_by": None,
                   "reason": None, "updated_at": now}
            self._insert(row, clean)
            self.store.record("application.submitted", "application", row["id"],
                              {**public(row), **({"channel": channel} if channel else {})})
            self.office.bills.issue_for(row)  # its fee due, payable later (core/bills.py)
            return self.view(row)

    def save_draft(self, service: str, fields: dict) -> dict:
        """Keep a half-filled form; values present are checked, missing ones are allowed."""
        svc = self.office.catalog.offered(service, self.settings.office.code)
        clean = self._validate(svc, fields, partial=True)
        with self.store.atomic():
            now = self.store.now()
            row = {"id": self.store.ids.new(),
                   "number": self._new_number(self.store.clock.now().astimezone(
                       self.settings.tz).year),
                   "service_code": svc.code, "state": "draft",
                   "fee_minor": 0, "currency": svc.currency, "licence_type": svc.licence_type,
                   "validity_days": svc.validity_days, "issue_mode": svc.issue,
                   "ticket_id": None, "created_at": now, "submitted_at": None, "paid_at": None,
                   "decided_at": None, "decided_by": None, "reason": None, "updated_at": now}
            self._insert(row, clean)
            self.store.record("application.drafted", "application", row["id"], public(row))
            return self.view(row)

    def submit_draft(self, application: str, fields: dict | None = None) -> dict:
        with self.store.atomic():
            row = self.row(application)
            if row["state"] != "draft":
                raise InvalidState(f"application {row['number']} is {row['state']}, not a draft",
                                   state=row["state"])
            svc = self.office.catalog.offered(row["service_code"], self.settings.office.code)
            merged = {**self.fields_of(row), **(fields or {})}
            clean = self._validate(svc, merged, partial=False)
            now = self.store.now()
            changes = {"state": "submitted", **self._sealed(row["id"], clean),
                       "fee_minor": self._fee(svc, clean), "submitted_at": now,
                       "updated_at": now}
            self.store.update("applications", "id", row["id"], changes)
            row.update(changes)
            self.store.record("application.submitted", "application", row["id"], public(row))
            self.office.bills.issue_for(row)
            return self.view(row)

    def approve(self, application: str, reason: str | None = None,
                conditions: str | None = None) -> dict:
        """Approve; `conditions` (e.g. working hours) are printed on and signed into the
        licence."""
        with self.store.atomic():
            row = self.row(application)
            if row["state"] not in ("submitted", "paid"):
                raise InvalidState(f"application {row['number']} is {row['state']}; only a "
                                   f"submitted or paid application can be approved",
                                   state=row["state"])
            conditions = self._checked_conditions(row, conditions)
            self.store.update("applications", "id", row["id"], {"conditions": conditions})
            row["conditions"] = conditions
            decided = self._decide(row, "approved", "application.approved", reason)
            self.office.bills.issue_for(row)  # unpaid with no bill yet: one now
            return decided

    def check_conditions(self, application: str, conditions: str | None) -> str:
        """The conditions cleaned, or ValidationError when they are not one line of text or
        would not fit on the licence; stores nothing (a form checks them as typed)."""
        return self._checked_conditions(self.row(application), conditions)

    def _checked_conditions(self, row: dict, conditions: str | None) -> str:
        conditions = clean_text(conditions, "conditions", max_length=300) if conditions else ""
        if conditions:
            self._check_licence_fits(row["licence_type"], self.fields_of(row),
                                     conditions, "conditions",
                                     "these conditions do not fit on the licence")
        return conditions

    def _check_licence_fits(self, licence_type: str, fields: dict, conditions: str,
                            field: str, what: str) -> None:
        """The holder's name, address and the conditions are signed into the licence's QR
        code: refuse, before anything is numbered or signed, what would make it too large
        for the office's smallest paper (core/credentials/qr_fit.py). Measured on the worst
        case of what the issuing device adds: its own certificate when this device signs,
        else the largest any device of the office could hold."""
        signer = self.office.signer  # this office's issuing device, when it is this one
        code = worst_case_code(self.settings.office.code, licence_type, fields, conditions,
                               sorted({s.licence_type for s in self.office.catalog}),
                               signer.cert if signer else None)
        paper = self.settings.office.smallest_paper_dots
        problem = qr_fit.misfit(len(code), paper)
        if problem:
            cut = qr_fit.excess_bytes(len(code), paper)
            raise ValidationError(f"{what}: {problem}; shorten them by at least {cut} "
                                  f"characters (an Arabic letter counts as two)", field=field,
                                  problem="too_long_for_licence", cut=cut)

    def reject(self, application: str, reason: str) -> dict:
        reason = clean_text(reason, "reason", max_length=500, min_length=1)
        with self.store.atomic():
            row = self.row(application)
            if row["state"] not in ("submitted", "paid", "approved"):
                raise InvalidState(f"application {row['number']} is {row['state']}; it can no "
                                   f"longer be rejected", state=row["state"])
            decided = self._decide(row, "rejected", "application.rejected", reason)
            self.office.bills.cancel_for(row, "rejected")
            return decided

    def withdraw(self, application: str, reason: str | None = None) -> dict:
        with self.store.atomic():
            row = self.row(application)
            if row["state"] not in ("draft", "submitted"):
                raise InvalidState(f"application {row['number']} is {row['state']}; only a "
                                   f"draft or unpaid submitted application can be withdrawn",
                                   state=row["state"])
            decided = self._decide(row, "withdrawn", "application.withdrawn", reason)
            self.office.bills.cancel_for(row, "withdrawn")
            return decided

    def _decide(self, row: dict, state: str, event: str, reason: str | None,
                auto: bool = False) -> dict:
        now = self.store.now()
        changes = {"state": state, "decided_at": now,
                   "decided_by": "auto" if auto else self.store.actor,
                   "reason": clean_text(reason, "reason", 500) if reason else None,
                   "updated_at": now}
        self.store.update("applications", "id", row["id"], changes)
        row.update(changes)
        self.store.record(event, "application", row["id"], public(row))
        return self.view(row)

    # --- what payments and licences do to an application (inside their transaction) -----
    def mark_paid(self, row: dict, at: str) -> tuple[str, bool]:
        """The fee was taken: (the new state, whether paying approved it). Instant-issue
        services need no review: paying approves them."""
        auto = row["issue_mode"] == "instant" and row["state"] == "submitted"
        state = "approved" if (auto or row["state"] == "approved") else "paid"
        changes = {"state": state, "paid_at": at, "updated_at": at}
        if auto:
            changes.update(decided_at=at, decided_by="auto")
        self.store.update("applications", "id", row["id"], changes)
        return state, auto

    def mark_unpaid(self, row: dict, at: str) -> str:
        """The payment was voided: back to unpaid (the new state). An approval made by
        review stands, an automatic one does not."""
        state = "approved" if row["state"] == "approved" and row["decided_by"] != "auto" \
            else "submitted"
        changes = {"state": state, "paid_at": None, "updated_at": at}
        if row["decided_by"] == "auto":
            changes.update(decided_at=None, decided_by=None)
        self.store.update("applications", "id", row["id"], changes)
        return state

    def mark_issued(self, row: dict, at: str) -> None:
        self.store.update("applications", "id", row["id"], {"state": "issued", "updated_at": at})

    def get(self, application: str) -> dict:
        return self.view(self.row(application))

    # --- the resident's personal values, sealed at rest (core/sealing.py) ----------------
    def _sealed(self, application_id: str, clean: dict) -> dict:
        """The columns that hold an application's fields: sealed with its resident key, and
        a keyed hash of the national ID to find it by."""
        text = json.dumps(clean, ensure_ascii=False, sort_keys=True)
        out = {"fields": self.sealer.seal(application_id, text)}
        if self.sealer.enabled:
            out["national_id_tag"] = self.sealer.national_id_tag(clean["national_id"]) \
                if clean.get("national_id") else None
        return out

    def _insert(self, row: dict, clean: dict) -> None:
        self.sealer.create(row["id"])
        row.update(self._sealed(row["id"], clean))
        self.store.insert("applications", row)

    def fields_of(self, row: dict) -> dict:
        """An application's fields in clear; PersonalDataGone when its key was deleted."""
        return json.loads(self.sealer.opened(row["id"], row["fields"]))

    def view(self, row: dict) -> dict:
        """What a reader is shown: the fields opened. When the resident's key was erased or
        purged: no fields, and `personal_data` says which."""
        out = public(row)
        text = self.sealer.open(row["id"], row["fields"])
        if text is None:
            out["fields"], out["personal_data"] = {}, self.sealer.gone(row["id"])
        else:
            out["fields"] = json.loads(text)
        return out

    def closed_before(self, cutoff: str) -> list[str]:
        """Ids of the applications closed (issued, rejected, withdrawn) before `cutoff`."""
        return [r["id"] for r in self.store.all(
            "SELECT id FROM applications WHERE state IN ('issued', 'rejected', 'withdrawn') "
            "AND updated_at < ?", (cutoff,))]

    def seal_legacy(self) -> int:
        """Seal the fields an older version kept in clear (run once, on upgrade); returns how
        many applications. Their earlier audit entries stay as written: the chain holds."""
        count = 0
        for row in self.store.all("SELECT id, fields FROM applications "
                                  "WHERE fields NOT LIKE 'nfs1:%'"):
            if self.sealer.key(row["id"]) is None and self.sealer.gone(row["id"]) is None:
                self.sealer.create(row["id"])
            self.store.update("applications", "id", row["id"],
                              self._sealed(row["id"], json.loads(row["fields"])))
            count += 1
        return count

    def _by_national_id(self, national_id: str) -> tuple[str, str]:
        """(SQL condition, parameter) matching a national ID: its keyed hash once sealed."""
        if self.sealer.enabled:
            return "national_id_tag = ?", self.sealer.national_id_tag(national_id)
        return "json_extract(fields, '$.national_id') = ?", national_id

    def ending_in(self, digits: int) -> dict:
        """The row of the one application whose number ends in these digits (A2026-000123
        for 123): what a resident copies off a slip. NotFound when none or several match.
        Its fields stay sealed: a kiosk shows only resident_view of it."""
        rows = self.store.all("SELECT * FROM applications WHERE number LIKE ? ORDER BY "
                              "created_at DESC", (f"%-{digits:06d}",))
        if len(rows) != 1:
            raise NotFound(f"no application ending in {digits}")
        return rows[0]

    def service_usage(self, since: str) -> dict[str, int]:
        """Applications submitted since `since` (an ISO time) without a queue ticket, per
        service ({code: n}): a kiosk's "most used" adds them to the tickets (one with a
        ticket is counted there, core.queue.Queue.service_usage)."""
        return {r["service_code"]: r["n"] for r in self.store.all(
            "SELECT service_code, COUNT(*) AS n FROM applications WHERE ticket_id IS NULL "
            "AND submitted_at >= ? GROUP BY service_code", (since,))}

    def latest_for_ticket(self, ticket_id: str) -> str | None:
        """The number of the newest application made for a queue ticket, if any."""
        row = self.store.one("SELECT number FROM applications WHERE ticket_id = ? "
                             "ORDER BY created_at DESC LIMIT 1", (ticket_id,))
        return row["number"] if row else None

    def search(self, query: str, office_code: str) -> list[str]:
        """Application numbers for what a clerk types or scans: a number (or its last
        digits), a national ID, an application slip's code or a ticket's code. NotFound
        when nothing matches (`other_office` for another office's code)."""
        text = (query or "").strip()
        if not text:
            raise ValidationError("type a number, a national ID or scan a code",
                                  field="query", problem="required")
        parsed = codes.parse(text)
        if parsed is not None:
            kind, office, reference = parsed
            if office != office_code:
                raise NotFound(f"a code of office {office}", other_office=office)
            if kind == "ticket":
                number = self.latest_for_ticket(reference)
                if number is None:
                    raise NotFound("this ticket has no application", ticket=reference)
                return [number]
            return [self.get(reference)["number"]]
        text = text.upper()
        rows = self.store.all("SELECT number FROM applications WHERE number = ?", (text,))
        if not rows and text.isdigit():
            where, param = self._by_national_id(text)
            rows = self.store.all(f"SELECT number FROM applications WHERE {where} "
                                  f"ORDER BY created_at DESC LIMIT 20", (param,))
            if not rows and len(text) <= 6:
                rows = self.store.all("SELECT number FROM applications WHERE number LIKE ? "
                                      "ORDER BY created_at DESC LIMIT 20",
                                      (f"%-{int(text):06d}",))
        if not rows:
            raise NotFound(f"nothing found for {query!r}")
        return [r["number"] for r in rows]

    def find_by_name(self, name: str, limit: int = 20) -> list[str]:
        """Numbers of the applications whose holder's name holds every word typed, newest
        first: Arabic or English, whatever the spelling variant (core.text.search_key).
        ValidationError for fewer than two letters; NotFound when nothing matches."""
        typed = clean_text(name, "name", max_length=200, min_length=1)
        words = search_key(typed).split()
        if sum(len(w) for w in words) < 2:
            raise ValidationError("type at least two letters of the name", field="name",
                                  problem="too_short", min_length=2, length=len(typed))
        found = []
        # Each holder's name is opened in memory: names are sealed at rest.
        rows = self.store.all("SELECT id, number, fields FROM applications "
                              "ORDER BY created_at DESC, number DESC")
        keys = self.sealer.keys_of([r["id"] for r in rows]) if self.sealer.enabled else {}
        for row in rows:
            text = self.sealer.open_with(keys, row["id"], row["fields"])
            held = search_key(json.loads(text).get("full_name") or "") if text else ""
            if all(word in held for word in words):
                found.append(row["number"])
                if len(found) == limit:
                    break
        if not found:
            raise NotFound("no application holder has that name")  # no name in the logs
        return found

    def find(self, national_id: str | None = None, state: str | None = None,
             limit: int = 50) -> list[dict]:
        sql, params = "SELECT * FROM applications WHERE 1=1", []
        if national_id:
            where, param = self._by_national_id(national_id)
            sql += f" AND {where}"
            params.append(param)
        if state:
            sql += " AND state = ?"
            params.append(state)
        sql += " ORDER BY created_at DESC LIMIT ?"
        params.append(limit)
        return [self.view(r) for r in self.store.all(sql, params)]


# What a resident is shown of an application at a kiosk (following it, paying it, the
# result): never the holder's name, national ID, phone or address, nor who decided it.
RESIDENT_VIEW = ("id", "number", "service_code", "state", "fee_minor", "currency",
                 "issue_mode", "submitted_at", "paid_at", "reason", "bill")
# Of its bill (core/bills.py): what the resident pays it with at a network.
RESIDENT_BILL = ("number", "amount_minor", "currency", "due_at", "state")


def resident_view(app: dict) -> dict:
    """An application (a row or a view) as a kiosk shows it: its number, service, state and
    fee; the reason only for a rejection (what the status screen says); its bill when the
    caller put it in `app["bill"]` (else None)."""
    out = {k: app[k] for k in RESIDENT_VIEW if k != "bill"}
    bill = app.get("bill")
    out["bill"] = {k: bill[k] for k in RESIDENT_BILL} if bill else None
    if app["state"] != "rejected":
        out["reason"] = None
    return out


def public(row: dict) -> dict:
    """An application as its events carry it: the fields sealed (kept in clear only by a
    store older than sealing)."""
    out = {k: row[k] for k in ("id", "number", "service_code", "state", "fee_minor", "currency",
                               "licence_type", "validity_days", "issue_mode", "ticket_id",
                               "created_at", "submitted_at", "paid_at", "decided_at",
                               "decided_by", "reason")}
    out["conditions"] = row.get("conditions", "")
    out["fields"] = row["fields"] if is_sealed(row["fields"]) else json.loads(row["fields"])
    return out
