"""What the user sees: the current screen as plain text, one line per terminal row."""

from __future__ import annotations


def screen_text(app) -> str:
    """The text of every cell of `app.screen` as drawn now (toasts and overlays included).

    Textual has no public plain-text export (only SVG screenshots), so this is the one place that
    reads its compositor."""
    return "\n".join("".join(seg.text for seg in strip)
                     for strip in app.screen._compositor.render_strips(app.size))


def record_refreshes(widget) -> list:
    """From now on `widget` draws nothing and each repaint it asks for is recorded: the list of
    the regions of every `refresh()` call (an empty tuple: the whole widget)."""
    asked: list = []
    widget.refresh = lambda *regions, **kw: asked.append(regions)
    return asked
