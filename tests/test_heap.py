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
