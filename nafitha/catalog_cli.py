"""`nafitha catalog ...`: look up the services offered, their fees, documents and form
fields."""
from __future__ import annotations

import click

from nafitha.commands import Group, command, service_catalog


@click.group(cls=Group)
def catalog():
    """The services offered: assets/catalog/ with central's published changes laid over it.

    \b
    Example:
        nafitha catalog list
    """


@command(catalog, "list")
def catalog_list(ctx):
    """List services with prefix, fee (as charged here), how they are issued and where the
    kiosk lists them (sector / category); a service central withdrew from this office shows
    as "not offered here".

    \b
    Example:
        nafitha catalog list --json
    """
    office = ctx.settings.office.code
    services = [{**s.to_dict(), "offered_here": s.offered_at(office)}
                for s in service_catalog(ctx)]

    def human(rows):
        for s in rows:
            fee = s["fee"]["display"] or f"amount due ({s['fee']['from_field']})"
            note = "" if s["offered_here"] else "  (not offered here)"
            where = f"{s['sector']['code']} / {s['category']['code']}"
            click.echo(f"{s['prefix']:<3} {s['code']:<34} {fee:<14} {s['issue']:<8} "
                       f"{where:<40} {s['name']['en']} / {s['name']['ar']}{note}")
    return services, human


@command(catalog, "show")
@click.argument("service")
def catalog_show(ctx, service):
    """Show one service: fee, documents to bring and form fields.

    \b
    Example:
        nafitha catalog show building-permit-small
    """
    found = service_catalog(ctx).get(service)
    return {**found.to_dict(), "offered_here": found.offered_at(ctx.settings.office.code)}, \
        None


def register(root: click.Group) -> None:
    root.add_command(catalog)
