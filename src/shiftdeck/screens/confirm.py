"""Ask before doing something that cannot be undone; shows exactly what will happen, and where."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm_yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm_no"),
    ]
    KEYS_HELP = "y / enter: do it    n / esc: cancel"
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 70; max-width: 100%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1; }
    ConfirmScreen #confirm-title { text-style: bold; color: $warning; }
    ConfirmScreen #confirm-keys { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, title: str, body: Content) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self._title), id="confirm-title")
            yield Static(self._body, id="confirm-body")
            yield Static(Content(self.KEYS_HELP), id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class RunConfirmScreen(ConfirmScreen, inherit_bindings=False):
    """Running a dangerous command: only `y` runs it. Enter, space or any other key never
    does (an Enter meant for the runbook pane must not run what it highlighted)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Run", id="confirm_run"),
        Binding("n,escape", "answer(False)", "Cancel", id="confirm_cancel"),
    ]
    KEYS_HELP = "y: run it    n / esc: cancel    (enter does not run it)"


class QuitConfirmScreen(ConfirmScreen):
    """Quitting while a write or a command is in flight."""

    def __init__(self, running: list[str]) -> None:
        super().__init__("Quit while this is still running?", Content(
            "\n".join(f"  {what}" for what in running)
            + "\n\nQuitting now cuts it short: it may or may not have reached the server "
              "(shiftdeck silences shows what did)."))
