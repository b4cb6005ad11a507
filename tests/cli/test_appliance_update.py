"""The proof of issue 23 "Updates" (core/releases.py, nafitha/update_cli.py): two versions
of the project's own wheel, built here and signed with a test root + release key. The box
updates to 2.0.1 (health check passes), then to 2.0.2, whose `nafitha` cannot start: it
rolls back to 2.0.1 by itself. Every bad bundle is refused with a clear error and leaves
`current` and the installed versions untouched."""
from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from release_kit import Signer, make_wheel, project_files

from core import releases
from core.credentials import keys
from core.errors import ValidationError
from nafitha.cli import cli

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["nafitha", "core", "devices", "sync", "central", "hub", "hubclient", "ui",
            "kiosk", "counter", "testing"]
SCRIPTS = {"nafitha": "nafitha.cli:main"}


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    base = tmp_path_factory.mktemp("update")
    files = project_files(ROOT, PACKAGES)
    good = make_wheel(base / "w1", "nafitha", "2.0.1", files, SCRIPTS)
    broken_cli = files["nafitha/cli.py"].replace(
        b"def main():\n", b"def main():\n    raise SystemExit('2.0.2: cannot start')\n", 1)
    assert broken_cli != files["nafitha/cli.py"]
    bad = make_wheel(base / "w2", "nafitha", "2.0.2", {**files, "nafitha/cli.py": broken_cli},
                     SCRIPTS)
    signer = Signer(int(time.time()))
    bundles = base / "bundles"
    signer.bundle([good], bundles / "nafitha-2.0.1-any.nafrel")
    signer.bundle([bad], bundles / "nafitha-2.0.2-any.nafrel")
    signer.bundle([make_wheel(base / "w3", "nafitha", "2.0.3", files, SCRIPTS)],
                  bundles / "nafitha-2.0.3-any.nafrel")
    data = base / "data"
    signer.trust(data)
    return {"base": base, "signer": signer, "bundles": bundles, "data": data,
            "root": base / "opt", "good": good, "bad": bad}


def nafitha(kit, *args, expect=0):
    result = CliRunner().invoke(
        cli, ["--data", str(kit["data"]), *args],
        env={"NAFITHA_DATA": None, "NAFITHA_CONFIG": None,
             "NAFITHA_UPDATE__ROOT": str(kit["root"]),
             "NAFITHA_UPDATE__HEALTH_TIMEOUT_S": "60"}, catch_exceptions=False)
    assert result.exit_code == expect, (result.output, result.stderr)
    return result


def snapshot(root: Path) -> dict:
    current = os.readlink(root / "current") if (root / "current").is_symlink() else None
    versions = sorted(p.name for p in (root / "versions").iterdir()) \
        if (root / "versions").is_dir() else []
    return {"current": current, "versions": versions}


@pytest.fixture(scope="module")
def installed(kit):
    out = json.loads(nafitha(kit, "appliance", "update", "--json",
                             str(kit["bundles"] / "nafitha-2.0.1-any.nafrel")).stdout)
    assert out["outcome"] == "updated" and out["current"] == "2.0.1"
    assert out["previous"] is None
    return kit


