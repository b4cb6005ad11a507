"""bench/bills.py --quick runs end to end (bills made by a real office device and ingested by
central, central serving 2 uvicorn workers on an embedded PostgreSQL, signed notifications
over HTTP): every notification is answered 200 once and counted once in central's database,
the same notification sent 10 times at once counts once, and the JSON carries the figures.
No timings are asserted: the 500/s target is reported by the bench, not tested."""
import os

import pytest
from bench_loader import load_bench, run_quick

from central.bills import Bills, sign
from core import bill_numbers


@pytest.fixture(scope="module")
def report():
    return run_quick("bills")


@pytest.mark.slow
def test_every_notification_is_answered_200_once_and_held_once(report):
    sent = report["setup"]["notifications_per_run"]
    assert report["runs"] and sent > 0
    for run in report["runs"]:
        load = run["notifications"]
        assert load["sent"] == load["answered"] == sent
        assert load["statuses"] == {"200": sent} and load["errors"] == {}
        assert load["outcomes"] == {"accepted": sent}
        held = run["central_holds"]
        assert held["distinct_transactions_sent"] == sent
        assert held["notification_rows"] == held["accepted_rows"] == sent
        assert held["bills_paid"] == held["reference_changes"] == sent
        assert held["refusals"] == 0 and held["other_rows"] == 0
        assert run["every_notification_accepted_once"] is True
    assert report["every_notification_accepted_once"] is True


@pytest.mark.slow
def test_the_same_notification_ten_times_at_once_counts_once(report):
    for run in report["runs"]:
        dup = run["duplicate_check"]
        assert dup["sent"] == 10 and dup["answers"] == {"200": 10}
        assert dup["answered_accepted"] == 10  # each copy told the first answer
        assert dup["accepted"] == dup["notification_rows"] == 1
        assert dup["reference_changes"] == 1 and dup["paid_once"] is True
    assert report["duplicate_check"] == report["runs"][-1]["duplicate_check"]
    assert report["duplicates_counted_once"] is True


@pytest.mark.slow
def test_the_bills_came_through_centrals_ingest(report):
    setup = report["setup"]
    # application.submitted and bill.issued per bill, every one acknowledged by ingest
    assert setup["events_ingested"] == 2 * setup["bills"]
    assert setup["bills"] > setup["notifications_per_run"]


@pytest.mark.slow
def test_the_json_has_the_figures(report):
    assert report["workers"] == 2 and report["cpu_count"] == os.cpu_count()
    assert report["target"] == {"notifications_per_s": 500, "p99_ms": 200}
    assert report["notifications_per_s"] > 0
    assert report["p99_ms"] >= report["p95_ms"] >= report["p50_ms"] > 0
    met = report["notifications_per_s"] >= 500 and report["p99_ms"] <= 200
    assert report["target_met"] is met
    run = report["runs"][-1]
    assert run["workers"] == 2
    assert report["notifications_per_s"] == run["notifications"]["per_s"]
    base = report["baseline"]
    assert base["inquiries_per_s"] > 0 and base["inquiry_p99_ms"] > 0
    assert run["inquiry_baseline"]["outcomes"] == {"open": run["inquiry_baseline"]["sent"]}
    assert base["notifications_vs_inquiries"]["rate"] == pytest.approx(
        report["notifications_per_s"] / base["inquiries_per_s"], abs=0.01)
    cores = run["cpu_cores"]
    assert cores["central_workers"] > 0 and cores["postgresql"] > 0
    assert cores["machine_ceiling_notifications_per_s"] > 0
    assert run["postgresql"]["deadlocks"] == 0
    assert run["postgresql"]["tup_inserted"] >= report["setup"]["notifications_per_run"]


def test_a_notification_is_what_central_accepts_signed():
    bench = load_bench("bills")
    number = bill_numbers.make("MUH", "D01", 7)
    body = bench.notification({"number": number, "amount_minor": 2500}, "benchnet-1-000001")
    payment = Bills.parse_payment(body)
    assert payment["bill_number"] == number and payment["amount_minor"] == 2500
    assert payment["transaction_id"] == "benchnet-1-000001"
    assert bench.sign(b"secret", body) == sign(b"secret", body)


def test_measured_counts_answers_and_failures_apart():
    bench = load_bench("bills")
    results = [{"status": 200, "outcome": "accepted", "s": 0.010},
               {"status": 200, "outcome": "accepted", "s": 0.030},
               {"status": 409, "outcome": "amount_mismatch", "s": 0.020},
               {"status": None, "error": "ConnectionError", "s": None}]
    got = bench.measured(results, 2.0)
    assert got["sent"] == 4 and got["answered"] == 3 and got["per_s"] == 1.5
    assert got["statuses"] == {"200": 2, "409": 1}
    assert got["outcomes"] == {"accepted": 2, "amount_mismatch": 1}
    assert got["errors"] == {"ConnectionError": 1}
    assert got["latency_ms"]["p50"] == 20.0 and got["latency_ms"]["p99"] == 30.0
