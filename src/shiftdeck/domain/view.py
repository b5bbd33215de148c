"""From a board to the rows a table shows: filter, group, sort. Pure and cheap at 10k alerts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .alerts import Alert, AlertState
from .matchers import Matcher
from .severity import SeverityPolicy


class Grouping(StrEnum):
    NONE = "none"
    ALERTNAME = "alertname"
    NAMESPACE = "namespace"

    def next(self) -> Grouping:
        order = list(Grouping)
        return order[(order.index(self) + 1) % len(order)]


@dataclass(frozen=True, slots=True)
class AlertRow:
    alert: Alert

    @property
    def key(self) -> str:
        return self.alert.fingerprint


@dataclass(frozen=True, slots=True)
class GroupRow:
    key: str
    title: str
    count: int
    level: str
    """The most severe level in the group."""


Row = AlertRow | GroupRow


def alert_matches(alert: Alert, matchers: Iterable[Matcher]) -> bool:
    for matcher in matchers:
        if matcher.name == "@state":
            ok = matcher.matches_value(alert.state.value)
        elif matcher.name == "@level":
            ok = matcher.matches_value(alert.level)
        else:
            ok = matcher.matches(alert.labels)
        if not ok:
            return False
    return True


def sort_key(alert: Alert, policy: SeverityPolicy) -> tuple:
    """Severity first, then oldest first; resolved alerts sink to the bottom."""
    return (alert.state is AlertState.RESOLVED, policy.rank(alert.level), alert.starts_at,
            alert.fingerprint)


def select_rows(
    alerts: Iterable[Alert],
    matchers: tuple[Matcher, ...],
    grouping: Grouping,
    policy: SeverityPolicy,
) -> tuple[Row, ...]:
    chosen = sorted((a for a in alerts if alert_matches(a, matchers)),
                    key=lambda a: sort_key(a, policy))
    if grouping is Grouping.NONE:
        return tuple(AlertRow(a) for a in chosen)
    groups: dict[str, list[Alert]] = {}
    for alert in chosen:
        groups.setdefault(alert.labels.get(grouping.value, "") or "(none)", []).append(alert)
    rows: list[Row] = []
    # Groups are already in order of their most urgent member, since `chosen` is sorted.
    for title, members in groups.items():
        rows.append(GroupRow(f"group:{grouping.value}:{title}", title, len(members), members[0].level))
        rows.extend(AlertRow(a) for a in members)
    return tuple(rows)
