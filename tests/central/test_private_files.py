"""Central's files are readable by its own user only, whatever the home directory was."""
import os
import stat

import pytest
import sqlalchemy as sa

from central.service import Central
from core import private_files


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # what a fresh Debian login has: new files 0644
    yield
    os.umask(old)


def test_central_files_are_0600_in_an_existing_open_home(tmp_path, loose_umask):
    home = tmp_path / "central"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    central, _ = Central.init_root(home)
    with central.engine.begin() as conn:  # a write, so the WAL file exists
        conn.execute(sa.text("UPDATE meta SET value = value"))
    for name in ("central.db", "central.db-wal", "admin.token", "root.key"):
        assert (home / name).exists(), name
        assert mode(home / name) == 0o600, name
    central.engine.dispose()


def test_an_existing_world_readable_database_is_made_private(tmp_path, loose_umask):
    home = tmp_path / "central"
    central, _ = Central.init_root(home)
    central.engine.dispose()
    os.chmod(home / "central.db", 0o644)
    Central.open(home).engine.dispose()
    assert mode(home / "central.db") == 0o600


def test_write_private_tightens_an_existing_file_and_never_overwrites_a_key(tmp_path):
    token = tmp_path / "admin.token"
    token.write_text("old")
    os.chmod(token, 0o644)
    private_files.write_private(token, b"new")
    assert token.read_bytes() == b"new" and mode(token) == 0o600
    with pytest.raises(FileExistsError):
        private_files.write_private(token, b"other", overwrite=False)
    assert token.read_bytes() == b"new"
