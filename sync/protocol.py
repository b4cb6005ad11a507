"""What crosses the wire between a device and central (docs/sync.md, docs/events.md).

Pure functions shared by the agent and central: the event envelope and the data each type
must carry, the audit-chain check, the batch encoding (gzip JSON) with its limits, and the
signed reference bundle. Nothing here touches a network or a database."""
from __future__ import annotations

import base64
import gzip
import json
import zlib
from datetime import datetime

from core.credentials import keys as credential_keys
from core.audit import audit_hash
from core.canonical import canonical_json
from core.sealing import decode_key

API = "/v1"
ENVELOPE = ("id", "seq", "device", "office", "type", "at", "actor", "entity_type", "entity_id",
            "audit_seq", "audit_prev_hash", "audit_hash", "data")
GENESIS = "0" * 64

# Limits: a batch is a few hundred events; the largest event (a licence with its QR text and
# Arabic fields) is about 3 KB.
MAX_BATCH_EVENTS = 1000
MAX_BATCH_COMPRESSED = 4 * 1024 * 1024
MAX_BATCH_BYTES = 16 * 1024 * 1024  # after decompression (a zip bomb stops here)
MAX_EVENT_BYTES = 64 * 1024

TEXT, WHOLE, OBJECT = str, int, dict
MAYBE_TEXT = (str, type(None))
SEALED_OR_OBJECT = (str, dict)  # personal values sealed (core/sealing.py), or an old clear map
_TICKET = {"id": TEXT, "number": TEXT, "service_code": TEXT, "state": TEXT}
_APPLICATION = {"id": TEXT, "number": TEXT, "service_code": TEXT, "state": TEXT,
                "fee_minor": WHOLE, "currency": TEXT, "fields": SEALED_OR_OBJECT}
_PAYMENT = {"id": TEXT, "receipt_number": TEXT, "application_id": TEXT, "amount_minor": WHOLE,
            "currency": TEXT, "method": TEXT, "application_state": TEXT,
            "voided_at": MAYBE_TEXT}
