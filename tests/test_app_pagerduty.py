"""PagerDuty in the TUI, against a real Alertmanager and the loopback PagerDuty API (shapes from
PagerDuty's OpenAPI): the page's status and clock on the alert's row, `a` acknowledging the
incident too, `R` and `Z`, the badge and banner, the on-call view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from shiftdeck.app import ShiftdeckApp
from shiftdeck.clock import FrozenClock
from shiftdeck.domain.journal import PagerAcked, PagerResolved, PagerSnoozed
from shiftdeck.screens.confirm import ConfirmScreen
from shiftdeck.screens.oncall import OnCallScreen
from shiftdeck.screens.snooze import SnoozeScreen
from shiftdeck.widgets.alert_table import AlertTable

from .support.app_factory import SEED_ALERTS, loaded, make_app
from .support.factories import NOW
from .support.screen import screen_text
from .support.pagerduty import POLICY, TestPagerDuty, account_yaml, backend_alert, serving
from .support.waiting import wait_until, writes_done

pytestmark = pytest.mark.timeout(90)
PD_KEY = "pagerduty/pd"
POD = backend_alert("backend-0")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def api(clock: FrozenClock) -> TestPagerDuty:
    return TestPagerDuty(clock)


@pytest.fixture
def pd_url(api: TestPagerDuty) -> Iterator[str]:
    with serving(api) as url:
        yield url


def _app(am, pd_url: str, clock: FrozenClock, **config) -> ShiftdeckApp:
    return make_app(alertmanagers=[am.url], live=True, clock=clock,
                    extra=account_yaml(pd_url), **{"refresh": "1s", **config})


def _row_text(app: ShiftdeckApp, key: str) -> str:
    table = app.dashboard.query_one(AlertTable)
    index = [row.key for row in table.rows].index(key)
    return table.render_line(index + 1 - int(table.scroll_offset.y)).text


def _fingerprint(app: ShiftdeckApp, name: str) -> str:
    return next(fp for fp, a in app.shift.board.alerts.items() if a.name == name)


async def _paged(pilot, app: ShiftdeckApp) -> str:
    """Wait until the alert shows with its incident; its fingerprint."""
    await wait_until(pilot, lambda: app.shift.pages.by_fingerprint)
    return next(iter(app.shift.pages.by_fingerprint))


def _incident_reads(api: TestPagerDuty) -> int:
    return sum(1 for path in api.paths() if path == "/incidents")


async def _polled_twice(pilot, api: TestPagerDuty) -> None:
    """Two more polls of PagerDuty begun, so one more was taken in whole (polls never overlap;
    the clock is frozen, so they are counted at the API): whatever a key press would have
    written has had its chance to be written."""
    asked = _incident_reads(api) + 2
    await wait_until(pilot, lambda: _incident_reads(api) >= asked)


@pytest.fixture
def paging(alertmanager, api: TestPagerDuty) -> str:
    """BackendDown firing in Alertmanager, and its incident in PagerDuty (as the notifier
    makes it): the incident's id."""
    alertmanager.push_alerts([{"labels": POD}])
    alertmanager.wait_for_alerts(1)
    return api.trigger([POD], service="PSVC", policy=POLICY.id)


