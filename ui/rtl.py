"""Right-to-left text for Kivy labels.

Kivy's default text provider draws characters one by one, left to right, without joining.
So Arabic is shaped first (arabic_reshaper picks the initial/medial/final presentation form
of each letter) and then reordered into visual order (python-bidi), and the label draws the
result as if it were left-to-right text. Latin text passes through untouched. Harakat
(short-vowel marks) are dropped, as arabic_reshaper does by default: without a shaping
engine Kivy would draw them beside their letter instead of above it.

The Arabic fonts we rely on (Noto Sans/Naskh Arabic) have digits and a little punctuation
but no Latin letters and no "²", "/" or "()", and Kivy has no font fallback, so
`shape_markup` puts such runs in a [font=...] tag for a Latin font. Kivy's markup sets a
run of a shorter font (Roboto) a little below the Arabic baseline, so put whole Latin words
in their own label and leave markup for the odd sign inside an Arabic line.
"""
from __future__ import annotations

import re

import arabic_reshaper
# The pure-Python algorithm, not python-bidi 0.5+'s Rust `bidi.get_display`: that one skips
# rule L4, so "(الهوية)" would come out with its brackets pointing outwards.
from bidi.algorithm import get_display

# Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, Arabic Extended, and the Hebrew
# and Arabic presentation forms: any of these makes a line right-to-left.
_RTL_CHARS = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc"
_RTL_RE = re.compile(f"[{_RTL_CHARS}]")
# What both Noto Sans Arabic and Noto Naskh Arabic draw: the Arabic blocks, presentation
# forms, ASCII digits and a little punctuation (checked glyph by glyph with Pillow).
_ARABIC_FONT_CHARS = re.compile(
    "[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc0-9!,.:«» ]")


def is_rtl(text: str) -> bool:
    """True if the text contains any right-to-left letter."""
    return bool(_RTL_RE.search(text))


def shape(text: str) -> str:
    """Text in the visual order a left-to-right renderer must draw it in.

    Each line is handled on its own so that line order survives reordering. Lines without
    RTL letters come back unchanged. Labels must not wrap the result themselves: wrapping
    visual-order text would put the end of an Arabic sentence on the first line."""
    return "\n".join(_shape_line(line) for line in text.split("\n"))


def _shape_line(line: str) -> str:
    if not is_rtl(line):
        return line
    return get_display(arabic_reshaper.reshape(line))


def escape_markup(text: str) -> str:
    """Same as kivy.utils.escape_markup, without importing Kivy."""
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def shape_markup(text: str, latin_font: str = "Roboto") -> str:
    """`shape(text)` as Kivy markup for a label whose font is an Arabic font: a line without
    RTL letters is set in `latin_font` as a whole; in an Arabic line only the characters the
    Arabic font lacks are. Spaces stay in the run they follow, so words are not split up."""
    return "\n".join(_markup_line(line, latin_font) for line in text.split("\n"))


def _markup_line(line: str, latin_font: str) -> str:
    if not is_rtl(line):
        return _wrap(line, True, latin_font) if line else ""
    out: list[str] = []
    run, run_is_latin = "", False
    for ch in _shape_line(line):
        latin = run_is_latin if ch == " " else not _ARABIC_FONT_CHARS.match(ch)
        if run and latin != run_is_latin:
            out.append(_wrap(run, run_is_latin, latin_font))
            run = ""
        run, run_is_latin = run + ch, latin
    if run:
        out.append(_wrap(run, run_is_latin, latin_font))
    return "".join(out)


def _wrap(run: str, latin: bool, latin_font: str) -> str:
    run = escape_markup(run)
    return f"[font={latin_font}]{run}[/font]" if latin else run


def wrap_logical(text: str, fits) -> list[str]:
    """Split logical text into lines that `fits(line)` accepts, breaking between words; a
    word longer than a line stands on its own line. Explicit line breaks are kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and not fits(candidate):
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return lines
