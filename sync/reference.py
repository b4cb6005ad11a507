"""Applying central's signed reference bundle to the office (docs/sync.md).

Called only after sync.protocol.open_bundle verified the root's signature. Trust files
(root keys, the revocation list) are written first, since installing them twice is harmless;
then every store change and the new cursor commit in one transaction. A full resync replaces
reference data only: the outbox, applications and payments are never touched by it."""
from __future__ import annotations

import base64
import json

from core import reference, sync_state
from core.appointments import check_booking
from core.bills import check_payment
from core.catalog import parse_service
from core.credentials.trust import RevocationListNotNewer
from core.errors import CatalogError, NafithaError, NotFound, ValidationError
from core.releases import VERSION_RE
from core.users import ROLES

from .protocol import (TRUST_LIST_KIND, ProtocolError, TrustListError, open_trust_list)


def check_addressed(payload: dict, office, cursor: int) -> None:
    """The bundle is for this device and continues from where it stands (no replayed or
    reordered bundles)."""
    settings = office.settings
    if payload.get("office") != settings.office.code or \
            payload.get("device") != settings.device.id:
        raise ProtocolError(f"the bundle is for {payload.get('office')}/{payload.get('device')}, "
                            f"not {settings.office.code}/{settings.device.id}; nothing applied")
    if not payload.get("full") and payload.get("from") != cursor:
        raise ProtocolError(f"the bundle continues from version {payload.get('from')}, but this "
                            f"office is at {cursor}; nothing applied")
    if not isinstance(payload.get("cursor"), int):
        raise ProtocolError("the bundle has no cursor")


def _check_change(change: dict) -> None:
    """Refuse a whole bundle whose content would not load (before anything is applied)."""
    kind, body = change["kind"], change["body"]
    if not isinstance(body, dict):
        raise ProtocolError(f"reference {kind} {change['key']}: body is not an object")
    try:
        if kind == "service":
            parse_service(body, f"central service {change['key']!r}")
        elif kind == "user":
            assert isinstance(body.get("username"), str) and body.get("role") in \
                ROLES and isinstance(body.get("pin_hash"), str)
        elif kind == "decision":
            assert body.get("state") in ("approved", "rejected")
            assert isinstance(body.get("application_id"), str)
        elif kind == "erasure":
            assert isinstance(body.get("application_id"), str)
        elif kind == "document_request":  # the back office asks for a document
            assert all(isinstance(body.get(k), str) for k in
                       ("id", "application_id", "doc_key", "requested_by", "requested_at"))
            assert isinstance(body.get("note", ""), str)
        elif kind == "revocations":
            base64.b64decode(body["list"], validate=True)
        elif kind == "root":
            assert len(bytes.fromhex(body["public_key"])) == 32
        elif kind == TRUST_LIST_KIND:
            assert all(isinstance(body.get(k), str) for k in ("payload", "kid", "signature"))
        elif kind == "bill_payment":  # a bill paid at a national network (core/bills.py)
            check_payment(body)
        elif kind == "appointment":  # a booking made at central (core/appointments.py)
            check_booking(body, change["key"])
        elif kind == "release":  # the version central wants here (core/releases.py)
            assert isinstance(body.get("version"), str) and \
                VERSION_RE.match(body["version"])
    except (CatalogError, ValidationError, AssertionError, KeyError, ValueError, TypeError) as exc:
        raise ProtocolError(f"reference {kind} {change['key']} cannot be used: "
                            f"{getattr(exc, 'message', exc) or 'wrong shape'}; nothing applied")


def apply_bundle(office, payload: dict) -> dict:
    """Apply a verified, addressed bundle. Returns what changed."""
    changes = payload["changes"]
    for change in changes:
        _check_change(change)
    trust = office.trust()
    summary = {"full": bool(payload.get("full")), "changes": len(changes), "services": 0,
               "users": 0, "decisions": 0, "decisions_skipped": [], "erased": 0,
               "revocation_list": None,
               "roots": 0, "trust_list": None}
    store = office.store
    held = reference.trust_list(store)  # read before a full resync clears the table
    offered = None
    for change in changes:  # files first: idempotent, and verified against our roots
        body = change["body"]
        if change["kind"] == "root":
            public = bytes.fromhex(body["public_key"])
            if trust.root(bytes.fromhex(change["key"])) is None:
                trust.add_root(public)
                summary["roots"] += 1
        elif change["kind"] == "revocations":
            data = base64.b64decode(body["list"])
            try:
                installed = trust.install_revocations(data)
                summary["revocation_list"] = installed.number
            except RevocationListNotNewer:
                pass  # the one we hold is as new or newer: nothing to install
            except NafithaError as exc:
                raise ProtocolError(f"revocation list refused: {exc.message}; "
                                    f"nothing applied")
        elif change["kind"] == TRUST_LIST_KIND:
            offered = change  # the stream's latest wins; each is checked below
            _check_trust_list(trust, body)
    kept_note = None
    if offered is not None and held is not None:
        older = _trust_list_version(offered["body"]) <= _trust_list_version(held["body"])
        if older:  # an older (or the same) list: the office keeps the one it holds
            kept_note = (f"kept version {_trust_list_version(held['body'])}: version "
                         f"{_trust_list_version(offered['body'])} offered is not newer")
            summary["trust_list"] = {"kept": _trust_list_version(held["body"]),
                                     "ignored": _trust_list_version(offered["body"])}
    if offered is not None and kept_note is None:
        summary["trust_list"] = {"installed": _trust_list_version(offered["body"])}
    now = store.now()
    with office.acting_as("central"):
        if payload.get("full"):
            # Central's snapshot replaces what central sent before; local work stays.
            reference.clear(store)
            office.users.disable_central_except(
                {c["body"]["username"] for c in changes if c["kind"] == "user"}, now)
        for change in changes:
            if change["kind"] == TRUST_LIST_KIND and (kept_note is not None
                                                      or change is not offered):
                continue  # only the newest is kept, and never one older than held
            reference.put(store, change, now, _apply_one(office, change, summary, now))
        if kept_note is not None:
            reference.put(store, held, now, kept_note)
        sync_state.put(store, cursor=payload["cursor"], last_pull_at=now)
    if summary["services"]:
        office.reload_catalog()
    return summary


