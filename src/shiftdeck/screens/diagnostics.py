"""Kubernetes diagnostics for an alert: its pods, their events and rollout history; `enter` (or
`l`) on a pod opens its logs full screen, `p` its previous container's.

Fetched by this screen's thread workers with the `kubernetes` client (cancelled with the
screen). RBAC denials and unreachable clusters are shown plainly, never as a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ..clock import Clock
from ..domain.alerts import Alert
from ..domain.durations import format_age
from ..domain.kube import Diagnostics, KubeError, PodInfo, Scope
from ..domain.kube import KubeReader as KubeClient
from ..widgets.key_footer import KeyFooter
from .log_view import LogViewScreen

# What is read first comes first: at 80 columns the last columns are cut.
COLUMNS = {"#diag-pods": ("pod", "ready", "restarts", "reason", "age", "phase", "node"),
           "#diag-events": ("type", "reason", "age", "count", "message", "object"),
           "#diag-revisions": ("rev", "replicaset", "images", "age", "replicas")}


class DiagnosticsScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="close_diagnostics"),
        Binding("l", "logs(False)", "Logs", id="pod_logs", tooltip="The pod's logs, full screen"),
        Binding("p", "logs(True)", "Previous logs", id="previous_logs",
                tooltip="Logs of the previous container (crash loops)"),
        Binding("ctrl+r", "refresh", "Refresh", id="refresh_diagnostics"),
        Binding("tab", "app.focus_next", "Next pane", show=False, id="diagnostics_focus"),
    ]
    DEFAULT_CSS = """
    DiagnosticsScreen #diag-title { height: 1; background: $panel; text-wrap: nowrap;
        text-overflow: ellipsis; }
    DiagnosticsScreen #diag-status { height: auto; color: $text-muted; }
    DiagnosticsScreen #diag-errors { height: auto; color: $error; }
    DiagnosticsScreen DataTable { height: auto; max-height: 8; }
    DiagnosticsScreen .diag-heading { height: 1; text-style: bold; color: $accent; }
    """

    def __init__(self, alert: Alert, scope: Scope, kube: Callable[[], KubeClient],
                 clock: Clock) -> None:
        """`kube` gives the shared client (made on first use)."""
        super().__init__()
        self.alert = alert
        self.scope = scope
        self.pods: list[PodInfo] = []
        self._kube = kube
        self._clock = clock

    def compose(self) -> ComposeResult:
        context = self.scope.context or "(current context)"
        what = self.scope.selector or self.scope.pod or self.scope.deployment or "all pods"
        yield Static(Content(f" {self.alert.name}: {context} · namespace {self.scope.namespace}"
                             f" · {what}"), id="diag-title")
        yield Static("", id="diag-status")
        yield Static("", id="diag-errors")
        with VerticalScroll(can_focus=False):
            yield Static("Pods (enter or l: logs, p: previous container's)",
                         classes="diag-heading")
            yield DataTable(cursor_type="row", id="diag-pods")
            yield Static("Events, warnings first", classes="diag-heading")
            yield DataTable(cursor_type="row", id="diag-events")
            yield Static("Rollout history", classes="diag-heading")
            yield DataTable(cursor_type="row", id="diag-revisions")
        yield KeyFooter()

    def on_mount(self) -> None:
        for table_id, columns in COLUMNS.items():
            self.query_one(table_id, DataTable).add_columns(*columns)
        if self.scope.refused:
            self.query_one("#diag-errors", Static).update(Content(f" ✗ {self.scope.refused}"))
            return
        self.action_refresh()

    def action_refresh(self) -> None:
        if not self.scope.refused:
            self.query_one("#diag-status", Static).update(Content(
                f" loading pods from {self.scope.context or '(current context)'}/"
                f"{self.scope.namespace}…"))
            self._diagnose()

    @work(group="kube", thread=True, exclusive=True, description="kubernetes diagnostics")
    def _diagnose(self) -> None:
        now = self._clock.now()
        diagnostics = self._kube().diagnose(self.scope, now)
        self.app.call_from_thread(self.show_diagnostics, diagnostics, now)

    def show_diagnostics(self, diagnostics: Diagnostics, now: datetime) -> None:
        if not self.is_attached:
            return  # closed (esc) before the cluster answered
        errors = "\n".join(f" ✗ {e}" for e in diagnostics.errors)
        self.query_one("#diag-status", Static).update("")
        self.query_one("#diag-errors", Static).update(Content(errors))
        self.pods = list(diagnostics.pods)
        self._fill("#diag-pods", [
            (p.name, p.ready, str(p.restarts), p.reason, _age(p.age), p.phase, p.node)
            for p in diagnostics.pods])
        self._fill("#diag-events", [
            (e.type, e.reason, _age(now - e.last_seen if e.last_seen else None), str(e.count),
             e.message, e.object)
            for e in diagnostics.events])
        self._fill("#diag-revisions", [
            (str(r.revision), r.replicaset, ", ".join(r.images),
             _age(now - r.created if r.created else None), str(r.replicas))
            for r in diagnostics.revisions])
        if self.pods:
            self.query_one("#diag-pods", DataTable).focus()

    def _fill(self, table_id: str, rows: list[tuple[str, ...]]) -> None:
        """Rich Text cells: DataTable parses plain strings as markup; Text is never parsed.
        The columns are sized here, from the rows: a DataTable left to size its own columns
        does it later, when idle, and a header painted before then keeps the old widths."""
        table = self.query_one(table_id, DataTable)
        table.clear(columns=True)
        for index, label in enumerate(COLUMNS[table_id]):
            table.add_column(label, width=max([cell_len(label),
                                               *(cell_len(row[index]) for row in rows)]))
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "diag-pods":
            self.action_logs(False)

    def action_logs(self, previous: bool) -> None:
        """The highlighted pod's logs, full screen; each opening starts on the container asked
        for (`p` does not stay on for the next pod)."""
        table = self.query_one("#diag-pods", DataTable)
        if not self.pods or table.cursor_row >= len(self.pods):
            self.notify("No pod to show the logs of.", timeout=3)
            return
        self.app.push_screen(LogViewScreen(self.scope, self.pods[table.cursor_row].name,
                                           self._kube, previous=previous))


def _age(delta: timedelta | None) -> str:
    return format_age(delta) if delta is not None else "—"
