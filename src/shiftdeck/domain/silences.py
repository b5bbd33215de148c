"""Silences and acknowledgements (the karma/kthxbye `ACK!` convention), as pure logic.

An ack is a short silence whose matchers select the alert and whose comment starts with `ACK!`.
While it still silences a firing alert it is extended (when < 5 min remain, to now + duration,
never past max_duration from its start), keeping its ID, so two shiftdecks or a kthxbye daemon
never fork it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from .alerts import Alert, AlertState, clamp_warnings
from .durations import format_duration
from .matchers import Matcher, make_matcher
from .severity import SeverityPolicy

ACK_PREFIX = "ACK!"
EXTEND_WHEN_LESS_THAN = timedelta(minutes=5)


class SilenceState(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Silence:
    """A silence as an Alertmanager cluster reports it (deduplicated across its peers)."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    state: SilenceState
    cluster: str = ""
    """The Alertmanager cluster holding it; writes go back there."""
    starts_at_raw: str = ""
    """startsAt exactly as the server sent it: echoed back on extension so the ID is kept."""
    updated_at: datetime | None = None
    editable: bool = True
    """False when sanitising changed a matcher at ingest: writing this silence back would change
    its matchers, which makes Alertmanager expire it and create another, so it is never
    extended in place."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """Alertmanager 0.32+: free-form notes on the silence (sanitised)."""
    clamped: tuple[str, ...] = ()
    """Timestamps the server sent out of range (e.g. 'endsAt'), clamped at ingest."""

    @property
    def is_ack(self) -> bool:
        return self.comment.startswith(ACK_PREFIX)

    @property
    def problems(self) -> tuple[str, ...]:
        """Matchers shiftdeck cannot evaluate (`pod=~"(a)\\1": cannot evaluate: …`); while any
        exists the silence matches nothing here, whatever Alertmanager decides."""
        return tuple(f"{m}: {m.problem}" for m in self.matchers if m.problem)

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.problems + clamp_warnings(self.clamped)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def remaining(self, now: datetime) -> timedelta:
        return self.ends_at - now


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    """What we ask an Alertmanager cluster to store. `id` set = update that silence."""

    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    cluster: str
    id: str = ""
    starts_at_raw: str = ""
    """When extending: the server's own startsAt string, sent back unchanged."""


@dataclass(frozen=True, slots=True)
class AckSettings:
    duration: timedelta = timedelta(minutes=15)
    """How long an ack silence lasts (and how far each extension reaches)."""
    max_duration: timedelta = timedelta(hours=12)
    """Extensions stop once a silence would last longer than this from its start."""
    extend: bool = True
    """Extend ACK! silences while they silence a firing alert; false for teams running kthxbye."""
    until_resolved: bool = True
    """End an ack (expire its silence) once every alert it acknowledged resolved, so a re-fire
    pages again; false: it lasts until it runs out (see domain.acks for "resolved")."""


@dataclass(frozen=True, slots=True)
class SilenceSettings:
    protected: tuple[Matcher, ...] = (make_matcher("category", "=", "security"),)
    """Alerts matching all of these need a named approver to be silenced."""
    warn_before: timedelta = timedelta(minutes=5)
    """A silence ending within this is 'expiring soon'. Shorter than ack.duration, so a fresh
    ack is not (`shiftdeck check` warns when it is not)."""


def exact_matchers(labels: Mapping[str, str]) -> tuple[Matcher, ...]:
    """Equality matchers on every label: selects exactly one alert's label set."""
    return tuple(make_matcher(name, "=", value) for name, value in sorted(labels.items()))


def common_matchers(alerts: Iterable[Alert]) -> tuple[Matcher, ...]:
    """Equality matchers on the labels every alert shares with the same value (a group's labels)."""
    shared: dict[str, str] | None = None
    for alert in alerts:
        if shared is None:
            shared = dict(alert.labels)
        else:
            shared = {k: v for k, v in shared.items() if alert.labels.get(k) == v}
    return exact_matchers(shared or {})


