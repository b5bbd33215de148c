"""The fault suite (issue 7): shiftdeck against upstreams that break and come back.

Real parts only: the Debian Alertmanager and Prometheus binaries (tests/servers.py), a loopback
`FaultProxy` in front of a real Alertmanager for the faults a process kill cannot make (500, 401,
an HTML login page, truncated JSON, an answer after 10 s), a real two-node Alertmanager cluster,
the loopback Kubernetes API with its fault injection, and real kernel errors for the journal
(ENOSPC from /dev/full; a partial write cut short by a file size limit). One real-terminal run
drives `python3 -m shiftdeck` under tmux.

Every case proves four things: the app keeps running; the banner names the source and the
reason within one poll; the banner clears and the real data is back within one poll after the
fault clears; nothing the user did is lost (a note typed during the fault, across a redraw, is
shown and lands in the journal; an ack tried during the fault says it failed and how to retry,
and the retry works once the upstream is back; a filter typed during an outage still applies).

"Within one poll" is counted in polls, not seconds, so a loaded machine cannot make it pass or
fail: `PollLog` wraps a source's `report()` (the poller calls it once per poll, and polls of a
source never overlap) and notes what the screen showed as each poll *started*.

- Banner within one poll: the first poll to start after the fault fails with the reason, and
  every poll that starts after the first failed one starts with the banner already up.
- Recovery within one poll: the first poll to start after the fault is cleared succeeds, the
  banner is gone and the alert shown after it, and every later poll starts that way.

Diagnostics and the journal do not poll: there, one poll is one request (`d`, then `ctrl+r`
once the fault clears) and one write attempt (`shiftdeck.services.journal_keeper.RETRY_SECONDS` is set
to the 1 s poll interval; the first attempt after the disk frees must succeed).

Waits use deadlines (generous: two cores and other test runs share the machine), never fixed
sleeps; a deadline bounds how long a failure takes to show, not what passes. Polls are every
`refresh: 1s` with `timeout: 2s` per upstream, so the proxy's 10 s answer is a timeout at 2 s.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from shiftdeck.app import ShiftdeckApp
from shiftdeck.config import Config, load_config_text
from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.journal import Kind
from shiftdeck.screens.diagnostics import DiagnosticsScreen
from shiftdeck.sources.journal import Journal
from shiftdeck.sources.poll import make_sources
from shiftdeck.widgets.alert_detail import AlertDetail
from shiftdeck.widgets.source_banner import SourceBanner

from .support.app_factory import loaded, make_app
from .support.faults import PROXY_FAULTS, FaultProxy
from .support.kube_server import cluster

REFRESH = "1s"
TIMEOUT = "2s"
DEADLINE = 15.0
"""Seconds any one wait may take before the test fails (a poll is 1 s; a timeout 2 s)."""

CANARY = {"alertname": "FaultCanary", "severity": "critical", "namespace": "qawave"}


# -- building and watching the app ------------------------------------------------------


def live_config(alertmanagers=(), prometheus=(), extra: str = "") -> Config:
    """A real config: 1 s polls, 2 s timeouts, one Alertmanager cluster `test`."""
    lines = ["user: alice", f"refresh: {REFRESH}", *extra.splitlines()]
    if alertmanagers:
        lines.append("alertmanagers:")
        lines += [f"  - {{name: am{i}, url: '{url}', cluster: test, timeout: {TIMEOUT}}}"
                  for i, url in enumerate(alertmanagers)]
    if prometheus:
        lines.append("prometheus:")
        lines += [f"  - {{name: prom{i}, url: '{url}', timeout: {TIMEOUT}}}"
                  for i, url in enumerate(prometheus)]
    return load_config_text("\n".join(lines) + "\n", source="(fault test)")


@dataclass
class Poll:
    banner: str
    """The banner's text when this poll started ('' when there was none)."""
    shown: dict[str, str]
    """alertname → state on the board when this poll started."""
    error: str | None = None
    done: bool = False


