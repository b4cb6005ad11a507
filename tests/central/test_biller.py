"""Central as the biller (central/bills.py, docs/bills.md): the networks' bill inquiry and
payment notification over real HTTP, signed with HMAC-SHA256, on SQLite and PostgreSQL.

Bills are put in through Bills.record (what ingest calls for bill.issued / bill.cancelled);
each bad input is its own test, asserting the clear error and that no table changed."""
from __future__ import annotations

import json
import stat
import threading
from dataclasses import dataclass

import pytest
import requests
import sqlalchemy as sa

from central.app import create_app
from central.bills import mask_name, sign
from central.db import (applications, bill_notifications, bill_refusals, bills, reference,
                        settlement_lines)
from central.service import Central
from core import bill_numbers
from core.clock import FrozenClock, iso, parse_iso

from central_servers import ServerThread

OFFICE, DEVICE = "MUH", "D01"
DEVICE_KEY = f"{OFFICE}/{DEVICE}"
START = "2026-11-24T08:00:00+00:00"
DUE = "2026-12-24T08:00:00+00:00"


def utc(text: str) -> str:  # central keeps times as core.clock.iso writes them
    return iso(parse_iso(text))


NAME, NATIONAL_ID = "Ali Hasan Ahmed", "850101234"
TABLES = (bills, bill_notifications, bill_refusals, settlement_lines, reference)


@dataclass
class World:
    central: Central
    clock: FrozenClock
    server: ServerThread
    secret: bytes

    @property
    def url(self) -> str:
        return self.server.url

    def add_bill(self, sequence: int, amount: int = 2500, due_at: str = DUE,
                 office: str = OFFICE) -> str:
        number = bill_numbers.make(office, DEVICE, sequence)
        app_id = f"app-{sequence}"
        with self.central.engine.begin() as conn:
            conn.execute(sa.insert(applications).values(
                id=app_id, number=f"{office}-{DEVICE}-A2026-{sequence:06d}", office=office,
                device_key=f"{office}/{DEVICE}", service_code="BUILD", state="submitted",
                fee_minor=amount, currency="BHD", source_seq=sequence,
                body=json.dumps({"id": app_id, "fields": {
                    "full_name": NAME, "national_id": NATIONAL_ID}})))
            self.central.bills.record(conn, f"{office}/{DEVICE}", office, [{
                "type": "bill.issued", "seq": sequence, "at": START,
                "data": {"number": number, "application_id": app_id,
                         "application_number": f"{office}-{DEVICE}-A2026-{sequence:06d}",
                         "amount_minor": amount, "currency": "BHD", "due_at": due_at,
                         "office": office}}])
        return number

    def cancel(self, number: str, sequence: int) -> None:
        with self.central.engine.begin() as conn:
            self.central.bills.record(conn, DEVICE_KEY, OFFICE, [{
                "type": "bill.cancelled", "seq": 1000 + sequence, "at": START,
                "data": {"number": number, "application_id": f"app-{sequence}",
                         "reason": "withdrawn"}}])

    def inquire(self, number: str, signature: str | None = None) -> requests.Response:
        path = f"/v1/biller/bills/{number}"
        signature = signature if signature is not None else sign(self.secret, path.encode())
        return requests.get(self.url + path, headers={"X-Biller-Signature": signature},
                            timeout=10)

    def pay(self, number: str, amount=2500, txn: str = "T1", paid_at: str = START,
            network: str = "sadad", signature: str | None = None,
            body: bytes | None = None) -> requests.Response:
        body = body if body is not None else json.dumps({
            "transaction_id": txn, "bill_number": number, "amount_minor": amount,
            "paid_at": paid_at, "network": network}).encode()
        signature = signature if signature is not None else sign(self.secret, body)
        return requests.post(self.url + "/v1/biller/payments", data=body, timeout=30,
                             headers={"X-Biller-Signature": signature,
                                      "Content-Type": "application/json"})

    def rows(self) -> dict:
        with self.central.engine.connect() as conn:
            return {t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(
                *t.primary_key.columns))] for t in TABLES}

    def changes(self, kind: str = "bill_payment") -> list:
        with self.central.engine.connect() as conn:
            return conn.execute(sa.select(reference).where(reference.c.kind == kind)).all()


