"""ShiftdeckApp: wiring only. Themes, keymap, one poller per source, the screens, and the one
place where messages are handled: each request becomes a worker calling a service. A poll's
way: source → `ShiftRunner` (`Shift.apply`, off the event loop for large boards) → `_show`:
records to the journal, pages, the new Shift shown; then the ack keeper's writes.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from . import terminal, writes
from .clock import Clock
from .domain.journal import Record
from .domain.roster import Roster
from .domain.shift import MEMORY_WINDOW, Event, Shift, ShiftPolicy
from .internal_errors import BOARD, worker_label
from .messages import (AckRequested, CommandRan, ExpireRequested, ExtendRequested,
                       FilterRequested, NoteAdded, SilenceRequested, SourceFailed,
                       SourceReported, StatusUpdatePosted, UnackRequested)
from .screens.dashboard import DashboardScreen
from .screens.help import HelpScreen, help_sections
from .screens.oncall import OnCallScreen
from .screens.palette import AlertSearch, next_theme, system_commands
from .screens.quitting import LEAVE_BINDINGS, in_flight, leave_allowed, quit_or_ask
from .services.bundle import Services
from .services.clipboard import Clipboard
from .services.crashes import Crashes
from .services.journal_keeper import JournalKeeper
from .services.kube import SharedKube
from .services.metrics import MetricFetcher
from .services.pager import Pager
from .services.pagerduty import PagerDesk
from .services.pollers import Pollers
from .services.requests import Requests
from .services.runbooks import RunbookLoader
from .services.shift_runner import ShiftRunner
from .services.sources import Inputs, SourceBoard
from .sources.journal import Journal
from .sources.pagerduty import make_pager_clients
from .sources.poll import Source, make_sources
from .sources.prometheus import PrometheusClient
from .sources.silence_writer import SilenceWriter
from .themes import VARIABLE_DEFAULTS, builtin_themes


class ShiftdeckApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "shiftdeck"
    COMMANDS = App.COMMANDS | {AlertSearch}
    BINDINGS = [
        *LEAVE_BINDINGS,
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
                 writer: writes.Writer | None = None, journal: Journal | None = None,
                 on_key: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self.notified: deque[str] = deque(maxlen=200)  # the last 200 toasts' texts, oldest first
        self._terminal_filters = terminal.line_filters(os.environ)
        self.config, self.clock, self.cursor_blink = config, clock, cursor_blink
        self._key_seen = on_key  # the heap keeper's cue (heap.py)
        self._poll = poll
        self._sources = sources if sources is not None else make_sources(config)
        pagers = make_pager_clients(config)
        self.sources = SourceBoard(self._sources, config.schedules_ics, pagers)
        self.pagerduty = PagerDesk(pagers, self.sources, config.roster, clock, self.notify)
        self.pollers = Pollers(  # each answer goes up as a message, handled on the UI's turn
            config, self._sources, self.sources, self.pagerduty, clock, self.notify,
            reported=lambda *report: self.post_message(SourceReported(*report)),
            failed=lambda *failure: self.post_message(SourceFailed(*failure)), paged=self._paged)
        self.writer = writer if writer is not None else SilenceWriter(config, clock=clock)
        self.keeper = JournalKeeper(journal if journal is not None else Journal(config.journal),
                                    self.sources, clock, self.notify, self._rebuild)
        self.kube = SharedKube(config.kubernetes)
        self.crashes = Crashes(self.sources, clock, self.notify, self.log.error, self._rebuild)
        shift = Shift(ShiftPolicy(config.severity, config.escalation, config.resolved_retention),
                      config.roster)
        self.pager = Pager(config.notify, clock, self.notify, lambda: self.bell(),
                           self._to_terminal)
        self.requests = Requests(self.writer, config, clock, lambda rs: self.runner.record(rs),
                                 self.notify, self.sources.wake_all, self.pagerduty.pagers,
                                 start=self._write)
        self.runner = ShiftRunner(shift, config.user, clock, self._show, acks=self.requests)
        prometheus = [s for s in self._sources if isinstance(s, PrometheusClient)]
        self.services = Services(Clipboard(self._to_terminal), RunbookLoader(config, self.kube),
                                 MetricFetcher(prometheus, clock), self.kube,
                                 self.requests.cluster_now)
        self.dashboard = DashboardScreen(config, clock, shift, self.services)

    @property
    def shift(self) -> Shift:
        return self.runner.shift

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

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._key_seen()
        await super().on_event(event)

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
        for key in self.pollers.keys if self._poll else []:
            self._start_poller(key)

    def _start_poller(self, key: str) -> None:
        if (loop := self.pollers.loop(key)) is not None:
            self.run_worker(loop, name=key, group="poll",
                            description=self.pollers.description(key))

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
        self.crashes.report(worker_label(worker.name, worker.group, worker.description),
                            worker.error)
        if worker.group == "poll":  # a dead poller would freeze its source: start it again
            self.set_timer(self.config.refresh.total_seconds(),
                           lambda: self._start_poller(worker.name or ""))

    def _paged(self, roster: Roster | None) -> None:  # after a PagerDuty poll or a feeds refresh
        ladders = self.pagerduty.ladders()
        if roster is not None and self.runner.change(
                lambda shift: shift.with_roster(roster, self.clock.now(), ladders)):
            self.run_worker(self.runner.apply_in_thread(self._inputs), group="board")
        self._rebuild()

    async def on_unmount(self) -> None:
        self.kube.close()
        writer = [self.writer.aclose()] if isinstance(self.writer, SilenceWriter) else []
        await asyncio.gather(self.pollers.aclose(), *writer, return_exceptions=True)

    def on_source_reported(self, message: SourceReported) -> None:
        self.sources.reported(message.key, message.report, message.skipped)
        self._rebuild()

    def on_source_failed(self, message: SourceFailed) -> None:
        self.sources.failed(message.key, message.error, message.at)
        self._rebuild()

    def _rebuild(self) -> None:
        """Apply every source's latest answer to the Shift (in a thread for large boards)."""
        try:
            if self.runner.apply(self._inputs, self.sources.size()):
                self.run_worker(self.runner.apply_in_thread(self._inputs), group="board")
        except Exception as error:  # raised in a message handler, it would end the app
            self.crashes.report(BOARD, error)

    def _inputs(self) -> Inputs:
        return self.sources.inputs(self.clock.now())

    def _show(self, shift: Shift, events: tuple[Event, ...], records: list[Record]) -> None:
        """Each new Shift: its events' records to the journal, pages, and the screens."""
        if self.keeper.add(records):
            self.run_worker(self.keeper.flush(), group="journal", description="write the journal")
        self.pager.events(events)
        self.dashboard.show_skews(self.sources.note_skews(self.writer, self.clock))
        self.dashboard.show_shift(shift)

    def tick(self) -> None:
        if self.runner.tick(self.clock.now()):
            self.run_worker(self.runner.apply_in_thread(self._inputs), group="board")
        self.pager.tick()
        self.dashboard.show_time(self.clock.now())

    def _to_terminal(self, sequence: str) -> None:
        if self._driver is not None and not self.is_headless:
            self._driver.write(sequence)

    async def _load_journal(self) -> None:
        packed = await self.keeper.load(self.clock.now() - MEMORY_WINDOW)
        if self.runner.change(lambda shift: shift.journal_read(packed, self.clock.now())):
            await self.runner.apply_in_thread(self._inputs)

    def _write(self, job: Awaitable[None]) -> None:
        self.run_worker(job, group="writes")

    def on_ack_requested(self, request: AckRequested) -> None:
        self._write(self.requests.ack(request.alerts, request.group, self.shift.pages))

    def on_dashboard_screen_pager_requested(self, ask: DashboardScreen.PagerRequested) -> None:
        self._write(self.requests.page(ask.incident, ask.action, ask.duration))

    @on(UnackRequested)
    @on(ExpireRequested)
    def expire_requested(self, request: UnackRequested | ExpireRequested) -> None:
        unack = isinstance(request, UnackRequested)
        self._write(self.requests.expire(request.silences, unack))

    def on_filter_requested(self, request: FilterRequested) -> None:
        while len(self.screen_stack) > 1 and self.screen is not self.dashboard:
            self.pop_screen()
        self.dashboard.show_filter(request.text)

    def on_extend_requested(self, request: ExtendRequested) -> None:
        self._write(self.requests.extend(request.silence, request.by, request.text))

    def on_silence_requested(self, request: SilenceRequested) -> None:
        self._write(self.requests.silence(request.silence, request.target))

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
        self.theme = next_theme(self._theme_names, self.theme)
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_show_oncall(self) -> None:
        self.push_screen(OnCallScreen(self.shift.roster, self.clock.now(),
                                      self.config.timezone, self.config.user))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_sections(self.screen)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        return system_commands(screen, self.run_action, self._theme_names,
                               lambda name: setattr(self, "theme", name))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        on_sub_screen = self.dashboard.is_attached and self.screen is not self.dashboard
        return leave_allowed(action, parameters, on_sub_screen)

    def action_go_back(self) -> None:
        self.screen.dismiss()

    async def action_quit(self, anywhere: bool = False) -> None:
        """`anywhere`: ctrl+c / ctrl+q, which check_action lets through on every screen."""
        quit_or_ask(self, in_flight(self.requests.in_flight, self.screen_stack))
