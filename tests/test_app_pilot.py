import pytest
"""Key flows driven through Textual's Pilot, asserting on state, not pixels."""

from datetime import timedelta

from shiftdeck.screens.detail import DetailScreen
from shiftdeck.screens.help import HelpScreen
from shiftdeck.widgets.alert_detail import AlertDetail
from shiftdeck.widgets.alert_table import AlertTable
from shiftdeck.widgets.source_banner import SourceBanner

from .support.app_factory import SEED_ALERTS, failure, loaded, make_app, report
from .support.factories import NOW
from .support.screen import record_refreshes
from .support.waiting import wait_until


def _names(app):
    by_fp = app.shift.board.alerts
    return [by_fp[fp].name for fp in app.dashboard.visible_alerts]


async def test_table_is_sorted_by_severity_then_age():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert _names(app)[:3] == ["QAWaveBackendDown", "PostgreSQLDown", "FailedAuthSpike"]


async def test_j_and_k_move_the_cursor_and_the_detail_follows():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        detail = app.dashboard.query_one(AlertDetail)
        assert detail.alert.name == "QAWaveBackendDown"
        await pilot.press("j", "j")
        assert detail.alert.name == "FailedAuthSpike"
        await pilot.press("k")
        assert detail.alert.name == "PostgreSQLDown"
        await pilot.press("end")
        assert detail.alert.name == "TaskQueueBackedUp"


@pytest.mark.slow
async def test_filter_narrows_live_and_escape_clears_it():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"namespace=qawave")
        assert set(_names(app)) == {"QAWaveBackendDown", "PostgreSQLDown", "TaskQueueBackedUp"}
        await pilot.press("escape")
        assert len(_names(app)) == len(SEED_ALERTS)


async def test_the_dashboards_show_filter_and_go_to_are_what_others_call():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        disk = next(a.fingerprint for a in SEED_ALERTS if a.name == "DiskSpaceLow")
        app.dashboard.go_to(disk)
        assert app.dashboard.highlighted().fingerprint == disk
        app.dashboard.show_filter("namespace=qawave")
        await pilot.pause()
        assert set(_names(app)) == {"QAWaveBackendDown", "PostgreSQLDown", "TaskQueueBackedUp"}
        assert app.dashboard.query_one("#filter-input").value == "namespace=qawave"


@pytest.mark.slow
async def test_invalid_filter_shows_a_message_and_keeps_the_last_good_filter():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"@state=pending")
        assert _names(app) == ["TaskQueueBackedUp"]
        app.dashboard.query_one("#filter-input").value = '@state=pending severity=~"("'
        await pilot.pause()
        message = app.dashboard.query_one("#filter-message")
        assert "invalid regex" in str(message.render())
        assert _names(app) == ["TaskQueueBackedUp"]


@pytest.mark.slow
async def test_enter_in_filter_returns_to_the_table_keeping_the_filter():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"BackendHighErrorRate", "enter")
        assert isinstance(app.focused, AlertTable)
        assert _names(app) == ["BackendHighErrorRate"]


async def test_g_cycles_grouping():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("g")
        assert app.dashboard.grouping.value == "alertname"
        await pilot.press("g")
        table = app.dashboard.query_one(AlertTable)
        groups = [row.title for row in table.rows if not hasattr(row, "alert")]
        assert groups[:2] == ["qawave", "clipper"]
        await pilot.press("g")
        assert app.dashboard.grouping.value == "none"


async def test_enter_opens_detail_and_escape_returns():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_help_lists_every_dashboard_key():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = " ".join(k for k, _ in app.screen.rows)
        for key in ("/", "g", "q", "?", "t", "^r", "j", "k"):
            assert key in keys.split() or key in keys, key


async def test_failed_source_shows_banner_and_keeps_its_last_data():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app.post_message(failure())
        await pilot.pause()
        banner = app.dashboard.query_one(SourceBanner)
        text = str(banner.render())
        assert banner.display
        # NOW is 14:00 UTC; the seed roster's timezone is Europe/Berlin, as the screen's times
        assert "unreachable (connection refused) since 15:02" in text
        assert "showing data from 15:00" in text
        assert len(_names(app)) == len(SEED_ALERTS)
        app.post_message(report(at=NOW + timedelta(minutes=3)))
        await pilot.pause()
        assert not banner.display


async def test_refresh_with_nothing_changed_mutates_nothing():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        table = app.dashboard.query_one(AlertTable)
        before = table.mutations
        app.post_message(report(at=NOW + timedelta(seconds=15)))
        await pilot.pause()
        assert table.mutations == before


