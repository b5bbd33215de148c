"""The Shift: everything shiftdeck knows of the shift, as one immutable value.

It owns the board, the roster, each alert's escalation, which status updates are due, and the
journal's in-memory view (notes and status updates indexed by fingerprint; the records of the
last days, bounded). `apply(reports, health, now)` (a poll) and `tick(now)` (a second passed)
return a `ShiftStep`: the new Shift and typed events. Pure and thread-safe: the app runs it off
the event loop for large boards and turns the events into journal records, pages and toasts.

Work per step is proportional to what changed: escalations and update-due times are kept per
alert and recomputed only for alerts whose object changed (a board reuses unchanged alerts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .alerts import Alert, AlertState, replaced
from .board import EMPTY_BOARD, Board, SourceReport, build_board
from .escalation import Escalation, EscalationPolicy, Step, crossed, escalate
from .health import SourceHealth
from .journal import (INDEXED_KINDS, AlertRef, Kind, rung_level, Record, RecordIndex,
                      StatusUpdate, next_update_due, open_firings_of)
from .journal import AlertFired as FiredRecord
from .journal import AlertResolved as ResolvedRecord
from .journal import Escalated as EscalatedRecord
from .journal import PagerEscalated as PagerEscalatedRecord
from .packed_records import Packed, firings, pack, packed_at, unpack, unpack_kinds
from .pager import Correlation, Incident, correlate, escalated
from .sanitize import clean_line
from .roster import Person, Roster
from .severity import SeverityPolicy

FIRING_STATES = (AlertState.FIRING, AlertState.ACKED, AlertState.SILENCED, AlertState.MUTED,
                 AlertState.INHIBITED)
"""States that count as firing for the journal (Alertmanager still holds them as active)."""
MEMORY_WINDOW = timedelta(days=7)
"""Records older than this are dropped from memory (the journal file keeps them)."""
MEMORY_RECORDS = 50_000
"""At most this many records kept in memory, newest kept."""


@dataclass(frozen=True, slots=True)
class ShiftPolicy:
    """What the Shift needs from the config."""

    severity: SeverityPolicy
    escalation: EscalationPolicy
    resolved_retention: timedelta = timedelta(minutes=10)


# -- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertFired:
    alert: Alert
    news: bool = True
    """False for alerts found firing when shiftdeck started: journaled, never paged."""


@dataclass(frozen=True, slots=True)
class AlertResolved:
    alert: Alert


@dataclass(frozen=True, slots=True)
class Escalated:
    alert: Alert
    level: str
    """The ladder step reached, named as shown: "L2"."""
    notify: str
    """The role (or person id) that step notifies."""
    person: str
    """Who holds it now ('' when nobody is on call)."""


@dataclass(frozen=True, slots=True)
class Acked:
    """An alert became acknowledged (by anyone: shiftdeck, karma, kthxbye)."""

    alert: Alert


@dataclass(frozen=True, slots=True)
class UpdateDue:
    """An incident's status update fell due."""

    alert: Alert


@dataclass(frozen=True, slots=True)
class PagerEscalated:
    """PagerDuty escalated an incident (domain.pager.escalated)."""

    incident: Incident
    """Its new answer: who is assigned now, at which level."""
    alert: Alert | None
    """The alert it pages for; None for an incident no alert matches."""
    at: datetime
    """When: its escalate action's time."""


Event = AlertFired | AlertResolved | Escalated | Acked | UpdateDue | PagerEscalated


