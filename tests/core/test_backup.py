"""core/backup.py: a consistent backup taken while the store is written, its manifest and
rotation, the keys encrypted with a passphrase (or left out), and a restore that checks
everything first and refuses each bad input with nothing changed."""
from __future__ import annotations

import gzip
import io
import json
import random
import shutil
import sqlite3
import tarfile
import threading
from pathlib import Path

import pytest

from core import backup
from core.clock import UlidFactory
from core.office import Office
from core.settings import load_settings

PASS = "correct horse battery staple"


@pytest.fixture
def backups(tmp_path):
    d = tmp_path / "usb"
    d.mkdir()
    return d


def _tickets(office, n, service="residence-certificate"):
    return [office.queue.take_ticket(service)["number"] for _ in range(n)]


def _fresh_target(tmp_path, name="restored"):
    return tmp_path / name


def _settings_for(settings, data_dir, **env):
    environ = {"NAFITHA_OFFICE__CODE": settings.office.code,
               "NAFITHA_DEVICE__ID": settings.device.id, **env}
    return load_settings(data_dir, environ=environ)


def test_backup_while_writing_is_consistent_and_records_its_facts(office, settings, backups,
                                                                   clock, tmp_path):
    _tickets(office, 3)
    # Another connection keeps writing while the backup runs: the copy is one snapshot.
    writer = Office.open(settings, clock=clock, ids=UlidFactory(clock, random.Random(3)))
    stop = threading.Event()

    def write():
        while not stop.is_set():
            writer.queue.take_ticket("residence-certificate")

    thread = threading.Thread(target=write)
    thread.start()
    try:
        result = backup.create(settings, backups, passphrase=PASS, clock=clock,
                               app_version="9.9")
    finally:
        stop.set()
        thread.join()
        writer.close()
    file = Path(result["file"])
    assert backup.NAME.match(file.name) and file.parent == backups
    assert not [p for p in backups.iterdir() if p.name.startswith(".")]  # no temp left
    manifest = backup.inspect(file)
    assert manifest["device"] == "D01" and manifest["office"] == "MUH"
    assert manifest["app_version"] == "9.9" and manifest["keys"] == "encrypted"
    with tarfile.open(file) as tar:
        names = tar.getnames()
        db = tar.extractfile("nafitha.db").read()
    assert "keys/device.key" not in " ".join(names)  # never in clear
    assert not any(n.startswith("files/keys") for n in names)
    copy = tmp_path / "copy.db"
    copy.write_bytes(db)
    conn = sqlite3.connect(copy)
    head = conn.execute("SELECT seq, hash FROM audit_head").fetchone()
    last = conn.execute("SELECT MAX(seq), COUNT(*) FROM outbox").fetchone()
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert manifest["audit_head"] == {"seq": head[0], "hash": head[1]}
    assert manifest["outbox"]["last_seq"] == last[0] >= 3
    assert manifest["outbox"]["unsent"] == last[1]
    recorded = backup.last_backup(settings)
    assert recorded["ok"] and recorded["file"] == str(file)
    assert recorded["at"] == manifest["taken_at"]


def test_restore_with_the_passphrase_brings_the_device_back_whole(office, settings, backups,
                                                                   clock, tmp_path):
    numbers = _tickets(office, 2)
    key_bytes = (settings.data_dir / "keys" / "device.key").read_bytes()
    file = backup.create(settings, backups, passphrase=PASS, clock=clock)["file"]
    office.close()
    target = _fresh_target(tmp_path)
    result = backup.restore(settings, file, target, passphrase=PASS, clock=clock)
    assert result["keys"] == "restored" and result["marks"] == "margin"
    assert (target / "keys" / "device.key").read_bytes() == key_bytes
    assert (target / "keys").stat().st_mode & 0o077 == 0
    again = Office.open(_settings_for(settings, target), clock=clock,
                        ids=UlidFactory(clock, random.Random(5)))
    try:
        assert again.verify_audit()["ok"] and again.verify_audit()["signed"]
        assert [r["number"] for r in again.queue.list()] == numbers
        # No central to ask: numbers jump ahead by the stated margin, never repeat.
        later = again.queue.take_ticket("residence-certificate")
        prefix = numbers[0].rstrip("0123456789")
        assert result["ticket_margin"] == 499
        assert later["number"] == f"{prefix}{2 + 499 + 1:03d}"
    finally:
        again.close()


