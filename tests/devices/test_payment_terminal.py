"""The card terminal: SerialPaymentTerminal over a real pseudo-terminal to SimulatedTerminal
(pyserial's own Serial class on the slave device, nothing mocked)."""
import logging
import os
import threading
import time

import pytest

from core.settings import PaymentSettings
from devices.payment import (PaymentOutcome, PaymentTerminalError, PaymentTerminalOffline,
                             SerialPaymentTerminal, SimulatedTerminal, open_terminal)
from devices.payment.protocol import ACK, ETX, NAK, FrameReader, decode_frame, encode_frame, lrc

ACK_S = 0.1        # the frame layer's ACK timeout on both ends
OFFLINE_LIMIT_S = (1 + 3) * ACK_S + 0.5  # all tries of one frame, plus scheduling slack


@pytest.fixture
def sim():
    with SimulatedTerminal(ack_timeout_s=ACK_S) as terminal:
        yield terminal


def client(port, **kw):
    kw = {"timeout_s": 1.0, "ack_timeout_s": ACK_S, "result_margin_s": 0.2,
          "reply_timeout_s": 0.5, **kw}
    return SerialPaymentTerminal(port, **kw)


@pytest.fixture
def terminal(sim):
    with client(sim.port) as t:
        yield t


def wait_until(predicate, timeout_s=3.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def charge_in_thread(terminal, *args, **kw):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("outcome",
                                                            terminal.charge(*args, **kw)))
    thread.start()
    return thread, box


def sale_received(sim, reference):
    return lambda: ["SALE", reference, "1500", "BHD"] in sim.received


# --- frames -----------------------------------------------------------------------------------

def test_a_sale_frame_byte_for_byte():
    frame = encode_frame(["SALE", "K-000123-1", "1500", "BHD"])
    assert frame.hex(" ") == ("02 53 41 4c 45 1c 4b 2d 30 30 30 31 32 33 2d 31 1c 31 35 30 30 "
                              "1c 42 48 44 03 34")  # the worked example of docs/payment.md
    assert frame[-1] == lrc(frame[1:-1]) and frame[-2] == ETX
    assert decode_frame(frame) == ["SALE", "K-000123-1", "1500", "BHD"]


def test_the_reader_finds_frames_acks_and_garbage_in_a_stream():
    good = encode_frame(["PONG", "READY"])
    bad = good[:-1] + bytes([good[-1] ^ 1])
    reader = FrameReader()
    events = reader.feed(b"\x00noise" + bytes([ACK]) + good[:5]) + reader.feed(good[5:])
    events += reader.feed(bad + bytes([NAK]))
    assert events == [("ack",), ("frame", ["PONG", "READY"]), ("bad", bad), ("nak",)]


@pytest.mark.parametrize("field", ["A\x1cB", "ENTRÉE", "line\n"])
def test_fields_that_would_break_the_framing_are_refused(field):
    with pytest.raises(PaymentTerminalError, match="printable ASCII"):
        encode_frame(["WAIT", "K-1", field])


# --- outcomes ---------------------------------------------------------------------------------

def test_approved_sale_is_charged_once_with_the_terminal_reference(sim, terminal):
    outcome = terminal.charge("K-000123-1", 1500, "BHD")
    assert outcome.approved and outcome.status == "approved"
    assert (outcome.reference, outcome.amount_minor, outcome.currency) == \
        ("K-000123-1", 1500, "BHD")
    # the terminal's reference: its id, the sale's trace number, the authorisation code
    assert outcome.terminal_ref == "T0000001-000001-000001" and outcome.card_last4 == "4242"
    assert not outcome.pending
    assert sim.charges == [("K-000123-1", 1500, "BHD")]
    assert sim.received == [["SALE", "K-000123-1", "1500", "BHD"]]


