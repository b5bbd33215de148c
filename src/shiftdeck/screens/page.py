"""A scrollable page of text with the footer: the base of the read-only screens."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static


class PageScreen(Screen):
    """Shows `content` (Content, never markup), optionally under a title line."""

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
            yield Static(self._content, id=self.PAGE_ID, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
