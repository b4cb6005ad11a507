"""Messages to residents' phones (tables message_consents, message_subscriptions, messages;
docs/messages.md).

    office.messages.give_consent("36001234", channel="kiosk")
    office.messages.subscribe_ticket(ticket_id, "36001234", "ar", consent_channel="phone")
    office.messages.queue_changed()    # what the sender loop (and any poller) calls: queues
                                       # what is due, expires what has passed; idempotent
    office.messages.withdraw_consent("+97336001234")

A number is used only with its consent, recorded (when, by which channel, by whom) and
withdrawable: without it nothing is queued, and once it is withdrawn nothing queued is sent.
Each message has a `ref` derived from what it is about (ticket + kind + call count, payment,
application + state), unique in the table: a second look at the same moment queues nothing,
and the gateway drops a resend under the same ref. Every message has an `expires_at` and is
never sent after it (state `expired`). The text is rendered here from templates
(assets/messages.toml) that accept only a fixed set of values per kind, none of them a name,
a national ID or a licence's content.

Sending is devices/messaging's (the gateways and the sender loop); it asks `due()`, `claim()`s
each message just before it sends, then `mark_sent()`, `mark_retry()` or `mark_failed()`."""
from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from . import audit
from .clock import iso
from .errors import ConfigError, InvalidState, NotFound, ValidationError
from .money import format_digits, format_money
from .queue import LIVE
from .text import LANGUAGES, check_phone, clean_text, to_ascii_digits

MESSAGES_SCHEMA = 23  # core.migrations.m023_messages
SHIPPED_TEMPLATES = Path(__file__).resolve().parents[1] / "assets" / "messages.toml"

# Each kind: the placeholders its templates must use, and all it may use. A caller of
# render() gives every allowed value; none of them is personal beyond the ticket's number.
KINDS: dict[str, tuple[frozenset, frozenset]] = {
    "turn_near": (frozenset({"number", "ahead"}),
                  frozenset({"number", "ahead", "office", "service", "wait_minutes"})),
    "called": (frozenset({"number", "counter"}),
               frozenset({"number", "counter", "office", "service"})),
    "receipt": (frozenset({"amount", "receipt"}),
                frozenset({"amount", "receipt", "application", "office", "service"})),
    "application_status": (frozenset({"application", "state"}),
                           frozenset({"application", "state", "office", "service"})),
}
# The application states a resident is told about ({state} words in the templates file).
STATUS_STATES = ("approved", "rejected", "issued")
APPLICATION_DONE = ("issued", "rejected", "withdrawn")  # its subscription ends there
STATE_WORDS = ("submitted", "paid", "approved", "issued", "rejected", "withdrawn")
STATES = ("queued", "sent", "failed", "expired", "cancelled", "dropped")
CONSENT_CHANNELS = ("kiosk", "counter", "phone", "cli")

# How long each kind's moment lasts (docs/messages.md): never sent after it.
EXPIRES_S = {
    "turn_near": 15 * 60,           # and as soon as the ticket is no longer waiting
    "called": 2 * 60,               # from the call; and once the ticket is not called
    "receipt": 24 * 3600,           # from the payment
    "application_status": 72 * 3600,  # from the change; and once a newer status is queued
}
# A subscribed ticket is looked at for this long after it was taken (tickets are daily).
TICKET_WATCH_S = 24 * 3600
# A claimed message is retried after this if its sender dies before it says how it went
# (the same ref: the gateway drops it if the first send went through).
CLAIM_LEASE_S = 60
RETRY_BASE_S = 5
RETRY_MAX_S = 300
MAX_ATTEMPTS = 8
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class TemplateError(ConfigError):
    """A message template that cannot be used: its kind, language and what is wrong."""

    code = "template_invalid"


