"""A loopback PagerDuty for tests: the demo's PagerDutyApi (shapes from PagerDuty's OpenAPI)
with test-only hooks — rate limits on demand, slow answers, huge answers — and a world of
users and one escalation policy."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any
from contextlib import contextmanager
from dataclasses import replace

from shiftdeck.clock import Clock
from shiftdeck.demo.pagerduty_api import DemoOnCall, DemoPolicy, DemoUser, PagerDutyApi, pd_error
from shiftdeck.demo.server import LoopbackServer, Request, Response

TOKEN = "pd-test-token"
ALICE = DemoUser("PUALICE", "Alice Ng", "alice@example.com")
BOB = DemoUser("PUBOB", "Bob Okafor", "bob@example.com")
CAROL = DemoUser("PUCAROL", "Carol Diaz", "carol@example.com")
POLICY = DemoPolicy("PEP1", "Backend", ((15, (ALICE.id,)), (30, (BOB.id,)), (60, (CAROL.id,))))


class TestPagerDuty(PagerDutyApi):
    """PagerDutyApi plus what only tests ask of it."""

    __test__ = False  # not a pytest test class

    def __init__(self, clock: Clock, oncalls: tuple[DemoOnCall, ...] = ()) -> None:
        super().__init__(clock, TOKEN, [ALICE, BOB, CAROL], [POLICY], oncalls)
        self.rate_limited = 0
        """Answer this many next requests with 429."""
        self.retry_after = "1"
        self.delay = 0.0
        """Seconds each answer waits before it is sent."""
        self.padding = 0
        """Bytes of junk added to every successful answer."""
        self.requests: list[tuple[str, str, dict[str, list[str]], Mapping[str, str]]] = []
        self.shown_status: dict[str, str] = {}
        """Incident id → a status to answer whatever the incident's real one (a status a newer
        PagerDuty might send)."""
        self.schedule_targets: dict[tuple[str, int], tuple[str, str]] = {}
        """(policy id, 0-based rule) → (schedule id, name): a schedule target added to it."""
        self._hooks = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._hooks:
            self.requests.append((request.method, request.path, request.query,
                                  dict(request.headers)))
            limited = self.rate_limited > 0
            if limited:
                self.rate_limited -= 1
        if limited:
            return replace(pd_error(429, "Rate Limit Exceeded", 2020),
                           headers={"Retry-After": self.retry_after})
        if self.delay:
            time.sleep(self.delay)
        response = super().__call__(request)
        if self.padding and response.status < 300:
            body = (response.body.rstrip(b"\n")[:-1] + b',"padding":"'
                    + b"x" * self.padding + b'"}')
            response = replace(response, body=body)
        return response

    def incident_json(self, incident: Any,
                      includes: frozenset[str] = frozenset()) -> dict[str, object]:
        shown = super().incident_json(incident, includes)
        if incident.id in self.shown_status:
            shown["status"] = self.shown_status[incident.id]
        return shown

    def get_policy(self, policy_id: str) -> Response:
        response = super().get_policy(policy_id)
        if not any(p == policy_id for p, _ in self.schedule_targets) or response.status != 200:
            return response
        body = json.loads(response.body)
        for index, rule in enumerate(body["escalation_policy"]["escalation_rules"]):
            if (policy_id, index) in self.schedule_targets:
                schedule, name = self.schedule_targets[policy_id, index]
                rule["targets"].insert(0, {"id": schedule, "type": "schedule_reference",
                                           "summary": name})
        return replace(response, body=json.dumps(body).encode())

    def paths(self, method: str = "GET") -> list[str]:
        return [path for m, path, _, _ in self.requests if m == method]


@contextmanager
def serving(api: PagerDutyApi) -> Iterator[str]:
    """The API on a free loopback port; its base URL."""
    server = LoopbackServer("pagerduty")
    server.start(api)
    try:
        yield server.url
    finally:
        server.stop()


def backend_alert(pod: str) -> dict[str, str]:
    return {"alertname": "BackendDown", "severity": "critical", "namespace": "qawave",
            "pod": pod}


def account_yaml(url: str, *, from_email: str = "alice@example.com", extra: str = "") -> str:
    """A `pagerduty:` section for the loopback API."""
    sender = f", from: {from_email}" if from_email else ""
    return (f"pagerduty:\n  - {{name: pd, url: '{url}', token: {TOKEN}{sender}, timeout: 3s, "
            f"levels: {{1: primary, 2: secondary}}{extra}}}\n")
