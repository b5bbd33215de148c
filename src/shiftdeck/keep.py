"""`shiftdeck keep`: the dashboard's ack keeping, headless, for a systemd unit or a sidecar.

Each pass polls every source as the dashboard does (same clients, same deadlines), extends the
team's ACK! silences that are about to end while their alerts fire and, with ack.until_resolved,
ends those whose alerts resolved (domain.acks), journals what it wrote and prints one line per
action. Safe beside other keepers, dashboards, kthxbye and karma: every write is re-checked
against the cluster first (writes.keep_acks), and only the team's shiftdeck acks are touched.
SIGTERM or SIGINT: the pass under way finishes, then exit 0. No textual on this path.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any, TextIO

from . import writes
from .clock import Clock
from .domain.acks import SETTLE, AckPlan, team_of
from .domain.board import EMPTY_BOARD, Board, SourceReport, build_board
from .domain.health import SourceHealth
from .domain.sanitize import clean_line
from .domain.silences import Silence
from .services.ack_extender import AckExtender
from .sources.alertmanager import AlertmanagerClient, silences_health
from .sources.http import SourceError
from .sources.journal import Journal
from .sources.poll import Source, make_sources, poll_all_once
from .sources.silence_writer import SilenceWriter, skew_of

READ_ONLY = "shiftdeck: keep: read-only mode (--read-only or read_only: true): a keeper only " \
            "writes, so it does not start"


def run(args: argparse.Namespace, config: Any, clock: Clock, out: TextIO = sys.stdout,
        err: TextIO = sys.stderr) -> int:
    """Exit 0 after a clean stop (or `--once`), 2 when there is nothing a keeper may do."""
    if config.read_only:
        print(READ_ONLY, file=err)
        return 2
    if not config.alertmanagers:
        print("shiftdeck: keep: no alertmanagers in the config: there are no acks to keep",
              file=err)
        return 2
    if not (config.ack.extend or config.ack.until_resolved):
        print("shiftdeck: keep: ack.extend and ack.until_resolved are both false: there is "
              "nothing to keep", file=err)
        return 2
    keeper = Keeper(config, clock, out)
    return asyncio.run(keeper.once() if args.once else keeper.forever())


@dataclass
class _Polled:
    """Each source's last good answer and health, carried from pass to pass (as the app does:
    a failing source keeps its last good alerts, which only keep acks alive)."""

    reports: dict[str, SourceReport] = field(default_factory=dict)
    health: dict[str, SourceHealth] = field(default_factory=dict)
    board: Board = EMPTY_BOARD


class Keeper:
    def __init__(self, config: Any, clock: Clock, out: TextIO = sys.stdout,
                 settle: timedelta = SETTLE) -> None:
        self._config = config
        self._clock = clock
        self._out = out
        self._sources: list[Source] = make_sources(config)
        self._writer = SilenceWriter(config, clients=self._alertmanagers(), clock=clock)
        self._team = team_of(config.user, config.roster.people)
        self._extender = AckExtender(self._writer, config.ack, self._team, team_only=True,
                                     settle=settle)
        self._polled = _Polled()

    async def once(self) -> int:
        try:
            await self.keep()
        finally:
            await self.aclose()
        return 0

    async def forever(self) -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        self._say(f"keeping the acks of {', '.join(sorted(self._team))} every "
                  f"{self._config.refresh.total_seconds():g}s")
        try:
            while not stop.is_set():
                await self.keep()
                try:
                    await asyncio.wait_for(stop.wait(), self._config.refresh.total_seconds())
                except TimeoutError:
                    pass
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            await self.aclose()
        self._say("stopped")
        return 0

    async def keep(self) -> writes.Outcome:
        """One pass: poll, decide, write, journal, say."""
        board = await self._poll()
        plan = self._extender.plan(board)
        outcome = await self._extender.keep(plan)
        self._report(plan, outcome)
        return outcome

    async def aclose(self) -> None:
        await asyncio.gather(*(s.aclose() for s in self._sources))

    # -- polling ------------------------------------------------------------------------- #

    async def _poll(self) -> Board:
        polled = self._polled
        now = self._clock.now()
        for source, result in await poll_all_once(self._sources, self._clock):
            key = f"{source.kind}/{source.name}"
            known = polled.health.get(key, SourceHealth(source.name, source.kind))
            if isinstance(result, SourceError):
                polled.health[key] = known.failed(now, str(result))
                self._say(f"{source.kind} {source.name}: {result} (no ack ends while a "
                          "source fails)")
                continue
            report, skipped = result
            previous = polled.reports.get(key)
            polled.reports[key] = report
            polled.health[key] = known.succeeded(now, skipped)
            problem = silences_health(report, previous, polled.health.get(key + "/silences"))
            if problem is None:
                polled.health.pop(key + "/silences", None)
            else:
                polled.health[key + "/silences"] = problem
                self._say(f"{source.kind} {source.name}: {report.silences_error} (no ack "
                          "ends while a source fails)")
        self._note_skews()
        polled.board = build_board(polled.reports, tuple(polled.health.values()), polled.board,
                                   self._config.severity, now, self._config.resolved_retention)
        return polled.board

    def _alertmanagers(self) -> list[AlertmanagerClient]:
        return [s for s in self._sources if isinstance(s, AlertmanagerClient)]

    def _note_skews(self) -> None:
        for client in self._alertmanagers():
            skew = skew_of(client, self._clock)
            if skew is not None:
                self._writer.note_skew(client.cluster, skew)

    # -- telling --------------------------------------------------------------------------- #

    def _report(self, plan: AckPlan, outcome: writes.Outcome) -> None:
        records = AckExtender.records(plan, outcome, self._config.user, self._clock.now())
        ends = {r.id: r.ends_at for r in plan.extend}
        ended = {s.id: s for s in plan.end}
        for item in outcome.items:
            self._say(_action_line(item, ends, ended))
        for warning in outcome.warnings:
            self._say(f"warning: {warning}")
        if records:
            try:
                Journal(self._config.journal).extend(records)
            except OSError as error:
                self._say(f"warning: journal {self._config.journal}: not written "
                          f"({error.strerror or error}); the writes themselves were done")

    def _say(self, line: str) -> None:
        stamp = self._clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"{stamp} {clean_line(line, 400)}", file=self._out, flush=True)


def _action_line(item: writes.Item, ends: dict[str, Any], ended: dict[str, Silence]) -> str:
    what = f"ack {item.key} ({item.cluster})"
    if item.error:
        return f"{what}: failed: {item.error}"
    if item.skipped:
        return f"{what}: nothing to do: {item.skipped}"
    if item.key in ended:
        return f"{what} ended: every alert it acknowledged resolved: {ended[item.key].comment}"
    end = ends.get(item.key)
    return f"{what} extended to {end.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" if end else \
        f"{what}: done"


__all__ = ["Keeper", "add_parser", "run"]
