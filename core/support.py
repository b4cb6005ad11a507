"""One archive for a support call (`nafitha support-bundle`), and this device's free space.

The bundle (a tar.gz) holds what someone helping from afar needs and nothing about a
resident (docs/operations/support.md):

    manifest.json   what is in it (each member's size and SHA-256), when, which device, and
                    any part that could not be gathered, with why
    versions.json   Nafitha, Python, SQLite, the key libraries, the OS
    settings.json   every setting, secrets removed by key name AND by the value's shape
    store.json      the store's size, `PRAGMA integrity_check`, schema version, the audit
                    chain's verification, each table's row count (counts only)
    state.json      outbox and sync state, print jobs by state, free disk space, whether the
                    store last refused an operation for a full disk, the health report
    logs/...        our units' journal (journalctl -u 'nafitha*') if there is one, else the
                    apps' log files under the data directory; every line scrubbed

No member carries an application's field values, names, national IDs, phone numbers, a
licence's contents or a document's pages: none is read into the bundle, and every text is
passed through `scrub` (digit runs, Arabic words, e-mail addresses, tokens) and through the
exact values of the recent applications' fields before it is written. The archive is
written to a temporary file beside FILE and renamed into place: a full disk leaves no
partial file (DiskFull)."""
from __future__ import annotations

import dataclasses
import errno
import hashlib
import io
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from .errors import DiskFull, NafithaError, StoreError, ValidationError

BUNDLE_FORMAT = 1
LOG_LINES = 2000  # of the journal, and of each log file
LOG_FILES = 5  # the newest log files under the data directory
RECENT_APPLICATIONS = 2000  # whose field values are searched for and removed from every text
LIBRARIES = ("kivy", "fastapi", "uvicorn", "requests", "cryptography", "sqlite-utils",
             "pydantic", "click", "psycopg", "opencv-python-headless", "pyzbar",
             "zxing-cpp", "pyserial", "pillow")
JOURNAL_UNITS = "nafitha*"
# A setting whose key says it is a secret is removed whatever its value.
SECRET_KEY = re.compile(r"(pin|hash|token|secret|password|passphrase|passwd|key|credential|"
                        r"private|cookie|auth|salt|otp|totp)", re.IGNORECASE)
REDACTED = "[removed]"
# Values shaped like a secret, wherever they are: PEM blocks, scrypt/argon/bcrypt hashes,
# long hex or base64 runs, bearer tokens, credentials in a URL.
PEM = re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.DOTALL)
HASHED = re.compile(r"\$?(?:scrypt|argon2\w*|pbkdf2[\w-]*|2[aby])\$[^\s\"']+")
LONG_HEX = re.compile(r"\b[0-9a-fA-F]{32,}\b")
LONG_B64 = re.compile(r"(?<![\w/+=-])[A-Za-z0-9_+/=-]{40,}(?![\w/+=-])")
BEARER = re.compile(r"(?i)\b(bearer|token)[ =:]+[^\s\"',;]+")
URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@:]+(?::[^/\s@]*)?@")
# Shapes of personal data in free text (a log line, a printer's or central's error):
# national IDs, phone numbers and other long digit runs, e-mail addresses, Arabic words
# (the apps log in English: Arabic in a line is a resident's words).
DIGITS = re.compile(r"(?<![\d-])\+?\d[\d ]{5,}\d(?![\d-])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]+"
                    r"(?:[\s\u0640]+[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]+)*")


