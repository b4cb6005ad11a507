"""Licences: only for an approved and paid application, once; numbered
{office}-{year}-{device}-{seq}; valid for the catalogue's days; revoked with a reason;
reprints counted, never renumbered."""
import json
import re
from datetime import datetime, timedelta

import pytest

from core.credentials import ceremony

from core.errors import InvalidState, NotFound, ValidationError
from core.office import Office
from core.settings import load_settings


@pytest.fixture
def paid_instant(office, submit_valid, till):
    app = submit_valid("residence-certificate", full_name="مريم عبدالله")
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    return app


def test_issue_for_an_approved_and_paid_application(office, paid_instant, valid_nid):
    lic = office.licences.issue(paid_instant["number"])
    assert lic["number"] == "MUH-2026-D01-000001"
    assert re.fullmatch(r"[A-Z0-9]{1,8}-\d{4}-[A-Z0-9]{1,8}-\d{6}", lic["number"])
    assert (lic["holder_name"], lic["national_id"]) == ("مريم عبدالله", valid_nid())
    assert (lic["licence_type"], lic["service_code"]) == ("RES", "residence-certificate")
    assert json.loads(lic["address"]) == {"block": "204", "road": "15", "building": "1203A"}
    assert lic["issued_at"] == "2026-11-24T08:00:00.000+00:00"
    assert office.applications.get(paid_instant["id"])["state"] == "issued"
    assert office.licences.get(lic["number"]) == lic


@pytest.mark.parametrize("service, days", [("residence-certificate", 90),
                                           ("building-permit-small", 365),
                                           ("excavation-permit", 30),
                                           ("building-completion-certificate", 3650)])
def test_validity_comes_from_the_catalogue(office, submit_valid, till, service, days):
    app = submit_valid(service)
    if office.catalog.get(service).issue == "review":
        office.applications.approve(app["id"])
    office.payments.take(app["id"], "card", till.clerk, reference="T")
    lic = office.licences.issue(app["id"])
    issued = datetime.fromisoformat(lic["issued_at"])
    assert datetime.fromisoformat(lic["valid_until"]) - issued == timedelta(days=days)
    assert days == office.catalog.get(service).validity_days


def test_numbers_count_up_and_restart_each_local_year(office, submit_valid, till, clock):
    numbers = []
    for when in ("2026-11-24T08:00:00+00:00", "2026-12-31T20:00:00+00:00",
                 "2026-12-31T21:30:00+00:00", "2027-01-02T08:00:00+00:00"):
        clock.set(when)
        app = submit_valid()
        office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
        numbers.append(office.licences.issue(app["id"])["number"])
    # 21:30 UTC on 31 December is 00:30 on 1 January in Bahrain
    assert numbers == ["MUH-2026-D01-000001", "MUH-2026-D01-000002",
                       "MUH-2027-D01-000001", "MUH-2027-D01-000002"]
    counters = [r[0] for r in office.store.conn.execute(
        "SELECT device_counter FROM licences ORDER BY issued_at")]
    assert counters == [1, 2, 3, 4]


def other_office(settings, clock, ids, root_key=None, types=("RES",)) -> Office:
    """An office on its own data directory; certified for `types` when root_key is given."""
    if root_key is not None:
        ceremony.setup_device(settings.data_dir, root_key, settings.device.id,
                              settings.office.code, list(types), int(clock.now().timestamp()))
    return Office.open(settings, clock=clock, ids=ids)


def paid(office, service, fields) -> dict:
    app = office.applications.submit(service, fields)
    office.payments.open_shift("kiosk", 0)
    office.payments.take(app["id"], "online", "kiosk", reference="G")
    return app


def test_number_carries_office_and_device(tmp_path, clock, ids, valid_fields, root_key):
    s = load_settings(tmp_path / "other", environ={"NAFITHA_OFFICE__CODE": "RIF",
                                                   "NAFITHA_DEVICE__ID": "K7"})
    office = other_office(s, clock, ids, root_key)
    try:
        app = paid(office, "R", valid_fields("R"))
        assert office.licences.issue(app["id"])["number"] == "RIF-2026-K7-000001"
    finally:
        office.close()


def test_unpaid_is_refused(office, submit_valid):
    app = submit_valid("building-permit-small")
    office.applications.approve(app["id"])
    with pytest.raises(InvalidState, match="not paid"):
        office.licences.issue(app["id"])


def test_unapproved_is_refused(office, submit_valid, till):
    app = submit_valid("building-permit-small")
    office.payments.take(app["id"], "card", till.clerk, reference="T")
    with pytest.raises(InvalidState, match="paid; a licence needs it approved"):
        office.licences.issue(app["id"])
    submitted = submit_valid("residence-certificate")
    with pytest.raises(InvalidState, match="submitted"):
        office.licences.issue(submitted["id"])
    assert office.store.one("SELECT COUNT(*) AS n FROM licences")["n"] == 0


def test_issued_once(office, paid_instant):
    first = office.licences.issue(paid_instant["id"])
    with pytest.raises(InvalidState) as info:
        office.licences.issue(paid_instant["id"])
    assert first["number"] in str(info.value) and "reprint" in str(info.value)
    assert office.store.one("SELECT COUNT(*) AS n FROM licences")["n"] == 1


