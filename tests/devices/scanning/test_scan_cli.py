"""`nafitha scan`: codes from a folder, a video or a camera, with --verify and --json."""
import importlib.util
import json
import random
import time
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from core.credentials import base45, cbor, cose, keys
from core.credentials import licence as licence_code
from core.credentials.licence import PREFIX
from core.credentials.trust import TrustStore
from devices.scanning import capture
from devices.scanning.fakes import FakeFrameSource, blank_frame, ean13_frame, qr_frame
from nafitha.cli import cli
from nafitha import scan_cli
from nafitha.scan_cli import scan

from test_capture import write_video

if "scan" not in cli.commands:  # until nafitha/cli.py registers it
    cli.add_command(scan)

ROOT_DIR = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location(
    "vector_builder", ROOT_DIR / "tests/core/credentials/vector_builder.py")
vectors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vectors)
DAY = 86400


def signed_licence() -> str:
    """A genuine NF1 licence today (the CLI verifies at the real time), signed by the test
    vectors' device under their ROOT key."""
    now = int(time.time())
    cert = vectors.cert(not_before=now - 30 * DAY, sign_until=now + 335 * DAY,
                        not_after=now + 4000 * DAY)
    return vectors.text(cert, issued_at=now - DAY, valid_until=now + 90 * DAY)


def tampered(text: str) -> str:
    """The same licence with its validity stretched by a year after signing."""
    sign1 = licence_code.decode(text[len(PREFIX):])
    claims = cbor.loads(sign1.payload)
    claims[7] += 365 * DAY
    forged = cose.Sign1(sign1.protected_bytes, sign1.protected, sign1.unprotected,
                        cbor.dumps(claims), sign1.signature)
    return PREFIX + base45.encode(cbor.dumps(forged.to_cbor()))


@pytest.fixture
def data(tmp_path):
    data = tmp_path / "data"
    TrustStore(data_dir=data).add_root(keys.public_bytes(vectors.ROOT))
    return data


def invoke(data, *args, expect=0):
    result = CliRunner().invoke(cli, ["--data", str(data), "scan", *args],
                                env={"NAFITHA_DATA": None, "NAFITHA_CONFIG": None},
                                catch_exceptions=False)
    assert result.exit_code == expect, (result.stdout, result.stderr)
    return result


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def folder(path: Path, frames: dict) -> Path:
    path.mkdir()
    for name, frame in frames.items():
        cv2.imwrite(str(path / name), frame)
    return path


def test_verify_json_says_genuine_and_tampered_apart(tmp_path, data):
    good = signed_licence()
    frames = folder(tmp_path / "frames", {
        "1.png": qr_frame(good, size=(640, 480)),
        "2.png": blank_frame(640, 480),
        "3.png": qr_frame(tampered(good), size=(640, 480)),
    })
    out = lines(invoke(data, "--source", str(frames), "--verify", "--json"))
    assert [o["code"]["kind"] for o in out] == ["licence", "licence"]
    genuine, forged = (o["verification"] for o in out)
    assert genuine["valid"] is True and genuine["reason"] == "valid"
    assert genuine["claims"]["number"] == "MUH-2026-D01-000042"
    assert forged["valid"] is False and forged["reason"] == "bad_signature"
    assert out[0]["text"] == good and out[0]["symbology"] == "QRCode"
    assert out[0]["source"] == "camera" and len(out[0]["corners"]) == 4