# -- the journal's in-memory view ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalView:
    packed: tuple[Packed, ...] = ()
    """The last MEMORY_WINDOW of records (at most MEMORY_RECORDS), oldest first, packed: a
    storm's records cost the cyclic garbage collector nothing (see `packed_records`)."""
    index: RecordIndex = field(default_factory=RecordIndex)
    """Notes and status updates by fingerprint (O(1) per cursor move)."""
    open_at_start: frozenset[tuple[str, datetime]] = frozenset()
    """(fingerprint, startsAt) of the firings the journal file held open when it was read:
    those alerts are not recorded again when shiftdeck restarts."""

    @property
    def records(self) -> tuple[Record, ...]:
        """The records, unpacked: O(records) (~0.5 s at 50k), for a report, not for every poll
        nor a form."""
        return tuple(map(unpack, self.packed))

    def records_of(self, kinds: Iterable[Kind]) -> tuple[Record, ...]:
        """The records of these kinds: only those are unpacked."""
        return unpack_kinds(self.packed, kinds)

    def notes_for(self, fingerprint: str) -> tuple[Record, ...]:
        return self.index.notes(fingerprint)

    def updates_for(self, fingerprint: str) -> tuple[Record, ...]:
        return self.index.updates(fingerprint)

    def with_records(self, records: Iterable[Record], now: datetime) -> JournalView:
        added = sorted(records, key=lambda r: r.at)
        return self.with_packed(tuple(map(pack, added)), added, now) if added else self

    def with_packed(self, packed: tuple[Packed, ...], indexed: Iterable[Record],
                    now: datetime) -> JournalView:
        """`packed` (in time order) added; `indexed`: its notes and status updates."""
        kept = _bounded((*self.packed, *packed), now)
        return replace(self, packed=kept, index=self.index.added(indexed))


def _bounded(packed: tuple[Packed, ...], now: datetime) -> tuple[Packed, ...]:
    since = now - MEMORY_WINDOW
    if packed and packed_at(packed[0]) >= since and len(packed) <= MEMORY_RECORDS:
        return packed
    return tuple(p for p in packed if packed_at(p) >= since)[-MEMORY_RECORDS:]


