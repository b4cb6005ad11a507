"""Messages to residents' phones (core/messages.py, docs/messages.md): numbers checked and
normalised, consent recorded and withdrawable, templates checked when loaded, only a fixed
set of values in a message, per-number rate limits, the triggers idempotent, and nothing
sent after its moment."""
import json
from datetime import timedelta

import pytest

from core.errors import InvalidState, ValidationError
from core.messages import (EXPIRES_S, KINDS, MAX_ATTEMPTS, SHIPPED_TEMPLATES, TemplateError,
                           load_templates, masked, normalise_number, parse_templates)

RES = "residence-certificate"
PATTERN = r"^(\+973)?[13679][0-9]{7}$"
PHONE = "+97336001234"


@pytest.fixture
def messages(office):
    office.settings.messages.gateway = "simulated"
    return office.messages


def events(office, event_type):
    return [json.loads(r[0])["data"] for r in office.store.conn.execute(
        "SELECT body FROM outbox WHERE type = ? ORDER BY seq", (event_type,))]


def waiting_tickets(office, n, service=RES):
    return [office.queue.take_ticket(service) for _ in range(n)]


# --- phone numbers --------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["36001234", "+97336001234", "+973 3600-1234",
                                   "٣٦٠٠١٢٣٤", "0097336001234", " 3600 1234 "])
def test_a_number_is_normalised_to_one_international_form(typed):
    assert normalise_number(typed, PATTERN, "+973") == PHONE


@pytest.mark.parametrize("typed", ["12345", "3600123", "+4420794600", "36OO1234", "",
                                   "+97346001234", "973 36001234", "+973360012345"])
def test_a_number_in_a_wrong_format_is_refused_with_the_forms_problem(typed):
    with pytest.raises(ValidationError) as err:
        normalise_number(typed, PATTERN, "+973")
    assert err.value.field == "phone"
    assert err.value.problem in ("not_phone", "required")


def test_a_wrong_number_changes_nothing(messages, db_state):
    ticket = messages.office.queue.take_ticket(RES)
    before = db_state()
    for call in (lambda: messages.give_consent("1234", "kiosk"),
                 lambda: messages.subscribe_ticket(ticket["id"], "phone?", "ar",
                                                   consent_channel="kiosk")):
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.problem == "not_phone"
    assert db_state() == before


def test_the_number_in_the_audit_and_events_is_masked():
    assert masked(PHONE) == "+973*****234"


# --- consent --------------------------------------------------------------------------------
def test_no_consent_no_subscription_and_nothing_changes(messages, db_state):
    ticket = messages.office.queue.take_ticket(RES)
    before = db_state()
    with pytest.raises(InvalidState) as err:
        messages.subscribe_ticket(ticket["id"], "36001234", "ar")
    assert err.value.details["reason"] == "no_consent"
    assert db_state() == before


def test_consent_is_recorded_with_its_channel_and_actor_and_an_event(messages):
    office = messages.office
    with office.acting_as("sara"):
        row = messages.give_consent("3600 1234", "counter")
    assert (row["number"], row["channel"], row["given_by"]) == (PHONE, "counter", "sara")
    assert row["withdrawn_at"] is None
    again = messages.give_consent("36001234", "kiosk")  # already given: nothing new
    assert again["channel"] == "counter"
    assert events(office, "message.consent_given") == [
        {"id": row["id"], "number": "+973*****234", "channel": "counter",
         "given_at": row["given_at"]}]
    assert PHONE not in json.dumps(office.store.all("SELECT * FROM audit"))


def test_queuing_without_consent_is_refused(messages, clock):
    with pytest.raises(InvalidState) as err:
        messages.queue("called", PHONE, "en", {"number": "R001", "counter": "1",
                                               "office": "x", "service": "y"},
                       "manual-1", "ticket:x", clock.now())
    assert err.value.details["reason"] == "no_consent"


def test_messages_off_refuses_a_subscription(office):
    ticket = office.queue.take_ticket(RES)
    assert not office.messages.enabled
    with pytest.raises(InvalidState) as err:
        office.messages.subscribe_ticket(ticket["id"], PHONE, consent_channel="kiosk")
    assert err.value.details["reason"] == "messages_off"
    assert office.messages.queue_changed() == {"queued": 0, "expired": 0}


