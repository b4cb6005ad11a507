"""POST /v1/verify, the verifier page and its trust list at central (docs/verify.md): a
licence's QR text gets the verdict core.credentials gives with central's roots and newest
revocation list; anything else gets a clear verdict or a 422, never a server error, and
changes nothing; each address may ask 30 times a minute."""
from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from central import trust_list
from central.app import VERIFY_RATE, create_app
from central.service import Central
from core.codes import ticket_code
from core.credentials import keys
from core.credentials.licence import verify
from core.credentials.trust import TrustStore
from sync.agent import SyncAgent

from central_offices import nid, working_office
from central_servers import ServerThread


class Seconds:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def site(tmp_path, clock):
    """Central (SQLite) with a licence issued at MUH/D01 and pushed; an app on it whose rate
    limit runs on `seconds`."""
    central, _ = Central.init_root(tmp_path / "central", None, clock=clock)
    server = ServerThread(create_app(central)).start()
    office = working_office(tmp_path, server.url, central, "MUH", "D01", clock, seed=1)
    app = office.applications.submit("residence-certificate", {
        "phone": "33334444", "block": "204", "road": "15", "building": "12",
        "full_name": "Instant Person", "national_id": nid(10)})
    office.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
    licence = office.licences.issue(app["id"])
    SyncAgent(office).once()
    seconds = Seconds()
    client = TestClient(create_app(central, rate_clock=seconds))
    yield central, client, licence, seconds
    office.close()
    server.stop()
    central.close()


def state_of(central) -> tuple:
    """What a verification must not change: every table's count and the trust list."""
    return central.counts(), trust_list.latest(central)


def test_a_genuine_licence_is_valid_with_what_its_qr_says(site):
    central, client, licence, _ = site
    reply = client.post("/v1/verify", json={"text": licence["signed_payload"]})
    assert reply.status_code == 200
    body = reply.json()
    assert body["verdict"] == "valid" and body["ok"] is True
    assert body["claims"]["number"] == licence["number"]
    assert body["claims"]["holder"] == "Instant Person"
    assert body["revocation_list"] is None
    # the same as the Python verifier with central's root
    trust = TrustStore({keys.key_id(central.root_public): central.root_public})
    assert verify(licence["signed_payload"], trust,
                  int(central.clock.now().timestamp())).claims == body["claims"]


def test_after_a_revocation_the_same_text_is_revoked(site):
    central, client, licence, _ = site
    central.revoke_licence(licence["number"], "issued in error")
    body = client.post("/v1/verify", json={"text": licence["signed_payload"]}).json()
    assert (body["verdict"], body["ok"], body["revocation_list"]) == ("revoked", False, 1)
    assert body["claims"]["number"] == licence["number"]  # genuine, but revoked
    status = client.get(f"/verify/status/{licence['number']}").json()
    assert status["status"] == "revoked" and status["revoked_at"]


def test_a_flipped_byte_is_not_genuine_and_says_nothing_of_the_claims(site):
    _central, client, licence, _ = site
    text = licence["signed_payload"]
    forged = text[:-8] + ("A" if text[-8] != "A" else "B") + text[-7:]
    body = client.post("/v1/verify", json={"text": forged}).json()
    assert body["ok"] is False and body["verdict"] in ("bad_signature", "malformed")
    assert body["claims"] is None


@pytest.mark.parametrize("text, verdict", [
    (ticket_code("MUH", "01JTICKET0000000000000000"), "malformed"),  # a ticket's QR
    ("https://example.com/licence/MUH-2026-D01-000001", "malformed"),  # a URL
    ("WIFI:S:x;T:WPA;P:y;;", "malformed"),  # a Wi-Fi QR
    ("\x00\x01\x02\xff\xfe binary", "malformed"),  # binary-looking content
    ("NF1:\u202eABC\u202c", "malformed"),  # bidi controls inside the code
    ("\u2067NF1:ABCDEF\u2069", "malformed"),  # bidi isolates around it
    ("NF2:ABCDEF", "unsupported_version"),
    ("", "malformed"),
    ("N" * 5000, "too_large"),  # over the 4096 characters a QR holds
])
def test_texts_that_are_not_licences_get_a_clear_verdict_and_change_nothing(site, text,
                                                                           verdict):
    central, client, _licence, _ = site
    before = state_of(central)
    reply = client.post("/v1/verify", json={"text": text})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"verdict": verdict, "ok": False, "message": reply.json()["message"],
                            "claims": None, "revocation_list": None}
    assert reply.json()["message"]
    assert state_of(central) == before


