"""Central's revenue report by channel (central/revenue.py), on SQLite and PostgreSQL, from a
real office's work pushed by its sync agent and the network's signed notifications
(tests/central/bills_world.py): each channel apart, a bill paid twice counted once as
revenue and once as a refund due, voided payments left out, and each bad input refused
with a clear 422 (or 404) and nothing changed. Also `nafitha central revenue`."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from central.app import create_app
from central.db import metadata, payments
from central.revenue import revenue
from central.service import Central, CentralError
from central.staff import Staff
from core.clock import FrozenClock

from bills_world import PayingOffice
from central_offices import working_office
from central_servers import ServerThread

START = "2026-11-24T08:00:00+00:00"
DAY, NEXT = "2026-11-24", "2026-11-25"


@pytest.fixture
def paying(tmp_path, central_db):
    clock = FrozenClock(START)
    central, _ = Central.init_root(tmp_path / "central", central_db, clock=clock)
    server = ServerThread(create_app(central)).start()
    office = working_office(tmp_path, server.url, central, "MUH", "D01", clock, seed=1)
    office.users.create("omar", "supervisor", "567890")
    try:
        yield PayingOffice(central, server.url, office)
    finally:
        office.close()
        server.stop()
        central.close()


def everything(central) -> dict:
    with central.engine.connect() as conn:
        return {t.name: sorted(map(str, conn.execute(sa.select(t))))
                for t in metadata.sorted_tables}


def zero(**amounts) -> dict:
    return {"counter_cash": 0, "counter_card": 0, "counter_online": 0, "kiosk_card": 0,
            "network": 0, "other": 0, **amounts}


def test_each_channel_is_counted_apart_by_day_and_office(paying):
    cash = paying.counter("cash")
    card = paying.counter("card")
    kiosk = paying.kiosk_card()
    assert paying.network("SADAD-1").status_code == 200
    paying.office.store.clock.advance(hours=24)
    later = paying.counter("cash")
    paying.sync()
    report = revenue(paying.central, DAY, NEXT)
    first = zero(counter_cash=cash["amount_minor"], counter_card=card["amount_minor"],
                 kiosk_card=kiosk["amount_minor"], network=paying.bill_of(
                     paying.office.applications.get(kiosk["application_id"]))["amount_minor"])
    assert [{k: d[k] for k in first} for d in report["days"]] == \
        [first, zero(counter_cash=later["amount_minor"])]
    assert [(d["date"], d["office"], d["currency"]) for d in report["days"]] == \
        [(DAY, "MUH", "BHD"), (NEXT, "MUH", "BHD")]
    assert report["days"][0]["total"] == sum(first.values())
    assert report["totals"] == [{"currency": "BHD", **zero(
        counter_cash=cash["amount_minor"] + later["amount_minor"],
        counter_card=card["amount_minor"], kiosk_card=kiosk["amount_minor"],
        network=first["network"]), "total": sum(first.values()) + later["amount_minor"]}]
    assert report["channels"] == ["counter_cash", "counter_card", "kiosk_card", "network"]
    assert report["refunds_due"] == [] and report["timezone"] == "UTC"
    # One day, one office, the same office named: the same first row.
    assert revenue(paying.central, DAY)["days"] == report["days"][:1]
    assert revenue(paying.central, DAY, DAY, office="MUH")["days"] == report["days"][:1]


def test_a_bill_paid_at_the_counter_and_through_a_network_counts_once(paying):
    app = paying.submit()
    cash = paying.counter("cash", app)
    paying.sync()
    # The network does not know: central accepts it, and then sees the live counter payment.
    answer = paying.network("SADAD-9", app)
    assert answer.status_code == 200 and answer.json()["outcome"] == "accepted"
    bill = paying.bill_of(app)
    due = {"date": DAY, "office": "MUH", "bill_number": bill["number"],
           "transaction_id": "SADAD-9", "network": "sadad",
           "amount_minor": bill["amount_minor"], "currency": "BHD"}
    report = revenue(paying.central, DAY)
    assert report["days"][0]["counter_cash"] == cash["amount_minor"]
    assert report["days"][0]["network"] == 0
    assert report["days"][0]["total"] == cash["amount_minor"]
    assert report["refunds_due"] == [{**due, "source": "central", "reason": "double_payment"}]
    # The office applies it on its pull, flags it for refund, and says so.
    paying.sync()
    assert paying.office.payments.refunds_due()[0]["refund"] == "double_payment"
    again = revenue(paying.central, DAY)
    assert again["days"] == report["days"]
    assert again["refunds_due"] == [{**due, "source": "office", "reason": "double_payment"}]
    assert again["refund_totals"] == [{"currency": "BHD", "amount_minor": bill["amount_minor"],
                                       "count": 1}]


def test_a_payment_for_a_cancelled_bill_is_a_refund_not_revenue(paying):
    app = paying.submit()
    paying.office.applications.withdraw(app["id"], "changed her mind")
    paying.sync()
    answer = paying.network("SADAD-7", app)
    assert answer.status_code == 202 and answer.json()["outcome"] == "refund_cancelled"
    report = revenue(paying.central, DAY)
    assert report["days"] == [] and report["totals"] == []
    assert [(r["transaction_id"], r["source"], r["reason"]) for r in report["refunds_due"]] \
        == [("SADAD-7", "network", "cancelled")]


def test_voided_payments_and_office_network_payments_are_left_out(paying):
    kept = paying.counter("cash")
    voided = paying.counter("cash")
    paying.office.payments.void(voided["id"], "omar", "567890", "wrong application")
    paying.sync()
    # What an office sending its network payments as payment events would leave here: the
    # network's money comes from the notifications only.
    with paying.central.engine.begin() as conn:
        conn.execute(sa.insert(payments).values(
            id="net-1", receipt_number="MUH-D01-R9999999", application_id="app-x",
            office="MUH", device_key="MUH/D01", method="network", amount_minor=7000,
            currency="BHD", source_seq=1, body=json.dumps({"taken_at": START})))
    report = revenue(paying.central, DAY)
    assert report["days"][0]["counter_cash"] == kept["amount_minor"]
    assert report["days"][0]["total"] == kept["amount_minor"]


def test_an_office_or_municipality_limits_the_report(paying):
    paying.counter("cash")
    paying.sync()
    staff = Staff(paying.central)
    staff.add_municipality("test", "NORTH", "الشمال", "North")
    staff.add_municipality("test", "SOUTH", "الجنوب", "South")
    staff.assign_office("test", "MUH", "NORTH")
    everywhere = revenue(paying.central, DAY)["days"]
    assert everywhere and revenue(paying.central, DAY, municipality="NORTH")["days"] == \
        everywhere
    assert revenue(paying.central, DAY, municipality="SOUTH")["days"] == []
    with pytest.raises(CentralError) as refused:  # not SOUTH's office: as unknown as none
        revenue(paying.central, DAY, office="MUH", municipality="SOUTH")
    assert (refused.value.status, refused.value.code) == (404, "unknown_office")


@pytest.mark.parametrize(("args", "code"), [
    (("2026-13-01",), "invalid_date"),
    (("24-11-2026",), "invalid_date"),
    (("2026-11-24T00:00",), "invalid_date"),
    (("",), "invalid_date"),
    ((None,), "invalid_date"),
    ((DAY, "2026-02-30"), "invalid_date"),
    ((NEXT, DAY), "invalid_range"),
    (("2025-11-23", DAY), "range_too_long"),
])
def test_bad_dates_are_refused_and_nothing_changes(paying, args, code):
    paying.counter("cash")
    paying.sync()
    before = everything(paying.central)
    with pytest.raises(CentralError) as refused:
        revenue(paying.central, *args)
    assert (refused.value.status, refused.value.code) == (422, code)
    assert everything(paying.central) == before


def test_a_bad_office_is_refused(paying):
    before = everything(paying.central)
    for office, status, code in (("muh;", 422, "invalid_office"),
                                 ("NOPE", 404, "unknown_office")):
        with pytest.raises(CentralError) as refused:
            revenue(paying.central, DAY, office=office)
        assert (refused.value.status, refused.value.code) == (status, code)
    assert revenue(paying.central, "2025-11-24", DAY)["days"] == []  # 366 days: allowed
    assert everything(paying.central) == before


# --- the CLI ------------------------------------------------------------------------------------
def cli(central, *args):
    from nafitha.cli import cli as main
    db = central.engine.url.render_as_string(hide_password=False)
    db_args = [] if db.startswith("sqlite") else \
        ["--db", db.replace("postgresql+psycopg://", "postgresql://")]
    return CliRunner().invoke(main, ["central", "--home", str(central.home), *db_args, *args])


def test_cli_prints_the_report_and_refuses_bad_dates(paying):
    cash = paying.counter("cash")
    paying.sync()
    shown = cli(paying.central, "revenue", DAY, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == revenue(paying.central, DAY)
    human = cli(paying.central, "revenue", DAY, NEXT, "--office", "MUH")
    assert human.exit_code == 0, human.output
    amount = f"{cash['amount_minor'] / 1000:.3f}"
    assert f"{DAY} MUH" in human.output and amount in human.output
    assert "Refunds due: 0" in human.output
    bad = cli(paying.central, "revenue", NEXT, DAY)
    assert bad.exit_code == 1 and "is after to" in bad.output
