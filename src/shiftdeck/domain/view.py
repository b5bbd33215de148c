"""From a board to the rows a table shows: filter, group, sort. Pure and cheap at 10k alerts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .alerts import Alert, AlertState
from .durations import format_age, format_duration
from .health import Health, SourceHealth
from .matchers import Matcher
from .ordering import AlertOrder, order_alerts
from .pager import ACKNOWLEDGED, TRIGGERED, Incident
from .sanitize import clean_line
from .severity import SeverityPolicy
from .silences import Silence, SilenceState


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


RESOLVED_KEY = "resolved:summary"
COLLAPSE_FROM = 10
"""At least this many resolved alerts are shown as one summary row (unless the filter names a
state: `@state=resolved` lists them)."""


@dataclass(frozen=True, slots=True)
class ResolvedRow:
    """Resolved alerts, collapsed into one row: a count, not an alert (nothing to ack)."""

    count: int
    window: timedelta
    """How long resolved alerts are kept (the config's resolved_retention)."""
    key: str = RESOLVED_KEY

    @property
    def text(self) -> str:
        return (f"{self.count:,} resolved in the last {format_duration(self.window)}"
                " · enter lists them")


INCIDENT_PREFIX = "pagerduty:"
"""Keys of incident rows: `pagerduty:<account>/<incident id>` (a fingerprint has no colon)."""


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """A PagerDuty incident that matches no current alert: a page with a row of its own."""

    incident: Incident

    @property
    def key(self) -> str:
        return incident_key(self.incident)

    @property
    def labels(self) -> dict[str, str]:
        """What a filter sees of it: its title as alertname, its service and urgency."""
        incident = self.incident
        return {"alertname": incident.title, "service": incident.service,
                "urgency": incident.urgency}

    @property
    def state(self) -> str:
        """As `@state` names it: triggered is firing, acknowledged is acked."""
        return {TRIGGERED: AlertState.FIRING.value,
                ACKNOWLEDGED: AlertState.ACKED.value}.get(self.incident.status,
                                                          self.incident.status)


def incident_key(incident: Incident) -> str:
    return f"{INCIDENT_PREFIX}{incident.source}/{incident.id}"


Row = AlertRow | GroupRow | ResolvedRow | IncidentRow


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


def incident_matches(row: IncidentRow, matchers: Iterable[Matcher]) -> bool:
    for matcher in matchers:
        if matcher.name == "@state":
            ok = matcher.matches_value(row.state)
        elif matcher.name == "@level":
            ok = False
        else:
            ok = matcher.matches(row.labels)
        if not ok:
            return False
    return True


def sort_key(alert: Alert, policy: SeverityPolicy) -> tuple:
    """Severity first, then oldest first; resolved alerts sink to the bottom."""
    return (alert.state is AlertState.RESOLVED, policy.rank(alert.level), alert.starts_at,
            alert.fingerprint)


def _sort_key_of(policy: SeverityPolicy) -> Callable[[Alert], tuple]:
    """sort_key with each level's rank looked up once per sort, not once per alert."""
    ranks: dict[str, int] = {}

    def key(alert: Alert) -> tuple:
        rank = ranks.get(alert.level)
        if rank is None:
            rank = ranks[alert.level] = policy.rank(alert.level)
        return (alert.state is AlertState.RESOLVED, rank, alert.starts_at, alert.fingerprint)
    return key


def _asks_for_acked(matchers: tuple[Matcher, ...]) -> bool:
    return any(m.name == "@state" and m.op == "=" and m.value == "acked" for m in matchers)


def _ack_age_key(alert: Alert) -> tuple:
    """Longest-acknowledged first: "acked for 3h" is the smell a handoff must show."""
    return (alert.acked_at is None, alert.acked_at or alert.starts_at, alert.fingerprint)


def order_for(alerts: Mapping[str, Alert], matchers: tuple[Matcher, ...], policy: SeverityPolicy,
              previous: AlertOrder | None = None) -> AlertOrder:
    """The filtered alerts in select_rows' order, re-sorting only what changed since
    `previous` (a storm changes ~10% of 10k alerts per poll)."""
    acked = _asks_for_acked(matchers)
    return order_alerts(alerts, lambda a: alert_matches(a, matchers),
                        _ack_age_key if acked else _sort_key_of(policy),
                        (matchers, policy, acked), previous)


def select_rows(
    alerts: Iterable[Alert],
    matchers: tuple[Matcher, ...],
    grouping: Grouping,
    policy: SeverityPolicy,
    *,
    retention: timedelta = timedelta(minutes=10),
    uncounted: int = 0,
    incidents: Iterable[Incident] = (),
    order: AlertOrder | None = None,
    before: tuple[Row, ...] = (),
    before_index: Mapping[str, int] | None = None,
) -> tuple[Row, ...]:
    """The rows to show. PagerDuty `incidents` that match no alert come first (pages).
    Many resolved alerts become one ResolvedRow at the end, counting also the `uncounted`
    ones the board no longer keeps (when no filter is set). `order` (from order_for, with the
    same alerts and matchers) saves the sort. The rows shown `before` (with their index by
    key) give back their AlertRow for each alert that is the same object: in a storm, 10k new
    rows a poll would be 10k objects more for every collection of the cycle collector."""
    pages = tuple(row for i in incidents if incident_matches(row := IncidentRow(i), matchers))
    chosen = order.alerts if order is not None else sorted(
        (a for a in alerts if alert_matches(a, matchers)),
        key=_ack_age_key if _asks_for_acked(matchers) else _sort_key_of(policy))
    summary: tuple[Row, ...] = ()
    if not any(m.name == "@state" for m in matchers):
        resolved = len(chosen) - _resolved_from(chosen)
        if resolved + (0 if matchers else uncounted) >= COLLAPSE_FROM:
            chosen = chosen[:len(chosen) - resolved]
            summary = (ResolvedRow(resolved + (0 if matchers else uncounted), retention),)
    reuse = _Reuse(before, before_index or {})
    return pages + _grouped(chosen, grouping, reuse) + summary


def _resolved_from(chosen: list[Alert]) -> int:
    """Where the resolved alerts start (sorted last): binary search, the list may be 10k."""
    low, high = 0, len(chosen)
    while low < high:
        middle = (low + high) // 2
        if chosen[middle].state is AlertState.RESOLVED:
            high = middle
        else:
            low = middle + 1
    return low


@dataclass(frozen=True, slots=True)
class _Reuse:
    rows: tuple[Row, ...]
    index: Mapping[str, int]

    def row(self, alert: Alert) -> AlertRow:
        at = self.index.get(alert.fingerprint)
        if at is not None and at < len(self.rows):
            row = self.rows[at]
            if isinstance(row, AlertRow) and row.alert is alert:
                return row
        return AlertRow(alert)


def _grouped(chosen: list[Alert], grouping: Grouping, reuse: _Reuse) -> tuple[Row, ...]:
    if grouping is Grouping.NONE:
        return tuple(map(reuse.row, chosen))
    groups: dict[str, list[Alert]] = {}
    for alert in chosen:
        groups.setdefault(alert.labels.get(grouping.value, "") or "(none)", []).append(alert)
    rows: list[Row] = []
    # Groups are already in order of their most urgent member, since `chosen` is sorted.
    for title, members in groups.items():
        rows.append(GroupRow(f"group:{grouping.value}:{title}", title, len(members), members[0].level))
        rows.extend(map(reuse.row, members))
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class SilenceRow:
    silence: Silence
    silencing: int
    """Current alerts it silences (Alertmanager's verdict), or would match while pending."""
    expiring_soon: bool

    @property
    def matches_nothing(self) -> bool:
        return (self.silencing == 0 and self.silence.state is not SilenceState.EXPIRED
                and not self.uncounted)

    @property
    def uncounted(self) -> bool:
        """A pending silence shiftdeck cannot evaluate: what it would match is unknown (an
        active one's count is Alertmanager's own verdict)."""
        return self.silence.state is SilenceState.PENDING and bool(self.silence.problems)

    @property
    def count_text(self) -> str:
        if self.uncounted:
            return "cannot evaluate"
        return "matches nothing" if self.matches_nothing else str(self.silencing)

    def timing(self, now: datetime) -> str:
        """`ends in 1h30m`, `starts in 2h`, or `ended 3h ago`."""
        silence = self.silence
        if silence.state is SilenceState.EXPIRED:
            return f"ended {format_age(now - silence.ends_at)} ago"
        if silence.state is SilenceState.PENDING:
            return f"starts in {format_duration(silence.starts_at - now)}"
        return f"ends in {format_duration(silence.ends_at - now)}"


RECENTLY_EXPIRED = timedelta(hours=24)


def silence_rows(silences: Iterable[Silence], alerts: Iterable[Alert], now: datetime,
                 warn_before: timedelta, by_ends: bool = True,
                 acks_extended: bool = False) -> tuple[SilenceRow, ...]:
    """Active, pending and recently expired silences; by end time (soonest first) or newest."""
    alerts = list(alerts)
    counts: dict[str, int] = {}
    for alert in alerts:
        for sid in alert.silenced_by:
            counts[sid] = counts.get(sid, 0) + 1
    rows = []
    for silence in silences:
        if silence.state is SilenceState.EXPIRED and now - silence.ends_at > RECENTLY_EXPIRED:
            continue
        if silence.state is SilenceState.PENDING:
            count = sum(1 for a in alerts if silence.matches(a.labels))
        else:
            count = counts.get(silence.id, 0)
        rows.append(SilenceRow(silence, count, _ends_soon(silence, now, warn_before, acks_extended)))
    expired_last = lambda r: r.silence.state is SilenceState.EXPIRED  # noqa: E731
    if by_ends:
        rows.sort(key=lambda r: (expired_last(r), r.silence.ends_at))
    else:
        rows.sort(key=lambda r: (expired_last(r), -r.silence.starts_at.timestamp()))
    return tuple(rows)


def expiring_soon(silences: Iterable[Silence], now: datetime, warn_before: timedelta,
                  acks_extended: bool = False) -> int:
    return sum(1 for s in silences if _ends_soon(s, now, warn_before, acks_extended))


def _ends_soon(silence: Silence, now: datetime, warn_before: timedelta,
               acks_extended: bool) -> bool:
    """Active and ending within `warn_before`. Acks that shiftdeck keeps extending are not news."""
    if acks_extended and silence.is_ack:
        return False
    return silence.state is SilenceState.ACTIVE and silence.ends_at - now <= warn_before


# -- start-up: the table's words until the first alert source answers ------------------------ #

@dataclass(frozen=True, slots=True)
class Startup:
    """The table's words before its first rows: the sources alerts are loading from and those
    that failed before answering, named as `source_names` names them; `count`, the alerts on
    their way, once an answer says it."""

    loading: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    count: int | None = None

    def lines(self, width: int, measure: Callable[[str], int] = len) -> tuple[str, ...]:
        loading = [loading_text(self.loading, self.count, width, measure)] if self.loading else []
        failed = [failed_text(self.failed, width, measure)] if self.failed else []
        return tuple(loading + failed)


def source_names(alertmanagers: Iterable[tuple[str, str]], prometheus: Iterable[str]
                 ) -> list[str]:
    """Alertmanagers (name, cluster) by cluster with their members, "prod (am-1, am-2)" (a
    member named as its cluster: "prod"), then each Prometheus; sanitised."""
    clusters: dict[str, list[str]] = {}
    for name, cluster in alertmanagers:
        clusters.setdefault(clean_line(cluster or name), []).append(clean_line(name))
    return [cluster if members == [cluster] else f"{cluster} ({', '.join(members)})"
            for cluster, members in clusters.items()] + [clean_line(p) for p in prometheus]


def startup_of(alertmanagers: Sequence[tuple[str, str]], prometheus: Sequence[str],
               health: Iterable[SourceHealth], count: int | None = None) -> Startup | None:
    """What the empty table says before its first rows. Until an alert source answers: those
    awaited and those that failed. Once one has: with `count` (its alerts, their rows still
    being made) the sources that answered and the count, else nothing."""
    known = {(h.kind, h.name): h.health for h in health}

    def state(kind: str, name: str) -> Health:
        return known.get((kind, name), Health.WAITING)

    def named(*states: Health) -> tuple[str, ...]:
        return tuple(source_names(
            [(n, c) for n, c in alertmanagers if state("alertmanager", n) in states],
            [n for n in prometheus if state("prometheus", n) in states]))

    if answered := named(Health.OK, Health.STALE):
        return Startup(answered, count=count) if count is not None else None
    startup = Startup(named(Health.WAITING), named(Health.DOWN))
    return startup if startup.loading or startup.failed else None


def loading_text(names: Sequence[str], count: int | None = None, width: int = 80,
                 measure: Callable[[str], int] = len) -> str:
    """" loading alerts from prod (am-1, am-2) and prometheus-main…" (with `count`: "loading
    12,400 alerts from …"), naming the sources that fit in `width` cells and counting the rest."""
    alerts = "alerts" if count is None else f"{count:,} alerts"
    return _naming(f" loading {alerts} from ", names, "…", width, measure)


def failed_text(names: Sequence[str], width: int = 80, measure: Callable[[str], int] = len
                ) -> str:
    """" prod (am-1) failed before answering (why: above)": the banner above says why."""
    return _naming(" ", names, " failed before answering (why: above)", width, measure)


def _naming(before: str, names: Sequence[str], after: str, width: int,
            measure: Callable[[str], int]) -> str:
    """`before` + as many of `names` as fit ("a, b and 3 more") + `after`, cut to `width`."""
    text = before + after
    for shown in range(len(names), 0, -1):
        rest = len(names) - shown
        text = before + _listed([*names[:shown], *([f"{rest} more"] if rest else [])]) + after
        if measure(text) <= width:
            return text
    while text and measure(text) > width:
        text = text[:-2] + "…"
    return text


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