class PollLog:
    """Every poll of one source, with what the screen showed as the poll started."""

    def __init__(self, app: ShiftdeckApp, source) -> None:
        self.polls: list[Poll] = []
        real = source.report

        async def report(now):
            poll = Poll(banner_text(app), shown(app))
            self.polls.append(poll)
            try:
                return await real(now)
            except BaseException as err:
                poll.error = str(err) or type(err).__name__
                raise
            finally:
                poll.done = True

        source.report = report

    def __len__(self) -> int:
        return len(self.polls)


def live_app(config: Config) -> tuple[ShiftdeckApp, dict[str, PollLog]]:
    """The app as `shiftdeck` runs it (real pollers, real clock), each source's polls logged."""
    sources = make_sources(config)
    app = make_app(config=config, live=True, sources=sources)
    return app, {source.name: PollLog(app, source) for source in sources}


@asynccontextmanager
async def running(app: ShiftdeckApp):
    """`app.run_test()`, with the pollers stopped before it ends: Pilot tears the screens down
    while the app still handles messages, and a poll answer must not land on removed widgets."""
    async with app.run_test(size=(120, 40)) as pilot:
        try:
            yield pilot
        finally:
            app.workers.cancel_group(app, "poll")
            await pilot.pause()


def banner_text(app: ShiftdeckApp) -> str:
    return str(app.dashboard.query_one(SourceBanner).render()).strip()


def shown(app: ShiftdeckApp) -> dict[str, str]:
    return {a.name: a.state.value for a in app.shift.board.alerts.values()}


def toasts(app: ShiftdeckApp) -> list[str]:
    return list(app.notified)


async def wait_until(pilot, condition, what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"within {timeout:g}s: {what}; banner: "
                                 f"{banner_text(pilot.app)!r}, board: {shown(pilot.app)}")
        await pilot.pause(0.05)


async def fault_shown(pilot, log: PollLog, mark: int, label: str, reason: str,
                      timeout: float = DEADLINE) -> None:
    """The fault began before poll `mark` started: prove the banner came within one poll."""
    app = pilot.app
    await wait_until(pilot, lambda: len(log) > mark and log.polls[mark].done
                     and label in banner_text(app) and reason in banner_text(app),
                     f"a banner naming {label!r} and {reason!r}", timeout)
    assert app.dashboard.query_one(SourceBanner).display
    first = log.polls[mark]
    assert first.error and reason in first.error, f"the first poll after the fault: {first}"
    # Polls never overlap: each poll after the first failed one began after it ended, and
    # must have begun with the banner up (none may have begun yet: the banner beat them all).
    first_failed = next(i for i in range(max(mark - 1, 0), len(log)) if log.polls[i].error)
    for poll in log.polls[first_failed + 1:]:
        assert label in poll.banner and reason in poll.banner, (
            f"a poll started after a failed one without the banner: {poll.banner!r}")
    assert app.is_running


async def recovered(pilot, log: PollLog, mark: int, alertname: str) -> None:
    """The fault cleared before poll `mark` started: prove recovery within one poll."""
    app = pilot.app
    await wait_until(pilot, lambda: len(log) > mark and log.polls[mark].done
                     and not app.dashboard.query_one(SourceBanner).display
                     and shown(app).get(alertname) in ("firing", "acked"),
                     f"the banner gone and {alertname} back")
    assert log.polls[mark].error is None, f"the first poll after the fault: {log.polls[mark]}"
    for poll in log.polls[mark + 1:]:  # as above: the good poll cleared the banner itself
        assert poll.banner == "", f"the banner outlived the first good poll: {poll.banner!r}"
        assert poll.shown.get(alertname) in ("firing", "acked"), poll.shown
    assert app.is_running


async def type_note_across_a_poll(pilot, log: PollLog, text: str) -> None:
    """`n`, half the note, a poll (the banner redraws under the prompt), the rest, enter."""
    half = len(text) // 2
    await pilot.press("n", *text[:half])
    polls = len(log)
    await wait_until(pilot, lambda: len(log) > polls, "a poll while the note prompt is open")
    await pilot.press(*text[half:], "enter")


