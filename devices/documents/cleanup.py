"""A photographed page made flat and legible: outline, perspective, deskew, text or photo.

    page = clean_page(frame_bgr)                  # mode "auto": text or photo by colour
    page.image, page.corners, page.mode           # corners TL, TR, BR, BL in frame pixels
    data, media_type = encode_page(page)          # text <= 250 kB PNG; photo JPEG q80

Outline: the page is the largest convex 4-cornered shape of the frame that covers at least
MIN_PAGE_SHARE of it. Candidates are looked for on a small copy (DETECT_WIDTH px wide, text
closed away so only the sheet is left) in several masks, because each fails where another
holds: Canny edges at the frame's own thresholds (a dim frame) and at two fixed ones (a
shadow's soft edge passes only low thresholds; clutter touching the sheet joins it only at
low ones), and Otsu's split of bright paper from a darker desk. Each candidate's sides are
then refined on the full frame: across each side, the strongest bright-inside step is found
to a fraction of a pixel, first in a wide band with a consensus line (a corner pulled out by
a touching object leaves most of the side right), then in a narrow one (Huber fit); the
corners are where the lines meet. The largest candidate whose every side has enough such
steps on its line (MIN_EDGE_SUPPORT) is the page.

The page is warped to A4 proportions (PAGE_SIZE, 150 dpi; a landscape sheet stays
landscape), and a residual tilt of the text (up to MAX_DESKEW_DEG; a page that was not quite
flat) is turned away by the angle whose row profile is sharpest. Which way is up is taken
from the frame: the side nearest the frame's top is the page's top (holding a page upside
down is for the clerk to retake).

Text mode: grey, the uneven light divided out (the paper's own brightness, found by closing
the text away), then ink is what an adaptive threshold finds darker than its surroundings
and clearly darker than paper, or simply dark: black text on white, legible and small as a
1-bit PNG (grey WebP if a speckled page would be larger than MAX_TEXT_PAGE_BYTES). Photo
mode: colour kept, JPEG at PHOTO_QUALITY within MAX_PHOTO_PAGE_BYTES. "auto" picks photo when
enough of the page is saturated colour (PHOTO_SATURATED_SHARE).

Outline=False (a flatbed scan, an imported file) takes the whole frame as the page.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.errors import DeviceError

PAGE_SIZE = (1240, 1754)  # width, height: A4 at 150 dpi, portrait
MODES = ("auto", "text", "photo")
MIN_PAGE_SHARE = 0.12  # of the frame's area: less is a page too far away to read
DETECT_WIDTH = 640
MIN_SIDE_PX = 64  # a smaller picture is no page, and the steps below need room
MAX_DESKEW_DEG = 3.0
DESKEW_STEP_DEG = 0.25
MAX_CANDIDATES = 6
SIDE_SAMPLES = 60
MIN_STEP = 1.5  # grey levels per half pixel across the paper's edge, after smoothing
MIN_EDGE_SUPPORT = 0.5
PHOTO_SATURATED_SHARE = 0.12
MAX_TEXT_PAGE_BYTES = 250_000
MAX_PHOTO_PAGE_BYTES = 1_500_000  # below the office store's 2 MB a page
PHOTO_QUALITY = 80
INK_BELOW = 185  # of 255, on the page with its light evened out
INK_DARK = 110
EDGE_BLANK_PX = 6


class NoPageFound(DeviceError):
    """No page-like four-cornered shape covers a sensible share of the frame."""

    code = "no_page_found"


@dataclass(frozen=True)
class CleanPage:
    image: np.ndarray    # text: uint8 grey, 0 or 255; photo: uint8 BGR
    corners: np.ndarray  # (4, 2) float, TL, TR, BR, BL in frame pixels
    mode: str            # "text" | "photo"


def clean_page(frame_bgr: np.ndarray, mode: str = "auto", outline: bool = True) -> CleanPage:
    """The page in `frame_bgr`, flat, upright and legible (see the module doc)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    frame = _as_bgr(frame_bgr)
    height, width = frame.shape[:2]
    if min(height, width) < MIN_SIDE_PX:
        raise DeviceError(f"the picture ({width}x{height}) is too small to be a page")
    if outline:
        corners = find_page(frame)
    else:
        corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    flat = _warp(frame, corners, fit_a4=outline)
    flat = _deskew(flat)
    chosen = mode if mode != "auto" else ("photo" if _is_photo(flat) else "text")
    image = _text(flat) if chosen == "text" else flat
    return CleanPage(image, corners.astype(np.float64), chosen)


