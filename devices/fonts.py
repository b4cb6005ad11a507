"""Finding font files on the machine, for paper (devices/printing) and screens (ui/).
Debian: fonts-noto-core (Noto Sans/Naskh Arabic, Noto Sans), fonts-dejavu-core."""
from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")


@functools.lru_cache(maxsize=8)
def fonts_by_name(dirs: tuple[str, ...] = FONT_DIRS) -> dict[str, str]:
    """File name -> path of every font file under dirs (the first one found wins)."""
    found: dict[str, str] = {}
    for top in dirs:
        for folder, _, files in sorted(os.walk(top)):
            for name in files:
                found.setdefault(name, os.path.join(folder, name))
    return found


def find_font(names: Iterable[str], dirs: Iterable[str | Path] | None = None) -> str | None:
    """The path of the first of `names` present, or None."""
    found = fonts_by_name(tuple(str(d) for d in (FONT_DIRS if dirs is None else dirs)))
    return next((found[name] for name in names if name in found), None)
