"""A clerk's whole day on the real counter app under Xvfb, by keyboard and by touch, in
Arabic and in English; every screen is compared with its golden screenshot
(docs/screenshots/counter/, looked at before they were committed; refresh with
NAFITHA_UPDATE_SCREENSHOTS=1 after a deliberate change)."""
from __future__ import annotations

import pytest

from core.credentials.licence import verify
from core.credentials.trust import TrustStore
from counter_rig import SUPERVISOR, CounterRig
from goldens import check_goldens

pytestmark = pytest.mark.ui

PEOPLE = {
    "ar": {"full_name": "فاطمة علي", "national_id": "880101233", "phone": "36001234",
           "block": "338", "road": "3803", "building": "12"},
    "en": {"full_name": "Mariam Hasan", "national_id": "900202342", "phone": "39001122",
           "block": "208", "road": "2811", "building": "7"},
}
WALK_IN = {"ar": "حسن يوسف", "en": "Hasan Yusuf"}
WORDS = {"ar": {"wrong": "الرقم السري غير صحيح", "change": "4.000 د.ب",
                "not_supervisor": "ليس حساب مشرف", "not_genuine": "ليست رخصة أصلية",
                "revoked": "هذه الرخصة ملغاة"},
         "en": {"wrong": "Wrong PIN", "change": "4.000 BHD",
                "not_supervisor": "not a supervisor's", "not_genuine": "Not a genuine licence",
                "revoked": "This licence has been revoked"}}


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_clerks_whole_day(lang, xvfb_display, tmp_path):
    person, words = PEOPLE[lang], WORDS[lang]
    shots, names = tmp_path / "shots", []
    with CounterRig(tmp_path / "rig", lang=lang) as rig:
        p = rig.pilot

        def shoot(name):
            names.append(name)
            p.screenshot(shots / f"{name}-{lang}.png")

        # The morning: a resident applied at the kiosk and took a ticket; two more wait.
        kiosk_made = rig.kiosk_application(person)
        office = rig.office()
        office.store.clock.advance(seconds=60)  # they came a minute after her
        office.queue.take_ticket("address-form")
        office.queue.take_ticket("building-permit-small")
        office.applications.submit("residence-certificate", dict(person))  # same resident
        office.close()

        shoot("signin")
        state = rig.sign_in(("sara", "0000"))
        assert state["screen"] == "signin" and words["wrong"] in rig.notice()
        shoot("signin-wrong-pin")
        rig.clear_field("username")
        assert rig.state()["form"]["values"]["username"] == ""
        state = rig.sign_in()
        assert state["screen"] == "shift_open" and state["user"]["username"] == "sara"
        p.keys("20")
        shoot("shift-open")
        assert rig.enter()["screen"] == "desk"

        # Call the kiosk's resident: the application comes up with the ticket.
        p.press_key("f2")
        state = rig.state()
        assert state["ticket"]["number"] == kiosk_made["ticket"]["number"]
        assert state["application"]["number"] == kiosk_made["application"]["number"]
        shoot("desk-called")

        # Cash: 5.000 for a 1.000 fee, change shown, receipt printed.
        p.tap("pay")
        p.keys("5")
        shoot("payment")
        state = rig.enter()
        assert state["screen"] == "desk" and words["change"] in rig.notice()
        rig.wait_printed(1)
        # Issue: the licence prints with a QR that verifies against the root.
        p.tap("issue")
        assert rig.state()["application"]["state"] == "issued", rig.notice()
        rig.wait_printed(2)
        trust = TrustStore.load(rig.data)
        licence_qr = [t for t in rig.printed_qr_texts() if t.startswith("NF1:")]
        assert len(licence_qr) == 1
        number = rig.state()["application"]["licence"]["number"]
        result = verify(licence_qr[0], trust, 1795000000)  # 2026-11-18: inside its validity
        assert result.claims.get("number") == number
        # Reprint as a COPY, with a reason.
        p.tap("reprint")
        rig.wait_screen("reason")
        p.keys("ورق عالق" if lang == "ar" else "paper jammed")
        shoot("reprint-reason")
        rig.enter()
        rig.wait_printed(3)
        assert rig.state()["application"]["licence"]["reprint_count"] == 1
        shoot("desk-issued")
        p.press_key("f4")
        assert rig.state()["ticket"] is None

        # A walk-in for an address change: a new application typed at the counter.
        p.press_key("f2")
        assert rig.state()["ticket"]["number"].startswith("A")
        p.tap("start_apply")
        p.tap("choose:service:residence-certificate")
        rig.type_fields(WALK_IN[lang], "900101247", "33112233", "901", "112", "3")
        shoot("apply")
        state = rig.enter()
        assert state["screen"] == "desk", state["notice"]
        assert state["application"]["fields"]["full_name"] == WALK_IN[lang]
        # Card: the terminal's reference typed in.
        p.tap("pay")
        p.tap("choose:method:card")
        p.keys("TRM-0042")
        state = rig.enter()
        assert state["application"]["payment"]["method"] == "card"
        rig.wait_printed(4)
        # The resident changes their mind: void needs a supervisor; the clerk's own PIN
        # does not do.
        p.tap("void")
        rig.wait_screen("authorise")
        rig.type_fields("sara", "1234", "resident changed their mind")
        shoot("authorise")
        state = rig.enter()
        assert state["screen"] == "authorise" and words["not_supervisor"] in rig.notice()
        rig.clear_field("supervisor")
        p.keys(SUPERVISOR[0])
        p.tap("field:pin")
        p.keys(SUPERVISOR[1])
        state = rig.enter()
        assert state["screen"] == "desk" and state["application"]["payment"] is None
        # Park the walk-in (gone to fetch a document), serve the next one, resume.
        p.press_key("f5")
        p.press_key("f2")
        state = rig.state()
        assert state["ticket"]["number"].startswith("B")
        shoot("desk-parked")
        p.tap("start_transfer")
        p.tap("choose:service:building-completion-certificate")
        shoot("transfer")
        state = rig.enter()
        assert state["screen"] == "desk" and state["ticket"] is None
        parked = next(i for i in rig.pilot.id_list() if i.startswith("resume:"))
        p.tap(parked)
        assert rig.state()["ticket"]["state"] == "serving"
        p.press_key("f4")

        # Search: the kiosk's resident has two applications under one national ID.
        p.press_key("f6")
        p.keys(person["national_id"])
        state = rig.enter()
        assert state["screen"] == "search"
        results = [i for i in p.id_list() if i.startswith("result:")]
        assert len(results) == 2
        shoot("search")
        p.tap(f"result:{kiosk_made['application']['number']}")
        assert rig.state()["application"]["licence"]["number"] == number

        # Revoke (supervisor), then the camera says the licence is not genuine.
        p.tap("revoke")
        rig.type_fields(*SUPERVISOR, "issued in error" if lang == "en" else "صدرت بالخطأ")
        rig.enter()
        assert rig.state()["application"]["licence"]["revoked_at"]
        rig.show_qr(licence_qr[0])
        p.press_key("f7")
        state = p.wait_until(lambda s: s["screen"] == "verify" and any(i.get("type") == "banner"
                                 for i in s["screen_data"]["columns"][0]), timeout_s=20)
        texts = [i.get("text") for i in state["screen_data"]["columns"][0]]
        assert any(words["not_genuine"] in (t or "") for t in texts)
        assert any(words["revoked"] in (t or "") for t in texts)
        shoot("verify")
        # The licence's QR carries fresh random bytes each run: its picture may differ.
        ignore = {"verify": [p.call("camera_box")]}
        p.press_key("escape")

        # Lunch: lock; only sara's PIN opens it again.
        p.press_key("f9")
        shoot("locked")
        p.keys(SUPERVISOR[1])
        assert rig.enter()["screen"] == "locked"
        p.keys("1234")
        assert rig.enter()["screen"] == "desk"

        # Evening: close the shift with the drawer counted 0.500 short.
        p.tap("close_shift")
        p.keys("20.500")
        shoot("shift-close")
        state = rig.enter()
        assert state["screen"] == "z_report"
        shoot("z-report")
        rig.wait_printed(5)  # 2 receipts, the licence and its copy, the Z report
        z = state["z"]
        office = rig.office()
        payments = office.store.all("SELECT * FROM payments WHERE shift_id = ?",
                                    (z["shift_id"],))
        office.close()
        live = [x for x in payments if not x["voided_at"]]
        assert z["total_minor"] == sum(x["amount_minor"] for x in live) == 1000
        assert z["by_method"]["cash"]["total_minor"] == sum(
            x["amount_minor"] for x in live if x["method"] == "cash")
        assert z["voids"]["count"] == 1
        assert z["expected_cash_minor"] == 21_000 and z["difference_minor"] == -500
    problems = check_goldens("counter", shots, names, lang, ignore)
    assert not problems, "\n".join(problems)
