"""The hub's own rules, over real HTTP: device tokens, roles, clerk sessions, pairing codes,
malformed requests, concurrency, live updates and an unreachable hub. Each refusal is
checked to have changed nothing."""
from __future__ import annotations

import json
import re
import threading
import time

import pytest
import requests
from click.testing import CliRunner

from core.errors import HubUnreachable, PermissionDenied
from hubclient import join
from core.pairing import MAX_WRONG_CODES
from hubrig import RunningHub
from nafitha.cli import cli

RES = "residence-certificate"


def post(hub, path, body=None, token=None, session=None, raw=None):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if session:
        headers["X-Clerk-Session"] = session
    if raw is not None:
        headers["Content-Type"] = "application/json"
        return hub.http.post(hub.url + path, data=raw, headers=headers, timeout=10)
    return hub.http.post(hub.url + path, json=body, headers=headers, timeout=10)


def test_tokens_missing_wrong_and_revoked_are_refused(hub, db_state):
    token = hub.token("kiosk", "kiosk-1")
    before = db_state()
    for bad, reason in ((None, "token_missing"), ("nfh_made-up", "token_wrong")):
        reply = post(hub, "/api/v1/kiosk/take-ticket", {"service": RES}, token=bad)
        assert reply.status_code == 401 and reply.json()["reason"] == reason
    assert db_state() == before
    assert post(hub, "/api/v1/kiosk/take-ticket", {"service": RES}, token=token).status_code == 200
    hub.devices.revoke("kiosk-1")
    reply = post(hub, "/api/v1/kiosk/take-ticket", {"service": RES}, token=token)
    assert reply.status_code == 401 and reply.json()["reason"] == "token_revoked"
    assert hub.office.store.one("SELECT COUNT(*) AS n FROM tickets")["n"] == 1


def test_a_kiosk_token_cannot_do_clerk_work(hub, till, db_state):
    kiosk = hub.token("kiosk", "kiosk-1")
    board = hub.token("board", "hall")
    hub.office.queue.take_ticket(RES)
    before = db_state()
    for path, body in (("/api/v1/counter/sign-in", {"username": "sara", "pin": "1234"}),
                       ("/api/v1/counter/call-next", {}),
                       ("/api/v1/counter/find-by-name", {"name": "Fatima"}),
                       ("/api/v1/counter/void-payment", {"supervisor": "huda", "pin": "987654",
                                                         "receipt": "1", "reason": "x"})):
        reply = post(hub, path, body, token=kiosk)
        assert reply.status_code == 403, path
        assert reply.json() == {"error": "permission_denied", "reason": "role", "role": "kiosk",
                                "message": "a kiosk cannot do this (needs a counter)"}
    assert post(hub, "/api/v1/kiosk/take-ticket", {"service": RES}, token=board).status_code == 403
    assert db_state() == before


def test_clerk_work_needs_a_session_that_ends_with_sign_out_and_revocation(hub, till, tmp_path):
    counter = hub.token("counter", "3")
    hub.office.queue.take_ticket(RES)
    # Residents' names are read only by a signed-in clerk.
    reply = post(hub, "/api/v1/counter/find-by-name", {"name": "Fatima"}, token=counter)
    assert reply.status_code == 403 and reply.json()["reason"] == "not_signed_in"
    reply = post(hub, "/api/v1/counter/call-next", {}, token=counter)
    assert reply.status_code == 403 and reply.json()["reason"] == "not_signed_in"
    reply = post(hub, "/api/v1/counter/call-next", {}, token=counter, session="nfs_guess")
    assert reply.status_code == 403 and reply.json()["reason"] == "not_signed_in"
    session = post(hub, "/api/v1/counter/sign-in", {"username": "sara", "pin": "1234"},
                   token=counter).json()["session"]
    other = hub.token("counter", "4")
    reply = post(hub, "/api/v1/counter/call-next", {}, token=other, session=session)
    assert reply.json()["reason"] == "not_signed_in"  # a session belongs to its counter
    assert post(hub, "/api/v1/counter/sign-out", token=counter, session=session).ok
    reply = post(hub, "/api/v1/counter/call-next", {}, token=counter, session=session)
    assert reply.json()["reason"] == "signed_out"
    assert hub.office.queue.list(("waiting",))[0]["state"] == "waiting"
    # Revoking the counter ends its clerks' sessions with it.
    client = hub.counter(tmp_path, "5")
    client.sign_in("sara", "1234")
    hub.devices.revoke("5")
    with pytest.raises(PermissionDenied) as info:
        client.call_next("sara", None)
    assert info.value.details["reason"] == "token_revoked"


