"""The command palette reaches every action by name and every alert of the current view."""

from __future__ import annotations

import time

import pytest
from textual import events
from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from shiftdeck.screens.palette import MAX_ALERT_HITS, alert_index, find_alerts
from shiftdeck.screens.silences import SilencesScreen
from shiftdeck.widgets.alert_detail import AlertDetail

from .support.app_factory import loaded, make_app
from .support.factories import make_alert
from .support.waiting import wait_until


def _options(app) -> list[str]:
    found = app.screen.query_one(CommandList)
    return [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]


async def _search(pilot, text: str, expected: str, *, pasted: bool = False) -> list[str]:
    """Open the palette and type `text` (or paste it: one search instead of one a key)."""
    await pilot.press("colon", *("" if pasted else text))
    assert isinstance(pilot.app.screen, CommandPalette)
    if pasted:
        pilot.app.post_message(events.Paste(text))
        await wait_until(pilot, lambda: pilot.app.screen.query_one(Input).value == text)
    # Every option a hit for `text` (not the list the empty palette shows), `expected` among them.
    await wait_until(pilot, lambda: _all_hits(text, _options(pilot.app))
                     and any(expected in o for o in _options(pilot.app)))
    return _options(pilot.app)


def _all_hits(text: str, options: list[str]) -> bool:
    """Each option holds the letters of `text` in order, as the palette's fuzzy search finds."""
    def hit(option: str) -> bool:
        rest = iter(option.lower())
        return all(letter in rest for letter in text.lower().replace(" ", ""))
    return bool(options) and all(map(hit, options))


@pytest.mark.slow
async def test_typing_sil_finds_silences_and_enter_opens_them():
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        options = await _search(pilot, "sil", "Silences")
        assert options[0].startswith("Silence")
        while not _options(app)[app.screen.query_one(CommandList).highlighted or 0] \
                .startswith("Silences"):
            await pilot.press("down")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SilencesScreen))


@pytest.mark.slow
async def test_every_action_is_reachable_by_name():
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        for query, title in [("hand", "Handoff"), ("ack", "Ack"), ("runbook", "Runbook"),
                             ("diag", "Diagnostics"), ("note", "Note"),
                             ("status up", "Status update"), ("on-call", "On-call"),
                             ("shift met", "Shift metrics"), ("filter", "Filter"),
                             ("grouping", "Grouping"), ("high-contrast", "Theme: high-contrast"),
                             ("refresh", "Refresh"), ("quit", "Quit"), ("silence", "Silence")]:
            await _search(pilot, query, title, pasted=True)
            await pilot.press("escape")
            assert app.screen is app.dashboard


async def test_read_only_offers_no_write_in_the_palette():
    app = make_app(read_only="true")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        commands = [c.title for c in app.get_system_commands(app.dashboard)]
        assert "Handoff" in commands and "Quit" in commands
        assert not {"Ack", "Ack group", "Silence", "Un-ack"} & set(commands)


@pytest.mark.slow
async def test_go_to_an_alert_by_name_highlights_it():
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await _search(pilot, "Disk", "Go to DiskSpaceLow")
        while "DiskSpaceLow" not in _options(app)[app.screen.query_one(CommandList).highlighted
                                                  or 0]:
            await pilot.press("down")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.dashboard)
        await wait_until(pilot, lambda: app.dashboard.query_one(AlertDetail).alert.name
                         == "DiskSpaceLow")


def test_alert_search_stops_at_the_cap_and_is_fast_at_10k_alerts():
    alerts = [make_alert("Storm", "warning", pod=f"api-{i}") for i in range(10_000)]
    by_fp = {a.fingerprint: a for a in alerts}
    started = time.perf_counter()
    index = alert_index(by_fp, list(by_fp))
    indexed = time.perf_counter() - started
    assert len(find_alerts(index, "storm")) == MAX_ALERT_HITS
    assert [e.display.split()[1] for e in find_alerts(index, "api-9999")] == ["api-9999"]
    started = time.perf_counter()
    assert find_alerts(index, "no such thing") == []  # the worst case: every alert looked at
    scanned = time.perf_counter() - started
    assert indexed < 1.0 and scanned < 0.1, (indexed, scanned)
