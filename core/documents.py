"""What each printed document says, gathered from the store: plain dicts for render()."""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from . import codes, private_files
from .errors import InvalidState, ValidationError
from .printing import SLIP_STATES
from .sealing import PersonalDataGone

KINDS = ("ticket", "receipt", "licence", "application", "z_report")
SLIP_KEY_BYTES = 32


def _office(office) -> dict:
    o = office.settings.office
    return {"office_ar": o.name_ar, "office_en": o.name_en, "timezone": o.timezone}


def ticket(office, ticket_id: str) -> dict:
    t = office.queue.get(ticket_id)
    service = office.catalog.get(t["service_code"])
    estimate = office.queue.estimate(t["id"]) if t["state"] == "waiting" else \
        {"people_ahead": 0, "estimated_wait_minutes": 0}
    return {**_office(office), "number": t["number"], "service_ar": service.name.ar,
            "service_en": service.name.en, "taken_at": t["created_at"],
            "people_ahead": estimate["people_ahead"],
            "estimated_wait_minutes": estimate["estimated_wait_minutes"],
            "priority": t["priority"],
            "qr_text": codes.ticket_code(office.settings.office.code, t["id"]),
            # the phone's link (core/follow.py), when the office has a hub.public_url
            "follow_url": office.follow.url(t["id"])}


def _held(record: dict, what: str) -> dict:
    """The record, when its resident's personal values are still held here."""
    if record.get("personal_data"):
        raise PersonalDataGone(f"{what} {record['number']} cannot be printed: the resident's "
                               f"personal data was {record['personal_data']} at this office",
                               gone=record["personal_data"])
    return record


def receipt(office, payment_id: str) -> dict:
    p = office.payments.get(payment_id)
    app = _held(office.applications.get(p["application_id"]), "the receipt of application")
    service = office.catalog.get(app["service_code"])
    return {**_office(office), "receipt_number": p["receipt_number"],
            "application_number": app["number"], "service_ar": service.name.ar,
            "service_en": service.name.en, "holder_name": app["fields"]["full_name"],
            "national_id": app["fields"]["national_id"],
            "items": [{"label_ar": service.name.ar, "label_en": service.name.en,
                       "amount_minor": p["amount_minor"]}],
            "total_minor": p["amount_minor"], "currency": p["currency"], "method": p["method"],
            "tendered_minor": p["tendered_minor"], "change_minor": p["change_minor"],
            "reference": p["reference"], "taken_at": p["taken_at"], "clerk": p["clerk"],
            "qr_text": codes.application_code(office.settings.office.code, app["number"]),
            "voided": bool(p["voided_at"]),
            # paid for a service that needs a review, not decided yet: say what happens next
            "under_review": app["issue_mode"] == "review" and app["state"] == "paid"}


def next_step(app: dict) -> str:
    """What the resident does or waits for next (layouts.NEXT_STEPS)."""
    if app["state"] == "issued":
        return "issued"
    if app["issue_mode"] == "review" and app["state"] in ("submitted", "paid"):
        return "review"
    if app["paid_at"] is None:
        return "pay" if app["state"] == "submitted" else "approved_pay"
    return "collect"


def application(office, application_id: str) -> dict:
    """The application slip: proof that an application was received, what it costs and
    whether that is paid, what happens next, what to bring, and a code to follow it."""
    app = _held(office.applications.get(application_id), "the slip of application")
    if app["state"] not in SLIP_STATES:
        raise InvalidState(f"application {app['number']} is {app['state']}; only a submitted "
                           f"application has a slip to print", state=app["state"])
    service = office.catalog.get(app["service_code"])
    live = office.payments.live_for(app["id"])
    paid = app["paid_at"] is not None
    return {**_office(office), "application_number": app["number"],
            "service_ar": service.name.ar, "service_en": service.name.en,
            "submitted_at": app["submitted_at"], "holder_name": app["fields"]["full_name"],
            "national_id": app["fields"]["national_id"], "fee_minor": app["fee_minor"],
            "currency": app["currency"], "paid": paid,
            "paid_receipt": live["receipt_number"] if paid and live else None,
            "next_step": next_step(app),
            "documents": [{"ar": d.ar, "en": d.en} for d in service.documents],
            "qr_text": slip_code(office, app["number"]),
            "bill": _open_bill(office, app["id"])}


