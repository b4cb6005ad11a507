"""The app side of the test pilot: a real Kivy app driven from another process.

Like Textual's pilot, but Kivy cannot be started twice in one process, so the app runs in
its own process and tests (testing/pilot_client.py) talk to it over a Unix socket. The app
imports this module only when NAFITHA_PILOT is set:

    def on_start(self):
        pilot_socket = os.environ.get("NAFITHA_PILOT")
        if pilot_socket:
            from testing.pilot import start_pilot
            start_pilot(self, pilot_socket)

Protocol: each request is one JSON line {"cmd": ..., ...}; each reply is one JSON line,
{"ok": true, "result": ...} or {"ok": false, "error": "message"} (plus "crashed": true
when app code raised during the command: the app then dies as it would without a pilot).
Commands run one at a time, on the Kivy main thread (Clock.schedule_once + an Event).

Widgets are found by their `pilot_id` attribute (a kv property or a plain attribute) among
the widgets that are in the window, not at opacity 0 (nor inside a parent at opacity 0),
inside the window and inside any StencilView (ScrollView, RecycleView) that clips them, and
not under an open ModalView/Popup. A widget's `pilot_text` (logical text, e.g. Arabic before
shaping) is reported instead of its `text` when it has one.

Optional app hooks (all called on the main thread):
    pilot_state() -> dict           what `state` returns (JSON-able)
    pilot_advance(seconds)          move the app's injected clock
    pilot_call(name, *args) -> Any  the app's own test hooks (JSON-able result)
    pilot_busy() -> str | None      non-empty while the app is not settled (an animation
                                    it wants to finish); `settle` waits for it to clear
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

# The app imports this module only once it runs (Kivy's environment is set by then).
from kivy.input.motionevent import MotionEvent

ENV_VAR = "NAFITHA_PILOT"
SETTLE_TIMEOUT_S = 30.0
SETTLE_MIN_FRAMES = 3
MAIN_THREAD_TIMEOUT_S = 30.0
SCREENSHOT_TIMEOUT_S = 15.0
# A ScrollView passes a quick tap on to its children 0.2 s after the touch ended.
TOUCH_RELEASE_TIMEOUT_S = 1.0
# Characters `type` sends to named keys rather than "key:<char>".
KEY_NAMES = {" ": "space", "\n": "enter", "\b": "backspace", "\t": "tab"}

log = logging.getLogger("nafitha.ui.pilot")


class PilotCommandError(Exception):
    """A command that cannot be done (unknown id, disabled widget, ...): reported to the
    client, the app carries on."""


class AppCrashed(Exception):
    """App code raised while handling the command's input: reported, then re-raised in
    the Kivy loop so the app fails exactly as it would for a real touch."""


def start_pilot(app, socket_path: str | os.PathLike) -> "PilotServer":
    """Listen on `socket_path` (a stale file there is replaced) and serve commands until
    the app stops. Call from the app's build() or on_start()."""
    server = PilotServer(app, socket_path)
    server.start()
    return server


@dataclass
class _Found:
    widget: Any
    pilot_id: str
    box: tuple[float, float, float, float]          # x, y, right, top in window pixels
    visible: tuple[float, float, float, float] | None
    hidden: str | None                              # why it is not visible


