"""`nafitha catalog ...`: look up the services offered, their fees, documents and form
fields."""
from __future__ import annotations

import click

from nafitha.commands import Group, command, service_catalog


@click.group(cls=Group)
def catalog():
    """The services offered (assets/catalog/).

    \b
    Example:
        nafitha catalog list
    """


@command(catalog, "list")
def catalog_list(ctx):
    """List services with prefix, fee and how they are issued.

    \b
    Example:
        nafitha catalog list --json
    """
    services = [s.to_dict() for s in service_catalog(ctx)]

    def human(rows):
        for s in rows:
            fee = s["fee"]["display"] or f"amount due ({s['fee']['from_field']})"
            click.echo(f"{s['prefix']:<3} {s['code']:<34} {fee:<14} {s['issue']:<8} "
                       f"{s['name']['en']} / {s['name']['ar']}")
    return services, human


@command(catalog, "show")
@click.argument("service")
def catalog_show(ctx, service):
    """Show one service: fee, documents to bring and form fields.

    \b
    Example:
        nafitha catalog show building-permit-small
    """
    return service_catalog(ctx).get(service).to_dict(), None


def register(root: click.Group) -> None:
    root.add_command(catalog)
