"""What the pollers post to the app."""

from __future__ import annotations

from datetime import datetime

from textual.message import Message

from .domain.board import SourceReport


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