def test_human_output_ean_binary_ticket_and_long_text(tmp_path, data):
    binary = random.Random(1).randbytes(64)
    long_text = "".join(random.Random(3).choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                        for _ in range(3072))
    frames = folder(tmp_path / "frames", {
        "1.png": blank_frame(640, 480),
        "2.png": ean13_frame("590123412345"),
        "3.png": qr_frame(binary, size=(640, 480)),
        "4.png": qr_frame("NFT:MUH:R004", size=(640, 480)),
        "5.png": qr_frame(long_text, scale=3, error="l", size=(1280, 720)),
    })
    result = invoke(data, "--source", str(frames), "--verify")
    out = result.stdout.splitlines()
    assert out[0] == "EAN13     5901234123457"
    assert out[1].strip() == "Not a licence code (EAN13, not one of our codes)."
    assert out[2] == f"QRCode    (binary, 64 bytes) {binary.hex()}"
    assert out[3].strip() == "Not a licence code (binary data)."
    assert out[4] == "QRCode    NFT:MUH:R004"
    assert out[5].strip() == "ticket R004 of office MUH"
    assert out[7] == f"QRCode    {long_text}"
    assert len(out) == 9
    assert "4 code(s) in 5 frame(s)" in result.stderr

    js = lines(invoke(data, "--source", str(frames), "--json"))
    assert [o["code"]["kind"] for o in js] == ["other", "binary", "ticket", "other"]
    assert js[1]["text"] is None and js[1]["hex"] == binary.hex() and js[1]["bytes"] == 64
    assert js[3]["text"] == long_text and "verification" not in js[0]


def test_a_real_video_file_and_max_frames(tmp_path, data):
    frames = [qr_frame(f"NFT:MUH:R00{n}", size=(320, 240), scale=3) for n in (1, 2, 3)]
    video = write_video(tmp_path / "clip.avi", frames)
    assert [o["text"] for o in lines(invoke(data, "--source", str(video), "--json"))] == \
        ["NFT:MUH:R001", "NFT:MUH:R002", "NFT:MUH:R003"]
    assert [o["text"] for o in lines(invoke(data, "--source", str(video), "--json",
                                            "--max-frames", "2"))] == \
        ["NFT:MUH:R001", "NFT:MUH:R002"]


def test_debounce_option(tmp_path, data):
    code = qr_frame("NFT:MUH:R001", size=(320, 240), scale=3)
    frames = folder(tmp_path / "frames", {f"{n}.png": code for n in range(3)})
    assert len(lines(invoke(data, "--source", str(frames), "--json"))) == 1
    assert len(lines(invoke(data, "--source", str(frames), "--json", "--debounce", "0"))) == 3


def test_a_camera_index_that_does_not_exist(data):
    result = invoke(data, "--source", "42", expect=1)
    assert result.stderr == "Error: no camera at index 42\n" and result.stdout == ""
    result = invoke(data, "--source", "42", "--json", expect=1)
    assert json.loads(result.stdout) == {"error": "scanner_problem",
                                         "message": "no camera at index 42"}


def test_a_corrupted_video_file_and_a_missing_path(tmp_path, data):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(random.Random(9).randbytes(5000))
    assert invoke(data, "--source", str(bad), expect=1).stderr == \
        f"Error: cannot decode video file {bad}\n"
    assert "no such file or folder" in invoke(data, "--source", str(tmp_path / "nope"),
                                              expect=1).stderr


def test_usage_errors_and_help(data, tmp_path):
    # no --source: the settings' scanner.source, here a camera that does not exist
    (data / "nafitha.toml").write_text('[scanner]\nsource = "42"\n')
    assert "no camera at index 42" in invoke(data, expect=1).stderr
    assert "WIDTHxHEIGHT" in invoke(data, "--source", str(tmp_path), "--size", "big",
                                    expect=2).stderr
    invoke(data, "--source", str(tmp_path), "--max-frames", "0", expect=2)
    help_text = invoke(data, "--help").stdout
    assert help_text.rstrip().splitlines()[-4].strip() == "Example:"
    assert "nafitha --data ./data scan --source 0 --verify" in help_text


def test_verify_without_a_trusted_root_warns(tmp_path):
    frames = folder(tmp_path / "frames", {"1.png": qr_frame(signed_licence(),
                                                            size=(640, 480))})
    result = invoke(tmp_path / "empty", "--source", str(frames), "--verify", "--json")
    assert lines(result)[0]["verification"]["reason"] == "unknown_issuer"
    assert "no trusted root key" in result.stderr


