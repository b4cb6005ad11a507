"""A resident's journeys at the real kiosk, by touch, in Arabic and in English.

One kiosk process per language (tests/ui/kiosk_rig.py); each test starts and ends on the
start screen. Asserted: the screen the resident sees, the store, the bytes the printer got
(their QR read back as a camera would) and the card terminal's record of charges."""
from __future__ import annotations

import re

import pytest

from core import codes, documents

from kiosk_rig import PERSON, KioskRig

pytestmark = pytest.mark.ui

ARABIC = re.compile("[\u0600-\u06ff]")
RESIDENCE = ["full_name", "national_id", "phone", "208", "2811", "1234"]
PERMIT = ["full_name", "national_id", "phone", "7781", "208", "2811", "12", "32.5", ""]


@pytest.fixture(scope="module", params=["ar", "en"])
def rig(request, xvfb_display, tmp_path_factory):
    with KioskRig(tmp_path_factory.mktemp(f"kiosk-{request.param}"),
                  lang=request.param) as rig:
        yield rig


@pytest.fixture(autouse=True)
def at_start(rig):
    rig.go_home()
    yield
    rig.go_home()


def answers(rig, template):
    person = PERSON[rig.lang]
    return [person.get(a, a) for a in template]


def in_language(rig, text: str) -> None:
    """The words are the resident's language: Arabic letters in Arabic, none in English."""
    assert text.strip()
    assert bool(ARABIC.search(text)) == (rig.lang == "ar"), text


def apply_for(rig, service: str, template) -> dict:
    p = rig.pilot
    p.tap("home:apply")
    rig.wait_screen("services")
    p.tap(f"service:{service}")
    state = rig.wait_screen("service")
    in_language(rig, state["texts"]["documents"])
    p.tap("start_form")
    rig.fill_form(answers(rig, template))
    return rig.wait_screen("review")


def test_take_a_priority_ticket(rig):
    p = rig.pilot
    jobs = len(rig.printer.jobs)
    p.tap("home:ticket")
    state = rig.wait_screen("services")
    in_language(rig, state["texts"]["title"])
    p.tap("service:residence-certificate")
    rig.wait_screen("priority")
    p.tap("ticket:elderly")
    state = rig.wait_screen("ticket")
    number = state["texts"]["number"]
    assert re.fullmatch(r"R\d{3}", number)
    in_language(rig, state["texts"]["ahead"])
    in_language(rig, state["texts"]["wait"])
    assert state["flags"]["printed"] is True
    office = rig.office()
    ticket = office.store.one("SELECT * FROM tickets WHERE number = ?", (number,))
    assert ticket["priority"] == "elderly" and ticket["state"] == "waiting"
    assert len(rig.printer.jobs) == jobs + 1
    assert codes.ticket_code("MUH", ticket["id"]) in rig.printed_qr_texts()


def test_apply_for_an_instant_certificate_pay_by_card_and_get_it_printed(rig):
    p = rig.pilot
    charges, jobs = len(rig.terminal.charges), len(rig.printer.jobs)
    # A wrong CPR first: an inline error in the resident's language, nothing stored.
    p.tap("home:apply")
    rig.wait_screen("services")
    p.tap("service:residence-certificate")
    rig.wait_screen("service")
    p.tap("start_form")
    rig.fill_form([PERSON[rig.lang]["full_name"]])
    # What a CPR looks like is said before anything is typed, and gives way to the error.
    hint = rig.state()["texts"]["hint"]
    assert ("9 digits" if rig.lang == "en" else "البطاقة الذكية") in hint
    p.type("123")
    p.tap("next")
    state = rig.state()
    assert state["screen"] == "form" and state["visit"]["error"] == "national_id_format"
    in_language(rig, state["texts"]["error"])
    assert state["texts"]["hint"] == ""
    for _ in range(3):
        p.tap("key:backspace")
    rig.fill_form(answers(rig, RESIDENCE)[1:])
    state = rig.wait_screen("review")
    assert [r["value"] for r in state["rows"]][:2] == \
        [PERSON[rig.lang]["full_name"], PERSON[rig.lang]["national_id"]]
    p.tap("pay_now")
    state = rig.wait_screen("result", timeout_s=30)
    in_language(rig, state["texts"]["title"])
    licence_number = state["texts"]["number"]
    office = rig.office()
    licence = office.licences.get(licence_number)
    app = office.applications.get(licence["application_id"])
    assert app["state"] == "issued"
    payment = office.store.one("SELECT * FROM payments WHERE application_id = ?", (app["id"],))
    assert payment["method"] == "card" and payment["amount_minor"] == 1000
    assert rig.terminal.charges[charges:] == [(f"{app['number']}-1", 1000, "BHD")]
    # The certificate came out of the printer with a QR that verifies as genuine.
    printed = [t for t in rig.printed_qr_texts() if t == licence["signed_payload"]]
    assert printed, "the licence's signed QR was not printed"
    result = office.verify_licence(printed[0])
    assert result.valid and result.claims["holder"] == PERSON[rig.lang]["full_name"]
    # ... and after it the card payment's receipt: two documents, the receipt's job done.
    assert len(rig.printer.jobs) == jobs + 2
    receipt_job = office.store.one(
        "SELECT state FROM print_jobs WHERE kind = 'receipt' AND ref_id = ?", (payment["id"],))
    assert receipt_job is not None and receipt_job["state"] == "done"


