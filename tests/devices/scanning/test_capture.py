"""Frame sources: each kind opens and reads, and each bad source fails at once, clearly."""
import os
import random
import time

import cv2
import numpy as np
import pytest

from devices.scanning.capture import (CaptureSource, FolderSource, ImageSource, ScannerError,
                                      is_live, open_source)
from devices.scanning.decoders import DecoderChain
from devices.scanning.fakes import blank_frame, qr_frame


def write_video(path, frames, fps=10):
    """An MJPG .avi (OpenCV's own writer: no codec beyond what OpenCV ships)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame)
    writer.release()
    return path


def test_a_real_video_file_with_qr_frames_is_read_to_its_end(tmp_path):
    frames = [qr_frame(f"NFT:MUH:R{n:03d}", size=(640, 480)) for n in range(3)]
    path = write_video(tmp_path / "counter.avi", frames + [np.full((480, 640), 255, np.uint8)])
    source = open_source(str(path))
    assert isinstance(source, CaptureSource) and not source.live
    assert source.describe() == f"video file {path}"
    chain = DecoderChain()
    texts = []
    while (frame := source.read()) is not None:
        assert frame.shape == (480, 640, 3)
        texts.append([d.text for d in chain.decode(frame)])
    assert texts == [["NFT:MUH:R000"], ["NFT:MUH:R001"], ["NFT:MUH:R002"], []]
    assert source.read() is None  # the end stays the end
    source.close()


@pytest.mark.parametrize("content", [os.urandom(0), random.Random(5).randbytes(4000)],
                         ids=["empty", "random bytes"])
def test_a_corrupted_video_file_is_refused_at_open(tmp_path, content):
    path = tmp_path / "x.mp4"
    path.write_bytes(content)
    with pytest.raises(ScannerError) as err:
        open_source(str(path))
    assert err.value.message == f"cannot decode video file {path}"


def test_a_video_cut_in_half_is_refused_or_ends_early_never_crashes(tmp_path):
    frames = [qr_frame(f"NFT:MUH:R{n:03d}", size=(320, 240), scale=2) for n in range(6)]
    whole = write_video(tmp_path / "whole.avi", frames).read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole[: len(whole) // 2])
    try:
        source = open_source(str(cut))
    except ScannerError as exc:
        assert exc.message == f"cannot decode video file {cut}"
        return
    count = 0
    while source.read() is not None:
        count += 1
    assert count < 6


@pytest.mark.parametrize("spec", [42, "42", " 42 "])
def test_a_camera_index_that_does_not_exist(spec):
    # There is no camera on the test machines; index 42 does not exist on any of them.
    start = time.monotonic()
    with pytest.raises(ScannerError) as err:
        open_source(spec)
    assert err.value.message == "no camera at index 42"
    assert err.value.code == "scanner_problem"
    assert time.monotonic() - start < 1.0


def test_a_missing_camera_device_path_and_a_negative_index():
    with pytest.raises(ScannerError, match=r"^no camera at /dev/video97$"):
        open_source("/dev/video97")
    with pytest.raises(ScannerError, match="no camera at index -1"):
        open_source(-1)


def test_a_stream_that_does_not_answer_fails_quickly():
    start = time.monotonic()
    with pytest.raises(ScannerError, match=r"^cannot open stream rtsp://127\.0\.0\.1:9/"):
        open_source("rtsp://127.0.0.1:9/live")  # discard port: connection refused
    assert time.monotonic() - start < 2.0


def test_a_folder_of_images_in_name_order_then_the_end(tmp_path):
    for name, n in (("frame-10.png", 2), ("frame-02.jpg", 1), ("frame-01.png", 0)):
        cv2.imwrite(str(tmp_path / name), qr_frame(f"NFT:MUH:R{n:03d}", size=(320, 240)))
    (tmp_path / "notes.txt").write_text("not an image")
    source = open_source(str(tmp_path))
    assert isinstance(source, FolderSource) and not source.live
    assert source.describe() == f"folder {tmp_path} (3 images)"
    chain = DecoderChain()
    read = []
    while (frame := source.read()) is not None:
        read.append((source.current.name, chain.decode(frame)[0].text))
    assert read == [("frame-01.png", "NFT:MUH:R000"), ("frame-02.jpg", "NFT:MUH:R001"),
                    ("frame-10.png", "NFT:MUH:R002")]


def test_an_unreadable_image_in_a_folder_is_skipped(tmp_path, caplog):
    cv2.imwrite(str(tmp_path / "a.png"), blank_frame())
    (tmp_path / "b.png").write_bytes(b"\x89PNG broken")
    cv2.imwrite(str(tmp_path / "c.png"), blank_frame(value=10))
    source = open_source(tmp_path)
    assert [int(source.read()[0, 0, 0]), int(source.read()[0, 0, 0])] == [200, 10]
    assert source.read() is None
    assert "skipping" in caplog.text and "b.png" in caplog.text


def test_a_folder_without_images(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(ScannerError, match="no images in"):
        open_source(str(tmp_path))


def test_one_image_file_is_one_frame(tmp_path):
    path = tmp_path / "licence.png"
    cv2.imwrite(str(path), qr_frame("NFT:MUH:R001"))
    source = open_source(path)
    assert isinstance(source, ImageSource)
    assert source.read() is not None and source.read() is None
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ScannerError, match="cannot read image"):
        open_source(str(tmp_path / "bad.jpg"))


def test_a_path_that_does_not_exist_and_other_nonsense(tmp_path):
    with pytest.raises(ScannerError, match="no such file or folder"):
        open_source(str(tmp_path / "missing.avi"))
    with pytest.raises(ScannerError, match="no frame source given"):
        open_source("  ")
    with pytest.raises(ScannerError):
        open_source(None)
    with pytest.raises(ScannerError, match="frame size"):
        open_source(str(tmp_path), width=0)


def test_which_sources_are_live():
    assert is_live(0) and is_live("1") and is_live("/dev/video0")
    assert is_live("rtsp://cam.local/stream") and is_live("http://10.0.0.5:8080/video")
    assert not is_live("clip.avi") and not is_live("frames/") and not is_live("a.png")
