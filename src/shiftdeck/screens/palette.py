"""The command palette's two halves: every action bound where it was opened, by name (the
app's system commands), and "go to" an alert of the dashboard's current view by its name or a
label value.

Providers run on the UI thread: the alerts are indexed once when the palette opens, and each
keystroke scans that index with a plain substring test, stopping at MAX_ALERT_HITS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.app import SystemCommand
from textual.command import Hit, Hits, Provider
from textual.screen import Screen

from ..domain.alerts import Alert
from ..keys import BY_ID
from .dashboard import DashboardScreen

MAX_ALERT_HITS = 20

TITLES = {
    "ack_alert": "Ack", "ack_group": "Ack group", "unack": "Un-ack", "mark": "Mark",
    "silence_alert": "Silence", "show_silences": "Silences", "runbook": "Runbook",
    "diagnostics": "Diagnostics", "add_note": "Note", "status_update": "Status update",
    "show_oncall": "On-call", "handoff": "Handoff", "shift_metrics": "Shift metrics",
    "filter": "Filter", "group": "Grouping", "toggle_detail": "Zoom (hide the detail pane)",
    "detail": "Detail", "focus_detail": "Into the detail pane", "refresh": "Refresh", "theme": "Next theme", "help": "Keys (help)",
    "quit": "Quit", "quit_anywhere": "Quit",
    "extend_silence": "Extend silence", "expire_silence": "Expire silence",
    "silence_alerts": "Silence's alerts", "sort_silences": "Sort silences",
}
"""The palette's name for each action (what a user types to find it)."""

RunAction = Callable[[str, Any], Awaitable[Any]]


def action_commands(screen: Screen[Any], run: RunAction) -> Iterator[SystemCommand]:
    """Every action bound and allowed where the palette was opened (read-only mode hides the
    writes there, so here too), with its current key."""
    seen: set[str] = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        title = TITLES.get(binding.id or "")
        if title is None or title in seen or not active.enabled:
            continue
        seen.add(title)
        what = BY_ID[binding.id].description if binding.id in BY_ID else \
            binding.tooltip or binding.description
        keys = screen.app.get_key_display(binding)
        yield SystemCommand(title, f"{what} ({keys})", partial(run, binding.action, active.node))


def system_commands(screen: Screen[Any], run: RunAction, themes: Sequence[str],
                    choose_theme: Callable[[str], None]) -> Iterator[SystemCommand]:
    """The app's palette: the actions bound on `screen`, then a command per theme."""
    yield from action_commands(screen, run)
    yield from theme_commands(themes, choose_theme)


def next_theme(names: Sequence[str], current: str) -> str:
    """The theme after `current` in `names`, round the end (the first if `current` is not one)."""
    at = names.index(current) if current in names else -1
    return names[(at + 1) % len(names)]


def theme_commands(names: Iterable[str], choose: Callable[[str], None]) -> Iterator[SystemCommand]:
    for name in names:
        yield SystemCommand(f"Theme: {name}", "Switch to this theme", partial(choose, name))


@dataclass(frozen=True, slots=True)
class AlertEntry:
    fingerprint: str
    display: str
    """What the hit shows: the alert's name and its label values."""
    folded: str
    """`display` case-folded, what a query is looked for in."""


def alert_index(alerts: Mapping[str, Alert], shown: Iterable[str]) -> list[AlertEntry]:
    """The alerts shown (fingerprints, in order), ready to search."""
    entries = []
    for fingerprint in shown:
        alert = alerts.get(fingerprint)
        if alert is None:
            continue
        values = " ".join(v for k, v in sorted(alert.labels.items()) if k != "alertname")
        display = f"{alert.name}  {values}"[:120].replace("\n", " ")
        entries.append(AlertEntry(fingerprint, display, display.casefold()))
    return entries


def find_alerts(index: list[AlertEntry], query: str, limit: int = MAX_ALERT_HITS
                ) -> list[AlertEntry]:
    """The first `limit` entries whose name or a label value holds every word of `query`."""
    words = query.casefold().split()
    if not words:
        return []
    hits = []
    for entry in index:
        if all(word in entry.folded for word in words):
            hits.append(entry)
            if len(hits) >= limit:
                break
    return hits


class AlertSearch(Provider):
    """"Go to" an alert of the dashboard's current view (the filter applied)."""

    _index: list[AlertEntry] = []

    async def startup(self) -> None:
        screen = self.screen
        self._index = alert_index(screen.board.alerts, screen.visible_alerts) \
            if isinstance(screen, DashboardScreen) else []

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in find_alerts(self._index, query):
            text = f"Go to {entry.display}"
            yield Hit(max(matcher.match(text), 0.5), matcher.highlight(text),
                      partial(self._go_to, entry.fingerprint), text=text,
                      help="Highlight this alert in the table")

    def _go_to(self, fingerprint: str) -> None:
        if isinstance(self.screen, DashboardScreen) and self.screen.is_attached:
            self.screen.go_to(fingerprint)
