"""The metric behind an alert: its last hour and its firing history, cached for a minute."""

from __future__ import annotations

import asyncio
from collections.abc import Container, Sequence
from datetime import timedelta

from ..clock import Clock
from ..domain.alerts import Alert
from ..domain.metric import MetricHistory, alerts_selector
from ..sources.http import SourceError
from ..sources.prometheus import PrometheusClient

TTL = timedelta(seconds=60)


class MetricFetcher:
    def __init__(self, prometheus: Sequence[PrometheusClient], clock: Clock) -> None:
        self._prometheus = list(prometheus)
        self._clock = clock
        self.cache: dict[str, MetricHistory] = {}

    def cached(self, alert: Alert) -> MetricHistory | None:
        metric = self.cache.get(alert.fingerprint)
        if metric is not None and self._clock.now() - metric.fetched_at < TTL:
            return metric
        return None

    def prune(self, alive: Container[str]) -> None:
        """Forget the metrics of alerts no longer on the board (a storm would grow the cache)."""
        for fingerprint in [fp for fp in self.cache if fp not in alive]:
            del self.cache[fingerprint]

    def can_fetch(self, alert: Alert) -> bool:
        return bool(alert.promql and self._prometheus)

    async def fetch(self, alert: Alert) -> MetricHistory:
        mine = [p for p in self._prometheus if p.name in alert.instances]
        prometheus = (mine or self._prometheus)[0]
        now = self._clock.now()
        try:
            hour, history = await asyncio.gather(
                prometheus.query_range(alert.promql, now - timedelta(hours=1), now,
                                       timedelta(minutes=1)),
                prometheus.query_range(alerts_selector(alert.labels), now - timedelta(hours=24),
                                       now, timedelta(minutes=10)))
            metric = MetricHistory(alert.promql, tuple(hour),
                                   tuple(t for t, v in history if v > 0), now)
        except SourceError as err:
            metric = MetricHistory(alert.promql, (), (), now, error=str(err))
        self.cache[alert.fingerprint] = metric
        return metric