def test_withdrawn_consent_cancels_what_is_queued_and_queues_nothing_more(messages, clock):
    office = messages.office
    waiting_tickets(office, 2)
    mine = office.queue.take_ticket(RES)
    messages.subscribe_ticket(mine["id"], PHONE, "en", consent_channel="phone")
    assert messages.queue_changed()["queued"] == 1  # 2 ahead <= 3: turn near
    queued = messages.due()
    assert [m["kind"] for m in queued] == ["turn_near"]
    result = messages.withdraw_consent("36001234")
    assert (result["cancelled"], result["subscriptions_ended"]) == (1, 1)
    assert messages.get(queued[0]["id"])["state"] == "cancelled"
    assert messages.claim(queued[0]["id"]) is None
    office.queue.call_next("1", [RES])
    office.queue.call_next("1", [RES])
    office.queue.call_next("1", [RES])  # mine is called: nothing queued for it now
    assert messages.queue_changed()["queued"] == 0 and messages.due() == []
    with pytest.raises(InvalidState):
        messages.withdraw_consent(PHONE)
    assert events(office, "message.consent_withdrawn")[0]["number"] == "+973*****234"


def test_a_message_claimed_after_withdrawal_is_cancelled_not_sent(messages, clock):
    messages.give_consent(PHONE, "cli")
    row = messages.queue("called", PHONE, "en", {"number": "R001", "counter": "1",
                                                 "office": "x", "service": "y"},
                         "manual-2", "ticket:x", clock.now().replace(year=2027))
    messages.office.store.conn.execute(  # withdrawn by another process, between due and claim
        "UPDATE message_consents SET withdrawn_at = '2026-11-24T08:00:00.000+00:00'")
    assert messages.claim(row["id"]) is None
    assert messages.get(row["id"])["state"] == "cancelled"


# --- templates ------------------------------------------------------------------------------
def good_templates() -> str:
    return SHIPPED_TEMPLATES.read_text(encoding="utf-8")


def test_the_shipped_templates_load_in_both_languages():
    t = load_templates()
    assert set(t.texts) == set(KINDS)
    assert all(set(v) == {"ar", "en"} for v in t.texts.values())


def test_a_template_missing_a_placeholder_is_refused_naming_it():
    broken = good_templates().replace("please go to counter {counter}.", "please come.")
    with pytest.raises(TemplateError) as err:
        parse_templates(broken, "test.toml")
    assert err.value.details["template"] == "called.en"
    assert err.value.details["reason"] == "missing_placeholder"
    assert "{counter}" in err.value.message and "called.en" in err.value.message


@pytest.mark.parametrize("bad", ["{national_id}", "{holder_name}", "{number.__class__}",
                                 "{number[0]}", "{number!r}", "{ahead:>10}"])
def test_a_template_using_an_unknown_or_odd_placeholder_is_refused(bad):
    broken = good_templates().replace("Ticket {number}, {ahead} ahead",
                                      f"Ticket {{number}} {bad}, {{ahead}} ahead")
    with pytest.raises(TemplateError) as err:
        parse_templates(broken, "test.toml")
    assert err.value.details["template"] == "turn_near.en"


def test_a_template_missing_a_language_or_state_words_is_refused():
    no_arabic = good_templates().replace('ar = "{office}: حان دورك', 'xx = "{office}: حان دورك')
    with pytest.raises(TemplateError, match="called.ar"):
        parse_templates(no_arabic, "t.toml")
    no_words = good_templates().replace("issued = {", "issuedx = {")
    with pytest.raises(TemplateError, match="states.issued"):
        parse_templates(no_words, "t.toml")