def slip_key_path(data_dir: Path) -> Path:
    return Path(data_dir) / "keys" / "slip.key"


def slip_secret(data_dir: Path) -> bytes:
    """The office's slip secret (keys/slip.key, 32 random bytes, 0600), made on first use;
    every process on one store gets the same (private_files.create_once)."""
    path = slip_key_path(data_dir)
    private_files.create_once(path, secrets.token_bytes(SLIP_KEY_BYTES))
    secret = path.read_bytes()
    if len(secret) != SLIP_KEY_BYTES:
        raise InvalidState(f"{path} is not a slip key ({len(secret)} bytes, not "
                           f"{SLIP_KEY_BYTES}): restore it from the backup, or delete it (the "
                           f"slips printed before then are collected with the national ID)",
                           path=str(path))
    return secret


def slip_code(office, application_number: str) -> str:
    """The code the application's slip prints: NFA:office:number:token (core/codes)."""
    token = codes.collect_token(slip_secret(office.settings.data_dir), application_number)
    return codes.application_code(office.settings.office.code, application_number, token)


def _open_bill(office, application_id: str) -> dict | None:
    """The bill the slip shows (core/bills.py): only while it can still be paid."""
    bill = office.bills.for_application(application_id)
    if bill is None or bill["state"] != "open":
        return None
    return {k: bill[k] for k in ("number", "amount_minor", "currency", "due_at")}


def licence(office, licence_id: str, copy: bool = False) -> dict:
    lic = _held(office.licences.get(licence_id), "licence")
    if not lic["signed_payload"]:
        raise ValidationError(f"licence {lic['number']} has no signed code to print",
                              field="licence")
    service = office.catalog.get(lic["service_code"])
    return {**_office(office), "title_ar": service.name.ar, "title_en": service.name.en,
            "number": lic["number"], "licence_type": lic["licence_type"],
            "holder_name": lic["holder_name"], "national_id": lic["national_id"],
            "address": json.loads(lic["address"]), "issued_at": lic["issued_at"],
            "valid_until": lic["valid_until"], "conditions": lic["conditions"] or "",
            "qr_text": lic["signed_payload"], "copy": copy,
            "reprint_count": lic["reprint_count"], **paper(office)}


def paper(office) -> dict:
    """Who issued a licence and how its paper shows the holder ([licence] settings): the
    thermal layout and the A4 PDF (devices/printing/certificate_pdf.py) read the same keys."""
    s = office.settings.licence
    emblem = s.emblem_path(office.settings.data_dir)
    return {"authority_ar": s.authority_ar, "authority_en": s.authority_en,
            "emblem": str(emblem) if emblem else None, "national_id_shown": s.national_id,
            "verify_url": s.verify_url}


def z_report(office, shift_id: str) -> dict:
    z = office.payments.z_report(shift_id)
    keys = ("shift", "clerk", "currency", "opened_at", "closed_at", "float_minor", "by_method",
            "total_minor", "payments", "voids", "expected_cash_minor", "counted_minor",
            "difference_minor", "receipts")
    return {**_office(office), **{k: z[k] for k in keys}}


def build(office, kind: str, ref_id: str, copy: bool = False) -> dict:
    if kind == "licence":
        return licence(office, ref_id, copy)
    builders = {"ticket": ticket, "receipt": receipt, "application": application,
                "z_report": z_report}
    if kind not in builders:
        raise ValidationError(f"cannot print a {kind!r}", field="kind")
    return builders[kind](office, ref_id)
