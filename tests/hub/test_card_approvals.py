"""Issue 18's attack, over real HTTPS: a kiosk token cannot record a card payment the
terminal did not approve. What the hub can check without the terminal is refused at once
with its reason and changes nothing; what only the terminal knows is reconciled against its
batch report when the kiosk closes its day, every difference flagged."""
from __future__ import annotations

from test_hub_api import RES


def domain(db_state):
    """The store's rows but the paired devices' own (last contact, token renewal)."""
    return lambda: {t: rows for t, rows in db_state().items() if t != "hub_devices"}


def keyed(hub, path, body, token, key):
    return hub.http.post(hub.url + path, json=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})


def test_a_kiosk_token_cannot_invent_an_approval(hub, valid_fields, db_state):
    db_state = domain(db_state)
    kiosk = hub.token("kiosk", "kiosk-1")
    app = hub.office.applications.submit(RES, valid_fields())
    before = db_state()
    reply = keyed(hub, "/api/v1/kiosk/record-card-payment",
                  {"application": app["number"], "terminal_ref": "NOT-A-REAL-APPROVAL"},
                  kiosk, "attack-0001")
    assert reply.status_code == 422
    assert reply.json()["error"] == "invalid_input"
    assert reply.json()["field"] == "terminal_ref"
    assert "not one the card terminal gives" in reply.json()["message"]
    # the kiosk names no amount: a body carrying one is refused outright
    reply = keyed(hub, "/api/v1/kiosk/record-card-payment",
                  {"application": app["number"], "terminal_ref": "T0000001-000001-000001",
                   "amount_minor": 1}, kiosk, "attack-0002")
    assert reply.status_code == 422
    assert db_state() == before
    assert hub.office.applications.get(app["id"])["state"] == "submitted"


def test_a_replayed_approval_is_refused_with_its_reason(hub, valid_fields, db_state):
    db_state = domain(db_state)
    kiosk = hub.token("kiosk", "kiosk-1")
    first = hub.office.applications.submit(RES, valid_fields())
    second = hub.office.applications.submit(RES, valid_fields())
    ok = keyed(hub, "/api/v1/kiosk/record-card-payment",
               {"application": first["number"], "terminal_ref": "T0000001-000001-000001"},
               kiosk, "pay-0001")
    assert ok.status_code == 200 and ok.json()["amount_minor"] == first["fee_minor"]
    before = db_state()
    reply = keyed(hub, "/api/v1/kiosk/record-card-payment",
                  {"application": second["number"], "terminal_ref": "T0000001-000001-000001"},
                  kiosk, "pay-0002")
    assert reply.status_code == 409
    assert reply.json()["error"] == "invalid_state"
    assert reply.json()["reason"] == "reference_used"
    assert db_state() == before


def test_an_invented_approval_is_flagged_when_the_kiosk_closes_its_day(hub, valid_fields):
    """A well-shaped reference the terminal never gave passes the record-time checks; the
    terminal's batch report, submitted at the end of the day, disowns it."""
    kiosk = hub.token("kiosk", "kiosk-1")
    real = hub.office.applications.submit(RES, valid_fields())
    fake = hub.office.applications.submit(RES, valid_fields())
    for n, app in enumerate((real, fake), 1):
        assert keyed(hub, "/api/v1/kiosk/record-card-payment",
                     {"application": app["number"], "terminal_ref": f"T0000001-00000{n}-00000{n}"},
                     kiosk, f"pay-000{n}").status_code == 200
    report = {"terminal_id": "T0000001", "entries": [
        {"terminal_ref": "T0000001-000001-000001", "amount_minor": 1000, "currency": "BHD"},
        {"terminal_ref": "T0000001-000003-000003", "amount_minor": 2500, "currency": "BHD"}]}
    bad = keyed(hub, "/api/v1/kiosk/close-day", {"card_report": {"entries": []}}, kiosk,
                "close-0001")
    assert bad.status_code == 422 and bad.json()["field"] == "report"
    reply = keyed(hub, "/api/v1/kiosk/close-day", {"card_report": report}, kiosk, "close-0002")
    assert reply.status_code == 200
    check = reply.json()["card_check"]
    assert check["matched"] == 1 and check["differences"] == 2
    assert check["missing_from_office"] == ["T0000001-000003-000003"]
    [flagged] = hub.office.payments.disputes()["payments"]
    assert (flagged["application_number"], flagged["card_check"]) == \
        (fake["number"], "unconfirmed")


def test_each_kiosk_closes_its_own_day_against_its_own_terminal(hub, valid_fields):
    """Two kiosks, each with its own terminal, through the hub: each kiosk's payments are
    on its own shift, so each end of the day matches every payment of its own terminal,
    flags nothing and leaves the other kiosk's shift open."""
    tokens = {name: hub.token("kiosk", name) for name in ("kiosk-1", "kiosk-2")}
    tids = {"kiosk-1": "T0000001", "kiosk-2": "T0000002"}
    paid = {name: [] for name in tokens}
    for n, name in enumerate(("kiosk-1", "kiosk-2", "kiosk-1", "kiosk-2"), 1):
        app = hub.office.applications.submit(RES, valid_fields())
        reply = keyed(hub, "/api/v1/kiosk/record-card-payment",
                      {"application": app["number"],
                       "terminal_ref": f"{tids[name]}-{n:06d}-AB12CD"}, tokens[name],
                      f"pay-{name}-{n}")
        assert reply.status_code == 200, reply.text
        assert reply.json()["clerk"] == f"kiosk:{name}"
        paid[name].append(reply.json())
    days = {}
    for name in ("kiosk-1", "kiosk-2"):
        report = {"terminal_id": tids[name], "entries": [
            {"terminal_ref": p["reference"], "amount_minor": p["amount_minor"],
             "currency": "BHD"} for p in paid[name]]}
        reply = keyed(hub, "/api/v1/kiosk/close-day", {"card_report": report}, tokens[name],
                      f"close-{name}")
        assert reply.status_code == 200, reply.text
        days[name] = reply.json()
        assert days[name]["clerk"] == f"kiosk:{name}"
        assert days[name]["receipts"] == [p["receipt_number"] for p in paid[name]]
        assert (days[name]["card_check"]["matched"], days[name]["card_check"]["differences"]) \
            == (2, 0)
        if name == "kiosk-1":  # the other kiosk's shift is still open, its payments unjudged
            assert hub.office.payments.open_shift_of("kiosk:kiosk-2") is not None
    assert days["kiosk-1"]["shift_id"] != days["kiosk-2"]["shift_id"]
    assert {p["card_check"] for p in hub.office.store.all("SELECT * FROM payments")} == \
        {"matched"}
    assert hub.office.payments.disputes() == {"payments": [], "unrecorded_approvals": []}
    assert hub.office.store.one("SELECT COUNT(*) AS n FROM shifts")["n"] == 2
