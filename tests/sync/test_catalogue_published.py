"""One truth at the office: after a sync, what an office lists (CLI, kiosk) and what it
charges (apply) are what central published; a service central withdrew from an office is
neither listed nor applied for there; an application made before a fee change keeps its fee."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from central.catalogue import Catalogue
from core.errors import ValidationError
from core.faces.kiosk import KioskFace
from nafitha.cli import cli
from sync.agent import SyncAgent
from ui.messages import format_money

from test_roundtrip import FORM, nid

RC, EXC = "residence-certificate", "excavation-permit"
DIG = {**FORM, "parcel": "02-1234", "depth_description": "1.5 m"}


def catalog_list(office) -> dict:
    """`nafitha catalog list --json` on the office's own data directory."""
    env = {"NAFITHA_DATA": None, "NAFITHA_CONFIG": None,
           "NAFITHA_OFFICE__CODE": office.settings.office.code,
           "NAFITHA_DEVICE__ID": office.settings.device.id}
    result = CliRunner().invoke(cli, ["--data", str(office.settings.data_dir), "catalog",
                                      "list", "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {s["code"]: s for s in json.loads(result.output)}


def kiosk_list(office) -> dict:
    return {s.code: format_money(s.fee_minor, s.currency, "en", "latin")
            for s in KioskFace(office).services()}


@pytest.fixture
def world(two_offices):
    return two_offices(("MUH", "D01"), ("RIF", "K01"))


def test_a_published_fee_and_withdrawal_reach_what_the_office_shows_and_charges(world):
    central, _, north, south = world
    for office in (north, south):
        SyncAgent(office).once()
    before = north.applications.submit(RC, {**FORM, "national_id": nid(1)})
    assert before["fee_minor"] == 1000
    assert catalog_list(north)[RC]["fee"]["display"] == "1.000 BHD"

    catalogue = Catalogue(central)
    catalogue.change(RC, by="fatima", fee="1.500")
    catalogue.change(EXC, by="fatima", offices=["RIF"])
    for office in (north, south):
        assert SyncAgent(office).once()["pulled"]["services"] == 2

    # The north shows and charges central's fee, everywhere.
    listed = catalog_list(north)
    assert listed[RC]["fee"]["display"] == "1.500 BHD" and listed[RC]["offered_here"]
    assert kiosk_list(north)[RC] == "1.500 BHD"
    after = north.applications.submit(RC, {**FORM, "national_id": nid(2)})
    assert after["fee_minor"] == 1500
    # The excavation permit is withdrawn from the north only.
    assert listed[EXC]["offered_here"] is False
    assert EXC not in kiosk_list(north)
    count = north.store.one("SELECT COUNT(*) AS n FROM applications")["n"]
    with pytest.raises(ValidationError) as refused:
        north.applications.submit(EXC, {**DIG, "national_id": nid(3)})
    assert refused.value.details["reason"] == "not_offered"
    with pytest.raises(ValidationError):
        north.queue.take_ticket(EXC)
    assert north.store.one("SELECT COUNT(*) AS n FROM applications")["n"] == count
    assert catalog_list(south)[EXC]["offered_here"] is True and EXC in kiosk_list(south)
    assert south.applications.submit(EXC, {**DIG, "national_id": nid(4)})["state"] == \
        "submitted"

    # Submitted before the change: it keeps its fee, and is paid at it.
    assert north.applications.get(before["id"])["fee_minor"] == 1000
    north.users.create("sara", "clerk", "1234")
    north.payments.open_shift("sara", 20_000)
    paid = north.payments.take(before["id"], "cash", "sara", tendered_minor=1000)
    assert paid["amount_minor"] == 1000

    # A restart reads the same catalogue from the store (central's over the shipped files).
    north.reload_catalog()
    assert north.catalog.get(RC).fee_minor == 1500
    assert not north.catalog.get(EXC).offered_at("MUH")


def test_the_cli_refuses_applying_for_a_withdrawn_service(world):
    central, _, north, _ = world
    Catalogue(central).change(EXC, by="fatima", offices=["RIF"])
    SyncAgent(north).once()
    args = ["--data", str(north.settings.data_dir), "apply", EXC]
    for key, value in {**DIG, "national_id": nid(5)}.items():
        args += ["-f", f"{key}={value}"]
    result = CliRunner().invoke(cli, args, env={
        "NAFITHA_DATA": None, "NAFITHA_CONFIG": None, "NAFITHA_OFFICE__CODE": "MUH",
        "NAFITHA_DEVICE__ID": "D01"}, catch_exceptions=False)
    assert result.exit_code == 1 and "not offered at office MUH" in result.output
    assert north.store.one("SELECT COUNT(*) AS n FROM applications")["n"] == 0
