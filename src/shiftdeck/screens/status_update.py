"""Compose an incident status update from the seed template, prefilled from the journal.

At any size the two fields and the keys stay on screen; only the preview scrolls (pgup/pgdn,
from the fields: tab only ever moves between the two fields)."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from ..domain.status import STATUSES


class StatusUpdateScreen(ModalScreen[tuple[str, str] | None]):
    """Returns (status, text) on enter; the app copies it (OSC 52) and journals it."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="update_cancel"),
        Binding("pagedown", "scroll_preview(1)", "Scroll", show=False, id="update_page_down"),
        Binding("pageup", "scroll_preview(-1)", "Scroll", show=False, id="update_page_up"),
    ]
    DEFAULT_CSS = """
    StatusUpdateScreen { align: center middle; }
    StatusUpdateScreen > Vertical { width: 90; max-width: 100%; height: auto;
        max-height: 100%; border: round $accent; background: $surface; padding: 0 1; }
    StatusUpdateScreen Horizontal { height: 1; }
    StatusUpdateScreen Horizontal > Static { width: 8; color: $text-muted; }
    StatusUpdateScreen Select { width: 20; }
    StatusUpdateScreen Input { width: 1fr; }
    StatusUpdateScreen #update-scroll { height: auto; margin-top: 1;
        background: $panel; scrollbar-size-vertical: 1; }
    StatusUpdateScreen #update-preview { padding: 0 1; }
    StatusUpdateScreen #update-keys { height: 1; color: $text-muted; text-wrap: nowrap;
        text-overflow: ellipsis; }
    """

    def __init__(self, compose: Callable[[str, str], str], status: str = "Investigating") -> None:
        """`compose(status, impact)` renders the update text."""
        super().__init__()
        self._render_update = compose
        self._status = status

    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal():
                yield Static("status")
                yield Select([(s, s) for s in STATUSES], value=self._status, allow_blank=False,
                             id="update-status", compact=True)
            with Horizontal():
                yield Static("impact")
                yield Input(placeholder="who is affected, how", id="update-impact", compact=True)
            with VerticalScroll(id="update-scroll", can_focus=False):
                yield Static("", id="update-preview", markup=False)
            yield Static(Content("enter: copy (OSC 52) and journal  tab: field  "
                                 "pgup/pgdn: scroll  esc: cancel"), id="update-keys")

    def on_mount(self) -> None:
        self.query_one("#update-impact", Input).focus()
        self._fit_preview()

    def on_resize(self) -> None:
        self._fit_preview()

    def _fit_preview(self) -> None:
        """The preview gets what the border, the two fields, the gap and the keys leave."""
        self.query_one("#update-scroll").styles.max_height = max(2, self.size.height - 6)
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

    def action_scroll_preview(self, pages: int) -> None:
        scroll = self.query_one("#update-scroll", VerticalScroll)
        scroll.scroll_relative(y=pages * max(1, scroll.size.height - 1), animate=False)

    def action_cancel(self) -> None:
        self.dismiss(None)
