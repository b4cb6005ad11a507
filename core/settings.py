"""One typed settings object: defaults, then a TOML file, then NAFITHA_* environment variables.

    [office]            code, name_ar, name_en, timezone, currency
    [device]            id
    [queue]             call_limit, number_start, number_end, priority_head_start_minutes,
                        more_time_places, ...
    [validation]        national_id_pattern, national_id_check, phone_pattern, max_amount_minor
    [store]             busy_timeout_ms, keep_personal_days (docs/privacy.md)
    [documents]         retention_days, scanner, import_folder (docs/documents.md)
    [appointments]      early_minutes, grace_minutes: check-in against a booked slot
    [kiosk]             language, idle_s, idle_warning_s, fullscreen, account, admin_pin_hash, ...
    [payment]           transport (simulated | serial | none), port, baudrate, timeout_s
    [bills]             valid_days (a bill is due this many days after it is made)
    [licence]           authority_ar, authority_en, emblem, national_id (full | masked),
                        verify_url: what a printed licence and its PDF show (docs/printing.md)
    [counter]           name, services, language, lock_after_s, screen_dpi
    [messages]          gateway (none | http | smpp | simulated), channel (sms | whatsapp), url, api_key, host, port,
                        system_id, password, source_addr, timeout_s, country_code,
                        near_threshold, per_number_per_hour, per_number_per_day, keep_days,
                        templates (docs/messages.md)
    [hub]               url (a kiosk's or counter's hub), host, port (what `hub serve` listens
                        on, HTTPS), board_port (the board's plain HTTP), public_url (the
                        board port as phones reach it: the tickets' follow QR), pairing_minutes,
                        token_days, timeout_s; the server's limits: max_connections,
                        max_connections_per_address, header_timeout_s, body_timeout_s,
                        min_body_bytes_per_s, keepalive_s

Environment overrides use a double underscore between section and key:
NAFITHA_OFFICE__CODE=MUH, NAFITHA_QUEUE__CALL_LIMIT=4. The data directory is NAFITHA_DATA
or --data (default: $XDG_DATA_HOME/nafitha, i.e. ~/.local/share/nafitha).
"""
from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .text import LANGUAGES, NATIONAL_ID_CHECK, NATIONAL_ID_PATTERN, PHONE_PATTERN

CODE_RE = re.compile(r"^[A-Z0-9]{1,8}$")
PRINTER_TRANSPORTS = ("preview", "usb", "serial", "network", "file")


@dataclass
class OfficeSettings:
    code: str = "MUH"
    name_ar: str = "مركز خدمات المحرق"
    name_en: str = "Muharraq Service Centre"
    timezone: str = "Asia/Bahrain"
    digits: str = "latin"  # how screens show numbers: latin (0-9) or arabic (٠-٩) in Arabic
    # The narrowest paper any device of the office prints licences on: approval refuses
    # conditions whose QR code would not fit it (384: 58 mm, 576: 80 mm; docs/printing.md).
    smallest_paper_dots: int = 384


@dataclass
class DeviceSettings:
    id: str = "D01"


@dataclass
class QueueSettings:
    call_limit: int = 3
    number_start: int = 1
    number_end: int = 999
    # A priority ticket queues as if it had arrived this many minutes earlier (docs/queue.md).
    priority_head_start_minutes: int = 10
    default_service_minutes: float = 5.0
    # Service times of the last N finished tickets feed the wait estimate.
    estimate_window: int = 20
    # A counter counts as open if it called a ticket within this many minutes.
    counter_open_minutes: int = 30
    # "I need more time" on a resident's phone moves the ticket back this many places, once
    # (core/follow.py, docs/phone.md).
    more_time_places: int = 3


@dataclass
class ValidationSettings:
    national_id_pattern: str = NATIONAL_ID_PATTERN
    national_id_check: str = NATIONAL_ID_CHECK  # luhn | mod11 | none
    phone_pattern: str = PHONE_PATTERN
    # Anything above this is refused as absurd (100,000.000 BHD).
    max_amount_minor: int = 100_000_000


