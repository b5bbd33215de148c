"""What every source last said and how healthy it is: the pollers' reports, PagerDuty's
incidents, the ICS feeds, the journal's disk and internal errors, kept by key for the banner."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from ..clock import Clock
from ..domain.clockskew import noticeable

from ..domain.board import SourceReport
from ..domain.health import SourceHealth
from ..domain.pager import Incident
from ..sources.alertmanager import silences_health
from ..sources.pagerduty import PagerReport
from ..sources.poll import Pollable, Source
from ..sources.schedule import FeedResult
from ..sources.silence_writer import skew_of
from ..writes import Writer

JOURNAL_KEY = "journal/journal"


def source_key(source: Pollable[Any]) -> str:
    return f"{source.kind}/{source.name}"


def feed_health(health: SourceHealth, result: FeedResult, now: datetime) -> SourceHealth:
    """A fresh feed is ok; a failed one is stale, showing the cached copy's age, or down."""
    if not result.error:
        return health.succeeded(now, len(result.unmatched))
    failed = health.failed(now, result.error)
    if result.from_cache and failed.last_ok is None and result.fetched_at is not None:
        failed = replace(failed, last_ok=result.fetched_at)
    return failed


Inputs = tuple[dict[str, SourceReport], tuple[SourceHealth, ...], datetime,
               tuple[Incident, ...]]
"""What a Shift.apply needs (ShiftRunner.Inputs)."""


class SourceBoard:
    def __init__(self, sources: Sequence[Source], feeds: Iterable[Any],
                 pagers: Sequence[Pollable[PagerReport]] = ()) -> None:
        self.reports: dict[str, SourceReport] = {}
        self.pages: dict[str, PagerReport] = {}
        """Each PagerDuty account's last good answer, by key."""
        polled: list[Pollable[Any]] = [*sources, *pagers]
        self.health = {source_key(s): SourceHealth(s.name, s.kind) for s in polled}
        self.health.update({f"ics/{feed.name}": SourceHealth(feed.name, "ics")
                            for feed in feeds})
        self.wake = {source_key(s): asyncio.Event() for s in polled}
        self._cluster = {source_key(s): str(getattr(s, "cluster", "")) for s in sources}
        self._alertmanagers = [s for s in sources if s.kind == "alertmanager"]
        self._feed_problems: dict[str, list[str]] = {}
        self._pager_problems: dict[str, tuple[str, ...]] = {}

    def inputs(self, now: datetime) -> Inputs:
        """What a Shift.apply needs, copied now (the apply may run in a thread meanwhile)."""
        return self.current_reports(), self.health_now(), now, self.incidents()

    def incidents(self) -> tuple[Incident, ...]:
        """Every PagerDuty account's open incidents (a failing one's last good answer)."""
        return tuple(i for key in sorted(self.pages) for i in self.pages[key].incidents)

    def pager_reported(self, key: str, report: PagerReport, skipped: int) -> list[str]:
        """A PagerDuty account answered; its problems to tell the user when they are new."""
        self.pages[key] = report
        known = self.health.get(key) or SourceHealth(report.name, report.kind)
        self.health[key] = known.succeeded(report.fetched_at, skipped)
        problems = report.problems
        news = [f"{key}: {p}" for p in problems if p not in self._pager_problems.get(key, ())]
        self._pager_problems[key] = problems
        return news

    def size(self) -> int:
        return sum(len(r.alerts) for r in self.reports.values())

    def health_now(self) -> tuple[SourceHealth, ...]:
        return tuple(self.health.values())

    def wake_all(self) -> None:
        for event in self.wake.values():
            event.set()

    def note_skews(self, writer: Writer, clock: Clock) -> tuple[tuple[str, timedelta], ...]:
        """Tell the writer each cluster's clock as the pollers measured it (it writes in that
        time); the skews worth showing (over 30 s)."""
        for source in self._alertmanagers:
            if (skew := skew_of(source, clock)) is not None:
                writer.note_skew(str(getattr(source, "cluster", "")), skew)
        return tuple(noticeable(writer.skews()))

    def reported(self, key: str, report: SourceReport, skipped: int) -> None:
        previous = self.reports.get(key)
        self.reports[key] = report
        known = self.health.get(key) or SourceHealth(report.name, report.kind)
        self.health[key] = known.succeeded(report.fetched_at, skipped)
        # Silences that could not be read get a banner of their own; the alerts are fresh.
        silences_key = "silences/" + key
        partial = silences_health(report, previous, self.health.get(silences_key))
        if partial is None:
            self.health.pop(silences_key, None)
        else:
            self.health[silences_key] = partial

    def failed(self, key: str, error: str, at: datetime) -> None:
        kind, _, name = key.partition("/")
        known = self.health.get(key) or SourceHealth(name, kind)
        self.health[key] = known.failed(at, error)

    def current_reports(self) -> dict[str, SourceReport]:
        """Every source's last good report, except a failing HA member's while a peer in its
        cluster answers: the peer holds the same alerts and newer silences, and the stale copy
        would win the merge (firing outranks acked), hiding an ack made during the outage."""
        def failing(key: str) -> bool:
            return self.health[key].failing_since is not None

        answering = {self._cluster[k] for k in self.reports
                     if self._cluster.get(k) and not failing(k)}
        return {k: r for k, r in self.reports.items()
                if not (failing(k) and self._cluster.get(k) in answering)}

    def feeds_fetched(self, results: Iterable[FeedResult], now: datetime) -> list[str]:
        """Record each feed's health; return the new problems to tell the user, one text per
        feed."""
        news = []
        for result in results:
            key = f"ics/{result.feed.name}"
            self.health[key] = feed_health(self.health[key], result, now)
            problems = result.problems()
            if problems and problems != self._feed_problems.get(key):
                news.append("\n".join(problems))
            self._feed_problems[key] = problems
        return news

    def internal_error(self, what: str, reason: str, now: datetime) -> bool:
        """A bug's banner entry; True the first time (tell the user)."""
        key = f"internal/{what}"
        first = key not in self.health
        known = self.health.get(key) or SourceHealth(what, "internal")
        self.health[key] = known.failed(now, reason)
        return first

    def journal_failed(self, name: str, reason: str, now: datetime) -> bool:
        """The journal's banner entry while it cannot be written; True when that starts."""
        known = self.health.get(JOURNAL_KEY)
        self.health[JOURNAL_KEY] = (known or SourceHealth(name, "journal")).failed(now, reason)
        return known is None

    def journal_written(self) -> bool:
        """True when the journal's banner entry went (the board must be rebuilt)."""
        return self.health.pop(JOURNAL_KEY, None) is not None
