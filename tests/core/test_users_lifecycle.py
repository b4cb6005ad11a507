"""An operator's changes to a local account (issue 25, "no way to disable a leaver or reset a
PIN"): disable, enable, reset-pin. A disabled account signs in nowhere; each change is one
audit entry and event with no PIN in it; bad input is refused with a clear error and
changes nothing."""
import json
import re

import pytest
from click.testing import CliRunner

from core.errors import InvalidState, NotFound, PermissionDenied, ValidationError
from core.faces.counter import CounterFace
from core.pairing import Devices
from core.users import PinGuard, Users
from nafitha.cli import cli
from ui.i18n import Translations
from ui.messages import error_text


@pytest.fixture
def staff(office):
    office.users.create("sara", "clerk", "1234")
    office.users.create("huda", "supervisor", "987654")
    return office.users


def audit_of(office, username):
    return [(r["action"], r["actor"], json.loads(r["data"])) for r in office.store.all(
        "SELECT action, actor, data FROM audit WHERE entity_id = ? ORDER BY seq", (username,))]


def refused(operation, *args, **kwargs):
    with pytest.raises(PermissionDenied) as info:
        operation(*args, **kwargs)
    return info.value


def test_a_disabled_account_signs_in_nowhere(office, staff):
    hub = Devices(office)  # a service centre's counter with sara signed in before
    counter = hub.authenticate(hub.redeem(hub.create_pairing("counter", "3")["code"])[1])
    session = hub.start_session(counter, "sara")
    assert hub.session_user(counter, session) == "sara"

    with office.acting_as("cli:op"):
        account = staff.disable("sara")
    assert account["username"] == "sara" and account["disabled_at"] is not None
    assert not staff.is_active("sara")
    # the one PIN path: with her right PIN, told disabled; the counter's sign-in too
    assert refused(staff.authenticate, "sara", "1234").details["reason"] == "disabled"
    face = CounterFace(office, "3")
    denied = refused(face.sign_in, "sara", "1234")
    assert denied.details["reason"] == "disabled"
    # her open session at the hub's counter is refused at its next step, and ends: enabling
    # her again does not revive it
    assert refused(hub.session_user, counter, session).details["reason"] == "disabled"
    with office.acting_as("cli:op"):
        staff.enable("sara")
    assert refused(hub.session_user, counter, session).details["reason"] == "signed_out"
    with office.acting_as("cli:op"):
        staff.disable("sara")
    # the counter shows words for it in both languages, not core's English
    words = Translations.load("counter")
    def in_(lang):
        return lambda key, **params: words.get(key, lang, **params)
    in_ar, in_en = in_("ar"), in_("en")
    assert error_text(denied, in_en, "en") == "This account is disabled."
    assert error_text(denied, in_ar, "ar") == words.get("error.disabled", "ar")
    assert "معطل" in error_text(denied, in_ar, "ar")
    # one audit entry under the operator, naming the account, with no PIN or hash in it
    action, actor, data = audit_of(office, "sara")[-1]
    assert (action, actor, data) == ("user.disabled", "cli:op",
                                     {"username": "sara", "role": "clerk"})
    row = office.store.one("SELECT pin_hash FROM users WHERE username = 'sara'")
    dump = "\n".join(office.store.conn.iterdump())
    assert dump.count(row["pin_hash"]) == 1  # the users row only: no copy in audit/outbox


def test_a_disabled_supervisor_authorises_nothing_and_opens_no_kiosk(office, staff):
    staff.create("omar", "supervisor", "555555")
    staff.disable("huda")
    assert refused(staff.authenticate, "huda", "987654",
                   role="supervisor").details["reason"] == "disabled"
    with PinGuard.at("device:K01"):
        assert staff.staff_exit_pin_matches("987654", None) is False
        assert staff.staff_exit_pin_matches("555555", None) is True


