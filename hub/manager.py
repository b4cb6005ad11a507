"""The centre manager's pages on the hub (docs/hub/manager.md): /manager, the live view of the
centre, and /manager/reports, its day, week, month and range reports with their downloads.

A supervisor signs in with their user name and PIN (core/users.py, the one path every PIN
takes, counted per source like a counter's); a clerk's PIN opens nothing here. The session
is a random token in an HttpOnly, Secure, SameSite=Strict cookie scoped to /manager, checked
on every request against this process's table of sessions (gone when the hub restarts) and
against the account (still a supervisor, still active). It ends after IDLE_S without a
person's request (the live view's own refresh does not count) or MAX_S in all. Every POST
form carries a CSRF token. Only the HTTPS listener serves these pages (BOARD_PATHS in
hub/app.py): a PIN never travels in clear.

Figures come from core.kpis only (the same report the CLI and the console render); the live
view reads the queue, the devices' heartbeats, the sync state and the counters' states."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import threading
import time
import tomllib
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import (FileResponse, HTMLResponse, JSONResponse, RedirectResponse,
                               Response)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from core import counter_states, health, kpis, money, sync_state
from core.errors import NafithaError, NotFound, PermissionDenied, ValidationError
from core.pairing import Devices
from core.report_files import SHARED_WEB_DIR, day_report_pdf, report_csv, report_xlsx
from core.users import PinGuard

log = logging.getLogger("nafitha.hub.manager")

MANAGER_DIR = Path(__file__).resolve().parent / "manager"
FONT_DIR = Path("/usr/share/fonts/truetype/noto")  # Debian's fonts-noto-core
FONTS = ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf", "NotoSans-Regular.ttf",
         "NotoSans-Bold.ttf")
COOKIE = "nafitha_manager"
PRE_COOKIE = "nafitha_manager_pre"  # the sign-in form's CSRF token before any session
LANG_COOKIE = "nafitha_manager_lang"
REFRESH_HEADER = "x-nafitha-refresh"  # sent by the live view's own refresh (manager.js)
IDLE_S = 15 * 60  # a manager's desk left alone: signed out after 15 minutes
MAX_S = 12 * 3600  # a long day's shift, then sign in again
MAX_SESSIONS = 200  # the oldest are dropped first: a centre has a handful of supervisors
REPORT_CACHE_S = 5.0  # today's takings: the day's report, read at most this often
LANGUAGES = ("ar", "en")
KINDS = ("day", "week", "month", "range")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pdf": "application/pdf"}

# Every word the pages show, Arabic first. {name} parts are filled by str.format.
WORDS: dict[str, tuple[str, str]] = {
    "app": ("نافذة — لوحة المدير", "Nafitha — manager"),
    "live": ("المركز الآن", "The centre now"),
    "reports": ("التقارير", "Reports"),
    "sign_in": ("تسجيل الدخول", "Sign in"),
    "sign_in_lead": ("للمشرفين فقط: اسم المستخدم والرمز السري.",
                     "Supervisors only: your user name and PIN."),
    "sign_out": ("تسجيل الخروج", "Sign out"),
    "signed_out": ("تم تسجيل خروجك.", "You are signed out."),
    "session_ended": ("انتهت الجلسة. سجّل الدخول من جديد.",
                      "Your session ended. Please sign in again."),
    "username": ("اسم المستخدم", "User name"),
    "pin": ("الرمز السري", "PIN"),
    "other_language": ("English", "العربية"),
    "signed_in_as": ("المشرف: {name}", "Supervisor: {name}"),
    # sign-in refusals (core/users.py reasons)
    "wrong_pin": ("اسم المستخدم أو الرمز السري غير صحيح. المحاولات المتبقية: {attempts_left}.",
                  "Wrong user name or PIN. Attempts left: {attempts_left}."),
    "locked_now": ("اسم المستخدم أو الرمز السري غير صحيح، وأُقفل الحساب على هذا الجهاز حتى {until}.",
                   "Wrong user name or PIN; the account is locked here until {until}."),
    "locked": ("الحساب مقفل على هذا الجهاز بعد محاولات خاطئة حتى {until}.",
               "This account is locked here after wrong PINs until {until}."),
    "throttled": ("محاولات خاطئة كثيرة من هذا الجهاز. حاول بعد {retry_after_s} ثانية.",
                  "Too many wrong PINs from this device. Try again in {retry_after_s} s."),
    "role": ("هذا حساب موظف، وهذه الصفحة للمشرفين فقط. لم يُسجَّل الدخول.",
             ("That is a clerk's account; this page is for supervisors only. "
              "You are not signed in.")),
    "disabled": ("هذا الحساب معطّل.", "This account is disabled."),
    "required": ("أدخل اسم المستخدم والرمز السري.", "Enter your user name and PIN."),
    "csrf": ("انتهت صلاحية النموذج. أعد المحاولة.", "The form expired. Please try again."),
    "forbidden": ("هذه الصفحة للمشرفين فقط.", "This page is for supervisors only."),
    # the live view
    "updated": ("آخر تحديث {time}", "Updated {time}"),
    "stale": ("تعذّر التحديث، جارٍ إعادة المحاولة…", "Could not refresh; retrying…"),
    "waiting": ("الانتظار الآن", "Waiting now"),
    "service": ("الخدمة", "Service"),
    "people": ("المنتظرون", "Waiting"),
    "longest": ("أطول انتظار", "Longest wait"),
    "target": ("الهدف", "Target"),
    "next": ("التالي", "Next"),
    "minutes": ("{n} د", "{n} min"),
    "hours": ("{h} س {m} د", "{h} h {m} min"),
    "alert_past_target": ("تجاوز الهدف", "Past target"),
    "alerts": ("تنبيهات", "Alerts"),
    "alert_line": ("{service}: أطول انتظار {wait} والهدف {target}",
                   "{service}: longest wait {wait}, target {target}"),
    "no_alerts": ("لا تنبيهات.", "No alerts."),
    "counters": ("الشبابيك", "Counters"),
    "counter": ("الشباك", "Counter"),
    "clerk": ("الموظف", "Clerk"),
    "state": ("الحالة", "State"),
    "since": ("منذ", "Since"),
    "ticket": ("التذكرة", "Ticket"),
    "reason": ("السبب", "Reason"),
    "no_counters": ("لم يُفتح أي شباك بعد.", "No counter has opened yet."),
    "state_serving": ("يخدم", "Serving"),
    "state_idle": ("متاح", "Idle"),
    "state_break": ("استراحة", "On break"),
    "state_back_office": ("عمل مكتبي", "Back office"),
    "state_closed": ("مغلق", "Closed"),
    "takings": ("إيرادات اليوم", "Today's takings"),
    "total": ("المجموع", "Total"),
    "method": ("طريقة الدفع", "Method"),
    "count": ("العدد", "Count"),
    "amount": ("المبلغ", "Amount"),
    "method_cash": ("نقدًا", "Cash"),
    "method_card": ("بطاقة", "Card"),
    "method_online": ("عبر الإنترنت", "Online"),
    "method_network": ("شبكة المدفوعات", "Payment network"),
    "no_takings": ("لا مدفوعات اليوم بعد.", "No payments today yet."),
    "devices": ("الأجهزة", "Devices"),
    "device": ("الجهاز", "Device"),
    "online": ("متصل", "Online"),
    "offline": ("غير متصل", "Offline"),
    "never_seen": ("لم يتصل بعد", "Not seen yet"),
    "printer": ("الطابعة", "Printer"),
    "camera": ("الكاميرا", "Camera"),
    "disk": ("القرص", "Disk"),
    "last_seen": ("آخر ظهور", "Last seen"),
    "no_devices": ("لا أجهزة مقترنة.", "No paired devices."),
    "role_kiosk": ("كشك", "Kiosk"), "role_counter": ("شباك", "Counter"),
    "role_board": ("شاشة النداء", "Board"), "role_hub": ("الخادم", "Hub"),
    "role_agent": ("وكيل المزامنة", "Sync agent"),
    "printer_ok": ("جاهزة", "Ready"), "printer_paper_low": ("الورق يوشك أن ينفد", "Paper low"),
    "printer_paper_out": ("نفد الورق", "Paper out"),
    "printer_cover_open": ("الغطاء مفتوح", "Cover open"),
    "printer_offline": ("غير متصلة", "Offline"), "printer_unknown": ("غير معروف", "Unknown"),
    "printer_none": ("—", "—"),
    "camera_ok": ("تعمل", "Working"), "camera_missing": ("غير موجودة", "Missing"),
    "camera_error": ("خطأ", "Error"), "camera_unknown": ("غير معروف", "Unknown"),
    "camera_none": ("—", "—"),
    "disk_ok": ("جيد ({mb} م.ب متاحة)", "OK ({mb} MB free)"),
    "disk_low": ("يوشك أن يمتلئ ({mb} م.ب)", "Nearly full ({mb} MB)"),
    "disk_full": ("ممتلئ", "Full"),
    "disk_unknown": ("—", "—"),
    "sync": ("المزامنة مع المركز الرئيسي", "Sync with central"),
    "backlog": ("بانتظار الإرسال", "Waiting to send"),
    "oldest": ("أقدمها منذ", "Oldest for"),
    "last_success": ("آخر مزامنة ناجحة", "Last successful sync"),
    "last_error": ("آخر خطأ", "Last error"),
    "sync_online": ("متصل", "Connected"), "sync_offline": ("غير متصل", "Not connected"),
    "sync_never": ("لم تتم مزامنة بعد", "Never synced"),
    "none": ("—", "—"),
    # reports
    "period": ("الفترة", "Period"),
    "kind_day": ("يوم", "Day"), "kind_week": ("أسبوع", "Week"), "kind_month": ("شهر", "Month"),
    "kind_range": ("فترة مختارة", "Chosen range"),
    "date": ("التاريخ", "Date"), "month": ("الشهر", "Month"),
    "from": ("من", "From"), "to": ("إلى", "To"),
    "all_services": ("كل الخدمات", "All services"),
    "show": ("اعرض", "Show"),
    "download": ("تنزيل", "Download"),
    "csv": ("CSV", "CSV"), "xlsx": ("Excel (XLSX)", "Excel (XLSX)"),
    "pdf": ("تقرير اليوم للطباعة (PDF)", "Printable day report (PDF)"),
    "report_of": ("التقرير من {from_} إلى {to} (عدد الأيام: {days})",
                  "Report from {from_} to {to} ({days} days)"),
    "visits": ("الزيارات", "Visits"),
    "tickets": ("التذاكر", "Tickets"), "served": ("خُدمت", "Served"),
    "no_show": ("لم يحضر", "No-show"), "cancelled": ("أُلغيت", "Cancelled"),
    "left": ("غادرت دون خدمة", "Left unserved"), "open": ("ما زالت مفتوحة", "Still open"),
    "wait_mean": ("متوسط الانتظار", "Mean wait"), "wait_median": ("وسيط الانتظار", "Median wait"),
    "wait_p90": ("المئين 90 للانتظار", "Wait, 90th percentile"),
    "service_mean": ("متوسط مدة الخدمة", "Mean service time"),
    "within_target": ("ضمن الهدف", "Within target"),
    "rating": ("التقييم", "Rating"),
    "by_service": ("حسب الخدمة", "By service"), "by_counter": ("حسب الشباك", "By counter"),
    "by_clerk": ("حسب الموظف", "By clerk"), "by_hour": ("حسب الساعة", "By hour"),
    "by_day": ("حسب اليوم", "By day"), "by_channel": ("حسب القناة", "By channel"),
    "by_method": ("حسب طريقة الدفع", "By method"),
    "hour": ("الساعة", "Hour"), "day": ("اليوم", "Day"), "channel": ("القناة", "Channel"),
    "channel_kiosk": ("الكشك", "Kiosk"), "channel_counter": ("الشباك", "Counter"),
    "channel_appointment": ("موعد", "Appointment"), "channel_network": ("شبكة المدفوعات",
                                                                        "Payment network"),
    "applications": ("الطلبات", "Applications"),
    "submitted": ("قُدّمت", "Submitted"), "approved": ("قُبلت", "Approved"),
    "rejected": ("رُفضت", "Rejected"), "withdrawn": ("سُحبت", "Withdrawn"),
    "pending": ("قيد النظر", "Pending"), "decision_mean": ("متوسط مدة القرار", "Mean time to decision"),
    "licences": ("الرخص", "Licences"), "issued": ("صدرت", "Issued"),
    "reprinted": ("أُعيدت طباعتها", "Reprinted"), "revoked": ("أُلغيت", "Revoked"),
    "revenue": ("الإيرادات", "Revenue"),
    "staff_time": ("وقت الموظفين", "Staff time"),
    "open_s": ("مفتوح", "Open"), "serving_s": ("يخدم", "Serving"),
    "break_s": ("استراحة", "Break"), "back_office_s": ("عمل مكتبي", "Back office"),
    "idle_s": ("متاح دون عمل", "Idle"),
    "charts": ("الرسوم البيانية", "Charts"),
    "chart_wait_by_hour": ("الانتظار حسب الساعة", "Waiting by hour"),
    "chart_volume_by_service": ("الحجم حسب الخدمة", "Volume by service"),
    "chart_trend": ("الاتجاه يومًا بيوم", "Trend, day by day"),
    "chart_trend_weeks": ("الاتجاه أسبوعًا بأسبوع", "Trend, week by week"),
    "nothing": ("لا بيانات في هذه الفترة.", "No data in this period."),
    "no_key": ("لم يُنادَ بعد", "Not called"),
    # report refusals
    "period_invalid": (("لا يمكن إعداد تقرير لهذه الفترة: يجب أن تأتي النهاية بعد البداية، "
                        "وألا تزيد الفترة على 366 يومًا."),
                       ("That period cannot be reported: the end must come after the start, "
                        "and a report covers at most 366 days.")),
    # core.kpis' reasons
    "backwards_range": ("لا يمكن إعداد التقرير: تاريخ النهاية قبل تاريخ البداية.",
                        "That period is backwards: the end date is before the start date."),
    "range_too_long": ("لا يمكن إعداد التقرير: الفترة أطول من 366 يومًا.",
                       "That period is too long: a report covers at most 366 days."),
    "not_a_date": ("التاريخ غير صحيح.", "That date is not valid."),
    "not_a_month": ("الشهر غير صحيح.", "That month is not valid."),
    "unknown_service": ("لا توجد خدمة بهذا الرمز في دليل الخدمات.",
                        "There is no such service in the catalogue."),
    "bad_kind": ("نوع الفترة غير معروف.", "Unknown kind of period."),
    "bad_format": ("صيغة الملف غير معروفة.", "Unknown file format."),
    "pdf_day_only": ("تقرير PDF للطباعة متاح ليوم واحد فقط.",
                     "The printable PDF is a day report: choose a single day."),
}
COUNTER_TOML = Path(__file__).resolve().parents[1] / "assets" / "translations" / "counter.toml"


def _reason_words() -> dict[str, tuple[str, str]]:
    """Why a clerk stepped away (core/counter_states.py REASONS), in the words the counter
    itself shows (assets/translations/counter.toml, [away]), as reason_<reason>."""
    away = tomllib.loads(COUNTER_TOML.read_text(encoding="utf-8"))["away"]
    return {f"reason_{r}": (away[r]["ar"], away[r]["en"]) for r in counter_states.REASONS}


WORDS.update(_reason_words())


def word(key: str, lang: str, **values) -> str:
    ar, en = WORDS[key]
    text = ar if lang == "ar" else en
    return text.format(**values) if values else text


# --- sessions ------------------------------------------------------------------------------
class ManagerSessions:
    """Signed-in supervisors, in this process only: a token's SHA-256 -> who, its CSRF token,
    when it started and when a person last used it (by the office's clock, so tests freeze
    it). A restarted hub signs everyone out, which a page of figures can afford."""

    def __init__(self, clock):
        self.clock = clock
        self._lock = threading.Lock()
        self._by_hash: dict[str, dict] = {}

    def _now(self) -> float:
        return self.clock.now().timestamp()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def start(self, username: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self._lock:
            self._by_hash[self._key(token)] = {"username": username, "csrf":
                                               secrets.token_urlsafe(32), "started": now,
                                               "used": now}
            while len(self._by_hash) > MAX_SESSIONS:
                self._by_hash.pop(next(iter(self._by_hash)))
        return token

    def get(self, token: str | None, touch: bool = True) -> dict | None:
        if not isinstance(token, str) or not token or len(token) > 100:
            return None
        now, key = self._now(), self._key(token)
        with self._lock:
            found = self._by_hash.get(key)
            if found is None:
                return None
            if now - found["used"] > IDLE_S or now - found["started"] > MAX_S:
                del self._by_hash[key]
                return None
            if touch:
                found["used"] = now
            return dict(found)

    def end(self, token: str | None) -> None:
        if isinstance(token, str):
            with self._lock:
                self._by_hash.pop(self._key(token), None)


class _SignInRefused(Exception):
    def __init__(self, key: str, status: int, **values):
        super().__init__(key)
        self.key, self.status, self.values = key, status, values


class _NotSignedIn(Exception):
    pass


# --- what the live view shows --------------------------------------------------------------
def live_view(office, takings: dict | None) -> dict:
    """The centre now: waiting per service with the alert past its target, the counters,
    the devices, the sync state and today's takings (from the day's report)."""
    store, catalog = office.store, office.catalog
    now = store.clock.now()
    waiting: dict[str, list[dict]] = {}
    for ticket in office.queue.list(("waiting",)):
        waiting.setdefault(ticket["service_code"], []).append(ticket)
    services = []
    for svc in catalog:
        tickets = waiting.get(svc.code, [])
        longest = max((int((now - dt.datetime.fromisoformat(t["created_at"])).total_seconds())
                       for t in tickets), default=0)
        target_s = svc.queue.target_wait_minutes * 60
        services.append({"code": svc.code, "prefix": svc.prefix, "name": vars(svc.name),
                         "waiting": len(tickets), "longest_s": longest, "target_s": target_s,
                         "alert": bool(tickets) and longest > target_s,
                         "next": tickets[0]["number"] if tickets else None})
    counters = office.counter_states.overview()
    return {"now": store.now(), "marker": office.queue.change_marker(),
            "services": services, "counters": counters, "devices": _devices(office),
            "sync": sync_state.status(store), "takings": takings}


def _devices(office) -> list[dict]:
    """Each paired device (and any other that sends heartbeats, the hub's own included) with
    whether it was heard from lately and its printer, camera and disk as it last reported."""
    limits = office.settings.health
    reports = {r["device"]: r for r in health.latest(office.store)}
    now = office.store.clock.now()
    out = []

    def row(name: str, role: str, last_seen: str | None) -> dict:
        seen = reports.get(name)
        heard = [t for t in (last_seen, seen and seen["received_at"]) if t]
        latest = max(heard) if heard else None
        silent = (now - dt.datetime.fromisoformat(latest)).total_seconds() if latest else None
        report = seen["report"] if seen else {}
        disk = "unknown"
        if report:
            free = report.get("disk_free_mb", 0)
            disk = "full" if report.get("disk_full") or free < limits.disk_refuse_mb else \
                "low" if free < limits.disk_low_mb else "ok"
        return {"name": name, "role": role, "last_seen": latest,
                "online": silent is not None and silent <= limits.silent_after_s,
                "printer": report.get("printer", "unknown" if not report else "none"),
                "camera": report.get("camera", "unknown" if not report else "none"),
                "disk": disk, "disk_free_mb": report.get("disk_free_mb")}

    for device in Devices(office).list():
        out.append(row(device["name"], device["role"], device["last_seen_at"]))
    paired = {d["name"] for d in out}
    for name, seen in sorted(reports.items()):
        if name not in paired:  # the hub itself, a field office's own box
            out.append(row(name, seen["role"], None))
    return out


# --- reports -------------------------------------------------------------------------------
def _date(text: str | None, field: str, reason: str = "not_a_date") -> dt.date:
    try:
        return dt.date.fromisoformat(str(text or ""))
    except ValueError:
        raise ValidationError(f"{field}: a date as YYYY-MM-DD", field=field,
                              reason=reason) from None


def report_query(params, today: dt.date, catalog) -> dict:
    """The report asked for by a query string, checked: {kind, date, month, from, to,
    service}. ValidationError (field, reason) for what cannot be reported."""
    kind = params.get("kind") or "day"
    if kind not in KINDS:
        raise ValidationError(f"kind: one of {', '.join(KINDS)}", field="kind",
                              reason="bad_kind")
    service = params.get("service") or None
    if service is not None:
        kpis.check_filters(services=[service[:64]], known_services=[s.code for s in catalog])
    q = {"kind": kind, "service": service, "date": params.get("date") or today.isoformat(),
         "month": params.get("month") or today.strftime("%Y-%m"),
         "from": params.get("from") or today.isoformat(),
         "to": params.get("to") or today.isoformat()}
    if kind in ("day", "week"):
        _date(q["date"], "date")
    elif kind == "month":
        _date(q["month"] + "-01", "month", "not_a_month")
    return q


def period_of(q: dict) -> kpis.Period:
    Period = kpis.Period
    if q["kind"] == "day":
        return Period.day(_date(q["date"], "date"))
    if q["kind"] == "week":
        return Period.week(_date(q["date"], "date"))
    if q["kind"] == "month":
        first = _date(q["month"] + "-01", "month", "not_a_month")
        return Period.month(first.year, first.month)
    return Period.parse(q["from"], q["to"])


def build_report(office, q: dict) -> dict:
    today = dt.date.fromisoformat(office.queue.today())
    return kpis.report(kpis.HubFacts(office.store), period_of(q),
                       services=[q["service"]] if q["service"] else None, today=today)


def _refusal_key(exc: NafithaError) -> str:
    reason = exc.details.get("reason") or exc.details.get("problem")
    if isinstance(reason, str) and reason in WORDS:
        return reason
    if exc.details.get("field") in ("from", "to"):
        return "period_invalid"
    if exc.details.get("field") == "service":
        return "unknown_service"
    return "not_a_date"


# --- formatting for the templates ------------------------------------------------------------
class Fmt:
    """Numbers, durations, money and times as the page's language and the office show them."""

    def __init__(self, office, lang: str):
        self.lang, self.digits = lang, office.settings.office.digits
        self.tz = office.settings.tz
        first = next(iter(office.catalog), None)  # the office's currency: its services'
        self.currency = first.currency if first else "BHD"

    def n(self, value) -> str:
        if value is None:
            return "—"
        text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
        return money.format_number(text, self.lang, self.digits)

    def minutes(self, seconds) -> str:
        """Whole minutes: "16 min" (a wait now, against its target)."""
        return word("minutes", self.lang, n=self.n(int(seconds or 0) // 60))

    def mins(self, seconds) -> str:
        """Minutes to one decimal, as the report's files show them: "4.5 min"."""
        if seconds is None:
            return "—"
        return word("minutes", self.lang, n=self.n(round(seconds / 60, 1) * 1.0))

    def age(self, seconds) -> str:
        """How long ago, roughly: "16 min", "3 h 5 min"."""
        if seconds is None:
            return "—"
        h, m = divmod(int(seconds) // 60, 60)
        return word("hours", self.lang, h=self.n(h), m=self.n(m)) if h else \
            word("minutes", self.lang, n=self.n(m))

    def share(self, value) -> str:
        if value is None:
            return "—"
        return money.format_number(f"{value * 100:.0f}", self.lang, self.digits) + (
            "٪" if self.lang == "ar" else "%")

    def money(self, minor, currency=None) -> str:
        return money.format_money(int(minor or 0), currency or self.currency, self.lang,
                                  self.digits)

    def time(self, iso_text) -> str:
        if not iso_text:
            return "—"
        local = dt.datetime.fromisoformat(iso_text).astimezone(self.tz)
        return money.format_digits(local.strftime("%H:%M"), self.lang, self.digits)

    def when(self, iso_text) -> str:
        if not iso_text:
            return "—"
        local = dt.datetime.fromisoformat(iso_text).astimezone(self.tz)
        return money.format_digits(local.strftime("%Y-%m-%d %H:%M"), self.lang, self.digits)

    def day(self, text) -> str:
        """A date (YYYY-MM-DD) kept left to right inside Arabic text (Unicode isolates)."""
        return "\u2066" + self.digits_of(text) + "\u2069" if text else "—"

    def digits_of(self, text) -> str:
        return money.format_digits(str(text), self.lang, self.digits)


# --- routes --------------------------------------------------------------------------------
def add_manager_routes(app: FastAPI, office) -> None:
    """/manager and its pages on `app` (the HTTPS listener's; board_only keeps them off the
    plain board port), and the shared chart scripts at /shared/."""
    sessions = ManagerSessions(office.store.clock)
    app.state.manager_sessions = sessions
    templates = Jinja2Templates(directory=str(MANAGER_DIR / "templates"))
    takings_cache: dict = {"at": -1e9, "value": None}
    cache_lock = threading.Lock()

    def language(request: Request) -> str:
        wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return wanted if wanted in LANGUAGES else "ar"

    def cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(name, value, httponly=True, secure=True, samesite="strict",
                            path="/manager", max_age=max_age)

    def render(request: Request, template: str, status_code: int = 200,
               person: dict | None = None, **context) -> HTMLResponse:
        lang = context.pop("lang", None) or language(request)
        other = "en" if lang == "ar" else "ar"
        o = office.settings.office
        base = {"lang": lang, "dir": "rtl" if lang == "ar" else "ltr", "other": other,
                "t": lambda key, **v: word(key, lang, **v), "f": Fmt(office, lang),
                "person": person, "csrf": person["csrf"] if person else "",
                "office_name": o.name_ar if lang == "ar" else o.name_en,
                "words": WORDS, "switch_url": request.url.path + "?" + urlencode(
                    [(k, v) for k, v in request.query_params.multi_items()
                     if k not in ("lang", "ended", "signed_out")] + [("lang", other)])}
        response = templates.TemplateResponse(request, template, {**base, **context},
                                               status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, samesite="strict", path="/manager",
                                secure=True, httponly=True, max_age=365 * 86400)
        return response

    def supervisor(request: Request) -> dict:
        """The signed-in supervisor, or _NotSignedIn; PermissionDenied when the account is no
        longer a supervisor's (or was disabled) since it signed in."""
        found = sessions.get(request.cookies.get(COOKIE),
                             touch=REFRESH_HEADER not in request.headers)
        if found is None:
            raise _NotSignedIn()
        if not office.users.is_active(found["username"], role="supervisor"):
            sessions.end(request.cookies.get(COOKIE))
            raise PermissionDenied("the manager's pages are for supervisors",
                                   reason="supervisor_required")
        return found

    def guarded(handler, api: bool = False):
        """Run a page's handler for a signed-in supervisor: a browser without a session goes
        to the sign-in page (an API caller gets 403), anyone else gets 403."""
        def run(request: Request):
            try:
                person = supervisor(request)
            except _NotSignedIn:
                if api or request.headers.get("authorization") or \
                        request.headers.get("x-clerk-session"):
                    # A device or a clerk's counter session: not a person at a browser.
                    return JSONResponse({"error": "permission_denied",
                                         "reason": "supervisor_required",
                                         "message": "sign in as a supervisor at /manager"},
                                        status_code=403)
                return RedirectResponse("/manager/sign-in?ended=1", status_code=303)
            except PermissionDenied as exc:
                if api:
                    return JSONResponse(exc.to_dict(), status_code=403)
                return sign_in_page(request, word("forbidden", language(request)), 403)
            return handler(request, person)
        return run

    def _pre_token(request: Request) -> str:
        return request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)

    # --- sign-in and out ---------------------------------------------------------------------
    def sign_in_page(request: Request, error: str = "", status_code: int = 200,
                     username: str = "", lang: str | None = None):
        pre = _pre_token(request)
        notice = ""
        if request.query_params.get("signed_out") == "1":
            notice = word("signed_out", lang or language(request))
        elif request.query_params.get("ended") == "1":
            notice = word("session_ended", lang or language(request))
        response = render(request, "sign_in.html", status_code, csrf=pre, error=error,
                          notice=notice, username=username, lang=lang)
        cookie(response, PRE_COOKIE, pre)
        return response

    @app.get("/manager/sign-in", include_in_schema=False)
    def sign_in_get(request: Request):
        return sign_in_page(request)

    @app.post("/manager/sign-in", include_in_schema=False)
    async def sign_in_post(request: Request):
        fields = await _form(request)
        lang = fields.get("lang") if fields.get("lang") in LANGUAGES else language(request)
        username = (fields.get("username") or "").strip().lower()[:32]
        try:
            if not _csrf_ok(fields.get("csrf"), request.cookies.get(PRE_COOKIE)):
                raise _SignInRefused("csrf", 403)
            token = await _run(sign_in, request, username, fields.get("pin") or "")
        except _SignInRefused as exc:
            digits = Fmt(office, lang).digits_of
            values = {k: digits(v) for k, v in exc.values.items()}
            return sign_in_page(request, word(exc.key, lang, **values), exc.status,
                                username, lang)
        response = RedirectResponse("/manager", status_code=303)
        cookie(response, COOKIE, token)
        response.delete_cookie(PRE_COOKIE, path="/manager")
        return response

    def sign_in(request: Request, username: str, pin: str) -> str:
        if not username or not pin:
            raise _SignInRefused("required", 422)
        source = f"web:{request.client.host if request.client else 'unknown'}"
        try:
            with PinGuard.at(source):
                office.users.authenticate(username, pin, role="supervisor")
        except PermissionDenied as exc:
            d = exc.details
            reason = d.get("reason") if d.get("reason") in WORDS else "wrong_pin"
            until = d.get("locked_until")
            values = {"attempts_left": d.get("attempts_left", 0),
                      "until": _local_hm(office, until) if until else "",
                      "retry_after_s": d.get("retry_after_s", "")}
            # No user name in the log: it may be anything a person typed.
            log.info("manager sign-in refused from %s: %s", source, reason)
            raise _SignInRefused(reason, 429 if reason == "throttled" else 403,
                                 **values) from None
        return sessions.start(username)

    @app.post("/manager/sign-out", include_in_schema=False)
    async def sign_out(request: Request):
        fields = await _form(request)
        found = sessions.get(request.cookies.get(COOKIE), touch=False)
        if found is not None and not _csrf_ok(fields.get("csrf"), found["csrf"]):
            return sign_in_page(request, word("csrf", language(request)), 403)
        sessions.end(request.cookies.get(COOKIE))
        response = RedirectResponse("/manager/sign-in?signed_out=1", status_code=303)
        response.delete_cookie(COOKIE, path="/manager")
        return response

    # --- the live view -----------------------------------------------------------------------
    def takings_today() -> dict | None:
        """Today's revenue from the day's report (one owner of every figure), read at most
        every REPORT_CACHE_S whatever the number of open pages."""
        with cache_lock:
            if time.monotonic() - takings_cache["at"] < REPORT_CACHE_S:
                return takings_cache["value"]
        value = build_report(office, {"kind": "day", "service": None,
                                      "date": office.queue.today()})["revenue"]
        with cache_lock:
            takings_cache.update(at=time.monotonic(), value=value)
        return value

    def live_page(request: Request, person: dict):
        view = live_view(office, takings_today())
        return render(request, "live.html", person=person, view=view, section="live")

    def live_fragment(request: Request, person: dict):
        view = live_view(office, takings_today())
        return render(request, "_live.html", person=person, view=view)

    def live_json(request: Request, person: dict):
        return JSONResponse(live_view(office, takings_today()),
                            headers={"Cache-Control": "no-store"})

    app.add_api_route("/manager", guarded(live_page), methods=["GET"],
                      include_in_schema=False)
    app.add_api_route("/manager/live", guarded(live_fragment), methods=["GET"],
                      include_in_schema=False)
    app.add_api_route("/manager/api/live", guarded(live_json, api=True),
                      methods=["GET"], include_in_schema=False)

    # --- reports -----------------------------------------------------------------------------
    def today() -> dt.date:
        return dt.date.fromisoformat(office.queue.today())

    def reports_page(request: Request, person: dict):
        lang = language(request)
        params = request.query_params
        try:
            q = report_query(params, today(), office.catalog)
            report = build_report(office, q)
        except (ValidationError, NotFound) as exc:
            q = {"kind": params.get("kind") if params.get("kind") in KINDS else "day",
                 "service": None, "date": params.get("date") or "",
                 "month": params.get("month") or "", "from": params.get("from") or "",
                 "to": params.get("to") or ""}
            return render(request, "reports.html", 422, person=person,
                          error=word(_refusal_key(exc), lang), q=q, report=None,
                          section="reports", services=list(office.catalog))
        names = office.report_labels()["service"]
        downloads = {fmt: "/manager/reports/file." + fmt + "?" + urlencode(
            {k: v for k, v in q.items() if v}) for fmt in FORMATS
            if fmt != "pdf" or q["kind"] == "day"}
        return render(request, "reports.html", person=person, q=q, report=report,
                      section="reports", services=list(office.catalog), names=names,
                      downloads=downloads, chart_data={
                          "report": report, "labels": office.report_labels(), "lang": lang})

    def report_api(request: Request, person: dict):
        try:
            q = report_query(request.query_params, today(), office.catalog)
            return JSONResponse(build_report(office, q), headers={"Cache-Control": "no-store"})
        except (ValidationError, NotFound) as exc:
            return JSONResponse(exc.to_dict(), status_code=422)

    def report_file(request: Request, person: dict):
        fmt = request.path_params["fmt"]
        lang = language(request)
        try:
            if fmt not in FORMATS:
                raise ValidationError("format: csv, xlsx or pdf", field="format",
                                      reason="bad_format")
            q = report_query(request.query_params, today(), office.catalog)
            if fmt == "pdf" and q["kind"] != "day":
                raise ValidationError("the printable PDF is a day report", field="kind",
                                      reason="pdf_day_only")
            report = build_report(office, q)
        except (ValidationError, NotFound) as exc:
            return JSONResponse({**exc.to_dict(), "words": word(_refusal_key(exc), lang)},
                                status_code=422)
        make = {"csv": report_csv, "xlsx": report_xlsx, "pdf": day_report_pdf}[fmt]
        body = make(report, office.report_labels(), lang)
        period = report["period"]
        stem = f"nafitha-{office.settings.office.code}-{period['from']}" + (
            "" if period["from"] == period["to"] else f"-{period['to']}")
        return Response(body, media_type=FORMATS[fmt], headers={
            "Content-Disposition": f'attachment; filename="{stem}.{fmt}"',
            "Cache-Control": "no-store"})

    app.add_api_route("/manager/reports", guarded(reports_page), methods=["GET"],
                      include_in_schema=False)
    app.add_api_route("/manager/api/report", guarded(report_api, api=True),
                      methods=["GET"], include_in_schema=False)
    app.add_api_route("/manager/reports/file.{fmt}", guarded(report_file),
                      methods=["GET"], include_in_schema=False)

    # --- static files: the pages' own, the fonts, the shared chart scripts ---------------------
    app.mount("/manager/static", StaticFiles(directory=MANAGER_DIR / "static"),
              name="manager-static")

    @app.get("/manager/fonts/{name}", include_in_schema=False)
    def font(name: str):
        if name not in FONTS or not (FONT_DIR / name).is_file():
            raise NotFound("no such font")
        return FileResponse(FONT_DIR / name, media_type="font/ttf",
                            headers={"Cache-Control": "public, max-age=86400"})

    # Chart.js and the one chart script the console uses too (core/report_files.py).
    app.mount("/shared", StaticFiles(directory=SHARED_WEB_DIR), name="shared")


async def _form(request: Request) -> dict:
    data = await request.form()
    return {k: v for k, v in data.items() if isinstance(v, str)}


def _csrf_ok(sent, expected) -> bool:
    return isinstance(sent, str) and isinstance(expected, str) and bool(expected) and \
        secrets.compare_digest(sent, expected)


async def _run(fn, *args):
    from fastapi.concurrency import run_in_threadpool
    return await run_in_threadpool(fn, *args)


def _local_hm(office, iso_text: str) -> str:
    local = dt.datetime.fromisoformat(iso_text).astimezone(office.settings.tz)
    return local.strftime("%H:%M")
