"""Issue 22's "done when", with real parts end to end: a resident leaves an offline field
office's kiosk with an unpaid building permit; the back office approves it; the payment
network (its simulator, its own process) pays the bill at central while the office is
offline, with the duplicates, disorder and retries real networks send; the office comes
online; the resident collects the printed licence at the kiosk (the real app under the pilot,
in Arabic) by typing the bill number and national ID; the day's reconciliation, by the
`nafitha central` commands an operator runs, shows no difference, and central's revenue
report counts the payment once, under the network.

Central serves real HTTP (tests/central_servers.py); the office is the kiosk's own store,
enrolled with central, its sync agent run from here as the appliance's timer would."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from central.app import create_app
from central.bills import sign
from central.service import Central
from core.clock import FrozenClock
from core.faces.kiosk import KioskFace
from core.settings import load_settings
from sync.agent import SyncAgent, enrol

from central_servers import ServerThread
from kiosk_rig import PERSON, START, KioskRig

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
NAFITHA = str(Path(sys.executable).with_name("nafitha"))
DAY = "2026-11-24"
PERMIT = "building-permit-small"


def nafitha(home: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([NAFITHA, "central", "--home", str(home), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_an_unpaid_permit_is_paid_through_the_network_and_collected_at_the_kiosk(
        xvfb_display, tmp_path):
    clock = FrozenClock(START)
    clock.advance(seconds=-3600)  # central's certificate for the kiosk predates its work
    central, _token = Central.init_root(tmp_path / "central", clock=clock)
    server = ServerThread(create_app(central)).start()
    rig = KioskRig(tmp_path / "rig", lang="ar")
    try:
        settings = load_settings(rig.data, environ={})
        enrol(settings, server.url, central.enrol_code(settings.office.code,
                                                       role="hub")["code"])
        with rig:
            office = rig.office()
            try:
                _walk(rig, office, central, server.url, tmp_path)
            finally:
                office.close()
    finally:
        rig.close()
        server.stop()
        central.close()


def _walk(rig, office, central, url: str, tmp_path: Path) -> None:
    person = PERSON["ar"]
    # 1. Offline: the resident applies at the kiosk and leaves without paying.
    kiosk = KioskFace(office)
    app = kiosk.submit(PERMIT, {
        "full_name": person["full_name"], "national_id": person["national_id"],
        "phone": person["phone"], "parcel": "7781", "block": "208", "road": "2811",
        "building": "12", "area_m2": "32.5"})
    bill = app["bill"]
    assert bill["state"] == "open" and app["state"] == "submitted"
    assert central.counts()["applications"] == 0  # nothing has left the office

    # 2. The office gets through once; the back office approves the permit.
    assert SyncAgent(office).once()["status"]["pending"] == 0
    central.decide(app["number"], "approved", by="mariam")

    # 3. The office is offline again; the network pays the bill at central: the simulator
    #    inquires, then pays with a duplicate, out of order and retried.
    secret_file = central.home / "biller.key"
    central.bills.secret()  # made on first use, 0600
    settlement, sent = tmp_path / "settle.csv", tmp_path / "sent.json"
    simulated = subprocess.run(
        [sys.executable, "-m", "central.biller_simulator", "--url", url, "--secret-file",
         str(secret_file), "--bills", bill["number"], "--faults",
         "duplicate,out_of_order,retry", "--network", "sadad", "--date", DAY,
         "--settlement", str(settlement), "--log", str(sent)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert simulated.returncode == 0, simulated.stdout + simulated.stderr
    log = json.loads(sent.read_text())
    assert len(log) >= 2  # the duplicate (and the retry) went out as well
    path = f"/v1/biller/bills/{bill['number']}"
    answer = requests.get(url + path, timeout=10, headers={
        "X-Biller-Signature": sign(central.bills.secret(), path.encode())}).json()
    assert answer["status"] == "paid" and answer["amount_minor"] == bill["amount_minor"]
    assert office.bills.for_application(app["id"])["state"] == "open"  # it has not heard

    # 4. The office comes online: the decision and the payment arrive with the pull.
    SyncAgent(office).once()
    row = office.applications.row(app["id"])
    assert row["state"] == "approved" and row["paid_at"] is not None
    assert office.bills.for_application(app["id"])["state"] == "paid"
    network = office.store.all("SELECT * FROM payments WHERE application_id = ?", (app["id"],))
    assert [(p["method"], p["refund"]) for p in network] == [("network", None)]

    # 5. The resident comes back and collects the licence at the kiosk, in Arabic.
    p, jobs = rig.pilot, len(rig.printer.jobs)
    p.tap("home:collect")
    rig.wait_screen("collect")
    p.tap("collect_field:bill")
    p.type(bill["number"].lower())
    p.tap("collect_field:national_id")
    p.type(person["national_id"])
    p.tap("collect")
    state = rig.wait_screen("collected", timeout_s=30)
    licence = office.store.one("SELECT * FROM licences WHERE application_id = ?", (app["id"],))
    assert state["texts"]["number"] == licence["number"] and state["flags"]["printed"]
    assert len(rig.printer.jobs) == jobs + 1
    verified = office.verify_licence(rig.printed_qr_texts()[-1])
    assert verified.valid and verified.claims["number"] == licence["number"]
    rig.pilot.screenshot(tmp_path / "collected.png")

    # 6. The day's reconciliation: the network's settlement file against its notifications.
    SyncAgent(office).once()  # the licence and bill.paid reach central
    imported = nafitha(central.home, "settlement", "import", str(settlement))
    assert "Imported 1 line(s) for 2026-11-24" in imported.stdout
    report = json.loads(nafitha(central.home, "reconcile", DAY, "--json").stdout)
    assert report["lines"] == 1 and report["notifications"] == 1
    assert report["differences"] == []
    revenue = json.loads(nafitha(central.home, "revenue", DAY, "--json").stdout)
    assert revenue["refunds_due"] == []
    assert [(t["currency"], t["network"], t["total"]) for t in revenue["totals"]] == \
        [(bill["currency"], bill["amount_minor"], bill["amount_minor"])]
    assert central.licence_status(licence["number"])["status"] == "valid"

