"""The card terminal's batch report (BATCH / SETTLE): what the end of the day reconciles the
office's card payments against. SerialPaymentTerminal over a real pseudo-terminal to
SimulatedTerminal, whose faults play each difference reconciliation must find."""
import pytest

from core.payments import check_batch_report
from devices.payment import PaymentTerminalError, PaymentTerminalOffline, SimulatedTerminal
from devices.payment.protocol import encode_frame
from tests.devices.test_payment_terminal import ACK_S, client, wait_until


@pytest.fixture
def sim():
    with SimulatedTerminal(ack_timeout_s=ACK_S, terminal_id="T0000042") as terminal:
        yield terminal


@pytest.fixture
def terminal(sim):
    with client(sim.port) as t:
        yield t


def test_the_batch_lists_every_approval_since_the_last_settlement(sim, terminal):
    first = terminal.charge("K-1-1", 1500, "BHD")
    sim.script("declined")
    assert not terminal.charge("K-2-1", 2000, "BHD").approved  # a decline is not in a batch
    second = terminal.charge("K-3-1", 500, "BHD")
    report = terminal.batch_report()
    assert report == {"terminal_id": "T0000042", "entries": [
        {"terminal_ref": first.terminal_ref, "amount_minor": 1500, "currency": "BHD",
         "sale_ref": "K-1-1", "at": report["entries"][0]["at"]},
        {"terminal_ref": second.terminal_ref, "amount_minor": 500, "currency": "BHD",
         "sale_ref": "K-3-1", "at": report["entries"][1]["at"]}]}
    assert first.terminal_ref == "T0000042-000001-000001"
    assert check_batch_report(report, 10 ** 9) == report  # core takes it as it is
    assert terminal.batch_report() == report  # asking again changes nothing
    assert terminal.settle() == {"terminal_id": "T0000042", "count": 2, "total_minor": 2000}
    assert terminal.batch_report() == {"terminal_id": "T0000042", "entries": []}
    third = terminal.charge("K-4-1", 700, "BHD")
    assert [e["terminal_ref"] for e in terminal.batch_report()["entries"]] == \
        [third.terminal_ref]
    assert ["BATCH"] in sim.received and ["SETTLE"] in sim.received


def test_the_simulator_plays_the_differences(sim, terminal):
    kept = terminal.charge("K-1-1", 1500, "BHD")
    terminal.charge("K-2-1", 1000, "BHD")
    terminal.charge("K-3-1", 800, "BHD")
    sim.omit("K-2-1")                      # an approval the terminal does not list
    sim.alter_amount("K-3-1", 80)          # listed with another amount
    phantom = sim.add_unreported("K-9-1", 2500)  # an approval no kiosk reported
    entries = terminal.batch_report()["entries"]
    assert [(e["sale_ref"], e["amount_minor"]) for e in entries] == \
        [("K-1-1", 1500), ("K-3-1", 80), ("K-9-1", 2500)]
    assert entries[0]["terminal_ref"] == kept.terminal_ref
    assert entries[2]["terminal_ref"] == phantom and phantom.startswith("T0000042-")


def test_a_report_with_a_lost_or_bad_frame_is_refused(sim, terminal):
    terminal.charge("K-1-1", 1500, "BHD")
    stray = ["ENTRY", "T0000042", "000099", "000099", "K-X", "100", "BHD", "101010"]
    sim.inject(stray)
    wait_until(lambda: encode_frame(stray) in sim.sent)  # on the line before BATCH
    with pytest.raises(PaymentTerminalError, match="incomplete"):
        terminal.batch_report()  # the stray entry makes the count disagree
    broken = ["ENTRY", "T0000042", "000099"]
    sim.inject(broken)
    wait_until(lambda: encode_frame(broken) in sim.sent)
    with pytest.raises(PaymentTerminalError, match="malformed batch entry"):
        terminal.batch_report()


def test_an_offline_terminal_cannot_give_its_report(sim, terminal):
    sim.set_offline(True)
    with pytest.raises(PaymentTerminalOffline):
        terminal.batch_report()
    sim.set_offline(False)
    assert terminal.batch_report() == {"terminal_id": "T0000042", "entries": []}


def test_a_terminal_without_a_batch_says_so():
    from devices.payment import PaymentTerminal

    class Bare(PaymentTerminal):
        charge = cancel = lookup = status = close = lambda *a, **k: None

    with pytest.raises(PaymentTerminalError, match="cannot give its batch report"):
        Bare().batch_report()