def test_declined_sale_passes_the_terminal_text_and_charges_nothing(sim, terminal):
    sim.script("declined", message="INSUFFICIENT FUNDS", last4="0005")
    outcome = terminal.charge("K-2", 1500, "BHD")
    assert outcome.status == "declined" and not outcome.approved
    assert outcome.message == "INSUFFICIENT FUNDS" and outcome.terminal_ref is None
    assert outcome.card_last4 == "0005"
    assert sim.charges == []


def test_progress_messages_reach_on_progress(sim, terminal):
    shown = []
    terminal.charge("K-3", 1500, "BHD", on_progress=shown.append)
    assert shown == ["INSERT CARD", "ENTER PIN"]


def test_a_failing_progress_display_does_not_lose_the_sale(sim, terminal):
    def broken(text):
        raise RuntimeError("label gone")
    assert terminal.charge("K-4", 1500, "BHD", on_progress=broken).approved
    assert len(sim.charges) == 1


def test_no_card_times_out_after_asking_the_terminal(sim, terminal):
    sim.script("timeout")
    started = time.monotonic()
    outcome = terminal.charge("K-5", 1500, "BHD", timeout_s=0.3)
    elapsed = time.monotonic() - started
    assert outcome.status == "timeout" and not outcome.pending  # the terminal said: cancelled
    assert 0.5 <= elapsed < 2.0  # timeout_s + margin, then a short settle
    assert sim.received == [["SALE", "K-5", "1500", "BHD"], ["CANCEL", "K-5"],
                            ["STATUS", "K-5"]]
    assert sim.charges == [] and not sim.busy


def test_an_approval_after_the_kiosk_gave_up_is_found_by_lookup(sim, terminal):
    sim.script("approved", delay_s=1.0)  # a slow authorisation: CANCEL cannot stop it
    outcome = terminal.charge("K-6", 1500, "BHD", timeout_s=0.2)
    assert outcome.status == "timeout" and outcome.pending
    assert sim.charges == [] and terminal.status() == "busy"
    still = terminal.lookup("K-6")
    assert still.status == "timeout" and still.pending and still.message == "IN PROGRESS"
    wait_until(lambda: sim.charges)
    late = terminal.lookup("K-6")
    assert late.approved and late.terminal_ref == "T0000001-000001-000001" and late.amount_minor == 1500
    # the kiosk retries the same reference: the stored approval, no second charge
    again = terminal.charge("K-6", 1500, "BHD")
    assert again.approved and again.terminal_ref == "T0000001-000001-000001"
    assert sim.charges == [("K-6", 1500, "BHD")]


def test_lookup_of_a_reference_the_terminal_never_saw_is_none(sim, terminal):
    assert terminal.lookup("NEVER-SENT") is None
    assert sim.received == [["STATUS", "NEVER-SENT"]]


def test_cancel_from_the_kiosk_while_charge_waits(sim, terminal):
    sim.script("timeout")
    thread, box = charge_in_thread(terminal, "K-7", 1500, "BHD", timeout_s=30)
    wait_until(sale_received(sim, "K-7"))
    assert terminal.status() == "busy"  # answered at once, the line is the charge's
    assert terminal.cancel("OTHER") is False
    started = time.monotonic()
    assert terminal.cancel("K-7") is True
    thread.join(5)
    assert time.monotonic() - started < 1.0  # not timeout_s
    assert box["outcome"].status == "cancelled" and not box["outcome"].pending
    assert ["CANCEL", "K-7"] in sim.received and sim.charges == []
    assert terminal.cancel("K-7") is False  # nothing under way any more


def test_a_kiosk_cancel_cannot_undo_a_card_being_authorised(sim, terminal):
    sim.script("approved", delay_s=0.4)
    thread, box = charge_in_thread(terminal, "K-8", 1500, "BHD")
    wait_until(sale_received(sim, "K-8"))
    terminal.cancel("K-8")
    thread.join(5)
    assert box["outcome"].approved  # what really happened, so the kiosk records the payment
    assert sim.charges == [("K-8", 1500, "BHD")]


