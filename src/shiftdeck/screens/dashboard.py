"""The main screen: header, source banner, the alert table, the detail pane and the filter.

It shows the Shift it is given (`show_shift`) and owns its own work: rows are selected off the
event loop for large boards, the highlighted alert's metric is fetched by its worker, and the
note, status update, runbook, diagnostics and handoff screens are opened with their services.
Requests that change shared state (acks, silences, notes, PagerDuty writes...) go up as
messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen

from ..bulk import without_collector
from ..clock import Clock
from ..domain.alerts import Alert, AlertState
from ..domain.board import Board
from ..domain.handoff import handoff_report
from ..domain.kube import scope_for
from ..domain.matchers import Matcher, MatcherError, parse_matchers
from ..domain.metric import MetricHistory
from ..domain.metrics import shift_metrics
from ..domain.pager import Incident
from ..domain.sanitize import clean
from ..domain.shift import Shift, shift_start
from ..domain.silences import SilenceRequest
from ..domain.status import ACTION_KINDS_FOR_UPDATES, compose_update
from ..domain.ordering import AlertOrder
from ..domain.view import (RESOLVED_KEY, AlertRow, Grouping, IncidentRow, alert_matches,
                           Startup, expiring_soon, order_for, select_rows, startup_of)
from ..messages import (AckRequested, NoteAdded, SilenceRequested, StatusUpdatePosted,
                        UnackRequested)
from ..services.bundle import Services
from ..widgets.alert_detail import AlertDetail
from ..widgets.alert_table import AlertTable, TableRows
from ..widgets.filter_bar import FilterBar
from ..widgets.header_bar import HeaderBar
from ..widgets.key_footer import KeyFooter
from ..widgets.source_banner import SourceBanner
from .confirm import ConfirmScreen
from .detail import DetailScreen
from .diagnostics import DiagnosticsScreen
from .handoff import HandoffScreen
from .prompt import PromptScreen
from .runbook import RunbookScreen
from .shift import ShiftScreen
from .silence_form import FormContext, SilenceForm
from .silences import SilencesScreen, expire_text
from .snooze import SnoozeScreen
from .status_update import StatusUpdateScreen

THREADED_ROWS_FROM = 2000
"""Boards with at least this many alerts have their rows selected off the event loop."""
METRIC_SETTLE_SECONDS = 0.3
"""The cursor may move on: only the alert it rests on has its metric fetched."""


class DashboardScreen(Screen):
    BINDINGS = [
        Binding("slash", "open_filter", "Filter", id="filter", tooltip="Filter with matchers"),
        Binding("g", "cycle_grouping", "Group", id="group",
                tooltip="Cycle grouping: none, alertname, namespace"),
        Binding("escape", "back", "Clear filter", show=False, id="back"),
        Binding("a", "ack_alert", "Ack", id="ack_alert",
                tooltip="Acknowledge the highlighted (or marked) alerts and their PagerDuty "
                "incidents"),
        Binding("A", "ack_group", "Ack group", show=False, id="ack_group",
                tooltip="Acknowledge the highlighted alert's whole group (one silence)"),
        Binding("space", "mark", "Mark", show=False, id="mark", tooltip="Mark / unmark the alert"),
        Binding("s", "silence_alert", "Silence", id="silence_alert",
                tooltip="Silence the highlighted (or marked) alerts"),
        Binding("U", "unack", "Un-ack", show=False, id="unack",
                tooltip="Expire the alert's ACK! silence"),
        Binding("S", "show_silences", "Silences", id="show_silences", tooltip="List silences"),
        Binding("z", "toggle_detail", "Zoom", show=False, id="toggle_detail",
                tooltip="Hide / show the detail pane (the table takes the screen)"),
        Binding("tab", "focus_detail", "Detail pane", show=False, id="focus_detail",
                tooltip="Into the detail pane and back (scroll it with the arrows)"),
        Binding("r", "runbook", "Runbook", id="runbook",
                tooltip="The alert's runbook, its commands runnable inline"),
        Binding("d", "diagnostics", "Diagnose", show=False, id="diagnostics",
                tooltip="Kubernetes: pods, events, logs, rollout history"),
        Binding("n", "add_note", "Note", show=False, id="add_note",
                tooltip="Add a note to the highlighted alert (journal)"),
        Binding("u", "status_update", "Update", show=False, id="status_update",
                tooltip="Compose a status update for the highlighted alert"),
        Binding("H", "handoff", "Handoff", show=False, id="handoff",
                tooltip="Preview, copy or save the handoff report"),
        Binding("M", "shift_metrics", "Shift", show=False, id="shift_metrics",
                tooltip="This shift's numbers: MTTA, MTTR, noisiest alerts"),
        Binding("R", "resolve_incident", "Resolve", show=False, id="resolve_incident",
                tooltip="Resolve the row's PagerDuty incident (asks first)"),
        Binding("Z", "snooze_incident", "Snooze", show=False, id="snooze_incident",
                tooltip="Snooze the row's PagerDuty incident: 15m, 30m, 1h or 4h"),
    ]
    WRITE_ACTIONS = {"ack_alert", "ack_group", "silence_alert", "unack", "resolve_incident",
                     "snooze_incident"}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (160, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    TICK_SECONDS = 5.0

    @dataclass
    class PagerRequested(Message):
        """Write to PagerDuty: acknowledge, resolve (confirmed) or snooze the incident."""

        incident: Incident
        action: Literal["acknowledge", "resolve", "snooze"]
        duration: timedelta | None = None
        """How long a snooze lasts."""

    def __init__(self, config: Any, clock: Clock, shift: Shift, services: Services) -> None:
        super().__init__()
        self._config = config
        self._clock = clock
        self._services = services
        self._order: AlertOrder | None = None
        self._selected = TableRows()  # the last rows selected: their AlertRows are reused
        self.shift = shift
        self.matchers: tuple[Matcher, ...] = ()
        self.grouping = Grouping.NONE
        self.marked: frozenset[str] = frozenset()
        self._silences: SilencesScreen | None = None
        """The silences screen last opened from here: it is kept up to date while shown."""
        self._alertmanagers = [(a.name, a.cluster) for a in config.alertmanagers]
        self._prometheus = [p.name for p in config.prometheus]
        self._filled = False
        """The table was given the rows of a board with alerts: no start-up words again."""

    @property
    def board(self) -> Board:
        return self.shift.board

    def compose(self) -> ComposeResult:
        fresh = 2 * self._config.refresh + timedelta(seconds=5)
        yield HeaderBar(self._config.title, fresh_within=fresh, zone=self._config.timezone,
                        id="header")
        yield SourceBanner(zone=self._config.timezone, id="banner")
        with Horizontal(id="main"):
            yield AlertTable(self._config.severity, self._config.key_labels, self._clock,
                             id="alerts")
            with VerticalScroll(id="detail-pane"):
                yield AlertDetail(self._config.severity, self._config.timezone, id="detail")
        yield FilterBar(id="filter")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(HeaderBar).read_only = self._config.read_only
        self.query_one(AlertTable).focus()
        self.set_interval(self.TICK_SECONDS, self._tick)
        self.set_interval(1.0, self._tick_second)
        # After the mount is done (show_shift draws nothing before), with the newest Shift.
        self.call_later(lambda: self.show_shift(self.shift, force=True))

    # -- data ------------------------------------------------------------------------------

    def show_shift(self, shift: Shift, force: bool = False) -> None:
        """Swap in a new Shift; repaint only what changed (rows by identity, escalations and
        update-due marks by fingerprint)."""
        previous, self.shift = self.shift, shift
        if self._taken_down():
            return
        table = self.query_one(AlertTable)
        self._show_health()
        if force or shift.pages is not previous.pages:
            table.show_pages(shift.pages)
        if force or shift.board.alerts is not previous.board.alerts \
                or shift.pages.unmatched is not previous.pages.unmatched:
            self._show_rows()
            self._services.metrics.prune(shift.board.alerts)
            self._services.runbooks.prune(shift.board.alerts)
        if force or shift.escalations is not previous.escalations:
            table.show_escalations(shift.escalations)
        if force or shift.update_due is not previous.update_due:
            table.show_update_due(shift.update_due)
        if force or shift.journal is not previous.journal or \
                shift.escalations is not previous.escalations or shift.pages is not previous.pages:
            self._show_detail(force=True)
        if (silences := self._silences_shown()) is not None:
            silences.show_board(shift.board)

    def show_time(self, now: datetime) -> None:
        """Each second: the silences screen's "ends in" countdowns, while it is shown."""
        if (silences := self._silences_shown()) is not None:
            silences.show_time(now)

    def _silences_shown(self) -> SilencesScreen | None:
        """The silences screen opened from here, when on top and composed (a poll or a tick
        can land between its push and its compose)."""
        silences = self._silences
        return silences if silences is not None and silences.is_active \
            and silences.is_mounted else None

    def show_skews(self, skews: tuple[Any, ...]) -> None:
        if not self._taken_down():
            self.query_one(HeaderBar).skews = skews

    def _taken_down(self) -> bool:
        """Not composed yet, or its widgets being removed (the app quitting, while its tick can
        still hand over a new Shift): nothing to show it on."""
        return not self.is_mounted or not all(
            self.query(kind) for kind in (AlertTable, HeaderBar, SourceBanner, AlertDetail))

    def _tick_second(self) -> None:
        self.query_one(AlertTable).refresh_countdowns()
        if self._detail_shown:
            self.query_one(AlertDetail).tick(self._clock.now())

    @property
    def _detail_shown(self) -> bool:
        """Not hidden by `z`. A hidden pane is not drawn to: repainting a widget that is not
        on screen makes Textual map the whole screen again and repaint the table."""
        return not self.has_class("-no-detail")

    def _show_health(self) -> None:
        board, roster = self.shift.board, self.shift.roster
        levels = self._config.severity.names()
        now = self._clock.now()
        soon = expiring_soon(board.silences.values(), now, self._config.silences.warn_before,
                             acks_extended=self._config.ack.extend and not self._config.read_only)
        self.query_one(HeaderBar).show(board.health, board.counts(levels), now, soon, roster)
        self.query_one(SourceBanner).show(board.health)
        self.query_one(AlertTable).show_startup(self._startup(board))

    def _startup(self, board: Board) -> Startup | None:
        """The empty table's words until the first rows: whom alerts load from; once an answer
        is in and its rows are being selected, how many."""
        if self._filled:
            return None
        return startup_of(self._alertmanagers, self._prometheus, board.health,
                          count=len(board.alerts) or None)

    def _show_rows(self) -> None:
        shift = self.shift
        if len(shift.board.alerts) < THREADED_ROWS_FROM:
            self._rows_selected(shift, self._select(shift))
        else:
            self._select_in_thread()

    def _select(self, shift: Shift) -> TableRows:
        board, before = shift.board, self._selected
        # The previous order is immutable: a worker that lost a race only re-sorts more.
        order = self._order = order_for(board.alerts, self.matchers, self._config.severity,
                                        self._order)
        self._selected = TableRows.of(select_rows(
            board.alerts.values(), self.matchers, self.grouping, self._config.severity,
            retention=self._config.resolved_retention,
            uncounted=sum(board.resolved_uncounted.values()), incidents=shift.pages.unmatched,
            order=order, before=before.rows, before_index=before.index))
        return self._selected

    @work(group="rows", thread=True, exclusive=True, description="filter, sort, group")
    def _select_in_thread(self) -> None:
        # The Shift is read here, not passed in: a finished Worker stays in a reference cycle
        # (through its task's context) until a full collection, and so would all it holds.
        shift = self.shift
        # Without the collector: at 50k alerts it scanned the heap through half the work
        # (select 0.38 s with it, 0.18 s without, measured); rows hold no reference cycles.
        rows = without_collector(self._select, shift)
        self.app.call_from_thread(self._rows_selected, shift, rows)

    def _rows_selected(self, shift: Shift, rows: TableRows) -> None:
        if shift.board.alerts is not self.shift.board.alerts \
                or shift.pages.unmatched is not self.shift.pages.unmatched \
                or not self.is_attached:
            return  # a newer board is on its way
        if self.marked:
            self.marked = frozenset(key for key in self.marked if key in rows.index)
        table = self.query_one(AlertTable)
        if shift.board.alerts and not self._filled:
            self._filled = True
            table.show_startup(None)
        table.show_rows(rows)
        table.show_marks(self.marked)
        self._show_detail()

    def _show_detail(self, force: bool = False) -> None:
        if not self._detail_shown:
            return  # shown when `z` brings it back
        key = self.query_one(AlertTable).cursor_key or ""
        alert = self.shift.board.alerts.get(key)
        notes = list(self.shift.journal.notes_for(key)) if key else []
        detail = self.query_one(AlertDetail)
        changed = alert is not detail.alert
        metrics = self._services.metrics
        detail.show(alert, self._clock.now(), self.shift.escalations.get(key), notes,
                    metric=metrics.cache.get(key), force=force,
                    incident=self.shift.pages.incident_for(alert) if alert else None)
        if changed and alert is not None and metrics.can_fetch(alert) \
                and metrics.cached(alert) is None:
            self._fetch_metric(alert)

    @work(group="metric", exclusive=True, description="the alert's metric")
    async def _fetch_metric(self, alert: Alert) -> None:
        await asyncio.sleep(METRIC_SETTLE_SECONDS)
        self.show_metric(alert.fingerprint, await self._services.metrics.fetch(alert))

    def show_metric(self, fingerprint: str, metric: MetricHistory) -> None:
        if self.is_attached and self.query_one(AlertTable).cursor_key == fingerprint:
            self._show_detail(force=True)

    def _tick(self) -> None:
        self._show_health()
        self.query_one(AlertTable).refresh_ages()

    def tick(self) -> None:
        """One beat of the timer (every TICK_SECONDS): source health and ages, now."""
        self._tick()

    # -- events ----------------------------------------------------------------------------

    def on_alert_table_highlighted(self, event: AlertTable.Highlighted) -> None:
        self._show_detail()

    def on_alert_table_selected(self, event: AlertTable.Selected) -> None:
        if event.key == RESOLVED_KEY:  # the filter so far, narrowed to the resolved alerts
            bar = self.query_one(FilterBar)
            bar.show(f"{bar.text} @state=resolved".strip())
            return
        alert = self.board.alerts.get(event.key)
        if alert is not None:
            self.app.push_screen(DetailScreen(
                alert, self._config.severity, self._clock.now(),
                self.shift.escalations.get(event.key), self._config.timezone,
                notes=list(self.shift.journal.notes_for(event.key)),
                metric=self._services.metrics.cache.get(event.key), clock=self._clock,
                incident=self.shift.pages.incident_for(alert)))

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        try:
            matchers = parse_matchers(event.text, self._config.severity.names())
        except MatcherError as err:
            self.query_one(FilterBar).show_error(str(err))
            return
        self.query_one(FilterBar).show_error("")
        self.matchers = matchers
        self._show_rows()

    def on_filter_bar_done(self, event: FilterBar.Done) -> None:
        self.query_one(AlertTable).focus()

    # -- actions ---------------------------------------------------------------------------

    def show_filter(self, text: str) -> None:
        """Filter with `text` (matchers, as if typed), the filter bar open to change it."""
        self.query_one(FilterBar).show(text)

    def go_to(self, fingerprint: str) -> None:
        """Highlight the alert's row, if the current view shows it."""
        self.query_one(AlertTable).move_to(fingerprint)

    def action_open_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_cycle_grouping(self) -> None:
        self.grouping = self.grouping.next()
        self._show_rows()

    def action_back(self) -> None:
        if self.matchers or self.query_one(FilterBar).has_class("-active"):
            self.query_one(FilterBar).action_clear()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.WRITE_ACTIONS and self._config.read_only:
            return False  # hidden: read-only mode offers no write at all
        return True

    def action_mark(self) -> None:
        key = self.query_one(AlertTable).cursor_key
        if key is not None and key in self.board.alerts:
            self.marked = self.marked ^ {key}
            self.query_one(AlertTable).show_marks(self.marked)
            self.query_one(AlertTable).action_cursor_down()

    def targets(self) -> list[Alert]:
        """The marked alerts, or else the highlighted one."""
        keys = self.marked or {self.query_one(AlertTable).cursor_key or ""}
        return [self.board.alerts[k] for k in keys if k in self.board.alerts]

    def group_of_highlighted(self) -> list[Alert]:
        """The highlighted alert's group: its grouping label's value (alertname when ungrouped)."""
        key = self.query_one(AlertTable).cursor_key
        alert = self.board.alerts.get(key or "")
        if alert is None:
            return []
        label = self.grouping.value if self.grouping is not Grouping.NONE else "alertname"
        value = alert.labels.get(label, "")
        return [a for a in self.board.alerts.values()
                if a.labels.get(label, "") == value and alert_matches(a, self.matchers)
                and a.state is not AlertState.RESOLVED]

    def action_ack_alert(self) -> None:
        row = self.query_one(AlertTable).cursor_row
        if not self.marked and isinstance(row, IncidentRow):
            self.post_message(self.PagerRequested(row.incident, "acknowledge"))
            return
        alerts = [a for a in self.targets() if a.state is not AlertState.RESOLVED]
        if alerts:
            self.post_message(AckRequested(alerts))
            self.marked = frozenset()
            self.query_one(AlertTable).show_marks(self.marked)

    def action_ack_group(self) -> None:
        alerts = self.group_of_highlighted()
        if alerts:
            self.post_message(AckRequested(alerts, group=True))

    def action_silence_alert(self) -> None:
        """The silence form for the targets; what it returns goes up to be written."""
        targets, config = self.targets(), self._config
        if not targets:
            return
        cluster, now = self._services.cluster_now(targets[0])
        context = FormContext(targets, list(self.board.alerts.values()), config.severity,
                              config.silences, config.user, cluster, now)
        target = targets[0] if len(targets) == 1 else None

        def submitted(silence: SilenceRequest | None) -> None:
            if silence is not None:
                self.post_message(SilenceRequested(silence, target))

        self.app.push_screen(SilenceForm(context), submitted)

    def action_unack(self) -> None:
        key = self.query_one(AlertTable).cursor_key
        alert = self.board.alerts.get(key or "")
        acks = [self.board.silences[sid] for sid in (alert.silenced_by if alert else ())
                if sid in self.board.silences and self.board.silences[sid].is_ack]
        if not acks:
            self.notify("This alert is not acknowledged.", timeout=3)
            return
        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(UnackRequested(acks))

        name = alert.name if alert is not None else ""
        self.app.push_screen(ConfirmScreen(f"Un-acknowledge {name}?", expire_text(acks)),
                             answered)

    def highlighted(self) -> Alert | None:
        return self.board.alerts.get(self.query_one(AlertTable).cursor_key or "")

    def highlighted_incident(self) -> Incident | None:
        """The PagerDuty incident of the highlighted row: its alert's, or the row's own."""
        row = self.query_one(AlertTable).cursor_row
        if isinstance(row, IncidentRow):
            return row.incident
        return self.shift.pages.incident_for(row.alert) if isinstance(row, AlertRow) else None

    def _incident_or_say(self) -> Incident | None:
        incident = self.highlighted_incident()
        if incident is None:
            self.notify("No PagerDuty incident pages for this row.", timeout=3)
        return incident

    def action_resolve_incident(self) -> None:
        incident = self._incident_or_say()
        if incident is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(self.PagerRequested(incident, "resolve"))

        body = Content(f"{incident.title}\n\nService {incident.service or '?'}, status "
                       f"{incident.status}, PagerDuty account {incident.source}.\nResolving "
                       "ends the page for everyone; a firing alert may page again.")
        self.app.push_screen(ConfirmScreen(f"Resolve PagerDuty incident {incident.reference}?",
                                           body), answered)

    def action_snooze_incident(self) -> None:
        incident = self._incident_or_say()
        if incident is None:
            return

        def chosen(duration: timedelta | None) -> None:
            if duration is not None:
                self.post_message(self.PagerRequested(incident, "snooze", duration))

        self.app.push_screen(SnoozeScreen(f"Snooze PagerDuty incident {incident.reference}: "
                                          f"{incident.title}"), chosen)

    def action_add_note(self) -> None:
        alert = self.highlighted()
        if alert is None:
            return

        def answered(text: str | None) -> None:
            if text and text.strip():
                self.post_message(NoteAdded(alert, clean(text.strip())))

        self.app.push_screen(PromptScreen(f"Note on {alert.name} (goes into the journal):"),
                             answered)

    def action_status_update(self) -> None:
        alert = self.highlighted()
        if alert is None:
            return
        level = self._config.severity.level_of(alert.labels)
        records = self.shift.journal.records_of(ACTION_KINDS_FOR_UPDATES)

        def text(status: str, impact: str) -> str:
            return compose_update(alert, level, records, status, impact, self._clock.now(),
                                  self._config.timezone)

        def chosen(result: tuple[str, str] | None) -> None:
            if result is not None:
                status, body = result
                self._services.clipboard.copy(body)
                self.notify("Status update copied to the clipboard (OSC 52).", timeout=4)
                self.post_message(StatusUpdatePosted(alert, status, body))

        self.app.push_screen(StatusUpdateScreen(text), chosen)

    def action_runbook(self) -> None:
        alert = self.highlighted()
        if alert is not None:
            services, config = self._services, self._config
            self.app.push_screen(RunbookScreen(
                alert, services.runbooks, services.clipboard,
                timeout=config.commands.timeout, read_only=config.read_only,
                new_runner=services.new_runner))

    def action_diagnostics(self) -> None:
        alert = self.highlighted()
        if alert is not None:
            scope = scope_for(alert, self._config.kubernetes)
            self.app.push_screen(DiagnosticsScreen(alert, scope, self._services.kube,
                                                   self._clock))

    def action_handoff(self) -> None:
        self._handoff_in_thread()

    @work(group="report", thread=True, exclusive=True, description="the handoff report")
    def _handoff_in_thread(self) -> None:
        """Made off the event loop: a storm's 50k journal records take ~0.5 s to unpack."""
        now, config, shift = self._clock.now(), self._config, self.shift
        report = handoff_report(list(shift.records), shift.board, shift.roster, now,
                                shift_start(shift.roster, config.user, now), config.user,
                                config.timezone, config.severity)
        default = f"~/handoff-{now.astimezone(config.timezone):%Y-%m-%d}.md"
        self.app.call_from_thread(self._show_report, lambda: HandoffScreen(
            report, self._services.clipboard, default))

    def action_shift_metrics(self) -> None:
        self._metrics_in_thread()

    @work(group="report", thread=True, exclusive=True, description="the shift's metrics")
    def _metrics_in_thread(self) -> None:
        now, shift = self._clock.now(), self.shift
        metrics = shift_metrics(list(shift.records), shift_start(shift.roster,
                                                                 self._config.user, now),
                                now, incident_levels=self._config.severity.names()[:2])
        self.app.call_from_thread(self._show_report,
                                  lambda: ShiftScreen(metrics, self._config.timezone))

    def _show_report(self, screen: Callable[[], Screen[Any]]) -> None:
        if self.is_current:  # not when another screen was opened meanwhile
            self.app.push_screen(screen())

    def action_toggle_detail(self) -> None:
        self.toggle_class("-no-detail")
        self._show_detail(force=True)

    def action_focus_detail(self) -> None:
        """Into the detail pane (the arrows then scroll it), and back to the table."""
        pane = self.query_one("#detail-pane", VerticalScroll)
        if self.focused is pane or not pane.display:
            self.query_one(AlertTable).focus()
        else:
            pane.focus()

    def action_show_silences(self) -> None:
        config = self._config
        self._silences = SilencesScreen(self.board, config.silences.warn_before,
                                        config.read_only,
                                        config.ack.extend and not config.read_only)
        self.app.push_screen(self._silences)

    @property
    def visible_alerts(self) -> list[str]:
        """Fingerprints of the alert rows shown, in order (for tests and the palette)."""
        return [row.key for row in self.query_one(AlertTable).rows if isinstance(row, AlertRow)]