async def ack_fails_with_a_retry_hint(pilot, reason: str) -> None:
    app = pilot.app
    await pilot.press("a")
    await wait_until(pilot, lambda: any("Ack 1 alert(s) failed" in t for t in toasts(app)),
                     "the failed ack reported")
    (failed,) = [t for t in toasts(app) if "Ack 1 alert(s) failed" in t]
    assert reason in failed and failed.endswith("Press a to retry."), failed


async def ack_lands(pilot, alertname: str) -> None:
    app = pilot.app
    await pilot.press("a")
    await wait_until(pilot, lambda: any("Ack 1 alert(s): done." in t for t in toasts(app)),
                     "the ack done")
    await wait_until(pilot, lambda: acked_by(app, alertname) == "alice",
                     f"{alertname} shown as acked by alice")


def acked_by(app: ShiftdeckApp, alertname: str) -> str:
    alert = next((a for a in app.shift.board.alerts.values() if a.name == alertname), None)
    return alert.acked_by if alert is not None and alert.state is AlertState.ACKED else ""


async def journal_has(pilot, predicate, what: str) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: not app.keeper.unwritten and any(
        predicate(r) for r in app.journal.read().records), f"the journal holding {what}")


def note_shown(app: ShiftdeckApp, text: str) -> bool:
    return f"alice: {text}" in str(app.dashboard.query_one(AlertDetail).render())


# -- Alertmanager ----------------------------------------------------------------------


async def test_alertmanager_down_at_start_shows_a_banner_then_its_alerts_keeping_the_filter(
        alertmanager):
    url = alertmanager.url
    alertmanager.kill()
    app, logs = live_app(live_config([url]))
    log = logs["am0"]
    async with running(app) as pilot:
        await fault_shown(pilot, log, 0, "alertmanager am0", "unreachable")
        assert "no data from it yet" in banner_text(app)
        await pilot.press("slash", *"LateAlert", "enter")  # the user filters while it is down

        await asyncio.to_thread(alertmanager.restart)
        alertmanager.push_alerts([{"labels": {**CANARY, "alertname": "LateAlert"}},
                                  {"labels": {**CANARY, "alertname": "OtherAlert"}}])
        mark = len(log)
        await recovered(pilot, log, mark, "LateAlert")
        assert set(shown(app)) == {"LateAlert", "OtherAlert"}
        visible = [app.shift.board.alerts[fp].name for fp in app.dashboard.visible_alerts]
        assert visible == ["LateAlert"], "the filter typed during the outage was lost"


async def test_alertmanager_killed_mid_session_keeps_the_alert_the_note_and_the_ack(
        alertmanager):
    alertmanager.push_alerts([{"labels": CANARY}])
    alertmanager.wait_for_alerts(1)
    app, logs = live_app(live_config([alertmanager.url]))
    log = logs["am0"]
    async with running(app) as pilot:
        await wait_until(pilot, lambda: shown(app).get("FaultCanary") == "firing", "the canary")

        alertmanager.kill()
        await fault_shown(pilot, log, len(log), "alertmanager am0", "unreachable")
        assert shown(app) == {"FaultCanary": "firing"}, "last good data stays, marked stale"
        assert "showing data from" in banner_text(app)
        await type_note_across_a_poll(pilot, log, "am0 crashed, restarting it")
        await ack_fails_with_a_retry_hint(pilot, "unreachable")
        assert note_shown(app, "am0 crashed, restarting it")

        await asyncio.to_thread(alertmanager.restart)
        alertmanager.push_alerts([{"labels": CANARY}])  # alerts live in memory: resent
        await recovered(pilot, log, len(log), "FaultCanary")
        await ack_lands(pilot, "FaultCanary")
        await journal_has(pilot, lambda r: r.kind is Kind.NOTE
                          and r.text == "am0 crashed, restarting it", "the note")
        await journal_has(pilot, lambda r: r.kind is Kind.ACK, "the ack")


