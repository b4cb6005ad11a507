"""The scan worker: frames -> decoder chain -> debounce -> events; status, reconnection, end."""
import logging
import random
import threading

import cv2
import numpy as np
import pytest

from devices.scanning import service as service_module
from devices.scanning.capture import ScannerError, open_source
from devices.scanning.decoders import DecoderChain
from devices.scanning.fakes import FakeFrameSource, blank_frame, ean13_frame, qr_frame
from devices.scanning.service import ScanEvent, ScanService

from test_capture import write_video

NOW = 1_795_510_800.0
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:"
TEXT_3KB = "".join(random.Random(3).choice(ALNUM) for _ in range(3072))
BINARY = random.Random(1).randbytes(64)


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class Sleeps:
    """sleep() that records and advances the fake clock instead of waiting."""

    def __init__(self, clock=None):
        self.clock, self.calls = clock, []

    def __call__(self, seconds):
        self.calls.append(seconds)
        if self.clock:
            self.clock.t += seconds


def make(source, clock=None, **kw):
    clock = clock or Clock()
    kw.setdefault("sleep", Sleeps(clock))
    return ScanService(source, decoder=DecoderChain(), clock=clock, now=lambda: NOW, **kw)


def drain(service):
    out = []
    while not service.events.empty():
        out.append(service.events.get_nowait())
    return out


def run_to_end(service, limit=100):
    outcomes = [service.step() for _ in range(limit)]
    return outcomes[: outcomes.index("ended") + 1]


def test_bad_input_frames_through_a_folder(tmp_path):
    frames = {
        "1-nothing.png": blank_frame(640, 480),
        "2-ean.png": ean13_frame("590123412345"),
        "3-binary.png": qr_frame(BINARY, size=(640, 480)),
        "4-long-text.png": qr_frame(TEXT_3KB, scale=3, error="l", size=(1280, 720)),
    }
    for name, frame in frames.items():
        cv2.imwrite(str(tmp_path / name), frame)
    service = make(open_source(str(tmp_path)))
    assert run_to_end(service) == ["frame"] * 4 + ["ended"]
    events = drain(service)
    assert [(e.symbology, e.source, e.at) for e in events] == \
        [("EAN13", "camera", NOW), ("QRCode", "camera", NOW), ("QRCode", "camera", NOW)]
    ean, binary, long_text = events
    assert ean.text == "5901234123457" and ean.raw == b"5901234123457"
    assert binary.text is None and binary.raw == BINARY  # not text, bytes kept
    assert binary.to_dict()["hex"] == BINARY.hex()
    assert long_text.text == TEXT_3KB  # decoded fully
    assert len(long_text.corners) == 4 and ean.backend in ("zxing", "zbar")
    status = service.status
    assert (status.state, status.frames, status.events, status.available) == \
        ("ended", 4, 3, False)
    assert status.detail == f"end of folder {tmp_path} (4 images)"
    assert service.latest_frame().shape == (720, 1280, 3)


def test_a_video_file_that_ends(tmp_path):
    frames = [qr_frame("NFT:MUH:R001", size=(320, 240), scale=3)] * 3 + [blank_frame()[:, :, 0]]
    path = write_video(tmp_path / "clip.avi", frames)
    service = make(open_source(str(path)))
    assert run_to_end(service) == ["frame"] * 4 + ["ended"]
    assert [e.text for e in drain(service)] == ["NFT:MUH:R001"]  # held up: reported once
    assert service.status.state == "ended" and "end of video file" in service.status.detail


def test_the_same_code_is_reported_again_after_the_window():
    clock = Clock()
    code = qr_frame("NFT:MUH:R009", size=(320, 240), scale=3)
    fake = FakeFrameSource([code, code, code, blank_frame(), code], live=False)
    service = make(fake, clock, debounce_s=2.0)
    service.step(), service.step()
    clock.t += 1.0
    service.step()            # 1 s after the last sighting: the same scan
    clock.t += 2.5
    service.step()            # nothing in view
    clock.t += 0.1
    service.step()            # 2.6 s after the last sighting: a new scan
    assert len(drain(service)) == 2


