"""What a resident reads under a field they filled in wrongly, and how numbers are shown.

core refuses a bad value with a ValidationError whose English message is for logs and the
CLI; its `problem` detail (docs/input-policy.md, "Problem codes") and the parameters next to
it are what the kiosk phrases here, in Arabic or English. A problem this module does not know
gets a polite generic sentence: the developer's English message is never shown to a resident.

Arabic sentences use only characters the kiosk's Arabic fonts draw (ui/rtl.py): no Latin
letters, no "()", "/", "-" or "²" (square metres are written out). Numbers go through
`format_digits`, so with `office.digits = "arabic"` they read ٠-٩ in Arabic.

Pure Python: no Kivy, so it is testable and usable by any screen.
"""
from __future__ import annotations

import re
from decimal import Decimal

from core import money
# How numbers and amounts are shown lives in core.money (central's kiosk preview uses it too).
from core.money import CURRENCY_AR, DIGIT_SETTINGS, format_digits, format_money  # noqa: F401
from core.money import check_digits_setting as _check_setting
from core.money import format_number as _number
from core.text import LANGUAGES

UNIT_AR = {"m²": "متر مربع"}

GENERIC = {"en": "This value is not accepted. Please check it and try again.",
           "ar": "هذه القيمة غير مقبولة. يرجى التحقق منها والمحاولة مرة أخرى."}

