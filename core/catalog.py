"""The service catalogue: one TOML file per service in assets/catalog/ (docs/catalog.md).

The loader checks everything a kiosk or a licence will rely on and names the file, the
service and the field of the first problem it finds."""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from . import money
from .errors import CatalogError, ValidationError
from .text import (BIDI_CONTROLS, LANGUAGES, check_national_id, check_phone, clean_text,
                   to_ascii_digits, too_long_means)

DEFAULT_CATALOG_DIR = Path(__file__).resolve().parent.parent / "assets" / "catalog"

FIELD_TYPES = ("text", "national_id", "phone", "block", "road", "building", "area_m2",
               "money", "choice")
# Which on-screen keyboard a field asks for.
KEYBOARD = {"text": "text", "national_id": "numeric", "phone": "numeric", "block": "numeric",
            "road": "numeric", "building": "numeric", "area_m2": "numeric", "money": "numeric",
            "choice": None}
ISSUE_MODES = ("instant", "review")
PREFIX_RE = re.compile(r"^[A-Z]{1,3}$")
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
LICENCE_TYPE_RE = re.compile(r"^[A-Z]{2,8}$")
OFFICE_CODE_RE = re.compile(r"^[A-Z0-9]{1,8}$")  # as core.settings and central name offices
DOCUMENT_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_FEE_MAJOR = 100_000  # the largest fixed fee, in major units: 100,000.000 BHD
MAX_DOCUMENTS = 20
DEFAULT_TARGET_WAIT_MINUTES = 15
MAX_TARGET_WAIT_MINUTES = 600
MAX_DAILY_CAP = 10_000
CUTOFF_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
NAME_MAX = 120  # a service's name fits a kiosk card and a licence's title line
TEXT_MAX = 200  # any other catalogue text: a document to bring, a field's label
# Catalogue text is plain: markup-looking characters are refused, not escaped, so no page,
# screen or paper that shows it has to be trusted to escape it.
MARKUP_CHARS = set("<>")


@dataclass(frozen=True)
class Text:
    ar: str
    en: str

    def get(self, lang: str) -> str:
        return self.ar if lang == "ar" else self.en


@dataclass(frozen=True)
class DocumentType:
    """A document the service asks for: `key` names it on every page captured for it
    (core/attachments.py); `required`: a decision waits until it has a page; `at_kiosk`: a
    resident may capture it at the kiosk. `.ar`, `.en` and `.get(lang)` as a Text."""
    key: str
    ar: str
    en: str
    required: bool = False
    at_kiosk: bool = False

    def get(self, lang: str) -> str:
        return self.ar if lang == "ar" else self.en

    def to_dict(self) -> dict:
        return {"key": self.key, "ar": self.ar, "en": self.en, "required": self.required,
                "at_kiosk": self.at_kiosk}


@dataclass(frozen=True)
class Group:
    """A sector or a category a service is listed under (the kiosk offers sectors, then
    categories, then services: core/service_search.py). `code` is stable (what usage counts
    and screens key on); `.ar`, `.en` and `.get(lang)` as a Text."""
    code: str
    ar: str
    en: str

    def get(self, lang: str) -> str:
        return self.ar if lang == "ar" else self.en

    def to_dict(self) -> dict:
        return {"code": self.code, "ar": self.ar, "en": self.en}


# Where a service that names no sector or no category is listed: a defined bucket rather
# than a refusal, so services central published before sectors existed still load. Its code
# is reserved (a catalogue may not declare it) so these words are the bucket's only words.
OTHER = "other"
OTHER_SECTOR = Group(OTHER, "خدمات أخرى", "Other services")
OTHER_CATEGORY = Group(OTHER, "أخرى", "Other")


@dataclass(frozen=True)
class Option:
    value: str
    label: Text


@dataclass(frozen=True)
class Field:
    key: str
    type: str
    label: Text
    required: bool = True
    min_length: int = 0
    max_length: int | None = None
    min_exclusive: Decimal | None = None
    max_exclusive: Decimal | None = None
    options: tuple[Option, ...] = ()

    @property
    def keyboard(self) -> str | None:
        return KEYBOARD[self.type]


