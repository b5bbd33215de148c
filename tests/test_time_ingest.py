"""Times from upstream are clamped into 1970..2200 at ingest and marked, never raising.

Alertmanager accepts and serves `startsAt` `0001-01-01T00:00:00+14:00` (whose UTC is before year
1) and `9999-12-31T23:59:59Z` (an hour later overflows): these go through the real server to the
real CLI and app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.escalation import EscalationPolicy, Step, escalate
from shiftdeck.domain.roster import Roster
from shiftdeck.domain.severity import DEFAULT_POLICY
from shiftdeck.sources.alertmanager import parse_alert, parse_silence
from shiftdeck.sources.timeparse import EARLIEST, LATEST, parse_time, parse_time_checked

from .support.app_factory import make_app
from .support.waiting import wait_until

ANCIENT = "0001-01-01T00:00:00+14:00"
FAR_FUTURE = "9999-12-31T23:59:59Z"
ANCIENT_LABELS = {"alertname": "AncientStart", "severity": "critical", "namespace": "qawave"}
FUTURE_LABELS = {"alertname": "FarFutureStart", "severity": "warning", "namespace": "qawave"}


@pytest.mark.parametrize("text, expected", [
    (ANCIENT, EARLIEST), ("0001-01-01T00:00:00Z", EARLIEST),
    ("1970-01-01T01:00:00+02:00", EARLIEST),
    (FAR_FUTURE, LATEST), ("9999-12-31T23:59:59-14:00", LATEST),
])
def test_out_of_range_times_are_clamped_and_marked(text, expected):
    assert parse_time_checked(text) == (expected, True)


def test_times_in_range_are_kept_as_sent():
    at, clamped = parse_time_checked("2026-11-22T14:00:00.123456789+01:00")
    assert not clamped
    assert at.isoformat() == "2026-11-22T14:00:00.123456+01:00"
    assert parse_time("2200-01-01T00:00:00Z") == LATEST


def test_a_clamped_alert_says_so_and_its_escalation_arithmetic_holds():
    alert = parse_alert({"labels": ANCIENT_LABELS, "startsAt": ANCIENT,
                         "status": {"state": "active"}}, "am0")
    assert alert.starts_at == EARLIEST
    assert alert.warnings == ("startsAt out of range: clamped",)
    future = parse_alert({"labels": FUTURE_LABELS, "startsAt": FAR_FUTURE}, "am0")
    policy = EscalationPolicy({"default": (Step(timedelta(hours=1), "primary"),)})
    now = datetime(2026, 11, 22, 14, tzinfo=UTC)
    for each in (alert, future):
        escalation = escalate(each, DEFAULT_POLICY.level_of(each.labels), policy,
                              Roster({}), now)
        assert escalation.rungs[0].at == each.starts_at + timedelta(hours=1)


def test_a_clamped_silence_says_which_time_was_clamped():
    silence = parse_silence({"id": "s1", "matchers": [{"name": "a", "value": "b",
                                                       "isRegex": False}],
                             "startsAt": ANCIENT, "endsAt": FAR_FUTURE,
                             "updatedAt": "2026-11-22T14:00:00Z",
                             "status": {"state": "active"}}, "test")
    assert (silence.starts_at, silence.ends_at) == (EARLIEST, LATEST)
    assert silence.starts_at_raw == ANCIENT  # echoed back unchanged on extension
    assert silence.warnings == ("startsAt out of range: clamped",
                                "endsAt out of range: clamped")


def _push_out_of_range_alerts(alertmanager) -> None:
    alertmanager.push_alerts([
        {"labels": ANCIENT_LABELS, "startsAt": ANCIENT,
         "endsAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
        {"labels": FUTURE_LABELS, "startsAt": FAR_FUTURE, "endsAt": "9999-12-31T23:59:59.999Z"},
    ])
    served = alertmanager.wait_for_alerts(2)
    # The premise: the server stores and serves them as sent.
    assert {a["startsAt"][:4] for a in served} == {"0001", "9999"}


def _cli(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text(f"user: alice\njournal: '{tmp_path / 'journal.jsonl'}'\n"
                    f"alertmanagers:\n  - {{name: am0, url: '{url}', timeout: 3s}}\n")
    environ = {**os.environ, "SHIFTDECK_CONFIG": str(path)}
    return subprocess.run([sys.executable, "-m", "shiftdeck", *args], capture_output=True,
                          text=True, env=environ, timeout=60)


@pytest.mark.timeout(90)
def test_cli_alerts_and_handoff_survive_out_of_range_start_times(alertmanager, tmp_path):
    _push_out_of_range_alerts(alertmanager)

    listed = _cli(tmp_path, alertmanager.url, "alerts", "--json")
    assert listed.returncode == 0, listed.stderr
    by_name = {a["alertname"]: a for a in json.loads(listed.stdout)["alerts"]}
    assert by_name["AncientStart"]["startsAt"] == "1970-01-01T00:00:00+00:00"
    assert by_name["FarFutureStart"]["startsAt"] == "2200-01-01T00:00:00+00:00"
    for alert in by_name.values():
        assert alert["warnings"] == ["startsAt out of range: clamped"]
    plain = _cli(tmp_path, alertmanager.url, "alerts")
    assert plain.returncode == 0, plain.stderr

    handoff = _cli(tmp_path, alertmanager.url, "handoff")
    assert handoff.returncode == 0, handoff.stderr
    assert "Traceback" not in handoff.stderr
    assert "AncientStart" in handoff.stdout and "FarFutureStart" in handoff.stdout


@pytest.mark.timeout(90)
async def test_the_dashboard_survives_its_first_poll_of_out_of_range_start_times(
        alertmanager, tmp_path):
    _push_out_of_range_alerts(alertmanager)
    app = make_app(roster=False, alertmanagers=[alertmanager.url], refresh="1s",
                   journal_file=tmp_path / "journal.jsonl", live=True)
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + 20
        while len(app.shift.board.alerts) < 2:
            assert time.monotonic() < deadline, "no poll arrived"
            await pilot.pause(0.1)
        await pilot.press("j", "k", "enter")
        detail = app.dashboard.query_one("AlertDetail")
        await wait_until(pilot, lambda: "startsAt out of range: clamped" in str(detail.render()))
        assert app.is_running
        assert all(a.state is AlertState.FIRING for a in app.shift.board.alerts.values())
