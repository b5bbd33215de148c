"""Telling the engineer that alerts fired or escalated: a toast always (for the configured
levels), at most one of each kind per TOAST_EVERY; the bell and a desktop notification at most
once per `min_interval`.

In a storm every poll has news. A toast per poll would stack toasts faster than they time out,
and each one mounts and unmounts widgets (in the storm bench, ~350 widgets in 2.5 minutes,
left for the cycle collector). So the first news comes at once, and what comes in the next
TOAST_EVERY is added up into one toast then: "15,000 new: ...", never lost.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..clock import Clock
from ..domain.escalation import NotifySettings
from ..domain.notify import RateLimit, desktop_notification, name_list
from ..domain.shift import AlertFired, Escalated, Event
from .notifier import Notifier

TOAST_SECONDS = 8
"""A toast's time on screen."""
TOAST_EVERY = timedelta(seconds=30)
"""The least time between two toasts of one kind."""


@dataclass
class _News:
    """Alerts of one kind of page not yet shown."""

    count: int = 0
    names: set[str] = field(default_factory=set)
    levels: set[str] = field(default_factory=set)


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
        self._news: dict[str, _News] = {}
        self._shown: dict[str, datetime] = {}

    def events(self, events: Iterable[Event]) -> None:
        """One page per kind for a step's events: escalations, and alerts newly firing."""
        events = list(events)
        moved = [e.alert for e in events if isinstance(e, Escalated)]
        fresh = [e.alert for e in events if isinstance(e, AlertFired) and e.news
                 and e.alert.state.value == "firing"]
        wanted = set(self._settings.levels)
        for title, alerts in (("Escalated", moved), ("Firing", fresh)):
            if alerts and (not wanted or wanted & {a.level for a in alerts}):
                news = self._news.setdefault(title, _News())
                news.count += len(alerts)
                news.names.update(a.name for a in alerts)
                news.levels.update(a.level for a in alerts)
        self.tick()

    def tick(self) -> None:
        """Show the news of each kind whose last toast is TOAST_EVERY old (the app calls it each
        second)."""
        now = self._clock.now()
        for title, news in list(self._news.items()):
            shown = self._shown.get(title)
            if shown is None or not shown <= now < shown + TOAST_EVERY:  # (or the clock went back)
                del self._news[title]
                self._shown[title] = now
                self.page(title, _words(title, news), sorted(news.levels))

    def page(self, title: str, body: str, levels: list[str]) -> None:
        settings = self._settings
        if settings.levels and not set(levels) & set(settings.levels):
            return
        self._notify(body, title=title, severity="warning", timeout=TOAST_SECONDS)
        if not self._limit.allow(self._clock.now()):
            return
        if settings.bell:
            self._bell()
        if settings.desktop:
            self._to_terminal(desktop_notification(f"shiftdeck: {title}", body,
                                                   in_tmux="TMUX" in os.environ))


def _words(title: str, news: _News) -> str:
    names = name_list(news.names)
    if title == "Escalated":
        return f"{news.count} alert(s) moved up the ladder: {names}"
    return f"{news.count} new: {names}"