def test_a_live_camera_runs_until_the_timeout(data, monkeypatch):
    camera = FakeFrameSource([qr_frame("NFT:MUH:R001", size=(320, 240), scale=3)] * 5)
    monkeypatch.setattr(capture, "open_source", lambda spec, w, h: camera)
    start = time.monotonic()
    result = invoke(data, "--source", "0", "--timeout", "0.1", "--json")
    assert 0.1 <= time.monotonic() - start < 2
    assert [o["text"] for o in lines(result)] == ["NFT:MUH:R001"]
    assert camera.calls[-1] == "close"


def test_a_camera_lost_for_good_is_an_error_at_the_end(data, monkeypatch):
    camera = FakeFrameSource([blank_frame()], fail_after=1, down_for=None)
    monkeypatch.setattr(capture, "open_source", lambda spec, w, h: camera)
    monkeypatch.setattr(scan_cli, "RETRY_S", 5.0)  # still waiting when the timeout comes
    # 1 s: time for the one frame and the failure on a busy machine, well before the retry
    result = invoke(data, "--source", "0", "--timeout", "1", expect=1)
    assert result.stderr.startswith("scanner fake camera: fake camera unplugged; retrying "
                                    "until it is back\n")
    # at the timeout it was waiting to retry: that is the state it ends in
    assert result.stderr.endswith("Error: fake camera unplugged; retrying in 5 s\n")


def test_a_camera_that_comes_back_is_reported_once_each_way(data, monkeypatch):
    code = qr_frame("NFT:MUH:R001", size=(320, 240), scale=3)
    camera = FakeFrameSource([blank_frame(), code], fail_after=1, down_for=0)
    monkeypatch.setattr(capture, "open_source", lambda spec, w, h: camera)
    monkeypatch.setattr(scan_cli, "RETRY_S", 0.01)
    result = invoke(data, "--source", "0", "--timeout", "0.1", "--json")
    assert [o["text"] for o in lines(result)] == ["NFT:MUH:R001"]  # read after the return
    assert result.stderr.splitlines() == [
        "scanner fake camera: fake camera unplugged; retrying until it is back",
        "scanner fake camera is back"]


def test_the_source_comes_from_the_settings_when_not_given(tmp_path):
    import segno
    from click.testing import CliRunner

    from nafitha.cli import cli

    frames = tmp_path / "frames"
    frames.mkdir()
    segno.make("NFT:MUH:01M8693800V3RS3DTR98H6BCFN", error="m").save(
        frames / "a.png", scale=6, border=4)
    (tmp_path / "nafitha.toml").write_text(f'[scanner]\nsource = "{frames}"\n')
    out = CliRunner().invoke(cli, ["--data", str(tmp_path), "scan", "--json"])
    assert out.exit_code == 0, out.stderr
    (record,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert record["code"]["kind"] == "ticket"
    bad = CliRunner().invoke(cli, ["--data", str(tmp_path), "scan", "--size", "big"])
    assert bad.exit_code == 2 and "WIDTHxHEIGHT" in bad.stderr


def test_a_serial_scanner_from_the_settings_feeds_the_same_stream(tmp_path):
    import threading

    from click.testing import CliRunner

    from devices.scanning.fakes import PtySerialScanner, blank_frame
    from nafitha.cli import cli

    frames = folder(tmp_path / "frames", {"1.png": blank_frame()})
    scanner = PtySerialScanner()
    try:
        (tmp_path / "nafitha.toml").write_text(
            f'[scanner]\nsource = "{frames}"\nserial_port = "{scanner.path}"\n')
        timer = threading.Timer(0.4, scanner.scan, ["NFA:MUH:MUH-D01-A2026-000001"])
        timer.start()
        out = CliRunner().invoke(cli, ["--data", str(tmp_path), "scan", "--json",
                                       "--timeout", "1.5"])
        timer.join()
    finally:
        scanner.close()
    assert out.exit_code == 0, out.stderr
    (record,) = lines(out)
    assert record["source"] == "serial" and record["code"]["kind"] == "application"
