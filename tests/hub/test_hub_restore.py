"""The proof of issue 23's backups: a hub's store is backed up while kiosks take tickets
through it over HTTP; more tickets and receipts follow and reach a real central; the data
directory is deleted and restored; the hub carries on. Nothing backed up is lost, central
applies no event twice, and no ticket or receipt number issued after the backup comes again
(central's high-water marks: central/high_water.py, core/backup.py)."""
from __future__ import annotations

import random
import shutil
import threading

import sqlalchemy as sa
from central_servers import ServerThread
from hubrig import RunningHub

from central.app import create_app
from central.db import events as central_events
from central.db import payments as central_payments
from central.service import Central
from core import backup
from core.clock import UlidFactory
from core.office import Office
from core.settings import load_settings
from core.text import with_check_digit
from sync.agent import SyncAgent, enrol, fetch_tail

RES = "residence-certificate"
PASS = "the office's backup passphrase"


def _fields(office, n: int) -> dict:
    nid = with_check_digit(f"{85020000 + n:08d}", office.settings.validation.national_id_check)
    sample = {"text": "Sample text", "phone": "33334444", "block": "204", "road": "15",
              "building": "1203A", "area_m2": "45", "money": "12.500"}
    values = {}
    for field in office.catalog.get(RES).fields:
        if field.key == "full_name":
            values[field.key] = "Fatima Ali Hasan"
        elif field.type == "national_id":
            values[field.key] = nid
        elif field.type == "choice":
            values[field.key] = field.options[0].value
        else:
            values[field.key] = sample[field.type]
    return values


def _pay(counter, office, n: int) -> str:
    app = counter.submit("sara", RES, _fields(office, n), None)
    return counter.take_payment("sara", app["number"], "cash", 1000, None)["receipt_number"]


def _open(settings, clock, seed):
    return Office.open(settings, clock=clock, ids=UlidFactory(clock, random.Random(seed)))


def _held_at_central(central, device_key="MUH/D01"):
    with central.engine.connect() as conn:
        ids = [r.id for r in conn.execute(sa.select(central_events.c.id).where(
            central_events.c.device_key == device_key))]
        receipts = [r.receipt_number for r in conn.execute(
            sa.select(central_payments.c.receipt_number))]
    return ids, receipts


def test_a_hub_survives_losing_its_data_directory(tmp_path, clock):
    central, _token = Central.init_root(tmp_path / "central", None, clock=clock)
    server = ServerThread(create_app(central)).start()
    settings = load_settings(tmp_path / "hub-data", environ={})
    enrol(settings, server.url, central.enrol_code("MUH", role="hub")["code"])
    office = _open(settings, clock, 1)
    office.users.create("sara", "clerk", "1234")
    office.payments.open_shift("sara", 20_000)
    hub = RunningHub(office)
    devices = tmp_path / "devices"
    kiosks = [hub.kiosk(devices, f"kiosk-{i}") for i in (1, 2)]
    counter = hub.counter(devices, "3")
    counter.sign_in("sara", "1234")
    tickets: list[str] = []
    receipts = [_pay(counter, office, 1)]
    tickets += [kiosks[0].take_ticket(RES, None)["number"] for _ in range(3)]
    assert SyncAgent(office).push() > 0  # central holds the start of the day

    # Kiosks keep taking tickets through the hub while the backup is taken.
    stop, lock = threading.Event(), threading.Lock()  # stop: a wait that needs no sleep

    def take(kiosk):
        for _ in range(6):  # a kiosk may take 20 a minute
            number = kiosk.take_ticket(RES, None)["number"]
            with lock:
                tickets.append(number)

    usb = tmp_path / "usb"
    usb.mkdir()
    workers = [threading.Thread(target=take, args=(k,)) for k in kiosks]
    for w in workers:
        w.start()
    try:
        while len(tickets) < 6:
            stop.wait(0.005)
        made = backup.create(settings, usb, passphrase=PASS, clock=clock)
    finally:
        for w in workers:
            w.join()
    manifest = backup.inspect(made["file"])
    in_backup = set(_restored_numbers(made["file"], tmp_path))
    assert len(in_backup) >= 6 and in_backup <= set(tickets)

    # More after the backup: tickets and a receipt; all of it reaches central.
    tickets += [kiosks[1].take_ticket(RES, None)["number"] for _ in range(3)]
    assert len(set(tickets) - in_backup) >= 3
    receipts.append(_pay(counter, office, 2))
    SyncAgent(office).push()
    assert office.outbox_status()["pending"] == 0
    before_loss, receipts_at_central = _held_at_central(central)
    assert sorted(receipts_at_central) == sorted(receipts)
    seq_at_loss = office.outbox_status()["last_seq"]
    assert seq_at_loss > manifest["outbox"]["last_seq"]

    # The disk dies: the data directory is gone.
    hub.stop()
    office.close()
    shutil.rmtree(settings.data_dir)
    result = backup.restore(settings, made["file"], passphrase=PASS, clock=clock,
                            tail=lambda after, staged: fetch_tail(settings, staged, after))
    assert result["marks"] == "central" and result["keys"] == "restored"
    assert result["adopted"] == seq_at_loss - manifest["outbox"]["last_seq"]

    office = _open(settings, clock, 2)
    try:
        audit_ok = office.verify_audit()
        assert audit_ok["ok"] and audit_ok["signed"]
        # Nothing backed up is lost.
        assert in_backup <= {t["number"] for t in office.queue.list()}
        # The hub carries on: its pairings came back, so kiosks and counter pair anew only
        # because the port changed (a new hub URL), and take numbers never issued before.
        hub = RunningHub(office)
        kiosk = hub.kiosk(devices, "kiosk-9")
        counter = hub.counter(devices, "4")
        counter.sign_in("sara", "1234")
        after = [kiosk.take_ticket(RES, None)["number"] for _ in range(3)]
        new_receipt = _pay(counter, office, 3)
        assert not set(after) & set(tickets), "a ticket number issued after the backup came back"
        assert new_receipt not in receipts
        assert max(after) > max(tickets)
        # Central: the events it already had are acknowledged, none applied twice; the
        # new ones follow on the device's audit chain (no fork, nothing refused).
        pending = office.outbox_status()["pending"]
        resent = manifest["outbox"]["unsent"]  # unsent in the backup, sent before the loss
        assert resent > 0 and pending > resent
        SyncAgent(office).push()
        assert office.outbox_status()["pending"] == 0
        assert office.outbox_status()["held"] == 0
        ids, receipts_at_central = _held_at_central(central)
        assert len(ids) == len(set(ids)) == len(before_loss) + (pending - resent)
        assert set(before_loss) < set(ids)
        assert sorted(receipts_at_central) == sorted(receipts + [new_receipt])
        hub.stop()
    finally:
        office.close()
        server.stop()
        central.close()


def _restored_numbers(file, tmp_path) -> list[str]:
    """The ticket numbers inside a backup, read from its database."""
    import sqlite3
    import tarfile
    with tarfile.open(file) as tar:
        data = tar.extractfile("nafitha.db").read()
    copy = tmp_path / "peek.db"
    copy.write_bytes(data)
    conn = sqlite3.connect(copy)
    try:
        return [r[0] for r in conn.execute("SELECT number FROM tickets")]
    finally:
        conn.close()
        copy.unlink()
