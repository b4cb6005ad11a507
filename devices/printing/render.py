"""Documents -> 1-bit raster images at the printer's dot width.

Thermal printer code pages can neither join Arabic letters nor run right to left, so every
document is printed as an image. Text is shaped by Pillow's Raqm layout (HarfBuzz + FriBiDi);
render() refuses to run without it rather than print broken Arabic.

Pillow has no font fallback, and the Arabic fonts carry no Latin letters, so each line is cut
into runs: the Unicode bidi algorithm (a compact UBA for one paragraph without explicit
embeddings) gives every character its level, each character gets the first font of its
script that has a glyph for it, and runs of one level and one font are shaped by Raqm and
placed in visual order (rule L2). Wrapping works on the logical string, one line at a time,
so wrapped Arabic lines stay in reading order.

Everything is drawn in greyscale and cut to black and white at a fixed threshold (no
dithering, so text stays crisp); QR modules are exact black squares, a whole number of dots
each, never resampled.
"""
from __future__ import annotations

import functools
import logging
import math
import unicodedata
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont, features

from core.credentials import qr_fit
from core.errors import DeviceError

from ..fonts import FONT_DIRS, find_font
from . import layouts
from .layouts import QR, Banner, BigNumber, Picture, Row, Rule, Spacer, Text, Title, ltr

log = logging.getLogger(__name__)

WIDTHS = (384, 576)  # 58 mm and 80 mm paper at 203 dpi
SHAPING_MESSAGE = ("Arabic shaping needs Pillow with Raqm (libraqm, HarfBuzz, FriBiDi); "
                   "printing refuses to start rather than print broken Arabic.")


class ShapingUnavailable(DeviceError):
    """Pillow was built without Raqm: Arabic would print as unjoined letters, left to right."""

    code = "shaping_unavailable"


class FontsUnavailable(DeviceError):
    """No usable font file on the machine."""

    code = "fonts_unavailable"


def check_shaping() -> None:
    if not features.check("raqm"):
        raise ShapingUnavailable(SHAPING_MESSAGE)


# --- page geometry ----------------------------------------------------------------------------

class Page(NamedTuple):
    width: int
    margin: int
    sizes: dict  # size role -> pixel size
    big_number: int  # the ticket number's largest size
    qr_min_column: int  # narrowest column that the QR summary may use beside the code


PAGES = {
    384: Page(384, 8, {"small": 20, "body": 24, "large": 28, "title": 32}, 150, 170),
    576: Page(576, 12, {"small": 22, "body": 26, "large": 32, "title": 38}, 180, 170),
}
SMALLER = {"title": "body", "large": "body", "body": "small", "small": "small"}
THRESHOLD = 150  # grey below this prints black
TOP_PAD, BOTTOM_PAD = 8, 16
QR_QUIET_MODULES = qr_fit.QUIET_MODULES
QR_MIN_DOTS_PER_MODULE = qr_fit.MIN_DOTS_PER_MODULE

# --- fonts ------------------------------------------------------------------------------------

# Noto Sans Arabic and Noto Sans are drawn to sit together on one line; DejaVu has a glyph
# for nearly everything else (and Arabic of its own, if Noto is missing).
FONT_FILES = {
    ("arabic", False): ("NotoSansArabic-Regular.ttf", "NotoNaskhArabic-Regular.ttf",
                        "Amiri-Regular.ttf", "DejaVuSans.ttf"),
    ("arabic", True): ("NotoSansArabic-Bold.ttf", "NotoNaskhArabic-Bold.ttf",
                       "Amiri-Bold.ttf", "DejaVuSans-Bold.ttf"),
    ("latin", False): ("NotoSans-Regular.ttf", "DejaVuSans.ttf", "LiberationSans-Regular.ttf"),
    ("latin", True): ("NotoSans-Bold.ttf", "DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf"),
    ("fallback", False): ("DejaVuSans.ttf", "FreeSans.ttf"),
    ("fallback", True): ("DejaVuSans-Bold.ttf", "FreeSansBold.ttf"),
}
ROLES = ("arabic", "latin", "fallback")


