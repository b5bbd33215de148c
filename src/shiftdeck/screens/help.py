"""Every key that works where help was opened, as currently mapped: that screen's own keys
first, then the keys that work everywhere, grouped by what they are for (keys.KEYS)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ..keys import BY_ID

Section = tuple[str, list[tuple[str, str]]]
GROUPS = ("Move around", "Find", "Investigate", "Act", "Shift", "Look")


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="close_help")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    """

    def __init__(self, sections: list[Section]) -> None:
        super().__init__()
        self.sections = sections
        """(title, [(keys, what they do)]) as shown, in order."""

    @property
    def rows(self) -> list[tuple[str, str]]:
        """The (keys, what they do) rows shown, every section's."""
        return [row for _, rows in self.sections for row in rows]

    def compose(self) -> ComposeResult:
        width = max((len(keys) for keys, _ in self.rows), default=4) + 2
        lines = []
        for title, rows in self.sections:
            lines.append(Content.styled(title, "bold $accent"))
            lines += [Content.assemble((keys.ljust(width), "bold"), text) for keys, text in rows]
        lines.append(Content.styled("\nFilter: alertname=X severity=~\"crit.*\" "
                                    "namespace!=dev x!~re, a bare word = alertname, "
                                    "@state=pending, @level=P1", "$text-muted"))
        with VerticalScroll():
            yield Static(Content("\n").join(lines), markup=False)


def help_sections(screen: Any) -> list[Section]:
    """The keys in effect on `screen` (the user's keymap applied), merged by action: its own
    keys grouped by purpose, then the app's ("Everywhere"). Bindings without an id (Textual's
    own scrolling and focus keys) are not shiftdeck's and are left out."""
    own: dict[str, dict[str, tuple[list[str], str]]] = {}
    everywhere: dict[str, tuple[list[str], str]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.id:
            continue
        row = BY_ID.get(binding.id)
        text = row.description if row else binding.tooltip or binding.description
        where = everywhere if active.node is screen.app else \
            own.setdefault(row.group if row else "This screen", {})
        keys, _ = where.setdefault(binding.id, ([], text))
        display = screen.app.get_key_display(binding)
        if display not in keys:
            keys.append(display)
    order = {group: i for i, group in enumerate(("This screen", *GROUPS))}
    sections = [(group, _rows(own[group])) for group in sorted(own, key=lambda g: order.get(g, 99))]
    return sections + ([("Everywhere", _rows(everywhere))] if everywhere else [])


def _rows(by_id: dict[str, tuple[list[str], str]]) -> list[tuple[str, str]]:
    return [(" ".join(keys), text) for keys, text in by_id.values()]


def binding_rows(screen: Any) -> list[tuple[str, str]]:
    """Every (keys, what they do) row help shows for `screen`, in order."""
    return [row for _, rows in help_sections(screen) for row in rows]