def test_a_bad_templates_file_in_the_settings_is_a_clear_error(messages, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(good_templates().replace("{receipt}.", "."), encoding="utf-8")
    messages.office.settings.messages.templates = str(path)
    with pytest.raises(TemplateError, match="receipt"):
        _ = messages.templates


def test_render_accepts_only_the_kinds_values():
    t = load_templates()
    values = {"number": "R001", "counter": "3", "office": "Centre", "service": "Permit"}
    assert t.render("called", "en", values) == \
        "Centre: it is your turn. Ticket R001, please go to counter 3."
    for extra in ({"national_id": "850100006"}, {"holder_name": "Fatima"}, {"licence": "L1"}):
        with pytest.raises(ValidationError):
            t.render("called", "en", {**values, **extra})
    with pytest.raises(ValidationError):
        t.render("called", "en", {k: v for k, v in values.items() if k != "counter"})
    with pytest.raises(ValidationError):
        t.render("called", "en", {**values, "counter": {"x": 1}})


# --- triggers -------------------------------------------------------------------------------
def test_turn_near_is_queued_once_when_few_enough_are_ahead(messages, clock):
    office = messages.office
    waiting_tickets(office, 5)
    mine = office.queue.take_ticket(RES)
    messages.subscribe_ticket(mine["id"], PHONE, "en", near_threshold=2,
                              consent_channel="kiosk")
    assert messages.queue_changed()["queued"] == 0  # 5 ahead
    office.queue.call_next("1", [RES])
    office.queue.call_next("2", [RES])
    assert messages.queue_changed()["queued"] == 0  # 3 ahead
    office.queue.call_next("1", [RES])
    assert messages.queue_changed()["queued"] == 1  # 2 ahead
    office.queue.call_next("2", [RES])
    assert messages.queue_changed()["queued"] == 0  # 1 ahead: already told
    [m] = messages.list()
    assert m["kind"] == "turn_near" and m["state"] == "queued" and m["number"] == PHONE
    assert m["text"].startswith("Muharraq Service Centre: your turn is near. Ticket ")
    assert f"Ticket {mine['number']}, 2 ahead" in m["text"]


def test_turn_near_expires_when_the_ticket_is_called_and_called_is_queued(messages, clock):
    office = messages.office
    mine = office.queue.take_ticket(RES)
    messages.subscribe_ticket(mine["id"], PHONE, "ar", consent_channel="kiosk")
    messages.queue_changed()
    office.queue.call_next("4", [RES])
    assert messages.queue_changed() == {"queued": 1, "expired": 1}
    called, near = sorted(messages.list(), key=lambda m: m["kind"])
    assert (near["kind"], near["state"], near["last_error"]) == \
        ("turn_near", "expired", "ticket_moved_on")
    assert called["kind"] == "called" and called["state"] == "queued"
    assert "الشباك 4" in called["text"] and mine["number"] in called["text"]
    assert [m["id"] for m in messages.due()] == [called["id"]]


def test_called_is_queued_once_per_call_and_a_recall_replaces_it(messages, clock):
    office = messages.office
    mine = office.queue.take_ticket(RES)
    messages.give_consent(PHONE, "kiosk")
    office.queue.call_next("1", [RES])
    messages.subscribe_ticket(mine["id"], PHONE, "en")
    assert messages.queue_changed()["queued"] == 1
    assert messages.queue_changed()["queued"] == 0
    clock.advance(30)
    office.queue.recall(mine["id"])
    assert messages.queue_changed() == {"queued": 1, "expired": 1}
    refs = {m["ref"]: m["state"] for m in messages.list()}
    assert refs == {f"t:{mine['id']}:called:1": "expired",
                    f"t:{mine['id']}:called:2": "queued"}


def test_a_called_message_is_never_sent_after_two_minutes(messages, clock):
    office = messages.office
    mine = office.queue.take_ticket(RES)
    messages.subscribe_ticket(mine["id"], PHONE, "en", consent_channel="kiosk")
    office.queue.call_next("1", [RES])
    messages.queue_changed()
    [called] = messages.due()
    clock.advance(EXPIRES_S["called"] + 1)
    assert messages.due() == []
    assert messages.claim(called["id"]) is None
    assert messages.get(called["id"])["state"] == "expired"


def test_a_called_moment_already_past_is_recorded_expired_not_queued(messages, clock):
    office = messages.office
    mine = office.queue.take_ticket(RES)
    messages.give_consent(PHONE, "kiosk")
    office.queue.call_next("1", [RES])
    messages.subscribe_ticket(mine["id"], PHONE, "en")
    clock.advance(EXPIRES_S["called"] + 5)  # the link (or the poller) was away
    messages.queue_changed()
    [m] = messages.list()
    assert (m["kind"], m["state"], m["last_error"]) == ("called", "expired", "moment_passed")
    assert messages.due() == []


def test_receipt_and_status_reach_the_ticket_holder_without_personal_values(
        messages, clock, submit_valid, till, valid_nid):
    office = messages.office
    ticket = office.queue.take_ticket(RES)
    messages.subscribe_ticket(ticket["id"], PHONE, "en", consent_channel="kiosk")
    messages.queue_changed()
    office.queue.call_next("1", [RES])
    app = office.applications.submit(RES, {**_fields(office, valid_nid)}, ticket=ticket["id"])
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=1000)
    office.licences.issue(app["id"])
    messages.queue_changed()
    kinds = {m["kind"]: m for m in messages.list()}
    assert set(kinds) == {"turn_near", "called", "receipt", "application_status"}
    assert app["number"] in kinds["receipt"]["text"]
    assert "issued, ready to collect" in kinds["application_status"]["text"]
    assert messages.queue_changed()["queued"] == 0
    texts = " ".join(m["text"] for m in messages.list())
    for personal in (valid_nid(), "Fatima", "Hasan", "Block", "204"):
        assert personal not in texts


