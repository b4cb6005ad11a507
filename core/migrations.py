"""Numbered schema migrations, applied in order on open (PRAGMA user_version records the last).

Add a migration by appending a function; never edit one that has shipped."""
from __future__ import annotations

from .errors import StoreError


def m001_initial(db):
    statements = [
        """CREATE TABLE identity (
            device_id TEXT NOT NULL, office_code TEXT NOT NULL, created_at TEXT NOT NULL)""",
        "CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
            action TEXT NOT NULL, entity_type TEXT NOT NULL, entity_id TEXT NOT NULL,
            data TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
        """CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL)""",
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
            at TEXT NOT NULL, entity_id TEXT NOT NULL, body TEXT NOT NULL, sent_at TEXT)""",
        "CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_at IS NULL",
        """CREATE TABLE counters (
            id TEXT PRIMARY KEY, services TEXT NOT NULL, last_call_at TEXT NOT NULL)""",
        """CREATE TABLE applications (
            id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, service_code TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('draft','submitted','paid','approved',
                                                  'issued','rejected','withdrawn')),
            fields TEXT NOT NULL, fee_minor INTEGER NOT NULL CHECK (fee_minor >= 0),
            currency TEXT NOT NULL, licence_type TEXT NOT NULL,
            validity_days INTEGER NOT NULL, issue_mode TEXT NOT NULL,
            ticket_id TEXT REFERENCES tickets(id),
            created_at TEXT NOT NULL, submitted_at TEXT, paid_at TEXT, decided_at TEXT,
            decided_by TEXT, reason TEXT, updated_at TEXT NOT NULL)""",
        """CREATE TABLE tickets (
            id TEXT PRIMARY KEY, number TEXT NOT NULL, prefix TEXT NOT NULL,
            service_code TEXT NOT NULL, day TEXT NOT NULL, daily_seq INTEGER NOT NULL,
            priority TEXT CHECK (priority IN ('elderly','disabled','pregnant')),
            state TEXT NOT NULL CHECK (state IN ('waiting','called','serving','done',
                                                  'no_show','cancelled')),
            counter TEXT, call_count INTEGER NOT NULL DEFAULT 0,
            queue_key TEXT NOT NULL, created_at TEXT NOT NULL, called_at TEXT,
            serving_at TEXT, finished_at TEXT, transferred_from TEXT,
            UNIQUE (day, prefix, daily_seq))""",
        "CREATE INDEX tickets_waiting ON tickets(service_code, queue_key) WHERE state = 'waiting'",
        "CREATE INDEX tickets_day_number ON tickets(day, number)",
        """CREATE TABLE ticket_events (
            id INTEGER PRIMARY KEY, ticket_id TEXT NOT NULL REFERENCES tickets(id),
            at TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, counter TEXT,
            service_code TEXT NOT NULL, actor TEXT NOT NULL)""",
        "CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id)",
        """CREATE TABLE users (
            username TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('clerk','supervisor')),
            pin_hash TEXT NOT NULL, created_at TEXT NOT NULL,
            failed_attempts INTEGER NOT NULL DEFAULT 0, locked_until TEXT)""",
        """CREATE TABLE shifts (
            id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, clerk TEXT NOT NULL,
            currency TEXT NOT NULL, float_minor INTEGER NOT NULL CHECK (float_minor >= 0),
            opened_at TEXT NOT NULL, closed_at TEXT, counted_minor INTEGER,
            expected_minor INTEGER, difference_minor INTEGER)""",
        "CREATE UNIQUE INDEX shifts_one_open ON shifts(clerk) WHERE closed_at IS NULL",
        """CREATE TABLE payments (
            id TEXT PRIMARY KEY, receipt_number TEXT NOT NULL UNIQUE,
            application_id TEXT NOT NULL REFERENCES applications(id),
            method TEXT NOT NULL CHECK (method IN ('cash','card','online')),
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0), currency TEXT NOT NULL,
            tendered_minor INTEGER, change_minor INTEGER, reference TEXT,
            shift_id TEXT NOT NULL REFERENCES shifts(id), clerk TEXT NOT NULL,
            taken_at TEXT NOT NULL, voided_at TEXT, voided_by TEXT, void_reason TEXT)""",
        """CREATE UNIQUE INDEX payments_one_live ON payments(application_id)
            WHERE voided_at IS NULL""",
        """CREATE TABLE licences (
            id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE,
            application_id TEXT NOT NULL UNIQUE REFERENCES applications(id),
            licence_type TEXT NOT NULL, service_code TEXT NOT NULL,
            holder_name TEXT NOT NULL, national_id TEXT NOT NULL, address TEXT NOT NULL,
            issued_at TEXT NOT NULL, valid_until TEXT NOT NULL, revoked_at TEXT,
            revoke_reason TEXT, reprint_count INTEGER NOT NULL DEFAULT 0,
            device_counter INTEGER NOT NULL,
            -- filled by the licence-signing issue: the signed QR payload (NF1:...)
            signed_payload TEXT)""",
    ]
    for sql in statements:
        db.execute(sql)


def m002_licence_conditions(db):
    """Conditions set when an application is approved, printed on and signed into the licence."""
    db.execute("ALTER TABLE applications ADD COLUMN conditions TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE licences ADD COLUMN conditions TEXT NOT NULL DEFAULT ''")


def m003_print_jobs(db):
    """Durable print jobs: a document waits here until the printer has really taken it."""
    db.execute("""CREATE TABLE print_jobs (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, printer TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('ticket','receipt','licence','z_report','test')),
        ref_id TEXT NOT NULL, lang TEXT NOT NULL CHECK (lang IN ('ar','en')),
        copy INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL CHECK (state IN ('pending','printing','done','failed','expired')),
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        created_at TEXT NOT NULL, expires_at TEXT, printed_at TEXT, bytes INTEGER)""")
    db.execute("CREATE INDEX print_jobs_pending ON print_jobs(printer, seq) "
               "WHERE state IN ('pending', 'printing')")


def m004_sync(db):
    """Reference data pulled from central (catalogue, clerks, decisions, ...) and the sync
    agent's durable state (cursor, last success, last error)."""
    db.execute("""CREATE TABLE reference (
        kind TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
        applied_at TEXT NOT NULL, note TEXT, PRIMARY KEY (kind, key))""")
    db.execute("CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local' "
               "CHECK (source IN ('local', 'central'))")
    db.execute("ALTER TABLE users ADD COLUMN disabled_at TEXT")


