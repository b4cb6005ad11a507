"""`nafitha appliance install ROLE` and `status` (core/appliance.py): every role's units
under --root pass `systemd-analyze verify` for real; re-running changes nothing; a bad role,
a --root that is a file and a root it may not write to each give one clear error and
write nothing."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from core import appliance

ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
EXPECTED = {
    "kiosk": {"nafitha-kiosk.service"}, "counter": {"nafitha-counter.service"},
    "hub": {"nafitha-hub.service"}, "agent": {"nafitha-agent.service"},
    "central": {"nafitha-central.service"},
}
BACKUP = {"nafitha-backup.service", "nafitha-backup.timer"}


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture
def exe(tmp_path):
    # The executable the units name must exist for `verify`: a stand-in for nafitha.
    path = tmp_path / "bin" / "nafitha"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("role", appliance.ROLES)
def test_every_roles_units_pass_systemd_analyze_verify(run, tmp_path, exe, role):
    root = tmp_path / "root"
    result = run("appliance", "install", role, "--root", str(root), "--exe", exe, "--json")
    report = json.loads(result.output)
    assert report["enabled"] is False and "not enabled" in report["note"]
    unit_dir = root / appliance.UNIT_DIR
    names = {p.name for p in unit_dir.iterdir()}
    assert names == EXPECTED[role] | BACKUP
    assert set(report["files"].values()) == {"written"}
    # The real systemd-analyze on the real files: any warning counts as a failure.
    done = subprocess.run([ANALYZE, "verify", "--man=no", "--recursive-errors=no",
                           *sorted(str(p) for p in unit_dir.iterdir())],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert (done.returncode, done.stderr.strip()) == (0, "")
    service = (unit_dir / next(iter(EXPECTED[role]))).read_text()
    for line in ("Type=notify", f"WatchdogSec={appliance.WATCHDOG_SEC}", "Restart=always",
                 "StandardOutput=journal", "User=nafitha",
                 "EnvironmentFile=/etc/nafitha/nafitha.env"):
        assert line in service.splitlines()
    if role in ("kiosk", "counter"):
        app = f"{role} --fullscreen" if role == "counter" else role  # the kiosk by setting
        assert f"ExecStart=/usr/bin/xinit {exe} {app} -- /usr/bin/Xorg :0 vt7" in service
        assert "TTYPath=/dev/tty7" in service and "NotifyAccess=all" in service
    else:
        assert "NoNewPrivileges=yes" in service and "ProtectSystem=full" in service
    timer = (unit_dir / "nafitha-backup.timer").read_text()
    assert "OnCalendar=*-*-* 02:30:00" in timer and "Persistent=true" in timer
    assert f"ExecStart={exe} backup --scheduled" in \
        (unit_dir / "nafitha-backup.service").read_text()
    assert "NAFITHA_DATA=" in (root / appliance.ENV_FILE).read_text()


def test_a_broken_unit_fails_verify(tmp_path, exe):
    # The check above can fail: a unit naming a missing program does not verify.
    bad = tmp_path / "nafitha-kiosk.service"
    text = appliance.unit_files("kiosk", _settings(), appliance.Paths(exe=exe))
    bad.write_text(text[f"{appliance.UNIT_DIR}/nafitha-kiosk.service"].replace(
        "/usr/bin/xinit", "/usr/bin/no-such-xinit"))
    done = subprocess.run([ANALYZE, "verify", "--man=no", "--recursive-errors=no", str(bad)],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode != 0 and "no-such-xinit" in done.stderr


def _settings():
    from core.settings import Settings
    return Settings()


def test_protect_home_only_when_nothing_of_ours_lives_in_a_home(tmp_path):
    from core.settings import Settings
    unit = f"{appliance.UNIT_DIR}/nafitha-hub.service"
    away = appliance.unit_files("hub", Settings(), appliance.Paths(exe="/opt/n/bin/nafitha"))
    home = appliance.unit_files("hub", Settings(), appliance.Paths(
        exe="/opt/n/bin/nafitha", data_dir="/home/office/nafitha"))
    assert "ProtectHome=yes" in away[unit].splitlines()
    assert "ProtectHome=yes" not in home[unit]
    assert "WorkingDirectory=/home/office/nafitha" in home[unit].splitlines()


def test_the_timer_follows_settings_backup_on_calendar(run, tmp_path, exe):
    data = tmp_path / "data"
    data.mkdir()
    (data / "nafitha.toml").write_text('[backup]\non_calendar = "*-*-* 04:15:00"\n')
    run("appliance", "install", "agent", "--root", str(tmp_path / "r"), "--exe", exe)
    assert "OnCalendar=*-*-* 04:15:00" in \
        (tmp_path / "r" / appliance.UNIT_DIR / "nafitha-backup.timer").read_text()


def test_installing_again_changes_nothing_and_keeps_an_edited_env_file(run, tmp_path, exe):
    root = tmp_path / "root"
    run("appliance", "install", "hub", "--root", str(root), "--exe", exe)
    env = root / appliance.ENV_FILE
    env.write_text(env.read_text() + "NAFITHA_EXTRA=1\n")
    before = tree(root)
    mtimes = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    report = json.loads(run("appliance", "install", "hub", "--root", str(root), "--exe", exe,
                            "--json").output)["files"]
    assert report == {**{f"{appliance.UNIT_DIR}/{n}": "unchanged"
                         for n in EXPECTED["hub"] | BACKUP}, appliance.ENV_FILE: "kept"}
    assert tree(root) == before
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == mtimes
    human = run("appliance", "install", "hub", "--root", str(root), "--exe", exe).output
    assert "unchanged" in human and "written" not in human


def test_a_bad_role_is_one_clear_error_and_writes_nothing(run, tmp_path, exe):
    root = tmp_path / "root"
    result = run("appliance", "install", "printer", "--root", str(root), "--exe", exe,
                 expect=1)
    assert result.stderr.strip().splitlines() == [
        "Error: unknown role 'printer': one of kiosk, counter, hub, agent, central"]
    assert not root.exists()
    as_json = run("appliance", "install", "printer", "--root", str(root), "--json", expect=1)
    assert json.loads(as_json.stdout)["error"] == "appliance_role_unknown"


def test_a_root_that_is_a_file_is_refused_and_left_alone(run, tmp_path, exe):
    root = tmp_path / "root"
    root.write_text("not a directory")
    result = run("appliance", "install", "hub", "--root", str(root), "--exe", exe, expect=1)
    assert result.stderr.strip() == f"Error: --root {root} is not a directory"
    assert root.read_text() == "not a directory"


def test_a_relative_exe_is_refused_and_writes_nothing(run, tmp_path):
    root = tmp_path / "root"
    result = run("appliance", "install", "agent", "--root", str(root), "--exe", "bin/nafitha",
                 expect=1)
    assert result.stderr.strip() == ("Error: the nafitha executable must be an absolute "
                                     "path, not 'bin/nafitha'")
    assert not root.exists()


def test_no_permission_to_write_is_refused_and_writes_nothing(run, tmp_path, exe):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    # Root may write anywhere, save an immutable directory: that is the refusal here.
    if subprocess.run(["chattr", "+i", str(root / "etc")], capture_output=True, check=False).returncode:
        pytest.fail("chattr +i is needed for this test (e2fsprogs)")
    try:
        result = run("appliance", "install", "kiosk", "--root", str(root), "--exe", exe,
                     expect=1)
        assert result.stderr.strip() == f"Error: no permission to write in {root / 'etc'}"
        assert list(root.rglob("*")) == [root / "etc"]
    finally:
        subprocess.run(["chattr", "-i", str(root / "etc")], check=True)


def test_status_lists_the_installed_units(run, tmp_path, exe):
    root = tmp_path / "root"
    empty = run("appliance", "status", "--root", str(root)).output
    assert "no nafitha units installed" in empty
    run("appliance", "install", "agent", "--root", str(root), "--exe", exe)
    status = json.loads(run("appliance", "status", "--root", str(root), "--json").output)
    assert [u["unit"] for u in status["units"]] == sorted(EXPECTED["agent"] | BACKUP)
    assert {u["active"] for u in status["units"]} == {"unknown: staged under --root"}


def test_help_ends_with_an_example(run):
    for args in (["appliance", "install", "--help"], ["appliance", "status", "--help"]):
        lines = run(*args).output.strip().splitlines()
        assert any(line.strip() == "Example:" for line in lines[-4:])


@pytest.fixture
def on_the_box(monkeypatch, tmp_path):
    """Install without --root, with "/" redirected to a directory and systemctl, useradd
    recorded: what the command does on a real box."""
    from nafitha import appliance_cli
    box = tmp_path / "box"
    calls = []
    real_install = appliance.install_files
    monkeypatch.setattr(appliance_cli.units, "install_files",
                        lambda files, root: real_install(files, box))
    monkeypatch.setattr(appliance_cli, "_systemctl", lambda *args: calls.append(args))
    monkeypatch.setattr(appliance_cli, "_make_user_and_data",
                        lambda paths: calls.append(("user", paths.user, paths.data_dir)))
    return box, calls, appliance_cli


def test_on_a_box_with_systemd_it_reloads_and_enables(run, tmp_path, exe, on_the_box,
                                                      monkeypatch):
    box, calls, appliance_cli = on_the_box
    monkeypatch.setattr(appliance_cli, "_systemd_running", lambda: True)
    report = json.loads(run("appliance", "install", "kiosk", "--exe", exe, "--json").output)
    assert calls == [("user", "nafitha", str(tmp_path / "data")), ("daemon-reload",),
                     ("enable", "nafitha-kiosk.service", "nafitha-backup.timer")]
    assert report["enabled"] == ["nafitha-kiosk.service", "nafitha-backup.timer"]
    assert (box / appliance.UNIT_DIR / "nafitha-kiosk.service").exists()


def test_on_a_box_without_systemd_it_says_the_units_are_not_enabled(run, exe, on_the_box,
                                                                    monkeypatch):
    box, calls, appliance_cli = on_the_box
    monkeypatch.setattr(appliance_cli, "_systemd_running", lambda: False)
    out = run("appliance", "install", "agent", "--exe", exe).output
    assert "units written but not enabled: systemd is not running here" in out
    assert [c[0] for c in calls] == ["user"]  # no systemctl
    assert (box / appliance.UNIT_DIR / "nafitha-agent.service").exists()


def test_units_run_the_switched_version_once_an_update_installed_one(run, tmp_path):
    """`nafitha appliance update` switches <update.root>/current: the units must name it,
    or an update would never take effect at the next start."""
    updates = tmp_path / "opt"
    root = tmp_path / "root"
    env = {"NAFITHA_UPDATE__ROOT": str(updates)}
    run("appliance", "install", "agent", "--root", str(root), env=env)
    service = (root / appliance.UNIT_DIR / "nafitha-agent.service").read_text()
    assert str(updates / "current") not in service  # no release installed yet: this one
    switched = updates / "current" / "bin" / "nafitha"
    switched.parent.mkdir(parents=True)
    switched.write_text("#!/bin/sh\n")
    switched.chmod(0o755)
    run("appliance", "install", "agent", "--root", str(root / "again"), env=env)
    again = (root / "again" / appliance.UNIT_DIR / "nafitha-agent.service").read_text()
    assert f"ExecStart={switched} " in again


def test_status_shows_the_health_of_the_box_and_its_devices_with_alerts(run, tmp_path):
    from core import health
    from core.office import Office
    from core.settings import load_settings

    root = tmp_path / "root"
    status = json.loads(run("appliance", "status", "--root", str(root), "--json").output)
    assert status["health"] is None  # no store yet
    run("init")
    run("appliance", "install", "hub", "--root", str(root))
    office = Office.open(load_settings(tmp_path / "data", environ={}))
    try:
        report = health.collect(office.store, office.settings, role="kiosk", uptime_s=60,
                                printer="paper_out", camera="ok")
        health.record(office.store, "kiosk-1", report)
    finally:
        office.close()
    status = json.loads(run("appliance", "status", "--root", str(root), "--json").output)
    by_device = {d["device"]: d for d in status["health"]}
    assert by_device["this box"]["report"]["role"] == "hub"
    assert "no_backup" in by_device["this box"]["alerts"]  # a hub never backed up
    assert by_device["kiosk-1"]["alerts"] == ["paper_out"]
    shown = run("appliance", "status", "--root", str(root)).output
    assert "health of kiosk-1" in shown and "paper_out" in shown
