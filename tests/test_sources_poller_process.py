"""The poller process against a real Alertmanager: the UI process gets the same alerts as an
in-process poll, only what changed crosses the pipe (unchanged alerts stay the very objects),
a poller process that dies is started again, and closing stops it."""

import asyncio
import multiprocessing
import os
import pickle
import time
from dataclasses import replace
from datetime import UTC, datetime

import orjson
import pytest

from shiftdeck.sources.alertmanager import AlertmanagerClient
from shiftdeck.sources.http import SourceError
from shiftdeck.sources.poller_child import STREAMED, DiffSender, policy_of
from shiftdeck.sources.poller_process import level_rules, polled_apart
from shiftdeck.sources.poller_wire import PART, Diff, parts

from .support.factories import make_alert
from .support.faults import FaultProxy, FaultServer
from .support.helpers import config_for

pytestmark = pytest.mark.timeout(60)


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def clock():
    return _Clock()


def _alert(name: str, **labels: str) -> dict:
    return {"labels": {"alertname": name, "severity": "warning", **labels},
            "annotations": {"summary": f"{name} [/] \x1b]0;pwned\x07"}}


async def test_the_same_alerts_as_an_in_process_poll(alertmanager, clock):
    alertmanager.push_alerts([_alert("DiskLow"), _alert("BackendDown", severity="critical")])
    alertmanager.wait_for_alerts(2)
    config = config_for([alertmanager.url])
    (source,) = polled_apart(config)
    direct = AlertmanagerClient(config.alertmanagers[0])
    try:
        report, skipped = await source.report(clock.now())
        expected, _ = await direct.report(clock.now())
    finally:
        await source.aclose()
        await direct.aclose()
    assert skipped == 0
    # The poller gives alerts their level as it parses them (the board would give them too).
    unlevelled = [replace(a, level="") for a in report.alerts]
    assert sorted(unlevelled, key=lambda a: a.name) == sorted(expected.alerts,
                                                              key=lambda a: a.name)
    assert all("\x1b" not in a.annotations["summary"] for a in report.alerts)
    assert (source.name, source.kind, source.cluster) == ("am0", "alertmanager", "test")
    assert source.clock_offset() is not None  # measured in the poller process, carried over


async def test_unchanged_alerts_stay_the_same_objects_and_changes_arrive(alertmanager, clock):
    alertmanager.push_alerts([_alert("DiskLow"), _alert("CpuHigh")])
    alertmanager.wait_for_alerts(2)
    (source,) = polled_apart(config_for([alertmanager.url]))
    try:
        first, _ = await source.report(clock.now())
        alertmanager.push_alerts([_alert("MemoryLow")])
        alertmanager.wait_for_alerts(3)
        silence_id = alertmanager.add_silence({"alertname": "CpuHigh"})
        second = await _report_until(source, clock, lambda r: any(
            a.silenced_by for a in r.alerts))
    finally:
        await source.aclose()
    before = {a.name: a for a in first.alerts}
    after = {a.name: a for a in second.alerts}
    assert set(after) == {"DiskLow", "CpuHigh", "MemoryLow"}
    assert after["DiskLow"] is before["DiskLow"]  # unchanged: not sent again
    assert after["CpuHigh"].silenced_by == (silence_id,)
    assert [s.id for s in second.silences] == [silence_id]


async def test_a_poll_that_changed_nothing_reports_the_very_same_alerts_and_silences(
        alertmanager, clock):
    """So the board is not merged again (build_board compares the reports by identity)."""
    alertmanager.push_alerts([_alert("DiskLow"), _alert("CpuHigh")])
    alertmanager.wait_for_alerts(2)
    alertmanager.add_silence({"alertname": "CpuHigh"})
    (source,) = polled_apart(config_for([alertmanager.url]))
    try:
        first = await _report_until(source, clock, lambda r: any(a.silenced_by for a in r.alerts))
        second, _ = await source.report(clock.now())
        alertmanager.push_alerts([_alert("MemoryLow")])
        alertmanager.wait_for_alerts(3)
        third = await _report_until(source, clock, lambda r: len(r.alerts) == 3)
    finally:
        await source.aclose()
    assert second.alerts is first.alerts
    assert second.silences is first.silences and second.expressions is first.expressions
    assert third.alerts is not second.alerts