def m005_application_slips(db):
    """Print jobs may be application slips. SQLite cannot change a CHECK constraint, so the
    table is rebuilt: the same columns, rows and index, one more kind."""
    db.execute("""CREATE TABLE print_jobs_new (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, printer TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('ticket','receipt','licence','application',
                                           'z_report','test')),
        ref_id TEXT NOT NULL, lang TEXT NOT NULL CHECK (lang IN ('ar','en')),
        copy INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL CHECK (state IN ('pending','printing','done','failed','expired')),
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        created_at TEXT NOT NULL, expires_at TEXT, printed_at TEXT, bytes INTEGER)""")
    db.execute("INSERT INTO print_jobs_new (id, seq, printer, kind, ref_id, lang, copy, state, "
               "attempts, last_error, created_at, expires_at, printed_at, bytes) SELECT id, "
               "seq, printer, kind, ref_id, lang, copy, state, attempts, last_error, "
               "created_at, expires_at, printed_at, bytes FROM print_jobs")
    db.execute("DROP TABLE print_jobs")
    db.execute("ALTER TABLE print_jobs_new RENAME TO print_jobs")
    db.execute("CREATE INDEX print_jobs_pending ON print_jobs(printer, seq) "
               "WHERE state IN ('pending', 'printing')")


def m006_parked_tickets(db):
    """A ticket can be parked (set aside while the resident fetches a document). The CHECK on
    tickets.state is widened by rebuilding the table as SQLite documents (create the new table,
    copy, drop the old, rename, recreate the indexes); ticket_events and applications keep
    referring to tickets(id). apply() runs this with foreign keys off and checks them before
    commit: with them on, dropping the old table would fail on its referenced rows."""
    db.execute("""CREATE TABLE tickets_new (
        id TEXT PRIMARY KEY, number TEXT NOT NULL, prefix TEXT NOT NULL,
        service_code TEXT NOT NULL, day TEXT NOT NULL, daily_seq INTEGER NOT NULL,
        priority TEXT CHECK (priority IN ('elderly','disabled','pregnant')),
        state TEXT NOT NULL CHECK (state IN ('waiting','called','serving','parked','done',
                                              'no_show','cancelled')),
        counter TEXT, call_count INTEGER NOT NULL DEFAULT 0,
        queue_key TEXT NOT NULL, created_at TEXT NOT NULL, called_at TEXT,
        serving_at TEXT, finished_at TEXT, transferred_from TEXT,
        UNIQUE (day, prefix, daily_seq))""")
    columns = ("id, number, prefix, service_code, day, daily_seq, priority, state, counter, "
               "call_count, queue_key, created_at, called_at, serving_at, finished_at, "
               "transferred_from")
    db.execute(f"INSERT INTO tickets_new ({columns}) SELECT {columns} FROM tickets")
    db.execute("DROP TABLE tickets")
    db.execute("ALTER TABLE tickets_new RENAME TO tickets")
    db.execute("CREATE INDEX tickets_waiting ON tickets(service_code, queue_key) "
               "WHERE state = 'waiting'")
    db.execute("CREATE INDEX tickets_day_number ON tickets(day, number)")


