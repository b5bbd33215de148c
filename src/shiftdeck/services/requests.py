"""What the screens ask for, done: acks, expiries, extensions and silences through the one
write path (writes.py), journaled for what Alertmanager accepted (even on partial failure),
told to the user; notes, status updates and commands journaled. The app runs each write in a
worker; nothing here knows of textual."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from .. import writes
from ..clock import Clock
from ..domain.alerts import Alert
from ..domain.board import Board
from ..domain.journal import Record, command_record, note_record, status_record
from ..domain.silences import Silence, SilenceRequest, extend_request
from .ack_extender import AckExtender
from .notifier import Notifier

Records = Callable[[writes.Outcome], list[Record]]


class Requests:
    def __init__(self, writer: writes.Writer, config: Any, clock: Clock,
                 record: Callable[[Sequence[Record]], None], notify: Notifier,
                 refresh: Callable[[], None]) -> None:
        """`record` puts records into the Shift and the journal; `refresh` polls every source
        at once (so the screen shows what Alertmanager now holds)."""
        self._writer = writer
        self._config = config
        self._clock = clock
        self._record = record
        self._notify = notify
        self._refresh = refresh
        self._extender = AckExtender(writer, config.ack)

    def cluster_now(self, alert: Alert) -> tuple[str, datetime]:
        """The cluster a silence for `alert` is written to, and the time on its clock."""
        cluster = self._writer.cluster_of(alert)
        return cluster, self._writer.now_at(cluster)

    def refused(self) -> bool:
        """Read-only mode: say that nothing is written."""
        if self._config.read_only:
            self._notify("Read-only: nothing was written.", severity="warning", timeout=4)
        return bool(self._config.read_only)

    async def ack(self, alerts: list[Alert], group: bool) -> None:
        if self.refused():
            return
        writer, user, ack, now = self._writer, self._config.user, self._config.ack, self._clock.now
        if group:
            await self.write(f"Ack group of {len(alerts)} alert(s)",
                             writes.acknowledge_group(alerts, writer, user, ack), "A",
                             lambda o: writes.group_ack_records(alerts, o, writer, user, now()))
        else:
            await self.write(f"Ack {len(alerts)} alert(s)",
                             writes.acknowledge(alerts, writer, user, ack), "a",
                             lambda o: writes.ack_records(alerts, o, user, now(), ack))

    async def expire(self, silences: list[Silence]) -> None:
        if not self.refused():
            await self.write("Expire", writes.expire(silences, self._writer), "",
                             lambda o: writes.expire_records(silences, o, self._config.user,
                                                             self._clock.now()))

    async def extend(self, silence: Silence, by: timedelta, text: str) -> None:
        """Extend by `by` (as the user wrote it: `text`) from its end or now, keeping the id."""
        if self.refused():
            return
        new_end = max(silence.ends_at, self._writer.now_at(silence.cluster)) + by
        await self.write(f"Extend by {text}",
                         writes.write_silences([extend_request(silence, new_end)], self._writer),
                         "e", lambda o: [writes.extend_record(silence, new_end, self._config.user,
                                                              self._clock.now())])

    async def silence(self, silence: SilenceRequest, target: Alert | None) -> None:
        """A silence from the form; `target` when it was made for one alert."""
        if not self.refused():
            await self.write("Silence", writes.write_silences([silence], self._writer), "s",
                             lambda o: writes.silence_records(silence, o, target,
                                                              self._config.user,
                                                              self._clock.now()))

    def ack_extensions(self, board: Board) -> Awaitable[None] | None:
        """kthxbye's job: the write extending the acks due now, if any (none when read-only)."""
        plans = [] if self._config.read_only else self._extender.due(board)
        if not plans:
            return None
        return self.write("Extend an ack", self._extender.extend(plans), quiet=True)

    def note(self, alert: Alert, text: str) -> None:
        self._record([note_record(alert, self._config.user, self._clock.now(), text)])

    def status_update(self, alert: Alert, status: str, body: str) -> None:
        self._record([status_record(alert, self._config.user, self._clock.now(), status, "",
                                    body, None)])

    def command_ran(self, alert: Alert, argv: list[str], exit_code: int | None,
                    duration: timedelta) -> None:
        self._record([command_record(alert, self._config.user, self._clock.now(), argv,
                                     exit_code, duration)])

    async def write(self, what: str, job: Awaitable[writes.Outcome], retry_key: str = "",
                    records: Records | None = None, quiet: bool = False) -> None:
        """Run one write; journal what was accepted, say how it went, then poll at once."""
        outcome = await job
        if outcome.done and records is not None:
            self._record(records(outcome))
        for warning in outcome.warnings:
            self._notify(f"{what}: {warning}.", severity="warning", timeout=8)
        if not outcome.ok:
            again = f" Press {retry_key} to retry." if retry_key else ""
            self._notify(f"{what} failed: " + "; ".join(outcome.failed) + "." + again,
                         severity="error", timeout=12)
        elif not quiet:
            skipped = "; ".join(outcome.skipped)
            self._notify(f"{what}: done." if not skipped else
                         f"{what}: {'done; ' if outcome.done else ''}{skipped}.", timeout=4)
        if not quiet:
            self._refresh()
