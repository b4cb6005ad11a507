"""The application slip (kind "application"): what it says from the store, paid or to be paid
at the counter, what happens next, what to bring, its QR, and the receipt's review note."""
from __future__ import annotations

import pytest
import zxingcpp
from PIL import ImageChops

from core import codes
from core.errors import InvalidState, NotFound, ValidationError
from core import documents
from devices.printing import layouts, render as r
from devices.printing.fakes import RecordingTransport
from core.faces.printing import PrintJobs
from devices.printing.worker import PrintWorker

from escpos_decode import decode_raster

PAY_AT_COUNTER = {"ar": "يدفع عند الموظف", "en": "To be paid at the counter"}
PAID = {"ar": "مدفوع", "en": "Paid"}


def said(kind: str, data: dict, lang: str) -> str:
    """Every string the document prints, one per line."""
    out = []
    for block in layouts.build(kind, data, lang):
        for field in ("text", "label", "value"):
            value = getattr(block, field, None)
            if isinstance(value, str):
                out.append(value)
        out += list(getattr(block, "lines", ())) + list(getattr(block, "caption", ()))
    return "\n".join(out)


def qr_texts(image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image.convert("L"),
                                                   formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.fixture
def pay(office, till):
    def take(app: dict) -> dict:  # each approval its own reference (a reused one is refused)
        return office.payments.take(app["id"], "card", till.clerk,
                                    reference=f"AUTH {app['number']}")
    return take


# --- what it says -----------------------------------------------------------------------------

def test_unpaid_instant_application_says_pay_at_the_counter(office, submit_valid):
    app = submit_valid("residence-certificate")
    data = documents.build(office, "application", app["id"])
    service = office.catalog.get("residence-certificate")
    assert data["application_number"] == app["number"]
    assert codes.parse(data["qr_text"]) == ("application", office.settings.office.code,
                                            app["number"])
    assert codes.token_holds(documents.slip_secret(office.settings.data_dir), app["number"],
                             codes.token_of(data["qr_text"]))
    assert (data["paid"], data["paid_receipt"], data["next_step"]) == (False, None, "pay")
    assert (data["fee_minor"], data["currency"]) == (1000, "BHD")
    assert data["documents"] == [{"ar": d.ar, "en": d.en} for d in service.documents]
    assert data["documents"] and data["submitted_at"] == app["submitted_at"]
    nid = app["fields"]["national_id"]
    for lang in ("ar", "en"):
        text = said("application", data, lang)
        assert layouts.label("application_title", "ar") in text  # both languages, always
        assert layouts.label("application_title", "en") in text
        assert PAY_AT_COUNTER[lang] in text and layouts.label("next_pay", lang) in text
        assert layouts.label("next_review", lang) not in text
        assert app["number"] in text and "1.000 BHD" in text
        assert "2026-11-24 11:00" in text  # submitted 08:00 UTC, shown in Bahrain time
        assert app["fields"]["full_name"] in text  # the name as on the receipt
        assert "*" * (len(nid) - 3) + nid[-3:] in text and nid not in text  # the CPR masked
        for document in service.documents:
            assert f"• {document.get(lang)}" in text
    blocks = layouts.build("application", data, "en")
    assert layouts.BigNumber(app["number"]) in blocks


def test_review_service_paid_at_the_kiosk_says_paid_and_will_be_reviewed(office, submit_valid,
                                                                          pay):
    app = submit_valid("building-permit-small")
    payment = pay(app)
    data = documents.build(office, "application", app["number"])
    assert (data["paid"], data["paid_receipt"], data["next_step"]) == \
        (True, payment["receipt_number"], "review")
    assert [d["en"] for d in data["documents"]] == \
        ["Smart card (ID)", "Title deed", "Approved engineering drawing"]
    for lang in ("ar", "en"):
        text = said("application", data, lang)
        assert PAID[lang] in text and PAY_AT_COUNTER[lang] not in text
        assert payment["receipt_number"] in text
        assert layouts.label("next_review", lang) in text
        assert "20.000 BHD" in text


def test_review_service_not_paid_says_both(office, submit_valid):
    app = submit_valid("address-form")
    data = documents.build(office, "application", app["id"])
    assert (data["paid"], data["next_step"]) == (False, "review")
    text = said("application", data, "ar")
    assert PAY_AT_COUNTER["ar"] in text and layouts.label("next_review", "ar") in text


def test_next_step_follows_the_application(office, submit_valid, pay):
    step = lambda app: documents.build(office, "application", app["id"])["next_step"]  # noqa
    approved_unpaid = submit_valid("address-form")
    office.applications.approve(approved_unpaid["id"])
    assert step(approved_unpaid) == "approved_pay"
    pay(approved_unpaid)
    assert step(approved_unpaid) == "collect"
    instant = submit_valid("residence-certificate")
    pay(instant)  # paying approves an instant-issue service
    assert step(instant) == "collect"
    office.licences.issue(instant["id"])
    assert step(instant) == "issued"
    for name in layouts.NEXT_STEPS:
        assert layouts.LABELS[f"next_{name}"]["ar"] and layouts.LABELS[f"next_{name}"]["en"]


def test_a_voided_payment_makes_it_unpaid_again(office, submit_valid, pay, till):
    app = submit_valid("residence-certificate")
    payment = pay(app)
    office.payments.void(payment["id"], till.supervisor, till.supervisor_pin, "wrong card")
    data = documents.build(office, "application", app["id"])
    assert (data["paid"], data["paid_receipt"], data["next_step"]) == (False, None, "pay")


def test_a_bad_next_step_or_document_list_is_refused(office, submit_valid):
    data = documents.build(office, "application", submit_valid()["id"])
    with pytest.raises(ValueError, match="next_step"):
        layouts.build("application", {**data, "next_step": "wait"}, "en")
    with pytest.raises(ValueError, match="documents"):
        layouts.build("application", {**data, "documents": "ID card"}, "en")
    with pytest.raises(ValueError, match="missing the key 'en'"):
        layouts.build("application", {**data, "documents": [{"ar": "الهوية"}]}, "en")
    for key in layouts.REQUIRED["application"]:
        with pytest.raises(ValueError, match=f"missing the key '{key}'"):
            layouts.build("application", {k: v for k, v in data.items() if k != key}, "ar")
    # no documents listed in the catalogue: the section is left out, nothing else changes
    assert layouts.label("documents_to_bring", "en") not in said(
        "application", {**data, "documents": []}, "en")


# --- on paper ---------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [384, 576])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_slip_renders_and_its_qr_decodes(office, submit_valid, lang, width):
    app = submit_valid("building-permit-small")
    data = documents.build(office, "application", app["id"])
    image = r.render("application", data, lang, width)
    assert image.mode == "1" and image.width == width and 600 < image.height < 2000
    px = image.load()
    assert all(px[0, y] and px[width - 1, y] for y in range(image.height))
    # the application's code, and its bill's number (core/bills.py) for a bank app
    assert sorted(qr_texts(image)) == sorted([data["qr_text"], data["bill"]["number"]])
    assert codes.parse(data["qr_text"]) == ("application", office.settings.office.code,
                                            app["number"])
    assert codes.token_holds(documents.slip_secret(office.settings.data_dir), app["number"],
                             codes.token_of(data["qr_text"]))


def test_enqueue_by_number_and_print_it(office, submit_valid):
    office.settings.printer.width_dots = 576
    app = submit_valid("residence-certificate")
    job = office.printing.enqueue("application", app["number"], "en")
    assert (job["kind"], job["ref_id"], job["expires_at"]) == ("application", app["id"], None)
    assert office.printing.enqueue("application", app["id"])["ref_id"] == app["id"]
    transport = RecordingTransport()
    worker = PrintWorker(PrintJobs(office), transport, sleep=lambda s: None)
    rendered, _ = worker.render_job(office.printing.get(job["id"]))
    assert worker.print_next() == "printed"
    assert transport.job_names[0].endswith("-application")
    (image,) = decode_raster(transport.sent[0].data)
    assert ImageChops.difference(image.convert("1"), rendered.convert("1")).getbbox() is None
    # The slip's code with its token (what collects the licence at a kiosk), and the bill.
    secret = documents.slip_secret(office.settings.data_dir)
    assert sorted(qr_texts(image)) == sorted([
        codes.application_code(office.settings.office.code, app["number"],
                               codes.collect_token(secret, app["number"])),
        office.bills.for_application(app["id"])["number"]])


@pytest.mark.parametrize("ref, error", [("MUH-D01-A2026-999999", NotFound),
                                        ("nope", NotFound), ("", NotFound)])
def test_a_bad_reference_is_refused_and_nothing_is_queued(office, ref, error):
    with pytest.raises(error):
        office.printing.enqueue("application", ref)
    assert office.printing.jobs() == []


@pytest.mark.parametrize("state", ["draft", "withdrawn", "rejected"])
def test_no_slip_for_an_application_nobody_can_follow(office, submit_valid, valid_fields,
                                                       db_state, state):
    if state == "draft":
        app = office.applications.save_draft("residence-certificate",
                                             {"full_name": "Fatima Ali Hasan"})
    else:
        app = submit_valid("address-form")
        if state == "withdrawn":
            office.applications.withdraw(app["id"])
        else:
            office.applications.reject(app["id"], "incomplete documents")
    before = db_state()
    with pytest.raises(InvalidState, match=state):
        office.printing.enqueue("application", app["number"])
    assert db_state() == before and office.printing.jobs() == []
    with pytest.raises(InvalidState):
        documents.build(office, "application", app["id"])


def test_a_bad_language_queues_nothing(office, submit_valid):
    with pytest.raises(ValidationError):
        office.printing.enqueue("application", submit_valid()["id"], lang="fr")
    assert office.printing.jobs() == []


# --- the payment receipt of a review-required service ----------------------------------------

def test_receipt_of_a_review_service_says_it_will_be_reviewed(office, submit_valid, pay):
    app = submit_valid("building-permit-small")
    payment = pay(app)
    data = documents.build(office, "receipt", payment["receipt_number"])
    assert data["under_review"] is True
    for lang in ("ar", "en"):
        assert layouts.label("receipt_review", lang) in said("receipt", data, lang)
    office.applications.approve(app["id"])  # decided: no longer under review
    assert documents.build(office, "receipt", payment["id"])["under_review"] is False


def test_receipt_of_an_instant_service_has_no_review_note(office, submit_valid, pay):
    payment = pay(submit_valid("residence-certificate"))
    data = documents.build(office, "receipt", payment["id"])
    assert data["under_review"] is False
    assert layouts.label("receipt_review", "en") not in said("receipt", data, "en")


def test_a_void_receipt_carries_no_review_note():
    from make_golden import samples

    data = {**samples()["receipt_review"][1], "voided": True}
    text = said("receipt", data, "en")
    assert "VOID" in text and layouts.label("receipt_review", "en") not in text
