"""A document's pages from a camera frame, a document scanner or a file, ready to be kept:
the counter's documents screen (and a kiosk's) runs these on a worker, never on the UI
thread (house style 4), and shows each page's `preview` before the clerk keeps it.

    frame = latest_frame(camera_service)          # waits briefly for the camera's picture
    page = page_from_frame(frame, "camera")       # clean_page + encode_page (NoPageFound)
    pages = pages_from_file(path)                 # import_file: images and PDF pages

A Page's preview is decoded from the bytes that will be stored, so the clerk sees what the
back office will read. No Kivy here."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from devices.scanning.capture import ScannerError

PREVIEW_MAX_PX = 1000  # the longer side of a preview texture (the screen shows ~450 px)
FRAME_WAIT_S = 3.0  # a camera just opened gives its first picture within this
IMPORT_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp")
MAX_LISTED_FILES = 200


@dataclass(frozen=True, eq=False)  # compared by identity: a new page is a new preview
class Page:
    data: bytes
    media_type: str
    source: str  # core.attachments.SOURCES: camera | scanner | import | kiosk
    preview: np.ndarray

    @property
    def kb(self) -> int:
        return max(1, round(len(self.data) / 1000))


def latest_frame(service, timeout_s: float = FRAME_WAIT_S, sleep=time.sleep) -> np.ndarray:
    """The newest frame of a started ScanService (None until its first picture): waits up
    to timeout_s for it. ScannerError when there is no camera or no picture."""
    if service is None:
        raise ScannerError("no camera is open")
    deadline = time.monotonic() + timeout_s
    while True:
        frame = service.latest_frame()
        if frame is not None:
            return frame
        if time.monotonic() >= deadline:
            raise ScannerError("the camera gave no picture")
        sleep(0.05)


def page_from_frame(frame: np.ndarray, source: str) -> Page:
    """The page in a photo, found, straightened and made legible; NoPageFound
    (devices.documents.cleanup) when there is none. A flatbed scan (source "scanner") is
    the page already: it is only made legible."""
    from devices.documents.cleanup import clean_page, encode_page

    data, media_type = encode_page(clean_page(frame, outline=source != "scanner"))
    return Page(data, media_type, source, decode_preview(data))


def pages_from_file(path: str | Path) -> list[Page]:
    """Every page of an image or a PDF; import_file's refusals (not an image, too many
    pages, a password, JavaScript, too large) pass through unchanged."""
    from devices.documents.imports import import_file

    return [Page(data, media_type, "import", decode_preview(data))
            for data, media_type in import_file(Path(path))]


def decode_preview(data: bytes) -> np.ndarray:
    """The stored bytes as a BGR picture of at most PREVIEW_MAX_PX on its longer side."""
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ScannerError("the page's picture cannot be shown")
    scale = PREVIEW_MAX_PX / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image


def import_files(folder: str | Path, limit: int = MAX_LISTED_FILES) -> list[Path]:
    """Images and PDFs in the import folder (a USB stick's mount) and its subfolders, by
    name; at most `limit`. A missing folder lists nothing."""
    root = Path(folder)
    if not str(folder).strip() or not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        if len(found) >= limit:
            break
        try:
            if path.is_file() and path.suffix.lower() in IMPORT_SUFFIXES and \
                    not any(part.startswith(".") for part in path.relative_to(root).parts):
                found.append(path)
        except OSError:  # a stick pulled out while listing
            break
    return found