def m007_hub_devices(db):
    """The centre hub's paired devices (kiosks, counters, boards), their one-time pairing
    codes and the clerks signed in at its counters. Tokens and codes are kept as SHA-256
    hashes only: a copy of the database does not let anyone act as a device."""
    for sql in (
        """CREATE TABLE hub_devices (
            id TEXT PRIMARY KEY, name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('kiosk','counter','board')),
            services TEXT NOT NULL DEFAULT '[]', token_hash TEXT UNIQUE,
            created_at TEXT NOT NULL, paired_at TEXT, last_seen_at TEXT, revoked_at TEXT)""",
        "CREATE UNIQUE INDEX hub_devices_live_name ON hub_devices(name) "
        "WHERE revoked_at IS NULL",
        """CREATE TABLE hub_pairings (
            code_hash TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES hub_devices(id),
            created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT)""",
        """CREATE TABLE hub_sessions (
            token_hash TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES hub_devices(id),
            username TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT)""",
    ):
        db.execute(sql)


def m008_recent_service_times(db):
    """Wait estimates read the latest finished tickets of a service inside every
    take_ticket: without this index that was a scan of every ticket ever kept (25 ms at
    100,000 tickets, under the store's write lock)."""
    db.execute("CREATE INDEX tickets_done_recent ON tickets(service_code, finished_at) "
               "WHERE state = 'done'")


def m009_held_events(db):
    """An event central refused (it touches what is not this office's) is set aside with
    its reason, not resent for ever: the operator retries it or, with a supervisor, voids
    it (docs/sync.md)."""
    for sql in ("ALTER TABLE outbox ADD COLUMN held_at TEXT",
                "ALTER TABLE outbox ADD COLUMN held_code TEXT",
                "ALTER TABLE outbox ADD COLUMN held_reason TEXT",
                "ALTER TABLE outbox ADD COLUMN voided_at TEXT",
                "DROP INDEX outbox_unsent",
                "CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_at IS NULL AND "
                "held_at IS NULL AND voided_at IS NULL"):
        db.execute(sql)


