"""Running a runbook command: argv per stage, never a shell, pipes connected here.

Each pipeline stage is started with `create_subprocess_exec` in a session (and process group)
of its own, so it has no controlling terminal (nothing can prompt on the dashboard's tty) and a
timeout or a cancel can kill it together with anything it started. stdin is /dev/null. The last
stage's stdout and every stage's stderr share one pipe, read here in chunks and streamed line by
line, sanitised, to the caller; the last `max_lines` lines are kept.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import timedelta

import yaml

from ..domain.commands import Command
from ..domain.kube import KubeTarget
from ..domain.runs import RunResult
from ..domain.sanitize import clean_line

MAX_LINES = 5000
"""Lines of output kept (the pane keeps as many)."""
MAX_LINE_BYTES = 64 * 1024
"""A longer run of bytes without a newline is cut into lines of this size."""
MAX_LINE_CHARS = 4000
"""Characters of a line shown; the rest becomes `…`."""
KILL_GRACE = timedelta(seconds=2)
"""Between SIGTERM and SIGKILL; also how long output may trail the processes' exit."""


class Runner:
    """Runs one command at a time; `cancel()` stops the one running."""

    def __init__(self, *, max_lines: int = MAX_LINES, kill_grace: timedelta = KILL_GRACE) -> None:
        self.max_lines = max_lines
        self.kill_grace = kill_grace
        self._processes: list[asyncio.subprocess.Process] = []
        self._cancel: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def cancel(self) -> None:
        """Kill the running pipeline (from the event loop's thread or any other)."""
        if self._cancel is None or self._loop is None:
            return
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._cancel.set)

    async def run(self, command: Command, on_line: Callable[[str], None],
                  timeout: timedelta) -> RunResult:
        """Run `command`, calling `on_line` with each line of output; see the module docstring.

        Raises ValueError for a refused command (or one with nothing to run), RuntimeError when
        this runner is already running one.
        """
        if command.refused or command.needs_shell:
            raise ValueError(f"refused: {command.refused or 'needs a shell'}")
        if not command.stages or any(not stage for stage in command.stages):
            raise ValueError("nothing to run")
        if self._cancel is not None:
            raise RuntimeError("a command is already running")
        self._loop = asyncio.get_running_loop()
        self._cancel = asyncio.Event()
        started = time.monotonic()
        lines: deque[str] = deque(maxlen=self.max_lines)
        count = 0

        def emit(raw: bytes) -> None:
            nonlocal count
            line = _decode(raw)
            count += 1
            lines.append(line)
            on_line(line)

        try:
            read_fd, error = await self._spawn(command.stages)
            if error:
                emit(error.encode())
            outcome = await self._supervise(read_fd, emit, timeout)
        finally:
            self._cancel = None
        timed_out, cancelled = outcome
        codes = tuple(process.returncode for process in self._processes)
        self._processes = []
        killed = timed_out or cancelled
        exit_code = None if killed else (127 if error else codes[-1] if codes else None)
        return RunResult(
            exit_code=exit_code,
            duration=timedelta(seconds=time.monotonic() - started),
            timed_out=timed_out,
            cancelled=cancelled,
            truncated=count > self.max_lines,
            output=tuple(lines),
            stage_exit_codes=codes,
            error=error,
        )

    # -- starting ---------------------------------------------------------------------- #

    async def _spawn(self, stages: tuple[tuple[str, ...], ...]) -> tuple[int, str]:
        """Start every stage; returns the output pipe's read end and a start-up error ('')."""
        self._processes = []
        read_fd, write_fd = os.pipe()
        stdin: int = subprocess.DEVNULL
        error = ""
        try:
            for index, argv in enumerate(stages):
                last = index == len(stages) - 1
                next_read, stdout = (None, write_fd) if last else os.pipe()
                try:
                    process = await asyncio.create_subprocess_exec(
                        *argv, stdin=stdin, stdout=stdout, stderr=write_fd,
                        start_new_session=True)
                except (OSError, ValueError) as err:
                    error = f"shiftdeck: {argv[0]}: {_start_error(err)}"
                    if next_read is not None:
                        os.close(next_read)
                    break
                finally:
                    if stdin != subprocess.DEVNULL:
                        os.close(stdin)
                        stdin = subprocess.DEVNULL
                    if not last:
                        os.close(stdout)
                self._processes.append(process)
                stdin = next_read if next_read is not None else subprocess.DEVNULL
        finally:
            if stdin != subprocess.DEVNULL:
                os.close(stdin)
            os.close(write_fd)
        if error:
            self._signal(signal.SIGKILL)
        return read_fd, error

    # -- waiting ----------------------------------------------------------------------- #

    async def _supervise(self, read_fd: int, emit: Callable[[bytes], None],
                         timeout: timedelta) -> tuple[bool, bool]:
        """Stream output until every stage has exited; kill on timeout or cancel.
        Returns (timed out, cancelled)."""
        assert self._loop is not None and self._cancel is not None
        reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        transport, _ = await self._loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), pipe)
        pump = asyncio.create_task(_pump(reader, emit))
        exited = asyncio.create_task(self._wait_all())
        cancel = asyncio.create_task(self._cancel.wait())
        timed_out = cancelled = False
        deadline = self._loop.time() + max(timeout.total_seconds(), 0)
        try:
            while (remaining := deadline - self._loop.time()) > 0:
                waiting = {exited, cancel} if pump.done() else {exited, cancel, pump}
                done, _ = await asyncio.wait(waiting, timeout=remaining,
                                             return_when=asyncio.FIRST_COMPLETED)
                if pump in done:
                    pump.result()  # raises if on_line failed: the pipeline is killed below
                if exited in done or cancel in done:
                    break
            if not exited.done():
                cancelled = cancel.done()
                timed_out = not cancelled
                await self._kill(exited)
            await self._drain(pump, exited)
            return timed_out, cancelled
        except BaseException:
            self._signal(signal.SIGKILL)
            raise
        finally:
            cancel.cancel()
            for task in (pump, exited):
                if not task.done():
                    task.cancel()
            transport.close()

    async def _wait_all(self) -> None:
        for process in self._processes:
            await process.wait()

    async def _kill(self, exited: asyncio.Task[None]) -> None:
        """SIGTERM every stage's process group, SIGKILL what is left after the grace."""
        self._signal(signal.SIGTERM)
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(exited), self.kill_grace.total_seconds())
        self._signal(signal.SIGKILL)
        await exited

    async def _drain(self, pump: asyncio.Task[None], exited: asyncio.Task[None]) -> None:
        """Read what the stages wrote before exiting. Output held open by something they
        left behind is not waited for beyond the grace: their groups are killed."""
        await exited
        try:
            await asyncio.wait_for(asyncio.shield(pump), self.kill_grace.total_seconds())
        except TimeoutError:
            self._signal(signal.SIGKILL)
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(pump), self.kill_grace.total_seconds())

    def _signal(self, signum: signal.Signals) -> None:
        for process in self._processes:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signum)


