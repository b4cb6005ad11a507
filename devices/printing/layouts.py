"""What each printed document says and in what order: a small document model, written once.

A layout turns a document's data dict (devices/printing/documents.py builds them from the
store) into a list of blocks; render.py draws the blocks at the printer's dot width, so the
58 mm and the 80 mm printer print the same layout. Blocks say *start* and *end*, never left
and right: in an Arabic document the start is the right-hand side (labels on the right, values
on the left), in an English one the left.

Every string a resident reads comes from LABELS (Arabic and English), or from the data.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ValidationError
from core.money import format_amount
from core.payments import METHODS
from core.queue import PRIORITIES
from core.text import LANGUAGES

KINDS = ("ticket", "receipt", "licence", "application", "z_report")


# --- blocks -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Title:
    """Centred heading: the first line large and bold, the others (usually the same words in
    the other language) smaller below it."""
    lines: tuple[str, ...]
    size: str = "title"


@dataclass(frozen=True)
class Text:
    """A paragraph, wrapped by words. align: start | center | end."""
    text: str
    size: str = "body"
    bold: bool = False
    align: str = "start"


@dataclass(frozen=True)
class Row:
    """Label at the start, value at the end of the line. A long label wraps beside the value;
    a value too long for the line goes on its own lines under the label."""
    label: str
    value: str
    size: str = "body"
    bold: bool = False


@dataclass(frozen=True)
class BigNumber:
    """The ticket number: as large as the paper allows (up to a cap), centred."""
    text: str


@dataclass(frozen=True)
class Banner:
    """White text on a black band across the paper: VOID, COPY, priority."""
    text: str
    size: str = "large"


@dataclass(frozen=True)
class Rule:
    style: str = "solid"  # solid | dashed | double


@dataclass(frozen=True)
class Spacer:
    dots: int


@dataclass(frozen=True)
class QR:
    """A QR code at a whole number of dots per module (4 or more) with a 4-module quiet zone.

    max_dots caps its size (a short ticket code need not be 7 cm wide); None = as large as
    the paper allows. summary lines go beside the code when the paper leaves room for them
    (80 mm), otherwise under it; caption lines always go under it."""
    text: str
    summary: tuple[str, ...] = ()
    caption: tuple[str, ...] = ()
    max_dots: int | None = None


@dataclass(frozen=True)
class Picture:
    """An image file (the municipality's emblem) centred, at most max_dots tall (and a
    little space under it), drawn in greys and cut to black and white with the text. A file that cannot be read is left out
    (the document still prints; render.py logs it): the settings check refuses a wrong path
    at start, so only a file spoiled since then meets this."""
    path: str
    max_dots: int


Block = Title | Text | Row | BigNumber | Banner | Rule | Spacer | QR | Picture


# --- words --------------------------------------------------------------------------------------

LABELS: dict[str, dict[str, str]] = {
    # ticket
    "your_number": {"ar": "رقم الدور", "en": "Your number"},
    "taken_at": {"ar": "وقت الإصدار", "en": "Issued at"},
    "people_ahead": {"ar": "عدد المنتظرين قبلك", "en": "People ahead of you"},
    "estimated_wait": {"ar": "الانتظار المتوقع", "en": "Estimated wait"},
    "minutes_about": {"ar": "حوالي {n} دقيقة", "en": "~{n} min"},
    "minutes_about_few": {"ar": "حوالي {n} دقائق", "en": "~{n} min"},
    "under_a_minute": {"ar": "أقل من دقيقة", "en": "under a minute"},
    "priority": {"ar": "أولوية: {who}", "en": "Priority: {who}"},
    "priority_elderly": {"ar": "كبار السن", "en": "elderly"},
    "priority_disabled": {"ar": "ذوي الإعاقة", "en": "person with disability"},
    "priority_pregnant": {"ar": "الحوامل", "en": "expectant mother"},
    "ticket_wait": {"ar": "يرجى الانتظار حتى يظهر رقمك على الشاشة",
                    "en": "Please wait until your number is shown on the screen"},
    "ticket_scan": {"ar": "امسح الرمز لمتابعة دورك", "en": "Scan to follow your turn"},
    # with a follow link (core/follow.py): the phone's code, and the counter's
    "ticket_follow": {"ar": "تابع دورك على هاتفك", "en": "Follow your turn on your phone"},
    "ticket_code": {"ar": "رمز التذكرة للموظف", "en": "Ticket code for the counter"},
    # receipt
    "receipt_title": {"ar": "إيصال دفع", "en": "Payment receipt"},
    "receipt_number": {"ar": "رقم الإيصال", "en": "Receipt no."},
    "application_number": {"ar": "رقم الطلب", "en": "Application no."},
    "date": {"ar": "التاريخ", "en": "Date"},
    "clerk": {"ar": "الموظف", "en": "Clerk"},
    "name": {"ar": "الاسم", "en": "Name"},
    "national_id": {"ar": "الرقم الشخصي", "en": "CPR no."},
    "total": {"ar": "الإجمالي", "en": "Total"},
    "paid_by": {"ar": "طريقة الدفع", "en": "Paid by"},
    "method_cash": {"ar": "نقداً", "en": "Cash"},
    "method_card": {"ar": "بطاقة", "en": "Card"},
    "method_online": {"ar": "دفع إلكتروني", "en": "Online"},
    "tendered": {"ar": "المبلغ المستلم", "en": "Tendered"},
    "change": {"ar": "الباقي", "en": "Change"},
    "reference": {"ar": "المرجع", "en": "Reference"},
    "void": {"ar": "ملغى", "en": "VOID"},
    "void_note": {"ar": "هذا الإيصال ملغى ولا يُعتد به", "en": "This receipt has been voided"},
    "receipt_scan": {"ar": "امسح الرمز لمتابعة طلبك", "en": "Scan to follow your application"},
    "thanks": {"ar": "شكراً لكم", "en": "Thank you"},
    "receipt_review": {"ar": "سنقوم بمراجعة طلبك، احتفظ بهذا الإيصال لمتابعته",
                       "en": "We will review your application; keep this receipt to follow it"},
    # application slip
    "application_title": {"ar": "تم استلام الطلب", "en": "Application received"},
    "submitted_at": {"ar": "تاريخ التقديم", "en": "Submitted"},
    "fee": {"ar": "الرسوم", "en": "Fee"},
    "payment": {"ar": "الدفع", "en": "Payment"},
    "paid": {"ar": "مدفوع", "en": "Paid"},
    "pay_at_counter": {"ar": "يدفع عند الموظف", "en": "To be paid at the counter"},
    "next_review": {"ar": "سنقوم بمراجعة طلبك، احتفظ بهذا الإيصال لمتابعته",
                    "en": "We will review your application; keep this slip to follow it"},
    "next_pay": {"ar": "ادفع الرسوم عند الموظف لاستلام شهادتك",
                 "en": "Pay at the counter to receive your certificate"},
    "next_approved_pay": {"ar": "تمت الموافقة على طلبك، ادفع الرسوم عند الموظف لاستلام وثيقتك",
                          "en": "Your application is approved; pay at the counter to receive "
                                "your document"},
    "next_collect": {"ar": "تمت الموافقة على طلبك، استلم وثيقتك من الموظف",
                     "en": "Your application is approved; collect your document at the "
                           "counter"},
    "next_issued": {"ar": "صدرت وثيقتك", "en": "Your document has been issued"},
    "documents_to_bring": {"ar": "المستندات المطلوب إحضارها", "en": "Documents to bring"},
    "application_scan": {"ar": "امسح الرمز في الكشك أو عند الموظف لمتابعة طلبك",
                         "en": "Scan at the kiosk or counter to follow your application"},
    # the bill on an unpaid application's slip (core/bills.py)
    "bill_title": {"ar": "أو ادفع لاحقاً عبر نظام المدفوعات الوطني",
                   "en": "Or pay later through the national payment system"},
    "bill_number": {"ar": "رقم الفاتورة", "en": "Bill no."},
    "bill_amount": {"ar": "المبلغ", "en": "Amount"},
    "bill_due": {"ar": "آخر موعد للدفع", "en": "Pay by"},
    "bill_scan": {"ar": "امسح الرمز في تطبيق البنك أو أدخل رقم الفاتورة",
                  "en": "Scan in your bank app or enter the bill number"},
    # licence
    "document_number": {"ar": "رقم الوثيقة", "en": "Document no."},
    "address": {"ar": "العنوان", "en": "Address"},
    "building": {"ar": "مبنى", "en": "Building"},
    "road": {"ar": "طريق", "en": "Road"},
    "block": {"ar": "مجمع", "en": "Block"},
    "parcel": {"ar": "العقار", "en": "Parcel"},
    "issued_at": {"ar": "تاريخ الإصدار", "en": "Issued"},
    "valid_until": {"ar": "صالحة حتى", "en": "Valid until"},
    "conditions": {"ar": "الشروط", "en": "Conditions"},
    "copy": {"ar": "نسخة", "en": "COPY"},
    "copy_note": {"ar": "نسخة مطبوعة من الوثيقة الأصلية", "en": "Reprinted copy of the original"},
    "reprint": {"ar": "إعادة الطباعة رقم {n}", "en": "Reprint no. {n}"},
    "verify_scan": {"ar": "امسح الرمز للتحقق من صحة الوثيقة",
                    "en": "Scan the code to check this document is genuine"},
    "verify_at": {"ar": "أو تحقق منها على", "en": "or check it at"},
    "pdf_genuine": {"ar": "تثبت صحة هذه الوثيقة برمز QR المطبوع عليها، لا بختم أو توقيع",
                    "en": "This document is proved genuine by its QR code, not by a stamp or "
                          "signature"},
    # z report
    "z_title": {"ar": "تقرير إقفال الوردية (Z)", "en": "Z report: shift close"},
    "shift": {"ar": "الوردية", "en": "Shift"},
    "opened_at": {"ar": "بداية الوردية", "en": "Opened"},
    "closed_at": {"ar": "نهاية الوردية", "en": "Closed"},
    "still_open": {"ar": "ما زالت مفتوحة", "en": "still open"},
    "float": {"ar": "رصيد الافتتاح", "en": "Opening float"},
    "by_method": {"ar": "المدفوعات حسب الطريقة", "en": "Payments by method"},
    "payments": {"ar": "عدد المدفوعات", "en": "Payments"},
    "voided": {"ar": "الملغاة", "en": "Voided"},
    "expected_cash": {"ar": "النقد المتوقع في الدرج", "en": "Expected cash in drawer"},
    "counted": {"ar": "النقد المعدود", "en": "Counted cash"},
    "not_counted": {"ar": "لم يُعد بعد", "en": "not counted"},
    "difference": {"ar": "الفرق", "en": "Difference"},
    "receipts": {"ar": "الإيصالات", "en": "Receipts"},
    "none": {"ar": "لا يوجد", "en": "none"},
    "clerk_signature": {"ar": "توقيع الموظف", "en": "Clerk signature"},
    "supervisor_signature": {"ar": "توقيع المشرف", "en": "Supervisor signature"},
}

NEXT_STEPS = ("review", "pay", "approved_pay", "collect", "issued")  # the slip's next_{step}
# The parts of core.licences.ADDRESS_PARTS in the order a Bahraini address is read.
ADDRESS_READING_ORDER = ("building", "road", "block", "parcel")


def label(key: str, lang: str, **values) -> str:
    text = LABELS[key][lang]
    return text.format(**values) if values else text


# --- value formatting -------------------------------------------------------------------------

LRM = "\u200e"


def ltr(value: str) -> str:
    """A code, number or date that keeps its left-to-right order inside Arabic text. Without
    the marks the bidi algorithm shows '02-1234' after Arabic words as '1234-02' (European
    digits after Arabic letters count as Arabic numbers). Text with Arabic letters of its own
    is returned as it is."""
    text = str(value)
    if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        return text
    return f"{LRM}{text}{LRM}"


def local_time(value: str, tz: ZoneInfo, key: str) -> str:
    """ISO-8601 with an offset -> 'YYYY-MM-DD HH:MM' in the office time zone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{key}: {value!r} is not an ISO-8601 time")
    else:
        raise ValueError(f"{key}: expected an ISO-8601 time, got {value!r}")
    if moment.tzinfo is None:
        raise ValueError(f"{key}: {value!r} has no UTC offset")
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


