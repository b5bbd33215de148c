"""What flows up: the pollers' reports, and requests from screens that change shared state.

Screens never call the app's methods; they post one of these and the app handles each in one
place (ShiftdeckApp's `on_*` handlers): writes, the journal, pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from textual.message import Message

from .domain.alerts import Alert
from .domain.board import SourceReport
from .domain.silences import Silence, SilenceRequest


class SourceReported(Message):
    """A source answered."""

    def __init__(self, key: str, report: SourceReport, skipped: int) -> None:
        super().__init__()
        self.key = key
        self.report = report
        self.skipped = skipped


class SourceFailed(Message):
    """A source could not be read; `error` says why in words."""

    def __init__(self, key: str, error: str, at: datetime) -> None:
        super().__init__()
        self.key = key
        self.error = error
        self.at = at


@dataclass
class AckRequested(Message):
    """Acknowledge these alerts: one ACK! silence each (`group`: one for all)."""

    alerts: list[Alert]
    group: bool = False


@dataclass
class UnackRequested(Message):
    """Expire these ACK! silences (confirmed by the user)."""

    silences: list[Silence]


@dataclass
class ExpireRequested(Message):
    """Expire these silences (confirmed by the user)."""

    silences: list[Silence]


@dataclass
class ExtendRequested(Message):
    """Extend the silence by `by`, keeping its id."""

    silence: Silence
    by: timedelta
    text: str
    """`by` as the user wrote it."""


@dataclass
class SilenceRequested(Message):
    """Write this silence (made in the silence form)."""

    silence: SilenceRequest
    target: Alert | None
    """The alert it was made for, when it was made for one."""


@dataclass
class NoteAdded(Message):
    alert: Alert
    text: str


@dataclass
class StatusUpdatePosted(Message):
    """A status update was composed and copied."""

    alert: Alert
    status: str
    body: str


@dataclass
class CommandRan(Message):
    """A runbook command finished (exit code None: killed, or could not start)."""

    alert: Alert
    argv: list[str]
    exit_code: int | None
    duration: timedelta


@dataclass
class FilterRequested(Message):
    """Show the dashboard, filtered by `text` (matchers, as typed in the filter bar)."""

    text: str
