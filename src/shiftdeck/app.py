"""ShiftdeckApp: wiring only. Themes, keymap, one poller per source, the screens, and the one
place where requests from screens are handled (writes, the journal, pages).

The state of the shift is one immutable `Shift` (domain/shift.py). A poll's way: source →
`Shift.apply` (off the event loop for large boards) → `_take`: the step's events become journal
records (one batch), pages and toasts, and the dashboard swaps in the new Shift.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from . import terminal, writes
from .clock import Clock
from .domain.board import Board, SourceReport
from .domain.clockskew import noticeable
from .domain.health import SourceHealth
from .domain.journal import Record, command_record, note_record, status_record
from .domain.notify import RateLimit, desktop_notification
from .domain.shift import (MEMORY_WINDOW, AlertFired, Escalated, Event, Shift, ShiftPolicy,
                           ShiftStep, journal_records)
from .domain.silences import extend_request
from .internal_errors import BOARD, error_text, worker_label
from .messages import (AckRequested, CommandRan, ExpireRequested, ExtendRequested, NoteAdded,
                       SilenceRequested, SourceFailed, SourceReported, StatusUpdatePosted,
                       UnackRequested)
from .screens.dashboard import DashboardScreen
from .screens.help import HelpScreen, binding_rows
from .screens.oncall import OnCallScreen
from .screens.silence_form import FormContext, SilenceForm
from .screens.silences import SilencesScreen
from .services.ack_extender import AckExtender
from .services.bundle import Services
from .services.clipboard import Clipboard
from .services.journal_keeper import RETRY_SECONDS, JournalKeeper
from .services.metrics import MetricFetcher
from .services.runbooks import RunbookLoader
from .services.sources import SourceBoard, source_key
from .sources.bulk import freeze_startup_heap, off_loop
from .sources.journal import Journal
from .sources.kube import KubeClient
from .sources.poll import Source, make_sources, poll_forever
from .sources.prometheus import PrometheusClient
from .sources.schedule import fetch_feeds, roster_with_feeds
from .sources.silence_writer import SilenceWriter, skew_of
from .themes import VARIABLE_DEFAULTS, builtin_themes

THREADED_REBUILD_FROM = 2000
"""Boards with at least this many alerts are built off the event loop."""
Replay = Callable[[Shift], ShiftStep]


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
        self._terminal_filters = terminal.line_filters(os.environ)
        self.config, self.clock, self.cursor_blink = config, clock, cursor_blink
        self._poll = poll
        self._sources = sources if sources is not None else make_sources(config)
        self.sources = SourceBoard(self._sources, config.schedules_ics)
        self.writer = writer if writer is not None else SilenceWriter(config, clock=clock)
        self.keeper = JournalKeeper(journal if journal is not None else Journal(config.journal))
        self._extender = AckExtender(self.writer, config.ack)
        self._kube: KubeClient | None = None
        prometheus = [s for s in self._sources if isinstance(s, PrometheusClient)]
        self.services = Services(Clipboard(self._to_terminal), RunbookLoader(config, self.kube),
                                 MetricFetcher(prometheus, clock), self.kube)
        policy = ShiftPolicy(config.severity, config.escalation, config.resolved_retention)
        self.shift = Shift(policy, config.roster)
        self._rebuilding = self._rebuild_wanted = False
        self._replay: list[Replay] = []
        """Changes made to the Shift while a threaded apply runs: replayed on its result."""
        self._pager = RateLimit(config.notify.min_interval)
        self.dashboard = DashboardScreen(config, clock, self.shift, self.services)

    @property
    def board(self) -> Board:
        return self.shift.board

    @property
    def records(self) -> tuple[Record, ...]:
        """This session's view of the journal (bounded; the file keeps everything)."""
        return self.shift.records

    @property
    def journal(self) -> Journal:
        return self.keeper.journal

    def kube(self) -> KubeClient:
        if self._kube is None:
            self._kube = KubeClient(self.config.kubernetes)
        return self._kube

    def get_line_filters(self) -> Sequence[LineFilter]:
        return [*super().get_line_filters(), *self._terminal_filters]

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return VARIABLE_DEFAULTS

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast is plain text, whoever asks: toasts carry alert names and reasons."""
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
        self.set_interval(1.0, self.tick)
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
        for source in self._sources:
            if source_key(source) == name:
                self.run_worker(self._poll_source(source), name=name, group="poll",
                                description=f"poll {name}")

    def run_worker(self, work: Any, name: str | None = "", group: str = "default",
                   description: str = "", exit_on_error: bool = True, start: bool = True,
                   exclusive: bool = False, thread: bool = False) -> Worker[Any]:
        """Every worker of the app: one that raises is reported, never the end of the app."""
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

    async def _poll_feeds(self) -> None:
        """Refresh the ICS schedules; a feed that fails keeps its cached shifts, and says so."""
        feeds = self.config.schedules_ics
        while True:
            now = self.clock.now()
            results = await fetch_feeds(feeds, self.config.roster.people, now=now,
                                        zone=self.config.timezone)
            for problems in self.sources.feeds_fetched(results, now):
                self.notify(problems, title="On-call feed", severity="warning", timeout=10)
            roster = roster_with_feeds(self.config.roster, results)
            self._change(lambda shift: shift.with_roster(roster, self.clock.now()))
            self._rebuild()
            await asyncio.sleep(min(feed.refresh for feed in feeds).total_seconds())

    async def _poll_source(self, source: Source) -> None:
        key = source_key(source)

        def reported(report: SourceReport, skipped: int) -> None:
            self.post_message(SourceReported(key, report, skipped))

        def failed(_name: str, error: str, at: datetime) -> None:
            self.post_message(SourceFailed(key, error, at))

        await poll_forever(source, self.clock, self.config.refresh, on_report=reported,
                           on_error=failed, wake=self.sources.wake[key])

    async def on_unmount(self) -> None:
        if self._kube is not None:
            self._kube.close()
        closers: list[Awaitable[Any]] = [s.aclose() for s in self._sources]
        if isinstance(self.writer, SilenceWriter):
            closers.append(self.writer.aclose())
        await asyncio.gather(*closers, return_exceptions=True)

    # -- the shift -------------------------------------------------------------------------

    def on_source_reported(self, message: SourceReported) -> None:
        self.sources.reported(message.key, message.report, message.skipped)
        self._rebuild()

    def on_source_failed(self, message: SourceFailed) -> None:
        self.sources.failed(message.key, message.error, message.at)
        self._rebuild()

    def _rebuild(self) -> None:
        """Apply every source's latest answer to the Shift. A large board is applied in a
        thread so keys stay responsive; applies never overlap (the newest reports win)."""
        try:
            if self.sources.size() < THREADED_REBUILD_FROM and not self._rebuilding:
                self._take(self.shift.apply(*self._apply_inputs()))
            else:
                self._rebuild_wanted = True
                if not self._rebuilding:
                    self._rebuilding = True
                    self._rebuild_in_thread()
        except Exception as error:  # raised in a message handler, it would end the app
            self.internal_error(BOARD, error)

    def _apply_inputs(self) -> tuple[dict[str, SourceReport], tuple[SourceHealth, ...], Any]:
        """Copied on the event loop, so the apply can run in a thread while reports arrive."""
        return self.sources.current_reports(), self.sources.health_now(), self.clock.now()

    @work(group="board")
    async def _rebuild_in_thread(self) -> None:
        try:
            while self._rebuild_wanted:
                self._rebuild_wanted, self._replay = False, []
                step = await off_loop(self.shift.apply, *self._apply_inputs())
                events = list(step.events)
                for change in self._replay:  # made on the event loop meanwhile
                    replayed = change(step.shift)
                    step, events = replayed, events + list(replayed.events)
                self._take(ShiftStep(step.shift, tuple(events)))
        finally:
            self._rebuilding, self._replay = False, []

    def _change(self, change: Replay) -> None:
        """A change to the Shift made on the event loop (journal, roster)."""
        if self._rebuilding:
            self._replay.append(change)
        self._take(change(self.shift))

    def _take(self, step: ShiftStep) -> None:
        """The one place a step's events become journal records (one batch), pages and
        toasts, and the new Shift reaches the screens."""
        now = self.clock.now()
        records = journal_records(step.events, self.config.user, now)
        self.shift = step.shift.journaled(records, now) if records else step.shift
        self._write_journal(records)
        self._page(step.events)
        self._show_clock_skews()
        self.dashboard.show_shift(self.shift)
        if isinstance(self.screen, SilencesScreen):
            self.screen.show_board(self.board)
        if self.board.alerts:
            freeze_startup_heap()
        self._extend_acks()

    def tick(self) -> None:
        """A second passed: escalation steps and status updates that fell due (cheap unless
        one did)."""
        if self._rebuilding:
            return  # its result will be ticked at the next second
        step = self.shift.tick(self.clock.now())
        if step.shift is not self.shift:
            self._take(step)

    def _page(self, events: Iterable[Event]) -> None:
        moved = [e.alert for e in events if isinstance(e, Escalated)]
        fresh = [e.alert for e in events if isinstance(e, AlertFired) and e.news
                 and e.alert.state.value == "firing"]
        for title, alerts, what in (("Escalated", moved, "moved up the ladder"),
                                    ("Firing", fresh, "new")):
            if alerts:
                names = ", ".join(dict.fromkeys(a.name for a in alerts))
                body = f"{len(alerts)} alert(s) {what}: {names}" if what != "new" else \
                    f"{len(alerts)} new: {names}"
                self.page(title, body, [a.level for a in alerts])

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
        if settings.desktop:
            self._to_terminal(desktop_notification(f"shiftdeck: {title}", body,
                                                   in_tmux="TMUX" in os.environ))

    def _to_terminal(self, sequence: str) -> None:
        if self._driver is not None and not self.is_headless:
            self._driver.write(sequence)

    def _show_clock_skews(self) -> None:
        """The writer uses each cluster's clock as the pollers measured it; the header shows
        skews over 30 s."""
        for source in self._sources:
            skew = skew_of(source, self.clock) if source.kind == "alertmanager" else None
            if skew is not None:
                self.writer.note_skew(getattr(source, "cluster", ""), skew)
        self.dashboard.show_skews(tuple(noticeable(self.writer.skews())))

    def _extend_acks(self) -> None:
        if self.config.read_only:
            return
        plans = self._extender.due(self.board)
        if plans:
            self._write("Extend an ack", self._extender.extend(plans), quiet=True)

    # -- the journal -----------------------------------------------------------------------

    @work(group="journal-read", thread=True)
    def _load_journal(self) -> None:
        try:
            read = self.journal.read(self.clock.now() - MEMORY_WINDOW)
        except OSError as err:
            self.call_from_thread(self.notify, f"Journal {self.config.journal}: {err}",
                                  severity="error", timeout=12)
            read = None
        self.call_from_thread(self._journal_loaded, read)

    def _journal_loaded(self, read: Any) -> None:
        records = read.records if read is not None else ()
        for line, reason in (read.corrupt[:3] if read is not None else ()):
            self.notify(f"{self.config.journal}:{line}: skipped: {reason}", severity="warning",
                        timeout=10)
        self._change(lambda shift: shift.journal_read(records, self.clock.now()))

    def record(self, records: Sequence[Record]) -> None:
        """Records made on the event loop (writes, notes, commands): into the Shift at once,
        to disk in order."""
        if records:
            self._change(lambda shift: ShiftStep(shift.journaled(records, self.clock.now()), ()))
            self._write_journal(records)

    def _write_journal(self, records: Sequence[Record]) -> None:
        if self.keeper.add(records):
            self.run_worker(self.keeper.flush(self._journal_failed, self._journal_written),
                            group="journal", description="write the journal")

    def _journal_failed(self, err: OSError, kept: int) -> None:
        reason = (f"not written ({err.strerror or err}): {kept} record(s) kept in memory, "
                  f"retrying every {RETRY_SECONDS:g} s")
        if self.sources.journal_failed(self.config.journal.name, reason, self.clock.now()):
            self.notify(f"Journal {reason}", severity="error", timeout=10)
        self._rebuild()

    def _journal_written(self) -> None:
        if self.sources.journal_written():
            self._rebuild()

    # -- requests from screens -------------------------------------------------------------

    def _refused(self) -> bool:
        if self.config.read_only:
            self.notify("Read-only: nothing was written.", severity="warning", timeout=4)
        return bool(self.config.read_only)

    def on_ack_requested(self, request: AckRequested) -> None:
        if self._refused():
            return
        user, now, ack, alerts = self.config.user, self.clock.now, self.config.ack, request.alerts
        if request.group:
            self._write(f"Ack group of {len(alerts)} alert(s)",
                        writes.acknowledge_group(alerts, self.writer, user, ack), "A",
                        lambda o: writes.group_ack_records(alerts, o, self.writer, user, now()))
        else:
            self._write(f"Ack {len(alerts)} alert(s)",
                        writes.acknowledge(alerts, self.writer, user, ack), "a",
                        lambda o: writes.ack_records(alerts, o, user, now(), ack))

    def on_unack_requested(self, request: UnackRequested) -> None:
        self.on_expire_requested(ExpireRequested(request.silences))

    def on_expire_requested(self, request: ExpireRequested) -> None:
        if not self._refused():
            silences = request.silences
            self._write("Expire", writes.expire(silences, self.writer), "",
                        lambda o: writes.expire_records(silences, o, self.config.user,
                                                        self.clock.now()))

    def on_extend_requested(self, request: ExtendRequested) -> None:
        if self._refused():
            return
        silence = request.silence
        new_end = max(silence.ends_at, self.writer.now_at(silence.cluster)) + request.by
        self._write(f"Extend by {request.text}",
                    writes.write_silences([extend_request(silence, new_end)], self.writer), "e",
                    lambda o: [writes.extend_record(silence, new_end, self.config.user,
                                                    self.clock.now())])

    def on_silence_requested(self, request: SilenceRequested) -> None:
        if self._refused():
            return
        targets, config = request.alerts, self.config
        cluster = self.writer.cluster_of(targets[0])
        context = FormContext(targets, list(self.board.alerts.values()), config.severity,
                              config.silences, config.user, cluster, self.writer.now_at(cluster))
        target = targets[0] if len(targets) == 1 else None

        def submitted(silence: Any) -> None:
            if silence is not None:
                self._write("Silence", writes.write_silences([silence], self.writer), "s",
                            lambda o: writes.silence_records(silence, o, target, config.user,
                                                             self.clock.now()))

        self.push_screen(SilenceForm(context), submitted)

    def on_note_added(self, note: NoteAdded) -> None:
        self.record([note_record(note.alert, self.config.user, self.clock.now(), note.text)])

    def on_status_update_posted(self, update: StatusUpdatePosted) -> None:
        self.record([status_record(update.alert, self.config.user, self.clock.now(),
                                   update.status, "", update.body, None)])

    def on_command_ran(self, ran: CommandRan) -> None:
        self.record([command_record(ran.alert, self.config.user, self.clock.now(), ran.argv,
                                    ran.exit_code, ran.duration)])

    @work(group="writes")
    async def _write(self, what: str, job: Awaitable[writes.Outcome], retry_key: str = "",
                     records: Callable[[writes.Outcome], list[Record]] | None = None,
                     quiet: bool = False) -> None:
        """Run one write; journal what Alertmanager accepted (even on partial failure), say
        how it went, and poll at once so the screen shows what Alertmanager now holds."""
        outcome = await job
        if outcome.done and records is not None:
            self.record(records(outcome))
        for warning in outcome.warnings:
            self.notify(f"{what}: {warning}.", severity="warning", timeout=8)
        if not outcome.ok:
            again = f" Press {retry_key} to retry." if retry_key else ""
            self.notify(f"{what} failed: " + "; ".join(outcome.failed) + "." + again,
                        severity="error", timeout=12)
        elif not quiet:
            skipped = "; ".join(outcome.skipped)
            self.notify(f"{what}: done." if not skipped else
                        f"{what}: {'done; ' if outcome.done else ''}{skipped}.", timeout=4)
        if not quiet:
            self.action_refresh_now(quiet=True)

    # -- app-wide actions ------------------------------------------------------------------

    def action_refresh_now(self, quiet: bool = False) -> None:
        self.sources.wake_all()
        if not quiet:
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
