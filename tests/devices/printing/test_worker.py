"""The print worker against recording fakes: order, waiting, retry, exactly-once printing,
and the whole road from `issue` to bytes on a network printer to a verified QR."""
import dataclasses
import logging

import pytest
import zxingcpp
from PIL import ImageChops

from devices.printing.fakes import FakeNetworkPrinter, RecordingTransport
from devices.printing.transports import open_transport
from core.faces.printing import PrintJobs
from devices.printing.worker import PrintWorker, printer_loop

from escpos_decode import decode_raster


@pytest.fixture
def worker(office):
    office.settings.printer.width_dots = 384
    transport = RecordingTransport()
    return PrintWorker(PrintJobs(office), transport, sleep=lambda s: None), transport


def test_jobs_print_in_order_once_each(office, worker, issued):
    w, transport = worker
    ticket = office.queue.take_ticket("R")
    first = office.printing.enqueue("ticket", ticket["id"])
    second = office.printing.enqueue("licence", issued()["id"])
    assert [w.print_next(), w.print_next(), w.print_next()] == ["printed", "printed", "idle"]
    assert transport.job_names == [f"{first['seq']:06d}-ticket", f"{second['seq']:06d}-licence"]
    assert [office.printing.get(j["id"])["state"] for j in (first, second)] == ["done", "done"]
    assert office.printing.get(second["id"])["bytes"] == len(transport.jobs[1])


@pytest.mark.parametrize("state, why", [("paper_out", "paper out"),
                                        ("offline", "printer offline")])
def test_paper_out_or_offline_waits_then_prints_once(office, worker, issued, state, why):
    w, transport = worker
    job = office.printing.enqueue("licence", issued()["id"])
    transport.state = state
    assert w.print_next() == "waiting" and w.status.waiting_for == why
    assert transport.jobs == [] and office.printing.get(job["id"])["state"] == "pending"
    transport.state = "ok"
    assert w.print_next() == "printed" and w.print_next() == "idle"
    assert len(transport.jobs) == 1 and w.status.waiting_for is None


def test_unplugged_mid_job_keeps_the_job_and_prints_it_once_when_back(office, worker, issued):
    w, transport = worker
    lic = issued()
    job = office.printing.enqueue("licence", lic["id"])
    transport.fail_next(1, "connection reset")
    assert w.print_next() == "retry"
    row = office.printing.get(job["id"])
    assert (row["state"], row["attempts"], row["last_error"]) == \
        ("pending", 1, "connection reset")
    assert office.licences.get(lic["id"])["number"] == lic["number"]  # never renumbered
    assert w.print_next() == "printed" and w.print_next() == "idle"
    assert len(transport.jobs) == 1


def test_unknown_status_means_try(office, worker, issued):
    w, transport = worker
    transport.state = "silent"
    office.printing.enqueue("licence", issued()["id"])
    assert w.print_next() == "printed"


def test_a_document_that_cannot_be_drawn_fails_without_blocking_the_rest(office, worker,
                                                                          issued):
    w, transport = worker
    office.settings.printer.width_dots = 100  # nothing can be drawn this narrow
    bad = office.printing.enqueue("licence", issued()["id"])
    assert w.print_next() == "failed"
    assert office.printing.get(bad["id"])["state"] == "failed"
    office.settings.printer.width_dots = 384
    good = office.printing.enqueue("licence", issued(full_name="Second Holder")["id"])
    assert w.print_next() == "printed" and transport.job_names == [f"{good['seq']:06d}-licence"]


def test_failure_and_recovery_are_logged_once(office, worker, issued, caplog):
    w, transport = worker
    office.printing.enqueue("licence", issued()["id"])
    transport.state = "offline"
    waits = []
    loop = printer_loop(w, idle_s=0.5, max_backoff_s=4.0, sleep=waits.append)
    with caplog.at_level(logging.INFO, logger="nafitha.printing"):
        for _ in range(5):
            loop.step()
        transport.state = "ok"
        assert loop.step() == "printed" and loop.step() == "idle"
    assert [r.getMessage() for r in caplog.records] == [
        "printer main: printer offline; retrying until it is back", "printer main is back"]
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0] and transport.jobs  # backing off, then printed


def test_issue_to_bytes_on_a_network_printer_to_a_verified_qr(office, issued):
    """The whole road: issue -> durable job -> ESC/POS over TCP -> decoded raster equal to
    the rendered image -> QR read from it -> the licence verifies."""
    lic = issued()
    with FakeNetworkPrinter() as printer:
        settings = office.settings.printer
        settings.transport, settings.host, settings.port = "network", "127.0.0.1", printer.port
        settings.width_dots, settings.timeout_s = 576, 2.0
        transport = open_transport(dataclasses.asdict(settings), office.settings.data_dir)
        w = PrintWorker(PrintJobs(office), transport)
        job = office.printing.enqueue("licence", lic["id"])
        rendered, _ = w.render_job(office.printing.get(job["id"]))
        assert w.print_next() == "printed"
        transport.close()
        (wire,) = printer.wait_for_jobs(1)
    (image,) = decode_raster(wire)
    assert image.size == rendered.size
    assert ImageChops.difference(image.convert("1"), rendered.convert("1")).getbbox() is None
    codes = [r.text for r in zxingcpp.read_barcodes(image.convert("L"))]
    assert lic["signed_payload"] in codes
    result = office.verify_licence(lic["signed_payload"])
    assert result.valid and result.claims["number"] == lic["number"]


