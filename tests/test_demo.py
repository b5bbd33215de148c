"""The `--demo` environment: real loopback HTTP, Alertmanager / Prometheus shapes, a FrozenClock."""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import yaml

from shiftdeck.clock import FrozenClock
from shiftdeck.demo import DemoEnvironment, build_scenario
from shiftdeck.domain.alerts import fingerprint

from .support.demo_time import T0, parse_time


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def demo(clock: FrozenClock) -> Iterator[DemoEnvironment]:
    with DemoEnvironment(clock) as env:
        yield env


@pytest.fixture
def am(demo: DemoEnvironment) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.alertmanager_url, timeout=5) as client:
        yield client


@pytest.fixture
def prom(demo: DemoEnvironment) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.prometheus_url, timeout=5) as client:
        yield client


def alerts(am: httpx.Client, **params: object) -> list[dict]:
    response = am.get("/api/v2/alerts", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def by_name(items: list[dict], name: str) -> list[dict]:
    return [a for a in items if a["labels"]["alertname"] == name]


def silence_body(matchers: list[dict], *, start: datetime = T0, hours: float = 1, **extra: object) -> dict:
    return {
        "matchers": matchers,
        "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=hours)).isoformat(),
        "createdBy": "tester",
        "comment": "ACK! looking",
        **extra,
    }


def label_matchers(labels: dict[str, str]) -> list[dict]:
    return [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in labels.items()]


# --------------------------------------------------------------------------- #
# Serving
# --------------------------------------------------------------------------- #


def test_serves_on_loopback(demo: DemoEnvironment, am: httpx.Client, prom: httpx.Client) -> None:
    assert demo.alertmanager_url.startswith("http://127.0.0.1:")
    assert demo.prometheus_url.startswith("http://127.0.0.1:")
    assert demo.alertmanager_url != demo.prometheus_url
    for client in (am, prom):
        assert client.get("/-/healthy").status_code == 200
        assert client.get("/-/ready").status_code == 200
    assert am.get("/-/healthy").text == "OK"
    assert am.get("/api/v2/nope").status_code == 404
    assert prom.get("/api/v1/nope").status_code == 404


def test_urls_need_start(clock: FrozenClock) -> None:
    env = DemoEnvironment(clock)
    with pytest.raises(RuntimeError):
        _ = env.alertmanager_url
    env.start()
    url = env.alertmanager_url
    with httpx.Client(base_url=url, timeout=2) as kept_alive:
        assert kept_alive.get("/-/healthy").status_code == 200
        env.stop()
        env.stop()  # idempotent
        with pytest.raises(httpx.TransportError):
            kept_alive.get("/-/healthy")
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/-/healthy", timeout=1)


def test_nothing_written_to_stderr(
    am: httpx.Client, prom: httpx.Client, capfd: pytest.CaptureFixture[str]
) -> None:
    am.get("/api/v2/alerts")
    am.get("/missing")
    am.post("/api/v2/silences", content=b"{not json")
    prom.get("/api/v1/query")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_demo_package_does_not_import_textual() -> None:
    code = "import sys, shiftdeck.demo; assert 'textual' not in sys.modules, 'textual imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- #
# Alertmanager alerts
# --------------------------------------------------------------------------- #


def test_alerts_are_valid_alertmanager_alerts(demo: DemoEnvironment, am: httpx.Client) -> None:
    served = alerts(am)
    assert len(served) >= 5
    assert [a["fingerprint"] for a in served] == sorted(a["fingerprint"] for a in served)
    for alert in served:
        assert alert["fingerprint"] == fingerprint(alert["labels"])
        assert {"alertname", "severity", "namespace", "team"} <= alert["labels"].keys()
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}
        assert "summary" in alert["annotations"]
        assert parse_time(alert["startsAt"]) <= T0 < parse_time(alert["endsAt"])
        assert parse_time(alert["startsAt"]) <= parse_time(alert["updatedAt"]) <= T0
        assert alert["startsAt"].endswith("Z")
        assert alert["receivers"] and alert["receivers"][0]["name"]
        status = alert["status"]
        assert status["state"] in {"active", "suppressed"}
        assert (status["state"] == "suppressed") == bool(status["silencedBy"] or status["inhibitedBy"])
        url = urllib.parse.urlsplit(alert["generatorURL"])
        assert f"{url.scheme}://{url.netloc}" == demo.prometheus_url
        query = urllib.parse.parse_qs(url.query)
        assert query["g0.tab"] == ["1"] and query["g0.expr"][0]
    ages = {T0 - parse_time(a["startsAt"]) for a in served}
    assert max(ages) > timedelta(hours=2) and min(ages) < timedelta(hours=1)


