"""Supporting documents' files from an office to central (sync/uploads.py, central/documents.py)
over real HTTP, through a local TCP proxy that drops connections, cuts replies short and
throttles (bench/_document_upload.py LinkProxy).

What "nothing is re-sent beyond the chunk in flight" means here, measured two ways:
- central.documents.received_bytes counts chunk bodies central read whole: after any drop,
  cut reply or kill it equals the files' sizes exactly (no chunk central had is sent again);
- proxy.bytes_up counts what went onto the link: at most the files plus one chunk per drop
  (the chunk cut in flight) plus the requests' heads."""
from __future__ import annotations

import hashlib
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa

from central.db import document_files
from central.service import CentralError
from sync import protocol
from sync.agent import SyncAgent, SyncError

from bench_loader import load_bench

NAFITHA = str(Path(sys.executable).with_name("nafitha"))
PERMIT = {"full_name": "فاطمة علي", "national_id": "850100018", "phone": "33334444",
          "block": "204", "road": "15", "building": "12", "parcel": "02-1234",
          "area_m2": "45"}
HEADS = 2_000  # generous bytes of request head (and small JSON) per request on the link
bench = load_bench("_document_upload")


def permit(office, n: int = 1) -> dict:
    from core.text import with_check_digit
    return office.applications.submit("building-permit-small", {
        **PERMIT, "national_id": with_check_digit(f"{85010000 + n:08d}", "luhn")})


