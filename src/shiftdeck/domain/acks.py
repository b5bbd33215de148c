"""Which acks to keep alive and which to end, given one poll: pure decisions, no I/O.

An ack lasts "until resolved" (``ack.until_resolved``): it is extended while it silences a
firing alert (domain.silences.plan_extensions) and ended (its silence expired) once every alert
it acknowledged resolved, so a re-fire pages again.

**Resolved means gone**, judged conservatively, because ending an ack by mistake pages someone:

- only in a *complete* poll: every Alertmanager instance answered this poll, its alerts and its
  silences, leaving nothing out as malformed. A failed, partial or not yet answered source
  ends nothing (and its last good alerts still count);
- no current alert (from any Alertmanager, or firing or pending in Prometheus) is silenced by
  the ack or selected by its matchers;
- the ack started at least SETTLE ago on its cluster's clock (an alert acked while it was only
  in Prometheus, or an answer that raced the ack's write, does not end it at once).

Only shiftdeck's own acks of this team are ever ended: `ACK! <who> via shiftdeck at …` with
shiftdeck's write reference, created by a member of the team (the config's user and people).
An ack whose matchers shiftdeck cannot evaluate, or altered at ingest, is never ended here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .alerts import Alert, AlertState
from .board import Board
from .health import Health, SourceHealth
from .silences import (AckSettings, Silence, SilenceRequest, SilenceState, plan_extensions,
                       reference_of)

SETTLE = timedelta(minutes=2)
"""How old an ack must be before it can end: longer than Prometheus takes to (re)send an alert
to Alertmanager (resend delay 1m) plus a poll."""

_SHIFTDECK_ACK = re.compile(r"ACK! .* via shiftdeck at \d{4}-\d\d-\d\d \d\d:\d\d UTC")


@dataclass(frozen=True, slots=True)
class AckPlan:
    """What to write for the acks now: extensions (keeping ids) and acks to end."""

    extend: tuple[SilenceRequest, ...] = ()
    end: tuple[Silence, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.extend or self.end)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset([r.id for r in self.extend] + [s.id for s in self.end])

    @property
    def clusters(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([r.cluster for r in self.extend]
                                   + [s.cluster for s in self.end]))

    def without(self, ids: Iterable[str]) -> AckPlan:
        skip = frozenset(ids)
        return AckPlan(tuple(r for r in self.extend if r.id not in skip),
                       tuple(s for s in self.end if s.id not in skip))


def team_of(user: str, people: Iterable[str]) -> frozenset[str]:
    """Who an ack may be by for shiftdeck to end it: the config's user and its people's ids."""
    return frozenset([user, *people]) - {""}


def is_team_ack(silence: Silence, team: frozenset[str]) -> bool:
    """A shiftdeck ACK! of this team (not karma's, kthxbye's or another team's)."""
    return (silence.is_ack and silence.created_by in team
            and _SHIFTDECK_ACK.match(silence.comment) is not None
            and bool(reference_of(silence.comment)))


def poll_complete(health: Iterable[SourceHealth]) -> bool:
    """Every Alertmanager answered its alerts and its silences this poll, nothing left out."""
    answers = [h for h in health if h.kind == "alertmanager"]
    return bool(answers) and all(h.health is Health.OK and not h.skipped for h in answers)


def resolved_acks(silences: Iterable[Silence], alerts: Iterable[Alert],
                  now_at: Callable[[str], datetime], team: frozenset[str],
                  settle: timedelta = SETTLE) -> list[Silence]:
    """The team's active acks none of whose alerts is current any more (see the module doc;
    the caller has checked that the poll was complete). `now_at(cluster)`: that clock's now."""
    candidates = [s for s in silences if _may_end(s, now_at(s.cluster), team, settle)]
    if not candidates:  # the usual poll: no walk over every alert
        return []
    current = [a for a in alerts if a.state is not AlertState.RESOLVED]
    silencing = {sid for alert in current for sid in alert.silenced_by}
    return [s for s in candidates
            if s.id not in silencing and not any(s.matches(a.labels) for a in current)]


def _may_end(silence: Silence, now: datetime, team: frozenset[str], settle: timedelta) -> bool:
    return (silence.state is SilenceState.ACTIVE and is_team_ack(silence, team)
            and silence.editable and not silence.problems and now - silence.starts_at >= settle)


def plan_acks(board: Board, now_at: Callable[[str], datetime], settings: AckSettings,
              team: frozenset[str], *, team_only: bool, settle: timedelta = SETTLE) -> AckPlan:
    """Extensions due (of every ACK!, kthxbye's way, or with `team_only` only the team's) and,
    with `settings.until_resolved` and a complete poll, the team's acks to end."""
    by_cluster: dict[str, list[Silence]] = {}
    for silence in board.silences.values():
        if not team_only or is_team_ack(silence, team):
            by_cluster.setdefault(silence.cluster, []).append(silence)
    extend = [p for cluster, silences in by_cluster.items()
              for p in plan_extensions(silences, board.alerts.values(), now_at(cluster), settings)]
    end: list[Silence] = []
    if settings.until_resolved and poll_complete(board.health):
        end = resolved_acks(board.silences.values(), board.alerts.values(), now_at, team, settle)
    return AckPlan(tuple(extend), tuple(end))
