"""How long to snooze a PagerDuty incident: four presets, chosen by digit or by the cursor."""

from __future__ import annotations

from datetime import timedelta

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..domain.durations import format_duration

PRESETS = (timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=4))


class SnoozeScreen(ModalScreen[timedelta | None]):
    BINDINGS = [
        *(Binding(str(n), f"choose({n - 1})", show=False) for n in range(1, len(PRESETS) + 1)),
        Binding("escape,n", "dismiss(None)", "Cancel", id="snooze_cancel"),
    ]
    DEFAULT_CSS = """
    SnoozeScreen { align: center middle; }
    SnoozeScreen > Vertical { width: 60; max-width: 100%; height: auto; border: thick $accent;
        background: $surface; padding: 0 1; }
    SnoozeScreen #snooze-title { text-style: bold; }
    SnoozeScreen OptionList { height: auto; margin-top: 1; }
    SnoozeScreen #snooze-keys { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, title: str) -> None:
        """`title`: what is snoozed ("Snooze PagerDuty incident #7 …")."""
        super().__init__()
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self._title), id="snooze-title")
            yield OptionList(*(Option(f"{n}  {format_duration(d)}", id=str(n))
                               for n, d in enumerate(PRESETS, 1)), id="snooze-presets")
            yield Static(Content("1–4 or enter: snooze for that long    esc: cancel\n"
                                 "PagerDuty triggers it again when the snooze ends."),
                         id="snooze-keys")

    def action_choose(self, index: int) -> None:
        self.dismiss(PRESETS[index])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(PRESETS[event.option_index])
