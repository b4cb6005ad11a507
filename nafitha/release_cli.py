"""`nafitha release ...`: the release key (certified by the root key, offline) and signed
release bundles (core/releases.py, docs/operations/updates.md). Also adds
`nafitha central release-wanted` when the central group is registered before it."""
from __future__ import annotations

import time
from pathlib import Path

import click

from nafitha.commands import Group, command


@click.group(cls=Group)
def release():
    """Sign release bundles for `nafitha appliance update`.

    \b
    Example:
        nafitha release key --root-key /media/root-usb/root.key --out ./release-keys
        nafitha release build dist/nafitha-2.0.1-py3-none-any.whl --release-key \\
            ./release-keys/release.key --cert ./release-keys/release.cert --out ./bundles
    """


@command(release, "key")
@click.option("--root-key", required=True, type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder for release.key (0600) and release.cert.")
@click.option("--days", default=730, show_default=True,
              help="How long the release key may sign.")
def release_key(ctx, root_key, out, days):
    """Create a release key and certify it with the root key (offline ceremony).

    \b
    Example:
        nafitha release key --root-key /media/root-usb/root.key --out ./release-keys
    """
    from core.credentials import keys
    from core.errors import ValidationError
    from core.releases import make_release_key
    if days < 1:
        raise ValidationError("--days must be 1 or more", field="days")
    return make_release_key(keys.read_private(Path(root_key)), Path(out), days,
                            int(time.time())), None


@command(release, "build")
@click.argument("wheels", nargs=-1, required=True, type=click.Path(dir_okay=False,
                                                                   exists=True))
@click.option("--release-key", required=True, type=click.Path(dir_okay=False))
@click.option("--cert", required=True, type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(),
              help="The bundle file, or a folder for nafitha-<version>-<machine>.nafrel.")
@click.option("--version", "version", help="Default: the nafitha wheel's version.")
@click.option("--machine", default="any", show_default=True,
              help="any, or the architecture its wheels need (x86_64, aarch64).")
@click.option("--python", "python_tag", default="py3", show_default=True,
              help="py3, or the interpreter its wheels need (cp311).")
def release_build(ctx, wheels, release_key, cert, out, version, machine, python_tag):
    """Sign WHEELS (nafitha's own and any changed dependency) into one release bundle.

    \b
    Example:
        nafitha release build dist/*.whl --release-key release.key --cert release.cert \\
            --out ./bundles
    """
    from core.credentials import keys
    from core.releases import build_bundle, wheel_version
    out_path = Path(out)
    if out_path.is_dir():
        v = version or next((wheel_version(Path(w)) for w in wheels if wheel_version(Path(w))),
                            "unknown")
        out_path = out_path / f"nafitha-{v}-{machine}.nafrel"
    return build_bundle([Path(w) for w in wheels], keys.read_private(Path(release_key)),
                        Path(cert).read_bytes(), out_path, version=version, machine=machine,
                        python=python_tag), None


def central_release_wanted(ctx, office, version):
    """Name the version OFFICE should run ("*": every office without its own); it reaches
    the office in the signed reference bundle and `nafitha appliance update` installs it.

    \b
    Example:
        nafitha central --home ./central release-wanted MAN01 2.0.1
    """
    from central.releases import set_wanted
    from nafitha.sync_cli import _central
    return set_wanted(_central(ctx), office, version), None


def central_release_upload(ctx, bundle):
    """Keep a release BUNDLE at central for devices to download (`nafitha appliance update`
    without --from). Devices verify it themselves.

    \b
    Example:
        nafitha central --home ./central release-upload ./bundles/nafitha-2.0.1-any.nafrel
    """
    from central.releases import store_bundle
    from nafitha.sync_cli import _central
    return store_bundle(_central(ctx), Path(bundle)), None


def register(root: click.Group) -> None:
    root.add_command(release)
    central = root.commands.get("central")
    if central is not None:
        click.argument("office")(click.argument("version")(central_release_wanted))
        command(central, "release-wanted")(central_release_wanted)
        click.argument("bundle", type=click.Path(dir_okay=False))(central_release_upload)
        command(central, "release-upload")(central_release_upload)
