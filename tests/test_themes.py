import os

from shiftdeck.themes import VARIABLE_DEFAULTS, builtin_themes

from .app_factory import make_app


def test_three_builtin_themes_define_every_domain_colour():
    themes = {theme.name: theme for theme in builtin_themes()}
    assert set(themes) == {"shiftdeck-dark", "shiftdeck-light", "high-contrast"}
    for theme in themes.values():
        assert set(VARIABLE_DEFAULTS) <= set(theme.variables), theme.name


async def test_no_color_is_honoured(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(80, 24)):
        assert app.no_color
    assert os.environ["NO_COLOR"] == "1"
