"""The service catalogue: the default services, and a loader that refuses a bad one and says
which file, service and field is wrong."""
import re
import shutil
from decimal import Decimal

import pytest

from core.catalog import DEFAULT_CATALOG_DIR, load_catalog, validate_fields
from core.errors import CatalogError, ValidationError

EXPECTED = {
    # code: (prefix, Arabic name from the source material, issue mode)
    "residence-certificate": ("R", "شهادة إثبات سكن", "instant"),
    "address-form": ("A", "استمارة إضافة وتعديل وحذف عنوان", "review"),
    "building-permit-small": ("B", "رخصة بناء أقل من 50 م²", "review"),
    "excavation-permit": ("E", "رخصة حفريات", "review"),
    "road-works-permit": ("W", "رخصة أشغال طريق", "review"),
    "drawings-amendment-permit": ("D", "رخصة تعديل الرسومات الهندسية", "review"),
    "building-completion-certificate": ("C", "رخصة إتمام البناء", "review"),
    "building-land-tax": ("T", "ضريبة الأبنية والأراضي", "instant"),
}
ARABIC = re.compile(r"[\u0600-\u06ff]")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_the_eight_default_services(catalog):
    assert len(catalog) == 8
    assert {s.code for s in catalog} == set(EXPECTED)
    for service in catalog:
        prefix, name_ar, issue = EXPECTED[service.code]
        assert service.prefix == prefix
        assert service.name.ar == name_ar
        assert ARABIC.search(service.name.ar)
        assert service.name.en.strip() and not ARABIC.search(service.name.en)
        assert service.issue == issue
        assert service.currency == "BHD"


def test_prefixes_and_codes_are_unique(catalog):
    prefixes = [s.prefix for s in catalog]
    assert len(set(prefixes)) == len(prefixes) == 8


def test_fees_are_whole_fils(catalog):
    for service in catalog:
        assert isinstance(service.fee_minor, int) and not isinstance(service.fee_minor, bool)
        if service.fee_from_field:
            assert service.field(service.fee_from_field).type == "money"
        else:
            assert service.fee_minor > 0
    assert catalog.get("residence-certificate").fee_minor == 1000  # 1.000 BHD
    assert catalog.get("T").fee_from_field == "assessed_amount"


def test_every_service_names_a_holder_and_has_bilingual_labels(catalog):
    for service in catalog:
        assert service.field("full_name").type == "text"
        assert service.field("national_id").type == "national_id"
        for f in service.fields:
            assert f.label.ar.strip() and f.label.en.strip()
            assert ARABIC.search(f.label.ar)
        for doc in service.documents:
            assert ARABIC.search(doc.ar) and doc.en


def test_small_building_permit_area_limit(catalog):
    area = catalog.get("building-permit-small").field("area_m2")
    assert area.max_exclusive == Decimal(50)


def test_lookup_by_code_or_prefix(catalog):
    assert catalog.get("R") is catalog.get("residence-certificate")
    with pytest.raises(ValidationError) as info:
        catalog.get("marriage-licence")
    assert info.value.field == "service"
    assert "marriage-licence" in str(info.value)


def test_to_dict_is_what_a_kiosk_needs(catalog):
    d = catalog.get("residence-certificate").to_dict()
    assert d["fee"] == {"amount": 1000, "currency": "BHD", "from_field": None,
                        "display": "1.000 BHD"}
    assert d["name"] == {"ar": "شهادة إثبات سكن", "en": "Residence certificate"}
    keyboards = {f["key"]: f["keyboard"] for f in d["fields"]}
    assert keyboards["full_name"] == "text" and keyboards["national_id"] == "numeric"


# --- a broken catalogue -----------------------------------------------------------------------

@pytest.fixture
def catalog_copy(tmp_path):
    target = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, target)
    return target


def edit(path, old, new, count=1):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


BUILDING = "03-building-permit-small.toml"
RESIDENCE = "01-residence-certificate.toml"


