"""A real hub on loopback for tests: the FastAPI app under uvicorn on a free port, in a
thread of the test process, over the test's office, serving HTTPS with the hub's own
certificate (and the board on plain HTTP, as `hub serve` does). Devices pair for real (a
code from Devices.create_pairing, proven with `hubclient.join`) and get their own data
directory."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from core.settings import load_settings
from core.pairing import Devices
from hub.app import board_only, create_app
from hubclient import RemoteCounter, RemoteKiosk, connect, join


class RunningHub:
    def __init__(self, office, port: int = 0, poll_s: float = 0.05, board_port: int = 0):
        from hub.live import Live
        self.office = office
        self.app = create_app(office, live=Live(office, poll_s=poll_s))
        self.devices: Devices = self.app.state.devices
        cert = self.devices.certificate
        self.server, self.thread = _serve(uvicorn.Config(
            self.app, host="127.0.0.1", port=port, log_level="warning",
            timeout_graceful_shutdown=1, ssl_certfile=str(cert.certfile),
            ssl_keyfile=str(cert.keyfile)))
        self.board_server, self.board_thread = _serve(uvicorn.Config(
            board_only(self.app), host="127.0.0.1", port=board_port, log_level="warning",
            lifespan="off", timeout_graceful_shutdown=1))
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.board_port = self.board_server.servers[0].sockets[0].getsockname()[1]
        self.board_url = f"http://127.0.0.1:{self.board_port}"
        self.fingerprint = cert.fingerprint
        self.http = self.client()  # requests to this hub as a paired device makes them

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

    def client(self, token: str | None = None):
        """A requests session to this hub, pinned to its certificate (as a paired device's)."""
        from hubclient.connection import pinned_session
        session = pinned_session(self.fingerprint)
        if token:
            session.headers["Authorization"] = f"Bearer {token}"
        return session

    def stop(self) -> None:
        for server, thread in ((self.board_server, self.board_thread),
                               (self.server, self.thread)):
            server.should_exit = True
            thread.join(timeout=10)


def _serve(config: uvicorn.Config):
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.01)
    return server, thread


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
        def free_port():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                return s.getsockname()[1]
        self.port = port or free_port()
        self.board_port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.board_url = f"http://127.0.0.1:{self.board_port}"
        self._json = json
        self.process = None

    def start(self) -> "HubProcess":
        import subprocess

        import requests
        self.process = subprocess.Popen(self.cli + ["hub", "serve", "--host", "127.0.0.1",
                                                    "--port", str(self.port), "--board-port",
                                                    str(self.board_port), "--no-sync"],
                                        env=self.env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited: {self.process.stderr.read()}")
            try:
                if requests.get(self.board_url + "/api/v1/health", timeout=1).ok:
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
