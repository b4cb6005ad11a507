"""The decoder chain: what it reports for each kind of code, which backend answers, and how it
behaves when a backend is missing or the frame is bad."""
import builtins
import io

import numpy as np
import pytest
import segno
from PIL import Image

from devices.scanning import decoders
from devices.scanning.decoders import Decoded, DecoderChain, decode_file

TICKET = "NFT:MUH:01M8693800V3RS3DTR98H6BCFN"


def qr_array(content, scale=4, border=4, **make) -> np.ndarray:
    buf = io.BytesIO()
    segno.make(content, **{"micro": False, **make}).save(buf, kind="png", scale=scale,
                                                         border=border)
    return np.asarray(Image.open(buf).convert("L"))


def on_frame(*placed, size=(480, 640)) -> np.ndarray:
    """A white frame with each (image, (x, y)) pasted at its top-left corner."""
    frame = np.full(size, 255, np.uint8)
    for image, (x, y) in placed:
        frame[y:y + image.shape[0], x:x + image.shape[1]] = image
    return frame


def ean13_array() -> np.ndarray:
    import barcode
    from barcode.writer import ImageWriter

    image = barcode.get("ean13", "590123412345", writer=ImageWriter()).render()
    return np.asarray(image.convert("L"))


def close(corners, expected, tolerance=4):
    return len(corners) == 4 and all(abs(a - c) <= tolerance and abs(b - d) <= tolerance
                                     for (a, b), (c, d) in zip(corners, expected))


@pytest.fixture(scope="module")
def chain():
    c = DecoderChain()
    assert c.available == ("zxing", "zbar"), c.missing
    return c


# --- what a result says ---------------------------------------------------------------------

def test_a_clean_qr_code_is_read_by_zxing_with_its_corners(chain):
    qr = qr_array(TICKET, scale=5)  # 25 modules + 2 x 4 quiet = 165 px
    found = chain.decode(on_frame((qr, (100, 50))))
    assert len(found) == 1
    code = found[0]
    assert isinstance(code, Decoded)
    assert (code.text, code.raw, code.symbology, code.backend) == \
        (TICKET, TICKET.encode(), "QRCode", "zxing")
    # the symbol starts after the 4-module quiet zone: 100 + 20, 50 + 20, 125 px wide
    assert close(code.corners, ((120, 70), (245, 70), (245, 195), (120, 195)))
    with pytest.raises(AttributeError):
        code.text = "changed"  # frozen


def test_an_ean13_is_reported_as_ean13_not_as_a_qr_code(chain):
    found = chain.decode(on_frame((ean13_array(), (40, 60))))
    assert [(c.symbology, c.text, c.backend) for c in found] == \
        [("EAN13", "5901234123457", "zxing")]
    assert len(found[0].corners) == 4


def test_formats_qr_ignores_other_symbologies():
    frame = on_frame((ean13_array(), (40, 60)))
    assert DecoderChain(formats="qr").decode(frame) == []
    with pytest.raises(ValueError, match="formats"):
        DecoderChain(formats="barcodes")


def test_formats_qr_means_qr_code_not_micro_qr():
    """zxing-cpp 3's QRCode is the whole family; a Micro QR M1 has no error correction and
    can be read out of a big code's finder pattern, so "qr" leaves Micro QR and rMQR out."""
    micro = qr_array("12345", scale=6, micro=True)
    frame = on_frame((micro, (50, 50)))
    assert DecoderChain(formats="qr").decode(frame) == []
    assert [(c.symbology, c.text) for c in DecoderChain().decode(frame)] == \
        [("MicroQRCode", "12345")]


def test_a_symbol_inside_a_larger_one_is_dropped():
    def code(text, x0, y0, x1, y1, symbology="QRCode"):
        return Decoded(text, text.encode(), symbology, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)),
                       "zxing")

    big, piece = code("NF1:A", 100, 100, 400, 400), code("513263", 110, 110, 160, 160,
                                                          "MicroQRCode")
    beside = code("NFT:B", 420, 100, 520, 200)
    assert decoders._without_nested([big, piece, beside]) == [big, beside]
    assert decoders._without_nested([piece, big]) == [big]
    assert decoders._without_nested([piece]) == [piece]


def test_binary_content_keeps_its_bytes_and_has_no_text():
    data = bytes(np.random.default_rng(3).integers(0, 256, 120, dtype=np.uint8))
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    frame = on_frame((qr_array(data, error="m"), (20, 20)))
    for backends in (("zxing",), ("zbar",)):  # zbar too: asked for its bytes unconverted
        [code] = DecoderChain(backends).decode(frame)
        assert code.backend == backends[0]
        assert code.raw == data
        assert code.text is None


def test_utf8_text_is_text_and_latin1_bytes_are_not(chain):
    arabic = "رخصة بناء"
    [code] = chain.decode(on_frame((qr_array(arabic), (20, 20))))
    assert code.text == arabic and code.raw == arabic.encode("utf-8")
    [code] = DecoderChain(("zbar",)).decode(on_frame((qr_array(arabic), (20, 20))))
    assert code.text == arabic
    # segno writes "café" in ISO 8859-1: the byte 0xE9 is not UTF-8, so no text (our codes
    # are ASCII; anything else is not one of ours), the bytes as they are
    [code] = chain.decode(on_frame((qr_array("café"), (20, 20))))
    assert code.raw == b"caf\xe9" and code.text is None


