"""`nafitha hub ...`: run a service centre's hub, pair and revoke its devices, and pair a
kiosk, counter or board with it (`join`)."""
from __future__ import annotations

import logging
import threading

import click

from core.pairing import ROLES
from nafitha.commands import Group, command

log = logging.getLogger("nafitha.hub")


@click.group(cls=Group)
def hub():
    """The service centre's hub: one queue and one store for its kiosks, counters and
    display boards on the LAN (docs/hub.md).

    On the hub: serve, then pair each device (a code is shown); on the device: join with
    the code, then start the app with --hub.

    \b
    Example:
        nafitha --data ./hub hub serve
        nafitha --data ./hub hub pair counter 2 --services residence-certificate
        nafitha --data ./counter2 hub join http://hub.local:8470 K7QF-9XM2
        nafitha --data ./counter2 counter --hub http://hub.local:8470
    """


@hub.command("serve")
@click.option("--host", help="Address to listen on (default: hub.host, 0.0.0.0).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: hub.port, 8470).")
@click.option("--no-sync", is_flag=True,
              help="Do not run the sync agent (it runs when the hub is enrolled with central).")
@click.pass_obj
def hub_serve(ctx, host, port, no_sync):
    """Serve the hub's API, the display board (/board) and the OpenAPI document
    (/openapi.json) until stopped. The hub owns this data directory's store; when it is
    enrolled with central (`nafitha enrol`) it also runs the sync agent for the centre.

    \b
    Example:
        nafitha --data ./hub hub serve --port 8470
    """
    import uvicorn

    from hub.app import create_app

    settings = ctx.settings
    office = ctx.office
    host = host or settings.hub.host
    port = port or settings.hub.port
    stop_sync = threading.Event()

    def start_sync():
        if no_sync:
            return
        from sync.agent import AgentLock, SyncAgent, read_enrolment
        if not read_enrolment(settings.data_dir):
            click.echo("Not enrolled with central: the hub works on its own until "
                       "`nafitha enrol URL CODE`.", err=True)
            return

        def run():
            try:
                with AgentLock(settings.data_dir):
                    agent = SyncAgent(office)
                    threading.Thread(target=lambda: (stop_sync.wait(), agent.stop()),
                                     daemon=True).start()
                    agent.run()
            except Exception as exc:  # noqa: BLE001 - the hub serves on without central
                log.error("sync agent stopped: %s", getattr(exc, "message", exc))
        threading.Thread(target=run, name="hub-sync", daemon=True).start()

    click.echo(f"Hub of {settings.office.code} on http://{host}:{port}  (board: /board, "
               f"API: /docs)", err=True)
    try:
        uvicorn.run(create_app(office, on_startup=start_sync), host=host, port=port,
                    log_level="warning", timeout_graceful_shutdown=1)
    finally:
        stop_sync.set()


@command(hub, "pair")
@click.argument("role", type=click.Choice(ROLES))
@click.argument("name")
@click.option("--services", default="", help="A counter's services, comma-separated codes "
              "(default: every service).")
def hub_pair(ctx, role, name, services):
    """Announce a device and show its one-time pairing code (valid hub.pairing_minutes).
    A counter's NAME is what the display board shows ("Counter 2").

    \b
    Example:
        nafitha --data ./hub hub pair counter 2 --services residence-certificate,excavation-permit
    """
    from core.pairing import Devices
    wanted = [s.strip() for s in services.split(",") if s.strip()]
    result = Devices(ctx.office).create_pairing(role, name, wanted)
    return result, lambda r: click.echo(
        f"Pairing code for {role} {name}: {r['code']}  (valid until {r['expires_at'][:16]})\n"
        f"On the device: nafitha hub join http://<this hub>:{ctx.settings.hub.port} "
        f"{r['code']}" + ("\nOn a board: open http://<this hub>:"
                          f"{ctx.settings.hub.port}/board and type the code"
                          if role == "board" else ""))


@command(hub, "devices")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked devices.")
def hub_devices(ctx, include_revoked):
    """List the devices paired with this hub.

    \b
    Example:
        nafitha --data ./hub hub devices
    """
    from core.pairing import Devices
    rows = Devices(ctx.office).list(include_revoked)

    def human(rows):
        if not rows:
            click.echo("No devices (pair one: nafitha hub pair kiosk 1).")
        for d in rows:
            state = "revoked" if d["revoked_at"] else "paired" if d["paired_at"] else \
                "waiting for its code"
            extra = f" serves {','.join(d['services'])}" if d["services"] else ""
            click.echo(f"{d['role']:8} {d['name']:20} {state}{extra}; last seen "
                       f"{(d['last_seen_at'] or 'never')[:19]}")
    return rows, human


@command(hub, "revoke")
@click.argument("name")
def hub_revoke(ctx, name):
    """Revoke a device: its token stops working at once, and so do its clerks' sessions.

    \b
    Example:
        nafitha --data ./hub hub revoke kiosk-2
    """
    from core.pairing import Devices
    device = Devices(ctx.office).revoke(name)
    return device, lambda d: click.echo(f"Revoked {d['role']} {d['name']}.")


@command(hub, "join")
@click.argument("url")
@click.argument("code")
def hub_join(ctx, url, code):
    """On a kiosk or counter: pair this device with the hub using the code the hub showed.
    The token is kept in <data>/hub.json (mode 600); then start the app with --hub URL.

    \b
    Example:
        nafitha --data ./kiosk2 hub join http://hub.local:8470 K7QF-9XM2
    """
    from hubclient import join
    device = join(ctx.settings.data_dir, url, code)
    return device, lambda d: click.echo(
        f"Paired as {d['role']} {d['name']}. Start it with: nafitha {d['role']} --hub {url}")


def register(root: click.Group) -> None:
    root.add_command(hub)
