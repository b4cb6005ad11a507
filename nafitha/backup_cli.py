"""`nafitha backup` and `nafitha restore`: a consistent, compressed copy of the store taken
while the apps run, and its checked return (core/backup.py, docs/operations/backup.md)."""
from __future__ import annotations

from pathlib import Path

import click

from nafitha.commands import command


def _passphrase(passphrase_file: str | None) -> str | None:
    from core import backup
    if passphrase_file:
        try:
            text = Path(passphrase_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise backup.BackupError(f"cannot read the passphrase file {passphrase_file}: "
                                     f"{exc.strerror}")
        if not text:
            raise backup.BackupError(f"the passphrase file {passphrase_file} is empty")
        return text
    return backup.passphrase_from(None)


PASSPHRASE_FILE = click.option(
    "--passphrase-file", type=click.Path(dir_okay=False),
    help="A file holding the backup passphrase (else NAFITHA_BACKUP_PASSPHRASE). With one, "
         "the device's keys go into the backup encrypted; without, they are left out.")


@command(None, "backup")
@click.option("--to", "to_dir", type=click.Path(file_okay=False),
              help="The directory to write the backup into (another disk, a USB stick).")
@click.option("--scheduled", is_flag=True,
              help="The timer's run: to backup.to_dir, keeping the newest backup.keep of this "
                   "device's backups there (exit 0 when no to_dir is set).")
@PASSPHRASE_FILE
def backup_cmd(ctx, to_dir, scheduled, passphrase_file):
    """Take a consistent copy of the store while the apps run (SQLite's online backup API),
    compressed into one file named with the device, the time and a content hash, with the
    audit head and outbox position in its manifest.

    \b
    Example:
        nafitha backup --to /media/usb/nafitha
        NAFITHA_BACKUP_PASSPHRASE=... nafitha backup --scheduled --json
    """
    from core import backup
    if bool(to_dir) == bool(scheduled):
        raise backup.BackupError("give either --to DIR or --scheduled")
    passphrase = _passphrase(passphrase_file)
    if scheduled:
        result = backup.scheduled(ctx.settings, passphrase, ctx.clock)
    else:
        result = backup.create(ctx.settings, to_dir, passphrase, ctx.clock)

    def human(r):
        if "skipped" in r:
            click.echo(r["skipped"])
            return
        keys = {"encrypted": "keys encrypted in it", "excluded": "keys left out (no "
                "passphrase: a restore will need enrolling again)",
                "absent": "no keys on this device"}[r["keys"]]
        click.echo(f"backed up to {r['file']} ({r['bytes']} bytes; audit entry "
                   f"{r['audit_head']['seq']}, outbox #{r['outbox']['last_seq']}; {keys})")
        for name in r.get("removed", []):
            click.echo(f"removed old backup {name}")
    return result, human


@command(None, "restore")
@click.argument("file", type=click.Path(dir_okay=False))
@PASSPHRASE_FILE
@click.option("--without-keys", is_flag=True,
              help="Restore a backup that holds the keys without them (the device is then "
                   "enrolled again).")
@click.option("--no-central", is_flag=True,
              help="Do not ask central for the numbers issued after the backup: every "
                   "numbered sequence jumps ahead by a margin instead (docs).")
def restore_cmd(ctx, file, passphrase_file, without_keys, no_central):
    """Check a backup (complete, this device's, not from a newer version, database hash,
    integrity, audit chain) and make it the data directory, which must be empty or absent.
    Then catch up from central: the events it already holds are not sent twice, and no
    ticket, receipt or licence number is issued again.

    \b
    Example:
        nafitha --data /var/lib/nafitha restore /media/usb/nafitha/nafitha-MUH-D01-20261124T023000Z-3f2a9c1b7d4e.tar.gz
    """
    from core import backup
    settings = ctx.settings
    passphrase = None if without_keys else _passphrase(passphrase_file)

    def tail(after_seq, staged):
        from sync.agent import SyncError, fetch_tail
        try:
            return fetch_tail(settings, staged, after_seq)
        except SyncError as exc:
            raise backup.CentralNeeded(
                f"central could not tell the numbers issued after the backup ({exc.message});"
                f" nothing was changed. Try again when central is reachable, or restore "
                f"--no-central (numbers then jump ahead by {backup.NUMBER_MARGIN})")

    result = backup.restore(settings, file, None, passphrase, without_keys,
                            None if no_central else tail, ctx.clock)

    def human(r):
        click.echo(f"restored {r['restored']} (taken {r['taken_at']}) into {r['data_dir']}: "
                   f"{r['audit_entries']} audit entries; keys {r['keys']}")
        if r["marks"] == "central":
            click.echo(f"caught up from central: {r['adopted']} event(s) issued after the "
                       f"backup; counters raised: {', '.join(r['raised']) or 'none'}")
        else:
            click.echo(f"no central asked: numbers jump ahead (by {r['margin']}, tickets by "
                       f"{r['ticket_margin']}) so none is issued twice")
    return result, human


def register(root: click.Group) -> None:
    """Add `backup` and `restore` to the root group."""
    root.add_command(backup_cmd)
    root.add_command(restore_cmd)
