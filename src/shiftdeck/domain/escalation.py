"""Escalation: for an unacknowledged alert, who is being paged now, who is next, and when.

The clock starts at the alert's startsAt. An acknowledged alert stops escalating. The person
for a future step is whoever holds that role *at that future moment*: a handoff can fall inside
the window.

By alert state:

- firing: the ladder runs; `current` is the last step reached by now, `next` the one after.
- acked: stopped (`acked_by` set). `current` is the step reached when the ack was made
  (`acked_at`, else now); no `next`; no ack breach; the resolve target still counts.
- silenced / inhibited: stopped and `muted` (Alertmanager pages nobody for them): no `current`,
  no `next`, no breaches.
- pending: not escalating yet (the rule's `for:` has not elapsed): no `current`, no `next`, no
  breaches. Not `stopped` either: it will start when the alert fires.
- resolved: stopped; `current` is the step reached by `resolved_at`; no `next`, no breaches.

The rungs are always all there, resolved to people, so the detail pane can draw the ladder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .alerts import Alert, AlertState
from .roster import Person, Roster
from .severity import SeverityLevel


@dataclass(frozen=True, slots=True)
class Step:
    after: timedelta
    """Delay from the alert's startsAt."""
    notify: str
    """A role name or a person id."""


@dataclass(frozen=True, slots=True)
class PagerLadder:
    """A level whose ladder is a PagerDuty escalation policy's (config
    ``escalation: {P1: {pagerduty: PABC123}}``)."""

    account: str
    """The name of the pagerduty entry that reads it."""
    policy_id: str


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    ladders: dict[str, tuple[Step, ...]]
    """Severity level → steps in order of `after`; key 'default' for every other level. A level
    given an empty ladder does not escalate (it does not fall back to 'default')."""
    from_pager: Mapping[str, PagerLadder] = field(default_factory=dict)
    """Levels whose ladder is a PagerDuty policy's: empty in `ladders` until it is read."""

    def filled(self, ladders: Mapping[str, tuple[Step, ...]]) -> EscalationPolicy:
        """With the ladders read from PagerDuty for the levels that take theirs from it (any
        other level in `ladders` is ignored); itself when nothing changes."""
        read = {level: steps for level, steps in ladders.items()
                if level in self.from_pager and self.ladders.get(level) != steps}
        return replace(self, ladders={**self.ladders, **read}) if read else self

    def ladder(self, level: str) -> tuple[Step, ...]:
        if level in self.ladders:
            return self.ladders[level]
        return self.ladders.get("default", ())

    def targets(self) -> tuple[str, ...]:
        """Every role or person id some step notifies, in order of first appearance."""
        return tuple(dict.fromkeys(s.notify for steps in self.ladders.values() for s in steps))


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """How shiftdeck tells you an alert crossed an escalation step or a new alert fired."""

    min_interval: timedelta = timedelta(seconds=30)
    """At most one notification per this interval (the rest are counted, not lost)."""
    bell: bool = True
    """Ring the terminal bell."""
    desktop: bool = False
    """Also send an OSC 9 / OSC 777 desktop notification (passes through SSH and tmux)."""
    levels: tuple[str, ...] = ("P1", "P2")
    """Severity levels that notify at all."""


@dataclass(frozen=True, slots=True)
class Rung:
    """One step of an alert's ladder, resolved to a person at the moment it applies."""

    index: int
    """0-based; shown as L1, L2..."""
    step: Step
    at: datetime
    """When the step applies: startsAt + step.after."""
    person: Person | None
    """Who holds step.notify at `at` (None: nobody on call then, or an unknown target)."""


