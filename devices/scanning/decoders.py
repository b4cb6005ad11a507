"""The decoder chain: every code in one camera frame, zxing-cpp first, then pyzbar (zbar).

zxing-cpp reads far more distorted thermal prints than zbar, and faster (DESIGN.md, "Facts
already checked"; bench/scanning.py measures both and the chain in one run), so it goes
first; zbar is asked only when zxing finds nothing in the frame. Each backend is optional:
a missing library is listed in `DecoderChain.missing` instead of failing the import.

    chain = DecoderChain(formats="qr")          # licences and tickets are QR codes
    chain.available                             # ("zxing", "zbar")
    for code in chain.decode(gray_or_bgr_frame):
        code.text, code.raw, code.symbology, code.corners, code.backend

`text` is the symbol's bytes read as UTF-8, None when they are not UTF-8 (`raw` always keeps
them): our own codes are ASCII (Base45), so anything else is not one of ours. zbar's own text
conversion mangles binary content (it re-encodes bytes it takes for Latin-1 or Shift-JIS as
UTF-8), so the zbar backend asks libzbar for the bytes as they are (ZBAR_CFG_BINARY).

Corners are 4 integer points in frame pixels, in the symbol's own orientation: top-left,
top-right, bottom-right, bottom-left (zxing's order; zbar's QR corners are put in the same
order; for zbar's linear codes they are the axis-aligned box of the scan lines that hit).

formats="qr" is what a scanner of licences and tickets wants: it leaves out Micro QR (whose
M1 version, having no error correction, zxing-cpp can read out of a big code's finder
pattern) and every linear symbology; "all" (the default, for files and the odd bar code)
costs ~8 ms a frame instead of ~1, ~29 ms on a frame with no code (bench/scanning.py
--formats all). A symbol found inside a larger one is dropped as a piece of it.

A chain keeps no state between frames but a backend's failing/recovered flag (it logs once
when a library starts failing on frames and once when it recovers); give each camera thread
its own chain.
"""
from __future__ import annotations

import ctypes
import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

BACKENDS = ("zxing", "zbar")
FORMATS = ("qr", "all")

# zbar's symbol names -> zxing-cpp's BarcodeFormat names, so callers see one vocabulary.
# zbar reports a 978/979 EAN-13 as ISBN13 only when asked to; it is still an EAN-13.
ZBAR_TO_ZXING = {
    "QRCODE": "QRCode", "EAN13": "EAN13", "EAN8": "EAN8", "UPCA": "UPCA", "UPCE": "UPCE",
    "ISBN13": "EAN13", "ISBN10": "ISBN", "EAN2": "EAN2", "EAN5": "EAN5", "I25": "ITF",
    "CODE128": "Code128", "CODE39": "Code39", "CODE93": "Code93", "CODABAR": "Codabar",
    "DATABAR": "DataBar", "DATABAR_EXP": "DataBarExpanded", "PDF417": "PDF417",
    "SQCODE": "SQCode",
}

ZBAR_CFG_ENABLE = 0
ZBAR_CFG_BINARY = 4  # zbar >= 0.23.1: hand back the symbol's bytes, no charset guessing


@dataclass(frozen=True)
class Decoded:
    text: str | None          # None when the bytes are not valid UTF-8
    raw: bytes                # the symbol's bytes as decoded
    symbology: str            # "QRCode", "EAN13", "Code128", ... (zxing-cpp's names)
    corners: tuple[tuple[int, int], ...]   # 4 points in frame pixels (see the module doc)
    backend: str              # "zxing" | "zbar"


