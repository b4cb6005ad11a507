"""The public licence verifier on the hub (docs/verify.md): the page's files from
assets/verify/, the trust list this office last received from central, the page's words, and
what the office knows of a licence's status; no token needed, and on the plain-HTTP board
port too (the page there says to use HTTPS for the camera)."""
from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from core import reference
from core.credentials import keys, revocation
from hub.app import board_only, create_app
from sync import protocol


@pytest.fixture
def client(office):
    return TestClient(create_app(office))


def issue(office, submit_valid, till) -> dict:
    app = submit_valid()
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    return office.licences.issue(app["id"])


def hold_trust_list(office, root_key, version: int, revoked=()) -> dict:
    """What sync/reference.py keeps after a pull: central's envelope, as a reference row."""
    listed = revocation.make(root_key, version, 1_700_000_000 + version, list(revoked), {})
    envelope = protocol.sign_trust_list(version, 1_700_000_000 + version,
                                        [keys.public_bytes(root_key)], listed.to_bytes(),
                                        root_key)
    with office.store.atomic():
        reference.put(office.store, {"kind": "trust_list", "key": "list", "version": version,
                                     "body": envelope}, office.store.now(), None)
    return envelope


def test_the_trust_list_is_404_until_central_sent_one_then_the_newest_held(client, office,
                                                                          root_key):
    before = client.get("/verify/trust-list.json")
    assert before.status_code == 404 and before.json()["error"] == "not_found"
    envelope = hold_trust_list(office, root_key, 3)
    reply = client.get("/verify/trust-list.json")
    assert reply.status_code == 200 and reply.json() == envelope
    assert reply.headers["cache-control"] == "no-cache"
    # what the page will do with it: the signature verifies under the root it names
    assert protocol.open_trust_list(reply.json(), office.trust().roots)["version"] == 3


def test_status_revoked_here_or_by_central_s_list_valid_when_issued_here_else_unknown(
        client, office, root_key, submit_valid, till):
    mine, theirs = issue(office, submit_valid, till), issue(office, submit_valid, till)
    assert client.get(f"/verify/status/{mine['number']}").json()["status"] == "valid"
    office.licences.revoke(mine["id"], "issued in error")
    here = client.get(f"/verify/status/{mine['number']}").json()
    assert here["status"] == "revoked" and here["revoked_at"]
    listed = revocation.make(root_key, 1, int(office.store.clock.now().timestamp()),
                             [theirs["number"], "SIT-2026-D09-000001"], {})
    office.trust().install_revocations(listed.to_bytes())
    assert client.get(f"/verify/status/{theirs['number']}").json()["status"] == "revoked"
    other_office = client.get("/verify/status/SIT-2026-D09-000001").json()
    assert other_office == {"status": "revoked", "revoked_at": None,
                            "as_of": office.store.now()}  # never pulled: now
    for number in ("SIT-2026-D09-000002", "not-a-number", office.store.one(
            "SELECT id FROM licences LIMIT 1")["id"]):  # an id is not a number
        assert client.get(f"/verify/status/{number}").json()["status"] == "unknown"
    assert client.get("/verify/status/" + "9" * 65).status_code == 422


def test_the_page_and_its_files_with_their_media_types(client):
    page = client.get("/verify/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "'wasm-unsafe-eval'" in page.headers["content-security-policy"]
    assert client.get("/verify", follow_redirects=False).headers["location"] == "/verify/"
    wasm = client.get("/verify/vendor/zxing-wasm/reader/zxing_reader.wasm")
    assert wasm.headers["content-type"] == "application/wasm" and wasm.content[:4] == b"\0asm"
    words = client.get("/verify/words.json")
    assert words.status_code == 200 and set(words.json()) == {"ar", "en"}
    for path in ("/verify/nothing.js", "/verify/%2e%2e/%2e%2e/hub/app.py",
                 "/verify/build_words.py", "/verify/.x.js"):
        assert client.get(path).status_code == 404, path


def test_no_token_is_needed_and_a_device_route_still_needs_one(client):
    assert client.get("/verify/").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def plain_get(app, path: str) -> tuple[int, bytes]:
    """One GET through the plain-HTTP listener's guard (hub.app.board_only)."""
    sent, asked = [], []

    async def receive():
        if not asked:
            asked.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        while not (sent and sent[-1]["type"] == "http.response.body"
                   and not sent[-1].get("more_body")):
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}  # the client goes once the answer is complete

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [], "scheme": "http", "http_version": "1.1",
             "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 5555), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent
                                       if m["type"] == "http.response.body")


def test_the_plain_http_port_serves_the_page_so_it_can_explain_and_nothing_else_new(office):
    plain = board_only(create_app(office), https_port=8443)
    status, body = plain_get(plain, "/verify/")
    assert status == 200 and b"<html" in body.lower()
    assert plain_get(plain, "/api/v1/me")[0] == 403  # devices' routes stay on HTTPS only
    assert plain_get(plain, "/verifyx")[0] == 404  # /verify... is allowed, is served or not
