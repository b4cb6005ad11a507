"""Synthetic photographs of A4 pages, made in the tests (nothing is shipped as a fixture).

    page = a4_page(qr_text="NFA:...")           # BGR 1240x1754, Arabic + English + QR
    shot = photograph(page, angle_deg=8, ...)    # Shot(frame 1920x1080 BGR, corners, qr_box)

The page is printed text on white paper: two Arabic and two English lines of large type
(Noto via devices/fonts.py, shaped by Raqm) and a QR code (segno). The photograph places it
on a dark, cluttered desk (boxes, pens, a coloured folder, wood-like grain) through a
homography: in-plane rotation, an optional keystone (the camera not square above the page),
then poor light (dimmed, sensor noise), an optional shadow falling over a third of the frame
and the webcam's JPEG compression. `corners` are where the page's corners really are.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

from devices.fonts import find_font
from devices.printing.render import FONT_FILES

PAGE_W, PAGE_H = 1240, 1754
FRAME_W, FRAME_H = 1920, 1080
QR_BOX = (760, 1180, 360)  # x, y, side of the QR (with its quiet zone) on the page
ARABIC_LINES = ("طلب رخصة بناء", "سند الملكية رقم ٢٠٤")
ENGLISH_LINES = ("BUILDING PERMIT", "TITLE DEED 02-1234")


def _font(role: str, size: int) -> ImageFont.FreeTypeFont:
    path = find_font(FONT_FILES[(role, True)])
    assert path, f"no {role} font: install fonts-noto-core"
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.RAQM)


def a4_page(qr_text: str = "NFA:MUH:MUH-D01-A2026-000042", photo: bool = False) -> np.ndarray:
    """A white A4 page at 150 dpi (BGR). photo=True puts a large colour picture on it."""
    page = Image.new("RGB", (PAGE_W, PAGE_H), (250, 250, 246))
    draw = ImageDraw.Draw(page)
    arabic, latin = _font("arabic", 72), _font("latin", 64)
    y = 140
    for line in ARABIC_LINES:
        draw.text((PAGE_W - 120, y), line, font=arabic, fill=(20, 20, 20), anchor="ra",
                  direction="rtl")
        y += 130
    for line in ENGLISH_LINES:
        draw.text((120, y), line, font=latin, fill=(20, 20, 20))
        y += 110
    for k in range(6):  # body text: smaller lines, as a form has
        draw.text((120, y + 20 + 60 * k), "Parcel 02-1234, block 204, road 15, building 1203A",
                  font=_font("latin", 34), fill=(30, 30, 30))
    if photo:
        colours = [(200, 40, 40), (40, 160, 60), (30, 80, 200), (230, 180, 20)]
        for i, colour in enumerate(colours):
            draw.rectangle((120 + 250 * i, 1000, 340 + 250 * i, 1650), fill=colour)
    else:
        x, qy, side = QR_BOX
        qr = segno.make(qr_text, error="m", micro=False)
        modules = qr.symbol_size(scale=1, border=4)[0]
        scale = side // modules
        img = np.array(qr.matrix, np.uint8)
        img = np.pad(1 - img, 4, constant_values=1) * 255
        img = cv2.resize(img, (modules * scale, modules * scale), interpolation=cv2.INTER_NEAREST)
        page.paste(Image.fromarray(img).convert("RGB"), (x, qy))
    return cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)


def qr_origin(qr_text: str = "NFA:MUH:MUH-D01-A2026-000042") -> tuple[int, int]:
    """Where the QR symbol's top-left corner (inside its quiet zone) is on the page."""
    qr = segno.make(qr_text, error="m", micro=False)
    scale = QR_BOX[2] // qr.symbol_size(scale=1, border=4)[0]
    return QR_BOX[0] + 4 * scale, QR_BOX[1] + 4 * scale


