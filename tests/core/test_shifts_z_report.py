"""Shifts and the Z report: totals by method equal what the store holds for the shift;
expected cash = float + cash taken; the count at close gives the difference."""
import pytest

from core.errors import InvalidState, NotFound, ValidationError


@pytest.fixture
def busy_shift(office, submit_valid, till):
    """A shift with cash, card and online payments and one void."""
    take = office.payments.take
    apps = {name: submit_valid(service, **extra) for name, service, extra in [
        ("r1", "residence-certificate", {}),
        ("r2", "residence-certificate", {}),
        ("tax", "building-land-tax", {"assessed_amount": "37.250"}),
        ("a", "address-form", {}),
        ("b", "building-permit-small", {}),
        ("e", "excavation-permit", {}),
    ]}
    take(apps["r1"]["id"], "cash", till.clerk, tendered_minor=5_000)     # 1.000, change 4.000
    take(apps["tax"]["id"], "cash", till.clerk, tendered_minor=40_000)   # 37.250
    take(apps["a"]["id"], "card", till.clerk, reference="T1")           # 0.500
    take(apps["b"]["id"], "online", till.clerk, reference="G1")         # 20.000
    voided = take(apps["r2"]["id"], "cash", till.clerk, tendered_minor=1_000)  # 1.000
    office.payments.void(voided["id"], till.supervisor, till.supervisor_pin, "duplicate")
    take(apps["e"]["id"], "card", till.clerk, reference="T2")           # 15.000
    return till


def test_z_report_totals_equal_the_stored_payments(office, busy_shift):
    shift_id = busy_shift.shift["id"]
    z = office.payments.z_report(shift_id)
    live = office.store.all("SELECT method, amount_minor FROM payments WHERE shift_id = ? "
                            "AND voided_at IS NULL", (shift_id,))
    for method in ("cash", "card", "online"):
        amounts = [p["amount_minor"] for p in live if p["method"] == method]
        assert z["by_method"][method] == {"count": len(amounts), "total_minor": sum(amounts)}
    assert z["total_minor"] == sum(p["amount_minor"] for p in live)
    assert z["payments"] == len(live)
    # and by hand
    assert z["by_method"]["cash"] == {"count": 2, "total_minor": 38_250}
    assert z["by_method"]["card"] == {"count": 2, "total_minor": 15_500}
    assert z["by_method"]["online"] == {"count": 1, "total_minor": 20_000}
    assert z["total_minor"] == 73_750
    assert z["voids"] == {"count": 1, "total_minor": 1_000}
    assert z["float_minor"] == 20_000
    assert z["expected_cash_minor"] == 20_000 + 38_250
    assert len(z["receipts"]) == 5 and "MUH-D01-R0000005" not in z["receipts"]
    assert (z["shift"], z["clerk"], z["currency"], z["closed_at"]) == (1, "sara", "BHD", None)
    assert office.payments.z_report("1") == z  # by shift number too


@pytest.mark.parametrize("counted, difference", [(58_250, 0), (58_000, -250), (60_000, 1_750)])
def test_close_shift_difference(office, busy_shift, clock, counted, difference):
    clock.advance(hours=8)
    z = office.payments.close_shift("sara", counted)
    assert z["expected_cash_minor"] == 58_250
    assert (z["counted_minor"], z["difference_minor"]) == (counted, difference)
    assert z["closed_at"] == "2026-11-24T16:00:00.000+00:00"
    stored = office.store.one("SELECT * FROM shifts WHERE id = ?", (busy_shift.shift["id"],))
    assert (stored["expected_minor"], stored["counted_minor"], stored["difference_minor"]) == \
        (58_250, counted, difference)


def test_after_closing_no_more_payments_and_a_new_shift_starts_clean(office, busy_shift,
                                                                      submit_valid):
    office.payments.close_shift("sara", 58_250)
    app = submit_valid()
    with pytest.raises(InvalidState, match="no open shift"):
        office.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
    with pytest.raises(InvalidState):
        office.payments.close_shift("sara", 0)
    second = office.payments.open_shift("sara", 5_000)
    assert second["number"] == 2
    office.payments.take(app["id"], "cash", "sara", tendered_minor=1000)
    z = office.payments.z_report(second["id"])
    assert (z["total_minor"], z["expected_cash_minor"], z["payments"]) == (1_000, 6_000, 1)


def test_each_clerk_has_their_own_shift(office, till, submit_valid):
    office.users.create("omar", "clerk", "4321")
    omar = office.payments.open_shift("omar", 0)
    a, b = submit_valid(), submit_valid()
    office.payments.take(a["id"], "cash", "sara", tendered_minor=1000)
    office.payments.take(b["id"], "cash", "omar", tendered_minor=2000)
    assert office.payments.z_report(till.shift["id"])["expected_cash_minor"] == 21_000
    assert office.payments.z_report(omar["id"])["expected_cash_minor"] == 1_000


def test_one_open_shift_per_clerk(office, till):
    with pytest.raises(InvalidState, match="already has an open shift"):
        office.payments.open_shift("sara", 0)


@pytest.mark.parametrize("float_minor", [-1, 1.5, "100", True, 100_000_001])
def test_bad_float(office, float_minor):
    with pytest.raises(ValidationError) as info:
        office.payments.open_shift("sara", float_minor)
    assert info.value.field == "float"
    assert office.store.one("SELECT COUNT(*) AS n FROM shifts")["n"] == 0


@pytest.mark.parametrize("counted", [-1, 2.5, None])
def test_bad_count(office, till, counted):
    with pytest.raises(ValidationError):
        office.payments.close_shift("sara", counted)
    assert office.store.one("SELECT closed_at FROM shifts")["closed_at"] is None


def test_empty_shift_report(office, till):
    z = office.payments.z_report(till.shift["id"])
    assert (z["total_minor"], z["payments"], z["expected_cash_minor"]) == (0, 0, 20_000)
    with pytest.raises(NotFound):
        office.payments.z_report("99")
