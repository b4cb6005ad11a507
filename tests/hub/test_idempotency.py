"""Retries never double anything (issue 18): a keyed write carries an idempotency key; a
retry returns the first answer and changes nothing; the same key with another request is
refused; the hub client retries by itself (core/idempotency.py, hubclient/connection.py)."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
import requests

from core.errors import HubUnreachable
from hubclient import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from fault_proxy import FaultProxy  # noqa: E402

RES = "residence-certificate"
KEY = "take-ticket-0001"


def take(hub, token, key=KEY, service=RES, url=None):
    """A keyed take-ticket to the hub (or through a proxy at `url` showing its certificate)."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    return hub.http.post((url or hub.url) + "/api/v1/kiosk/take-ticket",
                         json={"service": service}, headers=headers, timeout=10)


def tickets(office) -> int:
    return office.store.one("SELECT COUNT(*) AS n FROM tickets")["n"]


def test_a_thousand_retries_of_one_keyed_ticket_make_one_ticket(hub, office):
    office.settings.hub.rate_limits = False  # the retries, not the per-minute limit, are tested
    token = hub.token("kiosk", "kiosk-1")
    first = take(hub, token)
    assert first.status_code == 200
    replies = {take(hub, token).text for _ in range(999)}
    assert replies == {first.text} and tickets(office) == 1
    assert office.store.one("SELECT COUNT(*) AS n FROM outbox WHERE type = 'ticket.taken'"
                            )["n"] == 1
    # another key is another ticket; the same key from another kiosk is its own
    assert take(hub, token, key="take-ticket-0002").json()["number"] != first.json()["number"]
    other = hub.token("kiosk", "kiosk-2")
    assert take(hub, other).json()["number"] not in (first.json()["number"],)
    assert tickets(office) == 3


def test_retries_through_a_faulty_network_make_one_ticket(hub, office):
    """400 sends of one keyed take-ticket through a proxy that drops requests and replies,
    answers 500/503 itself, cuts replies short, holds them past the timeout and sends some
    twice: one ticket, and every reply that arrived whole names it."""
    office.settings.hub.rate_limits = False
    token = hub.token("kiosk", "kiosk-1")
    weights = {"pass": 30, "drop_before": 10, "drop_after_commit": 15, "error_500": 5,
               "error_503": 5, "commit_then_503": 10, "truncate": 8, "truncate_json": 7,
               "duplicate": 10}
    numbers, faults = set(), 0
    cert = hub.devices.certificate
    with FaultProxy(hub.url, seed=18, weights=weights,
                    tls=(str(cert.certfile), str(cert.keyfile))) as proxy:
        for _ in range(400):  # each kind of fault some 20 to 60 times
            try:
                reply = take(hub, token, url=proxy.url)
                numbers.add(reply.json()["number"])
            except (requests.RequestException, ValueError, KeyError):
                faults += 1
    assert tickets(office) == 1 and len(numbers) == 1
    assert faults > 120  # the faults happened


def test_concurrent_retries_wait_for_the_first_and_get_its_reply(hub, office):
    token = hub.token("kiosk", "kiosk-1")
    replies = []

    def send():
        replies.append(take(hub, token).text)
    threads = [threading.Thread(target=send) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(replies)) == 1 and tickets(office) == 1


def test_a_key_reused_for_another_request_or_malformed_is_refused(hub, office, db_state):
    token = hub.token("kiosk", "kiosk-1")
    assert take(hub, token).status_code == 200
    before = db_state()
    other = take(hub, token, service="address-form")  # same key, another request
    assert other.status_code == 409 and other.json()["reason"] == "idempotency_conflict"
    for bad in ("short", "x" * 101, "spaces are not allowed", "émoji-🙂-key"):
        reply = hub.http.post(hub.url + "/api/v1/kiosk/take-ticket", json={"service": RES},
                              headers={"Authorization": f"Bearer {token}",
                                       "Idempotency-Key": bad.encode("utf-8").decode("latin-1")},
                              timeout=10)
        assert reply.status_code == 422 and reply.json()["field"] == "idempotency_key", bad
    assert db_state() == before


def test_a_clerks_keyed_write_is_recorded_under_the_clerk(hub, office, till):
    counter = hub.token("counter", "3")
    session = hub.http.post(hub.url + "/api/v1/counter/sign-in",
                            json={"username": "sara", "pin": "1234"},
                            headers={"Authorization": f"Bearer {counter}"},
                            timeout=10).json()["session"]
    office.queue.take_ticket(RES)
    headers = {"Authorization": f"Bearer {counter}", "X-Clerk-Session": session,
               "Idempotency-Key": "call-next-0001"}
    for _ in range(3):
        reply = hub.http.post(hub.url + "/api/v1/counter/call-next", json={},
                              headers=headers, timeout=10)
        assert reply.status_code == 200
    called = office.store.all("SELECT actor FROM audit WHERE action = 'ticket.called'")
    assert [r["actor"] for r in called] == ["sara"]


def test_the_hub_client_retries_by_itself_with_the_same_key(hub, office, tmp_path):
    """The kiosk's own client: a reply lost after the hub committed is asked again with the
    same key, and the resident gets the one ticket; a hub that is away is said at once."""
    office.settings.hub.rate_limits = False
    settings_dir = tmp_path / "kiosk"
    hub.kiosk(settings_dir, "kiosk-1")  # pairs it, and caches the hub's answers
    settings = hub.device_settings(settings_dir, "kiosk-1")
    weights = {"pass": 3, "drop_after_commit": 1}
    cert = hub.devices.certificate
    with FaultProxy(hub.url, seed=7, weights=weights,
                    tls=(str(cert.certfile), str(cert.keyfile))) as proxy:
        kiosk = connect("kiosk", settings, url=proxy.url)
        made = [kiosk.take_ticket(RES, None)["number"] for _ in range(30)]
        assert proxy.counts["drop_after_commit"] > 5  # replies were lost ...
    assert len(made) == len(set(made)) == tickets(office) == 30  # ... and none doubled
    away = connect("kiosk", settings, url="https://127.0.0.1:9")  # nothing listens there
    with pytest.raises(HubUnreachable):
        away.take_ticket(RES, None)
    assert tickets(office) == 30