@dataclass
class StoreSettings:
    busy_timeout_ms: int = 10_000
    # A closed case's personal values (sealed) are purged this many days after it closed,
    # once central has them; 0 keeps them. 400: a one-year licence can be reprinted here.
    keep_personal_days: int = 400


@dataclass
class DocumentSettings:
    # A supporting document's file leaves this device this many days after central
    # confirmed it has the file (its record stays: docs/documents.md).
    retention_days: int = 30
    # The counter's document scanner: a SANE device name ("" none; "fake:<image or folder>"
    # plays one in tests and demos) and the folder "From file" lists (a USB stick's mount).
    scanner: str = ""
    import_folder: str = "/media"


@dataclass
class PrinterSettings:
    """The receipt/licence printer (docs/printing.md). `preview` writes each job's bytes and
    a PNG to preview_dir (default <data>/prints) instead of printing."""
    transport: str = "preview"  # preview | usb | serial | network | file
    profile: str = "default"  # python-escpos capability profile, e.g. TM-T20II
    width_dots: int = 576  # 576 = 80 mm paper, 384 = 58 mm (203 dpi)
    language: str = "ar"  # the documents' first language
    native_qr: bool = False  # print QR with the printer's own command (only if the profile can)
    usb_vendor: int = 0
    usb_product: int = 0
    serial_port: str = ""
    serial_baudrate: int = 19200
    serial_flow: str = "none"  # none | rtscts | xonxoff
    host: str = ""
    port: int = 9100
    timeout_s: float = 3.0
    device_path: str = "/dev/usb/lp0"
    preview_dir: str = ""
    # A queue ticket nobody collected is useless after this; receipts and licences never expire.
    ticket_expiry_minutes: int = 15


@dataclass
class ScannerSettings:
    """The camera (or video, stream, folder) read for QR codes (docs/scanning.md)."""
    source: str = "0"  # camera index, /dev/videoN, video file, stream URL or image folder
    width: int = 1280  # 720p reads licence QRs reliably
    height: int = 720
    debounce_s: float = 2.0
    serial_port: str = ""  # a serial barcode scanner too, if set (pyserial port or URL)
    serial_baudrate: int = 9600


@dataclass
class SyncSettings:
    url: str = ""  # central's URL; `nafitha enrol` records it (keys/sync.json) if empty here
    ca_bundle: str = ""  # PEM file of CAs to verify central's TLS certificate (default: system)
    batch_size: int = 500
    interval_s: float = 30.0  # pull reference data at least this often when idle
    timeout_s: float = 30.0
    backoff_max_s: float = 300.0
    probe_interval_s: float = 5.0  # while offline: how often to look for central again


@dataclass
class AppointmentSettings:
    # Check-in against a booking's slot (core/appointments.py, docs/appointments.md): from
    # early_minutes before the slot starts until grace_minutes after, the ticket joins the
    # queue at the slot's start; earlier is "come back at ...", later is a missed
    # appointment (a walk-in ticket instead), and the booking becomes a no-show.
    early_minutes: int = 30
    grace_minutes: int = 15


@dataclass
class KioskSettings:
    language: str = "ar"  # the language a resident meets first
    idle_s: float = 60.0  # no touch for this long: "are you still there?"
    idle_warning_s: float = 10.0  # ... then everything entered is wiped
    fullscreen: bool = True  # kiosk mode: fullscreen, no cursor, Escape and close disabled
    large_text: bool = False  # start in the large-text mode (residents can switch it)
    account: str = "kiosk"  # whom the kiosk's payments and shift belong to
    # scrypt hash of the PIN that lets staff leave kiosk mode (`nafitha kiosk set-pin`);
    # empty: leaving needs the PIN of any supervisor account.
    admin_pin_hash: str = ""
    screen_dpi: float = 92.0  # of the touch monitor (23.8" full HD): sizes touch targets in mm


