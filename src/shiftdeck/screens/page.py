"""A scrollable page of text with the footer: the base of the read-only screens."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from ..widgets.key_footer import KeyFooter


class PageScreen(Screen):
    """Shows `content` (Content, never markup), optionally under a title line. Scrolls with
    j/k as well as the arrows, pgup/pgdn, home and end."""

    BINDINGS = [
        Binding("j", "scroll_lines(1)", "Down", show=False, id="page_down_line"),
        Binding("k", "scroll_lines(-1)", "Up", show=False, id="page_up_line"),
    ]

    PAGE_ID = "page"
    """The Static's id, for tests and styling."""

    def __init__(self, content: Content, title: str = "") -> None:
        super().__init__()
        self._content = content
        self._title = title

    def compose(self) -> ComposeResult:
        if self._title:
            yield Static(Content(self._title), classes="title")
        with VerticalScroll(id=f"{self.PAGE_ID}-scroll"):
            yield self.body()
        yield KeyFooter()

    def body(self) -> Widget:
        """The widget that draws the page; subclasses may draw it themselves."""
        return Static(self._content, id=self.PAGE_ID, markup=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_scroll_lines(self, lines: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=lines, animate=False)
