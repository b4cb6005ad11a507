"""Backups of a device's data directory, taken while the apps run, and their checked return
(docs/operations/backup.md).

A backup is one gzip tar, written atomically (temp file, fsync, rename), named
`nafitha-<office>-<device>-<UTC time>-<hash>.tar.gz`, holding:

    manifest.json   format, device, office, schema, app version, taken_at, audit head,
                    outbox position, sha256 of the database, and how the keys are held
    nafitha.db      a consistent copy made with SQLite's online backup API
    files/...       the rest of the data directory (settings, trust list), but never keys/
                    or documents/ in clear, the journal files, locks or the backup record
    secrets.bin     keys/ (device key, data key, slip key, sync token, hub TLS key) and
                    documents/ (residents' captured pages) as a tar, AES-256-GCM under a key
                    scrypt derives from the backup passphrase; only when a passphrase is
                    given, else both are left out (re-enrol; documents come from central)

A restore checks everything before it touches the target: the archive is whole, it is a
backup, the database hashes to the manifest, SQLite's integrity check, the audit chain, the
schema is not newer than this code, it is this device's, and the target is empty or absent.
It is built beside the target and renamed into place. Then the office carries on from the
events central already holds from the device after the backup (`tail`): their audit entries
close the chain, they stand in the outbox as sent, and the numbers they carry become the
sequences' high-water marks. Without central, numbers jump ahead by NUMBER_MARGIN (stated in
the result). Imports no HTTP: the caller passes a `tail(after_seq)` function.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import secrets as pysecrets
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from . import audit, migrations, outbox
from .canonical import canonical_json
from .clock import SystemClock, UlidFactory, iso
from .errors import DiskFull, InvalidState, NafithaError
from .private_files import fsync_directory
from .store import DISK_FULL_ERRNOS, Store

FORMAT = "nafitha-backup/1"
DB_NAME = "nafitha.db"
RECORD = "last-backup.json"  # in the data directory: what health reports read
SKIPPED = {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal", "sync.lock",
           RECORD}
# Encrypted in secrets.bin, never in clear: the keys, and the residents' captured documents
# (kept in clear on the device, docs/documents.md; a USB stick is easily lost).
SECRET_DIRS = ("keys", "documents")
NAME = re.compile(r"^nafitha-(?P<office>[A-Za-z0-9]+)-(?P<device>[A-Za-z0-9]+)-"
                  r"(?P<stamp>\d{8}T\d{6}Z)-(?P<hash>[0-9a-f]{12})\.tar\.gz$")
NUMBER_MARGIN = 1000  # without central's marks, numbered sequences jump this far ahead
SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1}
SECRETS_CONTEXT = b"nafitha.backup-secrets.v1"
PASSPHRASE_ENV = "NAFITHA_BACKUP_PASSPHRASE"


class BackupError(NafithaError):
    code = "backup_failed"


class BackupNowhere(BackupError):
    code = "backup_nowhere"  # the destination is missing or not writable


class BackupInvalid(BackupError):
    code = "backup_invalid"  # truncated, not a backup, damaged, hash or chain wrong


class BackupOtherDevice(BackupError):
    code = "backup_other_device"


class BackupNewerSchema(BackupError):
    code = "backup_newer_schema"


class RestoreTargetNotEmpty(BackupError):
    code = "restore_target_not_empty"


class WrongPassphrase(BackupError):
    code = "backup_wrong_passphrase"


class KeysNeeded(BackupError):
    code = "backup_keys_needed"  # the keys are in it: a passphrase, or restore without them


class CentralNeeded(BackupError):
    code = "restore_needs_central"  # an enrolled device's marks: central is unreachable


# --- taking a backup ----------------------------------------------------------------------------
def passphrase_from(settings, given: str | None = None) -> str | None:
    """The backup passphrase: given, else NAFITHA_BACKUP_PASSPHRASE; None: keys left out."""
    value = given if given is not None else os.environ.get(PASSPHRASE_ENV)
    return value or None


def create(settings, to_dir: str | Path, passphrase: str | None = None, clock=None,
           app_version: str | None = None) -> dict:
    """Back the data directory up into to_dir; the backup's manifest with its file. The
    last backup (ok or not) is recorded for the health report."""
    clock = clock or SystemClock()
    to_dir = Path(to_dir)
    try:
        result = _create(settings, to_dir, passphrase, clock, app_version)
    except NafithaError as exc:
        _record(settings, {"ok": False, "attempt_at": iso(clock.now()), "error": exc.code,
                           "dir": str(to_dir)})
        raise
    _record(settings, {"ok": True, "at": result["taken_at"], "attempt_at": result["taken_at"],
                       "file": result["file"], "dir": str(to_dir),
                       "sha256": result["db_sha256"], "keys": result["keys"]})
    return result


def _create(settings, to_dir: Path, passphrase, clock, app_version) -> dict:
    data_dir = Path(settings.data_dir)
    db = data_dir / DB_NAME
    if not db.is_file():
        raise BackupError(f"there is no store to back up at {db}", path=str(db))
    if not to_dir.is_dir():
        raise BackupNowhere(f"cannot back up to {to_dir}: it does not exist (is the disk or "
                            f"USB stick plugged in and mounted?)", path=str(to_dir))
    if not os.access(to_dir, os.W_OK | os.X_OK):
        raise BackupNowhere(f"cannot back up to {to_dir}: it is not writable", path=str(to_dir))
    taken = clock.now().astimezone(UTC)
    with tempfile.TemporaryDirectory(prefix=".nafitha-backup-", dir=to_dir) as work:
        try:
            copy = Path(work) / DB_NAME
            facts = _online_copy(db, copy)
            if (facts["office"], facts["device"]) != (settings.office.code, settings.device.id):
                raise BackupOtherDevice(
                    f"{db} belongs to {facts['office']}/{facts['device']}, not this device "
                    f"{settings.office.code}/{settings.device.id}; nothing was written")
            digest = _sha256(copy)
            manifest = {"format": FORMAT, "device": facts["device"], "office": facts["office"],
                        "schema": facts["schema"], "app_version": app_version or _version(),
                        "taken_at": iso(taken), "audit_head": facts["audit_head"],
                        "outbox": facts["outbox"], "db_sha256": digest,
                        "db_bytes": copy.stat().st_size, "keys": "absent"}
            secret_blob = None
            if any((data_dir / d).is_dir() and any((data_dir / d).iterdir())
                   for d in SECRET_DIRS):
                if passphrase:
                    secret_blob, manifest["secrets"] = _seal_secrets(
                        data_dir, passphrase, manifest)
                    manifest["keys"] = "encrypted"
                else:
                    manifest["keys"] = "excluded"
            name = (f"nafitha-{facts['office']}-{facts['device']}-"
                    f"{taken.strftime('%Y%m%dT%H%M%SZ')}-{digest[:12]}.tar.gz")
            part = Path(work) / (name + ".part")
            with open(part, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                    _add_bytes(tar, "manifest.json",
                               json.dumps(manifest, indent=1, sort_keys=True).encode())
                    tar.add(copy, DB_NAME)
                    if secret_blob is not None:
                        _add_bytes(tar, "secrets.bin", secret_blob)
                    for path in _plain_files(data_dir, to_dir):
                        tar.add(path, "files/" + path.relative_to(data_dir).as_posix(),
                                recursive=False)
                raw.flush()
                os.fsync(raw.fileno())
            final = to_dir / name
            os.replace(part, final)
            fsync_directory(to_dir)
        except OSError as exc:
            if exc.errno in DISK_FULL_ERRNOS:
                raise DiskFull(f"the backup did not fit on {to_dir} (the disk is full); "
                               f"nothing was left there", path=str(to_dir)) from exc
            raise BackupError(f"the backup to {to_dir} failed: {exc.strerror or exc}",
                              path=str(to_dir)) from exc
    return {**manifest, "file": str(final), "bytes": final.stat().st_size}


def _online_copy(db: Path, copy: Path) -> dict:
    """SQLite's online backup API: one consistent snapshot while others write (WAL)."""
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(str(copy))
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst)  # every page in one step: one read transaction, one snapshot
    finally:
        src.close()
    try:
        dst.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
        facts = _facts(dst)
    finally:
        dst.close()
    return facts


