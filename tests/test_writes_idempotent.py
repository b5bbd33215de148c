"""Writes are idempotent: a late answer, a retry or two shiftdecks at once never make a second
ACK! silence. Real Alertmanagers; a loopback proxy where a real one cannot answer late."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping

import pytest

from .support.faults import FaultProxy

pytestmark = pytest.mark.timeout(90)

BACKEND = {"alertname": "BackendDown", "severity": "critical", "namespace": "qawave"}
REFERENCE = re.compile(r" \[sd:[0-9a-f]{10}\]$")


class LateProxy(FaultProxy):
    """Forwards everything; the first POST /api/v2/silences reaches the real server at once
    (the silence is stored) but its answer comes `late` seconds later, after the client gave
    up. With `hold_after_write`, every later request is held as long too (a member that stored
    the write and then stopped answering)."""

    def __init__(self, upstream: str, late: float, hold_after_write: bool = False) -> None:
        super().__init__(upstream)
        self.late = late
        self.hold_after_write = hold_after_write
        self.written = threading.Event()

    def respond(self, method: str, path: str, body: bytes,
                headers: Mapping[str, str]) -> tuple[int, str, bytes]:
        first_write = (method == "POST" and path.startswith("/api/v2/silences")
                       and not self.written.is_set())
        if self.hold_after_write and self.written.is_set():
            time.sleep(self.late)
        answer = self.forward(method, path, body, headers)
        if first_write:
            self.written.set()
            time.sleep(self.late)
        return answer


def config_text(*urls: str, timeout: str = "1s") -> str:
    return "user: alice\nalertmanagers:\n" + "".join(
        f"  - {{name: am{i}, url: '{url}', cluster: test, timeout: {timeout}}}\n"
        for i, url in enumerate(urls))


def shiftdeck(tmp_path, text: str, *args: str) -> subprocess.Popen:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    environ = {**os.environ, "SHIFTDECK_CONFIG": str(path)}
    return subprocess.Popen([sys.executable, "-m", "shiftdeck", *args], env=environ, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def acks(node) -> list[dict]:
    return [s for s in node.silences() if s["comment"].startswith("ACK!")]


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            return result
        time.sleep(0.05)
    return result


@pytest.mark.parametrize("hold_after_write", [False, True],
                         ids=["member-answers-again", "member-stays-silent"])
def test_a_write_answered_after_the_timeout_is_found_not_written_again(
        alertmanager_cluster, tmp_path, hold_after_write):
    node0, node1 = alertmanager_cluster.nodes
    node0.push_alerts([{"labels": BACKEND}])
    node0.wait_for_alerts(1)
    with LateProxy(node0.url, late=2.5, hold_after_write=hold_after_write) as proxy:
        code, out, err = finish(shiftdeck(tmp_path, config_text(proxy.url, node1.url),
                                          "ack", "BackendDown"))
        assert proxy.written.is_set()
        # Requests the CLI gave up on (held by the proxy) have now reached node0 or never will.
        assert proxy.wait_idle(timeout=10)
    assert code == 0, err
    (line,) = out.splitlines()
    printed = line.split()[0]
    # Both members hold every silence (gossip): exactly one ack, the one printed. A second one
    # would already be on the member it was written to, without gossip.
    assert wait_for(lambda: len(acks(node1)) == 1 and len(acks(node0)) == 1)
    assert [s["id"] for s in acks(node0)] == [printed]
    assert [s["id"] for s in acks(node1)] == [printed]
    assert REFERENCE.search(acks(node1)[0]["comment"])


def test_the_same_member_retried_after_a_late_answer_writes_nothing_more(alertmanager, tmp_path):
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    with LateProxy(alertmanager.url, late=2.5) as proxy:
        # One member, listed twice: the failover retries the member that stored the write.
        code, out, err = finish(shiftdeck(tmp_path, config_text(proxy.url, alertmanager.url),
                                          "ack", "BackendDown"))
    assert code == 0, err
    assert [s["id"] for s in acks(alertmanager)] == [out.split()[0]]


def test_two_acks_at_once_write_one_silence(alertmanager, tmp_path):
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    text = config_text(alertmanager.url, timeout="5s")
    first, second = (shiftdeck(tmp_path, text, "ack", "alertname=BackendDown")
                     for _ in range(2))
    results = [finish(first), finish(second)]
    assert [code for code, _, _ in results] == [0, 0], results
    (silence,) = acks(alertmanager)
    printed = [out.split()[0] for _, out, _ in results if out]
    assert printed == [silence["id"]]
    assert sum("already acknowledged by alice" in err for _, _, err in results) == 1


def test_cli_ack_is_in_the_journal_and_the_handoff(alertmanager, tmp_path):
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    text = config_text(alertmanager.url, timeout="5s")
    code, _, err = finish(shiftdeck(tmp_path, text, "ack", "BackendDown", "--note", "on it"))
    assert code == 0, err
    code, report, err = finish(shiftdeck(tmp_path, text, "handoff", "--since", "1h"))
    actions = report.split("Actions taken", 1)[1].split("\n## ", 1)[0]
    assert "acknowledged `BackendDown` (on it)" in actions, report