def _fields(office, valid_nid):
    svc = office.catalog.get(RES)
    values = {}
    for f in svc.fields:
        values[f.key] = {"national_id": valid_nid(), "phone": "33334444", "block": "204",
                         "road": "15", "building": "1203A"}.get(f.type, "Fatima Ali Hasan")
        if f.type == "choice":
            values[f.key] = f.options[0].value
    return values


def test_a_newer_application_status_supersedes_an_unsent_one(messages, clock, submit_valid,
                                                             till):
    office = messages.office
    app = submit_valid("building-permit-small")  # reviewed before it is issued
    messages.subscribe_application(app["id"], PHONE, "en", consent_channel="counter")
    assert messages.queue_changed()["queued"] == 0  # submitted: nothing to tell
    office.applications.approve(app["id"])
    messages.queue_changed()
    [approved] = messages.due()
    assert approved["kind"] == "application_status" and "approved" in approved["text"]
    clock.advance(60)
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=20_000)
    office.licences.issue(app["id"])
    messages.queue_changed()
    assert messages.get(approved["id"])["state"] == "expired"
    assert messages.get(approved["id"])["last_error"] == "superseded"
    assert sorted(m["kind"] for m in messages.due()) == ["application_status", "receipt"]
    assert messages.queue_changed()["queued"] == 0


# --- rate limits ----------------------------------------------------------------------------
def test_beyond_the_hourly_limit_a_message_is_dropped_with_a_stable_reason(messages, clock):
    messages.office.settings.messages.per_number_per_hour = 2
    messages.give_consent(PHONE, "cli")
    later = clock.now().replace(year=2027)
    values = {"number": "R001", "counter": "1", "office": "x", "service": "y"}
    states = [messages.queue("called", PHONE, "en", values, f"m{i}", "ticket:x", later)["state"]
              for i in range(3)]
    assert states == ["queued", "queued", "dropped"]
    assert messages.get("m2")["last_error"] == "rate_limited"
    assert [m["ref"] for m in messages.due()] == ["m0", "m1"]
    clock.advance(3601)  # a new hour
    assert messages.queue("called", PHONE, "en", values, "m3", "ticket:x", later)["state"] \
        == "queued"
    # The same ref again is the same message, whatever the limits say.
    assert messages.queue("called", PHONE, "en", values, "m2", "ticket:x", later)["state"] \
        == "dropped"


# --- the sender's side ----------------------------------------------------------------------
def test_retries_back_off_then_expire_at_the_moment(messages, clock):
    messages.give_consent(PHONE, "cli")
    values = {"number": "R001", "counter": "1", "office": "x", "service": "y"}
    row = messages.queue("called", PHONE, "en", values, "r1", "ticket:x",
                         clock.now() + timedelta(seconds=30))
    claimed = messages.claim(row["id"])
    assert claimed["attempts"] == 1
    assert messages.claim(row["id"]) is None  # claimed: not due again until its lease ends
    assert messages.mark_retry(row["id"], "timeout", retry_after_s=10) == "queued"
    assert messages.due() == []
    clock.advance(10)
    assert [m["id"] for m in messages.due()] == [row["id"]]
    messages.claim(row["id"])
    assert messages.mark_retry(row["id"], "throttled", retry_after_s=60) == "expired"
    assert messages.get(row["id"])["state"] == "expired"