def _text_of(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- backends -----------------------------------------------------------------------------

class _Health:
    """Logs once when a library starts failing on frames and once when it works again."""

    def __init__(self, library: str):
        self.library, self.failing = library, False

    def failed(self, gray: np.ndarray, why) -> None:
        if not self.failing:
            log.warning("%s failed on a %s frame (said once until it recovers): %s",
                        self.library, gray.shape, why)
        self.failing = True

    def ok(self) -> None:
        if self.failing:
            log.info("%s decodes frames again", self.library)
        self.failing = False


class _Zxing:
    """zxing-cpp: one pass over the frame as given and, only when that finds nothing, up to
    three more, cheapest first. bench/scanning.py chose them on thermal prints (on other
    seeds than the one it reports); they cost nothing on frames the first pass reads, and
    take a frame with no code from ~0.7 ms to ~3.4 ms (the chain then asks zbar, ~8 ms more):

      1. the global-histogram binarizer instead of the local-average one: codes whose local
         contrast the default binarizer misjudges (noise, uneven ink, rotation at ~4 px per
         module);
      2. a light gaussian smoothing (sigma 1 px): sensor noise and paper speckle that break
         up the modules of low-contrast prints;
      3. an unsharp mask, then 1.5x cubic upscaling: blurred and small codes whose modules
         the detector cannot separate at the camera's resolution.
    Passes 2 and 3 need OpenCV; without it they are skipped. The extra passes look for QR
    codes only, whatever the formats: they were chosen for our codes, and all formats cost
    ~8 ms a pass instead of ~1.
    """

    name = "zxing"
    UPSCALE = 1.5

    def __init__(self, formats: str):
        import zxingcpp

        self._zx = zxingcpp
        self._health = _Health("zxing-cpp")
        self._formats = _qr_formats(zxingcpp) if formats == "qr" else None
        # Dark ink on light paper: inverted codes are never ours, and looking for them costs
        # ~0.2 ms a frame, ~0.6 ms on a frame with no code (bench/scanning.py).
        self._options = dict(try_rotate=True, try_downscale=True, try_invert=False)
        if self._formats is not None:
            self._options["formats"] = self._formats
        self._retry = {**self._options, "formats": _qr_formats(zxingcpp)}
        try:
            import cv2
        except ImportError:
            cv2 = None
        self._cv2 = cv2

    def decode(self, gray: np.ndarray) -> list[Decoded]:
        found = self._read(gray)
        if not found:
            found = self._read(gray, retry=True,
                               binarizer=self._zx.Binarizer.GlobalHistogram)
        cv2 = self._cv2
        if found or cv2 is None or min(gray.shape) < 8:
            return found
        found = self._read(cv2.GaussianBlur(gray, (0, 0), 1.0), retry=True)
        if not found:
            sharp = cv2.addWeighted(gray, 2.0, cv2.GaussianBlur(gray, (0, 0), 1.5), -1.0, 0)
            big = cv2.resize(sharp, None, fx=self.UPSCALE, fy=self.UPSCALE,
                             interpolation=cv2.INTER_CUBIC)
            found = self._read(big, scale=1 / self.UPSCALE, retry=True)
        return found

    def _read(self, gray: np.ndarray, scale: float = 1.0, retry: bool = False,
              **options) -> list[Decoded]:
        try:
            found = self._zx.read_barcodes(gray, **(self._retry if retry else self._options),
                                           **options)
        except Exception as exc:  # a library error on one frame must not stop the camera
            self._health.failed(gray, exc)
            return []
        self._health.ok()
        out = []
        for r in found:
            if not r.valid:
                continue
            p = r.position
            raw = bytes(r.bytes)
            out.append(Decoded(
                text=_text_of(raw), raw=raw, symbology=r.format.name,
                corners=tuple((int(round(q.x * scale)), int(round(q.y * scale))) for q in
                              (p.top_left, p.top_right, p.bottom_right, p.bottom_left)),
                backend=self.name))
        return out


def _qr_formats(zxingcpp):
    """QR Code (models 1 and 2) without Micro QR and rMQR. In zxing-cpp 3 "QRCode" is the
    whole family, and a Micro QR M1 (no error correction, only detection) can be read out
    of a big code's finder pattern: bench/scanning.py caught one."""
    f = zxingcpp.BarcodeFormat
    if hasattr(f, "QRCodeModel2"):  # zxing-cpp >= 3
        return (f.QRCodeModel1, f.QRCodeModel2)
    return f.QRCode  # zxing-cpp 2: QRCode is models 1 and 2 only


class _Zbar:
    """zbar through pyzbar's ctypes wrapper (pyzbar.decode itself cannot ask for the raw
    bytes, and reorders the corners)."""

    name = "zbar"
    _Y800 = ord("Y") | ord("8") << 8 | ord("0") << 16 | ord("0") << 24  # fourcc of 8-bit grey

    def __init__(self, formats: str):
        from pyzbar import wrapper  # ImportError when libzbar0 is missing

        self._w = wrapper
        wrapper.load_libzbar()
        self._health = _Health("zbar")
        self._only = [wrapper.ZBarSymbol.QRCODE] if formats == "qr" else None

    def _scanner(self):
        w = self._w
        scanner = w.zbar_image_scanner_create()
        if self._only is not None:
            w.zbar_image_scanner_set_config(scanner, w.ZBarSymbol.NONE, ZBAR_CFG_ENABLE, 0)
            for symbol in self._only:
                w.zbar_image_scanner_set_config(scanner, symbol, ZBAR_CFG_ENABLE, 1)
        # Fails harmlessly (non-zero) on a zbar too old to know the option.
        w.zbar_image_scanner_set_config(scanner, w.ZBarSymbol.QRCODE, ZBAR_CFG_BINARY, 1)
        return scanner

    def decode(self, gray: np.ndarray) -> list[Decoded]:
        w = self._w
        height, width = gray.shape
        pixels = gray.tobytes()
        scanner = self._scanner()
        image = w.zbar_image_create()
        try:
            w.zbar_image_set_format(image, self._Y800)
            w.zbar_image_set_size(image, width, height)
            w.zbar_image_set_data(image, ctypes.cast(pixels, ctypes.c_void_p), len(pixels),
                                  None)
            if w.zbar_scan_image(scanner, image) < 0:
                self._health.failed(gray, "zbar_scan_image refused the image")
                return []
            self._health.ok()
            out = []
            symbol = w.zbar_image_first_symbol(image)
            while symbol:
                out.append(self._decoded(symbol))
                symbol = w.zbar_symbol_next(symbol)
            return out
        finally:
            w.zbar_image_destroy(image)
            w.zbar_image_scanner_destroy(scanner)

    def _decoded(self, symbol) -> Decoded:
        w = self._w
        raw = ctypes.string_at(w.zbar_symbol_get_data(symbol),
                               w.zbar_symbol_get_data_length(symbol))
        try:
            kind = w.ZBarSymbol(symbol.contents.type).name
        except ValueError:
            kind = f"zbar-{symbol.contents.type}"
        points = [(int(w.zbar_symbol_get_loc_x(symbol, i)), int(w.zbar_symbol_get_loc_y(symbol, i)))
                  for i in range(w.zbar_symbol_get_loc_size(symbol))]
        if kind == "QRCODE" and len(points) == 4:
            # zbar lists a QR's corners top-left, bottom-left, bottom-right, top-right.
            corners = (points[0], points[3], points[2], points[1])
        elif points:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            corners = ((min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)),
                       (min(xs), max(ys)))
        else:
            corners = ()
        return Decoded(text=_text_of(raw), raw=raw, symbology=ZBAR_TO_ZXING.get(kind, kind),
                       corners=corners, backend=self.name)


