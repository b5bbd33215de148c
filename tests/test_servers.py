"""The real-server fixtures work (tests/servers.py, tests/conftest.py)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from .support import servers


def _labels(alerts: list[dict]) -> dict[str, dict]:
    return {a["labels"]["alertname"]: a for a in alerts}


def _down(url: str) -> bool:
    try:
        httpx.get(url + "/-/healthy", timeout=0.5, trust_env=False)
    except httpx.TransportError:
        return True
    return False


def test_alertmanager_push_and_read_back(alertmanager: servers.AlertmanagerProcess) -> None:
    assert alertmanager.alerts() == []  # fresh and empty
    assert alertmanager.status()["cluster"]["status"] == "disabled"
    now = datetime.now(timezone.utc)
    alertmanager.push_alerts(
        [
            {
                "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db1"},
                "annotations": {"summary": "disk is full"},
                "startsAt": now - timedelta(minutes=5),
                "generatorURL": "http://prom.example/graph?g0.expr=up&g0.tab=1",
            },
            {"labels": {"alertname": "HighLatency", "severity": "warning"}},
        ]
    )
    got = _labels(alertmanager.wait_for_alerts(2))
    assert set(got) == {"DiskFull", "HighLatency"}
    disk = got["DiskFull"]
    assert disk["annotations"] == {"summary": "disk is full"}
    assert disk["status"]["state"] == "active"
    assert disk["receivers"] == [{"name": "null"}]
    assert disk["generatorURL"].startswith("http://prom.example/")
    assert disk["fingerprint"]


def test_alertmanager_kill_and_restart_same_port(
    alertmanager: servers.AlertmanagerProcess,
) -> None:
    url, pid = alertmanager.url, alertmanager.pid
    sid = alertmanager.add_silence({"alertname": "Foo"}, comment="ACK! looking")

    alertmanager.restart()  # graceful: silences are snapshotted on shutdown
    assert alertmanager.url == url and alertmanager.pid != pid
    assert [s["id"] for s in alertmanager.silences()] == [sid]

    alertmanager.push_alerts([{"labels": {"alertname": "Foo"}}])
    alertmanager.wait_for_alerts(1)
    alertmanager.kill()  # crash
    assert not alertmanager.running and alertmanager.proc is None  # reaped
    assert _down(url)

    alertmanager.restart()
    assert alertmanager.url == url
    assert alertmanager.alerts() == []  # alerts live in memory only


def test_prometheus_default_rules(prometheus: servers.PrometheusProcess) -> None:
    firing = prometheus.wait_for_alert_state("DemoAlwaysFiring", "firing")
    pending = prometheus.wait_for_alert_state("DemoAlwaysPending", "pending")
    assert firing["labels"]["severity"] == "critical"
    assert firing["annotations"]["summary"]
    assert pending["labels"]["severity"] == "warning"
    assert {a["labels"]["alertname"]: a["state"] for a in prometheus.alerts()} == {
        "DemoAlwaysFiring": "firing",
        "DemoAlwaysPending": "pending",
    }
    # kill + restart on the same port and storage
    url = prometheus.url
    prometheus.kill()
    assert _down(url)
    prometheus.restart()
    assert prometheus.url == url
    prometheus.wait_for_alert_state("DemoAlwaysFiring", "firing")


def test_prometheus_firing_alert_reaches_alertmanager(
    prometheus_with_alertmanager: tuple[servers.PrometheusProcess, servers.AlertmanagerProcess],
) -> None:
    prom, am = prometheus_with_alertmanager
    prom.wait_for_alert_state("DemoAlwaysPending", "pending")
    alerts = am.wait_for_alerts(1, timeout=20)  # only the firing one, never the pending one
    alert = alerts[0]
    assert alert["labels"] == {"alertname": "DemoAlwaysFiring", "severity": "critical"}
    # generatorURL points back at this Prometheus (thanks to --web.external-url)
    assert alert["generatorURL"].startswith(prom.url + "/graph?g0.expr=vector%281%29")


def test_cluster_silence_gossips_and_node_survives_restart(
    alertmanager_cluster: servers.AlertmanagerCluster,
) -> None:
    a, b = alertmanager_cluster.nodes
    for node in (a, b):
        cluster = node.status()["cluster"]
        assert cluster["status"] == "ready" and len(cluster["peers"]) == 2

    sid = a.add_silence({"alertname": "DiskFull"}, comment="ACK! on it")
    _wait_for_silence(b, sid)

    # alerts are per instance, not gossiped
    a.push_alerts([{"labels": {"alertname": "DiskFull"}}])
    a.wait_for_alerts(1)
    assert b.alerts() == []

    b_url = b.url
    alertmanager_cluster.kill(1)
    alertmanager_cluster.wait_ready()  # survivor alone
    assert len(a.status()["cluster"]["peers"]) == 1

    alertmanager_cluster.restart(1)  # same ports + storage, waits for 2 ready peers
    assert b.url == b_url
    _wait_for_silence(b, sid)  # state synced back from a
    sid2 = b.add_silence({"alertname": "Other"})
    _wait_for_silence(a, sid2)


def _wait_for_silence(node: servers.AlertmanagerProcess, sid: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sid in {s["id"] for s in node.silences()}:
            return
        time.sleep(0.05)
    pytest.fail(f"silence {sid} never reached {node.url}")


def test_a_fault_server_stops_as_soon_as_its_test_is_done() -> None:
    """Dozens of tests leave a FaultServer: each exit used to wait out serve_forever's 0.5 s
    poll."""
    from .support.faults import FaultServer

    started = time.monotonic()
    for _ in range(3):
        with FaultServer():
            pass
    assert time.monotonic() - started < 0.75
