"""Helpers for the release tests (core/releases.py): hand-made wheels (no `wheel` package
needed, and fast), a test root key with a certified release key, signed bundles."""
from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from core import releases
from core.credentials import keys


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
        b"=").decode("ascii")


def make_wheel(out_dir: Path, name: str, version: str, files: dict[str, bytes],
               scripts: dict[str, str] | None = None) -> Path:
    """A pure-Python wheel holding FILES (path in site-packages -> bytes)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dist = f"{name}-{version}.dist-info"
    meta = {f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            .encode(),
            f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: release_kit\n"
                             b"Root-Is-Purelib: true\nTag: py3-none-any\n"}
    if scripts:
        meta[f"{dist}/entry_points.txt"] = ("[console_scripts]\n" + "".join(
            f"{k} = {v}\n" for k, v in scripts.items())).encode()
    everything = {**files, **meta}
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in everything.items())
    record += f"{dist}/RECORD,,\n"
    path = out_dir / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for p, d in everything.items():
            zf.writestr(p, d)
        zf.writestr(f"{dist}/RECORD", record)
    return path


def project_files(root: Path, packages: list[str]) -> dict[str, bytes]:
    out = {}
    for package in packages:
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and \
                    path.suffix in (".py", ".kv", ".html", ".js", ".css", ".mako", ".toml"):
                out[str(path.relative_to(root))] = path.read_bytes()
    return out


class Signer:
    """A test root (trusted by the device) and a release key it certified; root: the
    municipality's own (central's), which an enrolled device already trusts."""

    def __init__(self, now: int, root=None):
        self.root = root or keys.generate()
        self.root_public = keys.public_bytes(self.root)
        self.release = keys.generate()
        self.cert = releases.certify_release_key(self.root, keys.public_bytes(self.release),
                                                 now + 86400 * 30)

    @property
    def roots(self) -> dict[bytes, bytes]:
        return {keys.key_id(self.root_public): self.root_public}

    def trust(self, data_dir: Path) -> None:
        keys.write_public(self.root_public, Path(data_dir) / "trust" / "roots" /
                          f"{keys.key_id(self.root_public).hex()}.pub")

    def bundle(self, wheels, out: Path, **kw) -> Path:
        releases.build_bundle(wheels, self.release, self.cert, out, **kw)
        return out
