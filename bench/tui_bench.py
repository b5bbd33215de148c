"""What a user feels in a real terminal: the shiftdeck TUI in a pty, measured from outside.

Every function takes a running `PtySession` and only writes keys and watches output, so the
numbers include Textual's input parsing, the app's work, rendering and the terminal writes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cli_bench import shiftdeck_cmd
from pty_driver import QUIET, PtySession, die_with_parent

BENCH = Path(__file__).resolve().parent
ESC = b"\x1b"
HEADER = re.compile(rb"P1:\d+ ")
"""The header's P1 segment with any count: the first frame (before the first poll, `P1:0 `)."""
FIRST_ROWS = "\u2588 P1".encode()
"""A P1 row's severity mark (the bench's alerts sort P1 first): the table's rows are drawn."""
LOADING = re.compile(r"(?i)\bloading\b")
TERMINAL_ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|.)", re.S)


@dataclass(frozen=True)
class Startup:
    to_marker: float | None
    """Seconds from spawn until the header shows the expected P1 count and the table its rows."""
    to_settled: float | None
    """Seconds from spawn until output then stayed quiet for 100 ms (frame complete)."""
    to_header: float | None = None
    """Seconds from spawn until the first frame with the header (any P1 count)."""
    loading_text: bool = False
    """Whether "loading" was written before the table was shown."""


@dataclass(frozen=True)
class KeyTiming:
    label: str
    first_byte: float | None
    settled: float | None
    bytes: int
    """Bytes written to the terminal for this key (until output settled)."""


def tui_argv(config: Path) -> list[str]:
    return [*shiftdeck_cmd(), "--config", str(config)]


def p1_marker(p1_count: int) -> bytes:
    """The header draws `P1:<n> ` (one segment); before the first poll it says `P1:0 `."""
    return f"P1:{p1_count} ".encode()


def measure_startup(tui: PtySession, marker: bytes, timeout: float) -> Startup:
    header = tui.wait_for(HEADER, timeout)
    counted = tui.wait_for(marker, timeout)
    # The header counts as soon as the Shift has the alerts; the rows come once they are
    # filtered and sorted, in a worker: ~0.2 s later at 50k. The table is there with both.
    rows = tui.wait_for(FIRST_ROWS, timeout) if counted is not None else None
    if counted is None or rows is None:
        return Startup(None, None)
    seen = max(counted, rows)
    settled = tui.wait_quiet(0.100, timeout=timeout)
    before_table = b"".join(tui.chunks_between(tui.started_at, seen))
    text = TERMINAL_ESCAPES.sub(b"", before_table).decode(errors="replace")
    loading = bool(LOADING.search(text))
    return Startup(seen - tui.started_at, max(seen, settled) - tui.started_at,
                   None if header is None else header - tui.started_at, loading)


HEADER_LINE = re.compile(r" shiftdeck (.*?)P1:")


def wait_all_answered(tui: PtySession, sources: int, timeout: float) -> bool:
    """Until the header's last drawn state shows `sources` sources `ok` and none still
    loading (`…`): an HA cluster's other peers answer a moment after the table is shown
    (their answers change what the detail pane says), and idle begins after that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drawn = b"".join(tui.chunks_between(tui.started_at, time.monotonic()))
        headers = HEADER_LINE.findall(TERMINAL_ESCAPES.sub(b"", drawn).decode(errors="replace"))
        if headers and headers[-1].count(" ok") >= sources and "\u2026" not in headers[-1]:
            return True
        time.sleep(0.05)
    return False


def idle_output(tui: PtySession, seconds: float) -> tuple[float, int]:
    """(bytes per second, number of writes) while nobody touches the keyboard."""
    tui.wait_quiet(0.2)
    t0 = time.monotonic()
    time.sleep(seconds)
    window = tui.chunks_between(t0, t0 + seconds)
    return sum(map(len, window)) / seconds, len(window)


def cursor_keys(tui: PtySession, key: bytes = b"j", presses: int = 30) -> list[KeyTiming]:
    return [KeyTiming(key.decode(), *tui.press(key)) for _ in range(presses)]


def cursor_keys_over(tui: PtySession, seconds: float, gap: float = 0.2,
                     key: bytes = b"j") -> list[KeyTiming]:
    """Press `key` every ~`gap` s for `seconds` (e.g. one refresh interval), so that some press
    lands while a poll is being processed: the max shows what a poll costs the UI."""
    end = time.monotonic() + seconds
    timings = []
    while time.monotonic() < end:
        timings.append(KeyTiming(key.decode(), *tui.press(key)))
        time.sleep(gap)
    return timings


def poll_meeting_keys(tui: PtySession, refresh: float, windows: int,
                      gap: float = 0.1, key: bytes = b"j") -> list[list[KeyTiming]]:
    """Press `key` every ~`gap` s for `windows` refresh intervals, one list per interval: each
    interval holds one poll, so its slowest press is what that poll cost the user."""
    return [cursor_keys_over(tui, refresh, gap, key) for _ in range(windows)]


def filter_keys(tui: PtySession, text: str, cleared: re.Pattern[bytes]) -> list[KeyTiming]:
    """Open the filter with `/`, type `text` one key at a time, then clear it with Escape.

    Each partial text is a live filter over every alert (e.g. `n` means alertname=n). The last
    timing is Escape, measured until `cleared` (text only an unfiltered table shows) is drawn:
    quiet-based timing cannot tell the filter input's blinking cursor from the repaint there.
    """
    timings = [KeyTiming("/", *tui.press(b"/"))]
    for char in text:
        timings.append(KeyTiming(char, *tui.press(char.encode())))
    tui.wait_quiet()
    since = tui.mark()
    sent = tui.write(ESC)
    drawn = tui.wait_for(cleared, timeout=10.0, since=since)
    shown = None if drawn is None else drawn - sent
    timings.append(KeyTiming("escape", shown, shown, 0))
    tui.wait_quiet(0.3)
    return timings


def hold_key(tui: PtySession, key: bytes = b"j", rate: float = 20.0,
             seconds: float = 3.0) -> tuple[float, float]:
    """Auto-repeat `key` at `rate`/s for `seconds`; return (bytes per second written while
    held, seconds from the last press until the output settled = backlog)."""
    tui.wait_quiet(0.2)
    t0 = time.monotonic()
    last_write = t0
    for i in range(int(rate * seconds)):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        last_write = tui.write(key)
    end = t0 + seconds
    time.sleep(max(0.0, end - time.monotonic()))
    rate_bps = tui.bytes_between(t0, end) / seconds
    settled = tui.wait_quiet(QUIET, timeout=30)
    return rate_bps, max(0.0, settled - last_write)


def pilot_startup(config: Path, expect: int, cols: int = 120, rows: int = 40,
                  timeout: float = 120.0) -> dict:
    """Run bench/pilot_start.py in a fresh interpreter; its JSON result (or an error)."""
    argv = [sys.executable, str(BENCH / "pilot_start.py"), "--config", str(config),
            "--expect", str(expect), "--cols", str(cols), "--rows", str(rows),
            "--timeout", str(timeout)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 30,
                          stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (proc.stderr or proc.stdout)[-500:]}