@pytest.fixture
def world(tmp_path, central_db):
    clock = FrozenClock(START)
    central, _ = Central.init_root(tmp_path / "central", central_db, clock=clock)
    server = ServerThread(create_app(central)).start()
    try:
        yield World(central, clock, server, central.bills.secret())
    finally:
        server.stop()
        central.close()


# --- the secret -----------------------------------------------------------------------------
def test_the_secret_is_kept_private_and_rotates(world):
    path = world.central.home / "biller.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert world.central.bills.secret() == world.secret
    new = world.central.bills.secret(rotate=True)
    assert new != world.secret and len(new) == 64
    number = world.add_bill(1)
    assert world.inquire(number).status_code == 401  # the old secret no longer works


def test_every_worker_sees_one_secret_and_its_rotation(world, tmp_path):
    """Each uvicorn worker has its own Bills: the first use makes one secret whoever asks
    first, and a rotation made by one (or by the CLI) is what the others check next."""
    from central.bills import Bills

    class Home:
        home = tmp_path / "home"
    Home.home.mkdir()
    workers = [Bills(Home) for _ in range(6)]
    barrier, seen = threading.Barrier(6), []

    def first_use(bills):
        barrier.wait()
        seen.append(bills.secret())
    threads = [threading.Thread(target=first_use, args=(b,)) for b in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 1 and len(seen[0]) == 64
    rotated = workers[0].secret(rotate=True)
    assert rotated != seen[0] and {b.secret() for b in workers} == {rotated}
    assert sorted(p.name for p in Home.home.iterdir()) == ["biller.key"]  # no draft left


# --- inquiry ----------------------------------------------------------------------------------
def test_inquiry_masks_the_name(world):
    number = world.add_bill(1)
    response = world.inquire(number)
    assert response.status_code == 200
    answer = response.json()
    assert answer == {"number": number, "amount_minor": 2500, "currency": "BHD",
                      "due_at": utc(DUE), "status": "open", "name": "A*** H*** A***"}
    assert NAME not in response.text and "Hasan" not in response.text
    assert NATIONAL_ID not in response.text


def test_mask_name_keeps_only_first_letters():
    assert mask_name("علي حسن") == "ع*** ح***"
    assert mask_name("  ") is None and mask_name(None) is None


def test_inquiry_tells_expired_and_cancelled(world):
    expired = world.add_bill(1, due_at="2026-11-24T07:00:00+00:00")
    cancelled = world.add_bill(2)
    world.cancel(cancelled, 2)
    assert world.inquire(expired).json()["status"] == "expired"
    assert world.inquire(cancelled).json()["status"] == "cancelled"


def test_inquiry_with_a_bad_signature_is_refused(world):
    number = world.add_bill(1)
    response = world.inquire(number, signature="0" * 64)
    assert response.status_code == 401 and response.json()["error"] == "bad_signature"
    assert world.inquire(number, signature="").status_code == 401


def test_inquiry_of_an_unknown_bill_is_404(world):
    response = world.inquire(bill_numbers.make(OFFICE, DEVICE, 99))
    assert response.status_code == 404 and response.json()["error"] == "unknown_bill"


def test_inquiry_with_a_failing_check_digit_is_422(world):
    number = world.add_bill(1)
    wrong = number[:-2] + f"{(int(number[-2:]) + 1) % 100:02d}"
    response = world.inquire(wrong)
    assert response.status_code == 422 and response.json()["error"] == "bad_check_digit"


# --- payment ----------------------------------------------------------------------------------
def test_a_payment_accepted_is_published_to_the_bills_office(world):
    number = world.add_bill(1)
    response = world.pay(number)
    assert response.status_code == 200
    assert response.json() == {"transaction_id": "T1", "bill_number": number,
                               "outcome": "accepted"}
    [change] = world.changes()
    assert change.office == OFFICE and change.key == number
    assert json.loads(change.body) == {
        "number": number, "application_id": "app-1", "transaction_id": "T1",
        "network": "sadad", "amount_minor": 2500, "currency": "BHD", "paid_at": utc(START)}
    assert world.inquire(number).json()["status"] == "paid"


def test_the_same_notification_twice_counts_once(world):
    number = world.add_bill(1)
    first, second = world.pay(number), world.pay(number)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert len(world.rows()["bill_notifications"]) == 1
    assert len(world.changes()) == 1


def test_ten_concurrent_identical_notifications_count_once(world):
    number = world.add_bill(1)
    barrier, answers = threading.Barrier(10), []

    def send():
        barrier.wait()
        answers.append(world.pay(number))
    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r.status_code for r in answers] == [200] * 10
    assert {r.json()["outcome"] for r in answers} == {"accepted"}
    assert len(world.rows()["bill_notifications"]) == 1
    assert len(world.changes()) == 1


