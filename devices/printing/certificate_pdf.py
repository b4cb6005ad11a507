"""A licence as an A4 PDF: the same document as the thermal paper, with the same signed QR
code, for an office laser printer (thermal paper fades within months) and for sending
electronically.

    licence_pdf(office, "MUH-2026-D01-000042", "ar") -> bytes   # what the counter calls
    certificate_pdf(data, "en") -> bytes                        # data: core.documents.licence

The words come from layouts.licence_paper, so the PDF and the thermal licence say the same
things; the fonts are the day report's (core.report_files.PdfFonts): Arabic shaped by
HarfBuzz and laid out right to left, English left to right. The QR code is drawn as vector
squares, 45 mm wide (a phone reads it from a desk), from the same module matrix the printer
prints. A revoked licence gets no PDF (InvalidState, reason="revoked"): a fresh copy of a
document that is no longer valid would only mislead whoever is shown it.
"""
from __future__ import annotations

import logging
from datetime import datetime

from core.errors import InvalidState
from core.report_files import PdfFonts
from core.text import LANGUAGES

from . import layouts
from .layouts import label
from .render import WIDTHS, qr_matrix

log = logging.getLogger(__name__)

MARGIN = 20.0  # mm
QR_MM = 45.0  # the code itself, without its quiet zone: at least 30 mm to read from paper
EMBLEM_MM = 28.0
INK = (20, 24, 28)
MUTED = (95, 101, 108)
RULE = (150, 156, 162)
SHADE = (243, 245, 247)
ACCENT = (150, 20, 20)  # the COPY mark


def licence_pdf(office, licence: str, lang: str | None = None) -> bytes:
    """The A4 PDF of a licence (its number or id) in `lang` (default: the printer's
    language). NotFound for an unknown licence, InvalidState for a revoked one or one whose
    resident's personal data is gone from this office."""
    from core import documents

    lang = lang or office.settings.printer.language
    _check_lang(lang)
    lic = office.licences.get(licence)  # NotFound
    if lic["revoked_at"]:
        raise InvalidState(f"licence {lic['number']} was revoked ({lic['revoke_reason']}); "
                           f"a revoked licence gets no certificate", reason="revoked",
                           licence=lic["number"])
    return certificate_pdf(documents.licence(office, lic["id"]), lang)


def certificate_pdf(data: dict, lang: str) -> bytes:
    """The PDF of the licence described by `data` (the thermal layout's dict). ValueError
    for a missing or bad key (named), InvalidState(reason="font_missing") without fonts."""
    _check_lang(lang)
    paper = layouts.licence_paper(data, lang)
    qr_matrix(paper["qr_text"], max(WIDTHS))  # the code every printer of the office can print
    return _Certificate(paper, data, lang).render()


def _check_lang(lang) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")