def test_a_qr_code_holding_3kb_of_text_is_read_whole(chain):
    text = ("NF1:" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:" * 70)[:3000]
    qr = qr_array(text, scale=3, error="l")
    assert qr.shape[0] <= 640
    frame = np.full((qr.shape[0] + 40, qr.shape[1] + 40), 255, np.uint8)
    frame[20:-20, 20:-20] = qr
    [code] = chain.decode(frame)
    assert code.text == text and len(code.raw) == 3000


def test_every_code_of_a_frame_is_returned(chain):
    licence_like = "NF1:" + "6BFOXN%TS3DH0YOJ58S S-W5HDC *PEE/P8IKH" * 8
    frame = on_frame((qr_array(TICKET, scale=4), (20, 40)),
                     (qr_array(licence_like, scale=4), (260, 40)))
    found = chain.decode(frame)
    assert sorted(c.text for c in found) == sorted([TICKET, licence_like])
    assert {c.backend for c in found} == {"zxing"}


# --- frames ---------------------------------------------------------------------------------

def test_nothing_to_read_gives_an_empty_list(chain):
    assert chain.decode(np.full((480, 640), 255, np.uint8)) == []
    assert chain.decode(np.random.default_rng(1).integers(0, 256, (480, 640), np.uint8)) == []
    assert chain.decode(None) == []
    assert chain.decode(np.zeros((0, 0), np.uint8)) == []
    assert chain.decode(np.zeros((480, 0, 3), np.uint8)) == []
    assert chain.decode(np.zeros((1, 1), np.uint8)) == []


def test_bgr_bgra_pil_and_float_frames_are_read_like_grey(chain):
    grey = on_frame((qr_array(TICKET), (30, 30)))
    bgr = np.repeat(grey[:, :, None], 3, axis=2)
    bgra = np.concatenate([bgr, np.full(grey.shape + (1,), 255, np.uint8)], axis=2)
    inputs = [grey, bgr, bgra, grey[:, :, None], Image.fromarray(bgr[:, :, ::-1]),
              grey.astype(np.float32) / 255, grey > 127, bgr[:, ::-1][:, ::-1]]
    for frame in inputs:
        assert [c.text for c in chain.decode(frame)] == [TICKET]


def test_something_that_is_not_a_frame_is_a_type_error(chain):
    for bad in ("frame.png", [[0, 255], [255, 0]], np.zeros((4, 4, 2), np.uint8),
                np.zeros(10, np.uint8), np.array([["a"]])):
        with pytest.raises(TypeError):
            chain.decode(bad)


# --- backends -------------------------------------------------------------------------------

def test_zbar_alone_reads_with_the_same_shape_of_result():
    qr = qr_array(TICKET, scale=5)
    zbar = DecoderChain(("zbar",))
    assert zbar.available == ("zbar",)
    [code] = zbar.decode(on_frame((qr, (100, 50))))
    assert (code.text, code.raw, code.symbology, code.backend) == \
        (TICKET, TICKET.encode(), "QRCode", "zbar")
    assert close(code.corners, ((120, 70), (245, 70), (245, 195), (120, 195)))
    [ean] = zbar.decode(on_frame((ean13_array(), (40, 60))))
    assert (ean.symbology, ean.text, len(ean.corners)) == ("EAN13", "5901234123457", 4)


def test_both_backends_give_the_corners_in_the_symbols_own_order():
    import cv2

    frame = cv2.rotate(on_frame((qr_array(TICKET, scale=5), (100, 50))),
                       cv2.ROTATE_90_CLOCKWISE)
    [zx] = DecoderChain(("zxing",)).decode(frame)
    [zb] = DecoderChain(("zbar",)).decode(frame)
    assert close(zb.corners, zx.corners)
    # the symbol's top-left corner is now at the top right of the frame
    assert zx.corners[0][0] > zx.corners[2][0] and zx.corners[0][1] < zx.corners[2][1]


def test_zbar_answers_only_when_zxing_finds_nothing(monkeypatch):
    import zxingcpp

    frame = on_frame((qr_array(TICKET), (30, 30)))
    chain = DecoderChain()
    assert [c.backend for c in chain.decode(frame)] == ["zxing"]
    monkeypatch.setattr(zxingcpp, "read_barcodes", lambda *a, **k: [])
    assert [(c.backend, c.text) for c in chain.decode(frame)] == [("zbar", TICKET)]


def test_a_code_read_on_the_upscaled_pass_has_its_corners_in_frame_pixels(monkeypatch):
    """The passes after the first run only when it finds nothing; the last one reads a 1.5x
    image, and its corners are brought back to the frame."""
    import zxingcpp

    frame = on_frame((qr_array(TICKET, scale=4), (60, 40)))
    [direct] = DecoderChain(("zxing",)).decode(frame)
    real, calls = zxingcpp.read_barcodes, []

    def only_the_last_pass(image, **options):
        calls.append((image.shape, options.get("binarizer")))
        return real(image, **options) if len(calls) == 4 else []

    monkeypatch.setattr(zxingcpp, "read_barcodes", only_the_last_pass)
    [code] = DecoderChain(("zxing",)).decode(frame)
    assert len(calls) == 4
    assert calls[1][1] == zxingcpp.Binarizer.GlobalHistogram
    assert calls[3][0] == (720, 960)
    assert code.text == TICKET and close(code.corners, direct.corners, tolerance=3)


def test_a_backend_library_failing_on_frames_does_not_raise_and_logs_once(monkeypatch,
                                                                         caplog):
    import logging

    import zxingcpp

    real = zxingcpp.read_barcodes

    def broken(*a, **k):
        raise RuntimeError("decoder crashed")

    frame = on_frame((qr_array(TICKET), (30, 30)))
    chain, zxing_only = DecoderChain(), DecoderChain(("zxing",))
    caplog.set_level(logging.INFO, logger="devices.scanning.decoders")
    monkeypatch.setattr(zxingcpp, "read_barcodes", broken)
    for _ in range(3):
        assert [c.backend for c in chain.decode(frame)] == ["zbar"]
    assert zxing_only.decode(frame) == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "decoder crashed" in warnings[0].getMessage()  # per chain
    monkeypatch.setattr(zxingcpp, "read_barcodes", real)
    caplog.clear()
    assert [c.backend for c in chain.decode(frame)] == ["zxing"]
    assert [r.getMessage() for r in caplog.records] == ["zxing-cpp decodes frames again"]


def failing_import(monkeypatch, *names):
    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.split(".")[0] in names:
            raise ImportError(f"No module named {name!r} (test)")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)


