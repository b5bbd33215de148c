"""A loopback PagerDuty for tests: the demo's PagerDutyApi (shapes from PagerDuty's OpenAPI)
with test-only hooks — rate limits on demand, slow answers, huge answers — and a world of
users and one escalation policy."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any
from contextlib import contextmanager

from shiftdeck.clock import Clock
from shiftdeck.demo.pagerduty_api import (Answer, DemoOnCall, DemoPolicy, DemoUser, Headers,
                                          PagerDutyApi, PagerDutyServer, pd_error)
from shiftdeck.demo.server import Request, Response

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
        self._hooks = threading.Lock()

    def __call__(self, request: Request, headers: Headers) -> Answer:
        with self._hooks:
            self.requests.append((request.method, request.path, request.query, dict(headers)))
            limited = self.rate_limited > 0
            if limited:
                self.rate_limited -= 1
        if limited:
            response, _ = pd_error(429, "Rate Limit Exceeded", 2020)
            return response, {"Retry-After": self.retry_after}
        if self.delay:
            time.sleep(self.delay)
        response, extra = super().__call__(request, headers)
        if self.padding and response.status < 300:
            body = (response.body.rstrip(b"\n")[:-1] + b',"padding":"'
                    + b"x" * self.padding + b'"}')
            response = Response(response.status, body, response.content_type)
        return response, extra

    def incident_json(self, incident: Any,
                      includes: frozenset[str] = frozenset()) -> dict[str, object]:
        shown = super().incident_json(incident, includes)
        if incident.id in self.shown_status:
            shown["status"] = self.shown_status[incident.id]
        return shown

    def paths(self, method: str = "GET") -> list[str]:
        return [path for m, path, _, _ in self.requests if m == method]


@contextmanager
def serving(api: PagerDutyApi) -> Iterator[str]:
    """The API on a free loopback port; its base URL."""
    server = PagerDutyServer(api).start()
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
