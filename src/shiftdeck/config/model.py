"""Config: everything shiftdeck reads from its config file, one declared field per section."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.commands import CommandSettings
from ..domain.escalation import EscalationPolicy, NotifySettings
from ..domain.kube import KubernetesSettings
from ..domain.roster import IcsFeed, Roster
from ..domain.runbooks import RunbookSettings
from ..domain.severity import DEFAULT_POLICY, SeverityPolicy
from ..domain.silences import AckSettings, SilenceSettings
from ..sources.journal import default_journal_path, special_file_kind
from . import alerting, investigate, oncall, upstreams, values
from .declare import setting
from .mask import duration_text, masked_section
from .pagerduty import PagerDuty, parse_pagerduty
from .upstreams import Upstream
from .values import empty_mapping
from .walker import Value

MIN_REFRESH = timedelta(seconds=1)
MAX_REFRESH = timedelta(days=1)
UTC_ZONE = ZoneInfo("UTC")


def default_user(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("USER") or "unknown"


def _parse_refresh(value: Value) -> timedelta:
    refresh = value.duration(MAX_REFRESH)
    if refresh < MIN_REFRESH:
        raise value.error(f"must be at least {duration_text(MIN_REFRESH)}")
    return refresh


def _parse_journal(value: Value) -> Path:
    """A file path: ~ and ${VAR} expanded, relative to the config file's directory. The file
    and its directory are created on the first record."""
    path = value.file_path()
    if path.is_dir():
        raise value.error(f"{path} is a directory: name a file, e.g. {path / 'journal.jsonl'}")
    kind = special_file_kind(path)
    if kind:
        raise value.error(f"{path} is {kind}, not a regular file: name a file, e.g. "
                          f"{path.parent / 'journal.jsonl'}")
    return path


@dataclass(frozen=True, slots=True)
class Config:
    """Everything shiftdeck reads from its config file.

    Each field declares its key, parser and masking in ``metadata`` (see declare.py): the
    allowed keys and ``masked()`` follow from them. Fields without a parser are the on-call
    sections, read together by :func:`oncall.parse_oncall`.
    """

    source: str | None = field(default=None, metadata=setting(in_file=False))
    """Path of the file loaded; None when loaded from a string."""
    user: str = field(default_factory=default_user, metadata=setting(
        parse=Value.nonempty_text, env_default=default_user))
    """Who is at the keyboard: author of acks and silences. Default $USER or "unknown"."""
    title: str = field(default="shiftdeck", metadata=setting(parse=Value.text))
    """Shown in the header."""
    refresh: timedelta = field(default=timedelta(seconds=15),
                               metadata=setting(parse=_parse_refresh))
    """Poll interval for every upstream; at least 1s."""
    alertmanagers: tuple[Upstream, ...] = field(
        default=(), metadata=setting(parse=upstreams.parse_alertmanagers))
    """Alertmanager instances; HA peers share a ``cluster``."""
    prometheus: tuple[Upstream, ...] = field(default=(), metadata=setting(
        parse=upstreams.parse_prometheus, show=upstreams.show_prometheus))
    """Prometheus instances (alerts, rules, expression graphs)."""
    pagerduty: tuple[PagerDuty, ...] = field(
        default=(), metadata=setting(parse=parse_pagerduty))
    """PagerDuty accounts: incidents on the alerts' rows, acks that reach the pager, on-call."""
    severity: SeverityPolicy = field(default=DEFAULT_POLICY, metadata=setting(
        key="severities", parse=alerting.parse_severities, show=alerting.show_severities))
    """Severity levels, first match wins (key ``severities``); replaces the default when given."""
    key_labels: tuple[str, ...] = field(default=("namespace", "service", "pod"),
                                        metadata=setting(parse=alerting.parse_key_labels))
    """Labels shown in the alert table's label column."""
    theme: str = field(default="shiftdeck-dark", metadata=setting(parse=Value.nonempty_text))
    """Theme name (themes/<name>.yaml)."""
    keymap: Mapping[str, str] = field(default_factory=empty_mapping,
                                      metadata=setting(parse=alerting.parse_keymap))
    """Binding id → key(s), e.g. {"ack_alert": "a"}; overrides the default bindings."""
    resolved_retention: timedelta = field(default=timedelta(minutes=10),
                                          metadata=setting(parse=Value.duration))
    """How long resolved alerts stay visible."""
    read_only: bool = field(default=False, metadata=setting(parse=Value.flag))
    """No writes anywhere: dangerous actions are hidden."""
    ack: AckSettings = field(default=AckSettings(), metadata=setting(parse=alerting.parse_ack))
    """Acknowledgements: ACK! silences, their duration and extension (key ``ack``)."""
    silences: SilenceSettings = field(default=SilenceSettings(),
                                      metadata=setting(parse=alerting.parse_silences))
    """Silence guardrails and the 'expiring soon' warning (key ``silences``)."""
    timezone: ZoneInfo = field(default=UTC_ZONE, metadata=setting(parse=values.zone))
    """IANA zone for on-call times: display, rotations, and config times without an offset."""
    roster: Roster = field(default_factory=lambda: Roster({}), metadata=setting(spread=Roster))
    """People, rotations and overrides (keys ``people``, ``rotations``, ``overrides``). ICS
    shifts are not in it: the app and the CLI add them with ``with_shifts`` after a fetch."""
    schedules_ics: tuple[IcsFeed, ...] = field(default=(), metadata=setting())
    """iCalendar feeds of shifts (PagerDuty, Grafana OnCall, Opsgenie...)."""
    escalation: EscalationPolicy = field(default_factory=lambda: EscalationPolicy({}),
                                         metadata=setting(show=oncall.show_escalation))
    """Escalation ladders per severity level (key ``escalation``); none by default."""
    notify: NotifySettings = field(default=NotifySettings(), metadata=setting())
    """Bell, toast and desktop notifications when an alert climbs its ladder."""
    journal: Path = field(default_factory=lambda: default_journal_path(os.environ),
                          metadata=setting(parse=_parse_journal,
                                           env_default=default_journal_path))
    """The shift journal (JSON lines): every ack, silence, command, note, status update and
    alert seen firing or resolved. Default $XDG_STATE_HOME/shiftdeck/journal.jsonl."""
    runbooks: RunbookSettings = field(default=RunbookSettings(),
                                      metadata=setting(parse=investigate.parse_runbooks))
    """Where runbooks are found (key ``runbooks``): dirs, base_url, map. None by default."""
    commands: CommandSettings = field(default=CommandSettings(),
                                      metadata=setting(parse=investigate.parse_commands))
    """Runbook commands (key ``commands``): timeout, read-only and dangerous patterns."""
    kubernetes: KubernetesSettings = field(default=KubernetesSettings(),
                                           metadata=setting(parse=investigate.parse_kubernetes))
    """Kubernetes diagnostics (key ``kubernetes``): kubeconfig, contexts, selectors, timeout."""

    def __post_init__(self) -> None:
        if not isinstance(self.keymap, MappingProxyType):
            object.__setattr__(self, "keymap", MappingProxyType(dict(self.keymap)))

    def masked(self) -> dict[str, Any]:
        """The whole config as plain data (durations as text), every secret replaced by ***."""
        return masked_section(self)