def _check_trust_list(trust, envelope: dict) -> dict:
    """The trust list verifies under this office's roots and its revocation list under
    them too; else the bundle is refused (nothing applied: the office keeps the list it
    holds), as a revocation list that does not verify is."""
    try:
        payload = open_trust_list(envelope, trust.roots)
        if payload["revocation_list"] is not None:
            trust.check_revocations(base64.b64decode(payload["revocation_list"]))
    except TrustListError as exc:
        raise ProtocolError(f"trust list refused ({exc.code}): {exc.message}; nothing "
                            f"applied")
    except NafithaError as exc:
        raise ProtocolError(f"trust list refused: its revocation list: {exc.message}; "
                            f"nothing applied")
    return payload


def _trust_list_version(envelope: dict) -> int:
    """The version of a list already checked (or held, so checked when it came)."""
    return json.loads(base64.b64decode(envelope["payload"]))["version"]


def _apply_one(office, change: dict, summary: dict, now: str) -> str | None:
    kind, body = change["kind"], change["body"]
    if kind == "service":  # kept as sent; office.reload_catalog() lays it over the files
        summary["services"] += 1
        offices = body.get("offices")
        if offices is not None and office.settings.office.code not in offices:
            return "not offered at this office"
    elif kind == "user":
        summary["users"] += 1
        office.users.put_from_central(body, now)
    elif kind == "decision":
        return _apply_decision(office, body, summary)
    elif kind == "erasure":  # the resident's key goes: their values here become unreadable
        erased = office.sealer.forget([body["application_id"]], "erased")
        # Its documents' pages show the resident too: their files go with the key.
        office.attachments.erase(body["application_id"], office.store.now())
        summary["erased"] += erased
        return "erased" if erased else "no key at this device"
    elif kind == "document_request":  # the counter shows it until a page answers it
        return _apply_document_request(office, body, summary)
    elif kind == "bill_payment":
        return _apply_bill_payment(office, body, summary)
    return None


def _apply_bill_payment(office, body: dict, summary: dict) -> str:
    """office.bills.apply_payment, once per transaction; a payment the office cannot take
    (a bill it never made) is noted, as a decision is, and the rest goes on."""
    try:
        with office.store.savepoint("bill_payment"):
            result = office.bills.apply_payment(body)
    except NafithaError as exc:
        return f"not applied: {exc.message}"
    if result["outcome"] != "already_applied":
        summary["bill_payments"] = summary.get("bill_payments", 0) + 1
    return result["outcome"]


def _apply_document_request(office, body: dict, summary: dict) -> str | None:
    """Recorded by office.attachments (idempotent by id); one the office cannot take (an
    application not at this device) is noted, as a decision is, and the rest goes on."""
    request = {k: body.get(k) for k in ("id", "application_id", "doc_key", "note",
                                        "requested_by", "requested_at")}
    request["note"] = request["note"] or ""
    try:
        with office.store.savepoint("document_request"):
            office.attachments.apply_request(request)
    except NafithaError as exc:
        return f"not applied: {exc.message}"
    summary["document_requests"] = summary.get("document_requests", 0) + 1
    return "applied"


def _apply_decision(office, body: dict, summary: dict) -> str | None:
    """A back-office decision becomes the local approve/reject (with its own event), once."""
    try:
        row = office.applications.row(body["application_id"])
    except NotFound:
        row = None
    if row is None:
        note = "not at this device"
    elif row["state"] == body["state"]:
        return "already applied"
    else:
        try:
            # A savepoint: a decision the office cannot take leaves no partial change
            # behind in the bundle's transaction.
            with office.store.savepoint("decision"):
                if body["state"] == "approved":
                    office.applications.approve(body["application_id"], body.get("reason"),
                                                body.get("conditions") or None)
                else:
                    office.applications.reject(body["application_id"], body.get("reason")
                                               or "rejected by the back office")
            summary["decisions"] += 1
            return "applied"
        except NafithaError as exc:
            note = f"not applied: {exc.message}"
    summary["decisions_skipped"].append({"application_id": body["application_id"],
                                         "note": note})
    return note

