"""What a device keeps on disk for licences (all under the data directory):

    keys/device.key          this device's Ed25519 signing key (0600, never leaves the device)
    keys/device.cert         its certificate, signed by the municipality's root key
    trust/roots/<kid>.pub    trusted root public keys (PEM)
    trust/revocations.cose   the newest revocation list signed by a trusted root
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..errors import InvalidState, ValidationError
from . import certificate as certs
from . import cose, keys, revocation
from .licence import NID_SALT_BYTES, claims_for, epoch, sign_claims


class RevocationListNotNewer(ValidationError):
    """The list offered is not newer than the one installed (harmless: nothing to do)."""


def device_key_path(data_dir: Path) -> Path:
    return Path(data_dir) / "keys" / "device.key"


def device_cert_path(data_dir: Path) -> Path:
    return Path(data_dir) / "keys" / "device.cert"


def roots_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "trust" / "roots"


def revocations_path(data_dir: Path) -> Path:
    return Path(data_dir) / "trust" / "revocations.cose"


class TrustStore:
    def __init__(self, roots: dict[bytes, bytes] | None = None,
                 revocations: revocation.RevocationList | None = None,
                 data_dir: Path | None = None):
        self.roots = dict(roots or {})
        self.revocations = revocations
        self.data_dir = Path(data_dir) if data_dir else None

    def root(self, kid: bytes) -> bytes | None:
        return self.roots.get(kid)

    @classmethod
    def load(cls, data_dir: Path) -> "TrustStore":
        roots = {}
        directory = roots_dir(data_dir)
        if directory.is_dir():
            for path in sorted(directory.glob("*.pub")):
                public = keys.read_public(path)
                roots[keys.key_id(public)] = public
        store = cls(roots, None, data_dir)
        path = revocations_path(data_dir)
        if path.exists():
            store.revocations = store.check_revocations(path.read_bytes())
        return store

    def add_root(self, public: bytes) -> bytes:
        kid = keys.key_id(public)
        self.roots[kid] = public
        if self.data_dir:
            keys.write_public(public, roots_dir(self.data_dir) / f"{kid.hex()}.pub")
        return kid

    def check_revocations(self, data: bytes) -> revocation.RevocationList:
        try:
            rl = revocation.parse_bytes(data)
        except cose.FormatError as exc:
            raise ValidationError(f"not a revocation list: {exc}", field="revocations")
        root = self.root(rl.root_kid)
        if root is None or not rl.sign1.signed_by(root):
            raise ValidationError("the revocation list is not signed by a trusted root",
                                  field="revocations")
        return rl

    def install_revocations(self, data: bytes) -> revocation.RevocationList:
        """Verify, then keep it if it is newer than the one we have."""
        rl = self.check_revocations(data)
        if self.revocations is not None and rl.number <= self.revocations.number:
            raise RevocationListNotNewer(f"revocation list {rl.number} is not newer than "
                                         f"the installed list {self.revocations.number}",
                                         field="revocations")
        self.revocations = rl
        if self.data_dir:
            path = revocations_path(self.data_dir)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a verifier never reads half a list
        return rl


class DeviceSigner:
    """Signs licences on the device that issues them (works offline)."""

    def __init__(self, key, cert: certs.DeviceCertificate, device_id: str, office: str,
                 random_bytes: Callable[[int], bytes] = os.urandom):
        self.key = key
        self.cert = cert
        self.device_id = device_id
        self.office = office
        # the national-ID salt; injected so tests can freeze it (Ed25519 itself is
        # deterministic)
        self.random_bytes = random_bytes

    @classmethod
    def load(cls, data_dir: Path, device_id: str, office: str,
             random_bytes: Callable[[int], bytes] = os.urandom) -> "DeviceSigner | None":
        key_path, cert_path = device_key_path(data_dir), device_cert_path(data_dir)
        if not (key_path.exists() and cert_path.exists()):
            return None
        key = keys.read_private(key_path)
        try:
            cert = certs.from_bytes(cert_path.read_bytes())
        except cose.FormatError as exc:
            raise InvalidState(f"{cert_path}: not a device certificate ({exc})")
        if cert.public_key != keys.public_bytes(key):
            raise InvalidState(f"{cert_path} certifies another key than {key_path}")
        return cls(key, cert, device_id, office, random_bytes)

    def check_can_sign(self, licence_type: str, issued_at) -> None:
        c = self.cert
        if (c.device_id, c.office) != (self.device_id, self.office):
            raise InvalidState(f"the device certificate is for {c.device_id} of {c.office}, "
                               f"not {self.device_id} of {self.office}")
        if licence_type not in c.licence_types:
            raise InvalidState(f"this device's certificate does not allow {licence_type} "
                               f"licences (allowed: {', '.join(c.licence_types)})")
        at = epoch(issued_at)
        if not (c.not_before <= at <= c.sign_until):
            raise InvalidState("this device's certificate does not allow signing now "
                               "(outside its signing period); renew it")

    def __call__(self, row: dict) -> str:
        self.check_can_sign(row["licence_type"], row["issued_at"])
        salt = self.random_bytes(NID_SALT_BYTES)
        return sign_claims(claims_for(row, self.office, salt), self.key, self.cert)
