"""core.service_search and the catalogue's sectors and categories (issue 25): a search by word
in Arabic or English that forgives the usual spelling variants and puts the most used first,
the sector -> category -> service tree, the "other" bucket of a service in no category, and
the bad input each gets a clear answer to while nothing changes."""
import copy
import filecmp
import json
import shutil

import pytest

from core import service_search as ss
from core.catalog import (DEFAULT_CATALOG_DIR, OTHER, OTHER_CATEGORY, OTHER_SECTOR,
                          load_catalog, parse_service)
from core.errors import CatalogError, NotFound, ValidationError
from ui.messages import field_error, has_message

CATALOG = load_catalog()
R, B, T = "residence-certificate", "building-permit-small", "building-land-tax"


def codes(found):
    return [s.code for s in found]


def copy_catalog(tmp_path):
    target = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, target)
    return target


def without_group(path, kind):
    path.write_text("\n".join(line for line in path.read_text(encoding="utf-8").split("\n")
                              if not line.startswith(f"{kind} = ")), encoding="utf-8")


# --- the shipped catalogue's sectors and categories ------------------------------------------

def test_the_shipped_services_sit_in_two_sectors_and_real_categories():
    assert {s.sector.code for s in CATALOG} == {"municipal-affairs", "urban-planning"}
    by_code = {s.code: s for s in CATALOG}
    assert by_code[R].category.code == "certificates"
    assert by_code[R].category.ar == "الشهادات" and by_code[R].sector.en == "Municipal affairs"
    assert by_code[B].category.en == "Building permits" and by_code[B].sector.ar == \
        "التخطيط العمراني"
    assert by_code[T].category.en == "Taxes and fees"
    assert all(s.category.code != OTHER for s in CATALOG)


def test_sector_and_category_survive_every_serialisation():
    for service in CATALOG:
        settings = service.to_settings()
        assert settings["sector"] == service.sector.to_dict()
        again = parse_service(copy.deepcopy(settings), "central service")
        assert again.sector == service.sector and again.category == service.category
        assert service.to_dict()["category"] == {"code": service.category.code,
                                                 "ar": service.category.ar,
                                                 "en": service.category.en}


def test_central_publishes_them_and_a_change_keeps_them(tmp_path):
    """Central's reference stream carries each service's settings; a back-office change to
    the fee republishes the whole service, sector and category included, and the office's
    loader reads them back (what sync/reference.py and core.office do with the body)."""
    from central.catalogue import Catalogue
    from central.service import Central
    from core.clock import FrozenClock

    central, _ = Central.init_root(tmp_path / "central", None,
                                   clock=FrozenClock("2026-11-24T08:00:00+00:00"))
    try:
        catalogue = Catalogue(central)
        done = catalogue.change(R, by="fatima", fee="1.500")
        published = parse_service(json.loads(json.dumps(done["service"])), "central service")
        assert published.fee_minor == 1500
        assert published.sector == CATALOG.get(R).sector
        assert published.category == CATALOG.get(R).category
        assert {raw["code"]: raw["category"]["code"] for raw in catalogue.services()}[B] == \
            "building-permits"
    finally:
        central.close()


# --- searching -------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", [
    "شهادة إثبات سكن", "شهاده اثبات سكن", "شَهَادَةُ إِثْبَاتِ سَكَنٍ", "شهـــادة إثبات",
    "الشهادة اثبات", "اثبات", "RESIDENCE certificate", "residence-certificate!", "resid",
])
def test_a_service_is_found_by_its_name_with_the_usual_variants(typed):
    assert codes(ss.search(CATALOG, typed, "ar"))[0] == R


@pytest.mark.parametrize("typed, expected", [
    ("ضريبة", T), ("ضريبه", T), ("الضريبة", T), ("taxes", T), ("Tax.", T),
    ("أقل من 50", B), ("اقل من ٥٠", B), ("under 50 m²", B), ("رخصة إتمام البناء",
                                                                  "building-completion-certificate"),
    ("رخصه اتمام البنا", "building-completion-certificate"), ("آشغال", "road-works-permit"),
])
def test_alef_hamza_ta_marbuta_digits_and_plurals_are_forgiven(typed, expected):
    assert codes(ss.search(CATALOG, typed, "en"))[0] == expected


def test_alef_maqsura_and_hamza_on_ya_and_waw_fold_both_ways():
    assert ss.words("مستوى") == ss.words("مستوي")
    assert ss.words("رئيس") == ss.words("رييس")
    assert ss.words("مؤقت") == ss.words("موقت")
    assert ss.words("ـًٌٍَُِّْ") == []


def test_both_languages_are_searched_whatever_the_screen_language():
    assert codes(ss.search(CATALOG, "Residence", "ar")) == [R]
    assert codes(ss.search(CATALOG, "سكن", "en")) == [R]


