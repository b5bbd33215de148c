"""PagerDuty incidents and on-calls, and how they meet Alertmanager's alerts. Pure.

Everything here was read from PagerDuty (sources/pagerduty.py) and is already sanitised; times
are aware and clamped. Statuses PagerDuty may add later are kept as the text it sent.

Correlating an incident with alerts uses what Alertmanager's PagerDuty notifier sends:

1. ``details.firing`` of the incident's alerts (``GET /incidents/{id}/alerts``): the default
   template lists each firing alert as a ``Labels:`` line, then `` - name = value`` lines. A
   listed label set that equals a current alert's label set joins the two. This is exact.
2. Otherwise, the incident's title, which is the notifier's summary
   ``[FIRING:N] <group label values> (<other common labels' values>)``: current alerts whose
   label values contain every word of it, when there are at least 1 and at most N of them.
   Weaker: label *names* are not in the summary, so it is only used when no label set could be
   read at all.

What cannot be correlated (the incident is shown on a row of its own):

- incidents from other integrations (no ``details.firing``, no ``[FIRING:N]`` title);
- a grouped notification whose details Alertmanager dropped (an event over 512 KB has its
  details replaced by an ``error`` text) or whose summary PagerDuty cut at 1024 characters,
  when no word-match is unique enough;
- the ``dedup_key`` (= incident_key): it is hex(sha256(the route's group key)), and the group
  key (route path and group labels) is not exposed by Alertmanager's API v2, so it is never
  recomputed here;
- a label value containing a newline followed by `` - x = y`` reads as two labels: such a label
  set then matches no alert (never a wrong one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from .alerts import Alert, AlertState
from .escalation import Step
from .roster import DISTANT_FUTURE, DISTANT_PAST, Person, Shift, find_person

TRIGGERED = "triggered"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
DIRECT_ASSIGNMENT = "direct_assignment"

Labels = tuple[tuple[str, str], ...]
"""A label set as sorted (name, value) pairs: hashable, frozen."""


@dataclass(frozen=True, slots=True)
class PagerUser:
    id: str
    name: str
    """PagerDuty's summary of the user (their name)."""
    email: str = ""
    """Only with include[]=assignees / acknowledgers (full user objects)."""


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    by: PagerUser
    at: datetime


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    number: int
    title: str
    status: str
    """triggered, acknowledged, resolved, or any other text PagerDuty sends, kept as is."""
    urgency: str
    service: str
    escalation_policy: str
    escalation_policy_id: str
    assignees: tuple[PagerUser, ...]
    """Who is assigned now."""
    acknowledgements: tuple[Acknowledgement, ...]
    next_escalation_at: datetime | None
    """pending_actions[type=escalate].at: PagerDuty's own clock. None for direct assignments
    and when no escalation is pending (acknowledged, last level reached)."""
    incident_key: str
    html_url: str
    """Untrusted: shown, never opened."""
    created_at: datetime
    updated_at: datetime | None = None
    """Used to tell a changed incident from a known one (its alerts are read again)."""
    source: str = ""
    """The name of the pagerduty entry it came from."""
    alert_labels: tuple[Labels, ...] = ()
    """The label sets its alerts' details.firing list (empty when unknown)."""
    level: int = 0
    """The escalation level of its policy its assignees hold by /oncalls (0: unknown)."""

    @property
    def is_open(self) -> bool:
        return self.status != RESOLVED

    @property
    def acknowledged_by(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.by.name for a in self.acknowledgements))

    @property
    def reference(self) -> str:
        """`#1234 PT4KHLK` for messages."""
        return f"#{self.number} {self.id}" if self.number else self.id


def next_escalation(actions: Iterable[tuple[str, datetime]], assigned_via: str) -> datetime | None:
    """The earliest pending ``escalate`` action; None for a direct assignment (PagerDuty never
    escalates those, whatever the actions say) or when there is none."""
    if assigned_via == DIRECT_ASSIGNMENT:
        return None
    times = [at for kind, at in actions if kind == "escalate"]
    return min(times) if times else None


def escalated(before: Incident, after: Incident, now: datetime) -> datetime | None:
    """When PagerDuty escalated the incident between two answers: its pending escalate action
    passed (or its level rose) and another user is assigned, while it stayed triggered. None
    when it did not (a reassignment by hand, an unacknowledge, a snooze ending)."""
    if before.status != TRIGGERED or after.status != TRIGGERED or not after.assignees:
        return None
    if {u.id for u in after.assignees} == {u.id for u in before.assignees}:
        return None
    due = before.next_escalation_at
    if due is not None and due <= now:
        return due
    return now if after.level > before.level > 0 else None


