"""Banded raster (escpos_encode.raster_bytes): white rows are fed, not sent; each band is only
as wide as its ink; the bytes decode back to exactly the rendered document, at most half of
the whole image's bytes, for every document in both languages on both paper widths."""
import random

import pytest
from escpos_decode import DecodeError, decode_raster, parse_commands
from make_golden import samples
from PIL import Image, ImageChops, ImageDraw

from core.faces.printing import PrintJobs
from devices.printing.escpos_encode import (MAX_FEED_DOTS, RASTER_STRIP_HEIGHT, plan_bands,
                                            profile_dpi, raster_bytes, raster_job)
from devices.printing.fakes import RecordingTransport
from devices.printing.render import render
from devices.printing.worker import PrintWorker

# one of each kind bench/printing.py and the printers print (the COPY licence is the largest)
DOCUMENTS = ["ticket", "receipt", "application", "licence", "licence_copy", "z_report"]


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and \
        ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def rasters(data: bytes) -> list[dict]:
    return [args for name, args in parse_commands(data) if name == "raster"]


@pytest.mark.parametrize("width", [384, 576])
@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_document_prints_the_preview_in_half_the_bytes(name, lang, width):
    kind, data = samples()[name]
    image = render(kind, data, lang, width)
    payload = raster_job(image, profile="TM-T20II" if width == 576 else "POS-5890")
    (printed,) = decode_raster(payload)
    assert same_pixels(printed, image)  # the same picture, dot for dot, same paper length
    whole_image = image.height * width // 8  # the raster bytes alone of a full-width job
    assert len(payload) <= 0.5 * whole_image, f"{len(payload)} of {whole_image}"
    # no raster row sent is white: every row of every band carries ink
    for block in rasters(payload):
        rows = [block["data"][i:i + block["width_bytes"]]
                for i in range(0, len(block["data"]), block["width_bytes"])]
        assert all(any(row) for row in rows)


def test_white_runs_become_feeds_of_at_most_255_dots_and_margins_are_kept():
    image = Image.new("1", (384, 1000), 1)
    draw = ImageDraw.Draw(image)
    # odd heights, so no rows pair up for double height (tested below)
    draw.rectangle((40, 100, 200, 110), fill=0)   # 100 white rows above
    draw.rectangle((40, 710, 200, 720), fill=0)   # 599 white rows between
    data = raster_job(image)                      # 279 white rows below
    feeds = [n for name, n in parse_commands(data) if name == "feed_dots"]
    assert feeds == [100, 255, 255, 89, 255, 24]
    assert [(b["height"], b["width_bytes"]) for b in rasters(data)] == [(11, 21), (11, 21)]
    (printed,) = decode_raster(data)
    assert same_pixels(printed, image)


def test_bands_are_placed_by_the_left_margin_which_is_reset_before_a_native_qr():
    image = Image.new("1", (384, 40), 1)
    ImageDraw.Draw(image).rectangle((301, 5, 379, 29), fill=0)  # right-aligned, as Arabic is
    data = raster_job(image, profile="TM-T88V", native_qr="NF1:TEST")
    commands = parse_commands(data)
    names = [name for name, _ in commands]
    assert ("GS L", b"\x28\x01") in commands            # 296 dots: byte 37, 8 x 37
    assert names.index("GS L") < names.index("raster")
    last_margin = max(i for i, name in enumerate(names) if name == "GS L")
    assert commands[last_margin] == ("GS L", b"\x00\x00") and last_margin < names.index("qr")
    assert rasters(data)[0]["width_bytes"] == 11      # bytes 37..47, not all 48
    (printed,) = decode_raster(data)
    assert same_pixels(printed, image)


def test_motion_units_are_the_printers_own_dots():
    assert profile_dpi("TM-T88V") == 180 and profile_dpi("TM-T20II") == 203
    assert profile_dpi("default") == 203  # "Unknown" in python-escpos: the usual thermal head
    commands = parse_commands(raster_job(Image.new("1", (512, 20), 1), profile="TM-T88V"))
    assert ("GS P", b"\xb4\xb4") in commands and ("GS W", b"\x00\x02") in commands


