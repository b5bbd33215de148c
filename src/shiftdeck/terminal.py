"""What the terminal can show: the theme it gets, and the filters that adapt every drawn line.

Rich picks the colour system from COLORTERM (truecolor, 24bit) and the end of TERM (-256color:
256 colours, anything else: 16). Three cases need more than Rich and Textual do by themselves:

- 16 colours (TERM=linux, xterm, screen): the RGB themes fall to the nearest of 16 colours, which
  loses the cursor row (shiftdeck-light's becomes the background; shiftdeck-dark's becomes
  bright black, which the Linux console draws as plain black) and merges P2 with P3. There the
  terminal's own colours are used instead: the shiftdeck-ansi theme.
- NO_COLOR: Textual greys every colour out, which still sends colour codes. shiftdeck sends
  none; reverse video and bold mark what colour marked (app.tcss, the :nocolor rules).
- The Linux console (TERM=linux) draws from a font of 256 or 512 glyphs: the kernel's built-in
  CP437 font, or console-setup's Lat15/Uni2 fonts. What one of them lacks (▓, ▁…▇, ⏎, ✎, ✗, ⚠,
  ●, …, —, rounded corners, ...) would show as a box; it is drawn with what they all have.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter, NoColor

if TYPE_CHECKING:
    from textual.app import App

ANSI_THEME = "shiftdeck-ansi"

# Every character maps to one of the same width (cells are counted before filters run).
CONSOLE_GLYPHS = str.maketrans({
    # sparklines (▁ low … █ high), scrollbar ends, the half-block edges of Textual's borders
    "▁": "_", "▂": ".", "▃": ",", "▄": "-", "▅": "~", "▆": "=", "▇": "#", "▀": "-", "▔": "-",
    "▓": "#",  # the P2 glyph, between █ (P1) and ▒ (P3)
    "▉": "│", "▊": "│", "▋": "│", "▌": "│", "▍": "│", "▎": "│", "▏": "│", "▐": "│", "▕": "│",
    "▗": " ", "▖": " ", "▝": " ", "▘": " ", "▛": "┌", "▜": "┐", "▙": "└", "▟": "┘",
    "╭": "┌", "╮": "┐", "╰": "└", "╯": "┘", "━": "─", "┃": "│", "┏": "┌", "┓": "┐",
    "┗": "└", "┛": "┘", "╍": "─", "╏": "│",
    "⏎": "┘",  # the enter key: the shape of ↵
    "⇥": ">", "⌫": "<", "❱": ">", "▸": ">", "▾": "v", "▴": "^",
    "…": "~", "⋯": "~", "—": "-", "–": "-", "‣": ">", "▪": "*", "⭑": "*", "◦": "o",
    "✎": "*", "⚠": "!", "✗": "x", "●": "*", "⟦": "[", "⟧": "]",
    "🔎": "> ",  # the command palette's icon: two cells
})
"""Glyphs missing from a Linux console font → ASCII, or a glyph every console font has."""


class ConsoleGlyphs(LineFilter):
    """Redraws the glyphs the Linux console's fonts lack (CONSOLE_GLYPHS)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [segment if segment.control else
                Segment(segment.text.translate(CONSOLE_GLYPHS), segment.style)
                for segment in segments]


def linux_console(environ: Mapping[str, str]) -> bool:
    term = environ.get("TERM", "")
    return term == "linux" or term.startswith("linux-")


def no_color(environ: Mapping[str, str]) -> bool:
    return "NO_COLOR" in environ  # as Textual reads it: set, even empty


def theme_for(app: App, configured: str) -> str:
    """The configured theme, unless the terminal shows only 16 colours (`t` still cycles).
    Headless (in tests) there is no terminal, and Rich's guess from TERM means nothing."""
    sixteen = app.console.color_system in ("standard", "windows")
    return ANSI_THEME if sixteen and not app.is_headless else configured


def line_filters(environ: Mapping[str, str]) -> tuple[LineFilter, ...]:
    """Filters for App.get_line_filters: created once, as Textual caches strips per filter."""
    filters: list[LineFilter] = []
    if no_color(environ):
        filters.append(NoColor())
    if linux_console(environ):
        filters.append(ConsoleGlyphs())
    return tuple(filters)
