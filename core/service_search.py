"""Finding one service among a ministry's hundred: a search by word in Arabic or English that
forgives the usual spelling variants, and the sector -> category -> service tree a kiosk
offers, most used first (docs/catalog.md, "Sectors, categories and finding a service").

Pure functions over a core.catalog.Catalog (or any list of its services): no store, no
screen. A screen calls `search(catalog, typed, lang, usage)` on each key press and
`browse(catalog, usage)` once per catalogue; `usage` is {service code: times used}, e.g.
the tickets and applications of the last weeks, counted by whoever owns those tables."""
from __future__ import annotations

import re
import unicodedata
import weakref
from dataclasses import dataclass

from .catalog import OTHER, Catalog, Group, Service
from .errors import NotFound, ValidationError
from .text import LANGUAGES, clean_text, search_key, to_ascii_digits

MAX_QUERY = 100  # characters: a kiosk search is a few words; more is a stuck key or a paste
DEFAULT_LIMIT = 10
# Choices one kiosk screen shows without scrolling (its services grid: 8 cards). A catalogue
# whose sectors, categories and services each fit is three taps deep for every service.
SCREEN_CHOICES = 8

# Tiers of a match, best first: the whole name typed; every word typed is a whole word of
# the name; every word begins a word of the name; some word only names the service's
# sector or category ("certificates", "agriculture").
WHOLE_NAME, WHOLE_WORDS, WORD_STARTS, GROUP_WORDS = range(4)
# The definite article, also after "and", "by", "so", "as": "الرخصة" finds "رخصة" and back.
_ARTICLES = ("وال", "بال", "فال", "كال", "ال")
_ARABIC = "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff"
# A word typed half in one script ("bناء": the keyboard switched mid-word) is two words.
_ONE_SCRIPT = re.compile(f"[{_ARABIC}]+|[^{_ARABIC}]+")


def words(text: str) -> list[str]:
    """Text as search compares it: spelling variants folded (core.text.search_key: alef
    forms, hamza, ta marbuta, alef maqsura, harakat, tatweel), Latin in lower case, digits
    as 0-9, punctuation as spaces, a word switching script mid-way split in two, each word
    stemmed (_stem). Only diacritics or punctuation: no words."""
    text = search_key(to_ascii_digits(text))
    text = "".join(ch if unicodedata.category(ch)[0] in "LN" else " " for ch in text)
    out = []
    for word in text.split():
        for part in _ONE_SCRIPT.findall(word):
            out.append(_stem(part))
    return out


