"""The kiosk's colours are high contrast and its touch targets are sized in millimetres."""
from ui import theme


def test_text_and_background_pairs_meet_wcag_aaa():
    """7:1 for every text colour on every background it is used on; the grey hint text
    4.5:1 (AA), it never carries meaning alone."""
    pairs = {"ink/paper": (theme.INK, theme.PAPER), "ink/white": (theme.INK, theme.WHITE),
             "white/navy": (theme.WHITE, theme.NAVY), "white/green": (theme.WHITE, theme.GREEN),
             "white/red": (theme.WHITE, theme.RED), "white/amber": (theme.WHITE, theme.AMBER),
             "navy/key": (theme.NAVY, theme.KEY), "red/paper": (theme.RED, theme.PAPER),
             "green/paper": (theme.GREEN, theme.PAPER), "amber/paper": (theme.AMBER, theme.PAPER)}
    low = {name: round(theme.contrast(*pair), 2) for name, pair in pairs.items()
           if theme.contrast(*pair) < 7.0}
    assert not low, low
    assert theme.contrast(theme.HINT, theme.PAPER) >= 4.5


def test_touch_targets_are_at_least_15_mm_on_any_monitor():
    for dpi in (72, 92, 160, 300):
        sizes = theme.Sizes(dpi)
        assert sizes.touch >= theme.mm_to_px(15, dpi) and sizes.button >= sizes.touch
        large = theme.Sizes(dpi, large_text=True)
        assert large.font("body") > sizes.font("body") and large.button > sizes.button


def test_larger_text_grows_what_is_read_and_leaves_the_huge_as_it_is():
    normal, large = theme.Sizes(92), theme.Sizes(92, large_text=True)
    for role in ("body", "small", "heading", "button", "key"):
        assert large.font(role) == round(normal.font(role) * 1.3), role
    assert large.font("title") == round(normal.font("title") * 1.15)
    assert large.font("huge") == normal.font("huge") == 120  # a ticket number: fits anyway
    counter = theme.Sizes(92, text_scale=0.8, large_text=True)
    assert counter.font("body") == round(28 * 0.8 * 1.3)