def test_a_failed_issue_returns_its_number(office, paid_instant, submit_valid, till):
    def broken_signer(row):
        raise RuntimeError("signing key unavailable")

    office.signer = broken_signer
    with pytest.raises(RuntimeError):
        office.licences.issue(paid_instant["id"])
    assert office.applications.get(paid_instant["id"])["state"] == "approved"
    office.signer = lambda row: f"NF1:{row['number']}"
    lic = office.licences.issue(paid_instant["id"])
    assert lic["number"] == "MUH-2026-D01-000001"
    assert lic["device_counter"] == 1
    assert lic["signed_payload"] == "NF1:MUH-2026-D01-000001"


def test_revoke_with_a_reason(office, paid_instant, clock):
    lic = office.licences.issue(paid_instant["id"])
    with pytest.raises(ValidationError) as info:
        office.licences.revoke(lic["number"], " ")
    assert info.value.field == "reason"
    clock.advance(days=3)
    revoked = office.licences.revoke(lic["number"], "issued to the wrong person")
    assert revoked["revoked_at"] == "2026-11-27T08:00:00.000+00:00"
    assert revoked["revoke_reason"] == "issued to the wrong person"
    with pytest.raises(InvalidState, match="already revoked"):
        office.licences.revoke(lic["number"], "again")
    event = office.store.one("SELECT action, entity_id FROM audit ORDER BY seq DESC LIMIT 1")
    assert event == {"action": "licence.revoked", "entity_id": lic["id"]}


def test_reprint_is_counted_and_keeps_the_number(office, paid_instant):
    lic = office.licences.issue(paid_instant["id"])
    for n in (1, 2, 3):
        again = office.licences.record_reprint(lic["id"], "paper jam")
        assert (again["reprint_count"], again["number"]) == (n, lic["number"])
    assert office.licences.get(lic["id"])["reprint_count"] == 3
    assert office.store.one("SELECT COUNT(*) AS n FROM licences")["n"] == 1
    with pytest.raises(ValidationError):
        office.licences.record_reprint(lic["id"], "")


def test_unknown_licence(office):
    with pytest.raises(NotFound):
        office.licences.get("MUH-2026-D01-999999")
    with pytest.raises(NotFound):
        office.licences.issue("no-such-application")


def test_a_device_without_a_certificate_cannot_issue(tmp_path, clock, ids, valid_fields):
    office = other_office(load_settings(tmp_path / "bare", environ={}), clock, ids)
    try:
        app = paid(office, "R", valid_fields("R"))
        before = office.store.one("SELECT COUNT(*) AS n FROM outbox")["n"]
        with pytest.raises(InvalidState, match="cannot sign licences yet"):
            office.licences.issue(app["id"])
        assert office.store.one("SELECT COUNT(*) AS n FROM licences")["n"] == 0
        assert office.store.one("SELECT COUNT(*) AS n FROM outbox")["n"] == before
        assert office.applications.get(app["id"])["state"] == "approved"
    finally:
        office.close()


def test_a_type_outside_the_certificate_is_refused_before_numbering(tmp_path, clock, ids,
                                                                     valid_fields, root_key):
    office = other_office(load_settings(tmp_path / "res-only", environ={}), clock, ids,
                          root_key)
    try:
        app = paid(office, "T", valid_fields("T"))
        with pytest.raises(InvalidState, match="does not allow TAX"):
            office.licences.issue(app["id"])
        assert office.store.one("SELECT COUNT(*) AS n FROM licences")["n"] == 0
        assert office.store.one("SELECT value FROM sequences WHERE name LIKE 'licence:%'") is None
    finally:
        office.close()


def test_issued_licence_is_signed_and_the_payload_travels_in_the_event(office, submit_valid,
                                                                        till):
    app = submit_valid("residence-certificate")
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    lic = office.licences.issue(app["id"])
    assert lic["signed_payload"].startswith("NF1:")
    event = office.store.one("SELECT body FROM outbox WHERE type = 'licence.issued'")
    sealed = json.loads(event["body"])["data"]["signed_payload"]
    assert sealed.startswith("nfs1:")  # sealed with the resident's key (docs/privacy.md)
    assert office.sealer.open(app["id"], sealed) == lic["signed_payload"]
    result = office.verify_licence(lic["signed_payload"])
    assert result.valid and result.claims["number"] == lic["number"]
    assert result.claims["holder"] == lic["holder_name"]


def test_a_licence_revoked_here_is_refused_here_at_once(office, submit_valid, till):
    app = submit_valid("residence-certificate")
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    lic = office.licences.issue(app["id"])
    assert office.verify_licence(lic["signed_payload"]).valid
    office.licences.revoke(lic["number"], "issued to the wrong person")
    result = office.verify_licence(lic["signed_payload"])
    assert (result.valid, result.reason) == (False, "revoked")
    assert "wrong person" in result.detail


def test_signed_claims_are_repeatable_with_frozen_time_ids_and_randomness(tmp_path, clock,
                                                                           valid_fields,
                                                                           root_key):
    """House style 7: with the clock and the random source injected, two runs sign the same
    claims, national-ID salt included (each device has its own key, so the signatures
    differ)."""
    import random

    from core.clock import UlidFactory

    claims = []
    for run in ("one", "two"):
        s = load_settings(tmp_path / run, environ={})
        office = other_office(s, clock, UlidFactory(clock, random.Random(99)), root_key)
        try:
            app = paid(office, "R", valid_fields("R"))
            code = office.licences.issue(app["id"])["signed_payload"]
            claims.append(office.verify_licence(code).claims)
        finally:
            office.close()
    assert claims[0] == claims[1]  # salt and hash included
