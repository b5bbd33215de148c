"""ShiftdeckApp: wiring only. Themes, keymap, one poller per source, the dashboard."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen

from .clock import Clock
from . import writes
from .domain.alerts import Alert
from .domain.board import EMPTY_BOARD, Board, SourceReport, build_board
from .domain.durations import parse_duration
from .domain.health import SourceHealth
from .domain.notify import RateLimit, desktop_notification
from .domain.silences import Silence, extend_request, plan_extensions
from .messages import SourceFailed, SourceReported
from .screens.confirm import ConfirmScreen
from .screens.dashboard import DashboardScreen
from .screens.help import HelpScreen, binding_rows
from .screens.oncall import OnCallScreen
from .screens.prompt import PromptScreen
from .screens.silence_form import FormContext, SilenceForm
from .screens.silences import SilencesScreen
from .sources.poll import Source, make_sources, poll_forever
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


class ShiftdeckApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "shiftdeck"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help", tooltip="List every key"),
        Binding("t", "next_theme", "Theme", show=False, id="theme", tooltip="Next theme"),
        Binding("ctrl+r", "refresh_now", "Refresh", show=False, id="refresh",
                tooltip="Poll every source now"),
        Binding("colon", "command_palette", "Commands", show=False, id="palette",
                tooltip="Command palette (also ctrl+p)"),
        Binding("O", "show_oncall", "On call", show=False, id="show_oncall",
                tooltip="Who is on call, the next weeks, coverage gaps"),
    ]

    def __init__(self, config: Any, clock: Clock, *, poll: bool = True,
                 sources: list[Source] | None = None, cursor_blink: bool = True,
                 writer: writes.Writer | None = None) -> None:
        super().__init__()
        self.cursor_blink = cursor_blink
        self.writer = writer if writer is not None else SilenceWriter(config)
        self._extending: set[str] = set()
        self._rebuilding = False
        self._rebuild_wanted = False
        self._pager = RateLimit(config.notify.min_interval)
        self._feed_problems: dict[str, list[str]] = {}
        self.config = config
        self.clock = clock
        self._poll = poll
        self._sources = sources if sources is not None else make_sources(config)
        self._reports: dict[str, SourceReport] = {}
        self._health = {source_key(s): SourceHealth(s.name, s.kind) for s in self._sources}
        self._health.update({f"ics/{feed.name}": SourceHealth(feed.name, "ics")
                             for feed in config.schedules_ics})
        self._wake = {source_key(s): asyncio.Event() for s in self._sources}
        self.board: Board = EMPTY_BOARD
        self.dashboard = DashboardScreen(config, clock)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return VARIABLE_DEFAULTS

    def on_mount(self) -> None:
        self._theme_names = []
        for theme in builtin_themes():
            self.register_theme(theme)
            self._theme_names.append(theme.name)
        self.theme = self.config.theme if self.config.theme in self.available_themes \
            else "shiftdeck-dark"
        if self.config.keymap:
            self.set_keymap(dict(self.config.keymap))
        self.push_screen(self.dashboard)
        if self._poll:
            for source in self._sources:
                self.run_worker(self._poll_source(source), name=source_key(source),
                                group="poll", description=f"poll {source_key(source)}")
            if self.config.schedules_ics:
                self.run_worker(self._poll_feeds(), name="ics", group="poll",
                                description="refresh on-call feeds")

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
        closers = [s.aclose() for s in self._sources]
        if hasattr(self.writer, "aclose"):
            closers.append(self.writer.aclose())
        await asyncio.gather(*closers, return_exceptions=True)

    # -- the board -------------------------------------------------------------------------

    def on_source_reported(self, message: SourceReported) -> None:
        self._reports[message.key] = message.report
        report = message.report
        known = self._health.get(message.key) or SourceHealth(report.name, report.kind)
        self._health[message.key] = known.succeeded(report.fetched_at, message.skipped)
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
        size = sum(len(r.alerts) for r in self._reports.values())
        if size < THREADED_REBUILD_FROM and not self._rebuilding:
            self._show(self._build())
        else:
            self._rebuild_wanted = True
            if not self._rebuilding:
                self._rebuilding = True
                self._rebuild_in_thread()

    def _build(self) -> Board:
        return build_board(self._reports, tuple(self._health.values()), self.board,
                           self.config.severity, self.clock.now(), self.config.resolved_retention)

    @work(group="board")
    async def _rebuild_in_thread(self) -> None:
        try:
            while self._rebuild_wanted:
                self._rebuild_wanted = False
                self._show(await asyncio.to_thread(self._build))
        finally:
            self._rebuilding = False

    def _show(self, board: Board) -> None:
        self.board = board
        self.dashboard.show_board(self.board)
        if isinstance(self.screen, SilencesScreen):
            self.screen.show_board(self.board)
        self._extend_acks()

    # -- writes: acks, silences, expiries --------------------------------------------------

    def _refuse_in_read_only(self) -> bool:
        if self.config.read_only:
            self.notify("Read-only: nothing was written.", severity="warning", timeout=4)
        return self.config.read_only

    def acknowledge(self, alerts: list[Alert], note: str = "") -> None:
        if self._refuse_in_read_only():
            return
        job = writes.acknowledge(alerts, self.writer, self.config.user, self.clock.now(),
                                 self.config.ack, note)
        self._write(f"Ack {len(alerts)} alert(s)", job, retry_key="a")

    def acknowledge_group(self, alerts: list[Alert]) -> None:
        if self._refuse_in_read_only():
            return
        job = writes.acknowledge_group(alerts, self.writer, self.config.user, self.clock.now(),
                                       self.config.ack)
        self._write(f"Ack group of {len(alerts)} alert(s)", job, retry_key="A")

    def open_silence_form(self, targets: list[Alert]) -> None:
        if self._refuse_in_read_only():
            return
        context = FormContext(targets, list(self.board.alerts.values()), self.config.severity,
                              self.config.silences, self.config.user,
                              self.writer.cluster_of(targets[0]), self.clock.now())

        def submitted(request) -> None:
            if request is not None:
                self._write("Silence", writes.write_silences([request], self.writer),
                            retry_key="s")

        self.push_screen(SilenceForm(context), submitted)

    def confirm_expire(self, silences: list[Silence], question: str) -> None:
        if self._refuse_in_read_only():
            return
        body = Content("\n").join(
            Content(f"DELETE /api/v2/silence/{s.id}  (cluster {s.cluster or '-'})\n"
                    f"  {' '.join(str(m) for m in s.matchers)}\n  by {s.created_by}: {s.comment}")
            for s in silences)

        def answered(yes: bool | None) -> None:
            if yes:
                self._write("Expire", writes.expire(silences, self.writer), retry_key="")

        self.push_screen(ConfirmScreen(question, body), answered)

    def extend_silence(self, silence: Silence) -> None:
        if self._refuse_in_read_only():
            return

        def validate(text: str) -> str | None:
            try:
                parse_duration(text)
            except ValueError as err:
                return str(err)
            return None

        def answered(text: str | None) -> None:
            if text:
                new_end = max(silence.ends_at, self.clock.now()) + parse_duration(text)
                job = writes.write_silences([extend_request(silence, new_end)], self.writer)
                self._write(f"Extend by {text}", job, retry_key="e")

        self.push_screen(PromptScreen("Extend the silence by (same ID):", "1h", validate),
                         answered)

    def show_silences(self) -> None:
        self.push_screen(SilencesScreen(self.board, self.config.silences.warn_before,
                                        self.config.read_only,
                                        self.config.ack.extend and not self.config.read_only))

    @work(group="writes")
    async def _write(self, what: str, job, retry_key: str) -> None:
        outcome = await job
        if outcome.ok:
            self.notify(f"{what}: done.", timeout=3)
        else:
            again = f" Press {retry_key} to retry." if retry_key else ""
            self.notify(f"{what} failed: " + "; ".join(outcome.failed) + "." + again,
                        severity="error", timeout=12)
        self.action_refresh_now(quiet=True)

    def _extend_acks(self) -> None:
        """kthxbye's job, idempotently: extend ACK! silences still silencing a firing alert."""
        if self.config.read_only:
            return
        plans = [p for p in plan_extensions(self.board.silences.values(),
                                            self.board.alerts.values(), self.clock.now(),
                                            self.config.ack) if p.id not in self._extending]
        if plans:
            self._extending.update(p.id for p in plans)
            self._run_extensions(plans)

    @work(group="extend")
    async def _run_extensions(self, plans) -> None:
        try:
            outcome = await writes.write_silences(plans, self.writer)
        finally:
            self._extending.difference_update(p.id for p in plans)
        if not outcome.ok:
            self.notify("Could not extend an ack: " + "; ".join(outcome.failed), severity="error",
                        timeout=12)

    # -- actions ---------------------------------------------------------------------------

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
