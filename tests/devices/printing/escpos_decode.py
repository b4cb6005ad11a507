"""Test helper: read an ESC/POS byte stream back, the way a printer would.

parse_commands(data) -> [(name, args)]   every command, strictly (unknown bytes raise)
decode_raster(data)  -> [PIL.Image]      one "1"-mode image per job (black = printed dot);
                                         consecutive GS v 0 strips are stitched vertically,
                                         a cut or a new ESC @ ends a job
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
            elif cmd in b"!BLW":
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
    """One GS v 0 block as a "1" image: a set bit (printed dot) becomes a black pixel."""
    width = block["width_bytes"] * 8
    return Image.frombytes("1", (width, block["height"]), block["data"].translate(_INVERT))


def _stitch(strips: list[Image.Image]) -> Image.Image:
    widths = {strip.width for strip in strips}
    if len(widths) != 1:
        raise DecodeError(f"raster strips of one job differ in width: {sorted(widths)}")
    image = Image.new("1", (strips[0].width, sum(s.height for s in strips)), 1)
    top = 0
    for strip in strips:
        image.paste(strip, (0, top))
        top += strip.height
    return image


def decode_raster(data: bytes) -> list[Image.Image]:
    """One image per job; a job ends at a cut or where a new ESC @ starts another."""
    images: list[Image.Image] = []
    strips: list[Image.Image] = []
    for name, args in parse_commands(data):
        if name == "raster":
            if args["mode"] != 0:
                raise DecodeError(f"raster mode {args['mode']} is not normal density (0)")
            strips.append(raster_to_image(args))
        elif name in ("cut", "init") and strips:
            images.append(_stitch(strips))
            strips = []
    if strips:
        images.append(_stitch(strips))
    return images
