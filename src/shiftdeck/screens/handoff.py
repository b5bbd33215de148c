"""The handoff report, previewed as Markdown; copy it (OSC 52) or write it to a file."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown

from ..services.clipboard import Clipboard
from .prompt import PromptScreen


class HandoffScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="close_handoff"),
        Binding("c", "copy", "Copy", id="copy_handoff", tooltip="Copy to the clipboard (OSC 52)"),
        Binding("w", "save", "Write file", id="save_handoff"),
    ]

    def __init__(self, markdown: str, clipboard: Clipboard, default_path: str) -> None:
        super().__init__()
        self.markdown = markdown
        self._clipboard = clipboard
        self._default_path = default_path

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="handoff-scroll"):
            # Alert text is untrusted: links in it must never open by themselves.
            yield Markdown(self.markdown, open_links=False, id="handoff")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#handoff-scroll").focus()

    def action_copy(self) -> None:
        self._clipboard.copy(self.markdown)
        self.notify("Handoff report copied to the clipboard (OSC 52).", timeout=4)

    def action_save(self) -> None:
        self.app.push_screen(PromptScreen("Write the handoff report to:", self._default_path),
                             self._write)

    def _write(self, path: str | None) -> None:
        if not path:
            return
        target = Path(path).expanduser()
        try:
            target.write_text(self.markdown, encoding="utf-8")
        except OSError as err:
            self.notify(f"Could not write {target}: {err.strerror or err}", severity="error",
                        timeout=10)
            return
        self.notify(f"Handoff written to {target}", timeout=5)