@dataclass(frozen=True)
class QueueRules:
    """A service's queue settings (a catalogue file's `queue` table, docs/kpis.md):
    `target_wait_minutes` is the wait the service is measured against (the share served
    within it); `daily_cap` the most tickets a day (None: no cap); `cutoff` the local time
    ("HH:MM") after which no ticket is taken (None: until closing)."""
    target_wait_minutes: int = DEFAULT_TARGET_WAIT_MINUTES
    daily_cap: int | None = None
    cutoff: str | None = None

    def to_dict(self) -> dict:
        return {"target_wait_minutes": self.target_wait_minutes, "daily_cap": self.daily_cap,
                "cutoff": self.cutoff}

    def to_settings(self) -> dict:
        out: dict = {"target_wait_minutes": self.target_wait_minutes}
        if self.daily_cap is not None:
            out["daily_cap"] = self.daily_cap
        if self.cutoff is not None:
            out["cutoff"] = self.cutoff
        return out


@dataclass(frozen=True)
class Service:
    code: str
    prefix: str
    name: Text
    issue: str
    licence_type: str
    validity_days: int
    fee_minor: int
    currency: str
    fee_from_field: str | None
    documents: tuple[DocumentType, ...]
    fields: tuple[Field, ...]
    source: str = ""
    offices: tuple[str, ...] | None = None  # the offices that offer it; None: every office
    queue: QueueRules = None  # type: ignore[assignment]  # set to QueueRules() in __post_init__
    sector: Group = OTHER_SECTOR
    category: Group = OTHER_CATEGORY

    def __post_init__(self):
        if self.queue is None:
            object.__setattr__(self, "queue", QueueRules())

    @property
    def instant(self) -> bool:
        return self.issue == "instant"

    def offered_at(self, office: str) -> bool:
        return self.offices is None or office in self.offices

    def fee_display(self, lang: str, digits_setting: str = "latin") -> str | None:
        """The fixed fee as the kiosk shows it ("1.000 د.ب"); None when it is assessed."""
        if self.fee_from_field:
            return None
        return money.format_money(self.fee_minor, self.currency, lang, digits_setting)

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def document(self, key: str) -> DocumentType:
        """The document type `key`, or ValidationError (reason document_not_asked): what a
        page captured for a document the service does not ask for gets."""
        for d in self.documents:
            if d.key == key:
                return d
        raise ValidationError(f"{self.code} does not ask for a document {key!r} (it asks "
                              f"for: {', '.join(d.key for d in self.documents) or 'none'})",
                              field="doc_key", reason="document_not_asked",
                              service=self.code)

    def to_dict(self) -> dict:
        return {
            "code": self.code, "prefix": self.prefix, "name": vars(self.name),
            "issue": self.issue, "licence_type": self.licence_type,
            "validity_days": self.validity_days,
            "fee": {"amount": self.fee_minor, "currency": self.currency,
                    "from_field": self.fee_from_field,
                    "display": (money.format_amount(self.fee_minor, self.currency)
                                if not self.fee_from_field else None)},
            "documents": [d.to_dict() for d in self.documents],
            "offices": list(self.offices) if self.offices is not None else None,
            "queue": self.queue.to_dict(),
            "sector": self.sector.to_dict(), "category": self.category.to_dict(),
            "fields": [{"key": f.key, "type": f.type, "label": vars(f.label),
                        "required": f.required, "keyboard": f.keyboard,
                        **({"max_length": f.max_length} if f.max_length else {}),
                        **({"min_exclusive": str(f.min_exclusive)}
                           if f.min_exclusive is not None else {}),
                        **({"max_exclusive": str(f.max_exclusive)}
                           if f.max_exclusive is not None else {}),
                        **({"options": [{"value": o.value, **vars(o.label)} for o in f.options]}
                           if f.options else {})}
                       for f in self.fields],
        }


    def to_settings(self) -> dict:
        """The service as its settings (the keys of a catalogue file): parse_service() of
        this gives the same service back (the hub sends the catalogue this way)."""
        def field_settings(f: Field) -> dict:
            out = {"key": f.key, "type": f.type, "label": vars(f.label),
                   "required": f.required}
            if f.min_length:
                out["min_length"] = f.min_length
            if f.max_length is not None:
                out["max_length"] = f.max_length
            for name in ("min_exclusive", "max_exclusive"):
                if getattr(f, name) is not None:
                    out[name] = str(getattr(f, name))
            if f.options:
                out["options"] = [{"value": o.value, **vars(o.label)} for o in f.options]
            return out

        fee = {"amount": self.fee_minor, "currency": self.currency}
        if self.fee_from_field:
            fee["from_field"] = self.fee_from_field
        out = {"code": self.code, "prefix": self.prefix, "name": vars(self.name),
               "issue": self.issue, "licence_type": self.licence_type,
               "validity_days": self.validity_days, "fee": fee,
               "documents": [d.to_dict() for d in self.documents],
               "fields": [field_settings(f) for f in self.fields]}
        if self.offices is not None:
            out["offices"] = list(self.offices)
        if self.queue != QueueRules():
            out["queue"] = self.queue.to_settings()
        for kind in ("sector", "category"):  # the "other" bucket is the absence of one
            if getattr(self, kind).code != OTHER:
                out[kind] = getattr(self, kind).to_dict()
        return out