def test_a_reprint_says_copy_on_paper(office, worker, issued):
    w, transport = worker
    lic = issued()
    office.printing.enqueue("licence", lic["id"])
    assert office.printing.reprint_licence(lic["id"], "paper jam")["print_job"]["copy"] == 1
    assert w.print_next() == "printed" and w.print_next() == "printed"
    original, copy = transport.sent[0].image, transport.sent[1].image
    assert original.size != copy.size or \
        ImageChops.difference(original, copy).getbbox() is not None
    assert transport.job_names[1].endswith("-licence-copy")


def test_network_printer_unplugged_then_back_prints_the_job_once(office, issued):
    lic = issued()
    with FakeNetworkPrinter() as printer:
        settings = office.settings.printer
        settings.transport, settings.host, settings.port = "network", "127.0.0.1", printer.port
        settings.width_dots, settings.timeout_s = 384, 1.0
        transport = open_transport(dataclasses.asdict(settings), office.settings.data_dir)
        w = PrintWorker(PrintJobs(office), transport, sleep=lambda s: None)
        job = office.printing.enqueue("licence", lic["id"])
        printer.unplug()
        assert w.print_next() in ("waiting", "retry")
        assert office.printing.get(job["id"])["state"] == "pending"
        assert w.status.waiting_for
        printer.plug()
        assert w.print_next() == "printed" and w.print_next() == "idle"
        transport.close()
        assert len(printer.wait_for_jobs(1)) == 1
    assert office.printing.get(job["id"])["state"] == "done"


def test_native_qr_only_where_the_profile_has_it(office, issued):
    from devices.printing.transports import PrinterError

    settings = office.settings.printer
    settings.native_qr, settings.profile, settings.width_dots = True, "POS-5890", 384
    with pytest.raises(PrinterError, match="has no native QR"):
        PrintWorker(PrintJobs(office), RecordingTransport())
    settings.profile = "TM-T20II"
    transport = RecordingTransport()
    w = PrintWorker(PrintJobs(office), transport)
    lic = issued()
    office.printing.enqueue("licence", lic["id"])
    assert w.print_next() == "printed"
    sent = transport.sent[0]
    assert b"\x1d(k" in sent.data  # the printer's own QR command (GS ( k) ...
    assert lic["signed_payload"].encode() in sent.data  # ... carrying the signed code
    assert not zxingcpp.read_barcodes(sent.image.convert("L"))  # and no QR in the raster


def test_a_native_qr_too_wide_for_the_paper_fails_the_job_and_sends_nothing(office, issued):
    """A licence from before approval measured its code (here: its code made longer in
    the store), printed with the printer's own QR command on 58 mm paper."""
    from core.credentials import qr_fit

    settings = office.settings.printer
    settings.native_qr, settings.profile, settings.width_dots = True, "TM-T88V", 384
    transport = RecordingTransport()
    w = PrintWorker(PrintJobs(office), transport)
    lic = issued()
    too_long = lic["signed_payload"] + "A" * (qr_fit.capacity(384) + 1
                                               - len(lic["signed_payload"]))
    office.store.conn.execute("UPDATE licences SET signed_payload = ? WHERE id = ?",
                              (too_long, lic["id"]))
    job = office.printing.enqueue("licence", lic["id"])
    assert w.print_next() == "failed"
    row = office.printing.get(job["id"])
    assert row["state"] == "failed" and "would be 388 dots wide" in row["last_error"]
    assert transport.sent == []  # never "done" with a code the paper cannot hold


def test_the_worker_refuses_to_start_on_a_bad_printer_setup(office, monkeypatch):
    from devices.printing.render import ShapingUnavailable
    from devices.printing.transports import PrinterError

    settings = office.settings.printer
    settings.profile, settings.width_dots = "TM-T88V", 576  # a 512-dot printer
    with pytest.raises(PrinterError, match="prints at most 512 dots"):
        PrintWorker(PrintJobs(office), RecordingTransport())
    settings.profile = "no-such-printer"
    with pytest.raises(PrinterError, match="no-such-printer"):
        PrintWorker(PrintJobs(office), RecordingTransport())
    settings.profile = "default"
    monkeypatch.setattr("PIL.features.check", lambda name: False)
    with pytest.raises(ShapingUnavailable, match="Raqm"):
        PrintWorker(PrintJobs(office), RecordingTransport())