def encode_page(page: CleanPage) -> tuple[bytes, str]:
    """(bytes, media type): a text page as a 1-bit PNG (WebP grey if that would be larger
    than MAX_TEXT_PAGE_BYTES), a photo as JPEG at PHOTO_QUALITY, lowered until it fits
    MAX_PHOTO_PAGE_BYTES."""
    if page.mode == "text":
        grey = page.image if page.image.ndim == 2 else cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY)
        bits = np.where(grey >= 128, 255, 0).astype(np.uint8)
        data = _png_1bit(bits)
        for quality in (60, 40, 25):  # a speckled page: grey WebP is smaller than PNG then
            if len(data) <= MAX_TEXT_PAGE_BYTES:
                return data, "image/png"
            ok, buf = cv2.imencode(".webp", grey, [cv2.IMWRITE_WEBP_QUALITY, quality])
            if ok and len(buf) <= MAX_TEXT_PAGE_BYTES:
                return buf.tobytes(), "image/webp"
        raise DeviceError("the text page cannot be made small enough to keep")
    for quality in (PHOTO_QUALITY, 70, 60, 50, 40):
        ok, buf = cv2.imencode(".jpg", page.image, [cv2.IMWRITE_JPEG_QUALITY, quality,
                                                    cv2.IMWRITE_JPEG_OPTIMIZE, 1])
        if ok and len(buf) <= MAX_PHOTO_PAGE_BYTES:
            return buf.tobytes(), "image/jpeg"
    raise DeviceError("the photo page cannot be made small enough to keep")


# --- the outline --------------------------------------------------------------------------

def find_page(frame_bgr: np.ndarray) -> np.ndarray:
    """The page's corners TL, TR, BR, BL (float, frame pixels), or NoPageFound."""
    frame = _as_bgr(frame_bgr)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    height, width = grey.shape
    scale = min(1.0, DETECT_WIDTH / width)
    small = cv2.resize(grey, (round(width * scale), round(height * scale)),
                       interpolation=cv2.INTER_AREA) if scale < 1 else grey.copy()
    smooth = cv2.GaussianBlur(grey, (0, 0), 1.2).astype(np.float32)
    best, best_key = None, None
    for quad in _candidate_quads(small):
        corners, support = _refine(smooth, _order(quad / scale), wide=max(12.0, 4.0 / scale))
        if support < MIN_EDGE_SUPPORT or not _page_like(corners, grey.shape):
            continue
        area = cv2.contourArea(corners.astype(np.float32))
        if area < MIN_PAGE_SHARE * height * width:
            continue
        # the largest page; of two nearly the same size, the one its edges fit better
        key = (round(area / (0.03 * height * width)), support)
        if best_key is None or key > best_key:
            best, best_key = corners, key
    if best is None:
        raise NoPageFound("no page in the picture: hold the whole page flat inside the frame")
    return best


def _candidate_quads(small: np.ndarray) -> list[np.ndarray]:
    """Four-cornered shapes that may be the sheet, largest first (at most MAX_CANDIDATES):
    from Canny edges at the frame's own and at two fixed thresholds (a dim frame needs low
    ones; a shadow's soft edge passes only low ones), and from Otsu's bright-paper mask."""
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    # dark text on the page, closed away: the sheet is one bright shape
    closed = cv2.morphologyEx(blurred, cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    median = float(np.median(closed))
    masks = [cv2.dilate(cv2.Canny(closed, lo, hi), np.ones((3, 3), np.uint8))
             for lo, hi in ((max(5.0, 0.33 * median), max(15.0, 0.66 * median)), (30, 90),
                            (60, 150))]
    _, bright = cv2.threshold(closed, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)))
    area_min = MIN_PAGE_SHARE * small.shape[0] * small.shape[1]
    found: list[tuple[float, np.ndarray]] = []
    for mask in masks:
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            hull = cv2.convexHull(contour)
            area = cv2.contourArea(hull)
            if area < area_min:
                continue
            perimeter = cv2.arcLength(hull, True)
            for epsilon in (0.02, 0.03, 0.045):
                approx = cv2.approxPolyDP(hull, epsilon * perimeter, True)
                if len(approx) == 4:
                    break
            quad = approx[:, 0, :].astype(np.float64)
            if len(quad) != 4 or not _page_like(quad, small.shape):
                continue
            if cv2.contourArea(approx) < 0.85 * area:  # the hull is not a quadrilateral
                continue
            if any(np.abs(quad[:, None] - q[None]).max() < 1e-6 for _, q in found):
                continue
            found.append((area, quad))
    found.sort(key=lambda item: -item[0])
    unique: list[np.ndarray] = []
    for _, quad in found:  # the same sheet seen by two masks is refined once
        ordered = _order(quad)
        if all(np.abs(ordered - other).max() > 3 for other in unique):
            unique.append(ordered)
    return unique[:MAX_CANDIDATES]


