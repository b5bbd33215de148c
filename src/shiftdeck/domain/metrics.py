"""Shift metrics from the journal: MTTA, MTTR, alerts per level, the noisiest alerts, and how
long firing alerts spent acknowledged or not. Pure.

The unit is an *episode*: one firing of one alert, from its startsAt to its resolution. The
journal's AlertFired, Escalated, Acked, Unacked and AlertResolved records (and SilenceExpired
of an ACK! silence) are folded into episodes; records written
twice (two shiftdecks on one journal, or a restart) fold into the same episode, since a firing
is identified by the alert's fingerprint and startsAt.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .journal import (Acked, AlertFired, AlertResolved, Escalated, Record, SilenceExpired,
                      Unacked, group_actions)

MUTED_STATES = ("silenced", "muted", "inhibited")


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """A level of its ladder an episode reached."""

    at: datetime
    level: str
    """``L2``; '' when an old journal line did not say."""
    person: str
    """Who was paged ('' when nobody held the role)."""
    notify: str = ""
    """The role (or person id) the level notifies."""


@dataclass(frozen=True, slots=True)
class Episode:
    """One firing of one alert, as the journal knows it."""

    fingerprint: str
    alertname: str
    level: str
    started: datetime | None
    """The alert's startsAt; None when no record carried it (an ack of an alert shiftdeck
    never saw fire)."""
    seen: datetime
    """The first record of this firing."""
    acked: datetime | None = None
    """First acknowledgement."""
    acked_by: str = ""
    resolved: datetime | None = None
    """When it was seen resolved; None while open or when its end went unseen."""
    ended: datetime | None = None
    """When it stopped being open as far as the journal knows: resolved, or superseded by a
    later firing of the same alert. None while open."""
    muted: bool = False
    """First seen silenced or inhibited and never acknowledged: it paged nobody."""
    acked_spans: tuple[tuple[datetime, datetime | None], ...] = ()
    """(from, until) of each acknowledged stretch; until None: still acknowledged at the end."""
    escalations: tuple[EscalationStep, ...] = ()
    """The levels it reached, in order (each once)."""
    seen_at_start: bool = False
    """First seen already firing when shiftdeck started."""

    @property
    def start(self) -> datetime:
        """startsAt, or the first record when that is unknown."""
        return self.started or self.seen

    @property
    def time_to_ack(self) -> timedelta | None:
        if self.acked is None or self.started is None:
            return None
        return max(self.acked - self.started, timedelta(0))

    @property
    def duration(self) -> timedelta | None:
        """startsAt to resolution, for resolved episodes with a known start."""
        if self.resolved is None or self.started is None:
            return None
        return max(self.resolved - self.started, timedelta(0))


@dataclass(frozen=True)
class ShiftMetrics:
    since: datetime
    until: datetime
    alerts_by_level: dict[str, int]
    """Episodes that started in the window, per level (levels in name order)."""
    incidents: int
    """Episodes of the incident levels (P1/P2) that started in the window and paged someone."""
    mtta: timedelta | None
    """Mean startsAt → first ack, over episodes first acknowledged in the window."""
    mttr: timedelta | None
    """Mean startsAt → resolved, over episodes (not muted) resolved in the window."""
    noisiest: list[tuple[str, int]]
    """(alertname, episodes started in the window), most first, at most 10."""
    acked_time: timedelta
    """Summed over episodes that paged someone: time in the window spent acknowledged..."""
    unacked_time: timedelta
    """... and firing without an acknowledgement."""
    actions: int
    """Actions the engineer took in the window (journal.group_actions)."""
    episodes: tuple[Episode, ...] = field(default=(), repr=False)
    """Every episode overlapping the window, in order of start."""


def shift_metrics(records: Iterable[Record], since: datetime, until: datetime,
                  incident_levels: Collection[str] = ("P1", "P2"),
                  observed: Iterable[Record] = ()) -> ShiftMetrics:
    """The numbers of the window [since, until]. ``observed``: records not in the journal
    (what the board shows that no shiftdeck journaled), folded into the episodes but never
    counted as the engineer's actions."""
    records = list(records)
    all_episodes = episodes([*records, *observed])
    overlapping = [e for e in all_episodes
                   if e.start <= until and (e.ended is None or e.ended >= since)]
    started = [e for e in overlapping if since <= e.start <= until]
    by_level: dict[str, int] = {}
    names: dict[str, int] = {}
    for e in started:
        by_level[e.level] = by_level.get(e.level, 0) + 1
        names[e.alertname] = names.get(e.alertname, 0) + 1
    ttas = [e.time_to_ack for e in overlapping
            if e.acked is not None and since <= e.acked <= until and e.time_to_ack is not None]
    ttrs = [e.duration for e in overlapping if not e.muted and e.resolved is not None
            and since <= e.resolved <= until and e.duration is not None]
    acked = unacked = timedelta(0)
    for e in overlapping:
        if e.muted:
            continue
        yes, no = _split(e, since, until)
        acked += yes
        unacked += no
    actions = [g for g in group_actions(records) if since <= g[0].at <= until]
    return ShiftMetrics(
        since=since, until=until,
        alerts_by_level=dict(sorted(by_level.items())),
        incidents=sum(1 for e in started if e.level in incident_levels and not e.muted),
        mtta=_mean(ttas), mttr=_mean(ttrs),
        noisiest=sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[:10],
        acked_time=acked, unacked_time=unacked,
        actions=len(actions),
        episodes=tuple(overlapping),
    )


