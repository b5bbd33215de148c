"""The alert's runbook, its commands runnable inline, and their output.

Read-only commands run on `enter`; dangerous ones ask first (only `y` runs them), showing the
exact argv and where it will run; commands that need a shell, and every command of a runbook the
alert pointed at outside the team's places, are never run: they are copied to the clipboard
instead. Output is plain text (never markup), wrapped, capped, and can be cancelled; `z` lets it
take the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import PurePath

from rich.text import Text
from textual import work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Markdown, OptionList, RichLog, Static
from textual.widgets.option_list import Option

from ..domain.alerts import Alert
from ..domain.commands import KUBE_PROGRAMS, Command
from ..domain.durations import format_duration
from ..domain.kube import KubeTarget
from ..domain.runbooks import Runbook
from ..domain.runs import CommandRunner, RunResult
from ..domain.urls import mask_url
from ..messages import CommandRan
from ..services.clipboard import Clipboard
from ..services.runbooks import RunbookLoader
from ..widgets.key_footer import KeyFooter
from .confirm import RunConfirmScreen

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
        Binding("z", "zoom_output", "Output full screen", id="zoom_output",
                tooltip="The command output takes the screen (z again: the runbook back)"),
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
    RunbookScreen.-output-full #runbook-body, RunbookScreen.-output-full #runbook-commands {
        display: none; }
    RunbookScreen.-output-full #runbook-output { height: 1fr; }
    """
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-wide")]

    def __init__(self, alert: Alert, loader: RunbookLoader, clipboard: Clipboard, *,
                 timeout: timedelta, read_only: bool,
                 new_runner: Callable[[], CommandRunner]) -> None:
        """`timeout`: how long a command may run (the whole pipeline is killed after);
        `new_runner`: a runner for each command."""
        super().__init__()
        self.alert = alert
        self.commands: list[Command] = []
        self.running = False
        self.output_lines: list[str] = []
        """Everything written to the output pane, as plain text."""
        self.kube_target: KubeTarget | None = None
        """Where kubectl commands go, set with the commands."""
        self._loader = loader
        self._clipboard = clipboard
        self._timeout = timeout
        self._read_only = read_only
        self._new_runner = new_runner
        self._runner: CommandRunner | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content(f" Runbook: {self.alert.name} — loading…"), id="runbook-title")
        with Vertical():
            with VerticalScroll(id="runbook-body"):
                # Remote runbooks are untrusted: a link never opens by itself.
                yield Markdown("", open_links=False, id="runbook-markdown")
            yield OptionList(id="runbook-commands")
            yield RichLog(max_lines=MAX_OUTPUT_LINES, wrap=True, id="runbook-output")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._load()

    @work(group="runbook", exclusive=True)
    async def _load(self) -> None:
        prepared = await self._loader.load(self.alert)
        self.kube_target = prepared.target
        self.show_runbook(prepared.runbook, prepared.commands, prepared.more)

    def show_runbook(self, runbook: Runbook, commands: list[Command], more: int = 0) -> None:
        """The runbook (or the level's checklist) and its commands; `more`: commands beyond the
        cap, not offered."""
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
            self.run_command(self.commands[event.option_index])

    def run_command(self, command: Command) -> None:
        if command.refused:
            # The clipboard text fills in only values that are harmless in any shell.
            self._clipboard.copy(command.clipboard)
            self.notify("Command copied to the clipboard (OSC 52).", timeout=4)
            self.output(f"✗ {command.refused}")
        elif not command.dangerous:
            self._run(command)
        elif self._read_only:
            self.output("✗ read-only: dangerous commands are refused")
        else:
            body = Content(confirm_text(command, self.alert, self.kube_target))
            def answered(yes: bool | None) -> None:
                if yes:
                    self._run(command)

            self.app.push_screen(RunConfirmScreen("Run this dangerous command?", body), answered)

    @work(group="command")
    async def _run(self, command: Command) -> None:
        self.running = True
        self.output(f"$ {command.text}")
        self._runner = self._new_runner()
        try:
            result = await self._runner.run(command, self.output, self._timeout)
        except (OSError, ValueError) as err:
            self.output(f"✗ could not run: {err}")
            return
        finally:
            self.running = False
        self.output(ending(result, self._timeout))
        argv = [arg for i, stage in enumerate(command.stages)
                for arg in (["|"] if i else []) + list(stage)]
        self.post_message(CommandRan(self.alert, argv, result.exit_code, result.duration))

    def output(self, line: str) -> None:
        if not self.is_attached:
            return  # the screen is closing
        self.output_lines = [*self.output_lines[1 - MAX_OUTPUT_LINES:], line]
        self.query_one("#runbook-output", RichLog).write(Text(line))  # Text: never markup

    def action_cancel_command(self) -> None:
        if not self.running:
            raise SkipAction()  # ctrl+c with nothing to cancel: the app's quit takes it
        if self._runner is not None:
            self._runner.cancel()

    def action_zoom_output(self) -> None:
        self.toggle_class("-output-full")


def ending(result: RunResult, timeout: timedelta) -> str:
    """The line under a command's output: how it ended and after how long."""
    took = _took(result.duration)
    if result.cancelled:
        line = f"── cancelled after {took}"
    elif result.timed_out:
        line = f"── killed after {took}: it ran out of its {format_duration(timeout)} timeout"
    else:
        line = f"── exit {result.exit_code} in {took}"
    return line + (" (output truncated)" if result.truncated else "")


def _took(duration: timedelta) -> str:
    """Tenths of a second under a minute (a cancel after 2.1s), then format_duration."""
    seconds = duration.total_seconds()
    return f"{seconds:.1f}s" if seconds < 60 else format_duration(duration)


def confirm_text(command: Command, alert: Alert, target: KubeTarget | None) -> str:
    """What the confirm shows: the text, each stage's exact argv, and where it runs."""
    argv = "\n".join(f"  argv: {list(stage)!r}" for stage in command.stages)
    kube = any(stage[0].rsplit("/", 1)[-1] in KUBE_PROGRAMS for stage in command.stages)
    if not kube:
        return f"{command.text}\n{argv}\n  runs on this machine, as you"
    target = target or KubeTarget()
    context = command.context or f"none found ({target.problem or 'no current-context'})"
    cluster = target.cluster_of(command.context) or "unknown"
    label = alert.labels.get("cluster", "")
    mapped = f" (alert cluster label: {label})" if label else ""
    return (f"{command.text}\n{argv}\n  kube context: {context}   cluster: {cluster}{mapped}\n"
            f"  namespace: {command.namespace or '(the context default)'}")
