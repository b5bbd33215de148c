"""The Alertmanager client against a real Alertmanager (and a loopback fault server)."""

import pytest

from shiftdeck.domain.alerts import AlertState, fingerprint
from shiftdeck.sources.alertmanager import AlertmanagerClient
from shiftdeck.sources.http import SourceError

from .support import servers
from .support.faults import FaultServer
from .support.helpers import config_for

HOSTILE = ["[/]", "[@click=app.quit]x[/]", "\x1b]0;pwned\x07", "[link=file:///etc/passwd]x"]


def _client(url: str, timeout: str = "3s") -> AlertmanagerClient:
    return AlertmanagerClient(config_for([url], timeout=timeout).alertmanagers[0])


async def test_alerts_are_read_with_labels_state_and_the_same_fingerprint(alertmanager):
    alertmanager.push_alerts([
        {"labels": {"alertname": "BackendDown", "severity": "critical", "namespace": "qawave"},
         "annotations": {"summary": "backend is down"}},
        {"labels": {"alertname": "DiskLow", "severity": "warning"}},
    ])
    alertmanager.wait_for_alerts(2)
    client = _client(alertmanager.url)
    batch = await client.alerts()
    await client.aclose()
    by_name = {a.name: a for a in batch.alerts}
    assert set(by_name) == {"BackendDown", "DiskLow"}
    down = by_name["BackendDown"]
    assert down.state is AlertState.FIRING
    assert down.annotations["summary"] == "backend is down"
    assert down.fingerprint == fingerprint(down.labels)  # our algorithm is Alertmanager's
    assert batch.skipped == 0


async def test_silenced_alert_is_marked_with_the_silence_id(alertmanager):
    alertmanager.push_alerts([{"labels": {"alertname": "Noisy", "severity": "info"}}])
    alertmanager.wait_for_alerts(1)
    silence_id = alertmanager.add_silence([{"name": "alertname", "value": "Noisy",
                                            "isRegex": False, "isEqual": True}])
    client = _client(alertmanager.url)
    for _ in range(50):
        (alert,) = (await client.alerts()).alerts
        if alert.state is AlertState.SILENCED:
            break
    await client.aclose()
    assert alert.state is AlertState.SILENCED
    assert alert.silenced_by == (silence_id,)


async def test_hostile_label_values_arrive_sanitised(alertmanager):
    labels = {"alertname": "Hostile", **{f"v{i}": text for i, text in enumerate(HOSTILE)}}
    alertmanager.push_alerts([{"labels": labels,
                               "annotations": {"description": "y" * 100_000 + "\x1b[2J"}}])
    alertmanager.wait_for_alerts(1)
    client = _client(alertmanager.url)
    (alert,) = (await client.alerts()).alerts
    await client.aclose()
    assert alert.labels["v0"] == "[/]"
    assert alert.labels["v1"] == "[@click=app.quit]x[/]"
    assert alert.labels["v2"] == "]0;pwned"
    assert "\x1b" not in alert.annotations["description"]


async def test_status_reports_version_and_cluster(alertmanager):
    client = _client(alertmanager.url)
    status = await client.status()
    await client.aclose()
    assert status.version.startswith("0.")


async def test_unreachable_alertmanager_is_a_source_error(alertmanager):
    url = alertmanager.url
    alertmanager.kill()
    client = _client(url)
    with pytest.raises(SourceError, match="unreachable"):
        await client.alerts()
    await client.aclose()


@pytest.mark.parametrize("fault,reason", [
    ("500", "HTTP 500"),
    ("401", "not authorised"),
    ("html", "HTML page"),
    ("truncated", "truncated JSON"),
    ("not-a-list", "did not return a list"),
])
async def test_broken_answers_become_readable_errors(fault, reason):
    with FaultServer() as server:
        server.fault = fault
        client = _client(server.url)
        with pytest.raises(SourceError, match=reason):
            await client.alerts()
        await client.aclose()


async def test_malformed_items_are_skipped_and_counted():
    with FaultServer() as server:
        server.fault = None
        server.body_ok = (b'[{"labels": {"alertname": "Good"}, "startsAt": "2026-11-22T10:00:00Z"},'
                          b' {"labels": "nope"}, 42, {"labels": {"alertname": "NoStart"}}]')
        client = _client(server.url)
        batch = await client.alerts()
        await client.aclose()
    assert [a.name for a in batch.alerts] == ["Good"]
    assert batch.skipped == 3


