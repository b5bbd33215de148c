"""The Prometheus client against a real Prometheus evaluating rules on vector(1)."""

from shiftdeck.domain.alerts import AlertState
from shiftdeck.sources.prometheus import PrometheusClient

from .helpers import config_for


async def test_pending_and_firing_alerts_and_rule_expressions(prometheus):
    prometheus.wait_for_alert_state("DemoAlwaysPending", "pending")
    prometheus.wait_for_alert_state("DemoAlwaysFiring", "firing")
    client = PrometheusClient(config_for(prometheus=[prometheus.url]).prometheus[0])
    found = await client.rule_alerts()
    version = await client.version()
    await client.aclose()
    states = {a.name: a.state for a in found.alerts}
    assert states["DemoAlwaysPending"] is AlertState.PENDING
    assert states["DemoAlwaysFiring"] is AlertState.FIRING
    assert "vector(1)" in found.expressions["DemoAlwaysFiring"]
    assert version.startswith("2.")


async def test_query_range_returns_the_series_behind_the_alert(prometheus):
    import asyncio
    from datetime import UTC, datetime, timedelta

    prometheus.wait_for_alert_state("DemoAlwaysFiring", "firing")
    client = PrometheusClient(config_for(prometheus=[prometheus.url]).prometheus[0])
    end = datetime.now(UTC)
    series = await client.query_range("vector(1)", end - timedelta(minutes=5), end,
                                      timedelta(seconds=15))
    history = []
    for _ in range(50):  # ALERTS is written at the rule's next evaluation
        now = datetime.now(UTC)
        history = await client.query_range('ALERTS{alertname="DemoAlwaysFiring"}',
                                           now - timedelta(minutes=5), now, timedelta(seconds=1))
        if history:
            break
        await asyncio.sleep(0.2)
    await client.aclose()
    assert len(series) >= 20 and {v for _, v in series} == {1.0}
    assert history and history[-1][1] == 1.0  # Prometheus's own record of the alert firing
