"""Local accounts: PINs kept only as scrypt hashes; 5 wrong PINs lock for 5 minutes."""
import hashlib

import pytest

from core.errors import PermissionDenied, ValidationError
from core.users import LOCK_MINUTES, MAX_FAILURES, hash_pin, pin_matches


def test_pin_is_stored_as_an_scrypt_hash_only(office, production_strength_hashes):
    office.users.create("sara", "clerk", "482913")
    row = office.store.one("SELECT * FROM users WHERE username = 'sara'")
    algo, n, r, p, salt, digest = row["pin_hash"].split("$")
    assert (algo, int(n), int(r), int(p)) == ("scrypt", 2 ** 16, 8, 1)  # 64 MiB a guess
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 32
    assert hashlib.scrypt(b"482913", salt=bytes.fromhex(salt), n=2 ** 16, r=8, p=1,
                          dklen=32, maxmem=2 ** 27).hex() == digest
    # the PIN appears nowhere in the database: not in the row, the audit or the outbox
    dump = "\n".join(office.store.conn.iterdump())
    assert "482913" not in dump


def test_hashes_made_before_the_costlier_kdf_still_verify():
    salt = bytes(range(16))
    old = hashlib.scrypt(b"1234", salt=salt, n=2 ** 14, r=8, p=1, dklen=32).hex()
    stored = f"scrypt${2 ** 14}$8$1${salt.hex()}${old}"
    assert pin_matches("1234", stored) and not pin_matches("1235", stored)


@pytest.mark.parametrize("stored", [
    "", "scrypt", "scrypt$x$8$1$00$00", "scrypt$16384$8$1$zz$00",
    f"scrypt${2 ** 20}$8$1$00$00",  # a hash asking for 1 GiB is refused, not computed
    f"scrypt${2 ** 14}$64$1$00$00", f"scrypt${2 ** 14}$8$4$00$00", None])
def test_a_malformed_or_greedy_stored_hash_never_matches(stored):
    assert pin_matches("1234", stored) is False


@pytest.mark.parametrize("role, short, long_enough", [("clerk", "123", "1234"),
                                                      ("supervisor", "12345", "123456")])
def test_supervisors_need_longer_pins(office, role, short, long_enough):
    with pytest.raises(ValidationError, match=f"pin: .* digits for a {role}"):
        office.users.create("sara", role, short)
    assert office.users.create("sara", role, long_enough)["role"] == role
    with pytest.raises(ValidationError, match="pin: "):
        office.users.create("omar", role, "123456789")


def test_same_pin_different_salt():
    a, b = hash_pin("1234"), hash_pin("1234")
    assert a != b
    assert pin_matches("1234", a) and pin_matches("1234", b)
    assert not pin_matches("1235", a)


def test_authenticate_and_role(office):
    office.users.create("sara", "clerk", "1234")
    office.users.create("huda", "supervisor", "987654")
    assert office.users.authenticate("sara", "1234") == {"username": "sara", "role": "clerk"}
    assert office.users.authenticate("huda", "987654", role="supervisor")["role"] == "supervisor"
    with pytest.raises(PermissionDenied, match="sara is a clerk; this needs a supervisor"):
        office.users.authenticate("sara", "1234", role="supervisor")
    with pytest.raises(PermissionDenied, match="wrong user name or PIN"):
        office.users.authenticate("ghost", "1234")
    assert [u["username"] for u in office.users.list()] == ["huda", "sara"]
    assert "pin_hash" not in office.users.list()[0]


def test_five_wrong_pins_lock_the_name_for_five_minutes_here(office, clock):
    assert (MAX_FAILURES, LOCK_MINUTES) == (5, 5)
    office.users.create("sara", "clerk", "1234")
    for attempt in range(1, 5):
        with pytest.raises(PermissionDenied) as info:
            office.users.authenticate("sara", "0000")
        assert info.value.details == {"reason": "wrong_pin", "attempts_left": 5 - attempt}
        assert office.store.one("SELECT failed_attempts FROM users")["failed_attempts"] == \
            attempt
    with pytest.raises(PermissionDenied, match="locked here for 5 minutes"):
        office.users.authenticate("sara", "0000")
    assert office.store.one("SELECT locked_until FROM users")["locked_until"] == \
        "2026-11-24T08:05:00.000+00:00"  # recorded for the office to see
    # locked here: even the right PIN is refused, and nothing is counted
    clock.advance(minutes=4, seconds=59)
    with pytest.raises(PermissionDenied, match="locked here after 5 wrong PINs"):
        office.users.authenticate("sara", "1234")
    # after five minutes the right PIN works again and the count starts over
    clock.advance(seconds=1)
    assert office.users.authenticate("sara", "1234")["username"] == "sara"
    row = office.store.one("SELECT failed_attempts, locked_until FROM users")
    assert row == {"failed_attempts": 0, "locked_until": None}
    for _ in range(4):
        with pytest.raises(PermissionDenied):
            office.users.authenticate("sara", "9999")
    assert office.store.one("SELECT locked_until FROM users")["locked_until"] is None


def test_wrong_pin_after_the_lock_expires_starts_a_new_count(office, clock):
    office.users.create("sara", "clerk", "1234")
    for _ in range(5):
        with pytest.raises(PermissionDenied):
            office.users.authenticate("sara", "0000")
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(PermissionDenied) as info:
        office.users.authenticate("sara", "0000")
    assert info.value.details == {"reason": "wrong_pin", "attempts_left": 4}


def test_a_right_pin_resets_the_failure_count(office):
    office.users.create("sara", "clerk", "1234")
    for _ in range(3):
        with pytest.raises(PermissionDenied):
            office.users.authenticate("sara", "0000")
    office.users.authenticate("sara", "1234")
    for _ in range(4):
        with pytest.raises(PermissionDenied):
            office.users.authenticate("sara", "0000")
    assert office.users.authenticate("sara", "1234")  # 4 < 5: not locked


def test_failures_are_audited_with_the_user_as_actor(office):
    office.users.create("sara", "clerk", "1234")
    with pytest.raises(PermissionDenied):
        office.users.authenticate("sara", "0000")
    row = office.store.one("SELECT actor, action, data FROM audit ORDER BY seq DESC LIMIT 1")
    assert (row["actor"], row["action"]) == ("sara", "user.pin_failed")
    assert "0000" not in row["data"]


def test_a_pin_that_is_not_text_counts_as_wrong(office):
    office.users.create("sara", "clerk", "1234")
    with pytest.raises(PermissionDenied):
        office.users.authenticate("sara", 1234)
    assert office.store.one("SELECT failed_attempts FROM users")["failed_attempts"] == 1


@pytest.mark.parametrize("username, role, pin, field", [
    ("Sara", "clerk", "1234", "username"),
    ("s", "clerk", "1234", "username"),
    ("sara'--", "clerk", "1234", "username"),
    ("sara", "admin", "1234", "role"),
    ("sara", "clerk", "123", "pin"),
    ("sara", "clerk", "123456789", "pin"),
    ("sara", "clerk", "12a4", "pin"),
    ("sara", "clerk", 1234, "pin"),
])
def test_bad_accounts_are_refused(office, username, role, pin, field):
    with pytest.raises(ValidationError) as info:
        office.users.create(username, role, pin)
    assert info.value.field == field
    assert office.store.one("SELECT COUNT(*) AS n FROM users")["n"] == 0


def test_duplicate_user(office):
    office.users.create("sara", "clerk", "1234")
    with pytest.raises(ValidationError, match="already exists"):
        office.users.create("sara", "supervisor", "567890")
    assert office.users.authenticate("sara", "1234")["role"] == "clerk"
