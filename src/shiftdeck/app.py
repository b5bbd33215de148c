"""ShiftdeckApp: wiring only. Themes, keymap, one poller per source, the screens, and the one
place where messages are handled: each request becomes a worker calling a service.

A poll's way: source → `ShiftRunner` (`Shift.apply` and its events' journal records, off the
event loop for large boards) → `_show`: records to the journal, pages, the new Shift shown.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from . import terminal, writes
from .clock import Clock
from .domain.board import Board, SourceReport
from .domain.journal import Record
from .domain.roster import Roster
from .domain.shift import MEMORY_WINDOW, Event, Shift, ShiftPolicy
from .internal_errors import BOARD, error_text, worker_label
from .messages import (AckRequested, CommandRan, ExpireRequested, ExtendRequested, NoteAdded,
                       SilenceRequested, SourceFailed, SourceReported, StatusUpdatePosted,
                       UnackRequested)
from .screens.dashboard import DashboardScreen
from .screens.help import HelpScreen, binding_rows
from .screens.oncall import OnCallScreen
from .screens.silences import SilencesScreen
from .services.bundle import Services
from .services.clipboard import Clipboard
from .services.feeds import poll_feeds
from .services.journal_keeper import JournalKeeper
from .services.kube import SharedKube
from .services.metrics import MetricFetcher
from .services.pager import Pager
from .services.requests import Requests
from .services.runbooks import RunbookLoader
from .services.shift_runner import THREADED_FROM as THREADED_REBUILD_FROM  # noqa: F401 (tests)
from .services.shift_runner import ShiftRunner
from .services.sources import SourceBoard, source_key
from .sources.bulk import freeze_startup_heap
from .sources.journal import Journal
from .sources.poll import Source, make_sources, poll_forever
from .sources.prometheus import PrometheusClient
from .sources.silence_writer import SilenceWriter
from .themes import VARIABLE_DEFAULTS, builtin_themes


class ShiftdeckApp(App[None]):
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
        self.notified: deque[str] = deque(maxlen=200)
        """The messages of the toasts shown, oldest first (the last 200)."""
        self._terminal_filters = terminal.line_filters(os.environ)
        self.config, self.clock, self.cursor_blink = config, clock, cursor_blink
        self._poll = poll
        self._sources = sources if sources is not None else make_sources(config)
        self.sources = SourceBoard(self._sources, config.schedules_ics)
        self.writer = writer if writer is not None else SilenceWriter(config, clock=clock)
        self.keeper = JournalKeeper(journal if journal is not None else Journal(config.journal),
                                    self.sources, clock, self.notify, self._rebuild)
        self.kube = SharedKube(config.kubernetes)
        shift = Shift(ShiftPolicy(config.severity, config.escalation, config.resolved_retention),
                      config.roster)
        self.runner = ShiftRunner(shift, config.user, clock, self._show)
        self.pager = Pager(config.notify, clock, self.notify, lambda: self.bell(),
                           self._to_terminal)
        self.requests = Requests(self.writer, config, clock, self.runner.record, self.notify,
                                 self.sources.wake_all)
        prometheus = [s for s in self._sources if isinstance(s, PrometheusClient)]
        self.services = Services(Clipboard(self._to_terminal), RunbookLoader(config, self.kube),
                                 MetricFetcher(prometheus, clock), self.kube,
                                 self.requests.cluster_now)
        self.dashboard = DashboardScreen(config, clock, shift, self.services)

    @property
    def shift(self) -> Shift:
        return self.runner.shift

    @property
    def board(self) -> Board:
        return self.shift.board

    @property
    def records(self) -> tuple[Record, ...]:  # the journal's last days (the file has all)
        return self.shift.records

    @property
    def journal(self) -> Journal:
        return self.keeper.journal

    def get_line_filters(self) -> Sequence[LineFilter]:
        return [*super().get_line_filters(), *self._terminal_filters]

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return VARIABLE_DEFAULTS

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast is plain text, whoever asks: toasts carry alert names and reasons."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)
        self.notified.append(message)

    def on_mount(self) -> None:
        themes = builtin_themes()
        for theme in themes:
            self.register_theme(theme)
        self._theme_names = [theme.name for theme in themes]
        configured = self.config.theme if self.config.theme in self.available_themes \
            else "shiftdeck-dark"
        self.theme = terminal.theme_for(self, configured)
        if self.config.keymap:
            self.set_keymap(dict(self.config.keymap))
        self.push_screen(self.dashboard)
        self.run_worker(self._load_journal(), group="journal-read")
        self.set_interval(1.0, self.tick)
        if self._poll:
            for source in self._sources:
                self._start_poller(source_key(source))
            if self.config.schedules_ics:
                self._start_poller("ics")

    def _start_poller(self, name: str) -> None:
        """The long-lived worker of one source (by its key), or of the ICS feeds ("ics")."""
        if name == "ics":
            self.run_worker(poll_feeds(self.config, self.sources, self.clock, self.notify,
                                       self._roster_changed),
                            name="ics", group="poll", description="refresh on-call feeds")
        for source in self._sources:
            if source_key(source) == name:
                self.run_worker(self._poll_source(source), name=name, group="poll",
                                description=f"poll {name}")

    def run_worker(self, work: Any, name: str | None = "", group: str = "default",
                   description: str = "", exit_on_error: bool = True, start: bool = True,
                   exclusive: bool = False, thread: bool = False) -> Worker[Any]:
        """Every worker of the app: one that raises is reported, never the end of the app."""
        description = description or worker_label("", group, "")  # words, not a repr
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
                           lambda: self._start_poller(worker.name or ""))

    def internal_error(self, what: str, error: BaseException | None) -> None:
        """A bug met at run time: a banner naming it (a toast the first time)."""
        self.log.error(f"internal error in {what}", error)
        if self.sources.internal_error(what, error_text(error), self.clock.now()):
            self.notify(f"Internal error in {what}: {error_text(error)} — the rest keeps "
                        "running.", severity="error", timeout=15)
        if what != BOARD:  # the banner is drawn from the board: it cannot show its own failure
            self._rebuild()

    async def _poll_source(self, source: Source) -> None:
        key = source_key(source)

        def reported(report: SourceReport, skipped: int) -> None:
            self.post_message(SourceReported(key, report, skipped))

        def failed(_name: str, error: str, at: datetime) -> None:
            self.post_message(SourceFailed(key, error, at))

        await poll_forever(source, self.clock, self.config.refresh, on_report=reported,
                           on_error=failed, wake=self.sources.wake[key])

    def _roster_changed(self, roster: Roster) -> None:
        self.runner.change(lambda shift: shift.with_roster(roster, self.clock.now()))
        self._rebuild()  # the feeds' health, in the banner

    async def on_unmount(self) -> None:
        self.kube.close()
        writer = [self.writer.aclose()] if isinstance(self.writer, SilenceWriter) else []
        await asyncio.gather(*(s.aclose() for s in self._sources), *writer,
                             return_exceptions=True)

    def on_source_reported(self, message: SourceReported) -> None:
        self.sources.reported(message.key, message.report, message.skipped)
        self._rebuild()

    def on_source_failed(self, message: SourceFailed) -> None:
        self.sources.failed(message.key, message.error, message.at)
        self._rebuild()

    def _rebuild(self) -> None:
        """Apply every source's latest answer to the Shift (in a thread for large boards)."""
        try:
            inputs = lambda: self.sources.inputs(self.clock.now())  # noqa: E731
            if self.runner.apply(inputs, self.sources.size()):
                self.run_worker(self.runner.apply_in_thread(inputs), group="board")
        except Exception as error:  # raised in a message handler, it would end the app
            self.internal_error(BOARD, error)

    def _show(self, shift: Shift, events: tuple[Event, ...], records: list[Record]) -> None:
        """Each new Shift: its events' records to the journal, pages, and the screens."""
        if self.keeper.add(records):
            self.run_worker(self.keeper.flush(), group="journal", description="write the journal")
        self.pager.events(events)
        self.dashboard.show_skews(self.sources.note_skews(self.writer, self.clock))
        self.dashboard.show_shift(shift)
        if isinstance(self.screen, SilencesScreen):
            self.screen.show_board(shift.board)
        if shift.board.alerts:
            freeze_startup_heap()
        if (extension := self.requests.ack_extensions(shift.board)) is not None:
            self.run_worker(extension, group="writes")

    def tick(self) -> None:
        self.runner.tick(self.clock.now())

    def _to_terminal(self, sequence: str) -> None:
        if self._driver is not None and not self.is_headless:
            self._driver.write(sequence)

    async def _load_journal(self) -> None:
        records = await self.keeper.load(self.clock.now() - MEMORY_WINDOW)
        self.runner.change(lambda shift: shift.journal_read(records, self.clock.now()))

    def on_ack_requested(self, request: AckRequested) -> None:
        self.run_worker(self.requests.ack(request.alerts, request.group), group="writes")

    @on(UnackRequested)
    @on(ExpireRequested)
    def expire_requested(self, request: UnackRequested | ExpireRequested) -> None:
        self.run_worker(self.requests.expire(request.silences), group="writes")

    def on_extend_requested(self, request: ExtendRequested) -> None:
        self.run_worker(self.requests.extend(request.silence, request.by, request.text),
                        group="writes")

    def on_silence_requested(self, request: SilenceRequested) -> None:
        self.run_worker(self.requests.silence(request.silence, request.target), group="writes")

    def on_note_added(self, note: NoteAdded) -> None:
        self.requests.note(note.alert, note.text)

    def on_status_update_posted(self, update: StatusUpdatePosted) -> None:
        self.requests.status_update(update.alert, update.status, update.body)

    def on_command_ran(self, ran: CommandRan) -> None:
        self.requests.command_ran(ran.alert, ran.argv, ran.exit_code, ran.duration)

    def action_refresh_now(self) -> None:
        self.sources.wake_all()
        self.notify("Refreshing every source…", timeout=2)

    def action_next_theme(self) -> None:
        names = self._theme_names
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_show_oncall(self) -> None:
        self.push_screen(OnCallScreen(self.shift.roster, self.clock.now(),
                                      self.config.timezone, self.config.user))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(binding_rows(self.screen)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield SystemCommand("Refresh now", "Poll every source now", self.action_refresh_now)
        yield SystemCommand("Next theme", "Cycle shiftdeck's themes", self.action_next_theme)
        yield SystemCommand("Keys", "List every key", self.action_help)
        if isinstance(screen, DashboardScreen):
            yield SystemCommand("Filter", "Filter alerts with matchers", screen.action_open_filter)
            yield SystemCommand("Cycle grouping", "none → alertname → namespace",
                                screen.action_cycle_grouping)
        yield from super().get_system_commands(screen)
