"""Prometheus API v1: pending and firing alerts, and the expression behind each alert rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

import math
from datetime import UTC, datetime, timedelta

from ..domain.alerts import Alert, AlertState, fingerprint
from ..domain.board import SourceReport
from ..domain.sanitize import clean, clean_mapping
from .http import SourceError, build_client, get_json
from .timeparse import parse_time


@dataclass(frozen=True, slots=True)
class RuleAlerts:
    alerts: tuple[Alert, ...]
    expressions: dict[str, str]
    """alertname → PromQL from the alerting rules."""
    skipped: int


def unwrap(payload: Any) -> Any:
    """The `data` of a Prometheus envelope, or SourceError with the server's own reason."""
    if not isinstance(payload, dict) or "status" not in payload:
        raise SourceError("unexpected answer: not a Prometheus API envelope")
    if payload["status"] != "success":
        raise SourceError(f"{clean(payload.get('errorType'), 64)}: {clean(payload.get('error'), 256)}")
    return payload.get("data")


def parse_rule_alerts(data: Any, instance: str) -> tuple[list[Alert], int]:
    alerts, skipped = [], 0
    for raw in (data or {}).get("alerts") or ():
        try:
            labels = clean_mapping(raw["labels"], intern=True)
            state = AlertState.PENDING if raw.get("state") == "pending" else AlertState.FIRING
            alerts.append(Alert(
                fingerprint=fingerprint(labels),
                labels=labels,
                annotations=clean_mapping(raw.get("annotations")),
                state=state,
                starts_at=parse_time(raw["activeAt"]),
                instances=(instance,),
                value=clean(raw.get("value"), 64),
            ))
        except (KeyError, TypeError, ValueError, AttributeError):
            skipped += 1
    return alerts, skipped


def parse_rule_expressions(data: Any) -> dict[str, str]:
    expressions: dict[str, str] = {}
    for group in (data or {}).get("groups") or ():
        for rule in group.get("rules") or ():
            if rule.get("type", "alerting") == "alerting" and rule.get("name"):
                expressions[clean(rule["name"], 1024)] = clean(rule.get("query"), 8192)
    return expressions


class PrometheusClient:
    kind = "prometheus"

    def __init__(self, upstream: Any, client: httpx.AsyncClient | None = None) -> None:
        self.upstream = upstream
        self.name = upstream.name
        self._client = client or build_client(upstream)

    async def rule_alerts(self) -> RuleAlerts:
        alerts_data = unwrap(await get_json(self._client, "/api/v1/alerts"))
        rules_data = unwrap(await get_json(self._client, "/api/v1/rules", {"type": "alert"}))
        alerts, skipped = parse_rule_alerts(alerts_data, self.name)
        return RuleAlerts(tuple(alerts), parse_rule_expressions(rules_data), skipped)

    async def report(self, now: datetime) -> tuple[SourceReport, int]:
        found = await self.rule_alerts()
        return SourceReport(self.name, self.kind, found.alerts, now, found.expressions), found.skipped

    async def query_range(self, expr: str, start: datetime, end: datetime,
                          step: timedelta) -> list[tuple[datetime, float]]:
        """The first series of a range query as (time, value); [] when there is none."""
        data = unwrap(await get_json(self._client, "/api/v1/query_range", {
            "query": expr, "start": start.timestamp(), "end": end.timestamp(),
            "step": step.total_seconds()}))
        result = (data or {}).get("result") or []
        if not result:
            return []
        return [(datetime.fromtimestamp(float(t), UTC), _number(v))
                for t, v in result[0].get("values") or ()]

    async def version(self) -> str:
        data = unwrap(await get_json(self._client, "/api/v1/status/buildinfo"))
        return clean((data or {}).get("version"), 64)

    async def aclose(self) -> None:
        await self._client.aclose()


def _number(value: object) -> float:
    """Prometheus sends sample values as strings, including "NaN" and "+Inf"."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
