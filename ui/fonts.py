"""Finding an Arabic font on the machine (Debian: fonts-noto-core, or fonts-hosny-amiri)."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from devices.fonts import FONT_DIRS, find_font
# Noto Sans Arabic first: its stroke weight and x-height sit well next to Roboto, Kivy's
# Latin font, on the same row. Naskh and Amiri are more bookish but read just as well.
ARABIC_FONTS = {
    False: ("NotoSansArabic-Regular.ttf", "NotoNaskhArabic-Regular.ttf", "Amiri-Regular.ttf"),
    True: ("NotoSansArabic-Bold.ttf", "NotoNaskhArabic-Bold.ttf", "Amiri-Bold.ttf"),
}


def arabic_font_path(bold: bool = False, search_dirs: Iterable[str | Path] | None = None) -> str:
    """Path of the preferred Arabic font file. A missing bold face falls back to the regular
    one (Kivy then draws a synthetic bold). Raises RuntimeError if there is no Arabic font."""
    dirs = tuple(str(d) for d in (FONT_DIRS if search_dirs is None else search_dirs))
    path = find_font(ARABIC_FONTS[bold] + (ARABIC_FONTS[False] if bold else ()), dirs)
    if path:
        return path
    raise RuntimeError(
        f"no Arabic font found in {', '.join(dirs)} (looked for "
        f"{', '.join(ARABIC_FONTS[False])}); install the Debian package fonts-noto-core "
        f"(`make setup` does this)")


ARABIC_FONT_NAME = "NafithaArabic"


def register_arabic_font(name: str = ARABIC_FONT_NAME) -> str:
    """Register the Arabic font (regular and bold) with Kivy under `name`, so .kv files can
    say `font_name: 'NafithaArabic'` and `bold: True`. Call after prepare_kivy_env."""
    from kivy.core.text import LabelBase

    LabelBase.register(name, arabic_font_path(), fn_bold=arabic_font_path(bold=True))
    return name