def ack_comment(user: str, now: datetime, note: str = "") -> str:
    """`ACK! alice via shiftdeck at 2026-11-22 14:00 UTC` (+ ` — note`)."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"{ACK_PREFIX} {user} via shiftdeck at {stamp}"
    return f"{text} — {note.strip()}" if note.strip() else text


def ack_request(matchers: tuple[Matcher, ...], cluster: str, user: str, now: datetime,
                settings: AckSettings, note: str = "") -> SilenceRequest:
    return SilenceRequest(matchers, now, now + settings.duration, user,
                          ack_comment(user, now, note), cluster)


_REFERENCE = re.compile(r" \[sd:([0-9a-f]{8,32})\]$")


def with_reference(comment: str, reference: str) -> str:
    """The comment with shiftdeck's write reference last (`… UTC [sd:7f3a9c21e0]`): after the
    `ACK!` prefix, so karma and kthxbye still see an ack. After a timeout, the reference is
    how shiftdeck finds a silence the server stored before it answered."""
    return f"{comment} [sd:{reference}]"


def reference_of(comment: str) -> str:
    """The write reference a comment ends with, or ''."""
    found = _REFERENCE.search(comment)
    return found.group(1) if found else ""


def existing_ack(silences: Iterable[Silence], labels: Mapping[str, str]) -> Silence | None:
    """The one 'already acknowledged' policy: an active ACK! silence selecting these labels."""
    return next((s for s in silences if s.is_ack and s.state is SilenceState.ACTIVE
                 and s.matches(labels)), None)


def plan_extensions(silences: Iterable[Silence], alerts: Iterable[Alert], now: datetime,
                    settings: AckSettings) -> list[SilenceRequest]:
    """The ACK! silences to extend now, kthxbye's way. Empty when `settings.extend` is off.

    A silence is extended when it is an active ack, silences at least one alert that is still
    firing (the alert's silenced_by holds its id), has less than 5 minutes left, and has not
    reached max_duration from its start. The new end is now + duration, capped at
    start + max_duration; extending again within the same minute is a no-op (idempotent).
    """
    if not settings.extend:
        return []
    silencing = {sid for alert in alerts if alert.state in (AlertState.SILENCED, AlertState.ACKED)
                 for sid in alert.silenced_by}
    plans = []
    for silence in silences:
        if not (silence.is_ack and silence.state is SilenceState.ACTIVE and silence.id in silencing
                and silence.editable):
            continue
        # Already over (the report is older than its end): Alertmanager would not update it in
        # place but create a new silence, forking the ack. Let it go.
        if silence.ends_at <= now or silence.remaining(now) >= EXTEND_WHEN_LESS_THAN:
            continue
        limit = silence.starts_at + settings.max_duration
        new_end = min(now + settings.duration, limit)
        if new_end - silence.ends_at < timedelta(minutes=1):
            continue
        plans.append(SilenceRequest(silence.matchers, silence.starts_at, new_end,
                                    silence.created_by, silence.comment, silence.cluster,
                                    id=silence.id, starts_at_raw=silence.starts_at_raw))
    return plans


def extend_request(silence: Silence, new_end: datetime) -> SilenceRequest:
    """Move a silence's end, keeping its ID (same matchers and startsAt).

    Raises Refusal for a silence that cannot be written back unchanged (see Silence.editable).
    """
    if not silence.editable:
        raise Refusal("this silence's matchers hold control characters shiftdeck removed on "
                      "display; extending it would replace it (use amtool)")
    return SilenceRequest(silence.matchers, silence.starts_at, new_end, silence.created_by,
                          silence.comment, silence.cluster, id=silence.id,
                          starts_at_raw=silence.starts_at_raw)


class Refusal(ValueError):
    """A silence the guardrails do not allow; str() says why and what would make it allowed."""


def check_silence(request: SilenceRequest, matched: Iterable[Alert], policy: SeverityPolicy,
                  settings: SilenceSettings, approver: str = "") -> SilenceRequest:
    """Apply the guardrails; return the request (approver recorded in the comment) or raise Refusal.

    - at least one matcher, on labels (not shiftdeck's @state/@level filters);
    - a comment is required;
    - the duration may not exceed `max_silence` of any level among the matched alerts (for
      matchers that match nothing now, the level the matchers' labels would get); the most
      severe level over its limit is named;
    - levels with `silence_approval` and alerts matching `settings.protected` need an approver.
    """
    if not request.matchers:
        raise Refusal("a silence needs at least one matcher")
    special = [str(m) for m in request.matchers if m.name.startswith("@")]
    if special:
        raise Refusal(f"{', '.join(special)}: @-keys are shiftdeck filters, not labels; "
                      "silence on labels")
    if not request.comment.strip():
        raise Refusal("a comment is required: say why this is silenced")
    alerts = list(matched)
    # With nothing matching now, judge the labels the matchers pin down.
    labelsets = [a.labels for a in alerts] or [
        {m.name: m.value for m in request.matchers if not m.is_regex and m.is_equal}]
    levels = sorted({policy.level_of(labels).level: policy.level_of(labels)
                     for labels in labelsets}.values(), key=lambda lvl: policy.rank(lvl.level))
    duration = request.ends_at - request.starts_at
    for level in levels:
        if level.max_silence is not None and duration > level.max_silence:
            raise Refusal(f"{level.level} silences are limited to "
                          f"{format_duration(level.max_silence)} "
                          f"(asked for {format_duration(duration)})")
    needs = [f"{level.level} needs approval" for level in levels if level.silence_approval]
    if settings.protected and any(all(m.matches(labels) for m in settings.protected)
                                  for labels in labelsets):
        needs.append("protected alerts (" + " ".join(str(m) for m in settings.protected) + ")")
    if needs and not approver.strip():
        raise Refusal("an approver is required: " + "; ".join(needs))
    if approver.strip():
        comment = f"{request.comment} (approved by {approver.strip()})"
        return SilenceRequest(request.matchers, request.starts_at, request.ends_at,
                              request.created_by, comment, request.cluster, request.id,
                              request.starts_at_raw)
    return request


def matching_alerts(matchers: Iterable[Matcher], alerts: Iterable[Alert]) -> list[Alert]:
    """The current (not resolved) alerts whose labels a silence with these matchers selects."""
    chosen = tuple(matchers)
    return [a for a in alerts if a.state is not AlertState.RESOLVED
            and all(m.matches(a.labels) for m in chosen)]
