"""Documents -> 1-bit rasters: sizes, QR geometry, Arabic shaping and order, wrapping, errors."""
from __future__ import annotations

import copy
from collections import deque

import pytest
import segno
import zxingcpp
from PIL import Image, ImageDraw, ImageFont, features

from devices.printing import layouts, render as r
from devices.printing.layouts import ltr
from make_golden import samples

SAMPLES = samples()
KINDS = {name: kind for name, (kind, _) in SAMPLES.items()}


def sample(name: str, **over) -> dict:
    return {**copy.deepcopy(SAMPLES[name][1]), **over}


def black(image: Image.Image):
    """(width, height, set of black (x, y))."""
    px = image.convert("L").load()
    return {(x, y) for y in range(image.height) for x in range(image.width) if px[x, y] == 0}


def components(image: Image.Image) -> int:
    """Connected groups of black pixels (8-neighbourhood)."""
    todo = black(image)
    count = 0
    while todo:
        count += 1
        queue = deque([todo.pop()])
        while queue:
            x, y = queue.popleft()
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    if (x + dx, y + dy) in todo:
                        todo.remove((x + dx, y + dy))
                        queue.append((x + dx, y + dy))
    return count


def line_image(text: str, size: int = 40, bold: bool = False, rtl: bool | None = None):
    line = r.shape(text, size, bold, r.paragraph_rtl(text) if rtl is None else rtl)
    strip = Image.new("L", (int(line.width) + 40, size * 2), 255)
    r.draw_line(strip, line, 20, int(size * 1.3), size, bold)
    return strip.point(lambda v: 0 if v < r.THRESHOLD else 255, "1")


# --- every document, both languages, both widths ----------------------------------------------

@pytest.mark.parametrize("width", [384, 576])
@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_document_is_one_bit_at_the_exact_width(name, lang, width):
    kind, data = SAMPLES[name]
    image = r.render(kind, data, lang, width)
    assert image.mode == "1"
    assert image.width == width
    assert 300 < image.height < 3000
    assert {i for i, n in enumerate(image.histogram()) if n} == {0, 255}
    # nothing reaches the paper's edges
    px = image.load()
    assert all(px[0, y] and px[width - 1, y] for y in range(image.height))


def test_both_widths_come_from_one_layout():
    kind, data = SAMPLES["receipt"]
    assert r.render(kind, data, "ar", 576).height <= r.render(kind, data, "ar", 384).height


# --- QR ---------------------------------------------------------------------------------------

def qr_geometry(image: Image.Image, text: str):
    """Decode the image's QR, find the code's dark-module box and return (scale, box)."""
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [text]
    pos = found[0].position
    xs = [p.x for p in (pos.top_left, pos.top_right, pos.bottom_left, pos.bottom_right)]
    ys = [p.y for p in (pos.top_left, pos.top_right, pos.bottom_left, pos.bottom_right)]
    px = image.convert("L").load()
    x0, x1, y0, y1 = min(xs) - 3, max(xs) + 3, min(ys) - 3, max(ys) + 3
    dark = [(x, y) for y in range(max(0, y0), min(image.height, y1 + 1))
            for x in range(max(0, x0), min(image.width, x1 + 1)) if px[x, y] == 0]
    left, right = min(x for x, _ in dark), max(x for x, _ in dark)
    top, bottom = min(y for _, y in dark), max(y for _, y in dark)
    return (left, top, right, bottom)


@pytest.mark.parametrize("width", [384, 576])
@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("name", ["licence", "licence_copy"])
def test_licence_qr_decodes_at_whole_dots_per_module_with_quiet_zone(name, lang, width):
    data = SAMPLES[name][1]
    text = data["qr_text"]
    image = r.render("licence", data, lang, width)
    left, top, right, bottom = qr_geometry(image, text)
    matrix = segno.make(text, error="m", micro=False).matrix
    n = len(matrix)
    side = right - left + 1
    assert side == bottom - top + 1
    assert side % n == 0, f"{side} dots for {n} modules is not a whole number per module"
    scale = side // n
    assert scale >= 4
    # every module is an exact square of `scale` dots, as in the code
    px = image.load()
    for row in range(n):
        for col in range(n):
            want = 0 if matrix[row][col] & 1 else 255
            for dy in range(scale):
                for dx in range(scale):
                    assert px[left + col * scale + dx, top + row * scale + dy] == want
    # 4 modules of white all round
    quiet = 4 * scale
    assert left >= quiet and image.width - 1 - right >= quiet
    for y in range(top - quiet, bottom + quiet + 1):
        for x in range(left - quiet, right + quiet + 1):
            if not (left <= x <= right and top <= y <= bottom):
                assert px[x, y] == 255, f"ink at {(x, y)} inside the quiet zone"


