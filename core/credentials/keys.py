"""Ed25519 keys on disk: private keys PKCS#8 PEM, mode 0600, never printed or sent."""
from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import private_files
from ..errors import NafithaError


class KeyFileError(NafithaError):
    code = "key_problem"


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: bytes) -> bytes:
    """8 bytes naming a root key: the start of SHA-256 of its raw public key."""
    return hashlib.sha256(public).digest()[:8]


def public_from_bytes(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def signature_ok(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        public_from_bytes(public).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def write_private(key: Ed25519PrivateKey, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        private_files.write_private(path, pem, overwrite=False)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key", path=str(path))


def _load_pem(path: Path, load, expected: type, what: str):
    try:
        key = load(Path(path).read_bytes())
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no such {what} file", path=str(path))
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a {what} ({exc})", path=str(path))
    if not isinstance(key, expected):
        raise KeyFileError(f"{path}: not an Ed25519 {what}", path=str(path))
    return key


def read_private(path: Path) -> Ed25519PrivateKey:
    return _load_pem(path, lambda data: serialization.load_pem_private_key(data, None),
                     Ed25519PrivateKey, "private key")


def write_public(public: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = public_from_bytes(public).public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    path.write_bytes(pem)


def read_public(path: Path) -> bytes:
    return public_bytes(_load_pem(path, serialization.load_pem_public_key, Ed25519PublicKey,
                                  "public key"))


class KeyFile:
    """A private key file read when it changes: a long-running app picks up the key a
    ceremony creates beside it, with one stat() per use. None while there is no readable
    key (a broken file is reported by `nafitha keys status`, not by every commit)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._stamp = None
        self._key: Ed25519PrivateKey | None = None
        self._public: bytes | None = None

    def _refresh(self) -> None:
        try:
            st = self.path.stat()
        except OSError:
            self._stamp, self._key, self._public = None, None, None
            return
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._key = read_private(self.path)
                self._public = public_bytes(self._key)
            except (KeyFileError, OSError):
                self._key, self._public = None, None

    def private(self) -> Ed25519PrivateKey | None:
        self._refresh()
        return self._key

    def public(self) -> bytes | None:
        self._refresh()
        return self._public
