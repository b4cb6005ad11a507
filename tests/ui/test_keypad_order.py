"""The keypad's and the audio guide's logic without a display (issue 25 "A kiosk for
everyone"): reading order in Arabic and English, a held key at a bounded rate, what each key
means, the speakers and the no-audio-device check, the high-contrast colours."""
from __future__ import annotations

import shutil

import pytest

from ui import audio, theme
from ui.keypad import RepeatLimiter, action_for, reading_order, step

# A screen: a title across the top, a 2 x 2 grid of cards, one wide card, a Back button
# (x, y, width, height; y up as in Kivy).
TITLE = (0, 900, 1000, 80)
GRID = [(0, 600, 480, 200), (520, 600, 480, 200), (0, 350, 480, 200), (520, 350, 480, 200)]
WIDE = (0, 200, 1000, 100)
BACK = (700, 20, 300, 80)
SCREEN = [BACK, GRID[3], TITLE, GRID[0], WIDE, GRID[2], GRID[1]]  # any order in the tree


def named(order):
    names = ["back", "grid3", "title", "grid0", "wide", "grid2", "grid1"]
    return [names[i] for i in order]


def test_reading_order_is_right_to_left_in_arabic_and_left_to_right_in_english():
    assert named(reading_order(SCREEN, rtl=True)) == [
        "title", "grid1", "grid0", "grid3", "grid2", "wide", "back"]
    assert named(reading_order(SCREEN, rtl=False)) == [
        "title", "grid0", "grid1", "grid2", "grid3", "wide", "back"]
    assert reading_order([], rtl=True) == []


def test_a_row_holds_boxes_of_different_heights_whose_middles_line_up():
    # A tall card and a short button beside it, middles within the card: one row.
    boxes = [(600, 100, 300, 300), (100, 220, 200, 60)]
    assert reading_order(boxes, rtl=True) == [0, 1]
    assert reading_order(boxes, rtl=False) == [1, 0]


def test_focus_wraps_around_both_ways_and_nothing_to_focus_is_none():
    assert step(3, None, True) == 0 and step(3, None, False) == 2
    assert step(3, 2, True) == 0 and step(3, 0, False) == 2
    assert step(0, None, True) is None


def test_keys_mean_the_reading_direction():
    assert action_for("left", rtl=True, typing_digits=False) == "next"
    assert action_for("right", rtl=True, typing_digits=False) == "previous"
    assert action_for("right", rtl=False, typing_digits=False) == "next"
    assert action_for("down", rtl=True, typing_digits=False) == "next"
    assert action_for("up", rtl=False, typing_digits=False) == "previous"
    assert action_for("enter", rtl=True, typing_digits=False) == "activate"
    assert action_for("escape", rtl=True, typing_digits=True) == "back"
    # Backspace deletes a typed digit, and goes back when there is nothing to delete.
    assert action_for("backspace", rtl=True, typing_digits=True) == "delete"
    assert action_for("backspace", rtl=True, typing_digits=False) == "back"
    assert action_for("7", rtl=False, typing_digits=False) == "digit:7"
    assert action_for("headphones_in", rtl=False, typing_digits=False) == "headphones_in"
    assert action_for("f5", rtl=False, typing_digits=False) is None


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_a_held_arrow_moves_at_a_bounded_rate_not_a_flood():
    clock = Clock()
    limiter = RepeatLimiter(interval_s=0.3, now=clock)
    counted = 0
    for _ in range(60):  # 2 s of auto-repeat at 30 a second
        counted += limiter.down("down")
        clock.t += 1 / 30
    # The press, then every 10th repeat (the first at least 0.3 s later): 6, not 60.
    assert counted == 6
    limiter.up("down")
    assert limiter.down("down") is True  # let go and pressed again: counts at once


def test_a_held_enter_or_digit_acts_once_until_let_go():
    clock = Clock()
    limiter = RepeatLimiter(interval_s=0.3, now=clock)
    results = []
    for _ in range(90):
        results.append(limiter.down("enter"))
        results.append(limiter.down("9"))
        clock.t += 0.05
    assert results.count(True) == 2  # one Enter, one 9: no second ticket, no 999999
    limiter.up("enter")
    assert limiter.down("enter") is True and limiter.down("9") is False


