"""`nafitha user ...`: the local clerk and supervisor accounts of a stand-alone office."""
from __future__ import annotations

import click

from core.users import ROLES
from nafitha.commands import Group, command


@click.group(cls=Group)
def user():
    """Local accounts for a stand-alone office.

    \b
    Example:
        nafitha user add huda --role supervisor
    """


@command(user, "add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="clerk",
              show_default=True)
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="NAFITHA_NEW_PIN", help="4-8 digits for a clerk, 6-8 for a supervisor "
              "(prompted if not given).")
def user_add(ctx, username, role, pin):
    """Create a local account.

    \b
    Example:
        nafitha user add sara --role clerk
    """
    with ctx.office.acting_as(ctx.actor()):
        return ctx.office.users.create(username, role, pin), None


@command(user, "list")
def user_list(ctx):
    """List local accounts.

    \b
    Example:
        nafitha user list
    """
    return ctx.office.users.list(), None


def register(root: click.Group) -> None:
    root.add_command(user)
