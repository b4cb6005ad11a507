"""The app's heap and the garbage collector (issue 25): what an app builds to start is kept
out of the collector's full passes. No Kivy here."""
from __future__ import annotations

import gc

# Seconds after the start: the first screen drawn and the kiosk's screens warmed by then.
FREEZE_HEAP_AFTER_S = 1.0


def freeze_heap() -> None:
    """Keep what the app built to start (widgets, kv rules, modules: most of its heap) out
    of the garbage collector's full passes. A full pass over it took ~100 ms, now and then
    in the middle of a clerk's call-next (bench/counter.py); what is made later is
    collected as before. A frozen object that later becomes garbage is kept until the next
    call (unfreeze first): call it again after replacing what was built at the start (the
    kiosk's screens rebuilt for another theme), so that copy is not kept for good."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