def test_update_to_good_version_then_bad_rolls_back(installed):
    kit = installed
    root = kit["root"]
    assert os.readlink(root / "current") == "versions/2.0.1"
    # the new version really runs its own code
    exe = root / "current" / "bin" / "nafitha"
    import subprocess
    done = subprocess.run([str(exe), "--data", str(kit["data"]), "appliance", "self-check",
                           "--json"], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["version"] == "2.0.1"

    again = json.loads(nafitha(kit, "appliance", "update", "--json",
                               str(kit["bundles"] / "nafitha-2.0.1-any.nafrel")).stdout)
    assert again["outcome"] == "already_current"

    failed = nafitha(kit, "appliance", "update", str(kit["bundles"] /
                                                     "nafitha-2.0.2-any.nafrel"), expect=1)
    assert "2.0.2 failed its health check" in failed.stderr
    assert "rolled back to 2.0.1" in failed.stderr
    assert os.readlink(root / "current") == "versions/2.0.1"
    status = json.loads(nafitha(kit, "appliance", "update", "--status", "--json").stdout)
    assert status["current"] == "2.0.1" and status["failed"] == ["2.0.2"]
    assert set(status["installed"]) == {"2.0.1", "2.0.2"}  # kept for a look, not run


def _tampered(kit, name: str, edit) -> Path:
    src = kit["bundles"] / "nafitha-2.0.1-any.nafrel"
    out = kit["base"] / "bad" / name
    out.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        entries = {n: zin.read(n) for n in zin.namelist()}
        for n, d in edit(entries).items():
            zout.writestr(n, d)
    return out


def bad_signature(kit):
    def edit(e):
        sig = bytearray(e["manifest.sig"])
        sig[0] ^= 1
        return {**e, "manifest.sig": bytes(sig)}
    return _tampered(kit, "badsig.nafrel", edit)


def uncertified_key(kit):
    other_root = keys.generate()
    release = keys.generate()
    cert = releases.certify_release_key(other_root, keys.public_bytes(release),
                                        int(time.time()) + 86400)
    out = kit["base"] / "bad" / "uncertified.nafrel"
    out.parent.mkdir(exist_ok=True)
    releases.build_bundle([kit["good"]], release, cert, out)
    return out


def other_architecture(kit):
    machine = "riscv64" if releases.this_machine() != "riscv64" else "s390x"
    out = kit["base"] / "bad" / f"nafitha-2.0.1-{machine}.nafrel"
    kit["signer"].bundle([kit["good"]], out, machine=machine)
    return out


def changed_wheel(kit):
    def edit(e):
        name = next(n for n in e if n.startswith("wheels/"))
        return {**e, name: e[name] + b"\0"}
    return _tampered(kit, "hash.nafrel", edit)


def truncated(kit):
    out = kit["base"] / "bad" / "truncated.nafrel"
    out.parent.mkdir(exist_ok=True)
    data = (kit["bundles"] / "nafitha-2.0.1-any.nafrel").read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


@pytest.mark.parametrize("make, code, words", [
    (bad_signature, "release_bad_signature", "signature does not verify"),
    (uncertified_key, "release_untrusted_key", "not certified by a root this device trusts"),
    (other_architecture, "release_wrong_platform", "this box is"),
    (changed_wheel, "release_refused", "does not match its hash"),
    (truncated, "release_refused", "not a readable release bundle"),
])
def test_bad_bundle_is_refused_and_changes_nothing(installed, make, code, words):
    kit = installed
    bundle = make(kit)
    before = snapshot(kit["root"])
    result = nafitha(kit, "appliance", "update", "--json", str(bundle), expect=1)
    assert json.loads(result.stdout)["error"] == code
    assert words in result.stderr and result.stderr.count("\n") == 1
    assert snapshot(kit["root"]) == before
    assert all((p / ".installed").exists() for p in (kit["root"] / "versions").iterdir())


def test_wanted_version_from_reference_data(installed):
    """Without a bundle: the version central wants for this office, from --from DIR."""
    kit = installed
    from core.office import Office
    from core.settings import load_settings
    from sync.protocol import ProtocolError
    from sync.reference import apply_bundle
    office = Office.open(load_settings(kit["data"], None, environ={}))
    try:
        code = office.settings.office.code
        before = office.store.all("SELECT * FROM reference")
        with pytest.raises(ProtocolError, match="release .* cannot be used"):
            apply_bundle(office, {"cursor": 1, "changes": [
                {"kind": "release", "key": code, "version": 1, "body": {"version": "two"}}]})
        assert office.store.all("SELECT * FROM reference") == before
        apply_bundle(office, {"cursor": 1, "changes": [
            {"kind": "release", "key": "*", "version": 1, "body": {"version": "2.0.2"}},
            {"kind": "release", "key": code, "version": 2, "body": {"version": "2.0.1"}}]})
    finally:
        office.close()
    status = json.loads(nafitha(kit, "appliance", "update", "--status", "--json").stdout)
    assert status["wanted"] == "2.0.1"
    same = nafitha(kit, "appliance", "update", "--from", str(kit["bundles"]))
    assert "already at the wanted version 2.0.1" in same.stdout


def test_release_commands_sign_a_bundle_the_box_accepts(kit, tmp_path):
    """`nafitha release key` (with the root key) and `nafitha release build`."""
    from nafitha import release_cli
    from nafitha.commands import Context
    signer = kit["signer"]
    keys.write_private(signer.root, tmp_path / "root.key")
    runner = CliRunner()

    def release(*args, expect=0):
        result = runner.invoke(release_cli.release, list(args), obj=Context(None, None, None),
                               catch_exceptions=False)
        assert result.exit_code == expect, (result.output, result.stderr)
        return result
    made = json.loads(release("key", "--root-key", str(tmp_path / "root.key"), "--out",
                              str(tmp_path / "rk"), "--json").stdout)
    assert oct((tmp_path / "rk/release.key").stat().st_mode & 0o777) == "0o600"
    bad = release("key", "--root-key", str(tmp_path / "root.key"), "--out",
                  str(tmp_path / "rk2"), "--days", "0", expect=1)
    assert "--days" in bad.stderr and not (tmp_path / "rk2").exists()
    (tmp_path / "out").mkdir()
    built = json.loads(release("build", str(kit["good"]), "--release-key", made["release_key"],
                               "--cert", made["release_cert"], "--out", str(tmp_path / "out"),
                               "--json").stdout)
    assert built["bundle"].endswith("nafitha-2.0.1-any.nafrel")
    assert releases.open_bundle(Path(built["bundle"]), signer.roots).version == "2.0.1"


def test_central_names_the_wanted_version_per_office(tmp_path):
    from central.service import Central
    from nafitha import release_cli
    if "release" not in cli.commands:  # until nafitha/cli.py registers it
        release_cli.register(cli)
    central, _ = Central.init_root(tmp_path / "central", None)
    for office in ("MAN01", "MUH"):
        central.enrol_code(office, role="hub")
    central.close()
    runner = CliRunner()

    def run(*args, expect=0):
        result = runner.invoke(cli, ["central", "--home", str(tmp_path / "central"), *args],
                               env={"NAFITHA_CENTRAL_DB": None}, catch_exceptions=False)
        assert result.exit_code == expect, (result.output, result.stderr)
        return result
    run("release-wanted", "MAN01", "2.0.1")

    def changes(office):
        c = Central.open(tmp_path / "central", None)
        try:
            payload = json.loads(c.bundle({"office": office, "device_id": "D01", "role": "hub"},
                                          0)["payload"])
        finally:
            c.close()
        return [(ch["kind"], ch["key"], ch["body"]) for ch in payload["changes"]
                if ch["kind"] == "release"]
    assert changes("MAN01") == [("release", "MAN01", {"version": "2.0.1"})]
    assert changes("MUH") == []
    for args, words in ((("NOPE", "2.0.1"), "no office NOPE"),
                        (("MUH", "latest"), "not a release version")):
        result = run("release-wanted", *args, expect=1)
        assert words in result.stderr
    assert changes("MUH") == [] and len(changes("MAN01")) == 1


def test_the_running_version_updates_the_next(installed):
    """The box updates itself with the `nafitha` of the version it runs (2.0.1 here): the
    next version gets the same base environment, not 2.0.1's."""
    import subprocess
    kit = installed
    root = kit["root"]
    env = {**os.environ, "NAFITHA_UPDATE__ROOT": str(root)}
    env.pop("NAFITHA_CONFIG", None)
    done = subprocess.run([str(root / "current" / "bin" / "nafitha"), "--data",
                           str(kit["data"]), "appliance", "update", "--json",
                           str(kit["bundles"] / "nafitha-2.0.3-any.nafrel")],
                          capture_output=True, text=True, env=env, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["current"], out["previous"]) == ("2.0.3", "2.0.1")
    base = (root / "versions/2.0.3/lib/python3.11/site-packages/_nafitha_base.pth").read_text()
    assert str(root / "versions") not in base and base.strip()


def test_a_device_downloads_the_bundle_from_central(kit, tmp_path):
    """`nafitha central release-upload`, then the device's authenticated download."""
    from fastapi.testclient import TestClient

    from central.app import create_app
    from central.service import Central
    from core.settings import load_settings
    from nafitha import release_cli, update_cli
    from sync.agent import write_enrolment
    if "release" not in cli.commands:
        release_cli.register(cli)
    home = tmp_path / "central"
    central, _ = Central.init_root(home, None)
    code = central.enrol_code("MAN01", role="hub")["code"]
    token = central.enrol(code, "MAN01", "D01",
                          keys.public_bytes(keys.generate()).hex())["token"]
    central.close()
    runner = CliRunner()

    def run(*args, expect=0):
        result = runner.invoke(cli, ["central", "--home", str(home), *args],
                               env={"NAFITHA_CENTRAL_DB": None}, catch_exceptions=False)
        assert result.exit_code == expect, (result.output, result.stderr)
        return result
    junk = tmp_path / "nafitha-9.9.9-any.nafrel"
    junk.write_bytes(b"not a zip")
    assert "not a zip" in run("release-upload", str(junk), expect=1).stderr
    assert not (home / "releases" / junk.name).exists()
    run("release-upload", str(kit["bundles"] / "nafitha-2.0.1-any.nafrel"))

    data = tmp_path / "device"
    kit["signer"].trust(data)
    write_enrolment(data, {"url": "http://testserver", "token": token})
    settings = load_settings(data, None, environ={})
    central = Central.open(home, None)
    try:
        client = TestClient(create_app(central))
        assert client.get("/v1/releases/nafitha-2.0.1-any.nafrel").status_code == 401
        got = update_cli.download(settings, "2.0.1", tmp_path / "dl", session=client)
        assert got.name == "nafitha-2.0.1-any.nafrel"
        assert releases.open_bundle(got, kit["signer"].roots).version == "2.0.1"
        with pytest.raises(ValidationError, match="no bundle for version 3.0.0"):
            update_cli.download(settings, "3.0.0", tmp_path / "dl", session=client)
    finally:
        central.close()
