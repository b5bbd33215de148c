"""Incident status updates, composed from the seed handbooks' template and the journal. Pure.

    [2026-11-22 14:20 CET] QAWaveBackendDown Incident Update

    Status: Identified
    Severity: P1, started 14:02 CET (18m ago)
    Impact: Checkout fails for every user
    Actions taken:
    - 14:05 alice: acknowledged
    - 14:07 alice: ran kubectl rollout undo deployment/backend -n qawave (exit 0, 3s)
    - 14:10 alice noted: rollback done, error rate falling
    Next update: 14:35 CET

The text is for a chat channel or a status page: plain, one line per action, no control
characters (every string is cleaned), copied as it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from .alerts import Alert
from .durations import clock_time, format_duration
from .journal import Kind, Record, concerns, describe
from .sanitize import clean_line
from .severity import SeverityLevel

STATUSES = ("Investigating", "Identified", "Monitoring", "Resolved")

ACTION_KINDS_FOR_UPDATES = (Kind.ACK, Kind.UNACK, Kind.SILENCE_CREATED, Kind.SILENCE_EXTENDED,
                            Kind.SILENCE_EXPIRED, Kind.COMMAND, Kind.NOTE, Kind.ESCALATED)
"""What an update lists under "Actions taken" (earlier status updates are not repeated)."""


def update_actions(alert: Alert, records: Iterable[Record], now: datetime) -> list[Record]:
    """The journal's records of what was done about this firing of the alert, oldest first:
    records about it (or, for silences of several alerts, whose matchers select it) from its
    startsAt to now."""
    return sorted((r for r in records
                   if r.kind in ACTION_KINDS_FOR_UPDATES and alert.starts_at <= r.at <= now
                   and concerns(r, alert)), key=lambda r: r.at)


def next_update_at(level: SeverityLevel | None, now: datetime) -> datetime | None:
    """When the update after this one is due: now + the level's update_every."""
    if level is None or level.update_every is None:
        return None
    return now + level.update_every


def compose_update(alert: Alert, level: SeverityLevel | None, records: Iterable[Record],
                   status: str, impact: str, now: datetime, zone: tzinfo | None) -> str:
    """The status update text (see the module docstring). ``status`` is one of STATUSES
    (ValueError otherwise); an empty ``impact`` falls back to the alert's summary."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    stamp = now.astimezone(zone)
    name = clean_line(alert.name, 200) or "Alert"
    level_name = level.level if level is not None else alert.level
    started = (f"{clock_time(alert.starts_at, zone)} {_zone_name(alert.starts_at, zone)}"
               f" ({format_duration(now - alert.starts_at)} ago)")
    impact_text = _line(impact) or _line(alert.summary) or "being assessed"
    lines = [
        f"[{stamp:%Y-%m-%d %H:%M} {stamp.tzname()}] {name} Incident Update",
        "",
        f"Status: {status}",
        f"Severity: {level_name}, started {started}" if level_name else f"Started: {started}",
        f"Impact: {impact_text}",
        "Actions taken:",
    ]
    actions = update_actions(alert, records, now)
    for record in actions:
        lines.append(f"- {clock_time(record.at, zone)} {_action(record, zone)}")
    if not actions:
        lines.append("- none recorded yet")
    lines.append(f"Next update: {_next_update(level, level_name, status, now, zone)}")
    return "\n".join(lines) + "\n"


def _action(record: Record, zone: tzinfo | None) -> str:
    """``alice: acknowledged``, ``alice noted: ...``; escalations were observed, not done by
    the user who recorded them, so they name nobody."""
    if record.kind is Kind.ESCALATED:
        return describe(record, zone, with_alert=False)
    if record.kind is Kind.NOTE:
        return f"{record.user} noted: {_line(record.text)}"
    return f"{record.user}: {describe(record, zone, with_alert=False)}"


def _next_update(level: SeverityLevel | None, level_name: str, status: str, now: datetime,
                 zone: tzinfo | None) -> str:
    if status == "Resolved":
        return "none, resolved"
    due = next_update_at(level, now)
    if due is None:
        return f"as needed ({level_name or 'this level'} has no update cadence)"
    return f"{clock_time(due, zone)} {_zone_name(due, zone)}"


def _zone_name(at: datetime, zone: tzinfo | None) -> str:
    return at.astimezone(zone).tzname() or ""


def _line(text: str) -> str:
    return " ".join(clean_line(text, 2000).split())