def _mean(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    total = sum((v.total_seconds() for v in values), 0.0)
    return timedelta(seconds=round(total / len(values)))


def _split(e: Episode, since: datetime, until: datetime) -> tuple[timedelta, timedelta]:
    """(acknowledged, unacknowledged) time of the episode inside [since, until]."""
    lo = max(e.start, since)
    hi = min(e.ended or until, until)
    if hi <= lo:
        return timedelta(0), timedelta(0)
    acked = timedelta(0)
    for start, end in e.acked_spans:
        a, b = max(start, lo), min(end or hi, hi)
        if b > a:
            acked += b - a
    return acked, (hi - lo) - acked


# --------------------------------------------------------------------------- #
# Folding records into episodes
# --------------------------------------------------------------------------- #


@dataclass
class _Building:
    fingerprint: str
    alertname: str
    level: str
    started: datetime | None
    seen: datetime
    muted: bool = False
    acked: datetime | None = None
    acked_by: str = ""
    resolved: datetime | None = None
    ended: datetime | None = None
    spans: list[list[datetime | None]] = field(default_factory=list)
    escalations: list[EscalationStep] = field(default_factory=list)
    seen_at_start: bool = False

    def same_firing(self, starts: datetime | None) -> bool:
        return starts is None or self.started is None or self.started == starts

    def learn(self, record: Record, starts: datetime | None) -> None:
        self.started = self.started or starts
        self.alertname = self.alertname or record.alertname
        self.level = self.level or record.level

    def escalated(self, record: Escalated) -> None:
        if any(e.level == record.to_level and e.person == record.person
               for e in self.escalations):
            return  # told twice (two shiftdecks on one journal)
        self.escalations.append(EscalationStep(record.at, record.to_level, record.person,
                                               record.notify))

    def ack(self, record: Record) -> None:
        if self.acked is None:
            self.acked, self.acked_by = record.at, record.user
        self.muted = False
        if not self.spans or self.spans[-1][1] is not None:
            self.spans.append([record.at, None])

    def unack(self, at: datetime) -> None:
        if self.spans and self.spans[-1][1] is None:
            self.spans[-1][1] = max(at, self.spans[-1][0])  # type: ignore[type-var]

    def close(self, at: datetime, resolved: bool) -> None:
        self.unack(at)
        self.ended = at
        if resolved:
            self.resolved = at

    def frozen(self) -> Episode:
        return Episode(self.fingerprint, self.alertname, self.level, self.started, self.seen,
                       self.acked, self.acked_by, self.resolved, self.ended, self.muted,
                       tuple((s[0], s[1]) for s in self.spans),  # type: ignore[misc]
                       tuple(sorted(self.escalations, key=lambda e: e.at)),
                       self.seen_at_start)


def episodes(records: Iterable[Record]) -> list[Episode]:
    """Every firing the records tell of, in order of start (then fingerprint)."""
    folder = _Folder()
    for record in sorted(records, key=lambda r: r.at):
        folder.fold(record)
    result = [b.frozen() for b in folder.finished]
    result.sort(key=lambda e: (e.start, e.fingerprint))
    return result


class _Folder:
    """Folds records, oldest first, into episodes: per fingerprint the open firing and the
    last closed one (a firing told twice, or back after a blink, is the same episode)."""

    def __init__(self) -> None:
        self.open: dict[str, _Building] = {}
        self.closed: dict[str, _Building] = {}
        self.finished: list[_Building] = []
        self.ack_silences: dict[str, str] = {}

    def fold(self, record: Record) -> None:
        fp = record.fingerprint
        if isinstance(record, SilenceExpired) or (isinstance(record, Unacked) and not fp):
            # Expiring an ACK! silence un-acknowledges its alert; other silences do not.
            fp = next((self.ack_silences[s] for s in record.silence_ids
                       if s in self.ack_silences), "")
        if not fp:
            return
        if isinstance(record, AlertFired):
            self.fired(fp, record)
        elif isinstance(record, AlertResolved):
            self.resolved(fp, record)
        elif isinstance(record, (Acked, Escalated)):
            self.acked_or_escalated(fp, record)
        elif isinstance(record, (Unacked, SilenceExpired)) and fp in self.open:
            self.open[fp].unack(record.at)

    def fired(self, fp: str, record: AlertFired) -> None:
        starts, episode = record.starts_at, self.open.get(fp)
        if episode is not None and episode.same_firing(starts):
            episode.learn(record, starts)
            return
        if episode is not None:  # a new startsAt: the last firing ended unseen
            episode.close(starts or record.at, resolved=False)
            del self.open[fp]
        last = self.closed.get(fp)
        if last is not None and starts is not None and last.started == starts:
            last.resolved = last.ended = None  # the same firing is back (a source blinked)
            self.open[fp] = self.closed.pop(fp)
            return
        building = _Building(fp, record.alertname, record.level, starts, record.at,
                             muted=record.state in MUTED_STATES,
                             seen_at_start=record.seen_at_start)
        self.open[fp] = building
        self.finished.append(building)

    def resolved(self, fp: str, record: AlertResolved) -> None:
        starts, episode = record.starts_at, self.open.get(fp)
        if episode is not None and episode.same_firing(starts):
            episode.learn(record, starts)
            episode.close(record.at, resolved=True)
            self.closed[fp] = self.open.pop(fp)
            return
        if episode is not None:
            episode.close(starts or record.at, resolved=False)
            del self.open[fp]
        last = self.closed.get(fp)
        if last is not None and last.same_firing(starts):
            return  # told twice
        building = _Building(fp, record.alertname, record.level, starts, record.at)
        building.close(record.at, resolved=True)
        self.closed[fp] = building
        self.finished.append(building)

    def acked_or_escalated(self, fp: str, record: Acked | Escalated) -> None:
        starts, episode = record.starts_at, self.open.get(fp)
        if episode is None:
            last = self.closed.get(fp)
            if last is not None and last.same_firing(starts):
                if isinstance(record, Escalated):
                    last.escalated(record)
                elif last.acked is None:  # acknowledged as it resolved
                    last.acked, last.acked_by = record.at, record.user
                return
            episode = _Building(fp, record.alertname, record.level, starts, record.at)
            self.open[fp] = episode
            self.finished.append(episode)
        episode.learn(record, starts)
        if isinstance(record, Escalated):
            episode.escalated(record)
            return
        episode.ack(record)
        for silence in record.silence_ids:
            self.ack_silences[silence] = fp
