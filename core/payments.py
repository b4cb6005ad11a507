"""Payments, shifts and the Z report. Amounts are integer minor units only.

A payment belongs to the open shift of the clerk who takes it (each kiosk has a shift of
its own, under its cashier name: core/faces/kiosk.py, KioskFace.cashier). Cash needs the tendered amount and gives change; card needs the
terminal's reference; online needs the gateway's reference. A void needs a supervisor's PIN
and a reason, and is refused once a licence was issued on the payment (revoke it first).

Card approvals are checked against what the kiosk cannot invent (docs/payment.md,
"Reconciliation"): at record time a kiosk's terminal reference must have the terminal's
shape and never have been used before, and the amount is always the application's fee; at
the end of the day the shift's card payments are reconciled against the terminal's own
batch report (a shift is one terminal's day: a payment naming another terminal is left to
that terminal's report), and every difference is flagged (the payment marked, audited, shown in the Z
report and in `disputes()` for a supervisor)."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta

from . import money
from .canonical import canonical_json
from .clock import iso, parse_iso
from .errors import InvalidState, NotFound, ValidationError
from .text import clean_text

METHODS = ("cash", "card", "online")  # what a clerk takes (the Z report's methods)
# A payment made through a national bill-payment network (core/bills.py): no shift, no
# clerk's till; recorded when central relays it.
NETWORK = "network"
RECONCILING_SCHEMA = 15  # m015: payments.card_check, card_reconciliations
BILLS_SCHEMA = 18  # m018: payments.refund, method network
# The reference the card terminal gives an approval (devices/payment, docs/payment.md): its
# terminal id (8 capitals or digits), the sale's trace number (STAN, 6 digits) and the
# issuer's authorisation code (6 capitals or digits): T0000001-000042-A1B2C3.
TERMINAL_ID = re.compile(r"[A-Z0-9]{8}")
TERMINAL_REF = re.compile(r"([A-Z0-9]{8})-([0-9]{6})-([A-Z0-9]{6})")
# What reconciliation found for one card payment (payments.card_check; NULL: not yet).
CARD_CHECKS = ("matched", "unconfirmed", "amount_differs")
MAX_BATCH_ENTRIES = 10_000  # far above a terminal's day; bounds what a report may carry
BATCH_KEYS = {"terminal_id", "entries"}
ENTRY_KEYS = {"terminal_ref", "amount_minor", "currency", "sale_ref", "at"}


def kiosk_cashier(account: str, device: str | None = None) -> str:
    """The name a kiosk's card payments and shift go under (KioskFace.cashier): the kiosk
    account alone for a field office's one kiosk (printer "main", or no device named), else
    account:device (`kiosk:kiosk-1` for a hub's kiosk-1; a user name has no ':')."""
    return account if device in (None, "", "main") else f"{account}:{device}"


def is_kiosk_cashier(name: str, account: str) -> bool:
    """Whether a shift's clerk is a kiosk (which holds no cash) rather than a person."""
    return name == account or name.startswith(account + ":")


def check_terminal_ref(terminal_ref: object) -> str:
    """The terminal's reference of an approval, or ValidationError (field terminal_ref)."""
    if not isinstance(terminal_ref, str) or not TERMINAL_REF.fullmatch(terminal_ref):
        raise ValidationError(
            f"terminal reference {str(terminal_ref)[:40]!r} is not one the card terminal "
            f"gives: it is its terminal id, trace number and authorisation code, e.g. "
            f"T0000001-000042-A1B2C3", field="terminal_ref")
    return terminal_ref


def terminal_of(reference: str | None) -> str | None:
    """The terminal id a card payment's reference names, or None when it has not the
    terminal's shape (a counter's typed reference)."""
    m = TERMINAL_REF.fullmatch(reference or "")
    return m.group(1) if m else None


def check_batch_report(report: object, max_minor: int) -> dict:
    """The terminal's batch report (the approvals since its last settlement) as core takes
    it, or ValidationError (field report) saying what is wrong:
        {"terminal_id": "T0000001", "entries": [{"terminal_ref": "T0000001-000042-A1B2C3",
          "amount_minor": 1000, "currency": "BHD", "sale_ref": "...", "at": "..."}]}"""
    def bad(why: str):
        return ValidationError(f"the terminal's batch report is malformed: {why}",
                               field="report")

    if not isinstance(report, dict) or set(report) != BATCH_KEYS:
        raise bad(f"it is an object with exactly {', '.join(sorted(BATCH_KEYS))}")
    terminal_id, entries = report["terminal_id"], report["entries"]
    if not isinstance(terminal_id, str) or not TERMINAL_ID.fullmatch(terminal_id):
        raise bad("terminal_id is 8 capitals or digits")
    if not isinstance(entries, list) or len(entries) > MAX_BATCH_ENTRIES:
        raise bad(f"entries is a list of at most {MAX_BATCH_ENTRIES}")
    clean, seen = [], set()
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not {"terminal_ref", "amount_minor",
                                                "currency"} <= set(entry) <= ENTRY_KEYS:
            raise bad(f"entry {n} is not an object with terminal_ref, amount_minor, "
                      f"currency (and optionally sale_ref, at)")
        ref = entry["terminal_ref"]
        if not isinstance(ref, str) or not (m := TERMINAL_REF.fullmatch(ref)) \
                or m.group(1) != terminal_id:
            raise bad(f"entry {n}: terminal_ref {str(ref)[:40]!r} is not a reference of "
                      f"terminal {terminal_id}")
        if ref in seen:
            raise bad(f"entry {n}: {ref} is listed twice")
        seen.add(ref)
        amount = entry["amount_minor"]
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= max_minor:
            raise bad(f"entry {n}: amount_minor is a whole number of minor units above zero")
        if entry["currency"] not in money.CURRENCY_EXPONENT:
            raise bad(f"entry {n}: currency {str(entry['currency'])[:8]!r} is not known")
        for key in ("sale_ref", "at"):
            if not isinstance(entry.get(key, ""), str) or len(entry.get(key, "")) > 40:
                raise bad(f"entry {n}: {key} is text of at most 40 characters")
        clean.append({"terminal_ref": ref, "amount_minor": amount,
                      "currency": entry["currency"], "sale_ref": entry.get("sale_ref", ""),
                      "at": entry.get("at", "")})
    return {"terminal_id": terminal_id, "entries": clean}


class Payments:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.settings = office.settings
        # A store whose schema predates card reconciliation (the migration tests run today's
        # code on old schemas) records card payments as that version did.
        self.reconciling = self.store.has_schema(RECONCILING_SCHEMA)
        # A payment flagged for refund (paid twice) is never the application's live one.
        self._live = "voided_at IS NULL" + (" AND refund IS NULL"
                                            if self.store.has_schema(BILLS_SCHEMA) else "")

    def open_shift_of(self, clerk: str) -> dict | None:
        """The clerk's open shift, or None."""
        return self.store.one("SELECT * FROM shifts WHERE clerk = ? AND closed_at IS NULL",
                              (clerk,))

    def _open_shift(self, clerk: str) -> dict:
        shift = self.open_shift_of(clerk)
        if shift is None:
            raise InvalidState(f"{clerk} has no open shift; open one first "
                               f"(nafitha shift open)", clerk=clerk)
        return shift

    def take(self, application: str, method: str, clerk: str,
             tendered_minor: int | None = None, reference: str | None = None,
             channel: str = "counter") -> dict:
        """channel: where it was paid, counter or kiosk (record_card_approval), which the
        revenue figures count by (docs/kpis.md)."""
        if method not in METHODS:
            raise ValidationError(f"method must be one of {', '.join(METHODS)}", field="method")
        max_minor = self.settings.validation.max_amount_minor
        label = "terminal reference" if method == "card" else "gateway reference"
        if method == "cash":
            if tendered_minor is None:
                raise ValidationError("cash needs the tendered amount", field="tendered")
            money.check_minor(tendered_minor, "BHD", "tendered", max_minor)
            if reference:
                raise ValidationError("cash takes no reference", field="reference")
        else:
            if tendered_minor is not None:
                raise ValidationError(f"{method} takes no tendered amount", field="tendered")
            reference = clean_text(reference or "", "reference", max_length=64, min_length=1) \
                if reference else None
            if not reference:
                raise ValidationError(f"{method} needs the {label}", field="reference")
        with self.store.atomic(actor=clerk):
            app = self.office.applications.row(application)
            live = self.store.one(f"SELECT receipt_number FROM payments WHERE application_id "
                                  f"= ? AND {self._live}", (app["id"],))
            if live:
                raise InvalidState(f"application {app['number']} is already paid (receipt "
                                   f"{live['receipt_number']})", receipt=live["receipt_number"],
                                   reason="already_paid")
            if reference:
                used = self.store.one("SELECT receipt_number FROM payments WHERE method = ? "
                                      "AND reference = ?", (method, reference))
                if used:  # one approval pays one fee, once: a replay is refused
                    raise InvalidState(f"{label} {reference} was already used for receipt "
                                       f"{used['receipt_number']}", reason="reference_used",
                                       receipt=used["receipt_number"])
            if app["state"] not in ("submitted", "approved"):
                raise InvalidState(f"application {app['number']} is {app['state']}; it cannot "
                                   f"be paid", state=app["state"])
            amount = app["fee_minor"]
            change = None
            if method == "cash":
                if tendered_minor < amount:
                    raise ValidationError(
                        f"tendered {money.format_amount(tendered_minor, app['currency'])} is "
                        f"less than the fee {money.format_amount(amount, app['currency'])}",
                        field="tendered")
                change = tendered_minor - amount
            shift = self._open_shift(clerk)
            if shift["currency"] != app["currency"]:
                raise InvalidState("the shift and the fee are in different currencies")
            now = self.store.now()
            seq = self.store.next_sequence("receipt")
            row = {"id": self.store.ids.new(),
                   "receipt_number": f"{self.settings.office.code}-{self.settings.device.id}-"
                                     f"R{seq:07d}",
                   "application_id": app["id"], "method": method, "amount_minor": amount,
                   "currency": app["currency"], "tendered_minor": tendered_minor,
                   "change_minor": change, "reference": reference, "shift_id": shift["id"],
                   "clerk": clerk, "taken_at": now, "voided_at": None, "voided_by": None,
                   "void_reason": None}
            self.store.insert("payments", row)
            new_state, auto = self.office.applications.mark_paid(app, now)
            self.store.record("payment.taken", "payment", row["id"],
                              {**row, "application_number": app["number"],
                               "application_state": new_state, "auto_approved": auto,
                               "service_code": app["service_code"], "channel": channel})
            return {**row, "application_number": app["number"], "application_state": new_state}

    def record_card_approval(self, application: str, terminal_ref: str, clerk: str) -> dict:
        """A card terminal's approval as a kiosk reports it, on the clerk's (that kiosk's
        cashier name's) shift, opened on first use. The kiosk's word is checked as far as it can
        be without the terminal: the reference has the terminal's shape (ValidationError,
        field terminal_ref) and was never used before (InvalidState, reason reference_used);
        the amount is the application's fee, never the kiosk's. The terminal's batch report
        confirms it at the end of the day (reconcile_cards). Refused: nothing changes."""
        check_terminal_ref(terminal_ref)
        with self.store.atomic(actor=clerk):
            app = self.office.applications.row(application)
            self.ensure_shift(clerk, app["currency"])
            return self.take(app["id"], "card", clerk, reference=terminal_ref,
                             channel="kiosk")

    def void(self, payment: str, supervisor: str, supervisor_pin: str, reason: str) -> dict:
        reason = clean_text(reason or "", "reason", max_length=500, min_length=1)
        self.office.users.authenticate(supervisor, supervisor_pin, role="supervisor")
        with self.store.atomic(actor=supervisor):
            row = self.get(payment)
            if row["voided_at"]:
                raise InvalidState(f"receipt {row['receipt_number']} is already void")
            app = self.office.applications.row(row["application_id"])
            if app["state"] == "issued":
                raise InvalidState(f"a licence was issued on receipt {row['receipt_number']}; "
                                   f"revoke the licence before voiding the payment")
            now = self.store.now()
            self.store.update("payments", "id", row["id"],
                              {"voided_at": now, "voided_by": supervisor, "void_reason": reason})
            state = self.office.applications.mark_unpaid(app, now)
            row.update(voided_at=now, voided_by=supervisor, void_reason=reason)
            self.store.record("payment.voided", "payment", row["id"],
                              {**row, "application_state": state})
            return row

    def live_for(self, application_id: str) -> dict | None:
        """The application's payment that is not void, or None."""
        return self.store.one(f"SELECT * FROM payments WHERE application_id = ? AND "
                              f"{self._live}", (application_id,))

    def network_payment(self, transaction_id: str) -> dict | None:
        """The payment recorded for a network's transaction id, or None."""
        return self.store.one("SELECT * FROM payments WHERE method = ? AND reference = ?",
                              (NETWORK, transaction_id))

    def record_network(self, app: dict, body: dict, refund: str | None) -> dict:
        """Record a payment a network made (core/bills.py, inside its transaction): method
        network, no shift, the transaction id as its reference; `refund` flags one to pay
        back (double_payment: the application was already paid), which is then not the
        application's live payment and counts in no revenue here."""
        seq = self.store.next_sequence("receipt")
        row = {"id": self.store.ids.new(),
               "receipt_number": f"{self.settings.office.code}-{self.settings.device.id}-"
                                 f"R{seq:07d}",
               "application_id": app["id"], "method": NETWORK,
               "amount_minor": body["amount_minor"], "currency": body["currency"],
               "tendered_minor": None, "change_minor": None,
               "reference": body["transaction_id"], "shift_id": None,
               "clerk": body["network"], "taken_at": self.store.now(), "voided_at": None,
               "voided_by": None, "void_reason": None, "refund": refund}
        self.store.insert("payments", row)
        return row

    def refunds_due(self) -> list[dict]:
        """Network payments flagged for refund (paid twice, or for an application that could
        no longer be paid), oldest first."""
        if not self.store.has_schema(BILLS_SCHEMA):
            return []
        return self.store.all("SELECT * FROM payments WHERE refund IS NOT NULL "
                              "ORDER BY taken_at")

    def get(self, payment: str) -> dict:
        row = self.store.one("SELECT * FROM payments WHERE id = ? OR receipt_number = ?",
                             (payment, payment))
        if row is None:
            raise NotFound(f"no payment {payment!r}")
        return row

    # --- shifts ------------------------------------------------------------------------------
    def open_shift(self, clerk: str, float_minor: int, currency: str = "BHD") -> dict:
        if isinstance(float_minor, bool) or not isinstance(float_minor, int) or float_minor < 0:
            raise ValidationError("float: a whole number of minor units, zero or more",
                                  field="float")
        if float_minor > self.settings.validation.max_amount_minor:
            raise ValidationError("float: above the limit", field="float")
        money.exponent(currency)
        with self.store.atomic(actor=clerk):
            if self.store.one("SELECT 1 FROM shifts WHERE clerk = ? AND closed_at IS NULL",
                              (clerk,)):
                raise InvalidState(f"{clerk} already has an open shift")
            row = {"id": self.store.ids.new(), "number": self.store.next_sequence("shift"),
                   "clerk": clerk, "currency": currency, "float_minor": float_minor,
                   "opened_at": self.store.now(), "closed_at": None, "counted_minor": None,
                   "expected_minor": None, "difference_minor": None}
            self.store.insert("shifts", row)
            self.store.record("shift.opened", "shift", row["id"], row)
            return row

    def ensure_shift(self, clerk: str, currency: str) -> dict:
        """The clerk's open shift, opened with no float if there is none (each kiosk's card
        payments go to its own shift)."""
        with self.store.atomic(actor=clerk):
            return self.open_shift_of(clerk) or self.open_shift(clerk, 0, currency)

    def close_shift(self, clerk: str, counted_minor: int | None,
                    card_report: dict | None = None) -> dict:
        """Close the clerk's open shift with the cash counted; with the card terminal's batch
        report, its card payments are reconciled in the same transaction (reconcile_cards).
        counted None: only for a kiosk's shift, which holds no cash (0). The Z report."""
        self._check_counted(counted_minor)
        if card_report is not None:
            card_report = check_batch_report(card_report,
                                             self.settings.validation.max_amount_minor)
        with self.store.atomic(actor=clerk):
            shift = self._open_shift(clerk)
            return self._close(shift, counted_minor, card_report, clerk)

    def close_shift_by(self, shift: str, counted_minor: int | None, actor: str) -> dict:
        """Close a shift named by its number or id, whoever's it is, recorded under `actor`
        (the operator): a kiosk's shift (counted None: it holds no cash), or a leaver's. Its
        card payments are reconciled afterwards (reconcile_cards). The Z report. Refused,
        changing nothing: an unknown shift (NotFound), a closed one (reason
        already_closed), a person's shift without the counted cash (field counted)."""
        self._check_counted(counted_minor)
        with self.store.atomic(actor=actor):
            row = self._shift_row(shift)
            if row["closed_at"] is not None:
                raise InvalidState(f"shift {row['number']} ({row['clerk']}) was already closed "
                                   f"at {self._local(row['closed_at'])} "
                                   f"({self.settings.office.timezone})",
                                   reason="already_closed", shift=row["number"])
            return self._close(row, counted_minor, None, actor)

    def open_kiosk_shift(self, device: str | None = None) -> dict:
        """The open shift of a kiosk: the one named (its device name, kiosk-1, or its whole
        cashier name, kiosk:kiosk-1; "main" or none at a field office), else the only kiosk
        shift open. InvalidState (reason no_open_shift) when there is none; ValidationError
        (field kiosk) when several kiosks have one and none was named."""
        account = self.settings.kiosk.account
        if device is not None:
            device = str(device).strip()
            cashier = device if is_kiosk_cashier(device, account) else \
                kiosk_cashier(account, device)
            row = self.open_shift_of(cashier)
            if row is None:
                raise InvalidState(f"kiosk {device[:40]!r} has no open shift (its cashier "
                                   f"name would be {cashier[:60]!r})", reason="no_open_shift")
            return row
        rows = [r for r in self.store.all("SELECT * FROM shifts WHERE closed_at IS NULL "
                                          "ORDER BY number") if is_kiosk_cashier(r["clerk"],
                                                                                 account)]
        if not rows:
            raise InvalidState("no kiosk has an open shift", reason="no_open_shift")
        if len(rows) > 1:
            names = ", ".join(r["clerk"] for r in rows)
            example = rows[-1]["clerk"].partition(":")[2] or "main"
            raise ValidationError(f"{len(rows)} kiosks have an open shift ({names}); name "
                                  f"one, e.g. nafitha shift close --kiosk {example}",
                                  field="kiosk")
        return rows[0]

    @staticmethod
    def _check_counted(counted_minor) -> None:
        if counted_minor is not None and (isinstance(counted_minor, bool) or not isinstance(
                counted_minor, int) or counted_minor < 0):
            raise ValidationError("counted: a whole number of minor units, zero or more",
                                  field="counted")

    def _close(self, shift: dict, counted_minor: int | None, card_report: dict | None,
               actor: str) -> dict:
        """Inside the caller's transaction: close an open shift; the Z report."""
        if counted_minor is None:
            if not is_kiosk_cashier(shift["clerk"], self.settings.kiosk.account):
                raise ValidationError(f"counted: shift {shift['number']} is {shift['clerk']}'s; "
                                      f"it closes with the cash counted in the drawer",
                                      field="counted")
            counted_minor = 0  # a kiosk takes cards only: nothing to count
        report = self.z_report(shift["id"])
        expected = report["expected_cash_minor"]
        changes = {"closed_at": self.store.now(), "counted_minor": counted_minor,
                   "expected_minor": expected, "difference_minor": counted_minor - expected}
        self.store.update("shifts", "id", shift["id"], changes)
        shift.update(changes)
        self.store.record("shift.closed", "shift", shift["id"], shift)
        if card_report is not None:
            self._reconcile(shift, card_report, actor, relayed=True)
        return self.z_report(shift["id"])

    # --- shifts as an operator lists them (nafitha shift list) -------------------------------
    MAX_LISTED = 1000

    def shifts(self, open_only: bool = False, day: str | None = None,
               limit: int = 50) -> list[dict]:
        """The newest `limit` shifts, oldest first: number, id, clerk, whether a kiosk's,
        float, opened and closed (UTC as stored; people read them in the office's zone),
        counted, difference, live payments by method with their total, and voids. `day`
        (YYYY-MM-DD, the office's local date): the shifts open at any moment of that day,
        so a shift left open over night is listed on each day it spans. Refused: a day that
        is not a date (field day), a limit outside 1..MAX_LISTED (field limit)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or \
                not 1 <= limit <= self.MAX_LISTED:
            raise ValidationError(f"limit: a whole number from 1 to {self.MAX_LISTED}",
                                  field="limit")
        where, params = [], []
        if open_only:
            where.append("closed_at IS NULL")
        if day is not None:
            start, end = self._local_day_bounds(day)
            where.append("opened_at < ? AND (closed_at >= ? OR (closed_at IS NULL AND ? <= ?))")
            params += [end, start, start, self.store.now()]
        rows = self.store.all("SELECT * FROM shifts" + (" WHERE " + " AND ".join(where)
                                                        if where else "")
                              + " ORDER BY number DESC LIMIT ?", (*params, limit))
        rows.reverse()
        totals: dict = {}
        if rows:
            marks = ", ".join("?" * len(rows))
            for t in self.store.all(
                    f"SELECT shift_id, method, voided_at IS NOT NULL AS void, COUNT(*) AS n, "
                    f"SUM(amount_minor) AS total FROM payments WHERE shift_id IN ({marks}) "
                    f"GROUP BY shift_id, method, void", tuple(r["id"] for r in rows)):
                totals[(t["shift_id"], t["method"], bool(t["void"]))] = (t["n"], t["total"])
        account = self.settings.kiosk.account
        listed = []
        for r in rows:
            by_method = {m: dict(zip(("count", "total_minor"),
                                     totals.get((r["id"], m, False), (0, 0))))
                         for m in METHODS}
            voids = [totals.get((r["id"], m, True), (0, 0)) for m in METHODS]
            listed.append({
                "shift": r["number"], "shift_id": r["id"], "clerk": r["clerk"],
                "kiosk": is_kiosk_cashier(r["clerk"], account), "currency": r["currency"],
                "opened_at": r["opened_at"], "closed_at": r["closed_at"],
                "float_minor": r["float_minor"], "by_method": by_method,
                "payments": sum(t["count"] for t in by_method.values()),
                "total_minor": sum(t["total_minor"] for t in by_method.values()),
                "voids": sum(n for n, _ in voids),
                "counted_minor": r["counted_minor"], "difference_minor": r["difference_minor"]})
        return listed

    def _local_day_bounds(self, day: str) -> tuple[str, str]:
        """The office's local day as UTC stored times [start, end)."""
        try:
            if not isinstance(day, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ValueError
            local = date.fromisoformat(day)
        except ValueError:
            raise ValidationError(f"day: {str(day)[:40]!r} is not a date (YYYY-MM-DD, e.g. "
                                  f"2026-11-24)", field="day") from None
        tz = self.settings.tz
        start = datetime(local.year, local.month, local.day, tzinfo=tz)
        following = local + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=tz)
        return iso(start), iso(end)

    def _local(self, stored: str) -> str:
        """A stored UTC time as people here read it: YYYY-MM-DD HH:MM in the office's zone."""
        return parse_iso(stored).astimezone(self.settings.tz).strftime("%Y-%m-%d %H:%M")

    # --- card reconciliation -----------------------------------------------------------------
    def reconcile_cards(self, shift: str, report: dict, actor: str) -> dict:
        """Reconcile a closed shift's card payments against the terminal's batch report:
        matched; missing from the terminal (the payment marked unconfirmed); amount differs
        (marked amount_differs); missing from the office (an approval no payment records);
        charged but voided (the terminal took money for a payment the office voided). A
        payment whose reference names another terminal is not this report's to judge: it is
        counted (other_terminals), left unchecked and listed in disputes(). Every
        difference is flagged in the result, the audit (shift.reconciled), the Z report and
        disputes(). A shift is reconciled once: the same report again returns the same
        result and changes nothing; another report is refused (reason already_reconciled),
        except over a report a device relayed at its shift's close: the kiosk or counter
        that recorded the approvals also carried that report, so a stolen device token could
        have invented both. The operator's report (the acquirer's settlement file, or the
        terminal read directly) then supersedes it, once.
        NotFound for an unknown shift, ValidationError for a malformed report."""
        report = check_batch_report(report, self.settings.validation.max_amount_minor)
        with self.store.atomic(actor=actor):
            row = self._shift_row(shift)
            if row["closed_at"] is None:
                raise InvalidState(f"shift {row['number']} is still open: its card payments "
                                   f"are reconciled when it closes", reason="shift_open")
            return self._reconcile(row, report, actor, relayed=False)

    def _reconcile(self, shift: dict, report: dict, actor: str, relayed: bool) -> dict:
        """relayed: the report came from the device that recorded the payments (its shift's
        close), not from the operator: a later operator's report may supersede it."""
        if not self.reconciling:
            raise InvalidState("this store's schema predates card reconciliation; open it "
                               "with this version of Nafitha to upgrade it")
        fingerprint = hashlib.sha256(canonical_json(report).encode()).hexdigest()
        done = self.reconciliation_of(shift["id"])
        if done is not None:
            if done["report_hash"] == fingerprint:
                return done["result"]  # the same report again: the same answer
            if relayed or not done["result"].get("relayed"):
                raise InvalidState(f"shift {shift['number']} was already reconciled (at "
                                   f"{done['reconciled_at']} by {done['reconciled_by']}) "
                                   f"against another report", reason="already_reconciled")
            # The operator's report supersedes the one the device relayed: judged afresh.
            self.store.conn.execute("DELETE FROM card_reconciliations WHERE shift_id = ?",
                                    (shift["id"],))
            self.store.conn.execute("UPDATE payments SET card_check = NULL WHERE shift_id = ? "
                                    "AND method = 'card'", (shift["id"],))
        entries = {e["terminal_ref"]: e for e in report["entries"]}
        paid = self.store.all("SELECT * FROM payments WHERE shift_id = ? AND method = 'card' "
                              "ORDER BY taken_at", (shift["id"],))
        matched, missing, differs, voided, marks = [], [], [], [], {}
        other_terminals = 0
        for p in paid:
            entry = entries.pop(p["reference"], None)
            if p["voided_at"]:
                if entry is not None:
                    voided.append(self._flagged(p, entry))
                continue
            if entry is None and terminal_of(p["reference"]) not in (None,
                                                                     report["terminal_id"]):
                # Another terminal's approval (one swapped mid-day): absent from this report
                # by nature, not missing; it stays unchecked, in disputes().
                other_terminals += 1
                continue
            if entry is None:
                missing.append(self._flagged(p, None))
                marks[p["id"]] = "unconfirmed"
            elif (entry["amount_minor"], entry["currency"]) != (p["amount_minor"],
                                                                 p["currency"]):
                differs.append(self._flagged(p, entry))
                marks[p["id"]] = "amount_differs"
            else:
                matched.append(p["receipt_number"])
                marks[p["id"]] = "matched"
        # What is left: approvals of other shifts (reconciled with their own) or of no one.
        elsewhere = {ref for ref in entries if self.store.one(
            "SELECT 1 FROM payments WHERE method = 'card' AND reference = ?", (ref,))}
        unknown = [e for ref, e in entries.items() if ref not in elsewhere]
        for payment_id, mark in marks.items():
            self.store.update("payments", "id", payment_id, {"card_check": mark})
        now = self.store.now()
        result = {"shift": shift["number"], "shift_id": shift["id"],
                  "terminal_id": report["terminal_id"], "reconciled_at": now,
                  "reconciled_by": actor, "matched": matched, "missing_from_terminal": missing,
                  "amount_differs": differs, "missing_from_office": unknown,
                  "charged_but_voided": voided, "other_shifts": len(elsewhere),
                  "other_terminals": other_terminals, "relayed": relayed,
                  "differences": len(missing) + len(differs) + len(unknown) + len(voided)}
        if done is not None:
            result["supersedes"] = {k: done["result"][k] for k in (
                "reconciled_at", "reconciled_by", "terminal_id", "differences")}
        self.store.insert("card_reconciliations", {
            "shift_id": shift["id"], "terminal_id": report["terminal_id"],
            "report_hash": fingerprint, "result": json.dumps(result), "reconciled_at": now,
            "reconciled_by": actor})
        self.store.record("shift.reconciled", "shift", shift["id"],
                          {"id": shift["id"], "number": shift["number"],
                           "clerk": shift["clerk"], **result})
        return result

    def _flagged(self, payment: dict, entry: dict | None) -> dict:
        """A payment reconciliation flags, with what a supervisor needs to act on it: the
        application, the licence issued on it (if any) and the terminal's amount."""
        app = self.office.applications.row(payment["application_id"])
        licence = self.office.licences.summary_for(payment["application_id"])
        return {"receipt": payment["receipt_number"], "terminal_ref": payment["reference"],
                "application_number": app["number"], "amount_minor": payment["amount_minor"],
                "currency": payment["currency"],
                "terminal_amount_minor": None if entry is None else entry["amount_minor"],
                "terminal_currency": None if entry is None else entry["currency"],
                "licence": licence["number"] if licence else None}

    def reconciliation_of(self, shift_id: str) -> dict | None:
        """The shift's card reconciliation (result decoded), or None when not yet done."""
        if not self.reconciling:
            return None
        row = self.store.one("SELECT * FROM card_reconciliations WHERE shift_id = ?",
                             (shift_id,))
        if row is not None:
            row["result"] = json.loads(row["result"])
        return row

    def disputes(self) -> dict:
        """What a supervisor must look into: card payments reconciliation did not confirm
        (with the licence issued on them, if any; `card_check` other_terminal: a reconciled
        shift's payment naming another terminal, to check against that terminal's report),
        and approvals the office has no payment for or voided, by shift."""
        if not self.reconciling:
            return {"payments": [], "unrecorded_approvals": []}
        rows = self.store.all(
            "SELECT p.*, s.number AS shift_number FROM payments p JOIN shifts s ON s.id = "
            "p.shift_id WHERE p.voided_at IS NULL AND (p.card_check IN ('unconfirmed', "
            "'amount_differs') OR (p.method = 'card' AND p.card_check IS NULL AND EXISTS "
            "(SELECT 1 FROM card_reconciliations r WHERE r.shift_id = p.shift_id))) "
            "ORDER BY p.taken_at")
        flagged = [{**self._flagged(p, None), "card_check": p["card_check"] or "other_terminal",
                    "shift": p["shift_number"], "taken_at": p["taken_at"]} for p in rows]
        unrecorded = []
        for r in self.store.all("SELECT result FROM card_reconciliations ORDER BY "
                                "reconciled_at"):
            result = json.loads(r["result"])
            for kind in ("missing_from_office", "charged_but_voided"):
                unrecorded += [{**e, "kind": kind, "shift": result["shift"]}
                               for e in result[kind]]
        return {"payments": flagged, "unrecorded_approvals": unrecorded}

    def check_confirmed(self, application_id: str) -> None:
        """InvalidState (reason payment_unconfirmed) when the application's card payment was
        not confirmed by the terminal's report: no licence is issued on it until a
        supervisor has looked (void it, or the terminal's report shows it)."""
        live = self.live_for(application_id)
        if live is not None and live.get("card_check") in ("unconfirmed", "amount_differs"):
            raise InvalidState(f"the card payment of receipt {live['receipt_number']} was not "
                               f"confirmed by the terminal's report ({live['card_check']}); a "
                               f"supervisor must look into it", reason="payment_unconfirmed",
                               receipt=live["receipt_number"])

    def _shift_row(self, shift: str) -> dict:
        row = self.store.one("SELECT * FROM shifts WHERE id = ? OR CAST(number AS TEXT) = ?",
                             (shift, str(shift)))
        if row is None:
            raise NotFound(f"no shift {shift!r}")
        return row

    def z_report(self, shift: str) -> dict:
        """Totals of one shift by method, voids listed apart; expected cash in the drawer =
        float + cash taken (change went back out of the tendered amount); `card_check`: what
        the card reconciliation found (None until the shift is reconciled)."""
        row = self._shift_row(shift)
        payments = self.store.all("SELECT * FROM payments WHERE shift_id = ? ORDER BY taken_at",
                                  (row["id"],))
        live = [p for p in payments if not p["voided_at"]]
        by_method = {m: {"count": sum(1 for p in live if p["method"] == m),
                         "total_minor": sum(p["amount_minor"] for p in live
                                            if p["method"] == m)} for m in METHODS}
        voided = [p for p in payments if p["voided_at"]]
        expected = row["float_minor"] + by_method["cash"]["total_minor"]
        return {"shift": row["number"], "shift_id": row["id"], "clerk": row["clerk"],
                "currency": row["currency"], "opened_at": row["opened_at"],
                "closed_at": row["closed_at"], "float_minor": row["float_minor"],
                "by_method": by_method,
                "total_minor": sum(p["amount_minor"] for p in live),
                "payments": len(live),
                "voids": {"count": len(voided),
                          "total_minor": sum(p["amount_minor"] for p in voided)},
                "expected_cash_minor": expected, "counted_minor": row["counted_minor"],
                "difference_minor": row["difference_minor"],
                "receipts": [p["receipt_number"] for p in live],
                "card_check": self._card_check_summary(row["id"])}

    def _card_check_summary(self, shift_id: str) -> dict | None:
        done = self.reconciliation_of(shift_id)
        if done is None:
            return None
        r = done["result"]
        return {"reconciled_at": r["reconciled_at"], "terminal_id": r["terminal_id"],
                "matched": len(r["matched"]), "differences": r["differences"],
                "other_terminals": r["other_terminals"],
                **{kind: [e.get("receipt") or e["terminal_ref"] for e in r[kind]]
                   for kind in ("missing_from_terminal", "amount_differs",
                                "missing_from_office", "charged_but_voided")}}
