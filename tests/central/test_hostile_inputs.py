"""Inputs that made central answer 500 or break its documented error shape, on SQLite and on
PostgreSQL (an event id that is an object, and FastAPI's own 400/422 bodies, came from the
schemathesis run in test_openapi.py; the rest from probing around them). Each is now refused
with a documented 4xx and a Problem body, or answered.

PostgreSQL refuses NUL characters in text and BIGINT ends at 2**63-1; lone surrogates cannot be
encoded; deep nesting exhausts Python's JSON recursion. None of that may reach the database or
the encoder as an exception."""
from __future__ import annotations

import json

import pytest
import requests
import sqlalchemy as sa

from central import db
from sync import protocol

OFFICE, DEVICE = "MUH", "D01"  # the device start_central (conftest.py) enrols


class Api:
    def __init__(self, served):
        self.central, self.url = served.central, served.url
        self.admin, self.device = served.admin, served.device

    def post(self, path, body, headers):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return requests.post(self.url + path, data=raw, timeout=30,
                             headers={**headers, "Content-Type": "application/json"})

    def get(self, path, headers=None):
        return requests.get(self.url + path, headers=headers or {}, timeout=30)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request, start_central):
    """One central per database for the module: a refusal changes nothing but the log."""
    db_url = None if request.param == "sqlite" else request.getfixturevalue("pg").new_database()
    return Api(start_central(db_url))


def event(**overrides) -> dict:
    e = {"id": "E1", "seq": 1, "device": DEVICE, "office": OFFICE, "type": "user.locked",
         "at": "2026-11-24T08:00:00+00:00", "actor": "sara", "entity_type": "user",
         "entity_id": "sara", "audit_seq": 1, "audit_prev_hash": protocol.GENESIS,
         "audit_hash": "", "data": {"username": "sara"}}
    e.update(overrides)
    return e


def batch(*events, **overrides) -> dict:
    b = {"device": DEVICE, "office": OFFICE, "sent_at": "2026-11-24T08:00:00+00:00",
         "events": list(events) or [event()]}
    b.update(overrides)
    return b


def refused(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str), body
    return body


def raw_json(value: dict, marker: str, replacement: str) -> bytes:
    """JSON text with `marker` (a quoted string) replaced by raw JSON, e.g. an escape."""
    text = json.dumps(value)
    assert f'"{marker}"' in text
    return text.replace(f'"{marker}"', replacement).encode()


@pytest.mark.parametrize("body", [
    pytest.param(batch(event(id={})), id="event-id-an-object"),
    pytest.param(batch(event(id="E\x001")), id="nul-in-event-id"),
    pytest.param(batch(event(actor="sa\x00ra")), id="nul-in-actor"),
    pytest.param(batch(sent_at="2026\x00"), id="nul-in-sent_at"),
    pytest.param(batch(event(data={"username": "sara", "x\x00": 1})), id="nul-in-a-key"),
    pytest.param(batch(event(seq=2 ** 70)), id="seq-beyond-64-bits"),
    pytest.param(batch(event(audit_seq=2 ** 63)), id="audit_seq-beyond-64-bits"),
    pytest.param(batch(pending=2 ** 64), id="pending-beyond-64-bits"),
    pytest.param(batch(event(data={"username": "sara", "deep": json.loads("[" * 40 + "]" * 40)})),
                 id="data-nested-40-deep"),
    pytest.param(raw_json(batch(event(actor="MARK")), "MARK", '"\\ud800"'),
                 id="lone-surrogate-in-actor"),
    pytest.param(raw_json(batch(event(id="MARK")), "MARK", '"\\udfff"'),
                 id="lone-surrogate-in-event-id"),
    pytest.param(raw_json(batch(device="MARK"), "MARK", '"\\ud800"'),
                 id="lone-surrogate-in-device"),
])
def test_unstorable_batches_are_refused(api, body):
    problem = refused(api.post("/v1/events", body, api.device), 422)
    assert problem["error"] == "rejected"
    # The refusal is logged, readably.
    rejections = api.get("/v1/admin/rejections", api.admin)
    assert rejections.status_code == 200
    assert rejections.json()[0]["reason"] == problem["message"]
    assert "\x00" not in rejections.text


@pytest.mark.parametrize("body", [
    pytest.param(b'{"device": "D01", "office": "MUH", "sent_at": "x", "events": ['
                 + b"[" * 100_000 + b"]" * 100_000 + b"]}", id="100000-deep"),
    pytest.param(raw_json(batch(event(data={"username": "sara", "deep": "MARK"})), "MARK",
                          "[" * 5000 + "]" * 5000), id="5000-deep-data"),
])
def test_batches_nested_too_deeply_are_refused(api, body):
    refused(api.post("/v1/events", body, api.device), 400)


def test_unknown_fields_with_unprintable_names_are_refused_readably(api):
    body = raw_json(batch(X="MARK"), "X", '"\\ud800"')
    problem = refused(api.post("/v1/events", body, api.device), 422)
    assert "\\ud800" in problem["message"]
    body = raw_json(batch(X="MARK"), "X", '"\\u0000"')
    problem = refused(api.post("/v1/events", body, api.device), 422)
    assert "\\x00" in problem["message"]


