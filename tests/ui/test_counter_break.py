"""A clerk takes a break and comes back, on the real counter app under Xvfb, in Arabic and
English (core/counter_states.py, docs/queue.md "Counter states"): the reason chosen from the
short list, the desk saying "on break - prayer, since 09:04", call next refused with words,
back-office work with a note of one's own, and back to serving. Screenshots are kept in
/tmp/shots-h2/ (looked at when this was written)."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from counter_rig import CounterRig

pytestmark = pytest.mark.ui

SHOTS = Path(os.environ.get("NAFITHA_SHOTS", "/tmp/shots-h2"))
WORDS = {"ar": {"since": "في استراحة · صلاة", "time": "منذ {time}",
                "refused": "اضغط العودة إلى الخدمة أولاً", "started": "بدأت الاستراحة",
                "back": "عدت إلى الخدمة", "note": "جرد المخزن", "ticket": "أنهِها أو علّقها"},
         "en": {"since": "On break · Prayer", "time": "since {time}",
                "refused": "press Back to serving first", "started": "Break started",
                "back": "Back to serving", "note": "Stock count",
                "ticket": "finish or park it first"}}


def shown(rig) -> tuple[str, dict]:
    """The desk's texts (banners, facts, hints) and its buttons by id (enabled or not)."""
    items = [i for col in rig.state()["screen_data"]["columns"] for i in col]
    texts = " ".join(i.get("text", "") for i in items)
    buttons = {b["id"]: b["enabled"] for i in items if i["type"] == "buttons"
               for b in i["buttons"]}
    return texts, buttons


def counter_state(rig) -> dict:
    office = rig.office()
    try:
        return office.counter_states.get(office.settings.counter.name)
    finally:
        office.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_break_and_back_office_work_and_back(lang, xvfb_display, tmp_path):
    words = WORDS[lang]
    with CounterRig(tmp_path / "rig", lang=lang) as rig:
        p = rig.pilot

        def shoot(name):
            p.screenshot(SHOTS / f"counter-{name}-{lang}.png")

        office = rig.office()
        office.queue.take_ticket("residence-certificate")
        office.close()
        assert rig.sign_in()["screen"] == "shift_open"
        assert counter_state(rig)["state"] == "open"  # signing in opened the counter
        p.keys("0")
        assert rig.enter()["screen"] == "desk"
        shoot("desk-open")
        assert shown(rig)[1]["away:break"] is True  # nobody called here: may step away
        p.advance(4 * 60)  # (five minutes untouched would lock the screen)

        # A break: the reason from the list.
        p.tap("away:break")
        state = rig.wait_screen("away")
        shoot("break-reason")
        assert rig.enter()["screen"] == "away"  # no reason chosen yet: refused, kept
        assert state["form"]["values"]["reason"] == ""
        p.tap("choose:reason:prayer")
        state = rig.enter()
        assert state["screen"] == "desk" and words["started"] in rig.notice()
        saved = counter_state(rig)
        assert (saved["state"], saved["reason"], saved["clerk"]) == ("break", "prayer", "sara")
        texts, buttons = shown(rig)
        local = datetime.fromisoformat(saved["since"]).astimezone(ZoneInfo("Asia/Bahrain"))
        assert words["since"] in texts
        assert words["time"].format(time=local.strftime("%H:%M")) in texts
        assert buttons["call_next"] is False and buttons["back_to_serving"] is True
        shoot("on-break")

        # Call next (F2) on a break: refused, in words, nobody called.
        p.press_key("f2")
        p.settle()
        assert words["refused"] in rig.notice()
        assert rig.state()["ticket"] is None
        shoot("call-next-refused")

        # Back to serving, then the waiting resident is called.
        p.tap("back_to_serving")
        p.settle()
        assert words["back"] in rig.notice()
        assert counter_state(rig)["state"] == "open"
        p.press_key("f2")
        p.settle()
        assert rig.state()["ticket"]["number"] == "R001"
        # With a ticket called, stepping away is not offered; core would refuse it anyway.
        assert "away:break" not in shown(rig)[1]
        p.press_key("f4")  # finish
        p.settle()

        # Back-office work for a reason of one's own: "other" asks for a few words.
        p.tap("away:back_office")
        rig.wait_screen("away")
        p.tap("choose:reason:other")
        state = rig.enter()
        assert state["screen"] == "away"  # the note is needed
        p.keys(words["note"])
        shoot("back-office-note")
        state = rig.enter()
        assert state["screen"] == "desk"
        saved = counter_state(rig)
        assert (saved["state"], saved["reason"], saved["note"]) == \
            ("back_office", "other", words["note"])
        assert words["note"] in shown(rig)[0]
        shoot("back-office")
        p.tap("back_to_serving")
        p.settle()

        # Signing out closes the counter.
        p.tap("sign_out")
        p.settle()
        assert counter_state(rig)["state"] == "closed"
