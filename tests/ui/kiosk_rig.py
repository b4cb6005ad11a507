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

from devices.scanning.fakes import blank_frame

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "devices" / "printing"))
from bench_loader import load_bench  # noqa: E402
from escpos_decode import decode_raster  # noqa: E402


def printed_images(printer) -> list:
    """Every raster image a fake printer received, as PIL images."""
    return [img for job in printer.jobs for img in decode_raster(job)]


def printed_qr_texts(printer) -> list[str]:
    """What a camera would read off the printed paper."""
    texts = []
    for image in printed_images(printer):
        found = zxingcpp.read_barcodes(image.convert("L"),
                                       formats=zxingcpp.BarcodeFormat.QRCode)
        texts.extend(b.text for b in found)
    return texts


# The bench's kiosk set-up (certified data directory, fake printer, simulated terminal,
# camera image, frozen clock): the benchmark and the tests drive the same kiosk.
KioskBench = load_bench("_kiosk").KioskBench
START = load_bench("_kiosk").START
PERSON = {
    "ar": {"full_name": "فاطمة علي", "national_id": "880101233", "phone": "36001234"},
    "en": {"full_name": "Mariam Hasan", "national_id": "900202342", "phone": "39001122"},
}


class KioskRig(KioskBench):
    def __init__(self, tmp_path: Path, lang: str = "ar", windowed: bool = True,
                 printer_state: str = "ok", extra_env: dict | None = None,
                 camera: bool = True):
        super().__init__(Path(tmp_path), lang, printer_state=printer_state, camera=camera,
                         extra_env=extra_env)
        self.windowed = windowed
        self.pilot = None

    def start(self) -> "KioskRig":
        self.pilot = self.launch(self.windowed)
        return self

    def close(self) -> None:
        try:
            if self.pilot is not None:
                self.pilot.close()
        finally:
            super().close()

    def __enter__(self) -> "KioskRig":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- what came out ----------------------------------------------------------------
    def printed_images(self) -> list:
        return printed_images(self.printer)

    def printed_qr_texts(self) -> list[str]:
        return printed_qr_texts(self.printer)

    # --- what the camera sees -----------------------------------------------------------
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
