"""`shiftdeck alerts` sends its requests before the rest of shiftdeck is imported.

Alertmanager needs ~0.26 s to its first byte at 10k alerts; shiftdeck spends that time
importing and checking the config. The upstreams are read first (by the config's own parsers),
one poll runs in a thread, and the full config is loaded and checked meanwhile: its upstreams
must be the ones polled, or nothing of the early poll is used. Measured: bench/cli_bench.py.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .clock import Clock

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .config import Config, Upstream
    from .sources.poll import Source


@dataclass(frozen=True)
class Upstreams:
    """The config's upstreams: all that a poll needs of it (sources.poll.make_sources)."""

    alertmanagers: tuple[Upstream, ...]
    prometheus: tuple[Upstream, ...]


class EarlyPoll:
    """One poll of every upstream, in a thread of its own, started before the rest of the
    config and the CLI are imported: Alertmanager needs ~0.26 s to its first byte at 10k
    alerts, time that shiftdeck spends importing (measured: bench/cli_bench.py). The full
    config is still loaded and checked first; its upstreams must be the ones polled."""

    def __init__(self, upstreams: Upstreams, clock: Clock) -> None:
        from concurrent.futures import Future

        from .sources.poll import make_sources

        self.upstreams = upstreams
        self._done: Future[list[tuple[Source, Any]]] = Future()
        sent = _RequestsSent()
        # Here: httpx imports its transport meanwhile.
        sources = self._sources = make_sources(upstreams)
        sent.watch(sources)
        threading.Thread(target=self._poll, args=(sources, clock, sent), daemon=True,
                         name="shiftdeck-early-poll").start()
        # The poll thread connects and sends alone: the imports that follow would otherwise
        # hold the interpreter lock half of the time (measured: connect 150 ms later).
        sent.event.wait(SEND_WAIT)

    def _poll(self, sources: list[Source], clock: Clock, sent: _RequestsSent) -> None:
        import asyncio

        from .sources.poll import poll_and_close

        try:
            self._done.set_result(asyncio.run(poll_and_close(sources, clock)))
        except BaseException as error:  # handed to the main thread by results()
            self._done.set_exception(error)
        finally:
            sent.event.set()

    def results(self, config: Config) -> list[tuple[Source, Any]] | None:
        """Each source with (report, skipped) or its SourceError; None when `config` polls
        other upstreams than those read early (then nothing of this poll is used)."""
        if (config.alertmanagers, config.prometheus) != (self.upstreams.alertmanagers,
                                                          self.upstreams.prometheus):
            return None
        self._give_levels(config)
        return self._done.result()

    def _give_levels(self, config: Config) -> None:
        """The Alertmanagers give the alerts they parse from now on their level: the board
        then only checks it (the answer is usually still on its way when the config is in)."""
        from .sources.alertmanager import AlertmanagerClient

        for source in self._sources:
            if isinstance(source, AlertmanagerClient):
                source.policy = config.severity


SEND_WAIT = 0.5
"""Seconds the main thread waits at most for the early poll's requests to be out."""


class _RequestsSent:
    """Set once every request begun is out: httpcore's trace extension says when a request
    starts waiting for its answer. Requests begin together (poll_all_once gathers them), so
    all have begun before the first is out."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._begun = 0
        self._out = 0

    def watch(self, sources: list[Source]) -> None:
        from .sources.alertmanager import AlertmanagerClient
        from .sources.prometheus import PrometheusClient

        for source in sources:
            if isinstance(source, (AlertmanagerClient, PrometheusClient)):
                hooks = source.client.event_hooks
                source.client.event_hooks = {**hooks,
                                             "request": [*hooks["request"], self._begin]}

    async def _begin(self, request: Any) -> None:
        self._begun += 1
        request.extensions = {**request.extensions, "trace": self._trace}

    async def _trace(self, name: str, info: Any) -> None:
        if name.endswith(".receive_response_headers.started"):
            self._out += 1
            if self._out >= self._begun:
                self.event.set()


def read_upstreams(explicit: str | None) -> Upstreams | None:
    """The config file's alertmanagers and prometheus, read by the config's own parsers (and
    nothing else of it); None when there is no file or no upstream, or something is wrong:
    the full load says what, as always."""
    from .config import ConfigError, find_config_path
    from .config.upstreams import parse_alertmanagers, parse_prometheus
    from .config.walker import Context, compose

    try:
        path = find_config_path(explicit, os.environ)
        if path is None:
            return None
        text = path.read_text(encoding="utf-8")
        root = compose(text, Context(os.fspath(path), os.environ, path.absolute().parent))
        sections = root.pairs()

        def section(key: str, parse: Any) -> tuple[Upstream, ...]:
            return parse(root.child(sections[key][1], key)) if key in sections else ()

        found = Upstreams(section("alertmanagers", parse_alertmanagers),
                          section("prometheus", parse_prometheus))
    except (ConfigError, OSError, UnicodeDecodeError):
        return None
    return found if found.alertmanagers or found.prometheus else None