@dataclass
class CounterSettings:
    name: str = "1"  # this counter's name on tickets called here (and on the display board)
    services: str = ""  # comma-separated service codes it serves; empty: every service
    language: str = "ar"  # the clerk's screen language at start (switchable)
    lock_after_s: float = 300.0  # no key or touch for this long: the screen locks (PIN)
    screen_dpi: float = 96.0  # of the clerk's monitor: sizes buttons in mm

    def service_list(self) -> list[str]:
        return [s.strip() for s in self.services.split(",") if s.strip()]


PAYMENT_TRANSPORTS = ("simulated", "serial", "none")


@dataclass
class HubSettings:
    # A kiosk or counter of a service centre: the hub it works through (`--hub` overrides;
    # `nafitha hub join` records it). Empty: the in-process store (a field office).
    url: str = ""
    host: str = "0.0.0.0"  # `nafitha hub serve` listens here (the centre's LAN)
    port: int = 8470
    pairing_minutes: int = 10  # how long a pairing code shown on the hub stays usable
    # The display board's plain-HTTP listener (a TV's browser cannot pin the hub's
    # certificate; the board carries only what the hall's screen shows). 0: none.
    board_port: int = 8471
    # The board listener's address as a resident's phone on the centre's Wi-Fi reaches it,
    # e.g. http://192.168.1.10:8471: tickets print a QR to follow the queue at
    # <public_url>/q/<token> (docs/phone.md). Empty: no follow QR on tickets.
    public_url: str = ""
    token_days: int = 30  # a device token's life; devices renew theirs past half of it
    timeout_s: float = 5.0  # a kiosk's or counter's wait for one answer from the hub
    # The hub server's limits (hub/server.py, docs/hub.md "Limits"): open connections per
    # listener (more are refused at once); seconds to send a request's head (slowloris),
    # then its body (plus one second per min_body_bytes_per_s of declared length); seconds
    # an idle keep-alive connection stays open. Event streams are never cut by them.
    max_connections: int = 1000
    # Of those, open from one address (a kiosk holds a few: its calls and an event stream);
    # a flood from one device then cannot close or keep out the others' connections.
    max_connections_per_address: int = 64
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    min_body_bytes_per_s: int = 16384
    keepalive_s: float = 30.0
    # Operations' per-device limits (per_minute in core/faces): off only for a benchmark's
    # closed loop, which takes tickets far faster than any person.
    rate_limits: bool = True


@dataclass
class PaymentSettings:
    # simulated: a terminal simulator on a pseudo-terminal inside the app (demos, make run);
    # serial: a terminal on `port` (a device path or a pyserial URL); none: pay at the counter.
    transport: str = "simulated"
    port: str = ""
    baudrate: int = 9600
    timeout_s: float = 90.0  # how long a resident has at the terminal before it times out


@dataclass
class BillSettings:
    valid_days: int = 30  # a bill (core/bills.py) is due this many days after it is made


LICENCE_ID_POLICIES = ("masked", "full")
# The shipped emblem (a generic drawing, no real coat of arms): replace it with the
# municipality's own through licence.emblem.
DEFAULT_EMBLEM = Path(__file__).resolve().parents[1] / "assets" / "paper" / "emblem.png"
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG


@dataclass
class LicenceSettings:
    """What a licence's paper (thermal and the A4 PDF) says of who issued it."""
    authority_ar: str = "بلدية المحرق"
    authority_en: str = "Muharraq Municipality"
    # The emblem printed at the top: a PNG or JPEG file (relative to the data directory);
    # "" the shipped generic emblem, "none" no emblem.
    emblem: str = ""
    # The holder's national ID on the paper: masked (last 3 digits) or full, as the
    # municipality's policy says (a third party may need the whole number to match it).
    national_id: str = "masked"
    # The page a resident's bank or landlord opens to check the code (central's /verify/);
    # empty: the paper only says to scan the code.
    verify_url: str = ""

    def emblem_path(self, data_dir: Path) -> Path | None:
        if self.emblem.strip().lower() == "none":
            return None
        if not self.emblem.strip():
            return DEFAULT_EMBLEM
        return Path(data_dir) / Path(self.emblem).expanduser()


