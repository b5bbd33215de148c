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