def test_a_700_character_code_fits_58mm_at_4_dots_per_module():
    data = SAMPLES["licence_copy"][1]
    assert 650 < len(data["qr_text"]) < 720
    image = r.render("licence", data, "ar", 384)
    left, _, right, _ = qr_geometry(image, data["qr_text"])
    assert (right - left + 1) // len(segno.make(data["qr_text"], error="m").matrix) == 4


def test_short_codes_print_larger_but_capped():
    data = SAMPLES["ticket"][1]
    image = r.render("ticket", data, "en", 576)
    left, _, right, _ = qr_geometry(image, data["qr_text"])
    n = len(segno.make(data["qr_text"], error="m").matrix)
    scale = (right - left + 1) // n
    assert scale > 4 and (n + 8) * scale <= 200


def test_80mm_licence_puts_the_summary_beside_the_qr_and_58mm_under_it():
    data = SAMPLES["licence"][1]
    for width, beside in ((576, True), (384, False)):
        image = r.render("licence", data, "en", width)
        left, top, right, bottom = qr_geometry(image, data["qr_text"])
        px = image.load()
        ink_beside = any(px[x, y] == 0 for y in range(top, bottom + 1)
                         for x in range(right + 17, width))
        assert ink_beside is beside


def test_a_qr_too_large_for_the_paper_is_refused_clearly():
    data = sample("licence", qr_text="NF1:" + "A" * 1400)
    with pytest.raises(ValueError, match="QR code too large for the paper"):
        r.render("licence", data, "en", 384)


def test_a_code_too_large_at_level_m_is_refused_never_weakened():
    # 800 alphanumeric characters: version 18 at M (89 + 8 modules = 388 dots at 4 per
    # module, wider than 384). Level L would fit (version 16) but is weaker than the spec's
    # M: the paper is refused instead (approval keeps licence codes within it).
    text = "NF1:" + "A" * 800
    assert len(segno.make(text, error="m").matrix) == 89
    with pytest.raises(ValueError, match=r"version 18 at error correction M .* 388 dots .* "
                                         r"384 dots wide"):
        r.qr_matrix(text, 384)
    with pytest.raises(ValueError, match="QR code too large"):
        r.render("licence", sample("licence", qr_text=text), "en", 384)
    assert len(r.qr_matrix(text, 576)) == 89  # 80 mm paper holds it at M
    image = r.render("licence", sample("licence", qr_text=text), "en", 576)
    qr_geometry(image, text)


def test_the_largest_code_58_mm_takes_at_level_m_still_prints():
    from core.credentials import qr_fit

    text = "NF1:" + "A" * (qr_fit.capacity(384) - 4)
    assert len(r.qr_matrix(text, 384)) == 17 + 4 * 17  # version 17
    qr_geometry(r.render("licence", sample("licence", qr_text=text), "en", 384), text)
    with pytest.raises(ValueError):
        r.qr_matrix(text + "A", 384)


# --- Arabic -----------------------------------------------------------------------------------

def test_check_shaping_passes_here():
    r.check_shaping()
    assert features.check("raqm")


def test_without_raqm_printing_refuses(monkeypatch):
    real = features.check
    monkeypatch.setattr(features, "check", lambda name: False if name == "raqm" else real(name))
    with pytest.raises(r.ShapingUnavailable) as err:
        r.check_shaping()
    assert str(err.value) == ("Arabic shaping needs Pillow with Raqm (libraqm, HarfBuzz, "
                              "FriBiDi); printing refuses to start rather than print broken "
                              "Arabic.")
    with pytest.raises(r.ShapingUnavailable):
        r.render("ticket", SAMPLES["ticket"][1], "ar", 384)


