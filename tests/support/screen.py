"""What the user sees: the current screen as plain text, one line per terminal row."""

from __future__ import annotations


def screen_text(app) -> str:
    """The text of every cell of `app.screen` as drawn now (toasts and overlays included).

    Textual has no public plain-text export (only SVG screenshots), so this is the one place that
    reads its compositor."""
    return "\n".join("".join(seg.text for seg in strip)
                     for strip in app.screen._compositor.render_strips(app.size))
