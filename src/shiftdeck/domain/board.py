"""The board: every source's latest alerts merged into one immutable snapshot.

Sources report independently; a failing source keeps contributing its last good alerts (the
banner says how old they are), so an outage never looks like a mass resolution. Alerts that
disappear from every source are kept as resolved for `resolved_retention`: the newest
RESOLVED_KEPT of them one by one, the rest only counted (an alert storm resolves thousands a
minute; keeping and sorting each would grow without bound).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import chain

from .alerts import Alert, AlertState, merge_one, overlay_one, replaced
from .health import SourceHealth
from .severity import SeverityPolicy
from .silences import Silence, SilenceState


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
    silences: tuple[Silence, ...] = ()
    """Alertmanager only: every silence the instance holds."""
    silences_error: str = ""
    """Alertmanager only: why its silences could not be read this time (`silences` then holds
    the last good ones); the alerts are fresh."""


RESOLVED_KEPT = 500
"""Resolved alerts kept one by one (the newest); older ones within the retention are counted."""


@dataclass(frozen=True, slots=True)
class Board:
    alerts: Mapping[str, Alert] = field(repr=False)
    """By fingerprint; includes recently resolved alerts. (Not in repr: 10k alerts would make
    every traceback, log line and asyncio task repr enormous.)"""
    health: tuple[SourceHealth, ...]
    built_at: datetime
    silences: Mapping[str, Silence] = field(default_factory=dict, repr=False)
    """By silence id, deduplicated across HA peers."""
    resolved_uncounted: Mapping[datetime, int] = field(default_factory=dict, repr=False)
    """Resolved within the retention but beyond RESOLVED_KEPT, not kept: how many resolved at
    each time (one entry per poll at most, so bounded by retention / refresh)."""
    level_counts: Mapping[str, int] | None = field(default=None, repr=False)
    """Firing and pending alerts per severity level, counted when the board is built (off the
    event loop); None: counted when asked."""
    inputs: Mapping[str, Sources] = field(default_factory=dict, repr=False, compare=False)
    """By fingerprint: the sources' alerts each current alert was made from, so the next build
    reuses it when they are unchanged (the same objects: one lookup; `build_board`)."""
    policy: SeverityPolicy | None = field(default=None, repr=False, compare=False)
    expressions: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The policy and the rules' expressions the alerts were enriched with."""
    reports: Mapping[str, SourceReport] = field(default_factory=dict, repr=False, compare=False)
    """The reports the board was built from: a poll that brings the very same alerts,
    silences and rules again needs no merge (`build_board`)."""
    oldest_resolved: datetime | None = field(default=None, repr=False, compare=False)
    """When the oldest resolved alert it keeps or counts resolved: until that leaves the
    retention, an unchanged poll leaves the resolved ones as they are."""

    @property
    def resolved_count(self) -> int:
        """Every alert resolved within the retention: those kept and those only counted."""
        kept = sum(1 for a in self.alerts.values() if a.state is AlertState.RESOLVED)
        return kept + sum(self.resolved_uncounted.values())

    def same_alerts(self, other: Board) -> bool:
        """True when both boards hold the very same alert objects: nothing changed."""
        if len(self.alerts) != len(other.alerts):
            return False
        return all(other.alerts.get(fp) is alert for fp, alert in self.alerts.items())

    def counts(self, levels: tuple[str, ...]) -> dict[str, int]:
        if self.level_counts is not None:
            return {level: self.level_counts.get(level, 0) for level in levels}
        return count_levels(self.alerts.values(), levels)


def count_levels(alerts: Iterable[Alert], levels: tuple[str, ...]) -> dict[str, int]:
    """Firing and pending alerts per level (the header's P1:n P2:n...)."""
    firing, pending = AlertState.FIRING, AlertState.PENDING
    counted = Counter(a.level for a in alerts if a.state is firing or a.state is pending)
    return {level: counted[level] for level in levels}


EMPTY_BOARD = Board({}, (), datetime.min)


