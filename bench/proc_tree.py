"""Memory of a process and every process it starts, read from /proc (Linux).

`TreeSampler` watches a process tree from a thread while a scenario runs: a child that
exits before the end (a poller restarted, a kubectl) still counts with the last peak read.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

KIB_PER_MIB = 1024


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def status_kb(pid: int, field: str) -> int | None:
    """A `/proc/<pid>/status` figure in KiB, e.g. field="VmHWM" (peak RSS) or "VmRSS"."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass(frozen=True)
class TreeMemory:
    root_peak_mib: float | None
    """VmHWM of the watched process."""
    children_peak_mib: float
    """Each child's VmHWM (the last read), summed: an upper bound of their joint peak."""
    tree_rss_max_mib: float
    """The largest sampled sum of VmRSS over the whole tree (may miss short peaks)."""
    children: int
    """Child processes seen while watching."""


class TreeSampler:
    """Samples the tree under `pid` every `every` seconds until closed."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every = pid, every
        self._peaks: dict[int, int] = {}
        self._rss_max_kb = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> None:
        rss_kb = 0
        with self._lock:
            for p in descendants(self.pid):
                peak = status_kb(p, "VmHWM")
                if peak is not None:
                    self._peaks[p] = max(peak, self._peaks.get(p, 0))
                rss_kb += status_kb(p, "VmRSS") or 0
            self._rss_max_kb = max(self._rss_max_kb, rss_kb)

    def memory(self) -> TreeMemory:
        """Figures so far (call while the root still runs, to read its final VmHWM)."""
        self.sample()
        with self._lock:
            root = self._peaks.get(self.pid)
            children = {p: kb for p, kb in self._peaks.items() if p != self.pid}
        return TreeMemory(None if root is None else root / KIB_PER_MIB,
                          sum(children.values()) / KIB_PER_MIB,
                          self._rss_max_kb / KIB_PER_MIB, len(children))
