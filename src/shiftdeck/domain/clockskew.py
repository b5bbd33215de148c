"""Clock skew between this machine and an Alertmanager cluster, in words.

Silence times are written on the cluster's clock (its `Date` header gives the skew), so a skew
does not break a write; it is still shown, because everything else shiftdeck prints (ages,
countdowns) is on this machine's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from .durations import format_duration

SKEW_SHOWN_OVER = timedelta(seconds=30)
"""A skew larger than this is shown in the header and warned about by the CLI."""


def noticeable(server_minus_ours: Mapping[str, timedelta]) -> list[tuple[str, timedelta]]:
    """(cluster, how far this machine's clock is ahead of the cluster's) for each skew over
    SKEW_SHOWN_OVER, in cluster order."""
    return [(cluster, -skew) for cluster, skew in sorted(server_minus_ours.items())
            if abs(skew) > SKEW_SHOWN_OVER]


def format_skew(ahead: timedelta) -> str:
    """`+10m02s` (this machine ahead), `-45s` (behind), `+2h5m` over an hour."""
    sign = "-" if ahead < timedelta(0) else "+"
    seconds = round(abs(ahead).total_seconds())
    if seconds >= 3600:
        return sign + format_duration(timedelta(seconds=seconds))
    minutes, seconds = divmod(seconds, 60)
    return f"{sign}{minutes}m{seconds:02d}s" if minutes else f"{sign}{seconds}s"


def skew_warning(cluster: str, ahead: timedelta) -> str:
    """The CLI's sentence for one noticeable skew."""
    side = "ahead of" if ahead > timedelta(0) else "behind"
    return (f"this machine's clock is {format_skew(ahead)[1:]} {side} cluster {cluster}'s "
            "(silence times are written on the cluster's clock)")