async def test_a_failing_upstream_is_a_source_error_with_its_reason(alertmanager, clock):
    with FaultProxy(alertmanager.url) as proxy:
        proxy.fault = "html"
        (source,) = polled_apart(config_for([proxy.url]))
        try:
            with pytest.raises(SourceError, match="HTML"):
                await source.report(clock.now())
            proxy.fault = None
            report, _ = await source.report(clock.now())  # the same process goes on
        finally:
            await source.aclose()
    assert report.alerts == ()


async def test_the_first_poll_goes_out_before_the_ui_process_asks(alertmanager, clock):
    alertmanager.push_alerts([_alert("DiskLow")])
    alertmanager.wait_for_alerts(1)
    with FaultProxy(alertmanager.url) as proxy:
        (source,) = polled_apart(config_for([proxy.url]))
        try:
            deadline = time.monotonic() + 30
            while proxy.count("/api/v2/alerts") == 0:  # nobody has asked the poller yet
                assert time.monotonic() < deadline, "the poller process sent no first poll"
                await asyncio.sleep(0.05)
            report, _ = await source.report(clock.now())
        finally:
            await source.aclose()
        assert proxy.count("/api/v2/alerts") == 1  # the first ask took that answer
    assert [a.name for a in report.alerts] == ["DiskLow"]


class _TimedProxy(FaultProxy):
    """A FaultProxy that notes when each request came and when its answer left."""

    def __init__(self, upstream: str, delay: float = 10.0) -> None:
        super().__init__(upstream, delay)
        self.times: list[tuple[str, float, float]] = []

    def respond(self, method, path, body, headers):
        came = time.monotonic()
        answer = super().respond(method, path, body, headers)
        self.times.append((path, came, time.monotonic()))
        return answer

    def first(self, path: str) -> tuple[float, float]:
        return next((came, left) for p, came, left in self.times if p == path)


async def test_at_start_a_clusters_first_peer_answers_alone_then_the_others_are_asked(
        alertmanager, clock):
    """Peers answer the same alerts: the first one fills the table without its peers'
    answers competing for the CPU; the others only confirm it."""
    alertmanager.push_alerts([_alert("DiskLow")])
    alertmanager.wait_for_alerts(1)
    with _TimedProxy(alertmanager.url) as first, _TimedProxy(alertmanager.url) as second:
        sources = polled_apart(config_for([first.url, second.url]))
        try:
            reports = [await source.report(clock.now()) for source in sources]
        finally:
            await sources[0].aclose()
    _, answered = first.first("/api/v2/alerts")
    asked, _ = second.first("/api/v2/alerts")
    assert asked >= answered
    assert all([a.name for a in report.alerts] == ["DiskLow"] for report, _ in reports)


async def test_at_start_a_clusters_peers_are_asked_one_after_the_other(alertmanager, clock):
    alertmanager.push_alerts([_alert("DiskLow")])
    alertmanager.wait_for_alerts(1)
    with _TimedProxy(alertmanager.url) as first, _TimedProxy(alertmanager.url) as second, \
            _TimedProxy(alertmanager.url) as third:
        sources = polled_apart(config_for([first.url, second.url, third.url]))
        try:
            for source in sources:
                await source.report(clock.now())
        finally:
            await sources[0].aclose()
    path = "/api/v2/alerts"
    assert first.first(path)[1] <= second.first(path)[0]
    assert second.first(path)[1] <= third.first(path)[0]


async def test_a_first_peer_that_hangs_holds_its_peers_back_only_for_a_moment(alertmanager,
                                                                              clock):
    alertmanager.push_alerts([_alert("DiskLow")])
    alertmanager.wait_for_alerts(1)
    with FaultProxy(alertmanager.url, delay=60) as hung, FaultProxy(alertmanager.url) as peer:
        hung.fault = "slow"
        sources = polled_apart(config_for([hung.url, peer.url], timeout="60s"))
        try:
            report, _ = await asyncio.wait_for(sources[1].report(clock.now()), 30)
            assert hung.count("/api/v2/alerts", "slow") == 1  # still held
        finally:
            hung.fault = None
            await sources[0].aclose()
    assert [a.name for a in report.alerts] == ["DiskLow"]