@dataclass
class BackupSettings:
    # `nafitha backup` (core/backup.py, docs/operations.md): the second place its timer writes
    # to (another disk or a USB stick; empty: no scheduled backup), how many to keep there,
    # and when the timer runs (a systemd OnCalendar expression).
    to_dir: str = ""
    keep: int = 14
    on_calendar: str = "*-*-* 02:30:00"


@dataclass
class HealthSettings:
    # Heartbeats (core/health.py, docs/operations.md): how often a device reports to its hub
    # (or a lone device's agent to central); the thresholds that raise alerts.
    heartbeat_s: float = 30.0
    disk_low_mb: int = 500  # less free than this: "disk nearly full"
    disk_refuse_mb: int = 50  # less free than this: operations refused, kiosk out of service
    silent_after_s: float = 180.0  # no heartbeat for this long: "device silent"
    backup_max_age_h: float = 26.0  # last backup older than this: "no backup for a day"


MESSAGE_GATEWAYS = ("none", "http", "smpp", "simulated")
# WhatsApp where residents use it: through an HTTP provider that takes the same JSON with
# "channel": "whatsapp" (docs/messages.md); SMPP carries SMS only.
MESSAGE_CHANNELS = ("sms", "whatsapp")


@dataclass
class MessageSettings:
    """Messages to residents' phones (core/messages.py, devices/messaging, docs/messages.md).
    gateway none: nothing is queued or sent; simulated: a loopback gateway in the process
    (demos), which sends nowhere."""
    gateway: str = "none"
    channel: str = "sms"  # sms | whatsapp (http and simulated gateways only)
    url: str = ""  # http: the provider's send endpoint (POST {"to", "text", "reference"})
    api_key: str = ""  # http: sent as "Authorization: Bearer <api_key>"
    host: str = ""  # smpp: the operator's SMSC
    port: int = 2775
    system_id: str = ""
    password: str = ""
    source_addr: str = ""  # the sender name or number residents see
    # smpp: true only if the SMSC drops a second submit_sm with the same reference TLV
    # (0x1400): then a timed-out message is resent, otherwise it is marked failed.
    smpp_dedupes: bool = False
    timeout_s: float = 5.0  # one request to the gateway
    country_code: str = "+973"  # put before a local number (36001234 -> +97336001234)
    near_threshold: int = 3  # "your turn is near" when this many or fewer are ahead
    per_number_per_hour: int = 6  # more to one number is dropped (reason rate_limited)
    per_number_per_day: int = 20
    keep_days: int = 30  # finished messages (with their numbers) are deleted after this
    templates: str = ""  # a TOML file replacing assets/messages.toml ("" the shipped one)


@dataclass
class UpdateSettings:
    # Releases (core/releases.py, docs/operations.md): where versions are installed side by
    # side (each a virtual environment) and how long a new version has to pass its health
    # check before it is rolled back.
    root: str = "/opt/nafitha"
    health_timeout_s: float = 60.0


