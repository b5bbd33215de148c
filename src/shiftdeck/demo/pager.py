"""The demo's PagerDuty world: its users (the roster's people), one escalation policy whose
levels are the roster's primary, secondary and manager when the demo starts, and Alertmanager's
PagerDuty notifier, which opens, updates and resolves incidents from the scenario's P1/P2 alerts
whenever the API is asked (so a frozen clock gives identical answers)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shiftdeck.clock import Clock
from shiftdeck.domain.roster import Rotation

from .alertmanager_api import inhibited_by, silenced_by
from .pagerduty_api import DemoPolicy, DemoUser, PagerDutyApi, dedup_key
from .scenario import Scenario, State, Status
from .server import Request, Response
from .silences import SilenceStore
from .wire import millis

PEOPLE = (("alice", "Alice Ng"), ("bob", "Bob Okafor"), ("carol", "Carol Diaz"),
          ("dave", "Dave Kim"), ("erin", "Erin Walsh"), ("frank", "Frank Moreau"))
"""The roster's people (environment.DEMO_ROSTER), as PagerDuty users."""
EMAIL_DOMAIN = "qawave.test"
SERVICE = "PQAWAVE"
POLICY_ID = "PDEMOEP"
PAGED_SEVERITIES = ("critical", "warning")
"""P1 and P2 by the default severity policy: the alerts routed to PagerDuty."""
GROUP_BY = ("alertname",)
GROUP_WAIT = timedelta(seconds=30)
"""Alertmanager waits this long before the first notification of a new group."""
LEVELS = {1: "primary", 2: "secondary", 3: "manager"}
"""Escalation level → the roster role it is held by (the config's `levels`)."""


def user_id(person: str) -> str:
    return f"PU{person.upper()}"


def email(person: str) -> str:
    return f"{person}@{EMAIL_DOMAIN}"


def demo_users() -> list[DemoUser]:
    return [DemoUser(user_id(person), name, email(person)) for person, name in PEOPLE]


def demo_policy(engineers: Sequence[str], rotation_start: datetime, zone: ZoneInfo,
                now: datetime) -> DemoPolicy:
    """The handbooks' P1 ladder as a PagerDuty policy: primary, after 15 minutes secondary,
    after 15 more the manager (erin). `engineers` rotate weekly from `rotation_start` (naive,
    local to `zone`), the secondary being next week's primary, as in the demo's roster."""
    rotation = Rotation("primary", tuple(engineers), rotation_start, timedelta(weeks=1), zone)
    turn = rotation.turn_at(now)
    primary, secondary = engineers[turn % len(engineers)], engineers[(turn + 1) % len(engineers)]
    return DemoPolicy(POLICY_ID, "QAWave on-call",
                      ((15, (user_id(primary),)), (15, (user_id(secondary),)),
                       (30, (user_id("erin"),))))


class DemoPagerDuty:
    """The PagerDuty API with Alertmanager's notifier in front: every request first brings the
    incidents up to date with the alerts firing now."""

    def __init__(self, scenario: Scenario, silences: SilenceStore, clock: Clock,
                 policy: DemoPolicy, token: str | None = None) -> None:
        self.scenario = scenario
        self.silences = silences
        self.clock = clock
        self.token = token or secrets.token_hex(16)
        self.api = PagerDutyApi(clock, self.token, demo_users(), [policy])
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        self.sync(self.clock.now())
        return self.api(request)

    def sync(self, now: datetime) -> None:
        """Trigger (or update) an incident per alertname with a P1/P2 alert firing that is
        neither silenced nor inhibited; resolve those whose alerts all resolved."""
        with self._lock:
            firing = [s for s in self.scenario.status_at(now) if s.state is State.FIRING]
            inhibited = inhibited_by(self.scenario.inhibitions, firing)
            silences = self.silences.active(millis(now))
            groups: dict[str, list[Status]] = {}
            for status in firing:
                if status.labels.get("severity") in PAGED_SEVERITIES:
                    groups.setdefault(dedup_key([status.labels], GROUP_BY), []).append(status)
            for group in groups.values():
                notified = [s for s in group if s.fingerprint not in inhibited
                            and not silenced_by(silences, s.labels)]
                if notified:
                    self._notify(notified, now)
            for incident in list(self.api.incidents.values()):
                if incident.status != "resolved" and incident.incident_key not in groups:
                    self.api.resolve(incident.incident_key, now)

    def _notify(self, group: list[Status], now: datetime) -> None:
        first = min(s.fired_at or now.timestamp() for s in group)
        at = min(now, datetime.fromtimestamp(first, now.tzinfo) + GROUP_WAIT)
        alerts: list[Mapping[str, str]] = [s.labels for s in group]
        self.api.notify(alerts, service=SERVICE, policy=POLICY_ID, group_by=GROUP_BY, at=at)
