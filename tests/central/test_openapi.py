"""Central's HTTP API against its own OpenAPI document (schemathesis).

Every operation of /openapi.json is called on a real central (uvicorn on loopback, one device
enrolled) with schema-valid and schema-violating requests, so that the authenticated paths run
too (/v1/events and /v1/reference take the device token, /v1/admin/* the admin token):
  - on SQLite, the whole API with the device's token, then the whole API with the admin token;
  - on PostgreSQL, each operation with the token it needs.

Each response must
  - not be a server error (5xx),
  - have a documented status code, content type and headers, and a body matching the schema
    documented for that status (errors: Problem {error, message}),
  - refuse what the schema refuses (negative_data_rejection; 413 counts as a refusal: too many
    events in one batch).
Not checked: positive_data_acceptance. Central refuses schema-valid requests for reasons a JSON
schema cannot carry (an unknown enrolment code, a rejection without a reason, a batch whose audit
chain does not verify), always with a documented 4xx and a Problem body, which is checked.

The run is derandomised with a fixed seed: the same requests on every run. An item fails with
schemathesis' report, which ends with a curl command that reproduces the request.

Note: `schemathesis.pytest.from_fixture` (a schema from a fixture) does not work with pytest
9.2 (it sets Node._nodeid), so the schema is the document the app generates, loaded at import;
test_published_document checks that a running central serves exactly that document.
"""
from __future__ import annotations

import pytest
import requests
import schemathesis

from central.app import create_app

OFFICE, DEVICE = "MUH", "D01"  # the device start_central (conftest.py) enrols
MAX_EXAMPLES = 25
SEED = 20261124

# create_app only stores the Central it is given; the OpenAPI document needs no database.
OPENAPI = create_app(None).openapi()

NEGATIVE_REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422",
                     "428", "429"]

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
    "checks": {
        "positive_data_acceptance": {"enabled": False},
        "negative_data_rejection": {"expected-statuses": NEGATIVE_REFUSALS},
    },
    # Batches (and enrolments) name the enrolled device, so that the device run gets past
    # "this token belongs to another device" to the envelope, sequence and audit-chain checks.
    "parameters": {
        "body.device": DEVICE, "body.office": OFFICE,
        "body.events[*].device": DEVICE, "body.events[*].office": OFFICE,
    },
})

schema = schemathesis.openapi.from_dict(OPENAPI, config=CONFIG)

EXPECTED_PATHS = {
    "/healthz", "/v1/enrol", "/v1/events", "/v1/reference", "/v1/licences/{number}",
    "/v1/admin/offices", "/v1/admin/applications/{number}/decision",
    "/v1/admin/licences/{number}/revoke",
}


@pytest.fixture(scope="module")
def on_sqlite(start_central):
    return start_central(None)


@pytest.fixture(scope="module")
def on_postgresql(start_central, pg):
    return start_central(pg.new_database())


# (database, whose token): on SQLite the whole API with the device's token, then with the
# admin's; on PostgreSQL each operation with the token it needs (admin for /v1/admin/*).
TARGETS = [("sqlite", "device"), ("sqlite", "admin"), ("postgresql", "needed")]


@pytest.fixture(scope="module", params=TARGETS, ids=["-".join(t) for t in TARGETS])
def target(request):
    database, role = request.param
    return request.getfixturevalue(f"on_{database}"), role


def bearer(running, role: str, path: str) -> dict:
    if role == "needed":
        role = "admin" if path.startswith("/v1/admin/") else "device"
    return running.admin if role == "admin" else running.device


@schema.parametrize()
def test_api_conforms_to_its_schema(case, target):
    running, role = target
    case.call_and_validate(base_url=running.url, headers=bearer(running, role, case.path),
                           timeout=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def running(request):
    return request.getfixturevalue(f"on_{request.param}")


def test_published_document(running):
    response = requests.get(f"{running.url}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert EXPECTED_PATHS <= set(document["paths"])
    assert document == OPENAPI  # what the schemathesis run above was generated from
    operations = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}
    assert {("GET", "/healthz"), ("POST", "/v1/enrol"), ("POST", "/v1/events"),
            ("GET", "/v1/reference"), ("GET", "/v1/licences/{number}"),
            ("GET", "/v1/admin/offices"), ("POST", "/v1/admin/applications/{number}/decision"),
            ("POST", "/v1/admin/licences/{number}/revoke")} <= operations
    # Errors are documented with one shape, the one central sends.
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"error", "message"}
