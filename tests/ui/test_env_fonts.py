"""What the UI needs from the machine: an Arabic font and a Kivy environment of our own."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ui.fonts import arabic_font_path

ROOT = Path(__file__).resolve().parents[2]


def test_an_arabic_font_is_installed():
    path = Path(arabic_font_path())
    assert path.is_file() and path.suffix == ".ttf"
    assert "Arabic" in path.name or "Amiri" in path.name
    assert "Bold" in Path(arabic_font_path(bold=True)).name


def test_no_arabic_font_names_the_package_to_install(tmp_path):
    with pytest.raises(RuntimeError, match="fonts-noto-core"):
        arabic_font_path(search_dirs=[tmp_path])


def test_font_preference_and_bold_fallback(tmp_path):
    (tmp_path / "amiri").mkdir()
    for name in ("amiri/Amiri-Regular.ttf", "NotoNaskhArabic-Regular.ttf"):
        (tmp_path / name).write_bytes(b"")
    assert arabic_font_path(search_dirs=[tmp_path]).endswith("NotoNaskhArabic-Regular.ttf")
    # No bold face: the regular one is used (Kivy makes it bold).
    assert arabic_font_path(bold=True, search_dirs=[tmp_path]).endswith(
        "NotoNaskhArabic-Regular.ttf")


def test_kivy_uses_the_data_directory_ignores_our_arguments_and_stays_quiet(tmp_path):
    code = (
        "import sys\n"
        "from ui.env import prepare_kivy_env\n"
        "home = prepare_kivy_env(sys.argv[2])\n"
        "import kivy\n"
        "assert kivy.kivy_home_dir == str(home), kivy.kivy_home_dir\n"
        "try:\n"
        "    prepare_kivy_env(sys.argv[2] + '-other')\n"
        "except RuntimeError:\n"
        "    pass\n"
        "else:\n"
        "    sys.exit('a second, different KIVY_HOME was accepted after kivy was imported')\n"
    )
    data = tmp_path / "deep" / "data"
    result = subprocess.run([sys.executable, "-c", code, "--data", str(data), "--size=1x1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (data / "kivy" / "config.ini").is_file()
    assert list((data / "kivy" / "logs").glob("*.txt")), "Kivy's log file is not kept"
    # Kivy's start-up chatter ([INFO] Logger: Record log in ...) stays off the console.
    assert "INFO" not in result.stderr
