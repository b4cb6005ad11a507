"""The key ceremonies (docs/keys.md), shared by the CLI and the tests.

On the offline root machine: init_root, certify, revoke. On the device: request, install."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import ValidationError
from . import certificate as certs
from . import cose, keys, revocation
from .trust import TrustStore, device_cert_path, device_key_path

DAY = 86400


def init_root(out_dir: Path) -> dict:
    out_dir = Path(out_dir)
    key = keys.generate()
    keys.write_private(key, out_dir / "root.key")
    public = keys.public_bytes(key)
    keys.write_public(public, out_dir / "root.pub")
    return {"root_key": str(out_dir / "root.key"), "root_pub": str(out_dir / "root.pub"),
            "kid": keys.key_id(public).hex()}


def request(data_dir: Path, device_id: str, office: str) -> dict:
    """Create this device's signing key (once) and the request to take to the root."""
    path = device_key_path(data_dir)
    if not path.exists():
        keys.write_private(keys.generate(), path)
    public = keys.public_bytes(keys.read_private(path))
    return {"nafitha_certificate_request": 1, "device_id": device_id, "office": office,
            "public_key": public.hex()}


def parse_request(text: str) -> dict:
    try:
        req = json.loads(text)
        public = bytes.fromhex(req["public_key"])
        assert req.get("nafitha_certificate_request") == 1 and len(public) == 32
        assert isinstance(req["device_id"], str) and isinstance(req["office"], str)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise ValidationError("not a Nafitha certificate request (nafitha keys request)",
                              field="request")
    return {**req, "public_key": public}


def certify(root_key, req: dict, licence_types: list[str], now: int, sign_days: int = 365,
            extra_valid_days: int = 3650, serial: int = 1) -> certs.DeviceCertificate:
    """sign_days: how long the device may sign; the certificate stays valid for verifying
    extra_valid_days longer (the longest licence it may issue)."""
    if sign_days < 1 or extra_valid_days < 0:
        raise ValidationError("days must be positive", field="days")
    if not licence_types:
        raise ValidationError("name at least one licence type", field="types")
    sign_until = now + sign_days * DAY
    return certs.issue(root_key, req["device_id"], req["office"], req["public_key"], now,
                       sign_until, sign_until + extra_valid_days * DAY, licence_types, serial)


def install(data_dir: Path, cert_bytes: bytes, root_public: bytes) -> certs.DeviceCertificate:
    """Trust the root, check the certificate is the root's and is for this device's key."""
    try:
        cert = certs.from_bytes(cert_bytes)
    except cose.FormatError as exc:
        raise ValidationError(f"not a device certificate: {exc}", field="certificate")
    if cert.root_kid != keys.key_id(root_public) or not cert.sign1.signed_by(root_public):
        raise ValidationError("the certificate is not signed by this root key",
                              field="certificate")
    key_path = device_key_path(data_dir)
    if not key_path.exists():
        raise ValidationError("this device has no signing key: run `nafitha keys request` "
                              "first", field="certificate")
    if cert.public_key != keys.public_bytes(keys.read_private(key_path)):
        raise ValidationError("the certificate is for another device's key",
                              field="certificate")
    TrustStore.load(data_dir).add_root(root_public)
    path = device_cert_path(data_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(cert_bytes)
    tmp.replace(path)
    return cert


def revoke(root_key, number: int, now: int, licences: list[str], devices: dict[str, int],
           base: revocation.RevocationList | None = None) -> revocation.RevocationList:
    """A new list: the base list's entries plus these."""
    if base is not None:
        licences = list(base.licences) + list(licences)
        devices = {**base.devices, **devices}
        if number <= base.number:
            number = base.number + 1
    return revocation.make(root_key, number, now, licences, devices)


def setup_device(data_dir: Path, root_key, device_id: str, office: str,
                 licence_types: list[str], now: int, **kw) -> certs.DeviceCertificate:
    """request + certify + install in one go (a stand-alone office, tests, demos)."""
    req = parse_request(json.dumps(request(data_dir, device_id, office)))
    cert = certify(root_key, req, licence_types, now, **kw)
    return install(data_dir, cert.to_bytes(), keys.public_bytes(root_key))
