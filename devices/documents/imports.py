"""Pages from a file a resident brought (a USB stick): images and PDFs, checked before use.

    pages = import_file("/media/usb/deed.pdf")        # [(bytes, "image/png"), ...]
    frames = import_frames("/media/usb/photo.jpg")    # [BGR ndarray, ...] to clean_page()

Checks, in this order, each refusal an ImportRefused with a stable `reason` (and the facts
to phrase it) that changes nothing:

    unreadable       the file cannot be opened (missing, a folder, no permission)
    too_large        the file is over MAX_IMPORT_BYTES (its size is read, not its content)
    empty            the file holds nothing
    unsupported_type the name ends in something we do not import (.docx, .txt, ...)
    not_an_image     the content is no image or PDF we know (`actual` names what it is,
                     when it is something known: "zip", "gif", ...)
    extension_lies   the name says one kind, the content is another (`claimed`, `actual`)
    damaged          it starts like its kind but cannot be read
    pdf_password     a PDF that opens only with a password
    too_many_pages   more than MAX_IMPORT_PAGES pages (or frames of a TIFF)
    pdf_javascript   a PDF that carries JavaScript (an open action, a document-level
                     script, a link or field action): refused whole, not rendered
    page_too_large   a page of more than MAX_PAGE_PIXELS (a decompression bomb)
    page_too_small   a picture less than cleanup.MIN_SIDE_PX on a side (an icon, a line)

Images are decoded with Pillow (every frame of a TIFF is a page); PDF pages are rendered
with PDFium (pypdfium2; this build has no JavaScript engine, and scripted PDFs are refused
before that anyway) at RENDER_DPI, capped at MAX_RENDER_SIDE px. import_file() makes each
page a clean page without looking for an outline (a scan or a PDF page is already flat):
text pages become a small 1-bit PNG, photos stay JPEG (cleanup.encode_page). The original
file is only read: metadata (EXIF: place, camera) is not carried over.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import cv2
import numpy as np

from core.errors import DeviceError

from .cleanup import MIN_SIDE_PX, clean_page, encode_page

MAX_IMPORT_BYTES = 100 * 1024 * 1024
MAX_IMPORT_PAGES = 50
MAX_PAGE_PIXELS = 60_000_000
RENDER_DPI = 150
MAX_RENDER_SIDE = 2480  # an A3 drawing at 150 dpi
MAX_PDF_OBJECTS = 500_000  # walked looking for scripts; more is not a document
HEAD_BYTES = 64

# What a file name promises -> the kind its content must be.
SUFFIXES = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".webp": "webp", ".tif": "tiff",
            ".tiff": "tiff", ".pdf": "pdf"}
IMAGE_KINDS = ("jpeg", "png", "webp", "tiff")
# Kinds we recognise only to say what a refused file really is.
OTHER_KINDS = (
    (b"GIF87a", "gif"), (b"GIF89a", "gif"), (b"BM", "bmp"), (b"PK\x03\x04", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "office document"), (b"\x7fELF", "program"),
    (b"MZ", "program"), (b"Rar!", "rar"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"\x1f\x8b", "gzip"),
)
# Keys and action types that carry JavaScript anywhere in a PDF's object graph.
JS_KEYS = ("/JS", "/JavaScript")


class ImportRefused(DeviceError):
    """A file cannot be imported as pages; `reason` says why (see the module doc)."""

    code = "document_import_refused"

    def __init__(self, message: str, reason: str, **details):
        super().__init__(message, reason=reason, **details)
        self.reason = reason


def sniff(head: bytes) -> str | None:
    """What the first bytes of a file say it is: jpeg, png, webp, tiff, pdf, another known
    kind (gif, zip, ...) or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.lstrip(b"\x00\t\n\r ").startswith(b"%PDF-"):
        return "pdf"
    return next((kind for magic, kind in OTHER_KINDS if head.startswith(magic)), None)


def read_file(path: Path) -> bytes:
    """The whole file (only once its size and first bytes passed)."""
    return path.read_bytes()


