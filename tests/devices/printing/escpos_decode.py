"""Test helper: read an ESC/POS byte stream back, the way a printer would.

parse_commands(data) -> [(name, args)]   every command, strictly (unknown bytes raise)
decode_raster(data)  -> [PIL.Image]      one "1"-mode image per job (black = printed dot);
                                         GS v 0 bands are placed where the paper is: under
                                         the last one, at the left margin (GS L), after any
                                         ESC J feed; a cut or a new ESC @ ends a job

The paper is as wide as the print area GS W sets (else the widest band). GS P must have set
the motion units before a GS L, GS W or ESC J: they are read as dots (a printer whose units
were never set would feed and indent by its own defaults, so such a stream is refused).
Double-width/height bands (GS v 0 m = 1, 2, 3) cover two dots per bit that way.
"""
from __future__ import annotations

from PIL import Image

ESC, GS, DLE = 0x1B, 0x1D, 0x10
_INVERT = bytes(255 - b for b in range(256))


class DecodeError(ValueError):
    pass


def _need(data: bytes, pos: int, count: int, what: str) -> bytes:
    if pos + count > len(data):
        raise DecodeError(f"{what} at byte {pos} is cut short")
    return data[pos:pos + count]


def parse_commands(data: bytes) -> list[tuple[str, object]]:
    """[(name, args)]: ("init", None), ("align", n), ("feed_lines", n), ("raster", dict),
    ("cut", m), ("qr", (fn, payload)), ("status_query", n), ("lf", None), ..."""
    out: list[tuple[str, object]] = []
    pos = 0
    while pos < len(data):
        byte = data[pos]
        if byte == 0x0A:
            out.append(("lf", None))
            pos += 1
        elif byte == 0x0D:
            out.append(("cr", None))
            pos += 1
        elif byte == ESC:
            cmd = _need(data, pos, 2, "ESC")[1]
            if cmd == ord("@"):
                out.append(("init", None))
                pos += 2
            elif cmd == ord("2"):
                out.append(("line_spacing_default", None))
                pos += 2
            elif cmd in b"a3dJ!E-tM":
                arg = _need(data, pos, 3, f"ESC {chr(cmd)}")[2]
                name = {"a": "align", "3": "line_spacing", "d": "feed_lines", "J": "feed_dots",
                        "!": "print_mode", "E": "bold", "-": "underline", "t": "codepage",
                        "M": "font"}[chr(cmd)]
                out.append((name, arg))
                pos += 3
            else:
                raise DecodeError(f"unknown command ESC 0x{cmd:02x} at byte {pos}")
        elif byte == GS:
            cmd = _need(data, pos, 2, "GS")[1]
            if cmd == ord("v"):
                head = _need(data, pos, 8, "GS v 0")
                if head[2] != ord("0"):
                    raise DecodeError(f"GS v {head[2]!r} at byte {pos} is not GS v 0")
                mode = head[3]
                width_bytes = head[4] | head[5] << 8
                height = head[6] | head[7] << 8
                size = width_bytes * height
                raster = _need(data, pos + 8, size, "GS v 0 data")
                out.append(("raster", {"mode": mode, "width_bytes": width_bytes,
                                       "height": height, "data": raster}))
                pos += 8 + size
            elif cmd == ord("V"):
                mode = _need(data, pos, 3, "GS V")[2]
                if mode in (65, 66, 97, 98, 103, 104):  # function B/C/D: one more byte
                    _need(data, pos, 4, "GS V")
                    out.append(("cut", mode))
                    pos += 4
                else:
                    out.append(("cut", mode))
                    pos += 3
            elif cmd == ord("("):
                head = _need(data, pos, 5, "GS (")
                length = head[3] | head[4] << 8
                body = _need(data, pos + 5, length, f"GS ( {chr(head[2])}")
                if head[2] == ord("k"):
                    # cn fn [m] data — for QR (cn = '1'): fn 'P' stores, 'Q' prints
                    out.append(("qr" if body[:1] == b"1" else "2d_code", (chr(body[1]), body[2:])))
                else:
                    out.append((f"gs({chr(head[2])}", body))
                pos += 5 + length
            elif cmd in b"!BLWP":
                width = 3 if cmd in b"!B" else 4
                out.append((f"GS {chr(cmd)}", _need(data, pos, width, "GS")[2:]))
                pos += width
            else:
                raise DecodeError(f"unknown command GS 0x{cmd:02x} at byte {pos}")
        elif byte == DLE:
            head = _need(data, pos, 3, "DLE")
            if head[1] != 0x04:
                raise DecodeError(f"unknown command DLE 0x{head[1]:02x} at byte {pos}")
            out.append(("status_query", head[2]))
            pos += 3
        else:
            raise DecodeError(f"unexpected byte 0x{byte:02x} at byte {pos} (text is not used)")
    return out