def test_without_a_passphrase_the_keys_are_left_out_and_restore_says_enrol(
        office, settings, backups, clock, tmp_path):
    _tickets(office, 1)
    file = backup.create(settings, backups, passphrase=None, clock=clock)["file"]
    assert backup.inspect(file)["keys"] == "excluded"
    with tarfile.open(file) as tar:
        assert "secrets.bin" not in tar.getnames()
    target = _fresh_target(tmp_path)
    result = backup.restore(settings, file, target, clock=clock)
    assert "enrol again" in result["keys"]
    assert not (target / "keys").exists()


def test_keys_in_the_backup_need_the_passphrase_or_an_explicit_without(office, settings,
                                                                        backups, clock,
                                                                        tmp_path):
    file = backup.create(settings, backups, passphrase=PASS, clock=clock)["file"]
    target = _fresh_target(tmp_path)
    with pytest.raises(backup.KeysNeeded):
        backup.restore(settings, file, target, clock=clock)
    assert not target.exists()
    result = backup.restore(settings, file, target, without_keys=True, clock=clock)
    assert not (target / "keys").exists() and "enrol" in result["keys"]


def _nothing_changed(tmp_path, target, before):
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not target.exists() or not any(target.iterdir()) or target.name == "busy"


@pytest.mark.parametrize("damage", ["truncated", "not_a_backup", "tar_without_manifest",
                                    "db_altered"])
