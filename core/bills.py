"""Bills: what a resident pays later through the national bill-payment networks (docs/bills.md).

An application with a fee due and unpaid gets a bill (core/bill_numbers.py: office, device,
sequence, check digits), made here with no server: at submission, or at approval when it had
none. Its amount is fixed when it is made (a later fee change does not alter it); it is due
`bills.valid_days` after. States: open, paid, cancelled (the application withdrawn or
rejected) and expired, which is derived at read time from due_at.

A payment the network made reaches the office from central as reference kind "bill_payment"
(sync/reference.py -> apply_payment): recorded once per network transaction id, as a payment
of method "network" with no shift (the clerk's Z report counts only what the clerk took). An
application already paid at the counter keeps that payment; the network's is recorded and
flagged for refund (double_payment), never counted twice."""
from __future__ import annotations

from datetime import datetime, timedelta

from . import bill_numbers, money
from .clock import iso
from .errors import NotFound, ValidationError

BILLS_SCHEMA = 18  # core.migrations.m018_bills
STATES = ("open", "paid", "expired", "cancelled")
PAYMENT_KEYS = ("number", "application_id", "transaction_id", "network", "amount_minor",
                "currency", "paid_at")


def check_payment(body: object) -> dict:
    """A bill_payment body as central sends it, or ValidationError (field bill_payment)
    saying what is wrong."""
    def bad(why: str):
        return ValidationError(f"the bill payment is malformed: {why}", field="bill_payment",
                               reason="malformed")

    if not isinstance(body, dict) or set(body) != set(PAYMENT_KEYS):
        raise bad(f"it is an object with exactly {', '.join(PAYMENT_KEYS)}")
    for key in ("number", "application_id", "transaction_id", "network", "currency",
                "paid_at"):
        if not isinstance(body[key], str) or not 0 < len(body[key]) <= 64:
            raise bad(f"{key} is text of 1 to 64 characters")
    bill_numbers.parse(body["number"])
    amount = body["amount_minor"]
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise bad("amount_minor is a whole number of minor units above zero")
    if body["currency"] not in money.CURRENCY_EXPONENT:
        raise bad("currency is not known")
    try:
        datetime.fromisoformat(body["paid_at"])
    except ValueError:
        raise bad("paid_at is an ISO 8601 time") from None
    return dict(body)


