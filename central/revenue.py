"""Central's revenue report by channel (docs/bills.md, "Finance: reconciliation and
revenue"): per day (UTC) and office, the money taken at the counter (cash, card, online), by
the kiosk's card terminal and through the national payment networks, with totals; and,
apart, what is due for refund.

Each payment is counted once:
- office payments come from central's `payments` (the offices' payment events); a voided
  one is left out, and so is one of method network (network money comes from the networks'
  notifications only);
- network money is a notification central accepted (`bill_notifications`, outcome
  accepted). One for an application that also has a live office payment (paid twice: at the
  counter and through a network), or that its office flagged for refund (its bill.paid event
  names a `refund`), is a refund due, not revenue; so is every notification held for refund
  (refund_expired, refund_cancelled, refund_double).

A card payment is the kiosk's when its clerk is no person's account at that office (the
kiosk's payments are its cashier's, core/faces/kiosk.py: the kiosk account, or
"account:device" at a service centre), the counter's otherwise.

Read only: nothing here writes."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from core.clock import parse_iso

from . import db
from .db import bill_notifications, bills, events, payments
from .service import CODE_RE, CentralError

CHANNELS = ("counter_cash", "counter_card", "counter_online", "kiosk_card", "network",
            "other")
SHOWN_ALWAYS = ("counter_cash", "counter_card", "kiosk_card", "network")
MAX_DAYS = 366
NETWORK = "network"  # an office payment of this method is the network's: not counted again


def _day(text, field: str) -> date:
    try:
        if not isinstance(text, str) or len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise CentralError(422, "invalid_date", f"{field}: a date as YYYY-MM-DD (UTC), e.g. "
                                                f"2026-12-06") from None


def check_range(date_from, date_to=None) -> tuple[date, date]:
    """The first and last day (both included), or CentralError 422: a date that is not
    YYYY-MM-DD, `from` after `to`, or more than MAX_DAYS days."""
    first = _day(date_from, "from")
    last = first if date_to in (None, "") else _day(date_to, "to")
    if first > last:
        raise CentralError(422, "invalid_range", f"from ({first}) is after to ({last})")
    if (last - first).days + 1 > MAX_DAYS:
        raise CentralError(422, "range_too_long", f"at most {MAX_DAYS} days a report; "
                                                  f"this range has {(last - first).days + 1}")
    return first, last


def _json_text(conn, column, *path: str):
    """The text at `path` of a JSON document kept as text, in SQL (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        return sa.cast(column, JSONB)[path if len(path) > 1 else path[0]].astext
    return sa.func.json_extract(column, "$." + ".".join(path))


def _utc_day(text) -> str | None:
    try:
        return parse_iso(text).date().isoformat() if isinstance(text, str) else None
    except (ValueError, TypeError, OverflowError):
        return None


def _scope(conn, office, municipality) -> list[str] | None:
    """The codes of the offices the report covers, or None for every office."""
    if municipality is not None and (
            not isinstance(municipality, str) or not CODE_RE.match(municipality)
            or conn.execute(sa.select(db.municipalities.c.code).where(
                db.municipalities.c.code == municipality)).first() is None):
        raise CentralError(404, "unknown_municipality", f"no municipality {municipality!r}")
    if office is None:
        if municipality is None:
            return None
        return list(conn.execute(sa.select(db.offices.c.code).where(
            db.offices.c.municipality == municipality)).scalars())
    if not isinstance(office, str) or not CODE_RE.match(office):
        raise CentralError(422, "invalid_office", "office: 1-8 capital letters or digits")
    query = sa.select(db.offices.c.code).where(db.offices.c.code == office)
    if municipality is not None:
        query = query.where(db.offices.c.municipality == municipality)
    if conn.execute(query).first() is None:
        raise CentralError(404, "unknown_office", f"no office {office}")
    return [office]


def _within(column, scope):
    return sa.true() if scope is None else column.in_(scope)


def _people(conn, clerks: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (office, username) pairs that are people's accounts: made at the office (its
    user.created event) or by central (reference kind user)."""
    if not clerks:
        return set()
    names = sorted({name for _, name in clerks})
    found = {(key.split("/", 1)[0], name) for key, name in conn.execute(
        sa.select(events.c.device_key, events.c.entity_id).where(
            events.c.entity_id.in_(names), events.c.type == "user.created"))}
    found |= {tuple(key.split("/", 1)) for key in conn.execute(
        sa.select(db.reference.c.key).where(db.reference.c.kind == "user", db.reference.c.key.in_(
            sorted(f"{o}/{n}" for o, n in clerks)))).scalars()}
    return found & clerks


def revenue(central, date_from, date_to=None, office=None, municipality=None) -> dict:
    """The money taken from `date_from` to `date_to` (YYYY-MM-DD, UTC days, both included)
    by day, office and channel, with totals, and the refunds due in those days:
    {"from", "to", "timezone": "UTC", "office", "municipality", "channels", "days": [{date,
    office, currency, <channel>: minor units, total}], "totals": [{currency, <channel>,
    total}], "refunds_due": [{date, office, bill_number, transaction_id, amount_minor,
    currency, source, reason}], "refund_totals": [{currency, amount_minor, count}]}."""
    first, last = check_range(date_from, date_to)
    after = (first - timedelta(days=1)).isoformat()  # a time with an offset may be a day off
    before = (last + timedelta(days=2)).isoformat()
    rows: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    refunds = []
    with central.engine.connect() as conn:
        scope = _scope(conn, office, municipality)
        taken_at = _json_text(conn, payments.c.body, "taken_at")
        paid = conn.execute(sa.select(
            payments.c.office, payments.c.method, payments.c.amount_minor,
            payments.c.currency, taken_at.label("taken_at"),
            _json_text(conn, payments.c.body, "clerk").label("clerk")).where(
            payments.c.voided_at.is_(None), payments.c.method != NETWORK,
            taken_at >= after, taken_at < before,
            _within(payments.c.office, scope))).all()
        people = _people(conn, {(p.office, p.clerk) for p in paid
                                if p.method == "card" and isinstance(p.clerk, str)})
        for p in paid:
            day = _utc_day(p.taken_at)
            if day is None or not first.isoformat() <= day <= last.isoformat():
                continue
            if p.method == "card" and (p.office, p.clerk) not in people:
                channel = "kiosk_card"
            else:
                channel = f"counter_{p.method}"
            rows[(day, p.office, p.currency)][channel if channel in CHANNELS else "other"] \
                += p.amount_minor
        # A network payment its office flagged for refund (its bill.paid event says why),
        # and one for an application that also has a live office payment (paid twice).
        flagged = sa.select(_json_text(conn, events.c.body, "data", "refund")).where(
            events.c.entity_id == bill_notifications.c.bill_number,
            events.c.type == "bill.paid", events.c.refused.is_(None),
            _json_text(conn, events.c.body, "data", "transaction_id")
            == bill_notifications.c.transaction_id).limit(1).scalar_subquery()
        paid_too = sa.exists().where(
            payments.c.application_id == bills.c.application_id,
            payments.c.voided_at.is_(None), payments.c.method != NETWORK)
        notified = conn.execute(sa.select(
            bill_notifications, bills.c.office, bills.c.currency,
            flagged.label("office_refund"), paid_too.label("paid_too")).join(
            bills, bills.c.number == bill_notifications.c.bill_number).where(
            bill_notifications.c.paid_date >= first.isoformat(),
            bill_notifications.c.paid_date <= last.isoformat(),
            bill_notifications.c.outcome != "amount_mismatch",
            _within(bills.c.office, scope)).order_by(
            bill_notifications.c.paid_at, bill_notifications.c.transaction_id)).all()
    for n in notified:
        if n.outcome != "accepted":
            reason, source = n.outcome[len("refund_"):], "network"
        elif n.office_refund:
            reason, source = str(n.office_refund), "office"
        elif n.paid_too:
            reason, source = "double_payment", "central"
        else:
            rows[(n.paid_date, n.office, n.currency)]["network"] += n.amount_minor
            continue
        refunds.append({"date": n.paid_date, "office": n.office, "bill_number": n.bill_number,
                        "transaction_id": n.transaction_id, "network": n.network,
                        "amount_minor": n.amount_minor, "currency": n.currency,
                        "source": source, "reason": reason})
    days, totals = [], defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    for (day, code, currency), amounts in sorted(rows.items()):
        days.append({"date": day, "office": code, "currency": currency, **amounts,
                     "total": sum(amounts.values())})
        for channel, amount in amounts.items():
            totals[currency][channel] += amount
    refund_totals = defaultdict(lambda: {"amount_minor": 0, "count": 0})
    for r in refunds:
        refund_totals[r["currency"]]["amount_minor"] += r["amount_minor"]
        refund_totals[r["currency"]]["count"] += 1
    return {"from": first.isoformat(), "to": last.isoformat(), "timezone": "UTC",
            "office": office, "municipality": municipality,
            "channels": [c for c in CHANNELS if c in SHOWN_ALWAYS
                         or any(d[c] for d in days)],
            "days": days,
            "totals": [{"currency": c, **amounts, "total": sum(amounts.values())}
                       for c, amounts in sorted(totals.items())],
            "refunds_due": refunds,
            "refund_totals": [{"currency": c, **v} for c, v in sorted(refund_totals.items())]}
