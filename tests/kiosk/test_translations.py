"""Every word the kiosk shows exists in Arabic and English."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ui.i18n import TranslationError, Translations

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
ARABIC = re.compile("[\u0600-\u06ff]")
LATIN = re.compile("[A-Za-z]")


def test_every_key_the_kiosk_uses_is_translated():
    tr = Translations.load("kiosk")
    used = set()
    for path in KIOSK.rglob("*.py"):
        used |= set(re.findall(r"""tr\.get\(\s*f?["']([a-z_]+\.[a-z_{}]+)["']""",
                               path.read_text()))
    literal = {k for k in used if "{" not in k}
    assert len(literal) > 40
    missing = sorted(k for k in literal if k not in tr.entries)
    assert not missing, missing
    # keys built from a state or reason: each family is complete
    for prefix in ("payment.", "status.", "reason.", "home."):
        assert any(k.startswith(prefix) for k in tr.entries)
    for state in ("declined", "timeout", "cancelled", "offline", "pending", "unrecorded"):
        assert f"payment.{state}" in tr.entries
    from core.credentials.licence import REASONS
    assert {f"reason.{r}" for r in REASONS} <= set(tr.entries)


def test_arabic_is_arabic_and_english_is_english():
    tr = Translations.load("kiosk")
    for key, texts in tr.entries.items():
        if key in ("common.language", "review.empty"):  # names the other language; a dash
            continue
        assert ARABIC.search(texts["ar"]), key
        assert not ARABIC.search(texts["en"]), key
        # The Arabic font has no Latin letters: only "QR" (a name) may appear, set apart.
        assert not LATIN.search(re.sub(r"\{\w+\}", "", texts["ar"]).replace("QR", "")), key


def test_digits_follow_the_office_setting_but_identifiers_do_not():
    tr = Translations.load("kiosk", digits="arabic")
    assert tr.get("ticket.ahead", "ar", n=12) == "عدد المنتظرين قبلك: ١٢"
    assert tr.get("ticket.ahead", "en", n=12) == "People ahead of you: 12"
    assert "MUH-2026" in tr.get("status.next_rejected", "ar", reason="MUH-2026")


def test_a_broken_translation_file_is_refused_with_its_name(tmp_path):
    (tmp_path / "kiosk.toml").write_text('[home]\nwelcome = { ar = "أهلاً" }\n')
    with pytest.raises(TranslationError, match="home.welcome needs non-empty ar and en"):
        Translations.load("kiosk", directory=tmp_path)
    with pytest.raises(TranslationError, match="no translation"):
        Translations.load("kiosk").get("home.nothing", "ar")
