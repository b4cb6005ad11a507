"""`nafitha`: the command line mirrors core's Python API (sqlite-utils style).

Every command takes --json; every --help ends with an example; errors are one clear line on
stderr and exit status 1 (2 for usage errors), and change nothing. This module holds only the
root group and main(): each command group lives in its own module (nafitha/*_cli.py, with
what they share in nafitha/commands.py), whose register() adds it here."""
from __future__ import annotations

import sys

import click

from core.errors import NafithaError
from nafitha import (
    appliance_cli,
    applications_cli,
    appointments_cli,
    apps_cli,
    backup_cli,
    catalog_cli,
    health_cli,
    hub_cli,
    keys_cli,
    licences_cli,
    messages_cli,
    payments_cli,
    printing_cli,
    queue_cli,
    release_cli,
    report_cli,
    scan_cli,
    setup_cli,
    store_cli,
    sync_cli,
    users_cli,
)
from nafitha.commands import Context, Group


@click.group(cls=Group,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--data", type=click.Path(file_okay=False), envvar="NAFITHA_DATA",
              help="Data directory (default: $XDG_DATA_HOME/nafitha, i.e. "
                   "~/.local/share/nafitha).")
@click.option("--config", type=click.Path(dir_okay=False), envvar="NAFITHA_CONFIG",
              help="Settings file (default: nafitha.toml in the data directory).")
@click.option("--user", envvar="NAFITHA_USER",
              help="Who is acting, recorded in the audit log: their PIN is needed "
                   "(NAFITHA_USER_PIN, or asked). Without it: cli:<login name>.")
@click.version_option(package_name="nafitha")
@click.pass_context
def cli(click_ctx, data, config, user):
    """Nafitha: the service-centre appliance (kiosk, counter, local store, sync).

    \b
    Example:
        nafitha --data ./data init
        nafitha --data ./data ticket take residence-certificate
    """
    click_ctx.obj = Context(data, config, user)
    click_ctx.call_on_close(click_ctx.obj.close)


for _module in (setup_cli, catalog_cli, queue_cli, applications_cli, payments_cli, licences_cli,
                users_cli, store_cli, keys_cli, printing_cli, apps_cli, scan_cli, sync_cli,
                release_cli, hub_cli, appliance_cli, backup_cli, health_cli, report_cli,
                messages_cli, appointments_cli):
    _module.register(cli)


def main():
    try:
        cli(prog_name="nafitha")
    except NafithaError as exc:  # settings errors raised while building the context
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