MONTHS = {"ar": ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس",
                  "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"),
          "en": ("January", "February", "March", "April", "May", "June", "July", "August",
                 "September", "October", "November", "December")}


def long_date(value, tz: ZoneInfo, key: str, lang: str) -> str:
    """ISO-8601 with an offset -> the day it is in the office's zone, as people write it:
    '5 December 2027', '5 ديسمبر 2027' (month names, not a numeric date a reader of another
    country takes for the 12th of May, and that bidi would reorder in Arabic)."""
    day = datetime.fromisoformat(local_time(value, tz, key)).date()
    return f"{day.day} {MONTHS[lang][day.month - 1]} {day.year}"


ID_POLICIES = ("masked", "full")  # core.settings.LICENCE_ID_POLICIES


def shown_national_id(value: str, policy: str) -> str:
    """The national ID as the office's policy shows it on a licence ([licence] national_id)."""
    if policy not in ID_POLICIES:
        raise ValueError(f"national_id_shown: expected one of {', '.join(ID_POLICIES)}, "
                         f"got {policy!r}")
    return mask_national_id(value) if policy == "masked" else str(value).strip()


def mask_national_id(value: str) -> str:
    """Only the last 3 digits show: '850101239' -> '******239'."""
    text = str(value).strip()
    if len(text) <= 3:
        return "*" * max(len(text), 3)
    return "*" * (len(text) - 3) + text[-3:]


