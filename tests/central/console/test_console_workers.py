"""Central on PostgreSQL serves the console too, with several uvicorn workers.

`nafitha central --home H --db URL serve --workers 2` runs in its own process group on a free
loopback port, on the session's embedded PostgreSQL. A session lives in the database, not in a
worker: whichever worker accepts a connection knows the signed-in person, their CSRF token,
their language and when they signed out.

Which worker answered is not guessed: a kept-alive connection belongs to the worker that
accepted it, found by the socket's inode (/proc/net/tcp, then /proc/<worker>/fd). The tests
hold open connections until each worker owns at least one, then act on one worker and look
from the other; many requests on new connections (`Connection: close`) add the spread a
browser behind a proxy gives."""
from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
import sqlalchemy as sa

from central import db
from central.service import Central
from central.staff import COOKIE, Staff

from central_servers import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "correct horse battery"
WORKERS = 2
CLOSE_BURST = 40  # requests on new connections
MAX_PINNED = 60  # kept-alive connections opened at most to find every worker
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


class Served:
    """The server process and what the tests need to reach and inspect it."""

    def __init__(self, home: Path, db_url: str):
        self.home, self.db_url = home, db_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        env = {k: v for k, v in os.environ.items()
               if k not in ("NAFITHA_CENTRAL_HOME", "NAFITHA_CENTRAL_DB")}
        env["PYTHONPATH"] = str(ROOT)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nafitha", "central", "--home", str(home), "--db", db_url,
             "serve", "--port", str(self.port), "--workers", str(WORKERS)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-3000:]

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            assert self.proc.poll() is None, f"central exited: {self.output()}"
            try:
                if requests.get(self.url + "/healthz", timeout=2).ok and \
                        len(self.workers()) == WORKERS:
                    return
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"central did not start: {self.output()}"
            time.sleep(0.1)

    def workers(self) -> list[int]:
        """The uvicorn workers: the supervisor's children that run a spawned process (not
        multiprocessing's resource tracker)."""
        pids = []
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        for pid in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                pids.append(int(pid))
        return pids

    def owner(self, client_port: int) -> int | None:
        """The worker holding the server's end of the connection from `client_port`."""
        inode = None
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == self.port and \
                    int(remote.split(":")[1], 16) == client_port and fields[9] != "0":
                inode = fields[9]  # (a closed one in TIME_WAIT has none)
        if inode is None:
            return None
        for pid in self.workers():
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except FileNotFoundError:
                    continue
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # uvicorn's supervisor stops its workers
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        # No worker outlives the supervisor.
        deadline = time.monotonic() + 10
        while True:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            if time.monotonic() > deadline:
                os.killpg(self.proc.pid, signal.SIGKILL)
                break
            time.sleep(0.1)
        self.log.close()


class Connection:
    """One kept-alive HTTP connection (http.client), its client port known."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.connect()
        self.client_port = self.conn.sock.getsockname()[1]

    def request(self, method: str, path: str, token: str | None, fields: dict | None = None):
        headers = {"Cookie": f"{COOKIE}={token}"} if token else {}
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        answer = self.conn.getresponse()
        return answer.status, answer.getheader("Location"), answer.read().decode("utf-8")

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def served(tmp_path, pg):
    url = pg.new_database()
    central, _ = Central.init_root(tmp_path / "central", url)
    staff = Staff(central)
    staff.add_municipality("test", "CAP", "أمانة العاصمة", "Capital")
    staff.assign_office("test", "MUH", "CAP")
    staff.add("test", "nora", "Nora National", "officer", None, PASSWORD)
    staff.add("test", "sara", "Sara Capital", "officer", "CAP", PASSWORD)
    server = Served(tmp_path / "central", url)
    try:
        server.wait_ready()
        yield server, central
    finally:
        server.stop()
        central.close()


def sign_in(url: str, username: str) -> str:
    """Through the form, as a browser: the pre-session cookie and the form's csrf field."""
    browser = requests.Session()
    form = browser.get(f"{url}/console/sign-in", timeout=30)
    assert form.status_code == 200 and "nafitha_console_pre" in browser.cookies
    csrf = CSRF_FIELD.search(form.text).group(1)
    answer = browser.post(f"{url}/console/sign-in", timeout=30, allow_redirects=False,
                          data={"username": username, "password": PASSWORD, "csrf": csrf})
    assert answer.status_code == 303 and answer.headers["Location"] == "/console"
    token = browser.cookies.get(COOKIE)
    assert token
    browser.close()
    return token


def fresh_get(url: str, path: str, token: str) -> requests.Response:
    """A GET on a new connection, closed after the answer."""
    return requests.get(url + path, cookies={COOKIE: token}, allow_redirects=False,
                        headers={"Connection": "close"}, timeout=30)


