"""A full disk at the command line: one line on stderr, exit 1, no traceback, nothing
changed (the disk is played by SQLite's max_page_count on every store the CLI opens)."""
from click.testing import CliRunner

from core.store import Store
from nafitha.cli import cli


def test_a_full_disk_is_one_line_and_exit_1(tmp_path, monkeypatch):
    runner = CliRunner()
    data = ["--data", str(tmp_path / "data")]
    assert runner.invoke(cli, [*data, "init"]).exit_code == 0
    real_open = Store.open.__func__

    def open_on_a_full_disk(cls, *args, **kwargs):
        store = real_open(cls, *args, **kwargs)
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")
        return store

    monkeypatch.setattr(Store, "open", classmethod(open_on_a_full_disk))
    taken = 0
    for _ in range(200):
        result = runner.invoke(cli, [*data, "ticket", "take", "R"])
        if result.exit_code:
            break
        taken += 1
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the disk is full: ")
    assert lines[0].endswith("; nothing was changed")
    assert "Traceback" not in result.output
    monkeypatch.undo()
    listed = runner.invoke(cli, [*data, "queue", "list", "--json"])
    assert listed.exit_code == 0 and listed.stdout.count('"number"') == taken