PROXY_REASONS = {
    "500": "HTTP 500",
    "401": "HTTP 401: not authorised (check credentials)",
    "html": "answered with an HTML page, not JSON",
    "truncated": "answered with invalid or truncated JSON",
    "slow": f"timed out after {TIMEOUT}",
}
WRITE_REASONS = {
    "500": "HTTP 500: internal error",
    "401": "HTTP 401: not authorised (check credentials)",
    "html": "answered with an HTML page, not JSON",
    "truncated": "answered with invalid or truncated JSON",
    "slow": f"timed out after {TIMEOUT}",
}


@pytest.mark.parametrize("fault", PROXY_FAULTS)
async def test_a_broken_answer_shows_a_banner_and_the_real_alerts_come_back(alertmanager, fault):
    alertmanager.push_alerts([{"labels": CANARY}])
    alertmanager.wait_for_alerts(1)
    with FaultProxy(alertmanager.url, delay=10.0) as proxy:
        app, logs = live_app(live_config([proxy.url]))
        log = logs["am0"]
        async with running(app) as pilot:
            await wait_until(pilot, lambda: shown(app).get("FaultCanary") == "firing",
                             "the real alert through the proxy")

            proxy.fault = fault
            # The 10 s answer is given up on after the 2 s timeout, well before it comes.
            await fault_shown(pilot, log, len(log), "alertmanager am0", PROXY_REASONS[fault],
                              timeout=9.5 if fault == "slow" else DEADLINE)
            assert shown(app) == {"FaultCanary": "firing"}
            await type_note_across_a_poll(pilot, log, f"upstream says {fault}")
            await ack_fails_with_a_retry_hint(pilot, WRITE_REASONS[fault])
            assert not alertmanager.silences(), "a failed ack stored nothing"

            proxy.fault = None
            await recovered(pilot, log, len(log), "FaultCanary")
            await ack_lands(pilot, "FaultCanary")
            assert note_shown(app, f"upstream says {fault}")
            await journal_has(pilot, lambda r: r.kind is Kind.NOTE
                              and r.text == f"upstream says {fault}", "the note")
            await journal_has(pilot, lambda r: r.kind is Kind.ACK, "the ack")
        assert len(alertmanager.silences()) == 1, "the retry wrote exactly one ack"


# -- Prometheus --------------------------------------------------------------------------


async def test_prometheus_down_leaves_alertmanager_working_and_comes_back(alertmanager,
                                                                          prometheus):
    alertmanager.push_alerts([{"labels": CANARY}])
    alertmanager.wait_for_alerts(1)
    prometheus.wait_for_alert_state("DemoAlwaysFiring", "firing")
    app, logs = live_app(live_config([alertmanager.url], [prometheus.url]))
    log = logs["prom0"]
    async with running(app) as pilot:
        await wait_until(pilot, lambda: shown(app).get("DemoAlwaysFiring") == "firing"
                         and "FaultCanary" in shown(app), "both sources' alerts")

        prometheus.kill()
        await fault_shown(pilot, log, len(log), "prometheus prom0", "unreachable")
        assert "alertmanager" not in banner_text(app), "only the failing source is named"
        assert shown(app)["DemoAlwaysFiring"] == "firing", "Prometheus's alerts stay, stale"
        highlight(app, "FaultCanary")
        await ack_lands(pilot, "FaultCanary")  # Alertmanager is fine: the ack works
        highlight(app, "DemoAlwaysFiring")
        await type_note_across_a_poll(pilot, log, "prometheus restarting")

        await asyncio.to_thread(prometheus.restart)
        await asyncio.to_thread(prometheus.wait_for_alert_state, "DemoAlwaysFiring", "firing")
        await recovered(pilot, log, len(log), "DemoAlwaysFiring")
        assert acked_by(app, "FaultCanary") == "alice"
        assert note_shown(app, "prometheus restarting")
        await journal_has(pilot, lambda r: r.kind is Kind.NOTE
                          and r.text == "prometheus restarting", "the note")


