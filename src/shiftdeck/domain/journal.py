"""The shift journal: what shiftdeck did or saw, one record at a time. Pure: no files here
(``sources.journal`` writes and reads them).

A record is about one alert when ``fingerprint`` is set. ``data`` holds what is particular to
its kind; the keys shiftdeck writes (readers tolerate any of them missing):

=================  ==========================================================================
kind               data
=================  ==========================================================================
ack                ``silences`` (ids of the ACK! silences), ``duration`` (seconds);
                   ``text``: the ack's note (``group ack`` for ``A``)
unack              ``silence`` (id), ``matchers``; ``text``: the silence's comment
silence_created    ``silences`` (ids), ``matchers`` (strings), ``duration`` (seconds);
                   ``text``: the comment
silence_extended   ``silence`` (id), ``ends_at`` (ISO 8601); ``text``: the comment
silence_expired    ``silence`` (id), ``matchers``; ``text``: the comment
command            ``argv`` (list), ``exit_code``, ``duration`` (seconds); ``text``: the command
                   line
escalated          ``step`` (0-based index), ``notify`` (role or person id), ``person`` (name)
firing / resolved  ``starts_at`` (the alert's startsAt), ``state`` (firing only: firing, acked,
                   silenced, inhibited); ``text``: the alert's summary
note               ``text``: the note
status_update      ``status``, ``impact``, ``next_update`` (ISO 8601 or absent);
                   ``text``: the whole update as copied
=================  ==========================================================================

Every string in a record is sanitised (``sanitize.clean``) when the record is made, whether it
was typed, came from an alert or was read back from disk; ``data`` is normalised to JSON values
(times as ISO 8601 text, durations as seconds, lists as tuples) and read-only.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import Enum, StrEnum
from pathlib import PurePath
from types import MappingProxyType
from typing import Any

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


ACTION_KINDS = frozenset({Kind.ACK, Kind.UNACK, Kind.SILENCE_CREATED, Kind.SILENCE_EXTENDED,
                          Kind.SILENCE_EXPIRED, Kind.COMMAND, Kind.STATUS_UPDATE})
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


@dataclass(frozen=True, slots=True)
class Record:
    """One thing that happened. Build records with the helpers below (ack_record...) or
    directly; either way every string is sanitised and ``data`` made read-only JSON."""

    at: datetime
    """When it happened: aware (converted to UTC)."""
    kind: Kind
    user: str
    """Who did it, or for observed events who was watching (the config's ``user``)."""
    fingerprint: str = ""
    """The alert's, when the record is about one alert."""
    alertname: str = ""
    level: str = ""
    text: str = ""
    """A note's text, a status update's body, a command line, a silence's comment..."""
    data: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """Kind-specific details (see the module docstring)."""

    def __post_init__(self) -> None:
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise ValueError("Record.at must be a timezone-aware datetime")
        set_ = object.__setattr__
        set_(self, "at", self.at.astimezone(UTC))
        set_(self, "kind", Kind(self.kind))
        for name in ("user", "fingerprint", "alertname", "level"):
            set_(self, name, clean_line(getattr(self, name), 1024))
        set_(self, "text", clean(self.text))
        set_(self, "data", MappingProxyType({clean_line(k, 200): _plain(v)
                                             for k, v in dict(self.data).items()}))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data, ``at`` first (readers skip old lines by its prefix); empty fields
        are left out."""
        obj: dict[str, Any] = {"at": format_time(self.at), "kind": self.kind.value,
                               "user": self.user}
        for name in ("fingerprint", "alertname", "level", "text"):
            value = getattr(self, name)
            if value:
                obj[name] = value
        if self.data:
            obj["data"] = _json_value(self.data)
        return obj

    @classmethod
    def from_json(cls, obj: object) -> Record:
        """A record from parsed JSON; ValueError saying what is wrong with its shape. Unknown
        keys are ignored (a newer shiftdeck may add some); strings are sanitised."""
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
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
        return cls(parse_time(obj["at"]), kind, data=data, **texts)

    @property
    def silence_ids(self) -> tuple[str, ...]:
        """The silence ids the record names (``silence`` or ``silences``)."""
        ids = list(self.data.get("silences") or ())
        one = self.data.get("silence")
        if one:
            ids.append(one)
        return tuple(str(i) for i in ids if i)


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


def _json_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


# --------------------------------------------------------------------------- #
# Making records
# --------------------------------------------------------------------------- #


def alert_record(kind: Kind, alert: Alert, user: str, at: datetime, text: str = "",
                 **data: Any) -> Record:
    """A record about one alert: its fingerprint, name and level filled in, and its startsAt
    (``data["starts_at"]``, which tells one firing of the alert from the next)."""
    data.setdefault("starts_at", alert.starts_at)
    return Record(at, kind, user, alert.fingerprint, alert.name, alert.level, text, data)


def command_record(alert: Alert | None, user: str, at: datetime, argv: Sequence[str],
                   exit_code: int | None, duration: timedelta) -> Record:
    """A command run (``exit_code`` None: it could not be started or was killed)."""
    line = shlex.join(argv)
    data = {"argv": list(argv), "exit_code": exit_code, "duration": duration}
    if alert is None:
        return Record(at, Kind.COMMAND, user, text=line, data=data)
    return alert_record(Kind.COMMAND, alert, user, at, line, **data)


def note_record(alert: Alert, user: str, at: datetime, text: str) -> Record:
    return alert_record(Kind.NOTE, alert, user, at, text.strip())


def escalated_record(alert: Alert, user: str, at: datetime, step: int, notify: str,
                     person: str) -> Record:
    """The alert reached ladder step ``step`` (0-based): ``person`` holding ``notify`` is paged.
    ``user`` is who was watching."""
    return alert_record(Kind.ESCALATED, alert, user, at, step=step, notify=notify,
                        person=person)


def status_record(alert: Alert, user: str, at: datetime, status: str, impact: str, body: str,
                  next_update: datetime | None) -> Record:
    """A status update composed (and copied) for the alert."""
    data: dict[str, Any] = {"status": status, "impact": impact}
    if next_update is not None:
        data["next_update"] = next_update
    return alert_record(Kind.STATUS_UPDATE, alert, user, at, body, **data)


def lifecycle_records(previous: Board, board: Board, user: str, now: datetime) -> list[Record]:
    """What changed between two boards: FIRING for each alert first seen firing (absent,
    pending or resolved before; silenced and inhibited count as firing, as in Alertmanager),
    RESOLVED for each firing alert that became resolved.

    Nothing for the first board of a session (``previous`` is the initial EMPTY_BOARD): those
    alerts were firing before shiftdeck looked, and the journal already has them if shiftdeck
    was running then. A board with no alerts is not a first board: the first alert after a
    quiet night is recorded. Ordered by kind, then alertname, then fingerprint.
    """
    if previous is EMPTY_BOARD or previous.built_at == datetime.min or previous is board:
        return []
    records = []
    old_alerts = previous.alerts
    for fp, alert in board.alerts.items():
        old = old_alerts.get(fp)
        if alert is old:
            continue
        if alert.state in ACTIVE_STATES and (
                old is None or old.state in (AlertState.PENDING, AlertState.RESOLVED)):
            records.append(alert_record(Kind.FIRING, alert, user, now,
                                        clean_line(alert.summary, 300), state=alert.state))
        elif alert.state is AlertState.RESOLVED and old is not None and old.state in ACTIVE_STATES:
            records.append(alert_record(Kind.RESOLVED, alert, user, alert.resolved_at or now,
                                        clean_line(alert.summary, 300)))
    order = list(Kind)
    records.sort(key=lambda r: (order.index(r.kind), r.alertname, r.fingerprint))
    return records


# --------------------------------------------------------------------------- #
# Reading records
# --------------------------------------------------------------------------- #


def notes_for(records: Iterable[Record], fingerprint: str) -> list[Record]:
    """The alert's notes, oldest first."""
    return sorted((r for r in records if r.kind is Kind.NOTE and r.fingerprint == fingerprint),
                  key=lambda r: r.at)


def last_status_update(records: Iterable[Record], fingerprint: str) -> Record | None:
    """The alert's latest status update, if any."""
    updates = [r for r in records if r.kind is Kind.STATUS_UPDATE and r.fingerprint == fingerprint]
    return max(updates, key=lambda r: r.at) if updates else None


def next_update_due(records: Iterable[Record], alert: Alert, level: SeverityLevel | None,
                    now: datetime) -> datetime | None:
    """When the alert's next status update is due: its last status update of this firing (or
    its startsAt when there is none) plus the level's ``update_every``.

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
    if str(last.data.get("status", "")).casefold() == "resolved":
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
    """The label matchers a silence record names (``data["matchers"]``), or () if none or
    unreadable."""
    texts = record.data.get("matchers")
    if not isinstance(texts, tuple):
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
        if (last is not None and record.kind in (Kind.ACK, Kind.UNACK)
                and (last.kind, last.user, last.text) == (record.kind, record.user, record.text)
                and record.at - groups[-1][0].at < timedelta(minutes=1)):
            groups[-1].append(record)
        else:
            groups.append([record])
    return [tuple(g) for g in groups]


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
    data = record.data
    alert: list[Part] = [(record.alertname, True)] if with_alert and record.alertname else []
    comment = _one_line(record.text)
    kind = record.kind
    parts: list[Part]
    if kind is Kind.ACK:
        parts = [("acknowledged", False)] + _space(alert)
        return parts + ([(f" ({comment})", False)] if comment else [])
    if kind is Kind.UNACK:
        target = alert or [("silence ", False), (_short_id(record), True)]
        return [("un-acknowledged ", False)] + target
    if kind is Kind.SILENCE_CREATED:
        parts = [("silenced ", False)] + _matchers_parts(record, alert)
        duration = _seconds(data.get("duration"))
        if duration:
            parts.append((f" for {format_duration(duration)}", False))
        return parts + ([(f": {comment}", False)] if comment else [])
    if kind is Kind.SILENCE_EXTENDED:
        parts = [("extended silence ", False), (_short_id(record), True)]
        ends = _time_or_none(data.get("ends_at"))
        if ends is not None:
            parts.append((f" to {_short_when(ends, zone)}", False))
        return parts + ([(f": {comment}", False)] if comment else [])
    if kind is Kind.SILENCE_EXPIRED:
        parts = [("expired silence ", False), (_short_id(record), True)]
        matchers = _matchers_parts(record, [])
        return parts + ([(" ", False)] + matchers if matchers else [])
    if kind is Kind.COMMAND:
        line = comment or shlex.join(str(a) for a in data.get("argv") or ())
        parts = [("ran ", False), (line, True)]
        facts = []
        code = data.get("exit_code")
        facts.append("not completed" if code is None else f"exit {code}")
        duration = _seconds(data.get("duration"))
        if duration is not None:
            facts.append(format_duration(duration) if duration >= timedelta(seconds=1)
                         else "<1s")
        parts.append((f" ({', '.join(facts)})", False))
        return parts + ([(" for ", False)] + alert if alert else [])
    if kind is Kind.ESCALATED:
        step = data.get("step")
        numbered = isinstance(step, int) and not isinstance(step, bool)
        rung = f"L{step + 1}" if numbered else "the next step"
        who = _one_line(str(data.get("person") or "nobody on call"))
        role = _one_line(str(data.get("notify") or ""))
        parts = [("escalated", False)] + _space(alert) + [(f" to {rung}: {who}", False)]
        return parts + ([(f" ({role})", False)] if role and role != who else [])
    if kind is Kind.FIRING:
        return alert + [(" fired" if alert else "fired", False)]
    if kind is Kind.RESOLVED:
        return alert + [(" resolved" if alert else "resolved", False)]
    if kind is Kind.NOTE:
        return [("note", False)] + (_space(alert) if alert else []) + [(f": {comment}", False)]
    status = _one_line(str(data.get("status") or ""))
    impact = _one_line(str(data.get("impact") or ""))
    parts = [("posted a status update", False)]
    if alert:
        parts += [(" on ", False)] + alert
    if status:
        parts.append((f": {status}", False))
    return parts + ([(f" ({impact})", False)] if impact else [])


def describe(record: Record, zone: tzinfo | None = None, with_alert: bool = True) -> str:
    """describe_parts as one line of plain text."""
    return "".join(text for text, _ in describe_parts(record, zone, with_alert))


def _space(parts: list[Part]) -> list[Part]:
    return [(" ", False)] + parts if parts else []


def _matchers_parts(record: Record, alert: list[Part]) -> list[Part]:
    texts = record.data.get("matchers")
    if isinstance(texts, tuple) and texts:
        return [("{" + ", ".join(_one_line(str(t)) for t in texts) + "}", True)]
    return alert


def _short_id(record: Record) -> str:
    ids = record.silence_ids
    return ids[0][:8] if ids else "?"


def _one_line(text: str) -> str:
    return " ".join(clean_line(text, 2000).split())


def _seconds(value: object) -> timedelta | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    return None


def _time_or_none(value: object) -> datetime | None:
    try:
        return parse_time(value)
    except ValueError:
        return None


def _short_when(at: datetime, zone: tzinfo | None) -> str:
    local = at.astimezone(zone)
    return f"{local:%a} {clock_time(at, zone)}"
