"""What the thermal licence says (issue 25 "Paper"): the issuing authority and its emblem,
the holder's ID as the office's policy says, no internal codes, the number on one line,
validity as a date in the office's zone; the [licence] settings refuse what cannot work."""
from __future__ import annotations

import logging

import pytest

from core import documents
from core.errors import ConfigError
from core.settings import DEFAULT_EMBLEM, load_settings
from devices.printing import layouts
from devices.printing import render as r
from devices.printing.layouts import Picture, Row, Title, label


def blocks_of(office, lic, lang):
    return layouts.build("licence", documents.licence(office, lic["id"]), lang)


def words(blocks) -> list[str]:
    out = []  # what a person reads (a QR block's text is the code's content)
    for b in blocks:
        out += [getattr(b, f) for f in ("text", "label", "value")
                if hasattr(b, f) and not isinstance(b, layouts.QR)]
        out += list(getattr(b, "lines", ())) + list(getattr(b, "caption", ()))
        out += [f"{k} {v}" for k, v in getattr(b, "summary", ())]
    return out


def row(blocks, key, lang) -> Row:
    (found,) = [b for b in blocks if isinstance(b, Row) and b.label == label(key, lang)]
    return found


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_authority_and_emblem_head_the_licence(office, issued, lang):
    blocks = blocks_of(office, issued(), lang)
    assert blocks[0] == Picture(str(DEFAULT_EMBLEM), layouts.LICENCE_EMBLEM_DOTS)
    authority = {"ar": "بلدية المحرق", "en": "Muharraq Municipality"}
    other = "en" if lang == "ar" else "ar"
    assert next(b for b in blocks if isinstance(b, Title)).lines == (authority[lang],
                                                                      authority[other])
    with_emblem = r.render("licence", documents.licence(office, issued()["id"]), lang, 576)
    office.settings.licence.emblem = "none"
    blocks = blocks_of(office, issued(), lang)
    assert not [b for b in blocks if isinstance(b, Picture)]
    without = r.render("licence", documents.licence(office, issued()["id"]), lang, 576)
    assert with_emblem.height - without.height >= layouts.LICENCE_EMBLEM_DOTS
    # the emblem's own black dots, centred at the top
    top = with_emblem.crop((200, 8, 376, 8 + layouts.LICENCE_EMBLEM_DOTS)).convert("L")
    assert top.histogram()[0] > 1500


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_no_internal_codes_and_no_empty_conditions_row(office, issued, lang):
    lic = issued()
    said = "\n".join(words(blocks_of(office, lic, lang)))
    assert lic["licence_type"] == "RES" and "RES" not in said.replace(lic["number"], "")
    assert label("conditions", lang) not in said
    assert "Type" not in said and "النوع" not in said


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_national_id_as_the_policy_says(office, issued, lang):
    lic = issued()
    masked = row(blocks_of(office, lic, lang), "national_id", lang).value
    assert masked == "*" * 6 + lic["national_id"][-3:]
    office.settings.licence.national_id = "full"
    assert row(blocks_of(office, lic, lang), "national_id", lang).value == lic["national_id"]


@pytest.mark.parametrize("lang,expected", [
    ("en", ("24 November 2026", "22 February 2027")),
    ("ar", ("24 نوفمبر 2026", "22 فبراير 2027"))])
def test_issue_and_validity_are_dates_in_the_office_zone(office, issued, lang, expected):
    lic = issued()  # the frozen clock: 2026-11-24 08:00 UTC; valid 90 days
    blocks = blocks_of(office, lic, lang)
    assert (row(blocks, "issued_at", lang).value, row(blocks, "valid_until", lang).value) == \
        expected
    said = "\n".join(words(blocks))
    assert lic["valid_until"][:10] not in said and "T0" not in said  # no ISO stamp


