"""Full-screen detail for one alert: everything the dashboard's pane shows (notes, the PagerDuty
incident, the last hour, the last 24h of firing), scrollable, its ages ticking with the clock."""

from __future__ import annotations

from datetime import datetime, tzinfo

from textual.binding import Binding
from textual.content import Content
from textual.widget import Widget

from ..clock import Clock
from ..domain.alerts import Alert
from ..domain.escalation import Escalation
from ..domain.journal import Record
from ..domain.metric import MetricHistory
from ..domain.pager import Incident
from ..domain.severity import SeverityPolicy
from ..widgets.alert_detail import AlertDetail
from .page import PageScreen


class DetailScreen(PageScreen):
    BINDINGS = [Binding("escape,enter", "app.pop_screen", "Back", id="close_detail")]
    PAGE_ID = "detail-full"

    def __init__(self, alert: Alert, policy: SeverityPolicy, now: datetime,
                 escalation: Escalation | None = None, zone: tzinfo | None = None, *,
                 notes: list[Record] | None = None, metric: MetricHistory | None = None,
                 clock: Clock | None = None, incident: Incident | None = None) -> None:
        """`clock`: the ages tick with it every second (without one they stay at `now`);
        `incident`: the PagerDuty incident paging for the alert."""
        super().__init__(Content())
        self._detail = AlertDetail(policy, zone, id=self.PAGE_ID)
        self._shown = (alert, now, escalation, notes or [], metric)
        self._incident = incident
        self._clock = clock

    def body(self) -> Widget:
        return self._detail

    def on_mount(self) -> None:
        super().on_mount()
        alert, now, escalation, notes, metric = self._shown
        self._detail.show(alert, now, escalation, notes, metric, incident=self._incident)
        if self._clock is not None:
            self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self._clock is not None:
            self._detail.tick(self._clock.now())


class TextScreen(PageScreen):
    """A titled page of plain text, e.g. the alerts one silence covers."""

    BINDINGS = [Binding("escape,enter", "app.pop_screen", "Back", id="close_text")]

    def __init__(self, title: str, body: Content) -> None:
        super().__init__(body, title)
