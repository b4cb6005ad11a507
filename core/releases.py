"""Signed release bundles and side-by-side updates with rollback (docs/operations/updates.md).

A bundle is one zip file (`nafitha-<version>-<machine>.nafrel`):

    manifest.json     {"format": 1, "version", "python" (py3 | cpXY), "machine" (any |
                       x86_64 | aarch64 ...), "files": {"wheels/<name>.whl": sha256 hex},
                       "created_at"}
    manifest.sig      the release key's Ed25519 signature over manifest.json's bytes
    release-key.cert  the release key's certificate: JSON {"payload": base64 of canonical
                       JSON {"kind": "nafitha_release_key", "public_key", "not_after"},
                       "kid": the root's key id, "signature": the root's, base64}
    wheels/*.whl      nafitha's own wheel and any dependency that changed

Everything is checked before anything is written: the certificate against the roots this
device trusts (trust/roots, the same roots as for licences), the manifest's signature, every
file's hash, no file that the manifest does not list, the machine and Python tags.

Installed versions live side by side under <update.root>:

    versions/<version>/   a virtual environment: the bundle's wheels, installed with
                          `pip install --no-index --no-deps`; every other dependency comes
                          from the running environment (a .pth line to its site-packages)
    current               a symlink to versions/<version>, swapped atomically
    state.json            {"current", "previous", "failed": [...]}
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import re
import site
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .canonical import canonical_json
from .credentials import keys
from .errors import InvalidState, NafithaError, ValidationError

FORMAT = 1
CERT_KIND = "nafitha_release_key"
VERSION_RE = re.compile(r"^[0-9]+(\.[0-9]+){0,3}([a-z]+[0-9]*)?$")
WHEEL_RE = re.compile(r"^wheels/[A-Za-z0-9_.+-]+\.whl$")
ENTRIES = ("manifest.json", "manifest.sig", "release-key.cert")
MAX_BUNDLE = 512 * 1024 * 1024


class ReleaseRefused(ValidationError):
    """The bundle cannot be installed; nothing was changed. details: reason."""
    code = "release_refused"

    def __init__(self, message: str, reason: str, **details):
        super().__init__(message, field="bundle", reason=reason, **details)
        self.reason = reason


class ReleaseBadSignature(ReleaseRefused):
    code = "release_bad_signature"


class ReleaseUntrusted(ReleaseRefused):
    code = "release_untrusted_key"


class ReleaseWrongPlatform(ReleaseRefused):
    code = "release_wrong_platform"


class UpdateRolledBack(NafithaError):
    """The new version failed its health check; `current` points at the old one again."""
    code = "update_rolled_back"


# ---- the release key and its certificate (offline, with the root key) ----

def certify_release_key(root_key, release_public: bytes, not_after: int) -> bytes:
    payload = canonical_json({"kind": CERT_KIND, "public_key": release_public.hex(),
                              "not_after": int(not_after)}).encode("utf-8")
    root_public = keys.public_bytes(root_key)
    return json.dumps({"payload": base64.b64encode(payload).decode("ascii"),
                       "kid": keys.key_id(root_public).hex(),
                       "signature": base64.b64encode(root_key.sign(payload)).decode("ascii")},
                      sort_keys=True).encode("utf-8")


def check_release_cert(cert_bytes: bytes, roots: dict[bytes, bytes], now: int) -> bytes:
    """The release key's public bytes, if a trusted root certified it and it has not
    expired."""
    try:
        envelope = json.loads(cert_bytes)
        payload = base64.b64decode(envelope["payload"], validate=True)
        signature = base64.b64decode(envelope["signature"], validate=True)
        kid = bytes.fromhex(envelope["kid"])
        claims = json.loads(payload)
        public = bytes.fromhex(claims["public_key"])
        assert claims["kind"] == CERT_KIND and len(public) == 32
        not_after = int(claims["not_after"])
    except (ValueError, KeyError, TypeError, AssertionError):
        raise ReleaseRefused("the release key certificate is malformed; nothing installed",
                             "malformed")
    root = roots.get(kid)
    if root is None or not keys.signature_ok(root, signature, payload):
        raise ReleaseUntrusted("the release key is not certified by a root this device "
                               "trusts; nothing installed", "untrusted_key")
    if now > not_after:
        raise ReleaseUntrusted("the release key's certificate has expired; nothing installed",
                               "expired_key")
    return public


def make_release_key(root_key, out_dir: Path, days: int, now: int) -> dict:
    """Create a release key (release.key, 0600) and its certificate (release.cert)."""
    out_dir = Path(out_dir)
    key = keys.generate()
    keys.write_private(key, out_dir / "release.key")
    cert = certify_release_key(root_key, keys.public_bytes(key), now + days * 86400)
    (out_dir / "release.cert").write_bytes(cert)
    return {"release_key": str(out_dir / "release.key"),
            "release_cert": str(out_dir / "release.cert"), "not_after": now + days * 86400}


# ---- building and checking bundles ----

def this_python() -> str:
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def this_machine() -> str:
    return platform.machine() or "unknown"


def wheel_version(wheel: Path, project: str = "nafitha") -> str | None:
    parts = Path(wheel).name.split("-")
    if len(parts) >= 5 and parts[0].lower().replace("-", "_") == project:
        return parts[1]
    return None


def build_bundle(wheels: list[Path], release_key, cert_bytes: bytes, out: Path,
                 version: str | None = None, machine: str = "any", python: str = "py3",
                 now: int | None = None) -> dict:
    wheels = [Path(w) for w in wheels]
    if not wheels:
        raise ValidationError("name at least one wheel", field="wheels")
    version = version or next((v for v in map(wheel_version, wheels) if v), None)
    if not version or not VERSION_RE.match(version):
        raise ValidationError(f"not a release version: {version!r} (give --version)",
                              field="version")
    files = {}
    for wheel in wheels:
        name = f"wheels/{wheel.name}"
        if not WHEEL_RE.match(name):
            raise ValidationError(f"{wheel.name}: not a wheel file name", field="wheels")
        files[name] = hashlib.sha256(wheel.read_bytes()).hexdigest()
    manifest = canonical_json({"format": FORMAT, "version": version, "python": python,
                               "machine": machine, "files": files,
                               "created_at": int(now if now is not None else time.time())}
                              ).encode("utf-8")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("manifest.json", manifest)
        zf.writestr("manifest.sig", release_key.sign(manifest))
        zf.writestr("release-key.cert", cert_bytes)
        for wheel in wheels:
            zf.write(wheel, f"wheels/{wheel.name}")
    tmp.replace(out)
    return {"bundle": str(out), "version": version, "machine": machine, "python": python,
            "files": files}


@dataclass
class Bundle:
    path: Path
    manifest: dict
    data: dict[str, bytes]  # wheels/<name> -> bytes, hashes checked

    @property
    def version(self) -> str:
        return self.manifest["version"]


def _python_ok(tag: str) -> bool:
    return tag in ("py3", f"py{sys.version_info.major}{sys.version_info.minor}", this_python())


def open_bundle(path: Path, roots: dict[bytes, bytes], now: int | None = None,
                machine: str | None = None) -> Bundle:
    """Read and verify a bundle whole (in memory); raise a ReleaseRefused on any doubt."""
    path = Path(path)
    now = int(now if now is not None else time.time())
    machine = machine or this_machine()
    try:
        if path.stat().st_size > MAX_BUNDLE:
            raise ReleaseRefused(f"{path.name} is larger than a release may be", "too_large")
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if len(set(names)) != len(names):
                raise ReleaseRefused("the bundle names a file twice", "malformed")
            missing = [n for n in ENTRIES if n not in names]
            if missing:
                raise ReleaseRefused(f"not a release bundle (no {', '.join(missing)})",
                                     "malformed")
            entries = {n: zf.read(n) for n in names}
    except FileNotFoundError:
        raise ReleaseRefused(f"{path}: no such file", "missing")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ReleaseRefused(f"{path.name} is not a readable release bundle ({exc}); "
                             "nothing installed", "malformed")
    public = check_release_cert(entries["release-key.cert"], roots, now)
    manifest_bytes = entries["manifest.json"]
    if not keys.signature_ok(public, entries["manifest.sig"], manifest_bytes):
        raise ReleaseBadSignature("the bundle's signature does not verify with its release "
                                  "key; nothing installed", "bad_signature")
    try:
        manifest = json.loads(manifest_bytes)
        assert manifest["format"] == FORMAT and VERSION_RE.match(manifest["version"])
        assert isinstance(manifest["machine"], str) and isinstance(manifest["python"], str)
        files = manifest["files"]
        assert isinstance(files, dict) and files
        assert all(WHEEL_RE.match(n) and isinstance(h, str) for n, h in files.items())
    except (ValueError, KeyError, TypeError, AssertionError):
        raise ReleaseRefused("the bundle's manifest is malformed; nothing installed",
                             "malformed")
    if manifest["machine"] not in ("any", machine):
        raise ReleaseWrongPlatform(
            f"the bundle is for {manifest['machine']}, this box is {machine}; nothing "
            "installed", "wrong_architecture", bundle_machine=manifest["machine"],
            machine=machine)
    if not _python_ok(manifest["python"]):
        raise ReleaseWrongPlatform(
            f"the bundle is for Python {manifest['python']}, this box runs {this_python()}; "
            "nothing installed", "wrong_python")
    extra = set(entries) - set(ENTRIES) - set(files)
    if extra:
        raise ReleaseRefused(f"the bundle holds files its manifest does not list: "
                             f"{', '.join(sorted(extra))}; nothing installed", "unlisted_file")
    for name, digest in files.items():
        if name not in entries:
            raise ReleaseRefused(f"the bundle lacks {name}; nothing installed", "missing_file")
        if hashlib.sha256(entries[name]).hexdigest() != digest:
            raise ReleaseRefused(f"{name} does not match its hash in the manifest; nothing "
                                 "installed", "hash_mismatch", file=name)
    return Bundle(path, manifest, {n: entries[n] for n in files})


# ---- installing side by side, switching, health check, rollback ----

class Releases:
    """The versions installed under one root (settings [update] root)."""

    def __init__(self, root: Path, python: str = sys.executable,
                 run: Callable = subprocess.run):
        self.root = Path(root)
        self.python = python
        self.run = run

    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    @property
    def current_link(self) -> Path:
        return self.root / "current"

    def state(self) -> dict:
        try:
            state = json.loads((self.root / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        current = self.current()
        return {"current": current, "previous": state.get("previous"),
                "failed": state.get("failed", []), "installed": self.installed()}

    def _write_state(self, **changes) -> None:
        state = self.state()
        state.update(changes)
        state.pop("installed", None)
        path = self.root / "state.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)

    def current(self) -> str | None:
        try:
            return Path(os.readlink(self.current_link)).name
        except OSError:
            return None

    def installed(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir()
                      if (p / ".installed").exists())

    def executable(self, version: str) -> Path:
        return self.versions_dir / version / "bin" / "nafitha"

    def install(self, bundle: Bundle) -> Path:
        """The version's virtual environment, made beside the others (reused when it is
        already complete)."""
        target = self.versions_dir / bundle.version
        if (target / ".installed").exists():
            return target
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        # Made in place (a venv's scripts name its own path), complete once .installed
        # is written: a half-made one left by a crash is made again.
        work = target
        if work.exists():
            _rmtree(work)
        try:
            self._check(self.run([self.python, "-m", "venv", "--without-pip", str(work)],
                                 capture_output=True, text=True), "make its environment")
            purelib = Path(sysconfig.get_path("purelib", vars={"base": str(work),
                                                               "platbase": str(work)}))
            purelib.mkdir(parents=True, exist_ok=True)
            # Every dependency the bundle does not carry comes from the running environment
            # (a .pth line is a path, not a site dir: its own .pth files, such as an
            # editable install's, are not run).
            (purelib / "_nafitha_base.pth").write_text(
                "\n".join(self.base_paths()) + "\n", encoding="utf-8")
            wheel_dir = work / "wheels"
            wheel_dir.mkdir()
            paths = []
            for name, data in bundle.data.items():
                p = wheel_dir / Path(name).name
                p.write_bytes(data)
                paths.append(str(p))
            self._check(self.run([self.python, "-m", "pip", "--python",
                                  str(work / "bin" / "python"), "--disable-pip-version-check",
                                  "install", "--quiet", "--no-index", "--no-deps",
                                  "--no-compile", *paths], capture_output=True, text=True),
                        "install its wheels")
            (work / "manifest.json").write_text(canonical_json(bundle.manifest),
                                                encoding="utf-8")
            (work / ".installed").write_text(bundle.version, encoding="utf-8")
        except BaseException:
            _rmtree(work)
            raise
        return target

    def base_paths(self) -> list[str]:
        """The base environment's site-packages: the running one's, or, when a version
        installed here is running, the base it was given (never another version's, so a
        chain of updates keeps one base)."""
        versions = str(self.versions_dir.resolve())
        found = [p for p in [*site.getsitepackages(), *sys.path]
                 if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()
                 and not str(Path(p).resolve()).startswith(versions + os.sep)]
        return list(dict.fromkeys(found))

    @staticmethod
    def _check(done, what: str) -> None:
        if done.returncode != 0:
            tail = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or [""]
            raise InvalidState(f"could not {what}: {tail[0]}")

    def switch(self, version: str) -> None:
        """Point `current` at versions/<version> in one rename."""
        tmp = self.root / "current.new"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(Path("versions") / version, tmp)
        os.replace(tmp, self.current_link)

    def unlink_current(self) -> None:
        if self.current_link.is_symlink():
            self.current_link.unlink()

    def update(self, bundle: Bundle, health: Callable[[str], tuple[bool, str]],
               restart: Callable[[], None] = lambda: None) -> dict:
        """Install, switch, check; roll back by itself if the check fails."""
        old = self.current()
        if old == bundle.version:
            return {"outcome": "already_current", "current": old, "previous": None}
        self.install(bundle)
        self.switch(bundle.version)
        ok, detail = False, ""
        try:
            restart()
            ok, detail = health(bundle.version)
        except NafithaError as exc:
            detail = exc.message
        if ok:
            failed = [v for v in self.state()["failed"] if v != bundle.version]
            self._write_state(current=bundle.version, previous=old, failed=failed)
            return {"outcome": "updated", "current": bundle.version, "previous": old,
                    "health": detail}
        if old is not None:
            self.switch(old)
        else:
            self.unlink_current()
        failed = sorted(set(self.state()["failed"]) | {bundle.version})
        self._write_state(failed=failed)
        rollback_note = ""
        try:
            restart()
        except NafithaError as exc:
            rollback_note = f"; restarting the old version: {exc.message}"
        raise UpdateRolledBack(
            f"version {bundle.version} failed its health check ({detail}); rolled back to "
            f"{old or 'nothing installed'}{rollback_note}", version=bundle.version,
            current=old, health=detail)

    def health_check(self, version: str, data_dir: Path, timeout_s: float,
                     env: dict | None = None) -> tuple[bool, str]:
        """The version's `nafitha` starts, reports its own version, opens the store
        read-only (migrations pending are fine) and exits 0 within timeout_s."""
        exe = self.executable(version)
        try:
            done = self.run([str(exe), "--data", str(data_dir), "appliance", "self-check",
                             "--json"], capture_output=True, text=True, timeout=timeout_s,
                            env=env)
        except subprocess.TimeoutExpired:
            return False, f"no answer within {timeout_s:g} s"
        except OSError as exc:
            return False, f"cannot start: {exc.strerror}"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or [""]
            return False, f"exit status {done.returncode}: {tail[0][:200]}"
        try:
            report = json.loads(done.stdout)
        except ValueError:
            return False, "its self-check printed no report"
        if report.get("version") != version:
            return False, f"it runs version {report.get('version')}, not {version}"
        return True, f"version {version} started; store {report.get('store')}"


def self_check(data_dir: Path) -> dict:
    """What `nafitha appliance self-check` reports: this code's version, and the store
    opened read-only (a missing store is fine: a fresh box)."""
    import sqlite3
    from importlib.metadata import PackageNotFoundError, version
    try:
        mine = version("nafitha")
    except PackageNotFoundError:
        mine = "unknown"
    db = Path(data_dir) / "nafitha.db"
    if not db.exists():
        return {"version": mine, "store": "none yet"}
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            schema = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise InvalidState(f"the store cannot be opened read-only: {exc}")
    if result != "ok":
        raise InvalidState(f"the store fails its check: {result}")
    return {"version": mine, "store": "ok", "user_version": schema}


def wanted_version(reference_rows: list[dict], office: str) -> str | None:
    """The version central wants at this office (reference kind "release": key the office
    code, or "*" for every office; the office's own row wins)."""
    by_key = {r["key"]: r["body"].get("version") for r in reference_rows}
    return by_key.get(office) or by_key.get("*")


def find_bundle(directory: Path, version: str, machine: str | None = None) -> Path:
    machine = machine or this_machine()
    for name in (f"nafitha-{version}-{machine}.nafrel", f"nafitha-{version}-any.nafrel"):
        if (Path(directory) / name).is_file():
            return Path(directory) / name
    raise ValidationError(f"no bundle for version {version} in {directory} (looked for "
                          f"nafitha-{version}-{machine}.nafrel or nafitha-{version}-any.nafrel)",
                          field="from")


def _rmtree(path: Path) -> None:
    import shutil
    shutil.rmtree(path, ignore_errors=True)


__all__ = ["Bundle", "ReleaseBadSignature", "ReleaseRefused", "ReleaseUntrusted",
           "ReleaseWrongPlatform", "Releases", "UpdateRolledBack", "build_bundle",
           "certify_release_key", "check_release_cert", "find_bundle", "make_release_key",
           "open_bundle", "self_check", "wanted_version"]
