"""The demo's PagerDuty: REST API v2 JSON in the shapes of PagerDuty's published OpenAPI
(PagerDuty/api-schema, reference/REST/openapiv3.json), over real loopback HTTP.

Incidents are created from alerts the way Alertmanager's PagerDuty notifier creates them
(title ``[FIRING:N] …``, ``details.firing`` in its text format) and escalate on their own by
their policy: ``pending_actions`` holds the next ``escalate`` at assignment time + the level's
delay, and when the clock passes it the assignment moves to the next level (looping
``num_loops`` times). Acknowledging stops that and adds an ``unacknowledge`` action (the
service's 30-minute acknowledgement timeout); a snooze moves it. Writes need the ``From``
header and every request the token. Times come from the injected clock: a frozen clock gives
identical answers. Served by server.LoopbackServer like the other demo APIs (requests carry
their headers, answers may set some).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shiftdeck.clock import Clock

from .server import Request, Response, json_response
from .wire import parse_time

FROM_MISSING = ('You must specify a user\'s email address in the "From" header to perform '
                "this action")
FROM_MISSING_CODE = 2008
ACK_TIMEOUT = timedelta(minutes=30)
MAX_LIMIT = 100
OFFSET_CAP = 10_000
MAX_UPDATES = 250

def pd_error(status: int, message: str, code: int | None = None,
             errors: Sequence[str] = ()) -> Response:
    """PagerDuty's error shape: ``{"error": {"message", "code", "errors"}}``."""
    error: dict[str, object] = {"message": message}
    if code is not None:
        error["code"] = code
    if errors:
        error["errors"] = list(errors)
    return json_response({"error": error}, status)


def pd_time(at: datetime) -> str:
    """PagerDuty writes times as 2015-10-06T21:30:42Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def firing_text(alerts: Sequence[Mapping[str, str]]) -> str:
    """Alertmanager's ``__text_alert_list`` for firing alerts (labels sorted by name)."""
    out = []
    for labels in alerts:
        out.append("Labels:\n" + "".join(f" - {k} = {v}\n" for k, v in sorted(labels.items()))
                   + "Annotations:\nSource: \n")
    return "".join(out)


def summary_text(alerts: Sequence[Mapping[str, str]], group_by: Sequence[str]) -> str:
    """``[FIRING:N] <group label values> (<other common label values>)``, as the notifier's
    default ``__subject`` template writes it."""
    group = {k: alerts[0].get(k, "") for k in sorted(group_by) if k in alerts[0]}
    common = {k: v for k, v in sorted(alerts[0].items())
              if all(a.get(k) == v for a in alerts) and k not in group}
    text = f"[FIRING:{len(alerts)}] " + " ".join(group.values())
    if common:
        text += " (" + " ".join(common.values()) + ")"
    return text.strip()


