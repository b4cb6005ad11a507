"""raster_job: 1-bit images become ESC/POS bytes that decode back to the same pixels."""
import random
import subprocess
import sys
from pathlib import Path

import pytest
from escpos_decode import decode_raster, parse_commands
from PIL import Image, ImageChops, ImageDraw

from devices.printing.escpos_encode import (RASTER_STRIP_HEIGHT, profile_names, raster_job,
                                            status_query)


def random_image(width: int, height: int, seed: int) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("1", (width, height), rng.randbytes(width // 8 * height))


def licence_like(width: int, height: int) -> Image.Image:
    """Something shaped like a real print: frame, text-like bars, a QR-like block."""
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, height - 1), outline=0, width=3)
    for y in range(20, height - 20, 28):
        draw.rectangle((16, y, 16 + (y * 7) % (width - 40), y + 12), fill=0)
    draw.rectangle((width // 3, 40, width // 3 + 120, 160), fill=0)
    draw.text((30, 10), "Nafitha 0042", fill=0)
    return image


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    diff = ImageChops.difference(a.convert("L"), b.convert("L")) if a.size == b.size else None
    return diff is not None and diff.getbbox() is None


@pytest.mark.parametrize("width", [384, 576])
@pytest.mark.parametrize("height", [1, 7, 959, 960, 961, 1920, 2000])
def test_random_images_decode_to_the_same_pixels(width, height):
    image = random_image(width, height, seed=width * 10_000 + height)
    data = raster_job(image)
    (decoded,) = decode_raster(data)
    assert same_pixels(decoded, image)


@pytest.mark.parametrize("width", [384, 576])
def test_a_document_like_image_round_trips(width):
    image = licence_like(width, 700)
    (decoded,) = decode_raster(raster_job(image, profile="TM-T20II" if width == 576 else "default"))
    assert same_pixels(decoded, image)
    assert decoded.getpixel((0, 0)) == 0 and decoded.getpixel((width // 2, 5)) == 255


def test_black_pixels_are_set_bits_and_density_is_normal():
    image = Image.new("1", (384, 2), 1)
    image.putpixel((0, 0), 0)
    raster = [args for name, args in parse_commands(raster_job(image)) if name == "raster"]
    assert len(raster) == 1
    assert raster[0]["mode"] == 0  # one image pixel = one dot, both directions
    # only the inked byte of the inked row is sent; the white row below is fed (ESC J 1)
    assert raster[0]["width_bytes"] == 1 and raster[0]["height"] == 1
    assert raster[0]["data"] == b"\x80"
    assert b"\x1bJ\x01" in raster_job(image)


def test_tall_images_are_split_into_strips_of_960_lines():
    commands = parse_commands(raster_job(random_image(576, 2000, seed=1)))
    heights = [args["height"] for name, args in commands if name == "raster"]
    assert heights == [RASTER_STRIP_HEIGHT, RASTER_STRIP_HEIGHT, 2000 - 2 * RASTER_STRIP_HEIGHT]


def test_stream_starts_with_init_and_ends_with_feed_and_cut():
    data = raster_job(random_image(384, 50, seed=2))
    # ESC @, GS P (one dot per motion unit at 203 dpi), GS W (print area 384 dots), GS v 0
    assert data.startswith(b"\x1b@\x1dP\xcb\xcb\x1dW\x80\x01\x1dv0\x00")
    assert data.endswith(b"\x1bd\x06\x1dV\x00")
    names = [name for name, _ in parse_commands(data)]
    assert names == ["init", "GS P", "GS W", "raster", "feed_lines", "cut"]


def test_no_cut_still_feeds_past_the_tear_bar():
    data = raster_job(random_image(384, 50, seed=3), cut=False)
    assert [name for name, _ in parse_commands(data)][-1] == "feed_lines"
    assert b"\x1dV" not in data[-4:]


def test_jobs_split_by_cut_decode_separately():
    first, second = random_image(384, 30, seed=4), random_image(384, 40, seed=5)
    decoded = decode_raster(raster_job(first) + raster_job(second))
    assert len(decoded) == 2
    assert same_pixels(decoded[0], first) and same_pixels(decoded[1], second)


def test_native_qr_is_refused_by_a_profile_without_qr():
    image = random_image(384, 10, seed=6)
    with pytest.raises(ValueError, match="profile POS-5890 has no native QR"):
        raster_job(image, profile="POS-5890", native_qr="NAF:1")
    with pytest.raises(ValueError, match="profile simple has no native QR"):
        raster_job(image, profile="simple", native_qr="NAF:1")


@pytest.mark.parametrize("profile,width", [("TM-T88V", 384), ("TM-T20II", 576)])
def test_native_qr_uses_gs_k_for_a_profile_with_qr(profile, width):
    image = random_image(width, 100, seed=7)
    data = raster_job(image, profile=profile, native_qr="HC1:NCFOXN")
    commands = parse_commands(data)
    qr = [args for name, args in commands if name == "qr"]
    assert ("P", b"0HC1:NCFOXN") in qr        # store the data
    assert ("Q", b"0") in qr                  # print it
    assert ("C", b"\x04") in qr               # 4 dots per module (0.5 mm at 203 dpi)
    names = [name for name, _ in commands]
    assert names[:4] == ["init", "GS P", "GS W", "raster"]
    assert names[-2:] == ["feed_lines", "cut"]
    assert ("align", 1) in commands and commands[-3] == ("align", 0)
    (decoded,) = decode_raster(data)
    assert same_pixels(decoded, image)


def test_without_native_qr_there_is_no_gs_k():
    commands = parse_commands(raster_job(random_image(384, 10, seed=8), profile="TM-T88V"))
    assert not [name for name, _ in commands if name == "qr"]


def test_bad_images_and_profiles_are_refused_clearly():
    with pytest.raises(ValueError, match="mode '1'"):
        raster_job(Image.new("L", (384, 10), 255))
    with pytest.raises(ValueError, match="empty image"):
        raster_job(Image.new("1", (384, 0)))
    with pytest.raises(ValueError, match="unknown printer profile 'TM-X'"):
        raster_job(Image.new("1", (384, 10)), profile="TM-X")
    with pytest.raises(ValueError, match="576 dots wide but profile TM-T88V prints at most 512"):
        raster_job(Image.new("1", (576, 10)), profile="TM-T88V")
    with pytest.raises(ValueError, match="cannot print raster images"):
        raster_job(Image.new("1", (384, 10)), profile="TM-U220")
    with pytest.raises(TypeError):
        raster_job(b"not an image")


def test_encoding_prints_nothing_to_stdout(capsys):
    # python-escpos prints a warning for profiles without a media width ("default")
    raster_job(random_image(576, 10, seed=9), profile="default")
    assert capsys.readouterr().out == ""


def test_importing_python_escpos_leaves_the_root_logger_alone():
    # escpos.capabilities calls logging.basicConfig() at import; checked in a fresh interpreter
    code = ("import logging; import devices.printing.escpos_encode; "
            "print(len(logging.getLogger().handlers))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[3]).stdout
    assert out.strip() == "0"


def test_status_query_asks_printer_offline_cause_and_paper():
    assert status_query() == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"
    assert [args for _, args in parse_commands(status_query())] == [1, 2, 4]


def test_profiles_named_in_the_docs_exist():
    names = profile_names()
    assert {"default", "TM-T88V", "TM-T20II", "POS-5890", "simple"} <= set(names)


def test_a_native_qr_wider_than_the_paper_is_refused():
    """The printer picks the version itself: at M and 4 dots per module, 735 characters
    need version 18, 388 dots with the quiet zone, more than 58 mm paper's 384."""
    from core.credentials import qr_fit

    fits = "NF1:" + "A" * (qr_fit.capacity(384) - 4)
    image = random_image(384, 50, seed=3)
    assert b"\x1d(k" in raster_job(image, profile="TM-T88V", native_qr=fits)
    with pytest.raises(ValueError, match="would be 388 dots wide .* the paper is 384 dots"):
        raster_job(image, profile="TM-T88V", native_qr=fits + "A")
    assert b"\x1d(k" in raster_job(random_image(576, 50, seed=3), profile="TM-T20II",
                                   native_qr=fits + "A")