def test_arabic_letters_are_joined():
    # س ل م have no dots: joined they are one shape, unjoined three
    word = "سلم"
    assert components(line_image(word)) == 1
    basic = ImageFont.truetype(r.font_path("arabic", False), 40,
                               layout_engine=ImageFont.Layout.BASIC)
    isolated = Image.new("L", (200, 80), 255)
    ImageDraw.Draw(isolated).text((10, 10), word, font=basic, fill=0)
    assert components(isolated.point(lambda v: 0 if v < r.THRESHOLD else 255, "1")) == 3


def test_arabic_runs_right_to_left():
    # the word ends in a final meem, whose tail is the only ink below the baseline: it must
    # be at the left-hand end
    image = line_image("سلم")
    ink = black(image)
    baseline = int(40 * 1.3)
    tail = [x for x, y in ink if y > baseline + 4]
    left, right = min(x for x, _ in ink), max(x for x, _ in ink)
    assert tail and max(tail) < left + (right - left) / 3


def test_latin_after_arabic_in_an_arabic_line_is_drawn_at_the_left():
    mixed, latin = line_image("سلم ABC"), line_image("ABC")
    width = int(r.measure("ABC", 40, False))
    assert mixed.crop((0, 0, 20 + width, mixed.height)).tobytes() == \
        latin.crop((0, 0, 20 + width, latin.height)).tobytes()


def test_mixed_arabic_latin_and_digits_in_one_line():
    text = "رقم الطلب: MUH-D01-A2026-000042 مبنى 1203A"
    line = r.shape(text, 24, False, True)
    drawn = "".join(run.text for run in line.runs)
    assert sorted(drawn) == sorted(text)  # every character drawn once
    for run in line.runs:  # each in a font that has it
        assert all(r.covers(run.role, False, ch) for ch in run.text), run
    # visual order, left to right: the last words first
    texts = [run.text for run in line.runs]
    assert texts[0].startswith("1203A")
    assert "MUH-D01-A2026-000042" in "".join(texts[:5])
    assert "رقم" in texts[-1]
    assert black(line_image(text))


def test_latin_paragraph_keeps_arabic_words_in_place():
    line = r.shape("Name: فاطمة الحداد", 24, False, False)
    assert line.runs[0].text.startswith("Name")
    assert not line.runs[0].rtl and line.runs[-1].rtl
    assert line.runs[-1].text == "فاطمة الحداد"  # logical order; Raqm draws it right to left


def test_codes_keep_their_order_inside_arabic_text():
    plain = r.shape("العقار 02-1234", 24, False, True)
    marked = r.shape(f"العقار {ltr('02-1234')}", 24, False, True)
    assert "02-1234" not in [run.text for run in plain.runs]  # the bidi algorithm's quirk
    assert marked.runs[0].text == "02-1234"


def test_dates_and_amounts_read_left_to_right_in_arabic_documents():
    assert not r.paragraph_rtl("2026-11-24 11:00")
    assert [run.text for run in r.shape("1.500 BHD", 24, False, False).runs] == ["1.500 BHD"]


def test_bidi_levels():
    assert r.bidi_levels("abc", False) == [0, 0, 0]
    assert r.bidi_levels("سلم 12", True) == [1, 1, 1, 1, 2, 2]
    assert r.bidi_levels("ab سلم", False) == [0, 0, 0, 1, 1, 1]
    assert r.bidi_levels("سلم ", True)[-1] == 1


# --- wrapping ---------------------------------------------------------------------------------

LONG_NAME = " ".join(["فاطمة عبدالله محمد", "Al-Haddad", "بنت خليفة 3"] * 12)[:300]


def test_a_300_character_name_wraps_and_keeps_every_word():
    assert len(LONG_NAME) == 300
    size, width = 24, 368
    lines = r.wrap(LONG_NAME, size, True, width)
    assert len(lines) >= 5
    assert " ".join(line.text for line in lines) == LONG_NAME
    assert all(r.measure(line.text, size, True, line.rtl) <= width for line in lines)
    assert all(line.rtl for line in lines)  # one Arabic paragraph, in reading order


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("kind,name", [("licence", "licence"), ("receipt", "receipt")])
def test_a_long_name_grows_the_document_and_stays_inside(kind, name, lang):
    short = r.render(kind, SAMPLES[name][1], lang, 384)
    long = r.render(kind, sample(name, holder_name=LONG_NAME), lang, 384)
    assert long.height >= short.height + 4 * 30
    px = long.load()
    assert all(px[0, y] and px[long.width - 1, y] for y in range(long.height))


