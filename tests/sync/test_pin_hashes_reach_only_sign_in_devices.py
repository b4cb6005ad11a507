"""The office's accounts and PIN hashes reach only the devices that sign clerks in (a hub or
a counter); a kiosk or a board of the same office never holds one, not even after a full
resync. Central refuses an unknown role and a supervisor PIN shorter than 6 digits."""
import pytest

from central.service import CentralError
from sync.agent import SyncAgent


@pytest.fixture
def office_of_four(make_central, make_office, serve):
    central = make_central()
    server = serve(central)
    central.add_user("MUH", "sara", "clerk", "2468")
    central.add_user("MUH", "huda", "supervisor", "135791")
    devices = {role: make_office(central, server.url, device=device, role=role, seed=n)
               for n, (role, device) in enumerate([("hub", "H01"), ("counter", "C01"),
                                                   ("kiosk", "K01"), ("board", "B01")])}
    for office in devices.values():
        SyncAgent(office).once()
    return central, devices


def everything_in(office) -> str:
    return "\n".join(office.store.conn.iterdump())


def test_only_hubs_and_counters_receive_accounts(office_of_four):
    central, devices = office_of_four
    for role in ("hub", "counter"):
        office = devices[role]
        assert office.users.authenticate("sara", "2468")["role"] == "clerk"
        assert office.users.authenticate("huda", "135791", role="supervisor")
    for role in ("kiosk", "board"):
        office = devices[role]
        assert office.users.list() == []
        assert "scrypt$" not in everything_in(office)  # no hash anywhere in the file
        assert office.store.one("SELECT COUNT(*) AS n FROM reference WHERE kind = 'user'"
                                )["n"] == 0


def test_a_full_resync_and_later_accounts_still_skip_the_kiosk(office_of_four):
    from core import sync_state

    central, devices = office_of_four
    central.add_user("MUH", "omar", "clerk", "1357")
    central.disable_user("MUH", "sara")
    kiosk, hub = devices["kiosk"], devices["hub"]
    sync_state.put(kiosk.store, cursor=10_000)  # ahead of central: a full snapshot
    assert SyncAgent(kiosk).pull()["full"] is True
    SyncAgent(hub).once()
    assert kiosk.users.list() == [] and "scrypt$" not in everything_in(kiosk)
    assert {u["username"] for u in hub.users.list() if not u["disabled_at"]} == {"huda",
                                                                                 "omar"}


@pytest.mark.parametrize("role", ["admin", "", None, "HUB"])
def test_an_enrol_code_needs_a_known_role(make_central, role):
    central = make_central()
    with pytest.raises(CentralError) as refused:
        central.enrol_code("MUH", role=role)
    assert (refused.value.status, refused.value.code) == (422, "invalid_role")


@pytest.mark.parametrize("role, pin", [("supervisor", "1357"), ("supervisor", "12345"),
                                       ("clerk", "123"), ("clerk", "123456789"),
                                       ("clerk", "12a4")])
def test_central_refuses_pins_the_role_does_not_allow(make_central, role, pin):
    central = make_central()
    with pytest.raises(CentralError) as refused:
        central.add_user("MUH", "sara", role, pin)
    assert (refused.value.status, refused.value.code) == (422, "invalid_pin")
    assert f"digits for a {role}" in refused.value.message