def pin_every_worker(server: Served) -> dict[int, Connection]:
    """A kept-alive connection held by each worker (its pid -> the connection)."""
    held, spare = {}, []
    for _ in range(MAX_PINNED):
        conn = Connection(server.port)
        status, _, _ = conn.request("GET", "/healthz", None)  # accepted by now
        assert status == 200
        owner = server.owner(conn.client_port)
        assert owner is not None, "no worker holds the connection"
        if owner in held:
            spare.append(conn)
        else:
            held[owner] = conn
        if len(held) == WORKERS:
            break
    for conn in spare:
        conn.close()
    assert len(held) == WORKERS, f"only {len(held)} worker(s) accepted {MAX_PINNED} connections"
    return held


def csrf_of(body: str) -> set[str]:
    return set(CSRF_FIELD.findall(body))


def language_of(body: str) -> str:
    return re.search(r'<html lang="(\w+)"', body).group(1)


def console_rows(central: Central) -> dict:
    with central.engine.connect() as conn:
        return {"staff": sorted(tuple(map(str, r)) for r in conn.execute(sa.select(
                    db.staff.c.username, db.staff.c.language))),
                "audit": conn.execute(sa.select(sa.func.count()).select_from(
                    db.console_audit)).scalar()}


def test_sessions_hold_across_workers_and_sign_out_ends_them_on_all(served):
    server, central = served
    assert len(server.workers()) == WORKERS
    nora, sara = sign_in(server.url, "nora"), sign_in(server.url, "sara")

    # Many new connections: every one sees Nora signed in, with one and the same CSRF token.
    tokens = set()
    for _ in range(CLOSE_BURST):
        page = fresh_get(server.url, "/console", nora)
        assert page.status_code == 200
        assert "Nora National" in page.text and "Sara Capital" not in page.text
        tokens |= csrf_of(page.text)
    assert len(tokens) == 1
    csrf = tokens.pop()

    # Each worker, on a connection it holds, knows both sessions, each in its own scope.
    pinned = pin_every_worker(server)
    first, second = pinned.values()
    for conn in pinned.values():
        status, _, body = conn.request("GET", "/console/applications", nora)
        assert status == 200 and "Nora National" in body and csrf_of(body) == {csrf}
        status, _, body = conn.request("GET", "/console", sara)
        assert status == 200 and "Sara Capital" in body and "CAP" in body
        assert csrf not in csrf_of(body)  # her own token, not Nora's

    # A form posted to one worker with the token changes what the other shows.
    before = console_rows(central)
    status, location, _ = first.request("POST", "/console/language", nora,
                                        {"csrf": csrf, "lang": "en", "back": "/console"})
    assert (status, location) == (303, "/console")
    status, _, body = second.request("GET", "/console", nora)
    assert status == 200 and language_of(body) == "en"
    after_switch = console_rows(central)
    assert ("nora", "en") in after_switch["staff"]
    assert after_switch["audit"] == before["audit"] + 1

    # Without the token, or with another session's, 403 on either worker and nothing changes.
    _, _, sara_page = second.request("GET", "/console", sara)
    sara_csrf = csrf_of(sara_page).pop()
    for conn, fields in ((second, {"lang": "ar", "back": "/console"}),
                         (first, {"lang": "ar", "back": "/console", "csrf": ""}),
                         (second, {"lang": "ar", "back": "/console", "csrf": sara_csrf})):
        status, _, body = conn.request("POST", "/console/language", nora, fields)
        assert status == 403, fields
    assert console_rows(central) == after_switch
    for _ in range(10):
        page = fresh_get(server.url, "/console", nora)
        assert page.status_code == 200 and language_of(page.text) == "en"

    # Signing out on one worker's connection ends the session on every connection.
    status, location, _ = second.request("POST", "/console/sign-out", nora, {"csrf": csrf})
    assert (status, location) == (303, "/console/sign-in?signed_out=1")
    for conn in pinned.values():
        status, location, _ = conn.request("GET", "/console", nora)
        assert (status, location) == (303, "/console/sign-in")
        status, _, _ = conn.request("POST", "/console/language", nora,
                                    {"csrf": csrf, "lang": "ar", "back": "/console"})
        assert status == 303  # to the sign-in page: the old token does nothing
    for _ in range(CLOSE_BURST // 2):
        page = fresh_get(server.url, "/console/applications", nora)
        assert page.status_code == 303 and page.headers["Location"] == "/console/sign-in"
    assert ("nora", "en") in console_rows(central)["staff"]

    # Sara's session is hers: Nora's sign-out did not touch it, on any worker.
    for conn in pinned.values():
        status, _, body = conn.request("GET", "/console/offices", sara)
        assert status == 200 and "Sara Capital" in body
        conn.close()
