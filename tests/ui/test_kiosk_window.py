"""The kiosk window, driven for real: a subprocess under Xvfb, judged by its screenshot."""
from __future__ import annotations

import ctypes
import ctypes.util
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PIL import Image

from core.catalog import load_catalog
from kiosk.app import WINDOW_SIZE, service_rows

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60

# The arguments look like the CLI's on purpose: Kivy would try to parse them (and exit)
# if prepare_kivy_env() did not set KIVY_NO_ARGS.
RUN_KIOSK = textwrap.dedent("""
    import sys
    from core.catalog import load_catalog
    from core.settings import load_settings
    from kiosk.app import run_kiosk

    data, screenshot, exit_after = sys.argv[2], sys.argv[4], sys.argv[6]
    run_kiosk(load_settings(data), load_catalog(), screenshot=screenshot or None,
              exit_after=float(exit_after) if exit_after else None)
""")


def run_kiosk_process(data_dir: Path, screenshot: Path | None = None,
                      exit_after: float | None = None) -> subprocess.CompletedProcess:
    args = ["--data", str(data_dir), "--screenshot", str(screenshot or ""),
            "--exit-after", "" if exit_after is None else str(exit_after)]
    return subprocess.run([sys.executable, "-c", RUN_KIOSK, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT_S)


def colour_runs(column: list[tuple], colour: tuple, tolerance: int = 40) -> int:
    """How many separate vertical stretches of `colour` a pixel column has."""
    runs, inside = 0, False
    for px in column:
        match = all(abs(a - b) <= tolerance for a, b in zip(px[:3], colour))
        runs += match and not inside
        inside = match
    return runs


@pytest.fixture(scope="module")
def screenshot(xvfb_display, tmp_path_factory) -> Image.Image:
    tmp = tmp_path_factory.mktemp("kiosk")
    png = tmp / "shots" / "catalog.png"
    result = run_kiosk_process(tmp / "data", screenshot=png)
    assert result.returncode == 0, f"kiosk exited {result.returncode}:\n{result.stderr}"
    assert png.is_file(), f"no screenshot at {png}:\n{result.stderr}"
    assert (tmp / "data" / "kivy" / "config.ini").is_file(), "KIVY_HOME is not in --data"
    return Image.open(png).convert("RGB")


@pytest.mark.ui
def test_window_has_the_kiosk_size(screenshot):
    assert screenshot.size == WINDOW_SIZE


@pytest.mark.ui
def test_screen_is_drawn_with_text_on_both_sides(screenshot):
    assert len(screenshot.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 200, \
        "almost no distinct colours: the window looks blank"
    width, height = screenshot.size
    grey = screenshot.convert("L")
    # Below the heading, near-black pixels are the ink of the service names: English on
    # the left, Arabic on the right (the navy badges and coloured statuses are lighter).
    body_top = 220
    for name, box in (("left", (0, body_top, width // 3, height)),
                      ("right", (2 * width // 3, body_top, width, height))):
        dark = sum(grey.crop(box).histogram()[:40])
        assert dark > 3000, f"only {dark} text pixels in the {name} third"


@pytest.mark.ui
def test_every_service_has_a_row_coloured_by_how_it_is_issued(screenshot):
    # Each row has a status bar on its left edge: green if issued on the spot,
    # amber if it needs review. All rows of the default catalogue fit on one screen.
    catalog = load_catalog()
    column = [screenshot.getpixel((39, y)) for y in range(screenshot.height)]
    instant = sum(s.instant for s in catalog)
    assert colour_runs(column, (0x0B, 0x6B, 0x2E)) == instant
    assert colour_runs(column, (0x8A, 0x4B, 0x00)) == len(catalog) - instant


class _XTextProperty(ctypes.Structure):
    _fields_ = [("value", ctypes.c_void_p), ("encoding", ctypes.c_ulong),
                ("format", ctypes.c_int), ("nitems", ctypes.c_ulong)]


def x_window_names(display: str) -> list[str]:
    """Titles (WM_NAME) of the top-level windows on an X display, read with libX11: the
    title is not visible from inside Kivy (its Window.title property stays 'Kivy')."""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong] + [ctypes.c_void_p] * 4
    x11.XGetWMName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p]
    x11.XFree.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(display.encode())
    assert dpy, f"cannot open X display {display}"
    try:
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        if not x11.XQueryTree(dpy, x11.XDefaultRootWindow(dpy), ctypes.byref(root),
                              ctypes.byref(parent), ctypes.byref(children),
                              ctypes.byref(count)):
            return []
        names = []
        for i in range(count.value):
            prop = _XTextProperty()
            # SDL stores the title as UTF-8, which XFetchName would refuse.
            if x11.XGetWMName(dpy, children[i], ctypes.byref(prop)) and prop.value:
                names.append(ctypes.string_at(prop.value, prop.nitems).decode("utf-8", "replace"))
                x11.XFree(prop.value)
        if children:
            x11.XFree(children)
        return names
    finally:
        x11.XCloseDisplay(dpy)


@pytest.mark.ui
def test_window_is_titled_and_exit_after_stops_the_app(xvfb_display, tmp_path):
    args = ["--data", str(tmp_path / "data"), "--screenshot", "", "--exit-after", "2"]
    proc = subprocess.Popen([sys.executable, "-c", RUN_KIOSK, *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, seen = time.monotonic() + TIMEOUT_S, set()
        while "Nafitha" not in seen and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
            seen.update(x_window_names(xvfb_display))
        _, stderr = proc.communicate(timeout=TIMEOUT_S)
    finally:
        proc.kill()
    assert "Nafitha" in seen, f"window titles seen: {sorted(seen)}\n{stderr}"
    assert proc.returncode == 0, stderr


def test_importing_the_kiosk_does_not_import_kivy():
    code = "import sys, kiosk.app; sys.exit('kivy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_service_rows_show_fee_and_how_the_service_is_issued():
    rows = {r["code"]: r for r in service_rows(load_catalog())}
    residence = rows["residence-certificate"]
    assert (residence["prefix"], residence["fee_en"]) == ("R", "1.000 BHD")
    assert residence["status_ar"] == "تصدر فوراً"
    assert residence["status_en"] == "Issued on the spot"
    permit = rows["building-permit-small"]
    assert (permit["fee_ar"], permit["status_en"]) == ("20.000 BHD", "Needs review")
    # The tax has no fixed fee: it is whatever the assessment says.
    assert rows["building-land-tax"]["fee_en"] == "As assessed"
