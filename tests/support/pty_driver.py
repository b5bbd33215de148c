"""Run a program in a pseudo-terminal and watch, with timestamps, what it writes to it.

A reader thread drains the pty master continuously (so the child never blocks on a full pty)
and records every chunk as (monotonic time, bytes). Measurements then ask questions about that
log: when did a marker first appear, how long until output went quiet, how many bytes arrived
in a window.

    with PtySession(["shiftdeck", "--config", path], cols=120, rows=40) as tui:
        t = tui.wait_for(b"P1:1514 ", timeout=60)
        first, settled, nbytes = tui.press(b"j")
        print(tui.peak_rss_kb())
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence

_ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|.)", re.S)

QUIET = 0.020
"""Output is 'settled' once nothing arrived for this long (seconds)."""

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGKILL when the benchmark dies, even by SIGKILL (Linux)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _preexec() -> None:
    """In the child: make the pty its controlling terminal (it is already a session leader)
    and die with the benchmark."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    die_with_parent()


def set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class PtySession:
    """A child process on a fresh pty of `cols` x `rows`, with TERM=`term`."""

    def __init__(self, argv: Sequence[str], *, cols: int = 120, rows: int = 40,
                 env: dict[str, str] | None = None, term: str = "xterm-256color") -> None:
        self.argv = list(argv)
        self.cols, self.rows = cols, rows
        self.env = {**(env if env is not None else os.environ), "TERM": term,
                    "COLUMNS": str(cols), "LINES": str(rows)}
        self.proc: subprocess.Popen[bytes] | None = None
        self.master = -1
        self.started_at = 0.0
        self._chunks: list[tuple[float, bytes]] = []
        self._total = 0
        self._cond = threading.Condition()
        self._reader: threading.Thread | None = None
        self._eof = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> PtySession:
        master, slave = os.openpty()
        set_size(slave, self.cols, self.rows)
        self.master = master
        try:
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(
                self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env,
                start_new_session=True, preexec_fn=_preexec, close_fds=True,
            )
        finally:
            os.close(slave)
        self._reader = threading.Thread(target=self._read_loop, name="pty-reader", daemon=True)
        self._reader.start()
        return self

    def close(self, quit_key: bytes | None = b"q", grace: float = 5.0) -> None:
        """Quit politely with `quit_key`, then SIGTERM, then SIGKILL; always reap and close."""
        proc = self.proc
        if proc is not None:
            try:
                if proc.poll() is None and quit_key:
                    self.write(quit_key)
                    _wait(proc, grace)
                if proc.poll() is None:
                    proc.terminate()
                    _wait(proc, grace)
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
            finally:
                self.proc = None
        if self._reader is not None:
            self._reader.join(timeout=2)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def __enter__(self) -> PtySession:
        try:
            return self.start()
        except BaseException:
            self.close(quit_key=None)
            raise

    def __exit__(self, *exc: object) -> None:
        self.close(quit_key=None if exc[0] is not None else b"q")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    # -- I/O ---------------------------------------------------------------------------------

    def _read_loop(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.5)
                if not ready:
                    continue
                data = os.read(self.master, 65536)
            except (OSError, ValueError):
                break
            if not data:
                break
            now = time.monotonic()
            with self._cond:
                self._chunks.append((now, data))
                self._total += len(data)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def write(self, data: bytes) -> float:
        """Write to the child's terminal input; returns the monotonic time of the write."""
        t = time.monotonic()
        os.write(self.master, data)
        return t

    @property
    def total_bytes(self) -> int:
        with self._cond:
            return self._total

    def output(self) -> bytes:
        with self._cond:
            return b"".join(c for _, c in self._chunks)

    def text(self, since: int = 0) -> str:
        """What was written after position `since`, escape sequences removed (for messages)."""
        with self._cond:
            data = b"".join(c for _, c in self._chunks[since:])
        return _ESCAPES.sub(b"", data).decode(errors="replace")

    # -- questions about the output ----------------------------------------------------------

    def mark(self) -> int:
        """A position in the output log, for `wait_for(..., since=mark)`."""
        with self._cond:
            return len(self._chunks)

    def wait_for(self, marker: bytes | re.Pattern[bytes], timeout: float,
                 since: int = 0) -> float | None:
        """Monotonic time of the read that completed the first occurrence of `marker` (bytes or
        a compiled bytes regex) in the output after position `since`; None on timeout or when
        the child has gone."""
        if isinstance(marker, re.Pattern):
            find, keep = marker.search, 256
        else:
            find, keep = (lambda window: marker in window), len(marker) - 1
        deadline = time.monotonic() + timeout
        tail, checked = b"", since
        while True:
            with self._cond:
                chunks = self._chunks[checked:]
                checked += len(chunks)
                eof = self._eof
                for t, data in chunks:
                    window = tail + data
                    if find(window):
                        return t
                    tail = window[-keep:] if keep else b""
                if eof:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.1))

    def bytes_between(self, t0: float, t1: float) -> int:
        return sum(map(len, self.chunks_between(t0, t1)))

    def chunks_between(self, t0: float, t1: float) -> list[bytes]:
        """Every read that arrived in [t0, t1)."""
        with self._cond:
            return [d for t, d in self._chunks if t0 <= t < t1]

    def wait_quiet(self, quiet: float = QUIET, timeout: float = 10.0) -> float:
        """Block until nothing arrived for `quiet` seconds; return the time of the last chunk
        (or now, if nothing was ever written)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                last = self._chunks[-1][0] if self._chunks else self.started_at
            now = time.monotonic()
            if now - last >= quiet or now > deadline:
                return last
            time.sleep(max(0.001, min(quiet - (now - last), deadline - now)))

    def press(self, key: bytes, quiet: float = QUIET,
              timeout: float = 5.0) -> tuple[float | None, float | None, int]:
        """Send `key` once the terminal is quiet. Returns (seconds from the write to the first
        output byte, seconds until output settled, bytes written meanwhile); the times are None
        when nothing arrived within `timeout`."""
        self.wait_quiet(quiet)
        with self._cond:
            before = len(self._chunks)
        sent = self.write(key)
        deadline = sent + timeout
        with self._cond:
            while len(self._chunks) == before and time.monotonic() < deadline:
                self._cond.wait(0.05)
            if len(self._chunks) == before:
                return None, None, 0
            first = self._chunks[before][0]
        last = self.wait_quiet(quiet, timeout=max(0.0, deadline - time.monotonic()))
        with self._cond:
            written = sum(len(d) for t, d in self._chunks[before:] if t <= last)
        return first - sent, last - sent, written

    # -- the child ---------------------------------------------------------------------------

    def exit_reason(self) -> str | None:
        """None while the child runs; else its exit code and the last line it printed."""
        if self.proc is None or self.proc.poll() is None:
            return None
        text = re.sub(rb"\x1b(\[[0-9;?<>=$]*[A-Za-z~]|\][^\x07]*\x07|.)", b"", self.output())
        lines = [line.strip() for line in text.decode(errors="replace").splitlines() if line.strip()]
        return f"exited with code {self.proc.returncode}: {lines[-1] if lines else '(no output)'}"

    def peak_rss_kb(self) -> int | None:
        """VmHWM of the child (peak resident set size), in KiB."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except (OSError, AssertionError):
            return None
        return None


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> None:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
