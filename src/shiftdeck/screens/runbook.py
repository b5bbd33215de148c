"""The alert's runbook, its commands runnable inline, and their output.

Read-only commands run on `enter`; dangerous ones ask first (only `y` runs them), showing the
exact argv and where it will run; commands that need a shell, and every command of a runbook the
alert pointed at outside the team's places, are never run: they are copied to the clipboard
instead. Output is plain text (a Log, never markup), capped, and can be cancelled.
"""

from __future__ import annotations

from pathlib import PurePath

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Log, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from ..domain.alerts import Alert
from ..domain.commands import Command
from ..domain.runbooks import Runbook
from ..domain.urls import mask_url

MAX_OUTPUT_LINES = 5000


def source_label(source: str) -> str:
    """A URL as it is; a file by its name, as its directory is in the config (on one line at 80
    columns, the name is what would be cut off)."""
    return mask_url(source) if "://" in source else PurePath(source).name


def command_label(command: Command) -> Content:
    if command.refused:
        return Content.assemble(("✗ ", "$error"), (command.text, "$text-muted"))
    if command.dangerous:
        return Content.assemble(("⚠ ", "bold $warning"), command.text)
    return Content.assemble(("▶ ", "$success"), command.text)


class RunbookScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="close_runbook"),
        Binding("ctrl+c", "cancel_command", "Cancel run", id="cancel_command"),
        Binding("tab", "app.focus_next", "Next pane", show=False, id="runbook_focus"),
    ]
    DEFAULT_CSS = """
    RunbookScreen #runbook-title { height: 1; background: $panel; text-style: bold;
        text-wrap: nowrap; text-overflow: ellipsis; }
    RunbookScreen #runbook-body { height: 1fr; }
    RunbookScreen #runbook-commands { height: 7; border-top: solid $panel; }
    RunbookScreen #runbook-output { height: 8; border-top: solid $panel; }
    RunbookScreen.-wide #runbook-commands { height: 9; }
    RunbookScreen.-wide #runbook-output { height: 12; }
    """
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-wide")]

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert
        self.commands: list[Command] = []
        self.running = False
        self.kube_target: object | None = None
        """Where kubectl commands go (sources.runner.KubeTarget), set with the commands."""

    def compose(self) -> ComposeResult:
        yield Static(Content(f" Runbook: {self.alert.name} — loading…"), id="runbook-title")
        with Vertical():
            with VerticalScroll(id="runbook-body"):
                # Remote runbooks are untrusted: a link never opens by itself.
                yield Markdown("", open_links=False, id="runbook-markdown")
            yield OptionList(id="runbook-commands")
            yield Log(max_lines=MAX_OUTPUT_LINES, id="runbook-output")
        yield Footer()

    def on_mount(self) -> None:
        self.app.load_runbook_for(self)

    def show_runbook(self, runbook: Runbook, commands: list[Command], more: int = 0) -> None:
        """Called by the app once the runbook (or the level's checklist) and its commands are
        ready; `more`: commands beyond the cap, not offered."""
        if not self.is_attached:
            return  # closed (esc) before the runbook arrived
        title = self.query_one("#runbook-title", Static)
        if runbook.found:
            source = source_label(runbook.source)
            trust = " — copy only" if runbook.untrusted else ""
            title.update(Content(f" Runbook: {self.alert.name} ({source}){trust}"))
        else:
            title.update(Content(f" {self.alert.name}: no runbook — the {self.alert.level} "
                                 "checklist"))
        text = runbook.markdown
        if runbook.unknown_variables:
            text += "\n\n> Unknown template variables: " + ", ".join(
                f"`{v}`" for v in runbook.unknown_variables)
        self.query_one("#runbook-markdown", Markdown).update(text)
        self.commands = commands
        options = self.query_one("#runbook-commands", OptionList)
        options.clear_options()
        options.add_options([Option(command_label(c)) for c in self.commands])
        if more:
            options.add_option(Option(Content(f"{more} more commands not offered"),
                                      disabled=True))
        if runbook.untrusted:
            self.output(f"✗ {runbook.untrusted}")
        if self.commands:
            options.highlighted = 0
            options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if not self.running:
            self.app.run_runbook_command(self, self.commands[event.option_index])

    def output(self, line: str) -> None:
        if not self.is_attached:
            return  # a command still running after the screen was closed
        self.query_one("#runbook-output", Log).write_line(line)

    def action_cancel_command(self) -> None:
        self.app.cancel_runbook_command()