@dataclass(frozen=True, slots=True)
class Escalation:
    rungs: tuple[Rung, ...]
    current: Rung | None
    """The step reached by `now` (None before the first step, and for pending/muted alerts)."""
    next: Rung | None
    """The step that comes next, with its deadline `next.at`; None at the top of the ladder
    and whenever escalation is stopped or has not started."""
    acked_by: str = ""
    """Set when the alert is acknowledged: escalation stopped."""
    ack_breach: bool = False
    """Unacknowledged at or past the level's `ack_within` (firing alerts only)."""
    resolve_breach: bool = False
    """Still open at or past the level's `resolve_within` (firing or acked alerts)."""
    muted: bool = False
    """Silenced, muted or inhibited: nobody is paged, escalation stopped."""
    stop_reason: str = ""
    """Why escalation stopped, in words: 'acknowledged by alice', 'silenced', 'inhibited',
    'resolved'; '' while it runs (or has not started)."""
    ack_deadline: datetime | None = None
    """startsAt + ack_within, when the level has one."""
    resolve_deadline: datetime | None = None
    """startsAt + resolve_within, when the level has one."""

    @property
    def stopped(self) -> bool:
        return bool(self.stop_reason)


def escalate(alert: Alert, level: SeverityLevel | None, policy: EscalationPolicy,
             roster: Roster, now: datetime,
             resolve: Callable[[str, datetime], Person | None] | None = None) -> Escalation:
    """The alert's escalation at `now`. Pure; the countdown is `next.at - now`.

    `level` gives the ladder (by its name, else the alert's own `level`) and the SLAs.
    `resolve` stands for `roster.resolve` (a memo: a storm's alerts share their startsAt).
    """
    name = level.level if level is not None else alert.level
    start = alert.starts_at
    holder = resolve or roster.resolve
    rungs = tuple(Rung(i, step, start + step.after, holder(step.notify, start + step.after))
                  for i, step in enumerate(policy.ladder(name)))
    ack_deadline = start + level.ack_within if level and level.ack_within else None
    resolve_deadline = start + level.resolve_within if level and level.resolve_within else None
    base = Escalation(current=None, next=None, rungs=rungs, ack_deadline=ack_deadline,
                      resolve_deadline=resolve_deadline)
    state = alert.state
    if state is AlertState.PENDING:
        return base
    if state in (AlertState.SILENCED, AlertState.MUTED, AlertState.INHIBITED):
        return replace(base, muted=True, stop_reason=alert.state_text)
    if state is AlertState.RESOLVED:
        until = min(alert.resolved_at, now) if alert.resolved_at else now
        return replace(base, current=_reached(rungs, until), stop_reason="resolved")
    resolve_breach = resolve_deadline is not None and now >= resolve_deadline
    if state is AlertState.ACKED:
        who = alert.acked_by or "someone"
        until = min(alert.acked_at, now) if alert.acked_at else now
        return replace(base, current=_reached(rungs, until), acked_by=who,
                       resolve_breach=resolve_breach, stop_reason=f"acknowledged by {who}")
    return replace(
        base,
        current=_reached(rungs, now),
        next=next((r for r in rungs if r.at > now), None),
        ack_breach=ack_deadline is not None and now >= ack_deadline,
        resolve_breach=resolve_breach,
    )


def _reached(rungs: tuple[Rung, ...], at: datetime) -> Rung | None:
    reached = [r for r in rungs if r.at <= at]
    return reached[-1] if reached else None


def crossed(before: Escalation, after: Escalation) -> bool:
    """True when `after` reached a later step than `before` (notify once per crossing).

    Reaching the first step counts (an alert that starts firing). Never true once `after` is
    stopped (acked, muted, resolved): nobody needs telling then.
    """
    if after.stopped or after.current is None:
        return False
    return before.current is None or after.current.index > before.current.index


def countdown_text(delta: timedelta) -> str:
    """The time to the next step, at most 5 cells, always with its units so it never reads as
    a time of day: seconds only in the last 10 minutes (`9m51s`, `42s`), then `14m`, `1h02m`,
    `12h`, `3d` (a far deadline changes once a minute). Overdue: `-42s`, `-5m`, then `late!`."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        late = -seconds
        if late >= 600:
            return "late!"
        return f"-{late}s" if late < 60 else f"-{late // 60}m"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 36000:
        return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