def test_malformed_requests_get_clear_errors_and_change_nothing(hub, db_state):
    kiosk = hub.token("kiosk", "kiosk-1")
    # The first request of a device records when it was last seen; compare after it.
    assert hub.http.get(hub.url + "/api/v1/me", headers={"Authorization": f"Bearer {kiosk}"},
                        timeout=10).json()["name"] == "kiosk-1"
    before = db_state()
    cases = [
        dict(raw="{not json"),
        dict(body={"service": RES, "colour": "red"}),
        dict(body={"service": 7}),
        dict(body={}),
        dict(body={"service": RES, "priority": "x" * 500}),
        dict(body=[RES]),
    ]
    for case in cases:
        reply = post(hub, "/api/v1/kiosk/take-ticket", token=kiosk, **case)
        assert reply.status_code == 422, case
        problem = reply.json()
        assert problem["error"] == "invalid_input" and problem["message"], case
    reply = post(hub, "/api/v1/kiosk/submit", {"service": RES, "fields": {"a": 1}},
                 token=kiosk)
    assert reply.status_code == 422 and "fields.a" in reply.json()["field"]
    reply = post(hub, "/api/v1/kiosk/record-card-payment",
                 {"application": "A1", "terminal_ref": ""}, token=kiosk)
    assert reply.status_code == 422
    assert db_state() == before


def test_a_device_sees_only_its_own_print_jobs(hub, tmp_path):
    first, second = hub.kiosk(tmp_path, "kiosk-1"), hub.kiosk(tmp_path, "kiosk-2")
    ticket = first.take_ticket(RES, None)
    job = first.enqueue_print("ticket", ticket["id"], "en")
    assert first.print_jobs().next_job()["id"] == job["id"]
    assert second.print_jobs().next_job() is None
    with pytest.raises(PermissionDenied) as info:
        second.print_jobs().get(job["id"])
    assert info.value.details["reason"] == "not_yours"
    with pytest.raises(PermissionDenied):
        second.print_jobs().mark_done(job["id"], 10)
    document = first.print_jobs().document(job["id"])
    assert document["number"] == ticket["number"]


def test_pairing_codes_are_single_use_expire_and_resist_guessing(hub, tmp_path, clock):
    code = hub.pair_code("kiosk", "kiosk-1")
    assert join(tmp_path / "a", hub.url, code.lower().replace("-", " "))["name"] == "kiosk-1"
    with pytest.raises(PermissionDenied) as info:
        join(tmp_path / "b", hub.url, code)
    assert info.value.details["reason"] == "pairing_code"
    late = hub.pair_code("kiosk", "kiosk-2")
    clock.advance(minutes=hub.office.settings.hub.pairing_minutes, seconds=1)
    with pytest.raises(PermissionDenied) as info:
        join(tmp_path / "c", hub.url, late)
    assert info.value.details["reason"] == "pairing_expired"
    assert not (tmp_path / "c" / "hub.json").exists()
    fresh = hub.pair_code("counter", "2")
    for _ in range(MAX_WRONG_CODES):
        with pytest.raises(PermissionDenied):
            join(tmp_path / "d", hub.url, "ABCD-EFGH")
    with pytest.raises(PermissionDenied) as info:
        join(tmp_path / "d", hub.url, fresh)  # even the right code waits out the minute
    assert info.value.details["reason"] == "too_many_attempts"
    paired = hub.office.store.all("SELECT name FROM hub_devices WHERE token_hash IS NOT NULL")
    assert [r["name"] for r in paired] == ["kiosk-1"]