_SHIFT = {"id": TEXT, "number": WHOLE, "clerk": TEXT}
_USER = {"username": TEXT}
# The data keys central relies on, with their types, per event type (docs/events.md has the
# whole payloads).
REQUIRED_DATA: dict[str, dict[str, type | tuple]] = {
    **{f"ticket.{t}": _TICKET for t in ("taken", "called", "recalled", "serving", "parked",
                                         "resumed", "finished", "no_show", "transferred",
                                         "cancelled", "postponed")},
    **{f"application.{t}": _APPLICATION for t in ("drafted", "submitted", "approved",
                                                   "rejected", "withdrawn")},
    "payment.taken": _PAYMENT, "payment.voided": _PAYMENT,
    "licence.issued": {"id": TEXT, "number": TEXT, "application_id": TEXT,
                       "licence_type": TEXT, "service_code": TEXT, "issued_at": TEXT,
                       "valid_until": TEXT, "signed_payload": TEXT},
    "licence.reprinted": {"id": TEXT, "number": TEXT, "reprint_count": WHOLE},
    "licence.revoked": {"id": TEXT, "number": TEXT, "revoked_at": TEXT, "revoke_reason": TEXT},
    # Whether a licence came out after its printing stopped mid-job (core/printing.py).
    "print.answered": {"id": TEXT, "number": TEXT, "came_out": TEXT},
    "shift.opened": _SHIFT, "shift.closed": _SHIFT, "shift.reconciled": _SHIFT,
    # An operator disables, enables or gives a new PIN to a local account (core/users.py).
    **{f"user.{t}": _USER for t in ("created", "pin_failed", "locked", "unlocked", "disabled",
                                     "enabled", "pin_reset")},
    # A service centre's hub pairs and revokes its kiosks, counters and boards; a device
    # renews its token past half its life.
    **{f"device.{t}": {"name": TEXT, "role": TEXT}
       for t in ("paired", "revoked", "token_renewed")},
    # A counter opened, went on a break or to back-office work, or closed
    # (core/counter_states.py; `previous` is the state it left, for the KPI facts).
    "counter.state_changed": {"counter": TEXT, "state": TEXT, "since": TEXT},
    # A resident rated a served visit, 1-5, at the counter's rating screen (core/ratings.py):
    # the ticket, where and for what, nothing of the person.
    "ticket.rated": {"id": TEXT, "rating": WHOLE, "counter": TEXT, "service_code": TEXT},
    # A supervisor cancelled the waiting tickets one paired device took (core/queue.py).
    "queue.bulk_cancelled": {"device": TEXT, "reason": TEXT},
    # The operator retried or voided an event central had refused (core/outbox.py).
    **{f"outbox.{t}": {"event_id": TEXT, "type": TEXT} for t in ("retried", "voided")},
    # A page of a supporting document added to or removed from an application, named by its
    # file's SHA-256 (core/attachments.py; the file itself is uploaded after the events).
    "application.document_added": {"application_id": TEXT, "doc_key": TEXT, "page": WHOLE,
                                   "sha256": TEXT, "bytes": WHOLE, "media_type": TEXT,
                                   "source": TEXT},
    "application.document_removed": {"application_id": TEXT, "doc_key": TEXT, "page": WHOLE,
                                     "sha256": TEXT},
    # A bill to pay later through the national networks (core/bills.py, docs/bills.md).
    "bill.issued": {"number": TEXT, "application_id": TEXT, "application_number": TEXT,
                    "amount_minor": WHOLE, "currency": TEXT, "due_at": TEXT, "office": TEXT},
    "bill.cancelled": {"number": TEXT, "application_id": TEXT, "reason": TEXT},
    "bill.paid": {"number": TEXT, "application_id": TEXT, "network": TEXT,
                  "transaction_id": TEXT, "amount_minor": WHOLE, "paid_at": TEXT},
    # A resident agreed to (or withdrew from) messages on a phone number, and a ticket or an
    # application they follow by message (core/messages.py, docs/messages.md): the number
    # masked (country code and last 3 digits), never whole.
    "message.consent_given": {"id": TEXT, "number": TEXT, "channel": TEXT, "given_at": TEXT},
    "message.consent_withdrawn": {"id": TEXT, "number": TEXT, "withdrawn_at": TEXT},
    "message.subscribed": {"id": TEXT, "subject": TEXT, "number": TEXT, "language": TEXT},
    # A booking made at central checked in at the kiosk (its ticket), or missed: no show
    # (core/appointments.py, docs/appointments.md). The booking's reference, nothing personal.
    "appointment.checked_in": {"reference": TEXT, "service_code": TEXT, "ticket_id": TEXT,
                               "ticket_number": TEXT},
    "appointment.no_show": {"reference": TEXT, "service_code": TEXT, "slot_start": TEXT},
}
# Keys central reads when present.
OPTIONAL_DATA = {"issue_mode": MAYBE_TEXT, "reprint_count": (int, type(None)),
                 "revoked_at": MAYBE_TEXT, "revoke_reason": MAYBE_TEXT}
TYPE_WORDS = {str: "text", int: "a whole number", dict: "an object",
              SEALED_OR_OBJECT: "sealed text or an object"}
INT64 = 2 ** 63
EVENT_TYPES = tuple(sorted(REQUIRED_DATA))
ENTITY_TYPES = ("ticket", "application", "payment", "licence", "shift", "user", "device",
                "event", "bill", "counter", "appointment", "consent")