def test_a_source_that_stops_mid_stream_reconnects_and_resumes(caplog):
    clock = Clock()
    sleeps = Sleeps(clock)
    frames = [qr_frame("NFT:MUH:R001", size=(320, 240), scale=3), blank_frame(),
              qr_frame("NFT:MUH:R002", size=(320, 240), scale=3)]
    fake = FakeFrameSource(frames, fail_after=2, down_for=3)
    service = make(fake, clock, sleep=sleeps, retry_s=0.5, max_retry_s=1.5)
    seen = []
    service.watch(lambda s: seen.append((s.state, s.available)))
    caplog.set_level(logging.INFO, logger="nafitha.scanning")

    assert [service.step(), service.step()] == ["frame", "frame"]
    assert service.status.available
    assert service.step() == "retry"           # unplugged: the read fails
    st = service.status
    assert (st.state, st.available) == ("reconnecting", False)
    assert "fake camera unplugged" in st.detail and "retrying in 0.5 s" in st.detail
    assert [service.step() for _ in range(3)] == ["retry"] * 3  # still away
    assert service.step() == "frame"           # back: the next frame is read
    assert service.status.state == "running" and service.status.available
    assert sleeps.calls == [0.5, 1.0, 1.5, 1.5]  # growing pause, capped
    assert fake.calls.count("reopen failed") == 3 and fake.calls.count("reopen") == 1
    assert fake.calls[fake.calls.index("reopen failed") - 1] == "close"
    assert [e.text for e in drain(service)] == ["NFT:MUH:R001", "NFT:MUH:R002"]
    # watchers hear every change of detail too ("retrying in 1 s"); the states in turn:
    states = [s for n, s in enumerate(seen) if n == 0 or seen[n - 1] != s]
    assert states == [("running", True), ("reconnecting", False), ("running", True)]
    # logged once when it failed and once when it came back, not on every retry
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert "is back" in caplog.records[1].getMessage()
    # after a recovery the pause starts small again
    fake.unplug()
    assert service.step() == "retry" and sleeps.calls[-1] == 0.5


def test_a_camera_missing_at_start_is_retried_until_it_appears(monkeypatch):
    attempts = []
    camera = FakeFrameSource([qr_frame("NFT:MUH:R007", size=(320, 240), scale=3)])

    def fake_open(spec, width, height):
        attempts.append((spec, width, height))
        if len(attempts) < 3:
            return open_source(spec, width, height)  # the real answer: nothing there
        return camera
    monkeypatch.setattr(service_module, "open_source", fake_open)
    service = make("42", width=640, height=480)
    assert service.status.state == "starting" and not service.status.available
    assert service.step() == "retry"
    assert service.status.state == "no_camera"
    assert service.status.detail.startswith("no camera at index 42; retrying")
    assert service.step() == "retry"
    assert service.step() == "frame" and service.status.state == "running"
    assert attempts == [("42", 640, 480)] * 3
    assert service.status.source == "fake camera"
    assert [e.text for e in drain(service)] == ["NFT:MUH:R007"]


