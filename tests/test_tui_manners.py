"""The TUI's manners: moving around like k9s, quitting and going back, messages that say what is
wrong. Driven through Pilot, asserting on state and on what the user is told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shiftdeck.domain.health import Health, SourceHealth
from shiftdeck.screens.confirm import ConfirmScreen
from shiftdeck.screens.detail import DetailScreen
from shiftdeck.screens.prompt import PromptScreen
from shiftdeck.screens.silence_form import SilenceForm
from shiftdeck.screens.silences import SilencesScreen
from shiftdeck.widgets.source_banner import banner_line

from .support.app_factory import SEED_ALERTS, SEED_SILENCES, loaded, make_app, report
from .support.factories import NOW
from .support.faults import FaultProxy
from .support.waiting import wait_until, writes_done

CRITICAL = {"alertname": "BackendDown", "severity": "critical", "namespace": "qawave"}


def _names(app) -> list[str]:
    return [app.shift.board.alerts[fp].name for fp in app.dashboard.visible_alerts]


def _quit(app) -> bool:
    return app.return_code is not None


def _silence_ids_in_order() -> list[str]:
    return [s.id for s in sorted(SEED_SILENCES, key=lambda s: s.ends_at)]


@pytest.mark.slow
async def test_expire_confirm_names_the_highlighted_silence_after_home_and_down():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("S")
        screen = app.screen
        assert isinstance(screen, SilencesScreen)
        await pilot.press("end", "home", "down")
        second = _silence_ids_in_order()[1]
        assert screen.highlighted is not None and screen.highlighted.id == second
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        body = str(app.screen.query_one("#confirm-body").render())
        assert second in body


@pytest.mark.slow
async def test_the_highlighted_silence_stays_highlighted_when_a_poll_reorders_the_list():
    from datetime import timedelta

    from shiftdeck.domain.matchers import make_matcher
    from shiftdeck.domain.silences import Silence, SilenceState

    from .support.app_factory import report
    from .support.factories import NOW

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("S", "home", "down")
        screen = app.screen
        chosen = _silence_ids_in_order()[1]
        assert screen.highlighted.id == chosen
        sooner = Silence("0b0b0b0b-0000-4000-8000-000000000009",
                         (make_matcher("job", "=", "batch"),), NOW - timedelta(minutes=1),
                         NOW + timedelta(minutes=2), "erin", "batch rerun",
                         SilenceState.ACTIVE, "test")
        app.post_message(report(silences=(*SEED_SILENCES, sooner), at=NOW))
        await pilot.pause()
        assert len(screen.rows) == 4
        assert screen.highlighted.id == chosen
        await pilot.press("x")
        assert chosen in str(app.screen.query_one("#confirm-body").render())


# -- quit and back ---------------------------------------------------------------------------

async def test_q_on_the_dashboard_quits_at_once():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("q")
        assert _quit(app)


@pytest.mark.parametrize("key", ["q", "escape"])
@pytest.mark.slow
async def test_q_and_escape_on_a_sub_screen_go_back(key):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("S")
        assert isinstance(app.screen, SilencesScreen)
        await pilot.press(key)
        assert app.screen is app.dashboard and not _quit(app)
        await pilot.press("enter", key)
        assert app.screen is app.dashboard and not _quit(app)


async def test_ctrl_c_quits_from_a_sub_screen():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("ctrl+c")
        assert _quit(app)


@pytest.mark.slow
async def test_q_is_a_letter_in_the_filter_and_in_a_prompt():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"namespace=qawave")
        assert app.dashboard.query_one("#filter-input").value == "namespace=qawave"
        await pilot.press("enter", "n", *"q1")
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one("#prompt-input").value == "q1"
        assert not _quit(app)


async def test_quitting_with_a_write_in_flight_asks_first(alertmanager):
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    with FaultProxy(alertmanager.url, delay=30) as proxy:
        app = make_app(roster=False, alertmanagers=[proxy.url], live=True, refresh="60s")
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: len(app.shift.board.alerts) == 1)
            proxy.fault = "slow"  # the ack's requests are held
            await pilot.press("a")
            await wait_until(pilot, lambda: app.requests.busy)
            await pilot.press("q")
            assert isinstance(app.screen, ConfirmScreen) and not _quit(app)
            assert "Ack 1 alert(s)" in str(app.screen.query_one("#confirm-body").render())
            await pilot.press("n")
            assert app.screen is app.dashboard and not _quit(app)
            await pilot.press("ctrl+c", "y")
            assert _quit(app)
            proxy.fault = None


async def test_quitting_with_no_write_in_flight_does_not_ask(alertmanager):
    alertmanager.push_alerts([{"labels": CRITICAL}])
    alertmanager.wait_for_alerts(1)
    app = make_app(roster=False, alertmanagers=[alertmanager.url], live=True, refresh="60s")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: len(app.shift.board.alerts) == 1)
        await pilot.press("a")
        await wait_until(pilot, lambda: any("Ack 1 alert(s)" in n for n in app.notified))
        await writes_done(pilot, app)
        assert not app.requests.busy
        await pilot.press("q")
        assert _quit(app)


# -- the silences screen ---------------------------------------------------------------------

@pytest.mark.slow
async def test_j_k_home_end_move_on_the_silences_screen():
    app = make_app()
    ids = _silence_ids_in_order()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("S")
        screen = app.screen
        await pilot.press("j")
        assert screen.highlighted.id == ids[1]
        await pilot.press("end")
        assert screen.highlighted.id == ids[-1]
        await pilot.press("k")
        assert screen.highlighted.id == ids[-2]
        await pilot.press("home")
        assert screen.highlighted.id == ids[0]


async def test_a_tick_landing_while_the_silences_screen_is_pushed_is_harmless():
    # The app's 1 s tick can fall between push_screen and the screen's first compose.
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app.dashboard.action_show_silences()
        app.tick()
        await pilot.pause()
        assert isinstance(app.screen, SilencesScreen)
        assert len(app.screen.rows) == len(SEED_SILENCES)


async def test_ends_in_counts_down_with_the_clock_repainting_only_changed_cells():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("S")
        screen = app.screen
        table = screen.query_one("#silences-table")
        ack = SEED_SILENCES[0].id  # ends in 6m: shown as 6m, then 5m59s
        assert str(table.get_cell(ack, "ends in")) == "6m"
        app.clock.advance(timedelta(seconds=1))
        app.tick()
        assert str(table.get_cell(ack, "ends in")) == "5m59s"
        assert screen.show_time(app.clock.now()) == 0  # nothing changed since: nothing repainted


@pytest.mark.slow
async def test_enter_on_a_silence_shows_its_alerts_on_the_dashboard():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("S")
        screen = app.screen
        for _ in range(len(SEED_SILENCES)):  # down to the maintenance silence
            if screen.highlighted.id == SEED_SILENCES[1].id:
                break
            await pilot.press("j")
        await pilot.press("enter")
        assert app.screen is app.dashboard
        assert _names(app) == ["HighMemoryUsage"]
        assert app.dashboard.query_one("#filter-input").value == \
            'namespace="profile" service=~"worker|api"'


# -- messages that say what is wrong ---------------------------------------------------------

@pytest.mark.slow
async def test_an_unknown_state_in_the_filter_says_which_states_exist_in_full_at_80_columns():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"@state=bogus")
        message = app.dashboard.query_one("#filter-message")
        expected = ("@state=bogus: no such state; use one of: acked, firing, pending, silenced, "
                    "muted, inhibited, resolved")
        assert str(message.render()) == expected
        bar = app.dashboard.query_one("#filter")
        assert message.region.width * message.region.height >= len(expected)
        assert bar.region.contains_region(message.region)  # none of it cut off by the bar
        assert app.screen.region.contains_region(bar.region)
        assert len(_names(app)) == len(SEED_ALERTS)  # the last good filter (none) stays


@pytest.mark.slow
async def test_an_unknown_level_in_the_filter_names_the_configured_levels():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"@level=P9")
        message = str(app.dashboard.query_one("#filter-message").render())
        assert message.startswith("@level=P9: no such level; use one of: P1, P2")


@pytest.mark.slow
async def test_silence_form_start_tomorrow_says_what_a_time_looks_like():
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("s")
        form = app.screen
        assert isinstance(form, SilenceForm)
        form.query_one("#starts").value = "tomorrow"
        await pilot.pause()
        refusal = str(form.query_one("#form-refusal").render())
        assert "not a time: 'tomorrow' (use +30m or e.g. 2026-11-22T18:00Z)" in refusal
        assert "isoformat" not in refusal


def test_the_banner_says_since_when_in_the_configured_zone():
    from zoneinfo import ZoneInfo

    source = SourceHealth("am0", "alertmanager", last_ok=NOW,
                          failing_since=NOW + timedelta(minutes=2), error="unreachable")
    assert source.health is Health.STALE
    line = str(banner_line(source, ZoneInfo("Europe/Berlin")))
    assert "since 15:02" in line and "showing data from 15:00" in line  # NOW is 14:00 UTC


async def test_the_dashboards_banner_says_since_when_in_the_configs_zone():
    from .support.app_factory import failure

    app = make_app(roster=False, timezone="Asia/Kolkata")  # UTC+5:30: no other zone matches
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app.post_message(failure(at=NOW + timedelta(minutes=2)))
        await wait_until(pilot, lambda: app.dashboard.query_one("#banner").display)
        text = str(app.dashboard.query_one("#banner").render())
    assert "since 19:32 — showing data from 19:30" in text  # NOW is 14:00 UTC


@pytest.mark.slow
async def test_tab_moves_into_the_detail_pane_to_scroll_it_and_back_and_help_says_so():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        pane, table = app.dashboard.query_one("#detail-pane"), app.dashboard.query_one("#alerts")
        first = table.cursor_key
        await pilot.press("tab")
        assert app.focused is pane
        await pilot.press("down", "down")
        assert pane.scroll_y == 2 and table.cursor_key == first
        await pilot.press("tab")
        assert app.focused is table
        await pilot.press("question_mark")
        assert ("tab", "Into the detail pane and back (scroll it with the arrows)") \
            in app.screen.rows


# -- help --------------------------------------------------------------------------------------

async def test_help_groups_shiftdecks_keys_and_leaves_textual_internals_out():
    from shiftdeck.screens.help import HelpScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        titles = [title for title, _ in screen.sections]
        assert titles[:3] == ["Move around", "Find", "Investigate"] and titles[-1] == "Everywhere"
        rows = dict((text, keys) for keys, text in screen.rows)
        assert rows["Next alert"] == "↓ j" or rows["Next alert"].split() == ["↓", "j"]
        assert rows["List silences"] == "S"
        assert rows["Quit shiftdeck (on the dashboard)"] == "q"
        words = " ".join(text for _, text in screen.rows)
        for internal in ("Page Left", "Scroll Right", "Focus Next", "Copy selected text"):
            assert internal not in words


@pytest.mark.slow
async def test_help_shows_the_keymap_and_the_current_screens_keys_first():
    from shiftdeck.screens.help import HelpScreen

    app = make_app(keymap="{cursor_down: 'n', expire_silence: 'X'}")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("S", "question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        first_title, first_rows = screen.sections[0]
        assert first_title == "Move around" and ("escape", "Back to the dashboard") in [
            (k.replace("esc", "escape"), t) for k, t in first_rows]
        rows = dict((text, keys) for keys, text in screen.rows)
        assert rows["Expire the silence"] == "X"
        assert rows["Next alert"].split() == ["n"]
        assert rows["Back (on any other screen; so is esc)"] == "q"
        assert "Quit shiftdeck (on the dashboard)" not in rows


async def test_the_dashboards_banner_uses_the_configured_zone():
    from shiftdeck.widgets.header_bar import HeaderBar
    from shiftdeck.widgets.source_banner import SourceBanner

    from .support.app_factory import failure

    app = make_app(roster=False, timezone="Europe/Berlin")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app.post_message(failure())
        await pilot.pause()
        text = str(app.dashboard.query_one(SourceBanner).render())
        assert "since 15:02" in text and "showing data from 15:00" in text  # NOW is 14:00 UTC
        assert "am:am0 stale since 15:02" in str(app.dashboard.query_one(HeaderBar).render())


async def test_a_second_tick_while_the_silences_screen_closes_is_harmless():
    """The app's timer can fire while the app is closing and the silences screen, still on top,
    has lost its widgets: its countdown repaint must find no table and do nothing."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("S")
        await wait_until(pilot, lambda: isinstance(app.screen, SilencesScreen))
        screen = app.screen
        await screen.query_one("DataTable").remove()
        app.clock.advance(timedelta(seconds=1))
        app.tick()
        assert screen.show_time(app.clock.now()) == 0


async def test_every_key_is_told_to_the_heap_keeper_on_every_screen_and_in_the_filter():
    told: list[str] = []
    app = make_app(on_key=lambda: told.append("key"))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        # a move, a sub-screen, back, the filter opened, a letter typed in it, the filter closed
        for key in ("j", "S", "escape", "slash", "n", "escape"):
            before = len(told)
            await pilot.press(key)
            assert len(told) > before, key  # (a key bubbling back up may tell it twice)
        assert app.screen is app.dashboard


async def test_a_view_that_arrives_while_the_dashboard_is_taken_down_is_not_shown():
    # At quit, Textual removes the screen's widgets while the app's 1 s tick can still run and
    # hand the dashboard a new Shift (seen-at-start records, a finished apply): it must not end
    # in an exception (it did, in CI: NoMatches for HeaderBar in show_skews).
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        for widget in list(app.dashboard.children):
            await widget.remove()
        app.dashboard.show_skews(())
        app.dashboard.show_shift(app.shift, force=True)
        app.dashboard.show_time(NOW)
        await pilot.pause()
        assert app.return_code is None and app.is_running
