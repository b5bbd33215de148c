"""Polling: one long-lived loop per source. Polls never overlap; failures back off, capped at
the refresh interval so a recovered source is back within one poll."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from ..clock import Clock
from ..domain.board import SourceReport
from .alertmanager import AlertmanagerClient
from .http import SourceError
from .prometheus import PrometheusClient


Report = TypeVar("Report")
Report_co = TypeVar("Report_co", covariant=True)


class Pollable(Protocol[Report_co]):
    """Anything polled: Alertmanager and Prometheus (a SourceReport), PagerDuty (its own)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    async def report(self, now: datetime) -> tuple[Report_co, int]: ...


class Source(Protocol):
    name: str
    kind: str

    async def report(self, now: datetime) -> tuple[SourceReport, int]: ...

    async def aclose(self) -> None: ...


def make_sources(config: Any) -> list[Source]:
    sources: list[Source] = [AlertmanagerClient(u) for u in config.alertmanagers]
    sources += [PrometheusClient(u) for u in config.prometheus]
    return sources


def next_delay(refresh: timedelta, failures: int) -> float:
    """Seconds to wait before the next poll: the refresh interval, or a quick retry after failures."""
    interval = refresh.total_seconds()
    if failures == 0:
        return interval
    return min(interval, 1.0 * 2 ** (failures - 1))


PARSE_ALLOWANCE = 30.0
"""Seconds a poll may spend past its requests' deadlines, decoding and parsing (100k alerts
take a few seconds)."""


def poll_deadline(source: Pollable[Any]) -> float | None:
    """Seconds one poll of `source` may take: its requests run concurrently, each within the
    upstream's timeout (connect to last byte); twice that for a request that follows another,
    plus PARSE_ALLOWANCE. A source whose poll is a longer sequence (PagerDuty's pages and
    rate-limit waits) says its own `requests_in_sequence` and `longest_wait`. None for a
    source without an upstream (tests' fakes)."""
    timeout = getattr(getattr(source, "upstream", None), "timeout", None)
    if isinstance(timeout, timedelta) and hasattr(source, "requests_in_sequence"):
        return (source.requests_in_sequence * timeout.total_seconds()
                + 2 * float(getattr(source, "longest_wait", 0.0)) + PARSE_ALLOWANCE)
    if not isinstance(timeout, timedelta):
        return None
    return 2 * timeout.total_seconds() + PARSE_ALLOWANCE


async def poll_once(source: Pollable[Report], clock: Clock) -> tuple[Report, int]:
    """One poll; every failure becomes a SourceError with a reason for people, and a poll that
    outlives poll_deadline() is one (so the header never shows ok for it)."""
    limit = poll_deadline(source)
    try:
        async with asyncio.timeout(limit):
            return await source.report(clock.now())
    except TimeoutError:
        raise SourceError(f"no complete poll within {limit:g}s (deadline)" if limit else
                          "timed out") from None
    except SourceError:
        raise
    except Exception as err:  # a bug or an answer we did not foresee must not end the loop
        raise SourceError(f"unexpected error: {type(err).__name__}: {err}"[:200]) from err


async def poll_forever(
    source: Pollable[Report],
    clock: Clock,
    refresh: timedelta,
    on_report: Callable[[Report, int], None],
    on_error: Callable[[str, str, datetime], None],
    wake: asyncio.Event,
) -> None:
    failures = 0
    while True:
        try:
            report, skipped = await poll_once(source, clock)
        except SourceError as err:
            failures += 1
            on_error(source.name, str(err), clock.now())
        else:
            failures = 0
            on_report(report, skipped)
        try:
            await asyncio.wait_for(wake.wait(), next_delay(refresh, failures))
        except TimeoutError:
            pass
        wake.clear()


async def poll_all_once(sources: list[Source], clock: Clock) -> list[tuple[Source, Any]]:
    """Poll every source concurrently once: (source, (report, skipped) or SourceError)."""
    async def attempt(source: Source) -> Any:
        try:
            return await poll_once(source, clock)
        except SourceError as err:
            return err

    results = await asyncio.gather(*(attempt(s) for s in sources))
    return list(zip(sources, results))


async def poll_and_close(sources: list[Source], clock: Clock) -> list[tuple[Source, Any]]:
    """poll_all_once, then every source's client closed (one-shot commands)."""
    try:
        return await poll_all_once(sources, clock)
    finally:
        await asyncio.gather(*(s.aclose() for s in sources))
