"""How a runbook command ended, and what a screen may ask of the thing that runs it.

sources.runner.Runner is the real runner; screens see only these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from .commands import Command


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a command ended."""

    exit_code: int | None
    """The last stage's exit status (negative: killed by that signal, as asyncio reports it);
    None when shiftdeck killed the pipeline (timeout or cancel); 127 when a program could not be
    started."""
    duration: timedelta
    timed_out: bool
    cancelled: bool
    truncated: bool
    """More than `max_lines` lines were produced: `output` holds the last ones."""
    output: tuple[str, ...] = ()
    """The last `max_lines` lines, sanitised, as streamed."""
    stage_exit_codes: tuple[int | None, ...] = ()
    """Every stage's exit status, in order (a failing `kubectl` before `| tail` shows here)."""
    error: str = ""
    """Why the command could not be started, or ''."""


class CommandRunner(Protocol):
    """Runs one command at a time."""

    async def run(self, command: Command, on_line: Callable[[str], None],
                  timeout: timedelta) -> RunResult:
        """Run `command`, calling `on_line` with each line of output. Raises ValueError for a
        refused command, RuntimeError when one is already running."""
        ...

    def cancel(self) -> None:
        """Kill the running command, if any (from any thread)."""
        ...