def money(minor, currency: str, key: str) -> str:
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise ValueError(f"{key}: amounts are whole minor units, got {minor!r}")
    try:
        return format_amount(minor, currency)
    except ValidationError as exc:
        raise ValueError(f"currency: {exc}")


def signed_money(minor, currency: str, key: str) -> str:
    text = money(minor, currency, key)
    return f"+{text}" if minor > 0 else text


def minutes(n, lang: str) -> str:
    if n <= 0:
        return label("under_a_minute", lang)
    return label("minutes_about_few" if 3 <= n <= 10 else "minutes_about", lang, n=n)


# --- data checks ------------------------------------------------------------------------------

REQUIRED = {
    "ticket": ("office_ar", "office_en", "timezone", "number", "service_ar", "service_en",
               "taken_at", "people_ahead", "estimated_wait_minutes", "priority", "qr_text"),
    "receipt": ("office_ar", "office_en", "timezone", "receipt_number", "application_number",
                "service_ar", "service_en", "holder_name", "national_id", "items",
                "total_minor", "currency", "method", "tendered_minor", "change_minor",
                "reference", "taken_at", "clerk", "qr_text", "voided", "under_review"),
    "application": ("office_ar", "office_en", "timezone", "application_number", "service_ar",
                    "service_en", "submitted_at", "holder_name", "national_id", "fee_minor",
                    "currency", "paid", "paid_receipt", "next_step", "documents", "qr_text"),
    "licence": ("office_ar", "office_en", "timezone", "title_ar", "title_en", "number",
                "holder_name", "national_id", "address", "issued_at", "valid_until",
                "conditions", "qr_text", "copy", "reprint_count"),
    "z_report": ("office_ar", "office_en", "timezone", "shift", "clerk", "currency",
                 "opened_at", "closed_at", "float_minor", "by_method", "total_minor",
                 "payments", "voids", "expected_cash_minor", "counted_minor",
                 "difference_minor", "receipts"),
}


