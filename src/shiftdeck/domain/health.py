"""What we know about each source's health: ok, stale (failing, showing old data) or down."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class Health(StrEnum):
    OK = "ok"
    STALE = "stale"
    DOWN = "down"
    WAITING = "waiting"


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    kind: str
    """'alertmanager' or 'prometheus'."""
    last_ok: datetime | None = None
    failing_since: datetime | None = None
    error: str = ""
    version: str = ""
    skipped: int = 0
    """Items in the last good answer that were malformed and left out."""

    @property
    def health(self) -> Health:
        if self.failing_since is None:
            return Health.OK if self.last_ok else Health.WAITING
        return Health.STALE if self.last_ok else Health.DOWN

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    def succeeded(self, at: datetime, skipped: int = 0, version: str = "") -> SourceHealth:
        return replace(self, last_ok=at, failing_since=None, error="", skipped=skipped,
                       version=version or self.version)

    def failed(self, at: datetime, error: str) -> SourceHealth:
        return replace(self, failing_since=self.failing_since or at, error=error)
