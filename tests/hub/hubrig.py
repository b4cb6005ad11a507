"""A real hub on loopback for tests: the FastAPI app under uvicorn on a free port, in a
thread of the test process, over the test's office. Devices pair for real (a code from
Devices.create_pairing, traded with `hubclient.join`) and get their own data directory."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from core.settings import load_settings
from core.pairing import Devices
from hub.app import create_app
from hubclient import RemoteCounter, RemoteKiosk, connect, join


class RunningHub:
    def __init__(self, office, port: int = 0, poll_s: float = 0.05):
        from hub.live import Live
        self.office = office
        self.app = create_app(office, live=Live(office, poll_s=poll_s))
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port,
                                                    log_level="warning",
                                                    timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the hub did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.devices: Devices = self.app.state.devices

    def pair_code(self, role: str, name: str, services=()) -> str:
        return self.devices.create_pairing(role, name, list(services))["code"]

    def token(self, role: str, name: str, services=()) -> str:
        return self.devices.redeem(self.pair_code(role, name, services))[1]

    def device_settings(self, root: Path, name: str):
        return load_settings(root / name, environ={})

    def kiosk(self, root: Path, name: str = "kiosk-1") -> RemoteKiosk:
        settings = self.device_settings(root, name)
        join(settings.data_dir, self.url, self.pair_code("kiosk", name))
        return connect("kiosk", settings)

    def counter(self, root: Path, name: str = "3", services=()) -> RemoteCounter:
        settings = self.device_settings(root, name)
        join(settings.data_dir, self.url, self.pair_code("counter", name, services))
        return connect("counter", settings)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class HubProcess:
    """`nafitha hub serve` as its own process, as in a service centre: a fresh data
    directory with demo signing keys and the given staff accounts."""

    def __init__(self, data: Path, users=(("sara", "clerk", "1234"),), port: int | None = None):
        import json
        import os
        import socket
        import subprocess
        import sys

        self.data = Path(data)
        self.cli = [sys.executable, "-m", "nafitha.cli", "--data", str(self.data)]
        env = {**os.environ, "NAFITHA_PILOT": "", "NAFITHA_PILOT_CLOCK": ""}
        self.env = env
        subprocess.run(self.cli + ["keys", "demo"], check=True, capture_output=True, env=env)
        for name, role, pin in users:
            subprocess.run(self.cli + ["user", "add", name, "--role", role],
                           check=True, capture_output=True, env={**env, "NAFITHA_NEW_PIN": pin})
        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._json = json
        self.process = None

    def start(self) -> "HubProcess":
        import subprocess

        import requests
        self.process = subprocess.Popen(self.cli + ["hub", "serve", "--host", "127.0.0.1",
                                                    "--port", str(self.port), "--no-sync"],
                                        env=self.env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited: {self.process.stderr.read()}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the hub did not answer in 30 s")

    def pair_code(self, role: str, name: str, services=()) -> str:
        import subprocess
        args = ["hub", "pair", role, name, "--json"]
        if services:
            args += ["--services", ",".join(services)]
        out = subprocess.run(self.cli + args, check=True, capture_output=True, text=True,
                             env=self.env)
        return self._json.loads(out.stdout)["code"]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except Exception:  # noqa: BLE001
                self.process.kill()
