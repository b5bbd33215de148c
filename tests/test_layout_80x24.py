"""Issue 13, "seeing everything at 80x24": every secondary screen shows what is read at 80x24,
and long panes take the screen."""

from datetime import timedelta

import pytest
from textual.containers import VerticalScroll

from shiftdeck.widgets.alert_detail import AlertDetail

from .support.app_factory import SEED_ALERTS, loaded, make_app
from .support.screen import screen_text
from .support.waiting import wait_until
from .support.detail import backend_metric, open_backend_detail

SIZE = (80, 24)
BACKEND = SEED_ALERTS[0]  # QAWaveBackendDown, firing for 12m


_metric = backend_metric
_detail_screen = open_backend_detail


@pytest.mark.slow
async def test_the_full_detail_shows_notes_the_last_hour_and_the_24h_firing_history():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _detail_screen(pilot)
        text = str(screen.query_one(AlertDetail).render())
        assert "alice: rolled back to v2.13.1" in text
        assert "Last hour" in text and "Firing, last 24h" in text
        # The sparkline takes the width of the screen, not a 20-column stub.
        spark = next(line for line in text.splitlines() if line.strip() and
                     set(line.strip()) <= set("▁▂▃▄▅▆▇█"))
        assert len(spark.strip()) >= 70


@pytest.mark.slow
async def test_the_full_detail_scrolls_with_j_k_end_and_home():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _detail_screen(pilot)
        scroll = screen.query_one(VerticalScroll)
        assert scroll.max_scroll_y > 0  # more than one screen: there is something to scroll to
        await pilot.press("j", "j")
        await wait_until(pilot, lambda: scroll.scroll_y == 2)
        await pilot.press("k")
        await wait_until(pilot, lambda: scroll.scroll_y == 1)
        await pilot.press("end")
        await wait_until(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y)
        assert "Firing, last 24h" in screen_text(app)
        await pilot.press("home")
        await wait_until(pilot, lambda: scroll.scroll_y == 0)


@pytest.mark.slow
async def test_the_full_detail_age_ticks_with_the_clock():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _detail_screen(pilot)
        assert "for 12m" in screen_text(app)
        app.clock.advance(timedelta(minutes=4, seconds=1))
        await wait_until(pilot, lambda: "for 16m" in screen_text(app))
        assert screen.is_attached


async def test_the_detail_pane_age_ticks_with_the_clock():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        detail = app.dashboard.query_one(AlertDetail)
        assert "for 12m" in screen_text(app)
        app.clock.advance(timedelta(minutes=4))
        detail.tick(app.clock.now())
        await wait_until(pilot, lambda: "for 16m" in screen_text(app))
        assert "for 16m" in str(detail.render())


@pytest.mark.slow
async def test_the_status_update_keeps_its_fields_and_hint_on_screen_and_focus_visible():
    from textual.widgets import Input, Select

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("u")
        await pilot.press(*"checkout fails")
        app.screen.query_one(Input).value = "checkout fails for some users in the eu region " * 30
        await pilot.pause()
        text = screen_text(app)
        assert "enter: copy" in text and "status" in text and "impact" in text
        for _ in range(4):  # every stop of tab is a field the user can see
            await pilot.press("tab")
            focused = app.focused
            assert isinstance(focused, (Input, Select)), focused
            region = focused.region
            assert region.height and app.screen.region.contains_region(region)
        assert isinstance(app.focused, Input)
        await pilot.press(*" THE-END")
        assert app.focused.value.endswith(" THE-END")
        await pilot.press("pagedown")
        await pilot.pause()
        assert "enter: copy" in screen_text(app)


@pytest.mark.slow
async def test_the_handoff_preview_reads_at_80_columns_and_copies_the_report_itself():
    from shiftdeck.screens.handoff import HandoffScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("H")
        await wait_until(pilot, lambda: isinstance(app.screen, HandoffScreen))
        screen = app.screen
        await pilot.press("end")
        await wait_until(pilot, lambda: "- **primary**" in screen.query_one("#handoff").source)
        await pilot.pause()
        text = screen_text(app)
        assert "primary — Now: Alice Ng (@alice)" in text
        assert "…" not in text.replace("handed over", "")
        assert "| Role | Now |" in screen.markdown  # what is copied keeps its table
