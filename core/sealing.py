"""Residents' personal data sealed at rest (docs/privacy.md).

Every application has a resident key of its own (32 random bytes). Its personal values (the
form's fields; its licence's holder, national ID, address and signed code) are kept only
sealed with that key: AES-256-GCM with the application's id as associated data, so a sealed
value cannot be moved to another application. The resident key is kept wrapped by a data
key that lives in a file outside the database (the device's keys/data.key, central's
home/data.key; 0600), never in a table.

Events carry the sealed values, so every audit chain hashes ciphertext: a commitment, not the
data. Erasing or purging a resident deletes their key; the values become unreadable and every
chain still verifies. Search by national ID goes through a keyed hash (HMAC with the data
key), never the number itself."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import private_files
from .errors import InvalidState, NafithaError

PREFIX = "nfs1:"  # a sealed value: nfs1:<base64url(nonce 12 bytes + ciphertext + tag)>
KEY_BYTES = 32
NONCE_BYTES = 12
SEALED_SCHEMA = 12  # core.migrations.m012_sealed_personal_data
GONE = ("erased", "purged")


class SealingError(NafithaError):
    """A data key or sealed value that cannot be used: never guessed around."""
    code = "sealed_data_problem"


class PersonalDataGone(InvalidState):
    """The resident's key was deleted (erased on request, or purged after the case closed):
    the application's numbers and states stay, its personal values are no longer held."""
    code = "personal_data_gone"


def data_key_path(data_dir: Path) -> Path:
    return Path(data_dir) / "keys" / "data.key"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def new_resident_key() -> bytes:
    return os.urandom(KEY_BYTES)


def seal(key: bytes, aad: str, text: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return PREFIX + _b64(nonce + AESGCM(key).encrypt(nonce, text.encode("utf-8"),
                                                     aad.encode("utf-8")))


def unseal(key: bytes, aad: str, sealed: str) -> str:
    """The text sealed for `aad`; SealingError when it was altered, moved from another
    application, or sealed with another key."""
    try:
        raw = _unb64(sealed[len(PREFIX):])
        if len(raw) < NONCE_BYTES + 16:
            raise ValueError("too short")
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode("utf-8"))
        return plain.decode("utf-8")
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise SealingError(f"a sealed value of {aad} does not open with its key (altered, "
                           f"moved from another application, or another key)", entity=aad)


def encode_key(key: bytes) -> str:
    return _b64(key)


def decode_key(text) -> bytes:
    """A resident key as it travels beside a batch; ValueError when it is not one."""
    if not isinstance(text, str) or len(text) != 43:
        raise ValueError("a resident key is 32 bytes in base64url (43 characters)")
    raw = _unb64(text)
    if len(raw) != KEY_BYTES or _b64(raw) != text:
        raise ValueError("a resident key is 32 bytes in base64url (43 characters)")
    return raw


