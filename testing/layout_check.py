"""What a person would see as broken on the screen now, found from the widget tree: the
test pilot's `layout` command (testing/pilot.py), run by the screenshot tests so a golden
cannot bake a defect in.

- outside_parent: a widget drawn beyond its parent's box (more than SLACK px), except inside
  a ScrollView (its content is meant to be larger and is clipped).
- outside_window: a widget beyond the window's edge (scrolled content is clipped, not
  beyond).
- under_header: a widget of the screen that overlaps the header bar (a widget whose class
  name ends in "Header") without being part of it.
- text_cut: a label whose text does not fit: a single line shortened with "…", or wrapped
  text taller than the box the layout gave it.

Only what can be seen is checked: a widget with opacity 0, of no size, scrolled out of view,
or under an open modal is skipped. Each problem is a dict {kind, widget, detail}. Runs on
Kivy's main thread (the pilot's on_main)."""
from __future__ import annotations

SLACK = 2.0  # px: rounding in layouts


def problems(window) -> list[dict]:
    from kivy.uix.modalview import ModalView
    from kivy.uix.scrollview import ScrollView
    from kivy.uix.stencilview import StencilView

    found: list[dict] = []
    width, height = window.size
    screen_box = (0.0, 0.0, float(width), float(height))
    headers: list[tuple] = []  # (header widget, its box)

    def collect_headers(widget, clip):
        if widget.opacity <= 0:
            return
        if type(widget).__name__.endswith("Header") and _seen(_box(widget), clip):
            headers.append((widget, _box(widget)))
            return
        if isinstance(widget, StencilView):
            clip = _intersect(clip, _box(widget)) or (0.0, 0.0, 0.0, 0.0)
        for child in widget.children:
            collect_headers(child, clip)

    def visit(widget, parent_box, clip, scrolled: bool, in_header: bool):
        if widget.opacity <= 0 or widget.width <= 0 or widget.height <= 0:
            return
        box = _box(widget)
        seen = _seen(box, clip)
        if seen:
            name = _name(widget)
            if parent_box is not None and not scrolled and _beyond(box, parent_box):
                found.append({"kind": "outside_parent", "widget": name,
                              "detail": f"{_fmt(box)} beyond its parent {_fmt(parent_box)}"})
            if not scrolled and _beyond(box, screen_box):
                found.append({"kind": "outside_window", "widget": name,
                              "detail": f"{_fmt(box)} beyond the window {_fmt(screen_box)}"})
            if not in_header and not widget.children:
                for header, header_box in headers:
                    overlap = _intersect(box, header_box)
                    if overlap and min(overlap[2] - overlap[0],
                                       overlap[3] - overlap[1]) > SLACK and \
                            _same_screen(widget, header):
                        found.append({"kind": "under_header", "widget": name,
                                      "detail": f"{_fmt(box)} overlaps the header "
                                                f"{_fmt(header_box)}"})
            cut = _text_cut(widget)
            if cut:
                found.append({"kind": "text_cut", "widget": name, "detail": cut})
        inner_clip = clip
        if isinstance(widget, StencilView):
            inner_clip = _intersect(clip, box) or (0.0, 0.0, 0.0, 0.0)
        is_header = in_header or type(widget).__name__.endswith("Header")
        for child in widget.children:
            visit(child, box, inner_clip, scrolled or isinstance(widget, ScrollView),
                  is_header)

    roots = list(window.children)  # [0] is drawn last: on top
    modal = next((i for i, child in enumerate(roots) if isinstance(child, ModalView)), None)
    shown = roots[:modal + 1] if modal is not None else roots
    for root in shown:
        collect_headers(root, screen_box)
    for root in shown:
        # A modal's own backdrop fills the window; its content is checked against it.
        visit(root, None, screen_box, False, False)
    return found


def _name(widget) -> str:
    ident = getattr(widget, "pilot_id", "") or ""
    text = getattr(widget, "pilot_text", None)
    if text is None:
        text = getattr(widget, "text", None)
    label = f" {ident!r}" if ident else ""
    words = f" {str(text)[:40]!r}" if isinstance(text, str) and text else ""
    return f"{type(widget).__name__}{label}{words}"


def _text_cut(widget) -> str | None:
    from kivy.uix.label import Label
    if not isinstance(widget, Label) or not widget.text or not widget.texture_size:
        return None
    text_w, text_h = widget.texture_size
    if getattr(widget, "shorten", False) and widget.text_size[0]:
        full = _extent(widget)
        if full is not None and full > widget.text_size[0] + SLACK:
            return (f"{full:.0f} px of text in a line of {widget.text_size[0]:.0f} px: "
                    f"shortened")
    # One line's texture is taller than its glyphs (the Arabic font's ascent and descent):
    # only wrapped lines that do not fit are cut.
    lines = len(getattr(getattr(widget, "_label", None), "_cached_lines", None) or ())
    if lines > 1 and text_h > widget.height + SLACK and \
            not getattr(widget, "auto_height", False):
        return f"{lines} lines of text, {text_h:.0f} px tall, in a box of " \
               f"{widget.height:.0f} px"
    if text_w > widget.width + SLACK and widget.text_size[0] is None:
        return f"text {text_w:.0f} px wide in a box of {widget.width:.0f} px"
    return None


def _extent(widget) -> float | None:
    """The width the whole text needs on one line, in the label's own font."""
    from kivy.core.text import Label as CoreLabel
    from kivy.core.text.markup import MarkupLabel
    try:
        kind = MarkupLabel if widget.markup else CoreLabel
        core = kind(text=widget.text, font_name=widget.font_name, font_size=widget.font_size,
                    bold=widget.bold, italic=widget.italic)
        core.refresh()
        return float(core.content_width)
    except Exception:  # a font the core label cannot open: nothing to say
        return None


def _same_screen(widget, header) -> bool:
    """The widget and the header belong to the same Screen (a transition shows two)."""
    from kivy.uix.screenmanager import Screen

    def screen_of(w):
        while w is not None and not isinstance(w, Screen):
            w = w.parent
        return w
    return screen_of(widget) is screen_of(header)


def _box(widget) -> tuple[float, float, float, float]:
    corners = [widget.to_window(x, y) for x in (widget.x, widget.right)
               for y in (widget.y, widget.top)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return min(xs), min(ys), max(xs), max(ys)


def _seen(box, clip) -> bool:
    return _intersect(box, clip) is not None


def _beyond(box, outer) -> bool:
    return (box[0] < outer[0] - SLACK or box[1] < outer[1] - SLACK
            or box[2] > outer[2] + SLACK or box[3] > outer[3] + SLACK)


def _intersect(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _fmt(box) -> str:
    return f"({box[0]:.0f}, {box[1]:.0f})-({box[2]:.0f}, {box[3]:.0f})"
