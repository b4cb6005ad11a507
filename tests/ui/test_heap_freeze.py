"""ui/heap.py (issue 25): the start-up heap is frozen out of the collector's full passes;
a frozen object that becomes garbage is kept only until the heap is frozen again (the
kiosk does it after rebuilding its screens for another theme), never for good."""
from __future__ import annotations

import gc
import weakref

from ui.heap import freeze_heap


class Node:
    """A widget-like object: a parent and a child holding each other (a reference cycle,
    which only the collector frees)."""

    def __init__(self):
        self.child = None


def a_cycle():
    parent, child = Node(), Node()
    parent.child, child.child = child, parent
    return parent


def test_frozen_garbage_waits_for_the_next_freeze_and_then_goes():
    try:
        built_at_start = a_cycle()
        gone = weakref.ref(built_at_start)
        freeze_heap()
        assert gc.get_freeze_count() > 0
        del built_at_start  # replaced, say by a rebuilt screen: garbage now
        gc.collect()
        assert gone() is not None  # frozen: a full pass does not look at it
        freeze_heap()  # what the kiosk does after a rebuild
        assert gone() is None
        made_later = a_cycle()
        later = weakref.ref(made_later)
        del made_later
        gc.collect()
        assert later() is None  # made after the freeze: collected as before
    finally:
        gc.unfreeze()