@pytest.mark.parametrize("body, where", [
    ({}, "body.text"),  # missing key
    ({"text": "NF1:A", "extra": 1}, "body.extra"),  # an unknown key
    ({"text": 42}, "body.text"),  # not text
    ({"text": None}, "body.text"),
    (["NF1:A"], "body"),
    ({"text": "N" * 8193}, "body.text"),  # beyond what the schema takes
])
def test_a_wrong_body_is_422_and_changes_nothing(site, body, where):
    central, client, _licence, _ = site
    before = state_of(central)
    reply = client.post("/v1/verify", json=body)
    assert reply.status_code == 422
    assert reply.json()["error"] == "invalid_request" and where in reply.json()["message"]
    assert state_of(central) == before


@pytest.mark.parametrize("content, kind, status, code", [
    (b"NF1:ABC", "text/plain", 422, "invalid_request"),
    (b"{\"text\": ", "application/json", 422, "invalid_request"),  # not JSON
    (b"\xff\xfe\x00", "application/json", 400, "bad_request"),  # not even UTF-8
])
def test_a_body_that_is_not_json_is_refused(site, content, kind, status, code):
    central, client, _licence, _ = site
    before = state_of(central)
    reply = client.post("/v1/verify", content=content, headers={"content-type": kind})
    assert reply.status_code == status and reply.json()["error"] == code
    assert state_of(central) == before


def test_a_body_over_its_bound_is_refused_before_it_is_read(site):
    central, client, _licence, _ = site
    before = state_of(central)
    reply = client.post("/v1/verify", content=json.dumps({"text": "N" * 20_000}),
                        headers={"content-type": "application/json"})
    assert reply.status_code == 413 and reply.json()["error"] == "too_large"
    assert state_of(central) == before


def test_each_address_gets_30_a_minute_then_429_until_the_window_moves(site):
    central, client, licence, seconds = site
    limit, window = VERIFY_RATE
    assert (limit, window) == (30, 60.0)
    for _ in range(limit):
        assert client.post("/v1/verify", json={"text": "x"}).status_code == 200
    refused = client.post("/v1/verify", json={"text": licence["signed_payload"]})
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    seconds.now += 30
    assert client.post("/v1/verify", json={"text": "x"}).status_code == 429
    seconds.now += 31  # the first calls are a minute old now
    assert client.post("/v1/verify", json={"text": licence["signed_payload"]}).json()["ok"]


def test_status_of_a_licence_says_only_valid_revoked_or_unknown(site):
    central, client, licence, _ = site
    reply = client.get(f"/verify/status/{licence['number']}")
    assert reply.status_code == 200
    assert reply.json() == {"status": "valid", "revoked_at": None, "as_of": central.now()}
    for number in ("MUH-2026-D01-999999", "not a number", "%00"):
        assert client.get(f"/verify/status/{number}").json()["status"] == "unknown"
    assert client.get("/verify/status/" + "9" * 65).status_code == 422


def test_the_trust_list_route_serves_the_newest_signed_list(site):
    central, client, licence, _ = site
    first = client.get("/verify/trust-list.json")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
    central.revoke_licence(licence["number"], "issued in error")
    second = client.get("/verify/trust-list.json").json()
    assert second == trust_list.latest(central)
    versions = [json.loads(base64.b64decode(e["payload"]))["version"]
                for e in (first.json(), second)]
    assert versions == [1, 2]


def test_the_page_and_its_files_are_served_with_their_media_types(site):
    _central, client, _licence, _ = site
    page = client.get("/verify/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "'wasm-unsafe-eval'" in page.headers["content-security-policy"]
    assert "https:" not in page.headers["content-security-policy"]  # nothing from elsewhere
    assert client.get("/verify", follow_redirects=False).headers["location"] == "/verify/"
    assert client.get("/verify/verify.css").headers["content-type"].startswith("text/css")
    wasm = client.get("/verify/vendor/zxing-wasm/reader/zxing_reader.wasm")
    assert wasm.status_code == 200 and wasm.headers["content-type"] == "application/wasm"
    assert wasm.content[:4] == b"\0asm"
    words = client.get("/verify/words.json").json()
    assert set(words) == {"ar", "en"} and words["en"]


@pytest.mark.parametrize("path", ["/verify/nothing.js", "/verify/vendor",
                                  "/verify/%2e%2e/%2e%2e/central/root.key",
                                  "/verify/..%2f..%2fpyproject.toml", "/verify/.hidden.js",
                                  "/verify/build_words.py", "/verify/vendor//LICENSE"])
def test_only_the_page_s_own_files_are_served(site, path):
    _central, client, _licence, _ = site
    reply = client.get(path)
    assert reply.status_code == 404 and reply.json()["error"] == "not_found"