class PilotServer:
    def __init__(self, app, socket_path: str | os.PathLike):
        self.app = app
        self.path = Path(socket_path)
        self._sock: socket.socket | None = None
        self._closed = threading.Event()
        self._stopping = False
        self._command_lock = threading.Lock()
        self._touch_ids = itertools.count(1)
        self.commands: dict[str, Callable[..., Any]] = {
            "tap": self.cmd_tap, "long_press": self.cmd_long_press, "type": self.cmd_type,
            "ids": self.cmd_ids, "text": self.cmd_text, "advance": self.cmd_advance,
            "settle": self.cmd_settle, "state": self.cmd_state,
            "screenshot": self.cmd_screenshot, "call": self.cmd_call, "quit": self.cmd_quit,
            "keys": self.cmd_keys, "press_key": self.cmd_press_key,
            "block_ui": self.cmd_block_ui, "layout": self.cmd_layout,
        }

    # -- socket ----------------------------------------------------------------------------

    def start(self) -> None:
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(self.path))
        sock.listen(8)
        self._sock = sock
        self.app.bind(on_stop=lambda *_: self._on_app_stop())
        threading.Thread(target=self._accept_loop, name="pilot-listener", daemon=True).start()
        log.info("pilot listening on %s", self.path)

    def _on_app_stop(self) -> None:
        self._stopping = True
        self.close()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux
            except OSError:
                pass
            self._sock.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="pilot-connection",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            for line in lines:
                if not line.strip():
                    continue
                reply, after = self.handle_line(line)
                try:
                    conn.sendall(json.dumps(reply).encode() + b"\n")
                except OSError:
                    return
                if after is not None:
                    after()

    # -- dispatch --------------------------------------------------------------------------

    def handle_line(self, line: bytes) -> tuple[dict, Callable[[], None] | None]:
        """Run one request; returns the reply and what to do once it is sent."""
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
                raise PilotCommandError('a request is a JSON object with a "cmd" string')
        except (ValueError, PilotCommandError) as exc:
            return {"ok": False, "error": f"bad request {line[:200]!r}: {exc}"}, None
        args = dict(request)
        name = args.pop("cmd")
        command = self.commands.get(name)
        if command is None:
            return {"ok": False, "error": f"unknown command {name!r}; commands: "
                                          f"{', '.join(sorted(self.commands))}"}, None
        with self._command_lock:
            try:
                result = command(**args)
            except TypeError as exc:
                if "argument" not in str(exc) or not _is_signature_error(exc):
                    return _internal_error(name, exc), None
                return {"ok": False, "error": _describe_args_error(exc)}, None
            except PilotCommandError as exc:
                return {"ok": False, "error": str(exc)}, None
            except AppCrashed as exc:
                return {"ok": False, "error": str(exc), "crashed": True}, None
            except Exception as exc:
                return _internal_error(name, exc), None
        after = None
        if isinstance(result, _After):
            result, after = result.result, result.action
        try:
            json.dumps(result)
        except (TypeError, ValueError) as exc:
            return {"ok": False, "error": f"{name}: the result is not JSON ({exc}): "
                                          f"{result!r:.300}"}, None
        return {"ok": True, "result": result}, after

    # -- main thread -----------------------------------------------------------------------

    def on_main(self, fn: Callable[[], Any], *, crash: bool = False,
                timeout: float = MAIN_THREAD_TIMEOUT_S) -> Any:
        """Run fn() on the Kivy main thread at the next frame and return its result.
        crash=True: an exception from app code is reported as AppCrashed and re-raised in
        the Kivy loop (a real touch handler that raises stops the app)."""
        from kivy.clock import Clock

        if self._stopping:
            raise PilotCommandError("the app is stopping")
        done = threading.Event()
        box: dict[str, Any] = {}

        def run(_dt):
            try:
                box["result"] = fn()
            except PilotCommandError as exc:
                box["error"] = exc
            except Exception as exc:
                box["error"] = exc
                box["traceback"] = traceback.format_exc()
                if crash:
                    box["crash"] = True
                    done.set()
                    raise
            finally:
                done.set()

        Clock.schedule_once(run, 0)
        deadline = time.monotonic() + timeout
        while not done.wait(0.1):
            if self._stopping:
                raise PilotCommandError("the app stopped before the command ran")
            if time.monotonic() > deadline:
                raise PilotCommandError(
                    f"the Kivy main thread did not run the command within {timeout:g} s "
                    f"(it is blocked: slow work belongs in ui.worker.run_in_background)")
        if "error" in box:
            exc = box["error"]
            if isinstance(exc, PilotCommandError):
                raise exc
            if box.get("crash"):
                # The traceback follows on the app's stderr as it dies.
                raise AppCrashed(f"the app raised {type(exc).__name__}: {exc} while "
                                 f"handling the input; it exits as it would without a pilot")
            raise PilotCommandError(f"the app raised {type(exc).__name__}: {exc}\n"
                                    f"{box['traceback'].rstrip()}")
        return box["result"]

    # -- finding widgets (main thread) -----------------------------------------------------

    def scan(self) -> list[_Found]:
        """Every widget with a pilot_id in the window, visible or not."""
        from kivy.core.window import Window
        from kivy.uix.modalview import ModalView
        from kivy.uix.stencilview import StencilView

        found: list[_Found] = []
        width, height = Window.size

        def visit(widget, clip, hidden):
            if hidden is None and widget.opacity <= 0:
                hidden = "opacity 0"
            box = _window_box(widget)
            pilot_id = getattr(widget, "pilot_id", None)
            if pilot_id:
                visible = None
                reason = hidden
                if reason is None:
                    visible = _intersect(box, clip)
                    if visible is None:
                        reason = ("outside the window" if _intersect(box, (0, 0, width, height))
                                  is None else "scrolled or clipped out of view")
                found.append(_Found(widget, str(pilot_id), box, visible, reason))
            if isinstance(widget, StencilView):
                clip = _intersect(clip, box) or (0.0, 0.0, 0.0, 0.0)
            for child in widget.children:
                visit(child, clip, hidden)

        covered = None
        for child in Window.children:  # children[0] is drawn last: it is on top
            visit(child, (0.0, 0.0, float(width), float(height)), covered)
            if covered is None and isinstance(child, ModalView):
                covered = f"under the open {type(child).__name__}"
        return found

    def visible(self) -> list[_Found]:
        shown = [f for f in self.scan() if f.hidden is None]
        shown.sort(key=lambda f: (-round(f.box[3]), round(f.box[0])))  # reading order
        return shown

    def find(self, pilot_id: str, *, enabled: bool = True) -> _Found:
        if not isinstance(pilot_id, str) or not pilot_id:
            raise PilotCommandError(f"a pilot id is a non-empty string, not {pilot_id!r}")
        everything = self.scan()
        matches = [f for f in everything if f.pilot_id == pilot_id and f.hidden is None]
        if not matches:
            hidden = [f.hidden for f in everything if f.pilot_id == pilot_id]
            why = (f"{pilot_id!r} is in the window but not visible ({hidden[0]})" if hidden
                   else f"no widget with pilot_id {pilot_id!r} on screen")
            ids = [f.pilot_id for f in self.visible()]
            raise PilotCommandError(f"{why}; visible ids: {', '.join(ids) or '(none)'}")
        if len(matches) > 1:
            raise PilotCommandError(f"{len(matches)} visible widgets have pilot_id "
                                    f"{pilot_id!r} ({', '.join(_describe(f) for f in matches)})")
        match = matches[0]
        if enabled and getattr(match.widget, "disabled", False):
            raise PilotCommandError(f"{pilot_id!r} is disabled ({_describe(match)})")
        return match

    # -- touches ---------------------------------------------------------------------------

    def _touch_down(self, pilot_id: str):
        from kivy.base import EventLoop

        found = self.find(pilot_id)
        x0, y0, x1, y1 = found.visible
        touch = _make_touch(next(self._touch_ids), (x0 + x1) / 2, (y0 + y1) / 2)
        EventLoop.post_dispatch_input("begin", touch)
        return touch

    @staticmethod
    def _touch_up(touch) -> None:
        from kivy.base import EventLoop

        touch.update_time_end()
        EventLoop.post_dispatch_input("end", touch)

    def press(self, pilot_id: str, hold_s: float = 0.0) -> None:
        """Touch down on the widget's centre, hold, lift; return once every widget that
        grabbed the touch has had its touch-up (a ScrollView hands it on 0.2 s later)."""
        try:
            touch = self.on_main(lambda: self._touch_down(pilot_id), crash=True)
        except PilotCommandError:
            # Not where a person would see it yet: the app refilled a screen since the last
            # command (a periodic refresh) and lays it out on the next frames. Look again
            # once it has settled; a widget truly missing fails the same way then.
            self.settle()
            touch = self.on_main(lambda: self._touch_down(pilot_id), crash=True)
        if hold_s > 0:
            time.sleep(hold_s)
        self.on_main(lambda: self._touch_up(touch), crash=True)
        deadline = time.monotonic() + TOUCH_RELEASE_TIMEOUT_S
        while time.monotonic() < deadline and self.on_main(lambda: bool(touch.grab_list)):
            pass

    # -- settling --------------------------------------------------------------------------

    def _layout(self) -> tuple:
        """Where every widget is now (main thread)."""
        from kivy.core.window import Window

        out, stack = [], list(Window.children)
        while stack:
            widget = stack.pop()
            out.append((id(widget), *map(round, (widget.x, widget.y, widget.width,
                                                 widget.height))))
            stack.extend(widget.children)
        return tuple(out)

    def busy(self) -> list[str]:
        """What the app is still doing (main thread); [] when settled."""
        from kivy.core.window import Window
        from kivy.uix.screenmanager import ScreenManager

        from ui import worker

        reasons = []
        tasks = worker.pending()
        if tasks:
            reasons.append(f"{tasks} background task(s) from ui.worker not finished")
        stack = list(Window.children)
        while stack:
            widget = stack.pop()
            if isinstance(widget, ScreenManager) and widget.transition.is_active:
                reasons.append(f"screen transition to {widget.current!r} running")
            stack.extend(widget.children)
        hook = getattr(self.app, "pilot_busy", None)
        if hook is not None:
            what = hook()
            if what:
                reasons.append(f"app.pilot_busy(): {what}")
        return reasons

    def settle(self, timeout: float = SETTLE_TIMEOUT_S) -> None:
        """Wait until at least SETTLE_MIN_FRAMES frames have passed and nothing is busy."""
        from kivy.clock import Clock

        start = self.on_main(lambda: Clock.frames)
        deadline = time.monotonic() + timeout
        seen_frame, seen_layout, moving = None, None, True
        while True:
            frames, reasons, layout = self.on_main(lambda: (Clock.frames, self.busy(),
                                                            self._layout()))
            # Settled also means laid out: every widget where it was a frame before (a
            # ScrollView places its content a frame after the content's height changes).
            if frames != seen_frame:
                moving = layout != seen_layout
                seen_frame, seen_layout = frames, layout
            if frames - start >= SETTLE_MIN_FRAMES and not reasons and not moving:
                return
            if moving:
                reasons = reasons + ["the layout is still moving"]
            if time.monotonic() > deadline:
                raise PilotCommandError(f"the app did not settle within {timeout:g} s: "
                                        + "; ".join(reasons or ["too few frames"]))

    # -- commands (on the connection thread) -----------------------------------------------

    def cmd_tap(self, id: str, times: int = 1) -> None:
        """`times` taps in a row, as quickly as a person's (a key held down to delete a
        word): the app settles once, after the last."""
        if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 500:
            raise PilotCommandError(f"times must be a whole number from 1 to 500, not "
                                    f"{times!r}")
        for _ in range(times):
            self.press(id)
        self.settle()

    def cmd_long_press(self, id: str, seconds: float = 1.0) -> None:
        seconds = _number("seconds", seconds)
        self.press(id, hold_s=seconds)
        self.settle()

    def cmd_type(self, text: str) -> None:
        from kivy.clock import Clock

        if not isinstance(text, str):
            raise PilotCommandError(f"type needs a string, not {text!r}")
        for index, char in enumerate(text):
            visible = {f.pilot_id for f in self.on_main(self.visible)}
            key = "key:" + KEY_NAMES.get(char, char)
            if key in visible:
                steps = [key]
            elif char.isascii() and char.isupper() and "key:shift" in visible \
                    and "key:" + char.lower() in visible:
                steps = ["key:shift", "key:" + char.lower()]
            else:
                keys = sorted(i for i in visible if i.startswith("key:"))
                need = f"{key}" + (" (or key:shift and key:" + char.lower() + ")"
                                   if char.isascii() and char.isupper() else "")
                raise PilotCommandError(
                    f"cannot type {char!r} (character {index + 1} of {text!r}): no {need} "
                    f"on screen; keys on screen: {', '.join(keys) or '(none)'}")
            for step in steps:
                self.press(step)
                # One frame for the keyboard to react (shift relabels the keys).
                self.on_main(lambda: Clock.frames)
        self.settle()

    def cmd_keys(self, text: str) -> None:
        """Type on the physical keyboard: each character as the window's text input (what
        SDL sends for a key press with the current keyboard layout, Arabic included)."""
        from kivy.core.window import Window

        if not isinstance(text, str):
            raise PilotCommandError(f"keys needs a string, not {text!r}")
        for char in text:
            self.on_main(lambda char=char: Window.dispatch("on_textinput", char), crash=True)
        self.settle()

    def cmd_press_key(self, name: str, modifiers: list | None = None) -> None:
        """A special key on the physical keyboard by Kivy's name ("enter", "tab", "f2",
        "escape", "backspace"), down then up, with modifiers such as ["shift"]."""
        from kivy.core.window import Keyboard, Window

        code = Keyboard.keycodes.get(name)
        if code is None:
            raise PilotCommandError(f"no key named {name!r}")
        mods = list(modifiers or [])

        def press():
            Window.dispatch("on_key_down", code, 0, None, mods)
            Window.dispatch("on_key_up", code, 0)
        self.on_main(press, crash=True)
        self.settle()

    def cmd_ids(self) -> list[dict]:
        def describe():
            out = []
            for f in self.visible():
                entry = {"id": f.pilot_id, "disabled": bool(getattr(f.widget, "disabled", False))}
                text = _text_of(f.widget)
                if text is not None:
                    entry["text"] = text
                out.append(entry)
            return out
        return self.on_main(describe)

    def cmd_text(self, id: str) -> str:
        def read():
            found = self.find(id, enabled=False)
            text = _text_of(found.widget)
            if text is None:
                raise PilotCommandError(f"{_describe(found)} has no text")
            return text
        return self.on_main(read)

    def cmd_advance(self, seconds: float) -> None:
        seconds = _number("seconds", seconds)
        hook = self._hook("pilot_advance", "(seconds)")
        self.on_main(lambda: hook(seconds))
        self.settle()

    def cmd_settle(self) -> None:
        self.settle()

    def cmd_block_ui(self, seconds: float) -> None:
        """Hang the UI thread for SECONDS (time.sleep at its next frame) and return at once:
        what a hung screen looks like to systemd's watchdog (ui/shell.py pings from it)."""
        from kivy.clock import Clock
        seconds = _number("seconds", seconds)
        Clock.schedule_once(lambda _dt: time.sleep(seconds), 0)

    def cmd_layout(self) -> list[dict]:
        """What is broken on the screen now (testing/layout_check.py): widgets outside their
        parent or the window, under the header, text cut off. [] when nothing is."""
        from kivy.core.window import Window

        from testing.layout_check import problems
        self.settle()
        return self.on_main(lambda: problems(Window))

    def cmd_state(self) -> dict:
        self.settle()
        hook = getattr(self.app, "pilot_state", None)
        return {} if hook is None else self.on_main(hook)

    def cmd_screenshot(self, path: str) -> str:
        from kivy.core.window import Window

        from testing.screenshot import save_next_frame

        if not isinstance(path, str) or not path:
            raise PilotCommandError(f"screenshot needs a file path, not {path!r}")
        target = Path(path).resolve()
        self.settle()
        done = threading.Event()
        failed: list[BaseException] = []

        def failure(exc):
            failed.append(exc)
            done.set()

        self.on_main(lambda: save_next_frame(Window, target, done.set, on_error=failure))
        if not done.wait(SCREENSHOT_TIMEOUT_S):
            raise PilotCommandError(f"no frame was drawn within {SCREENSHOT_TIMEOUT_S:g} s")
        if failed:
            raise PilotCommandError(f"screenshot failed: {type(failed[0]).__name__}: "
                                    f"{failed[0]}")
        return str(target)

    def cmd_call(self, name: str, args: list | None = None) -> Any:
        if not isinstance(name, str):
            raise PilotCommandError(f"call needs a hook name, not {name!r}")
        hook = self._hook("pilot_call", "(name, *args)")
        result = self.on_main(lambda: hook(name, *(args or [])))
        self.settle()
        return result

    def cmd_quit(self) -> "_After":
        from kivy.app import App
        from kivy.clock import Clock

        def stop():
            app = App.get_running_app() or self.app
            Clock.schedule_once(lambda _dt: app.stop(), 0)

        return _After(None, stop)

    def _hook(self, name: str, signature: str) -> Callable:
        hook = getattr(self.app, name, None)
        if hook is None:
            raise PilotCommandError(f"the app ({type(self.app).__name__}) has no "
                                    f"{name}{signature} hook")
        return hook


