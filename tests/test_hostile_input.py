"""Hostile label values, annotations and names go through ingest and the whole dashboard
without crashing, without becoming markup, and without control sequences."""

from pathlib import Path

import pytest

from shiftdeck.screens.detail import DetailScreen
from shiftdeck.sources.alertmanager import parse_alerts

from .support import hostile
from .support.app_factory import loaded, make_app
from .support.screen import screen_text
from .support.waiting import wait_until

HOSTILE = hostile.texts(Path("/nonexistent") / hostile.MARKER_NAME)


def _raw_alerts():
    raw = []
    for i, text in enumerate(HOSTILE):
        raw.append({
            "labels": {"alertname": f"Hostile{i}{text}", "severity": "critical", "namespace": text,
                       text or "empty": text},
            "annotations": {"summary": text, "description": text * 3 + "y" * 100_000},
            "startsAt": "2026-11-22T13:00:00Z", "fingerprint": f"{i:016x}",
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        })
    return parse_alerts(raw, "am0").alerts


@pytest.mark.slow
async def test_hostile_alerts_render_literally_on_every_screen():
    alerts = _raw_alerts()
    assert len(alerts) == len(HOSTILE)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, alerts)
        text = screen_text(app)
        assert "[@click=app.quit]" in text  # drawn, not parsed (parsed, it would read "x")
        for key in ("j", "g", "g", "g", "enter"):
            await pilot.press(key)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape", "question_mark", "escape")
        assert app.is_running
        for char in "\x1b\x07\x9b\x90\x9c\x00\u202e":
            assert char not in screen_text(app)


async def test_toasts_never_parse_markup_even_when_a_widget_asks():
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:  # toasts drawn
        await loaded(pilot)
        app.screen.notify("H02[/] moved up", title="[@click=app.quit]x[/]")  # markup=True
        await wait_until(pilot, lambda: "H02[/] moved up" in screen_text(app))
        assert app.is_running
        assert list(app.notified) == ["H02[/] moved up"]
        assert "[@click=app.quit]x[/]" in screen_text(app)  # drawn, not parsed