@functools.lru_cache(maxsize=None)
def font_path(role: str, bold: bool) -> str:
    path = find_font(FONT_FILES[(role, bold)] + FONT_FILES[(role, False)], FONT_DIRS)
    if path:
        return path
    raise FontsUnavailable(
        f"no {role} font found in {', '.join(FONT_DIRS)} (looked for "
        f"{', '.join(FONT_FILES[(role, bold)])}); install the Debian packages fonts-noto-core "
        f"and fonts-dejavu-core")


@functools.lru_cache(maxsize=128)
def _font(role: str, bold: bool, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(role, bold), size, layout_engine=ImageFont.Layout.RAQM)


@functools.lru_cache(maxsize=None)
def _notdef(role: str, bold: bool) -> bytes:
    return bytes(_font(role, bold, 32).getmask("\U0010fffd"))


@functools.lru_cache(maxsize=8192)
def covers(role: str, bold: bool, ch: str) -> bool:
    """Whether the font of `role` has a glyph for `ch` (its mask differs from .notdef)."""
    return bytes(_font(role, bold, 32).getmask(ch)) != _notdef(role, bold)


# --- bidi -------------------------------------------------------------------------------------

# Directional marks (LRM, RLM, ALM) steer the levels but are not drawn.
_DROP_MARKS = {0x200E: None, 0x200F: None, 0x061C: None}
_ARABIC_RANGES = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF),
                  (0xFE70, 0xFEFF))
_STRONG_R = ("R", "AL")
_NEUTRAL = ("B", "S", "WS", "ON")
# Explicit embeddings and isolates are not supported here; they are dropped from the text.
_EXPLICIT = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}


def _is_arabic(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _ARABIC_RANGES)


def clean(text: str) -> str:
    """Printable text: no control characters or explicit bidi controls; tabs become spaces."""
    out = []
    for ch in str(text):
        if ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) == "Cc" or unicodedata.bidirectional(ch) in _EXPLICIT:
            continue
        else:
            out.append(ch)
    return "".join(out)


