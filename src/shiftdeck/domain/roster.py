"""Who is on call: people, rotations that hand off at a fixed local time, overrides, and shifts
read from iCalendar feeds. Pure: times in, people out.

Precedence for a role at an instant: an override covering it, else an ICS shift, else the
rotation. Rotations hand off at the same local wall-clock time across DST changes (Monday 09:00
in Berlin is 07:00 UTC in summer and 08:00 UTC in winter).

Every instant this module returns is an aware datetime in UTC; convert for display. A naive
datetime given to a query is read as wall-clock time in the roster's timezone.

A *holding* is one stretch of one source: one turn of a rotation, one override, one ICS shift,
or a coverage gap, cut where a source of higher precedence starts or ends. Consecutive
holdings may name the same person (a one-member rotation hands off to itself every turn).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from types import MappingProxyType
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

DISTANT_PAST = datetime(1970, 1, 1, tzinfo=UTC)
"""Start of a coverage gap that has no known beginning (nothing ever covered the role before)."""
DISTANT_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
"""End of a coverage gap that has no known end (nothing is scheduled after it)."""

DEFAULT_HORIZON = timedelta(weeks=8)
"""How far ahead next_handoff / next_shift_of look by default."""

ICS_MAX_BYTES = 16 << 20
"""Default cap of an ICS feed (file or answer): far more than years of shifts; icalendar
holds a parsed feed in many times its size, so a larger one is refused rather than read."""

_MAX_HOLDINGS = 10_000
"""Safety bound on one timeline (a 1h rotation over a year is 8,760 holdings)."""


def localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in `zone` as an aware UTC instant.

    Ambiguous times (the hour repeated when clocks go back) take the first occurrence (fold=0).
    Times that do not exist (skipped when clocks go forward) move forward by the gap, as zoneinfo
    does with fold=0: 02:30 on the Berlin spring-forward night is 03:30 CEST (01:30 UTC).
    An aware datetime is only converted to UTC.
    """
    if wall.tzinfo is not None:
        return wall.astimezone(UTC)
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    handle: str = ""
    phone: str = ""
    email: str = ""

    @property
    def label(self) -> str:
        """`Alice Ng (@alice)`, or just the name."""
        return f"{self.name} ({self.handle})" if self.handle else self.name


@dataclass(frozen=True, slots=True)
class Rotation:
    role: str
    members: tuple[str, ...]
    """Person ids, in rotation order. Never empty (the config refuses an empty rotation)."""
    start: datetime
    """A handoff instant, naive, as wall-clock time in `timezone`."""
    length: timedelta
    """Positive. Added to the *wall-clock* time: a 1w rotation hands off at the same local
    time every week, so a turn spanning a DST change is an hour shorter or longer."""
    timezone: ZoneInfo

    def handoff(self, k: int) -> datetime:
        """Handoff k (any integer, negative before `start`): `start + k*length` local, in UTC."""
        return localize(self.start.replace(tzinfo=None) + k * self.length, self.timezone)

    def turn_at(self, at: datetime) -> int:
        """The k with handoff(k) <= at < handoff(k+1)."""
        at = at.astimezone(UTC)
        k = (at - self.handoff(0)) // self.length  # off by at most a DST offset's worth
        while self.handoff(k) > at:
            k -= 1
        while self.handoff(k + 1) <= at:
            k += 1
        return k

    def member(self, k: int) -> str:
        """Who holds turn k."""
        return self.members[k % len(self.members)]


@dataclass(frozen=True, slots=True)
class Shift:
    """One person holding one role over [start, end) (aware datetimes). From overrides or ICS."""

    role: str
    person: str
    """A person id (a key of Roster.people)."""
    start: datetime
    end: datetime
    source: str = ""
    """'override', or the ICS feed's name."""


@dataclass(frozen=True, slots=True)
class Holding:
    role: str
    person: Person | None
    """None: nobody covers the role then (a coverage gap)."""
    start: datetime
    """UTC. DISTANT_PAST for a gap with no known beginning."""
    end: datetime
    """UTC, exclusive. DISTANT_FUTURE for a gap with no known end."""
    source: str
    """'rotation', 'override', the ICS feed's name, or '' for a gap."""

    @property
    def is_gap(self) -> bool:
        return self.person is None


