"""Compose an incident status update from the seed template, prefilled from the journal."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from ..domain.status import STATUSES


class StatusUpdateScreen(ModalScreen[tuple[str, str] | None]):
    """Returns (status, text) on enter; the app copies it (OSC 52) and journals it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="update_cancel")]
    DEFAULT_CSS = """
    StatusUpdateScreen { align: center middle; }
    StatusUpdateScreen > VerticalScroll { width: 90; max-width: 100%; height: auto;
        max-height: 100%; border: round $accent; background: $surface; padding: 0 1; }
    StatusUpdateScreen Horizontal { height: 1; }
    StatusUpdateScreen Horizontal > Static { width: 8; color: $text-muted; }
    StatusUpdateScreen Select { width: 20; }
    StatusUpdateScreen Input { width: 1fr; }
    StatusUpdateScreen #update-preview { margin-top: 1; background: $panel; padding: 0 1; }
    StatusUpdateScreen #update-keys { color: $text-muted; }
    """

    def __init__(self, compose: Callable[[str, str], str], status: str = "Investigating") -> None:
        """`compose(status, impact)` renders the update text."""
        super().__init__()
        self._render_update = compose
        self._status = status

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            with Horizontal():
                yield Static("status")
                yield Select([(s, s) for s in STATUSES], value=self._status, allow_blank=False,
                             id="update-status", compact=True)
            with Horizontal():
                yield Static("impact")
                yield Input(placeholder="who is affected, how", id="update-impact", compact=True)
            yield Static("", id="update-preview", markup=False)
            yield Static(Content("enter: copy to clipboard (OSC 52) and journal it   esc: cancel"),
                         id="update-keys")

    def on_mount(self) -> None:
        self.query_one("#update-impact", Input).focus()
        self._refresh_preview()

    def _text(self) -> str:
        status = str(self.query_one("#update-status", Select).value)
        return self._render_update(status, self.query_one("#update-impact", Input).value)

    def _refresh_preview(self) -> None:
        self.query_one("#update-preview", Static).update(Content(self._text()))

    def on_input_changed(self) -> None:
        self._refresh_preview()

    def on_select_changed(self) -> None:
        self._refresh_preview()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss((str(self.query_one("#update-status", Select).value), self._text()))

    def action_cancel(self) -> None:
        self.dismiss(None)
