"""The on-call feeds (ICS), refreshed for the whole session: a feed that fails keeps its cached
shifts, and says so once per new problem."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..clock import Clock
from ..domain.roster import Roster
from ..sources.schedule import fetch_feeds, roster_with_feeds
from .notifier import Notifier
from .sources import SourceBoard


async def poll_feeds(config: Any, board: SourceBoard, clock: Clock, notify: Notifier,
                     roster_changed: Callable[[Roster], None]) -> None:
    """Forever: fetch every feed, record its health on `board`, pass on the new roster."""
    feeds = config.schedules_ics
    while True:
        now = clock.now()
        results = await fetch_feeds(feeds, config.roster.people, now=now, zone=config.timezone)
        for problems in board.feeds_fetched(results, now):
            notify(problems, title="On-call feed", severity="warning", timeout=10)
        roster_changed(roster_with_feeds(config.roster, results))
        await asyncio.sleep(min(feed.refresh for feed in feeds).total_seconds())
