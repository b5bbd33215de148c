"""Focus leaving the alert table (the filter opening) redraws its cursor row only: every other
row is the very line drawn before. A change of theme redraws them all in the new colours."""

from __future__ import annotations

from datetime import timedelta

from shiftdeck.widgets.alert_table import AlertTable

from .support.app_factory import make_app, report
from .support.factories import make_alert
from .support.waiting import wait_until

MANY = tuple(make_alert("DiskFilling", "warning", pod=f"pod-{n:02d}",
                        age=timedelta(minutes=60 - n)) for n in range(30))


def _lines(table: AlertTable) -> list:
    return [table.render_line(y) for y in range(1, table.size.height)]


def _cursor_background(table: AlertTable):
    return table.get_component_rich_style("alert-table--cursor").bgcolor


async def _table_of_many(app, pilot) -> AlertTable:
    app.post_message(report(MANY, silences=()))
    table = app.dashboard.query_one(AlertTable)
    await wait_until(pilot, lambda: len(table.rows) == len(MANY))
    return table


async def test_the_filter_opening_redraws_the_cursor_row_and_keeps_every_other_line() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        table = await _table_of_many(app, pilot)
        await pilot.press("j")
        index = [row.key for row in table.rows].index(table.cursor_key)
        cursor = index + 1 - int(table.scroll_offset.y)  # the header is line 0
        focused, before = _cursor_background(table), _lines(table)

        await pilot.press("slash")
        await wait_until(pilot, lambda: not table.has_focus and table.size.height)
        after = _lines(table)
        blurred = _cursor_background(table)
        assert blurred != focused
        assert [a is b for a, b in zip(after, before)] == [y != cursor - 1
                                                           for y in range(len(after))]
        assert {seg.style.bgcolor for seg in after[cursor - 1] if seg.text.strip()} == {blurred}

        await pilot.press("escape")
        await wait_until(pilot, lambda: table.has_focus)
        again = _lines(table)
        assert {seg.style.bgcolor for seg in again[cursor - 1] if seg.text.strip()} == {focused}


async def test_a_theme_change_redraws_every_row() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        table = await _table_of_many(app, pilot)
        before = _lines(table)
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await wait_until(pilot, lambda: all(a is not b for a, b in zip(_lines(table), before)))
        assert [str(a.text) for a in _lines(table)] == [str(b.text) for b in before]