def assignment_level(incident: Incident, oncalls: Iterable[OnCall], now: datetime) -> int:
    """The escalation level of the incident's policy its first assignee holds now by
    /oncalls; 0 when none does."""
    if not incident.assignees:
        return 0
    user = incident.assignees[0].id
    return min((o.escalation_level for o in oncalls
                if o.escalation_policy_id == incident.escalation_policy_id
                and o.user.id == user and _covers(o, now)), default=0)


def labels_key(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


# --------------------------------------------------------------------------- #
# What Alertmanager's notifier wrote
# --------------------------------------------------------------------------- #

_LABEL_LINE = re.compile(r" - (.+?) = (.*)")
_SUMMARY = re.compile(r"\[FIRING:(\d+)\]\s*(.*)", re.DOTALL)


def parse_firing(text: str) -> tuple[Labels, ...]:
    """The label sets of a ``details.firing`` text (Alertmanager's ``__text_alert_list``):
    each ``Labels:`` line starts one, its `` - name = value`` lines fill it, and the next
    header (``Annotations:``, ``Source:``) ends it."""
    sets: list[Labels] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if line.strip() == "Labels:":
            if current:
                sets.append(labels_key(current))
            current = {}
            continue
        match = _LABEL_LINE.fullmatch(line.rstrip("\r"))
        if current is not None and match:
            current[match.group(1)] = match.group(2)
        elif current is not None and not line.startswith(" "):
            if current:
                sets.append(labels_key(current))
            current = None
    if current:
        sets.append(labels_key(current))
    return tuple(dict.fromkeys(sets))


@dataclass(frozen=True, slots=True)
class Summary:
    """``[FIRING:N] <group label values> (<common label values>)``, split into words."""

    firing: int
    words: tuple[str, ...]


def parse_summary(title: str) -> Summary | None:
    match = _SUMMARY.match(title.strip())
    if not match:
        return None
    rest = match.group(2).strip()
    if rest.endswith(")") and "(" in rest:
        group, _, common = rest[:-1].partition("(")
        rest = f"{group} {common}"
    words = tuple(w for w in rest.split() if w)
    return Summary(int(match.group(1)), words) if words else None


# --------------------------------------------------------------------------- #
# Correlation
# --------------------------------------------------------------------------- #

EXACT = "details.firing"
BY_SUMMARY = "summary"

_PREFERENCE = {TRIGGERED: 0, ACKNOWLEDGED: 1, RESOLVED: 3}


@dataclass(frozen=True, slots=True)
class Correlation:
    by_fingerprint: Mapping[str, Incident] = field(default_factory=lambda: MappingProxyType({}))
    """Alert fingerprint → the incident paging for it."""
    unmatched: tuple[Incident, ...] = ()
    """Open incidents that match no current alert: rows of their own."""
    how: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Incident id → EXACT or BY_SUMMARY, for each incident that matched."""

    def incident_for(self, alert: Alert) -> Incident | None:
        return self.by_fingerprint.get(alert.fingerprint)


def correlate(incidents: Iterable[Incident], alerts: Iterable[Alert]) -> Correlation:
    """Which incident pages for which alert (see the module docstring). When several
    incidents claim one alert, the one still paging wins: triggered, then acknowledged, then
    any other status, then resolved; among equals the newest."""
    current = [a for a in alerts if a.state is not AlertState.RESOLVED]
    by_labels = {labels_key(a.labels): a for a in current}
    ordered = sorted(incidents, key=lambda i: (_PREFERENCE.get(i.status, 2),
                                               -i.created_at.timestamp()))
    chosen: dict[str, Incident] = {}
    how: dict[str, str] = {}
    for incident in ordered:
        matched = _exact(incident, by_labels) if incident.alert_labels else \
            _by_summary(incident, current)
        for alert in matched:
            if alert.fingerprint not in chosen:
                chosen[alert.fingerprint] = incident
                how.setdefault(incident.id, EXACT if incident.alert_labels else BY_SUMMARY)
    unmatched = tuple(i for i in ordered if i.is_open and i.id not in how)
    return Correlation(MappingProxyType(chosen), unmatched, MappingProxyType(how))


def _exact(incident: Incident, by_labels: Mapping[Labels, Alert]) -> list[Alert]:
    return [by_labels[key] for key in incident.alert_labels if key in by_labels]


def _by_summary(incident: Incident, alerts: list[Alert]) -> list[Alert]:
    summary = parse_summary(incident.title)
    if summary is None:
        return []
    found = [a for a in alerts if _has_words(a, summary.words)]
    return found if 1 <= len(found) <= summary.firing else []


def _has_words(alert: Alert, words: tuple[str, ...]) -> bool:
    values = {w for value in alert.labels.values() for w in value.split()}
    return all(word in values for word in words)


# --------------------------------------------------------------------------- #
# On call
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class OnCall:
    """One entry of ``GET /oncalls``."""

    user: PagerUser
    escalation_level: int
    escalation_policy: str
    escalation_policy_id: str
    schedule: str
    """The schedule's name; '' for a user named directly in the policy."""
    start: datetime | None
    """None: a permanent on-call (a user named directly in the policy)."""
    end: datetime | None


@dataclass(frozen=True, slots=True)
class RosterShifts:
    shifts: tuple[Shift, ...]
    unmatched: tuple[str, ...]
    """Users of on-call entries who are nobody in ``people``: reported, never used."""


def level_role(levels: Mapping[int, str], level: int, source: str) -> str:
    """The role an escalation level holds: ``levels[level]``, else ``<source>-L<level>``."""
    return levels.get(level) or f"{source}-L{level}"


def oncall_shifts(oncalls: Iterable[OnCall], levels: Mapping[int, str],
                  people: Mapping[str, Person], source: str) -> RosterShifts:
    """On-calls as roster shifts of the role their level maps to, for ``with_shifts`` next to
    ICS shifts (same precedence: overrides beat them, they beat rotations). The user is
    matched to ``people`` by e-mail, then by name; a permanent on-call covers all time."""
    shifts: list[Shift] = []
    unmatched: list[str] = []
    for oncall in oncalls:
        person = _person_of(oncall.user, people)
        if person is None:
            unmatched.append(oncall.user.email or oncall.user.name or oncall.user.id)
            continue
        shifts.append(Shift(level_role(levels, oncall.escalation_level, source), person.id,
                            oncall.start or DISTANT_PAST, oncall.end or DISTANT_FUTURE,
                            source=source))
    return RosterShifts(tuple(dict.fromkeys(shifts)), tuple(dict.fromkeys(unmatched)))


# --------------------------------------------------------------------------- #
# Escalation policies
# --------------------------------------------------------------------------- #


USER = "user"
SCHEDULE = "schedule"
MAX_LOOPS = 9
"""PagerDuty allows num_loops from 0 to 9."""


@dataclass(frozen=True, slots=True)
class PolicyTarget:
    kind: str
    """``user`` or ``schedule`` (PagerDuty's type without ``_reference``), else as sent."""
    id: str
    name: str
    email: str = ""
    """Users only, and only when PagerDuty sent the full user."""


@dataclass(frozen=True, slots=True)
class PolicyRule:
    delay_minutes: int
    """How long this rule's targets have before the next rule is notified."""
    targets: tuple[PolicyTarget, ...]


@dataclass(frozen=True, slots=True)
class PagerPolicy:
    """``GET /escalation_policies/{id}``: the ladder PagerDuty climbs."""

    id: str
    name: str
    rules: tuple[PolicyRule, ...]
    num_loops: int = 0


def policy_ladder(policy: PagerPolicy, oncalls: Iterable[OnCall],
                  people: Mapping[str, Person], now: datetime) -> tuple[Step, ...]:
    """The policy's rules as ladder steps: rule N is notified once the delays of the rules
    before it have passed (PagerDuty's ``escalation_delay_in_minutes`` is the time a rule
    has before the next one), and the whole policy again ``num_loops`` times, numbered on
    (a 3-rule policy's second loop is L4–L6). Each step notifies a person id of ``people``:
    a user target is that user; a schedule target is whoever ``/oncalls`` says holds this
    rule's escalation level of the policy *now* (a handoff inside the ladder's window is not
    foreseen). A rule with several targets shows its first known one; with none known, the
    first target's name (which resolves to nobody on call)."""
    oncalls = tuple(oncalls)
    steps: list[Step] = []
    after = timedelta()
    for _loop in range(min(policy.num_loops, MAX_LOOPS) + 1):
        for level, rule in enumerate(policy.rules, start=1):
            steps.append(Step(after, _rule_notify(policy.id, level, rule, oncalls, people,
                                                  now)))
            after += timedelta(minutes=rule.delay_minutes)
    return tuple(steps)


def _rule_notify(policy_id: str, level: int, rule: PolicyRule, oncalls: tuple[OnCall, ...],
                 people: Mapping[str, Person], now: datetime) -> str:
    for target in rule.targets:
        if target.kind == SCHEDULE:
            users = [o.user for o in oncalls
                     if o.escalation_policy_id == policy_id and o.escalation_level == level
                     and o.schedule == target.name and _covers(o, now)]
        else:
            users = [PagerUser(target.id, target.name, target.email)] \
                if target.kind == USER else []
        for user in users:
            person = _person_of(user, people)
            if person is not None:
                return person.id
    return rule.targets[0].name if rule.targets else ""


def _covers(oncall: OnCall, at: datetime) -> bool:
    return (oncall.start is None or oncall.start <= at) and (oncall.end is None or at < oncall.end)


def _person_of(user: PagerUser, people: Mapping[str, Person]) -> Person | None:
    return (find_person(people, user.email) if user.email else None) \
        or find_person(people, user.name)
