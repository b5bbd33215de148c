"""Silences against real Alertmanagers: read, ack, extend, expire, fail over, read-only."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.board import EMPTY_BOARD, build_board
from shiftdeck.domain.severity import DEFAULT_POLICY
from shiftdeck.config import load_config_text
from shiftdeck.domain.silences import (AckSettings, SilenceRequest, SilenceState, ack_request,
                                       exact_matchers, extend_request, plan_extensions)
from shiftdeck.sources.alertmanager import AlertmanagerClient, parse_silences
from shiftdeck.sources.http import SourceError
from shiftdeck.sources.silence_writer import ReadOnlyError, SilenceWriter

from .support.factories import make_alert
from .support.helpers import config_for
from .support.recorders import recording_server


def now() -> datetime:
    return datetime.now(UTC)


def push_one(am, name: str = "BackendDown", **labels: str) -> dict[str, str]:
    all_labels = {"alertname": name, "severity": "critical", "namespace": "qawave", **labels}
    am.push_alerts([{"labels": all_labels}])
    am.wait_for_alerts(1)
    return all_labels


async def eventually(check, timeout: float = 10.0):
    """Await `check()` until it returns something truthy (gossip and silencing take a moment)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


def ack_for(labels, cluster="test", settings=AckSettings()) -> SilenceRequest:
    return ack_request(exact_matchers(labels), cluster, "alice", now(), settings)


# -- reading ----------------------------------------------------------------- #


async def test_report_carries_the_silences_with_the_raw_start(alertmanager):
    silence_id = alertmanager.add_silence({"alertname": "Noisy"}, comment="deploy")
    (raw,) = alertmanager.silences()
    client = AlertmanagerClient(config_for([alertmanager.url]).alertmanagers[0])
    report, _ = await client.report(now())
    await client.aclose()
    (silence,) = report.silences
    assert (silence.id, silence.cluster, silence.state) == (silence_id, "test", SilenceState.ACTIVE)
    assert silence.starts_at_raw == raw["startsAt"]
    assert [str(m) for m in silence.matchers] == ['alertname="Noisy"']
    assert (silence.created_by, silence.comment, silence.is_ack) == (
        "shiftdeck-tests", "deploy", False)


def test_parse_silences_sanitises_and_skips_malformed_items():
    good = {"id": "a", "status": {"state": "active"}, "createdBy": "eve\x1b[2J",
            "comment": "ACK! \x1b]0;pwned\x07", "startsAt": "2026-11-22T14:00:00.123Z",
            "endsAt": "2026-11-22T15:00:00Z", "updatedAt": "2026-11-22T14:00:00.123Z",
            "matchers": [{"name": "alertname", "value": "X", "isRegex": False},
                         {"name": "pod", "value": "a-.*", "isRegex": True, "isEqual": False}]}
    tainted = {**good, "id": "b", "matchers": [{"name": "ns", "value": "\x1b[31mprod",
                                               "isRegex": False, "isEqual": True}]}
    malformed = [{**good, "id": ""}, {**good, "status": {"state": "gone"}},
                 {**good, "matchers": []}, {**good, "startsAt": "soon"}, 42]
    # A regex shiftdeck cannot evaluate is not malformed: kept, and says so (issue 11).
    unevaluable = {**good, "id": "c",
                   "matchers": [{"name": "x", "value": "(", "isRegex": True}]}
    first, second, third = parse_silences([good, tainted, *malformed, unevaluable], "prod")
    assert third.problems == ('x=~"(": cannot evaluate: missing ): (',)
    assert (first.created_by, first.comment) == ("eve[2J", "ACK! ]0;pwned")
    assert [str(m) for m in first.matchers] == ['alertname="X"', 'pod!~"a-.*"']
    assert first.starts_at_raw == "2026-11-22T14:00:00.123Z" and first.editable
    assert second.matchers[0].value == "[31mprod" and not second.editable
    with pytest.raises(SourceError, match="did not return a list"):
        parse_silences({"oops": 1}, "prod")


# -- writing to a real Alertmanager ------------------------------------------ #


async def test_ack_creates_a_silence_alertmanager_then_reports_as_silencing_the_alert(alertmanager):
    labels = push_one(alertmanager, pod="backend-1")
    config = config_for([alertmanager.url], user="alice")
    writer = SilenceWriter(config)
    client = AlertmanagerClient(config.alertmanagers[0])
    silence_id = await writer.write(ack_for(labels))
    (silence,) = await client.silences()
    assert silence.id == silence_id
    assert {(m.name, m.op.value, m.value) for m in silence.matchers} == {
        (k, "=", v) for k, v in labels.items()}
    assert silence.created_by == "alice"
    assert silence.comment.startswith("ACK! alice via shiftdeck at ")

    async def silenced():
        (alert,) = (await client.alerts()).alerts
        return alert if alert.silenced_by == (silence_id,) else None

    assert (await eventually(silenced)).state is AlertState.SILENCED
    report, _ = await client.report(now())
    board = build_board({"am": report}, (), EMPTY_BOARD, DEFAULT_POLICY, now())
    (alert,) = board.alerts.values()
    assert (alert.state, alert.acked_by) == (AlertState.ACKED, "alice")
    await client.aclose()
    await writer.aclose()