def dedup_key(alerts: Sequence[Mapping[str, str]], group_by: Sequence[str]) -> str:
    """hex(sha256(group key)), as Alertmanager's notifier sends it; the group key of a group of
    the root route (``{}``) by `group_by`."""
    group_key = "{}:{" + ",".join(f'{k}="{alerts[0].get(k, "")}"' for k in sorted(group_by)) + "}"
    return hashlib.sha256(group_key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class DemoUser:
    id: str
    name: str
    email: str

    def ref(self, full: bool = False) -> dict[str, object]:
        ref: dict[str, object] = {"id": self.id, "type": "user_reference", "summary": self.name,
                                  "self": f"/users/{self.id}", "html_url": None}
        if full:
            ref.update(type="user", name=self.name, email=self.email)
        return ref


@dataclass(frozen=True, slots=True)
class DemoPolicy:
    id: str
    name: str
    levels: tuple[tuple[int, tuple[str, ...]], ...]
    """Per level: (escalation_delay_in_minutes, user ids), level 1 first."""
    num_loops: int = 0

    def ref(self) -> dict[str, object]:
        return {"id": self.id, "type": "escalation_policy_reference", "summary": self.name,
                "self": f"/escalation_policies/{self.id}", "html_url": None}


@dataclass(frozen=True, slots=True)
class DemoOnCall:
    user: str
    policy: str
    level: int
    start: datetime | None = None
    end: datetime | None = None
    schedule: str = ""


@dataclass
class DemoIncident:
    id: str
    number: int
    title: str
    service: str
    policy: str
    created_at: datetime
    incident_key: str
    alerts: list[dict[str, str]]
    status: str = "triggered"
    urgency: str = "high"
    team: str = ""
    level: int = 0
    """0-based index of the policy level assigned now."""
    loops: int = 0
    assigned_at: datetime | None = None
    direct: tuple[str, ...] = ()
    """User ids of a direct assignment (never escalates)."""
    acknowledgements: list[tuple[str, datetime]] = field(default_factory=list)
    unack_at: datetime | None = None
    updated_at: datetime | None = None


class PagerDutyApi:
    """Request → Response for the REST API v2 subset shiftdeck
    reads and writes."""

    def __init__(self, clock: Clock, token: str, users: Sequence[DemoUser],
                 policies: Sequence[DemoPolicy], oncalls: Sequence[DemoOnCall] = ()) -> None:
        self.clock = clock
        self.token = token
        self.users = {u.id: u for u in users}
        self.policies = {p.id: p for p in policies}
        self.extra_oncalls = list(oncalls)
        self.incidents: dict[str, DemoIncident] = {}
        self.writes: list[tuple[str, str, str]] = []
        """(method, path, From header) of every write accepted: what tests look at."""
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/incidents"): self.list_incidents,
            ("PUT", "/incidents"): self.update_incidents,
            ("GET", "/oncalls"): self.list_oncalls,
        }

    # -- building the world --------------------------------------------------- #

    def trigger(self, alerts: Sequence[Mapping[str, str]], *, service: str, policy: str,
                group_by: Sequence[str] = ("alertname",), direct_to: Sequence[str] = (),
                team: str = "", at: datetime | None = None) -> str:
        """An incident for one Alertmanager notification of these firing alerts; its id."""
        with self._lock:
            now = at or self.clock.now()
            number = len(self.incidents) + 1
            incident_id = f"PINC{number:04d}"
            self.incidents[incident_id] = DemoIncident(
                incident_id, number, summary_text(alerts, group_by), service, policy, now,
                dedup_key(alerts, group_by), [dict(a) for a in alerts],
                team=team, assigned_at=now, direct=tuple(direct_to), updated_at=now)
            return incident_id

    def notify(self, alerts: Sequence[Mapping[str, str]], *, service: str, policy: str,
               group_by: Sequence[str] = ("alertname",), at: datetime | None = None) -> str:
        """Alertmanager's trigger event: the open incident with its dedup_key gets the alerts
        (and the title) now firing, else a new incident is opened; its id."""
        key = dedup_key(alerts, group_by)
        with self._lock:
            incident = self._open(key)
            if incident is not None:
                incident.alerts = [dict(a) for a in alerts]
                incident.title = summary_text(alerts, group_by)
                return incident.id
        return self.trigger(alerts, service=service, policy=policy, group_by=group_by, at=at)

    def resolve(self, incident_key: str, at: datetime | None = None) -> bool:
        """Alertmanager's resolve event (the whole group resolved); False when nothing was open."""
        with self._lock:
            incident = self._open(incident_key)
            if incident is None:
                return False
            incident.status, incident.unack_at = "resolved", None
            incident.updated_at = at or self.clock.now()
            return True

    def _open(self, incident_key: str) -> DemoIncident | None:
        return next((i for i in self.incidents.values()
                     if i.incident_key == incident_key and i.status != "resolved"), None)

    def set_status(self, incident_id: str, status: str) -> None:
        """Any status at all, as a newer PagerDuty might send one."""
        with self._lock:
            self.incidents[incident_id].status = status

    # -- dispatch ------------------------------------------------------------- #

    def __call__(self, request: Request) -> Response:
        if request.header("authorization") != f"Token token={self.token}":
            return pd_error(401, "Unauthorized")
        path = request.path.rstrip("/") or "/"
        with self._lock:
            self._advance(self.clock.now())
            route = self._routes.get((request.method, path))
            if route is not None:
                return route(request)
            parts = path.strip("/").split("/")
            if request.method == "GET" and len(parts) == 3 and parts[::2] == ["incidents",
                                                                             "alerts"]:
                return self.incident_alerts(parts[1])
            if request.method == "POST" and len(parts) == 3 and parts[::2] == ["incidents",
                                                                              "snooze"]:
                return self.snooze(parts[1], request)
            if request.method == "GET" and len(parts) == 2 and parts[0] == "escalation_policies":
                return self.get_policy(parts[1])
        return pd_error(404, "Not Found", 2100)

    # -- time ----------------------------------------------------------------- #

    def _advance(self, now: datetime) -> None:
        for incident in self.incidents.values():
            if incident.status == "acknowledged" and incident.unack_at and now >= incident.unack_at:
                incident.status, incident.unack_at = "triggered", None
                incident.acknowledgements.clear()
                incident.assigned_at = incident.updated_at = now
            while (at := self._escalate_at(incident)) is not None and now >= at:
                self._climb(incident)
                incident.assigned_at = incident.updated_at = at

    def _escalate_at(self, incident: DemoIncident) -> datetime | None:
        policy = self.policies.get(incident.policy)
        if (incident.status != "triggered" or incident.direct or policy is None
                or incident.assigned_at is None):
            return None
        last = incident.level == len(policy.levels) - 1
        if last and incident.loops >= policy.num_loops:
            return None
        return incident.assigned_at + timedelta(minutes=policy.levels[incident.level][0])

    def _climb(self, incident: DemoIncident) -> None:
        policy = self.policies[incident.policy]
        incident.level += 1
        if incident.level >= len(policy.levels):
            incident.level, incident.loops = 0, incident.loops + 1

    # -- reads ---------------------------------------------------------------- #

    def list_incidents(self, request: Request) -> Response:
        statuses = set(request.params("statuses[]"))
        services = set(request.params("service_ids[]"))
        teams = set(request.params("team_ids[]"))
        chosen = [i for i in self.incidents.values()
                  if (not statuses or i.status in statuses)
                  and (not services or i.service in services)
                  and (not teams or i.team in teams)]
        includes = frozenset(request.params("include[]"))
        return self._page(request, "incidents",
                          [self.incident_json(i, includes) for i in chosen])

    def incident_json(self, incident: DemoIncident,
                      includes: frozenset[str] = frozenset()) -> dict[str, object]:
        policy = self.policies.get(incident.policy)
        return {
            "id": incident.id, "type": "incident",
            "summary": f"[#{incident.number}] {incident.title}",
            "self": f"/incidents/{incident.id}", "html_url": f"https://demo.pagerduty.test/incidents/{incident.id}",
            "incident_number": incident.number, "title": incident.title,
            "created_at": pd_time(incident.created_at),
            "updated_at": pd_time(incident.updated_at or incident.created_at),
            "status": incident.status, "incident_key": incident.incident_key,
            "service": {"id": incident.service, "type": "service_reference",
                        "summary": incident.service},
            "assignments": [{"at": pd_time(incident.assigned_at or incident.created_at),
                             "assignee": self.users[u].ref("assignees" in includes)}
                            for u in self._assignees(incident) if u in self.users],
            "assigned_via": "direct_assignment" if incident.direct else "escalation_policy",
            "acknowledgements": [{"at": pd_time(at), "acknowledger":
                                  self.users[u].ref("acknowledgers" in includes)}
                                 for u, at in incident.acknowledgements if u in self.users],
            "pending_actions": self._pending(incident),
            "escalation_policy": policy.ref() if policy else None,
            "teams": [{"id": incident.team, "type": "team_reference"}] if incident.team else [],
            "urgency": incident.urgency,
            "alert_counts": {"all": len(incident.alerts), "triggered": len(incident.alerts),
                             "resolved": 0},
        }

    def _assignees(self, incident: DemoIncident) -> tuple[str, ...]:
        if incident.status == "resolved":
            return ()
        if incident.direct:
            return incident.direct
        policy = self.policies.get(incident.policy)
        return policy.levels[incident.level][1] if policy else ()

    def _pending(self, incident: DemoIncident) -> list[dict[str, str]]:
        actions = []
        escalate = self._escalate_at(incident)
        if escalate is not None:
            actions.append({"type": "escalate", "at": pd_time(escalate)})
        if incident.status == "acknowledged" and incident.unack_at is not None:
            actions.append({"type": "unacknowledge", "at": pd_time(incident.unack_at)})
        return actions

    def incident_alerts(self, incident_id: str) -> Response:
        incident = self.incidents.get(incident_id)
        if incident is None:
            return pd_error(404, "Not Found", 2100)
        details = {"firing": firing_text(incident.alerts), "num_firing": str(len(incident.alerts)),
                   "num_resolved": "0", "resolved": ""}
        alert = {"id": f"{incident_id}A", "type": "alert", "status": "triggered",
                 "alert_key": incident.incident_key, "created_at": pd_time(incident.created_at),
                 "incident": {"id": incident_id, "type": "incident_reference"},
                 "body": {"type": "alert_body", "details": details, "contexts": []}}
        return json_response({"alerts": [alert], "limit": MAX_LIMIT, "offset": 0,
                              "more": False, "total": None})

    def list_oncalls(self, request: Request) -> Response:
        now = self.clock.now()
        since = _param_time(request.param("since")) or now
        until = _param_time(request.param("until")) or now
        policies = set(request.params("escalation_policy_ids[]"))
        entries = [*self._permanent_oncalls(), *self.extra_oncalls]
        chosen = [o for o in entries
                  if (not policies or o.policy in policies)
                  and (o.start is None or o.start <= until) and (o.end is None or o.end >= since)]
        if request.param("earliest") == "true":
            first: dict[tuple[str, int, str], DemoOnCall] = {}
            for o in sorted(chosen, key=lambda o: o.start or datetime.min.replace(tzinfo=UTC)):
                first.setdefault((o.policy, o.level, o.user), o)
            chosen = list(first.values())
        return self._page(request, "oncalls", [self._oncall_json(o) for o in chosen])

    def _permanent_oncalls(self) -> list[DemoOnCall]:
        """Users named directly in a policy's levels are on call for good (start/end null)."""
        return [DemoOnCall(user, p.id, index + 1) for p in self.policies.values()
                for index, (_, users) in enumerate(p.levels) for user in users
                if not any(o.policy == p.id and o.level == index + 1 for o in self.extra_oncalls)]

    def _oncall_json(self, oncall: DemoOnCall) -> dict[str, object]:
        user = self.users.get(oncall.user, DemoUser(oncall.user, oncall.user, ""))
        policy = self.policies.get(oncall.policy)
        return {"user": user.ref(), "escalation_level": oncall.level,
                "escalation_policy": policy.ref() if policy else None,
                "schedule": ({"id": oncall.schedule, "type": "schedule_reference",
                              "summary": oncall.schedule} if oncall.schedule else None),
                "start": pd_time(oncall.start) if oncall.start else None,
                "end": pd_time(oncall.end) if oncall.end else None}

    def get_policy(self, policy_id: str) -> Response:
        policy = self.policies.get(policy_id)
        if policy is None:
            return pd_error(404, "Not Found", 2100)
        rules = [{"id": f"{policy_id}R{i}", "escalation_delay_in_minutes": delay,
                  "targets": [self.users[u].ref() for u in users if u in self.users]}
                 for i, (delay, users) in enumerate(policy.levels)]
        return json_response({"escalation_policy": {
            **policy.ref(), "type": "escalation_policy", "name": policy.name,
            "escalation_rules": rules, "num_loops": policy.num_loops}})

    def _page(self, request: Request, key: str, items: list[dict[str, object]]) -> Response:
        try:
            limit = min(int(request.param("limit") or 25), MAX_LIMIT)
            offset = int(request.param("offset") or 0)
        except ValueError:
            return pd_error(400, "Invalid Input Provided", 2001, ["limit and offset are numbers"])
        if limit < 1 or offset < 0 or offset + limit > OFFSET_CAP:
            return pd_error(400, "Invalid Input Provided", 2001,
                            [f"Offset must be less than {OFFSET_CAP - limit + 1}."])
        page = items[offset:offset + limit]
        total = len(items) if request.param("total") == "true" else None
        return json_response({key: page, "limit": limit, "offset": offset,
                              "more": offset + len(page) < len(items), "total": total})

    # -- writes --------------------------------------------------------------- #

    def _requester(self, request: Request) -> DemoUser | Response:
        email = request.header("from").strip()
        if not email:
            return pd_error(400, FROM_MISSING, FROM_MISSING_CODE)
        for user in self.users.values():
            if user.email.casefold() == email.casefold():
                return user
        return pd_error(400, "Invalid Input Provided", 2001, ["Requester User Not Found"])

    def update_incidents(self, request: Request) -> Response:
        who = self._requester(request)
        if not isinstance(who, DemoUser):
            return who
        try:
            updates = json.loads(request.body or b"null")["incidents"]
            assert isinstance(updates, list)
        except (ValueError, KeyError, TypeError, AssertionError, UnicodeDecodeError):
            return pd_error(400, "Invalid Input Provided", 2001, ["incidents must be a list"])
        if len(updates) > MAX_UPDATES:
            return pd_error(400, "Invalid Input Provided", 2001,
                            [f"At most {MAX_UPDATES} incidents per request"])
        now = self.clock.now()
        for update in updates:
            if not isinstance(update, dict) or update.get("id") not in self.incidents:
                return pd_error(404, "Not Found", 2100)
            if update.get("status") not in ("acknowledged", "resolved", None):
                return pd_error(400, "Invalid Input Provided", 2001, ["Status is invalid"])
        for update in updates:
            incident = self.incidents[update["id"]]
            if update.get("status") == "acknowledged":
                incident.status = "acknowledged"
                incident.acknowledgements.append((who.id, now))
                incident.unack_at = now + ACK_TIMEOUT
            elif update.get("status") == "resolved":
                incident.status, incident.unack_at = "resolved", None
            incident.updated_at = now
        self.writes.append(("PUT", "/incidents", request.header("from")))
        return json_response({"incidents": [self.incident_json(self.incidents[u["id"]])
                                            for u in updates]})

    def snooze(self, incident_id: str, request: Request) -> Response:
        who = self._requester(request)
        if not isinstance(who, DemoUser):
            return who
        incident = self.incidents.get(incident_id)
        if incident is None:
            return pd_error(404, "Not Found", 2100)
        try:
            duration = json.loads(request.body or b"null")["duration"]
            assert isinstance(duration, int) and 1 <= duration <= 604_800
        except (ValueError, KeyError, TypeError, AssertionError, UnicodeDecodeError):
            return pd_error(400, "Invalid Input Provided", 2001,
                            ["duration is a number of seconds from 1 to 604800"])
        if incident.status != "acknowledged":
            return pd_error(400, "Incident Already Resolved" if incident.status == "resolved"
                            else "Only acknowledged incidents can be snoozed", 2001)
        incident.unack_at = self.clock.now() + timedelta(seconds=duration)
        incident.updated_at = self.clock.now()
        self.writes.append(("POST", f"/incidents/{incident_id}/snooze", request.header("from")))
        return json_response({"incident": self.incident_json(incident)}, 201)


def _param_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        return None
