"""The hub's TLS certificate and the pairing proof that binds it (docs/hub.md, HTTPS).

The hub serves its devices over HTTPS with a key made on the hub at set-up (keys/hub-tls.key,
0600) and a self-signed certificate (keys/hub-tls.crt). Nothing on a centre's LAN can vouch
for a self-signed certificate, so pairing does: the one-time code shown on the hub is also
the secret of a mutual proof that names the certificate's fingerprint.

- The device reads the certificate the hub presents, derives a key from the code and that
  fingerprint (scrypt: a guess of the 40-bit code costs ~16 MiB and tens of ms, so a
  captured proof cannot be searched in the minutes the code lives), and sends only
  HMAC(key, "device:" + nonce), never the code.
- The hub derived the same key from its own certificate when it showed the code. A
  man-in-the-middle presents another certificate, so its fingerprint is in the device's key
  and the proof does not match: refused, counted as a wrong code.
- The hub answers with HMAC(key, "hub:" + nonce + token): proof that whoever answered knows
  the code. The device then pins the fingerprint (hub.json) and refuses any other
  certificate until it is paired again."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import platform
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .private_files import write_private

KEY_FILE = "hub-tls.key"
CERT_FILE = "hub-tls.crt"
CERT_YEARS = 20  # a centre's appliance outlives any renewal process; pairing pins it anyway
SCRYPT = dict(n=2 ** 14, r=8, p=1, dklen=32)


def fingerprint(der: bytes) -> str:
    """A certificate's SHA-256 fingerprint (lower-case hex of its DER bytes)."""
    return hashlib.sha256(der).hexdigest()


def pairing_key(code: str, cert_fingerprint: str) -> bytes:
    """The key both sides derive from a pairing code (normalised: no dash, upper case) and
    the hub certificate's fingerprint."""
    return hashlib.scrypt(code.encode("ascii"), salt=b"nafitha-pairing:" +
                          cert_fingerprint.lower().encode("ascii"), **SCRYPT)


def device_proof(key: bytes, nonce: str) -> str:
    return hmac.new(key, b"device:" + nonce.encode("ascii"), hashlib.sha256).hexdigest()


def hub_proof(key: bytes, nonce: str, token: str) -> str:
    return hmac.new(key, b"hub:" + nonce.encode("ascii") + b":" + token.encode("ascii"),
                    hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class HubCertificate:
    keyfile: Path
    certfile: Path
    fingerprint: str

    @classmethod
    def ensure(cls, data_dir, office_code: str = "") -> "HubCertificate":
        """The hub's certificate, made on first use (a new P-256 key that never leaves the
        hub). Made again only if its files are removed: every device must then pair again."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        keys = Path(data_dir) / "keys"
        keyfile, certfile = keys / KEY_FILE, keys / CERT_FILE
        if not (keyfile.exists() and certfile.exists()):
            keys.mkdir(parents=True, exist_ok=True)
            key = ec.generate_private_key(ec.SECP256R1())
            host = platform.node() or "localhost"  # the hub's name on the LAN
            names = [x509.DNSName(n) for n in dict.fromkeys(("localhost", host,
                                                              f"{host}.local"))]
            names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
            subject = x509.Name([x509.NameAttribute(
                NameOID.COMMON_NAME, f"Nafitha hub {office_code}".strip())])
            now = datetime.now(timezone.utc)
            cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                    .public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(now - timedelta(days=1))
                    .not_valid_after(now + timedelta(days=365 * CERT_YEARS))
                    .add_extension(x509.SubjectAlternativeName(names), critical=False)
                    .sign(key, hashes.SHA256()))
            write_private(keyfile, key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
            write_private(certfile, cert.public_bytes(serialization.Encoding.PEM))
        return cls.load(keyfile, certfile)

    @classmethod
    def load(cls, keyfile: Path, certfile: Path) -> "HubCertificate":
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        cert = x509.load_pem_x509_certificate(certfile.read_bytes())
        return cls(keyfile, certfile,
                   fingerprint(cert.public_bytes(serialization.Encoding.DER)))
