"""The journal's write queue: records are written in order, in batches (one write and one fsync
per batch), and kept in memory while the disk refuses them, retrying until they land. While the
disk refuses, the banner says so (once in a toast)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime

from ..clock import Clock
from ..domain.journal import Record
from ..domain.packed_records import Packed
from ..domain.shift import MEMORY_RECORDS
from ..sources.journal import Journal
from .notifier import Notifier
from .sources import SourceBoard

RETRY_SECONDS = 10.0


class JournalKeeper:
    def __init__(self, journal: Journal, board: SourceBoard, clock: Clock, notify: Notifier,
                 changed: Callable[[], None]) -> None:
        """`changed`: the banner must be redrawn (the journal's health changed)."""
        self.journal = journal
        self._name = journal.path.name
        """The banner's name for the journal (as configured)."""
        self._board = board
        self._clock = clock
        self._notify = notify
        self._changed = changed
        self.unwritten: deque[Record] = deque()
        self.writing = False
        """A flush is running (start one with `add` returning True)."""

    async def load(self, since: datetime) -> tuple[Packed, ...]:
        """The records since `since` (the newest MEMORY_RECORDS, what the Shift keeps), read
        and packed in a thread; unreadable files and skipped lines are told to the user (a
        file that cannot be read is an empty journal here)."""
        try:
            read = await asyncio.to_thread(self.journal.read_packed, since, MEMORY_RECORDS)
        except OSError as err:
            self._notify(f"Journal {self.journal.path}: {err}", severity="error", timeout=12)
            return ()
        for line, reason in read.corrupt[:3]:
            self._notify(f"{self.journal.path}:{line}: skipped: {reason}", severity="warning",
                   timeout=10)
        return read.packed

    def add(self, records: Iterable[Record]) -> bool:
        """Queue records; True when the caller should start `flush` (none is running)."""
        self.unwritten.extend(records)
        start = bool(self.unwritten) and not self.writing
        self.writing = self.writing or start
        return start

    async def flush(self) -> None:
        """Write until the queue is empty."""
        try:
            while self.unwritten:
                batch = list(self.unwritten)
                try:
                    await asyncio.to_thread(self.journal.extend, batch)
                except OSError as err:
                    self._failed(err, len(self.unwritten))
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                for _ in batch:
                    self.unwritten.popleft()
                if self._board.journal_written():
                    self._changed()
        finally:
            self.writing = False

    def _failed(self, err: OSError, kept: int) -> None:
        reason = (f"not written ({err.strerror or err}): {kept} record(s) kept in memory, "
                  f"retrying every {RETRY_SECONDS:g} s")
        if self._board.journal_failed(self._name, reason, self._clock.now()):
            self._notify(f"Journal {reason}", severity="error", timeout=10)
        self._changed()
