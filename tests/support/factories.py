"""Small builders for domain objects used across tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shiftdeck.domain.alerts import Alert, AlertState, fingerprint
from shiftdeck.domain.journal import Kind, Record, legacy_record

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


def sample_record(kind: Kind) -> Record:
    """A record of the kind about a P1 alert, with every field of every kind given (each
    takes its own)."""
    backend = replace(make_alert("QAWaveBackendDown", "critical", namespace="qawave",
                                 service="backend", age=timedelta(minutes=20)), level="P1")
    return legacy_record(NOW, kind, "alice", backend.fingerprint, backend.name, "P1",
                         f"{kind} text",
                         {"silences": ["a1", "b2"], "silence": "c3", "duration": 900.5,
                          "exit_code": 0, "argv": ["true"], "matchers": ['job="x"'],
                          "ends_at": NOW, "to": "L2", "notify": "secondary", "person": "Bob",
                          "state": "silenced", "seen_at_start": True, "status": "Identified",
                          "impact": "none", "next_update": NOW, "starts_at": NOW,
                          "nested": {"k": [1, "two", None, True]}})
