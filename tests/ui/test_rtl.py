"""ui.rtl: Arabic shaped and reordered for Kivy, everything else left alone."""
from __future__ import annotations

import re
import unicodedata

import pytest
from PIL import ImageFont

from core.catalog import load_catalog
from ui.fonts import arabic_font_path
from ui.rtl import is_rtl, shape, shape_markup

NAME = "شهادة إثبات سكن"


def test_arabic_is_shaped_into_presentation_forms():
    shown = shape(NAME)
    assert shown != NAME
    assert any("\ufe70" <= ch <= "\ufeff" for ch in shown)
    # Joined forms: initial SHEEN at the start of the word, final NOON at its end.
    assert "\ufeb7" in shown and "\ufee6" in shown


def test_arabic_is_reversed_for_display():
    shown = shape(NAME)
    # Undoing the shaping (NFKC) of the reversed text gives back the original letters.
    assert unicodedata.normalize("NFKC", shown[::-1]) == unicodedata.normalize("NFKC", NAME)
    assert shown[-1] == "\ufeb7"  # the first letter is drawn rightmost


def test_latin_is_unchanged():
    for text in ("Residence certificate", "1.000 BHD", "Road works permit (W)", ""):
        assert shape(text) == text
        assert not is_rtl(text)
    assert is_rtl(NAME) and is_rtl("abc ش")


def test_mixed_line_puts_arabic_on_the_right():
    shown = shape("الخدمات / Services")
    assert shown.startswith("Services / ")
    assert unicodedata.normalize("NFKC", shown[-7:][::-1]) == "الخدمات"


def test_numbers_keep_their_digit_order():
    assert "50" in shape("رخصة بناء أقل من 50 م²")


def test_brackets_are_mirrored():
    # Drawn left to right, "(الهوية)" must still show "(" on the left and ")" on the right.
    shown = shape("البطاقة الذكية (الهوية)")
    assert shown.startswith("(") and shown.index(")") > shown.index("(")


def test_lines_keep_their_order():
    first, second = shape("سطر أول\nالسطر الثاني").split("\n")
    assert unicodedata.normalize("NFKC", first[::-1]) == "سطر أول"


def test_markup_sets_latin_runs_in_the_latin_font():
    assert shape_markup("1.000 BHD") == "[font=Roboto]1.000 BHD[/font]"
    assert shape_markup("[b] & c") == "[font=Roboto]&bl;b&br; &amp; c[/font]"
    marked = shape_markup("رخصة بناء أقل من 50 م²")
    assert "[font=Roboto]²[/font]" in marked
    assert re.sub(r"\[/?font[^\]]*\]", "", marked) == shape("رخصة بناء أقل من 50 م²")


@pytest.mark.parametrize("bold", [False, True])
def test_arabic_font_draws_every_character_left_to_it(bold):
    """Whatever shape_markup leaves in the Arabic font, in every Arabic text of the
    default catalogue, must have a glyph there: Kivy would draw an empty box."""
    font = ImageFont.truetype(arabic_font_path(bold=bold), 40,
                              layout_engine=ImageFont.Layout.BASIC)
    missing_mask = font.getmask("\ue000")  # a private-use code point: the .notdef glyph
    missing = (missing_mask.getbbox(), bytes(missing_mask))
    texts = [t.ar for s in load_catalog() for t in (s.name, *s.documents)]
    texts += [f.label.ar for s in load_catalog() for f in s.fields]
    for text in texts:
        arabic_font_part = re.sub(r"\[font=[^\]]*\].*?\[/font\]", "", shape_markup(text))
        for ch in set(arabic_font_part) - {" "}:
            mask = font.getmask(ch)
            assert (mask.getbbox(), bytes(mask)) != missing, f"{ch!r} in {text!r}"


def test_wrapped_arabic_keeps_its_first_words_on_the_first_line():
    """Lines are cut in logical order and only then shaped: the sentence's beginning is on
    the first line (Kivy wrapping visual-order text would put its end there)."""
    from ui.rtl import shape, wrap_logical

    sentence = "ادفع الرسوم عند الموظف واحتفظ بالإيصال لمتابعة الطلب"
    lines = wrap_logical(sentence, lambda line: len(line) <= 20)
    assert lines[0].startswith("ادفع") and lines[-1].endswith("الطلب")
    assert " ".join(lines) == sentence and all(len(line) <= 20 for line in lines)
    # shaped line by line, the first visual line still holds the first words
    assert shape(lines[0]).endswith(shape("ادفع"))


def test_wrap_keeps_explicit_line_breaks_and_overlong_words():
    from ui.rtl import wrap_logical

    assert wrap_logical("a b\nc", lambda line: True) == ["a b", "c"]
    assert wrap_logical("short averyveryverylongword x", lambda line: len(line) <= 6) == \
        ["short", "averyveryverylongword", "x"]
