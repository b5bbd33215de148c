"""The main screen: header, source banner, the alert table, the detail pane and the filter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from ..clock import Clock
from ..domain.board import EMPTY_BOARD, Board
from ..domain.matchers import Matcher, MatcherError, parse_matchers
from ..domain.alerts import Alert, AlertState
from ..domain.escalation import Escalation, crossed, escalate
from ..domain.journal import Kind, Record, next_update_due, notes_for
from ..domain.metric import MetricHistory
from ..domain.notify import name_list
from ..domain.roster import Roster
from ..domain.view import AlertRow, Grouping, alert_matches, expiring_soon, select_rows
from ..widgets.alert_detail import AlertDetail
from ..widgets.alert_table import AlertTable
from ..widgets.filter_bar import FilterBar
from ..widgets.header_bar import HeaderBar
from ..widgets.source_banner import SourceBanner
from .detail import DetailScreen


class DashboardScreen(Screen):
    BINDINGS = [
        Binding("slash", "open_filter", "Filter", id="filter", tooltip="Filter with matchers"),
        Binding("g", "cycle_grouping", "Group", id="group",
                tooltip="Cycle grouping: none, alertname, namespace"),
        Binding("escape", "back", "Clear filter", show=False, id="back"),
        Binding("a", "ack_alert", "Ack", id="ack_alert",
                tooltip="Acknowledge the highlighted (or marked) alerts"),
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
    ]
    WRITE_ACTIONS = {"ack_alert", "ack_group", "silence_alert", "unack"}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (160, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    TICK_SECONDS = 5.0

    def __init__(self, config: Any, clock: Clock) -> None:
        super().__init__()
        self._config = config
        self._clock = clock
        self.board: Board = EMPTY_BOARD
        self.matchers: tuple[Matcher, ...] = ()
        self.grouping = Grouping.NONE
        self.marked: frozenset[str] = frozenset()
        self.roster: Roster = config.roster
        self.escalations: dict[str, Escalation] = {}
        self._escalated_for: dict[str, Alert] = {}
        """The alert object each escalation was computed for (reused while it is unchanged)."""
        self.records: list[Record] = []
        self._metrics: dict[str, MetricHistory] = {}
        self._next_deadline = None
        self._next_update_due: datetime | None = None

    def compose(self) -> ComposeResult:
        fresh = 2 * self._config.refresh + timedelta(seconds=5)
        yield HeaderBar(self._config.title, fresh_within=fresh, zone=self._config.timezone,
                        id="header")
        yield SourceBanner(id="banner")
        with Horizontal(id="main"):
            yield AlertTable(self._config.severity, self._config.key_labels, self._clock,
                             id="alerts")
            with VerticalScroll(id="detail-pane"):
                yield AlertDetail(self._config.severity, self._config.timezone, id="detail")
        yield FilterBar(id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(HeaderBar).read_only = self._config.read_only
        self.query_one(AlertTable).focus()
        self.set_interval(self.TICK_SECONDS, self._tick)
        self.set_interval(1.0, self._tick_second)

    # -- data ------------------------------------------------------------------------------

    def show_board(self, board: Board) -> None:
        """Show a new snapshot; rows are re-selected only when some alert changed."""
        alerts_changed = board.alerts is not self.board.alerts and not board.same_alerts(self.board)
        previous, self.board = self.board, board
        self._show_health()
        if alerts_changed:
            self._show_rows()
            self._escalate()
            self._show_updates_due()
            self._show_detail()
            self._page_new_alerts(previous)

    def show_roster(self, roster: Roster) -> None:
        """A new roster (ICS feeds refreshed): who is on call, and every escalation, again."""
        self.roster = roster
        self.escalations, self._escalated_for = {}, {}
        self._escalate()
        self._show_health()

    # -- escalation ------------------------------------------------------------------------

    def _escalate(self) -> list[Alert]:
        """Recompute escalations (reusing those of unchanged alerts); return alerts that moved up."""
        policy = self._config.escalation
        if not policy.ladders:
            return []
        now = self._clock.now()
        old, new = self.escalations, {}
        for fp, alert in self.board.alerts.items():
            if alert.state not in (AlertState.FIRING, AlertState.ACKED):
                continue
            before = old.get(fp)
            if before is not None and self._still_valid(before, alert, now):
                new[fp] = before
            else:
                level = self._config.severity.level_of(alert.labels)
                new[fp] = escalate(alert, level, policy, self.roster, now)
        self.escalations = new
        self._escalated_for = {fp: self.board.alerts[fp] for fp in new}
        self._next_deadline = min((e.next.at for e in new.values() if e.next and not e.stopped),
                                  default=None)
        self.query_one(AlertTable).show_escalations(new)
        return [self.board.alerts[fp] for fp, e in new.items()
                if fp in old and e is not old[fp] and crossed(old[fp], e)]

    def _still_valid(self, escalation: Escalation, alert: Alert, now) -> bool:
        same_alert = self._escalated_for.get(alert.fingerprint) is alert
        return same_alert and (escalation.next is None or escalation.next.at > now)

    def _tick_second(self) -> None:
        now = self._clock.now()
        if self._next_deadline is not None and now >= self._next_deadline:
            moved = self._escalate()
            if moved:
                for alert in moved:
                    rung = self.escalations[alert.fingerprint].current
                    self.app.note(Kind.ESCALATED, alert, step=rung.index + 1 if rung else 0,
                                  person=rung.person.id if rung and rung.person else "")
                names = name_list(a.name for a in moved)
                self.app.page("Escalated", f"{len(moved)} alert(s) moved up the ladder: {names}",
                              [a.level for a in moved])
        self.query_one(AlertTable).refresh_countdowns()

    def _page_new_alerts(self, previous: Board) -> None:
        if not previous.alerts:
            return  # the first board: everything is "new", nothing is news
        fresh = [a for fp, a in self.board.alerts.items() if a.state is AlertState.FIRING
                 and (fp not in previous.alerts
                      or previous.alerts[fp].state is AlertState.PENDING)]
        if fresh:
            self.app.page("Firing", f"{len(fresh)} new: {name_list(a.name for a in fresh)}",
                          [a.level for a in fresh])

    def _show_health(self) -> None:
        levels = self._config.severity.names()
        now = self._clock.now()
        soon = expiring_soon(self.board.silences.values(), now, self._config.silences.warn_before,
                             acks_extended=self._config.ack.extend and not self._config.read_only)
        self.query_one(HeaderBar).show(self.board.health, self.board.counts(levels), now, soon,
                                       self.roster)
        self.query_one(SourceBanner).show(self.board.health)

    def _show_rows(self) -> None:
        rows = select_rows(self.board.alerts.values(), self.matchers, self.grouping,
                           self._config.severity)
        self.marked = self.marked & {row.key for row in rows}
        table = self.query_one(AlertTable)
        table.show_rows(rows)
        table.show_marks(self.marked)
        self._show_detail()

    def _show_detail(self, force: bool = False) -> None:
        key = self.query_one(AlertTable).cursor_key or ""
        alert = self.board.alerts.get(key)
        notes = notes_for(self.records, key) if key else []
        detail = self.query_one(AlertDetail)
        changed = alert is not detail.alert
        detail.show(alert, self._clock.now(), self.escalations.get(key), notes,
                    metric=self._metrics.get(key), force=force)
        if changed and alert is not None:
            self.app.want_metric(alert)

    def show_metric(self, fingerprint: str, metric: MetricHistory) -> None:
        self._metrics[fingerprint] = metric
        if self.query_one(AlertTable).cursor_key == fingerprint:
            self._show_detail(force=True)

    def _tick(self) -> None:
        self._show_health()
        self.query_one(AlertTable).refresh_ages()
        if self._next_update_due is not None and self._clock.now() >= self._next_update_due:
            self._show_updates_due()

    def show_records(self, records: list[Record]) -> None:
        """The journal changed: notes in the detail pane, 'update due' in the rows."""
        self.records = records
        self._show_detail(force=True)
        self._show_updates_due()

    def _show_updates_due(self) -> None:
        updates = [r for r in self.records if r.kind is Kind.STATUS_UPDATE]
        now = self._clock.now()
        due, later = set(), []
        for fp, alert in self.board.alerts.items():
            level = self._config.severity.level_of(alert.labels)
            if level.update_every is None or alert.state not in (AlertState.FIRING,
                                                                 AlertState.ACKED):
                continue
            when = next_update_due(updates, alert, level, now)
            if when is not None and when <= now:
                due.add(fp)
            elif when is not None:
                later.append(when)
        # Nothing can fall due before this unless the alerts or the journal change.
        self._next_update_due = min(later, default=None)
        self.query_one(AlertTable).show_update_due(frozenset(due))

    # -- events ----------------------------------------------------------------------------

    def on_alert_table_highlighted(self, event: AlertTable.Highlighted) -> None:
        self._show_detail()

    def on_alert_table_selected(self, event: AlertTable.Selected) -> None:
        alert = self.board.alerts.get(event.key)
        if alert is not None:
            self.app.push_screen(DetailScreen(alert, self._config.severity, self._clock.now(),
                                              self.escalations.get(event.key),
                                              self._config.timezone))

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        try:
            matchers = parse_matchers(event.text)
        except MatcherError as err:
            self.query_one(FilterBar).show_error(str(err))
            return
        self.query_one(FilterBar).show_error("")
        self.matchers = matchers
        self._show_rows()

    def on_filter_bar_done(self, event: FilterBar.Done) -> None:
        self.query_one(AlertTable).focus()

    # -- actions ---------------------------------------------------------------------------

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
        if key in self.board.alerts:
            self.marked = self.marked ^ {key}
            self.query_one(AlertTable).show_marks(self.marked)
            self.query_one(AlertTable).action_cursor_down()

    def targets(self) -> list[Alert]:
        """The marked alerts, or else the highlighted one."""
        keys = self.marked or {self.query_one(AlertTable).cursor_key}
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
        alerts = [a for a in self.targets() if a.state is not AlertState.RESOLVED]
        if alerts:
            self.app.acknowledge(alerts)
            self.marked = frozenset()
            self.query_one(AlertTable).show_marks(self.marked)

    def action_ack_group(self) -> None:
        alerts = self.group_of_highlighted()
        if alerts:
            self.app.acknowledge_group(alerts)

    def action_silence_alert(self) -> None:
        alerts = self.targets()
        if alerts:
            self.app.open_silence_form(alerts)

    def action_unack(self) -> None:
        key = self.query_one(AlertTable).cursor_key
        alert = self.board.alerts.get(key or "")
        acks = [self.board.silences[sid] for sid in (alert.silenced_by if alert else ())
                if sid in self.board.silences and self.board.silences[sid].is_ack]
        if not acks:
            self.notify("This alert is not acknowledged.", timeout=3)
            return
        self.app.confirm_expire(acks, f"Un-acknowledge {alert.name}?")

    def highlighted(self) -> Alert | None:
        return self.board.alerts.get(self.query_one(AlertTable).cursor_key or "")

    def action_add_note(self) -> None:
        alert = self.highlighted()
        if alert is not None:
            self.app.add_note(alert)

    def action_status_update(self) -> None:
        alert = self.highlighted()
        if alert is not None:
            self.app.compose_status_update(alert)

    def action_runbook(self) -> None:
        alert = self.highlighted()
        if alert is not None:
            self.app.show_runbook(alert)

    def action_diagnostics(self) -> None:
        alert = self.highlighted()
        if alert is not None:
            self.app.show_diagnostics(alert)

    def action_handoff(self) -> None:
        self.app.show_handoff()

    def action_shift_metrics(self) -> None:
        self.app.show_shift_metrics()

    def action_toggle_detail(self) -> None:
        self.toggle_class("-no-detail")

    def action_show_silences(self) -> None:
        self.app.show_silences()

    @property
    def visible_alerts(self) -> list[str]:
        """Fingerprints of the alert rows shown, in order (for tests and the palette)."""
        return [row.key for row in self.query_one(AlertTable).rows if isinstance(row, AlertRow)]
