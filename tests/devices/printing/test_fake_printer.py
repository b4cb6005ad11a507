"""The fakes themselves: they must behave like the printer they stand in for."""
import socket
import time

import pytest
from PIL import Image

from devices.printing.fakes import (STATES, FakeNetworkPrinter, RecordingTransport,
                                    status_for_state)
from devices.printing.transports import PrinterError, PrinterStatus, open_transport


def talk(printer: FakeNetworkPrinter, payload: bytes, answers: int = 0) -> bytes:
    """Send, read `answers` bytes, half-close and wait for the fake to close (as a printer
    client should), so the fake has recorded the job when this returns."""
    with socket.create_connection((printer.host, printer.port), timeout=1) as sock:
        sock.sendall(payload)
        got = b""
        while len(got) < answers:
            got += sock.recv(16)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(16):
            pass
        return got


def test_fake_answers_dle_eot_with_epson_status_bytes():
    with FakeNetworkPrinter(state="paper_out") as printer:
        assert talk(printer, b"\x10\x04\x01\x10\x04\x02\x10\x04\x04", answers=3) == b"\x1a\x32\x7e"
        printer.state = "ok"
        assert talk(printer, b"\x10\x04\x01", answers=1) == b"\x12"
        assert printer.status_queries == [1, 2, 4, 1]
        assert printer.jobs == []


def test_fake_records_each_connection_as_a_job_and_status_first_is_not_data():
    with FakeNetworkPrinter() as printer:
        talk(printer, b"\x1b@one")
        talk(printer, b"\x10\x04\x04\x1b@two", answers=1)  # a query, then data
        talk(printer, b"\x1b@\x10\x04\x01three")  # inside a job, DLE EOT is just data
        assert printer.jobs == [b"\x1b@one", b"\x1b@two", b"\x1b@\x10\x04\x01three"]
        assert printer.received == b"\x1b@one\x1b@two\x1b@\x10\x04\x01three"
        assert printer.status_queries == [4]
        assert printer.connections == 3


def test_fake_query_split_across_packets_is_still_answered():
    with FakeNetworkPrinter(state="paper_low") as printer:
        with socket.create_connection((printer.host, printer.port), timeout=1) as sock:
            sock.sendall(b"\x10")
            time.sleep(0.05)
            sock.sendall(b"\x04\x04")
            assert sock.recv(1) == b"\x1e"
        assert printer.jobs == []


def test_fake_silent_never_answers():
    with FakeNetworkPrinter(state="silent") as printer:
        with socket.create_connection((printer.host, printer.port), timeout=0.2) as sock:
            sock.sendall(b"\x10\x04\x01")
            with pytest.raises(socket.timeout):
                sock.recv(1)
        assert printer.status_queries == [1]


def test_fake_unplug_refuses_connections_and_plug_keeps_the_port():
    with FakeNetworkPrinter() as printer:
        port = printer.port
        printer.unplug()
        assert not printer.plugged
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((printer.host, port), timeout=1)
        printer.plug()
        assert printer.port == port
        talk(printer, b"\x1b@back")
        assert printer.jobs == [b"\x1b@back"]


def test_fake_rejects_an_unknown_state():
    printer = FakeNetworkPrinter()
    with pytest.raises(ValueError, match="state must be one of"):
        printer.state = "jammed"


def test_fake_stop_ends_its_threads():
    printer = FakeNetworkPrinter().start()
    port = printer.port
    talk(printer, b"\x1b@x")
    printer.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    assert all(not thread.is_alive() for thread in printer._threads)


@pytest.mark.parametrize("state", STATES)
def test_status_for_state_matches_what_the_network_transport_decodes(state, tmp_path):
    with FakeNetworkPrinter(state=state) as printer:
        status = open_transport(printer.config(timeout_s=0.3), tmp_path).status()
    expected = status_for_state(state)
    assert (status.online, status.paper, status.ready, status.can_try) == (
        expected.online, expected.paper, expected.ready, expected.can_try)


# -- RecordingTransport ----------------------------------------------------------------------
def test_recording_transport_records_jobs_and_images():
    transport = RecordingTransport()
    image = Image.new("1", (384, 8), 1)
    transport.send(b"\x1b@a", "000001-licence", image)
    transport.send(b"\x1b@b", "000002-receipt")
    assert transport.jobs == [b"\x1b@a", b"\x1b@b"]
    assert transport.job_names == ["000001-licence", "000002-receipt"]
    assert transport.received == b"\x1b@a\x1b@b"
    assert transport.sent[0].image.size == (384, 8) and transport.sent[1].image is None


def test_recording_transport_fails_the_next_n_sends_then_recovers():
    transport = RecordingTransport()
    transport.fail_next(2, "printer offline")
    for _ in range(2):
        with pytest.raises(PrinterError, match="printer offline"):
            transport.send(b"x", "job")
    transport.send(b"x", "job")
    assert transport.attempts == ["job", "job", "job"]
    assert transport.jobs == [b"x"]


def test_recording_transport_scripted_status_and_unplug():
    transport = RecordingTransport(state="paper_out")
    assert not transport.status().can_try and transport.status().paper == "out"
    transport.state = "silent"
    assert transport.status().online is None and transport.status().can_try
    transport.state = "unplugged"
    assert transport.status() == PrinterStatus(False, "unknown", "printer unplugged")
    with pytest.raises(PrinterError, match="printer unplugged"):
        transport.send(b"x", "job")
    transport.status_override = PrinterStatus(True, "low", "scripted")
    assert transport.status().ready
    assert transport.status_calls == 6
    transport.close()
    with pytest.raises(PrinterError, match="closed"):
        transport.send(b"x", "job")
