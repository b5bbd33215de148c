"""HA peers as a client sees them: several Alertmanagers answering with the same alerts.

The peers are independent servers (no gossip: a client cannot tell, and the bench needs no
cluster to settle), each loaded with the same alerts (same label sets, so the same
fingerprints), and configured in shiftdeck as one `cluster:`. shiftdeck must show each alert
once. The CLI is timed against itself on one peer (the cost of the extra peers) and against
amtool on one peer (amtool talks to one Alertmanager).
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import cli_bench
import load
import report
import targets

KIB_PER_MIB = 1024


@contextmanager
def peers(count: int, alerts: list[dict[str, Any]]) -> Iterator[tuple[list, list[float]]]:
    """`count` fresh Alertmanagers, each loaded with `alerts`: (the servers, load seconds)."""
    started: list = []
    try:
        for _ in range(count):
            started.append(load.start_alertmanager())
        seconds = [load.load(am, alerts) for am in started]
        yield started, seconds
    finally:
        for am in started:
            am.close()


def bench_cli(rep: report.SizeReport, amtool_url: str, cluster_config: Path, one_config: Path,
              n: int, runs: int, goal_vs_one: float | None) -> None:
    """The cluster, one peer and amtool, interleaved run by run so drift hits all three."""
    commands = {
        targets.HA_CLI: partial(cli_bench.shiftdeck_argv, cluster_config),
        targets.HA_CLI_ONE: partial(cli_bench.shiftdeck_argv, one_config),
        targets.CLI_AMTOOL: partial(cli_bench.amtool_argv, amtool_url),
    }
    for argv in commands.values():
        cli_bench.time_command(argv, 1)  # warm-up: page cache, .pyc files
    timings = _interleaved(commands, runs)
    medians = {}
    for name, runs_of in timings.items():
        seconds = [s for t in runs_of for s in t.seconds]
        counts = [c for t in runs_of for c in t.counts]
        rep.add(name, seconds, "s")
        medians[name] = statistics.median(seconds)
        ok = all(c == n for c in counts)
        rep.notes.append(f"{name} printed {counts} alerts per run "
                         f"({'all = N' if ok else 'MISMATCH, expected ' + str(n)})")
        rep.notes.extend(f"{name} failed: {f}" for t in runs_of for f in t.failures)
    rep.add(targets.HA_VS_ONE, [medians[targets.HA_CLI] / medians[targets.HA_CLI_ONE]], "x",
            goal_vs_one)
    rep.add(targets.HA_VS_AMTOOL, [medians[targets.HA_CLI] / medians[targets.CLI_AMTOOL]], "x")
    rss = cli_bench.peak_rss_kb(commands[targets.HA_CLI]())
    rep.add("shiftdeck alerts --json, cluster: peak RSS", [rss / KIB_PER_MIB] if rss else [],
            "MiB")


def bench_servers(rep: report.SizeReport, urls: list[str], runs: int) -> None:
    """The floor under the cluster / one peer ratio: the peers answering at once, fetched by
    curl (no parsing), against one peer. The peers share this machine's cores, so their own
    work to encode the same alerts three times is in the cluster's time before any client's."""
    all_at_once, one = [], []
    for _ in range(runs):
        all_at_once.append(_curl(urls))
        one.append(_curl(urls[:1]))
    rep.add(targets.HA_GET_ALL, all_at_once, "s")
    rep.add(targets.HA_GET_ONE, one, "s")
    rep.add(targets.HA_GET_RATIO, [statistics.median(all_at_once) / statistics.median(one)], "x")


def _curl(urls: list[str]) -> float:
    start = time.perf_counter()
    fetches = [subprocess.Popen(["curl", "-sf", "-o", "/dev/null", f"{url}/api/v2/alerts"])
               for url in urls]
    if any(fetch.wait() != 0 for fetch in fetches):
        raise RuntimeError("curl could not fetch /api/v2/alerts from a peer")
    return time.perf_counter() - start


def _interleaved(commands: dict, runs: int) -> dict[str, list[cli_bench.CommandTiming]]:
    timings: dict[str, list[cli_bench.CommandTiming]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            timings[name].append(cli_bench.time_command(argv, 1))
    return timings