# Keys whose value may be None (the rest must have a value).
NULLABLE = {"priority", "tendered_minor", "change_minor", "reference", "closed_at",
            "conditions", "counted_minor", "difference_minor", "paid_receipt"}


def require(data, keys, where: str) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a dict, got {type(data).__name__}")
    for key in keys:
        if key not in data:
            raise ValueError(f"{where} data is missing the key {key!r}")
        if data[key] is None and key not in NULLABLE:
            raise ValueError(f"{where} data has no value for the key {key!r} (None)")


def _int(data: dict, key: str, where: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: {key!r} must be a whole number, got {value!r}")
    return value


def _zone(data: dict) -> ZoneInfo:
    try:
        return ZoneInfo(str(data["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: unknown time zone {data['timezone']!r}")


def _office(data: dict, lang: str) -> list[Block]:
    other = "en" if lang == "ar" else "ar"
    return [Title((str(data[f"office_{lang}"]), str(data[f"office_{other}"])), size="body")]


def _both(data: dict, stem: str, lang: str) -> tuple[str, str]:
    other = "en" if lang == "ar" else "ar"
    return str(data[f"{stem}_{lang}"]), str(data[f"{stem}_{other}"])


# --- the documents ----------------------------------------------------------------------------

def ticket(data: dict, lang: str) -> list[Block]:
    require(data, REQUIRED["ticket"], "ticket")
    tz = _zone(data)
    priority = data["priority"]
    if priority is not None and priority not in PRIORITIES:
        raise ValueError(f"priority: expected one of {', '.join(PRIORITIES)} or None, "
                         f"got {priority!r}")
    ahead = _int(data, "people_ahead", "ticket")
    wait = _int(data, "estimated_wait_minutes", "ticket")
    blocks: list[Block] = [*_office(data, lang), Rule("dashed"),
                           Text(label("your_number", lang), size="body", align="center"),
                           BigNumber(str(data["number"])),
                           Title(_both(data, "service", lang), size="large")]
    if priority:
        blocks += [Spacer(6), Banner(label("priority", lang,
                                           who=label(f"priority_{priority}", lang)),
                                     size="body")]
    blocks += [Rule("dashed"),
               Row(label("taken_at", lang), local_time(data["taken_at"], tz, "taken_at")),
               Row(label("people_ahead", lang), str(ahead), bold=True),
               Row(label("estimated_wait", lang), minutes(wait, lang), bold=True),
               Rule("dashed")]
    follow_url = data.get("follow_url")
    if follow_url:  # the office has a public address: a code for the resident's phone
        other = "en" if lang == "ar" else "ar"
        blocks += [QR(str(follow_url), caption=(label("ticket_follow", lang),
                                                label("ticket_follow", other)),
                      max_dots=200),
                   Spacer(8),
                   QR(str(data["qr_text"]), caption=(label("ticket_code", lang),),
                      max_dots=120)]
    else:
        blocks += [QR(str(data["qr_text"]), caption=(label("ticket_scan", lang),),
                      max_dots=200)]
    blocks += [Spacer(4), Text(label("ticket_wait", lang), size="small", align="center")]
    return blocks


def receipt(data: dict, lang: str) -> list[Block]:
    require(data, REQUIRED["receipt"], "receipt")
    tz = _zone(data)
    currency = str(data["currency"])
    method = data["method"]
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    items = data["items"]
    if not isinstance(items, list):
        raise ValueError(f"items: expected a list, got {items!r}")
    void = bool(data["voided"])
    void_banner = Banner(f"{label('void', lang)} / {label('void', 'en' if lang == 'ar' else 'ar')}",
                         size="title")
    blocks: list[Block] = []
    if void:
        blocks += [void_banner, Spacer(8)]
    blocks += [*_office(data, lang),
               Spacer(4),
               Title((label("receipt_title", lang), label("receipt_title",
                                                         "en" if lang == "ar" else "ar"))),
               Rule("dashed"),
               Row(label("receipt_number", lang), str(data["receipt_number"])),
               Row(label("application_number", lang), str(data["application_number"])),
               Row(label("date", lang), local_time(data["taken_at"], tz, "taken_at")),
               Row(label("clerk", lang), str(data["clerk"])),
               Rule("dashed"),
               Title(_both(data, "service", lang), size="large"),
               Row(label("name", lang), str(data["holder_name"])),
               Row(label("national_id", lang), mask_national_id(data["national_id"])),
               Rule("dashed")]
    for i, item in enumerate(items):
        require(item, ("label_ar", "label_en", "amount_minor"), f"receipt items[{i}]")
        blocks.append(Row(str(item[f"label_{lang}"]),
                          money(item["amount_minor"], currency, f"items[{i}].amount_minor")))
    blocks += [Rule("double"),
               Row(label("total", lang), money(data["total_minor"], currency, "total_minor"),
                   size="large", bold=True),
               Row(label("paid_by", lang), label(f"method_{method}", lang))]
    if data["tendered_minor"] is not None:
        blocks.append(Row(label("tendered", lang),
                          money(data["tendered_minor"], currency, "tendered_minor")))
    if data["change_minor"] is not None:
        blocks.append(Row(label("change", lang),
                          money(data["change_minor"], currency, "change_minor")))
    if data["reference"]:
        blocks.append(Row(label("reference", lang), str(data["reference"])))
    blocks += [Rule("dashed"),
               QR(str(data["qr_text"]), caption=(label("receipt_scan", lang),), max_dots=200)]
    if void:
        blocks += [Spacer(8), Text(label("void_note", lang), bold=True, align="center"),
                   Spacer(4), void_banner]
    else:
        if data["under_review"]:
            blocks += [Spacer(4), Text(label("receipt_review", lang), bold=True,
                                       align="center")]
        blocks += [Spacer(4), Text(label("thanks", lang), align="center")]
    return blocks


def application(data: dict, lang: str) -> list[Block]:
    """The application slip: received, not necessarily paid; what happens next."""
    require(data, REQUIRED["application"], "application")
    tz = _zone(data)
    other = "en" if lang == "ar" else "ar"
    currency = str(data["currency"])
    step = data["next_step"]
    if step not in NEXT_STEPS:
        raise ValueError(f"next_step: expected one of {', '.join(NEXT_STEPS)}, got {step!r}")
    documents = data["documents"]
    if not isinstance(documents, list):
        raise ValueError(f"documents: expected a list, got {documents!r}")
    paid = bool(data["paid"])
    blocks: list[Block] = [*_office(data, lang),
                           Spacer(4),
                           Title((label("application_title", lang),
                                  label("application_title", other))),
                           Rule("dashed"),
                           Text(label("application_number", lang), align="center"),
                           BigNumber(str(data["application_number"])),
                           Title(_both(data, "service", lang), size="large"),
                           Rule("dashed"),
                           Row(label("submitted_at", lang),
                               local_time(data["submitted_at"], tz, "submitted_at")),
                           Row(label("name", lang), str(data["holder_name"])),
                           Row(label("national_id", lang), mask_national_id(data["national_id"])),
                           Rule("dashed"),
                           Row(label("fee", lang), money(data["fee_minor"], currency,
                                                         "fee_minor"), size="large", bold=True),
                           Row(label("payment", lang),
                               label("paid" if paid else "pay_at_counter", lang), bold=True)]
    if paid and data["paid_receipt"]:
        blocks.append(Row(label("receipt_number", lang), str(data["paid_receipt"])))
    blocks += [Rule("dashed"),
               Text(label(f"next_{step}", lang), bold=True, align="center")]
    blocks += _bill(data.get("bill"), tz, lang)
    if documents:
        blocks += [Rule("dashed"), Text(label("documents_to_bring", lang), bold=True)]
        for i, document in enumerate(documents):
            require(document, LANGUAGES, f"application documents[{i}]")
            blocks.append(Text(f"• {document[lang]}"))
    blocks += [Rule("dashed"),
               QR(str(data["qr_text"]), caption=(label("application_scan", lang),),
                  max_dots=200),
               Spacer(4),
               Text(label("thanks", lang), align="center")]
    return blocks


BILL_KEYS = ("number", "amount_minor", "currency", "due_at")


def _bill(bill, tz: ZoneInfo, lang: str) -> list[Block]:
    """An unpaid application's bill (optional key `bill`): its number, amount and due date,
    and a QR of the bill number alone (what a bank app or an ATM scans)."""
    if bill is None:
        return []
    require(bill, BILL_KEYS, "application bill")
    number = str(bill["number"])
    return [Rule("dashed"),
            Text(label("bill_title", lang), bold=True, align="center"),
            Row(label("bill_number", lang), ltr(number), bold=True),
            Row(label("bill_amount", lang), money(bill["amount_minor"], str(bill["currency"]),
                                                  "bill amount_minor")),
            Row(label("bill_due", lang), ltr(local_time(bill["due_at"], tz, "bill due_at"))),
            QR(number, caption=(label("bill_scan", lang),), max_dots=200)]


def _address(address, lang: str) -> str:
    if not isinstance(address, dict):
        raise ValueError(f"address: expected a dict of parcel/block/road/building, "
                         f"got {address!r}")
    parts = [f"{label(part, lang)}\u00a0{ltr(address[part])}" for part in ADDRESS_READING_ORDER
             if address.get(part) not in (None, "")]
    return ("، " if lang == "ar" else ", ").join(parts) or label("none", lang)


LICENCE_EMBLEM_DOTS = 112  # 14 mm at 203 dpi: recognisable, and few bytes to send


def licence_paper(data: dict, lang: str) -> dict:
    """What a licence's paper says, worded for `lang`: the thermal layout below and the A4
    PDF (certificate_pdf.py) both take their words from here, so the two say the same.

    Beside REQUIRED["licence"], optional keys (core.documents.paper fills them from the
    [licence] settings): authority_ar/_en, emblem (a file path or None), national_id_shown
    (masked | full; default masked), verify_url. ValueError names a bad or missing key."""
    require(data, REQUIRED["licence"], "licence")
    tz = _zone(data)
    other = "en" if lang == "ar" else "ar"
    authority = tuple(str(data[f"authority_{code}"]).strip() for code in (lang, other)
                      if str(data.get(f"authority_{code}") or "").strip())
    conditions = str(data["conditions"] or "").strip()
    holder = str(data["holder_name"])
    number = str(data["number"])
    valid_until = long_date(data["valid_until"], tz, "valid_until", lang)
    return {
        "emblem": str(data["emblem"]) if data.get("emblem") else None,
        "authority": authority, "office": _both(data, "office", lang),
        "title": _both(data, "title", lang), "number": number, "holder": holder,
        "rows": ((label("document_number", lang), number),
                 (label("name", lang), holder),
                 (label("national_id", lang),
                  shown_national_id(data["national_id"],
                                    data.get("national_id_shown") or "masked")),
                 (label("address", lang), _address(data["address"], lang)),
                 (label("issued_at", lang), long_date(data["issued_at"], tz, "issued_at",
                                                      lang)),
                 (label("valid_until", lang), valid_until)),
        "conditions": tuple(line.strip() for line in conditions.splitlines() if line.strip()),
        "valid_until": valid_until, "qr_text": str(data["qr_text"]),
        "verify": (label("verify_scan", lang),
                   *((f"{label('verify_at', lang)} {ltr(data['verify_url'])}",)
                     if data.get("verify_url") else ())),
        "reprints": _int(data, "reprint_count", "licence"), "copy": bool(data["copy"])}


def licence(data: dict, lang: str) -> list[Block]:
    paper = licence_paper(data, lang)
    other = "en" if lang == "ar" else "ar"
    copy = paper["copy"]
    copy_banner = Banner(f"{label('copy', lang)} / {label('copy', other)}", size="title")
    blocks: list[Block] = []
    if copy:
        blocks += [copy_banner, Spacer(8)]
    if paper["emblem"]:
        blocks.append(Picture(paper["emblem"], LICENCE_EMBLEM_DOTS))
    if paper["authority"]:
        blocks.append(Title(paper["authority"], size="large"))
    blocks += [Title(paper["office"], size="body"),
               Spacer(4),
               Title(paper["title"]),
               Rule("solid")]
    bold = {label("document_number", lang), label("name", lang), label("valid_until", lang)}
    blocks += [Row(key, value, bold=key in bold) for key, value in paper["rows"]]
    if paper["conditions"]:
        blocks += [Rule("dashed"), Text(label("conditions", lang), bold=True)]
        blocks += [Text(line) for line in paper["conditions"]]
    blocks += [Rule("solid"),
               # The number is in the rows above, on one line: beside the code it would
               # be broken across two (a narrow column) or push the summary under the code.
               QR(paper["qr_text"],
                  summary=((label("name", lang), paper["holder"]),
                           (label("valid_until", lang), paper["valid_until"])),
                  caption=paper["verify"])]
    if paper["reprints"] > 0:
        blocks += [Spacer(4), Text(label("reprint", lang, n=paper["reprints"]), size="small",
                                   align="center")]
    if copy:
        blocks += [Spacer(4), Text(label("copy_note", lang), size="small", align="center"),
                   Spacer(6), copy_banner]
    return blocks


def z_report(data: dict, lang: str) -> list[Block]:
    require(data, REQUIRED["z_report"], "z_report")
    tz = _zone(data)
    currency = str(data["currency"])
    other = "en" if lang == "ar" else "ar"
    by_method = data["by_method"]
    require(by_method, METHODS, "z_report by_method")
    voids = data["voids"]
    require(voids, ("count", "total_minor"), "z_report voids")
    receipts = data["receipts"]
    if not isinstance(receipts, list):
        raise ValueError(f"receipts: expected a list, got {receipts!r}")
    closed = (local_time(data["closed_at"], tz, "closed_at") if data["closed_at"]
              else label("still_open", lang))
    blocks: list[Block] = [*_office(data, lang), Spacer(4),
                           Title((label("z_title", lang), label("z_title", other))),
                           Rule("dashed"),
                           Row(label("shift", lang), str(data["shift"]), bold=True),
                           Row(label("clerk", lang), str(data["clerk"])),
                           Row(label("opened_at", lang),
                               local_time(data["opened_at"], tz, "opened_at")),
                           Row(label("closed_at", lang), closed),
                           Rule("dashed"),
                           Row(label("float", lang), money(data["float_minor"], currency,
                                                           "float_minor")),
                           Text(label("by_method", lang), bold=True)]
    for method in METHODS:
        entry = by_method[method]
        require(entry, ("count", "total_minor"), f"z_report by_method[{method!r}]")
        blocks.append(Row(f"{label(f'method_{method}', lang)} ({entry['count']})",
                          money(entry["total_minor"], currency,
                                f"by_method.{method}.total_minor")))
    blocks += [Rule("double"),
               Row(f"{label('total', lang)} ({_int(data, 'payments', 'z_report')})",
                   money(data["total_minor"], currency, "total_minor"), size="large",
                   bold=True),
               Row(f"{label('voided', lang)} ({voids['count']})",
                   money(voids["total_minor"], currency, "voids.total_minor")),
               Rule("dashed"),
               Row(label("expected_cash", lang),
                   money(data["expected_cash_minor"], currency, "expected_cash_minor"),
                   bold=True),
               Row(label("counted", lang),
                   money(data["counted_minor"], currency, "counted_minor")
                   if data["counted_minor"] is not None else label("not_counted", lang)),
               Row(label("difference", lang),
                   signed_money(data["difference_minor"], currency, "difference_minor")
                   if data["difference_minor"] is not None else "-", bold=True),
               Rule("dashed"),
               Text(f"{label('receipts', lang)} ({len(receipts)})", bold=True),
               Text(", ".join(str(r) for r in receipts) if receipts else label("none", lang),
                    size="small"),
               Rule("dashed"),
               Spacer(24),
               Text(f"{label('clerk_signature', lang)}: ____________", size="small"),
               Spacer(24),
               Text(f"{label('supervisor_signature', lang)}: ____________", size="small")]
    return blocks


def _check_qr_text(blocks: list[Block]) -> list[Block]:
    for block in blocks:
        if isinstance(block, QR) and not block.text.strip():
            raise ValueError("qr_text: empty; every printed document carries its QR code")
    return blocks


BUILDERS = {"ticket": ticket, "receipt": receipt, "licence": licence,
            "application": application, "z_report": z_report}


def build(kind: str, data: dict, lang: str) -> list[Block]:
    """The blocks of one document. ValueError for an unknown kind or language, or data that
    lacks a key (the message names it)."""
    if kind not in BUILDERS:
        raise ValueError(f"unknown document kind {kind!r}; expected one of {', '.join(KINDS)}")
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return _check_qr_text(BUILDERS[kind](data, lang))