# --- free space -------------------------------------------------------------------------------
def free_mb(path: str | Path) -> float:
    """Free megabytes for an unprivileged writer on the file system that holds `path` (its
    nearest existing parent)."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize / 1_000_000


# --- scrubbing ----------------------------------------------------------------------------
def scrub(text: str, known: tuple[str, ...] = ()) -> str:
    """`text` with secrets and the shapes of personal data replaced, and every `known`
    value (a resident's name, ID, phone, address...) removed."""
    for value in known:
        text = text.replace(value, REDACTED)
    text = PEM.sub(REDACTED, text)
    text = URL_CREDENTIALS.sub(r"\1[removed]@", text)
    text = HASHED.sub(REDACTED, text)
    text = BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = LONG_HEX.sub(REDACTED, text)
    text = LONG_B64.sub(REDACTED, text)
    text = EMAIL.sub("[e-mail]", text)
    text = DIGITS.sub("[digits]", text)
    return ARABIC.sub("[arabic]", text)


def redact_settings(value, key: str = ""):
    """Settings as plain JSON with secrets removed: by the key's name, then by the value's
    shape (a URL keeps its host, loses its credentials)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): redact_settings(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_settings(v, key) for v in value]
    if key and SECRET_KEY.search(key) and isinstance(value, (str, bytes, Path)) and value:
        return REDACTED  # a number (token_days) is not a secret; any text under such a key is
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        text = URL_CREDENTIALS.sub(r"\1[removed]@", value)
        for shape in (PEM, HASHED, LONG_HEX, LONG_B64):
            text = shape.sub(REDACTED, text)
        return BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


# --- gathering ------------------------------------------------------------------------------
def versions() -> dict:
    libs = {}
    for name in LIBRARIES:
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:
        nafitha = metadata.version("nafitha")
    except metadata.PackageNotFoundError:
        nafitha = None
    return {"nafitha": nafitha, "python": sys.version.split()[0],
            "python_implementation": platform.python_implementation(),
            "sqlite": sqlite3.sqlite_version, "libraries": libs,
            "os": _os_release(), "kernel": platform.release(), "machine": platform.machine()}


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def integrity(db_path: Path) -> dict:
    """`PRAGMA integrity_check` on a read-only connection (nothing is written)."""
    if not db_path.exists():
        return {"exists": False}
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
        schema = conn.execute("PRAGMA user_version").fetchone()[0]
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        # Counts only, for every table alike (never a row): how big each part has grown.
        counts = {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()
    wal = db_path.with_name(db_path.name + "-wal")
    return {"exists": True, "integrity_check": rows, "ok": rows == ["ok"],
            "schema_version": schema, "size_bytes": db_path.stat().st_size,
            "wal_bytes": wal.stat().st_size if wal.exists() else 0, "row_counts": counts}


def journal(lines: int = LOG_LINES) -> str | None:
    """Our units' recent journal, or None when there is none to read here."""
    if shutil.which("journalctl") is None:
        return None
    try:
        done = subprocess.run(["journalctl", "-u", JOURNAL_UNITS, "-n", str(lines),
                               "--no-pager", "-o", "short-iso"], capture_output=True, check=False,
                              text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    if done.returncode != 0 or not text or text.startswith("-- No entries --"):
        return None
    return text + "\n"


def log_files(data_dir: Path, lines: int = LOG_LINES) -> dict[str, str]:
    """The newest log files the apps write under the data directory (Kivy's, in
    <data>/kivy/logs; any *.log), each cut to its last `lines` lines."""
    found = [p for p in list(data_dir.glob("kivy/logs/*.txt")) + list(data_dir.rglob("*.log"))
             if p.is_file()]
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    out = {}
    for path in found[:LOG_FILES]:
        with open(path, encoding="utf-8", errors="replace") as fh:
            tail = fh.readlines()[-lines:]
        out[str(path.relative_to(data_dir))] = "".join(tail)
    return out


def known_personal_values(office) -> tuple[str, ...]:
    """The field values of the recent applications, longest first (so a full name goes
    before a part of it): removed wherever they appear in the bundle."""
    values = set()
    for app in office.applications.find(limit=RECENT_APPLICATIONS):
        for value in (app.get("fields") or {}).values():
            if isinstance(value, str) and len(value.strip()) >= 3:
                values.add(value.strip())
    return tuple(sorted(values, key=len, reverse=True))


def device_state(office, settings) -> dict:
    state = {"outbox": office.outbox_status(), "sync": office.sync_status(),
             "store_refused_for_full_disk": bool(getattr(office.store, "disk_full", False))}
    jobs = office.printing.jobs()
    by_state: dict[str, int] = {}
    for job in jobs:
        by_state[job["state"]] = by_state.get(job["state"], 0) + 1
    last_error = next((j.get("error") for j in sorted(
        jobs, key=lambda j: j.get("updated_at") or j.get("created_at") or "", reverse=True)
        if j.get("error")), None)
    state["print_jobs"] = {"by_state": by_state, "last_error": last_error}
    return state


# --- the bundle ---------------------------------------------------------------------------
@dataclasses.dataclass
class Bundle:
    path: Path
    members: list[dict]
    problems: list[str]

    def to_dict(self) -> dict:
        return {"path": str(self.path), "members": self.members, "problems": self.problems}


def write_bundle(settings, output: str | Path, open_office: Callable[[], object] | None = None,
                 health: Callable[[object], dict] | None = None,
                 read_journal: Callable[[], str | None] = journal,
                 now: datetime | None = None) -> Bundle:
    """Gather and write the archive to `output` (temp file beside it, then rename).

    open_office() opens the office (None, or one that raises: the parts that need it are
    listed as problems, the rest is still written). health(office) -> D1's health report.
    Refused: an output that is a directory or whose directory is missing (ValidationError);
    a full disk (DiskFull), leaving no file behind."""
    output = Path(output)
    if output.is_dir():
        raise ValidationError(f"{output} is a directory: give the archive's file name",
                              field="output", reason="is_directory")
    if not output.parent.is_dir():
        raise ValidationError(f"{output.parent} does not exist: make the directory first",
                              field="output", reason="no_directory")
    now = now or datetime.now(UTC)
    problems: list[str] = []
    members: dict[str, bytes] = {}
    office, known = None, ()
    if open_office is not None:
        try:
            office = open_office()
        except NafithaError as exc:
            problems.append(f"office: {exc.message}")
    try:
        if office is not None:
            try:
                known = known_personal_values(office)
            except NafithaError as exc:
                problems.append(f"applications: {exc.message}")

        def add_json(name: str, value) -> None:
            value = scrub_value(json.loads(json.dumps(value, default=str)), known)
            members[name] = json.dumps(value, ensure_ascii=False, indent=2,
                                       sort_keys=True).encode("utf-8")

        def add_text(name: str, text: str) -> None:
            members[name] = scrub(text, known).encode("utf-8")

        add_json("versions.json", versions())
        add_json("settings.json", {"source": settings.source,
                                   "settings": redact_settings(settings)})
        db_path = Path(settings.db_path)
        store: dict = {"path": str(db_path)}
        try:
            store.update(integrity(db_path))
        except sqlite3.DatabaseError as exc:
            store.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        if office is not None:
            try:
                store["audit"] = office.verify_audit()
            except NafithaError as exc:
                store["audit"] = {"ok": False, "error": exc.message}
        add_json("store.json", store)
        state: dict = {"disk": {"data_dir": str(settings.data_dir),
                                "free_mb": round(free_mb(settings.data_dir), 1),
                                "low_mb": settings.health.disk_low_mb,
                                "refuse_mb": settings.health.disk_refuse_mb}}
        if office is not None:
            try:
                state.update(device_state(office, settings))
            except NafithaError as exc:
                problems.append(f"device state: {exc.message}")
            if health is not None:
                try:
                    state["health"] = health(office)
                except Exception as exc:  # noqa: BLE001 - the bundle is for when things fail
                    problems.append(f"health report: {type(exc).__name__}: {exc}")
        add_json("state.json", state)
        logs = read_journal()
        if logs is not None:
            add_text("logs/journal.txt", logs)
        else:
            files = log_files(Path(settings.data_dir))
            for name, text in files.items():
                add_text(f"logs/{name}", text)
            if not files:
                problems.append("logs: no journal for nafitha* units and no log files under "
                                "the data directory")
    finally:
        if office is not None:
            office.close()
    listed = [{"name": n, "bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}
              for n, b in members.items()]
    manifest = {"format": BUNDLE_FORMAT, "created_at": now.isoformat(timespec="seconds"),
                "office": settings.office.code, "device": settings.device.id,
                "members": listed, "problems": [scrub(p, known) for p in problems]}
    members = {"manifest.json": json.dumps(manifest, ensure_ascii=False, indent=2)
               .encode("utf-8"), **members}
    _write_atomically(output, members, now)
    return Bundle(output, listed, manifest["problems"])


def scrub_value(value, known: tuple[str, ...] = ()):
    """A JSON-able value with every string in it scrubbed (numbers stay numbers)."""
    if isinstance(value, dict):
        return {k: scrub_value(v, known) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_value(v, known) for v in value]
    if isinstance(value, str):
        return scrub(value, known)
    return value


def _write_atomically(output: Path, members: dict[str, bytes], now: datetime) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                for name, data in members.items():
                    info = tarfile.TarInfo(name)
                    info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
                    tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, output)
    except OSError as exc:
        with _quietly():
            os.unlink(tmp)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"the disk is full: the support bundle could not be written to "
                           f"{output.parent} (free some space or write it to a USB stick); "
                           f"nothing was written", path=str(output)) from exc
        raise StoreError(f"the support bundle could not be written to {output}: "
                         f"{exc.strerror or exc}; nothing was written", path=str(output)) \
            from exc
    except BaseException:
        with _quietly():
            os.unlink(tmp)
        raise


class _quietly:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], OSError)


def members_of(path: str | Path) -> dict[str, bytes]:
    """Every member of a bundle, decompressed (tests and support staff read it so)."""
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}

