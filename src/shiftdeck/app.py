"""ShiftdeckApp: wiring only. Themes, keymap, one poller per source, the dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .clock import Clock
from .domain.board import EMPTY_BOARD, Board, SourceReport, build_board
from .domain.health import SourceHealth
from .messages import SourceFailed, SourceReported
from .screens.dashboard import DashboardScreen
from .screens.help import HelpScreen, binding_rows
from .sources.poll import Source, make_sources, poll_forever
from .themes import VARIABLE_DEFAULTS, builtin_themes


def source_key(source: Source) -> str:
    return f"{source.kind}/{source.name}"


class ShiftdeckApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "shiftdeck"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help", tooltip="List every key"),
        Binding("t", "next_theme", "Theme", show=False, id="theme", tooltip="Next theme"),
        Binding("ctrl+r", "refresh_now", "Refresh", show=False, id="refresh",
                tooltip="Poll every source now"),
        Binding("colon", "command_palette", "Commands", show=False, id="palette",
                tooltip="Command palette (also ctrl+p)"),
    ]

    def __init__(self, config: Any, clock: Clock, *, poll: bool = True,
                 sources: list[Source] | None = None, cursor_blink: bool = True) -> None:
        super().__init__()
        self.cursor_blink = cursor_blink
        self.config = config
        self.clock = clock
        self._poll = poll
        self._sources = sources if sources is not None else make_sources(config)
        self._reports: dict[str, SourceReport] = {}
        self._health = {source_key(s): SourceHealth(s.name, s.kind) for s in self._sources}
        self._wake = {source_key(s): asyncio.Event() for s in self._sources}
        self.board: Board = EMPTY_BOARD
        self.dashboard = DashboardScreen(config, clock)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return VARIABLE_DEFAULTS

    def on_mount(self) -> None:
        self._theme_names = []
        for theme in builtin_themes():
            self.register_theme(theme)
            self._theme_names.append(theme.name)
        self.theme = self.config.theme if self.config.theme in self.available_themes \
            else "shiftdeck-dark"
        if self.config.keymap:
            self.set_keymap(dict(self.config.keymap))
        self.push_screen(self.dashboard)
        if self._poll:
            for source in self._sources:
                self.run_worker(self._poll_source(source), name=source_key(source),
                                group="poll", description=f"poll {source_key(source)}")

    async def _poll_source(self, source: Source) -> None:
        key = source_key(source)
        await poll_forever(
            source, self.clock, self.config.refresh,
            on_report=lambda report, skipped: self.post_message(SourceReported(key, report, skipped)),
            on_error=lambda _name, error, at: self.post_message(SourceFailed(key, error, at)),
            wake=self._wake[key],
        )

    async def on_unmount(self) -> None:
        await asyncio.gather(*(s.aclose() for s in self._sources), return_exceptions=True)

    # -- the board -------------------------------------------------------------------------

    def on_source_reported(self, message: SourceReported) -> None:
        self._reports[message.key] = message.report
        report = message.report
        known = self._health.get(message.key) or SourceHealth(report.name, report.kind)
        self._health[message.key] = known.succeeded(report.fetched_at, message.skipped)
        self._rebuild()

    def on_source_failed(self, message: SourceFailed) -> None:
        kind, _, name = message.key.partition("/")
        known = self._health.get(message.key) or SourceHealth(name, kind)
        self._health[message.key] = known.failed(message.at, message.error)
        self._rebuild()

    def _rebuild(self) -> None:
        self.board = build_board(self._reports, tuple(self._health.values()), self.board,
                                 self.config.severity, self.clock.now(),
                                 self.config.resolved_retention)
        self.dashboard.show_board(self.board)

    # -- actions ---------------------------------------------------------------------------

    def action_refresh_now(self) -> None:
        for event in self._wake.values():
            event.set()
        self.notify("Refreshing every source…", timeout=2)

    def action_next_theme(self) -> None:
        names = self._theme_names
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(binding_rows(self.screen)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Refresh now", "Poll every source now", self.action_refresh_now)
        yield SystemCommand("Next theme", "Cycle shiftdeck's themes", self.action_next_theme)
        yield SystemCommand("Keys", "List every key", self.action_help)
        if isinstance(screen, DashboardScreen):
            yield SystemCommand("Filter", "Filter alerts with matchers", screen.action_open_filter)
            yield SystemCommand("Cycle grouping", "none → alertname → namespace",
                                screen.action_cycle_grouping)
        yield from super().get_system_commands(screen)