def test_latin_and_arabic_mixed_in_one_query_must_all_match():
    assert codes(ss.search(CATALOG, "building رخصة أقل", "ar")) == [B]
    # a word typed half in each script is two words; it finds nothing, and nothing breaks
    assert ss.words("bناء") == ["b", "نا"]
    assert ss.search(CATALOG, "bناء", "ar") == []


def test_the_most_used_come_first_among_equal_matches():
    permits = codes(ss.search(CATALOG, "رخصة", "ar"))
    assert permits == ["building-permit-small", "excavation-permit", "road-works-permit",
                       "drawings-amendment-permit", "building-completion-certificate"]
    used = codes(ss.search(CATALOG, "رخصة", "ar", usage={"road-works-permit": 40,
                                                       "excavation-permit": 7, "gone": 99}))
    assert used[:2] == ["road-works-permit", "excavation-permit"]
    assert set(used) == set(permits)
    # a better match still beats use: the whole name typed wins
    assert codes(ss.search(CATALOG, "رخصة حفريات", "ar",
                           usage={"road-works-permit": 40}))[0] == "excavation-permit"


def test_a_category_or_sector_word_finds_its_services_after_name_matches():
    # "Building completion certificate" is a permit only by its category: after the names
    assert codes(ss.search(CATALOG, "permits", "en")) == [
        B, "excavation-permit", "road-works-permit", "drawings-amendment-permit",
        "building-completion-certificate"]
    assert codes(ss.search(CATALOG, "الضرائب", "ar")) == [T]  # "Taxes and fees"
    assert ss.words("والرسوم بالبلدية") == ["رسوم", "بلدي"]
    assert set(codes(ss.search(CATALOG, "التخطيط", "ar"))) == {
        B, "drawings-amendment-permit", "building-completion-certificate"}


def test_limit_and_office_narrow_the_answer(tmp_path):
    assert len(ss.search(CATALOG, "رخصة", "ar", limit=2)) == 2
    target = copy_catalog(tmp_path)
    path = target / "04-excavation-permit.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'issue = "review"', 'issue = "review"\noffices = ["RIF"]'), encoding="utf-8")
    local = load_catalog(target)
    assert "excavation-permit" in codes(ss.search(local, "حفريات", "ar", office="RIF"))
    assert codes(ss.search(local, "حفريات", "ar", office="MUH")) == ["road-works-permit"]
    assert "excavation-permit" not in [s.code for sec in ss.browse(local, office="MUH")
                                       for c in sec.categories for s in c.services]


def test_plain_lists_of_services_are_searched_like_a_catalogue():
    assert codes(ss.search(list(CATALOG), "إثبات", "ar")) == [R]


# --- bad input: a clear answer, nothing changed ---------------------------------------------

def test_only_diacritics_or_punctuation_finds_nothing_without_a_crash():
    for typed in ("َ ُ ِ ّ", "ـــ", "  ", "?!.,،؟", ""):
        assert ss.search(CATALOG, typed, "ar") == []


def test_five_hundred_characters_are_refused_with_words_for_the_resident():
    usage = {R: 3}
    before = (copy.deepcopy(usage), [s.to_settings() for s in CATALOG])
    with pytest.raises(ValidationError) as caught:
        ss.search(CATALOG, "رخصة " * 100, "ar", usage=usage)
    assert caught.value.field == "search"
    assert caught.value.details["problem"] == "too_long"
    assert caught.value.details["max_length"] == ss.MAX_QUERY
    assert has_message("too_long")
    assert str(ss.MAX_QUERY) in field_error(caught.value, None, "en")
    assert "يرجى الاختصار" in field_error(caught.value, None, "ar")
    assert (usage, [s.to_settings() for s in CATALOG]) == before
    # exactly MAX_QUERY characters is still a search
    assert ss.search(CATALOG, ("سكن " * 40)[:ss.MAX_QUERY], "ar") == [CATALOG.get(R)]


def test_direction_controls_and_non_text_are_refused_as_a_typed_field_is():
    with pytest.raises(ValidationError) as caught:
        ss.search(CATALOG, "سكن\u202e", "ar")
    assert caught.value.details["problem"] == "direction_control"
    with pytest.raises(ValidationError) as caught:
        ss.search(CATALOG, 42, "ar")
    assert caught.value.details["problem"] == "not_text"


