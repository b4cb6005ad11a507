"""The networks' daily settlement files and reconciliation (central/bills.py): each bad file is
refused or recorded as docs/bills.md says, and reconcile lists each kind of difference, and
nothing when the file and the notifications agree. Also `nafitha central settlement import`
and `nafitha central reconcile`."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from central.service import CentralError
from core import bill_numbers

from test_biller import DEVICE, OFFICE, world  # noqa: F401  (the fixture)

DAY = "2026-11-24"
HEADER = "date,transaction_id,bill_number,amount_minor,paid_at,network\n"


def line(txn: str, number: str, amount: int = 2500, date: str = DAY,
         at: str = f"{DAY}T09:00:00+00:00") -> str:
    return f"{date},{txn},{number},{amount},{at},sadad\n"


def paid(world, n: int) -> list[str]:  # noqa: F811
    """n bills, each paid once (transactions T1..Tn) on DAY."""
    numbers = []
    for i in range(1, n + 1):
        number = world.add_bill(i)
        assert world.pay(number, txn=f"T{i}", paid_at=f"{DAY}T09:0{i}:00+00:00") \
            .status_code == 200
        numbers.append(number)
    return numbers


def kinds(result: dict) -> list[tuple[str, str]]:
    return sorted((d["kind"], d["transaction_id"]) for d in result["differences"])


def test_a_file_that_agrees_reconciles_with_no_difference(world):  # noqa: F811
    a, b = paid(world, 2)
    result = world.central.bills.import_settlement(
        HEADER + line("T1", a, at=f"{DAY}T09:01:00+00:00") + line("T2", b))
    assert result == {"date": DAY, "lines": 2, "duplicate_lines": 0, "unknown_bills": 0}
    report = world.central.bills.reconcile(DAY)
    assert report["differences"] == [] and report["lines"] == 2
    assert report["notifications"] == 2


def test_reconcile_lists_each_kind_of_difference(world):  # noqa: F811
    a, b, c, d = paid(world, 4)
    expired = world.add_bill(9, due_at="2026-11-24T07:00:00+00:00")
    assert world.pay(expired, txn="T9", paid_at=f"{DAY}T10:00:00+00:00").status_code == 202
    unknown = bill_numbers.make(OFFICE, DEVICE, 555)
    world.central.bills.import_settlement(
        HEADER + line("T1", a)            # agrees
        + line("T2", b, amount=2501)      # amount differs
        + line("T5", c)                   # in the file, never notified
        + line("T1", a)                   # the same line again
        + line("T6", unknown)             # a bill central does not know
        + line("T9", expired))            # refunded: in the file, refund due
    # T3 and T4 were notified but are not in the file
    assert kinds(world.central.bills.reconcile(DAY)) == sorted([
        ("amount_differs", "T2"), ("in_file_not_notified", "T5"), ("duplicate_line", "T1"),
        ("unknown_bill", "T6"), ("notified_not_in_file", "T3"),
        ("notified_not_in_file", "T4"), ("refund_due", "T9")])
    assert d  # four bills were paid


def test_reconcile_before_any_file_lists_every_notification(world):  # noqa: F811
    paid(world, 1)
    report = world.central.bills.reconcile(DAY)
    assert report["file_imported"] is False
    assert kinds(report) == [("notified_not_in_file", "T1")]


def test_a_wrong_header_is_refused_and_nothing_is_kept(world):  # noqa: F811
    [a] = paid(world, 1)
    before = world.rows()
    with pytest.raises(CentralError) as caught:
        world.central.bills.import_settlement(
            "date,txn,bill,amount,paid_at,network\n" + line("T1", a))
    assert caught.value.code == "bad_header" and caught.value.status == 422
    assert world.rows() == before


def test_a_duplicated_line_is_recorded_as_a_difference(world):  # noqa: F811
    [a] = paid(world, 1)
    result = world.central.bills.import_settlement(HEADER + line("T1", a) + line("T1", a))
    assert result["duplicate_lines"] == 1 and result["lines"] == 2
    assert kinds(world.central.bills.reconcile(DAY)) == [("duplicate_line", "T1")]


def test_a_line_for_an_unknown_bill_is_recorded_as_a_difference(world):  # noqa: F811
    [a] = paid(world, 1)
    unknown = bill_numbers.make(OFFICE, DEVICE, 999)
    result = world.central.bills.import_settlement(HEADER + line("T1", a)
                                                   + line("T7", unknown))
    assert result["unknown_bills"] == 1
    assert kinds(world.central.bills.reconcile(DAY)) == [("unknown_bill", "T7")]


def test_a_date_already_imported_is_refused_and_nothing_is_kept(world):  # noqa: F811
    [a] = paid(world, 1)
    world.central.bills.import_settlement(HEADER + line("T1", a))
    before = world.rows()
    with pytest.raises(CentralError) as caught:
        world.central.bills.import_settlement(HEADER + line("T8", a))
    assert caught.value.code == "already_imported" and caught.value.status == 409
    assert world.rows() == before


def test_a_line_with_a_fractional_amount_refuses_the_file(world):  # noqa: F811
    [a] = paid(world, 1)
    before = world.rows()
    with pytest.raises(CentralError) as caught:
        world.central.bills.import_settlement(HEADER + line("T1", a).replace(",2500,",
                                                                              ",25.5,"))
    assert caught.value.code == "invalid_amount" and caught.value.details["line"] == 2
    assert world.rows() == before


def test_a_file_of_two_dates_is_refused(world):  # noqa: F811
    a, b = paid(world, 2)
    before = world.rows()
    with pytest.raises(CentralError) as caught:
        world.central.bills.import_settlement(HEADER + line("T1", a)
                                              + line("T2", b, date="2026-11-25"))
    assert caught.value.code == "mixed_dates"
    assert world.rows() == before


# --- the CLI ----------------------------------------------------------------------------------
def cli(world, *args):  # noqa: F811
    from nafitha.cli import cli as main
    home = str(world.central.home)
    db = world.central.engine.url.render_as_string(hide_password=False)
    if db.startswith("sqlite"):
        db_args = []
    else:
        db_args = ["--db", db.replace("postgresql+psycopg://", "postgresql://")]
    return CliRunner().invoke(main, ["central", "--home", home, *db_args, *args])


def test_cli_imports_and_reconciles(world, tmp_path):  # noqa: F811
    a, b = paid(world, 2)
    path = tmp_path / "settle.csv"
    path.write_text(HEADER + line("T1", a) + line("T2", b, amount=1))
    done = cli(world, "settlement", "import", str(path))
    assert done.exit_code == 0, done.output
    assert "Imported 2 line(s) for 2026-11-24" in done.output
    report = cli(world, "reconcile", DAY, "--json")
    assert report.exit_code == 0, report.output
    assert kinds(json.loads(report.output)) == [("amount_differs", "T2")]
    again = cli(world, "settlement", "import", str(path))
    assert again.exit_code != 0 and "already imported" in again.output


def test_cli_biller_secret_prints_and_rotates(world):  # noqa: F811
    shown = cli(world, "biller-secret")
    assert shown.exit_code == 0 and shown.output.strip() == world.secret.decode()
    rotated = cli(world, "biller-secret", "--rotate")
    assert rotated.exit_code == 0 and rotated.output.strip() != world.secret.decode()
    assert (world.central.home / "biller.key").read_text().strip() == rotated.output.strip()


@pytest.mark.parametrize("args", [["biller-secret"], ["settlement", "import"], ["reconcile"],
                                  ["revenue"]])
def test_cli_help_ends_with_an_example(args):
    from nafitha.cli import cli as main
    text = CliRunner().invoke(main, ["central", *args, "--help"]).output
    assert "Example:" in text and "nafitha central" in text.split("Example:")[1]
