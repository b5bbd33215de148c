"""The filter line: an Input that filters live as you type, and below it, wrapped to the full
width, why it cannot (a message cut at 80 columns would not say what is valid)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static


class FilterBar(Vertical):
    DEFAULT_CSS = """
    FilterBar { height: auto; display: none; }
    FilterBar.-active { display: block; }
    FilterBar > Horizontal { height: 1; }
    FilterBar Static#filter-prompt { width: 2; color: $accent; }
    FilterBar Input { width: 1fr; }
    FilterBar > Static#filter-message { width: 100%; height: auto; max-height: 4;
        color: $error; display: none; }
    FilterBar > Static#filter-message.-shown { display: block; }
    """
    BINDINGS = [Binding("escape", "clear", "Clear filter", id="clear_filter")]

    class Changed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Done(Message):
        """The user left the filter (enter keeps it, escape clears it)."""

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("/", id="filter-prompt")
            yield Input(placeholder='alertname=X severity=~"crit.*" namespace!=dev '
                        '@state=pending', id="filter-input", compact=True)
        yield Static("", id="filter-message")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = getattr(self.app, "cursor_blink", True)

    @property
    def text(self) -> str:
        return self.query_one(Input).value

    def open(self) -> None:
        self.add_class("-active")
        self.query_one(Input).focus()

    def show(self, text: str) -> None:
        """Open with `text` as the filter (applied as if typed)."""
        self.add_class("-active")
        self.query_one(Input).value = text

    def show_error(self, message: str) -> None:
        shown = self.query_one("#filter-message", Static)
        shown.update(Content(message))
        shown.set_class(bool(message), "-shown")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            self.remove_class("-active")
        self.post_message(self.Done())

    def action_clear(self) -> None:
        self.query_one(Input).value = ""
        self.show_error("")
        self.remove_class("-active")
        self.post_message(self.Changed(""))
        self.post_message(self.Done())
