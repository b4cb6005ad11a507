"""core/private_files.create_once: a secret made once, whatever the race, never read
half-written; the data key of the sealed personal values (core/sealing.py) is made with it."""
from __future__ import annotations

import os
import stat
import threading

from core import private_files
from core.sealing import DataKey


def test_many_threads_at_once_make_one_file_and_leave_no_draft(tmp_path):
    path = tmp_path / "keys" / "x.key"
    barrier, made, seen = threading.Barrier(8), [], []

    def go(n):
        barrier.wait()
        made.append(private_files.create_once(path, bytes([n]) * 32))
        seen.append(path.read_bytes())
    threads = [threading.Thread(target=go, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert made.count(True) == 1 and len(set(seen)) == 1 and len(seen[0]) == 32
    assert os.listdir(path.parent) == ["x.key"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_file_is_left_as_it_is(tmp_path):
    path = tmp_path / "x.key"
    path.write_bytes(b"mine")
    assert private_files.create_once(path, b"other") is False
    assert path.read_bytes() == b"mine"


def test_data_keys_opened_at_once_agree(tmp_path):
    """Two processes' first use of the store's data key (a kiosk and its sync agent)."""
    path = tmp_path / "keys" / "data.key"
    barrier, keys = threading.Barrier(6), []

    def go():
        barrier.wait()
        keys.append(DataKey(path).key())
    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 6 and len(set(keys)) == 1
    assert os.listdir(path.parent) == ["data.key"]
