"""ShiftdeckApp: wiring only. Themes, keymap, one poller per source, the dashboard."""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from . import terminal, writes
from .clock import Clock
from .domain.board import EMPTY_BOARD, Board, SourceReport, build_board
from .domain.health import SourceHealth
from .domain.alerts import Alert
from .domain.journal import Record, lifecycle_records
from .domain.metric import MetricHistory, alerts_selector
from .domain.runbooks import Runbook
from .domain.notify import RateLimit, desktop_notification
from .internal_errors import BOARD, error_text, worker_label
from .investigate import InvestigateMixin
from .messages import SourceFailed, SourceReported
from .screens.dashboard import DashboardScreen
from .screens.help import HelpScreen, binding_rows
from .screens.oncall import OnCallScreen
from .screens.silences import SilencesScreen
from .shiftlog import ShiftLogMixin
from .silencing import SilencingMixin
from .sources.journal import Journal
from .sources.alertmanager import silences_health
from .sources.bulk import freeze_startup_heap, off_loop
from .sources.http import SourceError
from .sources.poll import Source, make_sources, poll_forever
from .sources.prometheus import PrometheusClient
from .sources.schedule import FeedResult, fetch_feeds, roster_with_feeds
from .sources.silence_writer import SilenceWriter
from .themes import VARIABLE_DEFAULTS, builtin_themes


THREADED_REBUILD_FROM = 2000
"""Boards with at least this many alerts are built off the event loop."""


def source_key(source: Source) -> str:
    return f"{source.kind}/{source.name}"


def _feed_health(health: SourceHealth, result: FeedResult, now) -> SourceHealth:
    """A fresh feed is ok; a failed one is stale, showing the cached copy's age, or down."""
    if not result.error:
        return health.succeeded(now, len(result.unmatched))
    failed = health.failed(now, result.error)
    if result.from_cache and failed.last_ok is None and result.fetched_at is not None:
        failed = replace(failed, last_ok=result.fetched_at)
    return failed


