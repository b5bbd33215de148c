"""The handoff report, previewed as Markdown; copy it (OSC 52) or write it to a file.

Below WIDE_TABLES_FROM columns the preview shows each table row as a list item ("**P2** —
Alert: DiskSpaceLow · Fired: …"), which wraps, instead of columns cut to `Le…`; what is copied
and written is the report itself, tables and all."""

from __future__ import annotations

import re
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown

from ..services.clipboard import Clipboard
from ..widgets.key_footer import KeyFooter
from .prompt import PromptScreen

WIDE_TABLES_FROM = 120
"""Terminal width from which the preview keeps the report's tables as tables."""
_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")
_CODE_SPAN = re.compile(r"(`+).+?\1")
_DIVIDER = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


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
            yield Markdown(self._preview(self.app.size.width), open_links=False, id="handoff")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#handoff-scroll").focus()

    def on_resize(self) -> None:
        preview = self.query_one("#handoff", Markdown)
        text = self._preview(self.size.width)
        if text != preview.source:
            preview.update(text)

    def _preview(self, width: int) -> str:
        return self.markdown if width >= WIDE_TABLES_FROM else tables_as_lists(self.markdown)

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


def tables_as_lists(markdown: str) -> str:
    """Each GFM table row as a list item: its first cell in bold, the others after their
    column's name. Other lines are kept as they are."""
    out: list[str] = []
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].startswith("|") and _DIVIDER.match(lines[i + 1]):
            header = _cells(lines[i])
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                out.append(_as_item(header, _cells(lines[i])))
                i += 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def _cells(row: str) -> list[str]:
    # A table cell's code span escapes | as \|; outside a table the backslash would show.
    return [_CODE_SPAN.sub(lambda m: m.group(0).replace("\\|", "|"), cell.strip())
            for cell in _CELL_SEPARATOR.split(row.strip().strip("|"))]


def _as_item(header: list[str], cells: list[str]) -> str:
    lead, *rest = cells or [""]
    labelled = [f"{name}: {cell}" for name, cell in zip(header[1:], rest) if cell]
    return f"- **{lead}** — " + " · ".join(labelled) if labelled else f"- **{lead}**"
