"""kthxbye's job, idempotently, and the end of acks whose alerts resolved: extend ACK! silences
still silencing a firing alert when less than 5 minutes remain (judged on each cluster's clock),
keeping their ids; with ack.until_resolved, end the team's acks once their alerts are gone
(domain.acks says when that is)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from .. import writes
from ..domain.acks import SETTLE, AckPlan, plan_acks
from ..domain.board import Board
from ..domain.journal import Record
from ..domain.silences import AckSettings, SilenceRequest


class AckExtender:
    def __init__(self, writer: writes.Writer, settings: AckSettings,
                 team: frozenset[str] = frozenset(), *, team_only: bool = False,
                 settle: timedelta = SETTLE) -> None:
        """`team` (domain.acks.team_of): whose acks may be ended; `team_only`: extend only
        theirs too (`shiftdeck keep`), else every ACK! silencing a firing alert."""
        self._writer = writer
        self._settings = settings
        self._team = team
        self._team_only = team_only
        self._settle = settle
        self._in_flight: set[str] = set()

    def plan(self, board: Board) -> AckPlan:
        """What to write now (nothing already being written); marks it in flight."""
        return self.claim(self.planned(board))

    def planned(self, board: Board) -> AckPlan:
        """What the board asks for, writes in flight included: reads only, so it may run in
        any thread (the ShiftRunner's, for large boards)."""
        return plan_acks(board, self._writer.now_at, self._settings, self._team,
                         team_only=self._team_only, settle=self._settle)

    def claim(self, plan: AckPlan) -> AckPlan:
        """On the event loop: `plan` less what is being written, marked in flight."""
        plan = plan.without(self._in_flight)
        self._in_flight.update(plan.ids)
        return plan

    async def keep(self, plan: AckPlan) -> writes.Outcome:
        """Carry out a plan from `plan()`, each write re-checked first (writes.keep_acks)."""
        try:
            return await writes.keep_acks(plan, self._writer)
        finally:
            self._in_flight.difference_update(plan.ids)

    def due(self, board: Board) -> list[SilenceRequest]:
        """The extensions of `plan()` alone (callers that end no acks)."""
        plan = self.plan(board)
        self._in_flight.difference_update(s.id for s in plan.end)
        return list(plan.extend)

    async def extend(self, plans: Sequence[SilenceRequest]) -> writes.Outcome:
        return await self.keep(AckPlan(tuple(plans)))

    @staticmethod
    def records(plan: AckPlan, outcome: writes.Outcome, user: str,
                at: datetime) -> list[Record]:
        """The journal records of what `extend(plan)` did."""
        return writes.keep_records(plan, outcome, user, at)
