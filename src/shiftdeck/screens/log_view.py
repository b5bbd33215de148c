"""One pod's logs, full screen (as k9s shows them): `p` the previous container, `w` wrap, `f`
follow, `ctrl+r` again. Opened from the diagnostics screen; every pod starts on its current
container, unwrapped, not following."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import RichLog, Static

from ..domain.kube import KubeError, KubeReader, Scope
from ..widgets.key_footer import KeyFooter

TAIL_LINES = 500
FOLLOW_SECONDS = 2.0
"""How often a followed log is read again."""


class LogViewScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="close_logs"),
        Binding("p", "toggle_previous", "Previous", id="logs_previous",
                tooltip="The previous container's logs (before the last restart)"),
        Binding("w", "toggle_wrap", "Wrap", id="logs_wrap", tooltip="Wrap long lines"),
        Binding("f", "toggle_follow", "Follow", id="logs_follow",
                tooltip=f"Read the logs again every {FOLLOW_SECONDS:g}s"),
        Binding("ctrl+r", "reload", "Refresh", id="logs_refresh"),
        Binding("j", "scroll_lines(1)", "Down", show=False, id="logs_down"),
        Binding("k", "scroll_lines(-1)", "Up", show=False, id="logs_up"),
    ]
    DEFAULT_CSS = """
    LogViewScreen #logs-title { height: 1; background: $panel; text-wrap: nowrap;
        text-overflow: ellipsis; }
    LogViewScreen #logs-lines { height: 1fr; }
    """

    def __init__(self, scope: Scope, pod: str, kube: Callable[[], KubeReader], *,
                 previous: bool = False) -> None:
        """`kube` gives the shared client (made on first use, so in the worker)."""
        super().__init__()
        self.scope = scope
        self.pod = pod
        self.previous = previous
        self.wrap = False
        self.follow = False
        self.lines: list[str] = []
        self._kube = kube

    def compose(self) -> ComposeResult:
        yield Static(self._title("loading…"), id="logs-title")
        yield RichLog(max_lines=TAIL_LINES + 1, id="logs-lines")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(RichLog).focus()
        self._read()

    def _title(self, status: str) -> Content:
        which = "previous container" if self.previous else "current container"
        modes = [m for m, on in (("wrap", self.wrap), ("follow", self.follow)) if on]
        return Content.assemble(f" {self.pod} · {which}", (f" · {status}", "$text-muted"),
                                (" · " + ", ".join(modes) if modes else "", "$accent"))

    @work(group="logs", exclusive=True, description="pod logs")
    async def _read(self) -> None:
        """Read the logs once, or every FOLLOW_SECONDS while following (one loop: reads never
        overlap)."""
        while True:
            previous = self.previous
            try:
                lines = await asyncio.to_thread(self._fetch, previous)
            except KubeError as err:
                lines = [f"✗ {err}"]
            self.show_lines(previous, lines)
            if not self.follow:
                return
            await asyncio.sleep(FOLLOW_SECONDS)

    def _fetch(self, previous: bool) -> list[str]:
        return self._kube().logs(self.scope, self.pod, previous=previous, tail=TAIL_LINES)

    def show_lines(self, previous: bool, lines: list[str]) -> None:
        if not self.is_attached or previous != self.previous:
            return  # closed, or `p` pressed while this read was on its way
        self.lines = lines
        self._redraw()

    def _redraw(self) -> None:
        log = self.query_one(RichLog)
        log.wrap = self.wrap
        log.clear()
        for line in self.lines:
            log.write(Text(line))  # Text: never parsed as markup
        if not self.lines:
            log.write(Text("(no log lines)", style="dim"))
        self.query_one("#logs-title", Static).update(self._title(f"last {len(self.lines)} lines"))

    def action_toggle_previous(self) -> None:
        self.previous = not self.previous
        self.query_one("#logs-title", Static).update(self._title("loading…"))
        self._read()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._redraw()

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        self.query_one("#logs-title", Static).update(self._title(f"last {len(self.lines)} lines"))
        if self.follow:
            self._read()

    def action_reload(self) -> None:
        self._read()

    def action_scroll_lines(self, lines: int) -> None:
        self.query_one(RichLog).scroll_relative(y=lines, animate=False)
