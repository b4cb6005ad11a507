"""`--user` names a person only with their PIN (issue 18): NAFITHA_USER_PIN or asked with
hidden input, checked on the one PIN path (counted, locked, audited). An unknown name and a
wrong PIN get the same one line, exit 1, and change nothing; without --user the actor is
cli:<login name>, no person."""
import getpass
import sqlite3

import pytest
from click.testing import CliRunner

from nafitha.cli import cli

from test_cli import as_json


def audit(tmp_path) -> list[tuple[str, str]]:
    db = sqlite3.connect(tmp_path / "data" / "nafitha.db")
    try:
        return db.execute("SELECT action, actor FROM audit ORDER BY seq").fetchall()
    finally:
        db.close()


def tickets(tmp_path) -> int:
    db = sqlite3.connect(tmp_path / "data" / "nafitha.db")
    try:
        return db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    finally:
        db.close()


@pytest.fixture
def office_with_sara(run):
    run("init")
    run("user", "add", "sara", env={"NAFITHA_NEW_PIN": "1234"})


def test_a_named_user_acts_with_their_pin(run, tmp_path, office_with_sara):
    t = as_json(run("--user", "sara", "ticket", "take", "R", "--json",
                    env={"NAFITHA_USER_PIN": "1234"}))
    assert t["number"] == "R001"
    assert audit(tmp_path)[-1] == ("ticket.taken", "sara")
    # NAFITHA_USER names the user too
    run("ticket", "take", "R", env={"NAFITHA_USER": "SARA", "NAFITHA_USER_PIN": "1234"})
    assert audit(tmp_path)[-1] == ("ticket.taken", "sara")


def test_the_pin_is_asked_with_hidden_input(tmp_path, office_with_sara):
    runner = CliRunner()
    args = ["--data", str(tmp_path / "data"), "--user", "sara", "ticket", "take", "R"]
    env = {"NAFITHA_DATA": None, "NAFITHA_CONFIG": None, "NAFITHA_USER_PIN": None}
    result = runner.invoke(cli, args, env=env, input="1234\n")
    assert result.exit_code == 0, result.output
    assert "PIN for sara" in result.output and "1234" not in result.output  # not echoed
    assert audit(tmp_path)[-1] == ("ticket.taken", "sara")
    # No PIN at all (no terminal to ask): refused, nothing done.
    before = tickets(tmp_path)
    assert runner.invoke(cli, args, env=env, input="").exit_code != 0
    assert tickets(tmp_path) == before


def test_unknown_user_and_wrong_pin_get_one_answer_and_change_nothing(run, tmp_path,
                                                                       office_with_sara):
    answers = []
    for user, pin in (("sara", "9999"), ("mallory", "1234"), ("sara", "")):
        before = tickets(tmp_path)
        result = run("--user", user, "ticket", "take", "R", env={"NAFITHA_USER_PIN": pin},
                     expect=1)
        answers.append(result.stderr.replace(user, "NAME"))
        assert result.stderr.count("\n") == 1  # one line
        assert tickets(tmp_path) == before
    assert answers[0] == answers[1] == answers[2] == \
        "Error: wrong user name or PIN\n"
    # sara's failures were counted and audited under her name; mallory's left no row
    failed = [a for a in audit(tmp_path) if a[0] == "user.pin_failed"]
    assert failed == [("user.pin_failed", "sara")] * 2


def test_every_wrong_pin_is_counted_and_audited(run, tmp_path, office_with_sara):
    for _ in range(5):
        run("--user", "sara", "ticket", "take", "R", env={"NAFITHA_USER_PIN": "0000"},
            expect=1)
    db = sqlite3.connect(tmp_path / "data" / "nafitha.db")
    try:
        count = db.execute("SELECT failed_attempts FROM users WHERE username = 'sara'"
                           ).fetchone()[0]
    finally:
        db.close()
    # each run is its own process, yet the fifth wrong PIN locks the name at the CLI: the
    # wrong PINs there are read back from the audit (core/users.py, _read_history)
    actions = [a[0] for a in audit(tmp_path) if a[0].startswith("user.")]
    assert count == 5 and actions.count("user.pin_failed") == 4 and \
        actions.count("user.locked") == 1
    assert tickets(tmp_path) == 0
    locked = run("--user", "sara", "ticket", "take", "R", env={"NAFITHA_USER_PIN": "1234"},
                 expect=1)  # the right PIN, in the next run: still locked at the CLI
    assert "locked" in locked.stderr and tickets(tmp_path) == 0


def test_without_user_the_actor_is_no_person(run, tmp_path, office_with_sara):
    run("ticket", "take", "R")
    assert audit(tmp_path)[-1] == ("ticket.taken", f"cli:{getpass.getuser()}")


def test_commands_that_record_no_actor_ask_no_pin(run, office_with_sara):
    # Reading needs no proof: --user alone asks nothing when nothing is recorded under it.
    run("--user", "mallory", "catalog", "list")