class Catalog:
    def __init__(self, services: list[Service]):
        self.services = services
        self._by_code = {s.code: s for s in services}
        self._by_prefix = {s.prefix: s for s in services}

    def __iter__(self):
        return iter(self.services)

    def __len__(self):
        return len(self.services)

    def get(self, code_or_prefix: str) -> Service:
        """By code (residence-certificate) or ticket prefix (R)."""
        service = self._by_code.get(code_or_prefix) or self._by_prefix.get(code_or_prefix)
        if service is None:
            raise ValidationError(
                f"unknown service {code_or_prefix!r} (known: {', '.join(self._by_code)})",
                field="service")
        return service

    def offered(self, code_or_prefix: str, office: str) -> Service:
        """The service, if `office` offers it: what a new ticket or application asks for.
        (get() still finds a withdrawn service, for the applications already made.)"""
        service = self.get(code_or_prefix)
        if not service.offered_at(office):
            raise ValidationError(f"{service.code} is not offered at office {office}",
                                  field="service", reason="not_offered", service=service.code)
        return service

    def offered_at(self, office: str) -> list[Service]:
        return [s for s in self.services if s.offered_at(office)]


def _text(value, where: str, max_length: int = TEXT_MAX) -> Text:
    if not isinstance(value, dict) or set(value) != set(LANGUAGES):
        raise CatalogError(f"{where}: needs exactly an Arabic and an English text {{ar, en}}")
    for lang in LANGUAGES:
        text = value[lang]
        if not isinstance(text, str) or not text.strip():
            raise CatalogError(f"{where}: the {lang} text is empty")
        if len(text) > max_length:
            raise CatalogError(f"{where}: the {lang} text is longer than {max_length} "
                               f"characters")
        for ch in text:
            if ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
                # A direction control can make shown text read unlike what is stored.
                raise CatalogError(f"{where}: the {lang} text contains the invisible "
                                   f"character U+{ord(ch):04X}; type it without it")
            if ch in MARKUP_CHARS:
                raise CatalogError(f"{where}: the {lang} text contains {ch!r}; catalogue "
                                   f"text is plain, without markup")
    return Text(value["ar"], value["en"])


def max_fee_minor(currency: str) -> int:
    return MAX_FEE_MAJOR * 10 ** money.exponent(currency)


def fee_text(minor: int, currency: str) -> str:
    """1500 BHD -> "1.500": what parse_fee reads back."""
    return money.format_amount(minor, currency, with_code=False).replace(",", "")


def parse_fee(text, currency: str) -> int:
    """A fee typed in the currency's units ("1.500" BHD) -> minor units (1500), by the
    catalogue's rules: above zero, at most MAX_FEE_MAJOR, no more decimals than the
    currency has (not even trailing zeros: "1.5000" BHD is a typing slip)."""
    if currency not in money.CURRENCY_EXPONENT:
        raise CatalogError(f"fee: currency {currency!r} is not known")
    exp = money.exponent(currency)
    raw = text.strip() if isinstance(text, str) else text
    if not isinstance(raw, str) or not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", raw):
        raise CatalogError(f"fee: {text!r} is not an amount like "
                           f"{money.format_amount(1500, currency, with_code=False)}")
    if "." in raw and len(raw.split(".")[1]) > exp:
        raise CatalogError(f"fee: {raw} has more than {exp} decimals ({currency} has {exp})")
    try:
        return money.parse_amount(raw, currency, "fee", max_fee_minor(currency))
    except ValidationError as exc:
        raise CatalogError(exc.message) from None


