"""Leaving, k9s' way: `q` quits on the dashboard and goes back on every other screen; ctrl+c and
ctrl+q quit from anywhere. Quitting asks first while a write or a runbook command is in flight
(cut short, it may or may not have reached the server)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from .confirm import QuitConfirmScreen
from .runbook import RunbookScreen

LEAVE_BINDINGS = [
    Binding("q", "quit", "Quit", id="quit"),
    Binding("q", "go_back", "Back", show=False, id="go_back"),
    # not priority: a text selection's copy and the runbook's "cancel the run" come first
    Binding("ctrl+c,ctrl+q", "quit(True)", "Quit", show=False, id="quit_anywhere",
            tooltip="Quit from any screen (asks first while a write or a command runs)"),
]
"""The app's keys for leaving; `leave_allowed` picks which of the two `q`s applies."""


def leave_allowed(action: str, parameters: tuple[object, ...], on_sub_screen: bool) -> bool:
    """For the app's check_action: plain `q` quits on the dashboard, goes back elsewhere."""
    if action in ("quit", "go_back") and parameters == ():
        return (action == "go_back") == on_sub_screen
    return True


def in_flight(writes: Iterable[str], stack: Iterable[Screen[Any]]) -> list[str]:
    """What quitting now would cut short, in words: the writes (`Requests.in_flight`) and the
    runbook commands running on the screens of `stack`."""
    return [*writes, *(f"a runbook command for {screen.alert.name}" for screen in stack
                       if isinstance(screen, RunbookScreen) and screen.running)]


def quit_or_ask(app: App[Any], running: list[str]) -> None:
    """Exit now when nothing runs; else ask (once: not over the question already asked)."""
    if not running:
        app.exit()
    elif not isinstance(app.screen, QuitConfirmScreen):
        app.push_screen(QuitConfirmScreen(running), lambda yes: app.exit() if yes else None)
