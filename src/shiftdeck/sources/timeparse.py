"""Timestamps from the APIs (RFC 3339, possibly with nanoseconds)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: object) -> datetime:
    """Parse an RFC 3339 timestamp into an aware datetime; ValueError when it is not one."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
