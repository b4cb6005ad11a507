"""`nafitha user ...`: the local clerk and supervisor accounts of a stand-alone office."""
from __future__ import annotations

import click

from core.users import ROLES
from nafitha.commands import Group, command
from nafitha.commands import local_time

# The new PIN of `add` and `reset-pin`: typed twice with hidden input unless given.
NEW_PIN_HELP = ("4-8 digits for a clerk, 6-8 for a supervisor (prompted twice if not "
                "given).")


def new_pin_option(fn):
    return click.option("--pin", prompt="New PIN", hide_input=True, confirmation_prompt=True,
                        envvar="NAFITHA_NEW_PIN", help=NEW_PIN_HELP)(fn)


@click.group(cls=Group)
def user():
    """Local accounts for a stand-alone office: add, list, disable a leaver, enable again,
    reset a forgotten PIN. Each change is in the audit log (never the PIN).

    \b
    Example:
        nafitha user add huda --role supervisor
    """


@command(user, "add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="clerk",
              show_default=True)
@new_pin_option
def user_add(ctx, username, role, pin):
    """Create a local account.

    \b
    Example:
        nafitha user add sara --role clerk
    """
    with ctx.office.acting_as(ctx.actor()):
        return ctx.office.users.create(username, role, pin), lambda u: click.echo(
            f"{u['username']} added ({u['role']}): signs in with the PIN given")


def _account_line(tz, now: str):
    def line(u):
        if u["disabled_at"]:
            state = f"disabled since {local_time(u['disabled_at'], tz)}"
        elif u["locked_until"] and u["locked_until"] > now:
            state = f"locked until {local_time(u['locked_until'], tz)}"
        else:
            state = "active"
        return (f"{u['username']:<20} {u['role']:<11} {state:<34} "
                + ("from central" if u["source"] == "central" else "local"))
    return line


@command(user, "list")
def user_list(ctx):
    """List the accounts.

    Each with its role, active or disabled (since when, in the office's zone) or locked,
    and whether central sends it.

    \b
    Example:
        nafitha user list
    """
    accounts = [{**u, "active": u["disabled_at"] is None} for u in ctx.office.users.list()]
    line = _account_line(ctx.settings.tz, ctx.office.store.now())

    def human(accounts):
        if not accounts:
            click.echo("no accounts (nafitha user add NAME)")
        for u in accounts:
            click.echo(line(u))
    return accounts, human


@command(user, "disable")
@click.argument("username")
def user_disable(ctx, username):
    """Disable a leaver's account.

    No sign-in anywhere from now on (counter, manager's page, supervisor PINs, the kiosk's
    staff exit); signed-in sessions end at their next step.
    The last active supervisor cannot be disabled. Their open shift stays: close it with
    `nafitha shift close SHIFT --counted ...`.

    \b
    Example:
        nafitha user disable sara
    """
    return _account_change(ctx, ctx.office.users.disable, username)


@command(user, "enable")
@click.argument("username")
def user_enable(ctx, username):
    """Let a disabled account sign in again.

    With the PIN it had; give it a new one with reset-pin.

    \b
    Example:
        nafitha user enable sara
    """
    return _account_change(ctx, ctx.office.users.enable, username)


def _account_change(ctx, change, username):
    """Disable or enable: the change as the acting user, then the account's line."""
    with ctx.office.acting_as(ctx.actor()):
        account = change(username)
    return account, lambda u: click.echo(
        _account_line(ctx.settings.tz, ctx.office.store.now())(u))


@command(user, "reset-pin")
@click.argument("username")
@new_pin_option
def user_reset_pin(ctx, username, pin):
    """Give an account a new PIN.

    The same rules as `add`; its wrong-PIN count and any lock end.

    \b
    Example:
        nafitha user reset-pin sara
    """
    with ctx.office.acting_as(ctx.actor()):
        account = ctx.office.users.reset_pin(username, pin)
    return account, lambda u: click.echo(f"{u['username']}: new PIN set")


def register(root: click.Group) -> None:
    root.add_command(user)