# problem -> lang -> (sentence with the field's label, sentence without one).
# {label} is the field's label; the other {names} are filled in by _params below.
MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "required": {
        "en": ("Please fill in “{label}”.", "Please fill in this field."),
        "ar": ("يرجى تعبئة خانة {label}.", "يرجى تعبئة هذه الخانة."),
    },
    "too_short": {
        "en": ("“{label}” is too short: please enter at least {min_length} characters.",
               "This is too short: please enter at least {min_length} characters."),
        "ar": ("يرجى إكمال خانة {label}: يجب ألا يقل عدد الأحرف عن {min_length}.",
               "يرجى إكمال هذه الخانة: يجب ألا يقل عدد الأحرف عن {min_length}."),
    },
    "too_long": {
        "en": ("“{label}” is too long: please use at most {max_length} characters.",
               "This is too long: please use at most {max_length} characters."),
        "ar": ("يرجى الاختصار: يجب ألا يزيد عدد الأحرف في خانة {label} على {max_length}.",
               "يرجى الاختصار: يجب ألا يزيد عدد الأحرف في هذه الخانة على {max_length}."),
    },
    "control_character": {
        "en": ("“{label}” contains a line break or a hidden character. "
               "Please type it again on one line.",
               "This contains a line break or a hidden character. "
               "Please type it again on one line."),
        "ar": ("تحتوي خانة {label} على سطر جديد أو رمز مخفي. "
               "يرجى إعادة الكتابة في سطر واحد.",
               "تحتوي هذه الخانة على سطر جديد أو رمز مخفي. "
               "يرجى إعادة الكتابة في سطر واحد."),
    },
    "direction_control": {
        "en": ("“{label}” contains an invisible text-direction mark. "
               "Please clear it and type it again.",
               "This contains an invisible text-direction mark. "
               "Please clear it and type it again."),
        "ar": ("تحتوي خانة {label} على علامة اتجاه مخفية. يرجى المسح وإعادة الكتابة.",
               "تحتوي هذه الخانة على علامة اتجاه مخفية. يرجى المسح وإعادة الكتابة."),
    },
    "not_text": {
        "en": ("Please type “{label}” again.", "Please type this again."),
        "ar": ("القيمة في خانة {label} غير مقبولة. يرجى كتابتها من جديد.",
               "القيمة في هذه الخانة غير مقبولة. يرجى كتابتها من جديد."),
    },
    "not_number": {
        "en": ("Please enter “{label}” as a number, for example {example} or {example_decimal}.",
               "Please enter a number, for example {example} or {example_decimal}."),
        "ar": ("يرجى إدخال رقم في خانة {label}، مثل {example} أو {example_decimal}.",
               "يرجى إدخال رقم، مثل {example} أو {example_decimal}."),
    },
    "too_small": {
        "en": ("Please enter more than {limit} for “{label}”.",
               "Please enter more than {limit}."),
        "ar": ("يرجى إدخال قيمة أكبر من {limit} في خانة {label}.",
               "يرجى إدخال قيمة أكبر من {limit}."),
    },
    "too_large": {
        "en": ("For this service, “{label}” must be under {limit}.",
               "For this service, the value must be under {limit}."),
        "ar": ("في هذه الخدمة يجب أن تكون القيمة في خانة {label} أقل من {limit}.",
               "في هذه الخدمة يجب أن تكون القيمة أقل من {limit}."),
    },
    "not_phone": {
        "en": ("Please enter your phone number{shape_en}.",) * 2,
        "ar": ("يرجى إدخال رقم هاتف صحيح{shape_ar}.",) * 2,
    },
    "number_range": {
        "en": ("Please enter “{label}” as a number from {min} to {max}.",
               "Please enter a number from {min} to {max}."),
        "ar": ("يرجى إدخال رقم من {min} إلى {max} في خانة {label}.",
               "يرجى إدخال رقم من {min} إلى {max}."),
    },
    "building_format": {
        "en": ("Please enter the building number, for example {example} or {example}A.",) * 2,
        "ar": ("يرجى إدخال رقم المبنى من {min} إلى {max}، وقد يليه حرف إنجليزي واحد.",) * 2,
    },
    "national_id_format": {
        "en": ("Please enter your CPR number{shape_en}, as shown on your smart card.",) * 2,
        "ar": ("يرجى إدخال الرقم الشخصي{shape_ar} كما هو في البطاقة الذكية.",) * 2,
    },
    "national_id_check": {
        "en": ("This CPR number is not valid. "
               "Please check the number on your smart card and enter it again.",) * 2,
        "ar": ("الرقم الشخصي غير صحيح. "
               "يرجى التحقق من الرقم في البطاقة الذكية وإدخاله مرة أخرى.",) * 2,
    },
    "money_format": {
        "en": ("Please enter the amount like {example}, with at most {decimals} digits "
               "after the point.",) * 2,
        "ar": ("يرجى إدخال المبلغ مثل {example}، وبعد الفاصلة {decimals_ar} على الأكثر.",) * 2,
    },
    "amount_too_large": {
        "en": ("This amount is above the limit of {limit}. Please check it.",) * 2,
        "ar": ("هذا المبلغ أكبر من الحد المسموح به وهو {limit}. يرجى التحقق منه.",) * 2,
    },
    "choice": {
        "en": ("Please choose one of the options for “{label}”.",
               "Please choose one of the options shown."),
        "ar": ("يرجى اختيار أحد الخيارات في خانة {label}.",
               "يرجى اختيار أحد الخيارات المعروضة."),
    },
    "too_long_for_licence": {
        "en": ("“{label}” is too long to print on the licence. Please write a shorter form.",
               "This is too long to print on the licence. Please write a shorter form."),
        "ar": ("خانة {label} أطول من أن تطبع على الرخصة. يرجى كتابتها بصيغة أقصر.",
               "هذا النص أطول من أن يطبع على الرخصة. يرجى كتابته بصيغة أقصر."),
    },
    "unknown_field": {
        "en": ("This box is not part of this form. Please start the form again.",) * 2,
        "ar": ("هذه الخانة ليست من هذا النموذج. يرجى البدء من جديد.",) * 2,
    },
}


