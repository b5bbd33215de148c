"""Ask for one line of text (a note, a duration); validated before it is accepted."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt_cancel")]
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical { width: 64; max-width: 100%; height: auto; border: round $accent;
        background: $surface; padding: 0 1; }
    PromptScreen #prompt-error { color: $error; }
    """

    def __init__(self, question: str, value: str = "",
                 validate: Callable[[str], str | None] | None = None) -> None:
        """`validate` returns an error message, or None when the answer is fine."""
        super().__init__()
        self._question = question
        self._value = value
        self._validate = validate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self._question))
            yield Input(self._value, id="prompt-input")
            yield Static("", id="prompt-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self._validate(event.value) if self._validate else None
        if error:
            self.query_one("#prompt-error", Static).update(Content(error))
        else:
            self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