def _facts(conn: sqlite3.Connection) -> dict:
    """What the manifest records of a store, read through its tables' owners."""
    view = _ReadOnly(conn)
    ident = Store.identity(view) or {}
    head = audit.head(view)
    box = outbox.status(view)
    return {"device": ident.get("device_id"), "office": ident.get("office_code"),
            "schema": conn.execute("PRAGMA user_version").fetchone()[0],
            "audit_head": {"seq": head.get("seq", 0), "hash": head.get("hash")},
            "outbox": {"last_seq": box["last_seq"], "unsent": box["pending"],
                       "last_sent_at": box["last_sent_at"]}}


class _ReadOnly:
    """Enough of a Store for the owners' read functions on a copy."""

    def __init__(self, conn):
        self.conn = conn
        self.clock = SystemClock()

    one = Store.one
    all = Store.all


def _plain_files(data_dir: Path, to_dir: Path) -> list[Path]:
    out = []
    skip_under = {data_dir / d for d in SECRET_DIRS}
    to_dir = to_dir.resolve()
    for root, dirs, files in os.walk(data_dir):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if here / d not in skip_under
                         and (here / d).resolve() != to_dir and not d.startswith(".nafitha-"))
        for f in sorted(files):
            path = here / f
            if here == data_dir and (f in SKIPPED or f.endswith(".tmp")):
                continue
            if path.is_file() and not path.is_symlink():
                out.append(path)
    return out