def m010_signed_audit_head(db):
    """The audit head carries the device key's signature, so a log rewritten end to end
    (every hash recomputed) no longer verifies (docs/audit.md)."""
    for sql in ("ALTER TABLE audit_head ADD COLUMN signature TEXT",
                "ALTER TABLE audit_head ADD COLUMN signer TEXT"):
        db.execute(sql)


def m011_ticket_taken_by(db):
    """Which paired device took a ticket (NULL: this device itself), so a supervisor can
    cancel the waiting tickets of one kiosk that took far too many (docs/queue.md)."""
    db.execute("ALTER TABLE tickets ADD COLUMN taken_by TEXT")


def m012_sealed_personal_data(db):
    """Residents' personal values are sealed with a key per application (core/sealing.py):
    the keys, wrapped by the data key file, and a keyed hash to find a national ID. Rows
    written in clear before are sealed when the office opens (Office._seal_legacy_rows)."""
    db.execute("""CREATE TABLE resident_keys (
        application_id TEXT PRIMARY KEY REFERENCES applications(id) DEFERRABLE INITIALLY DEFERRED,
        wrapped TEXT, created_at TEXT NOT NULL,
        gone TEXT CHECK (gone IN ('erased', 'purged')), gone_at TEXT,
        CHECK ((wrapped IS NULL) = (gone IS NOT NULL)))""")
    db.execute("ALTER TABLE applications ADD COLUMN national_id_tag TEXT")
    db.execute("CREATE INDEX applications_national_id_tag ON applications(national_id_tag) "
               "WHERE national_id_tag IS NOT NULL")


def m013_hub_replies(db):
    """The replies to keyed writes, by device and idempotency key (core/idempotency.py)."""
    db.execute("""CREATE TABLE hub_replies (
        device_id TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
        reply TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (device_id, key))""")
    db.execute("CREATE INDEX hub_replies_created ON hub_replies(created_at)")


def m014_hub_tls_pairing(db):
    """Pairing binds the hub's TLS certificate (core/tls.py): each code's proof key; device
    tokens expire and renew themselves, the previous token working a short while after."""
    db.execute("ALTER TABLE hub_pairings ADD COLUMN proof_key TEXT")
    db.execute("ALTER TABLE hub_devices ADD COLUMN token_expires_at TEXT")
    db.execute("ALTER TABLE hub_devices ADD COLUMN previous_token_hash TEXT")
    db.execute("ALTER TABLE hub_devices ADD COLUMN previous_token_until TEXT")
    db.execute("CREATE INDEX hub_devices_previous_token ON hub_devices(previous_token_hash) "
               "WHERE previous_token_hash IS NOT NULL")


def m015_card_reconciliation(db):
    """Card approvals checked against the terminal's own batch report (docs/payment.md,
    "Reconciliation"): each card payment's standing once its shift was reconciled, each
    shift's reconciliation (at most one: the report it used and what it found), and an index
    to find a terminal reference already used (a replayed approval)."""
    db.execute("ALTER TABLE payments ADD COLUMN card_check TEXT CHECK (card_check IN "
               "('matched', 'unconfirmed', 'amount_differs'))")
    db.execute("CREATE INDEX payments_reference ON payments(method, reference) "
               "WHERE reference IS NOT NULL")
    db.execute("""CREATE TABLE card_reconciliations (
        shift_id TEXT PRIMARY KEY REFERENCES shifts(id), terminal_id TEXT NOT NULL,
        report_hash TEXT NOT NULL, result TEXT NOT NULL, reconciled_at TEXT NOT NULL,
        reconciled_by TEXT NOT NULL)""")


