"""The footer is one line of the keys the screen offers: a change of keys repaints that line, a
refresh of the bindings that changes no shown key repaints nothing, and no widget is made or
dropped either way (the filter's first keystroke used to rebuild a widget per key)."""

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from shiftdeck.widgets.key_footer import KeyFooter

from .support.screen import record_refreshes, screen_text
from .support.waiting import wait_until


class FooterApp(App[None]):
    BINDINGS = [Binding("a", "ack", "Ack"), Binding("A", "ack", "Ack all"),
                Binding("s", "silence", "Silence"), Binding("x", "hidden", "Hidden", show=False)]
    AUTO_FOCUS = None  # the keys go to the app until the input is focused

    def __init__(self) -> None:
        super().__init__()
        self.can_silence = True
        self.acked = 0

    def compose(self) -> ComposeResult:
        yield Static("board")
        yield Input(id="typing")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return (True if self.can_silence else None) if action == "silence" else True

    def action_ack(self) -> None:
        self.acked += 1

    def action_silence(self) -> None: ...

    def action_hidden(self) -> None: ...


def _keys(app: App) -> list[tuple[str, str, bool]]:
    return [(k.key, k.description, k.enabled) for k in app.query_one(KeyFooter).shown]


async def test_the_footer_shows_each_shown_action_once_in_its_bindings_order():
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: _keys(app) == [("a", "Ack", True),
                                                       ("s", "Silence", True)])
        assert screen_text(app).splitlines()[-1].startswith(" a Ack  s Silence ")


async def test_a_key_that_changes_repaints_the_line_and_an_unchanged_refresh_does_not():
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(_keys(app)) == 2)
        footer = app.query_one(KeyFooter)
        repaints = record_refreshes(footer)
        app.can_silence = False
        app.screen.refresh_bindings()
        await wait_until(pilot, lambda: _keys(app)[1] == ("s", "Silence", False))
        assert repaints == [()]
        for _ in range(3):  # each unchanged refresh reaches the footer before the one after it
            app.screen.refresh_bindings()
        app.can_silence = True
        app.screen.refresh_bindings()
        await wait_until(pilot, lambda: _keys(app)[1] == ("s", "Silence", True))
        assert repaints == [(), ()]


async def test_focus_moving_to_an_input_changes_the_keys_without_a_widget_made_or_dropped():
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(_keys(app)) == 2)
        footer = app.query_one(KeyFooter)
        widgets = list(app.screen.walk_children())
        app.query_one("#typing").focus()
        await wait_until(pilot, lambda: _keys(app) == [])  # letters go to the input now
        assert list(app.screen.walk_children()) == widgets
        assert app.query_one(KeyFooter) is footer


async def test_a_click_on_a_key_presses_it_and_a_click_on_a_disabled_key_does_nothing():
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(_keys(app)) == 2)
        app.can_silence = False
        app.screen.refresh_bindings()
        await wait_until(pilot, lambda: _keys(app)[1][2] is False)
        await pilot.click(KeyFooter, offset=(2, 0))  # " a Ack ": the a
        await wait_until(pilot, lambda: app.acked == 1)
        await pilot.click(KeyFooter, offset=(9, 0))  # " s Silence ", disabled: a bell
        await pilot.click(KeyFooter, offset=(4, 0))  # "Ack"
        await wait_until(pilot, lambda: app.acked == 2)
