"""The poller process's side: it fetches, decodes and parses each source's answer, and sends
the UI process only what changed since the answer before (`Diff`).

Decoding a 10k-alert answer is one C call that holds the interpreter lock for ~45 ms; in the UI
process a key press waits for it. Here it stalls nothing the user sees. Runs until its pipe
closes (the UI process quit or died) or it is told to stop.
"""

from __future__ import annotations

import asyncio
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from ..domain.alerts import Alert
from ..domain.board import SourceReport
from ..domain.matchers import make_matcher
from ..domain.severity import SeverityLevel, SeverityPolicy
from ..domain.silences import Silence
from ..heap import give_back_free_memory
from .alertmanager import AlertmanagerClient, Progress
from .http import SourceError
from .poller_wire import PART, Ask, Diff, LevelRules, parts
from .prometheus import PrometheusClient


HEAD_START = 1.0
"""At start, seconds a peer waits at most for the one before it to answer (`_first_polls`)."""
SWITCH_INTERVAL = 0.0005
"""Seconds a thread of the poller process holds the interpreter lock while others wait
(`serve`)."""
CONFIRM_AFTER = 1.0
"""Seconds after a cluster's first answer before its second peer is asked: the UI process
draws the table from it meanwhile (at 10k alerts ~0.5 s on 2 cores)."""


@dataclass
class _Seen:
    """What was last sent of one source."""

    alerts: dict[str, Alert] = field(default_factory=dict)
    listed: tuple[Alert, ...] | None = None
    """The tuple `alerts` was made of."""
    silences: tuple[Silence, ...] | None = None
    expressions: Mapping[str, str] | None = None
    sent: bool = False
    levels: LevelRules = ()
    """The level rules the client's policy was made of."""
    first: asyncio.Task[tuple[SourceReport, int]] | None = None
    """The first poll, started before the first ask; taken by it."""


