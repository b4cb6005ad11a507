"""Every PIN takes one path (core.users.Users.authenticate, PinGuard): an unknown name and a
wrong PIN get the same answer after the same work; a name is locked only at the device that
failed it, so no device can hold a supervisor out everywhere; a device that keeps failing,
with any names, is slowed down; the kiosk's staff exit is guessed no faster (issue 18)."""
import pytest

from core import users as users_module
from core.errors import PermissionDenied
from core.users import DEVICE_BLOCK_S, DEVICE_FAILURES, PinGuard


def refusal(office, username, pin, role=None):
    with pytest.raises(PermissionDenied) as info:
        office.users.authenticate(username, pin, role=role)
    return str(info.value), info.value.details


def test_an_unknown_name_and_a_wrong_pin_get_the_same_answer_after_the_same_work(
        office, monkeypatch):
    office.users.create("huda", "supervisor", "987654")
    checked = []
    real = users_module.pin_matches
    monkeypatch.setattr(users_module, "pin_matches",
                        lambda pin, stored: checked.append(stored) or real(pin, stored))
    with PinGuard.at("device:A"):
        wrong = refusal(office, "huda", "111111")
    with PinGuard.at("device:B"):
        unknown = refusal(office, "hudaa", "111111")
    assert wrong == unknown == ("wrong user name or PIN",
                                {"reason": "wrong_pin", "attempts_left": 4})
    assert len(checked) == 2 and checked[1].startswith("scrypt$65536$")  # a real scrypt
    # a disabled account is told only to whoever knows its PIN
    office.store.conn.execute("UPDATE users SET disabled_at = '2026-11-01' WHERE username = 'huda'")
    with PinGuard.at("device:C"):
        assert refusal(office, "huda", "111111")[1]["reason"] == "wrong_pin"
        assert refusal(office, "huda", "987654")[1]["reason"] == "disabled"


def test_a_name_is_locked_only_at_the_device_that_failed_it(office, clock):
    office.users.create("huda", "supervisor", "987654")
    with PinGuard.at("device:K01"):  # a kiosk's token trying the supervisor's PIN
        for _ in range(5):
            refusal(office, "huda", "000000")
        text, details = refusal(office, "huda", "987654")
        assert details["reason"] == "locked" and "locked here" in text
    with PinGuard.at("device:C01"):  # the supervisor at a counter is not held out
        assert office.users.authenticate("huda", "987654", role="supervisor")
    assert office.users.authenticate("huda", "987654")  # nor on the hub itself
    # the failures were counted and audited under the account, with where they came from
    rows = office.store.all("SELECT action, data FROM audit WHERE entity_id = 'huda' "
                            "AND action IN ('user.pin_failed', 'user.locked') ORDER BY seq")
    assert [r["action"] for r in rows] == ["user.pin_failed"] * 4 + ["user.locked"]
    assert all('"at":"device:K01"' in r["data"] for r in rows)
    # an unknown name locks the same way (no difference to learn from)
    with PinGuard.at("device:K02"):
        for _ in range(5):
            refusal(office, "ghost", "000000")
        assert refusal(office, "ghost", "000000")[1]["reason"] == "locked"


def test_a_device_that_keeps_failing_is_slowed_down_for_every_name(office, clock, caplog):
    office.users.create("sara", "clerk", "1234")
    with PinGuard.at("device:K01"):
        for n in range(DEVICE_FAILURES):  # a different name each time: no name lock
            refusal(office, f"name{n}", "0000")
        text, details = refusal(office, "sara", "1234")  # even a right PIN waits
        assert details == {"reason": "throttled", "retry_after_s": DEVICE_BLOCK_S + 1}
        assert "too many wrong PINs from this device" in text
    assert "PIN guessing from device:K01" in caplog.text and "name0" not in caplog.text
    with PinGuard.at("device:C01"):  # another device is not slowed
        assert office.users.authenticate("sara", "1234")
    clock.advance(seconds=DEVICE_BLOCK_S + 1)
    with PinGuard.at("device:K01"):
        assert office.users.authenticate("sara", "1234")
        for n in range(DEVICE_FAILURES):
            refusal(office, f"again{n}", "0000")
        assert refusal(office, "sara", "1234")[1]["retry_after_s"] == 2 * DEVICE_BLOCK_S + 1


def test_the_kiosks_staff_exit_counts_wrong_pins_like_a_sign_in(office, clock):
    office.users.create("huda", "supervisor", "987654")
    check = office.users.staff_exit_pin_matches
    with PinGuard.at("device:K01"):
        assert check("987654", None) is True
        for _ in range(5):
            assert check("000000", None) is False
        with pytest.raises(PermissionDenied) as info:  # locked at this kiosk, 5 minutes
            check("987654", None)
        assert info.value.details["reason"] == "locked"
    with PinGuard.at("device:K02"):
        assert check("987654", None) is True
        for _ in range(5):  # the supervisor's own name locked at this kiosk ...
            refusal(office, "huda", "000000")
        assert check("987654", None) is False  # ... does not open the kiosk either
    clock.advance(minutes=5, seconds=1)
    with PinGuard.at("device:K01"):
        assert check("987654", None) is True
    with PinGuard.at("device:K03"):  # non-digits and wrong lengths count too
        for pin in ("12", "abcdef", None, "123456789"):
            assert check(pin, None) is False


def test_a_lock_and_its_count_outlive_the_process_at_the_same_place(office, settings, clock,
                                                                   ids):
    """Each CLI run is a new process, and a hub or app may restart: the wrong PINs at a place
    are read back from the audit, so five wrong PINs over five runs still lock the name
    there (and only there), until the lock runs out or a right PIN resets it."""
    from core.office import Office
    office.users.create("huda", "supervisor", "987654")

    def run(pin, place="cli"):  # one CLI run: a fresh Office, a fresh guard
        again = Office.open(settings, clock=clock, ids=ids)
        try:
            with PinGuard.at(place):
                return again.users.authenticate("huda", pin)
        finally:
            again.close()

    for left in (4, 3, 2, 1):
        with pytest.raises(PermissionDenied) as wrong:
            run("111111")
        assert wrong.value.details["attempts_left"] == left
    with pytest.raises(PermissionDenied) as locked:
        run("111111")
    assert locked.value.details["reason"] == "locked_now"
    with pytest.raises(PermissionDenied) as still:
        run("987654")  # the right PIN, in the next run: still locked here
    assert still.value.details["reason"] == "locked"
    assert run("987654", place="device:K1")["username"] == "huda"  # elsewhere it works
    clock.advance(minutes=6)
    assert run("987654")["username"] == "huda"
    with pytest.raises(PermissionDenied) as fresh:
        run("111111")
    assert fresh.value.details["attempts_left"] == 4  # the right PIN reset the count
