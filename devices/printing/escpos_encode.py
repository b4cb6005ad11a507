"""ESC/POS bytes for one print job: a 1-bit raster image (GS v 0), optionally the printer's own
QR code, a feed and a cut. The command language is python-escpos's `Escpos`; we drive its
`Dummy` printer, which records bytes, and hand the bytes to a transport (transports.py).

The image arrives already at the paper's width in dots and in mode "1" (render.py); nothing is
centred, resized or dithered here, so what the preview shows is what the printer prints.

A serial printer takes about 2 kB a second at 19200 baud, so the image is not sent as one
full-width raster: it is cut into bands (`plan_bands`). Runs of white rows become paper feeds
(ESC J), and each band of inked rows is sent only as wide as its ink, placed with the left
margin (GS L). Motion units are set to one dot first (GS P), and the print area to the image's
width (GS W), so every feed and offset is in the image's own dots. That is a third to a half of
the bytes of the whole image (bench/printing.py measures it), for the same picture on paper.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from core.credentials import qr_fit


def _import_escpos():
    """Import python-escpos without its import-time side effect on logging.

    escpos.capabilities calls `logging.basicConfig()` when imported; that adds a stderr handler
    to the root logger, after which the application's own `basicConfig()` silently does nothing.
    Handlers added during the import are removed again."""
    root = logging.getLogger()
    before = list(root.handlers)
    from escpos import capabilities, constants
    from escpos.printer import Dummy
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
    return capabilities, constants, Dummy


_capabilities, _constants, _Dummy = _import_escpos()

# No GS v 0 band is taller than this (python-escpos's own split height): a band of 576 x 960
# dots is 69 120 bytes, which every printer we know accepts.
RASTER_STRIP_HEIGHT = 960
DEFAULT_DPI = 203       # thermal heads are 203 dpi unless the profile says otherwise (180: TM-T88)
MAX_FEED_DOTS = 255     # ESC J n feeds n motion units; longer white runs repeat it
# What one more band costs besides its rows: GS v 0's 8-byte header and a 4-byte GS L.
BAND_OVERHEAD_BYTES = 12
FEED_LINES = 6          # ESC d 6: moves the last printed line past the cutter
QR_MODULE_DOTS = 4      # native QR: 4 dots per module = 0.5 mm at 203 dpi (DESIGN.md)
STATUS_QUERIES = (1, 2, 4)  # DLE EOT n: printer, offline cause, roll paper sensor

ALIGN_CENTER = b"\x1ba\x01"
ALIGN_LEFT = b"\x1ba\x00"


def profile_names() -> list[str]:
    """The python-escpos capability profiles that can be named in the [printer] settings."""
    return sorted(_capabilities.CAPABILITIES["profiles"])


def _profile_class(profile: str):
    if profile not in _capabilities.CAPABILITIES["profiles"]:
        raise ValueError(f"unknown printer profile {profile!r} "
                         f"(python-escpos knows: {', '.join(profile_names())})")
    return _capabilities.get_profile_class(profile)


def profile_width_dots(profile: str) -> int | None:
    """The printable width the profile declares, or None when it says "Unknown"."""
    media = _profile_class(profile).profile_data.get("media", {})
    try:
        return int(media.get("width", {}).get("pixels"))
    except (TypeError, ValueError):
        return None


def profile_dpi(profile: str) -> int:
    """The profile's dots per inch, DEFAULT_DPI when it says "Unknown" (or something GS P
    cannot carry: 1..255)."""
    media = _profile_class(profile).profile_data.get("media", {})
    try:
        dpi = int(media.get("dpi"))
    except (TypeError, ValueError):
        return DEFAULT_DPI
    return dpi if 1 <= dpi <= 255 else DEFAULT_DPI


def profile_supports(profile: str, feature: str) -> bool:
    """A python-escpos profile feature, e.g. "qrCode", "bitImageRaster", "paperFullCut"."""
    return bool(_profile_class(profile).profile_data.get("features", {}).get(feature))


def raster_job(image: Image.Image, profile: str = "default", cut: bool = True,
               native_qr: str | None = None) -> bytes:
    """ESC @, the image as banded GS v 0 raster (`raster_bytes`; normal density: one image
    pixel = one dot), the optional native QR code (centred on the image's width), ESC d 6 and,
    when `cut`, the profile's cut command.

    Raises ValueError for an image that is not mode "1", is empty or is wider than the
    profile's paper, for an unknown profile, a profile without raster images, or native_qr
    asked of a profile without native QR.

    >>> data = raster_job(Image.new("1", (384, 10), 1))
    >>> data[:2], data[-3:]
    (b'\\x1b@', b'\\x1dV\\x00')
    """
    if not isinstance(image, Image.Image):
        raise TypeError(f"raster_job needs a PIL image, got {type(image).__name__}")
    if image.mode != "1":
        raise ValueError(f"raster_job needs a 1-bit image (mode '1'), got mode {image.mode!r}")
    width, height = image.size
    if width == 0 or height == 0:
        raise ValueError(f"cannot print an empty image ({width}x{height} dots)")
    if not profile_supports(profile, "bitImageRaster"):
        raise ValueError(f"profile {profile} cannot print raster images (GS v 0)")
    max_width = profile_width_dots(profile)
    if max_width is not None and width > max_width:
        raise ValueError(f"image is {width} dots wide but profile {profile} prints at most "
                         f"{max_width} dots (check width_dots in the [printer] settings)")
    if native_qr is not None:
        if not profile_supports(profile, "qrCode"):
            raise ValueError(f"profile {profile} has no native QR")
        if native_qr == "":
            raise ValueError("native_qr is empty")
        _check_native_qr_fits(native_qr, width)

    # The Dummy records python-escpos's commands (init, QR, cut); the raster is ours, so
    # its Escpos.image() width check and "media.width not set" warning never run.
    printer = _Dummy(profile=profile)
    printer.hw("INIT")
    printer._raw(raster_bytes(image, profile_dpi(profile)))
    if native_qr is not None:
        printer._raw(ALIGN_CENTER)
        printer.qr(native_qr, ec=_constants.QR_ECLEVEL_M, size=QR_MODULE_DOTS, native=True)
        printer._raw(ALIGN_LEFT)
    if cut:
        printer.cut(mode="FULL", feed=True)  # ESC d 6, then GS V 0 if the profile can cut
    else:
        printer.print_and_feed(FEED_LINES)
    return printer.output


@dataclass(frozen=True)
class Band:
    """One GS v 0 command: `rows` x `width_bytes` bytes of printer bits whose top-left dot
    lands on image row `top`, image column `left`; `scale` (1 or 2 each way, GS v 0's m)
    is how many dots each bit covers across and down."""
    top: int
    left: int
    rows: int
    width_bytes: int
    scale_x: int = 1
    scale_y: int = 1
    data: bytes = field(default=b"", repr=False, compare=False)

    @property
    def bottom(self) -> int:
        return self.top + self.rows * self.scale_y


def _printer_bits(image: Image.Image) -> np.ndarray:
    """The image as printer bits, one row of bytes per dot row: a set bit is a black dot.
    The pad bits of a width that is not a multiple of 8 stay clear (nothing printed)."""
    width, height = image.size
    row_bytes = (width + 7) // 8
    bits = ~np.frombuffer(image.tobytes(), dtype=np.uint8).reshape(height, row_bytes)
    if width % 8:
        bits[:, -1] &= (0xFF << (8 - width % 8)) & 0xFF
    return bits


def plan_bands(image: Image.Image) -> list[Band]:
    """The GS v 0 bands that carry every black dot of a mode "1" image, top to bottom; rows
    in no band are white and are fed, not sent.

    Each run of inked rows is first checked for ink drawn two dots at a time (a QR code of an
    even module size): rows that repeat in pairs are sent once at double height, columns that
    repeat in pairs at double width, which prints the same dots. The run is then one band as
    wide as its widest ink, split in two where that saves more bytes than another band costs
    (BAND_OVERHEAD_BYTES), again in each half (a text line under a wide rule), and finally
    cut to at most RASTER_STRIP_HEIGHT rows of data.

    >>> im = Image.new("1", (64, 30), 1); im.putpixel((20, 10), 0)
    >>> plan_bands(im)
    [Band(top=10, left=16, rows=1, width_bytes=1, scale_x=1, scale_y=1)]
    """
    bits = _printer_bits(image)
    inked = bits.any(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked.astype(np.int8), [0]))))
    bands: list[Band] = []
    for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist()):
        run, scale_x, scale_y = _halved(bits[start:stop], wide_ok=image.width % 16 == 0)
        ink = run.astype(bool)
        row_bytes = ink.shape[1]
        first = ink.argmax(axis=1)
        last = row_bytes - 1 - ink[:, ::-1].argmax(axis=1)
        for top, bottom in _split(first, last, 0, len(run)):
            left, right = int(first[top:bottom].min()), int(last[top:bottom].max())
            for cut in range(top, bottom, RASTER_STRIP_HEIGHT):
                rows = min(RASTER_STRIP_HEIGHT, bottom - cut)
                data = run[cut:cut + rows, left:right + 1]
                bands.append(Band(start + cut * scale_y, left * 8 * scale_x, rows,
                                  right - left + 1, scale_x, scale_y, data.tobytes()))
    return bands


def _halved(run: np.ndarray, wide_ok: bool) -> tuple[np.ndarray, int, int]:
    """The run with repeated pairs of rows and of columns (from its first row and the image's
    left edge) sent once, and the scale each way: (bits, 2 or 1, 2 or 1). Columns only when
    `wide_ok` (an image width that is a multiple of 16), so a double-width band never reaches
    past the print area."""
    scale_y = 1
    if len(run) % 2 == 0 and np.array_equal(run[0::2], run[1::2]):
        run, scale_y = run[0::2], 2
    dots = np.unpackbits(run, axis=1)
    if wide_ok and np.array_equal(dots[:, 0::2], dots[:, 1::2]):
        return np.packbits(dots[:, 0::2], axis=1), 2, scale_y
    return run, 1, scale_y


def _split(first: np.ndarray, last: np.ndarray, top: int, bottom: int) -> list[tuple[int, int]]:
    """Rows top..bottom (all inked) as [(top, bottom)] bands, split where it saves bytes."""
    out, todo = [], [(top, bottom)]
    while todo:
        top, bottom = todo.pop()
        lo, hi = first[top:bottom], last[top:bottom]
        rows = bottom - top
        if rows < 2:
            out.append((top, bottom))
            continue
        whole = rows * (int(hi.max()) - int(lo.min()) + 1)
        # bytes of rows top..top+k and top+k..bottom as two bands, for every k at once
        above = (np.maximum.accumulate(hi) - np.minimum.accumulate(lo) + 1)[:-1]
        below = (np.maximum.accumulate(hi[::-1]) - np.minimum.accumulate(lo[::-1]) + 1)[::-1][1:]
        k = np.arange(1, rows)
        costs = k * above + (rows - k) * below + BAND_OVERHEAD_BYTES
        best = int(costs.argmin())
        if costs[best] < whole:
            todo += [(top, top + best + 1), (top + best + 1, bottom)]
        else:
            out.append((top, bottom))
    return sorted(out)


def raster_bytes(image: Image.Image, dpi: int = DEFAULT_DPI) -> bytes:
    """The image as ESC/POS: GS P (motion units of one dot at `dpi`), GS W (print area: the
    image's width), then top to bottom ESC J feeds for white rows and, per band, GS L (its
    left offset, when it changes) and GS v 0; GS L 0 again at the end, so what follows (a
    centred native QR) sees the whole print area. Exactly the image's height of paper moves.

    >>> raster_bytes(Image.new("1", (16, 300), 1))
    b'\\x1dP\\xcb\\xcb\\x1dW\\x10\\x00\\x1bJ\\xff\\x1bJ-'
    """
    width, height = image.size
    out = bytearray(b"\x1dP" + bytes((dpi, dpi)) + b"\x1dW" + width.to_bytes(2, "little"))
    row, margin = 0, 0
    for band in plan_bands(image):
        _feed(out, band.top - row)
        if band.left != margin:
            margin = band.left
            out += b"\x1dL" + margin.to_bytes(2, "little")
        mode = (band.scale_x == 2) | (band.scale_y == 2) << 1  # m: 1 wide, 2 tall, 3 both
        out += (b"\x1dv0" + bytes((mode,)) + band.width_bytes.to_bytes(2, "little")
                + band.rows.to_bytes(2, "little") + band.data)
        row = band.bottom
    _feed(out, height - row)
    if margin:
        out += b"\x1dL\x00\x00"
    return bytes(out)


def _feed(out: bytearray, dots: int) -> None:
    """ESC J n: print nothing, move the paper n dots (motion unit set by GS P)."""
    while dots > 0:
        step = min(dots, MAX_FEED_DOTS)
        out += b"\x1bJ" + bytes((step,))
        dots -= step


def _check_native_qr_fits(text: str, width: int) -> None:
    """The printer draws its own QR at level M and QR_MODULE_DOTS per module, choosing the
    smallest version that holds the text: refuse one wider than the paper, which a printer
    would cut off or skip while the job counted as printed."""
    import segno

    version = segno.make(text, error=qr_fit.ERROR_LEVEL.lower(), micro=False,
                         boost_error=False).version
    side = qr_fit.side_dots(version, QR_MODULE_DOTS)
    if side > width:
        raise ValueError(f"the printer's QR code would be {side} dots wide (version "
                         f"{version}, {QR_MODULE_DOTS} dots per module with its quiet zone) "
                         f"but the paper is {width} dots")


def status_query() -> bytes:
    """DLE EOT 1 (printer status), DLE EOT 2 (offline cause), DLE EOT 4 (paper sensor).

    Each query is answered by one byte (transports.parse_status decodes them)."""
    return b"".join(status_query_for(n) for n in STATUS_QUERIES)


def status_query_for(n: int) -> bytes:
    """One real-time status query, DLE EOT n (n = 1..4)."""
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT n needs n in 1..4, got {n}")
    return _constants.DLE + b"\x04" + bytes((n,))