def _decimal(value, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CatalogError(f"{where}: expected a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise CatalogError(f"{where}: expected a number")


KNOWN_SERVICE_KEYS = {"code", "prefix", "name", "issue", "licence_type", "validity_days", "fee",
                      "documents", "fields", "offices", "queue", "sector", "category"}
KNOWN_GROUP_KEYS = {"code", "ar", "en"}
KNOWN_QUEUE_KEYS = {"target_wait_minutes", "daily_cap", "cutoff"}
KNOWN_DOCUMENT_KEYS = {"key", "ar", "en", "required", "at_kiosk"}
KNOWN_FIELD_KEYS = {"key", "type", "label", "required", "min_length", "max_length",
                    "min_exclusive", "max_exclusive", "options"}


def _load_group(raw, kind: str, fail, where: str) -> Group:
    """`sector` or `category`: {code, ar, en}; absent: the "other" bucket."""
    if raw is None:
        return OTHER_SECTOR if kind == "sector" else OTHER_CATEGORY
    if not isinstance(raw, dict) or set(raw) != KNOWN_GROUP_KEYS:
        fail(f"{kind} must be a table {{code, ar, en}}")
    code = raw["code"]
    if not isinstance(code, str) or not CODE_RE.match(code):
        fail(f"{kind} code must be lower-case words joined by '-', got {code!r}")
    if code == OTHER:
        fail(f"{kind} code {OTHER!r} is the bucket of services that name no {kind}; leave "
             f"the {kind} out instead")
    text = _text({"ar": raw["ar"], "en": raw["en"]}, f"{where} {kind} {code!r}", NAME_MAX)
    return Group(code, text.ar, text.en)


def _load_document(raw, position: int, where: str) -> DocumentType:
    """One [[documents]] entry; without a key it is "document_<position>" (1-based), so a
    catalogue written before documents had keys still loads."""
    where = f"{where} document #{position}"
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected a table {{key, ar, en, required, at_kiosk}}")
    unknown = set(raw) - KNOWN_DOCUMENT_KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))} (a "
                           f"document has {', '.join(sorted(KNOWN_DOCUMENT_KEYS))})")
    key = raw.get("key", f"document_{position}")
    if not isinstance(key, str) or not DOCUMENT_KEY_RE.match(key):
        raise CatalogError(f"{where}: key must be lower_snake_case, a letter first, at most "
                           f"32 characters, got {key!r}")
    where = f"{where} ({key})"
    flags = {}
    for flag in ("required", "at_kiosk"):
        flags[flag] = raw.get(flag, False)
        if not isinstance(flags[flag], bool):
            raise CatalogError(f"{where}: {flag} must be true or false, got {flags[flag]!r}")
    text = _text({k: v for k, v in raw.items() if k in ("ar", "en")}, where)
    return DocumentType(key=key, ar=text.ar, en=text.en, **flags)


def _load_field(raw, where: str) -> Field:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected a table")
    key = raw.get("key")
    if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", key):
        raise CatalogError(f"{where}: key must be lower_snake_case, got {key!r}")
    where = f"{where.rsplit(' field', 1)[0]} field {key!r}"
    unknown = set(raw) - KNOWN_FIELD_KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    if raw.get("type") not in FIELD_TYPES:
        raise CatalogError(f"{where}: type must be one of {', '.join(FIELD_TYPES)}, "
                           f"got {raw.get('type')!r}")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise CatalogError(f"{where}: required must be true or false")
    for k in ("min_length", "max_length"):
        if k in raw and (isinstance(raw[k], bool) or not isinstance(raw[k], int) or raw[k] < 0):
            raise CatalogError(f"{where}: {k} must be a whole number")
    options = ()
    if raw["type"] == "choice":
        opts = raw.get("options")
        if not isinstance(opts, list) or not opts:
            raise CatalogError(f"{where}: a choice needs options")
        options = tuple(Option(str(o.get("value")), _text({"ar": o.get("ar"), "en": o.get("en")},
                                                         f"{where} option"))
                        for o in opts if isinstance(o, dict))
        if len(options) != len(opts):
            raise CatalogError(f"{where}: each option is a table {{value, ar, en}}")
    lo = _decimal(raw.get("min_exclusive"), f"{where}: min_exclusive")
    hi = _decimal(raw.get("max_exclusive"), f"{where}: max_exclusive")
    if lo is not None and hi is not None and lo >= hi:
        raise CatalogError(f"{where}: min_exclusive must be below max_exclusive")
    return Field(key=key, type=raw["type"], label=_text(raw.get("label"), f"{where} label"),
                 required=required, min_length=raw.get("min_length", 0),
                 max_length=raw.get("max_length"), min_exclusive=lo, max_exclusive=hi,
                 options=options)


