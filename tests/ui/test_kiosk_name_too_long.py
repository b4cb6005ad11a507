"""A name too long for the licence's QR code, in the real kiosk window: every answer passes,
the application is refused as a whole at the review, and the resident is taken back to the
name with the reason under it in Arabic; nothing is stored until the name is shortened."""
import pytest

from kiosk_rig import PERSON, KioskRig

pytestmark = pytest.mark.ui

LONG_NAME = ("عبدالرحمن محمد عبدالله إبراهيم يوسف أحمد حسن علي جعفر سلمان عيسى خليفة "
             "آل محمود")


def test_a_name_too_long_for_the_licence_goes_back_to_the_name(xvfb_display, tmp_path):
    with KioskRig(tmp_path / "rig", lang="ar") as rig:
        p, person = rig.pilot, PERSON["ar"]
        p.tap("home:apply")
        rig.wait_screen("services")
        p.tap("service:residence-certificate")
        rig.wait_screen("service")
        p.tap("start_form")
        rig.fill_form([LONG_NAME, person["national_id"], person["phone"], "208", "2811",
                       "1234"])
        rig.wait_screen("review")
        p.tap("pay_counter")
        rig.wait_screen("form", timeout_s=30)
        p.wait_until(lambda s: not s["busy"] and s["texts"].get("error"))
        texts = rig.state()["texts"]
        assert texts["label"] == "الاسم الكامل" and texts["value"] == LONG_NAME
        assert texts["error"] == ("خانة الاسم الكامل أطول من أن تطبع على الرخصة. "
                                  "يرجى كتابتها بصيغة أقصر.")
        assert rig.office().store.one("SELECT COUNT(*) AS n FROM applications")["n"] == 0
        p.tap("key:backspace", times=len(LONG_NAME) - len(person["full_name"]))
        p.wait_until(lambda s: not s["texts"].get("error"))  # cleared once it changes