def test_apply_for_a_permit_and_pay_at_the_counter(rig):
    p = rig.pilot
    charges = len(rig.terminal.charges)
    state = apply_for(rig, "building-permit-small", PERMIT)
    in_language(rig, state["texts"]["fee"])
    p.tap("pay_counter")
    state = rig.wait_screen("result")
    number = state["texts"]["number"]
    app = rig.office().applications.get(number)
    assert app["state"] == "submitted" and app["paid_at"] is None
    assert app["fields"]["area_m2"] == "32.5"
    assert len(rig.terminal.charges) == charges
    office = rig.office()
    try:  # the slip's QR, with the token that lets it collect the licence later
        assert documents.slip_code(office, number) in rig.printed_qr_texts()
    finally:
        office.close()


# Each way a payment fails, once, the two languages sharing them out (the words of each
# ending in both languages are in the goldens and tests/kiosk/test_translations.py).
FAILED_PAYMENTS = {"ar": ("declined", "offline"), "en": ("cancelled",)}


def test_a_payment_that_fails_leaves_the_application_saved_and_unpaid(rig):
    for ending in FAILED_PAYMENTS[rig.lang]:
        rig.go_home()
        payment_fails_then_succeeds(rig, ending)


def payment_fails_then_succeeds(rig, ending: str) -> None:
    p = rig.pilot
    charges = len(rig.terminal.charges)
    apply_for(rig, "residence-certificate", RESIDENCE)
    if ending == "offline":
        rig.terminal.set_offline(True)
    elif ending == "cancelled":
        rig.terminal.script("timeout")  # waits for a card until cancelled
    else:
        rig.terminal.script("declined", message="INSUFFICIENT FUNDS")
    try:
        p.tap("pay_now")
        if ending == "cancelled":
            rig.pilot.wait_until(lambda s: s["visit"]["payment_state"] == "waiting")
            p.tap("cancel_payment")
        state = rig.pilot.wait_until(
            lambda s: s["visit"]["payment_state"] == ending and not s["busy"], timeout_s=30)
    finally:
        rig.terminal.set_offline(False)
    in_language(rig, state["texts"]["follow"])
    number = state["texts"]["number"]
    app = rig.office().applications.get(number)
    assert app["state"] == "submitted" and app["paid_at"] is None
    assert len(rig.terminal.charges) == charges
    # Try again: approved this time, charged once, recorded once.
    p.tap("retry_payment")
    state = rig.wait_screen("result", timeout_s=30)
    office = rig.office()
    assert office.applications.get(number)["state"] == "issued"
    paid = office.store.all("SELECT p.* FROM payments p JOIN applications a ON "
                            "a.id = p.application_id WHERE a.number = ?", (number,))
    assert len(paid) == 1
    mine = [c for c in rig.terminal.charges if c[0].startswith(f"{number}-")]
    assert len(mine) == 1 and mine[0][1:] == (1000, "BHD")
    assert len(rig.terminal.charges) == charges + 1