class ProtocolError(ValueError):
    """An event or batch that cannot be accepted, with the reason."""

    def __init__(self, message: str, event_id=None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.event_id = event_id
        self.status = status


def check_envelope(event) -> None:
    if not isinstance(event, dict):
        raise ProtocolError("an event is a JSON object")
    eid = event.get("id")
    missing = [k for k in ENVELOPE if k not in event]
    if missing:
        raise ProtocolError(f"event {eid!r}: missing {', '.join(missing)}", eid)
    extra = sorted(set(event) - set(ENVELOPE))
    if extra:
        raise ProtocolError(f"event {eid!r}: unknown fields {', '.join(extra)}", eid)
    if not isinstance(eid, str) or not 1 <= len(eid) <= 64:
        raise ProtocolError(f"event id must be text of 1-64 characters, not {eid!r}", eid)
    for key in ("seq", "audit_seq"):
        if isinstance(event[key], bool) or not isinstance(event[key], int) or event[key] < 1:
            raise ProtocolError(f"event {eid!r}: {key} must be a positive integer", eid)
    for key in ("device", "office", "type", "at", "actor", "entity_type", "entity_id",
                "audit_prev_hash", "audit_hash"):
        if not isinstance(event[key], str):
            raise ProtocolError(f"event {eid!r}: {key} must be text", eid)
    if event["type"] not in REQUIRED_DATA:
        raise ProtocolError(f"event {eid!r}: unknown event type {event['type']!r}", eid)
    if event["entity_type"] not in ENTITY_TYPES:
        raise ProtocolError(f"event {eid!r}: unknown entity type {event['entity_type']!r}", eid)
    if not isinstance(event["data"], dict):
        raise ProtocolError(f"event {eid!r}: data must be an object", eid)
    data, required = event["data"], REQUIRED_DATA[event["type"]]
    missing = sorted(set(required) - set(data))
    if missing:
        raise ProtocolError(f"event {eid!r}: {event['type']} data is missing "
                            f"{', '.join(missing)}", eid)
    for key, expected in (*required.items(), *OPTIONAL_DATA.items()):
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, expected) or \
                (isinstance(value, int) and not -INT64 <= value < INT64):
            words = TYPE_WORDS.get(expected, "text or null")
            raise ProtocolError(f"event {eid!r}: {event['type']} data {key} must be {words}",
                                eid)


def audit_entry_hash(event: dict) -> str:
    """The hash of the audit entry the event carries, recomputed."""
    return audit_hash({"seq": event["audit_seq"], "at": event["at"], "actor": event["actor"],
                       "action": event["type"], "entity_type": event["entity_type"],
                       "entity_id": event["entity_id"], "data": event["data"],
                       "prev_hash": event["audit_prev_hash"]})


def check_audit_links(events: list[dict], known: dict[int, tuple[str, str]]) -> None:
    """Each event's audit entry hashes to its audit_hash and links to its neighbours.

    known: audit_seq -> (prev_hash, hash) of entries already held for this device. Events may
    arrive with gaps (an earlier batch lost in transit): an entry is linked to its predecessor
    and successor when either is held, and the rest is checked when the gap is filled."""
    by_seq = dict(known)
    for event in events:
        if audit_entry_hash(event) != event["audit_hash"]:
            raise ProtocolError(f"event {event['id']}: its audit entry was altered (hash "
                                f"mismatch at audit entry {event['audit_seq']})", event["id"])
        held = by_seq.get(event["audit_seq"])
        if held is not None and held != (event["audit_prev_hash"], event["audit_hash"]):
            raise ProtocolError(f"event {event['id']}: audit entry {event['audit_seq']} differs "
                                f"from the one already received (chain forked)", event["id"])
        by_seq[event["audit_seq"]] = (event["audit_prev_hash"], event["audit_hash"])
    for event in events:
        seq = event["audit_seq"]
        if seq == 1 and event["audit_prev_hash"] != GENESIS:
            raise ProtocolError(f"event {event['id']}: the first audit entry must start the "
                                f"chain", event["id"])
        before = by_seq.get(seq - 1)
        if before is not None and before[1] != event["audit_prev_hash"]:
            raise ProtocolError(f"event {event['id']}: audit entry {seq} does not follow "
                                f"entry {seq - 1} (chain broken)", event["id"])
        after = by_seq.get(seq + 1)
        if after is not None and after[0] != event["audit_hash"]:
            raise ProtocolError(f"event {event['id']}: audit entry {seq + 1} does not follow "
                                f"entry {seq} (chain broken)", event["id"])


