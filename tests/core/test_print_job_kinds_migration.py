"""m005: print_jobs accepts application slips; an existing store keeps its jobs."""
from core import migrations
from core.office import Office


def test_upgrade_keeps_print_jobs_and_their_index(settings, clock, ids, monkeypatch):
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
    office = Office.open(settings, clock=clock, ids=ids)
    job = office.printing.enqueue("ticket", office.queue.take_ticket("R")["id"])
    office.close()
    monkeypatch.undo()
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        assert office.store.conn.execute("PRAGMA user_version").fetchone()[0] == \
            len(migrations.MIGRATIONS)
        assert office.printing.get(job["id"]) == job
        assert office.printing.next_job()["id"] == job["id"]
        assert office.store.one("SELECT name FROM sqlite_master WHERE name = "
                                "'print_jobs_pending'") is not None
    finally:
        office.close()
