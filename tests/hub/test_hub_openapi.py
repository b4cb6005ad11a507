"""The hub's OpenAPI document: the published copy (docs/hub-openapi.json) is what the app
generates, and schemathesis, fuzzing every operation from that document against a live hub
(valid and invalid requests, as a kiosk, as a counter with a signed-in clerk, as a display
board, and with no token at all), never gets a server error (status >= 500)."""
from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from hub.app import create_app
from hub.openapi import document, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "hub-openapi.json"
RES = "residence-certificate"
MAX_EXAMPLES = 25  # per operation and identity, valid and invalid data together
# Server-sent events never end: a stream with a valid token would hold the fuzzer forever.
STREAMS = {"/api/v1/events", "/board/events"}
TAGS = {"kiosk": {"hub", "kiosk", "print"}, "counter": {"hub", "counter", "print"},
        "board": {"board"}, "none": {"hub", "kiosk", "print", "counter", "board"}}


def test_the_published_document_is_what_the_app_generates(office):
    published = json.loads(DOC.read_text(encoding="utf-8"))
    generated = create_app(office).openapi()
    assert published == generated, ("docs/hub-openapi.json is out of date; regenerate it: "
                                    ".venv/bin/python -m hub.openapi docs/hub-openapi.json")
    # The script writes exactly this file (no hand edits that happen to parse the same).
    assert DOC.read_text(encoding="utf-8") == render(document())


def test_every_route_shows_its_roles_credentials_and_key_in_one_place(office):
    """x-nafitha on every route: the device roles whose token opens it, what else it needs
    (a clerk's session, a supervisor's PIN), and whether devices send an idempotency key;
    the declared security and headers agree with it."""
    from core.faces import operations_of
    from hub.app import FACES
    declared = {f"{face.name}_{op.name}": op for face in FACES
                for op in operations_of(face).values()}
    seen = 0
    for path, methods in create_app(office).openapi()["paths"].items():
        for method, route in methods.items():
            meta = route["x-nafitha"]
            assert set(meta) >= {"roles", "credentials", "idempotency_key"}, path
            schemes = {name for requirement in route.get("security", ())
                       for name in requirement}  # the headers it reads, as declared
            op = declared.get(route["operationId"])
            if op is None:  # the hub's own routes: pairing, the office, the board
                assert meta["idempotency_key"] == "none" and "IdempotencyKey" not in schemes
                continue
            seen += 1
            assert meta["roles"] == list(op.roles) and meta["roles"], path
            assert ("IdempotencyKey" in schemes) == (op.retry == "keyed") == (
                meta["idempotency_key"] == "sent by devices"), path
            assert "HTTPBearer" in schemes, path
            assert ("ClerkSession" in schemes) == (op.who != "device" or
                                                      op.session == "end"), path
            assert ("clerk session" in meta["credentials"]) == (op.who != "device"), path
    assert seen == len(declared)
    kiosk_take = create_app(office).openapi()["paths"]["/api/v1/kiosk/take-ticket"]["post"]
    assert kiosk_take["x-nafitha"]["roles"] == ["kiosk"]


class ServerErrors(logging.Handler):
    """Tracebacks uvicorn logs for unhandled exceptions (its logger does not reach caplog)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.tracebacks: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.tracebacks.append(text)


@pytest.fixture
def server_errors():
    handler = ServerErrors()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def identities(hub) -> dict[str, dict]:
    """Headers of each identity the fuzzer acts as."""
    counter = hub.token("counter", "3")
    reply = hub.http.post(hub.url + "/api/v1/counter/sign-in",
                          json={"username": "sara", "pin": "1234"},
                          headers={"Authorization": f"Bearer {counter}"}, timeout=10)
    reply.raise_for_status()
    return {"kiosk": {"Authorization": f"Bearer {hub.token('kiosk', 'kiosk-1')}"},
            "counter": {"Authorization": f"Bearer {counter}",
                        "X-Clerk-Session": reply.json()["session"]},
            "board": {"Authorization": f"Bearer {hub.token('board', 'hall')}"},
            "none": {}}


def fuzz(operation, base_url: str, headers: dict, found: list, session=None) -> int:
    """Up to MAX_EXAMPLES requests (valid and invalid) to one operation; server errors are
    collected in `found` (not raised: hypothesis would stop and shrink)."""
    strategy = operation.as_strategy(schemathesis.GenerationMode.POSITIVE, headers=headers) | \
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE, headers=headers)
    sent = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=(Phase.explicit, Phase.generate),
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=10)
        sent.append(response.status_code)
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
        except FailureGroup as failure:
            found.append({"operation": operation.label, "status": response.status_code,
                          "request": case.as_curl_command(headers=headers),
                          "response": response.text[:500], "report": str(failure)[:2000]})

    run()
    return len(sent)


def test_schemathesis_finds_no_server_error(hub, till, submit_valid, server_errors):
    # Something to find: waiting tickets and an application (ids the fuzzer may not guess,
    # but call-next, queue and find have rows to return).
    for _ in range(3):
        hub.office.queue.take_ticket(RES)
    submit_valid()
    schema = schemathesis.openapi.from_dict(hub.app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(p) for p in hub.app.openapi()["paths"].values())
    found: list[dict] = []
    sent: dict[str, int] = {}
    for identity, headers in identities(hub).items():
        chosen = [op for op in operations if op.path not in STREAMS
                  and set(op.definition.raw.get("tags", ())) & TAGS[identity]]
        # Signing out ends the session the rest of the counter's run uses: last.
        chosen.sort(key=lambda op: op.path == "/api/v1/counter/sign-out")
        assert chosen, identity
        sent[identity] = sum(fuzz(op, hub.url, headers, found, hub.http) for op in chosen)
    assert min(sent.values()) >= 10 and sum(sent.values()) >= 1000, sent
    tracebacks = list(dict.fromkeys(server_errors.tracebacks))  # distinct, in order
    assert found == [] and tracebacks == [], (
        f"{len(found)} server errors; the first:\n" +
        json.dumps(found[:5], indent=2, ensure_ascii=False) +
        f"\n\n{len(tracebacks)} distinct server tracebacks; the first:\n" +
        "\n".join(tracebacks[:3]))
