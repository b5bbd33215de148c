"""Positive barriers: wait until something that must happen has happened."""

from __future__ import annotations

import time


async def wait_until(pilot, condition, timeout=15.0):
    """Pump the app until `condition()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.1)


async def wait_for_polls(pilot, app, count: int = 2, key: str = "alertmanager/am0",
                         timeout: float = 15.0) -> None:
    """Wait until `count` more good polls of source `key` have been taken in (each one moves
    its `last_ok`): whatever those polls would cause has had its chance to happen."""
    seen = {app.sources.health[key].last_ok}
    start = len(seen)
    deadline = time.monotonic() + timeout
    while len(seen) - start < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} more polls of {key} not seen within {timeout}s")
        await pilot.pause(0.05)
        seen.add(app.sources.health[key].last_ok)


async def writes_done(pilot, app, timeout: float = 15.0) -> None:
    """Wait until no write the app started (acks, silences, expiries) is still running."""
    await wait_until(pilot, lambda: not any(w.group == "writes" and not w.is_finished
                                            for w in app.workers), timeout)
