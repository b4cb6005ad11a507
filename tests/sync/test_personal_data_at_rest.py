"""Residents' personal data at rest (docs/privacy.md): sealed with a key per application on
the device and at central, readable where it is needed, erased on request without breaking
any chain, purged from the office after central has it and the case is closed."""
from __future__ import annotations

import json
import pytest
import requests
import sqlalchemy as sa

from central.db import reference, resident_keys
from central.service import CentralError
from core import documents
from core.sealing import PersonalDataGone, SealingError, data_key_path
from sync import protocol
from sync.agent import SyncAgent

from test_roundtrip import FORM, nid
from test_sync_bad_input import batch_of, bodies, post, token_of

RESIDENT = {**FORM, "full_name": "Zainab Qasim Al-Mahroos", "phone": "39871234",
            "block": "917", "road": "4421", "building": "3305"}
ARABIC = "زينب قاسم المحروس"


def markers(n: int) -> list[str]:
    """What must not be found in clear: the names (English, Arabic, JSON-escaped Arabic),
    the national ID, the phone."""
    escaped = json.dumps(ARABIC)[1:-1]  # \\u0632... as json.dumps(ensure_ascii=True) writes
    return [RESIDENT["full_name"], ARABIC, escaped, RESIDENT["phone"], nid(n)]


def files_holding(directory, needles: list[str]) -> dict[str, list[str]]:
    """{file: the needles found in it} over every file under the directory (databases with
    their -wal and -shm, keys, logs): what someone who copies the directory gets."""
    found = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits = [n for n in needles if n.encode("utf-8") in data]
        if hits:
            found[str(path.relative_to(directory))] = hits
    return found


def licensed(office, fields: dict) -> tuple[dict, dict]:
    if not office.store.one("SELECT 1 FROM users WHERE username = 'sara'"):
        office.users.create("sara", "clerk", "1234")
        office.payments.open_shift("sara", 20_000)
    app = office.applications.submit("residence-certificate", fields)
    office.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
    return app, office.licences.issue(app["id"])


def head(central) -> int:
    with central.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(reference.c.version))).scalar()


@pytest.fixture
def world(two_offices):
    return two_offices(("MUH", "D01"), ("SIT", "D01"))


def test_two_offices_and_central_hold_no_resident_details_in_clear(world, tmp_path):
    central, server, muh, sit = world
    app, licence = licensed(muh, {**RESIDENT, "national_id": nid(41)})
    arabic = sit.applications.submit("residence-certificate",
                                     {**RESIDENT, "full_name": ARABIC, "national_id": nid(42)})
    sit.applications.withdraw(arabic["id"], "changed her mind")
    muh.printing.enqueue("licence", licence["id"])
    for office in (muh, sit, muh, sit):
        assert SyncAgent(office).once()["status"]["pending"] == 0
    needles = markers(41) + [nid(42)]
    # the full cycle ran: central holds both offices' events and can read what it needs
    with central.engine.connect() as conn:
        assert central._opened(conn, app["id"], json.loads(central._application(
            conn, app["number"])["body"])["fields"]) is not None
        assert conn.execute(sa.select(sa.func.count()).select_from(resident_keys)).scalar() == 2
    for office in (muh, sit):
        office.store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    for where in (tmp_path / "MUH-D01", tmp_path / "SIT-D01", tmp_path / "central"):
        assert files_holding(where, needles) == {}, where
    # ... while the office reads them where they are needed, and finds them by national ID
    assert muh.applications.get(app["number"])["fields"]["full_name"] == RESIDENT["full_name"]
    assert muh.applications.search(nid(41), "MUH") == [app["number"]]
    assert muh.applications.find_by_name("mahroos") == [app["number"]]
    assert sit.applications.find_by_name("المحروس") == [arabic["number"]]
    assert documents.licence(muh, licence["id"])["holder_name"] == RESIDENT["full_name"]
    assert muh.verify_licence(licence["signed_payload"]).valid
    assert muh.verify_audit()["ok"] and sit.verify_audit()["ok"]