def build_board(
    reports: Mapping[str, SourceReport],
    health: tuple[SourceHealth, ...],
    previous: Board,
    policy: SeverityPolicy,
    now: datetime,
    resolved_retention: timedelta = timedelta(minutes=10),
) -> Board:
    if _nothing_new(reports, previous, policy, now, resolved_retention):
        return replace(previous, health=health, built_at=now, reports=reports)
    expressions: dict[str, str] = {}
    silences: dict[str, Silence] = {}
    for report in reports.values():
        expressions.update(report.expressions)
        for silence in report.silences:
            silences[silence.id] = _newer(silences.get(silence.id), silence)
    silences_now = _reuse(silences, previous.silences)
    current, inputs = _current(reports, previous, policy, expressions, silences_now)
    resolved = _still_resolved(previous.alerts.items(), current, now, resolved_retention)
    uncounted = _counted(previous.resolved_uncounted, resolved[RESOLVED_KEPT:], now,
                         resolved_retention)
    kept = resolved[:RESOLVED_KEPT]
    current.update((a.fingerprint, a) for a in kept)
    oldest = min(chain((a.resolved_at or now for a in kept), uncounted), default=None)
    return Board(current, health, now, silences_now, uncounted,
                 count_levels(current.values(), policy.names()), inputs, policy, expressions,
                 reports, oldest)


def _nothing_new(reports: Mapping[str, SourceReport], previous: Board, policy: SeverityPolicy,
                 now: datetime, retention: timedelta) -> bool:
    """True when every report holds the very alerts, silences and rules the previous board
    was built from (a poll that changed nothing: O(sources), not O(alerts)) and no resolved
    alert leaves the retention."""
    before = previous.reports
    if policy is not previous.policy or reports.keys() != before.keys():
        return False
    if previous.oldest_resolved is not None and now - previous.oldest_resolved >= retention:
        return False
    return all(r.alerts is (b := before[key]).alerts
               and (r.silences is b.silences or r.silences == b.silences)
               and (r.expressions is b.expressions or r.expressions == b.expressions)
               for key, r in reports.items())


Sources = tuple[tuple[Alert, ...], tuple[Alert, ...]]
"""One label set's alerts from the Alertmanager reports, and from the Prometheus reports."""

_SILENCE_BOUND = (AlertState.SILENCED, AlertState.ACKED)
"""States that depend on the silences (an ACK! silence makes SILENCED into ACKED)."""


def _current(reports: Mapping[str, SourceReport], previous: Board, policy: SeverityPolicy,
             expressions: dict[str, str], silences: Mapping[str, Silence],
             ) -> tuple[dict[str, Alert], dict[str, Sources]]:
    """Every reported alert merged across sources and enriched. An alert made from the same
    source alerts as before (compared by identity first, so a reused object costs a lookup), in
    the same context, is the previous one."""
    notified = _by_fingerprint(r.alerts for r in reports.values() if r.kind == "alertmanager")
    evaluated = _by_fingerprint(r.alerts for r in reports.values() if r.kind == "prometheus")
    same_context = policy is previous.policy and expressions == previous.expressions
    same_silences = silences is previous.silences
    old_alerts, old_inputs = previous.alerts, previous.inputs if same_context else {}
    current: dict[str, Alert] = {}
    inputs: dict[str, Sources] = {}
    for fp in chain(notified, (fp for fp in evaluated if fp not in notified)):
        sources = (notified.get(fp, ()), evaluated.get(fp, ()))
        before, used = old_alerts.get(fp), old_inputs.get(fp)
        if (before is not None and used == sources
                and (same_silences or before.state not in _SILENCE_BOUND)):
            current[fp] = before
            sources = used  # the tuples made this poll go at once (none left to collect)
        else:
            ams, proms = sources
            merged = merge_one(ams) if not proms else overlay_one(
                merge_one(ams) if ams else None, merge_one(proms))
            current[fp] = _enrich(merged, policy, expressions, silences, before)
        inputs[fp] = sources
    return current, inputs


def _by_fingerprint(batches: Iterable[Iterable[Alert]]) -> dict[str, tuple[Alert, ...]]:
    grouped: dict[str, tuple[Alert, ...]] = {}
    for batch in batches:
        for alert in batch:
            group = grouped.get(alert.fingerprint)
            grouped[alert.fingerprint] = (alert,) if group is None else (*group, alert)
    return grouped


