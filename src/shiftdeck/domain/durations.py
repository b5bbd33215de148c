"""Durations as people write them: 90s, 15m, 4h, 1d, 1w, 1h30m."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_DIGITS = 12
"""More digits than any sane duration has; also keeps int() away from huge numbers."""

MAX_DURATION = timedelta(days=3650)
"""About 10 years: longer than anything shiftdeck waits for, and short enough that
`now + duration` stays a valid datetime (year 9999 is the end of Python's calendar)."""

EARLIEST_YEAR, LATEST_YEAR = 1970, 2200
"""Times given by people (flags, config) must fall in [1970, 2200): anything else is a typo,
and far-off years overflow datetime arithmetic."""


class OutOfRange(ValueError):
    """A well-formed duration or time outside what shiftdeck accepts."""


def parse_duration(text: str, maximum: timedelta = MAX_DURATION) -> timedelta:
    """Parse '15m' or '1h30m', at most `maximum`; raise ValueError with a readable reason
    otherwise."""
    value = str(text).strip()
    if not value:
        raise ValueError("empty duration")
    pos, seconds = 0, 0.0
    for part in _PART.finditer(value):
        if part.start() != pos:
            break
        if len(part.group(1)) > _MAX_DIGITS:
            raise _too_long(value, maximum)
        seconds += int(part.group(1)) * _UNIT_SECONDS[part.group(2)]
        pos = part.end()
    if pos != len(value):
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 4h, 1d, 1w)")
    if seconds > maximum.total_seconds():
        raise _too_long(value, maximum)
    return timedelta(seconds=seconds)


def _too_long(value: str, maximum: timedelta) -> OutOfRange:
    return OutOfRange(f"{value[:40]!r} is too long: at most {limit_text(maximum)}")


def limit_text(delta: timedelta) -> str:
    """A limit as people say it: 3650d, 1d, 1h, 500ms (exact, unlike format_duration)."""
    millis = round(delta.total_seconds() * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def check_year(at: datetime) -> datetime:
    """`at` itself if its year is in [EARLIEST_YEAR, LATEST_YEAR); else OutOfRange."""
    if not EARLIEST_YEAR <= at.year < LATEST_YEAR:
        raise OutOfRange(f"{at.isoformat()} is out of range: give a time between "
                         f"{EARLIEST_YEAR} and {LATEST_YEAR}")
    return at


def format_age(delta: timedelta) -> str:
    """Compact, at most 4 chars for anything under 10 years: 45s, 12m, 3h, 2d, 5w."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "0s"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def format_duration(delta: timedelta) -> str:
    """Two units of precision, for durations people read: 1h30m, 15m, 2d4h; the second unit
    is the one after the largest, left out when zero (3 days and 25 s is 3d, not 3d25s)."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    first = next(i for i, (_, size) in enumerate(_UNITS) if seconds >= size)
    unit, size = _UNITS[first]
    shown = f"{seconds // size}{unit}"
    if first + 1 < len(_UNITS):
        next_unit, next_size = _UNITS[first + 1]
        if (count := seconds % size // next_size):
            shown += f"{count}{next_unit}"
    return shown


def clock_time(at: datetime | None, zone: tzinfo | None = None) -> str:
    """HH:MM in the display zone (the machine's local zone when none is configured)."""
    return at.astimezone(zone).strftime("%H:%M") if at else "--:--"


def parse_start(text: str, now: datetime) -> datetime:
    """'' (now), '+30m' (from now) or an ISO 8601 time (without a zone: UTC)."""
    text = text.strip()
    if not text:
        return now
    if text.startswith("+"):
        return now + parse_duration(text[1:])
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use +30m or e.g. 2026-11-22T18:00Z)") from None
    check_year(at)
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