def test_erasure_at_central_reaches_the_office_and_breaks_no_chain(world):
    central, server, muh, sit = world
    app, licence = licensed(muh, {**RESIDENT, "national_id": nid(43)})
    kept, _ = licensed(muh, {**RESIDENT, "full_name": "Ali Hasan", "national_id": nid(44)})
    SyncAgent(muh).once()
    result = central.erase_resident([app["number"]], "resident's request R-17")
    assert result == {"erased": [app["number"]], "already": []}
    assert central.erase_resident([app["number"]], "again")["already"] == [app["number"]]
    with central.engine.connect() as conn:
        row = conn.execute(sa.select(resident_keys).where(
            resident_keys.c.application_id == app["id"])).mappings().one()
        assert row["wrapped"] is None and row["erase_reason"] == "resident's request R-17"
        assert central._opened(conn, app["id"], "nfs1:AAAA") is None
    assert SyncAgent(muh).once()["pulled"]["erased"] == 1
    gone = muh.applications.get(app["number"])
    assert gone["fields"] == {} and gone["personal_data"] == "erased"
    assert gone["state"] == "issued" and gone["number"] == app["number"]
    assert muh.licences.get(licence["id"])["holder_name"] is None
    with pytest.raises(PersonalDataGone, match="erased"):
        documents.licence(muh, licence["id"])
    receipt = muh.payments.live_for(app["id"])
    with pytest.raises(PersonalDataGone):
        documents.receipt(muh, receipt["id"])
    # the other resident is untouched; the device's chain and central's hold
    assert muh.applications.get(kept["number"])["fields"]["full_name"] == "Ali Hasan"
    assert muh.verify_audit()["ok"]
    counts = central.counts()
    assert counts["events"] == counts["audit"]
    # the paper licence still verifies offline: erasure is of data, not of the licence
    assert muh.verify_licence(licence["signed_payload"]).valid


def test_erasure_bad_input_changes_nothing(world):
    central, server, muh, _ = world
    app, _ = licensed(muh, {**RESIDENT, "national_id": nid(45)})
    SyncAgent(muh).once()
    before = head(central)
    for numbers, reason, code in (([app["number"], "MUH-D01-A2026-999999"], "x",
                                   "unknown_application"),
                                  ([app["number"]], "", "reason_required"),
                                  ([app["number"]], "two\nlines", "reason_required"),
                                  ([], "why", "nothing_to_erase")):
        with pytest.raises(CentralError) as refused:
            central.erase_resident(numbers, reason)
        assert refused.value.code == code
    assert head(central) == before  # no erasure reached the reference stream
    with central.engine.connect() as conn:
        assert conn.execute(sa.select(resident_keys.c.wrapped).where(
            resident_keys.c.application_id == app["id"])).scalar() is not None
    # over HTTP: admin only, numbers in the body
    url = server.url + "/v1/admin/erasures"
    body = {"numbers": [app["number"]], "reason": "request"}
    assert requests.post(url, json=body, timeout=10).status_code == 401
    assert requests.post(url, json={**body, "extra": 1}, timeout=10, headers={
        "Authorization": f"Bearer {central.admin_token}"}).status_code == 422
    ok = requests.post(url, json=body, timeout=10,
                       headers={"Authorization": f"Bearer {central.admin_token}"})
    assert ok.status_code == 200 and ok.json()["erased"] == [app["number"]]


def test_closed_cases_are_purged_only_after_central_confirmed_them(world, clock):
    central, server, muh, _ = world
    confirmed, _ = licensed(muh, {**RESIDENT, "national_id": nid(46)})
    still_open = muh.applications.submit("residence-certificate",
                                         {**RESIDENT, "national_id": nid(47)})
    SyncAgent(muh).once()
    unsent, _ = licensed(muh, {**RESIDENT, "national_id": nid(48)})  # not yet at central
    assert muh.purge_personal_data()["purged"] == 0  # nothing is old enough yet
    muh.settings.store.keep_personal_days = 30
    clock.advance(days=29)
    assert muh.purge_personal_data()["purged"] == 0
    clock.advance(days=2)
    assert muh.purge_personal_data() == {"purged": 1, "keep_days": 30}
    assert muh.applications.get(confirmed["id"])["personal_data"] == "purged"
    assert muh.applications.get(still_open["id"])["fields"]["national_id"] == nid(47)
    assert muh.applications.get(unsent["id"])["fields"]["national_id"] == nid(48)
    assert SyncAgent(muh).once()["purged"] == 1  # the agent purges once central has it
    assert muh.applications.get(unsent["id"])["personal_data"] == "purged"
    with central.engine.connect() as conn:  # central keeps what the municipality must
        assert all(central._opened(conn, a["id"], json.loads(central._application(
            conn, a["number"])["body"])["fields"]) for a in (confirmed, unsent))
    muh.settings.store.keep_personal_days = 0
    assert muh.purge_personal_data()["purged"] == 0