class ShiftdeckApp(SilencingMixin, ShiftLogMixin, InvestigateMixin, App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "shiftdeck"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help", tooltip="List every key"),
        Binding("t", "next_theme", "Theme", show=False, id="theme", tooltip="Next theme"),
        Binding("ctrl+r", "refresh_now", "Refresh", show=False, id="refresh",
                tooltip="Poll every source now"),
        Binding("colon,ctrl+p", "command_palette", "Commands", show=False, id="palette",
                tooltip="Command palette"),
        Binding("O", "show_oncall", "On call", show=False, id="show_oncall",
                tooltip="Who is on call, the next weeks, coverage gaps"),
    ]

    def __init__(self, config: Any, clock: Clock, *, poll: bool = True,
                 sources: list[Source] | None = None, cursor_blink: bool = True,
                 writer: writes.Writer | None = None, journal: Journal | None = None) -> None:
        super().__init__()
        self._terminal_filters = terminal.line_filters(os.environ)
        self.config = config
        self.clock = clock
        self.cursor_blink = cursor_blink
        # sources and what they last said
        self._poll = poll
        self._sources = sources if sources is not None else make_sources(config)
        self._reports: dict[str, SourceReport] = {}
        self._health = {source_key(s): SourceHealth(s.name, s.kind) for s in self._sources}
        self._health.update({f"ics/{feed.name}": SourceHealth(feed.name, "ics")
                             for feed in config.schedules_ics})
        self._feed_problems: dict[str, list[str]] = {}
        self._wake = {source_key(s): asyncio.Event() for s in self._sources}
        self._cluster = {source_key(s): getattr(s, "cluster", "") for s in self._sources}
        # the board and the screen that shows it
        self.board: Board = EMPTY_BOARD
        self._rebuilding = False
        self._rebuild_wanted = False
        self.dashboard = DashboardScreen(config, clock)
        self._pager = RateLimit(config.notify.min_interval)
        self._metrics: dict[str, MetricHistory] = {}
        # runbooks, commands and Kubernetes (investigate.py)
        self._runner = None
        self._kube = None
        self._runbooks: dict[str, Runbook] = {}
        # writes to Alertmanager (silencing.py)
        self.writer = writer if writer is not None else SilenceWriter(config, clock=clock)
        self._extending: set[str] = set()
        # the journal (shiftlog.py)
        self.journal = journal if journal is not None else Journal(config.journal)
        self.records: list[Record] = []
        """This session's view of the journal: the last week read at start, plus what we add."""
        self._unwritten: deque[Record] = deque()
        self._journal_writing = False

    def get_line_filters(self) -> Sequence[LineFilter]:
        return [*super().get_line_filters(), *self._terminal_filters]

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return VARIABLE_DEFAULTS

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast is plain text, whoever asks (widgets pass markup=True by default):
        toasts carry alert names, server reasons and file names."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_mount(self) -> None:
        self._theme_names = []
        for theme in builtin_themes():
            self.register_theme(theme)
            self._theme_names.append(theme.name)
        configured = self.config.theme if self.config.theme in self.available_themes \
            else "shiftdeck-dark"
        self.theme = terminal.theme_for(self, configured)
        if self.config.keymap:
            self.set_keymap(dict(self.config.keymap))
        self.push_screen(self.dashboard)
        self._load_journal()
        if self._poll:
            for source in self._sources:
                self._start_poller(source_key(source))
            if self.config.schedules_ics:
                self._start_poller("ics")

    def _start_poller(self, name: str) -> None:
        """The long-lived worker of one source (by its key), or of the ICS feeds ("ics")."""
        if name == "ics":
            self.run_worker(self._poll_feeds(), name="ics", group="poll",
                            description="refresh on-call feeds")
            return
        for source in self._sources:
            if source_key(source) == name:
                self.run_worker(self._poll_source(source), name=name, group="poll",
                                description=f"poll {name}")

    # -- unexpected exceptions: a banner, never the end of the app -----------------------

    def run_worker(self, work: Any, name: str | None = "", group: str = "default",
                   description: str = "", exit_on_error: bool = True, start: bool = True,
                   exclusive: bool = False, thread: bool = False) -> Worker[Any]:
        """Every worker of the app (@work methods too): one that raises is reported by
        on_worker_state_changed instead of ending the app."""
        return super().run_worker(work, name, group, description, exit_on_error=False,
                                  start=start, exclusive=exclusive, thread=thread)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        self.internal_error(worker_label(worker.name, worker.group, worker.description),
                            worker.error)
        if worker.group == "poll":  # a dead poller would freeze its source: start it again
            self.set_timer(self.config.refresh.total_seconds(),
                           lambda: self._start_poller(worker.name))

    def internal_error(self, what: str, error: BaseException | None) -> None:
        """A bug met at run time: a banner naming it (a toast the first time); the rest goes
        on."""
        self.log.error(f"internal error in {what}", error)
        key = f"internal/{what}"
        first = key not in self._health
        known = self._health.get(key) or SourceHealth(what, "internal")
        self._health[key] = known.failed(self.clock.now(), error_text(error))
        if first:
            self.notify(f"Internal error in {what}: {error_text(error)} — the rest keeps "
                        "running.", severity="error", timeout=15)
        if what != BOARD:  # the banner is drawn from the board: it cannot show its own failure
            self._rebuild()

    async def _poll_feeds(self) -> None:
        """Refresh the ICS schedules; a feed that fails keeps its cached shifts, and says so."""
        feeds = self.config.schedules_ics
        interval = min(feed.refresh for feed in feeds).total_seconds()
        while True:
            now = self.clock.now()
            results = await fetch_feeds(feeds, self.config.roster.people, now=now,
                                        zone=self.config.timezone)
            for result in results:
                key = f"ics/{result.feed.name}"
                self._health[key] = _feed_health(self._health[key], result, now)
                problems = result.problems()
                if problems and problems != self._feed_problems.get(key):
                    self.notify("\n".join(problems), title="On-call feed", severity="warning",
                                timeout=10)
                self._feed_problems[key] = problems
            self.dashboard.show_roster(roster_with_feeds(self.config.roster, results))
            self._rebuild()
            await asyncio.sleep(interval)

    async def _poll_source(self, source: Source) -> None:
        key = source_key(source)
        await poll_forever(
            source, self.clock, self.config.refresh,
            on_report=lambda report, skipped: self.post_message(SourceReported(key, report, skipped)),
            on_error=lambda _name, error, at: self.post_message(SourceFailed(key, error, at)),
            wake=self._wake[key],
        )

    async def on_unmount(self) -> None:
        if self._kube is not None:
            self._kube.close()
        closers = [s.aclose() for s in self._sources]
        if hasattr(self.writer, "aclose"):
            closers.append(self.writer.aclose())
        await asyncio.gather(*closers, return_exceptions=True)

    # -- the board -------------------------------------------------------------------------

    def on_source_reported(self, message: SourceReported) -> None:
        previous = self._reports.get(message.key)
        self._reports[message.key] = message.report
        report = message.report
        known = self._health.get(message.key) or SourceHealth(report.name, report.kind)
        self._health[message.key] = known.succeeded(report.fetched_at, message.skipped)
        # Silences that could not be read get a banner of their own; the alerts are fresh.
        silences_key = "silences/" + message.key
        partial = silences_health(report, previous, self._health.get(silences_key))
        if partial is None:
            self._health.pop(silences_key, None)
        else:
            self._health[silences_key] = partial
        self._rebuild()

    def on_source_failed(self, message: SourceFailed) -> None:
        kind, _, name = message.key.partition("/")
        known = self._health.get(message.key) or SourceHealth(name, kind)
        self._health[message.key] = known.failed(message.at, message.error)
        self._rebuild()

    def _rebuild(self) -> None:
        """Merge every source's latest answer into a new board and show it.

        A large board is built in a thread so key presses stay responsive during a 10k-alert
        poll; rebuilds never overlap (the newest reports win)."""
        try:
            self._rebuild_now()
        except Exception as error:  # raised in a message handler, it would end the app
            self.internal_error(BOARD, error)

    def _rebuild_now(self) -> None:
        size = sum(len(r.alerts) for r in self._reports.values())
        if size < THREADED_REBUILD_FROM and not self._rebuilding:
            self._show(build_board(*self._board_inputs()))
        else:
            self._rebuild_wanted = True
            if not self._rebuilding:
                self._rebuilding = True
                self._rebuild_in_thread()

    def _board_inputs(self) -> tuple[Any, ...]:
        """build_board's arguments, copied on the event loop so the build can run in a thread
        while new reports arrive."""
        return (self._current_reports(), tuple(self._health.values()), self.board,
                self.config.severity, self.clock.now(), self.config.resolved_retention)

    def _current_reports(self) -> dict[str, SourceReport]:
        """Every source's last good report, except a failing HA member's while a peer in its
        cluster answers: the peer holds the same alerts and newer silences, and the stale copy
        would win the merge (firing outranks acked), hiding an ack made during the outage."""
        def failing(key: str) -> bool:
            return self._health[key].failing_since is not None

        answering = {self._cluster[k] for k in self._reports
                     if self._cluster.get(k) and not failing(k)}
        return {k: r for k, r in self._reports.items()
                if not (failing(k) and self._cluster.get(k) in answering)}

    @work(group="board")
    async def _rebuild_in_thread(self) -> None:
        try:
            while self._rebuild_wanted:
                self._rebuild_wanted = False
                self._show(await off_loop(build_board, *self._board_inputs()))
        finally:
            self._rebuilding = False

    def _show(self, board: Board) -> None:
        previous, self.board = self.board, board
        for record in lifecycle_records(previous, board, self.config.user, self.clock.now()):
            self.record(record)
        self._show_clock_skews()
        self.dashboard.show_board(self.board)
        if board.alerts:
            freeze_startup_heap()
        if isinstance(self.screen, SilencesScreen):
            self.screen.show_board(self.board)
        self._extend_acks()

    # -- actions ---------------------------------------------------------------------------

    # -- the metric behind the highlighted alert ------------------------------------------

    METRIC_TTL = timedelta(seconds=60)

    def want_metric(self, alert: Alert) -> None:
        """Fetch the alert's metric history unless a fresh one is cached; the dashboard shows it."""
        cached = self._metrics.get(alert.fingerprint)
        if cached is not None and self.clock.now() - cached.fetched_at < self.METRIC_TTL:
            self.dashboard.show_metric(alert.fingerprint, cached)
            return
        prometheus = [s for s in self._sources if isinstance(s, PrometheusClient)]
        if alert.promql and prometheus:
            mine = [p for p in prometheus if p.name in alert.instances]
            self._fetch_metric(alert, (mine or prometheus)[0])

    @work(group="metric", exclusive=True)
    async def _fetch_metric(self, alert: Alert, prometheus: PrometheusClient) -> None:
        await asyncio.sleep(0.3)  # the cursor may move on: only the alert it rests on is fetched
        now = self.clock.now()
        try:
            hour, history = await asyncio.gather(
                prometheus.query_range(alert.promql, now - timedelta(hours=1), now,
                                       timedelta(minutes=1)),
                prometheus.query_range(alerts_selector(alert.labels), now - timedelta(hours=24),
                                       now, timedelta(minutes=10)))
            metric = MetricHistory(alert.promql, tuple(hour),
                                   tuple(t for t, v in history if v > 0), now)
        except SourceError as err:
            metric = MetricHistory(alert.promql, (), (), now, error=str(err))
        self._metrics[alert.fingerprint] = metric
        self.dashboard.show_metric(alert.fingerprint, metric)

    def action_refresh_now(self, quiet: bool = False) -> None:
        for event in self._wake.values():
            event.set()
        if not quiet:
            self.notify("Refreshing every source…", timeout=2)

    def action_next_theme(self) -> None:
        names = self._theme_names
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_show_oncall(self) -> None:
        self.push_screen(OnCallScreen(self.dashboard.roster, self.clock.now(),
                                      self.config.timezone, self.config.user))

    def page(self, title: str, body: str, levels: list[str]) -> None:
        """Tell the engineer: a toast always; bell and desktop notification rate-limited."""
        settings = self.config.notify
        if settings.levels and not set(levels) & set(settings.levels):
            return
        self.notify(body, title=title, severity="warning", timeout=8)
        if not self._pager.allow(self.clock.now()):
            return
        if settings.bell:
            self.bell()
        if settings.desktop and self._driver is not None and not self.is_headless:
            self._driver.write(desktop_notification(f"shiftdeck: {title}", body,
                                                    in_tmux="TMUX" in os.environ))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(binding_rows(self.screen)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Refresh now", "Poll every source now", self.action_refresh_now)
        yield SystemCommand("Next theme", "Cycle shiftdeck's themes", self.action_next_theme)
        yield SystemCommand("Keys", "List every key", self.action_help)
        if isinstance(screen, DashboardScreen):
            yield SystemCommand("Filter", "Filter alerts with matchers", screen.action_open_filter)
            yield SystemCommand("Cycle grouping", "none → alertname → namespace",
                                screen.action_cycle_grouping)
        yield from super().get_system_commands(screen)
