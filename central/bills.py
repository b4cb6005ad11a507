"""Central as the biller (docs/bills.md, "Central as the biller"): the offices' bills, the
national payment networks' inquiries and payment notifications, and their daily settlement
files reconciled against what they notified.

- Ingest (central/service.py) records each bill.issued / bill.cancelled / bill.paid event in
  `bills` (one row per bill number), in the batch's transaction (`record`).
- A network signs each call with HMAC-SHA256 under the shared secret in home/biller.key (0600;
  `nafitha central biller-secret [--rotate]`): an inquiry over its path, a payment
  notification over its raw body (`verify`).
- `inquire(number)`: amount, due date, status (open, paid, expired, cancelled) and the
  resident's name masked (first letter of each word, then ***); never the full name or the
  national ID.
- `notify(body)`: idempotent by the network's transaction id — the same notification twice
  (or ten times at once) counts once. An amount that does not match the bill is refused (409)
  and recorded; a known transaction sent again changed is refused (409) and recorded in
  `bill_refusals`; a bill expired, cancelled or already paid by another transaction is
  recorded for refund (202). Otherwise the bill is paid and the reference change
  "bill_payment" is published to its office.
- `import_settlement(text)`: the network's daily CSV; `reconcile(date)`: the differences.

Nothing here logs a resident's name or a payment's details."""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
from datetime import UTC

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

import core.bill_numbers as bill_numbers  # noqa: PLR0402  (tests/test_layering.py reads the module)
from core.clock import iso, parse_iso
from core.errors import ValidationError
from core.private_files import create_once, write_private
from sync.protocol import canonical_json

from .db import applications, bill_notifications, bill_refusals, bills, settlement_lines
from .service import CentralError

ISSUED, CANCELLED, PAID = "bill.issued", "bill.cancelled", "bill.paid"
EVENT_TYPES = (ISSUED, CANCELLED, PAID)
KEY_FILE = "biller.key"
REFERENCE_KIND = "bill_payment"
SETTLEMENT_HEADER = ["date", "transaction_id", "bill_number", "amount_minor", "paid_at",
                     "network"]
MAX_BODY = 4096  # a notification is a few hundred bytes
MAX_SETTLEMENT_LINES = 200_000
TRANSACTION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
NETWORK_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_AMOUNT = 10 ** 12
# outcome -> (HTTP status, what the network is told)
OUTCOMES = {"accepted": 200, "amount_mismatch": 409, "refund_expired": 202,
            "refund_cancelled": 202, "refund_double": 202}
REFUNDS = ("refund_expired", "refund_cancelled", "refund_double")
DIFFERENCES = ("in_file_not_notified", "notified_not_in_file", "amount_differs",
               "duplicate_line", "unknown_bill", "refund_due")
PAYMENT_FIELDS = ("transaction_id", "bill_number", "amount_minor", "paid_at", "network")


def mask_name(name) -> str | None:
    """"Ali Hasan Ahmed" -> "A*** H*** A***": enough for a payer to recognise, never the
    name."""
    if not isinstance(name, str) or not name.split():
        return None
    return " ".join(f"{word[0]}***" for word in name.split())


def sign(secret: bytes, message: bytes) -> str:
    """The X-Biller-Signature of a message: hex HMAC-SHA256."""
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _invalid(code: str, message: str) -> CentralError:
    return CentralError(422, code, message)


def _number(text) -> str:
    try:
        office, device, sequence = bill_numbers.parse(text)
    except ValidationError as exc:
        raise _invalid(exc.details.get("reason", "malformed"), str(exc)) from None
    return bill_numbers.make(office, device, sequence)


