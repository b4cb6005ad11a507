"""Central refuses a body over its route's limit before reading it: 64 KiB for enrolment and
the back office, the protocol's 16 MiB for an event batch; security headers everywhere."""
import pytest
import requests

from sync import protocol

from http_policy_probe import endless_chunks, raw_request


@pytest.fixture(scope="module")
def served(start_central):
    return start_central()


def test_an_enrolment_body_of_200_mb_is_refused_unread(served):
    status, _, body, seconds = raw_request(served.url, "/v1/enrol",
                                           ["Content-Length: 200000000"])
    assert status == 413 and body["error"] == "too_large" and seconds < 5
    status, _, body, _ = raw_request(served.url, "/v1/enrol", ["Transfer-Encoding: chunked"],
                                     endless_chunks())
    assert status == 413 and "65536 bytes" in body["message"]


def test_an_event_batch_may_be_larger_but_not_past_the_protocol_limit(served):
    over = protocol.MAX_BATCH_BYTES + 1
    status, _, body, _ = raw_request(served.url, "/v1/events", [f"Content-Length: {over}",
                                                                 *auth(served)])
    assert status == 413 and f"the limit here is {protocol.MAX_BATCH_BYTES}" in body["message"]
    # 1 MB of plain JSON passes the policy and reaches the protocol's own checks
    reply = requests.post(served.url + "/v1/events", data=b"[" + b" " * 1_000_000 + b"]",
                          headers={**served.device, "Content-Type": "application/json"},
                          timeout=30)
    assert reply.status_code != 413 and reply.json()["error"] != "too_large"


def auth(served) -> list[str]:
    return [f"{k}: {v}" for k, v in served.device.items()]


def test_every_answer_carries_the_security_headers(served):
    for reply in (requests.get(served.url + "/healthz", timeout=10),
                  requests.get(served.url + "/v1/licences/NOPE", timeout=10),
                  requests.post(served.url + "/v1/enrol", json={}, timeout=10)):
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]


def test_central_serves_no_cdn_pages(served):
    for path in ("/docs", "/redoc"):
        assert requests.get(served.url + path, timeout=10).status_code == 404
    assert requests.get(served.url + "/openapi.json", timeout=10).status_code == 200
