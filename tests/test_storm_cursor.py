"""The cursor when the highlighted alert goes away under it (issue 13): it lands on the next
row, which is on screen, and the detail pane shows that row (frozen clock)."""

from __future__ import annotations

from datetime import timedelta

from shiftdeck.domain.alerts import AlertState
from shiftdeck.widgets.alert_detail import AlertDetail
from shiftdeck.widgets.alert_table import AlertTable

from .support.app_factory import make_app, report
from .support.factories import NOW, make_alert
from .support.waiting import wait_until

MANY = tuple(make_alert("DiskFilling", "warning", pod=f"pod-{n:02d}",
                        age=timedelta(minutes=60 - n)) for n in range(40))


def _on_screen(table: AlertTable, index: int) -> bool:
    top = int(table.scroll_offset.y)
    return top <= index < top + table.size.height - 1


async def test_when_the_highlighted_alert_resolves_the_cursor_lands_on_the_next_row() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.post_message(report(MANY, silences=()))
        table = app.dashboard.query_one(AlertTable)
        await wait_until(pilot, lambda: len(table.rows) == len(MANY))
        await pilot.press("j", "j")
        gone, following = table.rows[2].key, table.rows[3].key
        assert table.cursor_key == gone

        app.post_message(report([a for a in MANY if a.fingerprint != gone],
                                at=NOW + timedelta(seconds=15), silences=()))
        await wait_until(pilot, lambda: app.shift.board.alerts[gone].state
                         is AlertState.RESOLVED and table.rows[-1].key == gone)
        await pilot.pause()
        assert table.cursor_key == following
        assert _on_screen(table, table.rows.index(next(r for r in table.rows
                                                       if r.key == following)))
        detail = app.dashboard.query_one(AlertDetail)
        assert detail.alert is not None and detail.alert.fingerprint == following
