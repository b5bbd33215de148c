"""The full detail screen as the dashboard opens it, with a note and a metric (Pilot and
snapshot tests share it)."""

from __future__ import annotations

from datetime import timedelta

from shiftdeck.domain.metric import MetricHistory
from shiftdeck.screens.detail import DetailScreen

from .app_factory import SEED_ALERTS, loaded
from .factories import NOW
from .waiting import wait_until

BACKEND = SEED_ALERTS[0]  # QAWaveBackendDown, firing for 12m at NOW


def backend_metric() -> MetricHistory:
    hour = tuple((NOW - timedelta(seconds=15 * (240 - i)), float(i % 7)) for i in range(240))
    firing = tuple(NOW - timedelta(minutes=m) for m in range(0, 12))
    return MetricHistory('up{job="backend"} == 0', hour, firing, NOW)


async def open_backend_detail(pilot) -> DetailScreen:
    """The full detail of QAWaveBackendDown with a note and its metric."""
    app = pilot.app
    await loaded(pilot)
    await pilot.press("n", *"rolled back to v2.13.1", "enter")
    await wait_until(pilot, lambda: app.dashboard.shift.journal.notes_for(BACKEND.fingerprint))
    notes = list(app.dashboard.shift.journal.notes_for(BACKEND.fingerprint))
    screen = DetailScreen(BACKEND, app.config.severity, app.clock.now(), None, None,
                          notes=notes, metric=backend_metric(), clock=app.clock)
    await app.push_screen(screen)
    await pilot.pause()
    return screen
