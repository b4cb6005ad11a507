"""The SMS gateways against the loopback simulator (devices/messaging, docs/messages.md): the
HTTP client and the SMPP client with each fault, and the sender loop end to end: nothing
sent twice (a timeout then a resend under the same ref is delivered once), throttling
retried later, a duplicate taken as sent, nothing sent after its moment."""
import pytest

from core.coordinator import IDLE, RETRY
from devices.messaging import (GatewayDuplicate, GatewayRejected, GatewayThrottled,
                               GatewayTimeout, GatewayUnavailable, HttpGateway, SmppGateway,
                               open_gateway)
from devices.messaging.fakes import RecordingGateway
from devices.messaging.sender import sender_loop
from devices.messaging.simulator import GatewaySimulator

PHONE = "+97336001234"
ARABIC = "مركز خدمات المحرق: حان دورك. التذكرة R012، توجه إلى الشباك 3."
RES = "residence-certificate"
TIMEOUT_S = 0.3


@pytest.fixture
def sim():
    with GatewaySimulator(delay_s=TIMEOUT_S * 2) as simulator:
        yield simulator


@pytest.fixture
def http(sim):
    gateway = HttpGateway(sim.http_url, sim.api_key, timeout_s=TIMEOUT_S)
    yield gateway
    gateway.close()


@pytest.fixture
def smpp(sim):
    gateway = SmppGateway("127.0.0.1", sim.smpp_port, sim.system_id, sim.password, "Nafitha",
                          timeout_s=TIMEOUT_S, dedupes=True)
    yield gateway
    gateway.close()


@pytest.fixture(params=["http", "smpp"])
def gateway(request, http, smpp):
    return {"http": http, "smpp": smpp}[request.param]


# --- both clients, each fault -----------------------------------------------------------------
def test_a_message_is_delivered_once_with_its_text_and_id(sim, gateway):
    gateway_id = gateway.send("t:1:called:1", PHONE, ARABIC)
    assert gateway_id.startswith("SIM")
    assert sim.delivered == [{**sim.delivered[0], "ref": "t:1:called:1", "to": PHONE,
                              "text": ARABIC, "id": gateway_id}]


def test_whatsapp_goes_through_the_http_provider_named_as_its_channel(sim):
    """WhatsApp where residents use it: the same JSON with "channel": "whatsapp"; SMS sends
    no channel (a provider that knows none is not confused by it)."""
    whatsapp = HttpGateway(sim.http_url, sim.api_key, timeout_s=TIMEOUT_S, channel="whatsapp")
    sms = HttpGateway(sim.http_url, sim.api_key, timeout_s=TIMEOUT_S)
    try:
        whatsapp.send("wa-1", PHONE, ARABIC)
        sms.send("sms-1", PHONE, ARABIC)
    finally:
        whatsapp.close()
        sms.close()
    assert [(d["ref"], d["channel"]) for d in sim.delivered] == \
        [("wa-1", "whatsapp"), ("sms-1", "sms")]


def test_the_settings_channel_reaches_the_gateway(sim):
    from core.settings import MessageSettings
    gateway = open_gateway(MessageSettings(gateway="http", url=sim.http_url,
                                           api_key=sim.api_key, channel="whatsapp"))
    try:
        gateway.send("wa-2", PHONE, "Ticket R012: counter 3")
    finally:
        gateway.close()
    assert sim.delivered[-1]["channel"] == "whatsapp"


def test_smpp_sends_arabic_as_ucs2_and_latin_as_gsm(sim, smpp):
    smpp.send("ar-1", PHONE, ARABIC)
    smpp.send("en-1", PHONE, "Ticket R012: counter 3")
    assert [(d["text"], d["data_coding"]) for d in sim.delivered] == \
        [(ARABIC, 8), ("Ticket R012: counter 3", 0)]


def test_a_long_message_goes_whole(sim, gateway):
    text = ARABIC * 3  # UCS2 past 140 octets: SMPP's message_payload
    gateway.send("long-1", PHONE, text)
    assert sim.delivered[0]["text"] == text


def test_timeout_then_a_resend_under_the_same_ref_is_delivered_once(sim, gateway):
    sim.play("timeout")
    with pytest.raises(GatewayTimeout):
        gateway.send("ref-t", PHONE, "hello")
    assert sim.refs() == ["ref-t"]  # it went, though the answer never came in time
    if gateway.name == "http":
        with pytest.raises(GatewayDuplicate) as dup:
            gateway.send("ref-t", PHONE, "hello")
        assert dup.value.gateway_id == sim.delivered[0]["id"]
    else:  # an SMSC that de-duplicates acknowledges the first message again
        assert gateway.send("ref-t", PHONE, "hello") == sim.delivered[0]["id"]
    assert sim.refs() == ["ref-t"]
    assert [s["outcome"] for s in sim.submissions] == ["timeout", "duplicate"]


