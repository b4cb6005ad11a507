"""Issue 5's 'done when': a licence printed through the preview printer's raster,
photographed with the benchmark's distortions and scanned by the decoder chain, verifies."""
import sys
from pathlib import Path

import numpy as np
import pytest

from devices.printing.fakes import RecordingTransport
from core.faces.printing import PrintJobs
from devices.printing.worker import PrintWorker
from devices.scanning.decoders import DecoderChain

from bench_loader import load_bench

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests/devices/printing"))
from escpos_decode import decode_raster  # noqa: E402  (the printing tests' raster decoder)

bench = load_bench("scanning")

CATEGORIES = ("clean", "rotation", "perspective", "blur", "noise", "low_contrast",
              "uneven_light", "small")


@pytest.fixture
def printed_licence(office, issued):
    """The licence as the printer received it: ESC/POS bytes decoded back to the raster."""
    office.settings.printer.width_dots = 384
    lic = issued()
    transport = RecordingTransport()
    office.printing.enqueue("licence", lic["id"])
    assert PrintWorker(PrintJobs(office), transport).print_next() == "printed"
    (raster,) = decode_raster(transport.jobs[0])
    return lic, np.asarray(raster.convert("L"), dtype=np.float32) / 255.0


def qr_box(reflectance: np.ndarray, text: str) -> tuple[int, int, int]:
    """Where the code (with its quiet zone) sits on the paper, found by reading it."""
    found = [d for d in DecoderChain(("zxing",), formats="qr").decode(
        (reflectance * 255).astype(np.uint8)) if d.text == text]
    assert found, "the printed raster itself must read"
    xs = [x for x, _ in found[0].corners]
    ys = [y for _, y in found[0].corners]
    module = (max(xs) - min(xs)) / 89  # a v17-or-smaller code: close enough for a margin
    quiet = int(round(4 * module))
    side = max(xs) - min(xs) + 2 * quiet
    return min(xs) - quiet, min(ys) - quiet, side


@pytest.mark.parametrize("category", CATEGORIES)
def test_the_printed_licence_photographed_and_scanned_verifies(office, printed_licence,
                                                               category, monkeypatch):
    lic, reflectance = printed_licence
    text = lic["signed_payload"]
    box = qr_box(reflectance, text)

    def real_print(_text, rng, margins=None, with_code=True):
        return bench.thermal(1.0 - reflectance, rng, box, text)

    monkeypatch.setattr(bench, "thermal_print", real_print)
    chain = DecoderChain(formats="qr")
    scanned = []
    for index in range(4):
        frame = bench.make_frame(category, index, 2026, [text], [text])
        assert frame.image.shape == (480, 640)
        scanned += [d.text for d in chain.decode(frame.image)]
    assert len(scanned) >= 3, f"{category}: read {len(scanned)} of 4 photographs"
    for code in scanned:  # whatever was read verifies: no misread gets through as genuine
        result = office.verify_licence(code)
        assert result.valid and result.claims["number"] == lic["number"]
