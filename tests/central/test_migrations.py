"""Central's schema comes from Alembic (central/migrations), on SQLite and on PostgreSQL.

- An empty database migrates to the newest revision (head).
- Migrating again changes nothing: same revision, same schema, rows kept.
- The migrated schema is exactly central.db.metadata (Alembic's autogenerate comparison finds
  no difference: tables, columns, types, nullability, server defaults, indexes, unique and
  foreign keys). A change to db.py without a migration fails here.
- A database at a revision this release does not know (written by a newer release) is refused
  with an error naming that revision, and is left as it was.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import central
from central import db

MIGRATIONS = Path(central.__file__).parent / "migrations"


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


@pytest.fixture
def engine(central_db, tmp_path):
    engine = db.make_engine(db.url_for(tmp_path, central_db))
    yield engine
    engine.dispose()


def current_revision(engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_diff(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": True})
        diff = compare_metadata(context, db.metadata)
    return [d for d in diff if not same_sqlite_default(engine, d)]


def same_sqlite_default(engine, change) -> bool:
    """Alembic reports an empty-string server default on SQLite as changed when it is not:
    the table says DEFAULT '' (reflected as "('')") and Alembic's SQLite comparison keeps the
    quotes of an empty value. Only that exact case is ignored."""
    if engine.dialect.name != "sqlite" or not isinstance(change, list) or len(change) != 1:
        return False
    op, *rest = change[0]
    if op != "modify_default":
        return False
    reflected, wanted = rest[-2], rest[-1]
    return str(getattr(reflected, "arg", reflected)).strip("()") == "''" and \
        getattr(wanted, "arg", None) == ""


def schema_snapshot(engine) -> dict:
    """Every table's columns, indexes, unique and foreign keys, as the database reports them."""
    inspector = sa.inspect(engine)
    snapshot = {}
    for table in sorted(inspector.get_table_names()):
        snapshot[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                        for c in inspector.get_columns(table)],
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(table)),
            "unique": sorted(tuple(u["column_names"])
                             for u in inspector.get_unique_constraints(table)),
            "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"])
                          for f in inspector.get_foreign_keys(table)),
        }
    return snapshot


def test_there_is_one_head():
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert len(heads) == 1, f"migrations branch: heads {heads}; add a merge revision"


def test_an_empty_database_migrates_to_head(engine):
    assert current_revision(engine) is None
    assert sa.inspect(engine).get_table_names() == []
    assert db.migrate(engine) == head_revision()
    assert current_revision(engine) == head_revision()
    tables = set(sa.inspect(engine).get_table_names())
    assert tables == set(db.metadata.tables) | {"alembic_version"}


def test_the_migrated_schema_is_exactly_the_metadata(engine):
    db.migrate(engine)
    diff = schema_diff(engine)
    assert diff == [], f"central/db.py and central/migrations disagree: {diff}"


def test_migrating_twice_is_a_no_op(engine):
    db.migrate(engine)
    before = schema_snapshot(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(db.meta).values(key="probe", value="kept"))
        conn.execute(sa.insert(db.offices).values(code="MUH", created_at="2026-11-24T08:00Z"))

    assert db.migrate(engine) == head_revision()
    assert db.migrate(engine) == head_revision()

    assert schema_snapshot(engine) == before
    assert schema_diff(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(db.meta.c.value).where(
            db.meta.c.key == "probe")).scalar() == "kept"
        assert conn.execute(sa.select(db.offices.c.code)).scalars().all() == ["MUH"]
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars() \
            .all() == [head_revision()]


def test_a_database_from_a_newer_release_is_refused(engine):
    db.migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    before = schema_snapshot(engine)

    with pytest.raises(db.DatabaseTooNew) as refused:
        db.migrate(engine)

    message = str(refused.value)
    assert "9999_from_the_future" in message
    assert "newer" in message.lower(), message  # says why, not only "can't locate revision"
    assert head_revision() in message  # and what this release knows
    # Nothing was touched.
    assert current_revision(engine) == "9999_from_the_future"
    assert schema_snapshot(engine) == before


def test_upgrading_scrubs_refused_bodies_and_gives_old_devices_the_hub_role(engine):
    """0003: devices enrolled before roles keep receiving accounts (as hubs); 0004: the
    hex copies of refused bodies (residents' data among them) are removed."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(sa.text("INSERT INTO offices (code, created_at) VALUES ('MUH', 'x')"))
        conn.execute(sa.text(
            "INSERT INTO devices (key, office, device_id, public_key, certificate, token_hash, "
            "token_expires_at, enrolled_at) VALUES ('MUH/D01', 'MUH', 'D01', 'p', 'c', 't', "
            "'x', 'x')"))
        conn.execute(sa.text("INSERT INTO rejections (at, status, reason, body) VALUES "
                             "('x', 422, 'bad', :body)"),
                     {"body": "Zainab Qasim 850177123".encode().hex()})
    assert db.migrate(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(sa.select(db.devices.c.role)).scalars().all() == ["hub"]
        assert conn.execute(sa.select(db.rejections.c.body)).scalars().all() == [None]


def test_upgrading_keeps_the_admin_token_working_as_the_root_key(engine, tmp_path):
    """0006: the admin token of a central made before named keys becomes the key "root"."""
    import hashlib

    from alembic import command
    from alembic.config import Config

    from central.staff import Staff
    from core.clock import FrozenClock

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    token = "an-old-admin-token-from-before-named-keys"
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        conn.execute(sa.text("INSERT INTO meta (key, value) VALUES ('admin_token_hash', :h)"),
                     {"h": hashlib.sha256(token.encode()).hexdigest()})
    assert db.migrate(engine) == head_revision()

    class Holder:  # what Staff needs of a Central: its engine and clock
        pass
    holder = Holder()
    holder.engine, holder.clock = engine, FrozenClock("2026-12-06T08:00:00+00:00")
    person = Staff(holder).authenticate_key(f"Bearer {token}")
    assert (person.username, person.role, person.municipality) == ("key:root", "admin", None)
    with engine.connect() as conn:
        assert conn.execute(sa.select(db.meta.c.key)).scalars().all() == []
