"""`nafitha appliance update`: install a signed release bundle beside the running version,
switch, check its health, and roll back by itself if it fails (core/releases.py)."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import click

from nafitha.commands import command


def _releases(ctx):
    from core.releases import Releases
    return Releases(Path(ctx.settings.update.root))


def _roots(ctx) -> dict:
    from core.credentials.trust import TrustStore
    return TrustStore.load(ctx.settings.data_dir).roots


def _wanted(ctx) -> str | None:
    from core import reference
    from core.releases import wanted_version
    return wanted_version(reference.rows(ctx.office.store, "release"),
                          ctx.settings.office.code)


def _systemd_services() -> list[str]:
    """The nafitha services to restart after a switch: those installed, when systemd runs."""
    if not os.path.isdir("/run/systemd/system"):
        return []
    from core import appliance as units
    return [n for n in units.installed_units(Path("/")) if n.endswith(".service")]


def _restarter(timeout_s: float):
    def restart() -> None:
        from core.errors import InvalidState
        names = _systemd_services()
        if not names:
            return
        subprocess.run(["systemctl", "restart", *names], capture_output=True, check=False)
        deadline = time.monotonic() + timeout_s
        while True:  # Type=notify units are "active" only once they sent READY=1
            states = [subprocess.run(["systemctl", "is-active", n], capture_output=True,
                                     text=True, check=False).stdout.strip() for n in names]
            if all(s == "active" for s in states):
                return
            if time.monotonic() > deadline:
                raise InvalidState(f"units not ready within {timeout_s:g} s: " + ", ".join(
                    f"{n} {s}" for n, s in zip(names, states) if s != "active"))
            time.sleep(1)
    return restart


def download(settings, version: str, dest: Path, session=None) -> Path:
    """The bundle for VERSION from central (this device's token), saved under DEST; it is
    verified afterwards like any other."""
    import requests

    from core.errors import HubUnreachable, ValidationError
    from core.releases import this_machine
    from sync.agent import USER_AGENT, read_enrolment, tls_verify
    enrolment = read_enrolment(settings.data_dir) or {}
    url = (settings.sync.url or enrolment.get("url") or "").rstrip("/")
    if not url or not enrolment.get("token"):
        raise ValidationError("this device is not enrolled with central: give --from DIR "
                              "holding the bundle", field="from")
    if session is None:
        session = requests.Session()
        session.verify = tls_verify(settings.sync)
    headers = {"Authorization": f"Bearer {enrolment['token']}", "User-Agent": USER_AGENT}
    for machine in (this_machine(), "any"):
        name = f"nafitha-{version}-{machine}.nafrel"
        try:
            response = session.get(f"{url}/v1/releases/{name}", headers=headers,
                                   timeout=settings.sync.timeout_s * 10)
        except requests.RequestException as exc:
            raise HubUnreachable(f"central unreachable at {url}: {type(exc).__name__}")
        if response.status_code == 404:
            continue
        if response.status_code != 200:
            raise HubUnreachable(f"central refused the download ({response.status_code})")
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / name
        tmp = path.with_name(name + ".tmp")
        tmp.write_bytes(response.content)
        tmp.replace(path)
        return path
    raise ValidationError(f"central has no bundle for version {version}", field="bundle")


@click.argument("bundle", required=False, type=click.Path(dir_okay=False))
@click.option("--from", "from_dir", type=click.Path(file_okay=False),
              help="Take the wanted version's bundle from this folder (a USB stick).")
@click.option("--status", "status_only", is_flag=True,
              help="Only show the current, previous and wanted versions.")
def appliance_update(ctx, bundle, from_dir, status_only):
    """Install a signed release BUNDLE (default: the version central wants for this office,
    from --from DIR or downloaded from central) beside the running one, switch to it, check its health, and roll back
    by itself if the check fails. Everything in the bundle is verified first (root-certified
    release key, signature, hashes, architecture): a refused bundle changes nothing.

    \b
    Example:
        nafitha appliance update --status
        nafitha appliance update /media/usb/nafitha-2.0.1-any.nafrel
        nafitha appliance update --from /media/usb
        nafitha appliance update        # the wanted version, downloaded from central
    """
    from core.errors import ValidationError
    from core.releases import find_bundle, open_bundle
    releases = _releases(ctx)
    if status_only:
        state = releases.state()
        state["wanted"] = _wanted(ctx)

        def human_status(r):
            for k in ("current", "previous", "wanted"):
                click.echo(f"{k:9} {r[k] or '-'}")
            click.echo(f"installed {' '.join(r['installed']) or '-'}")
            if r["failed"]:
                click.echo(f"failed    {' '.join(r['failed'])}")
        return state, human_status
    if bundle is None:
        wanted = _wanted(ctx)
        if wanted is None:
            raise ValidationError("central names no wanted version for this office yet; "
                                  "give a BUNDLE", field="bundle")
        if wanted == releases.current():
            result = {"outcome": "already_current", "current": wanted, "previous": None}
            return result, lambda r: click.echo(f"already at the wanted version {wanted}")
        if from_dir is None:
            bundle = download(ctx.settings, wanted, Path(ctx.settings.update.root) /
                              "downloads")
        else:
            bundle = find_bundle(Path(from_dir), wanted)
    opened = open_bundle(Path(bundle), _roots(ctx))
    timeout = ctx.settings.update.health_timeout_s
    result = releases.update(
        opened,
        lambda version: releases.health_check(version, ctx.settings.data_dir, timeout),
        _restarter(timeout))

    def human(r):
        if r["outcome"] == "already_current":
            click.echo(f"already at version {r['current']}; nothing to do")
        else:
            click.echo(f"updated to {r['current']} (was {r['previous'] or 'nothing'}); "
                       f"{r['health']}")
    return result, human


def appliance_self_check(ctx):
    """This version's health check: it starts, says its version, opens the store
    read-only (pending migrations are fine). `appliance update` runs it in a new version.

    \b
    Example:
        nafitha appliance self-check --json
    """
    from core.releases import self_check
    return self_check(ctx.settings.data_dir), None


def register(appliance: click.Group) -> None:
    """Add `update` (and its siblings) to the appliance group."""
    command(appliance, "update")(appliance_update)
    command(appliance, "self-check")(appliance_self_check)
