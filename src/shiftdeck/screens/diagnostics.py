"""Kubernetes diagnostics for an alert: its pods, their events, logs and rollout history.

Fetched by this screen's thread workers with the `kubernetes` client (cancelled with the
screen). RBAC denials and unreachable clusters are shown plainly, never as a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Log, Static

from ..clock import Clock
from ..domain.alerts import Alert
from ..domain.durations import format_age
from ..domain.kube import Scope
from ..sources.kube import Diagnostics, KubeClient, KubeError, PodInfo


class DiagnosticsScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="close_diagnostics"),
        Binding("p", "toggle_previous", "Previous logs", id="previous_logs",
                tooltip="Logs of the previous container (crash loops)"),
        Binding("ctrl+r", "refresh", "Refresh", id="refresh_diagnostics"),
        Binding("tab", "app.focus_next", "Next pane", show=False, id="diagnostics_focus"),
    ]
    DEFAULT_CSS = """
    DiagnosticsScreen #diag-title { height: auto; background: $panel; }
    DiagnosticsScreen #diag-errors { height: auto; color: $error; }
    DiagnosticsScreen DataTable { height: auto; max-height: 8; }
    DiagnosticsScreen .diag-heading { height: 1; text-style: bold; color: $accent; }
    DiagnosticsScreen #diag-logs { height: 1fr; min-height: 5; border-top: solid $panel; }
    """

    def __init__(self, alert: Alert, scope: Scope, kube: Callable[[], KubeClient],
                 clock: Clock) -> None:
        """`kube` gives the shared client (made on first use)."""
        super().__init__()
        self.alert = alert
        self.scope = scope
        self.previous = False
        self.pods: list[PodInfo] = []
        self._kube = kube
        self._clock = clock

    def compose(self) -> ComposeResult:
        context = self.scope.context or "(current context)"
        what = self.scope.selector or self.scope.pod or self.scope.deployment or "all pods"
        yield Static(Content(f" {self.alert.name}: {context} · namespace {self.scope.namespace}"
                             f" · {what}"), id="diag-title")
        yield Static("", id="diag-errors")
        with Vertical():
            yield Static("Pods (enter: logs)", classes="diag-heading")
            yield DataTable(cursor_type="row", id="diag-pods")
            yield Static("Events, warnings first", classes="diag-heading")
            yield DataTable(cursor_type="row", id="diag-events")
            yield Static("Rollout history", classes="diag-heading")
            yield DataTable(cursor_type="row", id="diag-revisions")
            yield Log(max_lines=2000, id="diag-logs")
        yield Footer()

    def on_mount(self) -> None:
        for table_id, columns in (("#diag-pods", ("pod", "phase", "ready", "restarts", "age",
                                                  "node", "reason")),
                                  ("#diag-events", ("type", "reason", "object", "count", "age",
                                                    "message")),
                                  ("#diag-revisions", ("rev", "replicaset", "images", "age",
                                                       "replicas"))):
            self.query_one(table_id, DataTable).add_columns(*columns)
        if self.scope.refused:
            self.query_one("#diag-errors", Static).update(Content(f" ✗ {self.scope.refused}"))
            return
        self.action_refresh()

    def action_refresh(self) -> None:
        if not self.scope.refused:
            self._diagnose()

    @work(group="kube", thread=True, exclusive=True, description="kubernetes diagnostics")
    def _diagnose(self) -> None:
        now = self._clock.now()
        diagnostics = self._kube().diagnose(self.scope, now)
        self.app.call_from_thread(self.show_diagnostics, diagnostics, now)

    @work(group="kube-logs", thread=True, exclusive=True, description="pod logs")
    def _logs(self, pod: str, previous: bool) -> None:
        try:
            lines = self._kube().logs(self.scope, pod, previous=previous)
        except KubeError as err:
            lines = [f"✗ {err}"]
        self.app.call_from_thread(self.show_logs, pod, previous, lines)

    def show_diagnostics(self, diagnostics: Diagnostics, now: datetime) -> None:
        if not self.is_attached:
            return  # closed (esc) before the cluster answered
        errors = "\n".join(f" ✗ {e}" for e in diagnostics.errors)
        self.query_one("#diag-errors", Static).update(Content(errors))
        self.pods = list(diagnostics.pods)
        _fill(self.query_one("#diag-pods", DataTable), [
            (p.name, p.phase, p.ready, str(p.restarts), _age(p.age), p.node, p.reason)
            for p in diagnostics.pods])
        _fill(self.query_one("#diag-events", DataTable), [
            (e.type, e.reason, e.object, str(e.count),
             _age(now - e.last_seen if e.last_seen else None), e.message)
            for e in diagnostics.events])
        _fill(self.query_one("#diag-revisions", DataTable), [
            (str(r.revision), r.replicaset, ", ".join(r.images),
             _age(now - r.created if r.created else None), str(r.replicas))
            for r in diagnostics.revisions])
        if self.pods:
            self.query_one("#diag-pods", DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "diag-pods" and event.cursor_row < len(self.pods):
            self._logs(self.pods[event.cursor_row].name, self.previous)

    def action_toggle_previous(self) -> None:
        self.previous = not self.previous
        table = self.query_one("#diag-pods", DataTable)
        if self.pods and table.cursor_row < len(self.pods):
            self._logs(self.pods[table.cursor_row].name, self.previous)
        else:
            self.notify("previous logs: " + ("on" if self.previous else "off"), timeout=2)

    def show_logs(self, pod: str, previous: bool, lines: list[str]) -> None:
        if not self.is_attached:
            return  # closed before the logs came
        log = self.query_one("#diag-logs", Log)
        log.clear()
        log.write_line(f"── {pod} {'(previous container) ' if previous else ''}"
                       f"last {len(lines)} lines ──")
        log.write_lines(lines)


def _age(delta: timedelta | None) -> str:
    return format_age(delta) if delta is not None else "—"


def _fill(table: DataTable, rows: list[tuple[str, ...]]) -> None:
    """Rich Text cells: DataTable parses plain strings as markup; Text is never parsed."""
    table.clear()
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