def _page_like(quad: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Convex, corners not too sharp, and not the frame's own border."""
    height, width = shape[:2]
    if not cv2.isContourConvex(quad.astype(np.float32)):
        return False
    for i in range(4):
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        u, v = a - b, c - b
        cos = float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9))
        if abs(cos) > 0.6:  # interior angle outside ~53-127 degrees
            return False
    on_border = [(x <= 2 or y <= 2 or x >= width - 3 or y >= height - 3) for x, y in quad]
    return sum(on_border) < 3


def _order(quad: np.ndarray) -> np.ndarray:
    """TL, TR, BR, BL: clockwise on screen from the corner that starts the top side (the
    side whose middle is highest in the frame)."""
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    ring = quad[np.argsort(angles)]  # clockwise on screen (y down)
    tops = [(ring[i][1] + ring[(i + 1) % 4][1]) / 2 for i in range(4)]
    start = int(np.argmin(tops))
    return np.roll(ring, -start, axis=0)


def _refine(smooth: np.ndarray, corners: np.ndarray, wide: float) -> tuple[np.ndarray, float]:
    """Each side moved onto the paper's edge: (corners, support), support being the share
    of points along the sides where a bright-inside step lies on the fitted line.

    First a wide search and a consensus line per side (a rough corner pulled out by a
    touching object leaves most of the side right), then a narrow one for precision."""
    corners, _ = _fit_sides(smooth, corners, wide, consensus=True)
    return _fit_sides(smooth, corners, 3.0, consensus=False)


def _fit_sides(smooth, corners, search, consensus):
    centre = corners.mean(axis=0)
    lines, support = [], []
    offsets = np.arange(-search, search + 0.25, 0.5)
    ts = np.linspace(0.06, 0.94, SIDE_SAMPLES)
    for i in range(4):
        p0, p1 = corners[i], corners[(i + 1) % 4]
        direction = (p1 - p0) / (np.linalg.norm(p1 - p0) + 1e-9)
        normal = np.array([-direction[1], direction[0]])
        if normal @ ((p0 + p1) / 2 - centre) < 0:
            normal = -normal  # outward: paper inside, desk outside
        base = p0[None, :] + ts[:, None] * (p1 - p0)[None, :]
        xs = (base[:, None, 0] + offsets[None, :] * normal[0]).astype(np.float32)
        ys = (base[:, None, 1] + offsets[None, :] * normal[1]).astype(np.float32)
        profile = cv2.remap(smooth, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        drop = profile[:, :-1] - profile[:, 1:]  # brighter inside than outside
        points = []
        for row, base_point in zip(drop, base):
            k = int(np.argmax(row))
            if row[k] < MIN_STEP:
                continue
            shift = 0.0
            if 0 < k < len(row) - 1:  # parabola through the peak and its neighbours
                a, b, c = row[k - 1], row[k], row[k + 1]
                denom = a - 2 * b + c
                shift = 0.5 * (a - c) / denom if denom else 0.0
            points.append(base_point + (offsets[0] + 0.5 * (k + 0.5 + shift)) * normal)
        points = np.array(points, np.float64).reshape(-1, 2)
        if len(points) < SIDE_SAMPLES // 4:
            lines.append((p0, direction))
            support.append(0.0)
            continue
        if consensus:
            points = _consensus(points)
        vx, vy, x0, y0 = cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01,
                                     0.01).ravel()
        point, way = np.array([x0, y0], np.float64), np.array([vx, vy], np.float64)
        residual = np.abs((points - point) @ np.array([-way[1], way[0]]))
        lines.append((point, way))
        support.append(float((residual <= 1.5).sum()) / SIDE_SAMPLES)
    refined = []
    for i in range(4):
        (a, da), (b, db) = lines[i - 1], lines[i]
        matrix = np.array([da, -db]).T
        if abs(np.linalg.det(matrix)) < 1e-6:
            refined.append(corners[i])
            continue
        t = np.linalg.solve(matrix, b - a)
        refined.append(a + t[0] * da)
    return np.array(refined, np.float64), min(support)


