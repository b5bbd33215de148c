"""Full-screen detail for one alert."""

from __future__ import annotations

from datetime import datetime, tzinfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.content import Content
from textual.widgets import Footer, Static

from ..domain.alerts import Alert
from ..domain.escalation import Escalation
from ..domain.severity import SeverityPolicy
from ..widgets.alert_detail import render_detail


class DetailScreen(Screen):
    BINDINGS = [Binding("escape,enter", "app.pop_screen", "Back", id="close_detail")]

    def __init__(self, alert: Alert, policy: SeverityPolicy, now: datetime,
                 escalation: Escalation | None = None, zone: tzinfo | None = None) -> None:
        super().__init__()
        self._content = render_detail(alert, policy, now, escalation, zone)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-scroll"):
            yield Static(self._content, id="detail-full", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail-scroll").focus()


class TextScreen(Screen):
    """A titled page of plain text, e.g. the alerts one silence covers."""

    BINDINGS = [Binding("escape,enter", "app.pop_screen", "Back", id="close_text")]

    def __init__(self, title: str, body: Content) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        yield Static(Content(self._title), classes="title")
        with VerticalScroll():
            yield Static(self._body, markup=False)
        yield Footer()