# --- phone numbers ------------------------------------------------------------------------
def normalise_number(text, pattern: str, country_code: str, field: str = "phone") -> str:
    """A phone number as stored and sent: +<country><number>. Accepts Arabic-Indic digits,
    spaces, dashes, dots and brackets, and a 00 prefix; the office's phone pattern
    (validation.phone_pattern) must match it. A wrong format is a ValidationError
    (problem not_phone, as the forms' phone fields say it)."""
    if not isinstance(text, str):
        raise ValidationError(f"{field}: a phone number is text", field=field,
                              problem="not_phone", pattern=pattern)
    # Separators people type in a number ("3600-1234", "(+973) 3600 1234") and a 00 prefix
    # go first; then the forms' own check.
    cleaned = re.sub(r"[\-.()]", "", to_ascii_digits(text)).strip()
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    cleaned = check_phone(cleaned, pattern, field)
    number = cleaned if cleaned.startswith("+") else country_code + cleaned.lstrip("0")
    if not E164.fullmatch(number):
        raise ValidationError(f"{field}: {number!r} is not an international phone number",
                              field=field, problem="not_phone", pattern=pattern)
    return number


def masked(number: str) -> str:
    """What the audit and the events keep of a number: its country code and last 3 digits."""
    return number[:4] + "*" * max(0, len(number) - 7) + number[-3:]


# --- templates ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Templates:
    texts: dict          # {kind: {lang: text}}
    states: dict         # {state: {lang: words}}
    source: str

    def render(self, kind: str, language: str, values: dict) -> str:
        """The message text. `values` must be exactly the kind's allowed names (KINDS), each
        text or a whole number: nothing else can reach a message."""
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}", field="kind")
        if language not in LANGUAGES:
            raise ValidationError("language must be ar or en", field="language")
        allowed = KINDS[kind][1]
        if set(values) != allowed:
            extra, missing = sorted(set(values) - allowed), sorted(allowed - set(values))
            raise ValidationError(f"{kind}: values must be exactly {', '.join(sorted(allowed))}"
                                  + (f"; not {', '.join(extra)}" if extra else "")
                                  + (f"; missing {', '.join(missing)}" if missing else ""),
                                  field="values", reason="message_values")
        clean = {}
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise ValidationError(f"{kind}: {key} must be text or a whole number",
                                      field=key, reason="message_values")
            clean[key] = " ".join(str(value).split())[:80]  # one line, bounded
        return self.texts[kind][language].format_map(clean)

    def state_words(self, state: str, language: str) -> str:
        return self.states[state][language]