def test_one_alert_is_inhibited_by_a_firing_alert(am: httpx.Client) -> None:
    served = alerts(am)
    inhibited = [a for a in served if a["status"]["inhibitedBy"]]
    assert inhibited
    firing = {a["fingerprint"] for a in served}
    for alert in inhibited:
        assert alert["status"]["state"] == "suppressed"
        assert set(alert["status"]["inhibitedBy"]) <= firing
    assert not [a for a in alerts(am, inhibited="false") if a["status"]["inhibitedBy"]]


def test_hostile_text_is_served_raw(am: httpx.Client) -> None:
    [spike] = by_name(alerts(am), "FailedAuthSpike")
    assert spike["labels"]["category"] == "security"
    assert spike["labels"]["username"] == "[bold]not markup[/]"
    assert "\x1b]0;pwned\x07" in spike["annotations"]["description"]
    assert "[bold]not markup[/]" in spike["annotations"]["description"]


def test_filters_and_flags(am: httpx.Client) -> None:
    served = alerts(am)
    criticals = alerts(am, filter='severity="critical"')
    assert criticals and all(a["labels"]["severity"] == "critical" for a in criticals)
    both = alerts(am, filter=['severity=~"crit.*"', 'namespace!="clipper"'])
    assert all(a["labels"]["namespace"] != "clipper" for a in both)
    assert len(both) < len(criticals) or not [a for a in criticals if a["labels"]["namespace"] == "clipper"]
    assert alerts(am, active="false") == [a for a in served if a["status"]["state"] != "active"]
    assert all(not a["status"]["silencedBy"] for a in alerts(am, silenced="false"))
    paged = alerts(am, receiver="pagerduty.*")
    assert paged and all(a["receivers"][0]["name"] == "pagerduty-critical" for a in paged)
    assert am.get("/api/v2/alerts", params={"filter": 'alertname=~"("'}).status_code == 400


def test_groups(am: httpx.Client) -> None:
    groups = am.get("/api/v2/alerts/groups").json()
    assert sum(len(g["alerts"]) for g in groups) == len(alerts(am))
    for group in groups:
        assert all(a["labels"]["alertname"] == group["labels"]["alertname"] for a in group["alerts"])
        assert all(a["receivers"][0] == group["receiver"] for a in group["alerts"])


def test_status(am: httpx.Client) -> None:
    status = am.get("/api/v2/status").json()
    assert status["cluster"]["status"] == "ready"
    assert status["cluster"]["peers"][0]["name"] == status["cluster"]["name"]
    assert status["versionInfo"]["version"] == "0.25.0-demo"
    assert status["config"] == {"original": ""}
    assert parse_time(status["uptime"]) == T0


# --------------------------------------------------------------------------- #
# Prometheus
# --------------------------------------------------------------------------- #