def check_audit_chain(events: list[dict], previous: tuple[int, str] | None = None) -> None:
    """A complete run of entries: consecutive, each hashing right and following the one
    before. previous: (audit_seq, audit_hash) already held for this device, if any."""
    last_seq, last_hash = previous if previous else (0, GENESIS)
    for event in sorted(events, key=lambda e: e["audit_seq"]):
        check_envelope(event)
        if audit_entry_hash(event) != event["audit_hash"]:
            raise ProtocolError(f"event {event['id']}: its audit entry was altered "
                                f"(hash mismatch at audit entry {event['audit_seq']})")
        if event["audit_seq"] != last_seq + 1:
            raise ProtocolError(f"event {event['id']}: audit entry {last_seq + 1} is missing "
                                f"before entry {event['audit_seq']} (chain broken)")
        if event["audit_prev_hash"] != last_hash:
            raise ProtocolError(f"event {event['id']}: audit entry {event['audit_seq']} does "
                                f"not follow entry {last_seq} (chain broken)")
        last_seq, last_hash = event["audit_seq"], event["audit_hash"]


# --- batches -----------------------------------------------------------------------------------
def encode_batch(device: str, office: str, sent_at: str, bodies: list[str],
                 pending: int | None = None, keys: dict[str, str] | None = None,
                 oldest_pending_at: str | None = None, app_version: str | None = None) -> bytes:
    """A gzip JSON batch from outbox bodies (already canonical JSON: not parsed again).
    pending: the device's whole backlog, this batch included (shown to the back office).
    keys: the resident keys of the applications the events name (core/sealing.py), beside
    the events and so outside every audit chain: erasing one breaks no chain.
    oldest_pending_at: when the oldest event left unsent after this batch happened;
    app_version: the device's release (both optional, for the back office's offices page)."""
    head = {"device": device, "office": office, "sent_at": sent_at}
    if pending is not None:
        head["pending"] = pending
    if oldest_pending_at is not None:
        head["oldest_pending_at"] = oldest_pending_at
    if app_version is not None:
        head["app_version"] = app_version
    if keys:
        head["keys"] = keys
    head = canonical_json(head)[:-1]
    text = head + ',"events":[' + ",".join(bodies) + "]}"
    return gzip.compress(text.encode("utf-8"), compresslevel=1, mtime=0)


def decode_batch(body: bytes, content_encoding: str | None, with_text: bool = False):
    """Parse a POSTed batch: gzip (Content-Encoding: gzip) or plain JSON, within the limits.
    with_text: also return the decompressed JSON bytes, as (batch, text)."""
    if len(body) > MAX_BATCH_COMPRESSED and content_encoding == "gzip" or \
            len(body) > MAX_BATCH_BYTES:
        raise ProtocolError(f"the batch is {len(body)} bytes; the limit is "
                            f"{MAX_BATCH_COMPRESSED} compressed", status=413)
    if content_encoding == "gzip":
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            raw = inflater.decompress(body, MAX_BATCH_BYTES + 1)
        except zlib.error as exc:
            raise ProtocolError(f"the body is not valid gzip: {exc}", status=400)
        if len(raw) > MAX_BATCH_BYTES or inflater.unconsumed_tail:
            raise ProtocolError(f"the batch is over {MAX_BATCH_BYTES} bytes uncompressed",
                                status=413)
        if not inflater.eof:
            raise ProtocolError("the gzip body is truncated", status=400)
    elif content_encoding in (None, "", "identity"):
        raw = body
    else:
        raise ProtocolError(f"unsupported Content-Encoding {content_encoding!r} (use gzip)",
                            status=415)
    try:
        batch = json.loads(raw, parse_int=_whole_number)
    except ProtocolError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"the body is not valid JSON: {exc}", status=400)
    if not isinstance(batch, dict) or not isinstance(batch.get("events"), list):
        raise ProtocolError("a batch is a JSON object with an 'events' list", status=422)
    for key in ("device", "office", "sent_at"):
        if not isinstance(batch.get(key), str):
            raise ProtocolError(f"the batch needs '{key}' (text)", status=422)
    extra = sorted(set(batch) - {"device", "office", "sent_at", "events", "pending", "keys",
                                 "oldest_pending_at", "app_version"})
    if extra:
        raise ProtocolError(f"unknown batch fields: {', '.join(extra)}", status=422)
    pending = batch.get("pending")
    if pending is not None and (isinstance(pending, bool) or not isinstance(pending, int)
                                or pending < 0):
        raise ProtocolError("pending must be a whole number, 0 or more", status=422)
    _check_device_report(batch)
    if len(batch["events"]) > MAX_BATCH_EVENTS:
        raise ProtocolError(f"{len(batch['events'])} events in one batch; the limit is "
                            f"{MAX_BATCH_EVENTS}", status=413)
    for event in batch["events"]:
        check_envelope(event)
    batch["keys"] = _resident_keys(batch.get("keys", {}), batch["events"])
    return (batch, raw) if with_text else batch


