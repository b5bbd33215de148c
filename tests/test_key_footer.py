"""The footer keeps its key widgets while the keys it shows stay the same (a refresh of the
bindings drops nothing: each dropped widget is garbage the TUI keeps until its heap thaws), and
rebuilds them as soon as a key appears, goes or changes."""

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from shiftdeck.widgets.key_footer import KeyFooter

from .support.waiting import wait_until


class FooterApp(App[None]):
    BINDINGS = [Binding("a", "ack", "Ack"), Binding("s", "silence", "Silence")]
    ENABLE_COMMAND_PALETTE = False

    def __init__(self) -> None:
        super().__init__()
        self.can_silence = True

    def compose(self) -> ComposeResult:
        yield Static("board")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return (True if self.can_silence else None) if action == "silence" else True

    def action_ack(self) -> None: ...

    def action_silence(self) -> None: ...


def _keys(app: App) -> list[FooterKey]:
    return list(app.screen.query(FooterKey))


def _shown(app: App) -> list[tuple[str, bool]]:
    return [(k.key, k.has_class("-disabled")) for k in _keys(app)]


async def test_a_key_that_changes_rebuilds_the_footer_after_refreshes_that_changed_none():
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(_keys(app)) == 2)
        before = _keys(app)
        for _ in range(3):
            app.screen.refresh_bindings()
            await pilot.pause()
        # A key that changes proves the footer listened; the first two refreshes changed none.
        app.can_silence = False
        app.screen.refresh_bindings()
        await wait_until(pilot, lambda: _shown(app) == [("a", False), ("s", True)])
        assert not set(map(id, before)) & set(map(id, _keys(app)))


async def test_unchanged_refreshes_leave_the_very_same_widgets():
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(_keys(app)) == 2)
        before = _keys(app)
        app.screen.refresh_bindings()
        await pilot.pause()
        app.can_silence = False  # and back: the last refresh shows what was shown
        app.screen.refresh_bindings()
        await wait_until(pilot, lambda: _shown(app) == [("a", False), ("s", True)])
        changed = _keys(app)
        app.can_silence = True
        app.screen.refresh_bindings()
        await wait_until(pilot, lambda: _shown(app) == [("a", False), ("s", False)])
        again = _keys(app)
        app.screen.refresh_bindings()
        app.screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert [k is a for k, a in zip(_keys(app), again)] == [True, True]
        assert changed[0] is not before[0] and again[0] is not changed[0]