def test_cardholder_cancels_on_the_terminal(sim, terminal):
    sim.script("cancelled", delay_s=0.1)
    outcome = terminal.charge("K-9", 1500, "BHD")
    assert outcome.status == "cancelled" and outcome.message == "CANCELLED BY CARDHOLDER"
    assert sim.charges == []


def test_the_terminal_giving_up_by_itself_is_a_timeout(sim, terminal):
    sim.script("timeout", delay_s=0.1)
    outcome = terminal.charge("K-10", 1500, "BHD")
    assert outcome.status == "timeout" and outcome.message == "NO CARD"
    assert not outcome.pending and ["CANCEL", "K-10"] not in sim.received


def test_a_cancelled_or_timed_out_reference_can_be_charged_again(sim, terminal):
    sim.script("cancelled")
    assert terminal.charge("K-11", 1500, "BHD").status == "cancelled"
    assert terminal.charge("K-11", 1500, "BHD").approved
    assert sim.charges == [("K-11", 1500, "BHD")]


def test_a_declined_reference_stays_declined(sim, terminal):
    sim.script("declined", message="DO NOT HONOUR")
    terminal.charge("K-12", 1500, "BHD")
    again = terminal.charge("K-12", 1500, "BHD")  # the default would approve a new sale
    assert again.status == "declined" and again.message == "DO NOT HONOUR"
    assert sim.charges == []


# --- offline ----------------------------------------------------------------------------------

def test_a_silent_terminal_is_offline_quickly_and_back_when_it_answers(sim):
    terminal = client(sim.port, timeout_s=30)
    sim.set_offline(True)
    started = time.monotonic()
    outcome = terminal.charge("K-13", 1500, "BHD")
    assert outcome.status == "offline" and not outcome.approved
    assert time.monotonic() - started < OFFLINE_LIMIT_S  # bounded by ACKs, not timeout_s
    assert terminal.status() == "offline"
    with pytest.raises(PaymentTerminalOffline, match="K-13"):
        terminal.lookup("K-13")
    assert sim.received == [] and sim.charges == []
    sim.set_offline(False)
    assert terminal.status() == "ready"
    assert terminal.charge("K-13", 1500, "BHD").approved
    terminal.close()


def test_a_terminal_going_silent_on_the_sale_is_offline(sim):
    terminal = client(sim.port, timeout_s=30)
    sim.script("no_answer")
    started = time.monotonic()
    assert terminal.charge("K-14", 1500, "BHD").status == "offline"
    assert time.monotonic() - started < OFFLINE_LIMIT_S
    assert terminal.status() == "offline" and sim.received == []
    terminal.close()


def test_a_missing_port_is_offline_at_once_and_never_raises():
    terminal = client("/dev/does-not-exist", timeout_s=30)
    started = time.monotonic()
    outcome = terminal.charge("K-15", 1500, "BHD")
    assert time.monotonic() - started < 0.5
    assert outcome.status == "offline" and "/dev/does-not-exist" in outcome.message
    assert terminal.status() == "offline"
    with pytest.raises(PaymentTerminalOffline, match="offline"):
        terminal.lookup("K-15")
    terminal.close()


def test_a_terminal_plugged_in_later_works_without_a_restart(sim, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="nafitha.payment")
    device = tmp_path / "ttyPAY0"
    terminal = client(str(device))
    assert terminal.charge("K-16", 1500, "BHD").status == "offline"
    assert terminal.status() == "offline"
    os.symlink(sim.port, device)  # the terminal appears under the configured name
    assert terminal.status() == "ready"
    assert terminal.charge("K-16", 1500, "BHD").approved
    messages = [r.getMessage() for r in caplog.records if r.name == "nafitha.payment"]
    assert len(messages) == 2  # once when lost, once when back: not once per call
    assert "offline" in messages[0] and str(device) in messages[0]
    assert messages[1].endswith("is back")
    terminal.close()


