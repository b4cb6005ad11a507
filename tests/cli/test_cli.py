"""The command line: mirrors core, --json everywhere, examples in every --help, clean errors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from core.text import with_check_digit
from nafitha.cli import cli

NID = with_check_digit("85010123", "luhn")
RESIDENT = ["-f", "full_name=Ali Hasan", "-f", f"national_id={NID}", "-f", "phone=33123456",
            "-f", "block=204", "-f", "road=15", "-f", "building=12"]


def as_json(result):
    return json.loads(result.stdout)


def all_commands(group, path=()):
    for name, cmd in group.commands.items():
        yield path + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, path + (name,))


def test_every_help_ends_with_an_example():
    missing = []
    for path, cmd in all_commands(cli):
        lines = CliRunner().invoke(cli, [*path, "--help"]).output.rstrip().splitlines()
        starts = [i for i, line in enumerate(lines) if line.strip() == "Example:"]
        # the example is the last block: after it only its own indented command lines
        if not starts or not lines[starts[-1] + 1].strip().startswith("nafitha ") or \
                any(not line.startswith("      ") for line in lines[starts[-1] + 1:]):
            missing.append(" ".join(path))
    assert missing == []


def test_every_leaf_command_offers_json():
    for path, cmd in all_commands(cli):
        # The apps open a window and the hub serves until stopped: nothing to print as JSON.
        if isinstance(cmd, click.Group) or path in (("kiosk",), ("counter",),
                                                    ("hub", "serve")):
            continue
        assert any("--json" in p.opts for p in cmd.params), " ".join(path)


def ceremony(run, root_dir):
    """The offline ceremony of docs/keys.md, through the CLI."""
    root = as_json(run("keys", "init-root", "--out", str(root_dir), "--json"))
    assert oct(os.stat(root["root_key"]).st_mode & 0o777) == "0o600"
    request = root_dir / "d01.request.json"
    run("keys", "request", "--out", str(request))
    cert = as_json(run("keys", "certify", str(request), "--root-key", root["root_key"],
                       "--out", str(root_dir / "d01.cert"), "--json"))
    assert cert["device_id"] == "D01" and "RES" in cert["licence_types"]
    run("keys", "install", str(root_dir / "d01.cert"), "--root", root["root_pub"])
    return root


def test_a_day_through_the_cli(run, tmp_path):
    init = as_json(run("init", "--json"))
    assert init["services"] == 8 and Path(init["config"]).exists()
    assert oct(os.stat(init["database"]).st_mode & 0o777) == "0o600"
    ceremony(run, tmp_path / "root")
    assert as_json(run("keys", "status", "--json"))["can_sign"] is True

    t = as_json(run("ticket", "take", "R", "--json"))
    assert t["number"] == "R001" and t["people_ahead"] == 0
    called = as_json(run("queue", "call", "--counter", "2", "--json"))
    assert called["number"] == "R001" and called["state"] == "called"
    assert as_json(run("queue", "finish", "R001", "--json"))["state"] == "done"

    app = as_json(run("apply", "residence-certificate", *RESIDENT, "--ticket", "R001", "--json"))
    assert app["state"] == "submitted" and app["fee_minor"] == 1000
    run("user", "add", "sara", env={"NAFITHA_NEW_PIN": "1234"})
    run("user", "add", "huda", "--role", "supervisor", env={"NAFITHA_NEW_PIN": "999999"})
    run("shift", "open", "--clerk", "sara", "--float", "20.000")
    paid = as_json(run("pay", app["number"], "--method", "cash", "--tendered", "5.000",
                       "--clerk", "sara", "--json"))
    assert (paid["amount_minor"], paid["change_minor"]) == (1000, 4000)
    assert paid["application_state"] == "approved"
    lic = as_json(run("issue", app["number"], "--json"))
    assert lic["number"].startswith("MUH-") and lic["holder_name"] == "Ali Hasan"
    assert lic["signed_payload"].startswith("NF1:")
    genuine = as_json(run("verify", lic["signed_payload"], "--json"))
    assert genuine["valid"] and genuine["claims"]["number"] == lic["number"]

    permit = as_json(run("apply", "building-permit-small", *RESIDENT, "-f", "parcel=12-3",
                         "-f", "area_m2=40", "--json"))
    card = as_json(run("pay", permit["number"], "--method", "card", "--reference", "T-1",
                       "--clerk", "sara", "--json"))
    assert card["application_state"] == "paid"
    voided = as_json(run("void", card["receipt_number"], "--supervisor", "huda", "--reason",
                         "wrong service", "--json", env={"NAFITHA_SUPERVISOR_PIN": "999999"}))
    assert voided["voided_by"] == "huda"

    z = as_json(run("shift", "close", "--clerk", "sara", "--counted", "21.000", "--json"))
    assert z["total_minor"] == 1000 and z["expected_cash_minor"] == 21000
    assert z["difference_minor"] == 0 and z["voids"]["count"] == 1
    assert as_json(run("report", "z", str(z["shift"]), "--json")) == z

    audit = as_json(run("audit", "verify", "--json"))
    assert audit["ok"] and audit["entries"] > 10 and audit["signed"]
    status = as_json(run("outbox", "status", "--json"))
    assert status["pending"] == audit["entries"] and status["last_seq"] == audit["entries"]


def test_queue_park_and_resume(run):
    for _ in range(2):
        run("ticket", "take", "R")
    assert as_json(run("queue", "call", "--counter", "2", "--json"))["number"] == "R001"
    parked = as_json(run("queue", "park", "R001", "--json"))
    assert (parked["state"], parked["counter"]) == ("parked", "2")
    # the parked resident is listed, but call next moves on to the next one
    assert "R001   parked" in run("queue", "list").stdout
    assert as_json(run("queue", "call", "--counter", "2", "--json"))["number"] == "R002"
    resumed = as_json(run("queue", "resume", "R001", "--counter", "3", "--json"))
    assert (resumed["state"], resumed["counter"]) == ("serving", "3")
    run("queue", "park", "R001")
    assert as_json(run("queue", "resume", "R001", "--json"))["counter"] == "3"
    run("queue", "park", "R001")
    assert as_json(run("queue", "cancel", "R001", "--json"))["state"] == "cancelled"

    before = as_json(run("outbox", "status", "--json"))["total"]
    for args, message in [(("park", "R001"), "R001 is cancelled; parked needs it called or "
                                             "serving"),
                          (("resume", "R002"), "R002 is called; resumed needs it parked"),
                          (("resume", "R009"), "no ticket 'R009'")]:
        result = run("queue", *args, expect=1)
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, args
        assert message in result.stderr, args
    assert as_json(run("queue", "resume", "R002", "--json", expect=1))["error"] == \
        "invalid_state"
    assert as_json(run("outbox", "status", "--json"))["total"] == before


def test_licence_verifies_elsewhere_and_revocation_reaches_it(run, tmp_path):
    """Issued on one data directory; verified on another that shares only root.pub."""
    root = ceremony(run, tmp_path / "root")
    app = as_json(run("apply", "residence-certificate", *RESIDENT, "--json"))
    run("shift", "open")  # the shift of cli:<login name>
    run("pay", app["number"], "--method", "card", "--reference", "T-9")
    text = as_json(run("issue", app["number"], "--json"))["signed_payload"]

    runner = CliRunner()
    inspector = ["--data", str(tmp_path / "inspector")]
    assert runner.invoke(cli, [*inspector, "verify", text]).exit_code == 1  # no root yet
    assert runner.invoke(cli, [*inspector, "keys", "trust-root", root["root_pub"]]).exit_code == 0
    ok = runner.invoke(cli, [*inspector, "verify", text])
    assert ok.exit_code == 0 and ok.stdout.startswith("GENUINE") and "Ali Hasan" in ok.stdout
    # What the README shows: the licence's QR text from `licence show --qr`, verified; and a
    # placeholder says what a code is instead of the decoder's internals.
    number = as_json(run("verify", text, "--json"))["claims"]["number"]
    assert run("licence", "show", number, "--qr").stdout.strip() == text
    shown = run("licence", "show", number).stdout
    assert "block 204, road 15, building 12" in shown and "{" not in shown
    assert "(Asia/Bahrain)" in shown and f"qr           {text}" in shown
    placeholder = runner.invoke(cli, [*inspector, "verify", "NF1:..."])
    assert placeholder.exit_code == 1
    assert placeholder.stdout.startswith("NOT GENUINE: Not a readable licence code. A licence "
                                         "code is the whole text of its QR")
    assert "triplet" not in placeholder.stdout and "base45" not in placeholder.stdout.lower()

    rl = tmp_path / "rl.cose"
    run("keys", "revoke", "--root-key", root["root_key"], "--licence", number, "--out", str(rl))
    assert runner.invoke(cli, [*inspector, "keys", "trust-revocations", str(rl)]).exit_code == 0
    revoked = runner.invoke(cli, [*inspector, "verify", text, "--json"])
    assert revoked.exit_code == 1
    assert json.loads(revoked.stdout)["reason"] == "revoked"
    # usage errors exit 2
    assert runner.invoke(cli, [*inspector, "verify"]).exit_code == 2
    assert runner.invoke(cli, [*inspector, "verify", "--image", str(tmp_path / "none.png")]
                         ).exit_code == 2


def test_errors_are_one_line_exit_1_and_change_nothing(run):
    run("init")
    before = as_json(run("outbox", "status", "--json"))["total"]
    bad = [
        ("ticket", "take", "no-such-service"),
        ("apply", "residence-certificate", *RESIDENT[:2], "-f", "national_id=123456789"),
        ("apply", "building-permit-small", *RESIDENT, "-f", "parcel=1", "-f", "area_m2=50"),
        ("pay", "MUH-D01-A2026-999999", "--method", "cash", "--tendered", "1"),
        ("pay", "MUH-D01-A2026-999999", "--method", "cash", "--tendered", "-1"),
        ("pay", "MUH-D01-A2026-999999", "--method", "cash", "--tendered", "1.0005"),
        ("issue", "MUH-D01-A2026-999999"),
    ]
    for args in bad:
        result = run(*args, expect=1)
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, args
    assert as_json(run("outbox", "status", "--json"))["total"] == before


def test_json_errors_are_machine_readable(run):
    result = run("ticket", "take", "nope", "--json", expect=1)
    assert as_json(result)["error"] == "invalid_input"


def test_bad_config_file_names_file_key_and_problem(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[queue]\ncall_limit = "three"\n')
    result = CliRunner().invoke(cli, ["--data", str(tmp_path), "--config", str(config),
                                      "catalog", "list"])
    assert result.exit_code == 1
    assert str(config) in result.stderr and "queue.call_limit" in result.stderr
    assert "integer" in result.stderr


def test_not_a_database_is_left_untouched(tmp_path):
    (tmp_path / "nafitha.db").write_bytes(b"this is a spreadsheet, not a database" * 100)
    before = (tmp_path / "nafitha.db").read_bytes()
    result = CliRunner().invoke(cli, ["--data", str(tmp_path), "ticket", "take", "R"])
    assert result.exit_code == 1 and "not a SQLite database" in result.stderr
    assert (tmp_path / "nafitha.db").read_bytes() == before


def test_installed_console_script(tmp_path):
    script = Path(sys.executable).with_name("nafitha")
    assert script.exists(), "the console script `nafitha` is not installed (make setup)"
    out = subprocess.run([str(script), "--data", str(tmp_path), "catalog", "list", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert {s["prefix"] for s in json.loads(out.stdout)} == set("RABEWDCT")


def test_verify_reads_the_qr_from_an_image(run, tmp_path):
    import segno
    from PIL import Image

    ceremony(run, tmp_path / "root")
    app = as_json(run("apply", "residence-certificate", *RESIDENT, "--json"))
    run("shift", "open")  # the shift of cli:<login name>
    run("pay", app["number"], "--method", "online", "--reference", "PG-1")
    text = as_json(run("issue", app["number"], "--json"))["signed_payload"]
    photo = tmp_path / "licence.png"
    # 4 pixels per module with a 4-module quiet zone, pasted off-centre on grey "paper"
    qr = tmp_path / "qr.png"
    segno.make(text, error="m", micro=False).save(qr, scale=4, border=4)
    paper = Image.new("L", (1200, 900), 200)
    paper.paste(Image.open(qr).convert("L"), (310, 120))
    paper.save(photo)
    ok = run("verify", "--image", str(photo))
    assert ok.stdout.startswith("GENUINE") and "Ali Hasan" in ok.stdout
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 300), 255).save(blank)
    assert "no QR code" in run("verify", "--image", str(blank), expect=2).stderr
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    assert "not an image" in run("verify", "--image", str(not_image), expect=2).stderr


def test_keys_commands_refuse_bad_input_clearly(run, tmp_path):
    root = as_json(run("keys", "init-root", "--out", str(tmp_path / "root"), "--json"))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00junk")
    cases = [
        (("keys", "init-root", "--out", str(tmp_path / "root")), "refusing to overwrite"),
        (("keys", "certify", str(junk), "--root-key", root["root_key"], "--out",
          str(tmp_path / "x.cert")), "not a Nafitha certificate request"),
        (("keys", "install", str(junk), "--root", root["root_pub"]), "not a device certificate"),
        (("keys", "revoke", "--root-key", root["root_key"], "--device", "D05@yesterday",
          "--out", str(tmp_path / "rl")), "with a time zone"),
        (("keys", "revoke", "--root-key", root["root_key"], "--base", str(junk),
          "--out", str(tmp_path / "rl")), "--base"),
        (("keys", "trust-revocations", str(junk)), "not a revocation list"),
        (("keys", "trust-root", str(junk)), "not a public key"),
    ]
    for args, message in cases:
        assert message in run(*args, expect=1).stderr, args
    assert not (tmp_path / "x.cert").exists() and not (tmp_path / "rl").exists()


def test_audit_verify_reports_the_signed_head_and_a_rewrite(run, tmp_path):
    """Before a key the head is unsigned (not a problem); `keys request` seals the log so
    far; a payment rewritten with every hash recomputed then fails with exit 1."""
    import sqlite3

    from core.audit import GENESIS, audit_hash

    run("init")
    run("ticket", "take", "R")
    assert "head unsigned (this device has no key yet)" in run("audit", "verify").stdout
    run("keys", "request")
    run("ticket", "take", "R")
    assert "2 entries, head signed by this device's key" in run("audit", "verify").stdout
    db = sqlite3.connect(tmp_path / "data" / "nafitha.db")
    rows = db.execute("SELECT seq, at, actor, action, entity_type, entity_id, data "
                      "FROM audit ORDER BY seq").fetchall()
    prev = GENESIS
    with db:
        for seq, at, actor, action, etype, eid, data in rows:
            entry = {"seq": seq, "at": at, "actor": "mallory", "action": action,
                     "entity_type": etype, "entity_id": eid, "data": json.loads(data),
                     "prev_hash": prev}
            prev = audit_hash(entry)
            db.execute("UPDATE audit SET actor = 'mallory', prev_hash = ?, hash = ? "
                       "WHERE seq = ?", (entry["prev_hash"], prev, seq))
        db.execute("UPDATE audit_head SET hash = ?", (prev,))
    db.close()
    broken = run("audit", "verify", expect=1)
    assert "the head's signature does not match it (the log was rewritten)" in broken.stderr


def test_decisions_and_revocations_need_a_supervisor_recorded_as_the_actor(run, tmp_path):
    """approve, reject and licence revoke ask for a supervisor's PIN, like void: no PIN, a
    clerk or a wrong PIN changes nothing; the audit names the supervisor, not --user."""
    ceremony(run, tmp_path / "root")
    run("user", "add", "sara", env={"NAFITHA_NEW_PIN": "1234"})
    run("user", "add", "huda", "--role", "supervisor", env={"NAFITHA_NEW_PIN": "999999"})
    permit = ["-f", "parcel=12-3", "-f", "area_m2=40"]
    first = as_json(run("apply", "building-permit-small", *RESIDENT, *permit, "--json"))
    second = as_json(run("apply", "building-permit-small", *RESIDENT, *permit, "--json"))
    before = as_json(run("audit", "verify", "--json"))["entries"]
    for env, words in (({"NAFITHA_SUPERVISOR_PIN": "000000"}, "wrong user name or PIN"),
                       ({"NAFITHA_SUPERVISOR_PIN": "1234"}, "sara is a clerk")):
        who = "sara" if "clerk" in words else "huda"
        bad = run("--user", "mallory", "approve", first["number"], "--supervisor", who,
                  env=env, expect=1)
        assert words in bad.stderr
    no_pin = run("approve", first["number"], "--supervisor", "huda", expect=1)
    assert "Supervisor PIN" in no_pin.output  # asked for, and none given
    assert as_json(run("application", "show", first["number"], "--json"))["state"] == \
        "submitted"
    pin = {"NAFITHA_SUPERVISOR_PIN": "999999"}
    run("--user", "mallory", "approve", first["number"], "--supervisor", "huda", env=pin)
    run("reject", second["number"], "--reason", "too big", "--supervisor", "huda", env=pin)
    shown = as_json(run("application", "show", first["number"], "--json"))
    assert shown["state"] == "approved" and shown["decided_by"] == "huda"
    import sqlite3
    db = sqlite3.connect(tmp_path / "data" / "nafitha.db")
    actors = [r[0] for r in db.execute(
        "SELECT actor FROM audit WHERE action IN ('application.approved', "
        "'application.rejected') ORDER BY seq")]
    failures = db.execute("SELECT COUNT(*) FROM audit WHERE action = 'user.pin_failed'"
                          ).fetchone()[0]
    db.close()
    assert actors == ["huda", "huda"] and failures == 1  # the wrong PIN counted
    # the failure, then huda's count reset on the right PIN, the approval, the rejection
    # and the rejected application's bill cancelled with it (docs/bills.md)
    assert as_json(run("audit", "verify", "--json"))["entries"] == before + 5


def test_tickets_and_applications_read_as_people_read_them(run):
    """Issue 25: "~0 min" when nobody is ahead, UTC times and a raw record dump. Now: "you
    are next", times in the office's zone (Asia/Bahrain, UTC+3), the fee as money, the form
    in its own order and nothing empty; --json keeps the stored record."""
    from datetime import datetime, timedelta, timezone

    first = run("ticket", "take", "R").stdout
    taken = as_json(run("queue", "list", "--json"))[0]["created_at"]
    local = (datetime.fromisoformat(taken) + timedelta(hours=3)).strftime("%H:%M")
    assert first.split() == ["R001", "residence-certificate", "you", "are", "next", "taken",
                             local]
    second = run("ticket", "take", "R").stdout
    assert "ahead: 1" in second and "wait: about" in second and "~" not in second
    listed = run("queue", "list").stdout.splitlines()
    assert [line.split()[:2] for line in listed] == [["R001", "waiting"], ["R002", "waiting"]]
    assert f"taken {local}" in listed[0] and all(" taken " in line for line in listed)
    assert datetime.fromisoformat(taken).astimezone(timezone.utc).strftime("%H:%M") != local

    app = as_json(run("apply", "residence-certificate", *RESIDENT, "--json"))
    shown = run("application", "show", app["number"]).stdout.splitlines()
    assert shown[0].startswith(f"application  {app['number']}  (residence-certificate")
    assert "fee          1.000 BHD" in shown and "state        submitted" in shown
    assert any(line.startswith("submitted") and "(Asia/Bahrain)" in line for line in shown)
    form = [line.split()[0] for line in shown[shown.index("form") + 1:]]
    assert form == ["full_name", "national_id", "phone", "block", "road", "building"]
    assert not any(line.rstrip().endswith(":") or "fee_minor" in line for line in shown)
    assert as_json(run("application", "show", app["number"], "--json"))["fee_minor"] == 1000
    missing = run("application", "show", "MUH-D01-A2026-999999", expect=1)
    assert "no application" in missing.stderr


def test_catalog_list_says_where_the_kiosk_lists_each_service(run):
    """Each line names its sector and category, as the kiosk's browse offers them."""
    from core.catalog import DEFAULT_CATALOG_DIR, load_catalog

    lines = run("catalog", "list").stdout.splitlines()
    catalogue = list(load_catalog(DEFAULT_CATALOG_DIR))
    assert len(lines) == len(catalogue)
    for line, service in zip(lines, catalogue):
        assert line.split()[1] == service.code
        assert f"{service.sector.code} / {service.category.code}" in line
