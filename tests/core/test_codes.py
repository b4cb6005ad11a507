"""The QR codes of tickets, receipts and slips (core/codes.py), and the slip's token with the
office's slip secret (core/documents.py: slip_secret) that makes a slip's code unforgeable."""
from __future__ import annotations

import os
import stat
import threading

import pytest

from core import codes, documents
from core.errors import InvalidState
from core.office import Office


def test_codes_round_trip_and_use_the_alphanumeric_qr_set():
    alphabet = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    t = codes.ticket_code("MUH", "01M8693800V3RS3DTR98H6BCFN")
    a = codes.application_code("MUH", "MUH-D01-A2026-000001")
    assert set(t) <= alphabet and set(a) <= alphabet
    assert codes.parse(t) == ("ticket", "MUH", "01M8693800V3RS3DTR98H6BCFN")
    assert codes.parse(a) == ("application", "MUH", "MUH-D01-A2026-000001")


def test_other_text_is_not_a_code():
    for text in ("", "NF1:ABC", "NFT:MUH", "NFA:muh:X", "NFT:MUH:R 7", None, 42,
                 "NFA:MUH:" + "A" * 41):
        assert codes.parse(text) is None


# --- the slip's token (issue 22: holding the slip is what collects the licence) -------------

NUMBER = "MUH-D01-A2026-000123"


def test_a_slips_token_round_trips_and_parse_is_unchanged():
    secret = bytes(range(32))
    token = codes.collect_token(secret, NUMBER)
    assert len(token) == codes.TOKEN_LENGTH and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    slip = codes.application_code("MUH", NUMBER, token)
    assert slip == f"NFA:MUH:{NUMBER}:{token}" and "=" not in slip
    assert codes.parse(slip) == codes.parse(f"NFA:MUH:{NUMBER}") == ("application", "MUH", NUMBER)
    assert codes.token_of(slip) == token and codes.token_of(f" {slip}\n") == token
    assert codes.token_holds(secret, NUMBER, codes.token_of(slip))
    # Another secret, another number, a changed character, none at all: none holds.
    assert token != codes.collect_token(bytes(32), NUMBER)
    assert not codes.token_holds(bytes(32), NUMBER, token)
    assert not codes.token_holds(secret, "MUH-D01-A2026-000124", token)
    flipped = ("B" if token[0] == "A" else "A") + token[1:]
    for wrong in (flipped, token[:-1], token + "A", "", None):
        assert not codes.token_holds(secret, NUMBER, wrong)


def test_token_of_codes_without_one():
    for text in (f"NFA:MUH:{NUMBER}", "NFT:MUH:01ABC", "", None, 42, f"NFA:MUH:{NUMBER}:",
                 f"NFA:MUH:{NUMBER}:abc", f"NFA:MUH:{NUMBER}:AB=", f"NFA:MUH:{NUMBER}:A:B"):
        assert codes.token_of(text) is None
    # Only a slip carries one: a ticket's code with a fourth part is no code at all.
    assert codes.parse("NFT:MUH:01ABC:ABCDEFGHIJKL") is None
    for bad in (f"NFA:MUH:{NUMBER}:abc", f"NFA:MUH:{NUMBER}:", f"NFA:MUH:{NUMBER}:" + "A" * 33):
        assert codes.parse(bad) is None


def test_the_slip_printed_carries_the_token_and_the_receipt_does_not(office, submit_valid,
                                                                      till):
    app = submit_valid("residence-certificate")
    slip = documents.application(office, app["id"])["qr_text"]
    secret = documents.slip_secret(office.settings.data_dir)
    assert slip == codes.application_code("MUH", app["number"],
                                          codes.collect_token(secret, app["number"]))
    payment = office.payments.take(app["id"], "card", till.clerk, reference="AUTH 1")
    assert documents.receipt(office, payment["id"])["qr_text"] == \
        codes.application_code("MUH", app["number"])


def test_the_slip_secret_is_private_and_the_same_across_opens(settings, clock, ids,
                                                               certified):
    path = documents.slip_key_path(settings.data_dir)
    assert not path.exists()
    first = Office.open(settings, clock=clock, ids=ids)
    try:
        secret = documents.slip_secret(settings.data_dir)
    finally:
        first.close()
    assert len(secret) == documents.SLIP_KEY_BYTES and path.read_bytes() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = Office.open(settings, clock=clock, ids=ids)
    try:
        assert documents.slip_secret(second.settings.data_dir) == secret
    finally:
        second.close()
    assert sorted(p.name for p in path.parent.iterdir() if "slip" in p.name) == ["slip.key"]


def make_at_once(data_dir, makers: int = 8) -> list[bytes]:
    """slip_secret called by `makers` threads released together on a fresh data dir."""
    start, got = threading.Barrier(makers), []

    def make():
        start.wait()
        got.append(documents.slip_secret(data_dir))
    threads = [threading.Thread(target=make) for _ in range(makers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def test_threads_making_the_secret_at_once_end_with_one(tmp_path):
    for attempt in range(5):
        data_dir = tmp_path / f"race-{attempt}"
        got = make_at_once(data_dir)
        path = documents.slip_key_path(data_dir)
        assert len(got) == 8 and set(got) == {path.read_bytes()}
        assert os.listdir(path.parent) == ["slip.key"]  # no draft left behind


def test_losing_the_race_reads_the_winners_secret(tmp_path, monkeypatch):
    """Another process links its secret in between our look and our link: ours is dropped."""
    theirs = os.urandom(32)
    real_link = os.link

    def link_after_them(src, dst):
        documents.slip_key_path(tmp_path).write_bytes(theirs)
        return real_link(src, dst)
    monkeypatch.setattr(os, "link", link_after_them)
    assert documents.slip_secret(tmp_path) == theirs
    assert os.listdir(tmp_path / "keys") == ["slip.key"]


def test_a_damaged_slip_key_is_refused_and_left_alone(tmp_path):
    path = documents.slip_key_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"short")
    with pytest.raises(InvalidState, match="not a slip key"):
        documents.slip_secret(tmp_path)
    assert path.read_bytes() == b"short"