async def test_one_changed_alert_repaints_one_row():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        table = app.dashboard.query_one(AlertTable)
        before = table.mutations
        changed = list(SEED_ALERTS)
        changed[0] = changed[0].__class__(**{**{f: getattr(changed[0], f) for f in
                                                 ("fingerprint", "labels", "state", "starts_at",
                                                  "instances")},
                                              "annotations": {"summary": "now with news"}})
        app.post_message(report(changed))
        await pilot.pause()
        assert table.mutations - before == 1


async def test_a_peer_joining_repaints_no_row_but_the_rows_hold_the_new_alerts():
    """An HA peer's answer changes every alert's instances, which no row shows."""
    from dataclasses import replace
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        table = app.dashboard.query_one(AlertTable)
        before = table.mutations
        joined = [replace(a, instances=(*a.instances, "am1")) for a in SEED_ALERTS]
        app.post_message(report(joined))
        await wait_until(pilot, lambda: "am1" in table.cursor_row.alert.instances)
        assert table.mutations == before


async def test_resolved_alert_stays_visible_as_resolved():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app.post_message(report(SEED_ALERTS[1:], at=NOW + timedelta(minutes=1)))
        await pilot.pause()
        gone = app.shift.board.alerts[SEED_ALERTS[0].fingerprint]
        assert gone.state.value == "resolved"
        assert _names(app)[-1] == "QAWaveBackendDown"


async def test_t_cycles_through_shiftdeck_themes():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "shiftdeck-dark"
        await pilot.press("t")
        assert app.theme == "shiftdeck-light"
        await pilot.press("t")
        assert app.theme == "high-contrast"


async def test_keymap_from_config_remaps_a_binding():
    app = make_app(keymap="{cursor_down: n}")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        assert app.dashboard.query_one(AlertDetail).alert.name == "PostgreSQLDown"


async def test_age_column_repaints_only_when_a_visible_age_changes():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        table = app.dashboard.query_one(AlertTable)
        app.clock.advance(timedelta(seconds=1))  # every visible age is in minutes or hours
        assert not table.refresh_ages()
        app.clock.advance(timedelta(minutes=1))
        assert table.refresh_ages()


async def test_an_age_that_changes_repaints_its_own_cell_not_the_column():
    """A column-high region next to the countdowns made Textual send whole table lines every
    5 s (~12 KB at 120x40): only the cells whose text changed are repainted."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        table = app.dashboard.query_one(AlertTable)
        asked = record_refreshes(table)
        app.clock.advance(timedelta(minutes=1))
        assert table.refresh_ages()
        assert () not in asked  # never the whole table
        repainted = [region for regions in asked for region in regions]
        assert repainted and all(r.height == 1 and r.width < 10 for r in repainted)
        assert len(repainted) <= len(table.rows)


async def test_showing_the_detail_again_unchanged_repaints_nothing():
    """A metric answer forces the detail's redraw: when no line changes, nothing is sent (it
    was a whole-pane write, ~2.5 KB, in the idle second after the first table)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        detail = app.dashboard.query_one(AlertDetail)
        asked = record_refreshes(detail)
        app.dashboard.show_metric(detail.alert.fingerprint, None)
        assert asked == []


async def test_a_hidden_detail_pane_is_not_drawn_to_and_shows_the_cursor_when_back():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        detail = app.dashboard.query_one(AlertDetail)
        first = detail.alert
        await pilot.press("z", "j")
        assert detail.alert is first  # hidden: not repainted for the cursor (nor each second)
        await pilot.press("z")
        assert detail.alert is not first
        assert detail.alert.fingerprint == app.dashboard.query_one(AlertTable).cursor_key


async def test_late_poll_shows_its_age_in_the_header():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        header = app.dashboard.query_one("#header")
        assert "am:am0 ok " in str(header.render()) + " "
        assert "ago" not in str(header.render())
        app.clock.advance(timedelta(minutes=3))
        app.dashboard.tick()
        assert "am:am0 ok 3m ago" in str(header.render())


async def test_large_board_is_built_off_the_event_loop_and_shown():
    from shiftdeck.services.shift_runner import THREADED_FROM as THREADED_REBUILD_FROM

    from .support.factories import make_alert

    many = [make_alert("Storm", "warning", pod=f"p{i}") for i in range(THREADED_REBUILD_FROM + 1)]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(report(many))
        await wait_until(pilot, lambda: len(app.dashboard.visible_alerts) == len(many))
        await pilot.press("j")
        assert app.dashboard.query_one(AlertDetail).alert.name == "Storm"
