"""`shiftdeck keep` against real Alertmanagers: acks end when their alerts resolve (and a re-fire
pages again), two keepers at once leave one live silence, a failed poll ends nothing, and
until_resolved: false keeps today's behaviour."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from shiftdeck import cli
from shiftdeck.clock import SystemClock
from shiftdeck.config import load_config_text
from shiftdeck.domain.journal import AckResolved, SilenceExtended
from shiftdeck.keep import Keeper
from shiftdeck.sources.journal import Journal

from .support.faults import FaultProxy
from .support.servers import free_port

pytestmark = pytest.mark.timeout(90)

BACKEND = {"alertname": "BackendDown", "severity": "critical", "namespace": "qawave"}


def config_for(tmp_path, *urls: str, ack: str = "{}", journal: str = "journal.jsonl"):
    members = "".join(f"  - {{name: am{i}, url: '{url}', cluster: test, timeout: 2s}}\n"
                      for i, url in enumerate(urls))
    return load_config_text(f"user: alice\njournal: {tmp_path / journal}\nack: {ack}\n"
                            f"alertmanagers:\n{members}", environ={})


async def ack_now(config, what: str = "BackendDown") -> None:
    """`shiftdeck ack` (it runs its own event loop: in a thread)."""
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(cli.run_ack, config, SystemClock(), what, out=out, err=err)
    assert code == 0, err.getvalue()


def acks(am, state: str = "active") -> list[dict]:
    return [s for s in am.silences()
            if s["comment"].startswith("ACK!") and s["status"]["state"] == state]


def resolve(am, labels=BACKEND) -> None:
    am.push_alerts([{"labels": labels, "endsAt": datetime.now(UTC) - timedelta(minutes=1)}])
    am.wait_for_alerts(0)


def journal(config) -> list:
    return Journal(config.journal).read().records


def keeper(config, out=None) -> Keeper:
    """A keeper that may end an ack made a moment ago. Not settle=0: shiftdeck knows the
    server's clock from its whole-second Date header, so an ack made 100 ms ago can look up to
    half a second in the future (this test's flake: the ack was not ended)."""
    return Keeper(config, SystemClock(), out or io.StringIO(), settle=timedelta(seconds=-1))


async def test_an_ack_ends_when_its_alert_resolves_and_a_refire_pages_again(alertmanager,
                                                                            tmp_path):
    config = config_for(tmp_path, alertmanager.url)
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    await ack_now(config)
    (silence,) = acks(alertmanager)
    resolve(alertmanager)
    out = io.StringIO()
    outcome = await keeper(config, out).keep()
    assert outcome.done == [silence["id"]]
    assert acks(alertmanager) == []
    assert [s["id"] for s in acks(alertmanager, "expired")] == [silence["id"]]
    (record,) = [r for r in journal(config) if isinstance(r, AckResolved)]
    assert (record.silence, record.user) == (silence["id"], "alice")
    assert f"ack {silence['id']} (test) ended: every alert it acknowledged resolved" \
        in out.getvalue()
    alertmanager.push_alerts([{"labels": BACKEND}])
    (refired,) = alertmanager.wait_for_alerts(1)
    assert refired["status"] == {"state": "active", "silencedBy": [], "inhibitedBy": [],
                                 **({"mutedBy": []} if "mutedBy" in refired["status"] else {})}


async def test_an_ack_whose_alert_still_fires_is_kept(alertmanager, tmp_path):
    config = config_for(tmp_path, alertmanager.url)
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    await ack_now(config)
    outcome = await keeper(config).keep()
    assert outcome.items == []
    assert len(acks(alertmanager)) == 1


async def test_a_failed_poll_ends_nothing(alertmanager, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    config = config_for(tmp_path, alertmanager.url)
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    await ack_now(config)
    resolve(alertmanager)
    out = io.StringIO()
    outcome = await keeper(config_for(tmp_path, alertmanager.url, dead), out).keep()
    assert outcome.items == []
    assert len(acks(alertmanager)) == 1
    assert "am1: " in out.getvalue() and "no ack ends while a source fails" in out.getvalue()
    assert not [r for r in journal(config) if isinstance(r, AckResolved)]


async def test_until_resolved_false_keeps_the_silence(alertmanager, tmp_path):
    config = config_for(tmp_path, alertmanager.url, ack="{until_resolved: false}")
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    await ack_now(config)
    resolve(alertmanager)
    assert (await keeper(config).keep()).items == []
    assert len(acks(alertmanager)) == 1


@pytest.mark.parametrize("shared_lock", [True, False], ids=["one-machine", "two-machines"])
async def test_two_keepers_extending_at_once_leave_one_live_silence(alertmanager, tmp_path,
                                                                    shared_lock):
    short = config_for(tmp_path, alertmanager.url, ack="{duration: 4m}")
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    await ack_now(short)
    (before,) = acks(alertmanager)
    # Separate journal directories: separate lock files, as on two machines.
    first = config_for(tmp_path, alertmanager.url, ack="{duration: 10m}")
    second = config_for(tmp_path, alertmanager.url, ack="{duration: 10m}",
                        journal="journal.jsonl" if shared_lock else "other/journal.jsonl")
    outcomes = await asyncio.gather(keeper(first).keep(), keeper(second).keep())
    (after,) = acks(alertmanager)
    assert after["id"] == before["id"]
    assert after["endsAt"] > before["endsAt"]
    assert len(alertmanager.silences()) == 1
    done = [o.done for o in outcomes]
    assert [before["id"]] in done
    if shared_lock:
        assert sorted(done) == [[], [before["id"]]]
        assert [o.skipped for o in outcomes if not o.done] == [[f"ack {before['id'][:8]}: "
                                                               "already extended"]]
    extended = [r for r in journal(first) if isinstance(r, SilenceExtended)]
    assert {r.silence for r in extended} == {before["id"]}


class EndsItFirst(FaultProxy):
    """Forwards everything, but expires a silence right before forwarding its update: another
    keeper ending the ack between our check and our write."""

    def respond(self, method: str, path: str, body: bytes,
                headers: Mapping[str, str]) -> tuple[int, str, bytes]:
        if method == "POST" and path.startswith("/api/v2/silences") and b'"id"' in body:
            silence_id = orjson.loads(body)["id"]
            self.forward("DELETE", f"/api/v2/silence/{silence_id}", b"", {})
        return self.forward(method, path, body, headers)


async def test_an_ack_ended_between_check_and_extension_is_not_brought_back(alertmanager,
                                                                            tmp_path):
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    await ack_now(config_for(tmp_path, alertmanager.url, ack="{duration: 4m}"))
    (before,) = acks(alertmanager)
    with EndsItFirst(alertmanager.url) as proxy:
        config = config_for(tmp_path, proxy.url, ack="{duration: 10m}")
        (item,) = (await keeper(config).keep()).items
    assert item.skipped.startswith("ended meanwhile (the new silence Alertmanager made")
    assert acks(alertmanager) == []
    assert len(acks(alertmanager, "expired")) == 2  # the ack, and the copy the update made
    assert not [r for r in journal(config) if isinstance(r, SilenceExtended)]
    assert before["id"] not in [s["id"] for s in acks(alertmanager)]


async def test_a_keeper_never_touches_acks_it_does_not_own(alertmanager, tmp_path):
    config = config_for(tmp_path, alertmanager.url)
    alertmanager.push_alerts([{"labels": BACKEND}])
    alertmanager.wait_for_alerts(1)
    await ack_now(config)
    resolve(alertmanager)
    other_team = load_config_text(f"user: zoe\njournal: {tmp_path / 'zoe.jsonl'}\n"
                                  f"alertmanagers: [{{name: am0, url: '{alertmanager.url}', "
                                  "cluster: test}]\n", environ={})
    assert (await keeper(other_team).keep()).items == []
    assert len(acks(alertmanager)) == 1


def test_keep_exits_0_on_sigterm(alertmanager, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"user: alice\njournal: {tmp_path / 'journal.jsonl'}\nrefresh: 1s\n"
                      f"alertmanagers: [{{name: am0, url: '{alertmanager.url}'}}]\n")
    script = ("import argparse, sys; from shiftdeck.clock import SystemClock; "
              "from shiftdeck.config import load_config; from shiftdeck import keep; "
              f"sys.exit(keep.run(argparse.Namespace(once=False), load_config({str(config)!r}), "
              "SystemClock()))")
    process = subprocess.Popen([sys.executable, "-c", script], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "keeping the acks of alice every 1s" in first, process.stderr.read()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.rstrip().endswith("stopped") and err == ""