@dataclass(frozen=True, slots=True)
class IcsFeed:
    """An iCalendar feed of shifts (PagerDuty, Grafana OnCall, Opsgenie, GoAlert exports).

    Events without a level prefix, or with `[L1]`, are shifts of `role`; an event whose SUMMARY
    starts with `[L2]`, `[L3]`... (Grafana OnCall's priority levels) is a shift of
    `levels["L2"]`..., or of `<role>-L2`... when `levels` does not name it.
    """

    role: str
    """The role the feed's (L1) shifts hold."""
    url: str = field(default="", repr=False)
    """http(s) URL (webcal:// is read as https://). Often carries a secret token: never shown."""
    file: str = ""
    """Or a local .ics file (absolute path)."""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Extra request headers (e.g. Authorization). Never shown."""
    refresh: timedelta = timedelta(hours=1)
    """How often the app fetches it again."""
    timeout: timedelta = timedelta(seconds=10)
    """Deadline of one fetch, from connect to the last byte (redirects included)."""
    levels: Mapping[str, str] = field(default_factory=dict)
    """`L2` → role, for Grafana OnCall `[L2]` events."""
    name: str = ""
    """Shown as the source of its shifts; default: the file's name or the URL's host."""
    max_bytes: int = ICS_MAX_BYTES
    """Largest feed read (file or answer); a larger one is an error, the cached copy is used."""

    def __post_init__(self) -> None:
        for key in ("headers", "levels"):
            value = getattr(self, key)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, key, MappingProxyType(dict(value)))
        if not self.name:
            default = (PurePath(self.file).name if self.file
                       else urlsplit(self.url).hostname or "ics")
            object.__setattr__(self, "name", default)

    def role_for(self, level: int | None) -> str:
        """The role of an event with prefix `[L<level>]` (None or 1: no prefix / L1)."""
        key = f"L{level or 1}"
        if key in self.levels:
            return self.levels[key]
        return self.role if key == "L1" else f"{self.role}-{key}"

    def roles(self) -> tuple[str, ...]:
        """The roles this feed is known to fill: `role` and those `levels` names."""
        return tuple(dict.fromkeys((self.role, *self.levels.values())))


@dataclass(frozen=True, slots=True)
class _Piece:
    """The source segment that wins at an instant, before cutting by other sources."""

    key: tuple[object, ...]
    person: str
    start: datetime
    end: datetime
    source: str


@dataclass(frozen=True, slots=True)
class Roster:
    people: dict[str, Person]
    rotations: tuple[Rotation, ...] = ()
    """At most one per role (the first one wins if several are given)."""
    overrides: tuple[Shift, ...] = ()
    shifts: tuple[Shift, ...] = ()
    """From ICS feeds (already expanded). Where shifts of one role overlap, the one that started
    last wins."""
    timezone: ZoneInfo = ZoneInfo("UTC")
    """The config's zone: naive query times are read in it."""
    declared_roles: tuple[str, ...] = ()
    """Roles known before any shift arrives (the roles of configured ICS feeds)."""
    _rotation: dict[str, Rotation] = field(default_factory=dict, init=False, compare=False,
                                           repr=False)
    _overrides: dict[str, tuple[Shift, ...]] = field(default_factory=dict, init=False,
                                                     compare=False, repr=False)
    _shifts: dict[str, tuple[Shift, ...]] = field(default_factory=dict, init=False,
                                                  compare=False, repr=False)

    def __post_init__(self) -> None:
        for rotation in self.rotations:
            self._rotation.setdefault(rotation.role, rotation)
        for index, layer in ((self._overrides, self.overrides), (self._shifts, self.shifts)):
            by_role: dict[str, list[Shift]] = {}
            for shift in layer:
                shift = replace(shift, start=localize(shift.start, self.timezone),
                                end=localize(shift.end, self.timezone))
                if shift.end > shift.start:
                    by_role.setdefault(shift.role, []).append(shift)
            index.update({role: tuple(sorted(s, key=lambda x: x.start))
                          for role, s in by_role.items()})

    # -- queries ----------------------------------------------------------------------------

    def roles(self) -> tuple[str, ...]:
        """Every role, in order of first appearance (rotations, then overrides, then ICS)."""
        names = [r.role for r in self.rotations] + [s.role for s in self.overrides]
        names += list(self.declared_roles) + [s.role for s in self.shifts]
        return tuple(dict.fromkeys(names))

    def holding(self, role: str, at: datetime) -> Holding:
        """Who holds `role` at `at` and for how long (start/end of that stretch).

        The stretch is the winning source's segment (a rotation turn, an override, an ICS shift)
        cut where a source of higher precedence takes over. Outside every source it is a
        coverage gap (person None) between the nearest shifts or overrides.
        """
        at = self._instant(at)
        piece = self._pick(role, at)
        if piece is None:
            bounds = [t for s in self._finite(role) for t in (s.start, s.end)]
            return Holding(role, None, max((t for t in bounds if t <= at), default=DISTANT_PAST),
                           min((t for t in bounds if t > at), default=DISTANT_FUTURE), "")
        cuts = sorted({t for s in self._finite(role) for t in (s.start, s.end)
                       if piece.start < t < piece.end})
        edges = [piece.start, *cuts, piece.end]
        i = max(j for j in range(len(edges) - 1) if edges[j] <= at)
        lo = i
        while lo > 0 and self._pick(role, edges[lo - 1]) == piece:
            lo -= 1
        hi = i + 1
        while hi < len(edges) - 1 and self._pick(role, edges[hi]) == piece:
            hi += 1
        return Holding(role, self._person(piece.person), edges[lo], edges[hi], piece.source)

    def holder(self, role: str, at: datetime) -> Person | None:
        return self.holding(role, at).person

    def resolve(self, target: str, at: datetime) -> Person | None:
        """A role's holder at `at`, or the person with that id (escalation targets are either).

        A name that is both a role and a person id means the role (the config refuses that
        ambiguity in escalation targets).
        """
        if target in self.roles():
            return self.holder(target, at)
        return self.people.get(target)

    def timeline(self, role: str, start: datetime, end: datetime) -> tuple[Holding, ...]:
        """Consecutive holdings covering [start, end); gaps appear with person None.

        Holdings keep their real bounds: the first may start before `start` and the last end
        after `end`.
        """
        t, stop = self._instant(start), self._instant(end)
        holdings: list[Holding] = []
        while t < stop and len(holdings) < _MAX_HOLDINGS:
            holding = self.holding(role, t)
            holdings.append(holding)
            if holding.end <= t:  # cannot happen: a holding contains the instant asked about
                break
            t = holding.end
        return tuple(holdings)

    def next_handoff(self, role: str, after: datetime,
                     horizon: timedelta | None = None) -> Holding | None:
        """The next holding of `role` that starts after `after` with a different person.

        A coverage gap counts (person None): the role is handed to nobody. Looks `horizon` ahead
        (default: 8 weeks, or two turns of the role's rotation if longer); None if nothing
        changes in that time (a one-member rotation, say).
        """
        after = self._instant(after)
        if horizon is None:
            rotation = self._rotation.get(role)
            horizon = DEFAULT_HORIZON if rotation is None else max(DEFAULT_HORIZON,
                                                                   2 * rotation.length)
        limit = after + horizon
        current = self.holding(role, after)
        who = _id(current.person)
        t = current.end
        while t < limit and t < DISTANT_FUTURE:
            holding = self.holding(role, t)
            if _id(holding.person) != who:
                return holding
            t = holding.end
        return None

    def next_shift_of(self, person_id: str, after: datetime,
                      horizon: timedelta = DEFAULT_HORIZON) -> Holding | None:
        """The person's next holding of any role starting after `after` (or the current one).

        A current holding wins over a future one (the earliest-started if several). `person_id`
        may also be a name, handle or e-mail (as `find_person` matches them), so `user` from the
        config works whether it is an id or a handle.
        """
        after = self._instant(after)
        person = self.people.get(person_id) or find_person(self.people, person_id)
        if person is None:
            return None
        current: list[Holding] = []
        future: list[Holding] = []
        for role in self.roles():
            for holding in self.timeline(role, after, after + horizon):
                if _id(holding.person) == person.id:
                    (current if holding.start <= after else future).append(holding)
                    break
        pool = current or future
        return min(pool, key=lambda h: h.start) if pool else None

    def find(self, text: str) -> Person | None:
        """The person `text` names: id, name, handle or e-mail (see find_person)."""
        return find_person(self.people, text)

    # -- internals --------------------------------------------------------------------------

    def _instant(self, at: datetime) -> datetime:
        return localize(at, self.timezone)

    def _finite(self, role: str) -> tuple[Shift, ...]:
        return self._overrides.get(role, ()) + self._shifts.get(role, ())

    def _pick(self, role: str, at: datetime) -> _Piece | None:
        for kind, layer in (("override", self._overrides), ("ics", self._shifts)):
            best: tuple[int, Shift] | None = None
            for i, shift in enumerate(layer.get(role, ())):
                if shift.start > at:
                    break  # sorted by start
                if at < shift.end and (best is None or shift.start > best[1].start):
                    best = (i, shift)
            if best is not None:
                i, shift = best
                return _Piece((kind, i), shift.person, shift.start, shift.end,
                              shift.source or kind)
        rotation = self._rotation.get(role)
        if rotation is None:
            return None
        k = rotation.turn_at(at)
        return _Piece(("rotation", k), rotation.member(k), rotation.handoff(k),
                      rotation.handoff(k + 1), "rotation")

    def _person(self, person_id: str) -> Person:
        return self.people.get(person_id) or Person(person_id, person_id)