@pytest.mark.parametrize("file, old, new, service, words", [
    # unknown field type
    (BUILDING, 'type = "area_m2"', 'type = "square_metres"', "building-permit-small",
     ["field 'area_m2'", "type must be one of", "square_metres"]),
    # missing full_name (renamed)
    (RESIDENCE, 'key = "full_name"', 'key = "holder"', "residence-certificate",
     ["field 'full_name'", "full_name"]),
    # full_name of the wrong type
    (RESIDENCE, 'key = "full_name"\ntype = "text"', 'key = "full_name"\ntype = "phone"',
     "residence-certificate", ["field 'full_name'"]),
    # bad fee: a decimal instead of fils
    (RESIDENCE, "amount = 1000", "amount = 1.5", "residence-certificate",
     ["fee amount", "1.5", "minor units"]),
    (RESIDENCE, "amount = 1000", 'amount = "1.000"', "residence-certificate", ["fee amount"]),
    (RESIDENCE, "amount = 1000", "amount = -5", "residence-certificate", ["fee amount"]),
    (RESIDENCE, 'currency = "BHD"', 'currency = "XBT"', "residence-certificate",
     ["fee currency", "XBT"]),
    # empty Arabic name
    (RESIDENCE, 'ar = "شهادة إثبات سكن"', 'ar = "  "', "residence-certificate",
     ["name", "ar text is empty"]),
    # empty Arabic field label
    (BUILDING, 'ar = "المساحة (م²)"', 'ar = ""', "building-permit-small",
     ["field 'area_m2'", "label", "ar text is empty"]),
    # unknown setting on a field
    (BUILDING, "max_exclusive = 50", "max_exclusiv = 50", "building-permit-small",
     ["field 'area_m2'", "max_exclusiv"]),
    (RESIDENCE, 'issue = "instant"', 'issue = "now"', "residence-certificate", ["issue"]),
    (RESIDENCE, "validity_days = 90", "validity_days = 0", "residence-certificate",
     ["validity_days"]),
    (RESIDENCE, 'prefix = "R"', 'prefix = "r1"', "residence-certificate", ["prefix"]),
    (RESIDENCE, 'key = "phone"', 'key = "full_name"', "residence-certificate",
     ["field 'full_name'", "defined twice"]),
])
def test_a_bad_service_file_is_named_with_service_and_field(catalog_copy, file, old, new,
                                                           service, words):
    path = catalog_copy / file
    edit(path, old, new)
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    message = str(info.value)
    assert str(path) in message, message
    assert f"service {service!r}" in message, message
    for word in words:
        assert word in message, message
    assert info.value.details["file"] == str(path)
    assert info.value.details["service"] == service
    assert info.value.code == "catalog_invalid"


def test_duplicate_prefix_names_both_files(catalog_copy):
    path = catalog_copy / "02-address-form.toml"
    edit(path, 'prefix = "A"', 'prefix = "R"')
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    message = str(info.value)
    assert str(path) in message
    assert "service 'address-form'" in message
    assert "prefix 'R'" in message
    assert RESIDENCE in message  # who already has it


def test_duplicate_code(catalog_copy):
    edit(catalog_copy / "02-address-form.toml", 'code = "address-form"',
         'code = "residence-certificate"')
    with pytest.raises(CatalogError, match="code 'residence-certificate' is already used"):
        load_catalog(catalog_copy)


def test_bad_toml_names_the_file(catalog_copy):
    path = catalog_copy / "05-road-works-permit.toml"
    edit(path, 'prefix = "W"', 'prefix = "W')
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    assert str(path) in str(info.value)
    assert "not valid TOML" in str(info.value)


def test_empty_catalogue_directory(tmp_path):
    with pytest.raises(CatalogError, match="no service files"):
        load_catalog(tmp_path)


def test_a_catalogue_can_be_extended(catalog_copy):
    text = (catalog_copy / RESIDENCE).read_text(encoding="utf-8")
    text = text.replace('code = "residence-certificate"', 'code = "noise-permit"') \
        .replace('prefix = "R"', 'prefix = "N"')
    (catalog_copy / "09-noise-permit.toml").write_text(text, encoding="utf-8")
    assert len(load_catalog(catalog_copy)) == 9


# --- validating a form against the catalogue ------------------------------------------------

def validate(catalog, service, values, partial=False):
    return validate_fields(catalog.get(service), values, r"^[0-9]{9}$", "luhn",
                           r"^(\+973)?[13679][0-9]{7}$", 100_000_000, partial=partial)


def test_validate_cleans_values(catalog):
    out = validate(catalog, "address-form", {
        "full_name": "  علي حسن  ", "national_id": "٨٥٠١٠١٢٣٩", "phone": "3333 4444",
        "action": "change", "block": "0204", "road": "١٥", "building": "0012a"})
    assert out == {"full_name": "علي حسن", "national_id": "850101239", "phone": "33334444",
                   "action": "change", "block": "204", "road": "15", "building": "12A"}


def test_validate_money_field_to_minor_units(catalog):
    out = validate(catalog, "T", {"full_name": "A", "national_id": "850101239",
                                  "phone": "33334444", "parcel": "1", "assessed_amount": "12.5"})
    assert out["assessed_amount"] == "12500"


@pytest.mark.parametrize("key, value", [
    ("action", "rename"), ("block", "0"), ("block", "12345"), ("road", "x"),
    ("building", "12AB"), ("phone", "12345"), ("phone", "+97433334444"),
])
def test_validate_refuses_bad_values(catalog, key, value):
    values = {"full_name": "A", "national_id": "850101239", "phone": "33334444",
              "action": "add", "block": "1", "road": "1", "building": "1", key: value}
    with pytest.raises(ValidationError) as info:
        validate(catalog, "address-form", values)
    assert info.value.field == key


def test_validate_refuses_unknown_field(catalog):
    with pytest.raises(ValidationError) as info:
        validate(catalog, "R", {"favourite_colour": "blue"}, partial=True)
    assert info.value.field == "favourite_colour"


def test_partial_skips_missing_but_not_bad_values(catalog):
    assert validate(catalog, "R", {"full_name": "Ali"}, partial=True) == {"full_name": "Ali"}
    with pytest.raises(ValidationError):
        validate(catalog, "R", {"national_id": "123"}, partial=True)