@dataclass
class _After:
    """A command's result plus something to do once the reply is sent."""
    result: Any
    action: Callable[[], None]


class PilotTouch(MotionEvent):
    """A touch the pilot makes, shaped like the mouse provider's (left button)."""

    def depack(self, args):
        self.sx, self.sy = args[0], args[1]
        if not self.profile:
            self.profile.extend(("pos", "button"))
        self.button = "left"
        super().depack(args)


def _make_touch(touch_id: int, x: float, y: float):
    """A touch at window pixel (x, y)."""
    from kivy.core.window import Window

    # Window.transform_motion_event_2d scales by (size - 1) of the effective size.
    size = getattr(Window, "_get_effective_size", lambda: Window.size)()
    sx = x / max(1, size[0] - 1)
    sy = y / max(1, size[1] - 1)
    return PilotTouch("pilot", touch_id, (sx, sy), is_touch=True, type_id="touch")


def _window_box(widget) -> tuple[float, float, float, float]:
    corners = [widget.to_window(x, y) for x in (widget.x, widget.right)
               for y in (widget.y, widget.top)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return min(xs), min(ys), max(xs), max(ys)


def _intersect(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _text_of(widget) -> str | None:
    for attr in ("pilot_text", "text"):
        value = getattr(widget, attr, None)
        if isinstance(value, str):
            return value
    return None


def _describe(found: _Found) -> str:
    x0, y0, x1, y1 = found.box
    return (f"{type(found.widget).__name__} {found.pilot_id!r} at "
            f"({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f})")


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise PilotCommandError(f"{name} must be a number of seconds >= 0, not {value!r}")
    return float(value)


def _is_signature_error(exc: TypeError) -> bool:
    # Raised by calling the command itself (bad or missing arguments), not from inside it.
    return exc.__traceback__ is not None and exc.__traceback__.tb_next is None


def _describe_args_error(exc: TypeError) -> str:
    return str(exc).split("cmd_", 1)[-1]


def _internal_error(name: str, exc: BaseException) -> dict:
    log.exception("pilot command %s failed", name)
    return {"ok": False, "error": f"pilot error in {name}: {type(exc).__name__}: {exc}\n"
                                  + "".join(traceback.format_exception(exc)).rstrip()}