def _stem(word: str) -> str:
    """A word without what varies between one and many or with the article, so a plural
    finds its singular: "الرخصة"/"رخص" -> "رخص", "شهادات"/"شهادة" -> "شهاد", "permits" ->
    "permit", "taxes" -> "tax", "categories" -> "category". Short words stay whole."""
    for article in _ARTICLES:
        if word.startswith(article) and len(word) > len(article) + 1:
            word = word[len(article):]
            break
    if re.match(f"[{_ARABIC}]", word):  # one script per word (words() split them)
        if word.endswith("ات") and len(word) >= 5:
            return word[:-2]
        return word[:-1] if word.endswith("ه") and len(word) >= 4 else word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("xes", "ches", "shes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 \
        else word


@dataclass(frozen=True)
class _Entry:
    service: Service
    position: int
    names: tuple[tuple[str, ...], ...]  # each language's name, as words
    name_words: frozenset[str]
    group_words: frozenset[str]


# A catalogue's words, worked out once: a kiosk searches on every key press.
_INDEXES: weakref.WeakKeyDictionary[Catalog, list[_Entry]] = weakref.WeakKeyDictionary()


def _entries(catalog, office: str | None) -> list[_Entry]:
    if isinstance(catalog, Catalog):
        entries = _INDEXES.get(catalog)
        if entries is None:
            entries = _INDEXES[catalog] = _index(catalog)
    else:
        entries = _index(catalog)
    return [e for e in entries if office is None or e.service.offered_at(office)]


def _index(services) -> list[_Entry]:
    out = []
    for i, s in enumerate(services):
        names = tuple(tuple(words(s.name.get(lang))) for lang in LANGUAGES)
        groups = [w for g in (s.sector, s.category) if g.code != OTHER
                  for lang in LANGUAGES for w in words(g.get(lang))]
        out.append(_Entry(s, i, names, frozenset(w for n in names for w in n),
                          frozenset(groups)))
    return out


def _tier(entry: _Entry, query: list[str]) -> int | None:
    if any(list(name) == query for name in entry.names):
        return WHOLE_NAME
    if all(q in entry.name_words for q in query):
        return WHOLE_WORDS
    starts = [any(w.startswith(q) for w in entry.name_words) for q in query]
    if all(starts):
        return WORD_STARTS
    if all(hit or any(w.startswith(q) for w in entry.group_words)
           for q, hit in zip(query, starts)):
        return GROUP_WORDS
    return None


def _usage(usage) -> dict:
    """{code: times used}; counts come from the store, not a person: a bad one is a
    programming slip (reason=), refused before anything is ranked."""
    if usage is None:
        return {}
    if not isinstance(usage, dict) or not all(
            isinstance(k, str) and isinstance(n, int) and not isinstance(n, bool) and n >= 0
            for k, n in usage.items()):
        raise ValidationError("usage: a table {service code: times used (0 or more)}",
                              field="usage", reason="not_counts")
    return usage


def _offered(catalog, office: str | None) -> list[Service]:
    return [s for s in catalog if office is None or s.offered_at(office)]


def search(catalog, text, lang: str = "ar", usage: dict | None = None,
           limit: int = DEFAULT_LIMIT, office: str | None = None) -> list[Service]:
    """The services `text` finds, best first: by tier (the whole name, whole words, words'
    beginnings, then the sector's or category's words), then the most used, then catalogue
    order. Every word typed must match (Arabic and Latin words may be mixed: each is looked
    up in both languages' names, whatever `lang`, which only checks the caller). Text with
    no letter or digit (only diacritics, say) finds nothing: the screen keeps its "type a
    word" hint. More than MAX_QUERY characters is refused (ValidationError field "search",
    problem "too_long"), as are direction controls (core.text.clean_text's rules). `office`:
    only the services it offers."""
    if lang not in LANGUAGES:
        raise ValidationError(f"lang: one of {', '.join(LANGUAGES)}", field="lang",
                              reason="unknown_language")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError("limit: a whole number of services, 1 or more", field="limit",
                              reason="not_a_limit")
    counts = _usage(usage)
    query = words(clean_text(text, "search", max_length=MAX_QUERY))
    if not query:
        return []
    found = []
    for entry in _entries(catalog, office):
        tier = _tier(entry, query)
        if tier is not None:
            found.append((tier, -counts.get(entry.service.code, 0), entry.position,
                          entry.service))
    found.sort(key=lambda t: t[:3])
    return [t[3] for t in found[:limit]]


@dataclass(frozen=True)
class CategoryNode:
    """One category of a sector: its services, most used first."""
    group: Group
    services: tuple[Service, ...]
    uses: int

    @property
    def code(self) -> str:
        return self.group.code


@dataclass(frozen=True)
class SectorNode:
    """One sector: its categories, most used first ("other" last)."""
    group: Group
    categories: tuple[CategoryNode, ...]
    uses: int

    @property
    def code(self) -> str:
        return self.group.code


def browse(catalog, usage: dict | None = None, office: str | None = None) -> list[SectorNode]:
    """Sectors -> categories -> services, each level most used first (ties: catalogue
    order), the "other" bucket last. A group is named by the words of its first service.
    `office`: only the services it offers (a sector or category left empty is not shown)."""
    counts = _usage(usage)
    services = _offered(catalog, office)
    position = {s.code: i for i, s in enumerate(services)}
    sectors: dict[str, dict[str, list[Service]]] = {}
    sector_group: dict[str, Group] = {}
    category_group: dict[tuple[str, str], Group] = {}
    for s in services:
        sector_group.setdefault(s.sector.code, s.sector)
        category_group.setdefault((s.sector.code, s.category.code), s.category)
        sectors.setdefault(s.sector.code, {}).setdefault(s.category.code, []).append(s)

    def order(code: str, uses: int, first: int):
        return (code == OTHER, -uses, first)

    tree = []
    for sector_code, categories in sectors.items():
        nodes = []
        for category_code, members in categories.items():
            members.sort(key=lambda s: (-counts.get(s.code, 0), position[s.code]))
            nodes.append(CategoryNode(category_group[(sector_code, category_code)],
                                      tuple(members), sum(counts.get(s.code, 0)
                                                          for s in members)))
        nodes.sort(key=lambda n: order(n.code, n.uses,
                                       min(position[s.code] for s in n.services)))
        tree.append(SectorNode(sector_group[sector_code], tuple(nodes),
                               sum(n.uses for n in nodes)))
    tree.sort(key=lambda n: order(n.code, n.uses, min(position[s.code] for c in n.categories
                                                      for s in c.services)))
    return tree


def path_to(tree: list[SectorNode], code: str) -> tuple[SectorNode, CategoryNode, Service]:
    """Where a service sits in browse()'s tree (NotFound if it is not there)."""
    for sector in tree:
        for category in sector.categories:
            for service in category.services:
                if service.code == code:
                    return sector, category, service
    raise NotFound(f"no service {code!r} in this tree", service=code)


def taps_to(tree: list[SectorNode], code: str) -> int:
    """Taps from the tree's first screen to the service's own screen, the kiosk skipping a
    level that offers one choice (one sector: start at its categories; one category: at its
    services). At most 3; every choice is on screen when no level holds more than
    SCREEN_CHOICES (crowded() lists those that do)."""
    sector, _, _ = path_to(tree, code)
    return (len(tree) > 1) + (len(sector.categories) > 1) + 1


def crowded(tree: list[SectorNode], per_screen: int = SCREEN_CHOICES) -> list[str]:
    """The levels holding more than `per_screen` choices (a resident would scroll there):
    "sectors", "SECTOR" (its categories) or "SECTOR/CATEGORY" (its services)."""
    out = ["sectors"] if len(tree) > per_screen else []
    for sector in tree:
        if len(sector.categories) > per_screen:
            out.append(sector.code)
        out += [f"{sector.code}/{c.code}" for c in sector.categories
                if len(c.services) > per_screen]
    return out
