"""The shift journal: what shiftdeck did or saw, one typed record at a time. Pure: no files
here (``sources.journal`` writes and reads them).

One frozen dataclass per kind of record, all sharing ``Record``'s fields (``at``, ``user``,
``alert``: an ``AlertRef`` when the record is about one alert, ``text``):

=================  ===================  ====================================================
kind               class                its own fields (``text`` holds)
=================  ===================  ====================================================
firing             ``AlertFired``       ``state``, ``seen_at_start`` (the summary)
resolved           ``AlertResolved``    (the summary)
escalated          ``Escalated``        ``to_level`` (``"L2"``), ``notify``, ``person``
ack                ``Acked``            ``silences``, ``duration`` (the ack's note)
unack              ``Unacked``          ``silence``, ``matchers`` (the silence's comment)
silence_created    ``SilenceCreated``   ``silences``, ``matchers``, ``duration`` (the comment)
silence_extended   ``SilenceExtended``  ``silence``, ``ends_at`` (the comment)
silence_expired    ``SilenceExpired``   ``silence``, ``matchers`` (the comment)
command            ``CommandRun``       ``argv``, ``exit_code``, ``duration`` (the line)
note               ``NoteAdded``        (the note)
status_update      ``StatusUpdate``     ``status``, ``impact``, ``next_update`` (the update)
pager_ack          ``PagerAcked``       ``incident``, ``number``, ``pager`` (the title)
pager_resolve      ``PagerResolved``    ``incident``, ``number``, ``pager`` (the title)
pager_snooze       ``PagerSnoozed``     ``incident``, ``number``, ``pager``, ``duration``
ack_resolved       ``AckResolved``      ``silence``, ``matchers`` (the silence's comment)
pager_escalate     ``PagerEscalated``   ``incident``, ``number``, ``pager``, ``to_level``,
                                        ``person`` (the title)
=================  ===================  ====================================================

On disk (one JSON object a line, see ``Record.to_json``) the format is the one shiftdeck has
always written: ``at``, ``kind``, ``user``, ``fingerprint``, ``alertname``, ``level`` (the
alert's severity), ``text``, and ``data`` with the kind's own fields and the alert's
``starts_at``; new are ``labels`` (the alert's label set) and, in ``data``, ``seen_at_start``
and the escalation's ``to``. Older lines load: missing fields take their empty value, unknown
ones are ignored. An old ``escalated`` line has no ``to`` but a ``step``: the dashboard wrote
the rung's 1-based number there (L2 as ``step: 2``, which older readers showed as "L3"), and
nothing else ever wrote one, so ``step: n`` reads as level ``Ln`` (n < 1: the level is
unknown).

Every string in a record is sanitised (``sanitize.clean``) when the record is made, whether it
was typed, came from an alert or was read back from disk.
"""

from __future__ import annotations

import shlex
from bisect import insort
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, tzinfo
from enum import Enum, StrEnum
from pathlib import PurePath
from types import MappingProxyType
from typing import Any, ClassVar, Self, TypeVar

from .alerts import Alert, AlertState
from .board import EMPTY_BOARD, Board
from .durations import clock_time, format_duration
from .matchers import Matcher, MatcherError, parse_matchers
from .sanitize import clean, clean_line
from .severity import SeverityLevel


class Kind(StrEnum):
    ACK = "ack"
    UNACK = "unack"
    SILENCE_CREATED = "silence_created"
    SILENCE_EXTENDED = "silence_extended"
    SILENCE_EXPIRED = "silence_expired"
    COMMAND = "command"
    ESCALATED = "escalated"
    FIRING = "firing"
    RESOLVED = "resolved"
    NOTE = "note"
    STATUS_UPDATE = "status_update"
    PAGER_ACK = "pager_ack"
    PAGER_RESOLVE = "pager_resolve"
    PAGER_SNOOZE = "pager_snooze"
    ACK_RESOLVED = "ack_resolved"
    PAGER_ESCALATE = "pager_escalate"


ACTION_KINDS = frozenset({Kind.ACK, Kind.UNACK, Kind.SILENCE_CREATED, Kind.SILENCE_EXTENDED,
                          Kind.SILENCE_EXPIRED, Kind.COMMAND, Kind.STATUS_UPDATE,
                          Kind.PAGER_ACK, Kind.PAGER_RESOLVE, Kind.PAGER_SNOOZE})
"""What the engineer did (the handoff's "actions taken"). Notes have a section of their own;
firing, resolved and escalated are observed, not done."""

ACTIVE_STATES = frozenset({AlertState.FIRING, AlertState.ACKED, AlertState.SILENCED,
                           AlertState.MUTED, AlertState.INHIBITED})
