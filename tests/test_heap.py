"""HeapKeeper: after a full collection the survivors are frozen, and a thaw collects what
became cyclic garbage while frozen. Real collections of this process's heap."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Iterator

import pytest

from shiftdeck.heap import HeapKeeper


def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not met within {timeout}s"
        time.sleep(0.05)


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


@pytest.fixture
def keeper() -> Iterator[HeapKeeper]:
    keeper = HeapKeeper(thaw_every=2.0)
    keeper.start()
    yield keeper
    keeper.stop()


@pytest.mark.slow
def test_survivors_of_a_full_collection_are_frozen_then_thawed(keeper: HeapKeeper) -> None:
    held = [Node()]
    cycle = weakref.ref(held[0])
    gc.collect()
    wait_until(lambda: gc.get_freeze_count() > 0, timeout=5)
    held.clear()  # garbage now, but frozen: full collections no longer walk it
    gc.collect()
    assert cycle() is not None
    wait_until(lambda: cycle() is None, timeout=10)  # the thaw's collection freed it


def test_stop_thaws_everything(keeper: HeapKeeper) -> None:
    gc.collect()
    wait_until(lambda: gc.get_freeze_count() > 0, timeout=5)
    keeper.stop()
    assert gc.get_freeze_count() == 0


def test_the_c_heap_is_trimmed_every_few_seconds() -> None:
    trims: list[float] = []
    keeper = HeapKeeper(thaw_every=600.0, trim_every=0.1, trim=lambda: trims.append(1.0))
    keeper.start()
    try:
        wait_until(lambda: len(trims) >= 3, timeout=5)
    finally:
        keeper.stop()


@pytest.mark.slow
def test_while_the_user_types_each_thaw_comes_right_after_a_key() -> None:
    thaws: list[float] = []

    def on_collection(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2 and gc.get_freeze_count() == 0:
            thaws.append(time.monotonic())  # only a thaw collects with nothing frozen

    keeper = HeapKeeper(thaw_every=0.3)  # due ~3 times between two keys
    gc.collect()
    keeper.start()
    gc.callbacks.append(on_collection)
    keys = []
    try:
        for _ in range(4):  # a key a second: the user is typing (QUIET is 2 s)
            keys.append(time.monotonic())
            keeper.key_seen()
            time.sleep(1.0)
    finally:
        gc.callbacks.remove(on_collection)
        keeper.stop()
    assert len(thaws) >= 2
    gaps = [sum(k <= t < k + 1.0 for t in thaws) for k in keys]
    assert max(gaps) == 1, f"thaws per key gap: {gaps}"  # one per key, not one per 0.3 s
    after = [t - max(k for k in keys if k <= t) for t in thaws]
    assert all(0.04 <= d < 0.6 for d in after), after


def test_a_keeper_waiting_for_a_key_stops_at_once() -> None:
    keeper = HeapKeeper(thaw_every=0.05)
    keeper.start()
    keeper.key_seen()  # now a thaw due waits up to 2 s for the next key
    time.sleep(0.2)
    started = time.monotonic()
    keeper.stop()
    assert time.monotonic() - started < 1.0