def test_a_file_source_that_cannot_be_opened_ends_with_the_reason(tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(random.Random(2).randbytes(3000))
    service = make(str(bad))
    assert service.step() == "ended"
    assert (service.status.state, service.status.detail) == \
        ("ended", f"cannot decode video file {bad}")
    assert service.step() == "ended"


def test_in_a_thread_with_subscribers_through_unplug_and_replug():
    code = qr_frame("NFT:MUH:R003", size=(320, 240), scale=3)
    other = qr_frame("NFT:MUH:R004", size=(320, 240), scale=3)
    fake = FakeFrameSource([code, code, blank_frame(), other], fail_after=2, down_for=2)
    service = ScanService(fake, decoder=DecoderChain(), sleep=lambda s: None, max_frames=4)
    got, states = [], []
    service.subscribe(got.append)
    service.watch(lambda s: states.append(s.state))
    with service:
        assert service.wait(2.0)
    assert [e.text for e in got] == ["NFT:MUH:R003", "NFT:MUH:R004"]
    assert all(isinstance(e, ScanEvent) for e in got)
    assert [s for n, s in enumerate(states) if n == 0 or states[n - 1] != s] == \
        ["running", "reconnecting", "running", "ended"]
    assert service.status.state == "ended"  # stop() keeps "ended"
    assert service.events.qsize() == 2


def test_stop_ends_a_live_source_promptly_and_closes_it():
    fake = FakeFrameSource([], live=True)  # a camera looking at nothing, forever
    service = ScanService(fake, decoder=DecoderChain()).start()
    while service.status.frames < 3:
        threading.Event().wait(0.005)
    service.stop(timeout_s=2)
    assert service.wait(0) and service.status.state == "stopped"
    assert not service.status.available and fake.calls[-1] == "close"
    assert service.latest_frame() is not None
    with pytest.raises(RuntimeError):
        service.start()


def test_stop_interrupts_the_pause_between_retries():
    fake = FakeFrameSource([], fail_after=0, down_for=None)  # unplugged for good
    service = ScanService(fake, decoder=DecoderChain(), retry_s=30).start()
    while service.status.state != "reconnecting":
        threading.Event().wait(0.005)
    service.stop(timeout_s=1)
    assert service.wait(0)  # the 30 s pause did not hold it up


def test_max_frames_ends_a_live_source():
    service = make(FakeFrameSource([], live=True), max_frames=3)
    assert run_to_end(service) == ["frame", "frame", "ended"]  # the third frame, then the end
    assert (service.status.frames, service.status.detail) == (3, "read 3 frames (the limit)")


def test_latest_frame_is_the_array_read_and_is_not_written_to():
    frames = [np.full((60, 80, 3), n, np.uint8) for n in (1, 2)]
    service = make(FakeFrameSource(frames, live=False))
    assert service.latest_frame() is None
    service.step()
    assert service.latest_frame() is frames[0]
    service.step()
    assert service.latest_frame() is frames[1] and int(frames[1].max()) == 2


def test_a_decoder_failure_skips_the_frame_and_is_logged_once(caplog):
    class Broken:
        def decode(self, frame):
            raise RuntimeError("boom")
    service = ScanService(FakeFrameSource([blank_frame()] * 3, live=False), decoder=Broken())
    assert run_to_end(service) == ["frame"] * 3 + ["ended"]
    assert caplog.text.count("the decoder failed") == 1


def test_publish_from_handheld_scanners_and_a_failing_subscriber(caplog):
    service = ScanService(None, now=lambda: NOW)
    service.subscribe(lambda e: 1 / 0)
    got = []
    unsubscribe = service.subscribe(got.append)
    event = service.publish("NFT:MUH:R001", source="serial")
    assert event == ScanEvent("NFT:MUH:R001", b"NFT:MUH:R001", "unknown", "serial", NOW)
    assert got == [event] and "subscriber" in caplog.text
    assert service.publish("NFT:MUH:R001", source="keyboard") is None  # same code: debounced
    unsubscribe()
    service.publish("NFT:MUH:R002", source="keyboard")
    assert len(got) == 1 and service.events.qsize() == 2
    with pytest.raises(ValueError):
        service.publish("x", source="fax")
    assert service.step() == "ended" and service.status.detail == "no camera configured"


def test_an_unread_queue_keeps_the_newest_scans():
    service = ScanService(None, debounce_s=0, queue_size=3)
    for n in range(10):
        service.publish(f"code {n}", source="serial")
    assert [e.text for e in drain(service)] == ["code 7", "code 8", "code 9"]
    assert service.status.events == 10


def test_read_errors_of_a_real_capture_source_count_as_lost(monkeypatch):
    class Flaky(FakeFrameSource):
        def read(self):
            raise ScannerError("v4l2 select timeout")
    service = make(Flaky([]), retry_s=0.2)
    assert service.step() == "retry"
    assert service.status.detail == "v4l2 select timeout; retrying in 0.2 s"