def test_a_second_transaction_for_a_paid_bill_is_recorded_for_refund(world):
    number = world.add_bill(1)
    assert world.pay(number, txn="T1").status_code == 200
    response = world.pay(number, txn="T2")
    assert response.status_code == 202 and response.json()["outcome"] == "refund_double"
    assert len(world.changes()) == 1  # the office hears of one payment


def test_a_bad_signature_is_401_and_changes_nothing(world):
    number = world.add_bill(1)
    before = world.rows()
    response = world.pay(number, signature="ab" * 32)
    assert response.status_code == 401 and response.json()["error"] == "bad_signature"
    assert world.rows() == before


def test_a_signature_of_another_body_is_401(world):
    number = world.add_bill(1)
    before = world.rows()
    other = json.dumps({"transaction_id": "T1", "bill_number": number, "amount_minor": 1,
                        "paid_at": START, "network": "sadad"}).encode()
    response = world.pay(number, signature=sign(world.secret, other))
    assert response.status_code == 401
    assert world.rows() == before


def test_a_replay_with_a_changed_amount_is_409_and_recorded(world):
    number = world.add_bill(1)
    assert world.pay(number).status_code == 200
    before = world.rows()
    response = world.pay(number, amount=2600)
    assert response.status_code == 409 and response.json()["error"] == "transaction_replayed"
    after = world.rows()
    assert after["bill_notifications"] == before["bill_notifications"]
    assert after["bills"] == before["bills"] and after["reference"] == before["reference"]
    [refusal] = after["bill_refusals"]
    assert refusal[2:6] == ("T1", number, 2600, "transaction_replayed")


def test_an_amount_that_does_not_match_is_409_and_recorded(world):
    number = world.add_bill(1)
    response = world.pay(number, amount=2400)
    assert response.status_code == 409 and response.json()["error"] == "amount_mismatch"
    [row] = world.rows()["bill_notifications"]
    assert "amount_mismatch" in row and 2400 in row
    assert world.changes() == [] and world.inquire(number).json()["status"] == "open"


def test_a_payment_for_an_unknown_bill_is_404_and_changes_nothing(world):
    world.add_bill(1)
    before = world.rows()
    response = world.pay(bill_numbers.make(OFFICE, DEVICE, 77))
    assert response.status_code == 404 and response.json()["error"] == "unknown_bill"
    assert world.rows() == before


def test_a_payment_with_a_failing_check_digit_is_422_and_changes_nothing(world):
    number = world.add_bill(1)
    before = world.rows()
    swapped = number.replace("B000001", "B000010")
    response = world.pay(swapped)
    assert response.status_code == 422 and response.json()["error"] == "bad_check_digit"
    assert world.rows() == before


