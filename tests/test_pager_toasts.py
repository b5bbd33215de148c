"""Pages in a storm: at most one toast of each kind per TOAST_EVERY; what came in between is
added up into the next one, never lost (frozen clock, recorded toasts)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from shiftdeck.clock import FrozenClock
from shiftdeck.domain.escalation import NotifySettings
from shiftdeck.domain.shift import AlertFired
from shiftdeck.services.pager import TOAST_EVERY, Pager

from .support.factories import NOW, make_alert


def _fired(*names: str, level: str = "P1") -> list[AlertFired]:
    return [AlertFired(replace(make_alert(name, "critical", pod=f"{name}-{n}"), level=level))
            for n, name in enumerate(names)]


def _pager(clock: FrozenClock) -> tuple[Pager, list[str], list[int]]:
    toasts: list[str] = []
    bells: list[int] = []

    def notify(message: str, **_: object) -> None:
        toasts.append(message)

    pager = Pager(NotifySettings(bell=True), clock, notify, lambda: bells.append(1),
                  lambda _sequence: None)
    return pager, toasts, bells


def test_polls_within_a_toasts_time_are_added_up_into_the_next_toast() -> None:
    clock = FrozenClock(NOW)
    pager, toasts, _ = _pager(clock)
    pager.events(_fired("DiskFull"))
    assert toasts == ["1 new: DiskFull"]
    for _ in range(3):  # a storm: news every second while the toast is up
        clock.advance(timedelta(seconds=1))
        pager.events(_fired("BackendDown", "CpuHigh"))
        pager.tick()
    assert toasts == ["1 new: DiskFull"]
    clock.advance(TOAST_EVERY)
    pager.tick()
    assert toasts == ["1 new: DiskFull", "6 new: BackendDown, CpuHigh"]
    pager.tick()
    assert len(toasts) == 2  # nothing new since


def test_levels_that_do_not_page_are_not_held_either() -> None:
    clock = FrozenClock(NOW)
    pager, toasts, _ = _pager(clock)
    pager.events(_fired("Chatty", level="P4"))
    pager.events(_fired("BackendDown"))
    assert toasts == ["1 new: BackendDown"]