class _Certificate:
    """Lays the page out in millimetres from the start edge (the right one in Arabic): `_x`
    mirrors it, so one layout serves both directions."""

    def __init__(self, paper: dict, data: dict, lang: str):
        from fpdf import FPDF

        self.paper, self.lang, self.rtl = paper, lang, lang == "ar"
        pdf = FPDF(format="A4", unit="mm")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(False)
        self.fonts = PdfFonts(pdf)
        self.main = "ar" if self.rtl else "latin"
        self.direction = None
        self.bold = False
        pdf.set_title(f"{paper['title'][0]} {paper['number']}")  # no personal data
        pdf.set_creator("Nafitha")
        pdf.set_lang(lang)
        # The same licence gives the same bytes: dated by its issue, not by the clock.
        pdf.set_creation_date(datetime.fromisoformat(str(data["issued_at"])))
        self.pdf = pdf
        self.width = pdf.w - 2 * MARGIN

    # --- helpers
    def _x(self, start: float, w: float) -> float:
        return (self.pdf.w - MARGIN - start - w) if self.rtl else (MARGIN + start)

    def _prepare(self, text: str, size: float, bold: bool, color) -> None:
        # Right to left only for text with Arabic letters: HarfBuzz shaping Latin text right
        # to left misorders its ligatures ("certificate" came out "certfiicate"), and a
        # number or code on the Arabic page keeps its own order.
        rtl = any("\u0600" <= ch <= "\u06ff" for ch in text)
        if rtl != self.direction:
            if rtl:
                # no optional ligatures: shaped right to left, a Latin "fi" in the line
                # (a URL) came out "if"; Arabic's required ones (lam-alef) stay
                self.pdf.set_text_shaping(use_shaping_engine=True, direction="rtl",
                                          script="arab", language="ara",
                                          features={"liga": False})
            else:
                self.pdf.set_text_shaping(use_shaping_engine=True, direction="ltr")
            self.direction = rtl
        self.pdf.set_font(self.fonts.family_for(text, self.main), "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def _line(self, start, y, w, text, size, bold=False, color=INK, align="start",
              h=None) -> float:
        """One line, made smaller until it fits (never cut); returns the y under it."""
        self._prepare(text, size, bold, color)
        while self.pdf.get_string_width(text) > w and size > 7:
            size -= 0.5
            self.pdf.set_font_size(size)
        h = h or size * 0.55
        where = {"start": "R" if self.rtl else "L", "end": "L" if self.rtl else "R",
                 "center": "C"}[align]
        self.pdf.set_xy(self._x(start, w), y)
        self.pdf.cell(w, h, text, align=where)
        return y + h

    def _paragraph(self, start, y, w, text, size, bold=False, color=INK) -> float:
        """Wrapped by words (an address, conditions); returns the y under it."""
        self._prepare(text, size, bold, color)
        h = size * 0.5
        self.pdf.set_xy(self._x(start, w), y)
        self.pdf.multi_cell(w, h, text, align="R" if self.rtl else "L",
                            new_x="LMARGIN", new_y="NEXT")
        return self.pdf.get_y()

    def _rule(self, y, weight=0.3, color=RULE) -> float:
        self.pdf.set_draw_color(*color)
        self.pdf.set_line_width(weight)
        self.pdf.line(MARGIN, y, self.pdf.w - MARGIN, y)
        return y

    # --- the page
    def render(self) -> bytes:
        self.pdf.add_page()
        y = self._head(MARGIN - 4)
        y = self._rows(y + 6)
        if self.paper["conditions"]:
            y = self._conditions(y + 4)
        self._code(max(y + 8, 178.0))
        self._footer()
        return bytes(self.pdf.output())

    def _head(self, y) -> float:
        paper, w = self.paper, self.width
        if paper["copy"]:
            self._line(0, y, w, f"{label('copy', self.lang)} / "
                                f"{label('copy', 'en' if self.rtl else 'ar')}", 11, True,
                       ACCENT, "end")
        if paper["emblem"]:
            try:
                self.pdf.image(paper["emblem"], x=(self.pdf.w - EMBLEM_MM) / 2, y=y,
                               h=EMBLEM_MM)
                y += EMBLEM_MM + 3
            except (OSError, ValueError, SyntaxError) as exc:  # a spoiled file: no emblem
                log.warning("certificate without the emblem %s: %s", paper["emblem"], exc)
        for i, name in enumerate(paper["authority"]):
            y = self._line(0, y, w, name, 16 if i == 0 else 11, i == 0,
                           INK if i == 0 else MUTED, "center") + 1
        for i, name in enumerate(paper["office"]):
            y = self._line(0, y, w, name, 12 if i == 0 else 10, False,
                           INK if i == 0 else MUTED, "center") + 0.5
        y = self._rule(y + 3, 0.6, INK) + 6
        title, other = paper["title"]
        y = self._line(0, y, w, title, 22, True, INK, "center") + 2
        y = self._line(0, y, w, other, 13, False, MUTED, "center") + 2
        return y

    def _rows(self, y) -> float:
        label_w = 48.0
        value_w = self.width - label_w - 6
        for i, (key, value) in enumerate(self.paper["rows"]):
            top = y
            bold = i in (0, 1, 5)  # number, holder, valid until
            self._prepare(value, 13, bold, INK)
            lines = self.pdf.multi_cell(value_w, 6.5, value, dry_run=True, output="LINES")
            h = max(1, len(lines)) * 6.5 + 3.5
            if i % 2 == 0:
                self.pdf.set_fill_color(*SHADE)
                self.pdf.rect(MARGIN, top, self.width, h, style="F")
            self._line(2, top + 1.75, label_w - 2, key, 11, False, MUTED, h=6.5)
            if len(lines) <= 1:
                self._line(label_w + 4, top + 1.75, value_w - 2, value, 13, bold, h=6.5)
            else:
                self._prepare(value, 13, bold, INK)
                self.pdf.set_xy(self._x(label_w + 4, value_w - 2), top + 1.75)
                self.pdf.multi_cell(value_w - 2, 6.5, value, align="R" if self.rtl else "L")
            y = top + h
        return self._rule(y, 0.3)

    def _conditions(self, y) -> float:
        y = self._line(0, y, self.width, label("conditions", self.lang), 12, True) + 1
        for line in self.paper["conditions"]:
            y = self._paragraph(4, y, self.width - 4, line, 11)
        return y

    def _code(self, y) -> None:
        """The QR code at the end side, what it is for at the start side."""
        modules = qr_matrix(self.paper["qr_text"], max(WIDTHS))
        module = QR_MM / len(modules)
        quiet = 4 * module
        side = QR_MM + 2 * quiet
        x0 = self.pdf.w - MARGIN - side if not self.rtl else MARGIN
        self.pdf.set_fill_color(255, 255, 255)
        self.pdf.rect(x0, y, side, side, style="F")
        self.pdf.set_fill_color(0, 0, 0)
        seam = module * 0.02  # rows overlap a hair: no white seams between them on screen
        for r, row in enumerate(modules):
            c = 0
            while c < len(row):
                if row[c] & 1:
                    run = c
                    while run < len(row) and row[run] & 1:
                        run += 1
                    self.pdf.rect(x0 + quiet + c * module, y + quiet + r * module,
                                  (run - c) * module, module + seam, style="F")
                    c = run
                else:
                    c += 1
        text_w = self.width - side - 8
        ty = y + quiet
        ty = self._line(0, ty, text_w, label("document_number", self.lang), 10, False,
                        MUTED) + 1
        ty = self._line(0, ty, text_w, self.paper["number"], 14, True) + 4
        ty = self._line(0, ty, text_w, label("valid_until", self.lang), 10, False, MUTED) + 1
        ty = self._line(0, ty, text_w, self.paper["valid_until"], 14, True) + 6
        for i, line in enumerate(self.paper["verify"]):
            ty = self._paragraph(0, ty, text_w, line, 11 if i == 0 else 10, i == 0,
                                 INK if i == 0 else MUTED) + 1

    def _footer(self) -> None:
        y = self.pdf.h - MARGIN - 6
        self._rule(y - 2)
        self._line(0, y, self.width, label("pdf_genuine", self.lang), 9, False, MUTED,
                   "center")
