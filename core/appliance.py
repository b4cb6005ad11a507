"""The systemd units that run this box as an appliance of one role (kiosk, counter, hub,
agent, central), built from settings and paths, and written all at once (docs/operations/
install.md).

    files = unit_files("hub", settings, Paths(exe="/opt/nafitha/current/bin/nafitha"))
    report = install_files(files, root="/")     # {path: "written" | "unchanged" | "kept"}

Every long-running service is Type=notify with WatchdogSec= (core/watchdog.py pings),
restarts on its own, logs to journald, runs as the dedicated user with the settings in
/etc/nafitha/nafitha.env. The kiosk and the counter are a session on tty7: xinit starts a
bare X server and the app fullscreen on it, no desktop. Every role gets the backup timer.
Nothing here calls systemctl: the CLI (nafitha/appliance_cli.py) does, outside --root."""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, PermissionDenied, ValidationError

ROLES = ("kiosk", "counter", "hub", "agent", "central")
UNIT_DIR = "etc/systemd/system"        # under the root ("/" on the box itself)
ENV_FILE = "etc/nafitha/nafitha.env"
USER = "nafitha"
DATA_DIR = "/var/lib/nafitha"
CENTRAL_HOME = "/var/lib/nafitha-central"
WATCHDOG_SEC = 30        # no ping for this long: systemd kills and restarts the service
START_TIMEOUT_SEC = 180  # the first screen drawn / the server listening, on slow hardware
SESSION_TTY = "tty7"
XINIT = "/usr/bin/xinit"
# The kiosk fills the screen by its own setting (kiosk.fullscreen); the counter is asked to.
APP_ARGS = {"kiosk": "", "counter": " --fullscreen"}
XORG = "/usr/bin/Xorg"
# Display :0 on the session's own VT, keeping its tty; no TCP; no VT switching (a resident
# cannot reach a console with Ctrl+Alt+Fn); the screen never blanks.
X_ARGS = ":0 vt7 -keeptty -nolisten tcp -novtswitch -s 0 -dpms"
# What `systemd-analyze verify` and the box need beyond Python (the Makefile's APT_PACKAGES).
APT_PACKAGES = {"kiosk": ("xinit", "xserver-xorg-core", "xserver-xorg-legacy",
                          "xserver-xorg-input-libinput"),
                "counter": ("xinit", "xserver-xorg-core", "xserver-xorg-legacy",
                            "xserver-xorg-input-libinput")}


class UnknownRole(ValidationError):
    code = "appliance_role_unknown"


class InstallTargetInvalid(ConfigError):
    code = "appliance_target_invalid"


class InstallNotPermitted(PermissionDenied):
    code = "appliance_not_permitted"


@dataclass(frozen=True)
class Paths:
    exe: str                       # the nafitha executable the units run
    data_dir: str = DATA_DIR
    central_home: str = CENTRAL_HOME
    user: str = USER


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UnknownRole(f"unknown role {role!r}: one of {', '.join(ROLES)}",
                          field="role", role=role)
    return role


def unit_files(role: str, settings, paths: Paths) -> dict[str, str]:
    """{path under the root: text}: the role's units, the backup timer, the env file."""
    check_role(role)
    if not os.path.isabs(paths.exe):
        raise InstallTargetInvalid(f"the nafitha executable must be an absolute path, "
                                   f"not {paths.exe!r}", field="exe")
    units = dict(_role_units(role, paths))
    units["nafitha-backup.service"] = _backup_service(paths)
    units["nafitha-backup.timer"] = _backup_timer(settings.backup.on_calendar)
    files = {f"{UNIT_DIR}/{name}": text for name, text in units.items()}
    files[ENV_FILE] = env_file(paths)
    return files


def service_names(role: str) -> list[str]:
    """What `enable` takes for the role (the backup service runs from its timer)."""
    return [name for name, _text in _role_units(check_role(role), Paths(exe="/x"))] + \
        ["nafitha-backup.timer"]


