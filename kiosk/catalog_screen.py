"""The catalogue screen: every service with its ticket letter, fee and how it is issued.

CatalogViewModel holds everything the screen shows, already shaped for display; the .kv
file binds only to its properties (and to each row's copy of one `rows` entry)."""
from __future__ import annotations

from pathlib import Path

from kivy.event import EventDispatcher
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from ui.rtl import shape_markup

from .app import FEE_HEADING, HEADING

KV_FILE = str(Path(__file__).with_suffix(".kv"))


class CatalogViewModel(EventDispatcher):
    office_ar = StringProperty()
    office_en = StringProperty()
    heading_ar = StringProperty()
    heading_en = StringProperty()
    fee_heading_ar = StringProperty()
    fee_heading_en = StringProperty()
    # RecycleView data: one dict per service, keys as ServiceRow's properties.
    rows = ListProperty()

    @classmethod
    def from_catalog(cls, settings, rows: list[dict]) -> "CatalogViewModel":
        """rows: kiosk.app.service_rows(catalog). Arabic texts become shaped markup."""
        return cls(
            office_ar=shape_markup(settings.office.name_ar),
            office_en=settings.office.name_en,
            heading_ar=shape_markup(HEADING[0]), heading_en=HEADING[1],
            fee_heading_ar=shape_markup(FEE_HEADING[0]), fee_heading_en=FEE_HEADING[1],
            rows=[{"code": r["code"], "prefix": r["prefix"],
                   "name_ar": shape_markup(r["name_ar"]), "name_en": r["name_en"],
                   # An amount reads the same in both languages; "As assessed" needs two.
                   "fee": shape_markup(r["fee_ar"]),
                   "fee_note": "" if r["fee_en"] == r["fee_ar"] else r["fee_en"],
                   "status_ar": shape_markup(r["status_ar"]), "status_en": r["status_en"],
                   "instant": r["instant"]}
                  for r in rows])


class ServiceRow(BoxLayout):
    code = StringProperty()
    prefix = StringProperty()
    name_ar = StringProperty()
    name_en = StringProperty()
    fee = StringProperty()
    fee_note = StringProperty()
    status_ar = StringProperty()
    status_en = StringProperty()
    instant = BooleanProperty(False)


class CatalogScreen(BoxLayout):
    vm = ObjectProperty(None, rebind=True)


Builder.load_file(KV_FILE)