_LOADERS = {"zxing": _Zxing, "zbar": _Zbar}


# --- frames -------------------------------------------------------------------------------

def to_gray(frame) -> np.ndarray | None:
    """An 8-bit C-contiguous greyscale array of `frame`, or None when there is nothing in it.

    frame: a numpy array, grey (H, W) / (H, W, 1), BGR (H, W, 3) or BGRA (H, W, 4) as OpenCV
    gives them, or a PIL image. bool arrays are black/white; float arrays are 0..255, or
    0..1 when nothing exceeds 1. TypeError for anything else."""
    if frame is None:
        return None
    if not isinstance(frame, np.ndarray):
        if hasattr(frame, "convert") and hasattr(frame, "mode") and hasattr(frame, "size"):
            if 0 in frame.size:
                return None
            frame = np.asarray(frame.convert("L"))
        else:
            raise TypeError(f"a frame is a numpy array or a PIL image, not "
                            f"{type(frame).__name__}")
    if frame.size == 0:
        return None
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (3, 4)):
        raise TypeError(f"a frame is (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
                        f"not {frame.shape}")
    frame = _to_uint8(frame)
    if frame.ndim == 3:
        frame = _bgr_to_gray(frame)
    return np.ascontiguousarray(frame)


def _to_uint8(frame: np.ndarray) -> np.ndarray:
    if frame.dtype == np.uint8:
        return frame
    if frame.dtype == np.bool_:
        return frame.astype(np.uint8) * 255
    if np.issubdtype(frame.dtype, np.floating):
        frame = np.nan_to_num(frame)
        if frame.max() <= 1.0:
            frame = frame * 255.0
        return np.clip(np.rint(frame), 0, 255).astype(np.uint8)
    if np.issubdtype(frame.dtype, np.integer):
        return np.clip(frame, 0, 255).astype(np.uint8)
    raise TypeError(f"a frame holds numbers, not {frame.dtype}")


