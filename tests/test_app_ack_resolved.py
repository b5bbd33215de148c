"""An ack made in the TUI ends when its alert resolves (ack.until_resolved), against a real
Alertmanager; with until_resolved: false it is kept.

An ack is old enough to end after domain.acks.SETTLE on its cluster's clock, which shiftdeck
reads from the Date header of Alertmanager's answers. The Alertmanager sits behind a proxy whose
Date header the test moves forward: the cluster's clock passes the settle without a real wait."""

from __future__ import annotations

import email.utils
import http.server
from datetime import UTC, datetime, timedelta

import pytest

from shiftdeck.domain.acks import SETTLE
from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.journal import AckResolved

from .support.app_factory import make_app
from .support.faults import FaultProxy
from .support.waiting import wait_for_polls, wait_until, writes_done

CRITICAL = {"alertname": "BackendDown", "severity": "critical", "namespace": "qawave"}
PAST_SETTLE = SETTLE + timedelta(minutes=1)


@pytest.fixture
def cluster_clock(monkeypatch):
    """How far ahead of real time the proxy's answers say it is (their Date header)."""
    ahead = [timedelta(0)]

    def date_time_string(self, timestamp=None):
        return email.utils.format_datetime(datetime.now(UTC) + ahead[0], usegmt=True)

    monkeypatch.setattr(http.server.BaseHTTPRequestHandler, "date_time_string",
                        date_time_string)
    return ahead


def _acks(am, state: str) -> list[str]:
    return [s["id"] for s in am.silences()
            if s["comment"].startswith("ACK!") and s["status"]["state"] == state]


async def _ack_then_resolve(pilot, app, am, cluster_clock) -> str:
    """`a` on the alert; once acked, the alert resolves and the cluster's clock moves on."""
    await wait_until(pilot, lambda: len(app.shift.board.alerts) == 1)
    await pilot.press("a")
    await wait_until(pilot, lambda: any(a.state is AlertState.ACKED
                                        for a in app.shift.board.alerts.values()))
    (ack,) = _acks(am, "active")
    am.push_alerts([{"labels": CRITICAL, "endsAt": datetime.now(UTC) - timedelta(minutes=1)}])
    am.wait_for_alerts(0)
    cluster_clock[0] = PAST_SETTLE
    return ack


async def test_an_ack_made_in_the_tui_ends_when_its_alert_resolves(alertmanager, cluster_clock,
                                                                   tmp_path):
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    with FaultProxy(alertmanager.url) as proxy:
        app = make_app(roster=False, alertmanagers=[proxy.url], live=True, refresh="1s",
                       journal_file=tmp_path / "journal.jsonl")
        async with app.run_test(size=(100, 30)) as pilot:
            ack = await _ack_then_resolve(pilot, app, alertmanager, cluster_clock)
            await wait_until(pilot, lambda: any(isinstance(r, AckResolved) for r in app.records))
            await writes_done(pilot, app)
        assert _acks(alertmanager, "active") == []
        assert _acks(alertmanager, "expired") == [ack]
        (record,) = [r for r in app.records if isinstance(r, AckResolved)]
        assert (record.silence, record.user) == (ack, "alice")


async def test_with_until_resolved_false_the_ack_is_kept(alertmanager, cluster_clock, tmp_path):
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    with FaultProxy(alertmanager.url) as proxy:
        app = make_app(roster=False, alertmanagers=[proxy.url], live=True, refresh="1s",
                       journal_file=tmp_path / "journal.jsonl",
                       extra="ack: {until_resolved: false}\n")
        async with app.run_test(size=(100, 30)) as pilot:
            ack = await _ack_then_resolve(pilot, app, alertmanager, cluster_clock)
            await wait_until(pilot, lambda: all(a.state is AlertState.RESOLVED
                                                for a in app.shift.board.alerts.values()))
            await wait_for_polls(pilot, app, 2)  # each poll past the settle could have ended it
            await writes_done(pilot, app)
        assert _acks(alertmanager, "active") == [ack]
        assert not [r for r in app.records if isinstance(r, AckResolved)]