def test_a_message_fails_after_its_attempts(messages, clock):
    messages.give_consent(PHONE, "cli")
    values = {"number": "R001", "counter": "1", "office": "x", "service": "y"}
    row = messages.queue("called", PHONE, "en", values, "r2", "ticket:x",
                         clock.now().replace(year=2027))
    state = "queued"
    for _ in range(MAX_ATTEMPTS):
        clock.advance(400)
        assert messages.claim(row["id"]) is not None
        state = messages.mark_retry(row["id"], "gateway error 500")
    assert state == "failed" and messages.get(row["id"])["last_error"] == "gateway error 500"


def test_purge_deletes_old_finished_messages_and_subscriptions(messages, clock):
    messages.give_consent(PHONE, "cli")
    values = {"number": "R001", "counter": "1", "office": "x", "service": "y"}
    row = messages.queue("called", PHONE, "en", values, "p1", "ticket:x",
                         clock.now().replace(year=2027))
    messages.mark_sent(row["id"], "gw-1")
    clock.advance(days=messages.config.keep_days + 1)
    assert messages.purge()["messages"] == 1
    assert messages.list() == [] and messages.consent_of(PHONE) is not None


def test_a_store_before_messages_reads_as_empty_then_upgrades(tmp_path, clock, ids,
                                                              monkeypatch):
    from core import migrations
    from core.office import Office
    from core.settings import load_settings
    settings = load_settings(tmp_path, environ={})
    settings.messages.gateway = "simulated"
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:22])
    old = Office.open(settings, clock=clock, ids=ids)
    ticket = old.queue.take_ticket(RES)
    assert old.messages.list() == [] and old.messages.due() == []
    assert old.messages.queue_changed() == {"queued": 0, "expired": 0}
    with pytest.raises(InvalidState):
        old.messages.give_consent(PHONE, "kiosk")
    old.close()
    monkeypatch.undo()
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        office.messages.subscribe_ticket(ticket["id"], PHONE, consent_channel="kiosk")
        assert office.messages.queue_changed()["queued"] == 1
    finally:
        office.close()


@pytest.mark.parametrize("env, key", [
    ({"NAFITHA_MESSAGES__GATEWAY": "pigeon"}, "messages.gateway"),
    ({"NAFITHA_MESSAGES__GATEWAY": "http"}, "messages.url"),
    ({"NAFITHA_MESSAGES__GATEWAY": "smpp"}, "messages.host"),
    ({"NAFITHA_MESSAGES__COUNTRY_CODE": "973"}, "messages.country_code"),
    ({"NAFITHA_MESSAGES__PER_NUMBER_PER_HOUR": "50"}, "messages.per_number_per_hour"),
    ({"NAFITHA_MESSAGES__NEAR_THRESHOLD": "0"}, "messages.near_threshold"),
    ({"NAFITHA_MESSAGES__CHANNEL": "telegram"}, "messages.channel"),
    ({"NAFITHA_MESSAGES__GATEWAY": "smpp", "NAFITHA_MESSAGES__HOST": "smsc.example",
      "NAFITHA_MESSAGES__CHANNEL": "whatsapp"}, "messages.channel"),
])
def test_bad_message_settings_name_the_key(tmp_path, env, key):
    from core.errors import ConfigError
    from core.settings import load_settings
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path, environ=env)
    assert err.value.details["key"] == key


def test_message_settings_default_to_off(tmp_path):
    from core.settings import load_settings
    m = load_settings(tmp_path, environ={}).messages
    assert (m.gateway, m.channel, m.near_threshold, m.per_number_per_hour) == \
        ("none", "sms", 3, 6)


def test_a_decided_application_is_no_longer_looked_at(messages, clock, submit_valid):
    office = messages.office
    app = submit_valid("building-permit-small")
    messages.subscribe_application(app["id"], PHONE, "en", consent_channel="counter")
    office.applications.reject(app["id"], "incomplete plan")
    assert messages.queue_changed()["queued"] == 1
    sub = office.store.one("SELECT * FROM message_subscriptions WHERE application_id = ?",
                           (app["id"],))
    assert sub["finished_at"] is not None
    office.store.conn.execute("DELETE FROM messages")  # were it looked at, it would requeue
    office.queue.take_ticket(RES)  # something changed: a full look
    assert messages.queue_changed()["queued"] == 0
