"""Issue 23's "done when", walked once on one box with the operator's commands: from a
fresh data directory to an installed hub whose units pass systemd-analyze; its data
directory deleted and restored from the backup taken while a kiosk took tickets (no number
issued twice, nothing applied twice at central); a kiosk's paper out reported to central's
console data; an update to a new version and back after a failed health check. Each part
has its own deeper proof (tests/cli/test_appliance_install.py, tests/hub/test_hub_restore.py,
tests/central/console/test_console_device_alerts.py in Chromium,
tests/cli/test_appliance_update.py)."""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from release_kit import Signer, make_wheel, project_files

from central.app import create_app
from central.db import events as central_events
from central.fleet import Fleet
from central.service import Central
from core import health
from core.clock import UlidFactory
from core.office import Office
from core.settings import load_settings
from nafitha.cli import cli
from sync.agent import SyncAgent, enrol

from central_servers import ServerThread
from hubrig import RunningHub

ROOT = Path(__file__).resolve().parents[2]
RES = "residence-certificate"
PACKAGES = ["nafitha", "core", "devices", "sync", "central", "hub", "hubclient", "ui",
            "kiosk", "counter", "testing"]


def test_a_box_installed_restored_reporting_and_updated(tmp_path, clock):
    central, _ = Central.init_root(tmp_path / "central", None, clock=clock)
    server = ServerThread(create_app(central)).start()
    data, staging, opt = tmp_path / "box" / "data", tmp_path / "staging", tmp_path / "opt"
    env = {"NAFITHA_DATA": None, "NAFITHA_CONFIG": None, "NAFITHA_UPDATE__ROOT": str(opt),
           "NAFITHA_BACKUP_PASSPHRASE": "the office's backup passphrase"}

    def nafitha(*args, expect=0):
        result = CliRunner().invoke(cli, ["--data", str(data), *args], env=env,
                                    catch_exceptions=False)
        assert result.exit_code == expect, (result.output, result.stderr)
        return result

    try:
        # 1. A fresh data directory to an installed hub whose units verify.
        nafitha("init")
        nafitha("appliance", "install", "hub", "--root", str(staging))
        units = sorted((staging / "etc/systemd/system").iterdir())
        assert {u.name for u in units} == {"nafitha-hub.service", "nafitha-backup.service",
                                           "nafitha-backup.timer"}
        verified = subprocess.run(["systemd-analyze", "verify", "--man=no",
                                   "--recursive-errors=no", *map(str, units)],
                                  capture_output=True, text=True, check=False)
        assert (verified.returncode, verified.stderr.strip()) == (0, "")
        settings = load_settings(data, environ={})
        enrol(settings, server.url, central.enrol_code("MUH", role="hub")["code"])

        # 2. A kiosk takes tickets; a backup; more tickets reach central; the disk dies.
        office = Office.open(settings, clock=clock, ids=UlidFactory(clock, random.Random(1)))
        hub = RunningHub(office)
        kiosk = hub.kiosk(tmp_path / "devices", "kiosk-1")
        issued = [kiosk.take_ticket(RES, None)["number"] for _ in range(3)]
        usb = tmp_path / "usb"
        usb.mkdir()
        nafitha("backup", "--to", str(usb))
        issued += [kiosk.take_ticket(RES, None)["number"] for _ in range(3)]
        SyncAgent(office).push()
        with central.engine.connect() as conn:
            at_central = conn.execute(sa.select(sa.func.count()).select_from(
                central_events)).scalar()
        hub.stop()
        office.close()
        shutil.rmtree(data)
        (backup_file,) = usb.glob("*.tar.gz")
        restored = nafitha("restore", str(backup_file)).output
        assert "central" in restored

        # 3. The hub carries on: no ticket number again; central applies nothing twice.
        office = Office.open(settings, clock=clock, ids=UlidFactory(clock, random.Random(2)))
        hub = RunningHub(office)
        kiosk = hub.kiosk(tmp_path / "devices", "kiosk-2")
        new = [kiosk.take_ticket(RES, None)["number"] for _ in range(3)]
        assert not set(new) & set(issued)
        SyncAgent(office).push()
        assert office.outbox_status()["held"] == 0
        with central.engine.connect() as conn:
            ids = [r.id for r in conn.execute(sa.select(central_events.c.id))]
        assert len(ids) == len(set(ids)) > at_central

        # 4. The kiosk's printer runs out of paper: central's console data says so.
        report = health.collect(None, kiosk.settings, role="kiosk", uptime_s=60,
                                printer="paper_out", camera="ok", clock=clock)
        kiosk.heartbeat(report)
        SyncAgent(office).push_health()
        seen = {d["key"]: d for d in Fleet(central).devices(["MUH"])}
        assert seen["MUH/kiosk-2"]["alerts"] == ["paper_out"]
        hub.stop()
        office.close()

        # 5. An update to 2.0.1, then 2.0.2, which cannot start: back to 2.0.1 by itself.
        files = project_files(ROOT, PACKAGES)
        broken = files["nafitha/cli.py"].replace(
            b"def main():\n", b"def main():\n    raise SystemExit('cannot start')\n", 1)
        signer = Signer(int(time.time()), root=central.root_key)  # the box trusts it
        script = {"nafitha": "nafitha.cli:main"}
        for version, cli_py in (("2.0.1", files["nafitha/cli.py"]), ("2.0.2", broken)):
            wheel = make_wheel(tmp_path / "wheels" / version, "nafitha", version,
                               {**files, "nafitha/cli.py": cli_py}, script)
            signer.bundle([wheel], tmp_path / "bundles" / f"nafitha-{version}.nafrel")
        good = json.loads(nafitha("appliance", "update", "--json",
                                  str(tmp_path / "bundles/nafitha-2.0.1.nafrel")).output)
        assert (good["outcome"], good["current"]) == ("updated", "2.0.1")
        failed = nafitha("appliance", "update", str(tmp_path / "bundles/nafitha-2.0.2.nafrel"),
                         expect=1)
        assert "rolled back to 2.0.1" in failed.stderr
        assert os.readlink(opt / "current") == "versions/2.0.1"
        # The units, installed again, now run the switched version.
        nafitha("appliance", "install", "hub", "--root", str(tmp_path / "staging2"))
        hub_unit = (tmp_path / "staging2/etc/systemd/system/nafitha-hub.service").read_text()
        assert f"ExecStart={opt / 'current' / 'bin' / 'nafitha'} " in hub_unit
    finally:
        server.stop()
        central.close()
