"""On call: people, rotations, overrides, schedules_ics, escalation, notify.

These sections name each other (rotations and overrides name people; escalation names roles
and people; notify names severity levels) and read ``timezone``, so :func:`parse_oncall`
parses them together, in that order, after every other section.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml

from ..domain.durations import check_year, limit_text
from ..domain.escalation import EscalationPolicy, NotifySettings, PagerLadder, Step
from ..domain.roster import IcsFeed, Person, Roster, Rotation, Shift, localize
from ..domain.severity import SeverityPolicy
from ..domain.sizes import format_size
from . import values
from .declare import Setting, declare, file_keys, parse_declared, read_section
from .pagerduty import account_names, pagerduty_id
from .mask import all_masked, duration_text, masked_feed_url, or_none, plain
from .values import positive_duration
from .walker import Fields, Value

MIN_ICS_REFRESH = timedelta(minutes=1)
MIN_ROTATION = timedelta(hours=1)
"""Shorter turns are typos (1m for 1w), and each turn costs work whenever the roster is drawn."""
_ICS_SCHEMES = ("http", "https", "webcal", "webcals")
_LEVEL_KEY = re.compile(r"L[1-9][0-9]?")
_TIME_EXAMPLE = "use e.g. 2026-01-05T09:00, or with an offset: 2026-01-05T09:00+01:00"


def parse_oncall(found: Fields, zone: ZoneInfo, severity: SeverityPolicy) -> dict[str, Any]:
    """people → rotations, overrides (they name people), feeds → escalation (names roles and
    people) and notify (names levels)."""
    people = found.opt("people", _parse_people, {})
    rotations = found.opt("rotations", lambda v: _parse_rotations(v, people, zone), ())
    overrides = found.opt("overrides", lambda v: _parse_overrides(v, people, zone), ())
    feeds = found.opt("schedules_ics", _parse_feeds, ())
    declared_roles = tuple(dict.fromkeys(role for feed in feeds for role in feed.roles()))
    roster = Roster(people, rotations, overrides, timezone=zone, declared_roles=declared_roles)
    parsed: dict[str, Any] = {"roster": roster, "schedules_ics": feeds}
    escalation = found.get("escalation")
    if escalation is not None:
        parsed["escalation"] = _parse_escalation(escalation, roster.roles(), people, severity,
                                                 account_names(found.get("pagerduty")))
    notify = found.get("notify")
    if notify is not None:
        parsed["notify"] = _parse_notify(notify, severity)
    return parsed


def show_escalation(policy: EscalationPolicy) -> Any:
    shown = plain(policy.ladders)
    for level, ladder in policy.from_pager.items():
        shown[level] = {"pagerduty": ladder.policy_id, "account": ladder.account}
    return shown


# -- times ------------------------------------------------------------------ #


def _parse_time(value: Value) -> datetime:
    """An ISO 8601 time as written: naive (wall-clock) or aware (with an offset or Z)."""
    text = value.nonempty_text().strip()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise value.error(f"not a time: {text!r} ({_TIME_EXAMPLE})") from None
    try:
        return check_year(at)
    except ValueError as err:
        raise value.error(str(err)) from None


def _parse_instant(value: Value, zone: ZoneInfo) -> datetime:
    """A time as an aware instant; without an offset it is wall-clock time in `zone`."""
    return localize(_parse_time(value), zone)


def _parse_wall_time(value: Value, zone: ZoneInfo) -> datetime:
    """A time as naive wall-clock time in `zone` (a time with an offset is converted)."""
    at = _parse_time(value)
    return at.astimezone(zone).replace(tzinfo=None) if at.tzinfo else at


def _minutes(at: datetime) -> str:
    return at.isoformat(timespec="minutes")


# -- people, rotations, overrides ------------------------------------------- #


def _parse_people(value: Value) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for person_id, item in value.entries():
        person_id = person_id.strip()
        if not person_id:
            raise item.error("a person id must not be empty")
        if item.is_null:
            people[person_id] = Person(person_id, person_id)
            continue
        _, parsed = read_section(item, Person)
        people[person_id] = Person(id=person_id, **{"name": person_id, **parsed})
    return people


def _stripped(value: Value) -> str:
    return value.text().strip()


def _person_id(value: Value, people: Mapping[str, Person]) -> str:
    person_id = value.nonempty_text().strip()
    if person_id not in people:
        raise value.error(_unknown("person", person_id, people, "define them under people"))
    return person_id


def _unknown(what: str, name: str, known: Collection[str], advice: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f", did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(known) if known else "none"
    return f"unknown {what} {name!r}{hint} (known: {listed}; {advice})"


def _rotation_length(value: Value) -> timedelta:
    length = positive_duration(value)
    if length < MIN_ROTATION:
        raise value.error(f"must be at least {limit_text(MIN_ROTATION)} (a turn of the rotation)")
    return length


def _parse_rotations(value: Value, people: Mapping[str, Person],
                     zone: ZoneInfo) -> tuple[Rotation, ...]:
    rotations: dict[str, tuple[Rotation, int]] = {}
    for item in value.items():
        rotation = _parse_rotation(item, people, zone)
        if rotation.role in rotations:
            raise item.error(f"role {rotation.role!r} already has a rotation (line "
                             f"{rotations[rotation.role][1]}); use overrides or an ICS feed "
                             "for exceptions")
        rotations[rotation.role] = (rotation, item.node.start_mark.line + 1)
    return tuple(rotation for rotation, _ in rotations.values())


def _parse_rotation(item: Value, people: Mapping[str, Person], zone: ZoneInfo) -> Rotation:
    found = item.fields(file_keys(Rotation))
    role = found.require("role").nonempty_text().strip()
    members_value = found.require("members")
    members = tuple(_person_id(m, people) for m in members_value.items())
    if not members:
        raise members_value.error("an empty rotation: list at least one person")
    parsed = {"timezone": zone, **parse_declared(found, Rotation)}
    parsed["start"] = _parse_wall_time(found.require("start"), parsed["timezone"])
    return Rotation(role=role, members=members, **parsed)


def _parse_overrides(value: Value, people: Mapping[str, Person],
                     zone: ZoneInfo) -> tuple[Shift, ...]:
    parsed = [(_parse_override(item, people, zone), item) for item in value.items()]
    _check_overlaps(parsed)
    return tuple(shift for shift, _ in parsed)


def _parse_override(item: Value, people: Mapping[str, Person], zone: ZoneInfo) -> Shift:
    found = item.fields(file_keys(Shift))
    start = _parse_instant(found.require("from"), zone)
    end = _parse_instant(found.require("until"), zone)
    if end <= start:
        raise found.require("until").error("must be after from")
    return Shift(role=found.require("role").nonempty_text().strip(),
                 person=_person_id(found.require("person"), people),
                 start=start, end=end, source="override")


def _check_overlaps(parsed: list[tuple[Shift, Value]]) -> None:
    """One person per role at a time: the later-listed of two overlapping overrides is wrong."""
    by_start = sorted(enumerate(parsed), key=lambda pair: pair[1][0].start)
    last: dict[str, tuple[int, Shift, Value]] = {}
    for index, (shift, item) in by_start:
        seen = last.get(shift.role)
        if seen is not None and shift.start < seen[1].end:
            other_index, other, other_item = seen
            later, earlier = (item, other_item) if index > other_index else (other_item, item)
            raise later.error(
                f"overlaps overrides[{min(index, other_index)}] (line "
                f"{earlier.node.start_mark.line + 1}) for role {shift.role!r}: one person per "
                "role at a time")
        if seen is None or shift.end > seen[1].end:
            last[shift.role] = (index, shift, item)


# -- ICS feeds -------------------------------------------------------------- #


def _parse_feeds(value: Value) -> tuple[IcsFeed, ...]:
    return tuple(_parse_feed(item) for item in value.items())


def _parse_feed(item: Value) -> IcsFeed:
    found, parsed = read_section(item, IcsFeed)
    source = found.one_of("url", "file")
    if source is None:
        raise item.error("needs url or file")
    kind, where = source
    parsed[kind] = _parse_feed_url(where) if kind == "url" else values.existing_file(where)
    return IcsFeed(**parsed)


def _ics_refresh(value: Value) -> timedelta:
    refresh = positive_duration(value)
    if refresh < MIN_ICS_REFRESH:
        raise value.error(f"must be at least {duration_text(MIN_ICS_REFRESH)}")
    return refresh


def _parse_feed_url(value: Value) -> str:
    """http(s):// or webcal(s)://, with a host; a ?query is allowed (feeds carry tokens there).
    Never echoed: the URL is usually a secret."""
    url = value.nonempty_text().strip()
    parts = urlsplit(url)
    if any(c.isspace() for c in url):
        raise value.error("a URL must not contain spaces")
    if parts.scheme.lower() not in _ICS_SCHEMES or not parts.hostname:
        raise value.error("expected a URL starting with https://, http:// or webcal:// and a "
                          "host")
    try:
        parts.port
    except ValueError:
        raise value.error("the URL has an invalid port") from None
    if "@" in parts.netloc:
        raise value.error("credentials in the URL are not allowed; use headers instead")
    return url


def _parse_levels(value: Value) -> Mapping[str, str]:
    levels = {}
    for key, item in value.entries():
        if not _LEVEL_KEY.fullmatch(key):
            raise item.error(f"not a level: {key!r} (use L1, L2, ...)")
        levels[key] = item.nonempty_text().strip()
    return MappingProxyType(levels)


# -- escalation and notify -------------------------------------------------- #


def _parse_escalation(value: Value, roles: Collection[str], people: Mapping[str, Person],
                      severity: SeverityPolicy, accounts: tuple[str, ...]) -> EscalationPolicy:
    """Level → a list of steps, or ``{pagerduty: <policy id>, account: <name>}``: the ladder
    of that PagerDuty escalation policy (``account`` only needed with several accounts)."""
    ladders: dict[str, tuple[Step, ...]] = {}
    from_pager: dict[str, PagerLadder] = {}
    levels = (*severity.names(), "default")
    for level, (key_node, node) in value.pairs().items():
        if level not in levels:
            raise value.child(key_node, level).error(
                _unknown("level", level, levels, "levels come from severities"))
        item = value.child(node, level)
        if isinstance(item.node, yaml.MappingNode):
            from_pager[level] = _pager_ladder(item, accounts)
            ladders[level] = ()
        else:
            ladders[level] = () if item.is_null else _parse_ladder(item, roles, people)
    return EscalationPolicy(ladders, MappingProxyType(from_pager))


def _pager_ladder(value: Value, accounts: tuple[str, ...]) -> PagerLadder:
    found = value.fields(file_keys(PagerLadder))
    policy = pagerduty_id(found.require("pagerduty"))
    if not accounts:
        raise value.error("no pagerduty account is configured to read escalation policy "
                          f"{policy} from")
    account = found.get("account")
    if account is None:
        if len(accounts) > 1:
            raise value.child(value.node, "account").error(
                f"required with several pagerduty accounts ({', '.join(accounts)})")
        return PagerLadder(accounts[0], policy)
    name = account.nonempty_text()
    if name not in accounts:
        raise account.error(_unknown("pagerduty account", name, accounts,
                                     "accounts are the names of the pagerduty entries"))
    return PagerLadder(name, policy)


def _parse_ladder(value: Value, roles: Collection[str],
                  people: Mapping[str, Person]) -> tuple[Step, ...]:
    steps: list[Step] = []
    for item in value.items():
        found = item.fields(file_keys(Step))
        after = found.require("after").duration()
        if steps and after < steps[-1].after:
            raise found.require("after").error(
                f"steps must be in order of after (the step before is at "
                f"{duration_text(steps[-1].after)})")
        steps.append(Step(after, _notify_target(found.require("notify"), roles, people)))
    return tuple(steps)


def _notify_target(notify: Value, roles: Collection[str], people: Mapping[str, Person]) -> str:
    target = notify.nonempty_text().strip()
    if target in roles and target in people:
        raise notify.error(f"{target!r} is both a role and a person id: rename one")
    if target not in roles and target not in people:
        raise notify.error(_unknown("role or person", target, [*roles, *people],
                                    "notify names a role or a person id"))
    return target


def _parse_notify(value: Value, severity: SeverityPolicy) -> NotifySettings:
    found, parsed = read_section(value, NotifySettings)
    levels_value = found.get("levels")
    if levels_value is not None:
        parsed["levels"] = tuple(_level_name(item, severity) for item in levels_value.items())
    return NotifySettings(**parsed)


def _level_name(item: Value, severity: SeverityPolicy) -> str:
    name = item.nonempty_text().strip()
    if name not in severity.names():
        raise item.error(_unknown("level", name, severity.names(), "levels come from severities"))
    return name


declare(
    Roster,
    people=Setting(),
    rotations=Setting(),
    overrides=Setting(),
    shifts=Setting(in_file=False, shown=False),
    timezone=Setting(in_file=False, shown=False),
    declared_roles=Setting(in_file=False, shown=False),
)
declare(
    Person,
    id=Setting(in_file=False, shown=False),
    name=Setting(parse=values.stripped_text),
    handle=Setting(parse=_stripped),
    phone=Setting(parse=_stripped),
    email=Setting(parse=_stripped),
)
declare(
    Rotation,
    role=Setting(),
    members=Setting(),
    start=Setting(show=_minutes),
    length=Setting(parse=_rotation_length, required=True),
    timezone=Setting(parse=values.zone),
)
declare(
    Shift,
    role=Setting(),
    person=Setting(),
    start=Setting(key="from"),
    end=Setting(key="until"),
    source=Setting(in_file=False, shown=False),
)
declare(
    IcsFeed,
    role=Setting(parse=values.stripped_text, required=True),
    url=Setting(secret=True, show=masked_feed_url),
    file=Setting(show=or_none),
    headers=Setting(parse=values.headers, secret=True, show=all_masked),
    refresh=Setting(parse=_ics_refresh),
    timeout=Setting(parse=positive_duration),
    levels=Setting(parse=_parse_levels),
    name=Setting(parse=values.stripped_text),
    max_bytes=Setting(parse=values.size, show=format_size),
)
declare(Step, after=Setting(), notify=Setting())
declare(PagerLadder, policy_id=Setting(key="pagerduty"), account=Setting())
declare(
    NotifySettings,
    min_interval=Setting(parse=Value.duration),
    bell=Setting(parse=Value.flag),
    desktop=Setting(parse=Value.flag),
    levels=Setting(),
)
