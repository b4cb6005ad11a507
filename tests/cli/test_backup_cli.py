"""`nafitha backup` and `nafitha restore` from the command line: a backup and its return,
the passphrase from a file, and each refusal as one line, exit 1, nothing changed."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from nafitha.cli import cli


def as_json(result):
    return json.loads(result.stdout)


@pytest.fixture
def usb(tmp_path):
    d = tmp_path / "usb"
    d.mkdir()
    return d


@pytest.fixture
def passfile(tmp_path):
    f = tmp_path / "pass.txt"
    f.write_text("a long passphrase for the office\n")
    return f


def test_backup_then_restore_after_the_data_directory_is_lost(run, tmp_path, usb, passfile):
    run("init")
    run("keys", "request")  # the device now has keys worth keeping
    numbers = [as_json(run("ticket", "take", "R", "--json"))["number"] for _ in range(2)]
    made = as_json(run("backup", "--to", str(usb), "--passphrase-file", str(passfile),
                       "--json"))
    assert made["keys"] == "encrypted" and made["file"].startswith(str(usb))
    assert as_json(run("health", "--json"))["last_backup_at"] == made["taken_at"]
    key = (tmp_path / "data" / "keys" / "device.key").read_bytes()
    shutil.rmtree(tmp_path / "data")
    out = run("restore", made["file"], "--passphrase-file", str(passfile), "--no-central")
    assert "restored" in out.stdout and "jump ahead" in out.stdout
    assert (tmp_path / "data" / "keys" / "device.key").read_bytes() == key
    later = as_json(run("ticket", "take", "R", "--json"))["number"]
    assert later not in numbers and later > max(numbers)
    assert "intact" in run("audit", "verify").stdout


@pytest.mark.parametrize("case", ["not_empty", "truncated", "other_device", "wrong_pass",
                                  "not_a_backup"])
def test_restore_refusals_are_one_line_exit_1_and_change_nothing(run, tmp_path, usb,
                                                                  passfile, case):
    run("init")
    run("keys", "request")
    made = as_json(run("backup", "--to", str(usb), "--passphrase-file", str(passfile),
                       "--json"))
    file, env, args = made["file"], {}, ["--passphrase-file", str(passfile)]
    expected = {"not_empty": "restore_target_not_empty", "truncated": "backup_invalid",
                "other_device": "backup_other_device", "wrong_pass": "backup_wrong_passphrase",
                "not_a_backup": "backup_invalid"}[case]
    data = tmp_path / "data"
    if case != "not_empty":
        shutil.rmtree(data)
    if case == "truncated":
        cut = tmp_path / "cut.tar.gz"
        cut.write_bytes(Path(file).read_bytes()[:-200])
        file = str(cut)
    elif case == "other_device":
        env = {"NAFITHA_DEVICE__ID": "D07"}
    elif case == "wrong_pass":
        wrong = tmp_path / "wrong.txt"
        wrong.write_text("not it")
        args = ["--passphrase-file", str(wrong)]
    elif case == "not_a_backup":
        file = str(passfile)
    before = sorted(p.name for p in tmp_path.iterdir())
    listing = sorted(p.name for p in data.iterdir()) if data.exists() else None
    result = run("restore", file, *args, "--no-central", "--json", env=env, expect=1)
    assert json.loads(result.stdout)["error"] == expected
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (sorted(p.name for p in data.iterdir()) if data.exists() else None) == listing


def test_scheduled_backups_skip_without_a_place_and_fail_on_a_missing_one(run, tmp_path):
    run("init")
    out = run("backup", "--scheduled")
    assert "nowhere to back up to" in out.stdout
    gone = tmp_path / "stick"
    result = run("backup", "--scheduled", env={"NAFITHA_BACKUP__TO_DIR": str(gone)}, expect=1)
    assert "plugged in" in result.stderr and not gone.exists()
    assert run("backup", expect=1).stderr.startswith("Error: give either")


def test_help_ends_with_an_example():
    runner = CliRunner()
    for name in ("backup", "restore"):
        text = runner.invoke(cli, [name, "--help"]).output
        assert "Example:" in text.rsplit("\n\n", 2)[-2] + text.rsplit("\n\n", 2)[-1]
