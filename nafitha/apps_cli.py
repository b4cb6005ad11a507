"""`nafitha kiosk` and `nafitha counter`: start the resident's touchscreen and the clerk's
desk, on the local store or through the service centre's hub."""
from __future__ import annotations

import os
import sys

import click

from core.errors import NafithaError
from nafitha.commands import Command, Group, command


@click.group(cls=Group, invoke_without_command=True)
@click.option("--screenshot", type=click.Path(dir_okay=False),
              help="Save a PNG of the start screen and exit (for checks).")
@click.option("--windowed", is_flag=True,
              help="Not in kiosk mode: a normal window with a cursor, Escape closes it "
                   "(development; the default is kiosk.fullscreen).")
@click.option("--exit-after", type=float, help="Close after this many seconds (demos).")
@click.option("--hub", "hub_url", metavar="URL",
              help="Work through the service centre's hub (default: hub.url, or the hub "
                   "this device joined; none: the in-process store). Pair first: nafitha "
                   "hub join URL CODE.")
@click.pass_context
def kiosk(click_ctx, screenshot, windowed, exit_after, hub_url):
    """Start the kiosk window (the resident's touchscreen).

    In kiosk mode (kiosk.fullscreen, the default) the window is fullscreen, the cursor is
    hidden, and Escape and window-close are refused; staff leave by tapping the top corner
    above the office name five times, then entering the admin PIN (kiosk.admin_pin_hash, or
    a supervisor's PIN).

    \b
    Example:
        nafitha --data ./data kiosk --windowed
    """
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.obj
    try:
        clock = _pilot_clock(ctx)
        from kiosk.main import run_kiosk
        backend = _app_backend(ctx, "kiosk", hub_url)
        run_kiosk(backend.settings, backend, screenshot=screenshot, exit_after=exit_after,
                  kiosk_mode=False if windowed else None, clock=clock)
    except NafithaError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)


def _app_backend(ctx, role: str, hub_url: str | None):
    """The app's face of the office: through the hub (--hub, hub.url, or the hub this device
    joined), else in-process over the local store (a field office, the embedded default)."""
    import hubclient
    settings = ctx.settings
    hub_url = hub_url or settings.hub.url or hubclient.paired_url(settings.data_dir)
    if hub_url:
        return hubclient.connect(role, settings, hub_url)
    if role == "kiosk":
        from core.faces.kiosk import KioskFace
        return KioskFace(ctx.office)
    from core.faces.counter import CounterFace
    return CounterFace(ctx.office, settings.counter.name, settings.counter.service_list())


def _pilot_clock(ctx):
    """Driven by the test pilot (NAFITHA_PILOT): time moves only when the pilot says so."""
    if not os.environ.get("NAFITHA_PILOT"):
        return None
    from core.clock import FrozenClock, SystemClock
    ctx.clock = FrozenClock(os.environ.get("NAFITHA_PILOT_CLOCK") or SystemClock().now())
    return ctx.clock


@click.command("counter", cls=Command)
@click.option("--screenshot", type=click.Path(dir_okay=False),
              help="Save a PNG of the first screen and exit (for checks).")
@click.option("--exit-after", type=float, help="Close after this many seconds (demos).")
@click.option("--fullscreen", is_flag=True,
              help="Fill the screen (the appliance's session: nafitha appliance install "
                   "counter); the default is a 1440x900 window.")
@click.option("--hub", "hub_url", metavar="URL",
              help="Work through the service centre's hub (default: hub.url, or the hub "
                   "this device joined; none: the in-process store). The hub gives this "
                   "counter its name and services.")
@click.pass_obj
def counter(ctx, screenshot, exit_after, fullscreen, hub_url):
    """Start the counter window (the clerk's desk).

    Clerks sign in with their user name and PIN (accounts: `nafitha user add`, or central's
    reference data). Keyboard: F2 call next, F3 recall, F4 finish, F5 park, F6 search,
    F7 verify a licence, F9 lock, Tab next field, Enter confirm, Escape back. Settings:
    [counter] name, services, language, lock_after_s.

    \b
    Example:
        nafitha --data ./data user add sara --role clerk --pin 1234
        nafitha --data ./data counter
    """
    try:
        clock = _pilot_clock(ctx)
        from counter.main import run_counter
        # Unknown services in counter.services are refused here, before the window opens.
        backend = _app_backend(ctx, "counter", hub_url)
        run_counter(backend.settings, backend, screenshot=screenshot, exit_after=exit_after,
                    clock=clock, fullscreen=fullscreen)
    except NafithaError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)


@command(kiosk, "pin-hash")
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The staff exit PIN (4-8 digits).")
def kiosk_pin_hash(ctx, pin):
    """Print the hash of a staff exit PIN, for kiosk.admin_pin_hash in nafitha.toml.

    \b
    Example:
        nafitha kiosk pin-hash        (asks for the PIN twice)
    """
    import re as _re

    from core.errors import ValidationError
    from core.users import hash_pin
    if not _re.fullmatch(r"[0-9]{4,8}", pin):
        raise ValidationError("the PIN is 4 to 8 digits", field="pin")
    return {"admin_pin_hash": hash_pin(pin)}, None


def register(root: click.Group) -> None:
    root.add_command(kiosk)
    root.add_command(counter)
