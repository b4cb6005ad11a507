"""ESC/POS bytes for one print job: a 1-bit raster image (GS v 0), optionally the printer's own
QR code, a feed and a cut. The command language is python-escpos's `Escpos`; we drive its
`Dummy` printer, which records bytes, and hand the bytes to a transport (transports.py).

The image arrives already at the paper's width in dots and in mode "1" (render.py); nothing is
centred, resized or dithered here, so what the preview shows is what the printer prints.
"""
from __future__ import annotations

import logging

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

# python-escpos splits images taller than this into several GS v 0 commands (its default);
# a strip of 576 x 960 dots is 69 120 bytes, which every printer we know accepts.
RASTER_STRIP_HEIGHT = 960
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


def profile_supports(profile: str, feature: str) -> bool:
    """A python-escpos profile feature, e.g. "qrCode", "bitImageRaster", "paperFullCut"."""
    return bool(_profile_class(profile).profile_data.get("features", {}).get(feature))


def _printer_for(profile: str, width: int):
    """A Dummy printer whose profile declares exactly the image's width.

    Escpos.image() prints a warning to stdout for profiles whose media width is "Unknown"
    (e.g. "default"), and refuses images wider than the profile; we check the width ourselves
    with a clear message, then give the Dummy a copy of the profile with the width filled in."""
    cls = _profile_class(profile)
    data = dict(cls.profile_data)
    media = dict(data.get("media", {}))
    media["width"] = {**media.get("width", {}), "pixels": width}
    data["media"] = media
    printer = _Dummy(profile=profile)
    printer.profile = type(f"{cls.__name__}ForJob", (cls,), {"profile_data": data})()
    return printer


def raster_job(image: Image.Image, profile: str = "default", cut: bool = True,
               native_qr: str | None = None) -> bytes:
    """ESC @, the image as GS v 0 raster (normal density: one image pixel = one dot), the
    optional native QR code (centred), ESC d 6 and, when `cut`, the profile's cut command.

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

    printer = _printer_for(profile, width)
    printer.hw("INIT")
    printer.image(image, high_density_vertical=True, high_density_horizontal=True,
                  impl="bitImageRaster", fragment_height=RASTER_STRIP_HEIGHT, center=False)
    if native_qr is not None:
        printer._raw(ALIGN_CENTER)
        printer.qr(native_qr, ec=_constants.QR_ECLEVEL_M, size=QR_MODULE_DOTS, native=True)
        printer._raw(ALIGN_LEFT)
    if cut:
        printer.cut(mode="FULL", feed=True)  # ESC d 6, then GS V 0 if the profile can cut
    else:
        printer.print_and_feed(FEED_LINES)
    return printer.output


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
