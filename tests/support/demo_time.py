"""The demo tests' fixed start and their time parsing."""

from __future__ import annotations

from datetime import UTC, datetime

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
