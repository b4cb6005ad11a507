"""Central names the release each office should run (docs/operations/updates.md).

The wanted version travels in the root-signed reference bundle as kind "release", key the
office code (or "*" for every office without its own), body {"version": ...}; each device's
`nafitha appliance update` reads it (core/releases.py wanted_version). The release bundles
themselves are signed by a release key the root certified, so central need not be trusted
with them: a device verifies every bundle however it came."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from core.errors import NotFound, ValidationError

VERSION_RE = re.compile(r"^[0-9]+(\.[0-9]+){0,3}([a-z]+[0-9]*)?$")


def set_wanted(central, office: str, version: str) -> dict:
    """Publish the wanted version for OFFICE ("*": every office); the next reference
    bundle carries it."""
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise ValidationError(f"not a release version: {version!r}", field="version")
    if office != "*" and office not in {o["office"] for o in central.offices()}:
        raise NotFound(f"no office {office} at central")
    with central.engine.begin() as conn:
        central._add_change(conn, "release", office, None if office == "*" else office,
                            {"version": version})
    return {"office": office, "version": version}


RELEASES_PATH = "/v1/releases/"
NAME_RE = re.compile(r"^nafitha-[0-9][0-9a-z.]*-[a-z0-9_]+\.nafrel$")


def releases_dir(central) -> Path:
    return Path(central.home) / "releases"


def store_bundle(central, path: Path) -> dict:
    """Keep a release bundle for devices to download (by its file name, as `nafitha
    release build` named it). Devices verify it; central only checks it is a zip."""
    path = Path(path)
    if not NAME_RE.match(path.name):
        raise ValidationError(f"{path.name}: not a release bundle name "
                              "(nafitha-<version>-<machine>.nafrel)", field="bundle")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ValidationError(f"{path}: {exc.strerror}", field="bundle")
    if magic != b"PK\x03\x04":
        raise ValidationError(f"{path.name} is not a release bundle (not a zip)",
                              field="bundle")
    target = releases_dir(central) / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(path, tmp)
    tmp.replace(target)
    return {"bundle": path.name, "bytes": target.stat().st_size}


def add_release_routes(app, central) -> None:
    """GET /v1/releases/<name>: an enrolled device (its token) downloads a bundle."""
    from fastapi import Header
    from fastapi.responses import FileResponse

    from .service import CentralError

    @app.get(RELEASES_PATH + "{name}", include_in_schema=False)
    def release_bundle(name: str, authorization: str | None = Header(default=None)):
        central.authenticate(authorization)
        path = releases_dir(central) / name
        if not NAME_RE.match(name) or not path.is_file():
            raise CentralError(404, "no_such_release", f"no release bundle {name}")
        return FileResponse(path, media_type="application/zip")
