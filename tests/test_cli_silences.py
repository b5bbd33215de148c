"""`shiftdeck ack | silence | silences | expire` as a user runs them: real processes and servers."""

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from .support.recorders import recording_server


def run(*args: str, urls: list[str], tmp_path, extra: str = "",
        timeout: float = 60) -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text("user: alice\nalertmanagers:\n"
                    + "".join(f"  - {{name: am{i}, url: '{u}', cluster: test, timeout: 3s}}\n"
                              for i, u in enumerate(urls)) + extra)
    environ = {**os.environ, "SHIFTDECK_CONFIG": str(path)}
    return subprocess.run([sys.executable, "-m", "shiftdeck", *args], capture_output=True,
                          text=True, env=environ, timeout=timeout)


def push(am, *alerts: dict[str, str]) -> None:
    am.push_alerts([{"labels": labels} for labels in alerts])
    am.wait_for_alerts(len(alerts))


DISK_A = {"alertname": "DiskFull", "severity": "warning", "pod": "db-0"}
DISK_B = {"alertname": "DiskFull", "severity": "warning", "pod": "db-1"}
BACKEND = {"alertname": "BackendDown", "severity": "critical", "namespace": "qawave"}


def test_ack_writes_one_ack_silence_per_matching_alert_and_prints_ids(alertmanager, tmp_path):
    push(alertmanager, DISK_A, DISK_B, BACKEND)
    result = run("ack", "DiskFull", "--note", "on it", urls=[alertmanager.url], tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = [line.split()[0] for line in result.stdout.splitlines()]
    silences = {s["id"]: s for s in alertmanager.silences()}
    assert sorted(printed) == sorted(silences)
    assert {frozenset((m["name"], m["value"]) for m in s["matchers"])
            for s in silences.values()} == {frozenset(DISK_A.items()), frozenset(DISK_B.items())}
    for silence in silences.values():
        assert silence["createdBy"] == "alice"
        assert silence["comment"].startswith("ACK! alice via shiftdeck at ")
        assert re.search(r" UTC — on it \[sd:[0-9a-f]{10}\]$", silence["comment"])
    again = run("ack", "DiskFull", urls=[alertmanager.url], tmp_path=tmp_path)
    assert again.returncode == 0 and again.stdout == ""
    assert again.stderr.count("already acknowledged by alice") == 2


def test_ack_without_a_matching_alert_exits_1(alertmanager, tmp_path):
    push(alertmanager, BACKEND)
    result = run("ack", "alertname=Nope", urls=[alertmanager.url], tmp_path=tmp_path)
    assert result.returncode == 1
    assert "no current alert matches 'alertname=Nope'" in result.stderr
    assert alertmanager.silences() == []


def test_ack_with_alertmanager_down_exits_1(alertmanager, tmp_path):
    push(alertmanager, BACKEND)
    url = alertmanager.url
    alertmanager.kill()
    result = run("ack", "BackendDown", urls=[url], tmp_path=tmp_path)
    assert result.returncode == 1
    assert "alertmanager am0: unreachable" in result.stderr


def test_silence_over_the_level_limit_is_refused_with_exit_2(alertmanager, tmp_path):
    push(alertmanager, BACKEND)
    result = run("silence", "BackendDown", "--duration", "2h", "--comment", "deploy",
                 "--approver", "carol", urls=[alertmanager.url], tmp_path=tmp_path)
    assert result.returncode == 2
    assert "refused: P1 silences are limited to 1h (asked for 2h)" in result.stderr
    assert alertmanager.silences() == []


def test_p1_silence_needs_an_approver_who_is_recorded(alertmanager, tmp_path):
    push(alertmanager, BACKEND)
    args = ("silence", 'namespace="qawave"', "--duration", "30m", "--comment", "deploy")
    refused = run(*args, urls=[alertmanager.url], tmp_path=tmp_path)
    assert refused.returncode == 2
    assert "refused: an approver is required: P1 needs approval" in refused.stderr
    approved = run(*args, "--approver", "carol", urls=[alertmanager.url], tmp_path=tmp_path)
    assert approved.returncode == 0, approved.stderr
    (silence,) = alertmanager.silences()
    assert approved.stdout.split()[0] == silence["id"]
    assert re.fullmatch(r"deploy \(approved by carol\) \[sd:[0-9a-f]{10}\]", silence["comment"])
    assert silence["matchers"] == [{"isEqual": True, "isRegex": False, "name": "namespace",
                                    "value": "qawave"}]


def test_silence_without_a_comment_is_refused(alertmanager, tmp_path):
    push(alertmanager, DISK_A)
    result = run("silence", "DiskFull", "--duration", "1h", urls=[alertmanager.url],
                 tmp_path=tmp_path)
    assert result.returncode == 2 and "a comment is required" in result.stderr


def test_silence_can_start_later(alertmanager, tmp_path):
    push(alertmanager, DISK_A)
    result = run("silence", "DiskFull", "--duration", "1h", "--comment", "maintenance",
                 "--start", "+30m", urls=[alertmanager.url], tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    (silence,) = alertmanager.silences()
    assert silence["status"]["state"] == "pending"


def test_silences_json_lists_each_silence_once_across_ha_peers(alertmanager_cluster, tmp_path):
    node0, node1 = alertmanager_cluster.nodes
    push(node0, DISK_A)
    push(node1, DISK_A)
    urls = alertmanager_cluster.urls
    acked = run("ack", "DiskFull", urls=urls, tmp_path=tmp_path)
    assert acked.returncode == 0, acked.stderr
    silence_id = acked.stdout.split()[0]
    deadline = time.monotonic() + 10
    while len(node1.silences()) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    result = run("silences", "--json", urls=urls, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    (listed,) = json.loads(result.stdout)
    assert (listed["id"], listed["cluster"], listed["state"]) == (silence_id, "test", "active")
    assert listed["createdBy"] == "alice" and listed["ack"] is True
    assert listed["comment"].startswith("ACK! alice via shiftdeck")
    assert sorted(listed["matchers"]) == sorted(f'{k}="{v}"' for k, v in DISK_A.items())
    assert listed["silencedAlerts"] == 1
    assert 14 * 60 <= listed["endsInSeconds"] <= 15 * 60
    expiring = run("silences", "--expiring", "10m", "--json", urls=urls, tmp_path=tmp_path)
    assert json.loads(expiring.stdout) == []
    text = run("silences", urls=urls, tmp_path=tmp_path)
    (line,) = text.stdout.splitlines()
    assert line.startswith(f"{silence_id} active  ends in 14m") and "1 alert(s) alice" in line


def test_expire_by_id_or_prefix(alertmanager, tmp_path):
    first = alertmanager.add_silence({"alertname": "A"})
    second = alertmanager.add_silence({"alertname": "B"})
    result = run("expire", first, urls=[alertmanager.url], tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{first} expired (test)"
    by_prefix = run("expire", second[:8], urls=[alertmanager.url], tmp_path=tmp_path)
    assert by_prefix.returncode == 0, by_prefix.stderr
    assert {s["status"]["state"] for s in alertmanager.silences()} == {"expired"}


def test_expire_an_unknown_id_exits_1(alertmanager, tmp_path):
    result = run("expire", "4f0c1f5e-0000-4000-8000-000000000000", urls=[alertmanager.url],
                 tmp_path=tmp_path)
    assert result.returncode == 1 and "no silence" in result.stderr


@pytest.mark.slow
def test_read_only_refuses_every_write_with_exit_2_and_sends_nothing(tmp_path):
    with recording_server(200, b"[]") as server:
        for args in (["ack", "DiskFull"],
                     ["silence", "DiskFull", "--duration", "1h", "--comment", "x"],
                     ["expire", "4f0c1f5e-0000-4000-8000-000000000000", "--cluster", "test"]):
            result = run("--read-only", *args, urls=[server.url], tmp_path=tmp_path)
            assert result.returncode == 2, args
            assert "read-only mode" in result.stderr
    assert server.requests == []


def test_read_only_upstream_refuses_with_exit_2(tmp_path):
    with recording_server(200, b"[]") as server:
        result = run("expire", "4f0c1f5e-0000-4000-8000-000000000000", "--cluster", "test",
                     urls=[], tmp_path=tmp_path,
                     extra=f"  - {{name: ro, url: '{server.url}', cluster: test, "
                           "read_only: true}\n")
        assert result.returncode == 2
        assert "every member of cluster test is read_only" in result.stderr
    assert server.requests == []


# --------------------------------------------------------------------------- #
# Regexes as Alertmanager evaluates them: RE2 syntax, linear time (issue 11)
# --------------------------------------------------------------------------- #

def regex_silence(am, name: str, value: str, **kwargs) -> str:
    return am.add_silence([{"name": name, "value": value, "isRegex": True, "isEqual": True}],
                          **kwargs)


@pytest.mark.timeout(90)
def test_a_backtracking_bomb_in_a_pending_silence_does_not_hang_silences(alertmanager, tmp_path):
    pod = "a" * 5000 + "c"
    push(alertmanager, {"alertname": "CrashLoop", "severity": "warning", "pod": pod})
    start = datetime.now(UTC) + timedelta(hours=1)
    bomb = regex_silence(alertmanager, "pod", "(a+)+b", starts_at=start, comment="bomb")
    result = run("silences", "--json", urls=[alertmanager.url], tmp_path=tmp_path, timeout=30)
    assert result.returncode == 0, result.stderr
    (listed,) = json.loads(result.stdout)
    assert (listed["id"], listed["state"], listed["silencedAlerts"]) == (bomb, "pending", 0)
    assert listed["matchers"] == ['pod=~"(a+)+b"']


@pytest.mark.timeout(90)
def test_a_silence_in_re2_syntax_is_listed_evaluated_and_expirable(alertmanager, tmp_path):
    push(alertmanager, {"alertname": "Hidden", "severity": "warning"})
    silence_id = regex_silence(alertmanager, "alertname", r"\pLidden", comment="RE2 class")
    deadline = time.monotonic() + 10
    while not alertmanager.alerts(active=False) and time.monotonic() < deadline:
        time.sleep(0.05)  # until Alertmanager itself marks the alert silenced
    listed = run("silences", "--json", urls=[alertmanager.url], tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (silence,) = json.loads(listed.stdout)
    assert (silence["id"], silence["state"]) == (silence_id, "active")
    assert silence["matchers"] == [r'alertname=~"\\pLidden"']
    assert silence["silencedAlerts"] == 1 and silence["warnings"] == []

    expired = run("expire", silence_id[:8], urls=[alertmanager.url], tmp_path=tmp_path)
    assert expired.returncode == 0, expired.stderr
    assert expired.stdout.strip() == f"{silence_id} expired (test)"
    assert [s["status"]["state"] for s in alertmanager.silences()] == ["expired"]


@pytest.mark.timeout(90)
def test_a_silence_re2_cannot_evaluate_is_shown_as_such_and_expirable(alertmanager, tmp_path):
    # Go compiles this; RE2 refuses it as too large for its memory budget.
    silence_id = regex_silence(alertmanager, "alertname", r"\pL{1000}", comment="huge")
    listed = run("silences", "--json", urls=[alertmanager.url], tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (silence,) = json.loads(listed.stdout)
    assert silence["id"] == silence_id
    assert silence["warnings"] == [
        r'alertname=~"\\pL{1000}": cannot evaluate: pattern too large - compile failed']
    text = run("silences", urls=[alertmanager.url], tmp_path=tmp_path)
    assert "cannot evaluate: pattern too large" in text.stdout
    expired = run("expire", silence_id, urls=[alertmanager.url], tmp_path=tmp_path)
    assert expired.returncode == 0, expired.stderr
