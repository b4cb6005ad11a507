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

    Devices reach the hub over HTTPS with the hub's own certificate, which pairing pins;
    the display board also has a plain-HTTP address (hub.board_port) that serves nothing
    else.

    \b
    Example:
        nafitha --data ./hub hub serve
        nafitha --data ./hub hub pair counter 2 --services residence-certificate
        nafitha --data ./counter2 hub join https://hub.local:8470 K7QF-9XM2
        nafitha --data ./counter2 counter --hub https://hub.local:8470
    """


@hub.command("serve")
@click.option("--host", help="Address to listen on (default: hub.host, 0.0.0.0).")
@click.option("--port", type=click.IntRange(1, 65535),
              help="HTTPS port for devices (default: hub.port, 8470).")
@click.option("--board-port", type=click.IntRange(0, 65535),
              help="Plain-HTTP port serving only the display board (default: hub.board_port, "
                   "8471; 0: none).")
@click.option("--no-sync", is_flag=True,
              help="Do not run the sync agent (it runs when the hub is enrolled with central).")
@click.pass_obj
def hub_serve(ctx, host, port, board_port, no_sync):
    """Serve the hub's API over HTTPS, the display board (/board) and the OpenAPI document
    (/openapi.json) until stopped. The first start makes the hub's TLS key and certificate
    (<data>/keys/hub-tls.*); its fingerprint is printed, and pairing pins it on each device.
    The hub owns this data directory's store; when it is enrolled with central (`nafitha
    enrol`) it also runs the sync agent for the centre.

    \b
    Example:
        nafitha --data ./hub hub serve --port 8470
    """
    from hub.app import board_only, create_app
    from hub.server import Listener, ServerLimits, serve

    settings = ctx.settings
    office = ctx.office
    host = host or settings.hub.host
    port = port or settings.hub.port
    board_port = settings.hub.board_port if board_port is None else board_port
    if board_port == port:
        raise click.UsageError("--board-port must differ from --port")
    stop_sync = threading.Event()
    stop_messages = []

    def start_sync():
        # Messages to residents' phones go out through the SMS gateway, not central: they
        # are sent whenever a gateway is set, enrolled or not (docs/messages.md).
        from core.errors import NafithaError
        from devices.messaging.sender import start_sender
        try:
            stop = start_sender(office)
        except NafithaError as exc:  # a bad templates file: the hub serves on without them
            log.error("messages are not sent: %s", exc.message)
            stop = None
        if stop is not None:
            stop_messages.append(stop)
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

    app = create_app(office, on_startup=start_sync)
    cert = app.state.devices.certificate
    limits = ServerLimits.from_settings(settings.hub)
    listeners = [Listener(app, host, port, certfile=str(cert.certfile),
                          keyfile=str(cert.keyfile), name="devices (HTTPS)", limits=limits)]
    if board_port:
        listeners.append(Listener(board_only(app, port), host, board_port, name="board (HTTP)",
                                  limits=limits, lifespan=False))
    click.echo(f"Hub of {settings.office.code} on https://{host}:{port}  (certificate "
               f"SHA-256 {cert.fingerprint[:16]}…; API: /openapi.json)" +
               (f"; board: http://{host}:{board_port}/board" if board_port else ""), err=True)
    try:
        serve(listeners)
    finally:
        stop_sync.set()
        for stop in stop_messages:
            stop()


@command(hub, "pair")
@click.argument("role", type=click.Choice(ROLES))
@click.argument("name")
@click.option("--services", default="", help="A counter's services, comma-separated codes "
              "(default: every service).")
@click.option("--counter", default=None, help="A rating screen's counter: the counter whose "
              "residents it asks (docs/ratings.md).")
def hub_pair(ctx, role, name, services, counter):
    """Announce a device and show its one-time pairing code (valid hub.pairing_minutes).
    A counter's NAME is what the display board shows ("Counter 2").

    \b
    Example:
        nafitha --data ./hub hub pair counter 2 --services residence-certificate,excavation-permit
        nafitha --data ./hub hub pair rating rate-2 --counter 2
    """
    from core.pairing import Devices
    wanted = [s.strip() for s in services.split(",") if s.strip()]
    result = Devices(ctx.office).create_pairing(role, name, wanted, counter=counter)
    return result, lambda r: click.echo(
        f"Pairing code for {role} {name}: {r['code']}  (valid until {r['expires_at'][:16]})\n"
        f"On the device: nafitha hub join https://<this hub>:{ctx.settings.hub.port} "
        f"{r['code']}" + ("\nOn a board: open http://<this hub>:"
                          f"{ctx.settings.hub.board_port}/board and type the code"
                          if role == "board" else "")
        + (f"\nOn the rating screen: open http://<this hub>:{ctx.settings.hub.board_port}"
           f"/rating and type the code" if role == "rating" else ""))


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
            extra += f" faces counter {d['counter']}" if d.get("counter") else ""
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
    URL is the hub's https:// address. The code is proven, never sent, and the proof names
    the certificate this device sees, so only the hub that showed the code can pair it;
    that certificate is then pinned. The token and the pin are kept in <data>/hub.json
    (mode 600); then start the app with --hub URL.

    \b
    Example:
        nafitha --data ./kiosk2 hub join https://hub.local:8470 K7QF-9XM2
    """
    from hubclient import join
    device = join(ctx.settings.data_dir, url, code)
    return device, lambda d: click.echo(
        f"Paired as {d['role']} {d['name']}. Start it with: nafitha {d['role']} --hub {url}")


def register(root: click.Group) -> None:
    root.add_command(hub)