def test_bad_pairing_requests_are_refused(hub):
    from core.errors import NotFound, ValidationError
    for role, name, services in (("printer", "p1", ()), ("kiosk", "kiosk 1", ()),
                                 ("kiosk", "k" * 21, ()), ("kiosk", "k1", (RES,)),
                                 ("counter", "2", ("no-such-service",))):
        with pytest.raises(ValidationError):
            hub.devices.create_pairing(role, name, list(services))
    hub.devices.create_pairing("kiosk", "k1")
    with pytest.raises(ValidationError):
        hub.devices.create_pairing("counter", "k1")  # a live name keeps its role
    with pytest.raises(NotFound):
        hub.devices.revoke("nobody")


def test_ten_kiosks_at_once_get_unique_consecutive_numbers(hub, tmp_path):
    kiosks = [hub.kiosk(tmp_path, f"kiosk-{i}") for i in range(10)]
    got, start = [], threading.Barrier(10)

    def take(kiosk):
        start.wait()
        for _ in range(5):
            got.append(kiosk.take_ticket(RES, None)["number"])
    threads = [threading.Thread(target=take, args=(k,)) for k in kiosks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = sorted(int(re.sub(r"\D", "", n)) for n in got)
    assert numbers == list(range(1, 51))


def test_counters_calling_at_once_never_share_a_ticket(hub, tmp_path, till):
    counters = [hub.counter(tmp_path, str(i)) for i in range(1, 6)]
    for c in counters:
        c.sign_in("sara", "1234")
    for _ in range(12):
        hub.office.queue.take_ticket(RES)
    called, start = [], threading.Barrier(5)

    def call(counter):
        start.wait()
        while (ticket := counter.call_next("sara", None)) is not None:
            called.append((ticket["number"], counter.counter))
    threads = [threading.Thread(target=call, args=(c,)) for c in counters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = [n for n, _ in called]
    assert len(numbers) == 12 and len(set(numbers)) == 12
    rows = hub.office.store.all("SELECT number, counter FROM tickets WHERE state = 'called'")
    assert sorted((r["number"], r["counter"]) for r in rows) == sorted(called)


def test_a_counter_hears_of_a_new_ticket_within_a_second(hub, tmp_path):
    counter = hub.counter(tmp_path, "3")
    kiosk = hub.kiosk(tmp_path, "kiosk-1")
    heard = []
    loop = counter.watch(lambda marker: heard.append((time.monotonic(), marker)))
    try:
        deadline = time.monotonic() + 5
        while not heard and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard, "no first event on connect"
        taken_at = time.monotonic()
        kiosk.take_ticket(RES, None)
        while len(heard) < 2 and time.monotonic() < taken_at + 5:
            time.sleep(0.01)
        assert len(heard) >= 2 and heard[-1][1] > heard[0][1]
        assert heard[-1][0] - taken_at < 1.0
    finally:
        loop.stop()


def test_an_unreachable_hub_is_said_plainly_and_work_resumes_when_it_returns(office, tmp_path):
    running = RunningHub(office)
    kiosk = running.kiosk(tmp_path, "kiosk-1")
    port = running.port
    kiosk.take_ticket(RES, None)
    running.stop()
    with pytest.raises(HubUnreachable) as info:
        kiosk.take_ticket(RES, None)
    assert info.value.code == "hub_unreachable" and kiosk.hub_online() is False
    assert office.store.one("SELECT COUNT(*) AS n FROM tickets")["n"] == 1
    back = RunningHub(office, port=port)
    try:
        assert kiosk.take_ticket(RES, None)["number"].endswith("2")
        assert kiosk.hub_online() is True
    finally:
        back.stop()


def test_cli_pairs_lists_joins_and_revokes(hub, settings, tmp_path):
    runner = CliRunner()
    base = ["--data", str(settings.data_dir)]
    out = runner.invoke(cli, base + ["hub", "pair", "counter", "2", "--services", RES,
                                     "--json"])
    assert out.exit_code == 0, out.output
    code = json.loads(out.output)["code"]
    device_dir = tmp_path / "counter2"
    out = runner.invoke(cli, ["--data", str(device_dir), "hub", "join", hub.url, code])
    assert out.exit_code == 0 and "Paired as counter 2" in out.output
    assert (device_dir / "hub.json").stat().st_mode & 0o777 == 0o600
    out = runner.invoke(cli, base + ["hub", "devices"])
    assert re.search(r"counter\s+2\s+paired serves " + RES, out.output)
    out = runner.invoke(cli, base + ["hub", "revoke", "2"])
    assert out.exit_code == 0 and "Revoked counter 2" in out.output
    out = runner.invoke(cli, base + ["hub", "pair", "kiosk", "no good name"])
    assert out.exit_code == 1 and "1-20 letters" in out.output
    out = runner.invoke(cli, ["--data", str(tmp_path / "x"), "hub", "join",
                              "https://127.0.0.1:9", "ABCD-EFGH"])
    assert out.exit_code == 1 and "does not answer" in out.output
    # the device API is HTTPS only: a plain address is refused before anything is sent
    out = runner.invoke(cli, ["--data", str(tmp_path / "x"), "hub", "join",
                              hub.board_url, "ABCD-EFGH"])
    assert out.exit_code == 1 and "https://HOST:PORT" in out.output
    assert not (tmp_path / "x" / "hub.json").exists()


def test_wrong_pairing_codes_pause_only_their_source(hub):
    """Ten wrong codes from one address pause that address for a minute; a device elsewhere
    on the LAN pairs on, and the paused one pairs once the minute has passed."""
    now = [1000.0]
    hub.devices.monotonic = lambda: now[0]
    for _ in range(MAX_WRONG_CODES):
        with pytest.raises(PermissionDenied):
            hub.devices.redeem("ABCD-EFGH", "10.0.0.66")
    with pytest.raises(PermissionDenied) as paused:
        hub.devices.redeem(hub.pair_code("counter", "2"), "10.0.0.66")
    assert paused.value.details["reason"] == "too_many_attempts"
    device, _ = hub.devices.redeem(hub.pair_code("counter", "3"), "10.0.0.7")
    assert device["name"] == "3"
    now[0] += 61
    device, _ = hub.devices.redeem(hub.pair_code("counter", "2"), "10.0.0.66")
    assert device["name"] == "2"


def test_one_kiosk_cannot_empty_the_days_numbers(hub, db_state):
    """take-ticket allows 20 a minute from one kiosk (its declared per_minute): the 21st is
    a 429 that says when to come back and takes no number; another kiosk goes on; the
    first may again once the minute has passed."""
    now = [500.0]
    hub.app.state.rates["kiosk.take_ticket"].monotonic = lambda: now[0]
    greedy, other = hub.token("kiosk", "kiosk-1"), hub.token("kiosk", "kiosk-2")
    for _ in range(20):
        assert post(hub, "/api/v1/kiosk/take-ticket", {"service": RES},
                    token=greedy).status_code == 200
    before = db_state()
    refused = post(hub, "/api/v1/kiosk/take-ticket", {"service": RES}, token=greedy)
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_requests"
    assert refused.json()["retry_after_s"] == 61
    assert db_state() == before
    assert post(hub, "/api/v1/kiosk/take-ticket", {"service": RES},
                token=other).status_code == 200
    now[0] += 60
    assert post(hub, "/api/v1/kiosk/take-ticket", {"service": RES},
                token=greedy).json()["number"] == "R022"


def test_a_supervisor_cancels_the_tickets_one_kiosk_took(hub, till, db_state):
    """Tickets remember the kiosk that took them; a supervisor cancels that kiosk's waiting
    tickets of today in one step (each cancelled and audited), the others' stay; a clerk or
    a wrong PIN changes nothing."""
    from core.errors import PermissionDenied as Denied

    greedy, honest = hub.token("kiosk", "kiosk-1"), hub.token("kiosk", "kiosk-2")
    taken = [post(hub, "/api/v1/kiosk/take-ticket", {"service": RES}, token=greedy).json()
             for _ in range(4)]
    kept = post(hub, "/api/v1/kiosk/take-ticket", {"service": RES}, token=honest).json()
    hub.office.queue.call_next("1")  # the first greedy ticket is already being served
    before = db_state()
    for who, pin in ((till.clerk, till.clerk_pin), (till.supervisor, "000000")):
        with pytest.raises(Denied):
            hub.office.cancel_tickets_taken_by("kiosk-1", who, pin, "script")
    after = db_state()  # the queue untouched (the wrong PIN itself is counted and audited)
    assert [after[t] for t in ("tickets", "ticket_events")] == \
        [before[t] for t in ("tickets", "ticket_events")]
    result = hub.office.cancel_tickets_taken_by("kiosk-1", till.supervisor,
                                                till.supervisor_pin, "a script took them")
    assert result == {"device": "kiosk-1", "cancelled": [t["number"] for t in taken[1:]]}
    states = {t["number"]: t["state"] for t in hub.office.queue.list(("waiting", "called",
                                                                      "cancelled"))}
    assert states[taken[0]["number"]] == "called" and states[kept["number"]] == "waiting"
    actors = hub.office.store.all("SELECT actor FROM audit WHERE action = "
                                  "'queue.bulk_cancelled'")
    assert actors == [{"actor": till.supervisor}]


@pytest.mark.parametrize("device, reason", [("kiosk-1", ""), ("kiosk-1", "  "),
                                            ("", "script"), ("kiosk-1", "a\nb")])
def test_a_bulk_cancel_needs_a_device_and_a_one_line_reason(hub, till, device, reason):
    from core.errors import ValidationError

    token = hub.token("kiosk", "kiosk-1")
    post(hub, "/api/v1/kiosk/take-ticket", {"service": RES}, token=token)
    with pytest.raises(ValidationError):
        hub.office.cancel_tickets_taken_by(device, till.supervisor, till.supervisor_pin, reason)
    assert hub.office.queue.list(("waiting",))[0]["state"] == "waiting"


def test_a_clerks_session_ends_after_the_counters_idle_time_and_after_a_day(hub, till, clock):
    """Issue 18: sessions expire on the server with the counter's idle lock
    (counter.lock_after_s) and after SESSION_MAX_HOURS, whatever the counter does."""
    from core.pairing import SESSION_MAX_HOURS
    counter = hub.token("counter", "3")
    idle = hub.office.settings.counter.lock_after_s

    def sign_in():
        return post(hub, "/api/v1/counter/sign-in", {"username": "sara", "pin": "1234"},
                    token=counter).json()["session"]

    def queue(session):
        return post(hub, "/api/v1/counter/find-by-name", {"name": "nobody"}, token=counter,
                    session=session).json()

    session = sign_in()
    clock.advance(seconds=idle - 1)
    assert queue(session).get("reason") != "signed_out"  # in use: it goes on
    clock.advance(seconds=idle - 1)
    assert queue(session).get("reason") != "signed_out"
    clock.advance(seconds=idle + 1)
    assert queue(session)["reason"] == "signed_out"  # idle longer than the lock
    assert queue(session)["reason"] == "signed_out"  # and it stays ended
    session = sign_in()  # the clerk's PIN starts a new one
    for _ in range(int(SESSION_MAX_HOURS * 3600 // (idle - 1)) + 2):
        clock.advance(seconds=idle - 1)
        if queue(session).get("reason") == "signed_out":
            break
    assert queue(session)["reason"] == "signed_out"
    assert clock.now().hour - 8 >= SESSION_MAX_HOURS - 1  # about a working day later