def highlight(app: ShiftdeckApp, alertname: str) -> None:
    (key,) = [fp for fp, a in app.shift.board.alerts.items() if a.name == alertname]
    app.dashboard.query_one("#alerts").move_to(key)
    assert app.dashboard.highlighted().name == alertname


# -- a real two-node Alertmanager cluster ------------------------------------------------


async def test_one_cluster_member_down_names_it_and_acks_fail_over_to_the_other(
        alertmanager_cluster):
    node0, node1 = alertmanager_cluster.nodes
    for node in (node0, node1):  # as Prometheus does: every member gets every alert
        node.push_alerts([{"labels": CANARY}])
        node.wait_for_alerts(1)
    app, logs = live_app(live_config(alertmanager_cluster.urls))
    log = logs["am0"]
    async with running(app) as pilot:
        await wait_until(pilot, lambda: shown(app).get("FaultCanary") == "firing", "the canary")

        alertmanager_cluster.kill(0)
        await fault_shown(pilot, log, len(log), "alertmanager am0", "unreachable")
        assert "am1" not in banner_text(app)
        await type_note_across_a_poll(pilot, log, "am0 lost, am1 serving")
        # Written to am1 after am0 refused, and shown as acked at once: am1's fresh answer, not
        # am0's stale copy of the alert (which still says firing), is what the board shows.
        await ack_lands(pilot, "FaultCanary")
        assert len(node1.silences()) == 1

        await asyncio.to_thread(alertmanager_cluster.restart, 0)
        node0.push_alerts([{"labels": CANARY}])
        await recovered(pilot, log, len(log), "FaultCanary")
        await wait_until(pilot, lambda: acked_by(app, "FaultCanary") == "alice",
                         "the ack, gossiped to the restarted member, still shown")
        assert note_shown(app, "am0 lost, am1 serving")
        await journal_has(pilot, lambda r: r.kind is Kind.NOTE
                          and r.text == "am0 lost, am1 serving", "the note")
        await journal_has(pilot, lambda r: r.kind is Kind.ACK, "the ack")


# -- Kubernetes --------------------------------------------------------------------------


KUBE_FAULTS = {
    "403": (lambda server: server.forbid("list", "events", "qawave"),
            "forbidden: cannot list events in qawave"),
    "500": (lambda server: server.fail("pods", 500), "pods: HTTP 500"),
    "timeout": (lambda server: server.delay(10.0), "timed out after 1s"),
}


@pytest.mark.parametrize("fault", list(KUBE_FAULTS))
async def test_a_kubernetes_fault_is_a_sentence_and_a_refresh_after_it_loads_everything(
        tmp_path, fault):
    inject, reason = KUBE_FAULTS[fault]
    with cluster(tmp_path) as (server, kubeconfig):
        app = make_app(kubeconfig=kubeconfig, kube_timeout="1s")
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot)
            highlighted = app.dashboard.highlighted()
            await pilot.press("n", *"checking the pods", "enter")
            inject(server)
            requests = len(server.requests)
            await pilot.press("d")
            screen = app.screen
            assert isinstance(screen, DiagnosticsScreen)
            errors = screen.query_one("#diag-errors")
            await wait_until(pilot, lambda: reason in str(errors.render()),
                             f"the diagnostics saying {reason!r}")
            assert len(server.requests) > requests
            if fault == "403":  # the rest still loads
                await wait_until(pilot, lambda: screen.pods
                                 and screen.query_one("#diag-revisions").row_count == 3,
                                 "the pods and the rollout history despite the denial")

            server.clear_faults()
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: screen.pods and not str(errors.render()).strip(),
                             "the pods, and no error, after one refresh")
            assert app.is_running
            await pilot.press("escape")
            assert app.dashboard.highlighted() is highlighted, "the user's place is kept"
            assert note_shown(app, "checking the pods")