def add_pages(office, app, count: int, size: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    return [office.attachments.add_page(app["id"], "drawing", bench.noise_jpeg(rng, size),
                                        "image/jpeg", "import", "sara")
            for _ in range(count)]


def pushed(office, url: str) -> SyncAgent:
    """The office's events pushed straight to central (not through a proxy)."""
    agent = SyncAgent(office, url=url)
    agent.push()
    return agent


def upstream(server) -> tuple[str, int]:
    return ("127.0.0.1", int(server.url.rsplit(":", 1)[1]))


def held(central) -> set[str]:
    with central.engine.connect() as conn:
        return set(conn.execute(sa.select(document_files.c.sha256)).scalars())


def assert_held_whole(central, pages) -> None:
    """Every page's file is at central once, its bytes those captured."""
    assert held(central) >= {p["sha256"] for p in pages}
    for p in pages:
        data = central.documents.path(p["sha256"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == p["sha256"]
    partial = central.documents.root / "partial"
    assert not partial.exists() or not any(f.is_file() for f in partial.rglob("*"))


def until_uploaded(agent, office, deadline_s: float = 120, step=None) -> int:
    """Rounds until the office has nothing waiting; returns how many rounds failed."""
    step = step or agent.once
    failures, deadline = 0, time.monotonic() + deadline_s
    while office.attachments.pending()["files"]:
        assert time.monotonic() < deadline, office.attachments.pending()
        try:
            step()
        except SyncError as exc:
            assert exc.kind in ("offline", "protocol"), exc
            failures += 1
    return failures


# --- a link that drops --------------------------------------------------------------------------
def test_a_20_mb_set_completes_over_a_link_that_drops_every_few_seconds(
        make_central, serve, make_office):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    pages = add_pages(office, permit(office), 11, 1_900_000)
    total = sum(p["bytes"] for p in pages)
    assert total >= 20_000_000
    pushed(office, server.url)
    assert office.attachments.pending() == {"files": 11, "bytes": total}
    with bench.LinkProxy(upstream(server), rate=4_000_000, cut_every_s=1.5) as proxy:
        agent = SyncAgent(office, url=proxy.url)
        failures = until_uploaded(agent, office)
    assert proxy.cuts >= 2 and failures >= 2  # it did drop, every 1.5 s
    assert_held_whole(central, pages)
    assert office.attachments.pending() == {"files": 0, "bytes": 0}
    # No chunk central had was sent again; on the link, one chunk at most per drop.
    assert central.documents.received_bytes == total
    assert proxy.bytes_up <= total + proxy.cuts * protocol.MAX_UPLOAD_CHUNK_BYTES + \
        HEADS * (total // protocol.MIN_UPLOAD_CHUNK_BYTES)


def test_connections_dropped_mid_chunk_resend_only_the_chunk_cut(
        make_central, serve, make_office):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    pages = add_pages(office, permit(office), 4, 1_500_000, seed=2)
    total = sum(p["bytes"] for p in pages)
    pushed(office, server.url)
    rng = random.Random(5)
    # Each connection carries 200-900 kB towards central, then is cut wherever that falls.
    with bench.LinkProxy(upstream(server), cut_after=lambda: rng.randint(200_000, 900_000)) \
            as proxy:
        agent = SyncAgent(office, url=proxy.url)
        until_uploaded(agent, office, step=agent.uploader.upload_all)
    assert proxy.cuts >= 5
    assert_held_whole(central, pages)
    assert central.documents.received_bytes == total
    lost = proxy.bytes_up - total  # bytes of chunks cut in flight, and heads
    assert 0 < lost <= proxy.cuts * protocol.MAX_UPLOAD_CHUNK_BYTES + HEADS * 200


def test_replies_cut_short_make_the_device_send_nothing_again(
        make_central, serve, make_office):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    pages = add_pages(office, permit(office), 2, 1_500_000, seed=3)
    total = sum(p["bytes"] for p in pages)
    pushed(office, server.url)
    with bench.LinkProxy(upstream(server), truncate_replies={2, 4, 7}) as proxy:
        agent = SyncAgent(office, url=proxy.url)
        failures = until_uploaded(agent, office, step=agent.uploader.upload_all)
    assert proxy.cuts == 3 and failures == 3
    assert_held_whole(central, pages)
    # Central stored each chunk whose reply was cut; the device asked, and went on from there.
    assert central.documents.received_bytes == total
    assert proxy.bytes_up - total < HEADS * 40


# --- a killed agent -------------------------------------------------------------------------------
def _agent_env(office, url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAFITHA_")}
    env.update({"NAFITHA_DATA": str(office.settings.data_dir),
                "NAFITHA_OFFICE__CODE": office.settings.office.code,
                "NAFITHA_DEVICE__ID": office.settings.device.id,
                "NAFITHA_SYNC__URL": url, "PYTHONUNBUFFERED": "1"})
    return env


def test_an_agent_killed_mid_upload_resumes_where_central_stands(
        make_central, serve, make_office, tmp_path):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    pages = add_pages(office, permit(office), 4, 1_500_000, seed=4)
    total = sum(p["bytes"] for p in pages)
    log = tmp_path / "agent.log"
    with bench.LinkProxy(upstream(server), rate=2_000_000) as proxy:
        env = _agent_env(office, proxy.url)
        with open(log, "ab") as fh:
            proc = subprocess.Popen([NAFITHA, "sync", "run"], env=env, stdout=fh, stderr=fh,
                                    stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while central.documents.received_bytes < 2_500_000:  # mid-upload
                assert proc.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        before = central.documents.received_bytes
        assert before < total and office.attachments.pending()["files"] >= 2
        again = subprocess.run([NAFITHA, "sync", "once"], env=env, capture_output=True,
                               check=False, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
    assert_held_whole(central, pages)
    assert office.attachments.pending() == {"files": 0, "bytes": 0}
    # Nothing central had was sent again, but the chunk in flight when the agent died: the
    # proxy may still be delivering it when the new agent asks where central stands, and the
    # new agent's chunk at that offset is then refused (409) and read twice.
    assert total <= central.documents.received_bytes <= total + protocol.MAX_UPLOAD_CHUNK_BYTES
    # On the link: the files, the one chunk in flight when the agent died (and its twin),
    # the events and reference data (small), and the heads.
    assert proxy.bytes_up <= total + 2 * protocol.MAX_UPLOAD_CHUNK_BYTES + 200_000


# --- hashes ---------------------------------------------------------------------------------------
class CorruptFirstPut(requests.Session):
    """A link that flips one byte of the first chunk it carries (TCP's checksum missed it)."""

    def __init__(self):
        super().__init__()
        self.corrupted = 0

    def request(self, method, url, **kw):
        if method == "PUT" and not self.corrupted:
            data = bytearray(kw["data"])
            data[100] ^= 0xFF
            kw["data"] = bytes(data)
            self.corrupted += 1
        return super().request(method, url, **kw)


def test_a_file_damaged_on_the_way_is_refused_and_sent_again(
        make_central, serve, make_office, caplog):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    [page] = add_pages(office, permit(office), 1, 600_000, seed=6)
    pushed(office, server.url)
    agent = SyncAgent(office, url=server.url, session=CorruptFirstPut())
    with caplog.at_level(logging.INFO):
        result = agent.uploader.upload_all()
    assert agent.session.corrupted == 1
    assert result["uploaded"] == 1 and result["failed"] == 0
    assert_held_whole(central, [page])
    assert central.documents.received_bytes == 2 * page["bytes"]  # refused, sent again whole
    assert office.attachments.pending()["files"] == 0
    assert "sending it again" in caplog.text
    assert "فاطمة" not in caplog.text and PERMIT["parcel"] not in caplog.text


def test_a_file_changed_on_the_device_is_refused_and_reported_not_resent(
        make_central, serve, make_office, caplog):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    [page] = add_pages(office, permit(office), 1, 400_000, seed=7)
    pushed(office, server.url)
    path = office.attachments.path_of(page["sha256"])
    data = bytearray(path.read_bytes())
    data[5000] ^= 0x55  # same size, other bytes: no longer the file the event names
    path.write_bytes(bytes(data))
    agent = SyncAgent(office, url=server.url)
    with caplog.at_level(logging.WARNING):
        result = agent.uploader.upload_all()
    assert result["uploaded"] == 0 and result["failed"] == 1
    assert page["sha256"] not in held(central)  # central refused what it got
    assert not central.documents.path(page["sha256"]).exists()
    assert office.attachments.pending()["files"] == 1  # not confirmed
    assert "no longer matches its hash" in agent.uploader.broken[page["sha256"]]
    assert caplog.text.count("not uploaded") == 1
    sent = central.documents.received_bytes
    assert sent == page["bytes"]
    assert agent.uploader.upload_all()["failed"] == 1  # reported, not sent again
    assert central.documents.received_bytes == sent
    assert caplog.text.count("not uploaded") == 1


def _device_headers(office) -> dict:
    from sync.agent import read_enrolment
    return {"Authorization": f"Bearer {read_enrolment(office.settings.data_dir)['token']}"}


def test_a_hostile_upload_whose_bytes_do_not_match_is_refused(make_central, serve, make_office):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    [page] = add_pages(office, permit(office), 1, 300_000, seed=8)
    pushed(office, server.url)
    sha, size = page["sha256"], page["bytes"]
    url = f"{server.url}{protocol.DOCUMENTS}/{sha}"
    headers = _device_headers(office)
    fake = random.Random(9).randbytes(size)
    offset = 0
    while offset < size:
        chunk = fake[offset:offset + protocol.MAX_UPLOAD_CHUNK_BYTES]
        reply = requests.put(url, data=chunk, headers={**headers, "Content-Range":
                             protocol.content_range(offset, offset + len(chunk) - 1, size)})
        offset += len(chunk)
    assert reply.status_code == 422 and reply.json()["error"] == "hash_mismatch"
    assert reply.json()["received"] == 0
    assert sha not in held(central) and not central.documents.path(sha).exists()
    assert requests.get(url, headers=headers).json() == {"received": 0, "complete": False,
                                                         "size": size}
    # The real file goes through afterwards.
    assert SyncAgent(office, url=server.url).uploader.upload_all()["uploaded"] == 1
    assert_held_whole(central, [page])


# --- once ---------------------------------------------------------------------------------------
def test_a_file_two_devices_hold_is_stored_once(make_central, serve, make_office):
    central = make_central()
    server = serve(central)
    north = make_office(central, server.url, office="MUH", device="D01", seed=1)
    south = make_office(central, server.url, office="SIT", device="D01", seed=2)
    data = bench.noise_jpeg(random.Random(10), 500_000)
    pages = [o.attachments.add_page(permit(o, n)["id"], "title_deed", data, "image/jpeg",
                                    "scanner", "sara") for n, o in ((1, north), (2, south))]
    assert pages[0]["sha256"] == pages[1]["sha256"]
    first = pushed(north, server.url)
    assert first.uploader.upload_all()["uploaded"] == 1
    second = pushed(south, server.url)
    assert second.uploader.upload_all()["uploaded"] == 1  # "complete" at once
    assert central.documents.received_bytes == len(data)  # sent once, by the first
    assert held(central) == {pages[0]["sha256"]}
    assert south.attachments.pending()["files"] == 0
    files = [f for f in central.documents.root.rglob("*") if f.is_file()]
    assert files == [central.documents.path(pages[0]["sha256"])]


# --- refused requests ---------------------------------------------------------------------------------
@pytest.fixture
def one_page(make_central, serve, make_office):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    [page] = add_pages(office, permit(office), 1, 300_000, seed=11)
    pushed(office, server.url)
    url = f"{server.url}{protocol.DOCUMENTS}/{page['sha256']}"
    headers = _device_headers(office)
    data = office.attachments.read(page["sha256"])
    first = requests.put(url, data=data[:1000], headers={
        **headers, "Content-Range": protocol.content_range(0, 999, len(data))})
    assert first.json() == {"received": 1000, "complete": False, "size": len(data)}
    return SimpleNamespace(central=central, server=server, office=office, page=page,
                           url=url, headers=headers, data=data)


def _unchanged(central, url, headers, received=1000) -> None:
    assert requests.get(url, headers=headers).json()["received"] == received
    assert not held(central)


def test_an_unknown_file_is_refused(one_page):
    central, url, headers = one_page.central, one_page.url, one_page.headers
    server = one_page.server
    other = hashlib.sha256(b"never captured").hexdigest()
    other_url = f"{server.url}{protocol.DOCUMENTS}/{other}"
    for reply in (requests.get(other_url, headers=headers),
                  requests.put(other_url, data=b"x" * 10, headers={
                      **headers, "Content-Range": "bytes 0-9/10"})):
        assert reply.status_code == 404 and reply.json()["error"] == "unknown_document"
    assert not (central.documents.root / "partial" / "MUH_D01" / other).exists()
    bad = requests.get(f"{server.url}{protocol.DOCUMENTS}/NOT-A-HASH", headers=headers)
    assert bad.status_code == 422
    assert requests.get(url).status_code == 401  # no token
    _unchanged(central, url, headers)


def test_another_devices_file_is_refused(one_page, make_office):
    central, url, headers, data = one_page.central, one_page.url, one_page.headers, \
        one_page.data
    other = make_office(central, one_page.server.url, office="SIT", device="D01", seed=3)
    reply = requests.put(url, data=data[1000:2000], headers={
        **_device_headers(other), "Content-Range": f"bytes 1000-1999/{len(data)}"})
    assert reply.status_code == 404 and reply.json()["error"] == "unknown_document"
    _unchanged(central, url, headers)


def test_a_chunk_at_the_wrong_offset_is_refused_with_centrals_offset(one_page):
    central, url, headers, data = one_page.central, one_page.url, one_page.headers, \
        one_page.data
    for start in (0, 500, 2000):
        reply = requests.put(url, data=data[start:start + 100], headers={
            **headers, "Content-Range": f"bytes {start}-{start + 99}/{len(data)}"})
        assert reply.status_code == 409
        assert reply.json()["error"] == "wrong_offset" and reply.json()["received"] == 1000
    _unchanged(central, url, headers)


@pytest.mark.parametrize("content_range, status, code", [
    ("bytes 1000-1099", 400, "invalid_range"),          # no total
    ("1000-1099/{n}", 400, "invalid_range"),            # no unit
    ("bytes 1099-1000/{n}", 400, "invalid_range"),      # end before start
    ("bytes 1000-1199/{n}", 400, "invalid_range"),      # 200 named, 100 sent
    ("bytes {n}-{n2}/{n}", 400, "invalid_range"),       # past the end
    ("bytes 1000-1099/{n1}", 422, "wrong_size"),        # not the size the event says
])
def test_a_wrong_content_range_is_refused(one_page, content_range, status, code):
    central, url, headers, data = one_page.central, one_page.url, one_page.headers, \
        one_page.data
    n = len(data)
    text = content_range.format(n=n, n1=n + 1, n2=n + 99)
    reply = requests.put(url, data=data[1000:1100], headers={**headers,
                                                             "Content-Range": text})
    assert (reply.status_code, reply.json()["error"]) == (status, code), reply.text
    _unchanged(central, url, headers)


def test_a_missing_content_range_is_refused(one_page):
    central, url, headers, data = one_page.central, one_page.url, one_page.headers, \
        one_page.data
    reply = requests.put(url, data=data[1000:1100], headers=headers)
    assert reply.status_code == 422
    _unchanged(central, url, headers)


def test_an_oversize_chunk_is_refused(one_page):
    central, url, headers, data = one_page.central, one_page.url, one_page.headers, \
        one_page.data
    big = b"\0" * (protocol.MAX_UPLOAD_CHUNK_BYTES + 1)
    end = 1000 + len(big) - 1
    reply = requests.put(url, data=big, headers={
        **headers, "Content-Range": f"bytes 1000-{end}/{end + 1}"})
    assert reply.status_code == 413
    _unchanged(central, url, headers)
    # A body over the limit without a length is cut off as it grows.
    def chunks():
        for _ in range(5):
            yield b"\0" * (256 * 1024)
    reply = requests.put(url, data=chunks(), headers={
        **headers, "Content-Range": f"bytes 1000-{1000 + 5 * 256 * 1024 - 1}/{len(data)}"})
    assert reply.status_code == 413
    _unchanged(central, url, headers)


# --- sync status and requests ---------------------------------------------------------------------
def test_sync_status_counts_the_documents_waiting(make_central, serve, make_office):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    pages = add_pages(office, permit(office), 2, 200_000, seed=12)
    env = _agent_env(office, server.url)

    def status() -> str:
        done = subprocess.run([NAFITHA, "sync", "status"], env=env, capture_output=True,
                              check=False,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout
    total = sum(p["bytes"] for p in pages)
    assert f"documents waiting for central: 2 file(s), {total} bytes" in status()
    SyncAgent(office, url=server.url).once()
    assert "documents waiting for central: 0 file(s), 0 bytes" in status()


def test_a_request_from_the_back_office_reaches_the_office_and_a_page_answers_it(
        make_central, serve, make_office):
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    app = permit(office)
    add_pages(office, app, 1, 200_000, seed=13)
    agent = SyncAgent(office, url=server.url)
    agent.once()
    asked = central.documents.request(app["number"], "title_deed", "the deed's second page",
                                      by="officer:huda")
    result = agent.once()
    assert result["pulled"]["changes"] >= 1
    row = next(d for d in office.attachments.checklist(app["id"]) if d["key"] == "title_deed")
    assert row["request"]["id"] == asked["id"]
    assert row["request"]["note"] == "the deed's second page"
    page = office.attachments.add_page(app["id"], "title_deed",
                                       bench.noise_jpeg(random.Random(14), 100_000),
                                       "image/jpeg", "camera", "sara")
    assert page["answers_request"] == asked["id"]
    agent.once()
    [answered] = central.documents.requests(app["number"])
    assert answered["answered_at"] is not None
    assert {p["doc_key"] for p in central.documents.pages(app["id"])} == {"drawing",
                                                                            "title_deed"}
    assert all(p["received"] for p in central.documents.pages(app["id"]))


@pytest.mark.parametrize("body", [
    {"application_id": "A", "doc_key": "drawing", "requested_by": "x", "requested_at": "t"},
    {"id": "R", "application_id": 7, "doc_key": "drawing", "requested_by": "x",
     "requested_at": "t"},
    {"id": "R", "application_id": "A", "doc_key": "drawing", "requested_by": "x",
     "requested_at": "t", "note": ["not", "text"]},
])
def test_a_malformed_document_request_refuses_the_whole_bundle(make_office, make_central,
                                                                serve, body):
    from sync.protocol import ProtocolError
    from sync.reference import apply_bundle
    central = make_central()
    office = make_office(central, serve(central).url)
    app = permit(office)
    good = {"version": 1, "kind": "document_request", "key": "R0", "body": {
        "id": "R0", "application_id": app["id"], "doc_key": "drawing", "note": "",
        "requested_by": "officer:huda", "requested_at": "2026-11-24T09:00:00+00:00"}}
    payload = {"full": False, "cursor": 2, "changes": [
        good, {"version": 2, "kind": "document_request", "key": "R", "body": body}]}
    with pytest.raises(ProtocolError):
        apply_bundle(office, payload)
    assert all(d["request"] is None for d in office.attachments.checklist(app["id"]))


def test_a_request_the_office_cannot_take_is_noted_and_the_rest_applies(
        make_office, make_central, serve):
    from sync.reference import apply_bundle
    central = make_central()
    office = make_office(central, serve(central).url)
    app = permit(office)
    at = "2026-11-24T09:00:00+00:00"
    payload = {"full": False, "cursor": 2, "changes": [
        {"version": 1, "kind": "document_request", "key": "R1", "body": {
            "id": "R1", "application_id": "01NOTHERE", "doc_key": "drawing", "note": "",
            "requested_by": "officer:huda", "requested_at": at, "number": "X"}},
        {"version": 2, "kind": "document_request", "key": "R2", "body": {
            "id": "R2", "application_id": app["id"], "doc_key": "drawing", "note": "p. 2",
            "requested_by": "officer:huda", "requested_at": at, "number": app["number"]}}]}
    summary = apply_bundle(office, payload)
    assert summary["document_requests"] == 1
    [drawing] = [d for d in office.attachments.checklist(app["id"]) if d["key"] == "drawing"]
    assert drawing["request"]["id"] == "R2" and drawing["request"]["note"] == "p. 2"
    applied = {r["key"]: r["note"] for r in office.store.all(
        "SELECT key, note FROM reference WHERE kind = 'document_request'")}
    assert applied["R2"] == "applied" and applied["R1"].startswith("not applied")
    assert apply_bundle(office, {**payload, "cursor": 3})["document_requests"] == 1  # once
    assert len(office.store.all("SELECT id FROM document_requests")) == 1


# --- a resident's erasure -----------------------------------------------------------------------
def test_erasing_the_resident_deletes_the_pages_files_at_central_and_at_the_office(
        make_central, serve, make_office):
    """The pages show the resident (a title deed names its owner): erasure takes their files
    at central at once, and at the office on its next pull, sent or not. A file another
    application's page also names stays. The rows (hashes, sizes) stay as the record; a
    device that still has an erased file cannot upload it again (410)."""
    central = make_central()
    server = serve(central)
    office = make_office(central, server.url)
    erased_app, kept_app = permit(office, 1), permit(office, 2)
    sent = add_pages(office, erased_app, 2, 60_000, seed=21)
    shared = add_pages(office, kept_app, 1, 60_000, seed=22)[0]
    again = office.attachments.add_page(erased_app["id"], "title_deed",
                                        office.attachments.read(shared["sha256"]),
                                        "image/jpeg", "camera", "sara")
    agent = SyncAgent(office, url=server.url)
    agent.once()
    unsent = add_pages(office, erased_app, 1, 60_000, seed=23)[0]  # captured, not sent yet
    agent.push()  # its event reaches central, its file does not
    assert held(central) == {p["sha256"] for p in sent} | {shared["sha256"]}

    result = central.erase_resident([erased_app["number"]], "resident's request")
    assert result["erased"] == [erased_app["number"]]
    assert held(central) == {shared["sha256"]}  # the shared bytes stay for the other one
    for p in sent:
        assert not central.documents.path(p["sha256"]).exists()
    assert central.documents.path(shared["sha256"]).exists()
    assert {p["sha256"] for p in central.documents.pages(erased_app["id"])} == {
        *(p["sha256"] for p in sent), again["sha256"], unsent["sha256"]}  # the record stays
    with pytest.raises(CentralError) as refused:
        central.documents.state({"key": agent_key(central, office)}, unsent["sha256"])
    assert (refused.value.status, refused.value.code) == (410, "erased")

    # The office pulls the erasure: the files leave at once, confirmed or not.
    agent.once()
    for p in (*sent, unsent):
        assert not office.attachments.path_of(p["sha256"]).exists()
    assert office.attachments.path_of(shared["sha256"]).exists()
    assert office.attachments.pending() == {"files": 0, "bytes": 0}
    assert office.attachments.to_upload() == []
    assert office.attachments.read(shared["sha256"])  # the other application's page stays


def agent_key(central, office) -> str:
    """The device key central knows this office's device by."""
    from central.db import devices
    with central.engine.connect() as conn:
        return conn.execute(sa.select(devices.c.key).where(
            devices.c.office == office.settings.office.code)).scalar_one()