def _seal_secrets(data_dir: Path, passphrase: str, manifest: dict) -> tuple[bytes, dict]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in SECRET_DIRS:
            if (data_dir / d).is_dir():
                tar.add(data_dir / d, d)
    salt, nonce = pysecrets.token_bytes(16), pysecrets.token_bytes(12)
    key = _derive(passphrase, salt)
    blob = AESGCM(key).encrypt(nonce, buf.getvalue(), _secrets_aad(manifest))
    return blob, {"kdf": "scrypt", **SCRYPT, "salt": salt.hex(), "nonce": nonce.hex(),
                  "cipher": "AES-256-GCM"}


def _secrets_aad(manifest: dict) -> bytes:
    # Bound to the device and this very database: a keys blob cannot be moved to another.
    return SECRETS_CONTEXT + canonical_json({"office": manifest["office"],
                                             "device": manifest["device"],
                                             "db_sha256": manifest["db_sha256"]}).encode()


def _derive(passphrase: str, salt: bytes) -> bytes:
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=SCRYPT["n"], r=SCRYPT["r"],
                          p=SCRYPT["p"], maxmem=64 * 1024 * 1024, dklen=32)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("nafitha")
    except Exception:  # noqa: BLE001 - a source checkout without metadata
        return "unknown"


def _record(settings, values: dict) -> None:
    """Keep the last attempt (and the last good backup's time) for the health report."""
    path = Path(settings.data_dir) / RECORD
    if not Path(settings.data_dir).is_dir():
        return
    previous = last_backup(settings) or {}
    if not values.get("ok"):
        values = {**{k: previous.get(k) for k in ("at", "file", "sha256")}, **values}
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(values, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def last_backup(settings) -> dict | None:
    """The last backup of this device: {"at": the last good one's time (None: never),
    "ok": whether the last attempt succeeded, "file", "attempt_at", "error"}; None when
    none was ever attempted."""
    try:
        return json.loads((Path(settings.data_dir) / RECORD).read_text())
    except (OSError, ValueError):
        return None


def scheduled(settings, passphrase: str | None = None, clock=None) -> dict:
    """The timer's run: back up to settings.backup.to_dir and keep the newest
    settings.backup.keep of this device's backups there. {"skipped": reason} when no
    to_dir is set (nowhere to back up to is not a failure of the timer)."""
    if not settings.backup.to_dir:
        return {"skipped": "no backup.to_dir is set: there is nowhere to back up to"}
    result = create(settings, settings.backup.to_dir, passphrase, clock)
    result["removed"] = rotate(settings.backup.to_dir, settings.office.code,
                               settings.device.id, settings.backup.keep)
    return result


def rotate(to_dir: str | Path, office: str, device: str, keep: int) -> list[str]:
    """Delete this device's backups in to_dir beyond the newest `keep`; other devices' files
    and anything not named like a backup are never touched. The names removed."""
    mine = []
    for path in Path(to_dir).iterdir():
        m = NAME.match(path.name)
        if m and m["office"] == office and m["device"] == device and path.is_file():
            mine.append((m["stamp"], path.name, path))
    mine.sort(reverse=True)
    removed = []
    for _stamp, name, path in mine[max(1, keep):]:
        path.unlink()
        removed.append(name)
    return removed


# --- restoring ----------------------------------------------------------------------------------
def inspect(file: str | Path) -> dict:
    """The manifest of a backup file, after checking the archive is whole (BackupInvalid)."""
    with _opened(Path(file)) as tar:
        return _manifest(tar, Path(file))


@contextlib.contextmanager
def _opened(file: Path):
    if not file.is_file():
        raise BackupInvalid(f"{file} is not a file", path=str(file))
    try:
        tar = tarfile.open(file, "r:gz")  # noqa: SIM115 - closed below, after the checks
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupInvalid(f"{file} is not a Nafitha backup (not a complete gzip tar: "
                            f"{type(exc).__name__}); nothing was changed", path=str(file))
    try:
        try:
            tar.getmembers()  # reads to the end: a truncated archive fails here
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise BackupInvalid(f"{file} is truncated or damaged ({type(exc).__name__}); "
                                f"nothing was changed", path=str(file))
        yield tar
    finally:
        tar.close()


def _manifest(tar: tarfile.TarFile, file: Path) -> dict:
    try:
        raw = tar.extractfile("manifest.json").read()
        manifest = json.loads(raw)
    except (KeyError, AttributeError, ValueError, tarfile.TarError, EOFError, zlib.error):
        raise BackupInvalid(f"{file} is not a Nafitha backup (no readable manifest); nothing "
                            f"was changed", path=str(file))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupInvalid(f"{file} is not a Nafitha backup of a known format; nothing was "
                            f"changed", path=str(file))
    return manifest


def restore(settings, file: str | Path, data_dir: str | Path | None = None,
            passphrase: str | None = None, without_keys: bool = False,
            tail: Callable[[int, Path], list[dict] | None] | None = None,
            clock=None) -> dict:
    """Check FILE, then make it the data directory (absent or empty), then catch up from
    central (`tail(after_seq, staged data dir)`: the events central holds from this device
    after that outbox seq; None when there is no central to ask: numbers then jump by
    NUMBER_MARGIN). An error of `tail` stops the restore with nothing changed."""
    clock = clock or SystemClock()
    file = Path(file)
    target = Path(data_dir or settings.data_dir)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise RestoreTargetNotEmpty(
            f"the restore target {target} is not empty; nothing was changed. Move it aside "
            f"first (e.g. mv {target} {target}.old), then restore again", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    try:
        os.chmod(stage, 0o700)
        result = _restore_into(settings, file, stage, passphrase, without_keys, tail, clock)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(stage, target)
        fsync_directory(target.parent)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return {**result, "data_dir": str(target)}


def _restore_into(settings, file: Path, stage: Path, passphrase, without_keys, tail,
                  clock) -> dict:
    with _opened(file) as tar:
        manifest = _manifest(tar, file)
        mine = (settings.office.code, settings.device.id)
        theirs = (manifest.get("office"), manifest.get("device"))
        if theirs != mine:
            raise BackupOtherDevice(f"{file.name} is a backup of {theirs[0]}/{theirs[1]}, not "
                                    f"of this device {mine[0]}/{mine[1]}; nothing was changed")
        known = len(migrations.MIGRATIONS)
        if not isinstance(manifest.get("schema"), int) or manifest["schema"] > known:
            raise BackupNewerSchema(f"{file.name} was written by a newer Nafitha (schema "
                                    f"{manifest.get('schema')}, this version knows {known}); "
                                    f"upgrade Nafitha first; nothing was changed")
        if manifest.get("keys") == "encrypted" and not passphrase and not without_keys:
            raise KeysNeeded(f"{file.name} holds this device's keys encrypted: give the backup "
                             f"passphrase ({PASSPHRASE_ENV} or --passphrase-file), or restore "
                             f"--without-keys and enrol the device again; nothing was changed")
        members = {m.name: m for m in tar.getmembers()}
        db_member = members.get(DB_NAME)
        if db_member is None or not db_member.isfile():
            raise BackupInvalid(f"{file.name} holds no database; nothing was changed")
        _extract(tar, db_member, stage, file)
        db = stage / DB_NAME
        if _sha256(db) != manifest.get("db_sha256"):
            raise BackupInvalid(f"the database in {file.name} does not match its manifest "
                                f"(damaged); nothing was changed")
        plain = [m for name, m in members.items() if name.startswith("files/")
                 and (m.isfile() or m.isdir())]
        for m in plain:
            m = m.replace(name=m.name[len("files/"):], deep=False)
            if not m.name or m.name.split("/")[0] in SECRET_DIRS or m.name in SKIPPED:
                continue
            _extract(tar, m, stage, file)
        keys = "absent"
        if manifest.get("keys") == "encrypted" and passphrase:
            blob = tar.extractfile(members["secrets.bin"]).read() if "secrets.bin" in members \
                else b""
            _open_secrets(blob, passphrase, manifest, stage)
            keys = "restored"
        elif manifest.get("keys") in ("encrypted", "excluded"):
            keys = ("not restored (nor captured documents): enrol again (nafitha enrol URL "
                    "CODE); documents already sent stay at central")
    conn = sqlite3.connect(str(db))
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if check != "ok":
        raise BackupInvalid(f"the database in {file.name} fails SQLite's integrity check "
                            f"({check}); nothing was changed")
    store = Store.open(db, clock, UlidFactory(clock), settings.device.id, settings.office.code)
    try:
        chain = audit.verify_chain(store)
        if not chain["ok"]:
            raise BackupInvalid(f"the audit log in {file.name} is broken: "
                                + "; ".join(chain["problems"][:3]) + "; nothing was changed")
        today = clock.now().astimezone(settings.tz).date().isoformat()
        caught = catch_up(store, manifest, tail, stage, today, settings.queue)
    finally:
        store.close()
    return {"restored": file.name, "taken_at": manifest["taken_at"],
            "audit_entries": chain["entries"], "keys": keys, **caught}


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, stage: Path, file: Path) -> None:
    """One member into the staging directory; a path that leaves it, a link or a damaged
    member is a bad backup (tarfile's "data" filter)."""
    try:
        tar.extract(member, stage, filter="data")
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupInvalid(f"{file.name} holds a member that cannot be restored "
                            f"({type(exc).__name__}); nothing was changed")


def _open_secrets(blob: bytes, passphrase: str, manifest: dict, stage: Path) -> None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    info = manifest.get("secrets") or {}
    try:
        key = _derive(passphrase, bytes.fromhex(info["salt"]))
        clear = AESGCM(key).decrypt(bytes.fromhex(info["nonce"]), blob, _secrets_aad(manifest))
    except InvalidTag:
        raise WrongPassphrase("the backup passphrase is wrong (the keys do not open with it); "
                              "nothing was changed")
    except (KeyError, ValueError):
        raise BackupInvalid("the backup's encrypted keys are damaged; nothing was changed")
    with tarfile.open(fileobj=io.BytesIO(clear), mode="r") as tar:
        tar.extractall(stage, filter="data")
    for d in SECRET_DIRS:
        if (stage / d).is_dir():
            os.chmod(stage / d, 0o700)
            for f in (stage / d).rglob("*"):
                os.chmod(f, 0o600 if f.is_file() else 0o700)


# --- carrying on after a restore ----------------------------------------------------------------
def catch_up(store: Store, manifest: dict, tail, data_dir: Path,
             today: str | None = None, queue=None) -> dict:
    """Adopt the events central holds from this device after the backup (their audit
    entries, their outbox rows as sent, their numbers as high-water marks), then sign the
    head with the device key when it is here. Without `tail`, numbered sequences jump
    ahead by NUMBER_MARGIN instead (flagged: "marks": "margin")."""
    from .credentials import keys as key_files
    from .credentials.trust import device_key_path
    after = outbox.status(store)["last_seq"]
    events = tail(after, data_dir) if tail is not None else None
    if events is None:
        ticket_margin = _ticket_margin(queue)
        with store.atomic():
            values = store.sequence_values()
            marks = {n: v + (ticket_margin if n.startswith("ticket:") else NUMBER_MARGIN)
                     for n, v in values.items() if _numbered(n)}
            marks.update(_today_margin(values, today, ticket_margin))
            moved = store.raise_sequences(marks)
        return {"marks": "margin", "margin": NUMBER_MARGIN, "ticket_margin": ticket_margin,
                "adopted": 0, "raised": moved}
    events = sorted(events, key=lambda e: e["seq"])
    now = store.now()
    with store.atomic():
        for event in events:
            if event.get("device") != store.device_id or event.get("office") != \
                    store.office_code:
                raise BackupInvalid("central returned another device's events; nothing was "
                                    "changed")
            audit.adopt(store, {"seq": event["audit_seq"], "at": event["at"],
                                "actor": event["actor"], "action": event["type"],
                                "entity_type": event["entity_type"],
                                "entity_id": event["entity_id"], "data": event["data"],
                                "prev_hash": event["audit_prev_hash"],
                                "hash": event["audit_hash"]})
            outbox.append(store, event)
        if events:
            outbox.mark_sent(store, [e["seq"] for e in events], now)
        moved = store.raise_sequences(marks_from_events(
            events, queue.number_start if queue is not None else 1))
    key_path = device_key_path(data_dir)
    signed = False
    if key_path.exists() and events:
        with contextlib.suppress(InvalidState):
            signed = audit.seal(store, key_files.read_private(key_path))["sealed"]
    return {"marks": "central", "adopted": len(events), "raised": moved,
            "head_signed": signed}


def _numbered(name: str) -> bool:
    """The counters whose numbers people hold on paper (not the outbox or print jobs)."""
    return name in ("receipt", "bill", "shift", "licence:device") or \
        name.startswith(("licence:", "application:", "ticket:"))


def _ticket_margin(queue) -> int:
    """Ticket numbers wrap within their daily range: jump half of it, not past it."""
    if queue is None:
        return 100
    return max(1, (queue.number_end - queue.number_start + 1) // 2)


def _today_margin(values: dict, today: str | None, margin: int) -> dict:
    """Today's ticket counters the backup has not seen yet (tickets taken after it, of a
    service it had none of today) start past the margin too: every prefix it knows."""
    if not today:
        return {}
    prefixes = {n.split(":", 2)[2] for n in values if n.startswith("ticket:")
                and n.count(":") == 2}
    return {f"ticket:{today}:{p}": margin for p in prefixes
            if f"ticket:{today}:{p}" not in values}


TICKET = re.compile(r"^(\D*)(\d+)$")
RECEIPT = re.compile(r"-R(\d+)$")
LICENCE = re.compile(r"-(\d{4})-[A-Z0-9]+-(\d+)$")
APPLICATION = re.compile(r"-A(\d{4})-(\d+)$")
BILL = re.compile(r"-B(\d+)-\d{2}$")


def marks_from_events(events: list[dict], number_start: int = 1) -> dict[str, int]:
    """The highest number each sequence reached in these events (the device's own, as
    central holds them): outbox seq, tickets per day and prefix (from the ticket's number
    and queue.number_start), receipts, licences, applications, bills, shifts."""
    marks: dict[str, int] = {}

    def lift(name, value):
        if isinstance(value, int) and value > marks.get(name, 0):
            marks[name] = value

    for e in events:
        lift("outbox", e["seq"])
        data, kind = e.get("data") or {}, e["type"]
        if not isinstance(data, dict):
            continue
        if kind.startswith("ticket.") and data.get("day") and isinstance(data.get("number"),
                                                                          str):
            m = TICKET.match(data["number"])
            if m:
                lift(f"ticket:{data['day']}:{m[1]}", int(m[2]) - number_start + 1)
        for value in _strings(data, "receipt_number"):
            m = RECEIPT.search(value)
            if m:
                lift("receipt", int(m[1]))
        if kind.startswith("licence.") and isinstance(data.get("number"), str):
            m = LICENCE.search(data["number"])
            if m:
                lift(f"licence:{m[1]}", int(m[2]))
            lift("licence:device", data.get("device_counter"))
        if kind.startswith("application.") and isinstance(data.get("number"), str):
            m = APPLICATION.search(data["number"])
            if m:
                lift(f"application:{m[1]}", int(m[2]))
        for value in _strings(data, "application_number"):
            m = APPLICATION.search(value)
            if m:
                lift(f"application:{m[1]}", int(m[2]))
        if kind.startswith("bill.") and isinstance(data.get("number"), str):
            m = BILL.search(data["number"])
            if m:
                lift("bill", int(m[1]))
        if kind.startswith("shift.") and isinstance(data.get("number"), int):
            lift("shift", data["number"])
    return marks


def _strings(value, key: str):
    """Every string under `key` anywhere in a nested event body."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _strings(v, key)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
