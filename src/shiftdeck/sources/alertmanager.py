"""Alertmanager API v2: alerts, silences, status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from datetime import datetime

from ..domain.alerts import Alert, AlertState, fingerprint
from ..domain.board import SourceReport
from ..domain.sanitize import clean, clean_mapping
from .http import SourceError, build_client, get_json
from .timeparse import parse_time


@dataclass(frozen=True, slots=True)
class AlertBatch:
    alerts: tuple[Alert, ...]
    skipped: int
    """Malformed items left out."""


@dataclass(frozen=True, slots=True)
class AlertmanagerStatus:
    version: str
    cluster_name: str
    cluster_status: str
    peers: int


def parse_alerts(payload: Any, instance: str) -> AlertBatch:
    """Alerts from a /api/v2/alerts answer; malformed items are skipped and counted."""
    if not isinstance(payload, list):
        raise SourceError("unexpected answer: /api/v2/alerts did not return a list")
    alerts, skipped = [], 0
    for raw in payload:
        try:
            alerts.append(parse_alert(raw, instance))
        except (KeyError, TypeError, ValueError, AttributeError):
            skipped += 1
    return AlertBatch(tuple(alerts), skipped)


def parse_alert(raw: dict[str, Any], instance: str) -> Alert:
    labels = clean_mapping(raw["labels"])
    if not labels:
        raise ValueError("alert without labels")
    status = raw.get("status") or {}
    silenced = tuple(clean(s, 64) for s in status.get("silencedBy") or ())
    inhibited = tuple(clean(s, 64) for s in status.get("inhibitedBy") or ())
    return Alert(
        fingerprint=clean(raw.get("fingerprint"), 64) or fingerprint(labels),
        labels=labels,
        annotations=clean_mapping(raw.get("annotations")),
        state=_state(status.get("state"), silenced, inhibited),
        starts_at=parse_time(raw["startsAt"]),
        instances=(instance,),
        generator_url=clean(raw.get("generatorURL"), 8192),
        silenced_by=silenced,
        inhibited_by=inhibited,
        receivers=tuple(clean(r.get("name"), 256) for r in raw.get("receivers") or ()),
    )


def _state(state: object, silenced: tuple[str, ...], inhibited: tuple[str, ...]) -> AlertState:
    if state == "suppressed":
        return AlertState.SILENCED if silenced or not inhibited else AlertState.INHIBITED
    return AlertState.FIRING


class AlertmanagerClient:
    """One Alertmanager instance. `instance` names it in the UI, e.g. 'prod/am-1'."""

    kind = "alertmanager"

    def __init__(self, upstream: Any, client: httpx.AsyncClient | None = None) -> None:
        self.upstream = upstream
        self.name = upstream.name
        self.cluster = upstream.cluster
        self._client = client or build_client(upstream)

    async def alerts(self) -> AlertBatch:
        payload = await get_json(self._client, "/api/v2/alerts")
        return parse_alerts(payload, self.name)

    async def report(self, now: datetime) -> tuple[SourceReport, int]:
        batch = await self.alerts()
        return SourceReport(self.name, self.kind, batch.alerts, now), batch.skipped

    async def status(self) -> AlertmanagerStatus:
        payload = await get_json(self._client, "/api/v2/status")
        if not isinstance(payload, dict):
            raise SourceError("unexpected answer: /api/v2/status is not an object")
        cluster = payload.get("cluster") or {}
        return AlertmanagerStatus(
            version=clean((payload.get("versionInfo") or {}).get("version"), 64),
            cluster_name=clean(cluster.get("name"), 128),
            cluster_status=clean(cluster.get("status"), 32),
            peers=len(cluster.get("peers") or ()),
        )

    async def aclose(self) -> None:
        await self._client.aclose()