def _check_device_report(batch: dict) -> None:
    """The optional oldest_pending_at (a time, or null) and app_version (short text)."""
    version, oldest = batch.get("app_version"), batch.get("oldest_pending_at")
    if version is not None and (not isinstance(version, str) or not 1 <= len(version) <= 64
                                or not version.isprintable()):
        raise ProtocolError("app_version must be text of 1-64 printable characters")
    if oldest is not None:
        try:
            assert isinstance(oldest, str) and len(oldest) <= 40
            datetime.fromisoformat(oldest)
        except (AssertionError, ValueError):
            raise ProtocolError("oldest_pending_at must be an ISO-8601 time (or null)")


def applications_named(events) -> set[str]:
    """The applications whose personal values these events carry (sealed with their keys)."""
    named = set()
    for event in events:
        if event["type"].startswith("application."):
            named.add(event["entity_id"])
        elif event["type"] == "licence.issued":
            named.add(event["data"]["application_id"])
    return named


def _resident_keys(keys, events) -> dict[str, bytes]:
    """The batch's resident keys, decoded: only for applications its events name."""
    if not isinstance(keys, dict):
        raise ProtocolError("keys must be an object of application id to resident key")
    named = applications_named(events)
    out = {}
    for application_id, text in keys.items():
        if application_id not in named:
            raise ProtocolError(f"a resident key for application {application_id[:64]!r}, "
                                f"which no event of the batch names")
        try:
            out[application_id] = decode_key(text)
        except ValueError as exc:
            raise ProtocolError(f"the resident key of application {application_id}: {exc}")
    return out


def _whole_number(text: str) -> int:
    """Integers as json.loads meets them: none wider than 64 bits (central stores BIGINT)."""
    value = int(text)
    if len(text) > 18 and not -INT64 <= value < INT64:
        raise ProtocolError(f"the number {text[:40]} is out of range (more than 64 bits)")
    return value


def gaps(seqs_held: list[int], upto: int) -> list[list[int]]:
    """Missing ranges [first, last] in 1..upto given the sorted sequence numbers held."""
    missing, expected = [], 1
    for s in seqs_held:
        if s > expected:
            missing.append([expected, s - 1])
        expected = max(expected, s + 1)
    if expected <= upto:
        missing.append([expected, upto])
    return missing


# --- the reference bundle ------------------------------------------------------------------------
REFERENCE_KINDS = ("service", "user", "revocations", "root", "device", "decision", "erasure",
                   "document_request", "trust_list",
                   "bill_payment",  # a bill paid at a network (core/bills.py)
                   "appointment")  # a booking made at central (core/appointments.py)


def sign_bundle(payload: dict, root_key) -> dict:
    """Central signs the canonical JSON text; the device verifies those exact bytes."""
    text = canonical_json(payload)
    signature = root_key.sign(text.encode("utf-8"))
    kid = credential_keys.key_id(credential_keys.public_bytes(root_key)).hex()
    return {"payload": text, "signature": base64.b64encode(signature).decode("ascii"),
            "kid": kid}


