"""Bulk work (decoding and parsing thousands of alerts) off the event loop, without the cyclic
garbage collector.

Decoding a 10k-alert answer allocates ~500k containers. With the collector on, CPython starts
full collections in the middle of that; each scans the whole heap while holding the GIL (110 ms
at 10k alerts, measured), and a key press waits for it. Alerts and decoded JSON hold no
reference cycles, so reference counting frees them; the collector resumes when the last bulk
job ends."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_running = 0
_was_enabled = True


async def off_loop(work: Callable[..., T], *args: object) -> T:
    """`work(*args)` in a worker thread, with the collector paused while any bulk job runs."""
    return await asyncio.to_thread(without_collector, work, *args)


def without_collector(work: Callable[..., T], *args: object) -> T:
    """`work(*args)` here, with the collector paused while any bulk job runs."""
    global _running, _was_enabled
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        return work(*args)
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()
