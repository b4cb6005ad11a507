"""One owner per table family (docs/architecture.md): the SQL that reads or writes a table is
in its owner's module and nowhere else in the shipped code (core/migrations.py creates the
schema, and the store's generic insert/update helpers name no table). The table in
docs/architecture.md lists the same owners."""
from __future__ import annotations

import re
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
OWNERS = {
    "identity": "core/store.py", "sequences": "core/store.py",
    "audit": "core/audit.py", "audit_head": "core/audit.py",
    "outbox": "core/outbox.py",
    "tickets": "core/queue.py", "ticket_events": "core/queue.py", "counters": "core/queue.py",
    "applications": "core/applications.py",
    "shifts": "core/payments.py", "payments": "core/payments.py",
    "card_reconciliations": "core/payments.py",
    "licences": "core/licences.py",
    "print_jobs": "core/printing.py",
    "users": "core/users.py",
    "reference": "core/reference.py",
    "sync_state": "core/sync_state.py",
    "hub_devices": "core/pairing.py", "hub_pairings": "core/pairing.py",
    "hub_sessions": "core/pairing.py",
    "resident_keys": "core/sealing.py",
    "hub_replies": "core/idempotency.py",
    "document_files": "core/attachments.py", "application_documents": "core/attachments.py",
    "document_requests": "core/attachments.py",
    "bills": "core/bills.py",
    "device_health": "core/health.py",
    "counter_states": "core/counter_states.py",
    # The KPI facts (m020 builds them from core.kpis.FACT_TABLES) and their one-off backfill.
    **{t: "core/kpis.py" for t in ("kpi_visits", "kpi_counter_time", "kpi_applications",
                                   "kpi_licences", "kpi_payments", "kpi_backfill")},
    "ticket_ratings": "core/ratings.py",
    **{t: "core/messages.py" for t in ("message_consents", "message_subscriptions",
                                       "messages")},
    "follow_secrets": "core/follow.py",
    "appointment_visits": "core/appointments.py",
}
SHIPPED = ("core", "devices", "ui", "kiosk", "counter", "hub", "hubclient", "sync", "nafitha")
SCHEMA = {"core/migrations.py"}
SQL = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\s+([a-z_]+)\b")
HELPER = re.compile(r"""\.(?:insert|update)\(\s*["']([a-z_]+)["']""")


def tables_used(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    return {t for t in SQL.findall(text) + HELPER.findall(text) if t in OWNERS}


def test_every_table_of_the_schema_has_an_owner():
    schema = set(re.findall(r"CREATE TABLE ([a-z_]+)", (ROOT / "core/migrations.py")
                            .read_text(encoding="utf-8")))
    rebuilt = {t for t in schema if t.endswith("_new")}  # a migration's temporary copy
    from core.kpis import FACT_TABLES  # m020 creates these from their one spec
    schema |= set(FACT_TABLES)
    assert schema - rebuilt == set(OWNERS)


def test_sql_on_each_table_lives_only_in_its_owner():
    strays = {}
    for package in SHIPPED:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            if name in SCHEMA:
                continue
            wrong = sorted(t for t in tables_used(path) if OWNERS[t] != name)
            if wrong:
                strays[name] = wrong
    assert strays == {}


def test_each_owner_really_holds_its_tables_sql():
    for table, owner in OWNERS.items():
        assert table in tables_used(ROOT / owner), (table, owner)


def test_the_checker_sees_sql_and_the_store_helpers(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text('store.one("SELECT 1 FROM outbox WHERE sent_at IS NULL")\n'
                      'store.insert("tickets", row)\nstore.update( "users", "u", 1, {})\n'
                      '"from applications we learn"  # prose, lower case: not SQL\n')
    assert tables_used(sample) == {"outbox", "tickets", "users"}


def test_the_architecture_page_lists_the_same_owners():
    page = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    listed = {}
    for line in page.splitlines():
        cells = [c.strip(" `") for c in line.split("|")[1:-1]]
        if len(cells) >= 2 and cells[1].startswith("core/") and cells[1].endswith(".py"):
            for table in re.findall(r"[a-z_]+", cells[0]):
                if table in OWNERS:
                    listed[table] = cells[1]
    assert listed == OWNERS


# Private members used outside `self`, each for a reason; anything else is one module
# reaching into another's insides (as `applications._row`, `queue._ticket`, `store._actor`
# once did). Keyed by file and the text of the access.
PRIVATE_ACCESS_ALLOWED = {
    ("core/store.py", "store._check_identity"),          # Store.open, on the store it opened
    ("devices/payment/simulator.py", "terminal._stop"),  # the simulator's own pty side
    ("devices/payment/simulator.py", "terminal._master"),
    ("devices/printing/escpos_encode.py", "printer._raw"),  # python-escpos's raw-bytes call
    ("devices/documents/scanner.py", "sane._sane"),  # python-sane's only error class
    ("ui/env.py", "handler._nafitha"),                   # a mark on our own log handler
}
PRIVATE = re.compile(r"\b(?!self\b|cls\b)([a-z_][\w.]*\._[a-z]\w*)")


def private_accesses(path: Path) -> set[str]:
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        code = line.split("#")[0]
        for match in PRIVATE.findall(code):
            if not match.startswith(("self.", "cls.")) and "__" not in match:
                found.add(match)
    return found


def test_no_module_reaches_into_another_modules_private_members():
    strays = sorted((str(path.relative_to(ROOT)), access)
                    for package in SHIPPED for path in sorted((ROOT / package).rglob("*.py"))
                    for access in private_accesses(path)
                    if (str(path.relative_to(ROOT)), access) not in PRIVATE_ACCESS_ALLOWED)
    assert strays == []


def test_the_private_access_check_sees_one(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("row = self.office.applications._row(n)\nself._mine = 1\n"
                      "actor = store._actor  # a comment: office._x\n")
    assert private_accesses(sample) == {"office.applications._row", "store._actor"}