@pytest.mark.parametrize("amount", [-2500, 0])
def test_a_negative_or_zero_amount_is_422_and_changes_nothing(world, amount):
    number = world.add_bill(1)
    before = world.rows()
    response = world.pay(number, amount=amount)
    assert response.status_code == 422 and response.json()["error"] == "invalid_amount"
    assert world.rows() == before


@pytest.mark.parametrize("amount", [2500.5, 25.0, "2500"])
def test_a_fractional_fils_amount_is_422_and_changes_nothing(world, amount):
    number = world.add_bill(1)
    before = world.rows()
    response = world.pay(number, amount=amount)
    assert response.status_code == 422 and response.json()["error"] == "invalid_amount"
    assert world.rows() == before


def test_a_body_that_is_not_json_is_refused_and_changes_nothing(world):
    world.add_bill(1)
    before = world.rows()
    response = world.pay("", body=b"{not json")
    assert response.status_code == 400
    assert world.rows() == before


def test_a_body_over_the_limit_is_refused_before_it_is_read(world):
    world.add_bill(1)
    before = world.rows()
    response = world.pay("", body=b"{" + b" " * 10_000 + b"}")
    assert response.status_code == 413
    assert world.rows() == before


def test_an_expired_bill_is_recorded_for_refund(world):
    number = world.add_bill(1, due_at="2026-11-24T07:00:00+00:00")
    response = world.pay(number)
    assert response.status_code == 202 and response.json()["outcome"] == "refund_expired"
    assert world.changes() == []
    assert world.inquire(number).json()["status"] == "expired"


def test_a_cancelled_bill_is_recorded_for_refund(world):
    number = world.add_bill(1)
    world.cancel(number, 1)
    response = world.pay(number)
    assert response.status_code == 202 and response.json()["outcome"] == "refund_cancelled"
    assert world.changes() == []


# --- what ingest records ----------------------------------------------------------------------
def test_a_bill_keeps_its_first_amount_and_another_offices_number_is_ignored(world):
    number = world.add_bill(1, amount=2500)
    with world.central.engine.begin() as conn:
        world.central.bills.record(conn, DEVICE_KEY, OFFICE, [{
            "type": "bill.issued", "seq": 50, "at": START,
            "data": {"number": number, "application_id": "app-1", "application_number": "x",
                     "amount_minor": 9999, "currency": "BHD", "due_at": DUE, "office": OFFICE}},
            {"type": "bill.issued", "seq": 51, "at": START,
             "data": {"number": bill_numbers.make("ZZZ", DEVICE, 1), "application_id": "a",
                      "application_number": "x", "amount_minor": 1, "currency": "BHD",
                      "due_at": DUE, "office": "ZZZ"}}])
    assert world.inquire(number).json()["amount_minor"] == 2500
    assert [r[0] for r in world.rows()["bills"]] == [number]



def test_a_bill_with_no_payable_amount_or_due_time_is_not_offered(world):
    good = world.add_bill(1)
    before = world.rows()
    with world.central.engine.begin() as conn:
        world.central.bills.record(conn, DEVICE_KEY, OFFICE, [
            {"type": "bill.issued", "seq": 60 + i, "at": START,
             "data": {"number": bill_numbers.make(OFFICE, DEVICE, 60 + i),
                      "application_id": "a", "application_number": "x", "amount_minor": amount,
                      "currency": "BHD", "due_at": due, "office": OFFICE}}
            for i, (amount, due) in enumerate([(-5, DUE), (2.5, DUE), (100, "soon")])])
    assert world.rows() == before and world.inquire(good).status_code == 200

