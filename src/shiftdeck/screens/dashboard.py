"""The main screen: header, source banner, the alert table, the detail pane and the filter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from ..clock import Clock
from ..domain.board import EMPTY_BOARD, Board
from ..domain.matchers import Matcher, MatcherError, parse_matchers
from ..domain.view import AlertRow, Grouping, select_rows
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
    ]
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

    def compose(self) -> ComposeResult:
        fresh = 2 * self._config.refresh + timedelta(seconds=5)
        yield HeaderBar(self._config.title, fresh_within=fresh, id="header")
        yield SourceBanner(id="banner")
        with Horizontal(id="main"):
            yield AlertTable(self._config.severity, self._config.key_labels, self._clock,
                             id="alerts")
            with VerticalScroll(id="detail-pane"):
                yield AlertDetail(self._config.severity, id="detail")
        yield FilterBar(id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(HeaderBar).read_only = self._config.read_only
        self.query_one(AlertTable).focus()
        self.set_interval(self.TICK_SECONDS, self._tick)

    # -- data ------------------------------------------------------------------------------

    def show_board(self, board: Board) -> None:
        """Show a new snapshot; rows are re-selected only when some alert changed."""
        alerts_changed = board.alerts is not self.board.alerts and not board.same_alerts(self.board)
        self.board = board
        self._show_health()
        if alerts_changed:
            self._show_rows()

    def _show_health(self) -> None:
        levels = self._config.severity.names()
        self.query_one(HeaderBar).show(self.board.health, self.board.counts(levels),
                                       self._clock.now())
        self.query_one(SourceBanner).show(self.board.health)

    def _show_rows(self) -> None:
        rows = select_rows(self.board.alerts.values(), self.matchers, self.grouping,
                           self._config.severity)
        self.query_one(AlertTable).show_rows(rows)
        self._show_detail()

    def _show_detail(self) -> None:
        key = self.query_one(AlertTable).cursor_key
        self.query_one(AlertDetail).show(self.board.alerts.get(key or ""), self._clock.now())

    def _tick(self) -> None:
        self._show_health()
        self.query_one(AlertTable).refresh_ages()

    # -- events ----------------------------------------------------------------------------

    def on_alert_table_highlighted(self, event: AlertTable.Highlighted) -> None:
        self._show_detail()

    def on_alert_table_selected(self, event: AlertTable.Selected) -> None:
        alert = self.board.alerts.get(event.key)
        if alert is not None:
            self.app.push_screen(DetailScreen(alert, self._config.severity, self._clock.now()))

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

    @property
    def visible_alerts(self) -> list[str]:
        """Fingerprints of the alert rows shown, in order (for tests and the palette)."""
        return [row.key for row in self.query_one(AlertTable).rows if isinstance(row, AlertRow)]
