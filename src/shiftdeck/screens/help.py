"""Every key that works where help was opened, as currently mapped."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="close_help")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    """

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self._rows = rows

    @property
    def rows(self) -> list[tuple[str, str]]:
        """The (keys, what they do) rows shown."""
        return list(self._rows)

    def compose(self) -> ComposeResult:
        width = max((len(keys) for keys, _ in self._rows), default=4) + 2
        lines = [Content.styled("Keys", "bold $accent")]
        lines += [Content.assemble((keys.ljust(width), "bold"), text) for keys, text in self._rows]
        lines.append(Content.styled("\nFilter: alertname=X severity=~\"crit.*\" "
                                    "namespace!=dev x!~re, a bare word = alertname, "
                                    "@state=pending, @level=P1", "$text-muted"))
        with VerticalScroll():
            yield Static(Content("\n").join(lines), markup=False)


def binding_rows(screen) -> list[tuple[str, str]]:
    """(keys, description) for every active binding on `screen`, merged by action."""
    by_action: dict[str, tuple[list[str], str]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        description = binding.tooltip or binding.description or binding.action
        keys, _ = by_action.setdefault(binding.action, ([], description))
        display = screen.app.get_key_display(Binding(key, binding.action))
        if display not in keys:
            keys.append(display)
    return sorted(((" ".join(keys), text) for keys, text in by_action.values()),
                  key=lambda row: row[1].lower())
