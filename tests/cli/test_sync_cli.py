"""The sync commands as an operator uses them: central in its own process (`nafitha central
serve`), a device enrolled with a code, sync once/status, back office from the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from central_servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def nafitha(*args, env=None, check=True):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for key in ("NAFITHA_DATA", "NAFITHA_CONFIG", "NAFITHA_CENTRAL_DB"):
        full_env.pop(key, None)
    result = subprocess.run([sys.executable, "-m", "nafitha.cli", *args], env=full_env,
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def central_process(tmp_path):
    home = tmp_path / "central"
    init = json.loads(nafitha("central", "--home", str(home), "init-root", "--json").stdout)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nafitha.cli", "central", "--home",
                             str(home), "serve", "--port", str(port)],
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline and proc.poll() is None, "central did not start"
        time.sleep(0.1)
    yield home, url, init["admin_token"]
    proc.terminate()
    proc.wait(10)


def test_enrol_sync_and_back_office_from_the_command_line(tmp_path, central_process):
    home, url, admin = central_process
    central = ["central", "--home", str(home)]
    data = ["--data", str(tmp_path / "office")]
    assert nafitha(*central, "init-root", check=False).returncode == 1  # never a second root
    no_role = nafitha(*central, "enrol-code", "--office", "MUH", check=False)
    assert no_role.returncode == 2 and "--role" in no_role.stderr  # what the device is
    code = json.loads(nafitha(*central, "enrol-code", "--office", "MUH", "--role", "hub",
                              "--json").stdout)["code"]
    nafitha(*data, "init")
    wrong = nafitha(*data, "enrol", url, "AAAA-BBBB-CCCC", check=False)
    assert wrong.returncode == 1 and "not known" in wrong.stderr
    enrolled = nafitha(*data, "enrol", url, code)
    assert "Enrolled MUH/D01" in enrolled.stdout
    again = nafitha(*data, "enrol", url, code, check=False)
    assert again.returncode == 1 and "already enrolled" in again.stderr
    assert oct((tmp_path / "office" / "keys" / "sync.json").stat().st_mode & 0o777) == "0o600"

    nafitha(*central, "user", "add", "--office", "MUH", "--username", "sara", "--role",
            "clerk", "--pin", "2468")
    nafitha(*data, "ticket", "take", "R")
    before = json.loads(nafitha(*data, "sync", "status", "--json").stdout)
    assert before["pending"] >= 1 and before["online"] is None
    out = nafitha(*data, "sync", "once").stdout
    assert f"sent {before['pending']} event(s)" in out
    status = json.loads(nafitha(*data, "sync", "status", "--json").stdout)
    assert status["pending"] == 0 and status["online"] is True and status["cursor"] > 0
    users = json.loads(nafitha(*data, "user", "list", "--json").stdout)
    assert any(u["username"] == "sara" and u["source"] == "central" for u in users)

    offices = json.loads(nafitha(*central, "offices", "--json").stdout)
    assert offices[0]["office"] == "MUH" and offices[0]["devices"][0]["received"] >= 1
    missing = nafitha(*central, "revoke", "MUH-2026-D01-999999", "--reason", "x", check=False)
    assert missing.returncode == 1 and "has reached central" in missing.stderr
    assert requests.get(url + "/v1/admin/offices").status_code == 401
    assert requests.get(url + "/v1/admin/offices",
                        headers={"Authorization": f"Bearer {admin}"}).json()[0]["office"] == "MUH"
    # sync run stops cleanly after its cycles; status is printed.
    ran = nafitha(*data, "sync", "run", "--cycles", "1", env={"NAFITHA_SYNC__INTERVAL_S": "0.1"})
    assert "online; 0 event(s) waiting" in ran.stdout


def test_sync_without_enrolment_says_what_to_do(tmp_path):
    data = ["--data", str(tmp_path / "office")]
    nafitha(*data, "init")
    result = nafitha(*data, "sync", "once", check=False)
    assert result.returncode == 1 and "nafitha enrol URL CODE" in result.stderr
    status = json.loads(nafitha(*data, "sync", "status", "--json").stdout)
    assert status["online"] is None and status["last_success_at"] is None