"""Alertmanager considers these firing (silenced and inhibited ones notify nobody)."""

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(at: datetime) -> str:
    """The journal's time format: UTC, microseconds, fixed width, sorts as text.
    ``2026-11-22T14:00:00.000000Z``"""
    if at.tzinfo is None:
        raise ValueError("times in the journal must be timezone-aware")
    return at.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: object) -> datetime:
    """An ISO 8601 time with an offset (or Z), as UTC; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("a time must be text")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time: {text[:40]!r}") from None
    if at.tzinfo is None:
        raise ValueError(f"time without an offset: {text[:40]!r}")
    return at.astimezone(UTC)


def rung_level(index: int) -> str:
    """An escalation rung's level name from its 0-based index (domain.escalation.Rung.index):
    0 → ``"L1"``. The one place an index becomes a level."""
    return f"L{index + 1}"


# --------------------------------------------------------------------------- #
# The records
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class AlertRef:
    """The alert a record is about, and which firing of it."""

    fingerprint: str
    name: str = ""
    level: str = ""
    """Its severity level (``P1``...)."""
    starts_at: datetime | None = None
    """Its startsAt: tells one firing of the alert from the next (None in odd old lines)."""
    labels: tuple[tuple[str, str], ...] = ()
    """Its label set, sorted by name; () in lines written before labels were kept."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("fingerprint", "name", "level"):
            set_(self, name, clean_line(getattr(self, name)))
        set_(self, "starts_at", _aware_or_none(self.starts_at))
        set_(self, "labels", tuple(sorted((clean_line(k, 200), clean_line(v))
                                          for k, v in self.labels)))

    @classmethod
    def of(cls, alert: Alert) -> AlertRef:
        """The reference to an alert. Its strings were cleaned at ingest; when none of them
        holds what a one-line cell still removes (newlines, tabs) or is too long, they are
        taken as they are, without cleaning every label again."""
        labels = alert.labels
        try:
            names, texts = "".join(labels), "".join((alert.fingerprint, alert.level,
                                                     *labels.values()))
            # The joined texts are as long as all of them: when short enough, each one is.
            one_line = (names + texts).isprintable() and (
                (len(names) <= 200 and len(texts) <= 1024)
                or (max(map(len, labels), default=0) <= 200
                    and max(map(len, (alert.fingerprint, alert.level, *labels.values()))) <= 1024))
        except TypeError:  # not text: cleaned below
            one_line = False
        if not one_line:
            return cls(alert.fingerprint, alert.name, alert.level, alert.starts_at,
                       tuple(labels.items()))
        ref = object.__new__(cls)
        set_ = object.__setattr__
        set_(ref, "fingerprint", alert.fingerprint)
        set_(ref, "name", alert.name)
        set_(ref, "level", alert.level)
        set_(ref, "starts_at", _aware_or_none(alert.starts_at))
        set_(ref, "labels", tuple(sorted(labels.items())))
        return ref


@dataclass(frozen=True, slots=True)
class Record:
    """What every record has; each kind of record is a subclass (see the module docstring).
    Strings are sanitised and times made UTC when a record is made."""

    kind: ClassVar[Kind]
    at: datetime
    """When it happened: aware (converted to UTC)."""
    user: str
    """Who did it, or for observed events who was watching (the config's ``user``)."""
    alert: AlertRef | None = None
    """The alert it is about; None for a record about no single alert."""
    text: str = ""
    """A note's text, a status update's body, a command line, a silence's comment..."""

    def __post_init__(self) -> None:
        if type(self) is Record:
            raise TypeError("Record is the base of the journal's records: make one of its kinds")
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise ValueError(f"{type(self).__name__}.at must be a timezone-aware datetime")
        for f in fields(self):
            value = getattr(self, f.name)
            normal = _normalised(f.name, value)
            if normal is not value:
                object.__setattr__(self, f.name, normal)

    # -- the alert, for readers that do not care whether there is one ---------------------

    @property
    def fingerprint(self) -> str:
        return self.alert.fingerprint if self.alert is not None else ""

    @property
    def alertname(self) -> str:
        return self.alert.name if self.alert is not None else ""

    @property
    def level(self) -> str:
        """The alert's severity level (not an escalation level: see Escalated.to_level)."""
        return self.alert.level if self.alert is not None else ""

    @property
    def starts_at(self) -> datetime | None:
        return self.alert.starts_at if self.alert is not None else None

    @property
    def silence_ids(self) -> tuple[str, ...]:
        """The silences the record names."""
        return ()

    @property
    def data(self) -> Mapping[str, Any]:
        """Compatibility: the kind's fields as the on-disk ``data`` object (read-only, lists
        as tuples). New code reads the typed fields."""
        return _plain(self._json_data())

    # -- JSON -------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data, ``at`` first (readers skip old lines by its prefix); empty fields
        are left out."""
        obj: dict[str, Any] = {"at": format_time(self.at), "kind": self.kind.value,
                               "user": self.user}
        ref = self.alert
        if ref is not None:
            for key, value in (("fingerprint", ref.fingerprint), ("alertname", ref.name),
                               ("level", ref.level)):
                if value:
                    obj[key] = value
            if ref.labels:
                obj["labels"] = dict(ref.labels)
        if self.text:
            obj["text"] = self.text
        data = self._json_data()
        if data:
            obj["data"] = data
        return obj

    @classmethod
    def from_json(cls, obj: object, pool: ReadPool | None = None) -> Record:
        """A record of the kind the object names, from parsed JSON (today's lines and every
        older shape: see the module docstring); ValueError saying what is wrong with its
        shape. Unknown keys are ignored (a newer shiftdeck may add some). Records read with
        one `pool` share their equal strings and times."""
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        if pool is not None:
            obj = pool.shared(obj)
        for key in ("at", "kind", "user"):
            if key not in obj:
                raise ValueError(f"missing {key!r}")
        try:
            kind = Kind(obj["kind"])
        except ValueError:
            raise ValueError(f"unknown kind {clean_line(obj['kind'], 40)!r}") from None
        texts = {}
        for key in ("user", "fingerprint", "alertname", "level", "text"):
            value = obj.get(key, "")
            if not isinstance(value, str):
                raise ValueError(f"{key!r} must be text")
            texts[key] = value
        data = obj.get("data", {})
        if not isinstance(data, dict):
            raise ValueError("'data' must be an object")
        labels = obj.get("labels", {})
        if not isinstance(labels, dict):
            raise ValueError("'labels' must be an object")
        parse = pool.time if pool is not None else parse_time
        ref = _ref(texts["fingerprint"], texts["alertname"], texts["level"], data, labels, parse)
        made = RECORD_TYPES[kind].from_data(parse(obj["at"]), texts["user"], ref, texts["text"],
                                            data)
        if cls is not Record and not isinstance(made, cls):
            raise ValueError(f"a {kind.value} record, not {cls.kind.value}")
        return made

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        """The record from its common fields and its kind's ``data`` (tolerant: a field
        missing or of the wrong type takes its empty value)."""
        return cls(at, user, alert, text)

    def _json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.alert is not None and self.alert.starts_at is not None:
            data["starts_at"] = format_time(self.alert.starts_at)
        data.update(_compact(self._own_json()))
        return data

    def _own_json(self) -> dict[str, Any]:
        """The kind's own fields as JSON values (empty ones are left out)."""
        return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertFired(Record):
    """An alert seen firing (silenced and inhibited count, as in Alertmanager). ``text``: its
    summary."""

    kind: ClassVar[Kind] = Kind.FIRING
    state: str = AlertState.FIRING.value
    """firing, acked, silenced, muted or inhibited, as first seen."""
    seen_at_start: bool = False
    """Already firing when shiftdeck started: ``at`` is when it was first seen, its startsAt
    when it fired."""

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        return cls(at, user, alert, text, state=_text(data, "state") or "firing",
                   seen_at_start=data.get("seen_at_start") is True)

    def _own_json(self) -> dict[str, Any]:
        return {"state": self.state, "seen_at_start": self.seen_at_start}


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertResolved(Record):
    """A firing alert seen resolved; ``at`` is when it resolved. ``text``: its summary."""

    kind: ClassVar[Kind] = Kind.RESOLVED


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalated(Record):
    """The alert reached a level of its ladder: ``person`` holding ``notify`` is paged.
    ``user`` is who was watching."""

    kind: ClassVar[Kind] = Kind.ESCALATED
    to_level: str = ""
    """The level reached, by name: ``"L2"`` ('' when an old line did not say)."""
    notify: str = ""
    """The rung's target: a role or a person id."""
    person: str = ""
    """Who was paged ('' when nobody held the role)."""

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        level = _text(data, "to") or _legacy_step_level(data.get("step"))
        return cls(at, user, alert, text, to_level=level, notify=_text(data, "notify"),
                   person=_text(data, "person"))

    def _own_json(self) -> dict[str, Any]:
        return {"to": self.to_level, "notify": self.notify, "person": self.person}


