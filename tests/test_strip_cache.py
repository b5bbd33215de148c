"""The alert table's strip cache: least recently used dropped first, and nothing left for the
cycle collector when it is cleared (Textual's LRUCache left its whole ring of links)."""

from __future__ import annotations

import gc

from rich.segment import Segment
from textual.strip import Strip

from shiftdeck.widgets.strip_cache import StripCache


def _strip(text: str) -> Strip:
    return Strip([Segment(text)])


def test_the_least_recently_used_strip_goes_first() -> None:
    cache = StripCache(2)
    a, b, c = _strip("a"), _strip("b"), _strip("c")
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # now b is the oldest
    cache.put("c", c)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (a, None, c)


def test_clearing_leaves_no_cyclic_garbage() -> None:
    gc.collect()
    gc.disable()
    try:
        cache = StripCache(64)
        for n in range(100):
            cache.put(("row", n), _strip(f"row {n}").crop(0, 3))
        cache.clear()
        del cache
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_cached_strip_keeps_the_objects_its_key_names_by_id_alive() -> None:
    """The table keys a row's strip by `id(alert)`. Were the alert freed while its strip is
    cached, a later alert of the same row could be made at the same address and be shown
    with the old alert's strip (its old state, say)."""
    import weakref

    class Drawn:
        pass

    cache = StripCache(1)
    drawn = Drawn()
    alive = weakref.ref(drawn)
    cache.put(("row", id(drawn)), _strip("firing"), keep=drawn)
    del drawn
    gc.collect()
    assert alive() is not None
    cache.put(("row", 0), _strip("acked"))  # the entry is dropped: so is what it kept
    gc.collect()
    assert alive() is None
