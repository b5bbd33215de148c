"""One-shot commands: wall time, alert count and peak RSS of `shiftdeck alerts --json` and
`amtool alert query -o json` against the same Alertmanager.

Side by side, runs interleaved (a load that comes and goes hits both alike):

    python3 bench/cli_bench.py 1000 10000 50000 --runs 7

How `shiftdeck alerts` starts (issue 14; measured on the 2-core machine, load ~2):
- It reads only `alertmanagers` and `prometheus` of the config (yaml, config.walker,
  config.upstreams), imports the sources (asyncio, httpx) and polls in a thread; the rest of
  the config, the CLI and the view are imported while the servers work (Alertmanager: ~0.26 s
  to its first byte at 10k alerts, ~1.2 s at 50k). The main thread waits until the requests are
  out (httpcore's trace extension), else the two threads share the interpreter lock and the
  connect came ~150 ms later. The whole config is still loaded and checked before anything is
  printed; its upstreams must be those polled.
- `import httpx` imports httpx's own command-line client when click, rich and pygments are
  installed (they are: textual and recurring-ical-events need them): ~45 ms; httpcore imports
  trio when installed: ~25 ms. The one-shot commands mark both absent (__main__.py).
- Not ours, and the floor at 1k alerts: `python3 -c pass` takes 67 ms here (10 ms with -S: this
  machine's site-packages .pth files), and importing all that `alerts` needs takes ~0.28 s, of
  which the config model and the domain modules it needs ~0.11 s (domain.commands compiles its
  default patterns at import: ~33 ms). amtool answers 1k alerts in ~0.1 s.
"""

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


def time_interleaved(argvs: dict[str, Callable[[], list[str]]], runs: int,
                     timeout: float = 300.0) -> dict[str, CommandTiming]:
    """Each command once per round, `runs` rounds (after one warm-up round)."""
    for make_argv in argvs.values():
        time_command(make_argv, 1, timeout)
    rounds = [{name: time_command(make_argv, 1, timeout) for name, make_argv in argvs.items()}
              for _ in range(runs)]
    return {name: CommandTiming([s for r in rounds for s in r[name].seconds],
                                [c for r in rounds for c in r[name].counts],
                                [f for r in rounds for f in r[name].failures])
            for name in argvs}


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


def main(argv: list[str] | None = None) -> int:
    import argparse
    import statistics

    import load

    parser = argparse.ArgumentParser(description="shiftdeck alerts --json vs amtool, side by side")
    parser.add_argument("sizes", nargs="+", type=int, metavar="N", help="alerts loaded")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cli-bench-") as workdir:
        for n in args.sizes:
            am = load.start_alertmanager()
            try:
                load.load(am, load.make_alerts(n))
                config = load.write_config(Path(workdir) / f"config-{n}.yaml", am.url)
                before = _load_average()
                timings = time_interleaved({"shiftdeck": lambda: shiftdeck_argv(config),
                                            "amtool": lambda: amtool_argv(am.url)}, args.runs)
            finally:
                am.close()
            ours, theirs = (statistics.median(timings[k].seconds) for k in ("shiftdeck", "amtool"))
            failed = sum(len(t.failures) for t in timings.values())
            wrong = sum(c != n for t in timings.values() for c in t.counts)
            print(f"{n:>6} alerts: shiftdeck {ours:.3f}s amtool {theirs:.3f}s "
                  f"ratio {ours / theirs:.2f} (medians of {args.runs}; load {before} -> "
                  f"{_load_average()}; {failed} failed, {wrong} wrong counts)", flush=True)
    return 0


def _load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
