"""Full-screen detail for one alert."""

from __future__ import annotations

from datetime import datetime, tzinfo

from textual.binding import Binding
from textual.content import Content

from ..domain.alerts import Alert
from ..domain.escalation import Escalation
from ..domain.severity import SeverityPolicy
from ..widgets.alert_detail import render_detail
from .page import PageScreen


class DetailScreen(PageScreen):
    BINDINGS = [Binding("escape,enter", "app.pop_screen", "Back", id="close_detail")]
    PAGE_ID = "detail-full"

    def __init__(self, alert: Alert, policy: SeverityPolicy, now: datetime,
                 escalation: Escalation | None = None, zone: tzinfo | None = None) -> None:
        super().__init__(render_detail(alert, policy, now, escalation, zone))


class TextScreen(PageScreen):
    """A titled page of plain text, e.g. the alerts one silence covers."""

    BINDINGS = [Binding("escape,enter", "app.pop_screen", "Back", id="close_text")]

    def __init__(self, title: str, body: Content) -> None:
        super().__init__(body, title)
