"""Timestamps from the APIs (RFC 3339, possibly with nanoseconds), validated at ingest.

Servers store whatever they were sent: Alertmanager accepts and serves `startsAt`
`0001-01-01T00:00:00+14:00` or `9999-12-31T23:59:59Z`, where converting to UTC or adding an
hour overflows. Every time read from upstream is clamped into EARLIEST..LATEST, and the caller
is told so it can mark the item ("startsAt out of range: clamped").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1)


def parse_time(value: object) -> datetime:
    """Parse an RFC 3339 timestamp into an aware datetime, clamped into EARLIEST..LATEST;
    ValueError when it is not a timestamp."""
    return parse_time_checked(value)[0]


def parse_time_checked(value: object) -> tuple[datetime, bool]:
    """(the time, whether it was out of range and clamped); ValueError when not a timestamp."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    parsed = datetime.fromisoformat(value)
    return clamp_time(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def clamp_time(at: datetime) -> tuple[datetime, bool]:
    """`at` itself when inside EARLIEST..LATEST, else the nearer bound (UTC), and whether it
    was clamped. Never raises, even for year 1 at +14:00 (whose UTC is before year 1)."""
    offset = at.utcoffset() or timedelta(0)
    # Naive arithmetic only: timedeltas reach ±999,999,999 days, datetimes only years 1..9999.
    since_epoch = at.replace(tzinfo=None) - _EPOCH - offset
    if since_epoch < EARLIEST - EARLIEST:
        return EARLIEST, True
    if since_epoch > LATEST - EARLIEST:
        return LATEST, True
    return at, False