def test_the_recording_speaker_keeps_what_was_said_in_order():
    speaker = audio.RecordingSpeaker()
    speaker.say("أهلاً وسهلاً", "ar")
    speaker.say("   ", "ar")  # nothing to say: not recorded
    speaker.say("Welcome", "en")
    speaker.stop()
    assert speaker.spoken == [("أهلاً وسهلاً", "ar"), ("Welcome", "en")] and speaker.stops == 1


def test_no_sound_card_or_no_engine_gives_a_silent_speaker_with_a_reason(tmp_path):
    none = tmp_path / "cards"
    none.write_text("--- no soundcards ---\n")
    env = {audio.SOUND_CARDS_ENV: str(none)}
    assert audio.audio_problem(env, which=lambda _: "/usr/bin/espeak-ng") == "no sound card"
    assert "cannot be read" in audio.audio_problem(
        {audio.SOUND_CARDS_ENV: str(tmp_path / "missing")}, which=lambda _: "/x")
    assert audio.audio_problem({}, which=lambda _: None) == "espeak-ng is not installed"
    speaker = audio.make_speaker(env, which=lambda _: "/usr/bin/espeak-ng")
    assert not speaker.available and speaker.problem == "no sound card"
    speaker.say("anything", "en")  # silently nothing, no error
    card = tmp_path / "one-card"
    card.write_text(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n")
    assert audio.audio_problem({audio.SOUND_CARDS_ENV: str(card)},
                               which=lambda _: "/usr/bin/espeak-ng") is None
    assert isinstance(audio.make_speaker({audio.SPEECH_ENV: "record"}), audio.RecordingSpeaker)
    assert not audio.make_speaker({audio.SPEECH_ENV: "record",
                                   audio.SOUND_CARDS_ENV: str(none)}).available
    assert audio.make_speaker({audio.SPEECH_ENV: "off"}).problem == "speech is turned off"


def test_espeak_ng_speaks_arabic_and_a_new_utterance_cuts_the_last(tmp_path, monkeypatch):
    """The real engine (a Debian package: `make setup` installs espeak-ng), its sound
    written to stdout instead of a card; then the cut-off, with a stand-in binary."""
    import subprocess

    assert shutil.which("espeak-ng"), "espeak-ng is not installed (apt-get install espeak-ng)"
    for voice in ("ar", "en"):
        wav = subprocess.run(["espeak-ng", "-v", voice, "--stdout", "مرحبا" if voice == "ar"
                              else "hello"], capture_output=True, check=True).stdout
        assert wav[:4] == b"RIFF" and len(wav) > 1000
    # A fake binary that sleeps stands in for a long sentence: the next say() kills it.
    fake = tmp_path / "espeak-ng"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    speaker = audio.EspeakSpeaker(binary=str(fake))
    speaker.say("a long sentence", "en")
    first = speaker._proc
    speaker.say("the newest", "en")
    assert first.wait(timeout=5) != 0 and speaker._proc.poll() is None
    speaker.stop()
    assert speaker._proc is None


def test_the_high_contrast_palette_has_every_name_and_strong_pairs():
    hc = theme.PALETTES["high_contrast"]
    assert set(hc) == set(theme.PALETTES["standard"])
    pairs = {"ink/paper": ("INK", "PAPER"), "white/navy": ("WHITE", "NAVY"),
             "white/green": ("WHITE", "GREEN"), "white/red": ("WHITE", "RED"),
             "white/amber": ("WHITE", "AMBER"), "navy/key": ("NAVY", "KEY"),
             "green/paper": ("GREEN", "PAPER"), "red/paper": ("RED", "PAPER"),
             "hint/paper": ("HINT", "PAPER"), "ink/white": ("INK", "WHITE")}
    low = {n: round(theme.contrast(hc[a], hc[b]), 1) for n, (a, b) in pairs.items()
           if theme.contrast(hc[a], hc[b]) < 10}
    assert not low, low
    try:
        theme.use_palette("high_contrast")
        assert theme.PAPER == hc["PAPER"] and theme.palette == "high_contrast"
        with pytest.raises(ValueError):
            theme.use_palette("neon")
        assert theme.palette == "high_contrast"  # a bad name changes nothing
    finally:
        theme.use_palette("standard")
    assert theme.PAPER == theme.PALETTES["standard"]["PAPER"]