def _consensus(points: np.ndarray) -> np.ndarray:
    """The points on the line most of them agree on (pairs tried in a fixed order)."""
    n = len(points)
    best = points
    best_count = 0
    for i in range(0, n, 2):
        for j in range(i + max(2, n // 4), n, 3):
            way = points[j] - points[i]
            length = np.linalg.norm(way)
            if length < 1e-6:
                continue
            normal = np.array([-way[1], way[0]]) / length
            inliers = np.abs((points - points[i]) @ normal) <= 1.5
            count = int(inliers.sum())
            if count > best_count:
                best, best_count = points[inliers], count
    return best if best_count >= 2 else points


# --- flat, upright, legible ---------------------------------------------------------------

def _warp(frame: np.ndarray, corners: np.ndarray, fit_a4: bool) -> np.ndarray:
    top = np.linalg.norm(corners[1] - corners[0]) + np.linalg.norm(corners[2] - corners[3])
    side = np.linalg.norm(corners[3] - corners[0]) + np.linalg.norm(corners[2] - corners[1])
    short, long_ = PAGE_SIZE
    if fit_a4:
        size = (short, long_) if side >= top else (long_, short)
    else:  # a scan or an imported image: its own proportions, within the A4 box
        w, h = top / 2, side / 2
        box = (short, long_) if h >= w else (long_, short)
        k = min(box[0] / w, box[1] / h)
        size = (max(1, round(w * k)), max(1, round(h * k)))
    target = np.array([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]], np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(frame, matrix, size, flags=cv2.INTER_AREA
                               if not fit_a4 and size[0] < frame.shape[1] else cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def _deskew(page: np.ndarray) -> np.ndarray:
    """Turn away a residual tilt of the text lines, when there is one to see."""
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (grey.shape[1] // 4, grey.shape[0] // 4),
                       interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                15, 12)
    margin = 4  # the page's own border is not text
    ink[:margin, :] = ink[-margin:, :] = 0
    ink[:, :margin] = ink[:, -margin:] = 0
    if ink.mean() < 0.5:  # no ink to speak of
        return page
    centre = (small.shape[1] / 2, small.shape[0] / 2)
    scores = {}
    for angle in np.arange(-MAX_DESKEW_DEG, MAX_DESKEW_DEG + 1e-9, DESKEW_STEP_DEG):
        turned = cv2.warpAffine(ink, cv2.getRotationMatrix2D(centre, float(angle), 1.0),
                                (small.shape[1], small.shape[0]))
        rows = turned.sum(axis=1, dtype=np.float64)
        scores[round(float(angle), 3)] = float(np.var(rows))
    best = max(scores, key=scores.get)
    if best == 0 or scores[best] < 1.05 * scores[0.0]:
        return page
    matrix = cv2.getRotationMatrix2D((page.shape[1] / 2, page.shape[0] / 2), best, 1.0)
    return cv2.warpAffine(page, matrix, (page.shape[1], page.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _is_photo(page: np.ndarray) -> bool:
    small = cv2.resize(page, (page.shape[1] // 8, page.shape[0] // 8),
                       interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    saturated = (hsv[:, :, 1] > 70) & (hsv[:, :, 2] > 40)
    return float(saturated.mean()) >= PHOTO_SATURATED_SHARE


def _text(page: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    grey = cv2.GaussianBlur(cv2.medianBlur(grey, 3), (0, 0), 0.8)  # sensor noise, not ink
    # the paper's brightness (text closed away), divided out: a shadow becomes white again
    # (found on a quarter-size copy: it is smooth, and closing at full size is 10x slower)
    quarter = cv2.resize(grey, (grey.shape[1] // 4, grey.shape[0] // 4),
                         interpolation=cv2.INTER_AREA)
    paper = cv2.morphologyEx(quarter, cv2.MORPH_CLOSE,
                             cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (25, 25)))
    paper = cv2.resize(cv2.GaussianBlur(paper, (0, 0), 4), (grey.shape[1], grey.shape[0]),
                       interpolation=cv2.INTER_LINEAR)
    even = cv2.divide(grey, np.maximum(paper, 1), scale=255)
    local = cv2.adaptiveThreshold(even, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY,
                                  35, 15)
    # ink is darker than its surroundings and clearly darker than paper (the grain of a
    # dim, shadowed sheet, amplified by the division, stays white), or simply dark (the
    # middle of a broad stroke or of a QR code's block, as dark as its surroundings)
    ink = ((local == 0) & (even < INK_BELOW)) | (even < INK_DARK)
    text = np.where(ink, 0, 255).astype(np.uint8)
    edge = EDGE_BLANK_PX  # the sheet's own border, not content
    text[:edge, :] = text[-edge:, :] = 255
    text[:, :edge] = text[:, -edge:] = 255
    return text


def _png_1bit(bits: np.ndarray) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    # optimize=True saves ~10% for 6x the time: not worth it at the counter
    Image.fromarray(bits).convert("1", dither=Image.Dither.NONE).save(out, "PNG")
    return out.getvalue()


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    if not isinstance(frame, np.ndarray) or frame.size == 0 or frame.dtype != np.uint8:
        raise DeviceError("the picture is not an 8-bit image")
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    raise DeviceError("the picture is not an 8-bit image")
