"""`nafitha keys ...`: the licence-signing keys: the offline root ceremony, device
certificates, trusted roots and revocation lists (docs/keys.md)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from nafitha.commands import Group, command, service_catalog


@click.group(cls=Group)
def keys():
    """Licence-signing keys: the root ceremony, device certificates, revocations (docs/keys.md).

    \b
    Example:
        nafitha keys status
    """


def _now() -> int:
    import time
    return int(time.time())


def _read_bytes(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"{path}: {exc.strerror}", param_hint=what)


@command(keys, "init-root")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder for root.key (keep it offline) and root.pub (give to every device).")
def keys_init_root(ctx, out):
    """Create the municipality's root key (offline ceremony, once).

    \b
    Example:
        nafitha keys init-root --out /media/root-usb
    """
    from core.credentials import ceremony
    return ceremony.init_root(Path(out)), None


@command(keys, "request")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the request here.")
def keys_request(ctx, out):
    """Create this device's signing key (once) and a certificate request for the root.

    The key also signs the audit log's head from now on (docs/audit.md); run again to
    re-sign a head left unsigned (only if the whole log checks out).

    \b
    Example:
        nafitha --data ./data keys request --out d01.request.json
    """
    req = ctx.office.request_key()
    if out:
        Path(out).write_text(json.dumps(req, indent=2), encoding="utf-8")
    return req, None


@command(keys, "certify")
@click.argument("request_file", type=click.Path(dir_okay=False))
@click.option("--root-key", required=True, type=click.Path(dir_okay=False))
@click.option("--types", help="Licence types it may issue, comma-separated "
              "(default: every type in the catalogue).")
@click.option("--sign-days", default=365, show_default=True,
              help="How long the device may sign.")
@click.option("--valid-days", default=3650, show_default=True,
              help="How much longer its licences stay verifiable (the longest licence).")
@click.option("--serial", default=1, show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def keys_certify(ctx, request_file, root_key, types, sign_days, valid_days, serial, out):
    """Sign a device's certificate with the root key (offline ceremony).

    \b
    Example:
        nafitha keys certify d01.request.json --root-key /media/root-usb/root.key --out d01.cert
    """
    from core.credentials import ceremony, keys as k
    req = ceremony.parse_request(
        _read_bytes(request_file, "REQUEST_FILE").decode("utf-8", "replace"))
    type_list = [t.strip() for t in types.split(",") if t.strip()] if types else \
        [s.licence_type for s in service_catalog(ctx)]
    cert = ceremony.certify(k.read_private(Path(root_key)), req, type_list, _now(), sign_days,
                            valid_days, serial)
    Path(out).write_bytes(cert.to_bytes())
    return cert.to_dict(), None


@command(keys, "install")
@click.argument("cert_file", type=click.Path(dir_okay=False))
@click.option("--root", "root_pub", required=True, type=click.Path(dir_okay=False),
              help="The municipality's root.pub.")
def keys_install(ctx, cert_file, root_pub):
    """Install this device's certificate and trust the root key.

    \b
    Example:
        nafitha --data ./data keys install d01.cert --root root.pub
    """
    from core.credentials import ceremony, keys as k
    cert = ceremony.install(ctx.settings.data_dir, _read_bytes(cert_file, "CERT_FILE"),
                            k.read_public(Path(root_pub)))
    return cert.to_dict(), None


@command(keys, "trust-root")
@click.argument("root_pub", type=click.Path(dir_okay=False))
def keys_trust_root(ctx, root_pub):
    """Trust a root public key (a verifier that issues nothing needs only this).

    \b
    Example:
        nafitha --data ./inspector keys trust-root root.pub
    """
    from core.credentials import keys as k
    from core.credentials.trust import TrustStore
    kid = TrustStore.load(ctx.settings.data_dir).add_root(k.read_public(Path(root_pub)))
    return {"trusted_root": kid.hex()}, None


@command(keys, "revoke")
@click.option("--root-key", required=True, type=click.Path(dir_okay=False))
@click.option("--licence", "licences", multiple=True, help="A licence number (repeat).")
@click.option("--device", "devices", multiple=True, metavar="OFFICE/ID@ISO-TIME",
              help="A compromised device and since when, e.g. "
                   "MUH/D07@2026-11-20T09:00:00+03:00.")
@click.option("--base", type=click.Path(dir_okay=False), help="The current list, to extend.")
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def keys_revoke(ctx, root_key, licences, devices, base, out):
    """Make a new signed revocation list (offline ceremony, or central).

    \b
    Example:
        nafitha keys revoke --root-key root.key --licence MUH-2026-D01-000007 --out rl.cose
    """
    from datetime import datetime
    from core.credentials import ceremony, cose, keys as k, revocation
    from core.errors import ValidationError
    compromised = {}
    for item in devices:
        device, _, since = item.partition("@")
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            moment = None
        if not revocation.DEVICE_KEY.match(device) or moment is None or \
                moment.tzinfo is None:
            raise ValidationError(f"--device {item!r}: use OFFICE/ID@ISO-TIME with a time "
                                  f"zone", field="device")
        compromised[device] = int(moment.timestamp())
    try:
        base_list = revocation.parse_bytes(_read_bytes(base, "--base")) if base else None
    except cose.FormatError as exc:
        raise ValidationError(f"--base {base}: {exc}", field="base")
    rl = ceremony.revoke(k.read_private(Path(root_key)), 1, _now(), list(licences),
                         compromised, base_list)
    Path(out).write_bytes(rl.to_bytes())
    return rl.to_dict(), None


@command(keys, "trust-revocations")
@click.argument("list_file", type=click.Path(dir_okay=False))
def keys_trust_revocations(ctx, list_file):
    """Install a newer revocation list (checked against the trusted roots first).

    \b
    Example:
        nafitha --data ./data keys trust-revocations rl.cose
    """
    from core.credentials.trust import TrustStore
    rl = TrustStore.load(ctx.settings.data_dir).install_revocations(
        _read_bytes(list_file, "LIST_FILE"))
    return rl.to_dict(), None


@command(keys, "demo")
def keys_demo(ctx):
    """Give this device a demonstration root and certificate, so it can sign licences
    without a ceremony: for `make run` and developers' machines, never a real office (a
    licence it signs is genuine only where this demo root is trusted). Does nothing if the
    device already has a certificate.

    \b
    Example:
        nafitha --data ./data keys demo
    """
    import time as _time

    from core.credentials import ceremony, keys as key_files
    from core.credentials.trust import device_cert_path
    s = ctx.settings
    if device_cert_path(s.data_dir).exists():
        return {"installed": False, "reason": "this device already has a certificate"}, None
    demo = s.data_dir / "demo-root"
    if not (demo / "root.key").exists():
        ceremony.init_root(demo)
    root = key_files.read_private(demo / "root.key")
    ctx.office.request_key()  # the key, and the audit head signed with it
    cert = ceremony.setup_device(s.data_dir, root, s.device.id, s.office.code,
                                 [svc.licence_type for svc in ctx.office.catalog],
                                 int(_time.time()))
    return {"installed": True, "root": str(demo / "root.pub"), "device": cert.device_id,
            "licence_types": list(cert.licence_types)}, None


@command(keys, "status")
def keys_status(ctx):
    """This device's certificate, trusted roots and revocation list.

    \b
    Example:
        nafitha --data ./data keys status --json
    """
    from core.credentials.trust import DeviceSigner, TrustStore
    s = ctx.settings
    signer = DeviceSigner.load(s.data_dir, s.device.id, s.office.code)
    trust = TrustStore.load(s.data_dir)
    rl = trust.revocations
    return {"device": s.device.id, "office": s.office.code,
            "can_sign": signer is not None,
            "certificate": signer.cert.to_dict() if signer else None,
            "trusted_roots": [kid.hex() for kid in trust.roots],
            "revocation_list": ({"number": rl.number, "issued_at": rl.issued_at,
                                 "age_seconds": _now() - rl.issued_at,
                                 "licences": len(rl.licences), "devices": len(rl.devices)}
                                if rl else None)}, None


def register(root: click.Group) -> None:
    root.add_command(keys)