def test_a_damaged_or_foreign_file_is_refused_and_nothing_changes(office, settings, backups,
                                                                   clock, tmp_path, damage):
    good = Path(backup.create(settings, backups, passphrase=PASS, clock=clock)["file"])
    bad = tmp_path / "bad.tar.gz"
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif damage == "not_a_backup":
        bad.write_bytes(b"hello, this is a letter, not a backup\n" * 50)
    elif damage == "tar_without_manifest":
        with tarfile.open(bad, "w:gz") as tar:
            tar.add(settings.db_path, "nafitha.db")
    else:  # the database inside no longer matches the manifest's hash
        with tarfile.open(good) as src, tarfile.open(bad, "w:gz") as dst:
            for m in src.getmembers():
                data = src.extractfile(m).read()
                if m.name == "nafitha.db":
                    data = data[:-1] + bytes([data[-1] ^ 1])
                m.size = len(data)
                dst.addfile(m, io.BytesIO(data))
    target = _fresh_target(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(backup.BackupInvalid) as err:
        backup.restore(settings, bad, target, passphrase=PASS, clock=clock)
    assert err.value.code == "backup_invalid" and "nothing was changed" in err.value.message
    _nothing_changed(tmp_path, target, before)


def test_a_backup_of_another_device_is_refused(office, settings, backups, clock, tmp_path):
    file = backup.create(settings, backups, clock=clock)["file"]
    other = load_settings(tmp_path / "other", environ={"NAFITHA_DEVICE__ID": "D02"})
    target = _fresh_target(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(backup.BackupOtherDevice) as err:
        backup.restore(other, file, target, clock=clock)
    assert "MUH/D01" in err.value.message and "D02" in err.value.message
    _nothing_changed(tmp_path, target, before)


def test_a_backup_from_a_newer_schema_is_refused(office, settings, backups, clock, tmp_path):
    good = Path(backup.create(settings, backups, clock=clock)["file"])
    newer = tmp_path / "newer.tar.gz"
    with tarfile.open(good) as src, tarfile.open(newer, "w:gz") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            if m.name == "manifest.json":
                manifest = json.loads(data)
                manifest["schema"] += 1
                data = json.dumps(manifest).encode()
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
    target = _fresh_target(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(backup.BackupNewerSchema) as err:
        backup.restore(settings, newer, target, clock=clock)
    assert "upgrade Nafitha" in err.value.message
    _nothing_changed(tmp_path, target, before)


def test_a_restore_target_that_is_not_empty_is_refused(office, settings, backups, clock,
                                                       tmp_path):
    file = backup.create(settings, backups, clock=clock)["file"]
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(backup.RestoreTargetNotEmpty) as err:
        backup.restore(settings, file, target, clock=clock)
    assert "mv " in err.value.message  # says how to move it aside
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "keep me"
    # The live data directory itself is never overwritten either.
    db_before = settings.db_path.read_bytes()
    with pytest.raises(backup.RestoreTargetNotEmpty):
        backup.restore(settings, file, clock=clock)
    assert settings.db_path.read_bytes() == db_before


def test_a_wrong_passphrase_is_refused_and_nothing_changes(office, settings, backups, clock,
                                                           tmp_path):
    file = backup.create(settings, backups, passphrase=PASS, clock=clock)["file"]
    target = _fresh_target(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(backup.WrongPassphrase) as err:
        backup.restore(settings, file, target, passphrase="wrong", clock=clock)
    assert err.value.code == "backup_wrong_passphrase"
    _nothing_changed(tmp_path, target, before)


def test_rotation_keeps_the_newest_of_this_device_only(office, settings, backups, clock):
    foreign = backups / "nafitha-MUH-D09-20260101T000000Z-0123456789ab.tar.gz"
    foreign.write_bytes(b"another device's")
    note = backups / "README.txt"
    note.write_text("a person's file")
    configured = _settings_for(settings, settings.data_dir,
                               NAFITHA_BACKUP__TO_DIR=str(backups), NAFITHA_BACKUP__KEEP="2")
    made = []
    for _ in range(4):
        _tickets(office, 1)  # a new content hash each time
        clock.advance(3600)
        made.append(Path(backup.scheduled(configured, clock=clock)["file"]).name)
    mine = sorted(p.name for p in backups.iterdir() if "-D01-" in p.name)
    assert mine == sorted(made[-2:])
    assert foreign.exists() and note.read_text() == "a person's file"


def test_scheduled_with_nowhere_set_skips_and_a_missing_disk_is_an_error(office, settings,
                                                                        clock, tmp_path):
    assert "nowhere" in backup.scheduled(settings, clock=clock)["skipped"]
    missing = _settings_for(settings, settings.data_dir,
                            NAFITHA_BACKUP__TO_DIR=str(tmp_path / "unplugged"))
    with pytest.raises(backup.BackupNowhere) as err:
        backup.scheduled(missing, clock=clock)
    assert "plugged in" in err.value.message
    assert not (tmp_path / "unplugged").exists()
    recorded = backup.last_backup(settings)
    assert recorded["ok"] is False and recorded["error"] == "backup_nowhere"


def test_marks_from_events_reads_every_numbered_sequence():
    events = [
        {"seq": 7, "type": "ticket.taken", "data": {"day": "2026-11-24", "number": "R012"}},
        {"seq": 6, "type": "ticket.called", "data": {"day": "2026-11-24", "number": "R003"}},
        {"seq": 8, "type": "payment.taken", "data": {"receipt_number": "MUH-D01-R0000031",
                                                      "application_number":
                                                          "MUH-D01-A2026-000044"}},
        {"seq": 9, "type": "licence.issued", "data": {"number": "MUH-2026-D01-000005",
                                                       "device_counter": 6}},
        {"seq": 10, "type": "bill.issued", "data": {"number": "MUH-D01-B000042-57"}},
    ]
    assert backup.marks_from_events(events) == {
        "outbox": 10, "ticket:2026-11-24:R": 12, "receipt": 31, "application:2026": 44,
        "licence:2026": 5, "licence:device": 6, "bill": 42}


def test_the_gzip_is_really_compressed(office, settings, backups, clock):
    _tickets(office, 20)
    result = backup.create(settings, backups, clock=clock)
    with open(result["file"], "rb") as fh:
        assert fh.read(2) == b"\x1f\x8b"
    with gzip.open(result["file"]) as fh:
        raw = fh.read()
    assert result["bytes"] < len(raw)
    shutil.rmtree(backups)


def test_when_central_cannot_answer_the_restore_stops_with_nothing_changed(
        office, settings, backups, clock, tmp_path):
    file = backup.create(settings, backups, passphrase=PASS, clock=clock)["file"]
    target = _fresh_target(tmp_path)
    asked = []

    def unreachable(after_seq, staged):
        asked.append((after_seq, (staged / "keys" / "device.key").exists()))
        raise backup.CentralNeeded("central unreachable; nothing was changed")

    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(backup.CentralNeeded):
        backup.restore(settings, file, target, passphrase=PASS, tail=unreachable, clock=clock)
    assert asked == [(backup.inspect(file)["outbox"]["last_seq"], True)]
    _nothing_changed(tmp_path, target, before)


def test_events_that_do_not_follow_the_backup_are_refused(office, settings, backups, clock,
                                                          tmp_path):
    _tickets(office, 1)
    file = backup.create(settings, backups, passphrase=PASS, clock=clock)["file"]
    _tickets(office, 2)
    from core import outbox
    later = outbox.pending(office.store)[-2:]  # what central would hold after the backup
    forged = [dict(later[0], data={**later[0]["data"], "number": "R999"}), later[1]]
    other = [dict(e, device="D02") for e in later]
    target = _fresh_target(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    for bad, expected in ((forged, "does not match its hash"), (later[1:], "does not follow"),
                          (other, "another device")):
        with pytest.raises((backup.BackupInvalid, backup.InvalidState)) as err:
            backup.restore(settings, file, target, passphrase=PASS, clock=clock,
                           tail=lambda after, staged, bad=bad: bad)
        assert expected in err.value.message
        _nothing_changed(tmp_path, target, before)
    # The true tail is adopted: the chain runs on, the numbers are the marks.
    result = backup.restore(settings, file, target, passphrase=PASS, clock=clock,
                            tail=lambda after, staged: later)
    assert result["adopted"] == 2 and result["head_signed"]
    assert result["raised"]["outbox"] == later[-1]["seq"]


def test_no_personal_data_in_clear_in_a_backup_and_documents_come_back(
        office, settings, backups, clock, tmp_path_factory, submit_valid, valid_nid):
    submit_valid()
    page = settings.data_dir / "documents" / "ab" / "ab12"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_bytes(b"scan of the ID card of Fatima Ali Hasan " + valid_nid().encode())
    for passphrase in (PASS, None):
        file = backup.create(settings, backups, passphrase=passphrase, clock=clock)["file"]
        with gzip.open(file) as fh:
            raw = fh.read()
        assert b"Fatima" not in raw and valid_nid().encode() not in raw
        assert b"ab12" not in raw  # not even the document's name
        if passphrase:
            target = tmp_path_factory.mktemp("elsewhere") / "with-pass"  # not in data_dir
            backup.restore(settings, file, target, passphrase=PASS, clock=clock)
            assert (target / "documents" / "ab" / "ab12").read_bytes() == page.read_bytes()
        Path(file).unlink()


def test_a_member_that_would_leave_the_data_directory_is_refused(office, settings, backups,
                                                                 clock, tmp_path):
    good = Path(backup.create(settings, backups, clock=clock)["file"])
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(good) as src, tarfile.open(evil, "w:gz") as dst:
        for m in src.getmembers():
            dst.addfile(m, src.extractfile(m))
        escape = tarfile.TarInfo("files/../../escaped.txt")
        escape.size = 3
        dst.addfile(escape, io.BytesIO(b"bad"))
    target = _fresh_target(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(backup.BackupInvalid):
        backup.restore(settings, evil, target, clock=clock)
    _nothing_changed(tmp_path, target, before)
    assert not (tmp_path.parent / "escaped.txt").exists()
