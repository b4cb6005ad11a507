"""A licence's QR code must fit the office's smallest paper at error correction M: approval
refuses conditions, submission refuses a name and address, and issue refuses a code, that
would not fit, each before anything is numbered or signed and changing nothing."""
import pytest
import zxingcpp

from core.credentials import qr_fit
from core.errors import ConfigError, InvalidState, ValidationError
from core.settings import load_settings

PERMIT = "building-permit-small"  # reviewed: approved with conditions
ARABIC_110 = ("يسمح بالعمل من السابعة صباحا حتى الخامسة مساء فقط مع وضع حواجز السلامة "
              "حول الموقع طوال مدة البناء كلها")
ENGLISH_250 = ("Work is allowed from 7 am to 5 pm only, never on Fridays; safety barriers "
               "must surround the site for the whole of the works; the road must be swept "
               "every evening; skips may stand on the road for at most two days at a time, and never at night.")


@pytest.fixture
def permit(office, submit_valid, till):
    app = submit_valid(PERMIT)
    office.payments.take(app["id"], "cash", till.clerk, tendered_minor=20_000)
    return app


def test_the_issues_examples_do_not_fit_58_mm(office, permit, db_state):
    assert len(ARABIC_110) >= 100 and len(ENGLISH_250) >= 240
    before = db_state()
    for conditions in (ARABIC_110, ENGLISH_250):
        with pytest.raises(ValidationError) as caught:
            office.applications.approve(permit["id"], conditions=conditions)
        assert caught.value.details["field"] == "conditions"
        assert "58 mm paper (384 dots) holds 734 at error correction M" in caught.value.message
        assert "shorten them by at least" in caught.value.message
    assert db_state() == before  # nothing numbered, signed, decided or audited


def test_conditions_that_fit_are_approved_issued_and_print_on_58_mm(office, permit):
    from devices.printing import render

    conditions = "يسمح بالعمل من ٧ صباحا حتى ٥ مساء"
    office.applications.approve(permit["id"], conditions=conditions)
    licence = office.licences.issue(permit["id"])
    assert len(licence["signed_payload"]) <= qr_fit.capacity(384)
    data = office.job_document({"kind": "licence", "ref_id": licence["id"], "copy": 0})
    image = render.render("licence", data, "ar", 384)
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [licence["signed_payload"]]


def test_the_longest_conditions_approval_allows_still_fit_once_signed(office, permit):
    """The probe is the worst case: whatever approval lets through, issue can print."""
    longest = ""
    for n in range(10, 301, 5):
        try:
            office.applications.check_conditions(permit["id"], "x" * n)
            longest = "x" * n
        except ValidationError:
            break
    assert 60 <= len(longest) < 300
    office.applications.approve(permit["id"], conditions=longest)
    licence = office.licences.issue(permit["id"])
    assert len(licence["signed_payload"]) <= qr_fit.capacity(384)


def test_80_mm_offices_may_approve_longer_conditions(settings, clock, ids, certified,
                                                     valid_nid):
    from core.office import Office

    settings.office.smallest_paper_dots = 576
    office = Office.open(settings, clock=clock, ids=ids)
    try:
        office.users.create("sara", "clerk", "1234")
        office.payments.open_shift("sara", 0)
        app = office.applications.submit(PERMIT, {
            "full_name": "Ali Hasan", "national_id": valid_nid(), "phone": "33123456",
            "parcel": "02-1234", "area_m2": "45", "block": "204", "road": "15",
            "building": "12"})
        office.payments.take(app["id"], "cash", "sara", tendered_minor=20_000)
        office.applications.approve(app["id"], conditions=ENGLISH_250)
        licence = office.licences.issue(app["id"])
        assert qr_fit.capacity(384) < len(licence["signed_payload"]) <= qr_fit.capacity(576)
    finally:
        office.close()


def test_a_name_too_long_for_the_licence_is_refused_at_submission(office, valid_fields,
                                                                  db_state):
    before = db_state()
    with pytest.raises(ValidationError) as caught:
        office.applications.submit("residence-certificate",
                                   valid_fields(full_name="عبد" * 33))
    assert caught.value.details["field"] == "full_name"
    assert caught.value.message.startswith("the name and address are too long for the "
                                           "licence")
    assert db_state() == before
    # a long but ordinary name is fine, and so is a draft (checked when it is submitted)
    office.applications.submit("residence-certificate",
                               valid_fields(full_name="عبدالرحمن محمد عبدالله إبراهيم آل خليفة"))
    draft = office.applications.save_draft("residence-certificate",
                                           {"full_name": "عبد" * 33})
    with pytest.raises(ValidationError, match="too long for the licence"):
        office.applications.submit_draft(draft["id"], valid_fields(full_name="عبد" * 33))


def test_issue_refuses_a_code_that_does_not_fit_and_keeps_the_number(office, permit,
                                                                      db_state):
    """An application approved before the check existed, with conditions too long."""
    office.applications.approve(permit["id"], conditions="short")
    office.store.conn.execute("UPDATE applications SET conditions = ? WHERE id = ?",
                              (ENGLISH_250, permit["id"]))
    before = db_state()
    with pytest.raises(InvalidState, match="licence not issued: the licence's QR code would "
                                           "need .* characters but 58 mm paper"):
        office.licences.issue(permit["id"])
    assert db_state() == before  # no licence, the number not used, nothing audited


@pytest.mark.parametrize("env, message", [
    ({"NAFITHA_OFFICE__SMALLEST_PAPER_DOTS": "500"}, r"must be 384 \(58 mm paper\) or 576"),
    ({"NAFITHA_OFFICE__SMALLEST_PAPER_DOTS": "576", "NAFITHA_PRINTER__WIDTH_DOTS": "384"},
     "is 576 but this device prints on 384-dot paper"),
    ({"NAFITHA_OFFICE__SMALLEST_PAPER_DOTS": "wide"}, "expected int, got 'wide'")])
def test_bad_smallest_paper_settings_are_refused(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, environ=env)
