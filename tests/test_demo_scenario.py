"""The demo's alerts stay long enough to be explored: P1/P2 ones fire for at least 30 minutes,
an acknowledged one never resolves while the demo runs, and the table still shows life."""

from __future__ import annotations

from datetime import timedelta

import httpx

from shiftdeck.clock import FrozenClock
from shiftdeck.demo import DemoEnvironment, build_scenario
from shiftdeck.demo.scenario import EVAL_INTERVAL, Cycling, State

from .support.demo_time import T0

EXPLORE = 30 * 60
DAY = 86_400
ACTED_ON = ("critical", "warning")  # P1 and P2 by the default severity policy


def _firing_runs(actor, start: float, end: float) -> list[float]:
    """Seconds of each complete firing episode of `actor` between start and end."""
    runs, since, was = [], None, None
    for t in range(int(start), int(end), EVAL_INTERVAL):
        phase = actor.phase(t)
        firing = phase is not None and phase.state is State.FIRING
        if firing and not was:
            since = t
        elif was and not firing and since is not None and since > start:
            runs.append(t - since)
        was = firing
    return runs


def test_p1_and_p2_alerts_fire_for_at_least_30_minutes_each_time() -> None:
    scenario = build_scenario(7)
    start = T0.timestamp()
    checked = 0
    for actor in scenario.actors:
        if actor.labels["severity"] not in ACTED_ON or not isinstance(actor.lifecycle, Cycling):
            continue
        runs = _firing_runs(actor, start, start + 2 * DAY)
        assert runs, actor.rule.name
        assert min(runs) >= EXPLORE, (actor.rule.name, min(runs))
        checked += 1
    assert checked >= 10


def test_the_table_still_shows_life_every_ten_minutes() -> None:
    scenario = build_scenario(7)
    start = int(T0.timestamp())
    states = [{s.fingerprint for s in scenario.status_at(t) if s.state is State.FIRING}
              for t in range(start, start + 6 * 3600, EVAL_INTERVAL)]
    window = 600 // EVAL_INTERVAL
    for first in range(0, len(states) - window, window):
        span = states[first:first + window + 1]
        changes = sum(len(a ^ b) for a, b in zip(span, span[1:]))
        assert changes >= 1, f"nothing fired or resolved in minutes {first * 15 // 60}+10"


def test_an_acknowledged_alert_never_resolves_while_the_demo_runs() -> None:
    clock = FrozenClock(T0)
    with DemoEnvironment(clock) as demo, httpx.Client(timeout=5) as http:
        am, prom = demo.alertmanager_url, demo.prometheus_url
        firing = http.get(am + "/api/v2/alerts").json()
        cycling = {a.fingerprint for a in demo.scenario.actors if isinstance(a.lifecycle, Cycling)}
        target = next(a for a in firing if a["fingerprint"] in cycling
                      and a["status"]["state"] == "active")
        matchers = [{"name": k, "value": v, "isRegex": False, "isEqual": True}
                    for k, v in target["labels"].items()]
        ack = {"matchers": matchers, "startsAt": T0.isoformat(),
               "endsAt": (T0 + timedelta(minutes=15)).isoformat(), "createdBy": "alice",
               "comment": "ACK! alice via shiftdeck"}
        assert http.post(am + "/api/v2/silences", json=ack).status_code == 200
        for _ in range(12):  # six hours: far longer than any episode
            clock.advance(timedelta(minutes=30))
            alerts = {a["fingerprint"]: a for a in http.get(am + "/api/v2/alerts").json()}
            assert target["fingerprint"] in alerts
            assert alerts[target["fingerprint"]]["startsAt"] == target["startsAt"]
            prom_alerts = http.get(prom + "/api/v1/alerts").json()["data"]["alerts"]
            assert any(a["labels"] == target["labels"] and a["state"] == "firing"
                       for a in prom_alerts)
        assert {a.fingerprint for a in demo.scenario.actors if a.held} == {target["fingerprint"]}


def test_a_silence_that_is_not_an_ack_holds_nothing() -> None:
    clock = FrozenClock(T0)
    with DemoEnvironment(clock) as demo, httpx.Client(timeout=5) as http:
        body = {"matchers": [{"name": "severity", "value": ".+", "isRegex": True}],
                "startsAt": T0.isoformat(), "endsAt": (T0 + timedelta(hours=1)).isoformat(),
                "createdBy": "bob", "comment": "maintenance"}
        assert http.post(demo.alertmanager_url + "/api/v2/silences", json=body).status_code == 200
        assert not [a for a in demo.scenario.actors if a.held]