def test_throttling_says_when_to_come_back_and_delivers_nothing(sim, gateway):
    sim.play("throttle")
    with pytest.raises(GatewayThrottled) as err:
        gateway.send("ref-th", PHONE, "hello")
    assert err.value.retry_after == (2.0 if gateway.name == "http" else 10.0)
    assert sim.delivered == []
    gateway.send("ref-th", PHONE, "hello")
    assert sim.refs() == ["ref-th"]


def test_a_rejected_message_is_a_permanent_refusal(sim, gateway):
    sim.play("reject")
    with pytest.raises(GatewayRejected):
        gateway.send("ref-r", PHONE, "hello")
    assert sim.delivered == []


def test_a_gateway_fault_is_unavailable_not_rejected(sim, gateway):
    sim.play("error")
    with pytest.raises(GatewayUnavailable):
        gateway.send("ref-e", PHONE, "hello")
    assert sim.delivered == []


@pytest.mark.parametrize("ref, to, text", [("bad ref", PHONE, "x"), ("r", "36001234", "x"),
                                           ("r", PHONE, ""), ("r", PHONE, "x" * 1001)])
def test_bad_input_is_refused_before_anything_is_sent(sim, gateway, ref, to, text):
    with pytest.raises(GatewayRejected):
        gateway.send(ref, to, text)
    assert sim.submissions == []


def test_wrong_credentials_or_no_gateway_is_unavailable(sim):
    with pytest.raises(GatewayUnavailable):
        HttpGateway(sim.http_url, "wrong", timeout_s=TIMEOUT_S).send("r", PHONE, "x")
    wrong = SmppGateway("127.0.0.1", sim.smpp_port, sim.system_id, "wrong", timeout_s=TIMEOUT_S)
    with pytest.raises(GatewayUnavailable):
        wrong.send("r", PHONE, "x")
    with pytest.raises(GatewayUnavailable):
        HttpGateway("http://127.0.0.1:9/messages", "k", timeout_s=TIMEOUT_S).send("r", PHONE, "x")
    with pytest.raises(GatewayUnavailable):
        SmppGateway("127.0.0.1", 9, "s", "p", timeout_s=TIMEOUT_S).send("r", PHONE, "x")
    assert sim.delivered == []


def test_the_settings_choose_the_gateway(settings):
    m = settings.messages
    assert open_gateway(m) is None
    m.gateway, m.url = "http", "https://sms.example/send"
    assert isinstance(open_gateway(m), HttpGateway)
    m.gateway, m.host, m.smpp_dedupes = "smpp", "smsc.example", True
    gateway = open_gateway(m)
    assert isinstance(gateway, SmppGateway) and gateway.dedupes
    m.gateway = "simulated"
    gateway = open_gateway(m)
    try:
        gateway.send("demo-1", PHONE, "hello")
        assert gateway.simulator.refs() == ["demo-1"]
    finally:
        gateway.close()


# --- the sender loop through the simulator -------------------------------------------------
@pytest.fixture
def office_with_messages(office):
    office.settings.messages.gateway = "simulated"
    return office


def called_ticket(office, counter="3"):
    """A subscribed ticket, called: one 'called' message due."""
    ticket = office.queue.take_ticket(RES)
    office.messages.subscribe_ticket(ticket["id"], PHONE, "ar", consent_channel="kiosk")
    office.queue.call_next(counter, [RES])
    office.messages.queue_changed()
    return ticket


def loop_for(office, gateway):
    waits = []
    loop = sender_loop(office, gateway, sleep=waits.append)
    loop.waits = waits
    return loop


def test_the_sender_delivers_a_called_message_once(office_with_messages, sim, gateway):
    office = office_with_messages
    ticket = called_ticket(office)
    loop = loop_for(office, gateway)
    assert loop.step() == {"sent": 1, "failed": 0}
    assert loop.step() == IDLE
    [message] = office.messages.list()
    assert message["state"] == "sent" and message["gateway_id"] == sim.delivered[0]["id"]
    assert sim.refs() == [f"t:{ticket['id']}:called:1"]
    assert "الشباك 3" in sim.delivered[0]["text"]


def test_timeout_then_resend_through_the_sender_is_delivered_once(office_with_messages, sim,
                                                                  gateway, clock):
    office = office_with_messages
    called_ticket(office)
    loop = loop_for(office, gateway)
    sim.play("timeout")
    assert loop.step() == RETRY
    [message] = office.messages.list()
    assert (message["state"], message["last_error"], message["attempts"]) == \
        ("queued", "timeout", 1)
    clock.advance(5)
    assert loop.step() == {"sent": 1, "failed": 0}
    [message] = office.messages.list()
    assert message["state"] == "sent" and message["gateway_id"] == sim.delivered[0]["id"]
    assert len(sim.delivered) == 1 and len(sim.submissions) == 2