def test_enable_lets_the_account_back_with_its_pin(office, staff):
    staff.disable("sara")
    account = staff.enable("SARA ")  # as an operator may type it
    assert account["disabled_at"] is None
    assert staff.authenticate("sara", "1234") == {"username": "sara", "role": "clerk"}
    assert [a[0] for a in audit_of(office, "sara")] == ["user.created", "user.disabled",
                                                         "user.enabled"]


def test_a_new_pin_replaces_the_old_and_ends_the_lock(office, staff, clock):
    for _ in range(5):
        refused(staff.authenticate, "sara", "0000")
    assert refused(staff.authenticate, "sara", "1234").details["reason"] == "locked"
    staff.reset_pin("sara", "4321")
    assert staff.authenticate("sara", "4321")["username"] == "sara"  # not locked any more
    assert refused(staff.authenticate, "sara", "1234").details["reason"] == "wrong_pin"
    row = office.store.one("SELECT failed_attempts, locked_until FROM users WHERE "
                           "username = 'sara'")
    assert row["failed_attempts"] == 1  # the count started again from the new PIN
    assert audit_of(office, "sara")[-2][0::2] == ("user.pin_reset", {"username": "sara"})
    assert "4321" not in "\n".join(office.store.conn.iterdump())


def test_another_process_reads_the_reset_as_a_fresh_start(office, staff):
    """Each CLI run is a process: the audit's lock is read back unless a reset followed."""
    for _ in range(5):
        refused(staff.authenticate, "sara", "0000")
    assert refused(Users(office).authenticate, "sara", "1234").details["reason"] == "locked"
    staff.reset_pin("sara", "4321")
    assert Users(office).authenticate("sara", "4321")["username"] == "sara"


def test_a_supervisor_pin_follows_the_supervisor_rules(office, staff):
    with pytest.raises(ValidationError) as info:
        staff.reset_pin("huda", "1234")  # enough for a clerk, not for a supervisor
    assert info.value.field == "pin" and "6 to 8 digits for a supervisor" in info.value.message
    staff.reset_pin("huda", "246810")
    assert staff.authenticate("huda", "246810", role="supervisor")["role"] == "supervisor"


@pytest.mark.parametrize("operation, args, error, reason", [
    ("disable", ("ghost",), NotFound, None),
    ("enable", ("ghost",), NotFound, None),
    ("reset_pin", ("ghost", "1234"), NotFound, None),
    ("disable", (None,), NotFound, None),
    ("enable", ("sara",), InvalidState, "already_active"),
    ("disable", ("huda",), InvalidState, "last_supervisor"),
    ("reset_pin", ("sara", "12"), ValidationError, None),
    ("reset_pin", ("sara", "12a4"), ValidationError, None),
    ("reset_pin", ("sara", "123456789"), ValidationError, None),
    ("reset_pin", ("sara", None), ValidationError, None),
])
def test_bad_input_changes_nothing(office, staff, db_state, operation, args, error, reason):
    before = db_state()
    with pytest.raises(error) as info:
        getattr(staff, operation)(*args)
    assert db_state() == before
    if reason:
        assert info.value.details["reason"] == reason
    if error is NotFound:
        assert info.value.details["field"] == "username" and "no user" in info.value.message


def test_disabling_twice_says_so_and_changes_nothing(office, staff, db_state):
    staff.disable("sara")
    before = db_state()
    with pytest.raises(InvalidState) as info:
        staff.disable("sara")
    assert info.value.details["reason"] == "already_disabled"
    assert "sara is already disabled (since 2026-11-24)" in info.value.message
    assert db_state() == before


def test_the_last_active_supervisor_stays(office, staff, db_state):
    """Voids, revocations and the kiosk's staff exit need a supervisor: the last active one
    cannot be disabled; with a second one, the first can."""
    before = db_state()
    with pytest.raises(InvalidState, match="last active supervisor"):
        staff.disable("huda")
    assert db_state() == before
    staff.create("omar", "supervisor", "555555")
    staff.disable("huda")
    with pytest.raises(InvalidState, match="omar is the last active supervisor"):
        staff.disable("omar")
    staff.disable("sara")  # clerks are never the last of anything