def env_file(paths: Paths) -> str:
    return (f"# Nafitha's settings for its services (written once by `nafitha appliance "
            f"install`; yours to edit).\n"
            f"NAFITHA_DATA={paths.data_dir}\n"
            f"NAFITHA_CENTRAL_HOME={paths.central_home}\n"
            f"KIVY_NO_ARGS=1\n"
            f"PYTHONUNBUFFERED=1\n")


# --- the units ---------------------------------------------------------------------------------
def _role_units(role: str, paths: Paths):
    exe = paths.exe
    if role in ("kiosk", "counter"):
        yield f"nafitha-{role}.service", _session(role, paths)
    elif role == "hub":
        # `hub serve` runs the centre's sync agent in its own process (one agent per store).
        yield "nafitha-hub.service", _service(
            "Nafitha hub: the service centre's LAN server and its sync agent",
            f"{exe} hub serve", paths)
    elif role == "agent":
        yield "nafitha-agent.service", _service(
            "Nafitha sync agent: sends the outbox to central, pulls reference data",
            f"{exe} sync run", paths)
    elif role == "central":
        yield "nafitha-central.service", _service(
            "Nafitha central platform: API and back-office console",
            f"{exe} central serve --host 0.0.0.0 --port 8700", paths)


_HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=full", "PrivateTmp=yes",
              "PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
              "ProtectControlGroups=yes", "RestrictSUIDSGID=yes", "LockPersonality=yes")
_HOMES = ("/home/", "/root/", "/run/user/")


def _hardening(paths: Paths) -> list[str]:
    # ProtectHome= hides /home and /root: harmless unless the data or the program is there.
    in_home = any((p.rstrip("/") + "/").startswith(_HOMES)
                  for p in (paths.data_dir, paths.exe, paths.central_home))
    return [*_HARDENING, *([] if in_home else ["ProtectHome=yes"])]


def _unit(description: str, after: str = "network-online.target") -> list[str]:
    return ["[Unit]", f"Description={description}",
            f"After={after}", "Wants=network-online.target",
            # An office no one visits: keep restarting, never give up after a burst.
            "StartLimitIntervalSec=0"]


def _common_service(paths: Paths) -> list[str]:
    return ["Type=notify", f"WatchdogSec={WATCHDOG_SEC}", f"TimeoutStartSec={START_TIMEOUT_SEC}",
            "Restart=always", "RestartSec=5", f"User={paths.user}", f"Group={paths.user}",
            f"EnvironmentFile=/{ENV_FILE}", f"WorkingDirectory={paths.data_dir}",
            "StandardOutput=journal", "StandardError=journal"]


def _service(description: str, exec_start: str, paths: Paths) -> str:
    lines = _unit(description) + ["", "[Service]"] + _common_service(paths) + \
        [f"ExecStart={exec_start}", *_hardening(paths), "", "[Install]",
         "WantedBy=multi-user.target", ""]
    return "\n".join(lines)


