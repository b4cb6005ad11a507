"""central/console/i18n.py: every string in both languages, Arabic written in Arabic, and
every key a template asks for exists."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from central.console import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"
ARABIC = re.compile("[\u0600-\u06ff]")


def test_every_key_has_arabic_and_english():
    for key, texts in i18n.STRINGS.items():
        assert set(texts) == {"ar", "en"}, key
        assert texts["ar"].strip() and texts["en"].strip(), key
        if key not in ("lang.en",):  # the name of English is written in English
            assert ARABIC.search(texts["ar"]), f"{key}: the Arabic is not in Arabic"
        assert sorted(re.findall(r"{\w+}", texts["ar"])) == \
            sorted(re.findall(r"{\w+}", texts["en"])), f"{key}: placeholders differ"


def test_every_key_a_template_uses_exists():
    used = {key for path in TEMPLATES.glob("*.html")
            for key in re.findall(r"""\bt\(\s*["']([\w.]+)["']\s*[,)]""", path.read_text())}
    assert used and sorted(used - set(i18n.STRINGS)) == []


def test_a_missing_key_fails_loudly():
    assert i18n.t("sign_in.title", "en") == "Sign in"
    assert i18n.t("home.welcome", "ar", name="هدى") == "مرحبًا، هدى."
    with pytest.raises(KeyError):
        i18n.t("no.such.key")
