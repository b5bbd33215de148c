"""Durations as people write them: 90s, 15m, 4h, 1d, 1w, 1h30m."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Parse '15m' or '1h30m'; raise ValueError with a readable reason otherwise."""
    value = str(text).strip()
    if not value:
        raise ValueError("empty duration")
    pos, seconds = 0, 0.0
    for part in _PART.finditer(value):
        if part.start() != pos:
            break
        seconds += int(part.group(1)) * _UNIT_SECONDS[part.group(2)]
        pos = part.end()
    if pos != len(value):
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 4h, 1d, 1w)")
    return timedelta(seconds=seconds)


def format_age(delta: timedelta) -> str:
    """Compact, at most 4 chars for anything under 10 years: 45s, 12m, 3h, 2d, 5w."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "0s"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def format_duration(delta: timedelta) -> str:
    """Two units of precision, for durations people read: 1h30m, 15m, 2d4h."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return "".join(parts)


def clock_time(at: datetime | None, zone: tzinfo | None = None) -> str:
    """HH:MM in the display zone (the machine's local zone when none is configured)."""
    return at.astimezone(zone).strftime("%H:%M") if at else "--:--"


def format_countdown(delta: timedelta) -> str:
    """Exactly 5 characters: seconds only in the last 10 minutes (04:12), where they matter;
    then 14m, 1h04m, 12h, 3d, so a far deadline changes once a minute. Overdue: -0:42."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        seconds = -seconds
        return f"-{seconds // 60 % 60}:{seconds % 60:02d}" if seconds < 600 else "late!"
    if seconds < 600:
        return f"{seconds // 60:02d}:{seconds % 60:02d}"
    if seconds < 3600:
        return f"{seconds // 60}m".rjust(5)
    if seconds < 36000:
        return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"
    if seconds < 86400:
        return f"{seconds // 3600}h".rjust(5)
    return f"{seconds // 86400}d".rjust(5)