def test_a_sealed_value_cannot_be_moved_or_read_without_its_key(world):
    central, server, muh, _ = world
    first = muh.applications.submit("residence-certificate", {**RESIDENT, "national_id": nid(49)})
    second = muh.applications.submit("residence-certificate",
                                     {**RESIDENT, "full_name": "Ali Hasan",
                                      "national_id": nid(50)})
    stolen = muh.store.one("SELECT fields FROM applications WHERE id = ?", (first["id"],))
    muh.store.conn.execute("UPDATE applications SET fields = ? WHERE id = ?",
                           (stolen["fields"], second["id"]))
    with pytest.raises(SealingError, match="does not open"):
        muh.applications.get(second["id"])
    path = data_key_path(muh.settings.data_dir)
    key = path.read_bytes()
    path.unlink()
    with pytest.raises(SealingError, match="restore the file"):
        muh.applications.get(first["id"])
    path.write_bytes(key[:16])
    with pytest.raises(SealingError, match="not a data key"):
        muh.applications.get(first["id"])
    path.write_bytes(key)
    assert muh.applications.get(first["id"])["fields"]["national_id"] == nid(49)


def test_central_refuses_sealed_values_without_their_key_per_event(world):
    central, server, muh, _ = world
    muh.queue.take_ticket("residence-certificate")
    app = muh.applications.submit("residence-certificate", {**RESIDENT, "national_id": nid(51)})
    events = bodies(muh)
    submitted = next(e for e in events if e["type"] == "application.submitted")  # then its bill
    token = token_of(muh)
    # a key for an application no event names, and a key that is not one: the whole batch
    stray = {**batch_of(muh, events), "keys": {"01NOTNAMED": "A" * 43}}
    assert "no event of the batch names" in post(server.url, token, stray).json()["message"]
    bad = {**batch_of(muh, events), "keys": {app["id"]: "short"}}
    assert "32 bytes" in post(server.url, token, bad).json()["message"]
    wrong = {**batch_of(muh, events), "keys": {app["id"]: "B" * 42 + "A"}}
    reply = post(server.url, token, wrong).json()
    bill = next(e for e in events if e["type"] == "bill.issued")
    # the application's bill builds on it, so it is refused with it (central/authority.py)
    assert [(r["id"], r["code"]) for r in reply["refused"]] == [
        (submitted["id"], "key_missing"), (bill["id"], "depends_on_refused")]
    assert "do not open" in reply["refused"][0]["reason"]
    with central.engine.connect() as conn:  # a refused event's key is not kept
        assert conn.execute(sa.select(sa.func.count()).select_from(resident_keys)).scalar() == 0
    # the same event with no key: refused alone (the ticket before it is accepted), held
    keyless = {**batch_of(muh, events), "keys": {}}
    reply = post(server.url, token, keyless).json()
    assert reply["refused"][0]["code"] == "key_missing"
    # newest first: the bill refused with it, then the application itself
    assert [r["event_id"] for r in central.rejections()[:2]] == [bill["id"], submitted["id"]]
    # the device's agent sends the key: accepted on the operator's retry
    SyncAgent(muh).once()
    muh.retry_held_event("all", "sara")
    assert SyncAgent(muh).once()["status"]["pending"] == 0
    assert central.counts()["applications"] == 1


def test_an_office_upgraded_from_clear_values_seals_them(settings, clock, ids, monkeypatch,
                                                          valid_nid):
    from core import migrations
    from core.office import Office
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:11])
    office = Office.open(settings, clock=clock, ids=ids)
    office.users.create("sara", "clerk", "1234")
    office.payments.open_shift("sara", 0)
    fields = {**RESIDENT, "national_id": valid_nid()}
    app = office.applications.submit("residence-certificate", fields)
    assert json.loads(office.store.one("SELECT fields FROM applications")["fields"]) == fields
    office.close()
    monkeypatch.undo()
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        stored = office.store.one("SELECT fields, national_id_tag FROM applications")
        assert stored["fields"].startswith("nfs1:") and stored["national_id_tag"]
        assert office.applications.get(app["id"])["fields"] == fields
        assert office.applications.search(valid_nid(), "MUH") == [app["number"]]
        office.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
        assert office.verify_audit()["ok"]  # earlier entries stay as written: the chain holds
    finally:
        office.close()


def test_every_event_carries_personal_values_only_sealed(world):
    central, server, muh, _ = world
    app, licence = licensed(muh, {**RESIDENT, "national_id": nid(52)})
    muh.licences.record_reprint(licence["id"], "lost")
    carried = [e for e in bodies(muh) if e["type"] in protocol.REQUIRED_DATA]
    text = json.dumps(carried, ensure_ascii=False)
    assert [m for m in markers(52) if m in text] == []
    issued = next(e for e in carried if e["type"] == "licence.issued")["data"]
    assert all(issued[c].startswith("nfs1:") for c in ("holder_name", "national_id",
                                                        "address", "signed_payload"))
    assert muh.sealer.open(app["id"], issued["holder_name"]) == RESIDENT["full_name"]
