"""central.catalogue: the back office changes a service's fee, validity, documents, name and
offices; each change is checked by the catalogue loader's rules and published once in the
reference stream, and a refused one publishes nothing (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from central.catalogue import Catalogue, kiosk_preview
from central.db import console_audit, reference
from central.service import Central, CentralError
from core.clock import FrozenClock

RC = "residence-certificate"
DOCS = [{"ar": "البطاقة الذكية", "en": "Smart card"}]


@pytest.fixture
def catalogue(tmp_path, central_db):
    central, _ = Central.init_root(tmp_path / "central", central_db,
                                   clock=FrozenClock("2026-11-24T08:00:00+00:00"))
    for office in ("MUH", "SIT"):
        central.enrol_code(office, role="hub")
    yield Catalogue(central)
    central.close()


def stream(catalogue) -> list[tuple]:
    with catalogue.central.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(
            reference.c.version, reference.c.kind, reference.c.key, reference.c.body)
            .order_by(reference.c.version))]


def test_a_good_change_is_published_once_and_audited(catalogue):
    before = stream(catalogue)
    done = catalogue.change(RC, by="fatima", fee="1.500", validity_days=180, documents=DOCS,
                            offices=["SIT"], name={"ar": "شهادة سكن", "en": "Residence"})
    after = stream(catalogue)
    assert after[:-1] == before and len(after) == len(before) + 1
    version, kind, key, body = after[-1]
    assert (kind, key, version) == ("service", RC, done["version"])
    published = json.loads(body)
    assert published["fee"] == {"amount": 1500, "currency": "BHD"}
    assert published["validity_days"] == 180 and published["documents"] == DOCS
    assert published["offices"] == ["SIT"] and published["name"]["en"] == "Residence"
    assert done["changed"] == ["documents", "fee", "name", "offices", "validity_days"]
    assert catalogue.service(RC) == {**published, "version": version}
    assert {s["code"]: s for s in catalogue.services()}[RC] == published
    assert catalogue.central.services() == catalogue.services()  # one owner
    with catalogue.central.engine.connect() as conn:
        audit = conn.execute(sa.select(console_audit).where(
            console_audit.c.entity_type == "service")).mappings().all()
    assert [(a["actor"], a["action"], a["entity_id"]) for a in audit] == \
        [("fatima", "service.change", RC)]
    # The same change again publishes nothing; "all" takes the office list away.
    assert catalogue.change(RC, by="fatima", fee="1.500")["changed"] == []
    assert len(stream(catalogue)) == len(after)
    assert "offices" not in catalogue.change(RC, by="fatima", offices="all")["service"]


@pytest.mark.parametrize("code, kwargs, error", [
    (RC, {"fee": "1.5000"}, "invalid_fee"),         # four decimals for a 3-decimal currency
    (RC, {"fee": "-1.000"}, "invalid_fee"),
    (RC, {"fee": "0"}, "invalid_fee"),               # the catalogue forbids a zero fixed fee
    (RC, {"fee": "100000.001"}, "invalid_fee"),     # above MAX_FEE_MAJOR
    (RC, {"fee": "1,500"}, "invalid_fee"),
    ("building-land-tax", {"fee": "1.000"}, "invalid_fee"),  # its fee is the assessed amount
    ("no-such-service", {"fee": "1.000"}, "unknown_service"),
    (RC, {"offices": ["MUH", "XYZ"]}, "unknown_office"),
    (RC, {"offices": "MUH"}, "invalid_offices"),
    (RC, {"offices": ["MUH", "MUH"]}, "invalid_offices"),
    (RC, {"validity_days": 0}, "invalid_validity_days"),
    (RC, {"validity_days": True}, "invalid_validity_days"),
    (RC, {"name": {"ar": "شهادة", "en": "  "}}, "invalid_name"),
    (RC, {"name": {"ar": "شهادة", "en": "<script>alert(1)</script>"}}, "invalid_name"),
    (RC, {"name": {"ar": "شهادة \u202eسكن", "en": "Residence"}}, "invalid_name"),
    (RC, {"documents": [{"ar": "هوية", "en": "ID \u2066card\u2069"}]}, "invalid_documents"),
    (RC, {"documents": [{"ar": "هوية", "en": "<b>ID</b>"}]}, "invalid_documents"),
    (RC, {"documents": [{"ar": "هوية"}]}, "invalid_documents"),
    (RC, {"documents": [DOCS[0]] * 21}, "invalid_documents"),
    (RC, {}, "nothing_to_change"),
    (RC, {"fee": "2.000", "by": " "}, "invalid_actor"),
    (RC, {"fee": "2.000", "based_on": 1}, "changed_meanwhile"),
])
def test_bad_input_is_refused_and_nothing_published(catalogue, code, kwargs, error):
    before = stream(catalogue)
    kwargs = {"by": "fatima", **kwargs}
    with pytest.raises(CentralError) as refused:
        catalogue.change(code, **kwargs)
    assert refused.value.code == error, refused.value.message
    assert refused.value.message  # says what is wrong
    assert stream(catalogue) == before
    with catalogue.central.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(console_audit).where(
            console_audit.c.entity_type == "service")).scalar() == 0


def test_refusals_name_what_is_wrong(catalogue):
    with pytest.raises(CentralError, match="more than 3 decimals"):
        catalogue.change(RC, by="f", fee="1.5000")
    with pytest.raises(CentralError, match="U\\+202E"):
        catalogue.change(RC, by="f", name={"ar": "\u202eسكن", "en": "Residence"})
    with pytest.raises(CentralError, match="'XYZ'"):
        catalogue.change(RC, by="f", offices=["XYZ"])


def test_based_on_the_current_version_is_accepted(catalogue):
    version = catalogue.service(RC)["version"]
    assert catalogue.change(RC, by="f", fee="2.000", based_on=version)["version"] > version


def test_set_fee_from_the_cli_goes_the_same_way(catalogue):
    assert catalogue.central.set_fee(RC, 2500)["fee"]["amount"] == 2500
    before = stream(catalogue)
    for bad in (0, -5, 100_000_001, True):
        with pytest.raises(CentralError):
            catalogue.central.set_fee(RC, bad)
    assert stream(catalogue) == before


def test_kiosk_preview_uses_the_kiosks_money_format(catalogue):
    raw = catalogue.change(RC, by="f", fee="1.500", offices=["SIT"])["service"]
    ar = kiosk_preview(raw, "ar", digits="arabic", office="MUH")
    assert ar["title"] == "شهادة إثبات سكن" and ar["fee"] == "١٫٥٠٠ د.ب"
    assert ar["offered"] is False and ar["offices"] == ["SIT"]
    en = kiosk_preview(raw, "en", office="SIT")
    assert en["fee"] == "1.500 BHD" and en["offered"] is True
    assert en["documents"] == ["Smart card (ID)", "Lease contract or title deed"]
    tax = kiosk_preview(catalogue.service("building-land-tax"), "en")
    assert tax["fee"] is None and tax["fee_assessed_from"] and tax["offices"] == "all"
    with pytest.raises(CentralError, match="language"):
        kiosk_preview(raw, "fr")
    with pytest.raises(CentralError) as bad:
        kiosk_preview({**raw, "fee": {"amount": 1, "currency": "XXX"}}, "en")
    assert bad.value.code == "invalid_service"


def test_catalogue_files_that_name_one_sector_two_ways_are_refused_at_central(tmp_path):
    """central's loader checks what an office's loader checks: one sector code, one heading
    (core.catalog.check_groups); the shipped files pass."""
    import shutil

    from central.service import load_raw_catalog
    from core.catalog import DEFAULT_CATALOG_DIR, CatalogError

    assert len(load_raw_catalog(DEFAULT_CATALOG_DIR)) == \
        len(list(DEFAULT_CATALOG_DIR.glob("*.toml")))
    files = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, files)
    last = sorted(files.glob("*.toml"))[-1]
    text = last.read_text(encoding="utf-8")
    import tomllib
    sector = tomllib.loads(text)["sector"]
    renamed = text.replace(f'en = "{sector["en"]}"', 'en = "Something else entirely"', 1)
    assert renamed != text
    last.write_text(renamed, encoding="utf-8")
    with pytest.raises(CatalogError) as refused:
        load_raw_catalog(files)
    assert "sector" in str(refused.value) and "Something else entirely" in str(refused.value)
