"""Every word the counter shows exists in Arabic and English, and the Arabic keeps Latin
identifiers out of Arabic lines (a Latin run sits below an Arabic line: ui/rtl.py)."""
from __future__ import annotations

import re
from pathlib import Path

from core.credentials.licence import REASONS
from core.queue import PRIORITIES
from counter.desk import SHORTCUTS, VIEWS
from ui.i18n import Translations

COUNTER = Path(__file__).resolve().parents[2] / "counter"
ARABIC = re.compile("[\u0600-\u06ff]")
LATIN = re.compile("[A-Za-z()]")


def test_every_key_the_counter_uses_is_translated():
    tr = Translations.load("counter")
    used = set()
    for path in COUNTER.rglob("*.py"):
        text = path.read_text()
        used |= set(re.findall(r"""self\.t\(\s*["']([a-z_]+\.[a-z_]+)["']""", text))
        used |= set(re.findall(r"""Notice\("ok", ["']([a-z_]+\.[a-z_]+)["']""", text))
        used |= set(re.findall(r"""FormField\([^)]*?["'](form\.[a-z_]+)["']""", text))
    assert len(used) > 60
    missing = sorted(k for k in used if k not in tr.entries)
    assert not missing, missing
    families = {"reason": list(REASONS), "priority": PRIORITIES,
                "shortcut": [step for _, step in SHORTCUTS] + ["back", "enter"],
                "state": ["draft", "submitted", "paid", "approved", "issued", "rejected",
                          "withdrawn", "approved_unpaid"],
                "method": ["cash", "card", "online"], "ticket_state": ["called", "serving",
                                                                      "parked"],
                "authorise": ["approve", "reject", "void", "revoke", "reprint"],
                "notice": ["recall", "no_show", "park", "finish", "transfer", "resume"]}
    for family, names in families.items():
        missing = [n for n in names if f"{family}.{n}" not in tr.entries]
        assert not missing, (family, missing)
    assert {"desk", "search", "payment", "transfer", "verify"} <= set(VIEWS)


def test_arabic_is_arabic_and_identifiers_stand_on_their_own_line():
    tr = Translations.load("counter")
    for key, texts in tr.entries.items():
        if key == "common.language" or not re.sub(r"\{\w+\}|[\s·]", "", texts["ar"]):
            continue  # names the other language; or only placeholders (name · role)
        assert ARABIC.search(texts["ar"]), key
        assert not ARABIC.search(texts["en"]), key
        for line in texts["ar"].split("\n"):
            if ARABIC.search(line):
                # Only a {placeholder} for a number made of digits may sit in an Arabic line.
                bare = re.sub(r"\{(n|m|shift|amount|change|time|user|role|state|who|"
                              r"reason|service|name|due|paid)\}", "", line)
                bare = bare.replace("QR", "")  # a name, as on the licence itself
                assert not LATIN.search(bare) and "{" not in bare, (key, line)
