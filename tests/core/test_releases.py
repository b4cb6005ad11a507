"""core/releases.py: the bundle is verified whole before anything is written, and an update
switches `current` atomically and rolls back by itself when the health check fails."""
from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import pytest
from release_kit import Signer, make_wheel

from core import releases
from core.credentials import keys
from core.errors import InvalidState

NOW = int(time.time())


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    base = tmp_path_factory.mktemp("rel")
    signer = Signer(NOW)
    wheels = {v: make_wheel(base / "w", "nafitha", v, {"nafitha_probe.py":
                                                       f"V = {v!r}\n".encode()})
              for v in ("1.0.0", "1.1.0", "1.2.0")}
    bundles = {v: signer.bundle([w], base / f"nafitha-{v}-any.nafrel")
               for v, w in wheels.items()}
    return {"base": base, "signer": signer, "wheels": wheels, "bundles": bundles}


def test_a_good_bundle_opens_with_its_manifest(kit):
    b = releases.open_bundle(kit["bundles"]["1.0.0"], kit["signer"].roots)
    assert b.version == "1.0.0" and b.manifest["machine"] == "any"
    assert list(b.data) == ["wheels/nafitha-1.0.0-py3-none-any.whl"]


def test_an_expired_release_key_is_refused(kit):
    signer = kit["signer"]
    cert = releases.certify_release_key(signer.root, keys.public_bytes(signer.release), NOW - 1)
    out = kit["base"] / "expired.nafrel"
    releases.build_bundle([kit["wheels"]["1.0.0"]], signer.release, cert, out)
    with pytest.raises(releases.ReleaseUntrusted, match="expired") as exc:
        releases.open_bundle(out, signer.roots)
    assert exc.value.reason == "expired_key"


def _rewrite(src: Path, out: Path, edit) -> Path:
    with zipfile.ZipFile(src) as zin:
        entries = {n: zin.read(n) for n in zin.namelist()}
    with zipfile.ZipFile(out, "w") as zout:
        for n, d in edit(entries).items():
            zout.writestr(n, d)
    return out


@pytest.mark.parametrize("edit, reason", [
    (lambda e: {**e, "wheels/extra.whl": b"x"}, "unlisted_file"),
    (lambda e: {**e, "release-key.cert": b"{not json"}, "malformed"),
    (lambda e: {k: v for k, v in e.items() if k != "manifest.sig"}, "malformed"),
    (lambda e: {k: v for k, v in e.items() if not k.startswith("wheels/")}, "missing_file"),
])
def test_a_doctored_bundle_is_refused(kit, edit, reason):
    out = _rewrite(kit["bundles"]["1.0.0"], kit["base"] / f"doctored-{reason}.nafrel", edit)
    with pytest.raises(releases.ReleaseRefused) as exc:
        releases.open_bundle(out, kit["signer"].roots)
    assert exc.value.reason == reason


def test_a_bundle_for_another_python_or_machine_is_refused(kit):
    signer = kit["signer"]
    out = signer.bundle([kit["wheels"]["1.0.0"]], kit["base"] / "py.nafrel", python="cp27")
    with pytest.raises(releases.ReleaseWrongPlatform, match="Python cp27"):
        releases.open_bundle(out, signer.roots)
    out = signer.bundle([kit["wheels"]["1.0.0"]], kit["base"] / "arm.nafrel",
                        machine="aarch64")
    with pytest.raises(releases.ReleaseWrongPlatform) as exc:
        releases.open_bundle(out, signer.roots, machine="x86_64")
    assert exc.value.code == "release_wrong_platform"
    assert releases.open_bundle(out, signer.roots, machine="aarch64").version == "1.0.0"


def test_update_switches_and_rolls_back_by_itself(kit, tmp_path):
    rel = releases.Releases(tmp_path / "opt")
    opened = {v: releases.open_bundle(b, kit["signer"].roots) for v, b in kit["bundles"].items()}
    restarts = []
    ok = rel.update(opened["1.0.0"], lambda v: (True, "fine"), lambda: restarts.append(1))
    assert ok["outcome"] == "updated" and rel.current() == "1.0.0"
    # the new environment imports its own wheel
    import subprocess
    done = subprocess.run([str(tmp_path / "opt/current/bin/python"), "-c",
                           "import nafitha_probe, click; print(nafitha_probe.V)"],
                          capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "1.0.0", done.stderr
    assert rel.update(opened["1.1.0"], lambda v: (True, "fine"))["previous"] == "1.0.0"

    with pytest.raises(releases.UpdateRolledBack, match="rolled back to 1.1.0") as exc:
        rel.update(opened["1.2.0"], lambda v: (False, "exit status 1"),
                   lambda: restarts.append(1))
    assert exc.value.code == "update_rolled_back"
    assert os.readlink(tmp_path / "opt/current") == "versions/1.1.0"
    state = rel.state()
    assert state["current"] == "1.1.0" and state["previous"] == "1.0.0"
    assert state["failed"] == ["1.2.0"] and "1.2.0" in state["installed"]
    assert len(restarts) == 3  # once for 1.0.0, twice (new, then old) for 1.2.0

    def raising(version):
        raise InvalidState("units not ready within 60 s")
    with pytest.raises(releases.UpdateRolledBack, match="units not ready"):
        rel.update(opened["1.2.0"], raising)
    assert rel.current() == "1.1.0"
    # the same version again: nothing happens
    assert rel.update(opened["1.1.0"], lambda v: (False, "never run"))["outcome"] == \
        "already_current"


def test_a_first_install_that_fails_leaves_no_current(kit, tmp_path):
    rel = releases.Releases(tmp_path / "opt")
    b = releases.open_bundle(kit["bundles"]["1.0.0"], kit["signer"].roots)
    with pytest.raises(releases.UpdateRolledBack, match="nothing installed"):
        rel.update(b, lambda v: (False, "no"))
    assert rel.current() is None and not (tmp_path / "opt/current").is_symlink()
    assert json.loads((tmp_path / "opt/state.json").read_text())["failed"] == ["1.0.0"]


def test_wanted_version_prefers_the_office_row():
    rows = [{"key": "*", "body": {"version": "2.0.0"}},
            {"key": "MAN01", "body": {"version": "2.0.1"}}]
    assert releases.wanted_version(rows, "MAN01") == "2.0.1"
    assert releases.wanted_version(rows, "MUH") == "2.0.0"
    assert releases.wanted_version([], "MUH") is None


def test_self_check_opens_the_store_read_only(tmp_path):
    import sqlite3
    assert releases.self_check(tmp_path)["store"] == "none yet"
    conn = sqlite3.connect(tmp_path / "nafitha.db")
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    before = (tmp_path / "nafitha.db").read_bytes()
    assert releases.self_check(tmp_path)["store"] == "ok"
    assert (tmp_path / "nafitha.db").read_bytes() == before
    (tmp_path / "nafitha.db").write_bytes(b"not a database" * 100)
    with pytest.raises(InvalidState, match="store"):
        releases.self_check(tmp_path)
