import os
from types import SimpleNamespace

import pytest

from shiftdeck.terminal import ANSI_THEME, theme_for
from shiftdeck.themes import VARIABLE_DEFAULTS, builtin_themes

from .support.app_factory import make_app


def test_builtin_themes_define_every_domain_colour():
    themes = {theme.name: theme for theme in builtin_themes()}
    assert set(themes) == {"shiftdeck-dark", "shiftdeck-light", "high-contrast", ANSI_THEME}
    for theme in themes.values():
        assert set(VARIABLE_DEFAULTS) <= set(theme.variables), theme.name


def test_the_ansi_theme_keeps_to_16_colours_that_read_on_any_terminal():
    theme = {theme.name: theme for theme in builtin_themes()}[ANSI_THEME]
    assert theme.ansi
    colours = {"primary": theme.primary, "accent": theme.accent, "warning": theme.warning,
               "error": theme.error, "success": theme.success, "foreground": theme.foreground,
               "background": theme.background, "surface": theme.surface, "panel": theme.panel,
               **{k: v for k, v in theme.variables.items() if not k.endswith("text-style")}}
    assert all(c.startswith("ansi_") for c in colours.values()), colours
    # The Linux console draws bright backgrounds as plain ones.
    backgrounds = {k: c for k, c in colours.items()
                   if k.endswith("background") or k in ("surface", "panel")}
    assert not [k for k, c in backgrounds.items() if c.startswith("ansi_bright")], backgrounds
    assert theme.variables["block-cursor-background"] not in (theme.background, "ansi_default")
    # Text on the terminal's own background reads on dark and light terminals alike.
    text = {k: c for k, c in colours.items()
            if k.startswith(("severity-", "state-")) or k in ("primary", "accent", "warning",
                                                             "error", "success")}
    assert not [k for k, c in text.items()
                if c in ("ansi_bright_yellow", "ansi_white", "ansi_bright_white")], text
    levels = [theme.variables[f"severity-p{n}"] for n in range(1, 5)]
    states = [theme.variables[f"state-{s}"] for s in ("pending", "muted", "acked", "resolved")]
    assert len(set(levels)) == 4 and len(set(states)) == 4


@pytest.mark.parametrize("colours, headless, theme", [
    ("truecolor", False, "shiftdeck-light"), ("256", False, "shiftdeck-light"),
    ("standard", False, ANSI_THEME), ("standard", True, "shiftdeck-light"),
])
def test_16_colour_terminals_get_the_ansi_theme(colours, headless, theme):
    app = SimpleNamespace(console=SimpleNamespace(color_system=colours), is_headless=headless)
    assert theme_for(app, "shiftdeck-light") == theme


async def test_no_color_is_honoured(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(80, 24)):
        assert app.no_color
    assert os.environ["NO_COLOR"] == "1"
