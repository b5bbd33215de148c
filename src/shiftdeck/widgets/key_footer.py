"""The keys the screen offers, drawn as one line of text.

Textual's Footer is a container of one widget per key, rebuilt whenever the screen's bindings
change. Opening the filter changes them (the letters go to the input), and that rebuild, with
the styling of each new key widget, cost the filter's first keystroke more than the filter
itself; the widgets it dropped were garbage the TUI kept until its heap thawed (heap.py). This
footer keeps one line: a change of keys is a repaint of that line, and a change that leaves the
shown keys as they were is nothing at all. It looks like Textual's Footer (the same theme
variables); a click on a key presses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


@dataclass(frozen=True, slots=True)
class ShownKey:
    key: str
    display: str
    description: str
    enabled: bool


class KeyFooter(Widget):
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom; height: 1; width: 1fr; text-wrap: nowrap; text-overflow: clip;
        color: $footer-foreground; background: $footer-background;
        & > .key-footer--key { color: $footer-key-foreground; background: $footer-key-background;
            text-style: bold; }
        & > .key-footer--description { color: $footer-description-foreground;
            background: $footer-description-background; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: tuple[ShownKey, ...] = ()
        self._spans: tuple[tuple[int, int, ShownKey], ...] = ()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        shown = shown_keys(screen)
        if shown != self.shown:
            self.shown = shown
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        text = Text(no_wrap=True, overflow="crop", end="")
        spans = []
        for shown in self.shown:
            dim = Style() if shown.enabled else Style(dim=True)
            start = len(text)
            text.append(f" {shown.display} ", key_style + dim)
            if shown.description:
                text.append(f"{shown.description} ", description_style + dim)
            spans.append((start, len(text), shown))
        self._spans = tuple(spans)
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, shown in self._spans:
            if start <= event.x < end:
                if shown.enabled:
                    self.app.simulate_key(shown.key)
                else:
                    self.app.bell()
                return


def shown_keys(screen: Screen[Any]) -> tuple[ShownKey, ...]:
    """What Textual's Footer shows: the first shown binding of each action, in order (the
    command palette's key is left to help)."""
    display = screen.app.get_key_display
    actions: dict[str, ShownKey] = {}
    for _node, binding, enabled, _tooltip in screen.active_bindings.values():
        if binding.show and binding.action not in actions:
            actions[binding.action] = ShownKey(binding.key, display(binding),
                                               binding.description, enabled)
    return tuple(actions.values())
