"""A real hub on loopback for tests: the FastAPI app under uvicorn on a free port, in a
thread of the test process, over the test's office. Devices pair for real (a code from
Devices.create_pairing, traded with `hub.client.join`) and get their own data directory."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from core.settings import load_settings
from hub.app import create_app
from hub.client import CounterHubClient, KioskHubClient, join
from hub.pairing import Devices


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

    def kiosk(self, root: Path, name: str = "kiosk-1") -> KioskHubClient:
        settings = self.device_settings(root, name)
        join(settings.data_dir, self.url, self.pair_code("kiosk", name))
        return KioskHubClient.from_settings(settings)

    def counter(self, root: Path, name: str = "3", services=()) -> CounterHubClient:
        settings = self.device_settings(root, name)
        join(settings.data_dir, self.url, self.pair_code("counter", name, services))
        return CounterHubClient.from_settings(settings)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