def field_error(error, field_label=None, lang: str = "en", *,
                digits_setting: str = "latin") -> str:
    """One short sentence for the resident about `error` (a core ValidationError), in `lang`.

    field_label: the field's core.catalog.Text (or None when the message sits right under
    the field and needs no name). digits_setting: settings.office.digits."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    _check_setting(digits_setting)
    details = getattr(error, "details", None) or {}
    templates = MESSAGES.get(details.get("problem"))
    if templates is None:
        return GENERIC[lang]
    label = field_label.get(lang).strip() if field_label is not None else ""
    with_label, without_label = templates[lang]
    try:
        params = _params(details, lang, digits_setting)
        return (with_label if label else without_label).format(label=label, **params)
    except (KeyError, IndexError, ValueError, TypeError, ArithmeticError):
        # A parameter is missing or odd: better a generic sentence than a crash on screen.
        return GENERIC[lang]


def field_hint(field_type: str, lang: str, *, national_id_pattern: str, phone_pattern: str,
               digits_setting: str = "latin") -> str:
    """What a national ID or phone field expects, said before anything is typed ("9 digits,
    as shown on your smart card"): the shape the error would name, read from the same
    settings' patterns; "" for other fields or a pattern of another shape."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    _check_setting(digits_setting)
    num = lambda value: _number(str(value), lang, digits_setting)  # noqa: E731
    if field_type == "national_id":
        m = _ID_PATTERN_RE.fullmatch(national_id_pattern or "")
        if not m:
            return ""
        n = int(m.group(1))
        return (f"{_en_count_digits(n, num(n))}, as shown on your smart card" if lang == "en"
                else f"{_ar_count_digits(n, num(n))} كما في البطاقة الذكية")
    if field_type == "phone":
        m = _PHONE_PATTERN_RE.search(phone_pattern or "")
        if not m:
            return ""
        n = 1 + int(m.group(2))
        starts = [num(d) for d in sorted(set(m.group(1)))]
        if lang == "en":
            return f"{_en_count_digits(n, num(n))}, starting with {_or_list(starts, 'en')}"
        first = ("بالرقم " if len(starts) == 1 else "بأحد الأرقام ") + _or_list(starts, "ar")
        return f"{_ar_count_digits(n, num(n))}، يبدأ {first}"
    return ""


def has_message(problem: str) -> bool:
    """True if `problem` has its own sentence in every language."""
    return problem in MESSAGES and all(lang in MESSAGES[problem] for lang in LANGUAGES)


# --- helpers ------------------------------------------------------------------------------

def _or_list(items: list[str], lang: str) -> str:
    if lang == "ar":
        return " أو ".join(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _ar_count_digits(n: int, shown: str) -> str:
    """Arabic counted noun: رقم واحد، رقمان، 3-10 أرقام، 11 رقما فأكثر."""
    if n == 1:
        return "رقم واحد"
    if n == 2:
        return "رقمين"
    return f"{shown} أرقام" if 3 <= n <= 10 else f"{shown} رقما"


def _en_count_digits(n: int, shown: str) -> str:
    return f"{shown} digit" if n == 1 else f"{shown} digits"


# The default patterns (core/settings.py) read as "9 digits" and "8 digits starting with
# 1, 3, 6, 7 or 9"; a pattern of another shape is described without details.
_ID_PATTERN_RE = re.compile(r"\^?(?:\[0-9\]|\\d)\{(\d+)\}\$?")
_PHONE_PATTERN_RE = re.compile(r"\[(\d+)\](?:\[0-9\]|\\d)\{(\d+)\}\$?")


def _params(details: dict, lang: str, digits: str) -> dict:
    """The template parameters for one error, numbers already in the right digits."""
    num = lambda value: _number(str(value), lang, digits)  # noqa: E731
    problem = details["problem"]
    p: dict[str, str] = {}
    for key in ("min_length", "max_length", "min", "max"):
        if key in details:
            p[key] = num(details[key])
    if problem == "not_number":
        p.update(example=num("45"), example_decimal=num("45.5"))
    elif problem == "building_format":
        p.update(example=num("123"), min=num("1"), max=num("9999"))
    elif problem in ("too_small", "too_large"):
        unit = details.get("unit") or ""
        if unit in money.CURRENCY_EXPONENT:
            minor = Decimal(details["limit"]) * 10 ** money.exponent(unit)
            p["limit"] = format_money(int(minor), unit, lang, digits)
        else:
            unit = UNIT_AR.get(unit, "") if lang == "ar" else unit
            p["limit"] = f"{num(details['limit'])} {unit}".strip()
    elif problem == "money_format":
        currency, decimals = details["currency"], int(details["decimals"])
        example = 12 * 10 ** decimals + (5 * 10 ** (decimals - 1) if decimals else 0)
        p["example"] = format_money(example, currency, lang, digits)
        p["decimals"] = num(decimals)
        p["decimals_ar"] = _ar_count_digits(decimals, num(decimals))
    elif problem == "amount_too_large":
        p["limit"] = format_money(int(details["limit_minor"]), details["currency"], lang,
                                  digits)
    elif problem == "national_id_format":
        m = _ID_PATTERN_RE.fullmatch(details.get("pattern") or "")
        n = int(m.group(1)) if m else 0
        p["shape_en"] = f": {_en_count_digits(n, num(n))}" if n else ""
        p["shape_ar"] = f" المكون من {_ar_count_digits(n, num(n))}" if n else ""
    elif problem == "not_phone":
        m = _PHONE_PATTERN_RE.search(details.get("pattern") or "")
        if m:
            n = 1 + int(m.group(2))
            starts = [num(d) for d in sorted(set(m.group(1)))]
            p["shape_en"] = (f": {_en_count_digits(n, num(n))}, starting with "
                             f"{_or_list(starts, 'en')}")
            first = ("بالرقم " if len(starts) == 1 else "بأحد الأرقام ") + _or_list(starts, "ar")
            p["shape_ar"] = f" من {_ar_count_digits(n, num(n))} يبدأ {first}"
        else:
            p["shape_en"] = p["shape_ar"] = ""
    return p


# --- refusals and faults: the words an error gets -------------------------------------------
# PermissionDenied reasons with a sentence of their own (error.<reason> in the app's words).
PERMISSION_REASONS = ("locked_now", "disabled", "role", "not_staff", "service_not_served",
                      "not_signed_in", "signed_out", "token_revoked", "token_wrong",
                      "token_missing")


def error_text(exc: BaseException | None, t, lang: str, digits_setting: str = "latin",
               when=lambda iso_text: iso_text) -> str:
    """A refusal or failure in the person's language, chosen by the error's class, `problem`
    and `reason` (never by its English message, which is for the log): t(key, **params)
    gives the app's words for "error.<key>", when(iso) a time as the app shows it."""
    from core.errors import HubUnreachable, NafithaError, NotFound, PermissionDenied, \
        ValidationError, is_disk_full

    if exc is None:
        return ""
    if isinstance(exc, ValidationError):
        if exc.problem == "required":
            return t("error.required")
        return field_error(exc, None, lang, digits_setting=digits_setting)
    if isinstance(exc, PermissionDenied):
        reason = exc.details.get("reason", "")
        if reason == "wrong_pin":
            return t("error.wrong_pin", n=exc.details.get("attempts_left", 0))
        if reason == "locked":
            return t("error.locked", time=when(exc.details["locked_until"])[-5:])
        if reason in PERMISSION_REASONS:
            return t(f"error.{reason}")
    if isinstance(exc, HubUnreachable):
        return t("error.hub_unreachable")
    if is_disk_full(exc):  # here or at the hub: nothing was saved, free space first
        return DOCUMENT_ERRORS["disk_full"][lang]
    if isinstance(exc, NotFound):
        if exc.details.get("other_office"):
            return t("error.other_office", office=exc.details["other_office"])
        if exc.details.get("field") == "username":
            return t("error.unknown_user")
        return t("error.not_found")
    if isinstance(exc, NafithaError):
        # A state the buttons should have prevented (another counter got there first):
        # the translated heading, and core's sentence, which names the numbers.
        return f"{t('error.invalid_state')}\n{exc.message}"
    return t("error.failed")


# --- a document's page or file refused: the kiosk's and the counter's words ------------------
# The error's `reason` (or its code) -> DOCUMENT_ERRORS key. Anything else is phrased by
# error_text like every other refusal.
PAGE_ERRORS = {
    # the camera and the document scanner (devices/documents, devices/scanning)
    "no_page_found": "no_page", "scanner_problem": "camera",
    "document_scanner_unavailable": "scanner", "document_scan_failed": "scan_failed",
    # a file refused by devices.documents.imports (ImportRefused reasons)
    "unreadable": "unreadable", "too_large": "too_large", "empty": "empty",
    "unsupported_type": "unsupported_type", "not_an_image": "not_an_image",
    "extension_lies": "extension_lies", "damaged": "damaged",
    "pdf_password": "pdf_password", "too_many_pages": "too_many_pages",
    "pdf_javascript": "pdf_javascript", "document_import_refused": "file_refused",
    # a page the office's store refuses (core.attachments)
    "page_too_large": "page_too_large", "application_too_large": "application_too_large",
    "disk_full": "disk_full", "document_not_asked": "not_asked",
}

DOCUMENT_ERRORS: dict[str, dict[str, str]] = {
    "no_page": {"ar": "لم يُعثر على صفحة: ضع الصفحة كاملة أمام الكاميرا.",
                "en": "No page found: hold the whole page in view."},
    "camera": {"ar": "الكاميرا لا تعطي صورة. تحقق من توصيلها.",
               "en": "The camera gives no picture. Check it is connected."},
    "scanner": {"ar": "الماسح الضوئي غير متاح. تحقق من توصيله وتشغيله.",
                "en": "The document scanner is not available. Check it is connected and on."},
    "scan_failed": {"ar": "لم يتم المسح. تأكد من وجود الصفحة في الماسح، ثم حاول مرة أخرى.",
                    "en": "The scan did not work. Check the page is in the scanner, "
                          "then try again."},
    "unreadable": {"ar": "لا يمكن فتح هذا الملف. لم يُستورد.",
                   "en": "This file cannot be opened. It was not imported."},
    "too_large": {"ar": "هذا الملف أكبر مما يُسمح به. لم يُستورد.",
                  "en": "This file is too large. It was not imported."},
    "empty": {"ar": "هذا الملف فارغ. لم يُستورد.",
              "en": "This file is empty. It was not imported."},
    "unsupported_type": {"ar": "لا تُستورد ملفات من هذا النوع. "
                               "استخدم صورة أو مستندا بصيغة بي دي إف.",
                         "en": "Files of this kind are not imported: use an image or a PDF."},
    "not_an_image": {"ar": "هذا الملف ليس صورة ولا مستندا مقروءا. لم يُستورد.",
                     "en": "This file is not an image or a readable PDF. It was not imported."},
    "extension_lies": {"ar": "محتوى هذا الملف لا يطابق امتداد اسمه. لم يُستورد.",
                       "en": "This file is not what its name says. It was not imported."},
    "damaged": {"ar": "هذا الملف تالف ولا يمكن قراءته. لم يُستورد.",
                "en": "This file is damaged and cannot be read. It was not imported."},
    "too_many_pages": {"ar": "في هذا الملف صفحات أكثر مما يُسمح به. قسّمه إلى ملفات أصغر.",
                       "en": "This file has too many pages. Split it into smaller files."},
    "pdf_javascript": {"ar": "في هذا الملف برنامج مدمج، فلا يُستورد حماية للجهاز.",
                       "en": "This PDF contains JavaScript, so it is refused."},
    "pdf_password": {"ar": "هذا الملف محمي بكلمة مرور. اطلب نسخة بلا كلمة مرور.",
                     "en": "This PDF is protected by a password. Ask for a copy without one."},
    "file_refused": {"ar": "لا يمكن استيراد هذا الملف.", "en": "This file cannot be imported."},
    "page_too_large": {"ar": "الصفحة أكبر من الحد المسموح به. أعد التقاطها.",
                       "en": "This page is too large to keep. Take it again."},
    "application_too_large": {"ar": "بلغت مستندات هذا الطلب الحجم الأقصى.",
                              "en": "This application's documents have reached their size "
                                    "limit."},
    "disk_full": {"ar": "لا مساحة كافية على الجهاز. لم يُحفظ شيء.",
                  "en": "The device's disk is full. Nothing was saved."},
    "not_asked": {"ar": "هذه الخدمة لا تطلب هذا المستند.",
                  "en": "This service does not ask for this document."},
}


def document_error(exc: BaseException | None, lang: str) -> str | None:
    """The words for a refused page or file (PAGE_ERRORS, chosen by the error's reason or
    code, never its message), in `lang`; None when `exc` is not one of those."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    details = getattr(exc, "details", None) or {}
    for code in (details.get("reason"), getattr(exc, "code", None)):
        if isinstance(code, str) and code in PAGE_ERRORS:
            return DOCUMENT_ERRORS[PAGE_ERRORS[code]][lang]
    return None


def fault_of(exc: BaseException) -> str:
    """What a resident is told when a step failed: "hub" (the centre's system cannot be
    reached: try again) or "store" (nothing was saved)."""
    from core.errors import HubUnreachable
    return "hub" if isinstance(exc, HubUnreachable) else "store"