async def test_ha_peers_alerts_share_their_label_and_annotation_maps(alertmanager, clock):
    """Each peer reports the same alerts: the UI process keeps one copy of their labels and
    annotations, not one per peer (~1 KB an alert)."""
    alertmanager.push_alerts([_alert("DiskLow"), _alert("CpuHigh")])
    alertmanager.wait_for_alerts(2)
    with FaultProxy(alertmanager.url) as first, FaultProxy(alertmanager.url) as second:
        sources = polled_apart(config_for([first.url, second.url]))
        try:
            reports = [await source.report(clock.now()) for source in sources]
        finally:
            await sources[0].aclose()
    ones, twos = ({a.name: a for a in report.alerts} for report, _ in reports)
    assert set(ones) == set(twos) == {"DiskLow", "CpuHigh"}
    for name, one in ones.items():
        assert twos[name].labels is one.labels and twos[name].annotations is one.annotations
        assert (one.instances, twos[name].instances) == (("am0",), ("am1",))


async def test_a_killed_poller_process_is_started_again_with_every_alert(alertmanager, clock):
    alertmanager.push_alerts([_alert("DiskLow"), _alert("CpuHigh")])
    alertmanager.wait_for_alerts(2)
    (source,) = polled_apart(config_for([alertmanager.url]))
    try:
        await source.report(clock.now())
        first_pid = source.poller.pid
        os.kill(first_pid, 9)
        report = await _report_until(source, clock, lambda r: True)
        assert source.poller.pid not in (None, first_pid)
    finally:
        await source.aclose()
    assert sorted(a.name for a in report.alerts) == ["CpuHigh", "DiskLow"]


async def test_closing_stops_the_poller_process(alertmanager, clock):
    (source,) = polled_apart(config_for([alertmanager.url]))
    await source.report(clock.now())
    pid = source.poller.pid
    await source.aclose()
    assert source.poller.pid is None
    deadline = time.monotonic() + 5
    while _alive(pid):
        assert time.monotonic() < deadline, "the poller process is still running"
        time.sleep(0.05)


async def test_a_poller_started_early_is_used_only_for_the_upstreams_it_polls(alertmanager,
                                                                            clock):
    from shiftdeck.sources.poller_process import start_poller

    config = config_for([alertmanager.url])
    early = start_poller(config)
    (source,) = polled_apart(config, early)
    try:
        assert source.poller is early
        await source.report(clock.now())
    finally:
        await source.aclose()
    other = start_poller(config_for(["http://127.0.0.1:9"]))
    pid = other.pid
    (source,) = polled_apart(config, other)
    try:
        assert source.poller is not other and other.pid is None  # told to stop, not used
        await source.report(clock.now())
    finally:
        await source.aclose()
    deadline = time.monotonic() + 5
    while _alive(pid):
        assert time.monotonic() < deadline, "the unused poller process is still running"
        time.sleep(0.05)