def m016_uncertain_prints(db):
    """A licence's print job left `printing` by a process that died may have come out: it
    waits `uncertain` for the person at the printer, and is `unknown` when nobody could say
    (core/printing.py). The CHECK on print_jobs.state is widened by rebuilding the table."""
    db.execute("""CREATE TABLE print_jobs_new (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, printer TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('ticket','receipt','licence','application',
                                           'z_report','test')),
        ref_id TEXT NOT NULL, lang TEXT NOT NULL CHECK (lang IN ('ar','en')),
        copy INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL CHECK (state IN ('pending','printing','done','failed','expired',
                                             'uncertain','unknown')),
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        created_at TEXT NOT NULL, expires_at TEXT, printed_at TEXT, bytes INTEGER)""")
    db.execute("INSERT INTO print_jobs_new (id, seq, printer, kind, ref_id, lang, copy, state, "
               "attempts, last_error, created_at, expires_at, printed_at, bytes) SELECT id, "
               "seq, printer, kind, ref_id, lang, copy, state, attempts, last_error, "
               "created_at, expires_at, printed_at, bytes FROM print_jobs")
    db.execute("DROP TABLE print_jobs")
    db.execute("ALTER TABLE print_jobs_new RENAME TO print_jobs")
    db.execute("CREATE INDEX print_jobs_pending ON print_jobs(printer, seq) "
               "WHERE state IN ('pending', 'printing')")


def m017_supporting_documents(db):
    """Supporting documents (core/attachments.py): each file once by its SHA-256, each page
    of an application's document, and the back office's requests for a document."""
    db.execute("""CREATE TABLE document_files (
        sha256 TEXT PRIMARY KEY, bytes INTEGER NOT NULL CHECK (bytes > 0),
        media_type TEXT NOT NULL, stored_at TEXT NOT NULL, confirmed_at TEXT,
        purged_at TEXT)""")
    db.execute("""CREATE TABLE application_documents (
        application_id TEXT NOT NULL REFERENCES applications(id), doc_key TEXT NOT NULL,
        page INTEGER NOT NULL CHECK (page >= 1),
        sha256 TEXT NOT NULL REFERENCES document_files(sha256),
        bytes INTEGER NOT NULL, media_type TEXT NOT NULL, source TEXT NOT NULL,
        added_at TEXT NOT NULL, added_by TEXT NOT NULL, event_id TEXT NOT NULL,
        answers_request TEXT, removed_at TEXT, removed_by TEXT,
        PRIMARY KEY (application_id, doc_key, page))""")
    db.execute("CREATE INDEX application_documents_sha ON application_documents(sha256)")
    db.execute("""CREATE TABLE document_requests (
        id TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES applications(id),
        doc_key TEXT NOT NULL, note TEXT NOT NULL, requested_by TEXT NOT NULL,
        requested_at TEXT NOT NULL, received_at TEXT NOT NULL, answered_at TEXT)""")
    db.execute("CREATE INDEX document_requests_open ON document_requests(application_id) "
               "WHERE answered_at IS NULL")