def open_bundle(envelope, roots: dict[bytes, bytes]) -> dict:
    """Verify a bundle's signature against the trusted roots, then parse it. Raises
    ProtocolError and returns nothing usable when the signature does not verify."""
    if not isinstance(envelope, dict) or not all(isinstance(envelope.get(k), str)
                                                  for k in ("payload", "signature", "kid")):
        raise ProtocolError("a reference bundle has payload, signature and kid")
    try:
        kid = bytes.fromhex(envelope["kid"])
        signature = base64.b64decode(envelope["signature"], validate=True)
    except ValueError:
        raise ProtocolError("the bundle's kid or signature is not encoded properly")
    public = roots.get(kid)
    if public is None:
        raise ProtocolError(f"the bundle is signed by key {envelope['kid']}, which this "
                            f"device does not trust")
    if not credential_keys.signature_ok(public, signature, envelope["payload"].encode("utf-8")):
        raise ProtocolError("the reference bundle's signature does not verify; nothing "
                            "was applied")
    payload = json.loads(envelope["payload"])
    if not isinstance(payload, dict) or not isinstance(payload.get("changes"), list):
        raise ProtocolError("the reference bundle has no list of changes")
    for change in payload["changes"]:
        if not isinstance(change, dict) or change.get("kind") not in REFERENCE_KINDS or \
                not isinstance(change.get("key"), str) or \
                not isinstance(change.get("version"), int):
            raise ProtocolError(f"a reference change has the wrong shape: {change!r:.120}")
    return payload


# --- the trust list (docs/verify.md) ---------------------------------------------------------------
# What the browser verifier holds: central's roots and its revocation list, signed by a root.
# The envelope {"format", "payload", "kid", "signature"} carries the payload as base64 of its
# canonical JSON bytes, and the Ed25519 signature over exactly those bytes.
TRUST_LIST_FORMAT = "NTL1"
TRUST_LIST_KIND, TRUST_LIST_KEY = "trust_list", "list"  # its reference change
# A revocation list is at most 8 MB (core/credentials/revocation.py); base64 twice over
MAX_TRUST_LIST_BYTES = 16 * 1024 * 1024
_ENVELOPE_KEYS = {"format", "payload", "kid", "signature"}
_PAYLOAD_KEYS = {"format", "version", "issued_at", "roots", "revocation_list"}


