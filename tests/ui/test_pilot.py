"""The test pilot (testing/pilot.py + testing/pilot_client.py) driving a real Kivy app under Xvfb.

One demo app process (tests/ui/pilot_demo_app.py) serves most tests; each starts from the
app's "reset" hook. Crashing and quitting get processes of their own."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from testing.pilot_client import Pilot, PilotError

ROOT = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, str(ROOT / "tests" / "ui" / "pilot_demo_app.py")]
WINDOW_SIZE = (800, 600)

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def app(xvfb_display, tmp_path_factory):
    sock = tmp_path_factory.mktemp("pilot") / "pilot.sock"
    pilot = Pilot.launch(DEMO, env={}, socket_path=sock, cwd=ROOT)
    try:
        yield pilot
    finally:
        pilot.close()


@pytest.fixture
def pilot(app) -> Pilot:
    app.call("reset")
    return app


def test_tap_moves_to_the_second_screen(pilot):
    pilot.tap("start")
    assert pilot.state()["screen"] == "form"
    # Settled: the transition is over, so only the form's widgets are on screen.
    ids = pilot.id_list()
    assert "key:a" in ids and "back" in ids
    assert "start" not in ids


def test_typing_on_the_on_screen_keys_changes_the_label(pilot):
    pilot.tap("start")
    pilot.type("Ab cab")   # "A": key:shift, then key:a
    assert pilot.text("entry") == "Ab cab"
    assert pilot.state()["shift"] is False


def test_a_missing_key_is_named_and_what_came_before_was_typed(pilot):
    pilot.tap("start")
    with pytest.raises(PilotError, match=r"cannot type 'z' \(character 3 of 'abz'\): "
                                         r"no key:z on screen; keys on screen: .*key:a"):
        pilot.type("abz")
    assert pilot.text("entry") == "ab"


def test_the_window_touch_listener_sees_every_tap(pilot):
    before = pilot.state()["window_touches"]
    pilot.tap("start")
    pilot.type("Ab")       # shift, a, b
    assert pilot.state()["window_touches"] == before + 4


def test_tap_times_taps_in_a_row_and_refuses_a_bad_count(pilot):
    pilot.tap("start")
    pilot.type("ab")
    before = pilot.state()["window_touches"]
    pilot.tap("key:a", times=5)
    assert pilot.text("entry") == "abaaaaa"
    assert pilot.state()["window_touches"] == before + 5
    for bad in (0, 501, 2.5, True):
        with pytest.raises(PilotError, match="times must be a whole number from 1 to 500"):
            pilot.tap("key:a", times=bad)
    assert pilot.text("entry") == "abaaaaa"


def test_a_disabled_button_gives_a_clear_error_and_no_touch(pilot):
    before = pilot.state()["window_touches"]
    with pytest.raises(PilotError, match=r"'pay' is disabled \(Button 'pay' at "):
        pilot.tap("pay")
    assert pilot.state()["window_touches"] == before


def test_an_unknown_id_lists_the_visible_ids(pilot):
    with pytest.raises(PilotError) as error:
        pilot.tap("nope")
    message = str(error.value)
    assert "no widget with pilot_id 'nope' on screen; visible ids: " in message
    visible = message.split("visible ids: ", 1)[1].split(", ")
    assert {"start", "load", "pay", "row:0"} <= set(visible)
    # Hidden, off-window and scrolled-away widgets are not offered.
    assert not {"ghost", "offscreen", "row:20", "key:a"} & set(visible)


@pytest.mark.parametrize("hidden, why", [
    ("ghost", "opacity 0"),
    ("offscreen", "outside the window"),
    ("row:20", "outside the window"),
])
def test_widgets_that_cannot_be_seen_cannot_be_tapped(pilot, hidden, why):
    with pytest.raises(PilotError, match=rf"'{hidden}' is in the window but not visible "
                                         rf"\({why}\)"):
        pilot.tap(hidden)


def test_ids_come_in_reading_order_with_their_text(pilot):
    ids = pilot.ids()
    by_id = {entry["id"]: entry for entry in ids}
    assert by_id["start"] == {"id": "start", "disabled": False, "text": "Start"}
    assert by_id["pay"]["disabled"] is True
    # pilot_text (the logical text, e.g. Arabic before shaping) wins over the drawn text.
    assert by_id["greeting"]["text"] == "مرحبا"
    assert "text" not in by_id["rows"]
    order = [entry["id"] for entry in ids]
    assert order.index("title") < order.index("start") < order.index("load")


def test_a_tap_reaches_a_button_inside_a_scroll_view(pilot):
    # A ScrollView hands a tap to its child only when the touch ends (and the touch-up
    # 0.2 s later): tap waits for both.
    pilot.tap("row:2")
    assert pilot.text("result") == "picked 2"


def test_long_press_holds_the_touch_for_real(pilot):
    pilot.tap("start")
    pilot.tap("help")
    assert pilot.state()["help_shown"] is False
    started = time.monotonic()
    pilot.long_press("help", seconds=1.0)
    assert time.monotonic() - started >= 1.0
    assert pilot.state()["help_shown"] is True


def test_tap_and_settle_wait_for_background_work(pilot):
    started = time.monotonic()
    pilot.tap("load")          # a ui.worker task sleeping 0.5 s
    assert pilot.text("result") == "loaded 42"
    assert time.monotonic() - started >= 0.5
    assert pilot.call("load", 0.3) == "started"
    pilot.settle()
    assert pilot.text("result") == "loaded 42"


def test_advance_moves_the_apps_clock(pilot):
    pilot.tap("start")
    before = pilot.state()
    pilot.advance(10)
    after = pilot.state()
    assert after["now"] == before["now"] + 10
    assert after["screen"] == "form"
    pilot.advance(25)          # idle for 35 s: the app goes back home
    after = pilot.state()
    assert (after["screen"], after["idle_resets"]) == ("home", before["idle_resets"] + 1)


def test_screenshot_is_a_png_of_the_window(pilot, tmp_path):
    saved = pilot.screenshot(tmp_path / "shots" / "home.png")
    assert saved == tmp_path / "shots" / "home.png"
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(saved).convert("RGB")
    assert image.size == WINDOW_SIZE
    # Not blank: Kivy's grey buttons and white labels on black.
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20


def test_call_reaches_the_apps_hooks_and_reports_their_errors(pilot):
    assert pilot.call("echo", 1, "x", [2]) == [1, "x", [2]]
    with pytest.raises(PilotError, match="ValueError: pilot_call told to fail"):
        pilot.call("fail")
    assert pilot.state()["screen"] == "home"   # a hook's error does not stop the app


def test_bad_requests_are_refused_clearly(pilot):
    with pytest.raises(PilotError, match="unknown command 'dance'; commands: advance, "):
        pilot.request("dance")
    with pytest.raises(PilotError, match="missing 1 required positional argument: 'id'"):
        pilot.request("tap")
    with pytest.raises(PilotError, match="seconds must be a number of seconds >= 0"):
        pilot.long_press("help", seconds=-1)


def test_wait_until_returns_the_state_or_shows_the_last_one(pilot):
    assert pilot.wait_until(lambda s: s["screen"] == "home")["screen"] == "home"
    with pytest.raises(PilotError, match=r'condition not met within 0.3 s; last state: '
                                         r'\{"screen": "home"'):
        pilot.wait_until(lambda s: False, timeout_s=0.3)


def test_a_crashing_app_raises_with_its_stderr(xvfb_display):
    pilot = Pilot.launch(DEMO, env={}, socket_path=None, cwd=ROOT)
    try:
        with pytest.raises(PilotError) as error:
            pilot.tap("crash")
        message = str(error.value)
        assert "the app raised RuntimeError: demo crash on purpose" in message
        assert "the app exited with code 1" in message
        # The traceback from the app's stderr.
        assert "Traceback (most recent call last)" in message
        assert 'in _crash\n    raise RuntimeError("demo crash on purpose")' in message
        assert pilot.returncode == 1
        with pytest.raises(PilotError, match="the app exited with code 1"):
            pilot.ids()
    finally:
        pilot.close()


def test_quit_stops_the_app_and_removes_its_socket(xvfb_display, tmp_path):
    sock = tmp_path / "quit.sock"
    pilot = Pilot.launch(DEMO, env={}, socket_path=sock, cwd=ROOT)
    try:
        assert sock.exists() and pilot.pid > 0
        pilot.quit()
        assert pilot.proc.wait(timeout=30) == 0
        assert not sock.exists()
    finally:
        pilot.close()
    assert pilot.returncode == 0


def test_an_app_that_fails_at_start_is_reported_with_its_stderr(xvfb_display):
    with pytest.raises(PilotError, match=r"(?s)exited with code 1 before its pilot listened.*"
                                         r"demo app told to fail at start"):
        Pilot.launch(DEMO, env={"PILOT_DEMO_FAIL": "1"}, socket_path=None, cwd=ROOT)


def test_an_app_without_a_pilot_times_out_with_a_hint():
    code = "import sys, time; print('no pilot here', file=sys.stderr, flush=True); time.sleep(30)"
    started = time.monotonic()
    with pytest.raises(PilotError, match=r"(?s)did not listen on .* within 1 s \(does it call "
                                         r"testing.pilot.start_pilot.*no pilot here"):
        Pilot.launch([sys.executable, "-c", code], env={}, socket_path=None, timeout_s=1)
    assert time.monotonic() - started < 15


def test_a_socket_path_too_long_for_unix_is_refused_before_starting(tmp_path):
    with pytest.raises(PilotError, match="over the 107 a Unix socket allows"):
        Pilot.launch(DEMO, env={}, socket_path=tmp_path / ("x" * 120) / "pilot.sock")


def test_the_layout_check_names_what_is_broken_on_the_screen(pilot):
    pilot.call("broken")
    found = pilot.wait_until(lambda s: s["screen"] == "broken") and pilot.layout()
    by_kind = {}
    for problem in found:
        by_kind.setdefault(problem["kind"], []).append(problem["widget"])
    assert by_kind.get("under_header") == ["Label 'under' 'Under'"], found
    assert by_kind.get("outside_parent") == ["Label 'tall' 'Tall'"], found
    assert by_kind.get("text_cut") == \
        ["Label 'cut' 'A sentence far too long for the narrow b'"], found
    assert set(by_kind) == {"under_header", "outside_parent", "text_cut"}, found
    # nothing about what fits, or about the header's own title
    assert not any("'fits'" in p["widget"] or "header_title" in p["widget"] for p in found)
    pilot.call("reset")
