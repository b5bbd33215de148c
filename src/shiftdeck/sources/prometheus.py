"""Prometheus API v1: pending and firing alerts, and the expression behind each alert rule.

Every answer is shape-checked before use: an envelope that is not an object, a `data` of the
wrong type, series that are not objects and samples that are not ``[timestamp, "value"]`` with
a timestamp in 1970-2200 are left out (counted as skipped, or dropped from a series). When
nothing usable is left, the call fails with a SourceError sentence; no answer raises anything
else.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ..domain.alerts import Alert, AlertState, fingerprint
from ..domain.board import SourceReport
from ..domain.intern import CleanCache, clean_map, shared
from ..domain.sanitize import clean
from .http import PROMETHEUS_MAX_BYTES, SourceError, build_client, get_json
from .timeparse import parse_time

LATEST_SAMPLE = datetime(2200, 1, 1, tzinfo=UTC).timestamp()
"""Sample timestamps outside [1970, 2200) are not times Prometheus stores: dropped."""


@dataclass(frozen=True, slots=True)
class RuleAlerts:
    alerts: tuple[Alert, ...]
    expressions: dict[str, str]
    """alertname → PromQL from the alerting rules."""
    skipped: int


def unwrap(payload: Any, what: str = "") -> Any:
    """The `data` of a Prometheus envelope, or SourceError with the server's own reason."""
    if not isinstance(payload, dict) or "status" not in payload:
        where = f" from {what}" if what else ""
        raise SourceError(f"unexpected answer{where}: not a Prometheus API envelope")
    if payload["status"] != "success":
        raise SourceError(f"{clean(payload.get('errorType'), 64)}: {clean(payload.get('error'), 256)}")
    return payload.get("data")


def _listed(data: Any, key: str, what: str) -> list[Any]:
    """data[key] as a list (missing or null: empty); SourceError when it is something else."""
    if data is None:
        return []
    value = data.get(key) if isinstance(data, dict) else None
    if value is None and isinstance(data, dict):
        return []
    if not isinstance(value, list):
        raise SourceError(f"unexpected answer: {what} has no list of {key}")
    return value


def parse_rule_alerts(data: Any, instance: str, previous: Iterable[Alert] = (),
                      cache: CleanCache | None = None) -> tuple[list[Alert], int]:
    """Alerts from /api/v1/alerts. One equal to an alert of `previous` (this instance's last
    answer) is that very object, neither parsed nor fingerprinted again."""
    known = {tuple(a.labels.items()): a for a in previous if a.instances == (instance,)}
    alerts, skipped = [], 0
    for raw in _listed(data, "alerts", "/api/v1/alerts"):
        try:
            seen = _known_alert(known, raw)
            alerts.append(seen if seen is not None and _same_rule_alert(seen, raw)
                          else _rule_alert(raw, instance, cache))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            skipped += 1
    return alerts, skipped


def _rule_alert(raw: Any, instance: str, cache: CleanCache | None) -> Alert:
    labels = clean_map(raw["labels"], cache)
    return Alert(
        fingerprint=fingerprint(labels),
        labels=labels,
        annotations=clean_map(raw.get("annotations"), cache),
        state=AlertState.PENDING if raw.get("state") == "pending" else AlertState.FIRING,
        starts_at=parse_time(raw["activeAt"]),
        instances=shared((instance,), cache),
        value=clean(raw.get("value"), 64),
    )


def _known_alert(known: Mapping[tuple[Any, ...], Alert], raw: Any) -> Alert | None:
    labels = raw.get("labels")
    if not known or not isinstance(labels, dict):
        return None
    try:
        return known.get(tuple(labels.items()))
    except TypeError:  # a value that is not text (unhashable): parsed, never reused
        return None


def _same_rule_alert(seen: Alert, raw: Any) -> bool:
    """True when `raw` would parse to `seen` (its labels already equal): a raw text equal to a
    cleaned one cleans to itself."""
    return ((raw.get("state") == "pending") == (seen.state is AlertState.PENDING)
            and raw.get("value") == seen.value
            and (raw.get("annotations") or {}) == seen.annotations
            and parse_time(raw["activeAt"]) == seen.starts_at)


