"""One-shot commands: wall time, alert count and peak RSS of `shiftdeck alerts --json` and
`amtool alert query -o json` against the same Alertmanager."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TIME_BIN = "/usr/bin/time"


@dataclass(frozen=True)
class CommandTiming:
    seconds: list[float]
    counts: list[int | None]
    """Alerts in each run's JSON output (None when it was not a JSON list)."""
    failures: list[str]


def shiftdeck_cmd() -> list[str]:
    """How to start shiftdeck: `python -m shiftdeck` with the benchmark's own interpreter.

    The same code as the `shiftdeck` console script, but independent of what is on $PATH: a
    version manager's shim (pyenv's is a bash script running `pyenv exec`) adds ~0.1 s to
    every start, and a console script's shebang can point at an interpreter path that no
    longer exists after someone re-installs.
    """
    return [sys.executable, "-m", "shiftdeck"]


def shiftdeck_argv(config: Path) -> list[str]:
    return [*shiftdeck_cmd(), "--config", str(config), "alerts", "--json"]


def amtool_argv(am_url: str) -> list[str]:
    # amtool's global flags (incl. -o/--output) go before the command.
    return [shutil.which("amtool") or "amtool", f"--alertmanager.url={am_url}", "--output=json",
            "alert", "query"]


def time_command(make_argv: Callable[[], list[str]], runs: int,
                 timeout: float = 300.0) -> CommandTiming:
    """Run `make_argv()` `runs` times; wall time of each and how many alerts it printed."""
    seconds, counts, failures = [], [], []
    for _ in range(runs):
        argv = make_argv()
        t0 = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=timeout)
        seconds.append(time.perf_counter() - t0)
        counts.append(_json_len(proc.stdout))
        if proc.returncode != 0:
            failures.append(f"exit {proc.returncode}: {proc.stderr.decode(errors='replace')[:300]}")
    return CommandTiming(seconds, counts, failures)


def _json_len(out: bytes) -> int | None:
    try:
        data = json.loads(out)
    except ValueError:
        return None
    alerts = data.get("alerts") if isinstance(data, dict) else data  # shiftdeck / amtool
    return len(alerts) if isinstance(alerts, list) else None


def peak_rss_kb(argv: list[str], timeout: float = 300.0) -> int | None:
    """Maximum resident set size of one run, in KiB: `/usr/bin/time -v` when present, else
    getrusage(RUSAGE_CHILDREN) in a throwaway child so earlier children do not count."""
    if os.access(TIME_BIN, os.X_OK):
        return _rss_with_time(argv, timeout)
    return _rss_with_rusage(argv, timeout)


def _rss_with_time(argv: list[str], timeout: float) -> int | None:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        subprocess.run([TIME_BIN, "-v", "-o", report.name, *argv], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=timeout)
        for line in Path(report.name).read_text().splitlines():
            if "Maximum resident set size" in line:
                return int(line.rsplit(":", 1)[1])
    return None


def _rss_with_rusage(argv: list[str], timeout: float) -> int | None:
    # RUSAGE_CHILDREN's maxrss is the max over *all* reaped children, so measure in a fresh
    # Python whose only child is the command.
    probe = ("import resource, subprocess, sys; "
             "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True,
                         timeout=timeout, text=True)
    try:
        return int(out.stdout.strip())
    except ValueError:
        return None