@pytest.mark.parametrize("kwargs, field, reason", [
    ({"usage": {R: -1}}, "usage", "not_counts"),
    ({"usage": {R: True}}, "usage", "not_counts"),
    ({"usage": [R]}, "usage", "not_counts"),
    ({"limit": 0}, "limit", "not_a_limit"),
    ({"lang": "fr"}, "lang", "unknown_language"),
])
def test_a_callers_slip_is_refused_with_a_reason(kwargs, field, reason):
    with pytest.raises(ValidationError) as caught:
        ss.search(CATALOG, "سكن", **{"lang": "ar", **kwargs})
    assert caught.value.field == field and caught.value.details["reason"] == reason
    if "usage" in kwargs:
        with pytest.raises(ValidationError) as caught:
            ss.browse(CATALOG, kwargs["usage"])
        assert caught.value.details["reason"] == reason


# --- browsing --------------------------------------------------------------------------------

def test_browse_offers_sectors_then_categories_most_used_first():
    tree = ss.browse(CATALOG)
    assert [s.code for s in tree] == ["municipal-affairs", "urban-planning"]
    assert [c.code for c in tree[0].categories] == [
        "certificates", "addresses", "roads-and-excavation", "taxes-and-fees"]
    used = ss.browse(CATALOG, {"drawings-amendment-permit": 5, "road-works-permit": 2})
    assert [s.code for s in used] == ["urban-planning", "municipal-affairs"]
    assert used[0].uses == 5 and used[1].uses == 2
    assert codes(used[0].categories[0].services)[0] == "drawings-amendment-permit"
    assert used[1].categories[0].code == "roads-and-excavation"
    assert codes(used[1].categories[0].services) == ["road-works-permit", "excavation-permit"]
    assert all(ss.taps_to(tree, s.code) <= 3 for s in CATALOG) and ss.crowded(tree) == []
    sector, category, service = ss.path_to(tree, T)
    assert (sector.code, category.code, service.code) == ("municipal-affairs",
                                                          "taxes-and-fees", T)
    with pytest.raises(NotFound):
        ss.path_to(tree, "no-such-service")


def test_two_services_in_no_category_go_to_the_other_bucket_last(tmp_path):
    target = copy_catalog(tmp_path)
    for name in ("01-residence-certificate.toml", "05-road-works-permit.toml"):
        without_group(target / name, "category")
    without_group(target / "05-road-works-permit.toml", "sector")
    catalog = load_catalog(target)
    assert catalog.get(R).category == OTHER_CATEGORY
    assert catalog.get("road-works-permit").sector == OTHER_SECTOR
    tree = ss.browse(catalog, {"road-works-permit": 1000, R: 1000})
    assert tree[-1].group == OTHER_SECTOR  # the bucket comes last, however used
    assert codes(tree[-1].categories[0].services) == ["road-works-permit"]
    municipal = tree[0]
    assert municipal.categories[-1].group == OTHER_CATEGORY
    assert codes(municipal.categories[-1].services) == [R]
    assert OTHER_SECTOR.ar and OTHER_SECTOR.en and OTHER_CATEGORY.ar and OTHER_CATEGORY.en
    assert all(ss.taps_to(tree, s.code) <= 3 for s in catalog)
    # the bucket is the absence of a group: it does not appear in the settings
    assert "category" not in catalog.get(R).to_settings()
    assert parse_service(catalog.get(R).to_settings(), "x").category == OTHER_CATEGORY


@pytest.mark.parametrize("line, words", [
    ('sector = "municipal"', "sector must be a table"),
    ('sector = { code = "Municipal", ar = "ب", en = "M" }', "lower-case"),
    ('sector = { code = "other", ar = "ب", en = "M" }', "leave the sector out"),
    ('sector = { code = "municipal-affairs", ar = "", en = "M" }', "the ar text is empty"),
    ('sector = { code = "municipal-affairs", ar = "ب", en = "M", extra = 1 }',
     "sector must be a table"),
    ('category = { code = "certificates", ar = "<b>", en = "C" }', "plain"),
])
def test_a_bad_sector_or_category_is_refused_naming_the_file(tmp_path, line, words):
    target = copy_catalog(tmp_path)
    path = target / "01-residence-certificate.toml"
    kind = line.split(" ")[0]
    without_group(path, kind)
    path.write_text(path.read_text(encoding="utf-8").replace(
        'issue = "instant"', f'issue = "instant"\n{line}'), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(CatalogError) as caught:
        load_catalog(target)
    assert words in caught.value.message and str(path) in caught.value.message
    assert path.read_bytes() == before


def test_files_naming_one_category_two_ways_are_refused(tmp_path):
    target = copy_catalog(tmp_path)
    path = target / "05-road-works-permit.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'ar = "الطرق والحفريات"', 'ar = "الطرق"'), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(target)
    assert "roads-and-excavation" in caught.value.message
    assert "04-excavation-permit.toml" in caught.value.message
    assert caught.value.details["field"] == "category"
    assert filecmp.cmp(DEFAULT_CATALOG_DIR / "04-excavation-permit.toml",
                       target / "04-excavation-permit.toml", shallow=False)