def _bgr_to_gray(frame: np.ndarray) -> np.ndarray:
    try:
        import cv2
    except ImportError:  # the same weights as cv2.COLOR_BGR2GRAY
        b, g, r = (frame[:, :, i].astype(np.float32) for i in range(3))
        return np.clip(np.rint(0.114 * b + 0.587 * g + 0.299 * r), 0, 255).astype(np.uint8)
    code = cv2.COLOR_BGR2GRAY if frame.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
    return cv2.cvtColor(np.ascontiguousarray(frame), code)


# --- the chain ------------------------------------------------------------------------------

class DecoderChain:
    """The backends in order; the first that finds anything in a frame answers for it."""

    def __init__(self, backends: tuple[str, ...] = BACKENDS, formats: str = "all"):
        if formats not in FORMATS:
            raise ValueError(f"formats is one of {', '.join(FORMATS)}, not {formats!r}")
        if isinstance(backends, str):
            backends = (backends,)
        self.formats = formats
        self.missing: dict[str, str] = {}
        self._backends = []
        for name in dict.fromkeys(backends):  # in order, once each
            loader = _LOADERS.get(name)
            if loader is None:
                self.missing[name] = f"unknown backend (known: {', '.join(BACKENDS)})"
                continue
            try:
                self._backends.append(loader(formats))
            except (ImportError, OSError) as exc:
                self.missing[name] = f"{type(exc).__name__}: {exc}"
                log.info("decoder backend %s unavailable: %s", name, exc)
        self.available: tuple[str, ...] = tuple(b.name for b in self._backends)

    def __repr__(self) -> str:
        return (f"DecoderChain(available={self.available}, missing={sorted(self.missing)}, "
                f"formats={self.formats!r})")

    def decode(self, frame) -> list[Decoded]:
        """Every code the first backend that finds anything finds in `frame` ([] if none
        does, or the frame is None or empty). TypeError for something that is not a frame."""
        gray = to_gray(frame)
        if gray is None:
            return []
        for backend in self._backends:
            found = backend.decode(gray)
            if found:
                return _without_nested(found)
        return []


def _without_nested(found: list[Decoded]) -> list[Decoded]:
    """Drops a symbol whose centre lies inside a larger symbol of the same frame: a code
    cannot be printed inside another, so it is a piece of the larger one read as something
    else (a finder pattern read as a Micro QR, a run of modules as a bar code)."""
    if len(found) < 2:
        return found

    def area(c):
        return abs(sum(c[i][0] * c[i - 1][1] - c[i - 1][0] * c[i][1]
                       for i in range(len(c)))) / 2 if len(c) >= 3 else 0.0

    def inside(point, c):  # the point is on the inner side of every edge of a convex quad
        signs = {(b[0] - a[0]) * (point[1] - a[1]) - (b[1] - a[1]) * (point[0] - a[0]) > 0
                 for a, b in zip(c, c[1:] + c[:1])}
        return len(signs) == 1

    kept = []
    for code in found:
        if len(code.corners) >= 3:
            centre = (sum(x for x, _ in code.corners) / len(code.corners),
                      sum(y for _, y in code.corners) / len(code.corners))
            if any(other is not code and area(other.corners) > area(code.corners)
                   and len(other.corners) >= 3 and inside(centre, list(other.corners))
                   for other in found):
                log.debug("dropped %s %r inside a larger code", code.symbology, code.text)
                continue
        kept.append(code)
    return kept


@functools.lru_cache(maxsize=1)
def _file_chain() -> DecoderChain:
    return DecoderChain()


def read_image(path) -> np.ndarray:
    """The image file as an 8-bit grey array (OpenCV, else Pillow). ValueError if it is
    missing or not an image either can read."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such image file")
    try:
        import cv2

        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    except ImportError:
        image = None
    if image is not None and image.size:
        return image
    try:
        from PIL import Image

        with Image.open(path) as pil:
            return np.asarray(pil.convert("L"))
    except ImportError:
        pass
    except (OSError, ValueError) as exc:  # PIL.UnidentifiedImageError is an OSError
        raise ValueError(f"{path}: not a readable image ({exc})") from exc
    raise ValueError(f"{path}: not a readable image")


def decode_file(path) -> list[Decoded]:
    """Every code in an image file (all formats, zxing then zbar). ValueError for a file that
    is missing or not an image."""
    return _file_chain().decode(read_image(path))