class TrustListError(ProtocolError):
    """A trust list that cannot be used; `code` is "malformed", "unknown_root" or
    "bad_signature" (the browser's openTrustList names the same)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def sign_trust_list(version: int, issued_at: int, roots: list[bytes],
                    revocation_list: bytes | None, root_key) -> dict:
    """The NTL1 envelope of a trust list, signed by `root_key` (one of `roots`)."""
    payload = {"format": TRUST_LIST_FORMAT, "version": version, "issued_at": issued_at,
               "roots": [{"kid": credential_keys.key_id(public).hex(), "public_key": public.hex()}
                         for public in roots],
               "revocation_list": None if revocation_list is None
               else base64.b64encode(revocation_list).decode("ascii")}
    data = canonical_json(payload).encode("utf-8")
    kid = credential_keys.key_id(credential_keys.public_bytes(root_key)).hex()
    return {"format": TRUST_LIST_FORMAT, "payload": base64.b64encode(data).decode("ascii"),
            "kid": kid, "signature": base64.b64encode(root_key.sign(data)).decode("ascii")}


def _is_uint(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def open_trust_list(envelope, roots: dict[bytes, bytes]) -> dict:
    """The payload of an NTL1 envelope whose signature verifies under one of `roots` (kid ->
    public key), its shape checked; TrustListError otherwise. The signing root must be one
    the list itself names (so a page holding nothing yet can check it against the list)."""
    if not isinstance(envelope, dict) or set(envelope) != _ENVELOPE_KEYS or \
            not all(isinstance(envelope[k], str) for k in _ENVELOPE_KEYS) or \
            envelope["format"] != TRUST_LIST_FORMAT:
        raise TrustListError("malformed", "a trust list is {format: NTL1, payload, kid, "
                                          "signature}, all text")
    if len(envelope["payload"]) > MAX_TRUST_LIST_BYTES:
        raise TrustListError("malformed", "the trust list is too large")
    try:
        kid = bytes.fromhex(envelope["kid"])
        data = base64.b64decode(envelope["payload"], validate=True)
        signature = base64.b64decode(envelope["signature"], validate=True)
    except ValueError:
        raise TrustListError("malformed", "the trust list's kid, payload or signature is not "
                                          "encoded properly")
    public = roots.get(kid)
    if public is None:
        raise TrustListError("unknown_root", f"the trust list is signed by key "
                                             f"{envelope['kid'][:16]}, which is not trusted")
    if not credential_keys.signature_ok(public, signature, data):
        raise TrustListError("bad_signature", "the trust list's signature does not verify")
    try:
        payload = json.loads(data.decode("utf-8"))
    except ValueError:
        raise TrustListError("malformed", "the trust list's payload is not JSON")
    ok = isinstance(payload, dict) and set(payload) == _PAYLOAD_KEYS and \
        payload["format"] == TRUST_LIST_FORMAT and _is_uint(payload["version"]) and \
        payload["version"] >= 1 and _is_uint(payload["issued_at"]) and \
        isinstance(payload["roots"], list) and payload["roots"] and \
        isinstance(payload["revocation_list"], (str, type(None)))
    named = set()
    for root in payload["roots"] if ok else ():
        try:
            public_key = bytes.fromhex(root["public_key"])
            ok = ok and set(root) == {"kid", "public_key"} and len(public_key) == 32 and \
                root["kid"] == credential_keys.key_id(public_key).hex()
            named.add(root["kid"])
        except (TypeError, KeyError, ValueError):
            ok = False
    if ok and payload["revocation_list"] is not None:
        try:
            base64.b64decode(payload["revocation_list"], validate=True)
        except ValueError:
            ok = False
    if not ok:
        raise TrustListError("malformed", "the trust list's payload has the wrong shape")
    if envelope["kid"] not in named:
        raise TrustListError("malformed", "the trust list is signed by a root it does not name")
    return payload


# --- supporting documents: the upload (docs/sync.md, "Documents") ----------------------------------
# PUT /v1/documents/<sha256> with `Content-Range: bytes <start>-<end>/<total>`, the chunk as the
# body; GET the same path for {"received", "complete", "size"}. Central takes a chunk only at
# the offset it holds, so a device resumes where central stands and re-sends at most the chunk
# that was in flight.
DOCUMENTS = API + "/documents"
UPLOAD_CHUNK_BYTES = 256 * 1024  # the first chunk; the uploader sizes later ones to the link
MIN_UPLOAD_CHUNK_BYTES = 64 * 1024
MAX_UPLOAD_CHUNK_BYTES = 1024 * 1024  # central refuses a larger chunk (413)
SHA256_PATTERN = r"^[0-9a-f]{64}$"


def content_range(start: int, end: int, total: int) -> str:
    """The Content-Range of bytes start..end (inclusive) of a file of `total` bytes."""
    return f"bytes {start}-{end}/{total}"


def parse_content_range(text) -> tuple[int, int, int]:
    """(start, end inclusive, total) of `bytes <start>-<end>/<total>`; ProtocolError when
    it is not one, or the range is empty or reaches past the total."""
    import re
    found = re.fullmatch(r"bytes (\d{1,15})-(\d{1,15})/(\d{1,15})", (text or "").strip()) \
        if isinstance(text, str) else None
    if found is None:
        raise ProtocolError("Content-Range: bytes <start>-<end>/<total> (e.g. bytes "
                            "0-262143/1048576)", status=400)
    start, end, total = (int(g) for g in found.groups())
    if not start <= end < total:
        raise ProtocolError(f"Content-Range {text!r}: the range must lie inside the file "
                            f"(start <= end < total)", status=400)
    return start, end, total