def _still_resolved(previous: Iterable[tuple[str, Alert]], current: Mapping[str, Alert],
                    now: datetime, retention: timedelta) -> list[Alert]:
    """Alerts no source reports any more, resolved (at `now` if they just went) within the
    retention, newest first."""
    resolved = []
    for fp, old in previous:
        if fp not in current:
            gone = old if old.state is AlertState.RESOLVED else replaced(
                old, state=AlertState.RESOLVED, resolved_at=now)
            if now - (gone.resolved_at or now) < retention:
                resolved.append(gone)
    if len(resolved) > RESOLVED_KEPT:
        resolved.sort(key=lambda a: (a.resolved_at or now, a.fingerprint), reverse=True)
    return resolved


def _counted(counts: Mapping[datetime, int], dropped: list[Alert], now: datetime,
             retention: timedelta) -> Mapping[datetime, int]:
    """The count of resolved alerts not kept, by when they resolved, within the retention."""
    if not dropped and all(now - at < retention for at in counts):
        return counts
    kept = {at: n for at, n in counts.items() if now - at < retention}
    for alert in dropped:
        at = alert.resolved_at or now
        kept[at] = kept.get(at, 0) + 1
    return kept


def _enrich(alert: Alert, policy: SeverityPolicy, expressions: Mapping[str, str],
            silences: Mapping[str, Silence], previous: Alert | None) -> Alert:
    expression = alert.expression or expressions.get(alert.name, "")
    ack = _ack_of(alert, silences)
    # Reuse the previous object when nothing changed, so views can diff by identity (and a
    # 10k-alert poll where nothing changed allocates almost nothing).
    if previous is not None and _unchanged(previous, alert, expression, ack):
        return previous
    level = policy.level_of(alert.labels).level
    if ack is None:
        if alert.level == level and alert.expression == expression:
            return alert  # the poller process gave it its level as it parsed it
        return replaced(alert, level=level, expression=expression)
    return replaced(alert, level=level, expression=expression, state=AlertState.ACKED,
                   acked_by=ack.created_by, acked_at=ack.starts_at)


def _unchanged(previous: Alert, alert: Alert, expression: str, ack: Silence | None) -> bool:
    state = AlertState.ACKED if ack is not None else alert.state
    return (previous.state is state and previous.starts_at == alert.starts_at
            and previous.silenced_by == alert.silenced_by
            and previous.inhibited_by == alert.inhibited_by
            and previous.muted_by == alert.muted_by and previous.clamped == alert.clamped
            and previous.instances == alert.instances and previous.value == alert.value
            and previous.expression == expression
            and previous.generator_url == alert.generator_url
            and previous.receivers == alert.receivers
            and previous.annotations == alert.annotations and previous.labels == alert.labels
            and (ack is None or (previous.acked_by, previous.acked_at)
                 == (ack.created_by, ack.starts_at)))


def _ack_of(alert: Alert, silences: Mapping[str, Silence]) -> Silence | None:
    """The oldest active ACK! silence among those silencing the alert, if any."""
    if alert.state is not AlertState.SILENCED:
        return None
    acks = [silences[sid] for sid in alert.silenced_by
            if sid in silences and silences[sid].is_ack and silences[sid].state is SilenceState.ACTIVE]
    return min(acks, key=lambda s: s.starts_at) if acks else None


def _newer(seen: Silence | None, candidate: Silence) -> Silence:
    """HA peers may briefly disagree on a silence: keep the most recently updated copy."""
    if seen is None:
        return candidate
    stamp = lambda s: s.updated_at or s.starts_at  # noqa: E731
    return candidate if stamp(candidate) > stamp(seen) else seen


def _reuse(silences: dict[str, Silence], previous: Mapping[str, Silence]) -> Mapping[str, Silence]:
    """The previous mapping when no silence changed, so views can skip work by identity."""
    if len(silences) == len(previous) and all(previous.get(k) == v for k, v in silences.items()):
        return previous
    return silences
