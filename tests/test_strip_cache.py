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