def test_the_line_lost_during_a_sale_is_an_unsettled_timeout():
    sim = SimulatedTerminal(ack_timeout_s=ACK_S).start()
    terminal = client(sim.port, timeout_s=30)
    sim.script("timeout")
    thread, box = charge_in_thread(terminal, "K-17", 1500, "BHD")
    wait_until(sale_received(sim, "K-17"))
    started = time.monotonic()
    sim.stop()  # the device vanishes
    thread.join(5)
    assert time.monotonic() - started < 1.0
    outcome = box["outcome"]
    assert outcome.status == "timeout" and outcome.pending and "lost the line" in outcome.message
    assert terminal.status() == "offline"
    terminal.close()


# --- the frame layer --------------------------------------------------------------------------

def test_a_corrupted_reply_is_nakked_and_sent_again(sim, terminal):
    sim.corrupt_next_reply()
    outcome = terminal.charge("K-18", 1500, "BHD", on_progress=lambda text: None)
    assert outcome.approved and sim.charges == [("K-18", 1500, "BHD")]
    assert sim.naks_received == 1  # the client refused the bad LRC ...
    frames = [data for data in sim.sent if data[0] == 0x02]
    wait = encode_frame(["WAIT", "K-18", "INSERT CARD"])
    assert frames[0] == wait[:-1] + bytes([wait[-1] ^ 0xFF])
    assert frames[1] == wait  # ... and got the same frame again, right


def test_a_garbled_request_is_sent_again_and_charged_once(sim, terminal):
    sim.nak_next()
    assert terminal.charge("K-19", 1500, "BHD").approved
    assert sim.naks_sent == 1
    assert sim.received == [["SALE", "K-19", "1500", "BHD"]]
    assert sim.charges == [("K-19", 1500, "BHD")]


def test_a_request_lost_on_the_line_is_sent_again_after_the_ack_timeout(sim, terminal):
    sim.drop_next()
    started = time.monotonic()
    assert terminal.charge("K-20", 1500, "BHD").approved
    assert time.monotonic() - started >= ACK_S
    assert sim.charges == [("K-20", 1500, "BHD")]


def test_a_reply_about_another_sale_is_never_taken_as_approval(sim, terminal):
    sim.script("timeout")
    thread, box = charge_in_thread(terminal, "K-21", 1500, "BHD", timeout_s=0.5)
    wait_until(sale_received(sim, "K-21"))
    ok = ["T0000009", "000009"]  # a well-formed terminal id and trace number
    sim.inject(["RESULT", "K-OTHER", "APPROVED", "1500", "BHD", "999999", "4242", "APPROVED",
                *ok])
    sim.inject(["RESULT", "K-21", "APPROVED", "150", "BHD", "999998", "4242", "APPROVED", *ok])
    sim.inject(["RESULT", "K-21", "APPROVED", "1500", "KWD", "999997", "4242", "APPROVED", *ok])
    sim.inject(["RESULT", "K-21", "APPROVED", "1500", "BHD", "", "4242", "APPROVED", *ok])
    sim.inject(["RESULT", "K-21", "APPROVED", "1500", "BHD", "999996", "4242", "APPROVED",
                "", ""])  # no terminal id or trace number: no reference the hub takes
    sim.inject(["RESULT", "K-21", "APPROVED", "1500", "BHD", "999995", "4242", "APPROVED"])
    sim.inject(["RESULT", "K-21", "APPROVED"])
    thread.join(5)
    outcome = box["outcome"]
    assert outcome.status == "timeout" and not outcome.approved
    assert outcome.terminal_ref is None and sim.charges == []
    assert sim.link.resends == 0  # every injected frame was acknowledged, not lost