def serve(connection: Connection) -> None:
    """The poller process's main: the upstreams come first, then answer each Ask until STOP
    or the connection closes. The UI process alone decides when to stop: ctrl+c is its key,
    not this process's signal."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parsing thread hands the lock over sooner (CPython's default: after 5 ms) to the
    # threads that only wait for the socket: the sender, its part sent a socket buffer at a
    # time, and the loop. Measured at 100k alerts, answer in to table: 5.16 s with 5 ms and no
    # parts sent while parsing, 5.67 s sending parts with 5 ms, 4.60-4.70 s with 0.5 ms.
    sys.setswitchinterval(SWITCH_INTERVAL)
    asyncio.run(_serve(connection, connection.recv()))


async def _serve(connection: Connection, kinds_and_upstreams: list[tuple[str, Any]]) -> None:
    clients = [_client(kind, upstream) for kind, upstream in kinds_and_upstreams]
    _introduce_peers([c for c in clients if isinstance(c, AlertmanagerClient)])
    sender = DiffSender(connection)
    seen = [_Seen() for _ in clients]
    firsts = _first_polls(clients, [_streamed(sender, index, s) for index, s in enumerate(seen)])
    for source, first in zip(seen, firsts):
        source.first = first
    locks = [asyncio.Lock() for _ in clients]
    loop = asyncio.get_running_loop()
    asks: asyncio.Queue[Ask | None] = asyncio.Queue()
    threading.Thread(target=_read, args=(connection, loop, asks), daemon=True).start()
    tasks: set[asyncio.Task[None]] = set()
    while (ask := await asks.get()) is not None:
        task = asyncio.create_task(_answer(sender, ask, clients[ask.index], seen[ask.index],
                                           locks[ask.index]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    for pending in (*tasks, *firsts):
        pending.cancel()
    await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)


def _introduce_peers(alertmanagers: list[AlertmanagerClient]) -> None:
    """Each Alertmanager learns its HA peers: their copies of an alert share its maps."""
    for client in alertmanagers:
        client.peers = tuple(c for c in alertmanagers
                             if c is not client and c.cluster == client.cluster)


def _first_polls(clients: list[AlertmanagerClient | PrometheusClient],
                 streams: list[Progress]) -> list[asyncio.Task[tuple[SourceReport, int]]]:
    """Each source's first poll, started now while the UI process is still starting: its
    first ask takes this answer (the UI stamps a report with its own clock; `now` is not
    sent), and an Alertmanager's alerts are sent on while they are parsed (`streams`). A
    cluster's peers are asked one after the other: they hold the same alerts, and
    their answers would compete with the first one for the CPU (theirs, the decoding here,
    the UI's start) while the table waits for any one of them, and each answer parsed at
    once is memory held at once. The second is asked CONFIRM_AFTER after the first answered
    (the table is being drawn), each next one when the one before answered; at once after
    a failure, and after HEAD_START when the one before is slow."""
    before: dict[str, list[_First]] = {}
    firsts = []
    for client, stream in zip(clients, streams):
        cluster = client.cluster if isinstance(client, AlertmanagerClient) else ""
        peers = before.setdefault(cluster, []) if cluster else []
        sent = asyncio.Event()
        if peers:
            pause = CONFIRM_AFTER if len(peers) == 1 else 0.0
            task = asyncio.create_task(_after(peers[-1], sent, client, stream, pause))
        else:
            sent.set()
            task = asyncio.create_task(_first_report(client, stream))
        peers.append(_First(sent, task))
        firsts.append(task)
    return firsts


class _First(NamedTuple):
    """A source's first poll, and when it was sent (its next peer waits for it)."""

    sent: asyncio.Event
    task: asyncio.Task[tuple[SourceReport, int]]


async def _after(previous: _First, sent: asyncio.Event,
                 client: AlertmanagerClient | PrometheusClient, stream: Progress, pause: float
                 ) -> tuple[SourceReport, int]:
    await previous.sent.wait()
    done, _ = await asyncio.wait({previous.task}, timeout=HEAD_START)
    if done and not previous.task.cancelled() and previous.task.exception() is None:
        await asyncio.sleep(pause)
    sent.set()
    return await _first_report(client, stream)


async def _first_report(client: AlertmanagerClient | PrometheusClient,
                        stream: Progress) -> tuple[SourceReport, int]:
    if isinstance(client, AlertmanagerClient):
        return await client.report(datetime.now(UTC), stream)
    return await client.report(datetime.now(UTC))


STREAMED = -1
"""The number of a part sent before the ask it answers (`_streamed`)."""


def _streamed(sender: DiffSender, index: int, seen: _Seen) -> Progress:
    """A first answer's alerts, sent on as they are parsed: the UI process unpickles each
    part while the next one is parsed. `seen` holds them, so the poll's own diff has only the
    rest; the UI process applies the parts as they come, and its poll ends with that diff.
    Called in the parsing thread: the loop reads `seen.alerts` and `sent` once the poll is
    over (`_diff`)."""
    def send(alerts: Sequence[Alert]) -> None:
        seen.alerts.update((alert.fingerprint, alert) for alert in alerts)
        sender.send(Diff(STREAMED, index, full=not seen.sent, changed=tuple(alerts),
                         last=False))
        seen.sent = True

    return Progress(PART, send)


def _client(kind: str, upstream: Any) -> AlertmanagerClient | PrometheusClient:
    return AlertmanagerClient(upstream) if kind == "alertmanager" else PrometheusClient(upstream)


def _read(connection: Connection, loop: asyncio.AbstractEventLoop,
          asks: asyncio.Queue[Ask | None]) -> None:
    """In a thread: the UI process's asks, into the loop's queue; None at the end."""
    try:
        while isinstance(ask := connection.recv(), Ask):
            loop.call_soon_threadsafe(asks.put_nowait, ask)
    except (EOFError, OSError):
        pass
    loop.call_soon_threadsafe(asks.put_nowait, None)


class DiffSender:
    """Diffs pickled on the loop and sent, in order, by a thread of their own: while one part
    of a large diff is on its way and the UI process unpickles it, the next one is pickled
    (sent from the loop, each part waited for the UI process to read the one before)."""

    def __init__(self, connection: Connection) -> None:
        self._queue: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        threading.Thread(target=self._send_all, args=(connection,), daemon=True,
                         name="shiftdeck-poller-sender").start()

    def send(self, diff: Diff) -> None:
        self._queue.put(pickle.dumps(diff, pickle.HIGHEST_PROTOCOL))

    def _send_all(self, connection: Connection) -> None:
        while True:
            data = self._queue.get()
            try:
                connection.send_bytes(data)
            except (OSError, ValueError):
                return  # the UI process is gone; _read ends the loop


async def _answer(sender: DiffSender, ask: Ask, client: AlertmanagerClient | PrometheusClient,
                  seen: _Seen, lock: asyncio.Lock) -> None:
    async with lock:  # one poll of a source at a time: diffs must follow one another
        if isinstance(client, AlertmanagerClient) and ask.levels != seen.levels:
            client.policy, seen.levels = policy_of(ask.levels), ask.levels
        first, seen.first = seen.first, None
        try:
            report, skipped = await (first if first is not None else client.report(ask.now))
        except SourceError as err:
            diff = Diff(ask.number, ask.index, error=str(err))
        except Exception as err:  # a bug or an answer we did not foresee
            diff = Diff(ask.number, ask.index,
                        error=f"unexpected error: {type(err).__name__}: {err}"[:200])
        else:
            diff = _diff(ask, seen, report.alerts, skipped, report.silences,
                         report.silences_error, report.expressions,
                         client.clock_offset() if isinstance(client, AlertmanagerClient) else None)
        for part in parts(diff):
            sender.send(part)
        give_back_free_memory()  # the decoded answer's pages, freed by now


def policy_of(rules: LevelRules) -> SeverityPolicy | None:
    """The severity policy the UI process sent (`poller_process.level_rules`); None for none.
    Only what decides a level is sent: the order, the names, the matchers."""
    if not rules:
        return None
    return SeverityPolicy(tuple(
        SeverityLevel(name, tuple(make_matcher(*m, lenient=True) for m in matchers))
        for name, matchers in rules))


def _diff(ask: Ask, seen: _Seen, alerts: tuple[Alert, ...], skipped: int,
          silences: tuple[Silence, ...], silences_error: str, expressions: Mapping[str, str],
          offset: timedelta | None) -> Diff:
    """The Diff of this answer against `seen`, which then becomes this answer. Unchanged alerts
    are mostly the very objects sent before (Alertmanager's parser reuses them): `is` finds
    those at once, `==` the rest; the very tuple sent before (a batch where nothing changed)
    costs nothing."""
    changed: tuple[Alert, ...] = ()
    removed: tuple[str, ...] = ()
    if alerts is not seen.listed:
        now = {alert.fingerprint: alert for alert in alerts}
        before = seen.alerts
        changed = tuple(a for fp, a in now.items()
                        if (old := before.get(fp)) is not a and old != a)
        removed = tuple(fp for fp in before if fp not in now)
        seen.alerts, seen.listed = now, alerts
    diff = Diff(ask.number, ask.index, full=not seen.sent, changed=changed, removed=removed,
                skipped=skipped,
                silences=None if silences == seen.silences else silences,
                silences_error=silences_error,
                expressions=None if expressions == seen.expressions else dict(expressions),
                clock_offset=offset)
    seen.silences, seen.expressions, seen.sent = silences, expressions, True
    return diff


if __name__ == "__main__":  # started by poller_process.PollerProcess with its socket's fd
    # Through the module's own name: the UI process pickles `poller_child.Ask`, not `__main__.Ask`.
    from shiftdeck.sources import poller_child

    poller_child.serve(Connection(int(sys.argv[1])))
