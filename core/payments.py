"""Payments, shifts and the Z report. Amounts are integer minor units only.

A payment belongs to the open shift of the clerk who takes it (the kiosk has its own
account and shift). Cash needs the tendered amount and gives change; card needs the
terminal's reference; online needs the gateway's reference. A void needs a supervisor's PIN
and a reason, and is refused once a licence was issued on the payment (revoke it first)."""
from __future__ import annotations

from . import money
from .errors import InvalidState, NotFound, ValidationError
from .text import clean_text

METHODS = ("cash", "card", "online")


class Payments:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.settings = office.settings

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
             tendered_minor: int | None = None, reference: str | None = None) -> dict:
        if method not in METHODS:
            raise ValidationError(f"method must be one of {', '.join(METHODS)}", field="method")
        max_minor = self.settings.validation.max_amount_minor
        if method == "cash":
            if tendered_minor is None:
                raise ValidationError("cash needs the tendered amount", field="tendered")
            money.check_minor(tendered_minor, "BHD", "tendered", max_minor)
            if reference:
                raise ValidationError("cash takes no reference", field="reference")
        else:
            if tendered_minor is not None:
                raise ValidationError(f"{method} takes no tendered amount", field="tendered")
            label = "terminal reference" if method == "card" else "gateway reference"
            reference = clean_text(reference or "", "reference", max_length=64, min_length=1) \
                if reference else None
            if not reference:
                raise ValidationError(f"{method} needs the {label}", field="reference")
        with self.store.atomic(actor=clerk):
            app = self.office.applications.row(application)
            live = self.store.one("SELECT receipt_number FROM payments WHERE application_id = ? "
                                  "AND voided_at IS NULL", (app["id"],))
            if live:
                raise InvalidState(f"application {app['number']} is already paid (receipt "
                                   f"{live['receipt_number']})", receipt=live["receipt_number"],
                                   reason="already_paid")
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
                               "application_state": new_state, "auto_approved": auto})
            return {**row, "application_number": app["number"], "application_state": new_state}

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
        return self.store.one("SELECT * FROM payments WHERE application_id = ? AND "
                              "voided_at IS NULL", (application_id,))

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
        """The clerk's open shift, opened with no float if there is none (the kiosk's card
        payments go to its own account's shift)."""
        with self.store.atomic(actor=clerk):
            return self.open_shift_of(clerk) or self.open_shift(clerk, 0, currency)

    def close_shift(self, clerk: str, counted_minor: int) -> dict:
        if isinstance(counted_minor, bool) or not isinstance(counted_minor, int) \
                or counted_minor < 0:
            raise ValidationError("counted: a whole number of minor units, zero or more",
                                  field="counted")
        with self.store.atomic(actor=clerk):
            shift = self._open_shift(clerk)
            report = self.z_report(shift["id"])
            expected = report["expected_cash_minor"]
            changes = {"closed_at": self.store.now(), "counted_minor": counted_minor,
                       "expected_minor": expected, "difference_minor": counted_minor - expected}
            self.store.update("shifts", "id", shift["id"], changes)
            shift.update(changes)
            self.store.record("shift.closed", "shift", shift["id"], shift)
            return self.z_report(shift["id"])

    def z_report(self, shift: str) -> dict:
        """Totals of one shift by method, voids listed apart; expected cash in the drawer =
        float + cash taken (change went back out of the tendered amount)."""
        row = self.store.one("SELECT * FROM shifts WHERE id = ? OR CAST(number AS TEXT) = ?",
                             (shift, str(shift)))
        if row is None:
            raise NotFound(f"no shift {shift!r}")
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
                "receipts": [p["receipt_number"] for p in live]}