class Bills:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self.settings = office.settings
        # A store older than m018 (the migration tests run today's code on old schemas)
        # makes no bills.
        self.enabled = self.store.has_schema(BILLS_SCHEMA)

    # --- made and cancelled with the application (inside its transaction) ---------------
    def issue_for(self, app: dict) -> dict | None:
        """Make the bill of an application with a fee due and unpaid, unless it has one
        that can still be paid; one that expired (a permit approved long after it was
        submitted) is cancelled (reason expired) and a new one made. Records bill.issued.
        The bill (view), or None when none is due."""
        if not self.enabled or app["fee_minor"] <= 0 or app.get("paid_at") or \
                app["state"] not in ("submitted", "approved"):
            return None
        now = self.store.clock.now()
        held = self._open_row(app["id"])
        if held is not None:
            if held["paid_at"] or iso(now) <= held["due_at"]:
                return None
            self.cancel_for(app, "expired")
        now = self.store.clock.now()
        office, device = self.settings.office.code, self.settings.device.id
        row = {"number": bill_numbers.make(office, device, self.store.next_sequence("bill")),
               "application_id": app["id"], "amount_minor": app["fee_minor"],
               "currency": app["currency"], "created_at": iso(now),
               "due_at": iso(now + timedelta(days=self.settings.bills.valid_days)),
               "cancelled_at": None, "cancel_reason": None, "paid_at": None,
               "transaction_id": None, "network": None}
        self.store.insert("bills", row)
        self.store.record("bill.issued", "bill", row["number"], {
            "number": row["number"], "application_id": app["id"],
            "application_number": app["number"], "amount_minor": row["amount_minor"],
            "currency": row["currency"], "due_at": row["due_at"], "office": office})
        return self.view(row, app)

    def cancel_for(self, app: dict, reason: str) -> dict | None:
        """Cancel the application's open bill (it was withdrawn or rejected); records
        bill.cancelled. The bill, or None when it had none open."""
        if not self.enabled:
            return None
        row = self._open_row(app["id"])
        if row is None or row["paid_at"]:
            return None
        now = self.store.now()
        self.store.update("bills", "number", row["number"],
                          {"cancelled_at": now, "cancel_reason": reason})
        row.update(cancelled_at=now, cancel_reason=reason)
        self.store.record("bill.cancelled", "bill", row["number"], {
            "number": row["number"], "application_id": app["id"], "reason": reason})
        return self.view(row, app)

    # --- read ----------------------------------------------------------------------------
    def _open_row(self, application_id: str) -> dict | None:
        return self.store.one("SELECT * FROM bills WHERE application_id = ? AND "
                              "cancelled_at IS NULL", (application_id,))

    def for_application(self, application_id: str) -> dict | None:
        """The application's bill as shown (its newest), or None."""
        if not self.enabled:
            return None
        row = self.store.one("SELECT * FROM bills WHERE application_id = ? "
                             "ORDER BY created_at DESC, number DESC LIMIT 1", (application_id,))
        if row is None:
            return None
        return self.view(row, self.office.applications.row(application_id))

    def get(self, number: str) -> dict:
        """A bill by its number: ValidationError for a malformed one or a bad check digit,
        NotFound for one this office never made."""
        bill_numbers.parse(number)
        row = self.store.one("SELECT * FROM bills WHERE number = ?",
                             (number.strip().upper(),)) if self.enabled else None
        if row is None:
            raise NotFound("no such bill at this office", reason="unknown_bill")
        return self.view(row, self.office.applications.row(row["application_id"]))

    def view(self, row: dict, app: dict) -> dict:
        """number, application_number, amount_minor, currency, created_at, due_at, state,
        paid_at, network: paid when the network paid it or the application was paid;
        expired once past due_at unpaid."""
        if row["cancelled_at"]:
            state = "cancelled"
        elif row["paid_at"] or app.get("paid_at"):
            state = "paid"
        elif iso(self.store.clock.now()) > row["due_at"]:
            state = "expired"
        else:
            state = "open"
        return {"number": row["number"], "application_id": row["application_id"],
                "application_number": app["number"], "amount_minor": row["amount_minor"],
                "currency": row["currency"], "created_at": row["created_at"],
                "due_at": row["due_at"], "state": state,
                "paid_at": row["paid_at"] or app.get("paid_at"), "network": row["network"]}

    # --- a payment from the network, as central relays it ---------------------------------
    def apply_payment(self, body: dict) -> dict:
        """Record the network's payment of a bill (reference kind bill_payment), once per
        transaction_id: {"outcome": "applied" | "already_applied" | "double_payment" |
        "not_payable" | "amount_differs", "bill": number, "receipt": ...}. Applied: a payment of method
        network (no shift) and the application paid; already paid at the counter: recorded
        and flagged for refund (double_payment), the application left as it is.
        ValidationError for a malformed body; NotFound (reason unknown_bill) for a bill
        this office never made, or one of another application; nothing changes then."""
        body = check_payment(body)
        with self.store.atomic(actor="central"):
            if not self.enabled:
                raise NotFound("this store's schema predates bills", reason="unknown_bill")
            row = self.store.one("SELECT * FROM bills WHERE number = ?",
                                 (body["number"].strip().upper(),))
            if row is None or row["application_id"] != body["application_id"]:
                raise NotFound("no such bill at this office", reason="unknown_bill")
            done = self.office.payments.network_payment(body["transaction_id"])
            if done is not None:
                return {"outcome": "already_applied", "bill": row["number"],
                        "receipt": done["receipt_number"], "refund": done["refund"]}
            app = self.office.applications.row(row["application_id"])
            if self.office.payments.live_for(app["id"]) is not None:
                refund = "double_payment"
            elif app["state"] not in ("submitted", "approved") or row["cancelled_at"]:
                refund = "not_payable"
            elif (body["amount_minor"], body["currency"]) != (row["amount_minor"],
                                                              row["currency"]):
                refund = "amount_differs"
            else:
                refund = None
            payment = self.office.payments.record_network(app, body, refund)
            state = app["state"]
            if refund is None:
                state, _auto = self.office.applications.mark_paid(app, payment["taken_at"])
                self.store.update("bills", "number", row["number"], {
                    "paid_at": body["paid_at"], "transaction_id": body["transaction_id"],
                    "network": body["network"]})
            self.store.record("bill.paid", "bill", row["number"], {
                "number": row["number"], "application_id": app["id"],
                "network": body["network"], "transaction_id": body["transaction_id"],
                "amount_minor": body["amount_minor"], "paid_at": body["paid_at"],
                "receipt_number": payment["receipt_number"], "application_state": state,
                "refund": refund,
                # What the revenue figures read (core/kpis.py).
                "payment_id": payment["id"], "taken_at": payment["taken_at"],
                "service_code": app["service_code"], "currency": body["currency"]})
            return {"outcome": refund or "applied", "bill": row["number"],
                    "receipt": payment["receipt_number"], "refund": refund}