@dataclass
class Settings:
    office: OfficeSettings = field(default_factory=OfficeSettings)
    device: DeviceSettings = field(default_factory=DeviceSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    documents: DocumentSettings = field(default_factory=DocumentSettings)
    printer: PrinterSettings = field(default_factory=PrinterSettings)
    scanner: ScannerSettings = field(default_factory=ScannerSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    kiosk: KioskSettings = field(default_factory=KioskSettings)
    appointments: AppointmentSettings = field(default_factory=AppointmentSettings)
    payment: PaymentSettings = field(default_factory=PaymentSettings)
    bills: BillSettings = field(default_factory=BillSettings)
    licence: LicenceSettings = field(default_factory=LicenceSettings)
    counter: CounterSettings = field(default_factory=CounterSettings)
    hub: HubSettings = field(default_factory=HubSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    update: UpdateSettings = field(default_factory=UpdateSettings)
    messages: MessageSettings = field(default_factory=MessageSettings)
    data_dir: Path = field(default_factory=lambda: default_data_dir())
    catalog_dir: Path | None = None
    source: str = "defaults"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "nafitha.db"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.office.timezone)


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nafitha"


SECTIONS = {f.name: f.type for f in dataclasses.fields(Settings) if f.name in
            ("office", "device", "queue", "validation", "store", "documents", "printer",
                           "scanner", "sync", "kiosk", "payment", "bills", "counter", "hub",
                           "backup", "health", "update", "licence",
                           "messages", "appointments")}


def _coerce(value: Any, typ: str, where: str, key: str, from_env: bool) -> Any:
    typ = typ if isinstance(typ, str) else typ.__name__
    if from_env and isinstance(value, str):
        try:
            if typ == "int":
                return int(value)
            if typ == "float":
                return float(value)
            if typ == "bool":
                return {"true": True, "1": True, "yes": True, "false": False, "0": False,
                        "no": False}[value.strip().lower()]
        except (ValueError, KeyError):
            raise ConfigError(f"{where}: {key}: expected {typ}, got {value!r}", file=where, key=key)
        return value
    if typ == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{where}: {key}: expected an integer, got {value!r}", file=where, key=key)
    if typ == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ConfigError(f"{where}: {key}: expected a number, got {value!r}", file=where, key=key)
    if typ == "bool" and not isinstance(value, bool):
        raise ConfigError(f"{where}: {key}: expected true or false, got {value!r}", file=where,
                          key=key)
    if typ == "str" and not isinstance(value, str):
        raise ConfigError(f"{where}: {key}: expected text, got {value!r}", file=where, key=key)
    return float(value) if typ == "float" else value


def _apply(settings: Settings, section: str, key: str, value: Any, where: str, from_env=False):
    full = f"{section}.{key}"
    if section not in SECTIONS:
        raise ConfigError(f"{where}: {section}: unknown section (known: {', '.join(SECTIONS)})",
                          file=where, key=section)
    target = getattr(settings, section)
    types = {f.name: f.type for f in dataclasses.fields(target)}
    if key not in types:
        raise ConfigError(f"{where}: {full}: unknown key (known: {', '.join(types)})",
                          file=where, key=full)
    setattr(target, key, _coerce(value, types[key], where, full, from_env))


def _check(settings: Settings, where: str) -> None:
    def fail(key, problem):
        raise ConfigError(f"{where}: {key}: {problem}", file=where, key=key)

    if not CODE_RE.match(settings.office.code):
        fail("office.code", "must be 1-8 capital letters or digits (it is part of licence numbers)")
    if not CODE_RE.match(settings.device.id):
        fail("device.id", "must be 1-8 capital letters or digits (it is part of licence numbers)")
    try:
        ZoneInfo(settings.office.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail("office.timezone", f"unknown time zone {settings.office.timezone!r}")
    q = settings.queue
    if q.call_limit < 1:
        fail("queue.call_limit", "must be at least 1")
    if not (0 <= q.number_start < q.number_end <= 9999):
        fail("queue.number_end", "the range must satisfy 0 <= number_start < number_end <= 9999")
    if q.priority_head_start_minutes < 0:
        fail("queue.priority_head_start_minutes", "must not be negative")
    if not 1 <= q.more_time_places <= 100:
        fail("queue.more_time_places", "must be between 1 and 100 places")
    v = settings.validation
    for key in ("national_id_pattern", "phone_pattern"):
        try:
            re.compile(getattr(v, key))
        except re.error as exc:
            fail(f"validation.{key}", f"not a valid regular expression: {exc}")
    if v.national_id_check not in ("luhn", "mod11", "none"):
        fail("validation.national_id_check", "must be one of luhn, mod11, none")
    if v.max_amount_minor <= 0:
        fail("validation.max_amount_minor", "must be positive")
    a = settings.appointments
    if not 0 <= a.early_minutes <= 240:
        fail("appointments.early_minutes", "must be between 0 and 240 minutes")
    if not 0 <= a.grace_minutes <= 120:
        fail("appointments.grace_minutes", "must be between 0 and 120 minutes")
    if settings.store.busy_timeout_ms < 0:
        fail("store.busy_timeout_ms", "must not be negative")
    if not 0 <= settings.store.keep_personal_days <= 3650:
        fail("store.keep_personal_days", "must be between 0 (keep) and 3650 days")
    if not 0 <= settings.documents.retention_days <= 3650:
        fail("documents.retention_days", "must be between 0 (leave once central has it) and "
                                         "3650 days")
    p = settings.printer
    if p.transport not in PRINTER_TRANSPORTS:
        fail("printer.transport", f"unknown printer transport {p.transport!r} (use "
                                  f"{', '.join(PRINTER_TRANSPORTS)})")
    if p.width_dots not in (384, 576):
        fail("printer.width_dots", "must be 384 (58 mm paper) or 576 (80 mm paper)")
    if settings.office.smallest_paper_dots not in (384, 576):
        fail("office.smallest_paper_dots", "must be 384 (58 mm paper) or 576 (80 mm paper)")
    if p.width_dots < settings.office.smallest_paper_dots:
        fail("office.smallest_paper_dots", f"is {settings.office.smallest_paper_dots} but this "
             f"device prints on {p.width_dots}-dot paper: make it {p.width_dots} (licences "
             f"approved for wider paper might not fit here)")
    if p.language not in LANGUAGES:
        fail("printer.language", "must be ar or en")
    if p.serial_flow not in ("none", "rtscts", "xonxoff"):
        fail("printer.serial_flow", "must be none, rtscts or xonxoff")
    if not 0 < p.timeout_s <= 60:
        fail("printer.timeout_s", "must be between 0 and 60 seconds")
    if p.ticket_expiry_minutes < 1:
        fail("printer.ticket_expiry_minutes", "must be at least 1")
    sc = settings.scanner
    if not sc.source.strip():
        fail("scanner.source", "must name a camera index, device, file, folder or URL")
    if not (160 <= sc.width <= 7680 and 120 <= sc.height <= 4320):
        fail("scanner.width", "the camera resolution must be between 160x120 and 7680x4320")
    if sc.debounce_s < 0:
        fail("scanner.debounce_s", "must not be negative")
    sy = settings.sync
    if sy.url and not re.match(r"^https?://[^\s/]+", sy.url):
        fail("sync.url", f"must be an http:// or https:// URL, not {sy.url!r}")
    if sy.ca_bundle and not Path(sy.ca_bundle).expanduser().is_file():
        fail("sync.ca_bundle", f"{sy.ca_bundle}: no such file")
    if not 1 <= sy.batch_size <= 1000:
        fail("sync.batch_size", "must be between 1 and 1000 events")
    for key in ("interval_s", "timeout_s", "backoff_max_s", "probe_interval_s"):
        if not 0 < getattr(sy, key) <= 86400:
            fail(f"sync.{key}", "must be between 0 and 86400 seconds")
    if settings.office.digits not in ("latin", "arabic"):
        fail("office.digits", "must be latin or arabic")
    k = settings.kiosk
    if k.language not in LANGUAGES:
        fail("kiosk.language", "must be ar or en")
    if not 10 <= k.idle_s <= 3600:
        fail("kiosk.idle_s", "must be between 10 and 3600 seconds")
    if not 3 <= k.idle_warning_s <= 120:
        fail("kiosk.idle_warning_s", "must be between 3 and 120 seconds")
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,31}", k.account):
        fail("kiosk.account", "must be 1-32 lower-case letters, digits, '.', '_' or '-'")
    if not 50 <= k.screen_dpi <= 600:
        fail("kiosk.screen_dpi", "must be between 50 and 600")
    c = settings.counter
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", c.name):
        fail("counter.name", "must be 1-20 letters, digits, '-' or '_'")
    if c.language not in LANGUAGES:
        fail("counter.language", "must be ar or en")
    if not 30 <= c.lock_after_s <= 86400:
        fail("counter.lock_after_s", "must be between 30 and 86400 seconds")
    if not 50 <= c.screen_dpi <= 600:
        fail("counter.screen_dpi", "must be between 50 and 600")
    h = settings.hub
    if h.url and not re.match(r"^https?://[^\s/]+", h.url):
        fail("hub.url", f"must be an http:// or https:// URL, not {h.url!r}")
    if h.public_url and not re.fullmatch(r"https?://[^\s/?#]+", h.public_url.rstrip("/")):
        fail("hub.public_url", f"must be an http:// or https:// address with no path, like "
                               f"http://192.168.1.10:8471, not {h.public_url!r}")
    if not 1 <= h.port <= 65535:
        fail("hub.port", "must be between 1 and 65535")
    if not 0 <= h.board_port <= 65535 or h.board_port == h.port:
        fail("hub.board_port", "must be between 1 and 65535 and not hub.port (0: no board "
                               "listener)")
    if not 1 <= h.token_days <= 365:
        fail("hub.token_days", "must be between 1 and 365 days")
    if not 1 <= h.pairing_minutes <= 1440:
        fail("hub.pairing_minutes", "must be between 1 and 1440 minutes")
    if not 0.5 <= h.timeout_s <= 120:
        fail("hub.timeout_s", "must be between 0.5 and 120 seconds")
    if not 16 <= h.max_connections <= 100_000:
        fail("hub.max_connections", "must be between 16 and 100000")
    if not 4 <= h.max_connections_per_address <= 100_000:
        fail("hub.max_connections_per_address", "must be between 4 and 100000 (a kiosk or "
                                                "counter holds a few connections at once)")
    if not 1 <= h.header_timeout_s <= 300:
        fail("hub.header_timeout_s", "must be between 1 and 300 seconds")
    if not 1 <= h.body_timeout_s <= 3600:
        fail("hub.body_timeout_s", "must be between 1 and 3600 seconds")
    if not 1024 <= h.min_body_bytes_per_s <= 1_000_000_000:
        fail("hub.min_body_bytes_per_s", "must be between 1024 and 1000000000 bytes a second")
    if not 1 <= h.keepalive_s <= 3600:
        fail("hub.keepalive_s", "must be between 1 and 3600 seconds")
    pay = settings.payment
    if pay.transport not in PAYMENT_TRANSPORTS:
        fail("payment.transport", f"unknown payment transport {pay.transport!r} (use "
                                  f"{', '.join(PAYMENT_TRANSPORTS)})")
    if pay.transport == "serial" and not pay.port.strip():
        fail("payment.port", "a serial payment terminal needs its port (e.g. /dev/ttyUSB0)")
    if not 5 <= pay.timeout_s <= 600:
        fail("payment.timeout_s", "must be between 5 and 600 seconds")
    if pay.baudrate not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
        fail("payment.baudrate", "must be a standard rate (1200 ... 115200)")
    if not 1 <= settings.bills.valid_days <= 365:
        fail("bills.valid_days", "must be between 1 and 365 days")
    lic = settings.licence
    if lic.national_id not in LICENCE_ID_POLICIES:
        fail("licence.national_id", f"must be {' or '.join(LICENCE_ID_POLICIES)}, not "
                                    f"{lic.national_id!r}")
    for key in ("authority_ar", "authority_en"):
        if not getattr(lic, key).strip() or len(getattr(lic, key)) > 120:
            fail(f"licence.{key}", "must be the issuing authority's name (1-120 characters)")
    if lic.verify_url and not re.match(r"^https?://[^\s/]+\S*$", lic.verify_url):
        fail("licence.verify_url", f"must be an http:// or https:// URL, not "
                                   f"{lic.verify_url!r}")
    _check_messages(settings.messages, fail)
    emblem = lic.emblem_path(settings.data_dir)
    if emblem is not None and lic.emblem.strip():  # the shipped one is checked by its test
        problem = emblem_problem(emblem)
        if problem:
            fail("licence.emblem", f"{emblem}: {problem} (\"none\" prints no emblem)")


def _check_messages(m: MessageSettings, fail) -> None:
    if m.gateway not in MESSAGE_GATEWAYS:
        fail("messages.gateway", f"unknown gateway {m.gateway!r} (use "
                                 f"{', '.join(MESSAGE_GATEWAYS)})")
    if m.gateway == "http" and not re.match(r"^https?://[^\s/]+", m.url):
        fail("messages.url", "an http gateway needs its send URL (http:// or https://)")
    if m.channel not in MESSAGE_CHANNELS:
        fail("messages.channel", f"unknown channel {m.channel!r} (use "
                                 f"{', '.join(MESSAGE_CHANNELS)})")
    elif m.channel == "whatsapp" and m.gateway == "smpp":
        fail("messages.channel", "an smpp gateway sends SMS only; WhatsApp needs an http "
                                 "gateway whose provider carries it")
    if m.gateway == "smpp" and not m.host.strip():
        fail("messages.host", "an smpp gateway needs the SMSC's host name or address")
    if not 1 <= m.port <= 65535:
        fail("messages.port", "must be between 1 and 65535")
    if not 0.5 <= m.timeout_s <= 60:
        fail("messages.timeout_s", "must be between 0.5 and 60 seconds")
    if not re.fullmatch(r"\+[1-9][0-9]{0,3}", m.country_code):
        fail("messages.country_code", f"must be + and 1-4 digits, like +973, not "
                                      f"{m.country_code!r}")
    if not 1 <= m.near_threshold <= 50:
        fail("messages.near_threshold", "must be between 1 and 50 tickets")
    if not 1 <= m.per_number_per_hour <= m.per_number_per_day <= 1000:
        fail("messages.per_number_per_hour", "must satisfy 1 <= per_number_per_hour <= "
                                             "per_number_per_day <= 1000")
    if not 1 <= m.keep_days <= 3650:
        fail("messages.keep_days", "must be between 1 and 3650 days")


def emblem_problem(path: Path) -> str | None:
    """Why the file cannot be the emblem, or None. Only its first bytes are read: core does
    not decode images (the printer and the PDF do, and print without an emblem that fails
    them)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not head.startswith(IMAGE_SIGNATURES):
        return "not a PNG or JPEG image"
    return None


def load_settings(data_dir: str | Path | None = None, config_file: str | Path | None = None,
                  environ: dict | None = None) -> Settings:
    """Defaults, then the TOML file (--config, or nafitha.toml in the data directory if it
    exists), then NAFITHA_SECTION__KEY environment variables."""
    env = os.environ if environ is None else environ
    settings = Settings()
    if data_dir is None and env.get("NAFITHA_DATA"):
        data_dir = env["NAFITHA_DATA"]
    if data_dir is not None:
        settings.data_dir = Path(data_dir).expanduser()
    if config_file is None and env.get("NAFITHA_CONFIG"):
        config_file = env["NAFITHA_CONFIG"]
    path = Path(config_file).expanduser() if config_file else settings.data_dir / "nafitha.toml"
    if config_file and not path.is_file():
        raise ConfigError(f"{path}: configuration file not found", file=str(path))
    if path.is_file():
        where = str(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: not valid TOML: {exc}", file=where)
        for section, values in raw.items():
            if section == "catalog_dir" and isinstance(values, str):
                settings.catalog_dir = (path.parent / values).resolve()
                continue
            if not isinstance(values, dict):
                raise ConfigError(f"{where}: {section}: expected a [{section}] table", file=where,
                                  key=section)
            for key, value in values.items():
                _apply(settings, section, key, value, where)
        settings.source = where
        _check(settings, where)
    applied: dict[str, str] = {}
    for name, value in env.items():
        if not name.startswith("NAFITHA_") or "__" not in name:
            continue
        section, _, key = name[len("NAFITHA_"):].lower().partition("__")
        _apply(settings, section, key, value, f"environment {name}", from_env=True)
        applied[f"{section}.{key}"] = name
    if applied:
        # Check once all overrides are in: checking after each one would make the result
        # depend on the order of the environment (NUMBER_START=1000 before NUMBER_END=2000).
        try:
            _check(settings, "environment")
        except ConfigError as exc:
            key = exc.details.get("key")
            names = [applied[key]] if key in applied else sorted(applied.values())
            where = f"environment {', '.join(names)}"
            raise ConfigError(where + exc.message[len("environment"):], file=where,
                              key=key) from None
    _check(settings, settings.source)
    return settings
