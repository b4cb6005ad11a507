"""Drive a real Kivy app in another process (the test side of testing/pilot.py).

    with Pilot.launch([sys.executable, "-m", "nafitha", "--data", d, "kiosk"], env={},
                      socket_path=tmp / "pilot.sock") as pilot:
        pilot.tap("service:residence-certificate")
        pilot.type("Ali")
        pilot.wait_until(lambda s: s["screen"] == "payment")
        pilot.screenshot(tmp / "payment.png")

Every command waits until the app has settled (ui.worker tasks delivered, screen
transitions over, a few frames drawn), so the next line sees the result. A command the app
refuses raises PilotError with the app's message; if the app dies, PilotError carries the
tail of its stderr. Imports no Kivy: tests and bench/ use it from a plain interpreter.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

ENV_VAR = "NAFITHA_PILOT"   # the same name testing/pilot.py documents
# Unix socket paths are limited to 107 bytes (sun_path) on Linux.
MAX_SOCKET_PATH = 107
STDERR_TAIL_CHARS = 4000
# Client-side limit for one command; the app gives up settling after 30 s by itself.
COMMAND_TIMEOUT_S = 90.0


class PilotError(Exception):
    """The app refused a command, or died, or did not answer."""


class Pilot:
    def __init__(self, proc: subprocess.Popen, sock: socket.socket, socket_path: Path,
                 stderr_path: Path, stdout_path: Path, own_dir: Path | None):
        self.proc = proc
        self.socket_path = socket_path
        self.stderr_path = stderr_path
        self.stdout_path = stdout_path
        self._sock = sock
        self._buffer = b""
        self._own_dir = own_dir
        self._out_of_step: str | None = None

    # -- starting and stopping -------------------------------------------------------------

    @classmethod
    def launch(cls, argv: Sequence[str], env: dict[str, str | None] | None = None,
               socket_path: str | os.PathLike | None = None, cwd: str | os.PathLike | None = None,
               timeout_s: float = 60) -> "Pilot":
        """Start `argv` with NAFITHA_PILOT=socket_path and wait (up to timeout_s) until the
        app accepts pilot connections and has settled.

        env: variables added to (value None: removed from) this process's environment.
        socket_path: None picks one in a fresh temporary directory (removed by close()).
        The app's stdout and stderr go to temporary files (stderr_text(), stdout_text())."""
        own_dir = Path(tempfile.mkdtemp(prefix="nafitha-pilot-"))
        path = Path(socket_path) if socket_path is not None else own_dir / "pilot.sock"
        if len(os.fsencode(str(path))) > MAX_SOCKET_PATH:
            shutil.rmtree(own_dir, ignore_errors=True)
            raise PilotError(f"socket path is {len(os.fsencode(str(path)))} bytes, over the "
                             f"{MAX_SOCKET_PATH} a Unix socket allows: {path} "
                             f"(pass socket_path=None for a short one)")
        if path.exists() or path.is_symlink():
            path.unlink()  # never talk to a previous run's app
        full_env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = str(value)
        full_env[ENV_VAR] = str(path)
        stderr_path, stdout_path = own_dir / "stderr.txt", own_dir / "stdout.txt"
        with open(stderr_path, "wb") as err, open(stdout_path, "wb") as out:
            proc = subprocess.Popen(list(argv), env=full_env, cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err)
        deadline = time.monotonic() + timeout_s
        sock = None
        try:
            while sock is None:
                if proc.poll() is not None:
                    raise PilotError(f"the app exited with code {proc.returncode} before "
                                     f"its pilot listened on {path}"
                                     + _tail(stderr_path))
                if time.monotonic() > deadline:
                    raise PilotError(f"the app did not listen on {path} within {timeout_s:g} s"
                                     f" (does it call testing.pilot.start_pilot when {ENV_VAR} "
                                     f"is set?)" + _tail(stderr_path))
                sock = _try_connect(path)
                if sock is None:
                    time.sleep(0.05)
            pilot = cls(proc, sock, path, stderr_path, stdout_path, own_dir)
            pilot._request("settle", timeout_s=max(1.0, deadline - time.monotonic()) + 30)
            return pilot
        except BaseException:
            if sock is not None:
                sock.close()
            _kill(proc)
            # Keep the logs of a failed start for the error message only.
            shutil.rmtree(own_dir, ignore_errors=True)
            raise

    def close(self, timeout_s: float = 10) -> int | None:
        """Ask the app to quit, wait up to timeout_s, kill it if it is still running.
        Returns its exit code. Safe to call twice."""
        if self.proc.poll() is None:
            try:
                self._request("quit", timeout_s=timeout_s)
            except PilotError:
                pass
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _kill(self.proc)
        try:
            self._sock.close()
        except OSError:
            pass
        if self.proc.poll() is not None:
            # An app that crashed could not remove its socket file.
            try:
                if self.socket_path.is_socket():
                    self.socket_path.unlink()
            except OSError:
                pass
        if self._own_dir is not None:
            self._keep_logs()
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None
        return self.proc.returncode

    def __enter__(self) -> "Pilot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def stderr_text(self) -> str:
        return self._read_log(self.stderr_path, "_stderr")

    def stdout_text(self) -> str:
        return self._read_log(self.stdout_path, "_stdout")

    # -- commands --------------------------------------------------------------------------

    def tap(self, id: str, times: int = 1) -> None:
        """Touch down and up on the centre of the visible widget whose pilot_id is `id`;
        `times` in a row, settling once after the last."""
        if type(times) is int and times == 1:  # (True == 1: the pilot refuses it)
            self._request("tap", id=id)
        else:
            self._request("tap", id=id, times=times)

    def long_press(self, id: str, seconds: float = 1.0) -> None:
        self._request("long_press", id=id, seconds=seconds, timeout_s=COMMAND_TIMEOUT_S + seconds)

    def type(self, text: str) -> None:
        """Tap the on-screen keys "key:<char>" ("key:space"; upper case: key:shift first)."""
        self._request("type", text=text, timeout_s=COMMAND_TIMEOUT_S + 2 * len(text))

    def keys(self, text: str) -> None:
        """Type `text` on the physical keyboard (the window's text input, any script)."""
        self._request("keys", text=text, timeout_s=COMMAND_TIMEOUT_S + len(text))

    def press_key(self, name: str, *modifiers: str) -> None:
        """A special key by Kivy's name: "enter", "tab", "escape", "backspace", "f2", ..."""
        self._request("press_key", name=name, modifiers=list(modifiers))

    def ids(self) -> list[dict]:
        """Visible widgets in reading order: [{"id", "disabled", "text" (if any)}, ...]."""
        return self._request("ids")

    def id_list(self) -> list[str]:
        return [entry["id"] for entry in self.ids()]

    def text(self, id: str) -> str:
        return self._request("text", id=id)

    def advance(self, seconds: float) -> None:
        """Move the app's injected clock (app.pilot_advance) and settle."""
        self._request("advance", seconds=seconds)

    def settle(self) -> None:
        self._request("settle")

    def state(self) -> dict:
        """app.pilot_state() once settled ({} if the app has no such hook)."""
        return self._request("state")

    def screenshot(self, path: str | os.PathLike) -> Path:
        """Save the next frame, once settled, as a PNG; returns its absolute path."""
        return Path(self._request("screenshot", path=str(Path(path).resolve())))

    def layout(self) -> list[dict]:
        """What is broken on the screen now: [{kind, widget, detail}] (testing/layout_check.py)."""
        return self.request("layout")

    def call(self, name: str, *args) -> Any:
        """app.pilot_call(name, *args): the app's own test hooks."""
        return self._request("call", name=name, args=list(args))

    def quit(self) -> None:
        self._request("quit")

    def wait_until(self, predicate: Callable[[dict], bool], timeout_s: float = 10,
                   interval_s: float = 0.1) -> dict:
        """Poll state() until predicate(state) is true; returns that state. PilotError with
        the last state seen on timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.state()
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise PilotError(f"condition not met within {timeout_s:g} s; "
                                 f"last state: {json.dumps(state, ensure_ascii=False)[:2000]}")
            time.sleep(interval_s)

    # -- the wire --------------------------------------------------------------------------

    def request(self, cmd: str, **args) -> Any:
        """Send any command; returns its result (PilotError if the app refused it)."""
        return self._request(cmd, **args)

    def _request(self, cmd: str, timeout_s: float = COMMAND_TIMEOUT_S, **args) -> Any:
        if self.proc.poll() is not None:
            raise self._died(cmd)
        if self._out_of_step:
            raise PilotError(f"{cmd}: not sent, {self._out_of_step}")
        line = json.dumps({"cmd": cmd, **args}).encode() + b"\n"
        try:
            self._sock.sendall(line)
        except OSError as exc:
            raise self._died(cmd, exc) from None
        reply = self._read_reply(cmd, timeout_s)
        if reply.get("ok"):
            return reply.get("result")
        message = str(reply.get("error", reply))
        if reply.get("crashed"):
            try:
                self.proc.wait(timeout=10)  # it fails for real now; get its last words
            except subprocess.TimeoutExpired:
                pass
            raise PilotError(f"{cmd}: {message}" + self._status() + _tail(self.stderr_path))
        raise PilotError(f"{cmd}: {message}")

    def _read_reply(self, cmd: str, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        self._sock.settimeout(0.2)
        while b"\n" not in self._buffer:
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout:
                if self.proc.poll() is not None:
                    raise self._died(cmd) from None
                if time.monotonic() > deadline:
                    # A late reply would be taken for the next command's.
                    self._out_of_step = f"the app did not answer {cmd!r} in time"
                    raise PilotError(f"{cmd}: no reply within {timeout_s:g} s"
                                     + _tail(self.stderr_path)) from None
                continue
            except OSError as exc:
                raise self._died(cmd, exc) from None
            if not chunk:
                raise self._died(cmd)
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def _died(self, cmd: str, exc: BaseException | None = None) -> PilotError:
        try:
            self.proc.wait(timeout=10)  # the connection closes a moment before the exit
        except subprocess.TimeoutExpired:
            pass
        what = (f"the app exited with code {self.proc.returncode}"
                if self.proc.returncode is not None else
                f"the pilot connection was lost ({exc or 'closed'})")
        return PilotError(f"{cmd}: {what}" + _tail(self.stderr_path))

    def _status(self) -> str:
        code = self.proc.poll()
        return f"\n(the app exited with code {code})" if code is not None else ""

    def _keep_logs(self) -> None:
        for path, attr in ((self.stderr_path, "_stderr"), (self.stdout_path, "_stdout")):
            setattr(self, attr, _read(path))

    def _read_log(self, path: Path, attr: str) -> str:
        kept = getattr(self, attr, None)
        return kept if kept is not None else _read(path)


def _try_connect(path: Path) -> socket.socket | None:
    if not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    return sock


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _tail(path: Path) -> str:
    text = _read(path).strip()
    if not text:
        return "\n(the app wrote nothing to stderr)"
    if len(text) > STDERR_TAIL_CHARS:
        text = "..." + text[-STDERR_TAIL_CHARS:]
    return "\napp stderr:\n" + text


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