def desk(rng: np.random.Generator) -> np.ndarray:
    """A darker, cluttered background: wood-like grain and objects of every colour."""
    grain = rng.normal(0, 1, (FRAME_H // 8, FRAME_W // 8)).astype(np.float32)
    grain = cv2.resize(cv2.GaussianBlur(grain, (0, 0), 2), (FRAME_W, FRAME_H))
    base = np.empty((FRAME_H, FRAME_W, 3), np.float32)
    for c, level in enumerate((60, 75, 95)):
        base[:, :, c] = level + 18 * grain
    for _ in range(14):
        colour = tuple(int(v) for v in rng.integers(20, 150, 3))
        x, y = int(rng.integers(0, FRAME_W)), int(rng.integers(0, FRAME_H))
        w, h = int(rng.integers(40, 260)), int(rng.integers(20, 180))
        if rng.random() < 0.5:
            cv2.rectangle(base, (x, y), (x + w, y + h), colour, -1)
        else:
            cv2.ellipse(base, (x, y), (w // 2, h // 2), float(rng.integers(0, 180)), 0, 360,
                        colour, -1)
    for _ in range(6):  # pens and cables
        p = rng.integers(0, [FRAME_W, FRAME_H], 2)
        q = p + rng.integers(-300, 300, 2)
        cv2.line(base, tuple(int(v) for v in p), tuple(int(v) for v in q),
                 tuple(int(v) for v in rng.integers(10, 170, 3)), int(rng.integers(3, 12)))
    return base


@dataclass
class Shot:
    frame: np.ndarray    # BGR uint8, 1920x1080
    corners: np.ndarray  # (4, 2) page corners TL, TR, BR, BL in frame pixels
    homography: np.ndarray  # page pixels -> frame pixels


def page_quad(angle_deg: float, height_px: float = 820, keystone: float = 0.0,
              centre=(FRAME_W / 2, FRAME_H / 2)) -> np.ndarray:
    """Where the page's corners fall in the frame: a rotated A4 rectangle `height_px` tall,
    its far (top) side `keystone` shorter (a camera tilted towards the page's bottom)."""
    h = height_px
    w = h * PAGE_W / PAGE_H
    top = w * (1 - keystone) / 2
    local = np.array([[-top, -h / 2], [top, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    a = np.radians(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return local @ rot.T + np.array(centre)


def photograph(page: np.ndarray, angle_deg: float = 0.0, keystone: float = 0.0,
               height_px: float = 820, light: float = 1.0, noise: float = 2.0,
               shadow: bool = False, seed: int = 0, jpeg_quality: int = 88,
               centre=(FRAME_W / 2, FRAME_H / 2)) -> Shot:
    rng = np.random.default_rng(seed)
    corners = page_quad(angle_deg, height_px, keystone, centre)
    src = np.array([[0, 0], [PAGE_W, 0], [PAGE_W, PAGE_H], [0, PAGE_H]], np.float32)
    homography = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    # the lens: a little blur at page scale before the page is shrunk onto the sensor
    soft = cv2.GaussianBlur(page, (0, 0), 1.0).astype(np.float32)
    warped = cv2.warpPerspective(soft, homography, (FRAME_W, FRAME_H), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((PAGE_H, PAGE_W), np.float32), homography,
                               (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)[:, :, None]
    frame = desk(rng) * (1 - mask) + warped * mask
    frame *= light
    if shadow:  # a third of the frame darkened to 40%, with a soft edge: a person's shadow
        ramp = np.ones(FRAME_W, np.float32)
        start = int(FRAME_W * 0.5)
        ramp[start:] = np.clip(1 - (np.arange(FRAME_W - start) / 90.0), 0.4, 1)
        ramp[int(FRAME_W * 0.83):] = np.linspace(0.4, 0.8, FRAME_W - int(FRAME_W * 0.83))
        frame *= ramp[None, :, None]
    frame += rng.normal(0, noise, frame.shape)
    frame = np.clip(frame, 0, 255).astype(np.uint8)
    _, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    return Shot(cv2.imdecode(buf, cv2.IMREAD_COLOR), corners, homography)


def empty_desk(seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(desk(rng) * 0.8 + rng.normal(0, 2, (FRAME_H, FRAME_W, 3)), 0,
                   255).astype(np.uint8)