def test_throttling_is_retried_later(office_with_messages, sim, gateway, clock):
    office = office_with_messages
    called_ticket(office)
    loop = loop_for(office, gateway)
    sim.play("throttle")
    assert loop.step() == RETRY
    assert loop.waits[-1] >= sim.retry_after_s  # the loop waits at least what was asked
    assert loop.step() == IDLE  # not due yet: nothing is sent early
    assert len(sim.submissions) == 1
    clock.advance(10)
    assert loop.step() == {"sent": 1, "failed": 0}
    assert len(sim.delivered) == 1


def test_a_message_whose_moment_passed_never_reaches_the_gateway(office_with_messages, sim,
                                                                 gateway, clock):
    office = office_with_messages
    called_ticket(office)
    loop = loop_for(office, gateway)
    sim.play("error", "error")  # the link is down
    assert loop.step() == RETRY
    [message] = office.messages.list()
    assert message["attempts"] == 0  # nothing went: the attempt does not count
    clock.advance(121)  # past the called message's two minutes
    assert loop.step() == IDLE
    [message] = office.messages.list()
    assert message["state"] == "expired"
    assert sim.delivered == [] and len(sim.submissions) == 1


def test_a_gateway_that_does_not_deduplicate_is_never_sent_twice(office_with_messages, clock):
    office = office_with_messages
    called_ticket(office)
    with GatewaySimulator(delay_s=TIMEOUT_S * 2, dedupe=False) as plain:
        gateway = SmppGateway("127.0.0.1", plain.smpp_port, plain.system_id, plain.password,
                              timeout_s=TIMEOUT_S, dedupes=False)
        try:
            loop = loop_for(office, gateway)
            plain.play("timeout")
            assert loop.step() == RETRY
            clock.advance(60)
            assert loop.step() == IDLE
        finally:
            gateway.close()
    [message] = office.messages.list()
    assert message["state"] == "failed" and message["last_error"].startswith("timeout")
    assert len(plain.delivered) == 1 and len(plain.submissions) == 1


def test_a_duplicate_answer_counts_as_sent(office_with_messages, clock):
    office = office_with_messages
    ticket = called_ticket(office)
    fake = RecordingGateway()
    fake.send(f"t:{ticket['id']}:called:1", PHONE, "sent before a crash")
    loop = loop_for(office, fake)
    assert loop.step() == {"sent": 1, "failed": 0}
    [message] = office.messages.list()
    assert (message["state"], message["last_error"], message["gateway_id"]) == \
        ("sent", "duplicate", "REC1")
    assert len(fake.delivered) == 1


def test_a_rejected_message_fails_and_the_rest_are_still_sent(office_with_messages, clock):
    office = office_with_messages
    called_ticket(office, "1")
    office.settings.messages.per_number_per_hour = 10
    second = office.queue.take_ticket(RES)
    office.messages.subscribe_ticket(second["id"], "+97339998888", "en",
                                     consent_channel="counter")
    office.queue.call_next("2", [RES])
    office.messages.queue_changed()
    fake = RecordingGateway()
    fake.play("reject")
    assert loop_for(office, fake).step() == {"sent": 1, "failed": 1}
    states = sorted(m["state"] for m in office.messages.list())
    assert states == ["failed", "sent"]


def test_withdrawn_consent_between_queue_and_send_sends_nothing(office_with_messages, clock):
    office = office_with_messages
    called_ticket(office)
    office.messages.withdraw_consent(PHONE)
    fake = RecordingGateway()
    assert loop_for(office, fake).step() == IDLE
    assert fake.calls == []
    assert office.messages.list()[0]["state"] == "cancelled"


def test_the_loop_logs_once_while_the_gateway_is_away(office_with_messages, clock, caplog):
    office = office_with_messages
    called_ticket(office)
    fake = RecordingGateway()
    fake.play("unavailable", "unavailable", "unavailable")
    loop = loop_for(office, fake)
    with caplog.at_level("INFO", logger="nafitha.messages"):
        for _ in range(3):
            assert loop.step() == RETRY
        assert loop.step() == {"sent": 1, "failed": 0}
    words = [r.getMessage() for r in caplog.records]
    assert sum("retrying" in w for w in words) == 1
    assert words.count("messages via recording is back") == 1
    assert office.messages.list()[0]["attempts"] == 1


def test_where_the_sync_agent_runs_the_sender_runs_when_a_gateway_is_set(office, clock):
    import time

    from devices.messaging.sender import start_sender
    assert start_sender(office) is None  # messages.gateway none: no loop
    office.settings.messages.gateway = "simulated"
    called_ticket(office)
    stop = start_sender(office, idle_s=0.05)
    try:
        deadline = time.monotonic() + 5
        while office.messages.counts() != {"sent": 1} and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop()
    assert office.messages.counts() == {"sent": 1}
