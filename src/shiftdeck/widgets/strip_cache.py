"""The table's drawn rows, kept by what they show."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from textual.strip import Strip


class StripCache:
    """The last `size` strips drawn, least recently used dropped first.

    An OrderedDict, not Textual's LRUCache: that one is a ring of linked lists, and clearing
    it (on every style change) leaves the whole ring, each Strip with caches of its own, to the
    cycle collector. Here a dropped strip is freed at once.

    A key may name objects by `id()` (an alert has no hash): `put` keeps them alive with the
    strip, so no other object can take their address, and so their key, meanwhile."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._strips: OrderedDict[Hashable, tuple[Strip, object]] = OrderedDict()

    def get(self, key: Hashable) -> Strip | None:
        found = self._strips.get(key)
        if found is None:
            return None
        self._strips.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, strip: Strip, keep: object = None) -> None:
        """`keep`: what the key names by id."""
        self._strips[key] = (strip, keep)
        self._strips.move_to_end(key)
        if len(self._strips) > self._size:
            self._strips.popitem(last=False)

    def clear(self) -> None:
        self._strips.clear()
