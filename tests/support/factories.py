"""Small builders for domain objects used across tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shiftdeck.domain.alerts import Alert, AlertState, fingerprint

NOW = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)


def make_alert(name: str = "BackendDown", severity: str = "critical", *,
               state: AlertState = AlertState.FIRING, age: timedelta = timedelta(minutes=5),
               instance: str = "am", now: datetime = NOW, **labels: str) -> Alert:
    all_labels = {"alertname": name, "severity": severity, **labels}
    return Alert(
        fingerprint=fingerprint(all_labels),
        labels=all_labels,
        annotations={"summary": f"{name} summary"},
        state=state,
        starts_at=now - age,
        instances=(instance,),
    )
