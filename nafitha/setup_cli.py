"""`nafitha init`: set up a device's data directory, its settings file and the store."""
from __future__ import annotations

import click

from nafitha.commands import command

DEFAULT_CONFIG = """\
# Nafitha settings. Environment variables override these: NAFITHA_OFFICE__CODE=...
[office]
code = "{code}"
name_ar = "{name_ar}"
name_en = "{name_en}"
timezone = "{tz}"

[device]
id = "{device}"

[queue]
call_limit = 3
number_start = 1
number_end = 999
priority_head_start_minutes = 10
"""


@command(None, "init")
def init_cmd(ctx):
    """Create the data directory, its settings file and the store.

    \b
    Example:
        nafitha --data ./data init
    """
    settings = ctx.settings
    config = settings.data_dir / "nafitha.toml"
    office = ctx.office  # creates the directory and the store
    created = False
    if not ctx.config and not config.exists():
        o = settings.office
        config.write_text(DEFAULT_CONFIG.format(code=o.code, name_ar=o.name_ar,
                                                name_en=o.name_en, tz=o.timezone,
                                                device=settings.device.id), encoding="utf-8")
        created = True
    return ({"data_dir": str(settings.data_dir), "database": str(office.store.path),
             "config": str(config), "config_created": created,
             "office": settings.office.code, "device": settings.device.id,
             "services": len(office.catalog)}, None)


def register(root: click.Group) -> None:
    root.add_command(init_cmd)