def _id(person: Person | None) -> str | None:
    return person.id if person else None


def coalesce(holdings: Iterable[Holding]) -> tuple[Holding, ...]:
    """Adjacent holdings with the same person and source joined into one: a line per real
    handoff (a one-member rotation becomes one stretch). For display."""
    joined: list[Holding] = []
    for holding in holdings:
        last = joined[-1] if joined else None
        if (last is not None and last.end == holding.start and last.source == holding.source
                and _id(last.person) == _id(holding.person)):
            joined[-1] = replace(last, end=holding.end)
        else:
            joined.append(holding)
    return tuple(joined)


def with_shifts(roster: Roster, shifts: Iterable[Shift]) -> Roster:
    """The roster with these ICS shifts (replacing any it had): what the app builds after each
    feed refresh. Rotations, overrides and people stay."""
    return replace(roster, shifts=tuple(shifts))


# --------------------------------------------------------------------------- #
# Naming people
# --------------------------------------------------------------------------- #

_SEPARATORS = re.compile(r"\s*[|:]\s*|\s+[-–—/]\s+|[,;()\[\]<>\n]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLE = re.compile(r"(?<![\w.])@[\w.-]+")
_AMBIGUOUS = Person("", "")


def _norm(text: str) -> str:
    text = text.strip().strip("\"'").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return " ".join(text.split()).casefold()


def _index(people: Mapping[str, Person]) -> dict[str, Person]:
    """Normalised id, name, handle (with and without @) and e-mail → person; a key two people
    share maps to _AMBIGUOUS."""
    index: dict[str, Person] = {}
    for person in people.values():
        keys = {person.id, person.name, person.handle, person.handle.lstrip("@"), person.email}
        for key in filter(None, (_norm(k) for k in keys)):
            seen = index.get(key)
            index[key] = person if seen is None or seen is person else _AMBIGUOUS
    return index


def find_person(people: Mapping[str, Person], text: str) -> Person | None:
    """The person `text` is exactly (case-insensitive): id, name, handle (with or without @) or
    e-mail (a `mailto:` prefix is ignored). None if nobody, or if two people share that key."""
    found = _index(people).get(_norm(text))
    return None if found is None or found is _AMBIGUOUS else found


def person_in_text(people: Mapping[str, Person], text: str) -> Person | None:
    """The one person a free text names, e.g. an ICS SUMMARY `On Call - Alice Ng - Primary`.

    Tries, in order: the whole text; each part between separators (` - `, `|`, `:`, commas,
    brackets); e-mail addresses; @handles; and finally names, handles, e-mails and ids (3+
    characters) appearing as whole words. The last step only answers if exactly one person
    appears. None when the text names nobody (or is ambiguous).
    """
    if not text or not text.strip():
        return None
    index = _index(people)

    def look(candidate: str) -> Person | None:
        found = index.get(_norm(candidate))
        return None if found is _AMBIGUOUS else found

    candidates = [text, *_SEPARATORS.split(text), *_EMAIL.findall(text), *_HANDLE.findall(text)]
    for candidate in candidates:
        if candidate and (found := look(candidate)):
            return found
    folded = " ".join(text.split()).casefold()
    hits = {}
    for key, person in index.items():
        if person is _AMBIGUOUS or (key == person.id.casefold() and len(key) < 3):
            continue
        if re.search(rf"(?<![\w@.]){re.escape(key)}(?![\w@]|\.\w)", folded):
            hits[person.id] = person
    return next(iter(hits.values())) if len(hits) == 1 else None

