"""The journal's write queue: records are written in order, in batches (one write and one fsync
per batch), and kept in memory while the disk refuses them, retrying until they land."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable

from ..domain.journal import Record
from ..sources.journal import Journal

RETRY_SECONDS = 10.0


class JournalKeeper:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.unwritten: deque[Record] = deque()
        self.writing = False
        """A flush is running (start one with `add` returning True)."""

    def add(self, records: Iterable[Record]) -> bool:
        """Queue records; True when the caller should start `flush` (none is running)."""
        self.unwritten.extend(records)
        start = bool(self.unwritten) and not self.writing
        self.writing = self.writing or start
        return start

    async def flush(self, failed: Callable[[OSError, int], None],
                    written: Callable[[], None]) -> None:
        """Write until the queue is empty; `failed(error, kept)` after each failed attempt."""
        try:
            while self.unwritten:
                batch = list(self.unwritten)
                try:
                    await asyncio.to_thread(self.journal.extend, batch)
                except OSError as err:
                    failed(err, len(self.unwritten))
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                for _ in batch:
                    self.unwritten.popleft()
                written()
        finally:
            self.writing = False