def test_central_accounts_are_changed_at_central(office, staff, db_state):
    """Its next pull would undo a change made here (put_from_central)."""
    with office.store.atomic():
        staff.put_from_central({"username": "nour", "role": "clerk",
                                "pin_hash": staff.store.one(
                                    "SELECT pin_hash FROM users WHERE username = 'sara'"
                                )["pin_hash"]}, office.store.now())
    before = db_state()
    for operation, args in (("disable", ("nour",)), ("enable", ("nour",)),
                            ("reset_pin", ("nour", "4321"))):
        with pytest.raises(InvalidState) as info:
            getattr(staff, operation)(*args)
        assert info.value.details["reason"] == "central_account"
    assert db_state() == before


# --- through the command line (nafitha user ...) -------------------------------------------
@pytest.fixture
def nafitha(tmp_path, office):
    """The command line on the office fixture's data directory."""
    def run(*args, expect=0, input=None, env=None):
        result = CliRunner().invoke(cli, ["--data", str(tmp_path), *args], input=input,
                                    env={"NAFITHA_DATA": None, "NAFITHA_CONFIG": None,
                                         "NAFITHA_NEW_PIN": None, **(env or {})},
                                    catch_exceptions=False)
        assert result.exit_code == expect, (result.output, result.stderr)
        return result
    return run


def test_user_commands(office, staff, nafitha, db_state):
    lines = [line.split() for line in nafitha("user", "list").stdout.splitlines()]
    assert lines == [["huda", "supervisor", "active", "local"],
                     ["sara", "clerk", "active", "local"]]
    out = nafitha("user", "disable", "sara").stdout
    assert re.fullmatch(r"sara +clerk +disabled since \d{4}-\d\d-\d\d \d\d:\d\d +local\n", out)
    listed = json.loads(nafitha("user", "list", "--json").stdout)
    assert [(u["username"], u["active"]) for u in listed] == [("huda", True), ("sara", False)]
    actor = office.store.one("SELECT actor FROM audit WHERE action = 'user.disabled'")["actor"]
    assert actor.startswith("cli:")

    before = db_state()
    for args, words in ((("disable", "sara"), "Error: sara is already disabled (since "),
                        (("disable", "ghost"), "Error: no user 'ghost'"),
                        (("enable", "ghost"), "Error: no user 'ghost'"),
                        (("enable", "huda"), "Error: huda is already active"),
                        (("disable", "huda"), "Error: huda is the last active supervisor")):
        assert nafitha("user", *args, expect=1).stderr.startswith(words), args
    assert db_state() == before
    assert json.loads(nafitha("user", "enable", "sara", "--json").stdout)["disabled_at"] is None


def test_reset_pin_asks_twice_and_keeps_the_pin_rules(office, staff, nafitha, db_state):
    before = db_state()
    mismatch = nafitha("user", "reset-pin", "sara", input="4321\n5678\n", expect=1)
    assert "do not match" in mismatch.output  # asked again; no more input: nothing set
    weak = nafitha("user", "reset-pin", "sara", env={"NAFITHA_NEW_PIN": "12"}, expect=1)
    assert weak.stderr == "Error: pin: 4 to 8 digits for a clerk\n"
    short = nafitha("user", "reset-pin", "huda", input="1234\n1234\n", expect=1)
    assert "pin: 6 to 8 digits for a supervisor" in short.stderr
    unknown = nafitha("user", "reset-pin", "ghost", input="1234\n1234\n", expect=1)
    assert unknown.stderr == "Error: no user 'ghost'\n"
    assert db_state() == before
    out = nafitha("user", "reset-pin", "sara", input="4321\n4321\n")
    assert out.output == "New PIN: \nRepeat for confirmation: \nsara: new PIN set\n"
    assert Users(office).authenticate("sara", "4321")["username"] == "sara"
