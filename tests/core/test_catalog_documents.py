"""The catalogue's [[documents]]: each has a key (derived by position when absent, so an
older catalogue loads), whether it is required before a decision and whether a resident may
capture it at the kiosk; every bad shape is refused naming the file, service and document."""
from __future__ import annotations

import shutil

import pytest

from core.catalog import DEFAULT_CATALOG_DIR, DocumentType, load_catalog, parse_service
from core.errors import CatalogError, ValidationError

BUILDING = "03-building-permit-small.toml"
RESIDENCE = "01-residence-certificate.toml"


@pytest.fixture
def catalog_copy(tmp_path):
    target = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, target)
    return target


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_building_permit_asks_for_three_documents_two_required():
    permit = load_catalog().get("building-permit-small")
    assert [(d.key, d.required, d.at_kiosk) for d in permit.documents] == [
        ("smart_card", False, True), ("title_deed", True, True), ("drawing", True, False)]
    deed = permit.document("title_deed")
    assert (deed.ar, deed.en, deed.get("ar"), deed.get("en")) == (
        "وثيقة ملكية العقار", "Title deed", "وثيقة ملكية العقار", "Title deed")


def test_a_document_without_a_key_gets_one_by_position():
    residence = load_catalog().get("residence-certificate")
    assert [d.key for d in residence.documents] == ["document_1", "document_2"]
    assert not any(d.required or d.at_kiosk for d in residence.documents)


def test_to_dict_and_to_settings_carry_the_keys_and_load_back():
    permit = load_catalog().get("building-permit-small")
    assert permit.to_dict()["documents"][1] == {
        "key": "title_deed", "ar": "وثيقة ملكية العقار", "en": "Title deed",
        "required": True, "at_kiosk": True}
    again = parse_service(permit.to_settings(), "central service")
    assert again.documents == permit.documents
    assert all(isinstance(d, DocumentType) for d in again.documents)


def test_a_document_the_service_does_not_ask_for_is_refused_by_reason():
    permit = load_catalog().get("building-permit-small")
    with pytest.raises(ValidationError) as info:
        permit.document("marriage_certificate")
    assert info.value.details["reason"] == "document_not_asked"
    assert info.value.field == "doc_key"
    assert "title_deed" in info.value.message  # what it does ask for


@pytest.mark.parametrize("old, new, words", [
    ('key = "title_deed"', 'key = "Title Deed"', ["document #2", "lower_snake_case"]),
    ('key = "title_deed"', 'key = "2deed"', ["document #2", "'2deed'"]),
    ('key = "title_deed"', f'key = "{"d" * 33}"', ["document #2", "at most 32"]),
    ('key = "title_deed"', "key = 5", ["document #2", "key must be"]),
    ('key = "title_deed"', 'key = "smart_card"', ["'smart_card' is used twice"]),
    ('key = "drawing"', 'key = "document_1"\nkeyy = "x"', ["document #3",
                                                           "unknown setting(s) keyy"]),
    ("required = true\nat_kiosk = true", 'required = "yes"\nat_kiosk = true',
     ["document #2 (title_deed)", "required must be true or false"]),
    ("required = true\nat_kiosk = true", "required = true\nat_kiosk = 1",
     ["document #2 (title_deed)", "at_kiosk must be true or false"]),
    ('en = "Title deed"', "", ["document #2 (title_deed)", "Arabic and an English"]),
    ('en = "Title deed"', 'en = "<b>Title deed</b>"', ["document #2 (title_deed)",
                                                        "without markup"]),
])
def test_a_bad_document_is_refused_naming_it(catalog_copy, old, new, words):
    path = catalog_copy / BUILDING
    edit(path, old, new)
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    message = str(info.value)
    assert str(path) in message and "service 'building-permit-small'" in message, message
    for word in words:
        assert word in message, message
    assert info.value.details["service"] == "building-permit-small"


def test_a_document_that_is_not_a_table_is_refused():
    raw = load_catalog().get("residence-certificate").to_settings()
    raw["documents"] = ["Smart card"]
    with pytest.raises(CatalogError, match=r"document #1: expected a table"):
        parse_service(raw, "central service")


def test_a_key_derived_by_position_cannot_be_taken_twice():
    raw = load_catalog().get("residence-certificate").to_settings()
    raw["documents"][1]["key"] = "document_1"
    with pytest.raises(CatalogError, match="'document_1' is used twice"):
        parse_service(raw, "central service")
    raw["documents"][0].pop("key")  # derived: document_1 again
    with pytest.raises(CatalogError, match="'document_1' is used twice"):
        parse_service(raw, "central service")
