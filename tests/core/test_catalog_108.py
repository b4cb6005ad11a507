"""testing/catalog_108.py: the generated ministry-scale catalogue (issue 25) loads with the
real loader, every one of its 108 services is found first by a search of its own name in
Arabic and in English (also typed with the usual spelling variants) and is three taps deep,
ticket prefixes stay unique, and an office runs on it: tickets and applications through the
real core operations."""
import json
import re
import tomllib

import pytest

from core import service_search as ss
from core.catalog import PREFIX_RE, load_catalog, parse_service
from core.credentials import ceremony
from core.office import Office
from core.settings import load_settings
from core.text import with_check_digit
from testing.catalog_108 import SECTORS, services_108, to_toml, write_catalog_108

ARABIC = re.compile(r"[\u0600-\u06ff]")
SHIPPED = ("residence-certificate", "address-form", "building-permit-small",
           "excavation-permit", "road-works-permit", "drawings-amendment-permit",
           "building-completion-certificate", "building-land-tax")


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return write_catalog_108(tmp_path_factory.mktemp("catalog108"))


@pytest.fixture(scope="module")
def catalog(directory):
    return load_catalog(directory)


def arabic_variant(name: str) -> str:
    """How a resident might type it: bare alef for hamza forms, ha for ta marbuta, ya for
    alef maqsura, hamza on the line dropped, a tatweel and a few harakat added."""
    typed = name.translate(str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي",
                                          "ء": ""}))
    words = typed.split()
    words[0] = words[0][0] + "ـ" + words[0][1:] + "َ"
    return " ".join(words)


def english_variant(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9² ]", " ", name).upper() + "."


def test_the_loader_loads_108_services_in_three_sectors(catalog):
    assert len(catalog) == 108
    by_sector = {}
    for s in catalog:
        by_sector.setdefault(s.sector.code, []).append(s)
    assert set(by_sector) == set(SECTORS) and all(len(v) == 36 for v in by_sector.values())
    assert {s.sector.en for s in catalog} == {"Municipal affairs", "Urban planning",
                                             "Agriculture and marine resources"}
    for s in catalog:
        assert ARABIC.search(s.name.ar) and not ARABIC.search(s.name.en)
        assert ARABIC.search(s.category.ar) and not ARABIC.search(s.category.en)
    for lang in ("ar", "en"):  # no two services read alike, even folded for search
        folded = [tuple(ss.words(s.name.get(lang))) for s in catalog]
        assert len(set(folded)) == 108


def test_the_shipped_eight_are_among_them_unchanged(catalog):
    shipped = load_catalog()
    for s in shipped:
        assert catalog.get(s.code).to_settings() == s.to_settings()
    assert [s.code for s in catalog][:8] == list(SHIPPED)


def test_every_service_survives_the_hubs_settings_round_trip(catalog):
    for s in catalog:  # core/faces/device.py sends to_settings(); hubclient parses them
        again = parse_service(json.loads(json.dumps(s.to_settings())), "hub service")
        assert (again.sector, again.category, again.name, again.fields, again.documents) == \
            (s.sector, s.category, s.name, s.fields, s.documents)


def test_ticket_prefixes_and_codes_are_unique(catalog):
    prefixes = [s.prefix for s in catalog]
    assert len(set(prefixes)) == 108 and all(PREFIX_RE.match(p) for p in prefixes)
    assert len({s.code for s in catalog}) == 108
    # a licence type per category: a device certificate lists a few dozen, not 108
    assert len({s.licence_type for s in catalog}) <= 30


def test_every_service_is_found_first_by_its_own_name_in_both_languages(catalog):
    missed = []
    for s in catalog:
        for lang, typed in (("ar", s.name.ar), ("en", s.name.en),
                            ("ar", arabic_variant(s.name.ar)),
                            ("en", english_variant(s.name.en))):
            found = ss.search(catalog, typed, lang, limit=3)
            if not found or found[0].code != s.code:
                missed.append((s.code, typed, [f.code for f in found]))
    assert missed == []


def test_every_service_is_at_most_three_taps_deep_without_scrolling(catalog):
    usage = {s.code: (i * 37) % 11 for i, s in enumerate(catalog)}
    for tree in (ss.browse(catalog), ss.browse(catalog, usage)):
        assert len(tree) == 3
        assert ss.crowded(tree) == []  # every level fits one screen (SCREEN_CHOICES)
        assert {ss.taps_to(tree, s.code) for s in catalog} == {3}
        assert sorted(s.code for sec in tree for c in sec.categories for s in c.services) == \
            sorted(s.code for s in catalog)
    tree = ss.browse(catalog, usage)
    for sector in tree:
        uses = [c.uses for c in sector.categories]
        assert uses == sorted(uses, reverse=True)
        for category in sector.categories:
            counts = [usage[s.code] for s in category.services]
            assert counts == sorted(counts, reverse=True)


def test_the_files_are_the_same_every_run(tmp_path, directory):
    again = write_catalog_108(tmp_path / "again")
    first = sorted(p.name for p in directory.glob("*.toml"))
    assert first == sorted(p.name for p in again.glob("*.toml")) and len(first) == 108
    for name in first:
        assert (directory / name).read_bytes() == (again / name).read_bytes()
    raw = services_108()[40]
    assert tomllib.loads(to_toml(raw)) == raw


def test_an_office_runs_on_it(tmp_path, directory, catalog, clock, ids, root_key):
    settings = load_settings(tmp_path / "data", environ={})
    settings.catalog_dir = directory
    ceremony.setup_device(settings.data_dir, root_key, settings.device.id, settings.office.code,
                          sorted({s.licence_type for s in catalog}),
                          int(clock.now().timestamp()))
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        assert len(office.catalog) == 108
        one_per_category = {}
        for s in catalog:
            one_per_category.setdefault((s.sector.code, s.category.code), s)
        nid = with_check_digit("85010000", settings.validation.national_id_check)
        sample = {"text": "Sample text", "phone": "33334444", "block": "204", "road": "15",
                  "building": "1203A", "area_m2": "45", "money": "12.500", "national_id": nid}
        for s in one_per_category.values():
            ticket = office.queue.take_ticket(s.code)
            assert ticket["number"].startswith(s.prefix)
            values = {f.key: f.options[0].value if f.type == "choice" else sample[f.type]
                      for f in s.fields}
            app = office.applications.submit(s.code, values)
            assert app["service_code"] == s.code
    finally:
        office.close()
