"""Contract tests: answers in Alertmanager 0.34's shapes (tests/fixtures/alertmanager-0.34/,
written from its api/v2/openapi.yaml), served over loopback to the real source code, CLI and app.

Debian ships 0.25, so what only newer servers send (mutedBy, silence annotations, UTF-8 label
names, `GET /silences` answering 500, `/api/v1` answering 410) comes from recorded answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from shiftdeck.clock import FrozenClock
from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.matchers import parse_matchers
from shiftdeck.domain.severity import DEFAULT_POLICY
from shiftdeck.domain.silences import extend_request
from shiftdeck.domain.view import AlertRow, Grouping, select_rows
from shiftdeck.sources.alertmanager import AlertmanagerClient, silence_body
from shiftdeck.widgets.source_banner import SourceBanner

from .support.app_factory import make_app
from .support.factories import NOW
from .support.faults import FaultServer
from .support.helpers import config_for

FIXTURES = Path(__file__).parent / "fixtures" / "alertmanager-0.34"
MIGRATION_ID = "4b8e6f3a-2c1d-4e5f-9a0b-1c2d3e4f5a6b"
MAINTENANCE_ID = "7c9d0e1f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"


class Recorded034(FaultServer):
    """Alertmanager 0.34 as recorded: the fixture for each v2 path, 410 for /api/v1 (removed in
    0.27), and `broken` paths answering 500."""

    def __init__(self) -> None:
        super().__init__()
        self.fault = None
        self.broken: set[str] = set()

    def respond(self, method: str, path: str, body: bytes,
                headers: Mapping[str, str]) -> tuple[int, str, bytes]:
        self.requests.append((method, path))
        route = path.split("?")[0]
        if route.startswith("/api/v1/"):
            return 410, "application/json", b'"The Alertmanager v1 API was deprecated in ' \
                                             b'version 0.16.0 and is removed as of version 0.27.0"'
        if route in self.broken:
            return 500, "application/json", b'"silence with multiple matcher sets"'
        name = {"/api/v2/alerts": "alerts.json", "/api/v2/silences": "silences.json",
                "/api/v2/status": "status.json"}.get(route)
        if name is None:
            return 404, "text/plain", b"not found"
        return 200, "application/json", (FIXTURES / name).read_bytes()


@pytest.fixture
def am034():
    with Recorded034() as server:
        yield server


def client_for(server: Recorded034) -> AlertmanagerClient:
    return AlertmanagerClient(config_for([server.url]).alertmanagers[0])


async def fetch(server: Recorded034):
    client = client_for(server)
    try:
        report, skipped = await client.report(NOW)
    finally:
        await client.aclose()
    assert skipped == 0
    return report


def cli(server: Recorded034, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text(f"user: alice\njournal: '{tmp_path / 'journal.jsonl'}'\n"
                    f"alertmanagers:\n  - {{name: am0, url: '{server.url}', timeout: 3s}}\n")
    return subprocess.run([sys.executable, "-m", "shiftdeck", *args], capture_output=True,
                          text=True, env={**os.environ, "SHIFTDECK_CONFIG": str(path)},
                          timeout=60)


async def test_an_alert_muted_by_a_time_interval_shows_muted_by_its_name(am034):
    report = await fetch(am034)
    alerts = {a.name: a for a in report.alerts}
    muted = alerts["CheckoutIdle"]
    assert (muted.state, muted.muted_by) == (AlertState.MUTED, ("weekends",))
    assert muted.state_text == "muted by weekends"
    # A silence outranks the interval: that alert is silenced (so an ACK! still reads as one).
    assert alerts["HighMemoryUsage"].state is AlertState.SILENCED
    assert alerts["QAWaveBackendDown"].state is AlertState.FIRING
    rows = select_rows(report.alerts, parse_matchers("@state=muted"), Grouping.NONE,
                       DEFAULT_POLICY)
    assert [r.alert.name for r in rows if isinstance(r, AlertRow)] == ["CheckoutIdle"]


async def test_silence_annotations_are_read_and_sanitised(am034):
    silences = {s.id: s for s in (await fetch(am034)).silences}
    migration = silences[MIGRATION_ID]
    assert migration.annotations == {"ticket": "CHG-4411",
                                     "note": "]52;c;cHduZWQ=rollback plan in the ticket"}
    assert silences[MAINTENANCE_ID].annotations == {}


async def test_utf8_label_names_are_kept_and_matchable_when_quoted(am034):
    report = await fetch(am034)
    checkout = next(a for a in report.alerts if a.name == "CheckoutIdle")
    assert checkout.labels["service.name"] == "checkout"
    (quoted,) = parse_matchers('"service.name"="checkout"')
    assert quoted.matches(checkout.labels)
    migration = next(s for s in report.silences if s.id == MIGRATION_ID)
    assert [str(m) for m in migration.matchers] == ['namespace="profile"',
                                                    '"service.name"=~"worker|api"']
    # The same name goes back to the server unchanged, as structured JSON.
    body = silence_body(extend_request(migration, migration.ends_at))
    assert body["matchers"][1] == {"name": "service.name", "value": "worker|api",
                                   "isRegex": True, "isEqual": True}


async def test_status_of_a_034_cluster(am034):
    client = client_for(am034)
    try:
        status = await client.status()
    finally:
        await client.aclose()
    assert (status.version, status.cluster_status, status.peers) == ("0.34.0", "ready", 2)


async def test_silences_answering_500_fail_the_silences_only(am034):
    am034.broken.add("/api/v2/silences")
    report = await fetch(am034)
    assert {a.name for a in report.alerts} == {"CheckoutIdle", "QAWaveBackendDown",
                                               "HighMemoryUsage"}
    assert report.silences == ()
    assert report.silences_error == "silences unavailable: HTTP 500 Internal Server Error"


async def test_silences_answering_500_keep_the_last_good_silences(am034):
    client = client_for(am034)
    try:
        good, _ = await client.report(NOW)
        am034.broken.add("/api/v2/silences")
        broken, _ = await client.report(NOW)
    finally:
        await client.aclose()
    assert broken.silences == good.silences and len(good.silences) == 2
    assert broken.silences_error and not good.silences_error


@pytest.mark.slow
def test_cli_shows_muted_alerts_and_silence_annotations(am034, tmp_path):
    listed = cli(am034, tmp_path, "alerts", "--json")
    assert listed.returncode == 0, listed.stderr
    checkout = next(a for a in json.loads(listed.stdout)["alerts"] if a["alertname"] == "CheckoutIdle")
    assert (checkout["state"], checkout["mutedBy"]) == ("muted", ["weekends"])
    plain = cli(am034, tmp_path, "alerts", "--filter", "@muted")
    (line,) = plain.stdout.splitlines()
    assert "muted by weekends" in line and "CheckoutIdle" in line
    silences = cli(am034, tmp_path, "silences", "--json")
    by_id = {s["id"]: s for s in json.loads(silences.stdout)}
    assert by_id[MIGRATION_ID]["annotations"]["ticket"] == "CHG-4411"
    assert by_id[MAINTENANCE_ID]["matchers"] == ['alertname=~"\\\\pLostgreSQL.*"']


def test_cli_alerts_with_silences_answering_500_lists_alerts_and_says_why(am034, tmp_path):
    am034.broken.add("/api/v2/silences")
    result = cli(am034, tmp_path, "alerts", "--json")
    assert result.returncode == 1
    answer = json.loads(result.stdout)
    assert len(answer["alerts"]) == 3
    assert [(s["name"], s["ok"]) for s in answer["sources"]] == [("am0", True), ("am0 silences", False)]
    assert result.stderr == ("shiftdeck: alertmanager am0: silences unavailable: "
                             "HTTP 500 Internal Server Error\n")


@pytest.mark.timeout(60)
@pytest.mark.slow
async def test_dashboard_with_silences_answering_500_shows_alerts_and_a_banner(am034):
    am034.broken.add("/api/v2/silences")
    app = make_app(roster=False, alertmanagers=[am034.url], refresh="1s", live=True,
                   clock=FrozenClock(NOW))
    async with app.run_test(size=(100, 24)) as pilot:
        banner = app.dashboard.query_one(SourceBanner)
        deadline = time.monotonic() + 20
        while not (banner.display and app.shift.board.alerts):
            assert time.monotonic() < deadline, "no banner or no alerts"
            await pilot.pause(0.1)
        assert len(app.shift.board.alerts) == 3
        assert "alertmanager am0 silences unavailable: HTTP 500" in str(banner.render())
        am034.broken.clear()
        while banner.display:
            assert time.monotonic() < deadline + 10, "the banner stayed after recovery"
            await pilot.pause(0.1)
        assert len(app.shift.board.silences) == 2


@pytest.mark.slow
def test_nothing_calls_the_removed_v1_api(am034, tmp_path):
    for args in (("alerts",), ("silences",), ("check",), ("handoff",)):
        result = cli(am034, tmp_path, *args)
        assert "410" not in result.stdout + result.stderr, args
    assert am034.requests and not [p for _, p in am034.requests if p.startswith("/api/v1")]
