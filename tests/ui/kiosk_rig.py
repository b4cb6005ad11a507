"""A kiosk on a test bench: the real app (`nafitha kiosk`) in its own process under Xvfb,
driven by the pilot, with a fake network printer that records every byte, a simulated card
terminal on a real pseudo-terminal, a camera that "sees" an image file, and the store read
back from the test process.

    with KioskRig(tmp_path) as rig:
        rig.pilot.tap("home:ticket")
        rig.printed_qr_texts()   # what the camera would read off the printed paper
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import zxingcpp

from core.catalog import load_catalog
from core.clock import FrozenClock
from core.credentials import ceremony, keys
from core.office import Office
from core.settings import load_settings
from devices.payment.simulator import SimulatedTerminal
from devices.printing.fakes import FakeNetworkPrinter
from devices.scanning.fakes import blank_frame, qr_frame
from ui.pilot_client import Pilot

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "devices" / "printing"))
from escpos_decode import decode_raster  # noqa: E402

NAFITHA = str(Path(sys.executable).with_name("nafitha"))
# The pilot's frozen clock starts here, so dates on screen and paper do not move.
START = "2026-11-24T09:00:00+03:00"
PERSON = {
    "ar": {"full_name": "فاطمة علي", "national_id": "880101233", "phone": "36001234"},
    "en": {"full_name": "Mariam Hasan", "national_id": "900202342", "phone": "39001122"},
}


def valid_id(seed: str) -> str:
    """A 9-digit CPR that passes the Luhn check (the default national_id_check)."""
    from core.text import with_check_digit
    return with_check_digit(seed[:8], "luhn")


class KioskRig:
    def __init__(self, tmp_path: Path, lang: str = "ar", windowed: bool = True,
                 printer_state: str = "ok", extra_env: dict | None = None,
                 camera: bool = True):
        self.tmp = Path(tmp_path)
        self.data = self.tmp / "data"
        self.camera_image = self.tmp / "camera.png"
        self.lang, self.windowed = lang, windowed
        self.printer = FakeNetworkPrinter(state=printer_state).start()
        self.terminal = SimulatedTerminal(default="approved").start()
        self.root_key = keys.generate()
        settings = load_settings(self.data, environ={})
        ceremony.setup_device(self.data, self.root_key, settings.device.id,
                              settings.office.code,
                              [s.licence_type for s in load_catalog()],
                              int(FrozenClock(START).now().timestamp()) - 60)
        self.env = {
            "NAFITHA_PRINTER__TRANSPORT": "network",
            "NAFITHA_PRINTER__HOST": self.printer.host,
            "NAFITHA_PRINTER__PORT": str(self.printer.port),
            "NAFITHA_PRINTER__TIMEOUT_S": "1",
            "NAFITHA_PAYMENT__TRANSPORT": "serial",
            "NAFITHA_PAYMENT__PORT": self.terminal.port,
            "NAFITHA_PAYMENT__TIMEOUT_S": "5",
            "NAFITHA_SCANNER__SOURCE": str(self.camera_image) if camera
            else "/dev/video-none-42",
            "NAFITHA_SCANNER__DEBOUNCE_S": "0",
            "NAFITHA_KIOSK__LANGUAGE": lang,
            "NAFITHA_PILOT_CLOCK": START,
            **(extra_env or {}),
        }
        self.pilot: Pilot | None = None

    def start(self) -> "KioskRig":
        argv = [NAFITHA, "--data", str(self.data), "kiosk"] + \
            (["--windowed"] if self.windowed else [])
        self.pilot = Pilot.launch(argv, env=self.env, cwd=ROOT, timeout_s=90)
        return self

    def close(self) -> None:
        try:
            if self.pilot is not None:
                self.pilot.close()
        finally:
            self.terminal.stop()
            self.printer.stop()

    def __enter__(self) -> "KioskRig":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- what came out ----------------------------------------------------------------
    def printed_images(self) -> list:
        return [img for job in self.printer.jobs for img in decode_raster(job)]

    def printed_qr_texts(self) -> list[str]:
        texts = []
        for image in self.printed_images():
            found = zxingcpp.read_barcodes(image.convert("L"),
                                           formats=zxingcpp.BarcodeFormat.QRCode)
            texts.extend(b.text for b in found)
        return texts

    def office(self) -> Office:
        """The kiosk's store, opened from the test (WAL: safe beside the running app), an
        hour after the pilot's clock started (the kiosk's own time, not this machine's)."""
        clock = FrozenClock(START)
        clock.advance(seconds=3600)
        return Office.open(load_settings(self.data, environ={}), clock=clock)

    # --- what the camera sees -----------------------------------------------------------
    def show_qr(self, text: str) -> None:
        """Put a QR in front of the camera (for the next time a scan screen opens)."""
        frame = qr_frame(text, scale=6)
        tmp = self.camera_image.with_suffix(".tmp.png")
        cv2.imwrite(str(tmp), frame)
        os.replace(tmp, self.camera_image)

    def show_scene(self) -> None:
        """Nothing readable in front of the camera: a plain grey scene with a dark box."""
        frame = blank_frame(640, 480, 190)
        frame[120:360, 200:440] = 70
        tmp = self.camera_image.with_suffix(".tmp.png")
        cv2.imwrite(str(tmp), frame)
        os.replace(tmp, self.camera_image)

    # --- driving ---------------------------------------------------------------------
    def state(self) -> dict:
        return self.pilot.state()

    def wait_screen(self, name: str, timeout_s: float = 20) -> dict:
        return self.pilot.wait_until(lambda s: s["screen"] == name and not s["busy"],
                                     timeout_s=timeout_s)

    def fill_form(self, answers: list[str]) -> None:
        """Type each answer on the on-screen keyboard and go on (a choice: its value)."""
        for answer in answers:
            state = self.state()
            if state["flags"].get("choice"):
                self.pilot.tap(f"option:{answer}")
                continue
            if state["flags"].get("keyboard") == "text" and answer and \
                    _is_arabic(answer) != (self._layout() == "ar"):
                self.pilot.tap("key:switch")
            if answer:
                self.pilot.type(answer)
            self.pilot.tap("next")

    def _layout(self) -> str:
        ids = self.pilot.id_list()
        return "ar" if "key:ب" in ids else "en"

    def go_home(self) -> None:
        self.pilot.tap("home") if "home" in self.pilot.id_list() else None
        self.wait_screen("home")


def _is_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)