def parse_rule_expressions(data: Any) -> dict[str, str]:
    expressions: dict[str, str] = {}
    for group in _listed(data, "groups", "/api/v1/rules"):
        rules = group.get("rules") if isinstance(group, dict) else None
        for rule in rules if isinstance(rules, list) else ():
            if (isinstance(rule, dict) and rule.get("type", "alerting") == "alerting"
                    and rule.get("name")):
                expressions[clean(rule["name"], 1024)] = clean(rule.get("query"), 8192)
    return expressions


def parse_series(data: Any) -> list[tuple[datetime, float]]:
    """The first series of a query_range answer as (time, value), bad samples dropped; [] for
    no series. SourceError when the answer is not a matrix, or its series has samples and none
    of them is usable."""
    if data is None:
        return []
    if not isinstance(data, dict) or data.get("resultType", "matrix") != "matrix":
        raise SourceError("unexpected answer: /api/v1/query_range did not return a matrix")
    series = next((s for s in _listed(data, "result", "/api/v1/query_range")
                   if isinstance(s, dict)), None)
    if series is None:
        if data.get("result"):
            raise SourceError("unexpected answer: /api/v1/query_range has no series object")
        return []
    values = series.get("values")
    raw = values if isinstance(values, list) else []
    samples = [sample for item in raw if (sample := _sample(item)) is not None]
    if raw and not samples:
        raise SourceError(f"unexpected answer: none of the series' {len(raw)} sample(s) is a "
                          "[timestamp, \"value\"] pair with a time in 1970-2200")
    return samples


def _sample(item: Any) -> tuple[datetime, float] | None:
    """[timestamp, "value"] with a number timestamp in [1970, 2200); None for anything else."""
    if not isinstance(item, list) or len(item) != 2:
        return None
    stamp, value = item
    if (isinstance(stamp, bool) or not isinstance(stamp, int | float) or not isinstance(value, str)
            or not 0 <= stamp < LATEST_SAMPLE):  # NaN fails every comparison
        return None
    return datetime.fromtimestamp(stamp, UTC), _number(value)


class PrometheusClient:
    kind = "prometheus"

    def __init__(self, upstream: Any, client: httpx.AsyncClient | None = None) -> None:
        self.upstream = upstream
        self.name = upstream.name
        self._client = client or build_client(upstream, PROMETHEUS_MAX_BYTES)
        self._last_alerts: tuple[Alert, ...] = ()
        self._strings = CleanCache()

    @property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client every request goes through (`http.limits(client)`: deadline, cap)."""
        return self._client

    async def rule_alerts(self) -> RuleAlerts:
        """Alerts and rules, fetched concurrently: a poll takes one deadline, not two."""
        alerts_answer, rules_answer = await asyncio.gather(
            get_json(self._client, "/api/v1/alerts"),
            get_json(self._client, "/api/v1/rules", {"type": "alert"}))
        alerts, skipped = parse_rule_alerts(unwrap(alerts_answer, "/api/v1/alerts"), self.name,
                                            self._last_alerts, self._strings)
        expressions = parse_rule_expressions(unwrap(rules_answer, "/api/v1/rules"))
        self._last_alerts = tuple(alerts)
        return RuleAlerts(self._last_alerts, expressions, skipped)

    async def report(self, now: datetime) -> tuple[SourceReport, int]:
        found = await self.rule_alerts()
        return SourceReport(self.name, self.kind, found.alerts, now, found.expressions), found.skipped

    async def query_range(self, expr: str, start: datetime, end: datetime,
                          step: timedelta) -> list[tuple[datetime, float]]:
        """The first series of a range query as (time, value); [] when there is none."""
        data = unwrap(await get_json(self._client, "/api/v1/query_range", {
            "query": expr, "start": start.timestamp(), "end": end.timestamp(),
            "step": step.total_seconds()}), "/api/v1/query_range")
        return parse_series(data)

    async def version(self) -> str:
        data = unwrap(await get_json(self._client, "/api/v1/status/buildinfo"))
        return clean(data.get("version") if isinstance(data, dict) else "", 64)

    async def aclose(self) -> None:
        await self._client.aclose()


def _number(value: object) -> float:
    """Prometheus sends sample values as strings, including "NaN" and "+Inf"."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