# -- the journal -------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full for a real ENOSPC")
async def test_a_full_disk_keeps_every_record_says_so_and_writes_them_when_space_returns(
        alertmanager, tmp_path, monkeypatch):
    # The journal file is a symlink: to a real file, then to /dev/full (every write fails with
    # the kernel's ENOSPC), then back: the disk "fills" and "frees" under the running app.
    real, journal = tmp_path / "journal-real.jsonl", tmp_path / "journal.jsonl"
    real.touch()
    journal.symlink_to(real)

    def point_journal_at(target: Path) -> None:
        link = tmp_path / f"link-{uuid.uuid4().hex}"
        link.symlink_to(target)
        os.replace(link, journal)

    monkeypatch.setattr("shiftdeck.services.journal_keeper.RETRY_SECONDS", 1.0)  # retried every poll
    app, logs = live_app(live_config([alertmanager.url], extra=f"journal: '{journal}'"))
    async with running(app) as pilot:
        attempts: list[list[str]] = []
        """One [outcome] per write attempt, in the order they began: running, ok, or why not."""
        real_extend = app.journal.extend

        def extend(records):  # a spy: the write itself is the real one
            attempt = ["running"]
            attempts.append(attempt)
            try:
                real_extend(records)
            except OSError as err:
                attempt[0] = err.strerror
                raise
            attempt[0] = "ok"

        app.journal.extend = extend
        await wait_until(pilot, lambda: logs["am0"].polls and logs["am0"].polls[0].done,
                         "a first, empty, board")
        alertmanager.push_alerts([{"labels": CANARY}])  # news: journalled as FIRING
        await journal_has(pilot, lambda r: r.kind is Kind.FIRING, "the canary firing")
        await wait_until(pilot, lambda: not any(w.group == "journal-read" for w in app.workers),
                         "the journal read at start")

        point_journal_at(Path("/dev/full"))
        await pilot.press("n", *"written on a full disk", "enter")
        await wait_until(pilot, lambda: any("Journal not written (No space left on device)" in t
                                            for t in toasts(app)), "the full disk reported")
        assert any("record(s) kept in memory, retrying" in t for t in toasts(app))
        await wait_until(pilot, lambda: "journal journal.jsonl not written (No space left on "
                         "device)" in banner_text(app), "a banner while the journal is not written")
        assert note_shown(app, "written on a full disk"), "the note stays in the session"
        await ack_lands(pilot, "FaultCanary")  # Alertmanager is fine: the ack works
        assert app.is_running and attempts[-1] == ["No space left on device"]

        point_journal_at(real)
        freed_at = len(attempts)
        await wait_until(pilot, lambda: not app.keeper.unwritten, "every kept record written")
        await wait_until(pilot, lambda: "journal" not in banner_text(app), "the banner cleared")
        after = attempts[freed_at:]
        assert after and all(a == ["ok"] for a in after), f"after the disk freed: {after}"
    read = app.journal.read()
    assert [r.kind for r in read.records] == [Kind.FIRING, Kind.NOTE, Kind.ACK]
    assert read.records[1].text == "written on a full disk"
    assert read.corrupt == ()


PARTIAL_WRITE = """
import resource, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from shiftdeck.domain.journal import NoteAdded
from shiftdeck.sources.journal import Journal

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, write() fails with EFBIG
path = Path(sys.argv[1])
journal, now = Journal(path), datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
journal.append(NoteAdded(now, "alice", text="before"))
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 250, hard))  # room for ~1.5
batch = [NoteAdded(now, "alice", text=f"note {i} " + "x" * 100) for i in range(3)]
try:
    journal.extend(batch)
except OSError as err:
    print("refused:", err.strerror, file=sys.stderr)
else:
    sys.exit("the batch fitted: the limit did not bite")
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space again: the app retries
journal.extend(batch)
"""


