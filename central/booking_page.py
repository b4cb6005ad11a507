"""The public booking page at /book (docs/appointments.md): no sign-in. Arabic first (right
to left), English by ?lang=en; server-rendered (Jinja2), no script.

    GET  /book                       choose the office's service and the day
    GET  /book?plan=MUH/<service>&day=2026-12-08
                                     that day's free slots and the national ID
    POST /book                       book: the reference in large type and its QR (inline SVG)

The form carries a CSRF token that must equal the one in its cookie (a double submit: a
page on another site can neither read the cookie nor set it, SameSite=Strict); bookings are
rate-limited per client address (the API's limit, shared). The national ID travels only in
the POST body and is never put in a URL, a log line or the page that answers."""
from __future__ import annotations

import hmac
import secrets
from pathlib import Path

import segno
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from .appointments import book, free_slots, plans
from .service import CentralError

HERE = Path(__file__).parent / "booking"
CSRF_COOKIE = "nafitha_book"
LANGS = ("ar", "en")
FORM_LIMIT = 2048  # a booking form is a few hundred bytes

WORDS = {
    "title": {"ar": "حجز موعد", "en": "Book an appointment"},
    "intro": {"ar": "احجز موعداً في مركز الخدمات، ثم سجّل حضورك عند الكشك برقم الحجز أو رمز "
                    "QR ورقم هويتك.",
              "en": "Book a time at a service centre, then check in at its kiosk with the "
                    "booking's reference or QR code and your national ID."},
    "plan": {"ar": "الخدمة والمركز", "en": "Service and centre"},
    "day": {"ar": "اليوم", "en": "Day"},
    "show_slots": {"ar": "عرض المواعيد", "en": "Show the times"},
    "slots": {"ar": "المواعيد المتاحة", "en": "Free times"},
    "free": {"ar": "متاح: {n}", "en": "{n} free"},
    "full": {"ar": "محجوز", "en": "Full"},
    "no_slots": {"ar": "لا توجد مواعيد متاحة في هذا اليوم. اختر يوماً آخر.",
                 "en": "No free times on this day. Please choose another day."},
    "national_id": {"ar": "رقم الهوية", "en": "National ID"},
    "book": {"ar": "احجز", "en": "Book"},
    "booked": {"ar": "تم الحجز", "en": "Booked"},
    "reference": {"ar": "رقم الحجز", "en": "Booking reference"},
    "when": {"ar": "الموعد", "en": "Time"},
    "keep": {"ar": "احتفظ برقم الحجز أو بصورة الرمز. عند وصولك امسح الرمز عند الكشك أو اكتب "
                   "رقم الحجز، ثم رقم هويتك. يمكنك الوصول قبل الموعد بـ 30 دقيقة، وحتى 15 "
                   "دقيقة بعد بدايته.",
             "en": "Keep the reference or a picture of the code. When you arrive, scan the code "
                   "at the kiosk or type the reference, then your national ID. You can check "
                   "in from 30 minutes before the time until 15 minutes after it starts."},
    "again": {"ar": "حجز موعد آخر", "en": "Book another appointment"},
    "other_lang": {"ar": "English", "en": "العربية"},
    "none": {"ar": "لا توجد خدمات تقبل الحجز الآن.", "en": "No service takes bookings now."},
    "error.csrf": {"ar": "انتهت صلاحية النموذج. أعد المحاولة.",
                   "en": "The form expired. Please try again."},
    "error.too_many": {"ar": "طلبات كثيرة من هذا العنوان. حاول بعد قليل.",
                       "en": "Too many requests from this address. Please try again shortly."},
    "error.slot_full": {"ar": "امتلأ هذا الموعد للتو. اختر موعداً آخر.",
                        "en": "This time has just filled up. Please choose another."},
    "error.already_booked": {"ar": "لديك موعد لهذه الخدمة في هذا اليوم.",
                             "en": "You already have an appointment for this service that day."},
    "error.slot_in_past": {"ar": "هذا الموعد مضى. اختر موعداً لاحقاً.",
                           "en": "This time has passed. Please choose a later one."},
    "error.too_far_ahead": {"ar": "هذا اليوم بعيد جداً؛ الحجز مفتوح لأيام قليلة قادمة.",
                            "en": "This day is too far ahead; bookings open a few days ahead."},
    "error.not_a_slot": {"ar": "هذا ليس موعداً متاحاً: خارج أوقات العمل.",
                         "en": "This is not a bookable time: outside the opening hours."},
    "error.invalid_national_id": {"ar": "رقم الهوية غير صحيح. تأكد منه.",
                                  "en": "This national ID is not valid. Please check it."},
    "error.choose": {"ar": "اختر الخدمة واليوم والموعد.",
                     "en": "Please choose the service, the day and a time."},
    "error.other": {"ar": "تعذر الحجز. تأكد من البيانات وأعد المحاولة.",
                    "en": "The booking could not be made. Check the details and try again."},
}