def _amount(value, field: str = "amount_minor") -> int:
    """A whole, positive number of minor units (fils): 1.5 or -3 is refused."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_AMOUNT:
        raise _invalid("invalid_amount", f"{field}: a whole number of minor units (fils), "
                                         f"above 0, with no fraction")
    return value


def _utc(text, field: str) -> str:
    try:
        at = parse_iso(text) if isinstance(text, str) and len(text) <= 40 else None
    except (ValueError, TypeError):
        at = None
    if at is None or at.tzinfo is None:
        raise _invalid("invalid_time", f"{field}: an ISO 8601 time with its offset, e.g. "
                                       f"2026-12-06T10:15:00+03:00")
    return iso(at.astimezone(UTC))


class Bills:
    """central.bills: the biller's side of the bills offices make."""

    def __init__(self, central):
        self.central = central
        self.key_path = central.home / KEY_FILE
        self._held = (None, b"")  # (the file's stamp, its secret): read again when it changes

    # --- the shared secret --------------------------------------------------------------------
    def secret(self, rotate: bool = False) -> bytes:
        """The shared secret (hex in home/biller.key, 0600), made on first use (once, however
        many workers ask at the same moment); `rotate` replaces it whole (the networks must be
        given the new one). Read from the file only when it changed: every call checks it."""
        fresh = (secrets.token_hex(32) + "\n").encode()
        if rotate:
            draft = self.key_path.with_name(f".{KEY_FILE}.{secrets.token_hex(8)}")
            write_private(draft, fresh, overwrite=False)
            os.replace(draft, self.key_path)  # never seen half-written by a worker
        else:
            create_once(self.key_path, fresh)
        st = self.key_path.stat()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._held[0]:
            self._held = (stamp, self.key_path.read_text().strip().encode())
        return self._held[1]

    def verify(self, message: bytes, signature: str | None) -> None:
        """Refuses (401) a call whose X-Biller-Signature is not the HMAC of `message`."""
        expected = sign(self.secret(), message)
        given = signature.strip().lower() if isinstance(signature, str) else ""
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise CentralError(401, "bad_signature",
                               "X-Biller-Signature must be the hex HMAC-SHA256 of the request "
                               "(an inquiry: its path; a payment: its raw body) under the "
                               "shared biller secret")

    # --- ingest ---------------------------------------------------------------------------------
    def record(self, conn, device_key: str, office: str, events: list[dict]) -> None:
        """Record accepted bill events (in sequence order) in the ingest's transaction. A bill
        number that is not the sending office's, or is already another device's, is ignored
        (a device makes bills only for its own office), and so is a bill with no payable
        amount or due time: one bad bill never holds up the office's other events."""
        for event in sorted(events, key=lambda e: e["seq"]):
            d = event["data"]
            try:
                number = _number(d.get("number"))
            except CentralError:
                continue
            if number.split("-", 1)[0] != office:
                continue
            held = conn.execute(sa.select(bills.c.device_key).where(
                bills.c.number == number)).first()
            if event["type"] == ISSUED:
                if held is not None:
                    continue  # a bill keeps its amount: a resend changes nothing
                try:  # a bill no network could pay is not offered to them
                    amount, due_at = _amount(d.get("amount_minor")), _utc(d.get("due_at"),
                                                                          "due_at")
                except CentralError:
                    continue
                conn.execute(sa.insert(bills).values(
                    number=number, office=office, device_key=device_key,
                    application_id=d["application_id"],
                    application_number=d.get("application_number") or "",
                    amount_minor=amount, currency=d["currency"], due_at=due_at,
                    issued_at=event["at"]))
            elif held is None or held.device_key != device_key:
                continue
            elif event["type"] == CANCELLED:
                conn.execute(sa.update(bills).where(
                    bills.c.number == number, bills.c.cancelled_at.is_(None)).values(
                    cancelled_at=event["at"], cancel_reason=str(d.get("reason") or "")[:200]))
            elif event["type"] == PAID:
                conn.execute(sa.update(bills).where(bills.c.number == number).values(
                    office_paid_at=event["at"]))

    # --- inquiry ----------------------------------------------------------------------------------
    def _status(self, row) -> str:
        if row.paid_at is not None:
            return "paid"
        if row.cancelled_at is not None:
            return "cancelled"
        return "expired" if row.due_at <= self.central.now() else "open"

    def _name(self, conn, application_id: str) -> str | None:
        from .backoffice import _applicant, _fields
        row = conn.execute(sa.select(applications.c.id, applications.c.body).where(
            applications.c.id == application_id)).mappings().first()
        if row is None:
            return None
        name = _applicant(_fields(self.central, conn, [dict(row)]).get(application_id))
        return None if name == "erased" else mask_name(name)

    def inquire(self, number) -> dict:
        number = _number(number)
        with self.central.engine.connect() as conn:
            row = conn.execute(sa.select(bills).where(bills.c.number == number)).first()
            if row is None:
                raise CentralError(404, "unknown_bill", "no bill has this number")
            return {"number": row.number, "amount_minor": row.amount_minor,
                    "currency": row.currency, "due_at": row.due_at,
                    "status": self._status(row), "name": self._name(conn, row.application_id)}

    # --- payment notification -------------------------------------------------------------------
    @staticmethod
    def parse_payment(body: bytes) -> dict:
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise CentralError(400, "bad_request", "the body must be JSON") from None
        if not isinstance(value, dict) or set(value) != set(PAYMENT_FIELDS):
            raise _invalid("invalid_request", f"a payment has exactly: "
                                              f"{', '.join(PAYMENT_FIELDS)}")
        if not isinstance(value["transaction_id"], str) or \
                not TRANSACTION_RE.match(value["transaction_id"]):
            raise _invalid("invalid_transaction", "transaction_id: 1-64 letters, digits or "
                                                  "._:-")
        if not isinstance(value["network"], str) or not NETWORK_RE.match(value["network"]):
            raise _invalid("invalid_network", "network: 1-32 letters, digits or ._-")
        return {"transaction_id": value["transaction_id"],
                "bill_number": _number(value["bill_number"]),
                "amount_minor": _amount(value["amount_minor"]),
                "paid_at": _utc(value["paid_at"], "paid_at"), "network": value["network"]}

    def notify(self, body: bytes, signature: str | None) -> tuple[int, dict]:
        """(HTTP status, answer) for a payment notification's raw body: 200 accepted, 202
        recorded for refund, 409 refused and recorded (then the answer is a Problem). The
        signature is checked first, over the body's exact bytes."""
        self.verify(body, signature)
        payment = self.parse_payment(body)
        digest = hashlib.sha256(canonical_json(payment).encode()).hexdigest()
        central = self.central
        for _attempt in range(3):
            try:
                with central.engine.begin() as conn:
                    return self._notify(conn, payment, digest)
            except IntegrityError:
                continue  # the same transaction, at the same moment: its row now answers
        raise CentralError(503, "busy", "try again")

    @staticmethod
    def _answer(row) -> tuple[int, dict]:
        if row.outcome == "amount_mismatch":
            return 409, {"error": "amount_mismatch",
                         "message": "the amount is not the bill's: refused, and recorded"}
        return OUTCOMES[row.outcome], {"transaction_id": row.transaction_id,
                                       "bill_number": row.bill_number, "outcome": row.outcome}

    def _notify(self, conn, payment: dict, digest: str) -> tuple[int, dict]:
        txn = payment["transaction_id"]
        known = conn.execute(sa.select(bill_notifications).where(
            bill_notifications.c.transaction_id == txn)).first()
        if known is None:
            lock = sa.select(bills).where(bills.c.number == payment["bill_number"])
            if conn.dialect.name == "postgresql":
                lock = lock.with_for_update()
            bill = conn.execute(lock).first()
            if bill is None:
                raise CentralError(404, "unknown_bill", "no bill has this number")
            known = conn.execute(sa.select(bill_notifications).where(
                bill_notifications.c.transaction_id == txn)).first()
        if known is not None:
            if known.body_hash != digest:
                conn.execute(sa.insert(bill_refusals).values(
                    at=self.central.now(), transaction_id=txn,
                    bill_number=payment["bill_number"], amount_minor=payment["amount_minor"],
                    reason="transaction_replayed"))
                return 409, {"error": "transaction_replayed",
                             "message": "this transaction id was notified before with other "
                                        "values: refused, and recorded"}
            return self._answer(known)
        status = self._status(bill)
        if payment["amount_minor"] != bill.amount_minor:
            outcome = "amount_mismatch"
        elif status == "paid":
            outcome = "refund_double"
        elif status in ("expired", "cancelled"):
            outcome = f"refund_{status}"
        else:
            outcome = "accepted"
        now = self.central.now()
        conn.execute(sa.insert(bill_notifications).values(
            **payment, paid_date=payment["paid_at"][:10], received_at=now, body_hash=digest,
            outcome=outcome))
        if outcome == "accepted":
            conn.execute(sa.update(bills).where(bills.c.number == bill.number).values(
                paid_at=payment["paid_at"], paid_transaction=txn))
            self.central._add_change(conn, REFERENCE_KIND, bill.number, bill.office, {
                "number": bill.number, "application_id": bill.application_id,
                "transaction_id": txn, "network": payment["network"],
                "amount_minor": payment["amount_minor"], "currency": bill.currency,
                "paid_at": payment["paid_at"]})
        return self._answer(conn.execute(sa.select(bill_notifications).where(
            bill_notifications.c.transaction_id == txn)).first())

    # --- settlement files -------------------------------------------------------------------------
    def import_settlement(self, text: str) -> dict:
        """Import a network's daily settlement file (CSV, the header exactly
        SETTLEMENT_HEADER, every line of one date). A wrong header, a line that does not
        read, lines of several dates, or a date already imported refuse the whole file
        (nothing kept); a duplicated line or a line for an unknown bill is kept, marked."""
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        if not rows or [c.strip() for c in rows[0]] != SETTLEMENT_HEADER:
            raise _invalid("bad_header", f"the first line must be exactly: "
                                         f"{','.join(SETTLEMENT_HEADER)}")
        lines = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
        if not lines:
            raise _invalid("empty_file", "the settlement file has no lines")
        if len(lines) > MAX_SETTLEMENT_LINES:
            raise _invalid("too_many_lines", f"at most {MAX_SETTLEMENT_LINES} lines a file")
        parsed = []
        for n, r in lines:
            try:
                if len(r) != len(SETTLEMENT_HEADER):
                    raise _invalid("bad_line", "wrong number of columns")
                date, txn, number, amount, paid_at, network = (c.strip() for c in r)
                if not DATE_RE.match(date):
                    raise _invalid("bad_line", "date: YYYY-MM-DD")
                if not TRANSACTION_RE.match(txn) or not NETWORK_RE.match(network):
                    raise _invalid("bad_line", "transaction_id or network not valid")
                if not re.fullmatch(r"\d{1,13}", amount):
                    raise _invalid("invalid_amount", "amount_minor: a whole number of fils")
                parsed.append({"date": date, "line": n, "transaction_id": txn,
                               "bill_number": _number(number),
                               "amount_minor": _amount(int(amount)),
                               "paid_at": _utc(paid_at, "paid_at"), "network": network})
            except CentralError as exc:
                raise CentralError(422, exc.code, f"line {n}: {exc}", line=n) from None
        dates = {p["date"] for p in parsed}
        if len(dates) != 1:
            raise _invalid("mixed_dates", "a settlement file is for one date; this one has "
                                          f"{len(dates)}")
        date = dates.pop()
        now = self.central.now()
        with self.central.engine.begin() as conn:
            if conn.execute(sa.select(settlement_lines.c.line).where(
                    settlement_lines.c.date == date).limit(1)).first() is not None:
                raise CentralError(409, "already_imported",
                                   f"the settlement file for {date} was already imported")
            known = set(conn.execute(sa.select(bills.c.number).where(bills.c.number.in_(
                {p["bill_number"] for p in parsed}))).scalars())
            seen = set()
            for p in parsed:
                if p["transaction_id"] in seen:
                    p["problem"] = "duplicate_line"
                elif p["bill_number"] not in known:
                    p["problem"] = "unknown_bill"
                else:
                    p["problem"] = None
                seen.add(p["transaction_id"])
                p["imported_at"] = now
            conn.execute(sa.insert(settlement_lines), parsed)
        problems = [p["problem"] for p in parsed if p["problem"]]
        return {"date": date, "lines": len(parsed),
                "duplicate_lines": problems.count("duplicate_line"),
                "unknown_bills": problems.count("unknown_bill")}

    def reconcile(self, date: str) -> dict:
        """The differences between the settlement file of `date` and the notifications of
        payments made that day (UTC): each {kind, transaction_id, bill_number, ...}."""
        if not isinstance(date, str) or not DATE_RE.match(date):
            raise _invalid("invalid_date", "a date is YYYY-MM-DD")
        with self.central.engine.connect() as conn:
            lines = conn.execute(sa.select(settlement_lines).where(
                settlement_lines.c.date == date).order_by(settlement_lines.c.line)).all()
            notified = {r.transaction_id: r for r in conn.execute(
                sa.select(bill_notifications).where(bill_notifications.c.paid_date == date))}
            txns = {ln.transaction_id for ln in lines} - set(notified)
            if txns:  # a line for a payment notified under another day
                notified.update({r.transaction_id: r for r in conn.execute(
                    sa.select(bill_notifications).where(
                        bill_notifications.c.transaction_id.in_(txns)))})
        differences = []

        def add(kind, txn, number, **more):
            differences.append({"kind": kind, "transaction_id": txn, "bill_number": number,
                                **more})
        in_file = set()
        for ln in lines:
            if ln.problem:
                add(ln.problem, ln.transaction_id, ln.bill_number, line=ln.line,
                    file_amount_minor=ln.amount_minor)
                continue
            in_file.add(ln.transaction_id)
            n = notified.get(ln.transaction_id)
            if n is None or n.outcome == "amount_mismatch":
                add("in_file_not_notified", ln.transaction_id, ln.bill_number, line=ln.line,
                    file_amount_minor=ln.amount_minor)
            elif n.amount_minor != ln.amount_minor or n.bill_number != ln.bill_number:
                add("amount_differs", ln.transaction_id, ln.bill_number, line=ln.line,
                    file_amount_minor=ln.amount_minor, notified_amount_minor=n.amount_minor)
        for txn, n in sorted(notified.items()):
            if n.paid_date != date or n.outcome == "amount_mismatch":
                continue
            if txn not in in_file:
                add("notified_not_in_file", txn, n.bill_number,
                    notified_amount_minor=n.amount_minor)
            if n.outcome in REFUNDS:
                add("refund_due", txn, n.bill_number, reason=n.outcome[len("refund_"):],
                    notified_amount_minor=n.amount_minor)
        return {"date": date, "file_imported": bool(lines), "lines": len(lines),
                "notifications": sum(1 for n in notified.values() if n.paid_date == date),
                "differences": differences}
