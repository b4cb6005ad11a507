"""The long-running commands a systemd unit starts tell its watchdog they are alive
(core/watchdog.py): `nafitha central serve` from its event loop, `nafitha sync run` from
the agent's loop. A fake $NOTIFY_SOCKET records what arrives. (`hub serve` runs on the same
server code as central; tests/core/test_watchdog.py pings through it in process.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from central_servers import free_port
from fake_systemd import FakeSystemd

ROOT = Path(__file__).resolve().parents[2]


def nafitha(*args, env=None):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for key in ("NAFITHA_DATA", "NAFITHA_CONFIG", "NAFITHA_CENTRAL_DB", "NOTIFY_SOCKET",
                "WATCHDOG_USEC"):
        full_env.pop(key, None)
    result = subprocess.run([sys.executable, "-m", "nafitha.cli", *args],
                            env={**full_env, **(env or {})}, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result


def test_central_serve_and_sync_run_ping_the_watchdog(tmp_path):
    home = tmp_path / "central"
    nafitha("central", "--home", str(home), "init-root")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with FakeSystemd() as central_systemd, FakeSystemd() as agent_systemd:
        proc = subprocess.Popen([sys.executable, "-m", "nafitha.cli", "central", "--home",
                                 str(home), "serve", "--port", str(port)],
                                env={**os.environ, "PYTHONPATH": str(ROOT),
                                     "NOTIFY_SOCKET": central_systemd.path,
                                     "WATCHDOG_USEC": "200000"})  # a ping every 0.1 s
        try:
            central_systemd.wait_for(
                lambda: central_systemd.texts().count("WATCHDOG=1") >= 3)
            assert central_systemd.texts()[0] == "READY=1"  # once listening, then pings
            assert requests.get(url + "/healthz", timeout=5).ok
            code = json.loads(nafitha("central", "--home", str(home), "enrol-code",
                                      "--office", "MUH", "--role", "hub", "--json").stdout)
            data = ["--data", str(tmp_path / "office")]
            nafitha(*data, "init")
            nafitha(*data, "enrol", url, code["code"])

            # The agent: three cycles 0.3 s apart, pinging after each poll and every 0.1 s
            # of its two waits.
            nafitha(*data, "sync", "run", "--cycles", "3",
                    env={"NAFITHA_SYNC__INTERVAL_S": "0.3",
                         "NOTIFY_SOCKET": agent_systemd.path, "WATCHDOG_USEC": "200000"})
            agent_systemd.settle()
            agent = agent_systemd.texts()
            assert agent[0] == "READY=1" and agent[-1] == "STOPPING=1"
            assert agent.count("WATCHDOG=1") >= 6

            proc.terminate()  # central says it is stopping on its way out
            proc.wait(10)
            central_systemd.settle()
            assert central_systemd.texts()[-1] == "STOPPING=1"
        finally:
            proc.terminate()
            proc.wait(10)