def test_ink_drawn_two_dots_at_a_time_is_sent_at_double_size():
    """A QR code of an even module size repeats every row and column twice: it is sent once
    at double width and height (GS v 0 m = 3), a quarter of the bytes, the same dots."""
    small = Image.frombytes("1", (96, 96), random.Random(1).randbytes(96 * 96 // 8))
    image = Image.new("1", (384, 300), 1)
    image.paste(small.resize((192, 192), Image.NEAREST), (96, 50))
    data = raster_job(image)
    (block,) = rasters(data)
    assert block["mode"] == 3 and block["height"] == 96 and block["width_bytes"] == 12
    (printed,) = decode_raster(data)
    assert same_pixels(printed, image)
    # one dot off the grid (odd module size, odd position) and it is sent dot for dot
    shifted = Image.new("1", (384, 300), 1)
    shifted.paste(small.resize((192, 192), Image.NEAREST), (97, 50))
    assert {b["mode"] for b in rasters(raster_job(shifted))} == {2}  # rows still pair up
    (printed,) = decode_raster(raster_job(shifted))
    assert same_pixels(printed, shifted)


def test_a_width_that_is_not_a_multiple_of_8_or_16_prints_exactly():
    image = Image.new("1", (100, 60), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 99, 3), fill=0)        # to the last dot of the padded byte
    draw.rectangle((90, 20, 99, 41), fill=0)     # wide blocks of 2x2 dots, but 100 % 16 != 0
    data = raster_job(image)
    assert all(b["mode"] & 1 == 0 for b in rasters(data))  # never double width past the edge
    (printed,) = decode_raster(data)
    assert same_pixels(printed, image)


@pytest.mark.parametrize("seed", range(6))
def test_random_sparse_drawings_round_trip(seed):
    rng = random.Random(seed)
    width = rng.choice([384, 576])
    image = Image.new("1", (width, rng.randint(1, 2500)), 1)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(0, 40)):
        x, y = rng.randrange(width), rng.randrange(image.height)
        draw.rectangle((x, y, x + rng.randint(0, 120), y + rng.randint(0, 90)), fill=0)
    data = raster_job(image)
    (printed,) = decode_raster(data) or (Image.new("1", image.size, 1),)
    if not rasters(data):  # an all-white image: only feeds, exactly its height
        assert sum(n for name, n in parse_commands(data) if name == "feed_dots") == image.height
    else:
        assert same_pixels(printed, image)
    assert all(b.rows <= RASTER_STRIP_HEIGHT for b in plan_bands(image))
    assert all(n <= MAX_FEED_DOTS for name, n in parse_commands(data) if name == "feed_dots")


def test_a_tall_solid_block_is_cut_into_bands_of_at_most_960_rows_of_data():
    image = Image.new("1", (384, 2100), 0)
    # solid black pairs up both ways: 1050 rows of data printed at double height
    bands = plan_bands(image)
    assert [(b.rows, b.scale_x, b.scale_y) for b in bands] == [(960, 2, 2), (90, 2, 2)]
    assert bands[1].top == 1920 and bands[1].bottom == 2100
    (printed,) = decode_raster(raster_job(image))
    assert same_pixels(printed, image)


def test_the_decoder_refuses_feeds_in_the_printers_own_units():
    with pytest.raises(DecodeError, match="before GS P"):
        decode_raster(b"\x1b@\x1bJ\x10\x1dv0\x00\x01\x00\x01\x00\xff")
    assert raster_bytes(Image.new("1", (16, 300), 1)) == \
        b"\x1dP\xcb\xcb\x1dW\x10\x00\x1bJ\xff\x1bJ-"


@pytest.mark.parametrize("bad, message", [
    (Image.new("1", (384, 0)), "empty image"),
    (Image.new("1", (0, 40)), "empty image"),
    (Image.new("1", (640, 40), 1), "640 dots wide but profile TM-T20II prints at most 576"),
])
def test_bad_images_fail_the_job_and_send_nothing(office, issued, bad, message):
    office.settings.printer.profile = "TM-T20II"
    transport = RecordingTransport()
    worker = PrintWorker(PrintJobs(office), transport, sleep=lambda s: None,
                         render_fn=lambda *args, **kw: bad)
    job = office.printing.enqueue("licence", issued()["id"])
    with pytest.raises(ValueError, match=message):
        raster_job(bad, profile="TM-T20II")
    assert worker.print_next() == "failed"
    row = office.printing.get(job["id"])
    assert row["state"] == "failed" and message.split(" but")[0] in row["last_error"]
    assert transport.jobs == []  # not one byte went to the printer