async def _report_until(source, clock, wanted, attempts: int = 50):
    """Poll until `wanted(report)`; a poll that fails while the process restarts is retried."""
    for _ in range(attempts):
        try:
            report, _ = await source.report(clock.now())
        except SourceError:
            report = None
        if report is not None and wanted(report):
            return report
        await asyncio.sleep(0.1)
    raise AssertionError(f"no wanted report in {attempts} polls")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _poller_children(pid: int) -> list[int]:
    """The poller processes `pid` started (read from /proc: their parent and command line)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read()
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        if parent == pid and b"poller_child" in command:
            found.append(int(entry))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("how", ["q", "SIGKILL"])
def test_the_tui_polls_in_its_poller_process_which_ends_with_it(tmp_path, how):
    """Regression: started from the running TUI, the poller process failed ("bad value(s) in
    fds_to_keep": multiprocessing read the fd of Textual's stderr stand-in), and the demo
    showed no alert."""
    import signal
    import sys

    from .support.pty_driver import PtySession

    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_CONFIG_HOME": str(tmp_path)}
    with PtySession([sys.executable, "-m", "shiftdeck", "--demo"], cols=100, rows=30,
                    env=env) as tui:
        deadline = time.monotonic() + 30
        while " P1 firing" not in tui.text():
            assert time.monotonic() < deadline, f"no alert shown:\n{tui.text()[-2000:]}"
            time.sleep(0.05)
        (child,) = _poller_children(tui.pid)
        if how == "q":
            tui.write(b"q")
            assert tui.proc.wait(timeout=15) == 0
        else:
            os.kill(tui.pid, signal.SIGKILL)
            tui.proc.wait(timeout=15)
    deadline = time.monotonic() + 10
    while _alive(child):
        assert time.monotonic() < deadline, "the poller process outlived the TUI"
        time.sleep(0.05)


def test_a_large_diff_crosses_in_parts_and_is_whole_once_the_last_arrives():
    from shiftdeck.domain.alerts import Alert, AlertState
    from shiftdeck.sources.poller_wire import PART, Diff, parts
    from shiftdeck.sources.poller_process import PollerProcess, ProcessSource

    def alert(i: int) -> Alert:
        return Alert(fingerprint=f"{i:016x}", labels={"alertname": "A", "i": str(i)},
                     annotations={}, state=AlertState.FIRING,
                     starts_at=datetime(2026, 12, 6, tzinfo=UTC))

    source = ProcessSource(PollerProcess([]), 0, "alertmanager",
                           config_for(["http://127.0.0.1:9"]).alertmanagers[0])
    source.take(Diff(0, 0, full=True, changed=(alert(-1),)))
    big = Diff(1, 0, full=True, changed=tuple(alert(i) for i in range(2 * PART + 1)),
               skipped=2, silences_error="silences unavailable: 500")
    pieces = parts(big)
    assert [len(p.changed) for p in pieces] == [PART, PART, 1]
    assert [p.last for p in pieces] == [False, False, True]
    assert pieces[-1].skipped == 2 and pieces[-1].silences_error == big.silences_error
    for piece in pieces:
        source.take(piece)
    assert source.alerts == big.changed  # the one before the full diff is gone


async def test_the_collector_runs_while_the_ui_process_waits_for_the_next_diff(alertmanager,
                                                                               clock):
    """Regression: the reader thread paused the cycle collector for its whole blocking wait
    (nearly all the time), and the storm's RSS grew ~30 MiB a minute."""
    import gc

    (source,) = polled_apart(config_for([alertmanager.url]))
    try:
        await source.report(clock.now())
        await asyncio.sleep(0.2)  # the reader is back in its wait for the next diff
        assert gc.isenabled()
    finally:
        await source.aclose()


def test_a_large_diff_is_handed_over_without_waiting_for_the_ui_to_read_it():
    """The poller's loop pickles each part and goes on: a thread sends them, in order, while
    the UI process reads and unpickles the one before (the loop waited for each read)."""
    ours, theirs = multiprocessing.Pipe()
    sender = DiffSender(ours)
    big = Diff(7, 0, full=True, changed=tuple(
        make_alert(f"Alert{i}", pod=f"pod-{i}", summary="x" * 200) for i in range(3 * PART)))
    for part in parts(big):  # MBs, far more than a socket holds: this returns all the same
        sender.send(part)
    received = [pickle.loads(theirs.recv_bytes()) for _ in range(3)]
    assert [d.changed for d in received] == [p.changed for p in parts(big)]
    assert [(d.number, d.full, d.last) for d in received] == \
        [(7, True, False), (7, False, False), (7, False, True)]
    ours.close()
    theirs.close()


async def test_a_first_answer_larger_than_a_part_crosses_while_it_is_parsed(alertmanager, clock):
    """The first PART alerts are sent on before the rest is parsed (the UI process unpickles
    them meanwhile); the poll's own diff brings the rest, and the next poll nothing."""
    alertmanager.push_alerts([_alert("DiskLow", pod=f"pod-{i}") for i in range(PART + 10)])
    alertmanager.wait_for_alerts(PART + 10)
    (source,) = polled_apart(config_for([alertmanager.url], timeout="20s"))
    taken: list[Diff] = []
    take = source.take
    source.take = lambda diff: (taken.append(diff), take(diff))[-1]  # type: ignore[method-assign]
    try:
        first, _ = await source.report(clock.now())
        again, _ = await source.report(clock.now())
    finally:
        await source.aclose()
    assert [(d.number, d.full, len(d.changed), d.last) for d in taken] == [
        (STREAMED, True, PART, False), (0, False, 10, True), (1, False, 0, True)]
    assert len({a.labels["pod"] for a in first.alerts}) == PART + 10
    assert again.alerts is first.alerts


SEVERITIES = """\
severities:
  - {level: SEV1, match: ['team=~"pay.*"', 'severity!="info"']}
  - {level: SEV2, match: ['severity="warning"']}
  - {level: SEV3, match: []}
"""


async def test_alerts_cross_with_the_level_the_configs_severities_give_them(alertmanager,
                                                                            clock):
    """The asks carry the severities; what the poller parses after one has its level. (The
    first answer may be parsed before the first ask arrives: the board then gives levels.)"""
    alertmanager.push_alerts([_alert("DiskLow")])
    alertmanager.wait_for_alerts(1)
    config = config_for([alertmanager.url], extra=SEVERITIES)
    (source,) = polled_apart(config)
    try:
        await source.report(clock.now())
        alertmanager.push_alerts([_alert("PayDown", team="payments", severity="critical"),
                                  _alert("PayInfo", team="payments", severity="info")])
        alertmanager.wait_for_alerts(3)
        report, _ = await source.report(clock.now())
    finally:
        await source.aclose()
    levels = {a.name: a.level for a in report.alerts}
    assert (levels["PayDown"], levels["PayInfo"]) == ("SEV1", "SEV3")
    assert levels["DiskLow"] in ("", "SEV2")
    assert all(config.severity.level_of(a.labels).level == a.level
               for a in report.alerts if a.level)


@pytest.mark.parametrize("extra", ["", SEVERITIES])
def test_the_poller_rebuilds_the_severities_that_give_every_alert_the_same_level(extra):
    policy = config_for(["http://127.0.0.1:9"], extra=extra).severity
    rebuilt = policy_of(level_rules(policy))
    assert rebuilt is not None
    for labels in ({"severity": "critical"}, {"severity": "P2"}, {"team": "payments"},
                   {"team": "payroll", "severity": "warning"}, {"severity": "info"}, {}):
        assert rebuilt.level_of(labels).level == policy.level_of(labels).level
    assert policy_of(()) is None


def _item(i: int) -> dict:
    return {"labels": {"alertname": "DiskLow", "pod": f"pod-{i}"}, "annotations": {},
            "startsAt": "2026-11-22T13:00:00Z", "endsAt": "2026-11-22T14:00:00Z",
            "updatedAt": "2026-11-22T13:00:00Z", "fingerprint": f"{i:016x}",
            "receivers": [{"name": "team"}], "generatorURL": "",
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}}


async def test_a_first_answer_found_broken_after_its_first_part_crossed_leaves_nothing(clock):
    """PART alerts crossed while the rest was parsed, then the answer turned out not to be
    JSON: that poll fails, and the next good answer is exactly what the UI process holds."""
    good = [orjson.dumps(_item(i)) for i in range(PART + 5)]
    broken = b"[" + b",".join(good) + b',{"labels":}]'
    with FaultServer((200, "application/json", broken)) as server:
        (source,) = polled_apart(config_for([server.url], timeout="20s"))
        try:
            with pytest.raises(SourceError, match="invalid or truncated JSON"):
                await source.report(clock.now())
            assert len(source.alerts) == PART  # the part that crossed before the end was read
            server.answer = (200, "application/json",
                             orjson.dumps([_item(i) for i in range(PART, PART + 3)]))
            report, _ = await source.report(clock.now())
        finally:
            await source.aclose()
    assert sorted(a.labels["pod"] for a in report.alerts) == \
        [f"pod-{i}" for i in range(PART, PART + 3)]
