"""Every source's long-lived poll loop, by key: the Alertmanagers and Prometheus servers
(poll.py's loop), the PagerDuty accounts (PagerDesk's) and the on-call feeds ("ics"). The app
runs each loop as a worker and, when one dies, starts it again by its key; nothing here knows
of textual."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from ..clock import Clock
from ..domain.board import SourceReport
from ..domain.roster import Roster
from ..sources.poll import Source, poll_forever
from .feeds import poll_feeds
from .notifier import Notifier
from .pagerduty import Changed, PagerDesk
from .sources import SourceBoard, source_key

FEEDS = "ics"
"""The key of the on-call feeds' poller."""

Reported = Callable[[str, SourceReport, int], object]
"""(source key, its report, alerts skipped); what it returns is ignored."""
Failed = Callable[[str, str, datetime], object]
"""(source key, what went wrong, when)."""
Loop = Coroutine[Any, Any, None]


class Pollers:
    def __init__(self, config: Any, sources: Sequence[Source], board: SourceBoard,
                 pagerduty: PagerDesk, clock: Clock, notify: Notifier, *, reported: Reported,
                 failed: Failed, paged: Changed) -> None:
        """`reported` and `failed` take each answer of an Alertmanager or Prometheus (the app
        posts them as messages); `paged` is called after each PagerDuty poll and feeds refresh,
        with the new roster when it changed."""
        self._config = config
        self._sources = tuple(sources)
        self._board = board
        self._pagerduty = pagerduty
        self._clock = clock
        self._notify = notify
        self._reported = reported
        self._failed = failed
        self._paged = paged

    @property
    def keys(self) -> list[str]:
        """Every poller's key, in the order they start."""
        feeds = [FEEDS] if self._config.schedules_ics else []
        return [*map(source_key, self._sources), *self._pagerduty.keys, *feeds]

    def loop(self, key: str) -> Loop | None:
        """The poll loop of `key` (None when no poller has that key)."""
        if key == FEEDS:
            return poll_feeds(self._config, self._board, self._clock, self._notify,
                              self._feeds_read)
        for source in self._sources:
            if source_key(source) == key:
                return self._poll(source, key)
        for client in self._pagerduty.clients:
            if source_key(client) == key:
                return self._pagerduty.poll(client, self._config.refresh, self._paged)
        return None

    @staticmethod
    def description(key: str) -> str:
        """What the poller `key` does, in words (its failure is reported in them)."""
        return "refresh on-call feeds" if key == FEEDS else f"poll {key}"

    async def _poll(self, source: Source, key: str) -> None:
        def reported(report: SourceReport, skipped: int) -> None:
            self._reported(key, report, skipped)

        def failed(_name: str, error: str, at: datetime) -> None:
            self._failed(key, error, at)

        await poll_forever(source, self._clock, self._config.refresh, on_report=reported,
                           on_error=failed, wake=self._board.wake[key])

    def _feeds_read(self, roster: Roster) -> None:
        """The feeds' roster (PagerDuty's on-calls join it); their health is on the board."""
        self._paged(self._pagerduty.with_feeds(roster))

    async def aclose(self) -> None:
        """Close every source's and PagerDuty account's client (errors ignored: quitting)."""
        await asyncio.gather(*(source.aclose() for source in self._sources),
                             self._pagerduty.aclose(), return_exceptions=True)
