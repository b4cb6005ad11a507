"""Sample documents and the golden PNGs that test_render_golden.py compares against.

After a deliberate change to a layout or to the renderer, regenerate and LOOK at every file
(both languages, both widths) before committing them:

    .venv/bin/python tests/devices/printing/make_golden.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).resolve().parent / "golden"
VECTORS = ROOT / "tests" / "vectors" / "credentials.json"

OFFICE = {"office_ar": "بلدية المحرق - مركز خدمة المواطنين",
          "office_en": "Muharraq Municipality - Service Centre",
          "timezone": "Asia/Bahrain"}


def _vector(name: str) -> str:
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]
    return next(v["text"] for v in vectors if v["name"] == name)


def samples() -> dict[str, tuple[str, dict]]:
    """name -> (kind, data)"""
    ticket = {**OFFICE, "number": "R007", "service_ar": "شهادة إثبات سكن",
              "service_en": "Residence certificate", "taken_at": "2026-11-24T08:00:00.000+00:00",
              "people_ahead": 3, "estimated_wait_minutes": 12, "priority": "elderly",
              "qr_text": "NFT:MUH:01JDK5ZQ6W4N3T8X2B7C9D0EFG"}
    receipt = {**OFFICE, "receipt_number": "MUH-D01-R0000012",
               "application_number": "MUH-D01-A2026-000042",
               "service_ar": "شهادة إثبات سكن", "service_en": "Residence certificate",
               "holder_name": "فاطمة عبدالله الحداد", "national_id": "850101239",
               "items": [{"label_ar": "رسوم شهادة إثبات سكن",
                          "label_en": "Residence certificate fee", "amount_minor": 1000},
                         {"label_ar": "رسوم الطباعة", "label_en": "Printing fee",
                          "amount_minor": 500}],
               "total_minor": 1500, "currency": "BHD", "method": "cash",
               "tendered_minor": 5000, "change_minor": 3500, "reference": None,
               "taken_at": "2026-11-24T08:05:00.000+00:00", "clerk": "sara",
               "qr_text": "NFA:MUH:MUH-D01-A2026-000042", "voided": False,
               "under_review": False}
    voided = {**receipt, "method": "card", "tendered_minor": None, "change_minor": None,
              "reference": "AUTH 204518", "voided": True}
    receipt_review = {**receipt, "receipt_number": "MUH-D01-R0000013",
                      "application_number": "MUH-D01-A2026-000043",
                      "service_ar": "رخصة بناء أقل من 50 م²",
                      "service_en": "Building permit under 50 m²",
                      "items": [{"label_ar": "رسوم رخصة بناء أقل من 50 م²",
                                 "label_en": "Building permit under 50 m² fee",
                                 "amount_minor": 20000}],
                      "total_minor": 20000, "method": "card", "tendered_minor": None,
                      "change_minor": None, "reference": "AUTH 204519",
                      "qr_text": "NFA:MUH:MUH-D01-A2026-000043", "under_review": True}
    # A resident chose to pay at the counter: an instant-issue service, unpaid.
    application = {**OFFICE, "application_number": "MUH-D01-A2026-000044",
                   "service_ar": "شهادة إثبات سكن", "service_en": "Residence certificate",
                   "submitted_at": "2026-11-24T08:10:00.000+00:00",
                   "holder_name": "فاطمة عبدالله الحداد", "national_id": "850101239",
                   "fee_minor": 1000, "currency": "BHD", "paid": False, "paid_receipt": None,
                   "next_step": "pay",
                   "documents": [{"ar": "البطاقة الذكية (الهوية)", "en": "Smart card (ID)"},
                                 {"ar": "عقد الإيجار أو وثيقة ملكية العقار",
                                  "en": "Lease contract or title deed"}],
                   # the slip's code carries its token (core/codes.py; this one keyed with
                   # bytes(range(32))): holding the slip is what collects the licence
                   "qr_text": "NFA:MUH:MUH-D01-A2026-000044:K5JE44KQJ2XE"}
    # A review-required service paid at the kiosk: it waits for the review.
    application_review = {**application, "application_number": "MUH-D01-A2026-000043",
                          "service_ar": "رخصة بناء أقل من 50 م²",
                          "service_en": "Building permit under 50 m²", "fee_minor": 20000,
                          "paid": True, "paid_receipt": "MUH-D01-R0000013",
                          "next_step": "review",
                          "documents": [{"ar": "البطاقة الذكية (الهوية)",
                                         "en": "Smart card (ID)"},
                                        {"ar": "وثيقة ملكية العقار", "en": "Title deed"},
                                        {"ar": "المخطط الهندسي المعتمد",
                                         "en": "Approved engineering drawing"}],
                          "qr_text": "NFA:MUH:MUH-D01-A2026-000043:WW6B6C3DCW4W"}
    licence = {**OFFICE, "title_ar": "شهادة إثبات سكن", "title_en": "Residence certificate",
               "number": "MUH-2026-D01-000042", "licence_type": "RES",
               "holder_name": "فاطمة عبدالله الحداد", "national_id": "850101239",
               "address": {"block": "204", "road": "15", "building": "1203A"},
               "issued_at": "2026-11-22T07:00:00+00:00",
               "valid_until": "2027-02-20T07:00:00+00:00", "conditions": "",
               "qr_text": _vector("valid residence certificate"), "copy": False,
               "reprint_count": 0,
               # the [licence] settings' part (core.documents.paper)
               "authority_ar": "وزارة شؤون البلديات والزراعة",
               "authority_en": "Ministry of Municipalities Affairs and Agriculture",
               "emblem": str(ROOT / "assets" / "paper" / "emblem.png"),
               "national_id_shown": "masked", "verify_url": "https://nafitha.example.bh/verify/"}
    permit_copy = {**licence, "title_ar": "رخصة بناء أقل من 50 م²",
                   "title_en": "Building permit under 50 m²", "number": "MUH-2026-D01-000043",
                   "licence_type": "BPS",
                   "address": {"parcel": "02-1234", "block": "204", "road": "15",
                               "building": "1203A"},
                   "valid_until": "2027-11-22T07:00:00+00:00",
                   "conditions": "يسمح بالعمل من 7 صباحاً إلى 6 مساءً فقط",
                   "qr_text": _vector("valid building permit with conditions"), "copy": True,
                   "reprint_count": 1}
    z_report = {**OFFICE, "shift": 12, "clerk": "sara", "currency": "BHD",
                "opened_at": "2026-11-24T04:00:00.000+00:00",
                "closed_at": "2026-11-24T11:30:00.000+00:00", "float_minor": 20000,
                "by_method": {"cash": {"count": 5, "total_minor": 6500},
                              "card": {"count": 2, "total_minor": 21000},
                              "online": {"count": 0, "total_minor": 0}},
                "total_minor": 27500, "payments": 7,
                "voids": {"count": 1, "total_minor": 1000},
                "expected_cash_minor": 26500, "counted_minor": 26000,
                "difference_minor": -500,
                "receipts": [f"MUH-D01-R{n:07d}" for n in (12, 13, 14, 16, 17, 18, 19)]}
    return {"ticket": ("ticket", ticket), "receipt": ("receipt", receipt),
            "receipt_void": ("receipt", voided), "receipt_review": ("receipt", receipt_review),
            "application": ("application", application),
            "application_review": ("application", application_review),
            "licence": ("licence", licence),
            "licence_copy": ("licence", permit_copy), "z_report": ("z_report", z_report)}


def golden_name(name: str, lang: str, width: int) -> str:
    return f"{name}-{lang}-{width}.png"


def cases():
    for name, (kind, data) in samples().items():
        for lang in ("ar", "en"):
            for width in (384, 576):
                yield name, kind, data, lang, width


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from devices.printing.render import render

    GOLDEN.mkdir(exist_ok=True)
    for name, kind, data, lang, width in cases():
        path = GOLDEN / golden_name(name, lang, width)
        render(kind, data, lang, width).save(path, optimize=True)
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