def words(lang: str) -> dict:
    return {k: v[lang] for k, v in WORDS.items()}


def _lang(request: Request, form: dict | None = None) -> str:
    lang = (form or {}).get("lang") or request.query_params.get("lang") or "ar"
    return lang if lang in LANGS else "ar"


def _plan_name(plan: dict, lang: str) -> str:
    name = (plan.get("name") or {}).get(lang) or plan["service_code"]
    return f"{name} · {plan['office']}"


def qr_svg(text: str) -> str:
    """The booking's QR as inline SVG: 4 modules of quiet zone, no style attribute (the
    Content-Security-Policy allows no inline style)."""
    return segno.make(text, error="m").svg_inline(scale=6, border=4, dark="#10263b",
                                                   light="#ffffff")


def add_booking_page(app: FastAPI, central, rate) -> None:
    templates = Jinja2Templates(directory=str(HERE / "templates"))

    def page(request: Request, lang: str, status: int = 200, token: str | None = None,
             **context) -> HTMLResponse:
        token = token or request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = templates.TemplateResponse(request, "book.html", {
            "w": words(lang), "lang": lang, "dir": "rtl" if lang == "ar" else "ltr",
            "other": "en" if lang == "ar" else "ar", "csrf": token, **context},
            status_code=status)
        response.headers["Cache-Control"] = "no-store"
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                            path="/book", secure=request.url.scheme == "https")
        return response

    @app.get("/book", include_in_schema=False)
    async def book_page(request: Request):
        lang = _lang(request)
        offered = await run_in_threadpool(plans, central)
        chosen = request.query_params.get("plan") or ""
        day = request.query_params.get("day") or ""
        slots, problem = None, None
        if chosen and day:
            office, _, service = chosen.partition("/")
            try:
                slots = await run_in_threadpool(free_slots, central, office, service, day)
            except CentralError as exc:
                problem = _problem(exc.code, lang)
        return page(request, lang, plans=[{"key": f"{p['office']}/{p['service_code']}",
                                           "name": _plan_name(p, lang)} for p in offered],
                    chosen=chosen, day=day, slots=_shown_slots(slots), problem=problem,
                    today=central.clock.now().date().isoformat())

    @app.post("/book", include_in_schema=False)
    async def book_submit(request: Request):
        body = await request.body()
        form = _form(body)
        lang = _lang(request, form)
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        if not cookie or not hmac.compare_digest(cookie, form.get("csrf", "")):
            return page(request, lang, 403, problem=words(lang)["error.csrf"], plans=[],
                        slots=None, token=secrets.token_urlsafe(24), expired=True)
        wait = rate.take(request.client.host if request.client else "unknown")
        if wait is not None:
            response = page(request, lang, 429, problem=words(lang)["error.too_many"],
                            plans=[], slots=None, expired=True)
            response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
            return response
        office, _, service = form.get("plan", "").partition("/")
        if not (office and service and form.get("slot")):
            return page(request, lang, 422, problem=words(lang)["error.choose"], plans=[],
                        slots=None, expired=True)
        try:
            booking = await run_in_threadpool(book, central, office, service, form["slot"],
                                              form.get("national_id", ""))
        except CentralError as exc:
            slots = None
            try:
                slots = await run_in_threadpool(free_slots, central, office, service,
                                                form["slot"][:10])
            except CentralError:
                pass
            return page(request, lang, exc.status, problem=_problem(exc.code, lang),
                        plans=[{"key": f"{office}/{service}", "name": f"{service} · {office}"}],
                        chosen=f"{office}/{service}", day=form["slot"][:10],
                        slots=_shown_slots(slots))
        return page(request, lang, booked=booking, qr=qr_svg(booking["qr"]),
                    when=booking["slot_start"][:16].replace("T", " "), plans=[], slots=None)

    @app.get("/book/book.css", include_in_schema=False)
    def book_css():
        return FileResponse(HERE / "book.css", media_type="text/css",
                            headers={"Cache-Control": "public, max-age=3600"})


def _form(body: bytes) -> dict:
    from urllib.parse import parse_qs
    if len(body) > FORM_LIMIT:
        return {}
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=12)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items()}


def _problem(code: str, lang: str = "ar") -> str:
    table = words(lang)
    return table.get(f"error.{code}", table["error.other"])


def _shown_slots(found: dict | None) -> list[dict] | None:
    if found is None:
        return None
    return [{"start": s["start"], "time": s["start"][11:16], "free": s["free"]}
            for s in found["slots"]]
