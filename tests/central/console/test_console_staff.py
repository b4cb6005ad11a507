"""central/staff.py on SQLite and PostgreSQL: passwords, lockout, sessions, API keys,
municipal scope and the console audit."""
from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from central import db
from central.service import Central, CentralError
from central.staff import Person, Staff, scope_offices
from core import totp
from core.clock import FrozenClock

PASSWORD = "correct horse battery"


@pytest.fixture
def staff(tmp_path, central_db):
    central, token = Central.init_root(tmp_path / "c", central_db,
                                       clock=FrozenClock("2026-11-24T08:00:00+00:00"))
    made = Staff(central)
    made.root_token = token
    yield made
    central.close()


def rows(staff: Staff) -> dict:
    with staff.engine.connect() as conn:
        return {t.name: sorted(tuple(map(str, r)) for r in conn.execute(sa.select(t)))
                for t in (db.staff, db.console_sessions, db.api_keys, db.console_audit,
                          db.municipalities, db.offices)}


def refused(code: str, call, *args, status: int | None = None):
    with pytest.raises(CentralError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value.message
    if status:
        assert caught.value.status == status
    return caught.value


def test_five_failures_in_a_row_lock_for_fifteen_minutes(staff):
    staff.add("cli", "sara", "Sara", "officer", None, PASSWORD)
    for _ in range(4):
        refused("wrong_credentials", staff.sign_in, "sara", "wrong password!", status=401)
    staff.clock.advance(minutes=10)  # failures in a row, however spread out
    error = refused("locked", staff.sign_in, "sara", "wrong password!", status=423)
    assert error.details["locked_until"] == "2026-11-24T08:25:00.000+00:00"
    assert "08:25 UTC" in error.message
    staff.clock.advance(minutes=14, seconds=59)
    refused("locked", staff.sign_in, "sara", PASSWORD)  # even the right password
    staff.clock.advance(seconds=1)
    assert staff.sign_in("sara", PASSWORD)
    assert staff.list()[0]["locked_until"] is None
    locks = [r for r in staff.audit_log(Person("a", "A", "auditor", None))
             if r["action"] == "staff.locked"]
    assert [(r["actor"], r["detail"]) for r in locks] == [
        ("sara", {"until": "2026-11-24T08:25:00.000+00:00"})]


def test_success_resets_the_count(staff):
    staff.add("cli", "sara", "Sara", "officer", None, PASSWORD)
    for _ in range(4):
        refused("wrong_credentials", staff.sign_in, "sara", "nope nope nope")
    staff.sign_in("sara", PASSWORD)
    for _ in range(4):
        refused("wrong_credentials", staff.sign_in, "sara", "nope nope nope")
    assert staff.sign_in("sara", PASSWORD)


def test_an_unknown_name_costs_a_password_check_and_gets_the_same_answer(staff, monkeypatch):
    staff.add("cli", "sara", "Sara", "officer", None, PASSWORD)
    checked = []
    real = staff._verify
    monkeypatch.setattr(staff, "_verify", lambda h, p: checked.append(h) or real(h, p))
    unknown = refused("wrong_credentials", staff.sign_in, "nobody", PASSWORD)
    wrong = refused("wrong_credentials", staff.sign_in, "sara", "not the password")
    assert unknown.message == wrong.message and unknown.status == wrong.status == 401
    assert len(checked) == 2 and checked[0] == staff._decoy


def test_passwords_are_argon2_and_weak_ones_are_refused_changing_nothing(staff):
    before = rows(staff)
    refused("weak_password", staff.add, "cli", "sara", "Sara", "officer", None, "short")
    refused("weak_password", staff.add, "cli", "saraalifarah", "Sara", "officer", None,
            "SaraAliFarah")
    refused("invalid_role", staff.add, "cli", "sara", "Sara", "boss", None, PASSWORD)
    refused("invalid_username", staff.add, "cli", "Sara Ali", "Sara", "officer", None,
            PASSWORD)
    refused("unknown_municipality", staff.add, "cli", "sara", "Sara", "officer", "XYZ",
            PASSWORD)
    refused("invalid_full_name", staff.add, "cli", "sara", "Sara\u202eilA", "officer", None,
            PASSWORD)
    refused("invalid_full_name", staff.add, "cli", "sara", "", "officer", None, PASSWORD)
    assert rows(staff) == before
    staff.add("cli", "sara", "<script>alert(1)</script>", "officer", None, PASSWORD)
    with staff.engine.connect() as conn:
        stored = conn.execute(sa.select(db.staff.c.password_hash)).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    refused("staff_exists", staff.add, "cli", "sara", "Sara", "officer", None, PASSWORD)


def test_sessions_keep_only_a_hash_and_expire(staff):
    staff.add("cli", "sara", "Sara", "officer", None, PASSWORD)
    token = staff.sign_in("sara", PASSWORD)
    with staff.engine.connect() as conn:
        stored = conn.execute(sa.select(db.console_sessions.c.token_hash)).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    person, state = staff.session(token)
    assert (person.username, state, person.via) == ("sara", "ok", "session")
    assert len(person.csrf_token) >= 32
    staff.clock.advance(minutes=29, seconds=59)
    assert staff.session(token) is not None  # and that use counts as activity
    staff.clock.advance(minutes=29, seconds=59)
    assert staff.session(token) is not None
    staff.clock.advance(minutes=30)
    assert staff.session(token) is None
    assert rows(staff)["console_sessions"] == []  # an expired session is deleted
    token = staff.sign_in("sara", PASSWORD)
    for _ in range(24):
        staff.clock.advance(minutes=29, seconds=59)
        assert staff.session(token) is not None
    staff.clock.advance(minutes=1)  # 12 hours after signing in
    assert staff.session(token) is None
    # A live page refreshing itself is not activity: the session still idles out.
    token = staff.sign_in("sara", PASSWORD)
    for _ in range(3):
        staff.clock.advance(minutes=9)
        assert staff.session(token, activity=False) is not None
    staff.clock.advance(minutes=3)
    assert staff.session(token, activity=False) is None
    token = staff.sign_in("sara", PASSWORD)
    staff.sign_out(token)
    assert staff.session(token) is None and rows(staff)["console_sessions"] == []
    assert staff.session("") is None and staff.session("x" * 500) is None


def test_admins_and_people_with_a_secret_are_half_signed_in_until_the_code(staff):
    staff.add("cli", "huda", "Huda", "admin", None, PASSWORD)
    token = staff.sign_in("huda", PASSWORD)
    assert staff.session(token)[1] == "enrol"
    secret = totp.new_secret()
    now = staff.clock.now().timestamp()
    refused("wrong_code", staff.enrol_totp, token, secret, totp.code_at(secret, now + 300))
    staff.enrol_totp(token, secret, totp.code_at(secret, now))
    assert staff.session(token)[1] == "ok"
    second = staff.sign_in("huda", PASSWORD)
    assert staff.session(second)[1] == "totp"
    refused("wrong_code", staff.verify_totp, second, totp.code_at(secret, now))  # used once
    staff.clock.advance(30)
    staff.verify_totp(second, totp.code_at(secret, staff.clock.now().timestamp()))
    assert staff.session(second)[1] == "ok"
    # wrong codes count towards the lockout
    third = staff.sign_in("huda", PASSWORD)
    for _ in range(4):
        refused("wrong_code", staff.verify_totp, third, "000000")
    refused("locked", staff.verify_totp, third, "000000")
    staff.reset_totp("cli", "huda")
    assert staff.session(token) is None  # a reset ends every session


def test_api_keys_are_shown_once_and_only_their_hash_kept(staff):
    root = staff.authenticate_key(f"Bearer {staff.root_token}")
    assert (root.username, root.role, root.municipality, root.via) == \
        ("key:root", "admin", None, "key")
    secret = staff.add_key(root, "reports", "auditor", None)
    assert secret not in str(rows(staff))
    staff.clock.advance(minutes=5)
    person = staff.authenticate_key(f"Bearer {secret}")
    assert person.role == "auditor" and not person.can("decide") and person.can("read")
    assert next(k for k in staff.keys() if k["name"] == "reports")["last_used_at"] == \
        "2026-11-24T08:05:00.000+00:00"
    refused("key_exists", staff.add_key, root, "reports", "auditor", None)
    refused("invalid_key_name", staff.add_key, root, "Has Spaces", "auditor", None)
    # Kept to the minute: uses within it write nothing (no row every request waits on).
    staff.clock.advance(seconds=30)
    staff.authenticate_key(f"Bearer {secret}")
    assert next(k for k in staff.keys() if k["name"] == "reports")["last_used_at"] == \
        "2026-11-24T08:05:00.000+00:00"
    staff.clock.advance(seconds=31)
    staff.authenticate_key(f"Bearer {secret}")
    assert next(k for k in staff.keys() if k["name"] == "reports")["last_used_at"] == \
        "2026-11-24T08:06:01.000+00:00"
    staff.revoke_key(root, "reports")
    error = refused("not_authenticated", staff.authenticate_key, f"Bearer {secret}", status=401)
    assert "revoked" in error.message
    refused("not_authenticated", staff.authenticate_key, None, status=401)
    refused("not_authenticated", staff.authenticate_key, "Bearer nonsense", status=401)
    refused("key_revoked", staff.revoke_key, root, "reports")


def test_municipal_staff_see_and_manage_only_their_municipality(staff):
    staff.add_municipality("cli", "CAP", "أمانة العاصمة", "Capital")
    staff.add_municipality("cli", "NTH", "بلدية الشمالية", "Northern")
    staff.assign_office("cli", "MUH", "CAP")
    staff.assign_office("cli", "HAM", "NTH")
    staff.assign_office("cli", "NEW", "NTH")
    staff.assign_office("cli", "NEW", "CAP")  # moved
    local = Person("ali", "Ali", "admin", "CAP")
    national = Person("huda", "Huda", "auditor", None)
    assert [o["code"] for o in staff.offices(local)] == ["MUH", "NEW"]
    assert [o["code"] for o in staff.offices(national)] == ["HAM", "MUH", "NEW"]
    with staff.engine.connect() as conn:
        query = sa.select(db.offices.c.code).where(scope_offices(local, db.offices.c.code))
        assert sorted(conn.execute(query).scalars()) == ["MUH", "NEW"]
    assert local.sees("CAP") and not local.sees("NTH") and not local.sees(None)
    assert national.sees("NTH") and national.sees(None)
    before = rows(staff)
    refused("other_municipality", staff.add, local, "x.y", "X", "officer", "NTH", PASSWORD)
    refused("other_municipality", staff.add, local, "x.y", "X", "officer", None, PASSWORD)
    refused("national_only", staff.add_municipality, local, "STH", "ج", "South")
    refused("national_only", staff.assign_office, local, "HAM", "CAP")
    refused("unknown_municipality", staff.assign_office, "cli", "HAM", "ZZZ")
    refused("invalid_office", staff.assign_office, "cli", "ham", "CAP")
    refused("municipality_exists", staff.add_municipality, "cli", "CAP", "أ", "A")
    refused("invalid_municipality", staff.add_municipality, "cli", "cap", "أ", "A")
    assert rows(staff) == before
    staff.add("cli", "nora", "Nora", "officer", "NTH", PASSWORD)
    refused("unknown_staff", staff.disable, local, "nora")  # another municipality's: absent
    staff.add(local, "sami", "Sami", "officer", "CAP", PASSWORD)
    assert [r["username"] for r in staff.list(local)] == ["sami"]


def test_every_change_is_audited_with_no_personal_data(staff):
    root = staff.authenticate_key(f"Bearer {staff.root_token}")
    staff.add_municipality(root, "CAP", "أمانة العاصمة", "Capital")
    staff.add(root, "sara", "Sara Ali", "officer", "CAP", PASSWORD)
    staff.reset_password(root, "sara", "another long password")
    staff.disable(root, "sara")
    log = staff.audit_log(root)
    assert [(r["actor"], r["action"], r["entity_id"]) for r in log[:4]] == [
        ("key:root", "staff.disable", "sara"), ("key:root", "staff.reset_password", "sara"),
        ("key:root", "staff.add", "sara"), ("key:root", "municipality.add", "CAP")]
    assert log[2]["detail"] == {"role": "officer"} and log[2]["municipality"] == "CAP"
    text = str(rows(staff)["console_audit"])
    assert "Sara Ali" not in text and PASSWORD not in text and "another long" not in text
    assert staff.audit_log(Person("x", "X", "auditor", "NTH")) == []
    refused("unknown_staff", staff.disable, "cli", "nobody")
    assert len(staff.audit_log(root)) == len(log)  # a refusal writes nothing


def test_disabled_staff_cannot_sign_in_and_lose_their_sessions(staff):
    staff.add("cli", "sara", "Sara", "officer", None, PASSWORD)
    token = staff.sign_in("sara", PASSWORD)
    staff.disable(Person("huda", "Huda", "admin", None), "sara")
    assert staff.session(token) is None
    refused("wrong_credentials", staff.sign_in, "sara", PASSWORD)
    refused("own_account", staff.disable, Person("sara", "S", "admin", None), "sara")


def test_permissions_table():
    officer, admin = Person("a", "A", "officer", None), Person("b", "B", "admin", None)
    assert officer.can("decide") and officer.can("revoke_licence") and officer.can("read")
    assert not officer.can("staff") and not officer.can("fees")
    assert Person("c", "C", "finance", None).can("fees")
    assert Person("d", "D", "operations", None).can("offices")
    auditor = Person("e", "E", "auditor", None)
    assert auditor.can("read") and not any(auditor.can(p) for p in (
        "decide", "revoke_licence", "offices", "fees", "catalogue", "staff", "municipalities",
        "api_keys", "erase"))
    assert all(admin.can(p) for p in ("decide", "staff", "erase", "fees", "api_keys"))
    with pytest.raises(ValueError):
        admin.can("fly")


def test_text_with_nul_is_refused_cleanly(staff):
    # PostgreSQL refuses NUL in text: each is an ordinary refusal, not a server error
    before = rows(staff)
    refused("wrong_credentials", staff.sign_in, "sa\x00ra", PASSWORD)
    refused("unknown_staff", staff.disable, "cli", "sa\x00ra")
    refused("unknown_key", staff.revoke_key, "cli", "k\x00")
    refused("unknown_municipality", staff.add, "cli", "sara", "Sara", "officer", "C\x00",
            PASSWORD)
    refused("invalid_full_name", staff.add, "cli", "sara", "Sa\x00ra", "officer", None,
            PASSWORD)
    assert staff.municipality_of("application", "A\x00") == (False, None)
    assert rows(staff) == before