# -- the shift -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shift:
    policy: ShiftPolicy
    roster: Roster
    board: Board = EMPTY_BOARD
    escalations: Mapping[str, Escalation] = field(default_factory=dict)
    """Fingerprint → escalation, for firing and acknowledged alerts (with a ladder)."""
    journal: JournalView = field(default_factory=JournalView)
    journal_loaded: bool = False
    """The journal file was read: until then, alerts found firing at start are not recorded
    (the file may already hold them)."""
    started: bool = False
    """The first board arrived."""
    seen_recorded: bool = False
    """The alerts found firing at start were recorded (`seen_at_start`)."""
    update_at: Mapping[str, datetime] = field(default_factory=dict)
    """Fingerprint → when its next status update is due (alerts with a cadence)."""
    update_due: frozenset[str] = frozenset()
    next_deadline: datetime | None = None
    """The earliest escalation step or update due to come: tick() does nothing before it."""
    incidents: tuple[Incident, ...] = ()
    """PagerDuty's open incidents, every account's last good answer."""
    pages: Correlation = field(default_factory=Correlation)
    """Which incident pages for which alert, and the incidents that match none. An alert
    with an incident escalates by PagerDuty's clock: it has no modelled escalation."""

    @property
    def records(self) -> tuple[Record, ...]:
        return self.journal.records

    def apply(self, reports: Mapping[str, SourceReport], health: tuple[SourceHealth, ...],
              now: datetime, incidents: tuple[Incident, ...] | None = None) -> ShiftStep:
        """A poll: merge the sources' reports into a new board, then escalations and updates;
        `incidents` (None: unchanged): PagerDuty's, correlated with the board's alerts."""
        board = build_board(reports, health, self.board, self.policy.severity, now,
                            self.policy.resolved_retention)
        step = self.with_board(board, now)
        if incidents is None or incidents == self.incidents:
            return step
        paged = step.shift.with_incidents(incidents, now)
        return ShiftStep(paged.shift, step.events + paged.events)

    def with_incidents(self, incidents: tuple[Incident, ...], now: datetime) -> ShiftStep:
        """PagerDuty's incidents: correlated again; alerts that gained or lost an incident
        have their modelled escalation dropped or computed again (nobody paged for it)."""
        shift = replace(self, incidents=incidents)
        pages = shift._correlated(self.board)
        events = tuple(self._pager_escalations(incidents, pages, now))
        if pages is self.pages:
            return ShiftStep(shift, events)
        moved = self.pages.by_fingerprint.keys() ^ pages.by_fingerprint.keys()
        shift = replace(shift, pages=pages)
        alerts = [self.board.alerts[fp] for fp in moved if fp in self.board.alerts]
        shift, _ = shift._escalate(alerts, (), now)
        return ShiftStep(shift._with_deadline(), events)

    def _pager_escalations(self, incidents: tuple[Incident, ...], pages: Correlation,
                           now: datetime) -> Iterable[PagerEscalated]:
        before = {i.id: i for i in self.incidents}
        alerts = {i.id: fp for fp, i in pages.by_fingerprint.items()}
        for incident in incidents:
            old = before.get(incident.id)
            at = escalated(old, incident, now) if old is not None else None
            if at is not None:
                fp = alerts.get(incident.id)
                yield PagerEscalated(incident, self.board.alerts.get(fp) if fp else None, at)

    def with_board(self, board: Board, now: datetime) -> ShiftStep:
        previous = self.board
        if board.alerts is previous.alerts or board.same_alerts(previous):
            if board.resolved_uncounted == previous.resolved_uncounted:
                board = replace(board, alerts=previous.alerts)  # the UI skips it by identity
            return ShiftStep(replace(self, board=board), ())
        events: list[Event] = list(self._lifecycle(previous, board))
        changed = [a for fp, a in board.alerts.items() if previous.alerts.get(fp) is not a]
        shift = replace(self, board=board, started=True)
        pages = shift._correlated(board)
        if pages is not self.pages:
            paged = self.pages.by_fingerprint.keys() ^ pages.by_fingerprint.keys()
            changed += [board.alerts[fp] for fp in paged
                        if fp in board.alerts and previous.alerts.get(fp) is board.alerts[fp]]
            shift = replace(shift, pages=pages)
        shift, moved = shift._escalate(changed, board.alerts.keys() - previous.alerts.keys()
                                       | previous.alerts.keys() - board.alerts.keys(), now)
        events += moved
        shift, due = shift._updates(changed, now)
        return ShiftStep(shift._with_deadline(), (*events, *due))

    def tick(self, now: datetime) -> ShiftStep:
        """Time passed: escalation steps and status updates that fell due since."""
        if self.next_deadline is None or now < self.next_deadline:
            return ShiftStep(self, ())
        alerts = self.board.alerts
        expired = [alerts[fp] for fp, e in self.escalations.items()
                   if fp in alerts and e.next is not None and e.next.at <= now]
        shift, moved = self._escalate(expired, set(), now)
        shift, due = shift._updates((), now)
        return ShiftStep(shift._with_deadline(), (*moved, *due))

    def with_roster(self, roster: Roster, now: datetime,
                    ladders: Mapping[str, tuple[Step, ...]] | None = None) -> ShiftStep:
        """A new roster (ICS feeds, PagerDuty's on-calls) and the ladders read from PagerDuty
        for the levels that take theirs from a policy (None: unchanged): every escalation
        again, nobody paged for the change."""
        policy = self.policy if ladders is None else replace(
            self.policy, escalation=self.policy.escalation.filled(ladders))
        shift = replace(self, roster=roster, policy=policy, escalations={})
        shift, _ = shift._escalate(list(self.board.alerts.values()), set(), now)
        return ShiftStep(shift._with_deadline(), ())

    def journaled(self, records: Iterable[Record], now: datetime) -> Shift:
        """Records added to the journal: notes and status updates are indexed at once."""
        records = tuple(records)
        return self._with_journal(self.journal.with_records(records, now), records, now)

    def journal_read(self, packed: Iterable[Packed], now: datetime) -> ShiftStep:
        """The journal file was read (each record packed as it was read): its records, then
        alerts firing at start not in it."""
        packed = tuple(sorted(packed, key=packed_at))
        indexed = unpack_kinds(packed, INDEXED_KINDS)
        shift = self._with_journal(self.journal.with_packed(packed, indexed, now), indexed, now)
        journal = replace(shift.journal, open_at_start=open_firings_of(firings(packed)))
        return ShiftStep(replace(shift, journal=journal, journal_loaded=True), ())

    def _with_journal(self, journal: JournalView, records: Iterable[Record],
                      now: datetime) -> Shift:
        updated = {r.fingerprint for r in records if isinstance(r, StatusUpdate)}
        shift = replace(self, journal=journal)
        if updated:
            alerts = [self.board.alerts[fp] for fp in updated if fp in self.board.alerts]
            shift, _ = shift._updates(alerts, now)
            shift = shift._with_deadline()
        return shift

    @property
    def seen_at_start_due(self) -> bool:
        """The first board and the journal file are in, and the alerts found firing are not
        recorded yet. The runner leaves that to the next second, after the first table: at
        50k alerts recording them took ~1.9 s."""
        return self.started and self.journal_loaded and not self.seen_recorded

    def seen_at_start(self) -> ShiftStep:
        """The alerts found firing at start, recorded (not news: never paged), except the
        firings the journal file holds open. Once."""
        if not self.seen_at_start_due:
            return ShiftStep(self, ())
        return ShiftStep(replace(self, seen_recorded=True),
                         tuple(self._first_seen(self.board.alerts.values())))

    # -- internals -----------------------------------------------------------------------

    def _lifecycle(self, previous: Board, board: Board) -> Iterable[Event]:
        if not self.started:  # the first board: recorded by `seen_at_start`, not news
            return
        for fp, alert in board.alerts.items():
            old = previous.alerts.get(fp)
            if alert is old:
                continue
            if alert.state in FIRING_STATES:
                if old is None or old.state in (AlertState.PENDING, AlertState.RESOLVED):
                    yield AlertFired(alert)
                elif alert.state is AlertState.ACKED and old.state is not AlertState.ACKED:
                    yield Acked(alert)
            elif alert.state is AlertState.RESOLVED and old is not None \
                    and old.state in FIRING_STATES:
                yield AlertResolved(alert)
        for fp, old in previous.alerts.items():  # resolved beyond the board's cap: only counted
            if fp not in board.alerts and old.state in FIRING_STATES:
                yield AlertResolved(replaced(old, state=AlertState.RESOLVED,
                                             resolved_at=board.built_at))

    def _first_seen(self, alerts: Iterable[Alert]) -> Iterable[AlertFired]:
        known = self.journal.open_at_start
        for alert in alerts:
            if alert.state in FIRING_STATES and (alert.fingerprint, alert.starts_at) not in known:
                yield AlertFired(alert, news=False)

    def _escalate(self, alerts: Iterable[Alert], gone: Iterable[str], now: datetime
                  ) -> tuple[Shift, list[Event]]:
        policy = self.policy.escalation
        if not policy.ladders:
            return self, []
        escalations = dict(self.escalations)
        for fp in gone:
            escalations.pop(fp, None)
        events: list[Event] = []
        holders: dict[tuple[str, datetime], Person | None] = {}

        def resolve(target: str, at: datetime) -> Person | None:
            if (target, at) not in holders:
                holders[target, at] = self.roster.resolve(target, at)
            return holders[target, at]

        paged = self.pages.by_fingerprint
        for alert in alerts:
            before = escalations.pop(alert.fingerprint, None)
            if alert.state not in (AlertState.FIRING, AlertState.ACKED) \
                    or alert.fingerprint in paged:
                continue
            level = self.policy.severity.level_for(alert.level, alert.labels)
            after = escalate(alert, level, policy, self.roster, now, resolve)
            escalations[alert.fingerprint] = after
            if before is not None and crossed(before, after) and after.current is not None:
                rung = after.current
                events.append(Escalated(alert, rung_level(rung.index), rung.step.notify,
                                        rung.person.id if rung.person else ""))
        return replace(self, escalations=escalations), events

    def _correlated(self, board: Board) -> Correlation:
        """The incidents correlated with `board`'s alerts; the current Correlation itself when
        nothing in it changed (the table repaints by identity)."""
        if not self.incidents:
            return self.pages if not self.pages.by_fingerprint and not self.pages.unmatched \
                else Correlation()
        pages = correlate(self.incidents, board.alerts.values())
        same = (pages.unmatched == self.pages.unmatched
                and dict(pages.by_fingerprint) == dict(self.pages.by_fingerprint))
        return self.pages if same else pages

    def _updates(self, alerts: Iterable[Alert], now: datetime) -> tuple[Shift, list[Event]]:
        """Update-due times of the given (changed) alerts recomputed; which are due now."""
        update_at = dict(self.update_at)
        board = self.board.alerts
        for fp in [fp for fp in update_at if fp not in board]:
            del update_at[fp]
        for alert in alerts:
            level = self.policy.severity.level_for(alert.level, alert.labels)
            when = next_update_due(self.journal.updates_for(alert.fingerprint), alert, level,
                                   now)
            if when is None:
                update_at.pop(alert.fingerprint, None)
            else:
                update_at[alert.fingerprint] = when
        due = frozenset(fp for fp, at in update_at.items() if at <= now)
        events: list[Event] = [UpdateDue(board[fp]) for fp in due - self.update_due]
        return replace(self, update_at=update_at, update_due=due), events

    def _with_deadline(self) -> Shift:
        steps = (e.next.at for e in self.escalations.values() if e.next and not e.stopped)
        updates = (at for fp, at in self.update_at.items() if fp not in self.update_due)
        return replace(self, next_deadline=min((*steps, *updates), default=None))