def test_a_disk_that_fills_mid_write_keeps_no_half_batch_so_the_retry_writes_each_record_once(
        tmp_path):
    # A real partial write: the kernel takes the bytes up to the file size limit, then refuses
    # (EFBIG, as ENOSPC does on a full disk). A subprocess, so the limit binds nobody else.
    path = tmp_path / "journal.jsonl"
    done = subprocess.run([sys.executable, "-c", PARTIAL_WRITE, str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "refused: File too large" in done.stderr
    read = Journal(path).read()
    assert [r.text[:6] for r in read.records] == ["before", "note 0", "note 1", "note 2"]
    assert read.corrupt == ()


# -- a real terminal -----------------------------------------------------------------------


def test_under_tmux_the_banner_shows_when_alertmanager_dies_and_clears_when_it_returns(
        alertmanager, tmp_path):
    alertmanager.push_alerts([{"labels": {**CANARY, "alertname": "TmuxCanary"}}])
    alertmanager.wait_for_alerts(1)
    config = tmp_path / "config.yaml"
    config.write_text(f"user: alice\nrefresh: {REFRESH}\nalertmanagers:\n"
                      f"  - {{name: am0, url: '{alertmanager.url}', cluster: test, "
                      f"timeout: {TIMEOUT}}}\n")
    env = {"TERM": "xterm-256color", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "TZ": "UTC"}
    # stderr stays the terminal (Textual draws there); if the app ends, the pane says so.
    app = shlex.join([sys.executable, "-m", "shiftdeck", "--config", str(config)])
    command = f"{app}; echo SHIFTDECK-EXITED $?; sleep 60"
    tmux = ["tmux", "-L", f"shiftdeck-faults-{uuid.uuid4().hex[:12]}", "-f", "/dev/null"]
    env_args = [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-t", "faults"], capture_output=True,
                              text=True, timeout=10, check=True).stdout

    def wait_for(condition, what: str) -> str:
        deadline = time.monotonic() + DEADLINE
        while True:
            text = screen()
            assert "SHIFTDECK-EXITED" not in text, f"shiftdeck ended:\n{text}"
            if condition(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"within {DEADLINE:g}s: {what}; the screen:\n{text}")
            time.sleep(0.1)

    try:
        subprocess.run([*tmux, "new-session", "-d", "-s", "faults", "-x", "120", "-y", "40",
                        *env_args, command], check=True, timeout=10)
        wait_for(lambda s: "TmuxCanary" in s and "am:am0 ok" in s, "the alert on screen")

        alertmanager.kill()
        text = wait_for(lambda s: "alertmanager am0 unreachable" in s, "the banner")
        assert "showing data from" in text and "TmuxCanary" in text

        alertmanager.restart()
        alertmanager.push_alerts([{"labels": {**CANARY, "alertname": "TmuxCanary"}}])
        wait_for(lambda s: "unreachable" not in s and "TmuxCanary" in s and "am:am0 ok" in s,
                 "the banner gone and the alert back")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=10, check=False)


# -- an answer dripped a byte at a time (issue 11) ----------------------------------------


class _GoodThenDripping:
    """Answers `[]` at once until `drip` is set; then 40 bytes at one byte a second."""

    def __init__(self) -> None:
        from .support.raw_server import Drip, answer

        self.drip = False
        self._good = answer(200, {"Content-Type": "application/json"}, b"[]")
        self._dripping = Drip(b"[" + b" " * 38 + b"]", interval=1.0)

    def __call__(self, conn, head) -> None:
        (self._dripping if self.drip else self._good)(conn, head)


@pytest.mark.timeout(90)
async def test_a_dripped_answer_is_a_banner_at_the_deadline_and_the_header_never_says_ok():
    # Before: httpx's per-read timeout never fired, the poll took 40 s and the badge said ok.
    from .support.raw_server import RawServer
    from shiftdeck.widgets.header_bar import HeaderBar

    stub = _GoodThenDripping()
    with RawServer(stub) as server:
        app, logs = live_app(live_config([server.url]))
        log = logs["am0"]
        async with running(app) as pilot:
            header = app.dashboard.query_one(HeaderBar)
            await wait_until(pilot, lambda: "am:am0 ok" in str(header.render()), "a good poll")
            stub.drip = True
            await fault_shown(pilot, log, len(log), "alertmanager am0",
                              f"timed out after {TIMEOUT} (no complete answer within the "
                              "deadline)", timeout=9.5)
            assert "am:am0 ok" not in str(header.render())
            assert "am:am0 stale since" in str(header.render())
