"""The kiosk benchmark's bench: the real `nafitha kiosk --windowed` driven by the pilot with a
fake network printer, a simulated card terminal on a pty and a camera that sees an image file.
tests/ui/kiosk_rig.py builds on KioskBench; the virtual display is testing/xvfb.py."""
from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from testing.pilot_client import Pilot  # noqa: E402  (imports no Kivy)

NAFITHA = str(Path(sys.executable).with_name("nafitha"))
MINIMAL_APP = str(ROOT / "bench" / "_minimal_kivy_app.py")
# The pilot's frozen clock starts here (as in the UI tests): dates do not move, and the
# idle timer never fires in the middle of a scripted journey.
START = "2026-11-24T09:00:00+03:00"


class AppBench:
    """What the kiosk and counter benches share: a data directory with a certified device
    (a fresh root key), a fake network printer that records every byte, a camera that sees
    an image file, and the environment that points the app at them."""

    def __init__(self, tmp: Path, lang: str = "ar", printer_state: str = "ok",
                 camera: bool = True, extra_env: dict | None = None):
        from core.catalog import load_catalog
        from core.clock import FrozenClock
        from core.credentials import ceremony, keys
        from core.settings import load_settings
        from devices.printing.fakes import FakeNetworkPrinter

        self.tmp = Path(tmp)
        self.data = self.tmp / "data"
        self.camera_image = self.tmp / "camera.png"
        self.lang = lang
        self.printer = FakeNetworkPrinter(state=printer_state).start()
        settings = load_settings(self.data, environ={})
        self.root_key = keys.generate()
        ceremony.setup_device(self.data, self.root_key, settings.device.id,
                              settings.office.code,
                              [s.licence_type for s in load_catalog(settings.catalog_dir)],
                              int(FrozenClock(START).now().timestamp()) - 60)
        self.env = {
            "NAFITHA_PRINTER__TRANSPORT": "network",
            "NAFITHA_PRINTER__HOST": self.printer.host,
            "NAFITHA_PRINTER__PORT": str(self.printer.port),
            "NAFITHA_PRINTER__TIMEOUT_S": "1",
            # A device that does not exist: the camera is unavailable.
            "NAFITHA_SCANNER__SOURCE": str(self.camera_image) if camera
            else "/dev/video-none-42",
            "NAFITHA_SCANNER__DEBOUNCE_S": "0",
            "NAFITHA_PILOT_CLOCK": START,
            **(extra_env or {}),
        }

    def argv(self, windowed: bool = True) -> list[str]:
        raise NotImplementedError

    def launch(self, windowed: bool = True) -> Pilot:
        return Pilot.launch(self.argv(windowed), env=self.env, cwd=ROOT, timeout_s=90)

    def close(self) -> None:
        self.printer.stop()

    def show_qr(self, text: str) -> None:
        """Put a QR in front of the camera (read when the next scan screen opens)."""
        import cv2

        from devices.scanning.fakes import qr_frame

        part = self.camera_image.with_suffix(".tmp.png")
        cv2.imwrite(str(part), qr_frame(text, scale=6))
        os.replace(part, self.camera_image)

    def office(self):
        """The app's store, opened beside the running app (WAL), an hour after the pilot's
        clock started (the app's own time, not this machine's)."""
        from core.clock import FrozenClock
        from core.office import Office
        from core.settings import load_settings

        clock = FrozenClock(START)
        clock.advance(seconds=3600)
        return Office.open(load_settings(self.data, environ={}), clock=clock)


class KioskBench(AppBench):
    """The kiosk on the bench: also a simulated card terminal on a real pseudo-terminal;
    launch() starts `nafitha kiosk --windowed` on it (as often as wanted)."""

    def __init__(self, tmp: Path, lang: str = "ar", printer_state: str = "ok",
                 camera: bool = True, extra_env: dict | None = None):
        from devices.payment.simulator import SimulatedTerminal

        self.terminal = SimulatedTerminal(default="approved").start()
        super().__init__(tmp, lang, printer_state, camera, {
            "NAFITHA_PAYMENT__TRANSPORT": "serial",
            "NAFITHA_PAYMENT__PORT": self.terminal.port,
            "NAFITHA_PAYMENT__TIMEOUT_S": "5",
            "NAFITHA_KIOSK__LANGUAGE": lang,
            **(extra_env or {})})

    def argv(self, windowed: bool = True) -> list[str]:
        return [NAFITHA, "--data", str(self.data), "kiosk"] + (["--windowed"] if windowed else [])

    def close(self) -> None:
        self.terminal.stop()
        super().close()

    def store_counts(self) -> dict:
        """Rows in the kiosk's store, read beside the running app (WAL)."""
        office = self.office()
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
        office = self.office()
        try:
            row = office.store.one("SELECT number FROM licences ORDER BY issued_at LIMIT 1")
            if row is None:
                raise RuntimeError("no licence issued yet")
            return office.licences.get(row["number"])["signed_payload"]
        finally:
            office.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values_s: list[float]) -> dict:
    """p50 / p95 / max in ms of durations given in seconds."""
    if not values_s:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    ms = [v * 1000 for v in values_s]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(percentile(ms, 0.95), 1), "max_ms": round(max(ms), 1)}


def valid_cpr(i: int) -> str:
    from core.text import with_check_digit
    return with_check_digit(f"{88010000 + i % 1_000_000:08d}", "luhn")


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
