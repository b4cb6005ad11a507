"""The hub refuses a body over its limit before reading it (a declared 200 MB, or a chunked
body that never ends: 413 at once), a Content-Length that is not a number (400), and sends
the security headers on every answer, pages included (core/http_policy.py)."""
import requests

from http_policy_probe import endless_chunks, raw_request


def test_a_declared_200_mb_body_is_refused_before_it_is_sent(hub):
    status, headers, body, seconds = raw_request(hub.url, "/api/v1/pair",
                                                 ["Content-Length: 200000000"])
    assert status == 413 and body["error"] == "too_large"
    assert "200000000 bytes; the limit here is 65536" in body["message"]
    assert seconds < 5  # answered without waiting for a byte of the body


def test_a_chunked_body_past_the_limit_is_cut_off(hub):
    status, _, body, _ = raw_request(hub.url, "/api/v1/pair",
                                     ["Transfer-Encoding: chunked"], endless_chunks())
    assert status == 413 and "over the limit here (65536 bytes)" in body["message"]


def test_a_length_that_is_not_a_number_is_refused(hub):
    # uvicorn's HTTP parser answers 400 itself; the policy's own check is the second line
    status, _, _, seconds = raw_request(hub.url, "/api/v1/pair", ["Content-Length: lots"])
    assert status == 400 and seconds < 5


def test_ordinary_requests_pass_and_every_answer_carries_the_headers(hub):
    token = hub.token("kiosk", "kiosk-1")
    for reply in (hub.http.get(hub.url + "/api/v1/health", timeout=10),
                  hub.http.get(hub.url + "/board", timeout=10),
                  hub.http.post(hub.url + "/api/v1/kiosk/take-ticket",
                                json={"service": "residence-certificate"},
                                headers={"Authorization": f"Bearer {token}"}, timeout=10),
                  hub.http.post(hub.url + "/api/v1/pair", json={"code": "WRONG"},
                                timeout=10)):
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["x-frame-options"] == "DENY"
        assert "default-src 'self'" in reply.headers["content-security-policy"]
    assert reply.status_code in (400, 403, 404, 422)  # the wrong code: refused as before


def test_no_page_loads_anything_from_elsewhere(hub):
    """FastAPI's /docs and /redoc would fetch Swagger UI from a CDN: they are not served; the
    OpenAPI document is."""
    for path in ("/docs", "/redoc"):
        assert hub.http.get(hub.url + path, timeout=10).status_code == 404
    assert hub.http.get(hub.url + "/openapi.json", timeout=10).json()["info"]["title"] == \
        "Nafitha hub"
