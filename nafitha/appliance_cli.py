"""`nafitha appliance ...`: run this box as an appliance (systemd units for its role, the
watchdog, its health) and update it to a signed release (nafitha/update_cli.py adds `update`)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click

from core import appliance as units
from nafitha import update_cli
from nafitha.commands import Group, command


@click.group(cls=Group)
def appliance():
    """Install this box as an appliance for one role, see what runs, update it.

    \b
    Example:
        nafitha appliance install hub
        nafitha appliance status
    """


def _systemd_running() -> bool:
    # sd_booted(): systemd is PID 1 when this directory exists.
    return os.path.isdir("/run/systemd/system")


def _default_exe(settings) -> str:
    """The switched version's (`nafitha appliance update`: <update.root>/current) once a
    release is installed, so an update takes effect at the next start; else this one."""
    switched = Path(settings.update.root) / "current" / "bin" / "nafitha"
    return str(switched) if switched.exists() else str(Path(sys.executable).parent / "nafitha")


@command(appliance, "install")
@click.argument("role")
@click.option("--root", "root_dir", type=click.Path(),
              help="Write under this staging directory instead of / (no systemctl, no user).")
@click.option("--exe", help="The nafitha executable the units run (default: <update.root>/current/bin/"
                   "nafitha once an update installed one, else this one).")
def appliance_install(ctx, role, root_dir, exe):
    """Write the systemd units (and the backup timer) for ROLE: kiosk, counter, hub, agent
    or central. Run as root. Outside --root: make the nafitha user and the data directory, then
    `systemctl daemon-reload` and `enable` them (when systemd runs here). Running it again
    changes nothing that is already right. Units are in /etc/systemd/system; settings in
    /etc/nafitha/nafitha.env.

    \b
    Example:
        nafitha appliance install hub
        nafitha appliance install kiosk --root ./staging
    """
    units.check_role(role)
    root = units.check_root(root_dir or "/")
    # The units' data directory: --data (NAFITHA_DATA) when given, else /var/lib/nafitha.
    data_dir = str(Path(ctx.data).resolve()) if ctx.data else units.DATA_DIR
    paths = units.Paths(exe=exe or _default_exe(ctx.settings), data_dir=data_dir)
    files = units.unit_files(role, ctx.settings, paths)
    report = units.install_files(files, root)
    result = {"role": role, "root": str(root), "files": report, "enabled": False,
              "note": ""}
    if root_dir is not None:
        result["note"] = "staged under --root: not enabled"
    else:
        _make_user_and_data(paths)
        if _systemd_running():
            names = units.service_names(role)
            _systemctl("daemon-reload")
            _systemctl("enable", *names)
            result["enabled"] = names
        else:
            result["note"] = ("units written but not enabled: systemd is not running here "
                              "(enable them with systemctl once it is)")
    if role in units.APT_PACKAGES and not Path(units.XINIT).exists():
        result["note"] = (result["note"] + "; " if result["note"] else "") + \
            "install the Debian packages " + " ".join(units.APT_PACKAGES[role])

    def human(r):
        for path, what in r["files"].items():
            click.echo(f"{what:9}  /{path}" if r["root"] == "/" else
                       f"{what:9}  {Path(r['root']) / path}")
        if r["enabled"]:
            click.echo("enabled: " + " ".join(r["enabled"]))
        if r["note"]:
            click.echo(r["note"])
    return result, human


def _systemctl(*args) -> None:
    done = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise units.InstallTargetInvalid(
            f"systemctl {' '.join(args)} failed: {done.stderr.strip() or done.returncode}")


def _make_user_and_data(paths) -> None:
    import pwd
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(paths.user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--home-dir", paths.data_dir, "--shell",
                        "/usr/sbin/nologin", "--user-group", paths.user], check=False,
                       capture_output=True)
    for directory in (paths.data_dir,):
        Path(directory).mkdir(parents=True, exist_ok=True)
        try:
            shutil.chown(directory, paths.user, paths.user)
        except (LookupError, OSError):
            pass


@command(appliance, "status")
@click.option("--root", "root_dir", type=click.Path(),
              help="Look under this staging directory instead of /.")
def appliance_status(ctx, root_dir):
    """The nafitha units installed here, whether each runs, how long ago its watchdog was
    last pinged, and the health of this box and of the devices reporting to it, with the
    alerts the console would show.

    \b
    Example:
        nafitha appliance status --json
    """
    root = units.check_root(root_dir or "/")
    names = units.installed_units(root)
    live = root_dir is None and _systemd_running()
    rows = []
    for name in names:
        row = {"unit": name, "active": "unknown: " + (
                   "staged under --root" if root_dir is not None
                   else "systemd is not running here"), "watchdog_ping": None}
        if live:
            row.update(_show(name))
        rows.append(row)
    result = {"root": str(root), "units": rows, "health": _health(ctx, names)}

    def human(r):
        if not r["units"]:
            click.echo("no nafitha units installed (nafitha appliance install ROLE)")
        for row in r["units"]:
            ping = f"  last watchdog ping {row['watchdog_ping']}" if row["watchdog_ping"] \
                else ""
            click.echo(f"{row['unit']:28} {row['active']}{ping}")
        if r["health"] is None:
            click.echo("health: no store in the data directory yet (nafitha init)")
        for device in r["health"] or ():
            click.echo(f"health of {device['device']:19} "
                       + (", ".join(device["alerts"]) or "ok"))
    return result, human


# The role a box's own health report is made for, by the service installed on it.
ROLE_OF_UNIT = {"nafitha-hub.service": "hub", "nafitha-kiosk.service": "kiosk",
                "nafitha-counter.service": "counter"}


def _health(ctx, unit_names: list[str]) -> list[dict] | None:
    """This box's health report and the latest of each device that reports to it (a hub's
    kiosks and counters), each with the alerts central would raise (central/fleet.py, the
    one owner of them, with this box's [health] thresholds). None: no store yet."""
    if not ctx.settings.db_path.exists():
        return None
    from central.fleet import Fleet, Thresholds
    from core import health
    from nafitha.health_cli import health_report

    limits = ctx.settings.health
    fleet = Fleet(None, Thresholds(limits.disk_low_mb, limits.disk_refuse_mb,
                                   limits.silent_after_s, limits.backup_max_age_h))
    store = ctx.office.store
    now = store.clock.now()
    role = next((ROLE_OF_UNIT[n] for n in unit_names if n in ROLE_OF_UNIT), "agent")
    own = health_report(ctx.office, role)
    out = [{"device": "this box", "report": own, "alerts": fleet.alerts(own, 0, 0, now)}]
    for seen in health.latest(store):
        out.append({"device": seen["device"], "report": seen["report"],
                    "alerts": fleet.alerts(seen["report"], seen["skew_s"], seen["age_s"],
                                           now)})
    return out


def _show(name: str) -> dict:
    done = subprocess.run(["systemctl", "show", name, "-p", "ActiveState,SubState",
                           "-p", "WatchdogTimestamp"], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        return {"active": "unknown: " + (done.stderr.strip() or "systemctl failed")}
    props = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {"active": f"{props.get('ActiveState', '?')} ({props.get('SubState', '?')})",
            "watchdog_ping": props.get("WatchdogTimestamp") or None}


def register(root: click.Group) -> None:
    update_cli.register(appliance)
    root.add_command(appliance)