async def test_extension_keeps_the_silence_id(alertmanager):
    labels = push_one(alertmanager)
    config = config_for([alertmanager.url])
    writer = SilenceWriter(config)
    client = AlertmanagerClient(config.alertmanagers[0])
    short = AckSettings(duration=timedelta(minutes=3))
    silence_id = await writer.write(ack_for(labels, settings=short))

    async def acked_report():
        report, _ = await client.report(now())
        return report if report.alerts[0].silenced_by == (silence_id,) else None

    report = await eventually(acked_report)
    (original,) = report.silences
    (plan,) = plan_extensions(report.silences, report.alerts, now(), AckSettings())
    assert await writer.write(plan) == silence_id
    report, _ = await client.report(now())
    (extended,) = report.silences
    assert extended.id == silence_id and extended.state is SilenceState.ACTIVE
    assert extended.starts_at_raw == original.starts_at_raw
    assert extended.ends_at > original.ends_at
    assert extended.ends_at - now() > timedelta(minutes=14)
    # Idempotent: a second pass (this shiftdeck, another one, or kthxbye) plans nothing.
    assert plan_extensions(report.silences, report.alerts, now(), AckSettings()) == []
    # A manual extension keeps the ID too.
    later = extended.ends_at + timedelta(hours=1)
    assert await writer.write(extend_request(extended, later)) == silence_id
    (moved,) = await client.silences()
    assert moved.ends_at == later.replace(microsecond=later.microsecond // 1000 * 1000)
    await client.aclose()
    await writer.aclose()


async def test_expire_ends_the_silence(alertmanager):
    labels = push_one(alertmanager)
    config = config_for([alertmanager.url])
    writer = SilenceWriter(config)
    silence_id = await writer.write(ack_for(labels))
    await writer.expire("test", silence_id)
    (raw,) = alertmanager.silences()
    assert (raw["id"], raw["status"]["state"]) == (silence_id, "expired")
    await writer.aclose()


async def test_refused_write_raises_alertmanagers_reason_and_leaves_no_silence(alertmanager):
    labels = push_one(alertmanager)
    writer = SilenceWriter(config_for([alertmanager.url]))
    backwards = SilenceRequest(exact_matchers(labels), now(), now() - timedelta(minutes=1),
                               "alice", "ACK! alice", "test")
    with pytest.raises(SourceError, match="HTTP 400: Failed to create silence: start time must "
                                          "be before end time"):
        await writer.write(backwards)
    assert alertmanager.silences() == []
    await writer.aclose()


async def test_write_to_a_server_error_raises_and_stores_nothing():
    with recording_server(500, b"internal error") as broken:
        writer = SilenceWriter(config_for([broken.url]))
        with pytest.raises(SourceError, match="cluster test: am0: HTTP 500: internal error"):
            await writer.write(ack_for({"alertname": "X"}))
        with pytest.raises(SourceError, match="HTTP 500"):
            await writer.expire("test", "some-id")
        await writer.aclose()
    assert broken.requests == [("POST", "/api/v2/silences"), ("DELETE", "/api/v2/silence/some-id")]


async def test_write_to_a_killed_alertmanager_raises_unreachable(alertmanager):
    url = alertmanager.url
    alertmanager.kill()
    writer = SilenceWriter(config_for([url]))
    with pytest.raises(SourceError, match="am0: unreachable"):
        await writer.write(ack_for({"alertname": "X"}))
    await writer.aclose()


async def test_unknown_cluster_is_an_error_that_names_the_known_ones():
    writer = SilenceWriter(config_for(["http://127.0.0.1:9"]))
    with pytest.raises(SourceError, match=r"no Alertmanager cluster named 'prod' \(known: test\)"):
        await writer.write(ack_for({"alertname": "X"}, cluster="prod"))
    await writer.aclose()


# -- a real two-node cluster --------------------------------------------------- #


async def test_silences_from_both_peers_parse_to_one_silence_on_the_board(alertmanager_cluster):
    config = config_for(alertmanager_cluster.urls)
    writer = SilenceWriter(config)
    clients = [AlertmanagerClient(u) for u in config.alertmanagers]
    silence_id = await writer.write(ack_for({"alertname": "X"}))

    async def on_both():
        found = [await c.silences() for c in clients]
        return found if all(len(s) == 1 for s in found) else None

    from_a, from_b = await eventually(on_both)
    assert from_a[0].id == from_b[0].id == silence_id
    assert from_a[0].cluster == from_b[0].cluster == "test"
    reports = {}
    for client in clients:
        reports[client.name], _ = await client.report(now())
    board = build_board(reports, (), EMPTY_BOARD, DEFAULT_POLICY, now())
    assert list(board.silences) == [silence_id]
    for client in clients:
        await client.aclose()
    await writer.aclose()


async def test_write_fails_over_to_the_next_member_when_the_first_is_killed(alertmanager_cluster):
    node0, node1 = alertmanager_cluster.nodes
    labels = push_one(node1)
    config = config_for(alertmanager_cluster.urls)
    alertmanager_cluster.kill(0)
    writer = SilenceWriter(config)
    silence_id = await writer.write(ack_for(labels))
    assert [s["id"] for s in node1.silences()] == [silence_id]
    client = AlertmanagerClient(config.alertmanagers[1])

    async def silenced():
        (alert,) = (await client.alerts()).alerts
        return alert.silenced_by == (silence_id,)

    assert await eventually(silenced)
    await writer.expire("test", silence_id)
    assert node1.silences()[0]["status"]["state"] == "expired"
    await client.aclose()
    await writer.aclose()


async def test_all_members_down_names_each_reason(alertmanager_cluster):
    config = config_for(alertmanager_cluster.urls)
    alertmanager_cluster.kill(0)
    alertmanager_cluster.kill(1)
    writer = SilenceWriter(config)
    with pytest.raises(SourceError, match=r"all 2 members of cluster test failed: "
                                          r"am0: unreachable .*; am1: unreachable"):
        await writer.write(ack_for({"alertname": "X"}))
    await writer.aclose()


async def test_after_a_failover_the_member_that_answered_is_tried_first(alertmanager):
    with recording_server(500) as broken:
        writer = SilenceWriter(config_for([broken.url, alertmanager.url]))
        await writer.write(ack_for({"alertname": "A"}))
        await writer.write(ack_for({"alertname": "B"}))
        await writer.aclose()
    assert broken.requests == [("POST", "/api/v2/silences")]
    assert len(alertmanager.silences()) == 2


# -- read-only ------------------------------------------------------------------ #


async def test_read_only_sends_zero_requests():
    with recording_server(200, b'{"silenceID": "x"}') as server:
        config = config_for([server.url], read_only="true")
        writer = SilenceWriter(config)
        assert not writer.can_write()
        with pytest.raises(ReadOnlyError, match="read-only mode"):
            await writer.write(ack_for({"alertname": "X"}))
        with pytest.raises(ReadOnlyError):
            await writer.expire("test", "x")
        await writer.aclose()
    assert server.requests == []


async def test_read_only_upstream_is_skipped_and_never_written_to(alertmanager):
    with recording_server(200, b'{"silenceID": "x"}') as guarded:
        config = load_config_text(
            "alertmanagers:\n"
            f"  - {{name: ro, url: '{guarded.url}', cluster: prod, read_only: true}}\n"
            f"  - {{name: rw, url: '{alertmanager.url}', cluster: prod}}\n"
            f"  - {{name: lab, url: '{guarded.url}', cluster: lab, read_only: true}}\n")
        writer = SilenceWriter(config)
        assert writer.can_write("prod") and not writer.can_write("lab")
        silence_id = await writer.write(ack_for({"alertname": "X"}, cluster="prod"))
        with pytest.raises(ReadOnlyError, match="every member of cluster lab is read_only"):
            await writer.write(ack_for({"alertname": "X"}, cluster="lab"))
        await writer.aclose()
    assert guarded.requests == []
    assert [s["id"] for s in alertmanager.silences()] == [silence_id]


def test_cluster_of_an_alert_comes_from_its_instances():
    config = load_config_text(
        "alertmanagers:\n"
        "  - {name: a1, url: 'http://a1', cluster: prod}\n"
        "  - {name: a2, url: 'http://a2', cluster: prod}\n"
        "  - {name: s1, url: 'http://s1', cluster: staging}\n"
        "prometheus:\n  - {name: prom, url: 'http://p'}\n")
    writer = SilenceWriter(config)
    assert writer.cluster_of(make_alert(instance="a2")) == "prod"
    both = replace(make_alert(), instances=("prom", "s1", "a1"))
    assert writer.clusters_of(both) == ("prod", "staging")
    assert writer.cluster_of(make_alert(instance="prom")) == ""  # only Prometheus knows it


def test_silence_modules_import_without_textual():
    code = ("import sys, shiftdeck.domain.silences, shiftdeck.sources.silence_writer, "
            "shiftdeck.cli\nsys.exit(any(m == 'textual' or m.startswith('textual.') "
            "for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
