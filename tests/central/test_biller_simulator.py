"""The payment-network simulator (central/biller_simulator.py), run as its own process against
a real central: whatever faults it makes, each bill is paid exactly once; its settlement file
imports, and the discrepancy it injects is the one difference reconcile reports."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from central.db import bill_notifications, bills

from test_biller import world  # noqa: F401  (the fixture)

DAY = "2026-11-24"
ROOT = Path(__file__).resolve().parents[2]


def simulate(world, tmp_path, numbers, faults="", discrepancy=None):  # noqa: F811
    log, settle = tmp_path / "sent.json", tmp_path / "settle.csv"
    args = [sys.executable, "-m", "central.biller_simulator", "--url", world.url,
            "--secret-file", str(world.central.home / "biller.key"),
            "--bills", ",".join(numbers), "--date", DAY, "--late-s", "0.1",
            "--network", "simnet", "--log", str(log), "--settlement", str(settle)]
    if faults:
        args += ["--faults", faults]
    if discrepancy:
        args += ["--discrepancy", discrepancy]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(log.read_text()), settle.read_text()


def test_every_fault_leaves_exactly_one_payment_per_bill(world, tmp_path):  # noqa: F811
    numbers = [world.add_bill(i) for i in (1, 2, 3)]
    log, _ = simulate(world, tmp_path, numbers, "duplicate,out_of_order,late,retry")
    sent = [s for s in log["sent"] if s["request"] == "payment"]
    # each payment sent three times (lost answer, again, duplicate), the first bill's last
    assert len(sent) == 9
    assert [s["bill_number"] for s in sent][-3:] == [numbers[0]] * 3
    assert [s["bill_number"] for s in sent][:3] == [numbers[2]] * 3  # reversed order
    assert {s["status"] for s in sent} == {200}
    with world.central.engine.connect() as conn:
        rows = conn.execute(sa.select(bill_notifications.c.bill_number,
                                      bill_notifications.c.outcome)).all()
        paid = conn.execute(sa.select(bills.c.number).where(
            bills.c.paid_at.is_not(None))).scalars().all()
    assert sorted(rows) == sorted((n, "accepted") for n in numbers)
    assert sorted(paid) == sorted(numbers)
    assert sorted(c.key for c in world.changes()) == sorted(numbers)


def test_a_bill_not_open_is_not_paid(world, tmp_path):  # noqa: F811
    open_bill = world.add_bill(1)
    cancelled = world.add_bill(2)
    world.cancel(cancelled, 2)
    log, _ = simulate(world, tmp_path, [open_bill, cancelled])
    assert [p["bill_number"] for p in log["payments"]] == [open_bill]
    assert [s["bill_status"] for s in log["sent"] if s["request"] == "inquiry"] == \
        ["open", "cancelled"]


def test_a_clean_settlement_file_reconciles_with_no_difference(world, tmp_path):  # noqa: F811
    numbers = [world.add_bill(i) for i in (1, 2)]
    _, text = simulate(world, tmp_path, numbers, "duplicate,retry")
    assert world.central.bills.import_settlement(text)["lines"] == 2
    assert world.central.bills.reconcile(DAY)["differences"] == []


@pytest.mark.parametrize("discrepancy,kind", [("missing", "notified_not_in_file"),
                                              ("extra", "in_file_not_notified"),
                                              ("amount", "amount_differs")])
def test_the_injected_discrepancy_is_what_reconcile_reports(world, tmp_path,  # noqa: F811
                                                            discrepancy, kind):
    numbers = [world.add_bill(i) for i in (1, 2, 3)]
    log, text = simulate(world, tmp_path, numbers, "out_of_order,late", discrepancy)
    world.central.bills.import_settlement(text)
    injected = log["settlement"]["discrepancy"]
    assert injected["kind"] == discrepancy
    differences = world.central.bills.reconcile(DAY)["differences"]
    assert [(d["kind"], d["transaction_id"]) for d in differences] == \
        [(kind, injected["transaction_id"])]
