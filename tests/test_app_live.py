import pytest
"""The dashboard polling a real Alertmanager that dies and comes back mid-session."""

import asyncio

from shiftdeck.widgets.source_banner import SourceBanner

from .support.app_factory import make_app
from .support.waiting import wait_until


async def test_banner_appears_when_alertmanager_dies_and_clears_when_it_returns(alertmanager):
    alertmanager.push_alerts([{"labels": {"alertname": "Survivor", "severity": "critical"}}])
    alertmanager.wait_for_alerts(1)
    app = make_app(roster=False, alertmanagers=[alertmanager.url], refresh="1s", live=True)
    async with app.run_test(size=(80, 24)) as pilot:
        names = lambda: {a.name for a in app.shift.board.alerts.values()}  # noqa: E731
        await wait_until(pilot, lambda: "Survivor" in names())
        banner = app.dashboard.query_one(SourceBanner)
        assert not banner.display

        alertmanager.kill()
        await wait_until(pilot, lambda: banner.display)
        assert "unreachable" in str(banner.render())
        assert "Survivor" in names()  # last good data stays on screen, marked stale
        assert app.shift.board.alerts and all(a.state.value == "firing" for a in app.shift.board.alerts.values())

        await asyncio.to_thread(alertmanager.restart)
        alertmanager.push_alerts([{"labels": {"alertname": "Survivor", "severity": "critical"}}])
        await wait_until(pilot, lambda: not banner.display)
        assert "Survivor" in names()


@pytest.mark.slow
async def test_html_login_page_shows_a_banner_and_the_app_keeps_running():
    from .support.faults import FaultServer

    with FaultServer() as server:
        server.fault = "html"
        app = make_app(roster=False, alertmanagers=[server.url], refresh="1s", live=True)
        async with app.run_test(size=(80, 24)) as pilot:
            banner = app.dashboard.query_one(SourceBanner)
            await wait_until(pilot, lambda: banner.display)
            assert "HTML page" in str(banner.render())
            server.fault = None  # the proxy lets the login through again
            await wait_until(pilot, lambda: not banner.display)
            await pilot.press("j", "g", "slash", "x", "escape")  # still responsive


async def test_detail_pane_shows_the_metric_behind_the_alert_from_real_prometheus(prometheus):
    from shiftdeck.widgets.alert_detail import AlertDetail

    prometheus.wait_for_alert_state("DemoAlwaysFiring", "firing")
    app = make_app(roster=False, alertmanagers=[], prometheus=[prometheus.url], refresh="1s",
                   live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = app.dashboard.query_one(AlertDetail)
        await wait_until(pilot, lambda: detail.alert is not None
                         and detail.alert.name == "DemoAlwaysFiring")
        await wait_until(pilot, lambda: "Last hour" in str(detail.render()))
        text = str(detail.render())
        assert "vector(1)" in text
        assert "▁" in text and "now 1" in text  # a flat series of 1s
        assert "Firing, last 24h" in text and "█" in text.split("Firing, last 24h")[1]