def test_a_word_wider_than_the_line_is_broken_not_cut():
    word = "MUH-2026-D01-000042" * 6
    lines = r.wrap(word, 24, False, 200)
    assert "".join(line.text for line in lines) == word
    assert len(lines) > 3
    assert all(r.measure(line.text, 24, False) <= 200 for line in lines)
    assert lines[0].text.endswith("-")  # broken after a hyphen where one fits


def test_no_break_space_keeps_an_address_part_together():
    lines = r.wrap("مبنى\u00a01203A، طريق\u00a015، مجمع\u00a0204، العقار\u00a002-1234", 24,
                   False, 250)
    assert all(not line.text.endswith(("العقار", "مبنى", "طريق", "مجمع")) for line in lines)


# --- what the documents say -------------------------------------------------------------------

def texts(blocks) -> str:
    out = []
    for b in blocks:
        for field in ("text", "label", "value"):
            if hasattr(b, field) and isinstance(getattr(b, field), str):
                out.append(getattr(b, field))
        if hasattr(b, "lines"):
            out += list(b.lines)
        if hasattr(b, "summary"):
            out += [f"{k} {v}" for k, v in b.summary] + list(b.caption)
    return "\n".join(out)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_receipt_amounts_times_and_masked_id(lang):
    said = texts(layouts.build("receipt", SAMPLES["receipt"][1], lang))
    assert "1.500 BHD" in said and "3.500 BHD" in said and "5.000 BHD" in said
    assert "2026-11-24 11:05" in said  # 08:05 UTC in Bahrain
    assert "******239" in said and "850101239" not in said


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_licence_masks_the_national_id_and_labels_the_address(lang):
    said = texts(layouts.build("licence", SAMPLES["licence_copy"][1], lang))
    assert "******239" in said and "850101" not in said
    parts = ("مبنى", "طريق", "مجمع", "العقار") if lang == "ar" else \
        ("Building", "Road", "Block", "Parcel")
    for part, value in zip(parts, ("1203A", "15", "204", "02-1234")):
        assert f"{part}\u00a0{ltr(value)}" in said


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("conditions", ["", "   \n ", None])
def test_a_licence_without_conditions_has_no_conditions_row(lang, conditions):
    # issue 25: an empty "Conditions: none" row reads as an internal form field
    blocks = layouts.build("licence", sample("licence", conditions=conditions), lang)
    assert layouts.label("conditions", lang) not in texts(blocks)
    image = r.render("licence", sample("licence", conditions=conditions), lang, 384)
    assert image.width == 384


def test_conditions_are_printed_in_full():
    text = "يسمح بالعمل من 7 صباحاً إلى 6 مساءً فقط\nNo work on Fridays"
    blocks = layouts.build("licence", sample("licence", conditions=text), "ar")
    said = [b.text for b in blocks if isinstance(b, layouts.Text)]
    assert "يسمح بالعمل من 7 صباحاً إلى 6 مساءً فقط" in said and "No work on Fridays" in said


def band_rows(image: Image.Image, rows) -> list[int]:
    """Rows that are black across most of the paper (a banner)."""
    px = image.load()
    return [y for y in rows if sum(px[x, y] == 0 for x in range(image.width)) > image.width * 0.9]


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_copy_is_marked_at_top_and_bottom(lang):
    original = r.render("licence", sample("licence", copy=False), lang, 384)
    copy_ = r.render("licence", sample("licence", copy=True), lang, 384)
    assert copy_.height > original.height
    assert band_rows(copy_, range(0, 60)) and band_rows(copy_, range(copy_.height - 70,
                                                                      copy_.height))
    assert not band_rows(original, range(0, 60))
    blocks = layouts.build("licence", sample("licence", copy=True), lang)
    assert isinstance(blocks[0], layouts.Banner) and isinstance(blocks[-1], layouts.Banner)
    assert "COPY" in blocks[0].text and "نسخة" in blocks[0].text


def test_a_void_receipt_is_marked():
    said = texts(layouts.build("receipt", sample("receipt", voided=True), "ar"))
    assert "ملغى" in said and "VOID" in said
    image = r.render("receipt", sample("receipt", voided=True), "en", 576)
    assert band_rows(image, range(0, 60))


