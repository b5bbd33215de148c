"""What the UI process and the poller process say to each other (poller_child.py,
poller_process.py): an Ask for one poll, a Diff of what changed, STOP. Light on purpose: the
UI process imports it to start the poller process before its own heavy imports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..domain.alerts import Alert
from ..domain.silences import Silence

STOP = "stop"
PART = 5000
"""Alerts per message: a 100k first answer crosses in parts, never as one 100 MB message."""


LevelRules = tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...]
"""The severity levels in order, each its name and its matchers (label, operator, value): the
poller gives each alert it parses its level, and the board only checks it."""


@dataclass(frozen=True, slots=True)
class Ask:
    """The UI process asks for one poll of source `index`."""

    number: int
    index: int
    now: datetime
    levels: LevelRules = ()


@dataclass(frozen=True, slots=True)
class Diff:
    """What changed in source `index` since the answer before; `full` when there is no answer
    before (a new poller process): the receiver then drops what it held."""

    number: int
    index: int
    full: bool = False
    changed: tuple[Alert, ...] = ()
    """New alerts and alerts that changed, by fingerprint."""
    removed: tuple[str, ...] = ()
    """Fingerprints gone."""
    skipped: int = 0
    silences: tuple[Silence, ...] | None = None
    """None: the same as before."""
    silences_error: str = ""
    expressions: Mapping[str, str] | None = None
    """None: the same as before."""
    clock_offset: timedelta | None = None
    error: str = ""
    """Set when the poll failed (nothing else is then set)."""
    last: bool = True
    """False on every part of a large diff but the last (`parts`)."""


def parts(diff: Diff) -> list[Diff]:
    """`diff` as messages of at most PART changed alerts; the first carries what was removed,
    the silences and the rules, every one the poll's outcome (skipped, silences_error)."""
    if len(diff.changed) <= PART:
        return [diff]
    first = replace(diff, changed=diff.changed[:PART], last=False)
    more = [Diff(diff.number, diff.index, changed=diff.changed[start:start + PART],
                 skipped=diff.skipped, silences_error=diff.silences_error, last=False)
            for start in range(PART, len(diff.changed), PART)]
    more[-1] = replace(more[-1], last=True)
    return [first, *more]