def raster_to_image(block: dict) -> Image.Image:
    """One GS v 0 block as a "1" image: a set bit (printed dot) becomes a black pixel; a
    double-width or double-height block (m = 1, 2, 3) is drawn at its printed size."""
    width = block["width_bytes"] * 8
    image = Image.frombytes("1", (width, block["height"]), block["data"].translate(_INVERT))
    scale_x, scale_y = 1 + (block["mode"] & 1), 1 + (block["mode"] >> 1 & 1)
    if (scale_x, scale_y) != (1, 1):
        image = image.resize((width * scale_x, block["height"] * scale_y), Image.NEAREST)
    return image


class _Paper:
    """One job's paper: bands placed at (x, y) in dots."""

    def __init__(self):
        self.placed: list[tuple[int, int, Image.Image]] = []
        self.y = 0
        self.units = None      # GS P (x, y); 0 = the printer's default, unknown here
        self.margin = 0        # GS L
        self.area = None       # GS W

    def dots(self, name: str, value: int) -> int:
        if not self.units or 0 in self.units:
            raise DecodeError(f"{name} before GS P set the motion units")
        return value

    def place(self, block: dict) -> None:
        if block["mode"] not in (0, 1, 2, 3):
            raise DecodeError(f"raster mode {block['mode']} is not 0-3")
        strip = raster_to_image(block)
        inside = None if self.area is None else self.area - self.margin
        if inside is not None and (inside <= 0 or strip.width > inside and
                                   strip.crop((inside, 0, strip.width, strip.height))
                                   .point(lambda v: 255 - v).getbbox()):
            raise DecodeError(f"a band of {strip.width} dots at {self.margin} prints past "
                              f"the print area of {self.area} dots")
        self.placed.append((self.margin, self.y, strip))
        self.y += strip.height

    def image(self) -> Image.Image:
        width = self.area if self.area is not None else \
            max(x + strip.width for x, _, strip in self.placed)
        page = Image.new("1", (width, self.y), 255)  # 255, not 1: PIL keeps 1 as 1, not white
        for x, y, strip in self.placed:
            page.paste(strip, (x, y))
        return page


def decode_raster(data: bytes) -> list[Image.Image]:
    """One image per job; a job ends at a cut or where a new ESC @ starts another."""
    images: list[Image.Image] = []
    paper = _Paper()
    for name, args in parse_commands(data):
        if name == "raster":
            paper.place(args)
        elif name == "GS P":
            paper.units = (args[0], args[1])
        elif name == "GS L":
            paper.margin = paper.dots("GS L", args[0] | args[1] << 8)
        elif name == "GS W":
            paper.area = paper.dots("GS W", args[0] | args[1] << 8)
        elif name == "feed_dots":
            paper.y += paper.dots("ESC J", args)
        elif name in ("cut", "init"):
            if paper.placed:
                images.append(paper.image())
            paper = _Paper()
    if paper.placed:
        images.append(paper.image())
    return images