def m018_bills(db):
    """Bills paid later through the national networks (core/bills.py, docs/bills.md), and
    payments of method network: no shift (the Z report counts what the clerk took), and a
    `refund` flag for one that must be paid back (the application was already paid at the
    counter: double_payment). A flagged payment is not the application's live payment. The
    CHECK on payments.method is widened by rebuilding the table."""
    db.execute("""CREATE TABLE bills (
        number TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES applications(id),
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0), currency TEXT NOT NULL,
        created_at TEXT NOT NULL, due_at TEXT NOT NULL, cancelled_at TEXT,
        cancel_reason TEXT, paid_at TEXT, transaction_id TEXT, network TEXT)""")
    db.execute("CREATE UNIQUE INDEX bills_one_open ON bills(application_id) "
               "WHERE cancelled_at IS NULL")
    db.execute("""CREATE TABLE payments_new (
        id TEXT PRIMARY KEY, receipt_number TEXT NOT NULL UNIQUE,
        application_id TEXT NOT NULL REFERENCES applications(id),
        method TEXT NOT NULL CHECK (method IN ('cash','card','online','network')),
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0), currency TEXT NOT NULL,
        tendered_minor INTEGER, change_minor INTEGER, reference TEXT,
        shift_id TEXT REFERENCES shifts(id), clerk TEXT NOT NULL,
        taken_at TEXT NOT NULL, voided_at TEXT, voided_by TEXT, void_reason TEXT,
        card_check TEXT CHECK (card_check IN ('matched', 'unconfirmed', 'amount_differs')),
        refund TEXT CHECK (refund IN ('double_payment', 'not_payable', 'amount_differs')),
        CHECK ((shift_id IS NULL) = (method = 'network')))""")
    db.execute("INSERT INTO payments_new (id, receipt_number, application_id, method, "
               "amount_minor, currency, tendered_minor, change_minor, reference, shift_id, "
               "clerk, taken_at, voided_at, voided_by, void_reason, card_check) SELECT id, "
               "receipt_number, application_id, method, amount_minor, currency, "
               "tendered_minor, change_minor, reference, shift_id, clerk, taken_at, "
               "voided_at, voided_by, void_reason, card_check FROM payments")
    db.execute("DROP TABLE payments")
    db.execute("ALTER TABLE payments_new RENAME TO payments")
    db.execute("CREATE UNIQUE INDEX payments_one_live ON payments(application_id) "
               "WHERE voided_at IS NULL AND refund IS NULL")
    db.execute("CREATE INDEX payments_reference ON payments(method, reference) "
               "WHERE reference IS NOT NULL")


def m019_device_health(db):
    """The latest heartbeat of each device of the office (core/health.py): a hub's own and its
    kiosks' and counters', or a field office's one box. received_at is by this store's clock;
    skew_s is the device's clock minus it."""
    db.execute("""CREATE TABLE device_health (
        device TEXT PRIMARY KEY, role TEXT NOT NULL, report TEXT NOT NULL,
        received_at TEXT NOT NULL, skew_s INTEGER NOT NULL)""")


def m020_kpi_facts(db):
    """The facts every figure is computed from (core/kpis.py, docs/kpis.md): the five kpi_*
    tables built from kpis.FACT_TABLES (central's are built from the same), and what a
    ticket's events must carry for them: its channel, the clerk who first called it, when
    (a recall or a transfer does not move it) and the service's target wait when taken.
    Tickets kept before get the first call and its clerk from their ticket_events and a
    channel from who took them; their target is unknown (NULL). The facts of what was kept
    before are filled once by the Office, which knows the office's time zone, by replaying
    the audit log (kpis.backfill; kpi_backfill says when it was done)."""
    from .kpis import FACT_TABLES
    for table in FACT_TABLES.values():
        for sql in table.sqlite_ddl():
            db.execute(sql)
    for column in ("channel TEXT", "clerk TEXT", "first_called_at TEXT",
                   "target_wait_s INTEGER"):
        db.execute(f"ALTER TABLE tickets ADD COLUMN {column}")
    db.execute("""UPDATE tickets SET
        first_called_at = (SELECT e.at FROM ticket_events e WHERE e.ticket_id = tickets.id
                           AND e.to_state = 'called' ORDER BY e.id LIMIT 1),
        clerk = (SELECT e.actor FROM ticket_events e WHERE e.ticket_id = tickets.id
                 AND e.to_state = 'called' ORDER BY e.id LIMIT 1),
        channel = CASE WHEN (SELECT e.actor FROM ticket_events e WHERE e.ticket_id = tickets.id
                             AND e.from_state IS NULL ORDER BY e.id LIMIT 1)
                            IN (SELECT username FROM users) THEN 'counter' ELSE 'kiosk' END""")
    db.execute("CREATE TABLE kpi_backfill (id INTEGER PRIMARY KEY CHECK (id = 1), "
               "done_at TEXT)")
    db.execute("INSERT INTO kpi_backfill (id, done_at) VALUES (1, NULL)")


