"""themes/*.yaml → Textual themes. Domain colours (severity, states) are theme variables."""

from __future__ import annotations

from pathlib import Path

import yaml
from textual.theme import Theme

THEME_DIR = Path(__file__).parent / "themes"

# Every variable the stylesheet uses, with a fallback for themes that leave one out.
VARIABLE_DEFAULTS = {
    "severity-p1": "#FF5F5F",
    "severity-p2": "#FFB454",
    "severity-p3": "#E6E16A",
    "severity-p4": "#8FA1B3",
    "state-pending": "#C2A0FF",
    "state-muted": "#6C7A89",
    "state-acked": "#56C2D6",
    "state-resolved": "#5C8A5C",
}

_THEME_KEYS = {"name", "dark", "ansi", "primary", "secondary", "accent", "foreground", "background",
               "surface", "panel", "success", "warning", "error", "boost", "luminosity_spread",
               "text_alpha", "variables"}


def load_theme(path: Path) -> Theme:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    unknown = set(data) - _THEME_KEYS
    if unknown:
        raise ValueError(f"{path}: unknown theme keys: {', '.join(sorted(unknown))}")
    return Theme(**data)


def builtin_themes() -> list[Theme]:
    return [load_theme(path) for path in sorted(THEME_DIR.glob("*.yaml"))]