def parse_templates(text: str, source: str) -> Templates:
    """Templates from TOML text, checked: every kind in both languages, each using every
    required placeholder and no other, and words for every application state."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{source}: not valid TOML: {exc}", file=source)
    unknown = sorted(set(raw) - set(KINDS) - {"states"})
    if unknown:
        raise TemplateError(f"{source}: [{unknown[0]}] is not a message kind (known: "
                            f"{', '.join(KINDS)})", file=source, template=unknown[0])
    texts: dict = {}
    for kind, (required, allowed) in KINDS.items():
        table = raw.get(kind)
        if not isinstance(table, dict):
            raise TemplateError(f"{source}: [{kind}] is missing", file=source, template=kind)
        texts[kind] = {}
        for lang in LANGUAGES:
            name = f"{kind}.{lang}"
            template = table.get(lang)
            if not isinstance(template, str) or not template.strip():
                raise TemplateError(f"{source}: {name}: the template is missing", file=source,
                                    template=name)
            used = _placeholders(template, name, source)
            if used - allowed:
                raise TemplateError(f"{source}: {name}: unknown placeholder "
                                    f"{{{sorted(used - allowed)[0]}}} (it may use "
                                    f"{', '.join('{' + a + '}' for a in sorted(allowed))})",
                                    file=source, template=name, reason="unknown_placeholder")
            if required - used:
                raise TemplateError(f"{source}: {name}: the placeholder "
                                    f"{{{sorted(required - used)[0]}}} is missing",
                                    file=source, template=name, reason="missing_placeholder")
            texts[kind][lang] = template
    states = raw.get("states", {})
    for state in STATE_WORDS:
        words = states.get(state) if isinstance(states, dict) else None
        if not isinstance(words, dict) or not all(
                isinstance(words.get(lang), str) and words[lang].strip() for lang in LANGUAGES):
            raise TemplateError(f"{source}: states.{state}: the words in ar and en are "
                                f"missing", file=source, template=f"states.{state}")
    return Templates(texts, {s: dict(states[s]) for s in STATE_WORDS}, source)


def _placeholders(template: str, name: str, source: str) -> set[str]:
    used = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"{source}: {name}: {exc} (write {{{{ and }}}} for a brace)",
                            file=source, template=name, reason="bad_brace")
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        # Plain names only: "{a.b}" or "{a[0]}" would reach into the values.
        if not re.fullmatch(r"[a-z_]+", field) or spec or conversion:
            raise TemplateError(f"{source}: {name}: {{{field}}} is not a plain placeholder "
                                f"name", file=source, template=name,
                                reason="unknown_placeholder")
        used.add(field)
    return used


def load_templates(path: str | Path | None = None) -> Templates:
    """The shipped templates, or the file messages.templates names (checked the same way)."""
    path = Path(path) if path else SHIPPED_TEMPLATES
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot be read ({exc})", file=str(path))
    return parse_templates(text, str(path))


# --- the messages -------------------------------------------------------------------------
class Messages:
    def __init__(self, office):
        self.office = office
        self.store = office.store
        self._templates: Templates | None = None
        self._seen_marker: int | None = None  # the audit head at the last full look

    @property
    def config(self):
        return self.office.settings.messages

    @property
    def enabled(self) -> bool:
        """A gateway is configured (messages.gateway is not "none")."""
        return self.config.gateway != "none"

    @property
    def templates(self) -> Templates:
        if self._templates is None:
            configured = self.config.templates.strip()
            path = None
            if configured:
                path = Path(configured).expanduser()
                if not path.is_absolute():
                    path = Path(self.office.settings.data_dir) / path
            self._templates = load_templates(path)
        return self._templates

    def normalise(self, number) -> str:
        return normalise_number(number, self.office.settings.validation.phone_pattern,
                                self.config.country_code)

    def _schema(self) -> None:
        if not self.store.has_schema(MESSAGES_SCHEMA):
            raise InvalidState("this store predates messages (schema 23); upgrade it",
                               reason="no_messages")

    # --- consent --------------------------------------------------------------------------
    def consent_of(self, number) -> dict | None:
        """The number's consent row (given or withdrawn), or None."""
        self._schema()
        return self.store.one("SELECT * FROM message_consents WHERE number = ?",
                              (self.normalise(number),))

    def has_consent(self, number: str) -> bool:
        row = self.store.one("SELECT withdrawn_at FROM message_consents WHERE number = ?",
                             (number,))
        return row is not None and row["withdrawn_at"] is None

    def give_consent(self, number, channel: str) -> dict:
        """Record that the resident agreed to messages on this number, where (kiosk,
        counter, phone, cli) and under whom (the operation's actor). Given again after a
        withdrawal, it holds again from now."""
        self._schema()
        number = self.normalise(number)
        if channel not in CONSENT_CHANNELS:
            raise ValidationError(f"channel must be one of {', '.join(CONSENT_CHANNELS)}",
                                  field="channel", reason="unknown_channel")
        with self.store.atomic():
            return self._consent(number, channel)

    def _consent(self, number: str, channel: str) -> dict:
        row = self.store.one("SELECT * FROM message_consents WHERE number = ?", (number,))
        if row is not None and row["withdrawn_at"] is None:
            return row  # already given: nothing to record
        values = {"given_at": self.store.now(), "channel": channel,
                  "given_by": self.store.actor, "withdrawn_at": None, "withdrawn_by": None}
        if row is None:
            row = {"id": self.store.ids.new(), "number": number, **values}
            self.store.insert("message_consents", row)
        else:
            self.store.update("message_consents", "id", row["id"], values)
            row = {**row, **values}
        self.store.record("message.consent_given", "consent", row["id"], {
            "id": row["id"], "number": masked(number), "channel": channel,
            "given_at": row["given_at"]})
        return row

    def withdraw_consent(self, number) -> dict:
        """No more messages to this number: its queued ones are cancelled (never sent) and
        its subscriptions end. Withdrawing twice is refused (InvalidState)."""
        self._schema()
        number = self.normalise(number)
        with self.store.atomic():
            row = self.store.one("SELECT * FROM message_consents WHERE number = ?", (number,))
            if row is None or row["withdrawn_at"] is not None:
                raise InvalidState(f"{masked(number)} has no consent to withdraw",
                                   reason="no_consent", field="phone")
            now = self.store.now()
            self.store.update("message_consents", "id", row["id"],
                              {"withdrawn_at": now, "withdrawn_by": self.store.actor})
            cancelled = self.store.conn.execute(
                "UPDATE messages SET state = 'cancelled', last_error = 'consent_withdrawn', "
                "finished_at = ? WHERE number = ? AND state = 'queued'", (now, number)).rowcount
            ended = self.store.conn.execute(
                "DELETE FROM message_subscriptions WHERE number = ?", (number,)).rowcount
            self.store.record("message.consent_withdrawn", "consent", row["id"], {
                "id": row["id"], "number": masked(number), "withdrawn_at": now,
                "cancelled": cancelled, "subscriptions_ended": ended})
        return {"number": number, "withdrawn_at": now, "cancelled": cancelled,
                "subscriptions_ended": ended}

    # --- subscriptions --------------------------------------------------------------------
    def subscribe_ticket(self, ticket: str, number, language: str = "ar",
                         near_threshold: int | None = None,
                         consent_channel: str | None = None) -> dict:
        """Messages about this ticket ("your turn is near" when near_threshold or fewer are
        ahead, "called"), and about the application it leads to (receipt, status), to this
        number. consent_channel: the resident agrees now, there (recorded); None: consent
        must already be on record (InvalidState, reason no_consent). Refused with
        InvalidState reason messages_off when no gateway is configured, and for a ticket
        that is finished. Subscribing again replaces the number and language."""
        return self._subscribe("ticket", ticket, number, language, near_threshold,
                               consent_channel)

    def subscribe_application(self, application: str, number, language: str = "ar",
                              consent_channel: str | None = None) -> dict:
        """The receipt and status changes of this application, to this number (consent as
        for subscribe_ticket)."""
        return self._subscribe("application", application, number, language, None,
                               consent_channel)

    def _subscribe(self, subject_type, subject, number, language, near_threshold,
                   consent_channel) -> dict:
        self._schema()
        if not self.enabled:
            raise InvalidState("messages are off at this office (messages.gateway is none)",
                               reason="messages_off")
        number = self.normalise(number)
        if language not in LANGUAGES:
            raise ValidationError("language must be ar or en", field="language",
                                  reason="unknown_language")
        if near_threshold is None:
            near_threshold = self.config.near_threshold
        if isinstance(near_threshold, bool) or not isinstance(near_threshold, int) or \
                not 1 <= near_threshold <= 50:
            raise ValidationError("near_threshold: a whole number from 1 to 50",
                                  field="near_threshold", reason="not_a_threshold")
        if consent_channel is not None and consent_channel not in CONSENT_CHANNELS:
            raise ValidationError(f"channel must be one of {', '.join(CONSENT_CHANNELS)}",
                                  field="channel", reason="unknown_channel")
        with self.store.atomic():
            if subject_type == "ticket":
                row = self.office.queue.ticket_row(subject)
                if row["state"] not in LIVE:
                    raise InvalidState(f"ticket {row['number']} is {row['state']}",
                                       reason="ticket_final", field="ticket")
            else:
                row = self.office.applications.row(subject)
            if consent_channel is not None:
                self._consent(number, consent_channel)
            elif not self.has_consent(number):
                raise InvalidState(f"{masked(number)} has not agreed to messages: record "
                                   f"the resident's consent first", reason="no_consent",
                                   field="phone")
            column = f"{subject_type}_id"
            existing = self.store.one(f"SELECT id FROM message_subscriptions WHERE "
                                      f"{column} = ?", (row["id"],))
            values = {"number": number, "language": language,
                      "near_threshold": near_threshold, "created_at": self.store.now(),
                      "finished_at": None}
            if existing:
                self.store.update("message_subscriptions", "id", existing["id"], values)
                sub_id = existing["id"]
            else:
                sub_id = self.store.ids.new()
                self.store.insert("message_subscriptions",
                                  {"id": sub_id, column: row["id"], **values})
            self.store.record("message.subscribed", subject_type, row["id"], {
                "id": sub_id, "subject": f"{subject_type}:{row['id']}",
                "number": masked(number), "language": language,
                "near_threshold": near_threshold})
        return {"id": sub_id, "subject": f"{subject_type}:{row['id']}", "number": number,
                "language": language, "near_threshold": near_threshold}

    def subscription_of_ticket(self, ticket_id: str) -> dict | None:
        if not self.store.has_schema(MESSAGES_SCHEMA):
            return None
        return self.store.one("SELECT * FROM message_subscriptions WHERE ticket_id = ?",
                              (ticket_id,))

    # --- queuing --------------------------------------------------------------------------
    def queue(self, kind: str, number, language: str, values: dict, ref: str, subject: str,
              expires_at: datetime) -> dict:
        """Queue one message (the triggers below call this; so may a face for a kind of
        its own moment). Refused (InvalidState reason no_consent) without consent; a ref
        already queued returns that message unchanged. Beyond the number's rate limits it
        is kept as `dropped` (last_error rate_limited) and never sent; a moment already
        passed is kept as `expired`."""
        self._schema()
        number = self.normalise(number)
        text = self.templates.render(kind, language, values)
        ref = clean_text(ref, "ref", max_length=64, min_length=1)
        with self.store.atomic():
            return self._queue(kind, number, language, text, ref, subject, expires_at)

    def _queue(self, kind, number, language, text, ref, subject, expires_at) -> dict:
        existing = self.store.one("SELECT * FROM messages WHERE ref = ?", (ref,))
        if existing is not None:
            return existing
        if not self.has_consent(number):
            raise InvalidState(f"{masked(number)} has not agreed to messages",
                               reason="no_consent", field="phone")
        now_dt = self.store.clock.now()
        now = iso(now_dt)
        state, error = "queued", None
        if expires_at <= now_dt:
            state, error = "expired", "moment_passed"
        else:
            limited = self._rate_limited(number, now_dt)
            if limited:
                state, error = "dropped", limited
        row = {"id": self.store.ids.new(), "ref": ref, "number": number, "kind": kind,
               "language": language, "text": text, "subject": subject, "created_at": now,
               "expires_at": iso(expires_at), "state": state, "attempts": 0,
               "next_attempt_at": now, "last_error": error, "gateway_id": None,
               "sent_at": None, "finished_at": None if state == "queued" else now}
        self.store.insert("messages", row)
        return row

    def _rate_limited(self, number: str, now: datetime) -> str | None:
        """"rate_limited" when the number already has per_number_per_hour messages queued or
        sent in the last hour, or per_number_per_day in the last day."""
        c = self.config
        for window, limit in ((timedelta(hours=1), c.per_number_per_hour),
                              (timedelta(days=1), c.per_number_per_day)):
            n = self.store.one("SELECT COUNT(*) AS n FROM messages WHERE number = ? AND "
                               "created_at > ? AND state IN ('queued', 'sent')",
                               (number, iso(now - window)))["n"]
            if n >= limit:
                return "rate_limited"
        return None

    def _expire(self, where: str, params, reason: str) -> int:
        return self.store.conn.execute(
            f"UPDATE messages SET state = 'expired', last_error = ?, finished_at = ? "
            f"WHERE state = 'queued' AND {where}", (reason, self.store.now(), *params)).rowcount

    # --- the triggers ---------------------------------------------------------------------
    def queue_changed(self) -> dict:
        """Look at every subscribed live ticket and application and queue what is due now;
        expire what has passed. Idempotent: each message's ref names its moment, so a
        second look queues nothing. Cheap when nothing is subscribed. Returns
        {"queued": n, "expired": n}."""
        if not self.enabled or not self.store.has_schema(MESSAGES_SCHEMA):
            return {"queued": 0, "expired": 0}
        # Polled every second. Every change that can make a message due (a ticket's move,
        # a payment, a decision, a subscription, a consent) writes an audit entry: while the
        # audit head stands still there is nothing new to look at (a moment passing is
        # enforced by due() and claim()).
        queued = expired = 0
        if self.store.one("SELECT 1 AS x FROM messages WHERE state = 'queued' AND "
                          "expires_at <= ? LIMIT 1", (self.store.now(),)):
            with self.store.atomic():
                expired += self._expire("expires_at <= ?", (self.store.now(),),
                                        "moment_passed")
        marker = audit.head(self.store).get("seq", 0)  # a new store has no head yet
        if marker == self._seen_marker or \
                not self.store.one("SELECT 1 AS x FROM message_subscriptions LIMIT 1"):
            self._seen_marker = marker
            return {"queued": 0, "expired": expired}
        with self.store.atomic():
            now_dt = self.store.clock.now()
            since = iso(now_dt - timedelta(seconds=TICKET_WATCH_S))
            for sub in self.store.all("SELECT * FROM message_subscriptions WHERE ticket_id "
                                      "IS NOT NULL AND created_at > ? ORDER BY created_at, id",
                                      (since,)):
                if self.has_consent(sub["number"]):
                    q, e = self._ticket_due(sub, now_dt)
                    queued, expired = queued + q, expired + e
                    self._follow_application(sub)
            for sub in self.store.all("SELECT * FROM message_subscriptions WHERE "
                                      "application_id IS NOT NULL AND finished_at IS NULL "
                                      "ORDER BY created_at, id"):
                if self.has_consent(sub["number"]):
                    queued += self._application_due(sub, sub["application_id"], now_dt)
        self._seen_marker = marker
        return {"queued": queued, "expired": expired}

    def _follow_application(self, ticket_sub: dict) -> None:
        """The application a subscribed ticket led to is followed by the same number (its
        decision may come days after the ticket's day)."""
        number = self.office.applications.latest_for_ticket(ticket_sub["ticket_id"])
        app = self.office.applications.row(number)["id"] if number else None
        if app and not self.store.one("SELECT 1 FROM message_subscriptions WHERE "
                                      "application_id = ?", (app,)):
            self.store.insert("message_subscriptions", {
                "id": self.store.ids.new(), "application_id": app,
                "number": ticket_sub["number"], "language": ticket_sub["language"],
                "near_threshold": ticket_sub["near_threshold"],
                "created_at": self.store.now()})

    def _ticket_due(self, sub: dict, now: datetime) -> tuple[int, int]:
        ticket = self.office.queue.ticket_row(sub["ticket_id"])
        subject, queued = f"ticket:{ticket['id']}", 0
        expired = 0
        if ticket["state"] != "waiting":
            expired += self._expire("subject = ? AND kind = 'turn_near'", (subject,),
                                    "ticket_moved_on")
        called_ref = f"t:{ticket['id']}:called:{ticket['call_count']}"
        expired += self._expire("subject = ? AND kind = 'called' AND ref <> ?",
                                (subject, called_ref if ticket["state"] == "called" else ""),
                                "ticket_moved_on")
        common = {"number": ticket["number"], **self._names(ticket["service_code"],
                                                             sub["language"])}
        if ticket["state"] == "waiting":
            estimate = self.office.queue.estimate(ticket["id"])
            ahead = estimate["people_ahead"]
            if ahead <= sub["near_threshold"]:
                ref = f"t:{ticket['id']}:near:{ticket['service_code']}"
                queued += self._trigger(sub, "turn_near", ref, subject, {
                    **common, "ahead": self._digits(ahead, sub["language"]),
                    "wait_minutes": self._digits(estimate["estimated_wait_minutes"],
                                                 sub["language"])},
                    now + timedelta(seconds=EXPIRES_S["turn_near"]))
        elif ticket["state"] == "called" and ticket["called_at"]:
            called_at = datetime.fromisoformat(ticket["called_at"])
            queued += self._trigger(sub, "called", called_ref, subject, {
                **common, "counter": self._digits(ticket["counter"] or "", sub["language"])},
                called_at + timedelta(seconds=EXPIRES_S["called"]))
        return queued, expired

    def _application_due(self, sub: dict, application_id: str, now: datetime) -> int:
        app = self.office.applications.row(application_id)
        lang, queued = sub["language"], 0
        subject = f"application:{app['id']}"
        names = self._names(app["service_code"], lang)
        payment = self.office.payments.live_for(app["id"])
        if payment is not None:
            taken = datetime.fromisoformat(payment["taken_at"])
            queued += self._trigger(sub, "receipt", f"p:{payment['id']}:receipt", subject, {
                **names, "application": app["number"],
                "receipt": payment["receipt_number"],
                "amount": format_money(payment["amount_minor"], payment["currency"], lang,
                                       self.office.settings.office.digits)},
                taken + timedelta(seconds=EXPIRES_S["receipt"]))
        if app["state"] in STATUS_STATES:
            ref = f"a:{app['id']}:{app['state']}"
            if not self.store.one("SELECT 1 FROM messages WHERE ref = ?", (ref,)):
                # A newer state makes an older status message not worth sending.
                self._expire("subject = ? AND kind = 'application_status'", (subject,),
                             "superseded")
            changed = datetime.fromisoformat(app["updated_at"])
            queued += self._trigger(sub, "application_status", ref, subject, {
                **names, "application": app["number"],
                "state": self.templates.state_words(app["state"], lang)},
                changed + timedelta(seconds=EXPIRES_S["application_status"]))
        if app["state"] in APPLICATION_DONE:  # nothing more can happen: stop looking
            self.store.update("message_subscriptions", "id", sub["id"],
                              {"finished_at": self.store.now()})
        return queued

    def _trigger(self, sub, kind, ref, subject, values, expires_at) -> int:
        """Queue once per ref: 1 if a row was written now (whatever its state), else 0."""
        if self.store.one("SELECT 1 FROM messages WHERE ref = ?", (ref,)):
            return 0
        text = self.templates.render(kind, sub["language"], values)
        self._queue(kind, sub["number"], sub["language"], text, ref, subject, expires_at)
        return 1

    def _names(self, service_code: str, lang: str) -> dict:
        o = self.office.settings.office
        try:
            service = self.office.catalog.get(service_code)
            service_name = service.name.ar if lang == "ar" else service.name.en
        except Exception:  # noqa: BLE001 - a service gone from the catalogue: its code
            service_name = service_code
        return {"office": o.name_ar if lang == "ar" else o.name_en, "service": service_name}

    def _digits(self, value, lang: str) -> str:
        return format_digits(str(value), lang, self.office.settings.office.digits)

    # --- for the sender -------------------------------------------------------------------
    def due(self, limit: int = 20) -> list[dict]:
        """Queued messages whose next attempt is now or past and whose moment has not
        passed, oldest first."""
        if not self.store.has_schema(MESSAGES_SCHEMA):
            return []
        now = self.store.now()
        return self.store.all("SELECT * FROM messages WHERE state = 'queued' AND "
                              "next_attempt_at <= ? AND expires_at > ? "
                              "ORDER BY next_attempt_at, id LIMIT ?", (now, now, limit))

    def next_due_at(self) -> str | None:
        row = self.store.one("SELECT MIN(next_attempt_at) AS at FROM messages "
                             "WHERE state = 'queued'")
        return row["at"] if row else None

    def claim(self, message_id: str) -> dict | None:
        """Just before sending: the message, its attempt counted and its next attempt moved
        CLAIM_LEASE_S ahead (a sender that dies mid-send leaves it to be retried under the
        same ref); None when it must not be sent now (no longer queued, not due, its moment
        passed: expired, consent withdrawn: cancelled)."""
        with self.store.atomic():
            row = self.store.one("SELECT * FROM messages WHERE id = ?", (message_id,))
            now_dt = self.store.clock.now()
            now = iso(now_dt)
            if row is None or row["state"] != "queued" or row["next_attempt_at"] > now:
                return None
            if row["expires_at"] <= now:
                self._finish(row["id"], "expired", "moment_passed")
                return None
            if not self.has_consent(row["number"]):
                self._finish(row["id"], "cancelled", "consent_withdrawn")
                return None
            if row["attempts"] >= MAX_ATTEMPTS:
                self._finish(row["id"], "failed", row["last_error"] or "too_many_attempts")
                return None
            changes = {"attempts": row["attempts"] + 1,
                       "next_attempt_at": iso(now_dt + timedelta(seconds=CLAIM_LEASE_S))}
            self.store.update("messages", "id", row["id"], changes)
            return {**row, **changes}

    def mark_sent(self, message_id: str, gateway_id: str | None,
                  duplicate: bool = False) -> None:
        """The gateway took it (or already had its ref: duplicate)."""
        with self.store.atomic():
            now = self.store.now()
            self.store.update("messages", "id", message_id, {
                "state": "sent", "gateway_id": gateway_id, "sent_at": now, "finished_at": now,
                "last_error": "duplicate" if duplicate else None})

    def mark_retry(self, message_id: str, error: str, retry_after_s: float | None = None) -> str:
        """Try again later under the same ref: after a doubling delay (at least what the
        gateway asked), unless that is past the message's moment (then it expires) or it
        has had MAX_ATTEMPTS (then it failed). Returns the state it is left in."""
        with self.store.atomic():
            row = self.store.one("SELECT * FROM messages WHERE id = ?", (message_id,))
            if row is None or row["state"] != "queued":
                return row["state"] if row else "missing"
            delay = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** max(0, row["attempts"] - 1))
            if retry_after_s is not None:
                delay = max(delay, min(float(retry_after_s), RETRY_MAX_S))
            at = self.store.clock.now() + timedelta(seconds=delay)
            if row["attempts"] >= MAX_ATTEMPTS:
                self._finish(message_id, "failed", error)
                return "failed"
            if iso(at) >= row["expires_at"]:
                self._finish(message_id, "expired", error)
                return "expired"
            self.store.update("messages", "id", message_id,
                              {"next_attempt_at": iso(at), "last_error": error[:200]})
            return "queued"

    def release(self, message_id: str, error: str) -> None:
        """Nothing went (the gateway was unreachable): the attempt does not count and the
        message is due again at once; the sender's loop paces the retries. It still expires
        at its moment."""
        with self.store.atomic():
            self.store.conn.execute(
                "UPDATE messages SET attempts = MAX(0, attempts - 1), next_attempt_at = ?, "
                "last_error = ? WHERE id = ? AND state = 'queued'",
                (self.store.now(), error[:200], message_id))

    def mark_failed(self, message_id: str, error: str) -> None:
        """The gateway refused it for good (a bad number), or a resend could be a second
        SMS (a gateway that does not de-duplicate timed out)."""
        with self.store.atomic():
            self._finish(message_id, "failed", error)

    def _finish(self, message_id: str, state: str, error: str | None) -> None:
        self.store.update("messages", "id", message_id, {
            "state": state, "last_error": (error or "")[:200] or None,
            "finished_at": self.store.now()})

    # --- reading and housekeeping ---------------------------------------------------------
    def get(self, message_id: str) -> dict:
        row = self.store.one("SELECT * FROM messages WHERE id = ? OR ref = ?",
                             (message_id, message_id))
        if row is None:
            raise NotFound(f"no message {message_id!r}", message=message_id)
        return row

    def list(self, state: str | None = None, limit: int = 100) -> list[dict]:
        """The newest messages first (state: only those)."""
        if not self.store.has_schema(MESSAGES_SCHEMA):
            return []
        if state is not None and state not in STATES:
            raise ValidationError(f"state must be one of {', '.join(STATES)}", field="state")
        sql, params = "SELECT * FROM messages", []
        if state:
            sql, params = sql + " WHERE state = ?", [state]
        return self.store.all(sql + " ORDER BY created_at DESC, id DESC LIMIT ?",
                              [*params, limit])

    def counts(self) -> dict:
        if not self.store.has_schema(MESSAGES_SCHEMA):
            return {}
        return {r["state"]: r["n"] for r in self.store.all(
            "SELECT state, COUNT(*) AS n FROM messages GROUP BY state")}

    def purge(self) -> dict:
        """Delete finished messages and ticket subscriptions older than messages.keep_days
        (they hold phone numbers); the consents stay (they are the record of agreement)."""
        if not self.store.has_schema(MESSAGES_SCHEMA):
            return {"messages": 0, "subscriptions": 0}
        cutoff = iso(self.store.clock.now() - timedelta(days=self.config.keep_days))
        with self.store.atomic():
            gone = self.store.conn.execute(
                "DELETE FROM messages WHERE state <> 'queued' AND created_at < ?",
                (cutoff,)).rowcount
            subs = self.store.conn.execute(
                "DELETE FROM message_subscriptions WHERE created_at < ?", (cutoff,)).rowcount
        return {"messages": gone, "subscriptions": subs}
