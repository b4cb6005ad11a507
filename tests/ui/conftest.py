"""A virtual X display for tests that drive the real Kivy apps (marked `ui`).

The display is started here rather than by xvfb-run so `pytest` alone works, on a display
number Xvfb picks itself (-displayfd), and is shut down when the session ends."""
from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile

import pytest

SCREEN = "1920x1080x24"
START_TIMEOUT_S = 30


@pytest.fixture(scope="session")
def xvfb_display():
    """Start Xvfb, point DISPLAY (and so every subprocess) at it, yield ":N"."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        # Not a skip: a green run without the UI tests would hide a broken kiosk.
        pytest.fail("Xvfb is not installed (Debian package xvfb): run make setup",
                    pytrace=False)
    read_fd, write_fd = os.pipe()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=log)
    os.close(write_fd)
    try:
        display = _read_display(read_fd, proc, log)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        os.close(read_fd)
    saved = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        if saved is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = saved
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _read_display(fd: int, proc: subprocess.Popen, log) -> str:
    """Xvfb writes the display number to the -displayfd pipe once it accepts clients."""
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], START_TIMEOUT_S)
        chunk = os.read(fd, 64) if ready else b""
        if not chunk:
            log.seek(0)
            reason = log.read().decode(errors="replace").strip()[-2000:]
            state = (f"exited with {proc.poll()}" if proc.poll() is not None
                     else f"did not report a display within {START_TIMEOUT_S} s")
            pytest.fail(f"Xvfb {state}: {reason or '(no output)'}", pytrace=False)
        data += chunk
    return f":{int(data)}"
