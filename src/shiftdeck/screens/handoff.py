"""The handoff report, previewed as Markdown; copy it (OSC 52) or write it to a file."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown


class HandoffScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="close_handoff"),
        Binding("c", "copy", "Copy", id="copy_handoff", tooltip="Copy to the clipboard (OSC 52)"),
        Binding("w", "save", "Write file", id="save_handoff"),
    ]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="handoff-scroll"):
            # Alert text is untrusted: links in it must never open by themselves.
            yield Markdown(self.markdown, open_links=False, id="handoff")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#handoff-scroll").focus()

    def action_copy(self) -> None:
        self.app.copy_text(self.markdown, "Handoff report")

    def action_save(self) -> None:
        self.app.save_handoff(self.markdown)
