"""One way to build the app for Pilot and snapshot tests: no polling, a frozen clock, no
blinking cursor, UTC display, and a fixed board drawn from the seed handbooks. Keyword options
cover the rest (live pollers, runbook dirs, a kubeconfig, a journal, a config built elsewhere)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from shiftdeck.app import ShiftdeckApp
from shiftdeck.clock import Clock, FrozenClock, SystemClock
from shiftdeck.config import Config
from shiftdeck.sources.journal import Journal
from shiftdeck.writes import Writer
from shiftdeck.domain.alerts import Alert, AlertState, fingerprint
from shiftdeck.domain.board import SourceReport
from shiftdeck.domain.matchers import make_matcher
from shiftdeck.domain.silences import Silence, SilenceState
from shiftdeck.messages import SourceFailed, SourceReported

from .factories import NOW
from .helpers import ROSTER_YAML, config_for

AM_KEY = "alertmanager/am0"


ACK_ID = "a1c4e5d0-0000-4000-8000-000000000001"
MAINTENANCE_ID = "5f1c0d2a-0000-4000-8000-000000000002"


def _alert(name, severity, namespace, minutes, state=AlertState.FIRING, summary="",
           silenced_by=MAINTENANCE_ID, **labels) -> Alert:
    all_labels = {"alertname": name, "severity": severity, "namespace": namespace, **labels}
    return Alert(fingerprint(all_labels), all_labels, {"summary": summary} if summary else {},
                 state, NOW - timedelta(minutes=minutes), ("am0",),
                 silenced_by=(silenced_by,) if state is AlertState.SILENCED else ())


SEED_ALERTS = (
    _alert("QAWaveBackendDown", "critical", "qawave", 12, service="backend",
           summary="Backend has no ready pods"),
    _alert("PostgreSQLDown", "critical", "qawave", 3, service="postgresql", pod="postgresql-0",
           summary="PostgreSQL is not answering"),
    _alert("BackendHighErrorRate", "warning", "clipper", 47, AlertState.SILENCED,
           silenced_by=ACK_ID, service="backend", summary="5xx ratio above 5% for 10m"),
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


SEED_SILENCES = (
    Silence(ACK_ID, (make_matcher("alertname", "=", "BackendHighErrorRate"),),
            NOW - timedelta(minutes=9), NOW + timedelta(minutes=6), "alice",
            "ACK! alice via shiftdeck at 2026-11-22 13:51 UTC", SilenceState.ACTIVE, "test"),
    Silence(MAINTENANCE_ID, (make_matcher("namespace", "=", "profile"),
                             make_matcher("service", "=~", "worker|api")),
            NOW - timedelta(hours=1), NOW + timedelta(hours=2), "bob",
            "profile workers migration, CHG-4411", SilenceState.ACTIVE, "test"),
    Silence("e0e0e0e0-0000-4000-8000-000000000003", (make_matcher("job", "=", "legacy"),),
            NOW - timedelta(hours=3), NOW + timedelta(minutes=40), "dave",
            "legacy exporter being decommissioned", SilenceState.ACTIVE, "test"),
)


NOWHERE = "http://127.0.0.1:9"  # an Alertmanager URL nothing answers (nothing polls it here)


def make_app(roster: bool = True, *, alertmanagers: Sequence[str] = (NOWHERE,),
             prometheus: Sequence[str] = (), extra: str = "", runbooks: Path | None = None,
             kubeconfig: Path | str | None = None, kube_timeout: str | None = None,
             journal_file: Path | None = None, journal: Journal | None = None,
             writer: Writer | None = None, config: Config | None = None,
             live: bool = False, poll: bool | None = None, sources: list[Any] | None = None,
             clock: Clock | None = None, on_key: Callable[[], None] = lambda: None,
             **settings: Any) -> ShiftdeckApp:
    """The app under test.

    By default: the seed roster, user alice, no pollers and no sources, `FrozenClock(NOW)`
    (`app.clock.advance(...)` moves it), no cursor blink. `settings` are top-level config keys
    (`refresh="1s"`, `read_only="true"`, `theme=...`); `extra` is more YAML; `runbooks` a
    runbook dir, `kubeconfig` (and `kube_timeout`) the Kubernetes settings, `journal_file` where
    the journal goes. `config` replaces all of those with a config built elsewhere.

    `journal` and `writer` replace the app's journal store and write path (a `RecordingWriter`);
    `on_key` is called for each key the app receives (the heap keeper's cue).

    `live=True` is the app as `shiftdeck` runs it: real pollers for the configured sources and
    the system clock. `poll` and `sources` set those two alone (`sources=[stub]`; `None` with
    `live` means the sources the config names)."""
    if config is None:
        settings = {"user": "alice", **settings}  # not $USER: snapshots must not depend on who runs them
        yaml = (ROSTER_YAML if roster else "") + extra
        if runbooks is not None:
            yaml += f"runbooks: {{dirs: ['{runbooks}']}}\n"
        if kubeconfig is not None:
            timeout = f", timeout: {kube_timeout}" if kube_timeout else ""
            yaml += f"kubernetes: {{kubeconfig: '{kubeconfig}'{timeout}}}\n"
        if journal_file is not None:
            settings["journal"] = f"'{journal_file}'"
        config = config_for(list(alertmanagers), list(prometheus), extra=yaml, **settings)
    if clock is None:
        clock = SystemClock() if live else FrozenClock(NOW)
    if not live and sources is None:
        sources = []
    return ShiftdeckApp(config, clock, poll=live if poll is None else poll, sources=sources,
                        cursor_blink=False, writer=writer, journal=journal, on_key=on_key)


def write_runbooks(tmp_path: Path, text: str, name: str = "QAWaveBackendDown") -> Path:
    """A runbook dir under `tmp_path` holding `<name>.md`; pass it as `make_app(runbooks=...)`."""
    books = tmp_path / "runbooks"
    books.mkdir(exist_ok=True)
    (books / f"{name}.md").write_text(text)
    return books


def report(alerts=SEED_ALERTS, at=NOW, silences=SEED_SILENCES) -> SourceReported:
    return SourceReported(AM_KEY, SourceReport("am0", "alertmanager", tuple(alerts), at,
                                               silences=silences), 0)


def failure(error="unreachable (connection refused)", at=NOW + timedelta(minutes=2)):
    return SourceFailed(AM_KEY, error, at)


async def loaded(pilot, alerts=SEED_ALERTS) -> None:
    """The report shown, and the next second's tick after the journal was read: the alerts
    found firing are then recorded, as a user sees them a second after the first table."""
    from .waiting import wait_until

    pilot.app.post_message(report(alerts))
    await pilot.pause()
    await wait_until(pilot, lambda: not any(w.group == "journal-read" and not w.is_finished
                                            for w in pilot.app.workers))
    pilot.app.tick()
    await pilot.pause()
