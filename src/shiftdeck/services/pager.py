"""Telling the engineer that alerts fired or escalated: a toast always (for the configured
levels); the bell and a desktop notification at most once per `min_interval`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from ..clock import Clock
from ..domain.escalation import NotifySettings
from ..domain.notify import RateLimit, desktop_notification, name_list
from ..domain.shift import AlertFired, Escalated, Event
from .notifier import Notifier


class Pager:
    def __init__(self, settings: NotifySettings, clock: Clock, notify: Notifier,
                 bell: Callable[[], None], to_terminal: Callable[[str], None]) -> None:
        """`to_terminal` writes an escape sequence to the terminal (nothing when headless)."""
        self._settings = settings
        self._clock = clock
        self._notify = notify
        self._bell = bell
        self._to_terminal = to_terminal
        self._limit = RateLimit(settings.min_interval)

    def events(self, events: Iterable[Event]) -> None:
        """One page per kind for a step's events: escalations, and alerts newly firing."""
        events = list(events)
        moved = [e.alert for e in events if isinstance(e, Escalated)]
        fresh = [e.alert for e in events if isinstance(e, AlertFired) and e.news
                 and e.alert.state.value == "firing"]
        if moved:
            self.page("Escalated", f"{len(moved)} alert(s) moved up the ladder: "
                      f"{name_list(a.name for a in moved)}", [a.level for a in moved])
        if fresh:
            self.page("Firing", f"{len(fresh)} new: {name_list(a.name for a in fresh)}",
                      [a.level for a in fresh])

    def page(self, title: str, body: str, levels: list[str]) -> None:
        settings = self._settings
        if settings.levels and not set(levels) & set(settings.levels):
            return
        self._notify(body, title=title, severity="warning", timeout=8)
        if not self._limit.allow(self._clock.now()):
            return
        if settings.bell:
            self._bell()
        if settings.desktop:
            self._to_terminal(desktop_notification(f"shiftdeck: {title}", body,
                                                   in_tmux="TMUX" in os.environ))
