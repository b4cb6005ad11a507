"""The counter where a newcomer stumbled (issue 25), and its Arabic text: what each screen
shows, computed by its view-model on the real core (no window), then one journey on the real
app under Xvfb for what must be seen (the header, the notice strip, 30 services waiting, the
Z report's difference above the fold)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.faces.counter import CounterFace
from counter.desk import Desk
from counter_screens import Shown
from ui.i18n import Translations

SHOTS = Path("/tmp/shots-h7")
ADDRESS = {"block": "338", "road": "3803", "building": "12"}


class NoPrinter:
    print_language = None

    def print_document(self, *args, **kwargs):
        return None

    def queued(self, job):
        return job


def make_desk(office, lang: str = "ar") -> tuple[Desk, Shown]:
    backend = CounterFace(office, "1")
    desk = Desk(backend, NoPrinter(), lang)
    desk.type_text("sara")
    desk.next_field()
    desk.type_text("1234")
    desk.submit()
    assert desk.screen == "desk"
    return desk, Shown(desk, Translations.load("counter", office.settings.office.digits))


def column(shown: Shown, index: int) -> list[dict]:
    return shown.screen()["columns"][index]


def resident(valid_nid, n: int = 0) -> dict:
    return {"full_name": "فاطمة علي", "national_id": valid_nid(n), "phone": "36001234",
            **ADDRESS}


# --- the desk ----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["ar", "en"])
def test_no_ticket_says_what_to_do_instead_of_four_blank_buttons(office, till, lang):
    desk, shown = make_desk(office, lang)
    serving = column(shown, 1)
    assert not [i for i in serving if i["type"] == "buttons"], serving
    texts = [i["text"] for i in serving if i["type"] == "text"]
    assert texts == [shown.t("desk.no_ticket"), shown.t("desk.no_ticket_hint")]
    # With a ticket called, its buttons are back, each with words.
    office.queue.take_ticket("residence-certificate")
    desk.call_next()
    buttons = next(i for i in column(shown, 1) if i.get("key") == "ticket")["buttons"]
    assert [b["id"] for b in buttons] == ["recall", "no_show", "park", "start_transfer",
                                          "finish"]
    assert all(b["label"].strip() and b["enabled"] for b in buttons)


def test_the_queue_overview_says_waits_in_words_and_arabic_counts_minutes(office, till):
    desk, shown = make_desk(office, "ar")
    from counter.screens.desk import DeskViewModel

    vm = DeskViewModel()
    vm.desk, vm.tr, vm.settings = desk, shown.tr, desk.settings
    words = {-61: "أقل من دقيقة", 0: "أقل من دقيقة", 1: "دقيقة واحدة", 2: "دقيقتين",
             3: "3 دقائق", 10: "10 دقائق", 11: "11 دقيقة", 61: "61 دقيقة"}
    assert {m: vm.minutes(m) for m in words} == words
    # The longest wait first, then the services nobody waits for; each row names its service.
    overview = [{"service": "residence-certificate", "waiting": 0, "longest_wait_minutes": 0},
                {"service": "address-form", "waiting": 2, "longest_wait_minutes": 3},
                {"service": "excavation-permit", "waiting": 1, "longest_wait_minutes": 16}]
    rows = vm.queue_rows(overview)
    assert [r["key"] for r in rows] == ["excavation-permit", "address-form",
                                        "residence-certificate"]
    assert rows[0]["name"] == "رخصة حفريات"
    assert rows[0]["detail"] == "ينتظر 1، أطول انتظار 16 دقيقة"
    assert rows[1]["detail"] == "ينتظر 2، أطول انتظار 3 دقائق"
    assert rows[2]["detail"] == "لا أحد بالانتظار" and not rows[2]["busy"]
    vm.desk.lang = "en"
    assert vm.queue_rows(overview)[0]["detail"] == "1 waiting, the longest for 16 minutes"
    # A ministry's catalogue: the services nobody waits for on one line.
    many = overview + [{"service": f"s{n}", "waiting": 0, "longest_wait_minutes": 0}
                       for n in range(20)]
    rows = vm.queue_rows(many)
    assert [r["type"] for r in rows] == ["queue_row", "queue_row", "text"]
    assert rows[-1]["text"] == "Nobody waiting for the other 21 services"


def test_the_queue_overview_in_arabic_indic_digits(office, till):
    desk, _ = make_desk(office, "ar")
    from counter.screens.desk import DeskViewModel

    vm = DeskViewModel()
    vm.desk, vm.tr, vm.settings = desk, Translations.load("counter", "arabic"), desk.settings
    row = vm.queue_rows([{"service": "address-form", "waiting": 12,
                          "longest_wait_minutes": 25}])[0]
    assert row["detail"] == "ينتظر ١٢، أطول انتظار ٢٥ دقيقة"


def test_the_queue_overview_on_the_desk_names_every_waiting_service(office, till):
    desk, shown = make_desk(office, "ar")
    office.queue.take_ticket("address-form")
    office.store.clock.advance(seconds=5 * 60)
    desk.refresh()
    rows = [i for i in column(shown, 0) if i["type"] == "queue_row"]
    assert len(rows) == len(office.catalog.services)
    assert rows[0]["key"] == "address-form"
    assert rows[0]["detail"] == "ينتظر 1، أطول انتظار 5 دقائق"


def test_the_application_lists_answers_in_the_forms_order(office, till, valid_nid):
    desk, shown = make_desk(office, "en")
    made = office.applications.submit("residence-certificate", resident(valid_nid))
    desk.show_application(made["number"])
    service = office.catalog.get("residence-certificate")
    labels = [f.label.get("en") for f in service.fields]
    facts = [i["label"] for i in column(shown, 2) if i["type"] == "fact"]
    shown_labels = [label for label in facts if label in labels]
    assert shown_labels == labels  # the form's order, not the keys' alphabetical order
    assert sorted(labels) != labels  # (which would be a different order)


def test_reject_stands_apart_and_asks_for_confirmation_first(office, till, valid_nid,
                                                              db_state):
    desk, shown = make_desk(office, "ar")
    made = office.applications.submit("residence-certificate", resident(valid_nid))
    desk.show_application(made["number"])
    rows = [i for i in column(shown, 2) if i["type"] == "buttons"]
    by_key = {r["key"]: [b["id"] for b in r["buttons"]] for r in rows}
    assert by_key["application"] == ["pay"]  # the next step, alone in its row
    assert by_key["application_undo"] == ["reject"]  # a row of its own, below
    keys = [r["key"] for r in rows]
    assert keys.index("application_undo") > keys.index("application")
    before = db_state()
    desk.request("reject")
    assert desk.screen == "authorise"
    panel = column(shown, 0)
    warning = [i for i in panel if i["type"] == "banner"]
    assert warning and warning[0]["tone"] == "warn" and \
        warning[0]["text"] == shown.t("authorise.reject_warning")
    submit = next(b for i in panel if i["type"] == "buttons" for b in i["buttons"]
                  if b["id"] == "submit")
    assert submit["label"] == "نعم، ارفض الطلب" and submit["kind"] == "danger"
    desk.back()  # changed their mind: nothing happened
    assert desk.screen == "desk" and desk.application["state"] == made["state"]
    assert db_state() == before


# --- the Z report -------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_z_report_puts_the_drawers_difference_first(office, till, lang):
    desk, shown = make_desk(office, lang)
    desk.start_close_shift()
    desk.type_text("19.500")
    desk.submit()
    assert desk.screen == "z_report"
    items = column(shown, 0)
    assert items[1]["type"] == "banner" and items[1]["tone"] == "error"
    amount = "0.500 د.ب" if lang == "ar" else "0.500 BHD"
    assert amount in items[1]["text"]
    assert items[2]["type"] == "fact" and items[2]["label"] == shown.t("z.difference")
    assert items[2]["value"] == ("عجز 0.500 د.ب" if lang == "ar" else "0.500 BHD short")


# --- the frame --------------------------------------------------------------------------

def test_an_office_without_central_works_offline_without_a_warning(office, till):
    _, shown = make_desk(office, "ar")
    never = {"online": None, "pending": 4, "held": 0, "central_url": None}
    chrome = shown.chrome({"sync": never})
    assert chrome["online"] == "يعمل دون منصة مركزية" and chrome["online_tone"] == "ok"
    # An office with a central that has not answered yet is warned about.
    chrome = shown.chrome({"sync": {**never, "central_url": "https://central.example"}})
    assert chrome["online"] == shown.t("status.never") and chrome["online_tone"] == "warn"
    keys = Path(office.settings.data_dir) / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    (keys / "sync.json").write_text(json.dumps({"url": "https://central.example"}))
    chrome = shown.chrome({"sync": never})  # enrolled (nafitha enrol), not synced yet
    assert chrome["online_tone"] == "warn"


def test_the_header_keeps_the_clerks_latin_name_apart_from_the_arabic_role(office, till):
    _, shown = make_desk(office, "ar")
    chrome = shown.chrome({})
    assert chrome["clerk"] == "sara" and chrome["role"] == "موظف"
    assert chrome["counter"] == "الشباك 1"


# --- the real app --------------------------------------------------------------------------

def _catalogue_108(tmp: Path) -> list[str]:
    """The ministry-scale catalogue for the rig's data directory (before the rig certifies
    the device for its licence types); the codes of its first 30 services."""
    from core.catalog import load_catalog
    from testing.catalog_108 import write_catalog_108

    directory = write_catalog_108(tmp / "catalog-108")
    (tmp / "rig" / "data").mkdir(parents=True, exist_ok=True)
    (tmp / "rig" / "data" / "nafitha.toml").write_text(
        f"catalog_dir = {json.dumps(str(directory))}\n", encoding="utf-8")
    return [s.code for s in load_catalog(directory)][:30]


@pytest.mark.ui
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_newcomers_desk_with_30_services_waiting(lang, xvfb_display, tmp_path, valid_nid):
    from counter_rig import CounterRig

    codes = _catalogue_108(tmp_path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with CounterRig(tmp_path / "rig", lang=lang) as rig:
        p = rig.pilot

        def shoot(name):
            p.screenshot(SHOTS / f"polish-{name}-{lang}.png")

        office = rig.office()
        # rig.office() runs an hour ahead of the app's clock: back to 50 minutes before it.
        office.store.clock.advance(seconds=-(3600 + 50 * 60))
        with office.acting_as("kiosk"):  # the first resident: a ticket and an application
            ticket = office.queue.take_ticket("residence-certificate")
            made = office.applications.submit("residence-certificate", resident(valid_nid),
                                              ticket=ticket["id"])
        for code in codes:  # a resident for each of 30 services, a minute apart
            office.store.clock.advance(seconds=60)
            office.queue.take_ticket(code)
        office.close()
        rig.sign_in()
        p.keys("20")
        assert rig.enter()["screen"] == "desk"

        # Nobody called: no blank buttons, words instead; every service with its wait.
        ids = p.id_list()
        assert not {"recall", "no_show", "park", "start_transfer", "finish"} & set(ids)
        columns = rig.state()["screen_data"]["columns"]
        rows = [i for i in columns[0] if i["type"] == "queue_row"]
        busy = [r for r in rows if r["busy"]]
        assert len(busy) == 30 and all(r["name"] for r in busy), [(i["type"], i.get("key")) for i in columns[0]]
        assert busy[0]["key"] == "residence-certificate"  # the longest wait first
        minutes = "دقيقة" if lang == "ar" else "minutes"
        assert all(minutes in r["detail"] and "-" not in r["detail"] for r in busy)
        chrome = rig.state()["chrome"]
        assert chrome["online_tone"] == "ok" and chrome["clerk"] == "sara"
        shoot("desk-30")
        # Nothing cut off or out of place (the counter's name in the header above all).
        assert [x for x in p.layout() if x["kind"] in ("text_cut", "under_header")] == []

        # Call next, take the fee: the notice has its own strip; nothing moves down.
        p.press_key("f2")
        assert rig.state()["application"]["number"] == made["number"]
        before = [p.call("box", i) for i in ("call_next", "open_search")]
        p.tap("pay")
        p.keys("5")
        state = rig.enter()
        assert state["screen"] == "desk" and state["notice"]["text"]
        assert [p.call("box", i) for i in ("call_next", "open_search")] == before
        assert "call_next" in p.id_list()
        shoot("desk-paid")

        # Reject asks first; Back changes nothing.
        p.tap("reject")
        state = rig.wait_screen("authorise")
        banner = [i for i in state["screen_data"]["columns"][0] if i["type"] == "banner"]
        assert banner and banner[0]["tone"] == "warn"
        shoot("reject-confirm")
        p.press_key("escape")
        assert rig.state()["application"]["state"] != "rejected"

        # The Z report: the drawer's difference above the fold at the window's size.
        p.press_key("f4")
        p.tap("close_shift")
        p.keys("20.500")
        state = rig.enter()
        assert state["screen"] == "z_report" and state["z"]["difference_minor"] == -500
        difference = "الفرق" if lang == "ar" else "Difference"
        assert f"fact:{difference}" in p.id_list()
        shoot("z-report")
        assert [x for x in p.layout() if x["kind"] in ("text_cut", "under_header")] == []
