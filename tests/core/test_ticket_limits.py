"""A service's daily ticket cap and cut-off (core/ticket_limits.py, docs/queue.md "Daily cap
and cut-off"): refused at exactly the cap and from the cut-off's minute, counted per office-
local day, cancelled tickets still counting; a cap of zero or less refused by the loader."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from core import ticket_limits
from core.catalog import DEFAULT_CATALOG_DIR, QueueRules, catalog_of, load_catalog
from core.errors import CatalogError, InvalidState
from core.faces.kiosk import KioskFace
from core.office import Office
from store_rows import all_rows


def capped(**rules) -> object:
    """The shipped catalogue with the residence certificate's queue rules replaced."""
    return catalog_of([replace(s, queue=QueueRules(**rules))
                       if s.code == "residence-certificate" else s for s in load_catalog()])


@pytest.fixture
def open_office(settings, clock, ids, certified):
    opened = []

    def make(**rules) -> Office:
        office = Office.open(settings, clock=clock, ids=ids, catalog=capped(**rules))
        opened.append(office)
        return office
    yield make
    for office in opened:
        office.close()


def refused(office, reason: str) -> InvalidState:
    before = all_rows(office.store)
    with pytest.raises(InvalidState) as caught:
        office.queue.take_ticket("residence-certificate")
    assert caught.value.details["reason"] == reason
    assert all_rows(office.store) == before  # nothing written: no ticket, no number, no event
    return caught.value


def test_the_cap_is_reached_at_exactly_n_and_cancelled_tickets_count(open_office, clock):
    office = open_office(daily_cap=3)
    first = office.queue.take_ticket("R")
    office.queue.take_ticket("R")
    office.queue.cancel(first["id"])  # a cancelled ticket was still handed out
    assert ticket_limits.availability(office, office.catalog.get("R"))["taken"] == 2
    third = office.queue.take_ticket("R")  # the third of three is given
    assert third["number"] == "R003"
    error = refused(office, "service_full_today")
    assert error.details["daily_cap"] == 3 and error.details["service"] == \
        "residence-certificate"
    # other services are not capped
    assert office.queue.take_ticket("B")["number"].startswith("B")
    states = {s["service"]: s["state"] for s in ticket_limits.offered_today(office)}
    assert states["residence-certificate"] == "full" and states["building-permit-small"] == \
        "open"


def test_a_ticket_transferred_in_does_not_use_the_cap(open_office):
    office = open_office(daily_cap=1)
    other = office.queue.take_ticket("B")
    office.queue.call_next("5", ["B"])
    office.queue.transfer(other["id"], "R")  # keeps its number B...: counted where taken
    assert office.queue.take_ticket("R")["number"] == "R001"


def test_the_cut_off_refuses_from_its_minute(open_office, clock):
    # The clock starts at 08:00 UTC = 11:00 in Bahrain (UTC+3).
    office = open_office(cutoff="13:30")
    clock.set("2026-11-24T10:29:59+00:00")  # 13:29:59 local: still taken
    assert office.queue.take_ticket("R")["number"] == "R001"
    clock.set("2026-11-24T10:30:00+00:00")  # 13:30:00 local: refused
    error = refused(office, "service_closed_today")
    assert error.details["cutoff"] == "13:30"
    assert ticket_limits.availability(office, office.catalog.get("R"))["state"] == "closed"


def test_a_new_local_day_opens_again(open_office, clock):
    office = open_office(daily_cap=1, cutoff="13:30")
    clock.set("2026-11-24T20:59:00+00:00")  # 23:59 local on the 24th: past the cut-off
    refused(office, "service_closed_today")
    clock.set("2026-11-24T21:00:00+00:00")  # 00:00 local on the 25th (still the 24th in UTC)
    ticket = office.queue.take_ticket("R")
    assert ticket["day"] == "2026-11-25"
    clock.set("2026-11-24T21:30:00+00:00")  # the cap of the 25th is used up
    refused(office, "service_full_today")


def test_the_kiosk_face_says_which_services_are_finished(open_office, clock):
    office = open_office(daily_cap=1)
    face = KioskFace(office)
    assert {s["service"]: s["state"] for s in face.services_today()}[
        "residence-certificate"] == "open"
    face.take_ticket("R")
    today = {s["service"]: s for s in face.services_today()}
    assert today["residence-certificate"]["state"] == "full"
    assert today["residence-certificate"]["taken"] == 1
    with pytest.raises(InvalidState) as caught:
        face.take_ticket("R")
    assert caught.value.details["reason"] == "service_full_today"


@pytest.mark.parametrize("value", ["0", "-5", "10001", "true", '"150"', "1.5"])
def test_a_cap_of_zero_or_less_is_refused_by_the_loader(tmp_path, value):
    directory = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, directory)
    path = directory / "01-residence-certificate.toml"
    # the queue table goes before the first [[table]] (a key after one would be its key)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[[documents]]", f"queue = {{ daily_cap = {value} }}\n\n"
                                 "[[documents]]", 1), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    assert "daily_cap" in caught.value.message and path.name in caught.value.message


def test_a_good_queue_table_loads(tmp_path):
    directory = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, directory)
    path = directory / "01-residence-certificate.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[[documents]]", 'queue = { daily_cap = 150, cutoff = '
                                 '"13:30" }\n\n[[documents]]', 1), encoding="utf-8")
    rules = load_catalog(directory).get("R").queue
    assert (rules.daily_cap, rules.cutoff) == (150, "13:30")


def test_through_the_hub_a_kiosk_hears_the_same(open_office, tmp_path):
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hub"))
    from hubrig import RunningHub

    office = open_office(daily_cap=1, cutoff="13:30")
    hub = RunningHub(office)
    try:
        kiosk = hub.kiosk(tmp_path, "kiosk-1")
        kiosk.take_ticket("R")
        today = {s["service"]: s for s in kiosk.services_today()}
        assert (today["residence-certificate"]["state"], today["residence-certificate"]
                ["taken"]) == ("full", 1)
        before = all_rows(office.store)
        with pytest.raises(InvalidState) as caught:
            kiosk.take_ticket("R")
        assert caught.value.details["reason"] == "service_full_today"
        assert all_rows(office.store) == before
    finally:
        hub.stop()