class DataKey:
    """The data key file: 32 random bytes, created 0600 on first use, read when it changes.
    Losing it loses every personal value this store holds (central keeps its own copies):
    back it up with the database, apart from it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._stamp = None
        self._key: bytes | None = None

    def _load(self, create: bool) -> bytes | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            if not create:
                return None
            # Never half-written to another process, never two keys (create_once).
            private_files.create_once(self.path, os.urandom(KEY_BYTES))
            st = self.path.stat()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            raw = self.path.read_bytes()
            if len(raw) != KEY_BYTES:
                raise SealingError(f"{self.path} is not a data key ({len(raw)} bytes, not "
                                   f"{KEY_BYTES}); restore it from the backup",
                                   path=str(self.path))
            self._stamp, self._key = stamp, raw
        return self._key

    def key(self, create: bool = True) -> bytes | None:
        return self._load(create)

    def wrap(self, resident_key: bytes, aad: str) -> str:
        return seal(self.key(), f"key:{aad}", _b64(resident_key))

    def unwrap(self, wrapped: str, aad: str) -> bytes:
        key = self.key(create=False)
        if key is None:
            raise SealingError(f"{self.path} is missing: the residents' data of this store "
                               f"cannot be read; restore the file from the backup",
                               path=str(self.path))
        return _unb64(unseal(key, f"key:{aad}", wrapped))

    def tag(self, purpose: str, text: str) -> str:
        """A keyed hash for looking a value up without keeping it (e.g. a national ID)."""
        return hmac.new(self.key(), f"{purpose}:{text}".encode("utf-8"),
                        hashlib.sha256).hexdigest()


class Sealer:
    """A device store's resident keys (table resident_keys, wrapped by the data key file).

    A store whose schema predates sealing (an old version's data, or the migration tests
    running today's code on an old schema) keeps values in clear, as that version did."""

    def __init__(self, store, data_key: DataKey):
        self.store = store
        self.data_key = data_key
        self.enabled = store.has_schema(SEALED_SCHEMA)

    def create(self, application_id: str) -> None:
        """A new resident key for a new application (inside its transaction)."""
        if self.enabled:
            self.store.insert("resident_keys", {
                "application_id": application_id, "created_at": self.store.now(),
                "wrapped": self.data_key.wrap(new_resident_key(), application_id)})

    def key(self, application_id: str) -> bytes | None:
        """The resident key, or None when it was erased or purged."""
        row = self.store.one("SELECT wrapped FROM resident_keys WHERE application_id = ?",
                             (application_id,))
        if row is None or row["wrapped"] is None:
            return None
        return self.data_key.unwrap(row["wrapped"], application_id)

    def keys_of(self, application_ids: list[str]) -> dict[str, bytes]:
        """The resident keys still held of these applications, in a few queries."""
        out = {}
        for start in range(0, len(application_ids), 500):
            part = application_ids[start:start + 500]
            for row in self.store.all(
                    f"SELECT application_id, wrapped FROM resident_keys WHERE wrapped IS NOT "
                    f"NULL AND application_id IN ({','.join('?' * len(part))})", part):
                out[row["application_id"]] = self.data_key.unwrap(row["wrapped"],
                                                                  row["application_id"])
        return out

    def open_with(self, keys: dict[str, bytes], application_id: str, value: str) -> str | None:
        """As open(), with keys fetched beforehand by keys_of()."""
        if not is_sealed(value):
            return value
        key = keys.get(application_id)
        return None if key is None else unseal(key, application_id, value)

    def gone(self, application_id: str) -> str | None:
        """'erased' or 'purged' when the resident's key was deleted, else None."""
        if not self.enabled:
            return None
        row = self.store.one("SELECT gone FROM resident_keys WHERE application_id = ?",
                             (application_id,))
        return row["gone"] if row else None

    def seal(self, application_id: str, text: str) -> str:
        if not self.enabled:
            return text
        key = self.key(application_id)
        if key is None:
            raise self._gone_error(application_id)
        return seal(key, application_id, text)

    def open(self, application_id: str, value: str) -> str | None:
        """The clear text of a stored value (a value kept in clear before sealing existed
        is returned as it is); None when the resident's key is gone."""
        if not is_sealed(value):
            return value
        key = self.key(application_id)
        return None if key is None else unseal(key, application_id, value)

    def _gone_error(self, application_id: str) -> PersonalDataGone:
        why = self.gone(application_id) or "erased"
        return PersonalDataGone(f"the resident's personal data was {why}: this office no "
                                f"longer holds it", gone=why)

    def opened(self, application_id: str, value: str) -> str:
        text = self.open(application_id, value)
        if text is None:
            raise self._gone_error(application_id)
        return text

    def national_id_tag(self, national_id: str) -> str | None:
        return self.data_key.tag("national-id", national_id) if self.enabled else None

    def keys_for(self, application_ids) -> dict[str, str]:
        """The resident keys that travel beside a batch to central (base64url), by id."""
        out = {}
        for application_id in sorted(set(application_ids)):
            key = self.key(application_id) if self.enabled else None
            if key is not None:
                out[application_id] = encode_key(key)
        return out

    def forget(self, application_ids, why: str) -> int:
        """Delete the resident keys (erased on request, or purged); returns how many.
        secure_delete overwrites the freed bytes in the database file."""
        assert why in GONE
        if not self.enabled:
            return 0
        count = 0
        now = self.store.now()
        for application_id in application_ids:
            count += self.store.conn.execute(
                "UPDATE resident_keys SET wrapped = NULL, gone = ?, gone_at = ? "
                "WHERE application_id = ? AND wrapped IS NOT NULL",
                (why, now, application_id)).rowcount
        return count
