"""Speech for the kiosk's audio guide (issue 25 "A kiosk for everyone"): an offline engine
behind one small interface, so the guide (ui/keypad.py's navigator) never knows which.

    speaker = make_speaker()            # NAFITHA_SPEECH: espeak-ng (default), record, off
    speaker.say("أهلاً وسهلاً", "ar")    # returns at once; the newest utterance cuts the last
    speaker.stop()

- EspeakSpeaker runs `espeak-ng -v ar|en` in a subprocess (non-blocking); a new utterance
  kills the one still speaking, so a resident moving focus quickly hears only where they are.
- RecordingSpeaker records (text, lang) in order: tests assert what would have been spoken
  (house style 3: every device has a fake that records).
- audio_problem() says why there is no sound (no espeak-ng, no sound card); the kiosk then
  shows a notice in both languages and keeps working silently.

No Kivy here: tests/ui/test_keypad_order.py uses it without a display."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path

log = logging.getLogger("nafitha.audio")

SPEECH_ENV = "NAFITHA_SPEECH"            # espeak-ng | record | off
SOUND_CARDS_ENV = "NAFITHA_SOUND_CARDS"  # stands in for /proc/asound/cards (tests)
SOUND_CARDS = "/proc/asound/cards"
VOICES = {"ar": "ar", "en": "en"}
WORDS_PER_MINUTE = 150  # a little slower than espeak-ng's 175: residents hear it once


class Speaker:
    """Says one thing at a time; `say` never blocks the caller."""
    available = True
    problem: str | None = None  # why there is no sound (None: there is)

    def say(self, text: str, lang: str) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Silence whatever is being said."""


class SilentSpeaker(Speaker):
    """No sound at all (no device, or speech turned off): the kiosk keeps working."""
    available = False

    def __init__(self, problem: str):
        self.problem = problem

    def say(self, text: str, lang: str) -> None:
        pass


class RecordingSpeaker(Speaker):
    """The recording fake: every utterance as (text, lang), in the order it was asked for."""

    def __init__(self):
        self.spoken: list[tuple[str, str]] = []
        self.stops = 0

    def say(self, text: str, lang: str) -> None:
        if text.strip():
            self.spoken.append((text, lang))

    def stop(self) -> None:
        self.stops += 1


class EspeakSpeaker(Speaker):
    """espeak-ng in a subprocess; the newest utterance interrupts the previous one."""

    def __init__(self, binary: str = "espeak-ng"):
        self.binary = binary
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._failed_logged = False

    def say(self, text: str, lang: str) -> None:
        if not text.strip():
            return
        argv = [self.binary, "-v", VOICES.get(lang, "en"), "-s", str(WORDS_PER_MINUTE), "--",
                text]
        with self._lock:
            self._kill()
            try:
                self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                              stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
            except OSError as exc:
                if not self._failed_logged:  # log once, not on every focus move
                    log.error("speech failed: %s", exc)
                    self._failed_logged = True

    def stop(self) -> None:
        with self._lock:
            self._kill()

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            # Reaped on a thread: never wait on the UI thread.
            threading.Thread(target=proc.wait, daemon=True).start()


def audio_problem(environ=os.environ, which=shutil.which) -> str | None:
    """Why the guide cannot be heard here (a reason for the log), or None if it can:
    no espeak-ng installed, or no sound card (ALSA lists none)."""
    if which("espeak-ng") is None:
        return "espeak-ng is not installed"
    cards = Path(environ.get(SOUND_CARDS_ENV) or SOUND_CARDS)
    try:
        listing = cards.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"no sound card ({cards} cannot be read)"
    if not listing.strip() or "no soundcards" in listing.lower():
        return "no sound card"
    return None


def make_speaker(environ=os.environ, which=shutil.which) -> Speaker:
    """The speaker NAFITHA_SPEECH asks for; a SilentSpeaker saying why if it cannot speak.
    'record' is the tests' fake, also subject to the sound-card check, so the no-device
    notice can be tested with recorded speech."""
    kind = (environ.get(SPEECH_ENV) or "espeak-ng").strip().lower()
    if kind == "off":
        return SilentSpeaker("speech is turned off")
    if kind == "record":
        cards = environ.get(SOUND_CARDS_ENV)
        if cards and audio_problem(environ, which=lambda _: "espeak-ng"):
            return SilentSpeaker(audio_problem(environ, which=lambda _: "espeak-ng"))
        return RecordingSpeaker()
    problem = audio_problem(environ, which)
    if problem:
        log.warning("audio guide silent: %s", problem)
        return SilentSpeaker(problem)
    return EspeakSpeaker()