def test_prometheus_alerts_include_pending(am: httpx.Client, prom: httpx.Client) -> None:
    body = prom.get("/api/v1/alerts").json()
    assert body["status"] == "success"
    served = body["data"]["alerts"]
    pending = [a for a in served if a["state"] == "pending"]
    firing = [a for a in served if a["state"] == "firing"]
    assert pending and firing
    for alert in served:
        assert isinstance(alert["value"], str)
        float(alert["value"])
        assert parse_time(alert["activeAt"]) <= T0
    am_fps = {a["fingerprint"] for a in alerts(am)}
    assert {fingerprint(a["labels"]) for a in firing} == am_fps
    assert not {fingerprint(a["labels"]) for a in pending} & am_fps


def test_rules(prom: httpx.Client) -> None:
    groups = prom.get("/api/v1/rules", params={"type": "alert"}).json()["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert 15 <= len(rules) <= 25
    assert {r["type"] for r in rules} == {"alerting"}
    assert {r["health"] for r in rules} == {"ok"}
    assert {"inactive", "pending", "firing"} == {r["state"] for r in rules}
    for rule in rules:
        assert isinstance(rule["duration"], int) and rule["query"]
        assert (rule["state"] == "inactive") == (not rule["alerts"])
    assert prom.get("/api/v1/rules", params={"type": "record"}).json()["data"]["groups"] == []
    assert prom.get("/api/v1/rules", params={"type": "bogus"}).status_code == 400


def test_query_and_query_range(demo: DemoEnvironment, prom: httpx.Client, am: httpx.Client) -> None:
    alert = alerts(am)[0]
    expr = urllib.parse.parse_qs(urllib.parse.urlsplit(alert["generatorURL"]).query)["g0.expr"][0]
    vector = prom.get("/api/v1/query", params={"query": expr}).json()["data"]
    assert vector["resultType"] == "vector" and vector["result"]
    assert all(isinstance(s["value"][1], str) for s in vector["result"])
    end = T0.timestamp()
    params = {"query": expr, "start": end - 3600, "end": end, "step": "60s"}
    matrix = prom.get("/api/v1/query_range", params=params).json()["data"]
    assert matrix["resultType"] == "matrix" and matrix["result"]
    assert matrix == prom.get("/api/v1/query_range", params=params).json()["data"]
    anything = prom.get("/api/v1/query_range", params={**params, "query": "rate(foo[5m])"}).json()["data"]
    assert len(anything["result"][0]["values"]) == 61
    pending = prom.get("/api/v1/query", params={"query": 'ALERTS{alertstate="pending"}'}).json()["data"]
    assert pending["result"] and all(s["metric"]["alertstate"] == "pending" for s in pending["result"])
    assert prom.get("/api/v1/query").status_code == 400
    assert prom.get("/api/v1/query_range", params={**params, "step": "0"}).status_code == 400
    info = prom.get("/api/v1/status/buildinfo").json()["data"]
    assert info["version"] == "2.42.0-demo"


# --------------------------------------------------------------------------- #
# Time
# --------------------------------------------------------------------------- #


def test_frozen_clock_is_deterministic(clock: FrozenClock, demo: DemoEnvironment) -> None:
    with DemoEnvironment(FrozenClock(T0)) as twin:
        for path in ("/api/v2/alerts", "/api/v2/silences"):
            mine = httpx.get(demo.alertmanager_url + path).text.replace(demo.prometheus_url, "P")
            theirs = httpx.get(twin.alertmanager_url + path).text.replace(twin.prometheus_url, "P")
            assert mine == theirs
        for path in ("/api/v1/alerts", "/api/v1/rules"):
            assert httpx.get(demo.prometheus_url + path).text == httpx.get(twin.prometheus_url + path).text


def test_seed_changes_the_world() -> None:
    a, b = build_scenario(7), build_scenario(8)
    assert [x.labels["alertname"] for x in a.actors] == [x.labels["alertname"] for x in b.actors]
    assert [x.fingerprint for x in a.actors] != [x.fingerprint for x in b.actors]


def test_advancing_the_clock_changes_states(clock: FrozenClock, am: httpx.Client, prom: httpx.Client) -> None:
    seen: list[set[str]] = []
    pending_seen: list[set[str]] = []
    for _ in range(30):
        seen.append({a["fingerprint"] for a in alerts(am)})
        served = prom.get("/api/v1/alerts").json()["data"]["alerts"]
        pending_seen.append({fingerprint(a["labels"]) for a in served if a["state"] == "pending"})
        clock.advance(timedelta(minutes=1))
    resolved = set().union(*(before - after for before, after in zip(seen, seen[1:])))
    fired = set().union(*(after - before for before, after in zip(seen, seen[1:])))
    assert resolved and fired
    # a newly firing alert was pending just before, as in Prometheus
    assert fired & set().union(*pending_seen)
    assert all(pending_seen), "at least one alert is always pending"
    # the always-firing ones never left
    assert len(set.intersection(*seen)) >= 3


# --------------------------------------------------------------------------- #
# Silences
# --------------------------------------------------------------------------- #


def _unsilenced_alert(am: httpx.Client) -> dict:
    return next(a for a in alerts(am) if a["status"]["state"] == "active")


def test_silence_suppresses_extends_and_expires(clock: FrozenClock, am: httpx.Client) -> None:
    target = _unsilenced_alert(am)
    body = silence_body(label_matchers({"alertname": target["labels"]["alertname"],
                                        "namespace": target["labels"]["namespace"]}))
    created = am.post("/api/v2/silences", json=body)
    assert created.status_code == 200, created.text
    silence_id = created.json()["silenceID"]

    [now_silenced] = [a for a in alerts(am) if a["fingerprint"] == target["fingerprint"]]
    assert now_silenced["status"]["state"] == "suppressed"
    assert silence_id in now_silenced["status"]["silencedBy"]
    assert target["fingerprint"] not in {a["fingerprint"] for a in alerts(am, silenced="false")}

    stored = am.get(f"/api/v2/silence/{silence_id}").json()
    assert stored["status"]["state"] == "active" and stored["createdBy"] == "tester"

    # kthxbye-style extension: same id, same matchers and startsAt, later endsAt
    clock.advance(timedelta(minutes=10))
    later = (T0 + timedelta(hours=2)).isoformat()
    extend = {**body, "id": silence_id, "startsAt": stored["startsAt"], "endsAt": later}
    assert am.post("/api/v2/silences", json=extend).json() == {"silenceID": silence_id}
    assert parse_time(am.get(f"/api/v2/silence/{silence_id}").json()["endsAt"]) == T0 + timedelta(hours=2)

    # changing the matchers makes a new silence and expires the old one
    severity = label_matchers({"severity": target["labels"]["severity"]})
    narrower = {**extend, "matchers": [*body["matchers"], *severity]}
    replacement = am.post("/api/v2/silences", json=narrower).json()["silenceID"]
    assert replacement != silence_id
    assert am.get(f"/api/v2/silence/{silence_id}").json()["status"]["state"] == "expired"

    assert am.delete(f"/api/v2/silence/{replacement}").status_code == 200
    assert am.get(f"/api/v2/silence/{replacement}").json()["status"]["state"] == "expired"
    [back] = [a for a in alerts(am) if a["fingerprint"] == target["fingerprint"]]
    assert back["status"] == {"inhibitedBy": [], "silencedBy": [], "state": "active"}
    assert am.delete("/api/v2/silence/00000000-0000-4000-8000-000000000000").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"matchers": []},
        {"createdBy": None},
        {"comment": None},
        {"comment": ""},
        {"endsAt": T0.isoformat()},
        {"endsAt": (T0 - timedelta(hours=1)).isoformat()},
        {"matchers": [{"name": "alertname", "value": ".*", "isRegex": True}]},
        {"matchers": [{"name": "bad-name", "value": "x", "isRegex": False}]},
        {"startsAt": "yesterday"},
    ],
)
def test_invalid_silence_is_400(am: httpx.Client, change: dict) -> None:
    body = {**silence_body(label_matchers({"alertname": "RedisDown"})), **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = am.post("/api/v2/silences", json=body)
    assert response.status_code == 400
    assert isinstance(response.json(), str) and response.json()


def test_unknown_silence_id(am: httpx.Client) -> None:
    body = silence_body(label_matchers({"alertname": "RedisDown"}), id="no-such-silence")
    assert am.post("/api/v2/silences", json=body).status_code == 404
    assert am.get("/api/v2/silence/no-such-silence").status_code == 404


def test_seed_silences_and_sorting(am: httpx.Client) -> None:
    silences = am.get("/api/v2/silences").json()
    states = [s["status"]["state"] for s in silences]
    assert states == sorted(states, key=["active", "pending", "expired"].index)
    assert {"active", "pending", "expired"} <= set(states)
    assert any(s["comment"].startswith("ACK!") and s["status"]["state"] == "active" for s in silences)
    redis = am.get("/api/v2/silences", params={"filter": 'alertname="RedisDown"'}).json()
    assert [s["createdBy"] for s in redis] == ["carol"]


def test_concurrent_posts_get_distinct_ids(am: httpx.Client) -> None:
    body = silence_body(label_matchers({"alertname": "TaskQueueBackedUp"}))

    def post(_: int) -> str:
        return am.post("/api/v2/silences", json=body).json()["silenceID"]

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(post, range(32)))
    assert len(set(ids)) == 32