def check_file(path: str | os.PathLike) -> str:
    """The kind of an importable file (jpeg, png, webp, tiff, pdf) after the checks that
    need only its size, its name and its first bytes; ImportRefused otherwise."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ImportRefused(f"{path.name} is not a file", "unreadable")
        size = path.stat().st_size
    except OSError as exc:
        raise ImportRefused(f"cannot read {path.name}: {exc.strerror}", "unreadable") from exc
    if size > MAX_IMPORT_BYTES:
        raise ImportRefused(
            f"{path.name} is {size / 1e6:.0f} MB; files of at most "
            f"{MAX_IMPORT_BYTES / 1e6:.0f} MB can be imported", "too_large",
            bytes=size, max_bytes=MAX_IMPORT_BYTES)
    if size == 0:
        raise ImportRefused(f"{path.name} is empty", "empty")
    claimed = SUFFIXES.get(path.suffix.lower())
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    actual = sniff(head)
    if claimed is None:
        raise ImportRefused(
            f"{path.name}: only images (JPEG, PNG, WebP, TIFF) and PDF files can be imported",
            "unsupported_type", suffix=path.suffix.lower(), actual=actual)
    if actual not in (*IMAGE_KINDS, "pdf"):
        what = f"a {actual} file" if actual else "not an image or a PDF we can read"
        raise ImportRefused(f"{path.name} is {what}", "not_an_image", claimed=claimed,
                            actual=actual)
    if actual != claimed:
        raise ImportRefused(
            f"{path.name} is named as {claimed.upper()} but is really {actual.upper()}",
            "extension_lies", claimed=claimed, actual=actual)
    return actual


def import_frames(path: str | os.PathLike) -> list[np.ndarray]:
    """Each page of the file as a BGR image (see the module doc for the refusals)."""
    path = Path(path)
    kind = check_file(path)
    data = read_file(path)
    if kind == "pdf":
        return _pdf_frames(data, path.name)
    return _image_frames(data, path.name)


def import_file(path: str | os.PathLike, mode: str = "auto") -> list[tuple[bytes, str]]:
    """Each page of the file, cleaned and encoded: [(bytes, media_type), ...]."""
    return [encode_page(clean_page(frame, mode, outline=False))
            for frame in import_frames(path)]


# --- images -------------------------------------------------------------------------------

def _image_frames(data: bytes, name: str) -> list[np.ndarray]:
    from PIL import Image, ImageOps, ImageSequence

    frames = []
    try:
        with Image.open(io.BytesIO(data)) as image:
            count = getattr(image, "n_frames", 1)
            if count > MAX_IMPORT_PAGES:
                raise _too_many_pages(name, count)
            for frame in ImageSequence.Iterator(image):
                if min(frame.width, frame.height) < MIN_SIDE_PX:
                    raise ImportRefused(f"{name} is too small to be a page", "page_too_small",
                                        width=frame.width, height=frame.height)
                if frame.width * frame.height > MAX_PAGE_PIXELS:
                    raise ImportRefused(f"{name} has a picture too large to open",
                                        "page_too_large", pixels=frame.width * frame.height,
                                        max_pixels=MAX_PAGE_PIXELS)
                # a phone's photo is stored sideways with an orientation tag
                rgb = np.asarray(ImageOps.exif_transpose(frame).convert("RGB"))
                frames.append(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    except ImportRefused:
        raise
    except Exception as exc:  # Pillow raises many kinds for a broken file
        raise ImportRefused(f"{name} is damaged and cannot be read", "damaged") from exc
    return frames


def _too_many_pages(name: str, count: int) -> ImportRefused:
    return ImportRefused(
        f"{name} has {count} pages; at most {MAX_IMPORT_PAGES} can be imported at once",
        "too_many_pages", pages=count, max_pages=MAX_IMPORT_PAGES)


# --- PDFs ---------------------------------------------------------------------------------

def check_pdf(data: bytes, name: str = "the file") -> int:
    """The page count of a PDF we are willing to render; ImportRefused for a password,
    too many pages or JavaScript."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ImportRefused(f"{name} is protected by a password", "pdf_password")
        count = len(reader.pages)
    except ImportRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, NotImplementedError) as exc:
        raise ImportRefused(f"{name} is damaged and cannot be read", "damaged") from exc
    except Exception as exc:  # pypdf may fail deep inside a malformed object
        raise ImportRefused(f"{name} is damaged and cannot be read", "damaged") from exc
    if count > MAX_IMPORT_PAGES:
        raise _too_many_pages(name, count)
    if count == 0:
        raise ImportRefused(f"{name} has no pages", "empty")
    if _has_javascript(reader):
        raise ImportRefused(f"{name} contains a script (JavaScript) and is not imported",
                            "pdf_javascript")
    return count


def _has_javascript(reader) -> bool:
    """Whether any object reachable from the trailer holds a JavaScript key or action."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen: set[tuple[int, int]] = set()
    stack = [reader.trailer]
    walked = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        walked += 1
        if walked > MAX_PDF_OBJECTS:
            raise ImportRefused("the PDF has too many parts to check", "damaged")
        if isinstance(obj, DictionaryObject):
            if any(key in obj for key in JS_KEYS):
                return True
            if obj.get("/S") == NameObject("/JavaScript"):
                return True
            stack.extend(value for key, value in obj.items() if key != "/Parent")
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return False


def _pdf_frames(data: bytes, name: str) -> list[np.ndarray]:
    import pypdfium2 as pdfium

    check_pdf(data, name)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ImportRefused(f"{name} is damaged and cannot be read", "damaged") from exc
    frames = []
    try:
        for index in range(len(document)):
            page = document[index]
            width_pt, height_pt = page.get_size()
            scale = min(RENDER_DPI / 72, MAX_RENDER_SIDE / max(width_pt, height_pt, 1))
            bitmap = page.render(scale=scale)  # on white
            rgb = np.array(bitmap.to_pil().convert("RGB"))
            frames.append(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            page.close()
    except pdfium.PdfiumError as exc:
        raise ImportRefused(f"{name} is damaged and cannot be read", "damaged") from exc
    finally:
        document.close()
    return frames