def load_service(path: Path) -> Service:
    where_file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{where_file}: not valid TOML: {exc}", file=where_file)
    return parse_service(raw, where_file)


def parse_service(raw, where_file: str) -> Service:
    """One service from its settings (a catalogue file, or central's reference data)."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{where_file}: a service is a table of settings", file=where_file)
    code = raw.get("code")
    where = f"{where_file}: service {code!r}"

    def fail(problem, field=None):
        raise CatalogError(f"{where}{f' field {field!r}' if field else ''}: {problem}",
                           file=where_file, service=code, field=field)

    try:
        if not isinstance(code, str) or not CODE_RE.match(code):
            fail("code must be lower-case words joined by '-'")
        unknown = set(raw) - KNOWN_SERVICE_KEYS
        if unknown:
            fail(f"unknown setting(s) {', '.join(sorted(unknown))}")
        if not isinstance(raw.get("prefix"), str) or not PREFIX_RE.match(raw["prefix"]):
            fail("prefix must be 1-3 capital letters")
        name = _text(raw.get("name"), f"{where} name", NAME_MAX)
        if raw.get("issue") not in ISSUE_MODES:
            fail(f"issue must be 'instant' or 'review', got {raw.get('issue')!r}")
        if not isinstance(raw.get("licence_type"), str) or \
                not LICENCE_TYPE_RE.match(raw["licence_type"]):
            fail("licence_type must be 2-8 capital letters")
        validity = raw.get("validity_days")
        if isinstance(validity, bool) or not isinstance(validity, int) or not 1 <= validity <= 36500:
            fail("validity_days must be a whole number of days from 1 to 36500")
        fee = raw.get("fee")
        if not isinstance(fee, dict):
            fail("fee must be a table {amount, currency}")
        currency = fee.get("currency")
        if currency not in money.CURRENCY_EXPONENT:
            fail(f"fee currency {currency!r} is not known")
        amount = fee.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            fail("fee amount must be a whole number of minor units (1 BHD = 1000), not "
                 f"{amount!r}")
        if amount > max_fee_minor(currency):
            largest = money.format_amount(max_fee_minor(currency), currency)
            fail(f"fee amount {money.format_amount(amount, currency)} is above the largest "
                 f"fee the catalogue takes, {largest}")
        from_field = fee.get("from_field")
        docs = raw.get("documents", [])
        if not isinstance(docs, list) or len(docs) > MAX_DOCUMENTS:
            fail(f"documents must be a list of at most {MAX_DOCUMENTS}")
        documents = tuple(_load_document(d, i + 1, where) for i, d in enumerate(docs))
        doc_keys = [d.key for d in documents]
        twice = sorted({k for k in doc_keys if doc_keys.count(k) > 1})
        if twice:
            fail(f"documents: the key {twice[0]!r} is used twice (each document's key is "
                 f"unique within the service)")
        offices = raw.get("offices")
        if offices is not None:
            if not isinstance(offices, list) or \
                    not all(isinstance(o, str) and OFFICE_CODE_RE.match(o) for o in offices):
                fail("offices must be a list of office codes (1-8 capital letters or digits)")
            if len(set(offices)) != len(offices):
                fail("offices names an office twice")
            offices = tuple(offices)
        queue = _queue_rules(raw.get("queue", {}), fail)
        sector = _load_group(raw.get("sector"), "sector", fail, where)
        category = _load_group(raw.get("category"), "category", fail, where)
        fields_raw = raw.get("fields")
        if not isinstance(fields_raw, list) or not fields_raw:
            fail("needs at least one field")
        fields = []
        for i, f in enumerate(fields_raw):
            fields.append(_load_field(f, f"{where} field #{i + 1}"))
        keys = [f.key for f in fields]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            fail("is defined twice", field=sorted(dupes)[0])
        types = {f.key: f.type for f in fields}
        if types.get("full_name") != "text":
            fail("every service needs a text field 'full_name' (the holder)", field="full_name")
        if types.get("national_id") != "national_id":
            fail("every service needs a national_id field 'national_id'", field="national_id")
        if from_field is not None and types.get(from_field) != "money":
            fail("fee.from_field must name a money field", field=str(from_field))
        if from_field is None and amount == 0:
            fail("fee amount is zero and no fee.from_field is given")
    except CatalogError as exc:
        if "file" not in exc.details:
            raise CatalogError(exc.message, file=where_file, service=code) from None
        raise
    return Service(code=code, prefix=raw["prefix"], name=name, issue=raw["issue"],
                   licence_type=raw["licence_type"], validity_days=validity,
                   fee_minor=amount, currency=currency, fee_from_field=from_field,
                   documents=documents, fields=tuple(fields), source=where_file,
                   offices=offices, queue=queue, sector=sector, category=category)


def _queue_rules(raw, fail) -> QueueRules:
    """The `queue` table: a target wait of 1-600 minutes, a cap of 1-10,000 tickets a day
    (zero or negative is refused: a service nobody may queue for is withdrawn with
    `offices`), a cut-off "HH:MM"."""
    if not isinstance(raw, dict):
        fail("queue must be a table {target_wait_minutes, daily_cap, cutoff}")
    unknown = set(raw) - KNOWN_QUEUE_KEYS
    if unknown:
        fail(f"queue: unknown setting(s) {', '.join(sorted(unknown))}")
    target = raw.get("target_wait_minutes", DEFAULT_TARGET_WAIT_MINUTES)
    if isinstance(target, bool) or not isinstance(target, int) or \
            not 1 <= target <= MAX_TARGET_WAIT_MINUTES:
        fail(f"queue.target_wait_minutes must be a whole number of minutes from 1 to "
             f"{MAX_TARGET_WAIT_MINUTES}, got {target!r}")
    cap = raw.get("daily_cap")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or
                            not 1 <= cap <= MAX_DAILY_CAP):
        fail(f"queue.daily_cap must be a whole number of tickets from 1 to {MAX_DAILY_CAP} "
             f"(leave it out for no cap), got {cap!r}")
    cutoff = raw.get("cutoff")
    if cutoff is not None and (not isinstance(cutoff, str) or not CUTOFF_RE.match(cutoff)):
        fail(f"queue.cutoff must be a local time \"HH:MM\" (24-hour), got {cutoff!r}")
    return QueueRules(target_wait_minutes=target, daily_cap=cap, cutoff=cutoff)


def load_catalog(directory: str | Path | None = None) -> Catalog:
    directory = Path(directory) if directory else DEFAULT_CATALOG_DIR
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogError(f"{directory}: no service files (*.toml)", file=str(directory))
    services = [load_service(p) for p in files]
    check_groups(services)
    return catalog_of(services)


def check_groups(services: list[Service]) -> None:
    """A catalogue's files agree on each sector's and category's words: a sector code, or a
    category code within a sector, means one heading. (Checked where files are written, not
    in catalog_of: an office laying central's services over its files keeps working, and
    lists a group under the words of its first service.)"""
    seen: dict[tuple, tuple[Group, str]] = {}
    for s in services:
        for key, group in (((s.sector.code,), s.sector),
                           ((s.sector.code, s.category.code), s.category)):
            first = seen.setdefault(key, (group, s.source))
            if first[0] != group:
                kind = "sector" if len(key) == 1 else "category"
                raise CatalogError(f"{s.source}: service {s.code!r}: {kind} {group.code!r} is "
                                   f"named {group.ar!r} / {group.en!r} here but "
                                   f"{first[0].ar!r} / {first[0].en!r} in {first[1]}",
                                   file=s.source, service=s.code, field=kind)


def overlay(shipped: Catalog, published: list[Service]) -> Catalog:
    """The office's one catalogue: the shipped files with central's published services laid
    over them by code (central's wins, whole); a service central added comes after. A shipped
    service whose ticket prefix central gave to another service gives way."""
    by_code = {s.code: s for s in shipped}
    by_code.update({s.code: s for s in published})
    taken = {s.prefix: s.code for s in published}
    return catalog_of([s for s in by_code.values() if taken.get(s.prefix, s.code) == s.code])


def catalog_of(services: list[Service]) -> Catalog:
    """A catalogue from parsed services, refusing two with the same code or ticket prefix."""
    for kind in ("code", "prefix"):
        seen: dict[str, str] = {}
        for s in services:
            value = getattr(s, kind)
            if value in seen:
                raise CatalogError(f"{s.source}: service {s.code!r}: {kind} {value!r} is "
                                   f"already used by {seen[value]}", file=s.source,
                                   service=s.code)
            seen[value] = s.source
    return Catalog(services)


# --- validating what a resident typed -------------------------------------------------------

def _number(value, field: Field) -> Decimal:
    with too_long_means(problem="not_number"):
        text = to_ascii_digits(clean_text(str(value), field.key, max_length=20, min_length=1))
    text = text.replace("٫", ".")  # Arabic decimal separator
    if not re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,3})?", text):
        raise ValidationError(f"{field.key}: {text!r} is not a number", field=field.key,
                              problem="not_number")
    return Decimal(text)


def _check_bounds(f: Field, number: Decimal, unit: str) -> None:
    """`limit` is in the field's unit: m², or major units of the currency (50 = 50.000 BHD)."""
    if f.min_exclusive is not None and number <= f.min_exclusive:
        raise ValidationError(f"{f.key}: must be more than {f.min_exclusive}{unit}, got "
                              f"{number}", field=f.key, problem="too_small",
                              limit=str(f.min_exclusive), unit=unit.strip())
    if f.max_exclusive is not None and number >= f.max_exclusive:
        raise ValidationError(f"{f.key}: must be under {f.max_exclusive}{unit} for this "
                              f"service, got {number}", field=f.key, problem="too_large",
                              limit=str(f.max_exclusive), unit=unit.strip())


def validate_fields(service: Service, values: dict, national_id_pattern: str,
                    national_id_check: str, phone_pattern: str, max_amount_minor: int,
                    partial: bool = False) -> dict:
    """Clean and check every field; returns the values to store. `partial` (drafts) skips
    the required check but still refuses bad values."""
    unknown = set(values) - {f.key for f in service.fields}
    if unknown:
        raise ValidationError(f"{service.code} has no field {sorted(unknown)[0]!r}",
                              field=sorted(unknown)[0], problem="unknown_field",
                              service=service.code)
    out: dict[str, str] = {}
    for f in service.fields:
        value = values.get(f.key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if f.required and not partial:
                raise ValidationError(f"{f.key}: is required", field=f.key, problem="required")
            continue
        if f.type == "text":
            out[f.key] = clean_text(value, f.key, f.max_length, max(1, f.min_length))
        elif f.type == "national_id":
            out[f.key] = check_national_id(value, national_id_pattern, national_id_check, f.key)
        elif f.type == "phone":
            out[f.key] = check_phone(value, phone_pattern, f.key)
        elif f.type in ("block", "road"):
            with too_long_means(problem="number_range", min=1, max=9999):
                text = to_ascii_digits(clean_text(str(value), f.key, 4, 1))
            if not re.fullmatch(r"[0-9]{1,4}", text) or int(text) == 0:
                raise ValidationError(f"{f.key}: must be a number from 1 to 9999", field=f.key,
                                      problem="number_range", min=1, max=9999)
            out[f.key] = str(int(text))
        elif f.type == "building":
            with too_long_means(problem="building_format"):
                text = to_ascii_digits(clean_text(str(value), f.key, 5, 1)).upper()
            if not re.fullmatch(r"[0-9]{1,4}[A-Z]?", text) or int(re.sub(r"\D", "", text)) == 0:
                raise ValidationError(f"{f.key}: must be a building number like 123 or 123A",
                                      field=f.key, problem="building_format")
            out[f.key] = text.lstrip("0")
        elif f.type == "area_m2":
            number = _number(value, f)
            if number <= 0:
                raise ValidationError(f"{f.key}: must be more than 0 m²", field=f.key,
                                      problem="too_small", limit="0", unit="m²")
            _check_bounds(f, number, " m²")
            out[f.key] = str(number)
        elif f.type == "money":
            minor = money.parse_amount(to_ascii_digits(str(value)), service.currency, f.key,
                                       max_amount_minor)
            # bounds in the catalogue are in major units (50 = 50.000 BHD)
            _check_bounds(f, Decimal(minor) / 10 ** money.exponent(service.currency),
                          f" {service.currency}")
            out[f.key] = str(minor)
        elif f.type == "choice":
            allowed = [o.value for o in f.options]
            if value not in allowed:
                raise ValidationError(f"{f.key}: must be one of {', '.join(allowed)}",
                                      field=f.key, problem="choice", options=allowed)
            out[f.key] = value
    return out