def direction(text: str) -> bool | None:
    """Rules P2/P3: True (right to left) or False as the first strong character says; None
    for text with no strong character (numbers, dates, codes)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return False
        if kind in _STRONG_R:
            return True
    return None


def paragraph_rtl(text: str) -> bool:
    """The paragraph direction a line is laid out in: text without strong characters reads
    left to right, so dates and amounts keep their order in an Arabic document."""
    return bool(direction(text))


def bidi_levels(text: str, rtl: bool) -> list[int]:
    """Embedding level of each character of one line (UBA rules W1-W7, N1-N2, I1-I2, L1)."""
    base = 1 if rtl else 0
    sor = "R" if rtl else "L"
    types = [unicodedata.bidirectional(ch) or "L" for ch in text]
    n = len(types)
    for i in range(n):  # W1 (boundary neutrals take the type before them, like marks)
        if types[i] in ("NSM", "BN"):
            types[i] = types[i - 1] if i else sor
    last = sor
    for i in range(n):  # W2, W3
        t = types[i]
        if t in ("L", "R", "AL"):
            last = t
        elif t == "EN" and last == "AL":
            types[i] = "AN"
        if types[i] == "AL":
            types[i] = "R"
    for i in range(1, n - 1):  # W4
        if types[i] == "ES" and types[i - 1] == types[i + 1] == "EN":
            types[i] = "EN"
        elif types[i] == "CS" and types[i - 1] == types[i + 1] and types[i - 1] in ("EN", "AN"):
            types[i] = types[i - 1]
    i = 0
    while i < n:  # W5
        if types[i] == "ET":
            j = i
            while j < n and types[j] == "ET":
                j += 1
            if (i > 0 and types[i - 1] == "EN") or (j < n and types[j] == "EN"):
                types[i:j] = ["EN"] * (j - i)
            i = j
        else:
            i += 1
    types = ["ON" if t in ("ES", "ET", "CS") else t for t in types]  # W6
    last = sor
    for i in range(n):  # W7
        if types[i] in ("L", "R"):
            last = types[i]
        elif types[i] == "EN" and last == "L":
            types[i] = "L"
    i = 0
    while i < n:  # N1, N2
        if types[i] in _NEUTRAL:
            j = i
            while j < n and types[j] in _NEUTRAL:
                j += 1
            before = sor if i == 0 else types[i - 1]
            after = sor if j == n else types[j]
            before = "R" if before in ("EN", "AN") else before
            after = "R" if after in ("EN", "AN") else after
            fill = before if before == after else sor
            types[i:j] = [fill] * (j - i)
            i = j
        else:
            i += 1
    levels = []
    for t in types:  # I1, I2
        if base == 0:
            levels.append(0 if t == "L" else (1 if t == "R" else 2))
        else:
            levels.append(1 if t == "R" else 2)
    for i in range(n - 1, -1, -1):  # L1: trailing white space takes the paragraph level
        if text[i].isspace():
            levels[i] = base
        else:
            break
    return levels


def _roles(text: str, bold: bool) -> list[str]:
    """The font role of each character: Arabic letters in the Arabic font, other letters in
    the Latin one, digits, spaces and punctuation in the font of their neighbours if it has
    them; DejaVu for whatever neither has."""
    n = len(text)
    roles: list[str | None] = [None] * n
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if _is_arabic(ch) and cat[0] != "N":
            order = ("arabic", "fallback", "latin")
        elif cat[0] == "L":
            order = ("latin", "fallback", "arabic")
        else:
            continue
        roles[i] = next((r for r in order if covers(r, bold, ch)), order[0])
    for i, ch in enumerate(text):
        if roles[i] is not None:
            continue
        if unicodedata.category(ch) in ("Mn", "Me") and i:
            roles[i] = roles[i - 1]
            continue
        # A digit or sign inside a word takes the font of the word's nearest letter ("1203A"
        # all Latin); between words, the font of the text before it, then after it.
        start, end = i, i
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < n - 1 and not text[end + 1].isspace():
            end += 1
        letters = [j for j in range(start, end + 1) if roles[j] is not None]
        in_word = roles[min(letters, key=lambda j: (abs(j - i), j))] if letters else None
        after = next((roles[j] for j in range(i + 1, n) if roles[j] is not None), None)
        order = [r for r in (in_word, roles[i - 1] if i else None, after) if r] + \
            ["latin", "arabic", "fallback"]
        roles[i] = next((r for r in order if covers(r, bold, ch)), "fallback")
    return roles  # type: ignore[return-value]


class Run(NamedTuple):
    text: str
    role: str
    rtl: bool
    width: float


class Line(NamedTuple):
    runs: tuple[Run, ...]  # in visual order, left to right
    width: float


@functools.lru_cache(maxsize=4096)
def shape(text: str, size: int, bold: bool, rtl: bool) -> Line:
    """One line of text cut into runs of one level and one font, in visual order."""
    if not text:
        return Line((), 0.0)
    levels = bidi_levels(text, rtl)
    roles = _roles(text, bold)
    logical: list[tuple[str, str, int]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or levels[i] != levels[start] or roles[i] != roles[start]:
            logical.append((text[start:i], roles[start], levels[start]))
            start = i
    # L2: from the highest level down to the lowest odd one, reverse every sequence of runs
    # at that level or above.
    order = list(range(len(logical)))
    run_levels = [lv for _, _, lv in logical]
    top = max(run_levels)
    lowest_odd = min((lv for lv in run_levels if lv % 2), default=top + 1)
    for level in range(top, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if run_levels[order[i]] >= level:
                j = i
                while j < len(order) and run_levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    runs = []
    for k in order:
        part, role, level = logical[k]
        part = part.translate(_DROP_MARKS)  # they did their work in the levels
        if not part:
            continue
        rtl_run = bool(level % 2)
        width = _font(role, bold, size).getlength(part, direction="rtl" if rtl_run else "ltr")
        runs.append(Run(part, role, rtl_run, width))
    return Line(tuple(runs), sum(r.width for r in runs))


def measure(text: str, size: int, bold: bool, rtl: bool | None = None) -> float:
    return shape(text, size, bold, paragraph_rtl(text) if rtl is None else rtl).width


_BREAK_AFTER = "-/:,._"


def _break_word(word: str, size: int, bold: bool, rtl: bool, width: float) -> tuple[str, str]:
    """Split a word too wide for the line: the longest head that fits (at least one
    character), preferring to end it after a hyphen, slash or similar."""
    lo, hi = 1, len(word) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(word[:mid], size, bold, rtl) <= width:
            lo = mid
        else:
            hi = mid - 1
    cut = lo
    soft = max(word.rfind(ch, 0, cut) for ch in _BREAK_AFTER) + 1
    if soft >= max(2, cut * 0.4):
        cut = soft
    return word[:cut], word[cut:]


class Wrapped(NamedTuple):
    text: str
    rtl: bool  # the direction its paragraph is laid out in
    strong: bool  # whether its paragraph has a strong character (so a direction of its own)


def wrap(text: str, size: int, bold: bool, width: float) -> list[Wrapped]:
    """Logical lines that each fit `width`, wrapped by words, each paragraph before it is
    reordered for display (so wrapped Arabic lines stay in reading order). Nothing is
    dropped: a word wider than the line is broken by characters."""
    lines: list[Wrapped] = []
    for para in clean_lines(text):
        found = direction(para)
        rtl, strong = bool(found), found is not None
        current = ""
        for word in filter(None, para.split(" ")):  # a no-break space holds words together
            candidate = f"{current} {word}" if current else word
            if measure(candidate, size, bold, rtl) <= width:
                current = candidate
                continue
            if current:
                lines.append(Wrapped(current, rtl, strong))
            while len(word) > 1 and measure(word, size, bold, rtl) > width:
                head, word = _break_word(word, size, bold, rtl, width)
                lines.append(Wrapped(head, rtl, strong))
            current = word
        if current:
            lines.append(Wrapped(current, rtl, strong))
    return lines


def clean_lines(text: str) -> list[str]:
    return [clean(line) for line in str(text).splitlines()]


# --- drawing ----------------------------------------------------------------------------------

def line_metrics(size: int) -> tuple[int, int]:
    """(line height, baseline from the top of the line): room for Arabic marks above and
    descenders below."""
    return round(size * 1.5), round(size * 1.08)


# 256, not more: every document adds runs that never repeat (names, numbers), and each entry
# holds an image outside Python's heap; 2,048 made a kiosk grow ~37 kB per journey for hours
# (bench/kiosk.py), while 256 keeps the repeating labels and renders as fast.
@functools.lru_cache(maxsize=256)
def _ink(run: Run, bold: bool, size: int) -> tuple[Image.Image, tuple[int, int]]:
    """The greyscale ink of one run and its offset from (origin, baseline). Cached: labels
    and headings repeat on every document, and rasterising is most of the work."""
    mask, offset = _font(run.role, bold, size).getmask2(
        run.text, "L", direction="rtl" if run.rtl else "ltr",
        language="ar" if run.role == "arabic" else None, anchor="ls")
    return Image.frombytes("L", mask.size, bytes(mask)), offset


def draw_line(strip: Image.Image, line: Line, x: float, baseline: int, size: int,
              bold: bool, fill: int = 0) -> None:
    """Draw the runs of a shaped line left to right from x, on the baseline."""
    for run in line.runs:
        ink, (dx, dy) = _ink(run, bold, size)
        if ink.width and ink.height:
            strip.paste(fill, (round(x) + dx, baseline + dy), ink)
        x += run.width


class Painter:
    """Draws blocks one under the other on a greyscale strip list, then joins them."""

    def __init__(self, page: Page, rtl: bool):
        self.page = page
        self.rtl = rtl
        self.strips: list[Image.Image] = []

    @property
    def width(self) -> int:
        return self.page.width

    @property
    def inner(self) -> int:
        return self.page.width - 2 * self.page.margin

    def px(self, role: str) -> int:
        return self.page.sizes[role]

    def new_strip(self, height: int, fill: int = 255) -> Image.Image:
        strip = Image.new("L", (self.width, max(1, height)), fill)
        self.strips.append(strip)
        return strip

    def x_for(self, width: float, align: str, left: float, right: float,
              rtl: bool | None = None) -> float:
        """Left edge of something `width` wide, aligned between left and right; start and
        end follow the document's direction unless `rtl` is given."""
        if align == "center":
            return left + (right - left - width) / 2
        at_left = (align == "start") != (self.rtl if rtl is None else rtl)
        return left if at_left else right - width

    def text_lines(self, lines: list[Wrapped], size: int, bold: bool, align: str,
                   left: float | None = None, right: float | None = None,
                   fill: int = 0, background: int = 255, own_direction: bool = False) -> None:
        """Draw wrapped lines. own_direction: a paragraph with a direction of its own aligns
        by it (an Arabic paragraph in an English document starts on the right)."""
        if not lines:
            return
        left = self.page.margin if left is None else left
        right = self.width - self.page.margin if right is None else right
        height, baseline = line_metrics(size)
        strip = self.new_strip(height * len(lines), background)
        for i, wrapped in enumerate(lines):
            line = shape(wrapped.text, size, bold, wrapped.rtl)
            rtl = wrapped.rtl if own_direction and wrapped.strong else None
            draw_line(strip, line, self.x_for(line.width, align, left, right, rtl),
                      i * height + baseline, size, bold, fill)

    # blocks

    def title(self, block: Title) -> None:
        role = block.size
        for i, text in enumerate(block.lines):
            size = self.px(role if i == 0 else SMALLER[role])
            bold = i == 0
            self.text_lines(wrap(text, size, bold, self.inner), size, bold, "center")

    def text(self, block: Text) -> None:
        size = self.px(block.size)
        self.text_lines(wrap(block.text, size, block.bold, self.inner), size, block.bold,
                        block.align, own_direction=True)

    def row(self, block: Row) -> None:
        size = self.px(block.size)
        label_bold = block.size in ("large", "title")
        value_bold = block.bold
        label, value = clean(block.label), clean(block.value)
        lw = measure(label, size, label_bold)
        vw = measure(value, size, value_bold)
        gap = max(12, size // 2)
        height, baseline = line_metrics(size)
        left, right = self.page.margin, self.width - self.page.margin
        if lw + gap + vw <= self.inner or vw <= self.inner * 0.55:
            # The value stays on the first line at the end; the label wraps beside it.
            labels = wrap(label, size, label_bold, self.inner - vw - gap) or \
                [Wrapped("", self.rtl, False)]
            strip = self.new_strip(height * len(labels))
            vline = shape(value, size, value_bold, paragraph_rtl(value))
            draw_line(strip, vline, self.x_for(vw, "end", left, right), baseline, size,
                      value_bold)
            lo, hi = (left + vw + gap, right) if self.rtl else (left, right - vw - gap)
            for i, wrapped in enumerate(labels):
                line = shape(wrapped.text, size, label_bold, wrapped.rtl)
                draw_line(strip, line, self.x_for(line.width, "start", lo, hi),
                          i * height + baseline, size, label_bold)
            return
        # A long value (a name, an address) goes under its label, indented.
        indent = max(16, size // 2)
        self.text_lines(wrap(label, size, label_bold, self.inner), size, label_bold, "start")
        values = wrap(value, size, value_bold, self.inner - indent)
        if self.rtl:
            self.text_lines(values, size, value_bold, "start", right=right - indent)
        else:
            self.text_lines(values, size, value_bold, "start", left=left + indent)

    def big_number(self, block: BigNumber) -> None:
        text = clean(block.text)
        size = self.page.big_number
        while size > 24 and measure(text, size, True) > self.inner:
            size = min(size - 2, math.floor(size * self.inner / measure(text, size, True)))
        line = shape(text, size, True, paragraph_rtl(text))
        tops, bottoms = [], []
        for run in line.runs:
            _, top, _, bottom = _font(run.role, True, size).getbbox(
                run.text, anchor="ls", direction="rtl" if run.rtl else "ltr")
            tops.append(top)
            bottoms.append(bottom)
        pad = 10
        ascent, descent = -min(tops, default=0), max(bottoms, default=0)
        strip = self.new_strip(ascent + descent + 2 * pad)
        draw_line(strip, line, self.x_for(line.width, "center", 0, self.width),
                  pad + ascent, size, True)

    def banner(self, block: Banner) -> None:
        size = self.px(block.size)
        lines = wrap(block.text, size, True, self.inner - 2 * size // 2)
        pad = size // 4
        self.new_strip(pad, 255)
        top = len(self.strips)
        self.text_lines(lines, size, True, "center", fill=255, background=0)
        # Black band within the margins, so the paper's edges stay clean.
        for strip in self.strips[top:]:
            ImageDraw.Draw(strip).rectangle((0, 0, self.page.margin - 1, strip.height), 255)
            ImageDraw.Draw(strip).rectangle((self.width - self.page.margin, 0, self.width,
                                             strip.height), 255)
        self.new_strip(pad, 255)

    def rule(self, block: Rule) -> None:
        strip = self.new_strip(18)
        draw = ImageDraw.Draw(strip)
        left, right = self.page.margin, self.width - self.page.margin - 1
        if block.style == "dashed":
            for x in range(left, right, 12):
                draw.rectangle((x, 8, min(x + 6, right), 9), 0)
        elif block.style == "double":
            draw.rectangle((left, 6, right, 7), 0)
            draw.rectangle((left, 11, right, 12), 0)
        else:
            draw.rectangle((left, 8, right, 9), 0)

    def spacer(self, block: Spacer) -> None:
        self.new_strip(block.dots)

    def picture(self, block: Picture) -> None:
        image = picture_image(block.path, min(block.max_dots, self.inner), self.inner)
        if image is not None:
            strip = self.new_strip(image.height + PICTURE_GAP)
            strip.paste(image, ((self.width - image.width) // 2, 0))

    def qr(self, block: QR) -> None:
        modules = qr_matrix(block.text, self.width)
        n = len(modules) + 2 * QR_QUIET_MODULES
        summary = [(clean(k), clean(v)) for k, v in block.summary]
        small = self.px("small")
        placed = False
        if summary:
            # Beside the code if the paper leaves a column for the words and they fit in the
            # code's height, at the largest scale that allows it; otherwise under it. A value
            # without spaces (a licence number) is never broken across lines.
            unbroken = max((measure(v, small, True) for _, v in summary if " " not in v),
                           default=0)
            for scale in range(self.width // n, QR_MIN_DOTS_PER_MODULE - 1, -1):
                column = self.width - n * scale - self.page.margin
                if column < max(self.page.qr_min_column, unbroken):
                    continue
                lines = self._summary_lines(summary, small, column)
                if _stack_height(lines, small) <= n * scale:
                    self._qr_beside(modules, scale, lines, small)
                    placed = True
                break
        if not placed:
            cap = max(block.max_dots or self.width, n * QR_MIN_DOTS_PER_MODULE)
            scale = max(QR_MIN_DOTS_PER_MODULE, min(self.width, cap) // n)
            image = qr_image(modules, scale)
            strip = self.new_strip(image.height)
            strip.paste(image, ((self.width - image.width) // 2, 0))
            for key, value in summary:
                self.text_lines(wrap(f"{key}: {ltr(value)}", small, False, self.inner),
                                small, False, "center")
        for line in block.caption:
            self.text_lines(wrap(line, small, False, self.inner), small, False, "center")

    @staticmethod
    def _summary_lines(summary, size: int, column: int) -> list[tuple[str, bool, bool]]:
        """(text, rtl, bold) lines: each label, then its value in bold."""
        lines: list[tuple[str, bool, bool]] = []
        for key, value in summary:
            lines += [(w.text, w.rtl, False) for w in wrap(key, size, False, column)]
            lines += [(w.text, w.rtl, True) for w in wrap(value, size, True, column)]
        return lines

    def _qr_beside(self, modules, scale: int, lines, size: int) -> None:
        image = qr_image(modules, scale)
        if self.rtl:  # the code at the start side, its words towards the end
            qr_x, left, right = self.width - image.width, self.page.margin, \
                self.width - image.width
        else:
            qr_x, left, right = 0, image.width, self.width - self.page.margin
        height, baseline = line_metrics(size)
        text_h = _stack_height(lines, size)
        strip = self.new_strip(max(image.height, text_h))
        strip.paste(image, (qr_x, (strip.height - image.height) // 2))
        y = (strip.height - text_h) // 2
        for text, rtl, bold in lines:
            line = shape(text, size, bold, rtl)
            draw_line(strip, line, self.x_for(line.width, "start", left, right), y + baseline,
                      size, bold)
            y += height + (SUMMARY_GAP if bold else 0)

    def paint(self, blocks) -> Image.Image:
        handlers = {Title: self.title, Text: self.text, Row: self.row,
                    BigNumber: self.big_number, Banner: self.banner, Rule: self.rule,
                    Spacer: self.spacer, QR: self.qr, Picture: self.picture}
        self.new_strip(TOP_PAD)
        for block in blocks:
            handlers[type(block)](block)
        self.new_strip(BOTTOM_PAD)
        page = Image.new("L", (self.width, sum(s.height for s in self.strips)), 255)
        y = 0
        for strip in self.strips:
            page.paste(strip, (0, y))
            y += strip.height
        return page.point(_THRESHOLD_LUT, "1")


SUMMARY_GAP = 4  # extra space after each value line beside a QR code
PICTURE_GAP = 4  # under a picture: none when it is left out


def _stack_height(lines, size: int) -> int:
    height = line_metrics(size)[0]
    return sum(height + (SUMMARY_GAP if bold else 0) for _, _, bold in lines) - \
        (SUMMARY_GAP if lines and lines[-1][2] else 0)


_THRESHOLD_LUT = [0 if v < THRESHOLD else 255 for v in range(256)]


# --- pictures ---------------------------------------------------------------------------------

def picture_image(path: str, max_height: int, max_width: int) -> Image.Image | None:
    """The image file in greys on white, at most max_height x max_width dots, or None (logged)
    when it cannot be read: a spoiled emblem file never stops a licence from printing."""
    try:
        stamp = Path(path).stat().st_mtime_ns
        return _picture(str(path), stamp, max_height, max_width)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("printing without the picture %s: %s", path, exc)
        return None


@functools.lru_cache(maxsize=8)
def _picture(path: str, stamp: int, max_height: int, max_width: int) -> Image.Image:
    with Image.open(path) as source:
        source.load()
        rgba = source.convert("RGBA")  # transparent parts are paper
    image = Image.new("RGBA", rgba.size, "white")
    image.alpha_composite(rgba)
    grey = image.convert("L")
    scale = min(max_height / grey.height, max_width / grey.width)
    size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
    return grey.resize(size, Image.LANCZOS)


# --- QR ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def qr_matrix(text: str, width_dots: int) -> tuple[bytes, ...]:
    """The QR modules (no quiet zone) of `text` at error correction M (segno may raise it
    when that costs no size), never lower: a code too large for the paper at 4 dots per
    module with its quiet zone is a ValueError, not a weaker code (approval keeps licence
    codes within it, core/credentials/qr_fit.py)."""
    import segno

    qr = segno.make(text, error=qr_fit.ERROR_LEVEL.lower(), micro=False)
    side = len(qr.matrix) + 2 * QR_QUIET_MODULES
    if side * QR_MIN_DOTS_PER_MODULE <= width_dots:
        return tuple(bytes(row) for row in qr.matrix)
    raise ValueError(
        f"QR code too large for the paper: {len(text)} characters need QR version "
        f"{qr.version} at error correction {qr_fit.ERROR_LEVEL} ({len(qr.matrix)} modules, "
        f"{side} with the quiet zone), {side * QR_MIN_DOTS_PER_MODULE} dots at "
        f"{QR_MIN_DOTS_PER_MODULE} dots per module; the paper is {width_dots} dots wide")


def qr_image(modules, scale: int) -> Image.Image:
    """Exact black squares of `scale` dots, with a 4-module white quiet zone."""
    quiet = QR_QUIET_MODULES * scale
    side = len(modules) * scale + 2 * quiet
    white_row = b"\xff" * side
    rows = [white_row] * quiet
    for line in modules:
        row = b"\xff" * quiet + b"".join((b"\x00" if m & 1 else b"\xff") * scale
                                         for m in line) + b"\xff" * quiet
        rows += [row] * scale
    rows += [white_row] * quiet
    return Image.frombytes("L", (side, side), b"".join(rows))


# --- the entry point --------------------------------------------------------------------------

def render(kind: str, data: dict, lang: str, width_dots: int,
           without_qr: bool = False) -> Image.Image:
    """The document as a mode "1" image exactly `width_dots` wide (384: 58 mm, 576: 80 mm).

    without_qr leaves the QR block out (the printer draws it with its own command after the
    image: `printer.native_qr`). ValueError for an unknown kind, language or width, a missing
    data key (named in the message) or a QR code that cannot fit; ShapingUnavailable without
    Raqm."""
    if isinstance(width_dots, bool) or not isinstance(width_dots, int) or \
            width_dots not in PAGES:
        raise ValueError(f"unsupported paper width {width_dots!r} dots; expected one of "
                         f"{', '.join(map(str, WIDTHS))}")
    blocks = layouts.build(kind, data, lang)
    if without_qr:
        blocks = [b for b in blocks if not isinstance(b, layouts.QR)]
    check_shaping()
    return Painter(PAGES[width_dots], rtl=(lang == "ar")).paint(blocks)
