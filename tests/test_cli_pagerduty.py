"""`shiftdeck ack` and `shiftdeck who` with PagerDuty, as a user runs them: a real process, a
real Alertmanager and the loopback PagerDuty."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiftdeck.clock import SystemClock

from .support.pagerduty import POLICY, TestPagerDuty, account_yaml, backend_alert, serving

pytestmark = pytest.mark.timeout(120)

PEOPLE = """\
people:
  alice: {name: Alice Ng, handle: "@alice", email: alice@example.com}
  bob: {name: Bob Okafor, handle: "@bob", email: bob@example.com}
  carol: {name: Carol Diaz, email: carol@example.com}
"""


@pytest.fixture
def api() -> TestPagerDuty:
    return TestPagerDuty(SystemClock())


@pytest.fixture
def pd_url(api: TestPagerDuty) -> Iterator[str]:
    with serving(api) as url:
        yield url


def run(tmp_path: Path, *args: str, config: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.yaml"
    path.write_text(f"user: alice\njournal: {tmp_path / 'journal.jsonl'}\n" + config)
    environ = {**os.environ, "SHIFTDECK_CONFIG": str(path),
               "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "shiftdeck", *args], capture_output=True,
                          text=True, env=environ, timeout=90)


def am_yaml(url: str) -> str:
    return f"alertmanagers:\n  - {{name: am0, url: '{url}', cluster: test, timeout: 3s}}\n"


def page_for(alertmanager, api: TestPagerDuty, *pods: str) -> str:
    """Alerts firing in Alertmanager and the incident its PagerDuty notifier made of them."""
    alerts = [backend_alert(pod) for pod in pods]
    alertmanager.push_alerts([{"labels": labels} for labels in alerts])
    alertmanager.wait_for_alerts(len(alerts))
    return api.trigger(alerts, service="PSVC", policy=POLICY.id)


def journal(tmp_path: Path) -> list[dict]:
    path = tmp_path / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_ack_writes_the_ack_silence_and_acknowledges_the_incident(alertmanager, api, pd_url,
                                                                 tmp_path) -> None:
    incident_id = page_for(alertmanager, api, "backend-0", "backend-1")
    result = run(tmp_path, "ack", "BackendDown", config=am_yaml(alertmanager.url)
                 + account_yaml(pd_url))
    assert result.returncode == 0, result.stderr
    silences = alertmanager.silences()
    assert len(silences) == 2 and all(s["comment"].startswith("ACK! alice") for s in silences)
    assert api.incidents[incident_id].status == "acknowledged"
    assert [w[0] for w in api.writes] == ["PUT"]  # one incident, acknowledged once
    assert f"#1 {incident_id} acknowledged in PagerDuty pd: [FIRING:2] BackendDown" \
        in result.stdout
    kinds = [r["kind"] for r in journal(tmp_path)]
    assert kinds.count("ack") == 2 and kinds.count("pager_ack") == 2
    again = run(tmp_path, "ack", "BackendDown", config=am_yaml(alertmanager.url)
                + account_yaml(pd_url))
    assert again.returncode == 0, again.stderr
    assert "already acknowledged by Alice Ng" in again.stderr
    assert len(api.writes) == 1


def test_a_failing_pagerduty_ack_says_which_half_failed_and_exits_1(alertmanager, api, pd_url,
                                                                   tmp_path) -> None:
    incident_id = page_for(alertmanager, api, "backend-0")
    result = run(tmp_path, "ack", "BackendDown", config=am_yaml(alertmanager.url)
                 + account_yaml(pd_url, from_email="nobody@example.com"))
    assert result.returncode == 1
    assert ("silence written; PagerDuty ack failed: HTTP 400: Invalid Input Provided "
            "(PagerDuty error 2001): Requester User Not Found") in result.stderr
    assert len(alertmanager.silences()) == 1
    assert api.incidents[incident_id].status == "triggered"
    assert [r["kind"] for r in journal(tmp_path)] == ["ack"]


def test_without_from_the_incident_ack_is_refused_and_nothing_is_sent(alertmanager, api,
                                                                      pd_url, tmp_path) -> None:
    incident_id = page_for(alertmanager, api, "backend-0")
    result = run(tmp_path, "ack", "BackendDown", config=am_yaml(alertmanager.url)
                 + account_yaml(pd_url, from_email=""))
    assert result.returncode == 2
    assert "silence written; PagerDuty ack failed: pagerduty pd has no `from`" in result.stderr
    assert len(alertmanager.silences()) == 1
    assert api.paths("PUT") == [] and api.incidents[incident_id].status == "triggered"


def test_read_only_refuses_both_writes(alertmanager, api, pd_url, tmp_path) -> None:
    page_for(alertmanager, api, "backend-0")
    result = run(tmp_path, "--read-only", "ack", "BackendDown",
                 config=am_yaml(alertmanager.url) + account_yaml(pd_url))
    assert result.returncode == 2
    assert alertmanager.silences() == [] and api.requests == []


@pytest.mark.slow
def test_who_shows_pagerdutys_on_call_through_levels(api, pd_url, tmp_path) -> None:
    config = ("alertmanagers: [{name: am, url: 'http://127.0.0.1:9'}]\n" + PEOPLE
              + account_yaml(pd_url))
    result = run(tmp_path, "who", config=config)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("primary") and "Alice Ng (@alice)" in line and "pd" in line
               for line in lines), result.stdout
    assert any(line.startswith("secondary") and "Bob Okafor (@bob)" in line for line in lines)
    assert any(line.startswith("pd-L3") and "Carol Diaz" in line for line in lines)
    as_json = json.loads(run(tmp_path, "who", "--json", config=config).stdout)
    roles = {r["role"]: r for r in as_json["roles"]}
    assert roles["primary"]["person"]["id"] == "alice" and roles["primary"]["source"] == "pd"


def test_who_says_when_pagerduty_cannot_be_read_and_exits_1(api, pd_url, tmp_path) -> None:
    config = ("alertmanagers: [{name: am, url: 'http://127.0.0.1:9'}]\n" + PEOPLE
              + account_yaml(pd_url).replace("token: pd-test-token", "token: wrong"))
    result = run(tmp_path, "who", config=config)
    assert result.returncode == 1
    assert "pagerduty pd: on-calls unavailable: HTTP 401: PagerDuty refused the token" \
        in result.stderr