# --- input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("reference, amount, currency, complaint", [
    ("K-1", 0, "BHD", "more than zero"),
    ("K-1", -5, "BHD", "more than zero"),
    ("K-1", True, "BHD", "whole minor units"),
    ("K-1", 1.5, "BHD", "whole minor units"),
    ("K-1", "100", "BHD", "whole minor units"),
    ("K-1", 100_000_001, "BHD", "above the terminal limit"),
    ("K 1", 1500, "BHD", "1 to 32 letters"),
    ("", 1500, "BHD", "1 to 32 letters"),
    ("K" * 40, 1500, "BHD", "1 to 32 letters"),
    (None, 1500, "BHD", "1 to 32 letters"),
    ("K-1", 1500, "XXX", "currency 'XXX'"),
    ("K-1", 1500, "bhd", "currency 'bhd'"),
])
def test_bad_input_is_refused_before_anything_is_sent(sim, terminal, reference, amount,
                                                      currency, complaint):
    with pytest.raises(PaymentTerminalError, match=complaint):
        terminal.charge(reference, amount, currency)
    time.sleep(0.05)  # anything sent would have reached the simulator by now
    assert sim.received == [] and sim.sent == [] and sim.charges == []


def test_the_largest_amount_and_reference_are_taken(sim, terminal):
    assert terminal.charge("K" * 32, 100_000_000, "KWD").approved
    assert sim.charges == [("K" * 32, 100_000_000, "KWD")]


@pytest.mark.parametrize("call", [
    lambda t: t.charge("K-1", 1500, "BHD", timeout_s=0),
    lambda t: t.charge("K-1", 1500, "BHD", timeout_s=True),
    lambda t: t.cancel("K 1"),
    lambda t: t.lookup("x" * 33),
])
def test_bad_timeouts_and_references_elsewhere_are_refused(sim, terminal, call):
    with pytest.raises(PaymentTerminalError):
        call(terminal)
    assert sim.received == []


def test_a_closed_terminal_refuses_work_and_reports_offline(sim):
    terminal = client(sim.port)
    terminal.close()
    terminal.close()  # twice is harmless
    with pytest.raises(PaymentTerminalError, match="closed"):
        terminal.charge("K-1", 1500, "BHD")
    assert terminal.status() == "offline" and sim.received == []


def test_an_outcome_says_only_what_it_can():
    with pytest.raises(ValueError, match="status"):
        PaymentOutcome("paid", "K-1", 1500, "BHD")
    with pytest.raises(ValueError, match="terminal's reference"):
        PaymentOutcome("approved", "K-1", 1500, "BHD")
    assert not PaymentOutcome("declined", "K-1", 1500, "BHD").approved


# --- settings ---------------------------------------------------------------------------------

def test_open_terminal_follows_the_settings(tmp_path):
    assert open_terminal(PaymentSettings(transport="none")) is None
    with pytest.raises(PaymentTerminalError, match="payment.port is empty"):
        open_terminal(PaymentSettings(transport="serial", port=""))
    with pytest.raises(PaymentTerminalError, match="not one of"):
        open_terminal(PaymentSettings(transport="carrier-pigeon"))
    missing = open_terminal(PaymentSettings(transport="serial", port="/dev/does-not-exist",
                                            baudrate=19200, timeout_s=45))
    assert (missing.port, missing.baudrate, missing.timeout_s) == \
        ("/dev/does-not-exist", 19200, 45.0)
    assert missing.status() == "offline"
    missing.close()


def test_the_simulated_transport_approves_and_stops_with_the_terminal():
    terminal = open_terminal(PaymentSettings(transport="simulated", timeout_s=5))
    simulator = terminal.simulator
    assert terminal.status() == "ready"
    outcome = terminal.charge("DEMO-1", 2500, "BHD")
    assert outcome.approved and simulator.charges == [("DEMO-1", 2500, "BHD")]
    terminal.close()
    assert not simulator._thread.is_alive()
    assert not os.path.exists(simulator.port)