@pytest.mark.parametrize("sent_at", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00"])
def test_a_device_clock_centuries_off_is_recorded(api, sent_at):
    response = api.post("/v1/events", batch(events=[], sent_at=sent_at), api.device)
    assert response.status_code == 200, response.text
    skew = response.json()["clock_skew_s"]
    assert abs(skew) == 2 ** 31 - 1  # as far as the column goes, sign kept
    assert (skew > 0) == sent_at.startswith("9999")
    offices = api.get("/v1/admin/offices", api.admin).json()
    assert offices[0]["devices"][0]["clock_skew_s"] == skew


def test_numbers_with_nul_are_unknown(api):
    status = api.get("/v1/licences/MUH%00-1")
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "unknown"
    refused(api.post("/v1/admin/licences/MUH%00-1/revoke", {"reason": "fraud"}, api.admin), 404)
    refused(api.post("/v1/admin/applications/MUH%00-1/decision", {"decision": "approved"},
                     api.admin), 404)


def test_a_revocation_reason_is_one_line(api):
    with api.central.engine.begin() as conn:
        conn.execute(sa.insert(db.licences).values(
            id="L1", number="MUH-L-1", application_id="A1", office=OFFICE,
            device_key=f"{OFFICE}/{DEVICE}", licence_type="residence-certificate",
            issued_at="2026-11-24T08:00:00+00:00", valid_until="2027-11-24T08:00:00+00:00",
            signed_payload="x", source_seq=1))
    for reason in ("fraud\x00", "fraud\nand more"):
        problem = refused(api.post("/v1/admin/licences/MUH-L-1/revoke", {"reason": reason},
                                   api.admin), 422)
        assert problem["error"] == "invalid_reason"
    assert api.get("/v1/licences/MUH-L-1").json()["status"] == "valid"


def test_requests_fastapi_refuses_get_the_documented_error_shape(api):
    problem = refused(api.get("/v1/reference?limit=0", api.device), 422)
    assert problem["error"] == "invalid_request" and "limit" in problem["message"]
    problem = refused(api.post("/v1/admin/licences/X/revoke", {"reason": 5}, api.admin), 422)
    assert problem["error"] == "invalid_request"
    problem = refused(api.post("/v1/admin/licences/X/revoke", b"\xc3\x28", api.admin), 400)
    assert problem["error"] == "bad_request"
    refused(api.get("/v1/no-such-thing"), 404)


def hashed(e: dict) -> dict:
    return {**e, "audit_hash": protocol.audit_entry_hash(e)}


APP = {"id": "A1", "number": "MUH-A-1", "service_code": "residence-certificate",
       "state": "submitted", "fee_minor": 1000, "currency": "BHD", "fields": {}}
PAYMENT = {"id": "P1", "receipt_number": "R1", "application_id": "A1", "amount_minor": 1000,
           "currency": "BHD", "method": "cash", "application_state": "paid", "voided_at": None}


@pytest.mark.parametrize("kind, data, words", [
    ("application.submitted", {**APP, "id": {}}, "id must be text"),
    ("application.submitted", {**APP, "fee_minor": None}, "fee_minor must be a whole number"),
    ("application.submitted", {**APP, "fee_minor": "abc"}, "fee_minor must be a whole number"),
    ("application.submitted", {**APP, "fee_minor": True}, "fee_minor must be a whole number"),
    ("application.submitted", {**APP, "fee_minor": 2 ** 70}, "out of range (more than 64 bits)"),
    ("application.submitted", {**APP, "fields": []}, "fields must be sealed text or an object"),
    ("application.submitted", {**APP, "issue_mode": 3}, "issue_mode must be text or null"),
    ("payment.taken", {**PAYMENT, "amount_minor": "x"}, "amount_minor must be a whole"),
    ("payment.taken", {**PAYMENT, "voided_at": {}}, "voided_at must be text or null"),
    ("licence.revoked", {"id": "L1", "number": "N1", "revoked_at": {}, "revoke_reason": "x"},
     "revoked_at must be text"),
])
def test_event_data_of_the_wrong_type_is_refused(api, kind, data, words):
    entity = kind.split(".")[0]
    body = batch(hashed(event(type=kind, entity_type=entity, entity_id="A1", data=data)))
    problem = refused(api.post("/v1/events", body, api.device), 422)
    assert words in problem["message"], problem


def test_a_refused_batch_is_kept_as_its_digest_never_its_body(api):
    """A refused body may hold residents' names and IDs: the rejections log identifies it by
    SHA-256 and size, and the resident's details are nowhere in central's database."""
    import hashlib

    resident = {"username": "sara", "full_name": "Zainab Qasim Al-Mahroos",
                "national_id": "850177123"}
    raw = json.dumps(batch(event(id="E-PD", seq=2 ** 70, data=resident))).encode()
    refused(api.post("/v1/events", raw, api.device), 422)
    with api.central.engine.connect() as conn:
        kept = conn.execute(sa.select(db.rejections.c.body).order_by(
            db.rejections.c.id.desc()).limit(1)).scalar()
        everything = "\n".join(repr(tuple(r)) for table in db.metadata.sorted_tables
                               for r in conn.execute(sa.select(table)))
    assert kept == f"sha256:{hashlib.sha256(raw).hexdigest()}:{len(raw)}"
    assert "Zainab" not in everything and "850177123" not in everything