def m021_counter_states(db):
    """A counter's state now: open, on break or in back-office work (with a reason, and a
    note for "other"), or closed; one row per counter (core/counter_states.py). Its history
    is the events (counter.state_changed), which the KPI facts turn into intervals."""
    db.execute("""CREATE TABLE counter_states (
        counter TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('open','break','back_office','closed')),
        clerk TEXT, reason TEXT, note TEXT, since TEXT NOT NULL,
        CHECK ((reason IS NULL) = (state NOT IN ('break','back_office'))))""")


def m022_ticket_ratings(db):
    """A resident's rating of a finished visit, 1-5, once per ticket (core/ratings.py): the
    ticket, its counter and service, nothing of the resident. A paired device may be a
    rating screen facing the resident at one counter (role 'rating', its `counter`): the
    CHECK on hub_devices.role is widened by rebuilding the table (as m006 does for tickets;
    hub_pairings and hub_sessions keep referring to hub_devices(id))."""
    db.execute("""CREATE TABLE ticket_ratings (
        ticket_id TEXT PRIMARY KEY REFERENCES tickets(id),
        rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
        counter TEXT NOT NULL, service_code TEXT NOT NULL, rated_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE hub_devices_new (
        id TEXT PRIMARY KEY, name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('kiosk','counter','board','rating')),
        services TEXT NOT NULL DEFAULT '[]', token_hash TEXT UNIQUE,
        created_at TEXT NOT NULL, paired_at TEXT, last_seen_at TEXT, revoked_at TEXT,
        token_expires_at TEXT, previous_token_hash TEXT, previous_token_until TEXT,
        counter TEXT, CHECK ((role = 'rating') = (counter IS NOT NULL)))""")
    columns = ("id, name, role, services, token_hash, created_at, paired_at, last_seen_at, "
               "revoked_at, token_expires_at, previous_token_hash, previous_token_until")
    db.execute(f"INSERT INTO hub_devices_new ({columns}) SELECT {columns} FROM hub_devices")
    db.execute("DROP TABLE hub_devices")
    db.execute("ALTER TABLE hub_devices_new RENAME TO hub_devices")
    db.execute("CREATE UNIQUE INDEX hub_devices_live_name ON hub_devices(name) "
               "WHERE revoked_at IS NULL")
    db.execute("CREATE INDEX hub_devices_previous_token ON hub_devices(previous_token_hash) "
               "WHERE previous_token_hash IS NOT NULL")


def m023_messages(db):
    """Messages to residents' phones (core/messages.py, docs/messages.md): a phone number's
    consent (given, withdrawn), the ticket or application a consenting number follows, and
    the durable queue of outbound messages. Each message's `ref` is unique and is what the
    gateway de-duplicates on, so a resend after a timeout is never a second SMS."""
    db.execute("""CREATE TABLE message_consents (
        id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE,
        given_at TEXT NOT NULL, channel TEXT NOT NULL, given_by TEXT NOT NULL,
        withdrawn_at TEXT, withdrawn_by TEXT)""")
    db.execute("""CREATE TABLE message_subscriptions (
        id TEXT PRIMARY KEY,
        ticket_id TEXT UNIQUE REFERENCES tickets(id),
        application_id TEXT UNIQUE REFERENCES applications(id),
        number TEXT NOT NULL, language TEXT NOT NULL CHECK (language IN ('ar','en')),
        near_threshold INTEGER NOT NULL CHECK (near_threshold BETWEEN 1 AND 50),
        created_at TEXT NOT NULL, finished_at TEXT,
        CHECK ((ticket_id IS NULL) <> (application_id IS NULL)))""")
    db.execute("""CREATE TABLE messages (
        id TEXT PRIMARY KEY, ref TEXT NOT NULL UNIQUE, number TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('turn_near','called','receipt',
                                           'application_status')),
        language TEXT NOT NULL CHECK (language IN ('ar','en')), text TEXT NOT NULL,
        subject TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued','sent','failed','expired',
                                             'cancelled','dropped')),
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL,
        last_error TEXT, gateway_id TEXT, sent_at TEXT, finished_at TEXT)""")
    db.execute("CREATE INDEX messages_due ON messages(next_attempt_at) WHERE state = 'queued'")
    db.execute("CREATE INDEX messages_number ON messages(number, created_at)")
    db.execute("CREATE INDEX messages_subject ON messages(subject)")


