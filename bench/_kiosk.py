"""The kiosk benchmark's bench: its own Xvfb, and the real `nafitha kiosk --windowed` driven by
the pilot with a fake network printer, a simulated card terminal on a pty and a camera that
sees an image file. The same setup as tests/ui/kiosk_rig.py and the Xvfb start of
tests/ui/conftest.py, which the benchmarks do not import (tests may change them freely)."""
from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ui.pilot_client import Pilot  # noqa: E402  (imports no Kivy)

SCREEN = "1920x1080x24"
XVFB_START_TIMEOUT_S = 30
NAFITHA = str(Path(sys.executable).with_name("nafitha"))
MINIMAL_APP = str(ROOT / "bench" / "_minimal_kivy_app.py")
# The pilot's frozen clock starts here (as in the UI tests): dates do not move, and the
# idle timer never fires in the middle of a scripted journey.
START = "2026-11-24T09:00:00+03:00"


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
            raise RuntimeError("Xvfb is not installed (Debian package xvfb): run make setup")
        read_fd, write_fd = os.pipe()
        log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [xvfb, "-displayfd", str(write_fd), "-screen", "0", self.screen, "-nolisten", "tcp"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=log)
        os.close(write_fd)
        try:
            data = b""
            while not data.endswith(b"\n"):
                ready, _, _ = select.select([read_fd], [], [], XVFB_START_TIMEOUT_S)
                chunk = os.read(read_fd, 64) if ready else b""
                if not chunk:
                    log.seek(0)
                    reason = log.read().decode(errors="replace").strip()[-2000:]
                    raise RuntimeError(f"Xvfb did not report a display: {reason or '(no output)'}")
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


class KioskBench:
    """A data directory with a certified device, the devices the kiosk talks to, and
    launch() for `nafitha kiosk --windowed` on them (as often as wanted)."""

    def __init__(self, tmp: Path, lang: str = "ar"):
        from core.catalog import load_catalog
        from core.clock import FrozenClock
        from core.credentials import ceremony, keys
        from core.settings import load_settings
        from devices.payment.simulator import SimulatedTerminal
        from devices.printing.fakes import FakeNetworkPrinter

        self.tmp = Path(tmp)
        self.data = self.tmp / "data"
        self.camera_image = self.tmp / "camera.png"
        self.lang = lang
        self.printer = FakeNetworkPrinter().start()
        self.terminal = SimulatedTerminal(default="approved").start()
        settings = load_settings(self.data, environ={})
        ceremony.setup_device(self.data, keys.generate(), settings.device.id,
                              settings.office.code, [s.licence_type for s in load_catalog()],
                              int(FrozenClock(START).now().timestamp()) - 60)
        self.env = {
            "NAFITHA_PRINTER__TRANSPORT": "network",
            "NAFITHA_PRINTER__HOST": self.printer.host,
            "NAFITHA_PRINTER__PORT": str(self.printer.port),
            "NAFITHA_PRINTER__TIMEOUT_S": "1",
            "NAFITHA_PAYMENT__TRANSPORT": "serial",
            "NAFITHA_PAYMENT__PORT": self.terminal.port,
            "NAFITHA_PAYMENT__TIMEOUT_S": "5",
            "NAFITHA_SCANNER__SOURCE": str(self.camera_image),
            "NAFITHA_SCANNER__DEBOUNCE_S": "0",
            "NAFITHA_KIOSK__LANGUAGE": lang,
            "NAFITHA_PILOT_CLOCK": START,
        }

    def argv(self) -> list[str]:
        return [NAFITHA, "--data", str(self.data), "kiosk", "--windowed"]

    def launch(self) -> Pilot:
        return Pilot.launch(self.argv(), env=self.env, cwd=ROOT, timeout_s=90)

    def close(self) -> None:
        self.terminal.stop()
        self.printer.stop()

    def show_qr(self, text: str) -> None:
        """Put a QR in front of the camera (read when the next scan screen opens)."""
        import cv2

        from devices.scanning.fakes import qr_frame

        part = self.camera_image.with_suffix(".tmp.png")
        cv2.imwrite(str(part), qr_frame(text, scale=6))
        os.replace(part, self.camera_image)

    def store_counts(self) -> dict:
        """Rows in the kiosk's store, read beside the running app (WAL)."""
        from core.clock import FrozenClock
        from core.office import Office
        from core.settings import load_settings

        clock = FrozenClock(START)
        clock.advance(seconds=3600)
        office = Office.open(load_settings(self.data, environ={}), clock=clock)
        try:
            count = lambda sql: office.store.one(sql)["n"]  # noqa: E731
            return {
                "tickets": count("SELECT COUNT(*) AS n FROM tickets"),
                "applications": count("SELECT COUNT(*) AS n FROM applications"),
                "applications_issued": count(
                    "SELECT COUNT(*) AS n FROM applications WHERE state = 'issued'"),
                "payments_card": count(
                    "SELECT COUNT(*) AS n FROM payments WHERE method = 'card'"),
                "licences": count("SELECT COUNT(*) AS n FROM licences"),
            }
        finally:
            office.close()

    def first_licence_payload(self) -> str:
        from core.clock import FrozenClock
        from core.office import Office
        from core.settings import load_settings

        office = Office.open(load_settings(self.data, environ={}), clock=FrozenClock(START))
        try:
            row = office.store.one("SELECT signed_payload FROM licences ORDER BY issued_at "
                                   "LIMIT 1")
        finally:
            office.close()
        if row is None:
            raise RuntimeError("no licence issued yet")
        return row["signed_payload"]


def launch_minimal(tmp: Path) -> Pilot:
    """The baseline app: one window of the kiosk's size with one label, and the pilot."""
    return Pilot.launch([sys.executable, MINIMAL_APP, str(tmp)], cwd=ROOT, timeout_s=90)


def proc_status(pid: int) -> dict:
    """VmRSS / VmHWM (KiB) and Threads from /proc/<pid>/status, and open file descriptors."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[key] = int(value.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out
