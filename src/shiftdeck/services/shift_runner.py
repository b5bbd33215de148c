"""The one current Shift and the steps that replace it.

A poll's step (merge, escalations, update-due, and the journal records of its events) and a
change over the whole board (the journal read at start, a new roster) run in a thread for large
boards; the event loop only receives the result. Steps never overlap and the newest reports win.
Records journaled on the event loop while one runs take effect at once and are replayed on its
result, so none is lost.

After each poll's step the ack keeper's plan is made where the step ran (`AckKeeping.plan_acks`
walks every alert), and only the plan reaches the event loop (`keep_acks`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from ..bulk import off_loop
from ..clock import Clock
from ..domain.acks import AckPlan
from ..domain.board import Board, SourceReport
from ..domain.health import SourceHealth
from ..domain.journal import Record
from ..domain.pager import Incident
from ..domain.shift import Event, Shift, ShiftStep, journal_records

THREADED_FROM = 2000
"""Boards with at least this many alerts are applied off the event loop."""
Inputs = tuple[Mapping[str, SourceReport], tuple[SourceHealth, ...], datetime,
               tuple[Incident, ...]]
Result = tuple[Shift, tuple[Event, ...], list[Record]]
Change = Callable[[Shift], ShiftStep]
Show = Callable[[Shift, tuple[Event, ...], list[Record]], None]
"""Receives each new Shift, the step's events and their journal records (to write)."""


class AckKeeping(Protocol):
    def plan_acks(self, board: Board) -> AckPlan:
        """The acks to extend or end after this poll's board. Called where the poll was applied
        (the runner's thread for large boards): it must only read."""

    def keep_acks(self, plan: AckPlan) -> None:
        """On the event loop, after the new Shift was shown: write `plan` (less what is being
        written already)."""


class ShiftRunner:
    def __init__(self, shift: Shift, user: str, clock: Clock, show: Show,
                 acks: AckKeeping | None = None) -> None:
        self.shift = shift
        self.applying = False
        """A threaded apply runs (start one when `apply` returns True)."""
        self._user = user
        self._clock = clock
        self._show = show
        self._acks = acks
        self._wanted = False
        self._queued: list[Change] = []
        """Changes over the whole board waiting for the thread."""
        self._replay: list[Change] = []

    def apply(self, inputs: Callable[[], Inputs], size: int) -> bool:
        """A poll: applied here for small boards; True when the caller must start
        `apply_in_thread` (none is running)."""
        if size < THREADED_FROM and not self.applying:
            self._take(self._recorded(self.shift.apply(*inputs())))
            self._keep_acks(self._plan(self.shift))
            return False
        self._wanted = True
        return self._start()

    def change(self, change: Change) -> bool:
        """A change over the whole board (the journal read, a roster): made here for small
        boards; True when the caller must start `apply_in_thread` (it runs there)."""
        if len(self.shift.board.alerts) < THREADED_FROM and not self.applying:
            self._take(self._recorded(change(self.shift)))
            return False
        self._queued.append(change)
        return self._start()

    def _start(self) -> bool:
        start, self.applying = not self.applying, True
        return start

    async def apply_in_thread(self, inputs: Callable[[], Inputs]) -> None:
        """Changes and applies until none waits. `inputs` is called on the event loop."""
        try:
            while self._wanted or self._queued:
                wanted, changes = self._wanted, self._queued
                self._wanted, self._queued, self._replay = False, [], []
                (shift, events, records), plan = await off_loop(
                    self._worked, self.shift, changes, inputs() if wanted else None)
                for change in self._replay:  # records journaled on the event loop meanwhile
                    shift, more, also = self._recorded(change(shift))
                    events, records = events + more, records + also
                self._take((shift, events, records))
                self._keep_acks(plan)
        finally:
            self.applying, self._replay = False, []

    def record(self, records: Sequence[Record]) -> None:
        """Records made on the event loop (writes, notes, commands): into the Shift at once,
        and to `show` (for the disk) once."""
        if not records:
            return
        now = self._clock.now()

        def journaled(shift: Shift) -> ShiftStep:
            return ShiftStep(shift.journaled(records, now), ())

        if self.applying:
            self._replay.append(journaled)
        self._take((journaled(self.shift).shift, (), list(records)))

    def tick(self, now: datetime) -> bool:
        """A second passed: escalation steps and status updates that fell due, or the alerts
        found firing at start recorded (a change over the whole board). True when the caller
        must start `apply_in_thread`."""
        if self.applying:
            return False  # its result will be ticked at the next second
        if self.shift.seen_at_start_due:
            return self.change(lambda shift: shift.seen_at_start())
        step = self.shift.tick(now)
        if step.shift is not self.shift:
            self._take(self._recorded(step))
        return False

    def _worked(self, shift: Shift, changes: list[Change], inputs: Inputs | None
                ) -> tuple[Result, AckPlan | None]:
        """In the thread: the queued changes in order, then the poll's apply and its ack plan."""
        events: tuple[Event, ...] = ()
        records: list[Record] = []
        steps = [*changes, *([lambda s: s.apply(*inputs)] if inputs is not None else [])]
        for step in steps:
            shift, more, also = self._recorded(step(shift))
            events, records = events + more, records + also
        return (shift, events, records), self._plan(shift) if inputs is not None else None

    def _plan(self, shift: Shift) -> AckPlan | None:
        return self._acks.plan_acks(shift.board) if self._acks is not None else None

    def _keep_acks(self, plan: AckPlan | None) -> None:
        if plan is not None and self._acks is not None:
            self._acks.keep_acks(plan)

    def _recorded(self, step: ShiftStep) -> tuple[Shift, tuple[Event, ...], list[Record]]:
        """The step's events as journal records, already in its Shift."""
        now = self._clock.now()
        records = journal_records(step.events, self._user, now)
        shift = step.shift.journaled(records, now) if records else step.shift
        return shift, step.events, records

    def _take(self, result: tuple[Shift, tuple[Event, ...], list[Record]]) -> None:
        self.shift, events, records = result
        self._show(self.shift, events, records)
