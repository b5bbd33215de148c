"""The board: every source's latest alerts merged into one immutable snapshot.

Sources report independently; a failing source keeps contributing its last good alerts (the
banner says how old they are), so an outage never looks like a mass resolution. Alerts that
disappear from every source are kept as resolved for `resolved_retention`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .alerts import Alert, AlertState, merge_alerts, overlay_rule_alerts
from .health import SourceHealth
from .severity import SeverityPolicy


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One source's latest good answer."""

    name: str
    kind: str
    """'alertmanager' or 'prometheus'."""
    alerts: tuple[Alert, ...]
    fetched_at: datetime
    expressions: Mapping[str, str] = field(default_factory=dict)
    """alertname → PromQL, from Prometheus rules."""


@dataclass(frozen=True, slots=True)
class Board:
    alerts: Mapping[str, Alert]
    """By fingerprint; includes recently resolved alerts."""
    health: tuple[SourceHealth, ...]
    built_at: datetime

    def same_alerts(self, other: Board) -> bool:
        """True when both boards hold the very same alert objects: nothing changed."""
        if len(self.alerts) != len(other.alerts):
            return False
        return all(other.alerts.get(fp) is alert for fp, alert in self.alerts.items())

    def counts(self, levels: tuple[str, ...]) -> dict[str, int]:
        counts = dict.fromkeys(levels, 0)
        for alert in self.alerts.values():
            if alert.state in (AlertState.FIRING, AlertState.PENDING) and alert.level in counts:
                counts[alert.level] += 1
        return counts


EMPTY_BOARD = Board({}, (), datetime.min)


def build_board(
    reports: Mapping[str, SourceReport],
    health: tuple[SourceHealth, ...],
    previous: Board,
    policy: SeverityPolicy,
    now: datetime,
    resolved_retention: timedelta = timedelta(minutes=10),
) -> Board:
    expressions: dict[str, str] = {}
    for report in reports.values():
        expressions.update(report.expressions)
    notified = merge_alerts(r.alerts for r in reports.values() if r.kind == "alertmanager")
    evaluated = merge_alerts(r.alerts for r in reports.values() if r.kind == "prometheus")
    current: dict[str, Alert] = {}
    for alert in overlay_rule_alerts(notified, evaluated):
        current[alert.fingerprint] = _enrich(alert, policy, expressions, previous.alerts.get(alert.fingerprint))
    for fp, old in previous.alerts.items():
        if fp not in current:
            resolved = old if old.state is AlertState.RESOLVED else replace(
                old, state=AlertState.RESOLVED, resolved_at=now)
            if now - (resolved.resolved_at or now) < resolved_retention:
                current[fp] = resolved
    return Board(current, health, now)


def _enrich(alert: Alert, policy: SeverityPolicy, expressions: Mapping[str, str],
            previous: Alert | None) -> Alert:
    level = policy.level_of(alert.labels).level
    expression = alert.expression or expressions.get(alert.name, "")
    fresh = replace(alert, level=level, expression=expression)
    # Reuse the previous object when nothing changed, so views can diff by identity.
    if previous is not None and previous == fresh:
        return previous
    return fresh