def _session(role: str, paths: Paths) -> str:
    """The app fullscreen on a bare X server on tty7, no desktop: a logind session (PAM
    'login') gives the user the tty, input and GPU devices so Xorg runs without root.
    The app, not xinit, pings the watchdog (from its UI thread), hence NotifyAccess=all."""
    lines = _unit(f"Nafitha {role}: the app fullscreen on {SESSION_TTY}, no desktop",
                  after="systemd-user-sessions.service network-online.target") + [
        "Conflicts=getty@tty7.service", "After=getty@tty7.service", "", "[Service]",
        *_common_service(paths), "NotifyAccess=all",
        "PAMName=login", f"TTYPath=/dev/{SESSION_TTY}", "StandardInput=tty",
        "TTYReset=yes", "TTYVHangup=yes", f"UtmpIdentifier={SESSION_TTY}", "UtmpMode=user",
        # Printers (lp), serial card terminals (dialout), cameras (video), touch (input).
        "SupplementaryGroups=lp dialout video input plugdev",
        f"ExecStart={XINIT} {paths.exe} {role}{APP_ARGS[role]} -- {XORG} {X_ARGS}",
        "PrivateTmp=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
        "ProtectControlGroups=yes", "", "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(lines)


def _backup_service(paths: Paths) -> str:
    lines = ["[Unit]", "Description=Nafitha backup to the second place (settings backup.to_dir)",
             "", "[Service]", "Type=oneshot",
             f"User={paths.user}", f"Group={paths.user}", f"EnvironmentFile=/{ENV_FILE}",
             f"ExecStart={paths.exe} backup --scheduled", "StandardOutput=journal",
             "StandardError=journal", "Nice=10", "IOSchedulingClass=idle",
             "NoNewPrivileges=yes", "ProtectSystem=full", "PrivateTmp=yes", ""]
    return "\n".join(lines)


def _backup_timer(on_calendar: str) -> str:
    if not on_calendar or "\n" in on_calendar:
        raise InstallTargetInvalid("settings backup.on_calendar must be one systemd "
                                   "OnCalendar expression", field="backup.on_calendar")
    lines = ["[Unit]", "Description=Nafitha scheduled backup", "", "[Timer]",
             f"OnCalendar={on_calendar}", "Persistent=true", "RandomizedDelaySec=10min", "",
             "[Install]", "WantedBy=timers.target", ""]
    return "\n".join(lines)


# --- writing them ------------------------------------------------------------------------------
def check_root(root: str | os.PathLike) -> Path:
    path = Path(root)
    if path.exists() and not path.is_dir():
        raise InstallTargetInvalid(f"--root {path} is not a directory", field="root")
    return path


def install_files(files: dict[str, str], root: str | os.PathLike) -> dict[str, str]:
    """Write FILES under ROOT all at once: every changed file goes to a temporary
    directory first, then each is moved into place; nothing is written when any of them
    cannot be. The env file, once there, is the operator's: it is kept as it is.
    Returns {path under root: "written" | "unchanged" | "kept"}."""
    root = check_root(root)
    report, todo = {}, {}
    for rel, text in files.items():
        target = root / rel
        try:
            old = target.read_text(encoding="utf-8") if target.exists() else None
        except OSError as exc:
            raise InstallNotPermitted(f"cannot read {target}: {exc.strerror}",
                                      path=str(target)) from exc
        if old == text:
            report[rel] = "unchanged"
        elif old is not None and rel == ENV_FILE:
            report[rel] = "kept"
        else:
            todo[rel] = text
            report[rel] = "written"
    if not todo:
        return report
    for directory in {(root / rel).parent for rel in todo}:
        existing = directory
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise InstallNotPermitted(f"no permission to write in {existing}",
                                      path=str(existing))
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".nafitha-install-", dir=root) as staging:
            for rel, text in todo.items():
                staged = Path(staging) / rel.replace("/", "__")
                staged.write_text(text, encoding="utf-8")
                staged.chmod(0o644)
            for rel in todo:
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
            for rel in todo:
                shutil.move(str(Path(staging) / rel.replace("/", "__")), str(root / rel))
    except PermissionError as exc:
        raise InstallNotPermitted(f"no permission to write under {root}: "
                                  f"{exc.strerror}", path=str(root)) from exc
    except OSError as exc:
        raise InstallTargetInvalid(f"cannot write the units under {root}: {exc.strerror}",
                                   path=str(root)) from exc
    return report


def installed_units(root: str | os.PathLike) -> list[str]:
    unit_dir = Path(root) / UNIT_DIR
    if not unit_dir.is_dir():
        return []
    return sorted(p.name for p in unit_dir.iterdir()
                  if p.name.startswith("nafitha-") and p.suffix in (".service", ".timer"))
