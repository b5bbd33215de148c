"""The ack keeper's plan (domain.acks.plan_acks walks every alert) is made where the poll is
applied: in the ShiftRunner's thread for large boards, never on the event loop; only the
in-flight bookkeeping and the write start on the event loop (issue 12)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from shiftdeck.clock import FrozenClock
from shiftdeck.domain.acks import AckPlan
from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.board import Board, SourceReport
from shiftdeck.domain.matchers import make_matcher
from shiftdeck.domain.shift import Shift, ShiftPolicy
from shiftdeck.domain.silences import Silence, SilenceState
from shiftdeck.messages import SourceReported
from shiftdeck.services.shift_runner import THREADED_FROM, ShiftRunner
from shiftdeck.sources.silence_writer import SilenceWriter

from .support.app_factory import AM_KEY, make_app
from .support.factories import NOW, make_alert
from .support.helpers import config_for
from .support.waiting import wait_until

ACK_ID = "a1c4e5d0-0000-4000-8000-0000000000ac"


class RecordingAcks:
    """An AckKeeping that notes the thread each plan was made in and each plan kept."""

    def __init__(self) -> None:
        self.planned_in: list[threading.Thread] = []
        self.kept: list[tuple[AckPlan, threading.Thread]] = []

    def plan_acks(self, board: Board) -> AckPlan:
        self.planned_in.append(threading.current_thread())
        return AckPlan(end=tuple(board.silences.values()))

    def keep_acks(self, plan: AckPlan) -> None:
        self.kept.append((plan, threading.current_thread()))


def _storm(count: int) -> tuple[list, Silence]:
    """`count` firing alerts, the first one acked with 4 minutes left (an extension is due)."""
    ack = Silence(ACK_ID, (make_matcher("pod", "=", "p0"),), NOW - timedelta(minutes=11),
                  NOW + timedelta(minutes=4), "bob", "ACK! bob via karma", SilenceState.ACTIVE,
                  "test")
    alerts = [make_alert("Storm", "warning", pod=f"p{i}") for i in range(count)]
    alerts[0] = replace(alerts[0], state=AlertState.SILENCED, silenced_by=(ACK_ID,))
    return alerts, ack


def _runner(acks: RecordingAcks) -> ShiftRunner:
    config = config_for(["http://127.0.0.1:9"])
    shift = Shift(ShiftPolicy(config.severity, config.escalation, config.resolved_retention),
                  config.roster)
    return ShiftRunner(shift, "alice", FrozenClock(NOW), lambda *shown: None, acks=acks)


def _inputs(alerts, silence):
    reports = {AM_KEY: SourceReport("am0", "alertmanager", tuple(alerts), NOW,
                                    silences=(silence,))}
    return lambda: (reports, (), NOW, ())


async def test_a_large_boards_ack_plan_is_made_in_the_runners_thread_and_kept_on_the_loop():
    acks = RecordingAcks()
    runner = _runner(acks)
    alerts, ack = _storm(THREADED_FROM)
    assert runner.apply(_inputs(alerts, ack), len(alerts)) is True  # the caller starts the thread
    assert acks.planned_in == []
    await runner.apply_in_thread(_inputs(alerts, ack))
    assert len(acks.planned_in) == 1 and acks.planned_in[0] is not threading.main_thread()
    ((plan, kept_in),) = acks.kept
    assert kept_in is threading.main_thread() and [s.id for s in plan.end] == [ACK_ID]


def test_a_small_boards_plan_is_made_with_its_apply_and_ticks_and_records_plan_nothing():
    acks = RecordingAcks()
    runner = _runner(acks)
    alerts, ack = _storm(3)
    assert runner.apply(_inputs(alerts, ack), len(alerts)) is False
    assert acks.planned_in == [threading.main_thread()] and len(acks.kept) == 1
    runner.tick(NOW + timedelta(seconds=1))
    runner.record([])
    assert len(acks.planned_in) == 1  # no poll, no new board: nothing to plan


class ThreadNotingWriter(SilenceWriter):
    """The app's write path, noting the thread of every read of a cluster's clock (the plan
    reads one per cluster holding silences)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clock_read_in: list[threading.Thread] = []

    def now_at(self, cluster: str):
        self.clock_read_in.append(threading.current_thread())
        return super().now_at(cluster)


async def test_the_app_plans_a_large_boards_ack_extensions_off_the_event_loop(tmp_path):
    config = config_for(["http://127.0.0.1:9"], user="alice",
                        journal=f"'{tmp_path / 'journal.jsonl'}'")
    writer = ThreadNotingWriter(config, clock=FrozenClock(NOW))
    app = make_app(config=config, writer=writer)
    alerts, ack = _storm(THREADED_FROM + 1)
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(SourceReported(AM_KEY, SourceReport(
            "am0", "alertmanager", tuple(alerts), NOW, silences=(ack,)), 0))
        # The extension was planned and its write tried (nothing answers at that address).
        await wait_until(pilot, lambda: any(n.startswith("Keep acks failed")
                                            for n in app.notified))
    assert writer.clock_read_in
    assert threading.main_thread() not in writer.clock_read_in