def test_verify_a_genuine_licence_and_a_revoked_one_by_camera(rig):
    p = rig.pilot
    office = rig.office()
    first = office.store.one("SELECT number FROM licences ORDER BY issued_at LIMIT 1")
    if first is None:
        # This language's kiosk is new (the tests ran in another order): issue one here.
        apply_for(rig, "residence-certificate", RESIDENCE)
        p.tap("pay_now")
        rig.wait_screen("result", timeout_s=30)
        p.tap("done")
        rig.wait_screen("home")
        first = office.store.one("SELECT number FROM licences ORDER BY issued_at LIMIT 1")
    assert first, "a licence was issued"
    licence = office.licences.get(first["number"])  # its code opened (docs/privacy.md)
    rig.show_qr(licence["signed_payload"])
    p.tap("home:verify")
    state = rig.wait_screen("verified", timeout_s=30)
    assert state["flags"]["valid"] is True
    in_language(rig, state["texts"]["verdict"])
    values = [r["value"] for r in state["rows"]]
    assert licence["number"] in values and licence["holder_name"] in values
    # Revoked at this office (as a clerk would): the next check says so in plain words.
    with office.acting_as("supervisor"):
        office.licences.revoke(licence["number"], "issued in error")
    p.tap("verify_again")
    state = rig.wait_screen("verified", timeout_s=30)
    assert state["flags"]["valid"] is False and state["flags"]["reason"] == "revoked"
    in_language(rig, state["texts"]["reason"])
    # Not a licence at all.
    rig.show_qr("HELLO WORLD")
    p.tap("verify_again")
    state = rig.wait_screen("verified", timeout_s=30)
    assert state["flags"]["valid"] is False and state["flags"]["reason"] == "malformed"


def test_follow_an_application_by_typing_its_number_and_by_scanning_its_slip(rig):
    p = rig.pilot
    apply_for(rig, "excavation-permit", ["full_name", "national_id", "phone", "51",
                                         "208", "2811", "1234", "Trench 5 m"])
    p.tap("pay_counter")
    number = rig.wait_screen("result")["texts"]["number"]
    p.tap("done")
    rig.wait_screen("home")
    p.tap("home:status")
    rig.wait_screen("status")
    p.type(str(int(number.rsplit("-", 1)[1])))
    p.tap("find")
    state = rig.wait_screen("status_result")
    assert state["texts"]["number"] == number and state["flags"]["state"] == "submitted"
    in_language(rig, state["texts"]["state"])
    p.tap("done")
    rig.wait_screen("home")
    # A number that does not exist: said plainly, the screen stays.
    p.tap("home:status")
    rig.wait_screen("status")
    p.type("99999")
    p.tap("find")
    state = rig.pilot.wait_until(lambda s: s["visit"]["status_problem"] == "not_found")
    in_language(rig, state["texts"]["problem"])
    p.tap("back")
    rig.wait_screen("home")
    # The slip's QR in front of the camera.
    rig.show_qr(codes.application_code("MUH", number))
    p.tap("home:status")
    state = rig.wait_screen("status_result", timeout_s=30)
    assert state["texts"]["number"] == number


def test_idle_asks_then_wipes_everything_the_resident_entered(rig):
    p = rig.pilot
    person = PERSON[rig.lang]
    p.tap("home:apply")
    rig.wait_screen("services")
    p.tap("service:residence-certificate")
    rig.wait_screen("service")
    p.tap("start_form")
    rig.fill_form([person["full_name"]])
    p.type(person["national_id"])
    p.advance(59)
    assert rig.state()["idle_prompt"] is False
    p.advance(2)
    state = rig.state()
    assert state["idle_prompt"] is True and state["visit"]["draft"] == person["national_id"]
    p.tap("idle_stay")  # still here: nothing lost
    state = rig.state()
    assert state["idle_prompt"] is False and state["visit"]["draft"] == person["national_id"]
    p.advance(61)
    assert rig.state()["idle_prompt"] is True
    p.advance(10)
    state = rig.state()
    assert state["screen"] == "home" and state["lang"] == rig.lang
    assert state["visit"]["values"] == {} and state["visit"]["draft"] == ""
    held = "\n".join(p.call("all_texts"))
    for value in person.values():
        assert value not in held, f"{value!r} is still in the app after the wipe"


def test_language_switch_on_a_screen_mirrors_the_layout_and_keeps_the_visit(rig):
    p = rig.pilot
    p.tap("home:ticket")
    rig.wait_screen("services")
    p.tap("language")
    state = rig.state()
    other = "en" if rig.lang == "ar" else "ar"
    assert state["lang"] == other and state["rtl"] == (other == "ar")
    assert state["screen"] == "services" and state["visit"]["mode"] == "ticket"
    assert bool(ARABIC.search(state["texts"]["title"])) == (other == "ar")
    p.tap("language")
    assert rig.state()["lang"] == rig.lang
