"""Alertmanager and Prometheus polled in a process of their own (the TUI's sources).

The poller process (poller_child.py) fetches, decodes and parses; only what changed crosses the
pipe, so the UI process never holds the interpreter lock for a whole answer and never holds the
raw answers in memory. Each ProcessSource keeps the alerts by fingerprint and applies every diff
in order, even one that arrives after its poll gave up waiting (the next diff builds on it).
A poller process that dies is started again at the next poll, which then sends everything.
"""

from __future__ import annotations

import asyncio
import itertools
import pickle
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from ..bulk import without_collector
from ..domain.alerts import Alert, sharing
from ..domain.board import SourceReport
from ..domain.severity import SeverityPolicy
from ..domain.silences import Silence
from .errors import SourceError
from .poller_wire import STOP, Ask, Diff, LevelRules

if TYPE_CHECKING:
    from .poll import Source

STOP_GRACE = 2.0
"""Seconds the poller process has to close its connections when told to stop."""


class PollerProcess:
    """One child process polling several sources, started at the first poll and again after
    it died."""

    def __init__(self, upstreams: list[tuple[str, Any]]) -> None:
        self._upstreams = upstreams
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None
        self._waiting: dict[int, asyncio.Future[Diff]] = {}
        self._numbers = itertools.count()
        self._takers: dict[int, ProcessSource] = {}
        self._listening = False
        self.levels: LevelRules = ()
        """Sent with each ask (`polled_apart` sets them from the config)."""

    @property
    def upstreams(self) -> list[tuple[str, Any]]:
        return self._upstreams

    def join(self, index: int, source: ProcessSource) -> None:
        self._takers[index] = source

    @property
    def pid(self) -> int | None:
        """The poller process's id while it runs."""
        return self._process.pid if self._process is not None else None

    async def ask(self, index: int, now: datetime) -> Diff:
        """One poll of source `index`: its Diff (already applied to the source)."""
        connection = self._connection or self.start()
        if not self._listening:
            self._listen(connection, asyncio.get_running_loop())
        number = next(self._numbers)
        future = self._waiting[number] = asyncio.get_running_loop().create_future()
        try:
            connection.send(Ask(number, index, now, self.levels))
            return await future
        except (OSError, ValueError) as err:
            raise SourceError(f"the poller process cannot be reached: {err}") from None
        finally:
            self._waiting.pop(number, None)

    def start(self) -> Connection:
        """A new interpreter (not a fork: the UI has threads), speaking over a socket pair;
        its output goes nowhere (the terminal is the UI's). Called before the UI starts, its
        imports overlap the UI's."""
        mine, theirs = socket.socketpair()
        with theirs:
            process = subprocess.Popen(
                [sys.executable, "-m", "shiftdeck.sources.poller_child", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        connection = Connection(mine.detach())
        connection.send(self._upstreams)
        self._process, self._connection, self._listening = process, connection, False
        return connection

    def _listen(self, connection: Connection, loop: asyncio.AbstractEventLoop) -> None:
        assert self._process is not None
        self._listening = True
        threading.Thread(target=self._read, args=(connection, self._process, loop),
                         daemon=True, name="shiftdeck-poller-reader").start()

    def _read(self, connection: Connection, process: subprocess.Popen[bytes],
              loop: asyncio.AbstractEventLoop) -> None:
        """In a thread: each Diff to the event loop, in order; then the end of the process."""
        try:
            while True:
                data = connection.recv_bytes()  # waiting: the collector stays on meanwhile
                diff = without_collector(pickle.loads, data)  # thousands of new objects
                diff = self._takers[diff.index].shared(diff)
                loop.call_soon_threadsafe(self._arrived, diff)
        except (EOFError, OSError):
            pass
        except RuntimeError:
            return  # the event loop closed: shiftdeck is quitting
        try:
            exitcode = process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            exitcode = None
        try:
            loop.call_soon_threadsafe(self._ended, connection, exitcode)
        except RuntimeError:
            pass

    def _arrived(self, diff: Diff) -> None:
        self._takers[diff.index].take(diff)
        if not diff.last:
            return
        future = self._waiting.get(diff.number)
        if future is not None and not future.done():
            future.set_result(diff)

    def _ended(self, connection: Connection, exitcode: int | None) -> None:
        if connection is not self._connection:
            return
        self._process = self._connection = None
        why = SourceError(f"the poller process ended (exit code {exitcode}); starting it again")
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(why)

    def discard(self) -> None:
        """Stop the poller process without waiting for it (it was started for upstreams that
        are not polled after all)."""
        connection, self._connection, self._process = self._connection, None, None
        if connection is not None:
            try:
                connection.send(STOP)
            except (OSError, ValueError):
                pass
            connection.close()

    async def aclose(self) -> None:
        """Stop the poller process (several sources share it: the first call does it)."""
        connection, process = self._connection, self._process
        self._connection = self._process = None
        if connection is None or process is None:
            return
        try:
            connection.send(STOP)
        except (OSError, ValueError):
            pass
        try:
            await asyncio.to_thread(process.wait, STOP_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
        connection.close()


class ProcessSource:
    """A Source whose polls run in the poller process."""

    def __init__(self, poller: PollerProcess, index: int, kind: str, upstream: Any) -> None:
        self.kind = kind
        self.upstream = upstream
        self.name: str = upstream.name
        if kind == "alertmanager":
            self.cluster: str = upstream.cluster
        self._poller = poller
        self._index = index
        self._alerts: dict[str, Alert] = {}
        self._listed: tuple[Alert, ...] | None = ()
        """`alerts`, kept until a diff changes them (None: to be made again)."""
        self._silences: tuple[Silence, ...] = ()
        self._expressions: Mapping[str, str] = {}
        self._offset: timedelta | None = None
        self.peers: tuple[ProcessSource, ...] = ()
        """The other members of its HA cluster (`polled_apart`)."""
        poller.join(index, self)

    @property
    def poller(self) -> PollerProcess:
        return self._poller

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """The alerts as of the diffs applied so far: the very same tuple until one changes
        them, so a poll that changed nothing costs the board no merge."""
        if self._listed is None:
            self._listed = tuple(self._alerts.values())
        return self._listed

    def shared(self, diff: Diff) -> Diff:
        """`diff` with each alert holding a peer's equal label and annotation maps, so a
        cluster's alerts are kept once, not once per peer. In the reader thread: the peers'
        alerts are only looked up there."""
        if not self.peers or not diff.changed:
            return diff
        known = [peer._alerts for peer in self.peers]
        return replace(diff, changed=tuple(sharing(alert, _found(known, alert.fingerprint))
                                           for alert in diff.changed))

    def take(self, diff: Diff) -> None:
        """Apply one Diff (on the event loop; O(what changed))."""
        if diff.error:
            return
        if diff.full or diff.removed or diff.changed:
            self._listed = None
        if diff.full:  # only the first part of a diff says so
            self._alerts = {}
        for fingerprint in diff.removed:
            self._alerts.pop(fingerprint, None)
        for alert in diff.changed:
            self._alerts[alert.fingerprint] = alert
        if diff.silences is not None:
            self._silences = diff.silences
        if diff.expressions is not None:
            self._expressions = diff.expressions
        if diff.clock_offset is not None:
            self._offset = diff.clock_offset

    async def report(self, now: datetime) -> tuple[SourceReport, int]:
        diff = await self._poller.ask(self._index, now)
        if diff.error:
            raise SourceError(diff.error)
        return SourceReport(self.name, self.kind, self.alerts, now,
                            expressions=self._expressions, silences=self._silences,
                            silences_error=diff.silences_error), diff.skipped

    def clock_offset(self) -> timedelta | None:
        """The server's clock minus this machine's, from its latest answer."""
        return self._offset

    async def aclose(self) -> None:
        await self._poller.aclose()


def polled_apart(config: Any, started: PollerProcess | None = None) -> list[Source]:
    """The config's Alertmanagers and Prometheus servers, polled in one poller process:
    `started` (`start_poller`) when it polls these very upstreams, else a new one."""
    upstreams = _upstreams_of(config)
    if not upstreams:
        return []
    poller = started
    if poller is None or poller.upstreams != upstreams:
        if started is not None:
            started.discard()
        poller = PollerProcess(upstreams)
        poller.start()
    poller.levels = level_rules(config.severity)
    sources = [ProcessSource(poller, index, kind, upstream)
               for index, (kind, upstream) in enumerate(upstreams)]
    _introduce_peers([s for s in sources if s.kind == "alertmanager"])
    return [*sources]


def level_rules(policy: SeverityPolicy) -> LevelRules:
    """`policy`'s levels as the poller process rebuilds them (`poller_child.policy_of`)."""
    return tuple((level.level, tuple((m.name, m.op.value, m.value) for m in level.match))
                 for level in policy.levels)


def _introduce_peers(alertmanagers: list[ProcessSource]) -> None:
    for source in alertmanagers:
        source.peers = tuple(s for s in alertmanagers
                             if s is not source and s.cluster == source.cluster)


def _found(known: list[dict[str, Alert]], fingerprint: str) -> Alert | None:
    for alerts in known:
        if (alert := alerts.get(fingerprint)) is not None:
            return alert
    return None


def start_poller(upstreams: Any) -> PollerProcess | None:
    """The poller process of these upstreams (a config, or `early.Upstreams`), started now:
    the dashboard starts it before its own imports (~1 s), so the first poll is under way
    meanwhile. None when there is nothing to poll."""
    pairs = _upstreams_of(upstreams)
    if not pairs:
        return None
    poller = PollerProcess(pairs)
    poller.start()
    return poller


def _upstreams_of(config: Any) -> list[tuple[str, Any]]:
    return [*(("alertmanager", u) for u in config.alertmanagers),
            *(("prometheus", u) for u in config.prometheus)]