def test_a_day_is_the_offices_day_not_utcs():
    data = {"timezone": "Asia/Bahrain"}
    tz = layouts._zone(data)
    assert layouts.long_date("2027-12-04T22:30:00+00:00", tz, "k", "en") == "5 December 2027"
    assert layouts.long_date("2027-12-04T22:30:00+00:00", tz, "k", "ar") == "5 ديسمبر 2027"


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_number_prints_on_one_line_at_80mm(office, issued, lang):
    blocks = blocks_of(office, issued(), lang)
    number = row(blocks, "document_number", lang)
    page = r.PAGES[576]
    drawn = r.Painter(page, rtl=lang == "ar").paint([number])
    one_line = r.line_metrics(page.sizes[number.size])[0]
    assert drawn.height == r.TOP_PAD + one_line + r.BOTTOM_PAD
    # nor is it broken beside the QR code: the summary leaves it to the rows
    (qr,) = [b for b in blocks if isinstance(b, layouts.QR)]
    assert all(number.value not in value for _, value in qr.summary)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_verify_address_goes_under_the_code(office, issued, lang):
    lic = issued()
    (qr,) = [b for b in blocks_of(office, lic, lang) if isinstance(b, layouts.QR)]
    assert qr.caption == (label("verify_scan", lang),)
    office.settings.licence.verify_url = "https://central.example.bh/verify/"
    (qr,) = [b for b in blocks_of(office, lic, lang) if isinstance(b, layouts.QR)]
    assert "https://central.example.bh/verify/" in qr.caption[1]


def test_an_unknown_policy_in_the_data_is_refused_by_name(office, issued):
    data = {**documents.licence(office, issued()["id"]), "national_id_shown": "half"}
    with pytest.raises(ValueError, match="national_id_shown"):
        layouts.build("licence", data, "ar")


def test_a_spoiled_emblem_prints_the_licence_without_it(office, issued, tmp_path, caplog):
    lic = issued()
    spoiled = tmp_path / "emblem.png"
    spoiled.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)  # passed the check, then broke
    office.settings.licence.emblem = str(spoiled)
    office.settings.printer.width_dots = 576
    with caplog.at_level(logging.WARNING):
        image = r.render("licence", documents.licence(office, lic["id"]), "en", 576)
    assert image.width == 576 and "printing without the picture" in caplog.text
    office.settings.licence.emblem = "none"
    assert image.size == r.render("licence", documents.licence(office, lic["id"]), "en",
                                  576).size


# --- the [licence] settings -----------------------------------------------------------------

def load(tmp_path, text: str):
    (tmp_path / "nafitha.toml").write_text(text, encoding="utf-8")
    return load_settings(tmp_path, environ={})


def test_the_shipped_emblem_is_a_png(tmp_path):
    assert DEFAULT_EMBLEM.read_bytes().startswith(b"\x89PNG")
    assert load_settings(tmp_path, environ={}).licence.emblem_path(tmp_path) == DEFAULT_EMBLEM


def test_an_emblem_of_the_office_relative_to_the_data_directory(tmp_path):
    (tmp_path / "crest.png").write_bytes(DEFAULT_EMBLEM.read_bytes())
    settings = load(tmp_path, '[licence]\nemblem = "crest.png"\nnational_id = "full"\n')
    assert settings.licence.emblem_path(tmp_path) == tmp_path / "crest.png"
    assert settings.licence.national_id == "full"


@pytest.mark.parametrize("toml,key,problem", [
    ('[licence]\nemblem = "missing.png"\n', "licence.emblem", "no such file"),
    ('[licence]\nemblem = "notes.txt"\n', "licence.emblem", "not a PNG or JPEG"),
    ('[licence]\nnational_id = "partly"\n', "licence.national_id", "masked or full"),
    ('[licence]\nverify_url = "central/verify"\n', "licence.verify_url", "http"),
    ('[licence]\nauthority_ar = " "\n', "licence.authority_ar", "authority"),
])
def test_bad_licence_settings_are_refused_at_load(tmp_path, toml, key, problem):
    (tmp_path / "notes.txt").write_text("just words")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, toml)
    assert caught.value.details["key"] == key and problem in caught.value.message


def test_a_bad_policy_from_the_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={"NAFITHA_LICENCE__NATIONAL_ID": "none"})
    assert caught.value.details["key"] == "licence.national_id"
