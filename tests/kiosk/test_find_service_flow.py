"""Finding a service at the kiosk, without a window (kiosk/flow.py): the list as offered
(the 8 shipped services on one screen; 108 as sectors -> categories -> services, a level
with one choice skipped), Back up the levels, the search's states, most used first, and bad
taps and text refused without changing anything."""
from __future__ import annotations

import pytest

from core.catalog import load_catalog
from core.credentials import ceremony
from core.errors import InvalidState, NotFound
from core.faces.kiosk import KioskFace
from core.office import Office
from core.service_search import browse, taps_to
from core.settings import load_settings
from kiosk.flow import KioskFlow
from testing.catalog_108 import write_catalog_108
from ui.messages import field_error


class NoDevices:
    can_pay = False


class CountingFace(KioskFace):
    """The kiosk face, counting how often the usage is read (a query each time)."""
    reads = 0

    def service_usage(self):
        CountingFace.reads += 1
        return super().service_usage()


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return write_catalog_108(tmp_path_factory.mktemp("catalog108"))


@pytest.fixture
def office_108(tmp_path, directory, clock, ids, root_key):
    settings = load_settings(tmp_path / "data", environ={})
    settings.catalog_dir = directory
    ceremony.setup_device(settings.data_dir, root_key, settings.device.id, settings.office.code,
                          sorted({s.licence_type for s in load_catalog(directory)}),
                          int(clock.now().timestamp()))
    office = Office.open(settings, clock=clock, ids=ids)
    yield office
    office.close()


def test_eight_services_fit_one_screen_most_used_first_and_no_search(office):
    office.queue.take_ticket("building-land-tax")
    flow = KioskFlow(KioskFace(office), NoDevices(), "ar")
    flow.start("ticket")
    level, services = flow.browse_level()
    assert level == "services" and len(services) == 8
    assert services[0].code == "building-land-tax"  # used once: first; then catalogue order
    assert [s.code for s in services[1:3]] == ["residence-certificate", "address-form"]
    assert not flow.can_search
    with pytest.raises(InvalidState):
        flow.open_search()
    assert flow.screen == "services"
    flow.back()
    assert flow.screen == "home"


def test_108_services_three_taps_back_up_the_levels(office_108):
    office_108.queue.take_ticket(_code(office_108, "urban-planning", 2))
    flow = KioskFlow(CountingFace(office_108), NoDevices(), "en")
    flow.monotonic = lambda: 0.0
    CountingFace.reads = 0
    flow.start("apply")
    level, sectors = flow.browse_level()
    assert level == "sectors" and len(sectors) == 3
    assert sectors[0].code == "urban-planning"  # most used first
    assert flow.can_search
    flow.choose_sector("agriculture-and-marine-resources")
    level, categories = flow.browse_level()
    assert level == "categories" and 2 <= len(categories) <= 8
    flow.choose_category(categories[1].code)
    level, services = flow.browse_level()
    assert level == "services" and services == list(categories[1].services)
    flow.choose_service(services[0].code)  # the third tap
    assert flow.screen == "service" and flow.visit.chosen_on == "services"
    assert taps_to(browse(office_108.catalog), services[0].code) == 3
    flow.back()
    assert flow.screen == "services" and flow.browse_level()[0] == "services"
    flow.back()
    assert flow.browse_level()[0] == "categories"
    flow.back()
    assert flow.browse_level()[0] == "sectors"
    flow.back()
    assert flow.screen == "home"
    flow.start("ticket")  # the next resident: usage read once per USAGE_MAX_AGE_S
    assert CountingFace.reads == 1
    flow.monotonic = lambda: 601.0
    flow.start("ticket")
    assert CountingFace.reads == 2


def test_a_sector_with_one_category_is_skipped_and_back_passes_over_it(office_108):
    flow = KioskFlow(KioskFace(office_108), NoDevices(), "ar")
    flow.start("ticket")
    tree = flow.catalogue_view()
    # A tree with one sector of one category: straight to its services (1 tap).
    flow._view = [type(tree[0])(tree[0].group, tree[0].categories[:1], 0)]
    flow._view_key = (tuple(map(id, flow.backend.services())), id(flow._usage))
    level, services = flow.browse_level()
    assert level == "services" and services == list(tree[0].categories[0].services)
    flow.back()
    assert flow.screen == "home"


def test_search_states_and_refused_text_change_nothing(office_108):
    flow = KioskFlow(KioskFace(office_108), NoDevices(), "ar")
    flow.start("ticket")
    flow.open_search()
    assert flow.screen == "search" and flow.search_state == "empty"
    flow.type_search("اثبات سكن")  # no hamza: still the residence certificate
    assert flow.visit.search_results[0] == "residence-certificate"
    assert flow.search_state == "found"
    before = (flow.visit.search, list(flow.visit.search_results))
    flow.type_search("ب" * 500)  # a stuck key or a paste: core refuses more than 100
    assert flow.search_state == "error" and flow.visit.search_error.problem == "too_long"
    assert (flow.visit.search, flow.visit.search_results) == before
    # The search screen says it in the resident's words (ui.messages, as a form field's).
    assert "100" in field_error(flow.visit.search_error, None, "en")
    assert "100" in field_error(flow.visit.search_error, None, "ar")
    flow.type_search("\u064e\u0650\u0651")  # only diacritics: "type a word"
    assert flow.search_state == "no_words" and flow.visit.search_results == []
    flow.type_search("permit حفريات")  # Latin and Arabic mixed: both must match
    assert flow.visit.search_results[0] == "excavation-permit"
    flow.type_search("zzzz")
    assert flow.search_state == "no_match"
    flow.type_search("residence")
    flow.choose_service("residence-certificate")
    assert flow.screen == "priority" and flow.visit.chosen_on == "search"
    flow.back()
    assert flow.screen == "search"
    flow.back()
    assert flow.screen == "services"


def test_a_tap_on_a_group_not_on_the_screen_is_refused(office_108):
    flow = KioskFlow(KioskFace(office_108), NoDevices(), "ar")
    flow.start("ticket")
    with pytest.raises(NotFound):
        flow.choose_category("certificates")  # sectors are showing, not categories
    with pytest.raises(NotFound):
        flow.choose_sector("nowhere")
    assert (flow.visit.sector, flow.visit.category) == (None, None)
    assert flow.browse_level()[0] == "sectors"


def _code(office, sector: str, n: int) -> str:
    return [s.code for s in office.catalog if s.sector.code == sector][n]
