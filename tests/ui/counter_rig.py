"""A counter on a test bench: the real app (`nafitha counter`) in its own process under Xvfb,
driven by the pilot, with a fake network printer that records every byte, a camera that
"sees" an image file, and the store read back from the test process.

    with CounterRig(tmp_path) as rig:
        rig.sign_in()
        rig.pilot.press_key("f2")
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "ui"))
from bench_loader import load_bench  # noqa: E402
from kiosk_rig import printed_images, printed_qr_texts  # noqa: E402

_bench = load_bench("_counter")
CounterBench, CLERK, SUPERVISOR = _bench.CounterBench, _bench.CLERK, _bench.SUPERVISOR


class CounterRig(CounterBench):
    def __init__(self, tmp_path: Path, lang: str = "ar", **kwargs):
        super().__init__(Path(tmp_path), lang, **kwargs)
        self.pilot = None

    def __enter__(self) -> "CounterRig":
        self.pilot = self.launch()
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.pilot is not None:
                self.pilot.close()
        finally:
            self.close()

    # --- driving ---------------------------------------------------------------------
    def state(self) -> dict:
        return self.pilot.state()

    def wait_screen(self, name: str, timeout_s: float = 20) -> dict:
        return self.pilot.wait_until(lambda s: s["screen"] == name and not s["busy"],
                                     timeout_s=timeout_s)

    def sign_in(self, user: tuple[str, str] = CLERK) -> dict:
        _bench.sign_in(self.pilot, user)
        return self.state()

    def type_fields(self, *values: str) -> None:
        """Type each value in the focused field, Tab to the next."""
        for index, value in enumerate(values):
            if index:
                self.pilot.press_key("tab")
            if value:
                self.pilot.keys(value)

    def clear_field(self, key: str) -> None:
        """Tap the field and delete what is in it with Backspace."""
        self.pilot.tap(f"field:{key}")
        for _ in self.state()["form"]["values"][key]:
            self.pilot.press_key("backspace")

    def enter(self) -> dict:
        self.pilot.press_key("enter")
        self.pilot.settle()
        return self.state()

    def notice(self) -> str:
        return self.state()["notice"]["text"]

    # --- what came out ----------------------------------------------------------------
    def printed_images(self) -> list:
        return printed_images(self.printer)

    def printed_qr_texts(self) -> list[str]:
        return printed_qr_texts(self.printer)

    def wait_printed(self, jobs: int, timeout_s: float = 20) -> list[bytes]:
        """Until the fake printer has received `jobs` documents (the counter prints from
        its own thread, after the step that queued the document has finished)."""
        got = self.printer.wait_for_jobs(jobs, timeout=timeout_s)
        assert len(got) >= jobs, f"the printer received {len(got)} documents, not {jobs}"
        return got