async def test_a_correlated_alert_shows_the_pages_status_and_exact_escalation_time(
        alertmanager, api, pd_url, clock, paging) -> None:
    app = _app(alertmanager, pd_url, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        fingerprint = await _paged(pilot, app)
        incident = app.shift.pages.by_fingerprint[fingerprint]
        assert incident.id == paging
        assert incident.next_escalation_at == NOW + timedelta(minutes=15)  # POLICY's level 1
        assert fingerprint not in app.shift.escalations  # PagerDuty's clock, not the model's
        clock.advance(timedelta(minutes=10, seconds=50))
        await wait_until(pilot, lambda: "PD 4m10s" in _row_text(app, fingerprint))
        assert "paging Alice" in _row_text(app, fingerprint)


async def test_a_acknowledges_the_incident_too_and_the_countdown_stops(
        alertmanager, api, pd_url, clock, paging) -> None:
    app = _app(alertmanager, pd_url, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        fingerprint = await _paged(pilot, app)
        await pilot.press("a")
        await writes_done(pilot, app)
        assert api.incidents[paging].status == "acknowledged"
        assert api.writes == [("PUT", "/incidents", "alice@example.com")]
        (silence,) = alertmanager.silences()
        assert silence["comment"].startswith("ACK! alice")
        # the next poll brings "acknowledged": no countdown, who acknowledged
        await wait_until(pilot, lambda: "ack Alice" in _row_text(app, fingerprint))
        assert "PD " not in _row_text(app, fingerprint)
        assert any("PagerDuty incident #1 PINC0001 acknowledged" in n for n in app.notified)
        acked = [r for r in app.records if isinstance(r, PagerAcked)]
        assert [(r.incident, r.fingerprint) for r in acked] == [(paging, fingerprint)]


async def test_an_ack_whose_pagerduty_half_fails_says_which(
        alertmanager, api, pd_url, clock, paging) -> None:
    app = _app(alertmanager, pd_url, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await _paged(pilot, app)
        api.rate_limited = 1  # the write is answered 429: writes never wait
        api.retry_after = "30"
        await pilot.press("a")
        await writes_done(pilot, app)
        told = next(n for n in app.notified if n.startswith("Ack 1 alert(s)"))
        assert "ACK! silence written; PagerDuty ack failed: #1 PINC0001: rate limited" in told
        assert "Press a to retry" in told
    assert api.incidents[paging].status == "triggered"
    assert len(alertmanager.silences()) == 1


async def test_R_resolves_the_incident_after_y_and_not_after_n(
        alertmanager, api, pd_url, clock, paging) -> None:
    app = _app(alertmanager, pd_url, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await _paged(pilot, app)
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        await _polled_twice(pilot, api)
        assert api.writes == [] and api.incidents[paging].status == "triggered"
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await writes_done(pilot, app)
        assert api.incidents[paging].status == "resolved"
        assert [type(r) for r in app.records if isinstance(r, PagerAcked)] == [PagerResolved]


async def test_Z_snoozes_an_acknowledged_incident_for_the_chosen_preset(
        alertmanager, api, pd_url, clock, paging) -> None:
    app = _app(alertmanager, pd_url, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        fingerprint = await _paged(pilot, app)
        await pilot.press("a")
        await writes_done(pilot, app)
        await wait_until(pilot, lambda: app.shift.pages.by_fingerprint[fingerprint].status
                         == "acknowledged")
        await pilot.press("Z")
        await wait_until(pilot, lambda: isinstance(app.screen, SnoozeScreen))
        await pilot.press("2")  # 30m
        await writes_done(pilot, app)
    assert api.writes[-1][:2] == ("POST", f"/incidents/{paging}/snooze")
    assert api.incidents[paging].unack_at == NOW + timedelta(minutes=30)
    (snoozed,) = [r for r in app.records if isinstance(r, PagerSnoozed)]
    assert snoozed.duration == timedelta(minutes=30)


async def test_pagerduty_down_is_a_banner_and_alertmanager_keeps_being_shown(
        alertmanager, clock) -> None:
    from shiftdeck.widgets.source_banner import SourceBanner
    from .support.servers import free_port
    alertmanager.push_alerts([{"labels": POD}])
    alertmanager.wait_for_alerts(1)
    app = _app(alertmanager, f"http://127.0.0.1:{free_port()}", clock)
    async with app.run_test(size=(100, 30)) as pilot:
        banner = app.dashboard.query_one(SourceBanner)
        await wait_until(pilot, lambda: "pagerduty pd" in str(banner.render()))
        assert "unreachable" in app.sources.health[PD_KEY].error
        await wait_until(pilot, lambda: [a.name for a in app.shift.board.alerts.values()]
                         == ["BackendDown"])
        await wait_until(pilot, lambda: "pd:pd down" in screen_text(app))  # the header badge
        assert "am:am0 ok" in screen_text(app)


async def test_read_only_refuses_the_ack_and_the_pager_writes(
        alertmanager, api, pd_url, clock, paging) -> None:
    app = _app(alertmanager, pd_url, clock, read_only="true")
    async with app.run_test(size=(100, 30)) as pilot:
        await _paged(pilot, app)
        await pilot.press("a", "R", "Z")
        await _polled_twice(pilot, api)
        assert app.screen is app.dashboard
    assert api.writes == [] and alertmanager.silences() == []


async def test_an_incident_with_no_alert_is_a_row_of_its_own_and_a_acks_it_alone(
        alertmanager, api, pd_url, clock) -> None:
    lone = api.trigger([{"alertname": "NotInAlertmanager", "pod": "x"}], service="PSVC",
                       policy=POLICY.id)
    app = _app(alertmanager, pd_url, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.shift.pages.unmatched)
        key = "pagerduty:pd/" + lone
        await wait_until(pilot, lambda: app.dashboard.query_one(AlertTable).cursor_key == key)
        assert "triggered" in _row_text(app, key) and "PD 15m" in _row_text(app, key)
        await pilot.press("a")
        await writes_done(pilot, app)
    assert api.incidents[lone].status == "acknowledged"
    assert alertmanager.silences() == []


async def test_the_oncall_view_holds_pagerduty_s_oncalls(alertmanager, api, pd_url,
                                                        clock) -> None:
    app = _app(alertmanager, pd_url, clock)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: app.shift.roster.holder("pd-L3", NOW) is not None)
        assert app.shift.roster.holder("pd-L3", NOW).id == "carol"  # POLICY's level 3
        await pilot.press("O")
        await wait_until(pilot, lambda: isinstance(app.screen, OnCallScreen))
        assert "pd-L3" in screen_text(app) and "Carol Diaz" in screen_text(app)


def _incident_lines(detail) -> str:
    """The detail's text; it never carries a link (PagerDuty's url is untrusted)."""
    content = detail.render()
    assert not any("link" in str(span.style) for span in content.spans)
    return str(content)


async def test_the_detail_pane_and_screen_show_the_alerts_incident(
        alertmanager, api, pd_url, clock, paging) -> None:
    from shiftdeck.screens.detail import DetailScreen
    from shiftdeck.widgets.alert_detail import AlertDetail
    app = _app(alertmanager, pd_url, clock)
    async with app.run_test(size=(100, 40)) as pilot:
        fingerprint = await _paged(pilot, app)
        incident = app.shift.pages.by_fingerprint[fingerprint]
        clock.advance(timedelta(minutes=10, seconds=50))
        pane = app.dashboard.query_one(AlertDetail)
        await wait_until(pilot, lambda: "15:15 (in 4m10s)" in _incident_lines(pane))
        text = _incident_lines(pane)  # 14:15 UTC is 15:15 in the config's Europe/Berlin
        assert "#1 PINC0001" in text and "triggered" in text
        assert "assigned to = Alice" in text
        assert incident.html_url and incident.html_url in text
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen))
        full = app.screen.query_one(AlertDetail)
        await wait_until(pilot, lambda: "#1 PINC0001" in _incident_lines(full))
        assert "15:15 (in 4m10s)" in _incident_lines(full)
        await pilot.press("escape", "a")
        await writes_done(pilot, app)
        await wait_until(pilot, lambda: "acknowledged by = Alice" in _incident_lines(pane))
        assert "in 4m" not in _incident_lines(pane)  # acknowledged: no escalation pending


# -- the dashboard's detail (asked by the detail screens' helper) ------------------------- #

async def test_enter_opens_the_detail_with_the_alerts_notes() -> None:
    from shiftdeck.screens.detail import DetailScreen
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        alert = app.shift.board.alerts[app.dashboard.query_one(AlertTable).cursor_key]
        app.requests.note(alert, "restarted the backend pods")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await wait_until(pilot, lambda: "restarted the backend pods" in screen_text(app))


@pytest.mark.slow
async def test_the_detail_panes_age_ticks_with_the_clock() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, SEED_ALERTS[:1])  # fired 12 minutes before NOW
        await wait_until(pilot, lambda: "for 12m" in screen_text(app))
        app.clock.advance(timedelta(minutes=1))  # no escalation step falls due meanwhile
        await wait_until(pilot, lambda: "for 13m" in screen_text(app), timeout=5)