def test_ticket_number_is_the_biggest_thing():
    image = r.render("ticket", SAMPLES["ticket"][1], "en", 576)
    blocks = layouts.build("ticket", SAMPLES["ticket"][1], "en")
    assert layouts.BigNumber("R007") in blocks
    line = r.shape("R007", r.PAGES[576].big_number, True, False)
    assert line.width > 400  # about 7 cm wide
    assert image.height < 1400


@pytest.mark.parametrize("priority,word", [("elderly", "كبار السن"), ("pregnant", "الحوامل")])
def test_ticket_priority_label(priority, word):
    said = texts(layouts.build("ticket", sample("ticket", priority=priority), "ar"))
    assert word in said
    none = texts(layouts.build("ticket", sample("ticket", priority=None), "ar"))
    assert "أولوية" not in none


def test_z_report_open_shift_and_not_counted():
    data = sample("z_report", closed_at=None, counted_minor=None, difference_minor=None,
                  receipts=[])
    said = texts(layouts.build("z_report", data, "en"))
    assert "still open" in said and "not counted" in said
    assert r.render("z_report", data, "ar", 384).width == 384


# --- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,lang,width,message", [
    ("passport", "ar", 384, "unknown document kind 'passport'"),
    ("ticket", "fr", 384, "unknown language 'fr'"),
    ("ticket", "ar", 512, "unsupported paper width 512"),
])
def test_unknown_kind_language_or_width(kind, lang, width, message):
    with pytest.raises(ValueError, match=message):
        r.render(kind, SAMPLES["ticket"][1], lang, width)


MISSING = [(name, key) for name in ("ticket", "receipt", "licence", "z_report")
           for key in layouts.REQUIRED[KINDS[name]]]


@pytest.mark.parametrize("name,key", MISSING)
def test_a_missing_key_is_named(name, key):
    data = sample(name)
    del data[key]
    with pytest.raises(ValueError, match=f"missing the key '{key}'"):
        r.render(KINDS[name], data, "ar", 384)


@pytest.mark.parametrize("name,path,key", [
    ("receipt", ("items", 0), "amount_minor"),
    ("z_report", ("by_method",), "card"),
    ("z_report", ("by_method", "cash"), "total_minor"),
    ("z_report", ("voids",), "count"),
])
def test_a_missing_nested_key_is_named(name, path, key):
    data = sample(name)
    inner = data
    for step in path:
        inner = inner[step]
    del inner[key]
    with pytest.raises(ValueError, match=f"missing the key '{key}'"):
        r.render(KINDS[name], data, "en", 576)


@pytest.mark.parametrize("name,over,message", [
    ("ticket", {"timezone": "Mars/Olympus"}, "unknown time zone"),
    ("ticket", {"taken_at": "yesterday"}, "taken_at"),
    ("ticket", {"priority": "vip"}, "priority"),
    ("receipt", {"method": "cheque"}, "method"),
    ("receipt", {"total_minor": 1.5}, "total_minor"),
    ("receipt", {"currency": "XXX"}, "currency"),
])
def test_bad_values_are_refused_clearly(name, over, message):
    with pytest.raises(ValueError, match=message):
        r.render(KINDS[name], sample(name, **over), "en", 384)


@pytest.mark.parametrize("name,key", [("receipt", "holder_name"), ("licence", "number"),
                                      ("ticket", "number"), ("z_report", "clerk")])
def test_a_key_without_value_is_named(name, key):
    with pytest.raises(ValueError, match=f"no value for the key '{key}'"):
        r.render(KINDS[name], sample(name, **{key: None}), "ar", 576)


def test_an_empty_qr_text_is_refused():
    with pytest.raises(ValueError, match="qr_text"):
        r.render("ticket", sample("ticket", qr_text=" "), "en", 384)


@pytest.mark.parametrize("width", ["384", 384.0, True, None])
def test_a_width_that_is_not_a_supported_number(width):
    with pytest.raises(ValueError, match="unsupported paper width"):
        r.render("ticket", SAMPLES["ticket"][1], "en", width)


def test_empty_optional_text_still_prints():
    image = r.render("receipt", sample("receipt", clerk="", reference=""), "ar", 384)
    assert image.mode == "1" and image.width == 384