async def _pump(reader: asyncio.StreamReader, emit: Callable[[bytes], None]) -> None:
    pending = b""
    while chunk := await reader.read(MAX_LINE_BYTES):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            emit(raw)
        while len(pending) >= MAX_LINE_BYTES:
            emit(pending[:MAX_LINE_BYTES])
            pending = pending[MAX_LINE_BYTES:]
    if pending:
        emit(pending)


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if "\r" in text:  # what a terminal would show: the text after the last carriage return
        parts = [part for part in text.split("\r") if part]
        text = parts[-1] if parts else ""
    return clean_line(text, MAX_LINE_CHARS)


def _start_error(err: OSError | ValueError) -> str:
    if isinstance(err, ValueError):
        return str(err)
    if isinstance(err, FileNotFoundError):
        return "command not found"
    if isinstance(err, PermissionError):
        return "permission denied"
    return err.strerror or str(err)


# -- where kubectl runs -------------------------------------------------------------- #

MAX_KUBECONFIG = 4 << 20


def kube_target(paths: str) -> KubeTarget:
    """Read the kubeconfig (`paths`: an os.pathsep list, merged as kubectl does: the first file
    to set a value wins). Blocking: call it from a thread. Never runs exec plugins."""
    current = ""
    clusters: dict[str, str] = {}
    problems: list[str] = []
    for path in (p for p in paths.split(os.pathsep) if p):
        try:
            data = _kubeconfig(path)
        except (OSError, ValueError, yaml.YAMLError) as err:
            problems.append(f"{path}: {clean_line(err, 200)}")
            continue
        current = current or str(data.get("current-context") or "")
        for name, cluster in _contexts(data):
            clusters.setdefault(name, cluster)
    return KubeTarget(clean_line(current, 200), tuple(clusters.items()),
                      "; ".join(problems) if not clusters else "")


def _kubeconfig(path: str) -> dict:
    with open(os.path.expanduser(path), "rb") as file:
        raw = file.read(MAX_KUBECONFIG + 1)
    if len(raw) > MAX_KUBECONFIG:
        raise ValueError("larger than 4 MiB")
    data = yaml.safe_load(raw)
    if not isinstance(data, dict):
        raise ValueError("not a kubeconfig")
    return data


def _contexts(data: dict) -> Iterator[tuple[str, str]]:
    for entry in data.get("contexts") or []:
        if isinstance(entry, dict) and isinstance(entry.get("context"), dict):
            yield (clean_line(str(entry.get("name", "")), 200),
                   clean_line(str(entry["context"].get("cluster", "")), 200))