@dataclass(frozen=True, slots=True, kw_only=True)
class Acked(Record):
    """An alert acknowledged: ``silences`` are its ACK! silences. ``text``: the ack's note
    (``group ack`` for a group's)."""

    kind: ClassVar[Kind] = Kind.ACK
    silences: tuple[str, ...] = ()
    duration: timedelta | None = None

    @property
    def silence_ids(self) -> tuple[str, ...]:
        return self.silences

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        return cls(at, user, alert, text, silences=_ids(data),
                   duration=_seconds(data.get("duration")))

    def _own_json(self) -> dict[str, Any]:
        return {"silences": list(self.silences), "duration": _json_seconds(self.duration)}


@dataclass(frozen=True, slots=True, kw_only=True)
class _SilenceEnded(Record):
    """One silence expired (the shape Unacked and SilenceExpired share)."""

    silence: str = ""
    matchers: tuple[str, ...] = ()

    @property
    def silence_ids(self) -> tuple[str, ...]:
        return (self.silence,) if self.silence else ()

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        return cls(at, user, alert, text, silence=_first(_ids(data)),
                   matchers=_texts(data, "matchers"))

    def _own_json(self) -> dict[str, Any]:
        return {"silence": self.silence, "matchers": list(self.matchers)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Unacked(_SilenceEnded):
    """An ACK! silence expired: its alert is no longer acknowledged. ``text``: its comment."""

    kind: ClassVar[Kind] = Kind.UNACK


@dataclass(frozen=True, slots=True, kw_only=True)
class SilenceCreated(Record):
    """A silence written (one id per Alertmanager cluster). ``text``: its comment."""

    kind: ClassVar[Kind] = Kind.SILENCE_CREATED
    silences: tuple[str, ...] = ()
    matchers: tuple[str, ...] = ()
    duration: timedelta | None = None

    @property
    def silence_ids(self) -> tuple[str, ...]:
        return self.silences

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        return cls(at, user, alert, text, silences=_ids(data),
                   matchers=_texts(data, "matchers"), duration=_seconds(data.get("duration")))

    def _own_json(self) -> dict[str, Any]:
        return {"silences": list(self.silences), "matchers": list(self.matchers),
                "duration": _json_seconds(self.duration)}


@dataclass(frozen=True, slots=True, kw_only=True)
class SilenceExtended(Record):
    """A silence extended to ``ends_at``, keeping its id. ``text``: its comment."""

    kind: ClassVar[Kind] = Kind.SILENCE_EXTENDED
    silence: str = ""
    ends_at: datetime | None = None

    @property
    def silence_ids(self) -> tuple[str, ...]:
        return (self.silence,) if self.silence else ()

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        return cls(at, user, alert, text, silence=_first(_ids(data)),
                   ends_at=_time(data.get("ends_at")))

    def _own_json(self) -> dict[str, Any]:
        return {"silence": self.silence,
                "ends_at": format_time(self.ends_at) if self.ends_at else None}


@dataclass(frozen=True, slots=True, kw_only=True)
class SilenceExpired(_SilenceEnded):
    """A silence (not an ACK!) expired. ``text``: its comment."""

    kind: ClassVar[Kind] = Kind.SILENCE_EXPIRED


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRun(Record):
    """A runbook command run. ``text``: its command line."""

    kind: ClassVar[Kind] = Kind.COMMAND
    argv: tuple[str, ...] = ()
    exit_code: int | None = None
    """None: it could not be started or was killed."""
    duration: timedelta | None = None

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        code = data.get("exit_code")
        return cls(at, user, alert, text, argv=_texts(data, "argv"),
                   exit_code=code if isinstance(code, int) and not isinstance(code, bool)
                   else None, duration=_seconds(data.get("duration")))

    def _own_json(self) -> dict[str, Any]:
        return {"argv": list(self.argv), "exit_code": self.exit_code,
                "duration": _json_seconds(self.duration)}


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteAdded(Record):
    """A note on an alert. ``text``: the note."""

    kind: ClassVar[Kind] = Kind.NOTE


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusUpdate(Record):
    """A status update composed (and copied) for an alert. ``text``: the whole update."""

    kind: ClassVar[Kind] = Kind.STATUS_UPDATE
    status: str = ""
    """Investigating, Identified, Monitoring or Resolved."""
    impact: str = ""
    next_update: datetime | None = None

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        return cls(at, user, alert, text, status=_text(data, "status"),
                   impact=_text(data, "impact"), next_update=_time(data.get("next_update")))

    def _own_json(self) -> dict[str, Any]:
        return {"status": self.status, "impact": self.impact,
                "next_update": format_time(self.next_update) if self.next_update else None}


@dataclass(frozen=True, slots=True, kw_only=True)
class PagerAcked(Record):
    """A PagerDuty incident acknowledged (with the alert it pages for, if any). ``text``: the
    incident's title."""

    kind: ClassVar[Kind] = Kind.PAGER_ACK
    incident: str = ""
    """PagerDuty's incident id (``PT4KHLK``)."""
    number: int | None = None
    """Its incident number (``#1234``)."""
    pager: str = ""
    """The name of the pagerduty entry written to."""

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        return cls(at, user, alert, text, incident=_text(data, "incident"),
                   number=_count(data.get("number")), pager=_text(data, "pager"))

    def _own_json(self) -> dict[str, Any]:
        return {"incident": self.incident, "number": self.number, "pager": self.pager}


@dataclass(frozen=True, slots=True, kw_only=True)
class PagerResolved(PagerAcked):
    """A PagerDuty incident resolved. ``text``: the incident's title."""

    kind: ClassVar[Kind] = Kind.PAGER_RESOLVE


@dataclass(frozen=True, slots=True, kw_only=True)
class PagerSnoozed(PagerAcked):
    """A PagerDuty incident snoozed for ``duration``. ``text``: the incident's title."""

    kind: ClassVar[Kind] = Kind.PAGER_SNOOZE
    duration: timedelta | None = None

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        return cls(at, user, alert, text, incident=_text(data, "incident"),
                   number=_count(data.get("number")), pager=_text(data, "pager"),
                   duration=_seconds(data.get("duration")))

    def _own_json(self) -> dict[str, Any]:
        return {"incident": self.incident, "number": self.number, "pager": self.pager,
                "duration": _json_seconds(self.duration)}


@dataclass(frozen=True, slots=True, kw_only=True)
class AckResolved(_SilenceEnded):
    """An ACK! silence ended by shiftdeck because every alert it acknowledged resolved
    (``ack.until_resolved``). ``text``: its comment."""

    kind: ClassVar[Kind] = Kind.ACK_RESOLVED


@dataclass(frozen=True, slots=True, kw_only=True)
class PagerEscalated(PagerAcked):
    """PagerDuty escalated an incident (with the alert it pages for, if any): its escalate
    action passed and it is assigned to someone else. ``at``: that action's time; ``user``:
    who was watching; ``text``: the incident's title."""

    kind: ClassVar[Kind] = Kind.PAGER_ESCALATE
    to_level: str = ""
    """The escalation level reached, ``"L2"`` ('' when /oncalls did not tell)."""
    person: str = ""
    """Who PagerDuty assigned it to (their PagerDuty names)."""

    @classmethod
    def from_data(cls, at: datetime, user: str, alert: AlertRef | None, text: str,
                  data: Mapping[str, Any]) -> Self:
        return cls(at, user, alert, text, incident=_text(data, "incident"),
                   number=_count(data.get("number")), pager=_text(data, "pager"),
                   to_level=_text(data, "to"), person=_text(data, "person"))

    def _own_json(self) -> dict[str, Any]:
        return {**PagerAcked._own_json(self), "to": self.to_level, "person": self.person}


RECORD_TYPES: Mapping[Kind, type[Record]] = MappingProxyType({
    t.kind: t for t in (AlertFired, AlertResolved, Escalated, Acked, Unacked, SilenceCreated,
                        SilenceExtended, SilenceExpired, CommandRun, NoteAdded, StatusUpdate,
                        PagerAcked, PagerResolved, PagerSnoozed, AckResolved, PagerEscalated)})
"""The class of each kind."""


# --------------------------------------------------------------------------- #
# Normalising and decoding fields
# --------------------------------------------------------------------------- #


def _normalised(name: str, value: Any) -> Any:
    """A field's value as records keep it: sanitised text (``text`` may span lines), tuples
    of one-line text, UTC times."""
    if isinstance(value, str):
        return clean(value) if name == "text" else clean_line(value)
    if isinstance(value, (tuple, list)):
        return tuple(clean_line(v) for v in value)
    if isinstance(value, datetime):
        return _aware_or_none(value)
    return value


def _aware_or_none(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError("times in journal records must be timezone-aware datetimes")
    return value.astimezone(UTC)


def _ref(fingerprint: str, alertname: str, level: str, data: Mapping[str, Any],
         labels: Mapping[str, Any],
         parse: Callable[[object], datetime] = parse_time) -> AlertRef | None:
    starts = _time(data.get("starts_at"), parse)
    if not (fingerprint or alertname or level or starts or labels):
        return None
    pairs = tuple((str(k), v) for k, v in labels.items() if isinstance(v, str))
    return AlertRef(fingerprint, alertname, level, starts, pairs)


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None or isinstance(value, (Mapping, list, tuple)):
        return ""
    return str(value)


def _texts(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if isinstance(value, str):
        return (value,) if value else ()
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(str(v) for v in value
                 if v is not None and v != "" and not isinstance(v, (Mapping, list, tuple)))


def _ids(data: Mapping[str, Any]) -> tuple[str, ...]:
    """Silence ids, under ``silences`` or ``silence`` (either may be a list or one id)."""
    return tuple(dict.fromkeys(_texts(data, "silences") + _texts(data, "silence")))


def _first(values: tuple[str, ...]) -> str:
    return values[0] if values else ""


def _legacy_step_level(step: object) -> str:
    """An old ``escalated`` line's ``step``: the rung's 1-based number (see the module
    docstring)."""
    if isinstance(step, int) and not isinstance(step, bool) and step >= 1:
        return f"L{step}"
    return ""


def _seconds(value: object) -> timedelta | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        try:
            return timedelta(seconds=value)
        except OverflowError:
            return None
    return None


def _count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _json_seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _time(value: object, parse: Callable[[object], datetime] = parse_time) -> datetime | None:
    try:
        return parse(value)
    except ValueError:
        return None


class ReadPool:
    """One copy of each string and time that the records of one read of the journal share:
    label names, an alert's label values, fingerprint and firing time, a poll's `at`. Read as
    separate copies, the 50k records of a storm's journal kept 102 MiB. Lives as long as the
    read, so it is bounded by what the read returns."""

    __slots__ = ("_texts", "_times")

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._times: dict[str, datetime] = {}

    def time(self, value: object) -> datetime:
        """`parse_time(value)`, parsed once per distinct text."""
        if type(value) is not str:
            return parse_time(value)
        found = self._times.get(value)
        if found is None:
            found = self._times[value] = parse_time(value)
        return found

    def shared(self, obj: dict[str, Any]) -> dict[str, Any]:
        """`obj` with its alert's strings pooled (changed in place: a line's own dict)."""
        pooled = self._texts.setdefault
        for key in ("fingerprint", "alertname", "level", "user", "text"):
            value = obj.get(key)
            if type(value) is str:
                obj[key] = pooled(value, value)
        labels = obj.get("labels")
        if type(labels) is dict:  # JSON's names are text; a value that is not is dropped later
            obj["labels"] = {pooled(k, k): pooled(v, v) if type(v) is str else v
                             for k, v in labels.items()}
        return obj


def _compact(obj: dict[str, Any]) -> dict[str, Any]:
    """Without empty values (None, False, '', empty lists); 0 stays."""
    return {k: v for k, v in obj.items()
            if not (v is None or v is False or (isinstance(v, (str, list, tuple)) and not v))}


def _plain(value: Any) -> Any:
    """A JSON value: sanitised text, numbers, None, tuples, read-only mappings."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime):
        return format_time(value) if value.tzinfo else clean(value.isoformat())
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return clean(str(value))
    if isinstance(value, Mapping):
        return MappingProxyType({clean_line(k, 200): _plain(v) for k, v in value.items()})
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return tuple(_plain(v) for v in items)
    return clean(str(value))


# --------------------------------------------------------------------------- #
# Making records: the compatibility layer
# --------------------------------------------------------------------------- #
# The constructors of the untyped journal, returning typed records, so call sites written
# for ``note(kind, **data)`` keep working while they move to the classes above. New code
# builds the classes directly (``Escalated(at, user, AlertRef.of(alert), to_level="L2")``).


def legacy_record(at: datetime, kind: Kind, user: str, fingerprint: str = "",
                  alertname: str = "", level: str = "", text: str = "",
                  data: Mapping[str, Any] | None = None) -> Record:
    """Compatibility: a record from the untyped journal's fields, ``data`` read as an old
    line's (an ``escalated`` ``step`` is the rung's 1-based number)."""
    plain = _plain(dict(data or {}))
    ref = _ref(clean_line(fingerprint), clean_line(alertname), clean_line(level), plain, {})
    return RECORD_TYPES[Kind(kind)].from_data(_aware(at), user, ref, text, plain)


def alert_record(kind: Kind, alert: Alert, user: str, at: datetime, text: str = "",
                 **data: Any) -> Record:
    """Compatibility: a record of ``kind`` about one alert (its fingerprint, name, level,
    labels and startsAt filled in), ``data`` read as an old line's: ``note(Kind.ESCALATED,
    alert, step=2)`` (the dashboard's 1-based rung number) is an escalation to L2."""
    return RECORD_TYPES[Kind(kind)].from_data(_aware(at), user, AlertRef.of(alert), text,
                                              _plain(data))


def command_record(alert: Alert | None, user: str, at: datetime, argv: Sequence[str],
                   exit_code: int | None, duration: timedelta) -> CommandRun:
    """Compatibility: a command run (``exit_code`` None: it could not be started or was
    killed)."""
    ref = AlertRef.of(alert) if alert is not None else None
    return CommandRun(at, user, ref, shlex.join(argv), argv=tuple(argv), exit_code=exit_code,
                      duration=duration)


def note_record(alert: Alert, user: str, at: datetime, text: str) -> NoteAdded:
    """Compatibility: a note on the alert."""
    return NoteAdded(at, user, AlertRef.of(alert), text.strip())


def escalated_record(alert: Alert, user: str, at: datetime, step: int, notify: str,
                     person: str) -> Escalated:
    """Compatibility: the alert reached ladder rung ``step`` (0-based, Rung.index; level
    ``rung_level(step)``): ``person`` holding ``notify`` is paged. ``user`` is who was
    watching."""
    return Escalated(at, user, AlertRef.of(alert), to_level=rung_level(step), notify=notify,
                     person=person)


def status_record(alert: Alert, user: str, at: datetime, status: str, impact: str, body: str,
                  next_update: datetime | None) -> StatusUpdate:
    """Compatibility: a status update composed (and copied) for the alert."""
    return StatusUpdate(at, user, AlertRef.of(alert), body, status=status, impact=impact,
                        next_update=next_update)


def _aware(at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ValueError("a record's time must be a timezone-aware datetime")
    return at


# --------------------------------------------------------------------------- #
# Alerts firing and resolving
# --------------------------------------------------------------------------- #


def lifecycle_records(previous: Board, board: Board, user: str, now: datetime,
                      journal_open: Collection[tuple[str, datetime]] | None = None,
                      ) -> list[Record]:
    """What changed between two boards: AlertFired for each alert first seen firing (absent,
    pending or resolved before; silenced and inhibited count as firing, as in Alertmanager),
    AlertResolved for each firing alert that became resolved.

    The first board of a session (``previous`` is the initial EMPTY_BOARD) records every
    alert already firing as ``seen_at_start``, except those ``journal_open`` (the journal's
    open firings: ``open_firings(records)``) already has, so a restart does not record them
    again. Read the journal before handing the first board here: with ``journal_open`` None
    (the journal unknown) the first board records nothing. A board with no alerts is not a
    first board: the first alert after a quiet night is recorded as it fires. Ordered by
    kind, then alertname, then fingerprint.
    """
    if previous is board:
        return []
    if previous is EMPTY_BOARD or previous.built_at == datetime.min:
        return [] if journal_open is None else _seen_at_start(board, user, now, journal_open)
    records: list[Record] = []
    old_alerts = previous.alerts
    for fp, alert in board.alerts.items():
        old = old_alerts.get(fp)
        if alert is old:
            continue
        if alert.state in ACTIVE_STATES and (
                old is None or old.state in (AlertState.PENDING, AlertState.RESOLVED)):
            records.append(_fired(alert, user, now))
        elif alert.state is AlertState.RESOLVED and old is not None and old.state in ACTIVE_STATES:
            records.append(AlertResolved(alert.resolved_at or now, user, AlertRef.of(alert),
                                         clean_line(alert.summary, 300)))
    return _in_order(records)


def _seen_at_start(board: Board, user: str, now: datetime,
                   journal_open: Collection[tuple[str, datetime]]) -> list[Record]:
    known = journal_open if isinstance(journal_open, (set, frozenset)) else set(journal_open)
    return _in_order([_fired(a, user, now, at_start=True) for a in board.alerts.values()
                      if a.state in ACTIVE_STATES
                      and (a.fingerprint, a.starts_at) not in known])


def _fired(alert: Alert, user: str, now: datetime, at_start: bool = False) -> AlertFired:
    return AlertFired(now, user, AlertRef.of(alert), clean_line(alert.summary, 300),
                      state=alert.state.value, seen_at_start=at_start)


def _in_order(records: list[Record]) -> list[Record]:
    order = list(Kind)
    records.sort(key=lambda r: (order.index(r.kind), r.alertname, r.fingerprint))
    return records


def open_firings(records: Iterable[Record]) -> frozenset[tuple[str, datetime]]:
    """(fingerprint, startsAt) of each firing the records say is still open: seen firing and
    not resolved since (a firing with a later startsAt ends an earlier one of the alert)."""
    ordered = sorted(records, key=lambda r: r.at)
    return open_firings_of((isinstance(r, AlertFired), r.fingerprint, r.starts_at)
                           for r in ordered if isinstance(r, (AlertFired, AlertResolved)))


def open_firings_of(firings: Iterable[tuple[bool, str, datetime | None]]
                    ) -> frozenset[tuple[str, datetime]]:
    """`open_firings` of (fired, fingerprint, startsAt), one per firing or resolution in time
    order (``False``: resolved)."""
    open_: dict[str, datetime] = {}
    for fired, fp, starts in firings:
        if not fp:
            continue
        if fired and starts is not None:
            open_[fp] = max(starts, open_.get(fp, starts))
        elif not fired and (starts is None or open_.get(fp) == starts):
            open_.pop(fp, None)
    return frozenset(open_.items())


# --------------------------------------------------------------------------- #
# Reading records
# --------------------------------------------------------------------------- #


def notes_for(records: Iterable[Record], fingerprint: str) -> list[NoteAdded]:
    """The alert's notes, oldest first (a scan: RecordIndex answers in O(1))."""
    return sorted((r for r in records if isinstance(r, NoteAdded) and r.fingerprint == fingerprint),
                  key=lambda r: r.at)


def last_status_update(records: Iterable[Record], fingerprint: str) -> StatusUpdate | None:
    """The alert's latest status update, if any."""
    updates = [r for r in records
               if isinstance(r, StatusUpdate) and r.fingerprint == fingerprint]
    return max(updates, key=lambda r: r.at) if updates else None


def next_update_due(records: Iterable[Record], alert: Alert, level: SeverityLevel | None,
                    now: datetime) -> datetime | None:
    """When the alert's next status update is due: its last status update of this firing (or
    its startsAt when there is none) plus the level's ``update_every``. ``records`` may be
    the whole journal or just the alert's updates (``RecordIndex.updates``).

    None when the level has no cadence, when the alert is not firing or acknowledged (pending,
    silenced, inhibited, resolved), or when the last update declared it Resolved. Updates of an
    earlier firing (before startsAt) and updates recorded in the future (clock skew between two
    machines sharing a journal) do not count.
    """
    if level is None or level.update_every is None:
        return None
    if alert.state not in (AlertState.FIRING, AlertState.ACKED):
        return None
    last = last_status_update((r for r in records if alert.starts_at <= r.at <= now),
                              alert.fingerprint)
    if last is None:
        return alert.starts_at + level.update_every
    if last.status.casefold() == "resolved":
        return None
    return last.at + level.update_every


def concerns(record: Record, alert: Alert) -> bool:
    """True when the record is about this alert: its fingerprint, or (for a record about no
    single alert, such as a silence of several) matchers that select the alert's labels."""
    if record.fingerprint:
        return record.fingerprint == alert.fingerprint
    matchers = record_matchers(record)
    return bool(matchers) and all(m.matches(alert.labels) for m in matchers)


def record_matchers(record: Record) -> tuple[Matcher, ...]:
    """The label matchers a silence record names, or () if none or unreadable."""
    texts = getattr(record, "matchers", ())
    if not texts:
        return ()
    try:
        parsed = tuple(m for text in texts for m in parse_matchers(str(text)))
    except MatcherError:
        return ()
    return tuple(m for m in parsed if not m.name.startswith("@"))


def group_actions(records: Iterable[Record]) -> list[tuple[Record, ...]]:
    """The engineer's actions (ACTION_KINDS), oldest first, with the records of one gesture
    joined: consecutive acks (or un-acks) by one user with the same note within a minute of
    the first (``A`` on a group of 500 alerts is one action about 500 alerts)."""
    groups: list[list[Record]] = []
    for record in sorted((r for r in records if r.kind in ACTION_KINDS), key=lambda r: r.at):
        last = groups[-1][-1] if groups else None
        if (last is not None and isinstance(record, (Acked, Unacked))
                and (last.kind, last.user, last.text) == (record.kind, record.user, record.text)
                and record.at - groups[-1][0].at < timedelta(minutes=1)):
            groups[-1].append(record)
        else:
            groups.append([record])
    return [tuple(g) for g in groups]


_R = TypeVar("_R", bound=Record)
_V = TypeVar("_V")


INDEXED_KINDS = frozenset({Kind.NOTE, Kind.STATUS_UPDATE})
"""The kinds a RecordIndex keeps."""


class RecordIndex:
    """Notes and status updates by alert fingerprint, for lookups on every cursor move and
    update-due mark without scanning the journal: O(1) per lookup, O(records) per ``added``.

    Immutable: ``added`` returns a new index (or the same one when the records hold no note
    or update, as in a storm of firings). Bounded: the latest MAX_PER_ALERT notes and updates
    of each alert, for the MAX_ALERTS alerts written about most recently.
    """

    MAX_PER_ALERT = 100
    MAX_ALERTS = 10_000

    __slots__ = ("_notes", "_updates")

    def __init__(self) -> None:
        self._notes: dict[str, tuple[NoteAdded, ...]] = {}
        self._updates: dict[str, tuple[StatusUpdate, ...]] = {}

    @classmethod
    def of(cls, records: Iterable[Record]) -> RecordIndex:
        return cls().added(records)

    def added(self, records: Iterable[Record]) -> RecordIndex:
        notes: dict[str, tuple[NoteAdded, ...]] | None = None
        updates: dict[str, tuple[StatusUpdate, ...]] | None = None
        for record in records:
            fp = record.fingerprint
            if isinstance(record, NoteAdded) and fp:
                notes = dict(self._notes) if notes is None else notes
                notes[fp] = _with(notes.pop(fp, ()), record, self.MAX_PER_ALERT)
            elif isinstance(record, StatusUpdate) and fp:
                updates = dict(self._updates) if updates is None else updates
                updates[fp] = _with(updates.pop(fp, ()), record, self.MAX_PER_ALERT)
        if notes is None and updates is None:
            return self
        index = RecordIndex()
        index._notes = _capped(notes, self.MAX_ALERTS) if notes is not None else self._notes
        index._updates = (_capped(updates, self.MAX_ALERTS) if updates is not None
                          else self._updates)
        return index

    def notes(self, fingerprint: str) -> tuple[NoteAdded, ...]:
        """The alert's notes, oldest first."""
        return self._notes.get(fingerprint, ())

    def updates(self, fingerprint: str) -> tuple[StatusUpdate, ...]:
        """The alert's status updates, oldest first."""
        return self._updates.get(fingerprint, ())

    def last_update(self, fingerprint: str) -> StatusUpdate | None:
        updates = self._updates.get(fingerprint, ())
        return updates[-1] if updates else None


def _with(kept: tuple[_R, ...], record: _R, cap: int) -> tuple[_R, ...]:
    """``kept`` (in order of time) with ``record`` in its place, the oldest beyond ``cap``
    dropped. Journal records read late (the file loads after the session's first) land in
    order too."""
    if not kept or kept[-1].at <= record.at:
        return (kept + (record,))[-cap:]
    items = list(kept)
    insort(items, record, key=lambda r: r.at)
    return tuple(items[-cap:])


def _capped(by_key: dict[str, _V], cap: int) -> dict[str, _V]:
    """The dict without its first-inserted keys beyond ``cap`` (written to longest ago)."""
    while len(by_key) > cap:
        del by_key[next(iter(by_key))]
    return by_key


# --------------------------------------------------------------------------- #
# Records in words
# --------------------------------------------------------------------------- #

Part = tuple[str, bool]
"""A piece of a description: (text, literal). Literal pieces are identifiers, matchers or
command lines: Markdown shows them as code."""


def describe_parts(record: Record, zone: tzinfo | None = None,
                   with_alert: bool = True) -> list[Part]:
    """What the record says, in words, as pieces (see Part). ``with_alert`` names the alert
    the record is about; leave it out where the alert is already clear."""
    alert: list[Part] = [(record.alertname, True)] if with_alert and record.alertname else []
    comment = _one_line(record.text)
    if isinstance(record, Acked):
        return [("acknowledged", False)] + _space(alert) + _aside(f" ({comment})", comment)
    if isinstance(record, Unacked):
        target = alert or [("silence ", False), (_short_id(record), True)]
        return [("un-acknowledged ", False)] + target
    if isinstance(record, SilenceCreated):
        return _silenced_parts(record, alert, comment)
    if isinstance(record, SilenceExtended):
        parts = [("extended silence ", False), (_short_id(record), True)]
        if record.ends_at is not None:
            parts.append((f" to {_short_when(record.ends_at, zone)}", False))
        return parts + _aside(f": {comment}", comment)
    if isinstance(record, SilenceExpired):
        matchers = _matchers_parts(record.matchers, [])
        return ([("expired silence ", False), (_short_id(record), True)]
                + _space(matchers))
    if isinstance(record, CommandRun):
        return _command_parts(record, alert, comment)
    if isinstance(record, Escalated):
        return _escalated_parts(record, alert)
    if isinstance(record, AlertFired):
        return alert + [(" fired" if alert else "fired", False)]
    if isinstance(record, AlertResolved):
        return alert + [(" resolved" if alert else "resolved", False)]
    if isinstance(record, NoteAdded):
        return [("note", False)] + _space(alert) + [(f": {comment}", False)]
    if isinstance(record, PagerEscalated):
        return _pager_escalated_parts(record, alert)
    if isinstance(record, PagerAcked):
        return _pager_parts(record, alert)
    assert isinstance(record, StatusUpdate), type(record)
    return _status_parts(record, alert)


def describe(record: Record, zone: tzinfo | None = None, with_alert: bool = True) -> str:
    """describe_parts as one line of plain text."""
    return "".join(text for text, _ in describe_parts(record, zone, with_alert))


def _silenced_parts(record: SilenceCreated, alert: list[Part], comment: str) -> list[Part]:
    parts = [("silenced ", False)] + _matchers_parts(record.matchers, alert)
    if record.duration:
        parts.append((f" for {format_duration(record.duration)}", False))
    return parts + _aside(f": {comment}", comment)


def _command_parts(record: CommandRun, alert: list[Part], comment: str) -> list[Part]:
    line = comment or shlex.join(record.argv)
    code = record.exit_code
    facts = ["not completed" if code is None else f"exit {code}"]
    if record.duration is not None:
        facts.append(format_duration(record.duration)
                     if record.duration >= timedelta(seconds=1) else "<1s")
    parts = [("ran ", False), (line, True), (f" ({', '.join(facts)})", False)]
    return parts + ([(" for ", False)] + alert if alert else [])


def _escalated_parts(record: Escalated, alert: list[Part]) -> list[Part]:
    level = _one_line(record.to_level) or "the next level"
    who = _one_line(record.person or "nobody on call")
    role = _one_line(record.notify)
    parts = [("escalated", False)] + _space(alert) + [(f" to {level}: {who}", False)]
    return parts + ([(f" ({role})", False)] if role and role != who else [])


def _pager_parts(record: PagerAcked, alert: list[Part]) -> list[Part]:
    """`acknowledged PagerDuty incident #1234 (pd) for BackendDown`"""
    verb = {Kind.PAGER_ACK: "acknowledged", Kind.PAGER_RESOLVE: "resolved",
            Kind.PAGER_SNOOZE: "snoozed"}[record.kind]
    name = f"#{record.number}" if record.number is not None else _one_line(record.incident)
    parts: list[Part] = [(f"{verb} PagerDuty incident ", False), (name or "?", True)]
    if record.pager:
        parts.append((f" ({_one_line(record.pager)})", False))
    if isinstance(record, PagerSnoozed) and record.duration:
        parts.append((f" for {format_duration(record.duration)}", False))
    return parts + ([(" for ", False)] + alert if alert else [])


def _pager_escalated_parts(record: PagerEscalated, alert: list[Part]) -> list[Part]:
    """`PagerDuty escalated incident #1234 (pd) for BackendDown to L2: Bob Okafor`"""
    name = f"#{record.number}" if record.number is not None else _one_line(record.incident)
    parts: list[Part] = [("PagerDuty escalated incident ", False), (name or "?", True)]
    if record.pager:
        parts.append((f" ({_one_line(record.pager)})", False))
    parts += [(" for ", False)] + alert if alert else []
    level = _one_line(record.to_level)
    return parts + [(f" to {level + ': ' if level else ''}"
                     f"{_one_line(record.person) or 'nobody'}", False)]


def _status_parts(record: StatusUpdate, alert: list[Part]) -> list[Part]:
    status, impact = _one_line(record.status), _one_line(record.impact)
    parts: list[Part] = [("posted a status update", False)]
    if alert:
        parts += [(" on ", False)] + alert
    if status:
        parts.append((f": {status}", False))
    return parts + _aside(f" ({impact})", impact)


def _aside(text: str, when: str) -> list[Part]:
    return [(text, False)] if when else []


def _space(parts: list[Part]) -> list[Part]:
    return [(" ", False)] + parts if parts else []


def _matchers_parts(texts: tuple[str, ...], alert: list[Part]) -> list[Part]:
    if texts:
        return [("{" + ", ".join(_one_line(t) for t in texts) + "}", True)]
    return alert


def _short_id(record: Record) -> str:
    ids = record.silence_ids
    return ids[0][:8] if ids else "?"


def _one_line(text: str) -> str:
    return " ".join(clean_line(text, 2000).split())


def _short_when(at: datetime, zone: tzinfo | None) -> str:
    local = at.astimezone(zone)
    return f"{local:%a} {clock_time(at, zone)}"
