"""DemoEnvironment: a demo Alertmanager and Prometheus on loopback, for `shiftdeck --demo`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import TracebackType
from zoneinfo import ZoneInfo

from shiftdeck.clock import Clock
from shiftdeck.domain.roster import Rotation, localize

from .alertmanager_api import AlertmanagerApi
from .prometheus_api import PrometheusApi
from .scenario import Scenario, build_scenario
from .server import LoopbackServer
from .silences import SilenceStore


class DemoEnvironment:
    """Two real HTTP servers (127.0.0.1, free ports, daemon threads) answering like
    Alertmanager 0.25 and Prometheus 2.42, driven by the scenario and the injected clock.

        with DemoEnvironment(SystemClock()) as demo:
            config = demo.config_text()
    """

    def __init__(self, clock: Clock, seed: int = 7, scenario: Scenario | None = None) -> None:
        self.clock = clock
        self.seed = seed
        self.scenario = scenario if scenario is not None else build_scenario(seed)
        self.silences = SilenceStore(clock, seed)
        self.silences.add_seeds(self.scenario.silences)
        self._alertmanager: LoopbackServer | None = None
        self._prometheus: LoopbackServer | None = None

    def start(self) -> None:
        if self._alertmanager is not None:
            return
        prometheus = LoopbackServer("prometheus")
        try:
            alertmanager = LoopbackServer("alertmanager")
        except OSError:
            prometheus.stop()
            raise
        prometheus.start(PrometheusApi(self.scenario, self.clock))
        alertmanager.start(
            AlertmanagerApi(self.scenario, self.silences, self.clock, prometheus.url, self.clock.now())
        )
        self._prometheus, self._alertmanager = prometheus, alertmanager

    def stop(self) -> None:
        for server in (self._alertmanager, self._prometheus):
            if server is not None:
                server.stop()
        self._alertmanager = self._prometheus = None

    @property
    def running(self) -> bool:
        return self._alertmanager is not None

    @property
    def alertmanager_url(self) -> str:
        return self._started(self._alertmanager).url

    @property
    def prometheus_url(self) -> str:
        return self._started(self._prometheus).url

    def config_text(self) -> str:
        """A shiftdeck config (YAML) pointing at the two demo servers, with the handbooks'
        roster and escalation ladders (see DEMO_ROSTER and demo_override)."""
        # In the demo you are alice, one of the rostered engineers, so "your next shift" and
        # the acks you make read as they would for a real on-call engineer.
        user = "alice"
        return (
            f"title: {_quote('demo · qawave')}\n"
            f"user: {_quote(user)}\n"
            "refresh: 5s\n"
            "alertmanagers:\n"
            f"  - {{name: demo, url: {_quote(self.alertmanager_url)}, cluster: demo}}\n"
            "prometheus:\n"
            f"  - {{name: demo, url: {_quote(self.prometheus_url)}}}\n"
            + DEMO_ROSTER
            + demo_override(self.clock.now())
        )

    def __enter__(self) -> DemoEnvironment:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    @staticmethod
    def _started(server: LoopbackServer | None) -> LoopbackServer:
        if server is None:
            raise RuntimeError("the demo environment is not running: call start() first")
        return server


DEMO_ZONE = ZoneInfo("Europe/Berlin")
DEMO_ENGINEERS = ("alice", "bob", "carol", "dave")
DEMO_ROSTER = """\
timezone: Europe/Berlin
people:
  alice: {name: Alice Ng, handle: "@alice", phone: "+49 30 5550101", email: alice@qawave.test}
  bob: {name: Bob Okafor, handle: "@bob", phone: "+49 30 5550102", email: bob@qawave.test}
  carol: {name: Carol Diaz, handle: "@carol", phone: "+49 30 5550103", email: carol@qawave.test}
  dave: {name: Dave Kim, handle: "@dave", phone: "+49 30 5550104", email: dave@qawave.test}
  erin: {name: Erin Walsh, handle: "@erin", phone: "+49 30 5550201", email: erin@qawave.test}
  frank: {name: Frank Moreau, handle: "@frank", phone: "+49 30 5550301", email: frank@qawave.test}
rotations:                    # weekly, Monday 09:00 Berlin; secondary is next week's primary
  - {role: primary, members: [alice, bob, carol, dave], start: 2026-01-05T09:00, length: 1w}
  - {role: secondary, members: [bob, carol, dave, alice], start: 2026-01-05T09:00, length: 1w}
  - {role: manager, members: [erin], start: 2026-01-05T09:00, length: 1w}
  - {role: vp-eng, members: [frank], start: 2026-01-05T09:00, length: 1w}
escalation:                   # the handbooks' ladders
  P1:
    - {after: 0m, notify: primary}
    - {after: 15m, notify: secondary}
    - {after: 30m, notify: manager}
    - {after: 60m, notify: vp-eng}
  P2:
    - {after: 0m, notify: primary}
    - {after: 1h, notify: secondary}
  default:
    - {after: 0m, notify: primary}
"""


def demo_override(now: datetime) -> str:
    """A one-day swap: from tomorrow 09:00 Berlin until the day after, primary is covered by
    the engineer who is neither primary nor secondary that day. Depends only on `now`."""
    day = now.astimezone(DEMO_ZONE).date() + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 9, 0)
    rotation = Rotation("primary", DEMO_ENGINEERS, datetime(2026, 1, 5, 9, 0), timedelta(weeks=1),
                        DEMO_ZONE)
    turn = rotation.turn_at(localize(start, DEMO_ZONE))
    cover = DEMO_ENGINEERS[(turn + 2) % len(DEMO_ENGINEERS)]
    until = start + timedelta(days=1)
    return ("overrides:                    # a swap\n"
            f"  - {{role: primary, person: {cover}, from: {start.isoformat(timespec='minutes')}, "
            f"until: {until.isoformat(timespec='minutes')}}}\n")


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)