async def test_slow_answer_times_out_with_a_reason():
    with FaultServer() as server:
        server.fault, server.delay = None, 5.0
        client = _client(server.url, timeout="300ms")
        with pytest.raises(SourceError, match="timed out"):
            await client.alerts()
        await client.aclose()


async def test_answers_are_read_item_by_item_and_a_poll_again_reuses_the_alerts(
        alertmanager):
    """The first answer too: at 100k alerts, decoded whole it took 2.8-3.6 s and 642 MB at
    its peak; item by item 2.3 s and 389 MB."""
    alertmanager.push_alerts([{"labels": {"alertname": "Storm", "pod": f"pod-{i}"},
                               "annotations": {"summary": '},{"x":"[/]"}'}}
                              for i in range(2100)])
    alertmanager.wait_for_alerts(2100)
    client = _client(alertmanager.url, timeout="30s")
    first = await client.alerts()
    assert len(first.by_digest) == 2100
    alertmanager.push_alerts([{"labels": {"alertname": "Storm", "pod": "pod-new"}}])
    alertmanager.wait_for_alerts(2101)
    second = await client.alerts()
    third = await client.alerts()
    await client.aclose()
    assert len(second.by_digest) == len(third.by_digest) == 2101
    old = {a.fingerprint: a for a in first.alerts}
    assert sum(a is old.get(a.fingerprint) for a in second.alerts) == 2100
    assert [a is b for a, b in zip(second.alerts, third.alerts)] == [True] * 2101
    assert {a.annotations.get("summary") for a in third.alerts} == {'},{"x":"[/]"}', None}


async def test_ha_peers_share_the_label_and_annotation_maps_of_the_same_alerts(alertmanager):
    """Polled in one process (the poller), each peer's copy of an alert keeps the maps its
    peer parsed first, not maps of its own."""
    alertmanager.push_alerts([{"labels": {"alertname": f"A{i}", "pod": f"p{i}"},
                               "annotations": {"summary": f"s{i}"}} for i in range(3)])
    alertmanager.wait_for_alerts(3)
    config = config_for([alertmanager.url, alertmanager.url])
    first, second = (AlertmanagerClient(upstream) for upstream in config.alertmanagers)
    first.peers, second.peers = (second,), (first,)
    ones = {a.fingerprint: a for a in (await first.alerts()).alerts}
    twos = {a.fingerprint: a for a in (await second.alerts()).alerts}
    await first.aclose()
    await second.aclose()
    assert ones.keys() == twos.keys() and len(ones) == 3
    for fp, one in ones.items():
        assert twos[fp].labels is one.labels and twos[fp].annotations is one.annotations
        assert twos[fp].instances == ("am1",)


ROUTED_TWICE = """\
route:
  receiver: "null"
  group_wait: 1s
  routes:
    - {receiver: team, matchers: ['severity="critical"'], continue: true}
    - {receiver: pager, matchers: ['severity="critical"']}
receivers:
  - name: "null"
  - name: team
  - name: pager
"""


async def test_alerts_routed_to_several_receivers_are_still_read_item_by_item(tmp_path):
    """Each receiver is an object in a list inside the item: the item is cut there, and its
    pieces are joined back, so the answer is still read (and re-read) item by item."""
    with servers.AlertmanagerProcess(config_yaml=ROUTED_TWICE, workdir=tmp_path / "am") as am:
        am.push_alerts([{"labels": {"alertname": f"Down{i}", "severity": "critical"}}
                        for i in range(3)])
        am.wait_for_alerts(3)
        client = _client(am.url)
        first = await client.alerts()
        again = await client.alerts()
        await client.aclose()
    assert {tuple(sorted(a.receivers)) for a in first.alerts} == {("pager", "team")}
    assert len(first.by_digest) == 3  # one digest per item: not decoded whole
    again_by_fingerprint = {a.fingerprint: a for a in again.alerts}
    assert all(again_by_fingerprint[a.fingerprint] is a for a in first.alerts)
