"""`nafitha central staff|municipality|office|api-key ...`: the console's people from the
command line, audited as "cli"."""
from __future__ import annotations

import json

from click.testing import CliRunner

from central.service import Central
from central.staff import ROLES, Staff
from nafitha.cli import cli
from nafitha.sync_cli import CONSOLE_ROLES


def test_the_cli_manages_staff_municipalities_offices_and_keys(tmp_path, monkeypatch):
    home = tmp_path / "central"
    runner = CliRunner()
    base = ["central", "--home", str(home)]

    def run(*args, code=0, **kw):
        out = runner.invoke(cli, [*base, *args], **kw)
        assert out.exit_code == code, out.output
        return out.output

    run("init-root")
    run("municipality", "add", "CAP", "--name-ar", "أمانة العاصمة", "--name-en", "Capital")
    assert "1-8 capital letters" in run("municipality", "add", "cap", "--name-ar", "أ",
                                        "--name-en", "A", code=1)
    run("office", "assign", "MUH", "CAP")
    monkeypatch.setenv("NAFITHA_NEW_PASSWORD", "a long first password")
    run("staff", "add", "sara", "--role", "officer", "--municipality", "CAP", "--full-name",
        "Sara Ali")
    assert "12 characters" in run("staff", "add", "omar", "--role", "finance", "--full-name",
                                  "O", code=1, env={"NAFITHA_NEW_PASSWORD": "short"})
    monkeypatch.delenv("NAFITHA_NEW_PASSWORD")
    run("staff", "add", "omar", "--role", "finance", "--full-name", "Omar",
        input="another long password\nanother long password\n")
    listed = json.loads(run("staff", "list", "--json"))
    assert [(r["username"], r["role"], r["municipality"]) for r in listed] == [
        ("omar", "finance", None), ("sara", "officer", "CAP")]
    run("staff", "disable", "sara")
    assert "disabled" in run("staff", "list")
    key = json.loads(run("api-key", "add", "reports", "--role", "auditor", "--json"))["key"]
    assert "shown once" in run("api-key", "add", "bot", "--role", "officer")
    names = [k["name"] for k in json.loads(run("api-key", "list", "--json"))]
    assert names == ["bot", "reports", "root"]
    assert key not in run("api-key", "list")
    run("api-key", "revoke", "reports")
    assert "already revoked" in run("api-key", "revoke", "reports", code=1)

    central = Central.open(home)
    try:
        staff = Staff(central)
        assert staff.sign_in("omar", "another long password")
        root = staff.authenticate_key(f"Bearer {(home / 'admin.token').read_text().strip()}")
        actions = {(r["actor"], r["action"]) for r in staff.audit_log(root)}
        assert {("cli", "staff.add"), ("cli", "staff.disable"), ("cli", "municipality.add"),
                ("cli", "office.assign"), ("cli", "api_key.add"),
                ("cli", "api_key.revoke")} <= actions
    finally:
        central.close()


def test_the_cli_and_the_console_agree_on_roles():
    assert CONSOLE_ROLES == ROLES


def test_every_new_command_ends_its_help_with_an_example():
    for path in (["staff", "add"], ["staff", "list"], ["staff", "disable"],
                 ["municipality", "add"], ["office", "assign"], ["api-key", "add"],
                 ["api-key", "list"], ["api-key", "revoke"]):
        text = CliRunner().invoke(cli, ["central", *path, "--help"]).output.rstrip()
        assert "Example:" in text and text.splitlines()[-1].strip().startswith("nafitha"), path