# --- the whole path, with a real office ---------------------------------------------------------
def test_a_bill_made_at_an_office_is_paid_at_a_network_and_reaches_the_office(world,
                                                                                tmp_path):
    """The office pushes bill.issued; the network inquires and pays at central while the
    office is offline; on its next pull the office sees the application paid."""
    import random

    from core.clock import UlidFactory
    from core.office import Office
    from core.settings import load_settings
    from core.text import with_check_digit
    from sync.agent import SyncAgent, enrol

    settings = load_settings(tmp_path / "office", environ={
        "NAFITHA_OFFICE__CODE": OFFICE, "NAFITHA_DEVICE__ID": DEVICE})
    enrol(settings, world.url, world.central.enrol_code(OFFICE, role="hub")["code"])
    office = Office.open(settings, clock=world.clock,
                         ids=UlidFactory(world.clock, random.Random(7)))
    try:
        app = office.applications.submit("residence-certificate", {
            "full_name": "فاطمة علي", "phone": "33334444", "block": "204", "road": "15",
            "building": "12", "national_id": with_check_digit("85010001", "luhn")})
        bill = office.bills.for_application(app["id"])
        assert bill is not None and bill["state"] == "open"
        SyncAgent(office).once()
        answer = world.inquire(bill["number"]).json()
        assert answer["status"] == "open" and answer["amount_minor"] == bill["amount_minor"]
        assert answer["name"] == "ف*** ع***"
        # the office is offline now: the network pays at central
        assert world.pay(bill["number"], amount=bill["amount_minor"], txn="SADAD-1",
                         paid_at="2026-11-24T09:00:00+03:00").status_code == 200
        assert office.bills.for_application(app["id"])["state"] == "open"
        SyncAgent(office).once()  # back online: the payment arrives with the pull
        shown = office.bills.for_application(app["id"])
        assert shown["state"] == "paid" and shown["network"] == "sadad"
        assert office.applications.row(app["id"])["paid_at"] is not None
        SyncAgent(office).once()  # its bill.paid reaches central
        with world.central.engine.connect() as conn:
            row = conn.execute(sa.select(bills).where(bills.c.number == bill["number"])).one()
        assert row.paid_transaction == "SADAD-1" and row.office_paid_at is not None
        with world.central.engine.connect() as conn:  # central's copy of the application too
            state = conn.execute(sa.select(applications.c.state).where(
                applications.c.id == app["id"])).scalar_one()
        assert state == "approved"  # an instant-issue service: paying approved it
    finally:
        office.close()


# --- schemathesis on the biller routes, signed -------------------------------------------------
# tests/central/test_openapi.py calls every operation unsigned (each answer: 401); here each
# request is signed as a network would sign it, so that the checks behind the signature run:
# every answer documented and of its schema, nothing 5xx, and what the schema refuses refused.
import schemathesis
from urllib.parse import urlsplit

BILLER_SCHEMA = schemathesis.openapi.from_dict(
    create_app(None).openapi(), config=schemathesis.Config.from_dict({
        "seed": 20261206,
        "generation": {"max-examples": 40, "deterministic": True},
        "checks": {"positive_data_acceptance": {"enabled": False},
                   "negative_data_rejection": {"expected-statuses": [
                       "400", "401", "404", "405", "409", "413", "415", "422"]}}})
).include(path_regex="^/v1/biller/")


@pytest.fixture(scope="module")
def biller(start_central):
    served = start_central(None)
    return served, served.central.bills.secret()


@BILLER_SCHEMA.parametrize()
def test_biller_routes_conform_to_their_schema_when_signed(case, biller):
    served, secret = biller
    kwargs = case.as_transport_kwargs(base_url=served.url)
    if "json" in kwargs:
        kwargs["data"] = json.dumps(kwargs.pop("json")).encode()
    body = kwargs.get("data")
    if isinstance(body, str):
        kwargs["data"] = body = body.encode()
    message = body if case.method.upper() == "POST" else urlsplit(kwargs["url"]).path.encode()
    headers = {**(kwargs.pop("headers", None) or {}),
               "X-Biller-Signature": sign(secret, message or b"")}  # a generated one: replaced
    response = requests.request(headers=headers, timeout=30, **kwargs)
    assert response.status_code < 500
    case.validate_response(response)