# --------------------------------------------------------------------------- #
# Config
# --------------------------------------------------------------------------- #


def test_config_text(demo: DemoEnvironment) -> None:
    config = yaml.safe_load(demo.config_text())
    assert set(config) == {"title", "user", "refresh", "alertmanagers", "prometheus", "timezone",
                           "people", "rotations", "overrides", "escalation", "runbooks",
                           "kubernetes", "journal", "pagerduty"}
    assert config["user"] == "alice"  # the demo plays as a rostered engineer
    assert "alice" in config["people"]
    assert config["refresh"] == "5s"
    assert config["alertmanagers"] == [{"name": "demo", "url": demo.alertmanager_url, "cluster": "demo"}]
    assert config["prometheus"] == [{"name": "demo", "url": demo.prometheus_url}]


def test_demo_roster_and_ladders_load(demo: DemoEnvironment, clock: FrozenClock) -> None:
    from shiftdeck.config import load_config_text

    config = load_config_text(demo.config_text(), source="(demo)")
    roster, now = config.roster, clock.now()
    assert roster.roles() == ("primary", "secondary", "manager", "vp-eng")
    assert roster.holder("primary", now) != roster.holder("secondary", now)
    assert (roster.holder("manager", now).id, roster.holder("vp-eng", now).id) == ("erin", "frank")
    assert [(s.after, s.notify) for s in config.escalation.ladder("P1")] == [
        (timedelta(0), "primary"), (timedelta(minutes=15), "secondary"),
        (timedelta(minutes=30), "manager"), (timedelta(minutes=60), "vp-eng")]
    assert [s.notify for s in config.escalation.ladder("P2")] == ["primary", "secondary"]
    assert [s.notify for s in config.escalation.ladder("P3")] == ["primary"]


def test_demo_override_is_a_real_swap_tomorrow_and_depends_only_on_the_clock(
        demo: DemoEnvironment, clock: FrozenClock) -> None:
    from shiftdeck.config import load_config_text

    assert demo.config_text() == demo.config_text()
    roster = load_config_text(demo.config_text(), source="(demo)").roster
    (override,) = roster.overrides
    assert override.start - clock.now() < timedelta(days=2)
    without = type(roster)(roster.people, roster.rotations, timezone=roster.timezone)
    usual = {without.holder(role, override.start).id for role in ("primary", "secondary")}
    assert override.person not in usual
    assert roster.holder("primary", override.start).id == override.person
