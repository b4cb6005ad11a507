"""Issue 26's whole journey, each part real: a resident books at central (its HTTP API), the
office pulls the booking (the sync agent, real HTTP), the resident checks in by the booking's
QR at a kiosk paired with the hub (the kiosk face over HTTPS, as the kiosk's camera hands it
the QR text), follows the queue on a phone in Arabic (Chromium at phone size, the hub's plain
port), asks there for a text, gets "your turn is near" through the gateway simulator (which
first times out: the resend is not a second SMS), and is called to counter 3, live on the
phone and by SMS. Central then holds the booking as checked in, with the ticket's number.

The camera-to-QR step of the kiosk itself is tests/ui/test_kiosk_appointment.py's; the
counter's call through its own app is the counter suites'."""
from __future__ import annotations

import random
import re

import pytest
import requests
from board_browser import ARGS, CHROMIUM
from central_servers import ServerThread
from hubrig import RunningHub
from playwright import sync_api

from central import appointments as ap
from central.app import create_app as central_app
from central.service import Central
from core.clock import UlidFactory
from core.coordinator import IDLE, Unavailable
from core.office import Office
from core.settings import load_settings
from core.text import with_check_digit
from devices.messaging import HttpGateway
from devices.messaging.sender import MessageSender
from devices.messaging.simulator import GatewaySimulator
from sync.agent import SyncAgent, enrol

SERVICE = "residence-certificate"
ARABIC = re.compile("[\u0600-\u06ff]")
NATIONAL_ID = with_check_digit("85030001", "luhn")
PHONE = "36001234"


@pytest.fixture
def world(tmp_path, clock):
    central, _token = Central.init_root(tmp_path / "central", None, clock=clock)
    server = ServerThread(central_app(central)).start()
    settings = load_settings(tmp_path / "office", environ={
        "NAFITHA_OFFICE__CODE": "MUH", "NAFITHA_DEVICE__ID": "D01"})
    enrol(settings, server.url, central.enrol_code("MUH", role="hub")["code"])
    office = Office.open(settings, clock=clock, ids=UlidFactory(clock, random.Random(26)))
    sim = GatewaySimulator(delay_s=0.6).start()
    office.settings.messages.gateway = "http"
    office.settings.messages.url, office.settings.messages.api_key = sim.http_url, sim.api_key
    hub = RunningHub(office)
    office.settings.hub.public_url = hub.board_url  # what the slip's QR would carry
    yield central, server, office, hub, sim
    hub.stop()
    sim.stop()
    office.close()
    server.stop()
    central.close()


@pytest.fixture
def phone(tmp_path):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "phone-profile"), executable_path=CHROMIUM, headless=True,
            args=ARGS, viewport={"width": 360, "height": 740}, locale="ar-BH",
            bypass_csp=True, has_touch=True, is_mobile=True)
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()


def shows(page, predicate: str):
    page.wait_for_function(f"() => {{ const t = window.phoneTest.state; "
                           f"return t && ({predicate}); }}", timeout=5_000)


def test_book_check_in_by_qr_follow_in_arabic_be_told_and_called(world, phone, clock, tmp_path):
    central, server, office, hub, sim = world
    # 1. Central: the office takes bookings 08:00-14:00 (Bahrain); the clock reads 11:00.
    ap.set_plan(central, "MUH", SERVICE, "sun-thu 08:00-14:00", 30, 2)
    slots = requests.get(f"{server.url}/v1/appointments/slots", params={
        "office": "MUH", "service": SERVICE, "day": "2026-11-24"}, timeout=5).json()
    noon = next(s for s in slots["slots"] if "T12:00:00" in s["start"])
    booking = requests.post(f"{server.url}/v1/appointments", json={
        "office": "MUH", "service": SERVICE, "slot_start": noon["start"],
        "national_id": NATIONAL_ID}, timeout=5)
    assert booking.status_code == 200, booking.text
    booking = booking.json()
    assert booking["qr"] == f"NFB:MUH:{booking['reference']}"
    # 2. The office pulls it (and nothing of the resident but the ID's salted hash).
    SyncAgent(office).once()
    assert office.appointments.booking(booking["reference"])["state"] == "booked"
    # Six walk-ins come before the resident, who arrives ten minutes early.
    clock.set("2026-11-24T08:50:00+00:00")  # 11:50 in Bahrain
    for _ in range(6):
        office.queue.take_ticket(SERVICE)
        clock.advance(5)
    # 3. Check-in at the kiosk by the booking's QR and the national ID.
    kiosk = hub.kiosk(tmp_path, "kiosk-1")
    ticket = kiosk.check_in_appointment(booking["qr"], NATIONAL_ID)
    assert ticket["people_ahead"] == 6
    # 4. The phone follows it, in Arabic, from the slip's link (the hub's plain port).
    url = office.follow.url(ticket["id"])
    assert url.startswith(hub.board_url + "/q/")
    assert phone.goto(url).status == 200
    phone.wait_for_function("window.phoneTest && window.phoneTest.connected")
    assert phone.evaluate("document.documentElement.dir") == "rtl"
    assert phone.inner_text("#number") == ticket["number"]
    assert phone.inner_text("#ahead") == "6"
    # ...and asks for a text when the turn is near, agreeing to it.
    phone.wait_for_selector("#sms:not([hidden])")
    phone.fill("#sms-number", PHONE)
    phone.check("#sms-consent")
    phone.click("#sms-send")
    phone.wait_for_selector("#sms-done:not([hidden])")
    sender = MessageSender(office, HttpGateway(sim.http_url, sim.api_key, timeout_s=0.3))
    assert sender.poll() is IDLE and sim.submissions == []  # six ahead: nothing due yet
    # 5. Counters 1 and 2 serve walk-ins until three are ahead: "your turn is near".
    for counter in ("1", "2", "1"):
        called = office.queue.call_next(counter, [SERVICE])
        office.queue.finish(called["id"])
    shows(phone, "t.people_ahead === 3")
    assert phone.inner_text("#headline") == "اقترب دورك"
    sim.play("timeout")  # the gateway takes it but answers too late
    with pytest.raises(Unavailable):
        sender.poll()
    clock.advance(10)  # past the retry's wait: resent under the same reference
    sender.poll()
    assert [d["ref"] for d in sim.delivered] == [sim.delivered[0]["ref"]]  # one SMS
    near = sim.delivered[0]
    assert near["to"] == "+97336001234"
    assert ARABIC.search(near["text"]) and ticket["number"] in near["text"]
    assert NATIONAL_ID not in near["text"]
    assert [s["outcome"] for s in sim.submissions] == ["timeout", "duplicate"]
    # 6. The others are served; counter 3 calls the resident: the phone shows it at once,
    # and the "called" text goes out once.
    for counter in ("1", "2", "1"):
        called = office.queue.call_next(counter, [SERVICE])
        office.queue.finish(called["id"])
    assert office.queue.call_next("3", [SERVICE])["id"] == ticket["id"]
    shows(phone, "t.state === 'called'")
    assert phone.inner_text("#headline") == "تفضل إلى الشباك 3"
    sender.poll()
    sender.poll()
    assert len(sim.delivered) == 2
    assert "3" in sim.delivered[1]["text"] and ticket["number"] in sim.delivered[1]["text"]
    assert ARABIC.search(sim.delivered[1]["text"])
    # Central learns the check-in on the next push.
    SyncAgent(office).once()
    day = ap.bookings(central, "MUH", "2026-11-24")
    assert [(b["state"], b.get("ticket_number")) for b in day] == \
        [("checked_in", ticket["number"])]
