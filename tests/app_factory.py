"""One way to build the app for Pilot and snapshot tests: no polling, a frozen clock, no
blinking cursor, UTC display, and a fixed board drawn from the seed handbooks."""

from __future__ import annotations

from datetime import timedelta

from shiftdeck.app import ShiftdeckApp
from shiftdeck.clock import FrozenClock
from shiftdeck.domain.alerts import Alert, AlertState, fingerprint
from shiftdeck.domain.board import SourceReport
from shiftdeck.messages import SourceFailed, SourceReported

from .factories import NOW
from .helpers import config_for

AM_KEY = "alertmanager/am0"


def _alert(name, severity, namespace, minutes, state=AlertState.FIRING, summary="",
           **labels) -> Alert:
    all_labels = {"alertname": name, "severity": severity, "namespace": namespace, **labels}
    return Alert(fingerprint(all_labels), all_labels, {"summary": summary} if summary else {},
                 state, NOW - timedelta(minutes=minutes), ("am0",),
                 silenced_by=("5f1c0d2a",) if state is AlertState.SILENCED else ())


SEED_ALERTS = (
    _alert("QAWaveBackendDown", "critical", "qawave", 12, service="backend",
           summary="Backend has no ready pods"),
    _alert("PostgreSQLDown", "critical", "qawave", 3, service="postgresql", pod="postgresql-0",
           summary="PostgreSQL is not answering"),
    _alert("BackendHighErrorRate", "warning", "clipper", 47, service="backend",
           summary="5xx ratio above 5% for 10m"),
    _alert("DatabaseConnectionPoolExhausted", "warning", "payments", 130, service="api",
           summary="Connection pool at 100%"),
    _alert("HighMemoryUsage", "warning", "profile", 25, AlertState.SILENCED, service="worker",
           summary="Memory above 90% of limit"),
    _alert("TaskQueueBackedUp", "info", "qawave", 8, AlertState.PENDING, service="celery",
           summary="More than 1000 tasks waiting"),
    _alert("DiskSpaceLow", "info", "monitoring", 600, service="prometheus",
           summary="Less than 10% disk left"),
    _alert("FailedAuthSpike", "critical", "clipper", 1, category="security",
           summary="[@click=app.quit]x[/] login failures ×20 [/]"),
)


def make_app(**config: str) -> ShiftdeckApp:
    return ShiftdeckApp(config_for(["http://127.0.0.1:9"], **config), FrozenClock(NOW),
                        poll=False, sources=[], cursor_blink=False)


def report(alerts=SEED_ALERTS, at=NOW) -> SourceReported:
    return SourceReported(AM_KEY, SourceReport("am0", "alertmanager", tuple(alerts), at), 0)


def failure(error="unreachable (connection refused)", at=NOW + timedelta(minutes=2)):
    return SourceFailed(AM_KEY, error, at)


async def loaded(pilot, alerts=SEED_ALERTS) -> None:
    pilot.app.post_message(report(alerts))
    await pilot.pause()
