"""A virtual X display for running the Kivy apps headless: the UI tests, the benchmarks,
screenshots. Xvfb picks a free display number itself (-displayfd), so several can run at
once; while it runs DISPLAY points at it, for this process and every one it starts."""
from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile

SCREEN = "1920x1080x24"  # the kiosk's full-HD touch monitor
START_TIMEOUT_S = 30


class XvfbError(RuntimeError):
    """Xvfb is missing or did not start (the message says why)."""


class Xvfb:
    """A virtual display on a number Xvfb picks itself (-displayfd); DISPLAY points at it
    (for every process started meanwhile) until close()."""

    def __init__(self, screen: str = SCREEN):
        self.screen = screen
        self.proc: subprocess.Popen | None = None
        self.display: str | None = None
        self._saved = None

    def start(self) -> "Xvfb":
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise XvfbError("Xvfb is not installed (Debian package xvfb): run make setup")
        read_fd, write_fd = os.pipe()
        log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [xvfb, "-displayfd", str(write_fd), "-screen", "0", self.screen, "-nolisten", "tcp"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=log)
        os.close(write_fd)
        try:
            data = b""
            while not data.endswith(b"\n"):
                ready, _, _ = select.select([read_fd], [], [], START_TIMEOUT_S)
                chunk = os.read(read_fd, 64) if ready else b""
                if not chunk:
                    log.seek(0)
                    reason = log.read().decode(errors="replace").strip()[-2000:]
                    raise XvfbError(f"Xvfb did not report a display: {reason or '(no output)'}")
                data += chunk
        except BaseException:
            self._stop()
            raise
        finally:
            os.close(read_fd)
            log.close()
        self.display = f":{int(data)}"
        self._saved = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = self.display
        return self

    def close(self) -> None:
        if self.display is not None:
            if self._saved is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = self._saved
            self.display = None
        self._stop()

    def _stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "Xvfb":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
