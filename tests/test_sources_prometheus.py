"""The Prometheus client against a real Prometheus evaluating rules on vector(1)."""

from shiftdeck.domain.alerts import AlertState
from shiftdeck.sources.prometheus import PrometheusClient

from .support.helpers import config_for


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


# -- shape checks: a loopback stub speaking broken Prometheus answers to the real client ------

import json  # noqa: E402

import pytest  # noqa: E402

from shiftdeck.sources.http import SourceError  # noqa: E402

from .support.faults import FaultServer  # noqa: E402


def matrix(*series) -> bytes:
    return json.dumps({"status": "success",
                       "data": {"resultType": "matrix", "result": list(series)}}).encode()


GOOD = [1_700_000_000, "1"]


async def range_from(body: bytes):
    from datetime import UTC, datetime, timedelta

    with FaultServer(answer=(200, "application/json", body)) as server:
        client = PrometheusClient(config_for(prometheus=[server.url]).prometheus[0])
        try:
            end = datetime(2026, 11, 22, tzinfo=UTC)
            return await client.query_range("up", end - timedelta(hours=1), end,
                                            timedelta(minutes=1))
        finally:
            await client.aclose()


@pytest.mark.parametrize("bad", [[1e20, "1"], [-5, "1"], [1, "2", "3"], ["NaN", "1"],
                                 [1_700_000_000, 1.0], [True, "1"], "sample", None])
async def test_bad_samples_are_dropped_and_the_good_ones_kept(bad):
    series = await range_from(matrix({"metric": {}, "values": [bad, GOOD]}))
    assert [v for _, v in series] == [1.0]


async def test_a_nan_timestamp_is_dropped():
    body = (b'{"status":"success","data":{"resultType":"matrix","result":'
            b'[{"metric":{},"values":[[NaN,"1"],[1700000000,"2"]]}]}}')
    # orjson refuses a bare NaN: the whole answer is invalid JSON, a sentence, not a crash.
    with pytest.raises(SourceError, match="invalid or truncated JSON"):
        await range_from(body)


@pytest.mark.parametrize("body, reason", [
    (matrix({"metric": {}, "values": [[1e20, "1"], [1, "2", "3"]]}),
     "none of the series' 2 sample(s) is a [timestamp, \"value\"] pair with a time in 1970-2200"),
    (matrix("not an object", 42), "/api/v1/query_range has no series object"),
    (json.dumps({"status": "success", "data": {"resultType": "matrix", "result": "x"}}).encode(),
     "/api/v1/query_range has no list of result"),
    (json.dumps({"status": "success", "data": [1, 2]}).encode(),
     "/api/v1/query_range did not return a matrix"),
    (json.dumps([1, 2]).encode(), "from /api/v1/query_range: not a Prometheus API envelope"),
])
async def test_an_unusable_range_answer_is_a_sentence(body, reason):
    with pytest.raises(SourceError) as caught:
        await range_from(body)
    assert reason in str(caught.value)


async def test_a_non_object_series_before_a_good_one_is_skipped():
    series = await range_from(matrix(7, {"metric": {}, "values": [GOOD]}))
    assert [v for _, v in series] == [1.0]


@pytest.mark.parametrize("alerts, rules, outcome", [
    ({"alerts": "x"}, {"groups": []}, "/api/v1/alerts has no list of alerts"),
    ({"alerts": []}, {"groups": {"a": 1}}, "/api/v1/rules has no list of groups"),
    ({"alerts": [7, {"labels": {"alertname": "A"}, "activeAt": "2026-11-22T10:00:00Z"}]},
     {"groups": [7, {"rules": "x"}, {"rules": [7, {"name": "A", "query": "up"}]}]}, None),
])
async def test_alerts_and_rules_answers_are_shape_checked(alerts, rules, outcome):
    def envelope(data):
        return json.dumps({"status": "success", "data": data}).encode()

    class Stub(FaultServer):
        def respond(self, method, path, body, headers):
            return 200, "application/json", envelope(alerts if "alerts" in path else rules)

    with Stub() as server:
        client = PrometheusClient(config_for(prometheus=[server.url]).prometheus[0])
        try:
            if outcome:
                with pytest.raises(SourceError, match=outcome):
                    await client.rule_alerts()
            else:
                found = await client.rule_alerts()
                assert [a.name for a in found.alerts] == ["A"] and found.skipped == 1
                assert found.expressions == {"A": "up"}
        finally:
            await client.aclose()


async def test_the_app_survives_a_broken_range_answer():
    """Before: a 1e20 timestamp raised in the metric worker and ended the app."""
    from dataclasses import replace

    from .support.app_factory import SEED_ALERTS, loaded, make_app

    body = matrix({"metric": {}, "values": [[1e20, "1"], [1, "2", "3"]]})
    with FaultServer(answer=(200, "application/json", body)) as server:
        config = config_for(["http://127.0.0.1:9"], prometheus=[server.url], user="alice")
        source = PrometheusClient(config.prometheus[0])
        app = make_app(config=config, sources=[source])
        alert = replace(SEED_ALERTS[0], expression="up")
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot)
            metric = await app.services.metrics.fetch(alert)
            await pilot.pause()
            assert app.is_running
            assert "none of the series' 2 sample(s)" in metric.error
        await source.aclose()