@dataclass(frozen=True, slots=True)
class ShiftStep:
    shift: Shift
    events: tuple[Event, ...]


def shift_start(roster: Roster, user: str, now: datetime) -> datetime:
    """When the user's current shift began, else 12 hours ago."""
    me = roster.find(user)
    starts = [h.start for role in roster.roles()
              if (h := roster.holding(role, now)).person is not None and me is not None
              and h.person.id == me.id]
    return min(starts) if starts else now - timedelta(hours=12)


def journal_records(events: Iterable[Event], user: str, now: datetime) -> list[Record]:
    """The journal records of a step's events, in order of kind, alertname, fingerprint. Acks
    are journaled by the write that made them, and update-due is a reminder, not a record."""
    records: list[Record] = []
    for event in events:
        if isinstance(event, PagerEscalated):
            records.append(_pager_escalated_record(event, user))
            continue
        ref = AlertRef.of(event.alert)
        summary = clean_line(event.alert.summary, 300)
        if isinstance(event, AlertFired):
            records.append(FiredRecord(now, user, ref, summary, state=event.alert.state.value,
                                       seen_at_start=not event.news))
        elif isinstance(event, AlertResolved):
            records.append(ResolvedRecord(event.alert.resolved_at or now, user, ref, summary))
        elif isinstance(event, Escalated):
            records.append(EscalatedRecord(now, user, ref, to_level=event.level,
                                           notify=event.notify, person=event.person))
    order = [FiredRecord, ResolvedRecord, EscalatedRecord, PagerEscalatedRecord]
    records.sort(key=lambda r: (order.index(type(r)), r.alertname, r.fingerprint))
    return records


def _pager_escalated_record(event: PagerEscalated, user: str) -> PagerEscalatedRecord:
    incident = event.incident
    return PagerEscalatedRecord(
        event.at, user, AlertRef.of(event.alert) if event.alert else None, incident.title,
        incident=incident.id, number=incident.number or None, pager=incident.source,
        to_level=rung_level(incident.level - 1) if incident.level else "",
        person=", ".join(u.name for u in incident.assignees))
