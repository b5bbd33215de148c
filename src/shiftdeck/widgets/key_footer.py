"""Textual's Footer, rebuilt only when the keys it shows change.

The Footer rebuilds its key widgets each time the screen's bindings are refreshed (a focus
change, a toast, the filter bar opening), even when the keys shown stay the same. The widgets it
drops are reference cycles: in the TUI process they wait for the HeapKeeper's thaw (heap.py),
several thousand objects each time (the storm bench, which opens the filter once a minute,
made ~70 key widgets of garbage a minute). `_bindings_ready` is the Footer's own (textual
is pinned below 9).
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[object, ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        shown = self._keys_shown(screen)
        if shown == self._shown and self._bindings_ready:
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._shown = shown  # what the rebuild that super() schedules will show
        super().bindings_changed(screen)

    def _keys_shown(self, screen: Screen[Any]) -> tuple[object, ...]:
        display = screen.app.get_key_display
        return (self.show_command_palette, *(
            (binding.key, display(binding), binding.description, binding.action,
             binding.group, binding.show, enabled, tooltip)
            for _node, binding, enabled, tooltip in screen.active_bindings.values()))
