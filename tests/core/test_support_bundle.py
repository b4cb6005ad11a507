"""`nafitha support-bundle` (issue 23, "Health"): one tar.gz for a support call with versions,
settings without secrets, logs, the store's integrity check and audit verification, device
states and a manifest, and NOT ONE byte of a resident's data; written whole or not at all
(a full disk: DiskFull, no file left).

The full disk is real where this test may mount (a 64 KiB tmpfs, as root); elsewhere the
file layer's write raises OSError(ENOSPC), the same error the kernel gives."""
from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import support
from core.errors import DiskFull, ValidationError, is_disk_full
from core.office import Office
from core.users import hash_pin
from nafitha.cli import cli

RESIDENTS = [
    {"full_name": "فاطمة علي حسن الجودر", "phone": "36001234"},
    {"full_name": "Mariam Hasan Yusuf", "phone": "39001122"},
]
URL_PASSWORD = "s3cret-Passw0rd"
ADMIN_PIN = "246813"


@pytest.fixture
def residents(office, valid_fields, valid_nid):
    """Two residents' applications (Arabic and English names, national IDs, phones) and
    what could betray them: every value that must not appear in a bundle."""
    secrets = []
    for n, person in enumerate(RESIDENTS):
        nid = valid_nid(n + 3)
        office.applications.submit("residence-certificate",
                                   valid_fields(national_id=nid, **person))
        secrets += [person["full_name"], *person["full_name"].split(), nid, person["phone"]]
    # Secrets in the settings, and a leak in an app's log file (the scrubber's job).
    office.settings.kiosk.admin_pin_hash = hash_pin(ADMIN_PIN)
    office.settings.sync.url = f"https://agent:{URL_PASSWORD}@central.example:8443/sync"
    logs = Path(office.settings.data_dir) / "kivy" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "kivy_26-11-24_0.txt").write_text(
        "[INFO] kiosk started\n"
        f"[ERROR] step failed for {RESIDENTS[0]['full_name']} ({valid_nid(3)}, "
        f"tel {RESIDENTS[0]['phone']})\n"
        f"[ERROR] submit: {RESIDENTS[1]['full_name']} phone 3900 1122 id {valid_nid(4)}\n",
        encoding="utf-8")
    return secrets


def build(office, path, **kw):
    kw.setdefault("read_journal", lambda: None)
    return support.write_bundle(office.settings, path, open_office=lambda: Office.open(
        office.settings, clock=office.store.clock), **kw)


def test_the_bundle_holds_no_personal_data_and_no_secrets(office, residents, tmp_path):
    bundle = build(office, tmp_path / "support.tar.gz")
    members = support.members_of(bundle.path)
    assert set(members) >= {"manifest.json", "versions.json", "settings.json", "store.json",
                            "state.json"} and any(n.startswith("logs/") for n in members)
    pin_hash = office.settings.kiosk.admin_pin_hash
    forbidden = [*residents, pin_hash, pin_hash.split("$")[-1], URL_PASSWORD, ADMIN_PIN]
    for name, data in members.items():
        for value in forbidden:
            for encoded in {value.encode("utf-8"), json.dumps(value)[1:-1].encode("ascii")}:
                assert encoded not in data, (name, value)
    # The raw archive too (a tar header, a name): nothing in clear anywhere.
    whole = gzip.decompress(bundle.path.read_bytes())
    for value in forbidden:
        assert value.encode("utf-8") not in whole
    # What support needs is still there.
    settings = json.loads(members["settings.json"])["settings"]
    assert settings["kiosk"]["admin_pin_hash"] == "[removed]"
    assert settings["sync"]["url"] == "https://[removed]@central.example:8443/sync"
    assert settings["hub"]["token_days"] == 30  # a number under a "token" key stays
    log = next(v for k, v in members.items() if k.startswith("logs/")).decode()
    assert "[ERROR] step failed for" in log and "kiosk started" in log


def test_the_bundle_says_what_support_needs(office, residents, tmp_path):
    bundle = build(office, tmp_path / "support.tar.gz",
                   health=lambda o: {"disk_full": o.store.disk_full, "role": "agent"})
    members = support.members_of(bundle.path)
    manifest = json.loads(members["manifest.json"])
    assert manifest["device"] == office.settings.device.id and manifest["format"] == 1
    for entry in manifest["members"]:  # each member as the manifest lists it
        assert hashlib.sha256(members[entry["name"]]).hexdigest() == entry["sha256"]
    versions = json.loads(members["versions.json"])
    assert versions["python"].count(".") == 2 and versions["sqlite"]
    store = json.loads(members["store.json"])
    assert store["integrity_check"] == ["ok"] and store["ok"] is True
    assert store["audit"]["ok"] is True and store["row_counts"]["applications"] == 2
    state = json.loads(members["state.json"])
    assert state["outbox"]["pending"] == office.outbox_status()["pending"] > 0
    assert state["health"] == {"disk_full": False, "role": "agent"}
    assert state["disk"]["refuse_mb"] == office.settings.health.disk_refuse_mb
    assert oct(bundle.path.stat().st_mode & 0o777) == "0o600"