def m024_ticket_follow(db):
    """Following a ticket on a phone (core/follow.py, docs/phone.md): the office's secret
    that keys the follow links printed on tickets (one row per office code, 32 random
    bytes, made on first use), and when a ticket used its one "I need more time"
    (core/queue.py Queue.postpone)."""
    db.execute("""CREATE TABLE follow_secrets (
        office TEXT PRIMARY KEY, secret BLOB NOT NULL CHECK (length(secret) = 32),
        created_at TEXT NOT NULL)""")
    db.execute("ALTER TABLE tickets ADD COLUMN postponed_at TEXT")


def m025_appointments(db):
    """Appointments booked at central, checked in here (core/appointments.py): what became of
    each booking at this office (the bookings themselves are reference rows, kind
    "appointment"): checked in, with its ticket, or a no-show."""
    db.execute("""CREATE TABLE appointment_visits (
        reference TEXT PRIMARY KEY, service_code TEXT NOT NULL, slot_start TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('checked_in', 'no_show')), at TEXT NOT NULL,
        ticket_id TEXT REFERENCES tickets(id))""")


MIGRATIONS = [m001_initial, m002_licence_conditions, m003_print_jobs, m004_sync,
              m005_application_slips, m006_parked_tickets, m007_hub_devices,
              m008_recent_service_times, m009_held_events, m010_signed_audit_head,
              m011_ticket_taken_by, m012_sealed_personal_data,
              m013_hub_replies, m014_hub_tls_pairing, m015_card_reconciliation,
              m016_uncertain_prints, m017_supporting_documents, m018_bills,
              m019_device_health, m020_kpi_facts, m021_counter_states,
              m022_ticket_ratings, m023_messages, m024_ticket_follow,
              m025_appointments]


def apply(store) -> None:
    conn = store.conn
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    store.schema_opened = current
    if current > len(MIGRATIONS):
        raise StoreError(f"{store.path} was written by a newer Nafitha (schema {current}, this "
                         f"version knows {len(MIGRATIONS)}); upgrade Nafitha", path=str(store.path))
    if current == 0:
        foreign = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT IN (SELECT name FROM pragma_table_list WHERE schema = 'temp')")]
        if foreign and "identity" not in foreign:
            raise StoreError(f"{store.path} is another program's SQLite database (tables: "
                             f"{', '.join(sorted(foreign)[:5])}); it was left untouched",
                             path=str(store.path))
    if current == len(MIGRATIONS):
        return
    # A migration may rebuild a table that others refer to (SQLite cannot alter a CHECK):
    # foreign keys are off while migrations run (the pragma is a no-op inside a transaction)
    # and checked before each commit, as https://sqlite.org/lang_altertable.html describes.
    foreign_keys = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for number in range(current + 1, len(MIGRATIONS) + 1):
            _apply_one(store, number)
    finally:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")


def _apply_one(store, number: int) -> None:
    conn = store.conn
    conn.execute("BEGIN IMMEDIATE")
    # Another process opening the same new file may have applied it while we waited
    # for the write lock: read the version again under the lock.
    if conn.execute("PRAGMA user_version").fetchone()[0] >= number:
        conn.execute("COMMIT")
        return
    try:
        MIGRATIONS[number - 1](store.db)
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            table, rowid, parent = broken[0][:3]
            raise StoreError(f"{store.path}: migration {number} would leave {len(broken)} "
                             f"rows referring to missing rows (first: {table} row {rowid} -> "
                             f"{parent}); it was not applied", path=str(store.path))
        conn.execute(f"PRAGMA user_version = {number}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
