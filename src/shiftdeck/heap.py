"""Short full collections for the TUI process.

CPython 3.11's cyclic garbage collector makes a full collection each time a quarter more
objects have survived since the last one, and walks every tracked object while holding the
GIL. In the storm bench (10k alerts, 1,000 changing every 2 s) that was a 55-70 ms pause about
every 10 s on a heap of ~110k objects, and a key press that met one waited for it.

After each full collection, `HeapKeeper` freezes the survivors (`gc.freeze`): what is alive
then is what the session holds (the UI, the board and its alerts), and the next full collection
walks only what came since. Frozen objects are still freed by reference counting when they go.
Only a reference cycle that became garbage after its objects were frozen waits, for the thaw
every THAW_EVERY: then one full collection walks the whole heap (~110 ms in the storm bench).
While the user types, the thaw waits for the next key and runs just after it, between keys.

`give_back_free_memory` returns the C heap's free pages to the system (glibc's malloc_trim):
decoding and replacing thousands of alerts frees tens of MB at a time that would otherwise stay
in the process's resident size. glibc itself gives back only the top of its heap, so in a storm
the TUI process's C heap held ~22 MB free after a few minutes (mallinfo2): the keeper trims it
every TRIM_EVERY too. ctypes lets go of the interpreter lock for the call.
"""

from __future__ import annotations

import ctypes
import gc
import threading
import time
from collections.abc import Callable
from typing import Any

THAW_EVERY = 120.0
"""Seconds between thaws: frozen cyclic garbage is kept at most this long. The UI makes some
all the time (a restyle, a toast, a finished worker: ~15k objects a minute in the storm bench),
so this bounds the resident size it holds (a 600 s thaw showed as +2.8 MiB/min over a storm's
minutes 2-7; 60 s as +0.8). A thaw's full collection costs ~25 ms per 160k objects (idle)."""

QUIET = 2.0
"""Seconds without a key after which the user is not typing: a thaw due then runs at once."""

AFTER_KEY = 0.06
"""While the user types, a thaw due waits for the next key and starts this long after it,
when that key's repaint is done and the next key is still far (~110 ms of full collection in
the storm bench: a key that met it waited that much longer)."""

TRIM_EVERY = 10.0
"""Seconds between two returns of the C heap's free pages (`give_back_free_memory`)."""


def _malloc_trim() -> Callable[[int], int]:
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: its allocator keeps what it keeps
        return lambda _pad: 0
    return trim


_trim = _malloc_trim()


def give_back_free_memory() -> None:
    _trim(0)


class HeapKeeper:
    def __init__(self, thaw_every: float = THAW_EVERY, trim_every: float = TRIM_EVERY,
                 trim: Callable[[], None] = give_back_free_memory) -> None:
        self._thaw_every = thaw_every
        self._trim_every = trim_every
        self._trim = trim
        self._collected = threading.Event()
        self._stopped = threading.Event()
        self._key = threading.Event()
        self._key_at = -QUIET
        self._thread = threading.Thread(target=self._run, name="shiftdeck-heap", daemon=True)

    def start(self) -> None:
        gc.callbacks.append(self._on_collection)
        self._thread.start()

    def stop(self) -> None:
        """Stop freezing and thaw what was frozen (tests; the TUI keeps it to the end)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._collected.set()
        self._key.set()
        self._thread.join()
        gc.callbacks.remove(self._on_collection)
        gc.unfreeze()

    def key_seen(self) -> None:
        """The user pressed a key (the app calls it for each)."""
        self._key_at = time.monotonic()
        self._key.set()

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            self._collected.set()

    def _run(self) -> None:
        thawed = trimmed = time.monotonic()
        while True:
            due = min(thawed + self._thaw_every, trimmed + self._trim_every)
            collected = self._collected.wait(max(due - time.monotonic(), 0.0))
            if self._stopped.is_set():
                return
            now = time.monotonic()
            if collected:
                self._collected.clear()
                gc.collect(1)  # the young garbage first: frozen, it would stay
                gc.freeze()
            elif now >= thawed + self._thaw_every:
                self._wait_between_keys()
                if self._stopped.is_set():
                    return
                thawed = time.monotonic()
                gc.unfreeze()
                gc.collect()  # sets _collected: the survivors are frozen (and trimmed) next
                continue
            if collected or now >= trimmed + self._trim_every:
                self._trim()
                trimmed = time.monotonic()

    def _wait_between_keys(self) -> None:
        """Return when a full collection holds up no key: at once when the user is not typing,
        else AFTER_KEY after the next key (or once the user stops)."""
        if time.monotonic() - self._key_at >= QUIET:
            return
        self._key.clear()
        if self._key.wait(QUIET):
            self._stopped.wait(AFTER_KEY)
