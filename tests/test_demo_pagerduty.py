"""The demo's PagerDuty: the roster's people, an escalation policy with on-calls, and incidents
opened, escalated and resolved from the demo's P1/P2 alerts as Alertmanager's notifier would."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from shiftdeck.clock import FrozenClock
from shiftdeck.config import load_config_text
from shiftdeck.demo import DemoEnvironment
from shiftdeck.demo.scenario import State

from .support.demo_time import T0, parse_time


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def demo(clock: FrozenClock) -> Iterator[DemoEnvironment]:
    with DemoEnvironment(clock) as env:
        yield env


@pytest.fixture
def pd(demo: DemoEnvironment) -> Iterator[httpx.Client]:
    assert demo.pager is not None
    headers = {"Authorization": f"Token token={demo.pager.token}",
               "Accept": "application/vnd.pagerduty+json;version=2"}
    with httpx.Client(base_url=demo.pagerduty_url, headers=headers, timeout=5) as client:
        yield client


def incidents(pd: httpx.Client, *statuses: str) -> list[dict]:
    params = {"statuses[]": list(statuses), "limit": 100}
    response = pd.get("/incidents", params=params)
    assert response.status_code == 200, response.text
    return response.json()["incidents"]


def paged_alertnames(demo: DemoEnvironment, clock: FrozenClock) -> set[str]:
    """Alertnames with a P1/P2 alert firing, neither silenced nor inhibited, per Alertmanager."""
    alerts = httpx.get(demo.alertmanager_url + "/api/v2/alerts").json()
    return {a["labels"]["alertname"] for a in alerts
            if a["labels"]["severity"] in ("critical", "warning")
            and a["status"]["state"] == "active"}


def test_config_reaches_the_demo_pagerduty_as_the_demo_user(demo: DemoEnvironment) -> None:
    config = load_config_text(demo.config_text(), source="(demo)", environ={})
    (account,) = config.pagerduty
    assert account.url == demo.pagerduty_url
    assert account.from_email == "alice@qawave.test"
    assert dict(account.levels) == {1: "primary", 2: "secondary", 3: "manager"}
    assert demo.pager is not None and account.token == demo.pager.token
    emails = {user.email for user in demo.pager.api.users.values()}
    assert emails == {person.email for person in config.roster.people.values()}


def test_a_request_without_the_token_is_refused(demo: DemoEnvironment) -> None:
    assert httpx.get(demo.pagerduty_url + "/incidents").status_code == 401


def test_oncalls_are_the_roster_holders_now(demo: DemoEnvironment, pd: httpx.Client,
                                            clock: FrozenClock) -> None:
    roster = load_config_text(demo.config_text(), source="(demo)", environ={}).roster
    oncalls = pd.get("/oncalls").json()["oncalls"]
    by_level = {o["escalation_level"]: o["user"]["summary"] for o in oncalls}
    assert by_level == {level: roster.holder(role, clock.now()).name
                        for level, role in ((1, "primary"), (2, "secondary"), (3, "manager"))}
    policy_id = oncalls[0]["escalation_policy"]["id"]
    policy = pd.get(f"/escalation_policies/{policy_id}").json()["escalation_policy"]
    assert [r["escalation_delay_in_minutes"] for r in policy["escalation_rules"]] == [15, 15, 30]


def test_incidents_are_opened_as_alertmanagers_notifier_opens_them(
        demo: DemoEnvironment, pd: httpx.Client, clock: FrozenClock) -> None:
    open_ = incidents(pd, "triggered", "acknowledged")
    assert {i["title"].split()[1] for i in open_} == paged_alertnames(demo, clock)
    assert len(open_) >= 3
    for incident in open_:
        name = incident["title"].split()[1]
        group_key = '{}:{alertname="' + name + '"}'
        assert incident["incident_key"] == hashlib.sha256(group_key.encode()).hexdigest()
        assert incident["title"].startswith("[FIRING:")
        assert incident["title"].endswith(")") and " (" in incident["title"]
        [alert] = pd.get(f"/incidents/{incident['id']}/alerts").json()["alerts"]
        assert f" - alertname = {name}\n" in alert["body"]["details"]["firing"]
        assert parse_time(incident["created_at"]) <= T0


def test_incidents_escalate_on_their_own_and_resolve_with_their_alerts(
        demo: DemoEnvironment, pd: httpx.Client, clock: FrozenClock) -> None:
    young = [i for i in incidents(pd, "triggered") if i["pending_actions"]]
    assert young, "an incident still climbing its ladder"
    incident = young[0]
    (action,) = incident["pending_actions"]
    assert action["type"] == "escalate"
    level_before = incident["assignments"][0]["assignee"]["id"]
    clock.advance(parse_time(action["at"]) - clock.now() + timedelta(seconds=1))
    [after] = [i for i in incidents(pd) if i["id"] == incident["id"]]
    assert after["assignments"][0]["assignee"]["id"] != level_before
    name = incident["title"].split()[1]
    for _ in range(24 * 4):  # until every alert of that name resolved (at most a day)
        firing = [s for s in demo.scenario.status_at(clock.now())
                  if s.labels["alertname"] == name and s.state is State.FIRING]
        if not firing:
            break
        clock.advance(timedelta(minutes=15))
    else:
        pytest.skip(f"{name} fires all day")
    [resolved] = [i for i in incidents(pd) if i["id"] == incident["id"]]
    assert resolved["status"] == "resolved"


def test_an_ack_silence_stops_new_incidents_but_leaves_the_open_one(
        demo: DemoEnvironment, pd: httpx.Client) -> None:
    before = {i["id"] for i in incidents(pd, "triggered")}
    body = {"matchers": [{"name": "severity", "value": ".+", "isRegex": True}],
            "startsAt": T0.isoformat(), "endsAt": (T0 + timedelta(hours=1)).isoformat(),
            "createdBy": "alice", "comment": "ACK! alice"}
    assert httpx.post(demo.alertmanager_url + "/api/v2/silences", json=body).status_code == 200
    assert {i["id"] for i in incidents(pd, "triggered")} == before


@pytest.mark.timeout(60)
def test_shiftdeck_who_in_demo_mode_reads_the_demo_pagerduty(tmp_path) -> None:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "shiftdeck", "--demo", "who"],
                          capture_output=True, text=True, timeout=50, env=env)
    assert done.returncode == 0, done.stderr
    assert "  pd  " in done.stdout  # the on-call holders as PagerDuty has them