def test_without_pyzbar_the_chain_has_zxing_only(monkeypatch):
    failing_import(monkeypatch, "pyzbar")
    chain = DecoderChain()
    assert chain.available == ("zxing",)
    assert list(chain.missing) == ["zbar"] and "pyzbar" in chain.missing["zbar"]
    assert [c.text for c in chain.decode(on_frame((qr_array(TICKET), (30, 30))))] == [TICKET]


def test_without_zxing_the_chain_falls_to_zbar(monkeypatch):
    failing_import(monkeypatch, "zxingcpp")
    chain = DecoderChain()
    assert chain.available == ("zbar",)
    assert "zxingcpp" in chain.missing["zxing"]
    assert [(c.backend, c.text) for c in chain.decode(on_frame((qr_array(TICKET), (30, 30))))] \
        == [("zbar", TICKET)]


def test_without_any_backend_the_chain_reads_nothing_and_says_why(monkeypatch):
    failing_import(monkeypatch, "zxingcpp", "pyzbar")
    chain = DecoderChain()
    assert chain.available == ()
    assert set(chain.missing) == {"zxing", "zbar"}
    assert chain.decode(on_frame((qr_array(TICKET), (30, 30)))) == []


def test_an_unknown_backend_is_listed_as_missing_and_order_is_kept():
    chain = DecoderChain(("zbar", "opencv-wechat", "zxing"))
    assert chain.available == ("zbar", "zxing")
    assert "unknown backend" in chain.missing["opencv-wechat"]
    [code] = chain.decode(on_frame((qr_array(TICKET), (30, 30))))
    assert code.backend == "zbar"


def test_the_module_imports_without_either_library():
    """In a fresh interpreter where zxingcpp, pyzbar and cv2 cannot be imported."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys\n"
        "for name in ('zxingcpp', 'pyzbar', 'cv2'): sys.modules[name] = None\n"
        "import numpy as np\n"
        "from devices.scanning.decoders import DecoderChain, to_gray\n"
        "chain = DecoderChain()\n"
        "print(chain.available, sorted(chain.missing))\n"
        "print(chain.decode(np.full((20, 20), 255, np.uint8)))\n"
        "print(to_gray(np.full((2, 2, 3), (10, 20, 30), np.uint8)).tolist())\n")
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # without OpenCV a BGR frame is still turned grey, with OpenCV's weights
    assert out.stdout.splitlines() == ["() ['zbar', 'zxing']", "[]", "[[22, 22], [22, 22]]"]


# --- files ----------------------------------------------------------------------------------

def test_decode_file_reads_an_image(tmp_path):
    path = tmp_path / "licence.png"
    Image.fromarray(on_frame((qr_array(TICKET), (30, 30)))).save(path)
    [code] = decode_file(path)
    assert (code.text, code.symbology) == (TICKET, "QRCode")
    assert decode_file(str(path))[0].text == TICKET


def test_decode_file_refuses_what_is_not_an_image(tmp_path):
    not_image = tmp_path / "notes.png"
    not_image.write_text("this is not a picture", encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable image"):
        decode_file(not_image)
    with pytest.raises(ValueError, match="no such image"):
        decode_file(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="no such image"):
        decode_file(tmp_path)
