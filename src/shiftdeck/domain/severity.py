"""Severity levels and the policy that gives every alert one (first match wins)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from .matchers import Matcher, parse_matchers

GLYPHS = ("█", "▓", "▒", "░")


@dataclass(frozen=True, slots=True)
class SeverityLevel:
    level: str
    """Short name shown in the table, e.g. P1."""
    match: tuple[Matcher, ...]
    """The alert belongs to this level when every matcher matches; empty matches everything."""
    ack_within: timedelta | None = None
    """Acknowledge SLA."""
    resolve_within: timedelta | None = None
    """Resolution target."""
    update_every: timedelta | None = None
    """Status update cadence during an incident."""
    max_silence: timedelta | None = None
    """Longest silence allowed at this level; an approver does not lift it."""
    silence_approval: bool = False
    """Silences need a named approver."""

    def applies_to(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.match)


@dataclass(frozen=True, slots=True)
class SeverityPolicy:
    levels: tuple[SeverityLevel, ...]
    _names: tuple[str, ...] = field(default=(), init=False, compare=False, repr=False)
    _ranks: dict[str, int] = field(default_factory=dict, init=False, compare=False, repr=False)
    _cache: dict[object, SeverityLevel] = field(
        default_factory=dict, init=False, compare=False, repr=False)
    _named: dict[str, SeverityLevel] = field(
        default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = sorted({m.name for level in self.levels for m in level.match})
        object.__setattr__(self, "_names", tuple(names))
        self._ranks.update({level.level: i for i, level in enumerate(self.levels)})
        if len({level.level for level in self.levels}) == len(self.levels):
            self._named.update({level.level: level for level in self.levels})

    def level_of(self, labels: Mapping[str, str]) -> SeverityLevel:
        # Only the labels the matchers read decide the level: cache on their values (the one
        # value itself when one label decides, as `severity` does by default).
        names = self._names
        key: object = (labels.get(names[0], "") if len(names) == 1
                       else tuple([labels.get(name, "") for name in names]))
        found = self._cache.get(key)
        if found is None:
            found = next((lvl for lvl in self.levels if lvl.applies_to(labels)), self.levels[-1])
            if len(self._cache) < 4096:
                self._cache[key] = found
        return found

    def level_for(self, alert_level: str, labels: Mapping[str, str]) -> SeverityLevel:
        """`level_of(labels)`, looked up by the name the board gave the alert when the names
        are unique."""
        return self._named.get(alert_level) or self.level_of(labels)

    def rank(self, level: str) -> int:
        return self._ranks.get(level, len(self.levels))

    def glyph(self, level: str) -> str:
        return GLYPHS[min(self.rank(level), len(GLYPHS) - 1)]

    def names(self) -> tuple[str, ...]:
        return tuple(level.level for level in self.levels)


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


# The seeds' table: P1 15m ack / 1h resolve, P2 1h / 4h, P3 4h / 24h, P4 next business day.
DEFAULT_POLICY = SeverityPolicy(
    (
        SeverityLevel("P1", parse_matchers('severity=~"critical|page|P1"'), _minutes(15),
                      _minutes(60), _minutes(15), _minutes(60), silence_approval=True),
        SeverityLevel("P2", parse_matchers('severity=~"warning|high|error|P2"'), _minutes(60),
                      _minutes(240), _minutes(30), _minutes(240)),
        SeverityLevel("P3", parse_matchers('severity=~"info|medium|P3"'), _minutes(240),
                      _minutes(1440), None, _minutes(1440)),
        SeverityLevel("P4", (), None, None, None, _minutes(1440 * 7)),
    )
)
