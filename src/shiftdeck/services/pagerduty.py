"""PagerDuty in the TUI: each account polled by its own long-lived loop (poll.py's, as the other
sources), its incidents and health kept on the SourceBoard, its on-calls merged into the roster
as the CLI's `who` merges them (domain.pager.oncall_shifts, next to the ICS feeds' shifts), and
the ladders of levels that take theirs from an escalation policy (domain.pager.policy_ladder)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from ..clock import Clock
from ..domain.escalation import Step
from ..domain.pager import oncall_shifts, policy_ladder
from ..domain.roster import Roster, Shift, with_shifts
from ..sources.pagerduty import PagerDutyClient, PagerReport
from ..sources.poll import poll_forever
from ..writes import Pager
from .notifier import Notifier
from .sources import SourceBoard, source_key

Changed = Callable[[Roster | None], None]
"""Called after each poll: with the roster when PagerDuty's on-calls changed it or a ladder
(`ladders`) changed."""


class PagerDesk:
    def __init__(self, clients: Sequence[PagerDutyClient], board: SourceBoard, roster: Roster,
                 clock: Clock, notify: Notifier) -> None:
        """`roster`: the config's, until the ICS feeds give theirs (`with_feeds`)."""
        self.clients = tuple(clients)
        self._board = board
        self._base = roster
        self._clock = clock
        self._notify = notify
        self._shifts: dict[str, tuple[Shift, ...]] = {}
        self._unmatched: dict[str, tuple[str, ...]] = {}
        self._ladders: dict[str, tuple[Step, ...]] = {}

    @property
    def keys(self) -> list[str]:
        return [source_key(client) for client in self.clients]

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()

    @property
    def pagers(self) -> Mapping[str, Pager]:
        """Each account by name: the write path's pagers."""
        return {client.name: client for client in self.clients}

    async def poll(self, client: PagerDutyClient, refresh: timedelta, changed: Changed) -> None:
        """Forever: poll `client`; record its answer or its failure, then call `changed`."""
        key = source_key(client)

        def reported(report: PagerReport, skipped: int) -> None:
            for problem in self._board.pager_reported(key, report, skipped):
                self._notify(problem, title="PagerDuty", severity="warning", timeout=10)
            roster = self._oncalls_read(client, report)
            changed(self.roster() if self._ladders_read(client, report) else roster)

        def failed(_name: str, error: str, at: datetime) -> None:
            self._board.failed(key, error, at)
            changed(None)

        await poll_forever(client, self._clock, refresh, reported, failed, self._board.wake[key])

    def with_feeds(self, roster: Roster) -> Roster:
        """The ICS feeds' roster (they replace its shifts), with PagerDuty's on-calls added."""
        self._base = roster
        return self.roster()

    def ladders(self) -> Mapping[str, tuple[Step, ...]]:
        """Severity level → the ladder read from its PagerDuty escalation policy (levels whose
        policy was never read are absent: they have no ladder yet)."""
        return dict(self._ladders)

    def roster(self) -> Roster:
        pager = [shift for key in sorted(self._shifts) for shift in self._shifts[key]]
        return with_shifts(self._base, (*self._base.shifts, *pager)) if pager else self._base

    def _oncalls_read(self, client: PagerDutyClient, report: PagerReport) -> Roster | None:
        """The new roster when this account's on-calls changed it; None when they did not (an
        on-call answer that failed keeps the shifts read before)."""
        if any(p.startswith("on-calls unavailable") for p in report.problems):
            return None
        wanted = client.upstream.escalation_policies  # ladders' policies were read as well
        oncalls = [o for o in report.oncalls
                   if not wanted or o.escalation_policy_id in wanted]
        found = oncall_shifts(oncalls, client.upstream.levels, self._base.people, client.name)
        if found.unmatched and found.unmatched != self._unmatched.get(client.name):
            self._notify(f"PagerDuty {client.name}: on-call {', '.join(found.unmatched)} is "
                         "nobody in people: not used", severity="warning", timeout=10)
        self._unmatched[client.name] = found.unmatched
        if found.shifts == self._shifts.get(client.name, ()):
            return None
        self._shifts[client.name] = found.shifts
        return self.roster()

    def _ladders_read(self, client: PagerDutyClient, report: PagerReport) -> bool:
        """This account's ladders from its policies and on-calls: True when one changed (an
        on-call answer that failed keeps the ladders made before)."""
        if any(p.startswith("on-calls unavailable") for p in report.problems):
            return False
        policies = {p.id: p for p in report.policies}
        now = self._clock.now()
        made = {level: policy_ladder(policies[policy_id], report.oncalls, self._base.people, now)
                for level, policy_id in client.ladders.items() if policy_id in policies}
        changed = {level: steps for level, steps in made.items()
                   if self._ladders.get(level) != steps}
        self._ladders.update(changed)
        return bool(changed)
