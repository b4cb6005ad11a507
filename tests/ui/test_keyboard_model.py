"""ui.keyboard without a display: the layout files, their checks, and what each key does."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ui.keyboard import (LAYOUT_DIR, SPECIAL_KEYS, Gap, Key, KeyboardModel, LayoutError,
                         check_layouts, drop_last_character, key_markup, load_layout)

ROOT = Path(__file__).resolve().parents[2]

ARABIC_101 = "ض ص ث ق ف غ ع ه خ ح ج د ش س ي ب ل ا ت ن م ك ط ئ ء ؤ ر لا ى ة و ز ظ".split()


def typed(model: KeyboardModel, *keys: str) -> str:
    for key in keys:
        model.press(key)
    return model.text


# -- the layout files ---------------------------------------------------------------------

def test_the_three_layouts_load_and_switch_into_each_other():
    layouts = check_layouts()
    assert set(layouts) == {"ar", "en", "numeric"}
    assert (layouts["ar"].switch_to, layouts["en"].switch_to) == ("en", "ar")
    assert layouts["numeric"].kind == "numeric" and layouts["numeric"].switch_to is None
    for layout in layouts.values():
        assert "backspace" in layout.keys and "done" in layout.keys
        assert layout.path == LAYOUT_DIR / f"{layout.name}.toml"


def test_arabic_layout_has_the_101_letters_in_order_plus_thal_and_alef_hamza_forms():
    layout = load_layout("ar")
    letters = [k.value for row in layout.rows for k in row if not k.special]
    assert set(ARABIC_101 + ["ذ", "أ", "إ", "آ"]) <= set(letters)
    # The 101 rows keep their order: ض first and د last on the top letter row, and so on.
    rows = [[k.value for k in row] for row in layout.rows]
    assert [v for v in rows[1]] == ARABIC_101[:12]
    assert rows[2][:11] == ARABIC_101[12:23]
    assert [v for v in rows[3] if v in ARABIC_101] == ARABIC_101[23:]
    assert {"space", "switch", "backspace"} <= set(layout.keys)
    assert "shift" not in layout.keys  # Arabic has no capitals


def test_english_layout_is_qwerty_with_digits_and_shift():
    layout = load_layout("en")
    rows = ["".join(k.value for k in row if len(k.value) == 1) for row in layout.rows]
    assert rows[0].startswith("1234567890")
    assert rows[1] == "qwertyuiop"
    assert rows[2].startswith("asdfghjkl")
    assert rows[3].startswith("zxcvbnm")
    assert {"shift", "space", "switch", "backspace"} <= set(layout.keys)


def test_numeric_pad_is_phone_style_with_a_decimal_point_for_decimal_fields_only():
    layout = load_layout("numeric")
    rows = [[k.value for k in row] for row in layout.rows]
    assert rows[:4] == [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"],
                        [".", "0", "backspace"]]
    assert layout.keys["."].when == "decimals"
    assert not {"space", "switch", "shift"} & set(layout.keys)


def test_special_keys_and_pilot_ids():
    assert SPECIAL_KEYS == ("backspace", "space", "shift", "switch", "done")
    keys = load_layout("ar").keys
    assert keys["backspace"].special and not keys["ب"].special
    assert keys["ب"].pilot_id == "key:ب" and keys["space"].pilot_id == "key:space"
    assert keys["لا"].value == "\u0644\u0627"


# -- bad layout files ---------------------------------------------------------------------

GOOD_TEXT = """
kind = "text"
switch_to = "other"
rows = [
  ["a", "b", "backspace"],
  ["shift", "switch", "space", "done"],
]
"""


def write_layout(tmp_path: Path, text: str, name: str = "bad") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_custom_layout_loads(tmp_path):
    write_layout(tmp_path, GOOD_TEXT, "good")
    layout = load_layout("good", tmp_path)
    assert [k.value for k in layout.rows[0]] == ["a", "b", "backspace"]


@pytest.mark.parametrize("rows, where, problem", [
    ('[["a", "b", "backspace"], ["shift", "enter", "switch", "space"]]',
     "row 2, key 2", "unknown special key 'enter'"),
    ('[["a", "a", "backspace"], ["shift", "switch", "space"]]',
     "row 1, key 2", "'a' is already a key in row 1"),
    ('[["a", "backspace"], []]', "row 2", "non-empty list"),
    ('[["a", "backspace"], "shift switch space"]', "row 2", "non-empty list"),
    ('[["a", { key = "backspace", width = 0 }], ["shift", "switch", "space"]]',
     "row 1, key 2", "width of 'backspace' must be a number above 0"),
    ('[["a", { key = "backspace", colour = "red" }], ["shift", "switch", "space"]]',
     "row 1, key 2", "unknown field 'colour'"),
    ('[["a", { label = "x" }, "backspace"], ["shift", "switch", "space"]]',
     "row 1, key 2", "'key' must be a non-empty string"),
    ('[["a", " ", "backspace"], ["shift", "switch", "space"]]',
     "row 1, key 2", "use the special key 'space'"),
    ('[["a", 7, "backspace"], ["shift", "switch", "space"]]',
     "row 1, key 2", "expected a string or a table"),
    ('[["a", { key = ".", when = "money" }, "backspace"], ["shift", "switch", "space"]]',
     "row 1, key 2", "when = 'money'"),
])
def test_a_bad_key_is_named_with_its_file_and_row(tmp_path, rows, where, problem):
    path = write_layout(tmp_path, f'kind = "text"\nswitch_to = "other"\nrows = {rows}\n')
    with pytest.raises(LayoutError) as error:
        load_layout("bad", tmp_path)
    message = str(error.value)
    assert str(path) in message and where in message and problem in message, message


@pytest.mark.parametrize("text, problem", [
    ('kind = "text"\nswitch_to = "o"\nrows = [["a", "shift", "switch", "space"]]',
     "no 'backspace' key"),
    ('kind = "text"\nswitch_to = "o"\nrows = [["a", "shift", "switch", "backspace"]]',
     "no 'space' key"),
    ('kind = "text"\nrows = [["a", "shift", "space", "backspace"]]', "no switch_to"),
    ('kind = "text"\nswitch_to = "o"\nrows = [["a", "shift", "space", "backspace"]]',
     "no 'switch' key"),
    ('kind = "text"\nswitch_to = "o"\nrows = [["a", "switch", "space", "backspace"]]',
     "no 'shift' key, but 'a' has a capital"),
    ('kind = "numeric"\nrows = [["1", "shift", "backspace"]]',
     "row 1: a shift key, but no letter has a capital"),
    ('kind = "numeric"\nrows = [["1", "backspace"], ["switch"]]',
     "row 2: a switch key, but no switch_to"),
    ('kind = "keys"\nrows = [["1", "backspace"]]', "kind = 'keys'"),
    ('kind = "numeric"\nrows = []', "no rows"),
    ('kind = "numeric"\nrow = [["1", "backspace"]]', "unknown setting 'row'"),
    ('kind = "numeric"\nrows = [["1", "backspace"]', "not valid TOML"),
])
def test_a_bad_layout_file_is_named_in_the_error(tmp_path, text, problem):
    path = write_layout(tmp_path, text)
    with pytest.raises(LayoutError) as error:
        load_layout("bad", tmp_path)
    assert str(path) in str(error.value) and problem in str(error.value), str(error.value)


def test_a_missing_layout_names_the_file_and_the_layouts_there(tmp_path):
    write_layout(tmp_path, GOOD_TEXT, "good")
    with pytest.raises(LayoutError, match=r"no keyboard layout 'fr': .*fr\.toml does not exist "
                                          r"\(layouts there: good\)"):
        load_layout("fr", tmp_path)
    with pytest.raises(LayoutError, match="not a keyboard layout name"):
        load_layout("../ar", tmp_path)


def test_check_layouts_finds_a_switch_key_leading_nowhere(tmp_path):
    write_layout(tmp_path, GOOD_TEXT, "good")
    with pytest.raises(LayoutError, match=r"good\.toml: switch_to = 'other', but there is no "
                                          r"text layout other\.toml"):
        check_layouts(tmp_path)
    write_layout(tmp_path, GOOD_TEXT.replace('"other"', '"good"'), "other")
    assert set(check_layouts(tmp_path)) == {"good", "other"}


# -- typing -------------------------------------------------------------------------------

def test_typing_arabic_letters():
    model = KeyboardModel("ar")
    assert model.press("س") == "س"
    assert typed(model, "ل", "ا", "م") == "سلام"
    assert typed(model, "space", "ع", "ل", "ي", "ك", "م") == "سلام عليكم"


def test_lam_alef_types_two_letters_and_backspace_removes_one_code_point():
    model = KeyboardModel("ar")
    assert typed(model, "س", "لا", "م") == "س\u0644\u0627م"
    assert typed(model, "backspace") == "سلا"
    # The ligature key is not remembered: a backspace now leaves ل, as it would had ل and ا
    # been typed one by one.
    assert typed(model, "backspace") == "سل"
    assert typed(model, "backspace", "backspace") == ""
    assert typed(model, "backspace") == ""  # on an empty field: nothing happens


def test_backspace_takes_harakat_with_their_letter():
    assert drop_last_character("بَ") == ""
    assert drop_last_character("سلامٌ") == "سلا"
    assert drop_last_character("abc") == "ab"
    assert drop_last_character("") == ""
    model = KeyboardModel("ar", text="مُحَمَّد")
    assert typed(model, "backspace") == "مُحَمَّ"
    assert typed(model, "backspace") == "مُحَ"


def test_max_length_ignores_extra_keys_and_never_types_half_a_key():
    model = KeyboardModel("ar", max_length=3)
    assert typed(model, "ب", "ي", "ت", "ه") == "بيت"
    model = KeyboardModel("ar", max_length=3, text="بي")
    assert typed(model, "لا") == "بي"  # two code points, one place left
    assert typed(model, "space") == "بي "
    assert typed(model, "backspace", "backspace", "لا") == "بلا"
    assert KeyboardModel("numeric", max_length=0).press("1") == ""
    # A pre-filled text over the limit is kept (only typing is limited) and can be shortened.
    model = KeyboardModel("en", max_length=2, text="abcd")
    assert typed(model, "e") == "abcd"
    assert typed(model, "backspace") == "abc"
    with pytest.raises(ValueError, match="max_length"):
        KeyboardModel("en", max_length=-1)
    with pytest.raises(ValueError, match="max_length"):
        KeyboardModel("en", max_length=True)


def test_shift_capitalises_the_next_letter_only():
    model = KeyboardModel("en")
    assert typed(model, "shift", "a", "b") == "Ab"
    assert not model.shift
    assert typed(model, "shift") == "Ab" and model.shift
    assert typed(model, "shift") == "Ab" and not model.shift  # pressed again: cancelled
    assert typed(model, "c") == "Abc"
    # Shift waits through a backspace, and is used up by whatever types next.
    assert typed(model, "shift", "backspace", "1", "d") == "Ab1d"


def test_shift_shows_capitals_on_the_letter_keys():
    model = KeyboardModel("en")
    keys = load_layout("en").keys
    assert model.label(keys["q"]) == "q"
    model.press("shift")
    assert (model.label(keys["q"]), model.label(keys["1"])) == ("Q", "1")
    assert model.label(keys["backspace"]) == "⌫"


def test_a_shift_typed_to_the_max_length_stays_on():
    model = KeyboardModel("en", max_length=1, text="x")
    assert typed(model, "shift", "a") == "x" and model.shift


def test_switch_toggles_arabic_and_english_and_clears_shift():
    model = KeyboardModel("ar")
    typed(model, "س")
    assert model.press("switch") == "س" and model.layout == "en"
    typed(model, "shift", "switch")
    assert model.layout == "ar" and not model.shift
    assert typed(model, "switch", "a", "switch", "ب") == "سaب"


def test_a_field_can_forbid_switching():
    model = KeyboardModel("en", allow_switch=False)
    assert typed(model, "a", "switch", "b") == "ab" and model.layout == "en"
    values = [k.value for row in model.rows for k in row]
    assert "switch" not in values
    # The hidden key's width goes to the space bar: the bottom row keeps its length.
    bottom = lambda m: m.rows[-1]  # noqa: E731
    free = KeyboardModel("en")
    assert sum(k.width for k in bottom(model)) == sum(k.width for k in bottom(free))
    space = lambda m: next(k for k in bottom(m) if k.value == "space")  # noqa: E731
    assert space(model).width == space(free).width + load_layout("en").keys["switch"].width


def test_keys_not_on_the_layout_are_refused():
    with pytest.raises(ValueError, match="'ب' is not a key of the 'en' keyboard"):
        KeyboardModel("en").press("ب")
    with pytest.raises(ValueError, match="not a key"):
        KeyboardModel("numeric").press("space")


def test_decimal_point_only_for_decimal_fields_once_and_with_a_leading_zero():
    whole = KeyboardModel("numeric")
    assert typed(whole, "1", ".", "5") == "15"
    assert isinstance(whole.rows[3][0], Gap)  # the pad keeps its 3 x 4 grid
    amount = KeyboardModel("numeric", decimals=True)
    assert [k.value for k in amount.rows[3]] == [".", "0", "backspace"]
    assert typed(amount, "1", ".", "5", ".", "0") == "1.50"
    amount = KeyboardModel("numeric", decimals=True)
    assert typed(amount, ".", "5") == "0.5"
    assert KeyboardModel("numeric", decimals=True, max_length=1).press(".") == ""


def test_done_changes_nothing_and_can_be_hidden():
    model = KeyboardModel("numeric", text="12")
    assert model.press("done") == "12"
    assert model.shown_key("done") is not None
    hidden = KeyboardModel("numeric", show_done=False)
    assert hidden.shown_key("done") is None
    # The done row is dropped, being empty; the decimal point's place stays.
    assert len(hidden.rows) == 4 and isinstance(hidden.rows[3][0], Gap)


def test_reconfiguring_for_a_new_field():
    model = KeyboardModel("en", text="old")
    model.press("shift")
    model.layout = "numeric"
    assert not model.shift
    model.text = "42"
    assert typed(model, "1") == "421"
    with pytest.raises(LayoutError, match="no keyboard layout 'fr'"):
        model.layout = "fr"
    assert model.layout == "numeric"
    assert model.variant() == ("numeric", True, False, True)


def test_visible_rows_are_keys_and_gaps_with_their_widths():
    model = KeyboardModel("ar")
    assert all(isinstance(item, Key) for row in model.rows for item in row)
    assert model.rows[0][-1].value == "backspace" and model.rows[0][-1].width == 1.5


def test_key_markup_shapes_arabic_and_picks_a_font_for_latin_and_symbols():
    assert key_markup("ب") == "\ufe8f"  # the isolated form, in the label's Arabic font
    assert key_markup("لا") == "\ufefb"  # the lam-alef ligature
    assert key_markup("a") == "[font=Roboto]a[/font]"
    assert key_markup("⌫") == "[font=DejaVuSans]⌫[/font]"
    assert key_markup("تم  Done") == "[font=DejaVuSans]Done  [/font]\ufee2\ufe97"


def test_importing_the_keyboard_model_does_not_import_kivy():
    code = ("import sys, ui.keyboard as k; k.KeyboardModel('ar').press('ب'); "
            "sys.exit('kivy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
