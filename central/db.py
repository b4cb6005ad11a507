"""Central's tables (SQLAlchemy Core) and its database: SQLite by default, PostgreSQL by URL.

The schema is created and upgraded by Alembic (central/migrations); a test checks the
migrated database matches these definitions exactly."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from core.errors import NafithaError
from core.kpis import FACT_TABLES

metadata = sa.MetaData()
Text, Int, Big = sa.Text, sa.Integer, sa.BigInteger

meta = sa.Table(  # one-off values: the reference floor, the search index's backfill
    "meta", metadata,
    sa.Column("key", Text, primary_key=True),
    sa.Column("value", Text, nullable=False))

municipalities = sa.Table(  # each owns offices; its staff see only its own (docs/console.md)
    "municipalities", metadata,
    sa.Column("code", Text, primary_key=True),  # 1-8 capital letters or digits
    sa.Column("name_ar", Text, nullable=False),
    sa.Column("name_en", Text, nullable=False),
    sa.Column("created_at", Text, nullable=False))

offices = sa.Table(
    "offices", metadata,
    sa.Column("code", Text, primary_key=True),
    sa.Column("created_at", Text, nullable=False),
    # None: not yet given to a municipality (seen by national staff only)
    sa.Column("municipality", Text, index=True),
    # The zone its days and hours are counted in (central/reports.py); None: Asia/Bahrain
    sa.Column("timezone", Text))

enrol_codes = sa.Table(
    "enrol_codes", metadata,
    sa.Column("code_hash", Text, primary_key=True),
    sa.Column("office", Text, sa.ForeignKey("offices.code"), nullable=False),
    sa.Column("licence_types", Text, nullable=False),  # JSON list
    sa.Column("created_at", Text, nullable=False),
    sa.Column("expires_at", Text, nullable=False),
    sa.Column("used_at", Text),
    sa.Column("used_by", Text),
    sa.Column("role", Text, nullable=False, server_default="hub"))  # the device it enrols

devices = sa.Table(
    "devices", metadata,
    sa.Column("key", Text, primary_key=True),  # OFFICE/DEVICE
    sa.Column("office", Text, sa.ForeignKey("offices.code"), nullable=False),
    sa.Column("device_id", Text, nullable=False),
    sa.Column("public_key", Text, nullable=False),
    sa.Column("certificate", Text, nullable=False),  # base64 COSE
    sa.Column("token_hash", Text, nullable=False, unique=True),
    sa.Column("token_expires_at", Text, nullable=False),
    sa.Column("enrolled_at", Text, nullable=False),
    sa.Column("revoked_at", Text),
    sa.Column("role", Text, nullable=False, server_default="hub"),  # DEVICE_ROLES
    sa.Column("last_contact_at", Text),
    sa.Column("last_seq", Big, nullable=False, server_default="0"),
    sa.Column("received", Big, nullable=False, server_default="0"),
    sa.Column("backlog", Big),  # the device's outbox after its last batch, as it reported
    sa.Column("clock_skew_s", Int),
    sa.Column("last_device_time", Text),
    # As the device's latest batch said (docs/sync.md); None: an older device ("unknown")
    sa.Column("oldest_pending_at", Text),
    sa.Column("app_version", Text),
    sa.UniqueConstraint("office", "device_id"))

events = sa.Table(
    "events", metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("device_key", Text, sa.ForeignKey("devices.key"), nullable=False),
    sa.Column("seq", Big, nullable=False),
    sa.Column("type", Text, nullable=False),
    sa.Column("entity_id", Text, nullable=False),
    sa.Column("at", Text, nullable=False),
    sa.Column("received_at", Text, nullable=False),
    sa.Column("body_hash", Text, nullable=False),
    sa.Column("body", Text, nullable=False),
    # Held but not applied: why central refused it (it touches what is not the device's).
    # Kept so the device's audit chain stays whole; a resend is judged again.
    sa.Column("refused", Text),
    sa.Column("refused_reason", Text),
    sa.UniqueConstraint("device_key", "seq"),
    sa.Index("events_entity", "entity_id"))  # an application's history (central/backoffice.py)

audit = sa.Table(
    "audit", metadata,
    sa.Column("device_key", Text, primary_key=True),
    sa.Column("seq", Big, primary_key=True),
    sa.Column("at", Text, nullable=False),
    sa.Column("actor", Text, nullable=False),
    sa.Column("action", Text, nullable=False),
    sa.Column("entity_type", Text, nullable=False),
    sa.Column("entity_id", Text, nullable=False),
    sa.Column("prev_hash", Text, nullable=False),
    sa.Column("hash", Text, nullable=False))

rejections = sa.Table(
    "rejections", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("at", Text, nullable=False),
    sa.Column("device_key", Text),
    sa.Column("event_id", Text),
    sa.Column("status", Int, nullable=False),
    sa.Column("reason", Text, nullable=False),
    # What was refused, identified, never kept: "sha256:<hex>:<bytes>" (a body may hold
    # residents' names and IDs; docs/privacy.md).
    sa.Column("body", Text),
    sa.Index("rejections_at", "at"))

applications = sa.Table(
    "applications", metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("number", Text, nullable=False, unique=True),
    sa.Column("office", Text, nullable=False),
    sa.Column("device_key", Text, nullable=False),
    sa.Column("service_code", Text, nullable=False),
    sa.Column("state", Text, nullable=False),
    sa.Column("issue_mode", Text),
    sa.Column("fee_minor", Big, nullable=False),
    sa.Column("currency", Text, nullable=False),
    sa.Column("body", Text, nullable=False),
    sa.Column("source_seq", Big, nullable=False),
    sa.Column("submitted_at", Text))  # at the office, UTC; None while a draft

payments = sa.Table(
    "payments", metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("receipt_number", Text, nullable=False, unique=True),
    sa.Column("application_id", Text, nullable=False),
    sa.Column("office", Text, nullable=False),
    sa.Column("device_key", Text, nullable=False),
    sa.Column("method", Text, nullable=False),
    sa.Column("amount_minor", Big, nullable=False),
    sa.Column("currency", Text, nullable=False),
    sa.Column("voided_at", Text),
    sa.Column("body", Text, nullable=False),
    sa.Column("source_seq", Big, nullable=False),
    sa.Index("payments_application", "application_id"))

licences = sa.Table(
    "licences", metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("number", Text, nullable=False, unique=True),
    sa.Column("application_id", Text, nullable=False),
    sa.Column("office", Text, nullable=False),
    sa.Column("device_key", Text, nullable=False),
    sa.Column("licence_type", Text, nullable=False),
    sa.Column("issued_at", Text, nullable=False),
    sa.Column("valid_until", Text, nullable=False),
    sa.Column("reprint_count", Int, nullable=False, server_default="0"),
    sa.Column("revoked_at", Text),
    sa.Column("revoke_reason", Text),
    sa.Column("revoked_by", Text),  # "office" (revoked at the counter) or "central"
    sa.Column("signed_payload", Text, nullable=False),
    sa.Column("source_seq", Big, nullable=False),
    sa.Index("licences_application", "application_id"),
    sa.Index("licences_issued", "issued_at", "id"))  # the licences page, newest first

reference = sa.Table(  # the reference stream: every change gets the next version
    "reference", metadata,
    sa.Column("version", Int, primary_key=True, autoincrement=True),
    sa.Column("kind", Text, nullable=False),
    sa.Column("key", Text, nullable=False),
    sa.Column("office", Text),  # None: for every office
    sa.Column("body", Text, nullable=False),
    sa.Column("at", Text, nullable=False),
    sa.Index("reference_kind_key", "kind", "key"))

decisions = sa.Table(
    "decisions", metadata,
    sa.Column("application_id", Text, primary_key=True),
    sa.Column("state", Text, nullable=False),
    sa.Column("reason", Text),
    sa.Column("conditions", Text, nullable=False, server_default=""),
    sa.Column("decided_by", Text, nullable=False),
    sa.Column("decided_at", Text, nullable=False))

resident_keys = sa.Table(  # docs/privacy.md: each application's key, wrapped by home/data.key
    "resident_keys", metadata,
    sa.Column("application_id", Text, primary_key=True),
    sa.Column("office", Text, nullable=False),
    sa.Column("device_key", Text, nullable=False),
    sa.Column("wrapped", Text),  # None once erased
    sa.Column("received_at", Text, nullable=False),
    sa.Column("erased_at", Text),
    sa.Column("erase_reason", Text),
    sa.Column("erased_by", Text))

# --- what the back office reads (central/backoffice.py owns these two) ---------------------
awaiting = sa.Table(  # applications waiting for a back-office decision: a few thousand of 1M
    "awaiting", metadata,
    sa.Column("application_id", Text, primary_key=True),
    sa.Column("number", Text, nullable=False),
    sa.Column("office", Text, nullable=False),
    sa.Column("service_code", Text, nullable=False),
    sa.Column("submitted_at", Text, nullable=False),
    sa.Index("awaiting_order", "submitted_at", "application_id"),
    sa.Index("awaiting_office", "office", "submitted_at"),
    sa.Index("awaiting_service", "service_code", "submitted_at"))

search_tags = sa.Table(  # blind index: HMAC of a national ID or a name word, by home/search.key
    "search_tags", metadata,
    sa.Column("tag", Text, primary_key=True),
    sa.Column("application_id", Text, primary_key=True),
    sa.Index("search_tags_application", "application_id"))

revocation_lists = sa.Table(
    "revocation_lists", metadata,
    sa.Column("number", Int, primary_key=True),
    sa.Column("issued_at", Text, nullable=False),
    sa.Column("list", Text, nullable=False))  # base64 COSE, as devices install it


# --- supporting documents (central/documents.py owns these three) ---------------------------
document_pages = sa.Table(  # the pages offices' events name: one row per document_added event
    "document_pages", metadata,
    sa.Column("event_id", Text, primary_key=True),
    sa.Column("office", Text, nullable=False),
    sa.Column("device_key", Text, nullable=False),
    sa.Column("application_id", Text, nullable=False),
    sa.Column("doc_key", Text, nullable=False),
    sa.Column("page", Int, nullable=False),
    sa.Column("sha256", Text, nullable=False),
    sa.Column("bytes", Big, nullable=False),
    sa.Column("media_type", Text, nullable=False),
    sa.Column("source", Text),
    sa.Column("added_at", Text, nullable=False),
    sa.Column("removed_at", Text),  # a document_removed event for this page arrived
    sa.Index("document_pages_application", "application_id", "doc_key", "page"),
    sa.Index("document_pages_sha", "sha256", "device_key"))

document_files = sa.Table(  # files held, each once: home/documents/<sha[:2]>/<sha>
    "document_files", metadata,
    sa.Column("sha256", Text, primary_key=True),
    sa.Column("bytes", Big, nullable=False),
    sa.Column("media_type", Text, nullable=False),
    sa.Column("stored_at", Text, nullable=False))

document_requests = sa.Table(  # "please bring ...": published to the office's devices
    "document_requests", metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("application_id", Text, nullable=False),
    sa.Column("office", Text, nullable=False),
    sa.Column("doc_key", Text, nullable=False),
    sa.Column("note", Text, nullable=False, server_default=""),
    sa.Column("requested_by", Text, nullable=False),
    sa.Column("requested_at", Text, nullable=False),
    sa.Column("answered_at", Text),
    sa.Index("document_requests_application", "application_id"))


# --- central as the biller (central/bills.py owns these four) -------------------------------
bills = sa.Table(  # one row per bill number, from the offices' bill.* events
    "bills", metadata,
    sa.Column("number", Text, primary_key=True),
    sa.Column("office", Text, nullable=False),
    sa.Column("device_key", Text, nullable=False),
    sa.Column("application_id", Text, nullable=False),
    sa.Column("application_number", Text, nullable=False),
    sa.Column("amount_minor", Big, nullable=False),
    sa.Column("currency", Text, nullable=False),
    sa.Column("due_at", Text, nullable=False),
    sa.Column("issued_at", Text, nullable=False),
    sa.Column("cancelled_at", Text),
    sa.Column("cancel_reason", Text),
    sa.Column("paid_at", Text),  # a network's payment central accepted
    sa.Column("paid_transaction", Text),
    sa.Column("office_paid_at", Text),  # the office's bill.paid: it applied the payment
    sa.Index("bills_application", "application_id"))

bill_notifications = sa.Table(  # each network transaction, once: the first notification
    "bill_notifications", metadata,
    sa.Column("transaction_id", Text, primary_key=True),
    sa.Column("network", Text, nullable=False),
    sa.Column("bill_number", Text, nullable=False),
    sa.Column("amount_minor", Big, nullable=False),
    sa.Column("paid_at", Text, nullable=False),  # UTC
    sa.Column("paid_date", Text, nullable=False),  # its settlement day: paid_at's UTC date
    sa.Column("received_at", Text, nullable=False),
    sa.Column("body_hash", Text, nullable=False),
    # accepted, amount_mismatch (refused), or refund_expired / refund_cancelled / refund_double
    sa.Column("outcome", Text, nullable=False),
    sa.Index("bill_notifications_date", "paid_date"),
    sa.Index("bill_notifications_bill", "bill_number"))

bill_refusals = sa.Table(  # a known transaction sent again changed: refused, kept here
    "bill_refusals", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("at", Text, nullable=False),
    sa.Column("transaction_id", Text, nullable=False),
    sa.Column("bill_number", Text, nullable=False),
    sa.Column("amount_minor", Big, nullable=False),
    sa.Column("reason", Text, nullable=False),
    sa.Index("bill_refusals_transaction", "transaction_id"))

settlement_lines = sa.Table(  # the networks' daily settlement files, line by line
    "settlement_lines", metadata,
    sa.Column("date", Text, primary_key=True),
    sa.Column("line", Int, primary_key=True),  # 2 for the first after the header
    sa.Column("transaction_id", Text, nullable=False),
    sa.Column("bill_number", Text, nullable=False),
    sa.Column("amount_minor", Big, nullable=False),
    sa.Column("paid_at", Text, nullable=False),
    sa.Column("network", Text, nullable=False),
    sa.Column("problem", Text),  # None, duplicate_line or unknown_bill
    sa.Column("imported_at", Text, nullable=False))


# --- the console's people (central/staff.py owns these four) --------------------------------
staff = sa.Table(
    "staff", metadata,
    sa.Column("username", Text, primary_key=True),
    sa.Column("full_name", Text, nullable=False),
    sa.Column("role", Text, nullable=False),  # staff.ROLES
    sa.Column("municipality", Text),  # None: national staff, who see every municipality
    sa.Column("language", Text, nullable=False, server_default="ar"),
    sa.Column("password_hash", Text, nullable=False),
    sa.Column("totp_secret", Text),  # base32; None until the person enrols a second factor
    sa.Column("totp_last_step", Big),  # the last code's time step: a code works once
    sa.Column("failed_count", Int, nullable=False, server_default="0"),
    sa.Column("locked_until", Text),
    sa.Column("active", Int, nullable=False, server_default="1"),
    sa.Column("created_at", Text, nullable=False),
    sa.Column("created_by", Text, nullable=False))

console_sessions = sa.Table(
    "console_sessions", metadata,
    sa.Column("token_hash", Text, primary_key=True),  # sha256 of the cookie's value
    sa.Column("username", Text, sa.ForeignKey("staff.username"), nullable=False),
    sa.Column("csrf_token", Text, nullable=False),
    sa.Column("second_factor", Int, nullable=False, server_default="0"),  # TOTP passed
    sa.Column("created_at", Text, nullable=False),
    sa.Column("last_seen_at", Text, nullable=False),
    sa.Column("expires_at", Text, nullable=False),
    sa.Index("console_sessions_username", "username"))

api_keys = sa.Table(  # named keys for the CLI and automation, in place of one admin token
    "api_keys", metadata,
    sa.Column("name", Text, primary_key=True),
    sa.Column("key_hash", Text, nullable=False, unique=True),
    sa.Column("role", Text, nullable=False),
    sa.Column("municipality", Text),
    sa.Column("created_at", Text, nullable=False),
    sa.Column("created_by", Text, nullable=False),
    sa.Column("last_used_at", Text),
    sa.Column("revoked_at", Text))

console_audit = sa.Table(  # every console and API action, with the person's name
    "console_audit", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    sa.Column("at", Text, nullable=False),
    sa.Column("actor", Text, nullable=False),  # a username, or "key:<name>"
    sa.Column("action", Text, nullable=False),
    sa.Column("entity_type", Text, nullable=False),
    sa.Column("entity_id", Text, nullable=False),
    sa.Column("municipality", Text),
    sa.Column("detail", Text, nullable=False, server_default="{}"),  # JSON, no personal data
    sa.Index("console_audit_entity", "entity_type", "entity_id"))

device_health = sa.Table(  # each office device's latest heartbeat (central/fleet.py)
    "device_health", metadata,
    sa.Column("key", Text, primary_key=True),  # OFFICE/NAME (a hub's kiosk, or the box itself)
    sa.Column("office", Text, nullable=False, index=True),
    sa.Column("device", Text, nullable=False),
    sa.Column("via", Text, nullable=False),  # the enrolled device whose agent forwarded it
    sa.Column("role", Text, nullable=False),
    sa.Column("report", Text, nullable=False),  # JSON, core/health.py FIELDS
    sa.Column("seen_at", Text, nullable=False),  # central's clock: received minus its age
    sa.Column("received_at", Text, nullable=False),
    sa.Column("skew_s", Big, nullable=False))  # the device's clock minus central's


# --- the figures' facts (central/reports.py owns these five) ---------------------------------
def _fact_table(spec) -> sa.Table:
    """A fact table exactly as core.kpis.FACT_TABLES says (the hub's m020 is built from the
    same spec): its columns, its key, the indexes the reads need."""
    kinds = {"text": Text, "int": Big}
    return sa.Table(
        spec.name, metadata,
        *(sa.Column(c.name, kinds[c.type], nullable=c.name not in spec.key)
          for c in spec.columns),
        sa.PrimaryKeyConstraint(*spec.key),
        *(sa.Index(f"{spec.name}_{'_'.join(index)}", *index) for index in spec.indexes))


FACTS = {name: _fact_table(spec) for name, spec in FACT_TABLES.items()}

kept_reports = sa.Table(  # a closed period's report, kept until a late fact touches its days
    "kept_reports", metadata,
    sa.Column("key", Text, primary_key=True),  # sha256 of the period, offices and services
    sa.Column("first", Text, nullable=False),  # the period's days, first and last
    sa.Column("last", Text, nullable=False),
    sa.Column("token", Text, nullable=False),  # whose computation may fill `body`
    sa.Column("body", Text),  # JSON (core.kpis.report); NULL while it is being computed
    sa.Column("kept_at", Text))


# --- appointments (central/appointments.py owns these two) ----------------------------------
appointment_plans = sa.Table(  # what an office books for a service: hours, slot length, capacity
    "appointment_plans", metadata,
    sa.Column("office", Text, sa.ForeignKey("offices.code"), primary_key=True),
    sa.Column("service_code", Text, primary_key=True),
    sa.Column("hours", Text, nullable=False),  # JSON {"0".."6" (Monday 0): ["08:00", "14:00"]}
    sa.Column("slot_minutes", Int, nullable=False),
    sa.Column("capacity", Int, nullable=False),  # people per slot
    sa.Column("days_ahead", Int, nullable=False),  # how far ahead a slot may be booked
    sa.Column("updated_at", Text, nullable=False),
    sa.Column("updated_by", Text, nullable=False))

appointments = sa.Table(  # one row per booking; a live one holds a seat of its slot
    "appointments", metadata,
    sa.Column("reference", Text, primary_key=True),  # core/booking_codes.py
    sa.Column("office", Text, nullable=False),
    sa.Column("service_code", Text, nullable=False),
    sa.Column("slot_start", Text, nullable=False),  # UTC ISO (core.clock.iso)
    sa.Column("slot_end", Text, nullable=False),
    # 1..capacity while booked; NULL once cancelled (the seat is free again). The unique
    # constraint is what never gives one seat to two people, on SQLite and PostgreSQL alike.
    sa.Column("seat", Int),
    sa.Column("national_id_hash", Text, nullable=False),  # salted scrypt, published to the office
    sa.Column("national_id_tag", Text, nullable=False),  # HMAC by search.key: one per person a day
    sa.Column("state", Text, nullable=False),  # booked, cancelled, checked_in, no_show
    sa.Column("booked_at", Text, nullable=False),
    sa.Column("cancelled_at", Text),
    sa.Column("checked_in_at", Text),  # as the office's appointment.checked_in event says
    sa.Column("ticket_number", Text),
    sa.Column("no_show_at", Text),
    sa.UniqueConstraint("office", "service_code", "slot_start", "seat",
                        name="appointments_one_per_seat"),
    sa.Index("appointments_person_day", "national_id_tag", "slot_start"))


SQLITE_FILE = "central.db"


def url_for(home: Path, url: str | None) -> str:
    """SQLite in the central home unless a URL is given; postgresql:// uses psycopg 3."""
    if not url:
        return f"sqlite:///{Path(home) / SQLITE_FILE}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, pool_size: int = 10) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            # Let SQLAlchemy's begin() decide, and take the write lock at the start (BEGIN
            # IMMEDIATE) so concurrent ingests queue instead of failing to upgrade a lock.
            dbapi_conn.isolation_level = None
            dbapi_conn.execute("PRAGMA journal_mode = WAL")
            dbapi_conn.execute("PRAGMA synchronous = FULL")
            dbapi_conn.execute("PRAGMA foreign_keys = ON")
            dbapi_conn.execute("PRAGMA busy_timeout = 30000")

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return engine
    return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class DatabaseTooNew(NafithaError):
    code = "database_too_new"


def migrate(engine: sa.Engine) -> str:
    """Bring the database to the newest schema; returns the revision. A database at a revision
    this release does not know (a newer release upgraded it) is refused and left alone."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    script = ScriptDirectory.from_config(cfg)
    known = {r.revision for r in script.walk_revisions()}
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    unknown = [r for r in current if r not in known]
    if unknown:
        raise DatabaseTooNew(
            f"the central database is at schema revision {', '.join(unknown)}, which this "
            f"release does not know (its newest is {script.get_current_head()}): a newer "
            f"release has upgraded it. Run that release, or restore a backup taken before "
            f"the upgrade.", revision=unknown[0], known=script.get_current_head())
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
