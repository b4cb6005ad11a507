"""Choose a service: its name, fee and how it is issued (for a ticket or an application).

Every service fits one screen (the 8 shipped): they are the list, most used first. A
ministry's catalogue (108): sectors, then categories, then services, most used first, a
level with one choice skipped (KioskFlow.browse_level), and a Search button (search.py).

Speed: a card is built once per service (or group) and kept; a visit, a language or a level
only changes the cards' words in place or which cards the grid holds (a tap to this screen
used to rebuild every card)."""
from __future__ import annotations

from ui.messages import format_money
from ui.screens import RowsScreen, ViewModel, load_kv


def fee_text(service, flow, tr) -> str:
    if service.fee_from_field:
        return tr.get("common.fee_assessed", flow.lang)
    return format_money(service.fee_minor, service.currency, flow.lang, tr.digits)


def finished_text(service, finished: dict, flow, tr) -> str:
    """Why a service gives no more tickets today, in a sentence (core/ticket_limits.py)."""
    lang, name = flow.lang, service.name.get(flow.lang)
    if finished["state"] == "closed" and finished.get("cutoff"):
        return tr.get("services.closed_today", lang, service=name,
                      time=tr.digits_of(finished["cutoff"], lang))
    return tr.get("services.full_today", lang, service=name)


def service_row(service, finished: dict, flow, tr) -> dict:
    """One service card's words (the service list's and the search's)."""
    lang = flow.lang
    return {"kind": "service", "code": service.code, "name": service.name.get(lang),
            "fee": f"{tr.get('common.fee', lang)}: {fee_text(service, flow, tr)}",
            "issue": tr.get("services.finished_tag", lang) if service.code in finished
            else tr.get("common.instant" if service.instant else "common.review", lang),
            "instant": service.instant, "finished": service.code in finished}


def finished_of(flow) -> dict:
    # Only tickets have a daily cap and a cut-off; an application can be made any time.
    return flow.visit.finished if (flow.visit.mode or "apply") == "ticket" else {}


class ServicesViewModel(ViewModel):
    def compute(self, flow, tr):
        lang, visit = flow.lang, flow.visit
        mode = visit.mode or "apply"
        finished = finished_of(flow)
        level, choices = flow.browse_level()
        rows, notice, where = [], "", []
        if level == "services":
            for s in choices:
                rows.append(service_row(s, finished, flow, tr))
                if s.code == visit.finished_notice and s.code in finished:
                    notice = finished_text(s, finished[s.code], flow, tr)
        else:
            for node in choices:
                n = sum(len(c.services) for c in node.categories) if level == "sectors" \
                    else len(node.services)
                rows.append({"kind": "category" if level == "categories" else "sector",
                             "code": node.code, "name": node.group.get(lang),
                             "count": tr.get("services.count", lang, n=n)})
        # Where the resident is in the tree: the sector, then the category (when tapped).
        view = flow.catalogue_view() if flow.can_search else []
        for node in view:
            if node.code == visit.sector:
                where.append(node.group.get(lang))
                where += [c.group.get(lang) for c in node.categories
                          if c.code == visit.category]
        title = {"sectors": "services.choose_sector",
                 "categories": "services.choose_category"}.get(level,
                                                               f"services.title_{mode}")
        return {"title": tr.get(title, lang), "where": " · ".join(where), "notice": notice,
                "back": tr.get("common.back", lang),
                "search": tr.get("services.search", lang) if flow.can_search else ""}, rows, \
            {"ticket": mode == "ticket", "level": level, "can_search": flow.can_search}


class ServicesScreen(RowsScreen):
    view_model_class = ServicesViewModel
    rows_in = "grid"

    def __init__(self, **kwargs):
        self._cards: dict[tuple[str, str], object] = {}  # (kind, code) -> its card, kept
        self._shown: list[tuple[str, str]] = []
        super().__init__(**kwargs)

    def row_widget(self, row):
        kind = row["kind"]
        if kind == "service":
            return "ServiceCard", {"pilot_id": f"service:{row['code']}",
                                   **{k: v for k, v in row.items() if k != "kind"}}
        return "GroupCard", {"pilot_id": f"{kind}:{row['code']}", "action":
                             f"choose_{kind}", **{k: v for k, v in row.items() if k != "kind"}}

    def _fill_rows(self, *_):
        rows = self.vm.rows
        if not rows:
            return  # cleared on a wipe: cards carry no one's data; the next list reuses them
        keys = [(r["kind"], r["code"]) for r in rows]
        cards = [self._card(key, row) for key, row in zip(keys, rows)]
        if keys != self._shown:
            box = self.ids[self.rows_in]
            box.clear_widgets()
            for card in cards:
                box.add_widget(card)
            self._shown = keys
            self.ids.scroll.scroll_y = 1  # a new level starts at its top
        self._even_cards()

    def _card(self, key: tuple[str, str], row: dict):
        """The card of one service or group, made the first time and kept; its words set."""
        from ui.widgets import make

        kv_class, values = self.row_widget(row)
        card = self._cards.get(key)
        if card is None:
            card = self._cards[key] = make(kv_class, **values)
            # Made once and reused: bound once, when made.
            card.bind(minimum_height=self._even_cards, min_height=self._even_cards)
        else:
            for name, value in values.items():
                if getattr(card, name) != value:
                    setattr(card, name, value)
        return card

    def warm(self, app) -> None:
        # The first level's cards, in the grid at the screen's real size, so their words
        # are wrapped and drawn at the width the resident will see (the start screen's
        # flow holds no one's data).
        self.size = app.manager.size
        self.refresh(app.flow, app.tr)

    def _even_cards(self, *_):
        """Every card as tall as the tallest on the screen: rows stay even when one name
        takes two lines (English cards looked uneven and cramped)."""
        cards = self.ids[self.rows_in].children
        if cards:
            height = max(max(c.minimum_height, c.min_height) for c in cards)
            for card in cards:
                if card.height != height:
                    card.height = height


load_kv(__file__)
