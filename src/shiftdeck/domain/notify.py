"""Telling the on-call engineer something happened: what, and how often at most."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .sanitize import clean_line


def desktop_notification(title: str, body: str, in_tmux: bool) -> str:
    """OSC 9 (iTerm2, WezTerm, kitty…) and OSC 777 (urxvt, foot, VTE) desktop notifications.

    Both travel over SSH as ordinary output. Inside tmux they are wrapped in a DCS passthrough
    (tmux needs `set -g allow-passthrough on`). Text is cleaned so it cannot end the sequence.
    """
    title, body = (clean_line(t, 200).replace(";", ",") for t in (title, body))
    sequence = f"\x1b]9;{title}: {body}\x07\x1b]777;notify;{title};{body}\x07"
    if in_tmux:
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def name_list(names: Iterable[str], most: int = 3, width: int = 60) -> str:
    """A few names for a one-glance message: an alert storm, or one 64 KB alertname, must not
    fill the screen with a toast."""
    unique = sorted(set(names))
    shown = [name if len(name) <= width else name[:width - 1] + "…" for name in unique[:most]]
    more = len(unique) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


@dataclass
class RateLimit:
    """At most one page per `min_interval`; what is held back is counted, not lost."""

    min_interval: timedelta
    last: datetime | None = None
    held: int = 0

    def allow(self, now: datetime) -> bool:
        if self.last is not None and now - self.last < self.min_interval:
            self.held += 1
            return False
        self.last = now
        return True
