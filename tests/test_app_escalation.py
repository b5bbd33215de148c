"""Escalation countdowns, the ladder, paging and the on-call screen, with a frozen clock."""

from dataclasses import replace
from datetime import timedelta

import pytest

from shiftdeck.screens.oncall import OnCallScreen
from shiftdeck.widgets.alert_detail import AlertDetail
from shiftdeck.widgets.alert_table import AlertTable

from .support.app_factory import SEED_ALERTS, loaded, make_app, report

BACKEND_DOWN = SEED_ALERTS[0]  # P1, started 12 minutes before NOW: L1 alice, L2 bob in 3 minutes


def _count_bells(app) -> list[int]:
    rings: list[int] = []
    app.bell = lambda: rings.append(1)
    return rings


async def test_p1_shows_who_is_paged_who_is_next_and_the_countdown():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        escalation = app.shift.escalations[BACKEND_DOWN.fingerprint]
        assert (escalation.current.person.id, escalation.next.person.id) == ("alice", "bob")
        assert escalation.next.at - app.clock.now() == timedelta(minutes=3)


async def test_crossing_a_step_rings_the_bell_and_toasts_once():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        rings = _count_bells(app)
        app.clock.advance(timedelta(minutes=3, seconds=1))
        app.tick()
        app.tick()
        await pilot.pause()
        assert rings == [1]
        toasts = [n for n in app.notified if "moved up the ladder" in n]
        assert len(toasts) == 1 and "QAWaveBackendDown" in toasts[0]
        escalation = app.shift.escalations[BACKEND_DOWN.fingerprint]
        assert escalation.current.person.id == "bob"


async def test_a_new_p1_pages_but_the_first_board_does_not():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        rings = _count_bells(app)
        await loaded(pilot)
        assert rings == []
        fresh = replace(BACKEND_DOWN, fingerprint="ffff000000000001",
                        labels={**BACKEND_DOWN.labels, "pod": "backend-2"})
        app.post_message(report((*SEED_ALERTS, fresh)))
        await pilot.pause()
        assert rings == [1]


async def test_bells_are_rate_limited_but_toasts_are_not():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        rings = _count_bells(app)
        app.pager.page("Firing", "one", ["P1"])
        app.pager.page("Firing", "two", ["P1"])
        await pilot.pause()
        assert rings == [1]
        assert list(app.notified)[-2:] == ["one", "two"]


async def test_acked_alert_stops_escalating_and_shows_no_countdown():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        acked = [a for a in SEED_ALERTS if a.name == "BackendHighErrorRate"][0]
        await loaded(pilot)
        escalation = app.shift.escalations[acked.fingerprint]
        assert escalation.stopped and escalation.acked_by == "alice"


async def test_detail_pane_shows_the_ladder_with_names():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        text = str(app.dashboard.query_one(AlertDetail).render())
        assert "Escalation" in text
        assert "L1 +0m" in text and "Alice Ng (@alice)" in text
        assert "L2 +15m" in text and "Bob Okafor (@bob)" in text
        assert "L3 +30m" in text and "Erin Walsh (@erin)" in text


async def test_countdown_ticks_repaint_no_table_rows():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        table = app.dashboard.query_one(AlertTable)
        before = table.mutations
        repainted = []
        for _ in range(4):
            app.clock.advance(timedelta(seconds=1))
            repainted.append(table.refresh_countdowns())
            await pilot.pause()
        # 03:00 ticks every second; 12m and 14m only change when their minute does.
        assert repainted == [3, 1, 1, 1]
        assert table.mutations == before


async def test_O_opens_the_oncall_screen_with_your_next_shift():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("O")
        assert isinstance(app.screen, OnCallScreen)
        text = str(app.screen.query_one("#oncall").render())
        assert "primary" in text and "Alice Ng (@alice)" in text
        assert "Your next shift (alice)" in text
        assert "Next 4 weeks" in text


async def test_no_roster_means_no_escalation_column():
    app = make_app(roster=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert app.shift.escalations == {}
        header = app.dashboard.query_one(AlertTable).render_line(0).text
        assert "ESCALATION" not in header


# slow: a feed failing after the other answered shows at the dashboard's next 5 s tick
@pytest.mark.slow
async def test_an_ics_shift_takes_over_the_role_and_a_missing_feed_shows_a_banner(tmp_path,
                                                                                   monkeypatch):
    from shiftdeck.widgets.source_banner import SourceBanner

    from .support.factories import NOW
    from .support.helpers import ROSTER_YAML, config_for
    from .support.waiting import wait_until
    from .support.ics_feeds import ics, pagerduty_event

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    feed = tmp_path / "pd.ics"
    feed.write_text(ics(pagerduty_event("u1", "20261122T120000Z", "20261123T080000Z",
                                        "Carol Diaz", "carol@example.com")))
    extra = ROSTER_YAML + (f"schedules_ics:\n  - {{role: primary, file: '{feed}', name: pd}}\n"
                           f"  - {{role: secondary, file: '{tmp_path / 'gone.ics'}', name: gone}}\n")
    (tmp_path / "gone.ics").write_text(ics())
    config = config_for(["http://127.0.0.1:9"], extra=extra, refresh="60s")
    (tmp_path / "gone.ics").unlink()  # the feed disappears after start-up
    app = make_app(config=config, poll=True)  # no alert sources: the ICS feeds alone
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.shift.roster.shifts)
        assert app.shift.roster.holder("primary", NOW).id == "carol"
        banner = app.dashboard.query_one(SourceBanner)
        # each feed is its own source: the missing one may fail after the other has answered
        await wait_until(pilot, lambda: "ics gone" in str(banner.render()))


@pytest.mark.slow
async def test_a_live_l1_to_l2_escalation_is_journaled_as_l2():
    from shiftdeck.domain.journal import Kind, describe

    from .support.waiting import wait_until

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        app.clock.advance(timedelta(minutes=3, seconds=1))
        await wait_until(pilot, lambda: any(r.kind is Kind.ESCALATED for r in app.records))
        (record,) = [r for r in app.records if r.kind is Kind.ESCALATED]
        assert record.fingerprint == BACKEND_DOWN.fingerprint
        text = describe(record)
        assert "L2" in text and "L3" not in text and "bob" in text


@pytest.mark.slow
async def test_alerts_firing_when_shiftdeck_starts_are_recorded_once():
    from shiftdeck.domain.journal import Kind

    from .support.waiting import wait_until

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await wait_until(pilot, lambda: any(r.kind is Kind.FIRING for r in app.records))
        fired = {r.fingerprint for r in app.records if r.kind is Kind.FIRING}
        assert BACKEND_DOWN.fingerprint in fired
        pending = [a for a in SEED_ALERTS if a.name == "TaskQueueBackedUp"][0]
        assert pending.fingerprint not in fired
        await wait_until(pilot, lambda: any(r.kind is Kind.FIRING
                                            for r in app.journal.read().records))
    # A second shiftdeck on the same journal does not record them again.
    again = make_app()
    async with again.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        # Read back: the journal's view holds the earlier session's records (a change applied
        # at once, so a record it might cause is already on its way), then every write is done.
        await wait_until(pilot, lambda: sum(r.kind is Kind.FIRING for r in again.records)
                         >= len(fired))
        await again.workers.wait_for_complete()
        on_disk = [r for r in again.journal.read().records if r.kind is Kind.FIRING]
        assert len(on_disk) == len(fired)