def test_the_journal_is_taken_when_there_is_one_and_scrubbed(office, residents, tmp_path):
    line = (f"Dec 06 nafitha-kiosk[812]: payment for {RESIDENTS[1]['full_name']} "
            f"token=abcDEF123456 Authorization: Bearer eyJhbGciOiJFZERTQSJ9.payload.sig\n")
    bundle = build(office, tmp_path / "b.tar.gz", read_journal=lambda: line)
    members = support.members_of(bundle.path)
    journal = members["logs/journal.txt"].decode()
    assert "nafitha-kiosk[812]: payment for" in journal
    assert RESIDENTS[1]["full_name"] not in journal and "abcDEF123456" not in journal
    assert "eyJhbGciOiJFZERTQSJ9" not in journal
    assert not any(n.startswith("logs/kivy") for n in members)  # the journal is enough


def test_before_init_the_bundle_is_written_and_no_store_is_made(settings, tmp_path):
    out = tmp_path / "early.tar.gz"
    result = CliRunner().invoke(cli, ["--data", str(settings.data_dir), "support-bundle",
                                      "--output", str(out), "--json"])
    assert result.exit_code == 0, result.output
    members = support.members_of(out)
    assert json.loads(members["store.json"])["exists"] is False
    assert not Path(settings.db_path).exists()


# --- bad input: a full disk, a wrong output -------------------------------------------------
@pytest.fixture
def full_disk(tmp_path, monkeypatch):
    """A directory on a file system with no room: a 64 KiB tmpfs filled up (as root), else a
    write that fails with ENOSPC at the file layer."""
    mount = tmp_path / "usb"
    mount.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True, check=False).returncode == 0
    if mounted:
        with open(mount / "filler", "wb") as fh:
            try:
                fh.write(b"\0" * 128 * 1024)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        (mount / "filler").chmod(0o600)
    else:
        real_fdopen = os.fdopen

        class NoSpace:
            def __init__(self, fh):
                self.fh = fh

            def write(self, data):
                raise OSError(errno.ENOSPC, "No space left on device")

            def __getattr__(self, name):
                return getattr(self.fh, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.fh.close()

        monkeypatch.setattr(support.os, "fdopen", lambda fd, *a: NoSpace(real_fdopen(fd, *a)))
    yield mount
    if mounted:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_fails_clearly_and_leaves_no_partial_file(office, residents, full_disk):
    before = sorted(os.listdir(full_disk))
    with pytest.raises(DiskFull) as full:
        build(office, full_disk / "support.tar.gz")
    assert is_disk_full(full.value) and full.value.message.startswith("the disk is full: ")
    assert full.value.message.endswith("nothing was written")
    assert sorted(os.listdir(full_disk)) == before  # no bundle, no temporary file


def test_the_cli_says_the_disk_is_full_in_one_line(office, residents, full_disk):
    data = str(office.settings.data_dir)
    office.close()
    result = CliRunner().invoke(cli, ["--data", data, "support-bundle", "--output",
                                      str(full_disk / "s.tar.gz")])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the disk is full: ")
    assert "Traceback" not in result.output
    assert not (full_disk / "s.tar.gz").exists()
    assert [n for n in os.listdir(full_disk) if n.endswith(".part")] == []


@pytest.mark.parametrize("where,problem", [("dir", "is_directory"),
                                           ("missing/x.tar.gz", "no_directory")])
def test_a_wrong_output_is_refused_and_nothing_is_written(office, tmp_path, where, problem):
    (tmp_path / "dir").mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(ValidationError) as refused:
        build(office, tmp_path / where)
    assert refused.value.details["reason"] == problem and refused.value.field == "output"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_scrub_keeps_times_and_numbers_of_the_office_and_removes_shapes():
    text = ("2026-11-24T08:00:00+00:00 ticket R-012 app MUH-2026-000123 "
            "nid 880101233 tel +973 3600 1234 mail a.b@example.org "
            "key 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 "
            "url postgres://nafitha:pw@db:5432/central فاطمة علي")
    clean = support.scrub(text)
    assert clean.startswith("2026-11-24T08:00:00+00:00 ticket R-012 app MUH-2026-000123")
    for gone in ("880101233", "3600 1234", "a.b@example.org", "9f86d081", ":pw@", "فاطمة"):
        assert gone not in clean
    assert "postgres://[removed]@db:5432/central" in clean
