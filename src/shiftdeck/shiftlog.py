"""The shift's record: the journal (every action, written durably and never silently lost),
notes, status updates, the handoff report and the shift's numbers. A mixin of ShiftdeckApp.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta
from pathlib import Path

from textual import work

from .domain.alerts import Alert
from .domain.clipboard import osc52_copy
from .domain.handoff import handoff_report
from .domain.health import SourceHealth
from .domain.journal import Kind, Record, alert_record
from .domain.metrics import shift_metrics
from .domain.sanitize import clean
from .domain.status import compose_update
from .screens.handoff import HandoffScreen
from .screens.prompt import PromptScreen
from .screens.shift import ShiftScreen
from .screens.status_update import StatusUpdateScreen


JOURNAL_RETRY_SECONDS = 10.0
JOURNAL_HEALTH = "journal/journal"
"""The journal's entry among the sources' health while it cannot be written."""


class ShiftLogMixin:
    @work(group="journal-read", thread=True)
    def _load_journal(self) -> None:
        since = self.clock.now() - timedelta(days=7)
        try:
            read = self.journal.read(since)
        except OSError as err:
            self.call_from_thread(self.notify, f"Journal {self.config.journal}: {err}",
                                  severity="error", timeout=12)
            return
        self.call_from_thread(self._journal_loaded, read)

    def _journal_loaded(self, read) -> None:
        self.records[:0] = read.records
        for line, reason in read.corrupt[:3]:
            self.notify(f"{self.config.journal}:{line}: skipped: {reason}", severity="warning",
                        timeout=10)
        self.dashboard.show_records(self.records)

    def record(self, record: Record) -> None:
        """Keep it in this session at once; write it to disk in order, retrying until it lands."""
        self.records.append(record)
        self._unwritten.append(record)
        self.dashboard.show_records(self.records)
        if not self._journal_writing:
            self._journal_writing = True
            self._write_journal()

    def note(self, kind: Kind, alert: Alert | None = None, text: str = "", **data) -> None:
        now = self.clock.now()
        if alert is not None:  # carries the alert's startsAt, so MTTA counts this firing
            self.record(alert_record(kind, alert, self.config.user, now, text, **data))
        else:
            self.record(Record(now, kind, self.config.user, text=text, data=data))

    @work(group="journal")
    async def _write_journal(self) -> None:
        try:
            while self._unwritten:
                batch = list(self._unwritten)  # an alert storm: one write and one fsync
                try:
                    await asyncio.to_thread(self.journal.extend, batch)
                except OSError as err:
                    self._journal_failed(err)
                    await asyncio.sleep(JOURNAL_RETRY_SECONDS)
                    continue
                for _ in batch:
                    self._unwritten.popleft()
                self._journal_written()
        finally:
            self._journal_writing = False

    def _journal_failed(self, err: OSError) -> None:
        """A banner while the journal cannot be written (a toast when that starts)."""
        reason = (f"not written ({err.strerror or err}): {len(self._unwritten)} record(s) kept "
                  f"in memory, retrying every {JOURNAL_RETRY_SECONDS:g} s")
        known = self._health.get(JOURNAL_HEALTH)
        if known is None:
            self.notify(f"Journal {reason}", severity="error", timeout=10)
            known = SourceHealth(self.config.journal.name, "journal")
        self._health[JOURNAL_HEALTH] = known.failed(self.clock.now(), reason)
        self._rebuild()

    def _journal_written(self) -> None:
        if self._health.pop(JOURNAL_HEALTH, None) is not None:
            self._rebuild()

    def add_note(self, alert: Alert) -> None:
        def answered(text: str | None) -> None:
            if text and text.strip():
                self.note(Kind.NOTE, alert, clean(text.strip()))

        self.push_screen(PromptScreen(f"Note on {alert.name} (goes into the journal):"),
                         answered)

    def compose_status_update(self, alert: Alert) -> None:
        level = self.config.severity.level_of(alert.labels)

        def text(status: str, impact: str) -> str:
            return compose_update(alert, level, self.records, status, impact, self.clock.now(),
                                  self.config.timezone)

        def chosen(result: tuple[str, str] | None) -> None:
            if result is not None:
                status, body = result
                self.copy_text(body, "Status update")
                self.note(Kind.STATUS_UPDATE, alert, body, status=status)

        self.push_screen(StatusUpdateScreen(text), chosen)

    def copy_text(self, text: str, what: str) -> None:
        """To the user's clipboard through SSH and tmux: OSC 52."""
        if self._driver is not None and not self.is_headless:
            self._driver.write(osc52_copy(text, in_tmux="TMUX" in os.environ))
        self.notify(f"{what} copied to the clipboard (OSC 52).", timeout=4)

    def shift_start(self) -> datetime:
        """When the user's current shift began, else 12 hours ago."""
        now = self.clock.now()
        roster = self.dashboard.roster
        me = roster.find(self.config.user)
        starts = [h.start for role in roster.roles()
                  if (h := roster.holding(role, now)).person is not None and me is not None
                  and h.person.id == me.id]
        return min(starts) if starts else now - timedelta(hours=12)

    def show_handoff(self) -> None:
        report = handoff_report(self.records, self.board, self.dashboard.roster, self.clock.now(),
                                self.shift_start(), self.config.user, self.config.timezone,
                                self.config.severity)
        self.push_screen(HandoffScreen(report))

    def save_handoff(self, markdown: str) -> None:
        default = f"~/handoff-{self.clock.now().astimezone(self.config.timezone):%Y-%m-%d}.md"

        def answered(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            try:
                target.write_text(markdown, encoding="utf-8")
            except OSError as err:
                self.notify(f"Could not write {target}: {err.strerror or err}",
                            severity="error", timeout=10)
                return
            self.notify(f"Handoff written to {target}", timeout=5)

        self.push_screen(PromptScreen("Write the handoff report to:", default), answered)

    def show_shift_metrics(self) -> None:
        metrics = shift_metrics(self.records, self.shift_start(), self.clock.now(),
                                incident_levels=self.config.severity.names()[:2])
        self.push_screen(ShiftScreen(metrics, self.config.timezone))
