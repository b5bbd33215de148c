"""shiftdeck benchmark: a real Alertmanager on loopback, N realistic alerts, real processes.

Run (from the repository root, with shiftdeck installed, e.g. `pip install -e .`):

    python3 bench/run.py                          # 1k-100k alerts, HA, storm -> docs/benchmarks.md
    python3 bench/run.py --sizes 1000 --runs 1 --out /tmp/quick.md   # a quick look
    python3 bench/run.py --rev HEAD               # a commit's src/, not the working tree
    python3 bench/run.py --only sizes --sizes 100000   # add (or replace) the 100k section
    python3 bench/run.py --only ha                # 3 HA peers x 10k alerts, one cluster

Needs `prometheus-alertmanager` (or `alertmanager`, or $SHIFTDECK_ALERTMANAGER_BIN) and `amtool`
on $PATH; `curl` and `/usr/bin/time` are used when present. shiftdeck runs as
`<this python> -m shiftdeck` (same code as the console script, without a $PATH shim). 1k, 10k
and 50k took ~5 minutes on 2 cores with one poll window (each window adds a refresh interval
per size); 100k and HA take longer; plus the storm (10 minutes by default). Everything
listens on 127.0.0.1; every process started here is stopped at the end, on errors and on
Ctrl-C (the pty child and the servers also die with this process).

For each size N it starts a fresh Alertmanager, pushes N alerts (bench/load.py) and waits until
GET /api/v2/alerts returns N, then measures:

1. CLI: wall time of `shiftdeck alerts --json` vs `amtool alert query -o json` (after one
   untimed warm-up each; `curl` of the raw API as the floor), the ratio of their medians, that
   both print N alerts, and peak RSS (bench/cli_bench.py).
2. TUI start in a 120x40 pty (what users feel): spawn → the header shows `P1:<n>`, where n is
   the number of critical alerts in the generated data; the header and the table rows are drawn
   in the same frame; also spawn → the first frame with the header (`P1:` with any count) and
   whether "loading" was written before the table (progress shown). Secondary: the same in-process with Textual's Pilot (headless, from
   constructing the app until `dashboard.visible_alerts` has N rows; bench/pilot_start.py).
3. Key latency in the pty: `j` x30, then `/` and `namespace=ns-3` typed one key at a time:
   time from writing the key until the first output byte and until output is quiet for 20 ms,
   and bytes written per key. Then `j` every 0.1 s for --poll-windows refresh intervals (one
   poll of all N alerts each): each interval's slowest press is what its poll cost the user,
   and the worst of them is judged.
4. Peak RSS (VmHWM) of the TUI process before quitting, of every child process it started
   (sampled every 0.5 s; a child's last VmHWM read), their sum (bench/proc_tree.py), and of
   the CLI command.
5. Bytes per second written to the terminal while idle for 10 s at 120x40 and 80x24, and while
   holding `j` at 20 presses/s for 3 s (plus how long output continued after the last press).
6. Table rows touched by a refresh that brought no change (Pilot; the goal is 0).

Goals by size are issue 14's (bench/targets.py): start ≤ 1.5/3/5 s at 10k/50k/100k, a key
that meets a poll ≤ 50/50/100 ms, RSS ≤ 200/250/400 MiB, CLI / amtool ≤ 1.0/0.9/0.8 at
1k/10k/50k.

The HA scenario (bench/ha_bench.py; --peers, default 3, --ha-alerts, default 10,000): that many
independent Alertmanagers, each loaded with the same alerts, configured as one `cluster:`.
The CLI on the cluster vs the CLI on one peer (goal ≤ 1.2x) and vs amtool on one peer, then the
TUI as for a size (goals: start ≤ 1.5 s, RSS ≤ 200 MiB, a key that meets a poll ≤ 50 ms).

Then, once: bytes per second at 120x40 and 80x24 while 30 P1 alerts count down to their next
escalation step (bench/countdown_bench.py; goal 1.5 KB/s).

Then the storm (bench/storm_bench.py, --storm-minutes, default 10): 10,000 alerts in a fresh
Alertmanager, 1,000 of them changing every 2 s (500 firing, 500 resolving), shiftdeck in a
120x40 pty with `refresh: 2s`; per minute: `j` latency (p50/p95/worst, a press every ~0.5 s,
5 s timeout), filter keystrokes, RSS and CPU, and whether the header follows the storm.

Scenarios: `sizes` (each of --sizes), `ha`, `countdowns`, `storm`; pick with --only/--skip,
e.g. `--only storm` or `--skip storm`. Every scenario (and every size) is a marked section of
the output and an entry of its JSON: a run replaces the sections it measured and keeps the
others already in --out.

Output: a summary of issue 14's figures (bench/summary.py, rebuilt from the JSON on every run;
`python3 bench/readme_table.py` prints it for the README), the machine, then one Markdown
table per scenario with the goal beside each figure ("**NO**" = above its goal), each naming
its command, date and the load average before and after it; printed and written to --out (plus
the raw figures as JSON next to it). This is a benchmark: nothing is asserted, figures vary by
machine and load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
for _tests in (BENCH.parent / "tests", BENCH.parent / "tests" / "support"):
    sys.path.insert(0, str(_tests))  # the real-server fixtures and the pty driver (either home)
sys.path.insert(0, str(BENCH))

import cli_bench  # noqa: E402
import countdown_bench  # noqa: E402
import ha_bench  # noqa: E402
import load  # noqa: E402
import proc_tree  # noqa: E402
import report  # noqa: E402
import servers  # noqa: E402
import storm_bench  # noqa: E402
import summary  # noqa: E402
import targets  # noqa: E402
import tui_bench  # noqa: E402
from pty_driver import PtySession  # noqa: E402

KIB_PER_MIB = 1024
GOAL_CURSOR_MS = 50.0
GOAL_FILTER_MS = 100.0
GOAL_COUNTDOWN_BPS = 1536.0
COUNTDOWNS = 30
POLL_KEY_GAP = 0.1
FILTER_TEXT = "namespace=ns-3"
FILTER_CLEARED = re.compile(rb"ns-(?!3/)\d+/")
"""A label cell of another namespace (the label column shows namespace/service/pod)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark shiftdeck against a real Alertmanager (see the module docstring).")
    parser.add_argument("--sizes", default="1000,10000,50000,100000",
                        help="comma-separated alert counts (default 1000,10000,50000,100000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per timed measurement (default 3)")
    parser.add_argument("--out", default=str(BENCH.parent / "docs" / "benchmarks.md"),
                        help="Markdown output path (default docs/benchmarks.md)")
    parser.add_argument("--presses", type=int, default=30, help="cursor key presses (default 30)")
    parser.add_argument("--idle", type=float, default=10.0, help="idle window, seconds (default 10)")
    parser.add_argument("--rev", metavar="GIT_REV",
                        help="benchmark this commit's src/ (git archive into a temp dir, first on "
                             "PYTHONPATH) instead of the working tree, which others may be editing")
    parser.add_argument("--only", metavar="SCENARIOS",
                        help=f"run only these (comma-separated: {', '.join(SCENARIOS)})")
    parser.add_argument("--skip", metavar="SCENARIOS", default="",
                        help="run all but these (comma-separated)")
    parser.add_argument("--peers", type=int, default=3,
                        help="HA scenario: Alertmanagers in the cluster (default 3)")
    parser.add_argument("--ha-alerts", type=int, default=10_000,
                        help="HA scenario: alerts in each peer (default 10000)")
    parser.add_argument("--poll-windows", type=int, default=3,
                        help="refresh intervals of key presses meeting polls (default 3)")
    parser.add_argument("--storm-minutes", type=float, default=10.0,
                        help="length of the storm (default 10; 2 for a quick look)")
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    only = _names(parser, args.only) if args.only else set(SCENARIOS)
    args.scenarios = [name for name in SCENARIOS if name in only - _names(parser, args.skip)]
    if not args.scenarios:
        parser.error("--only/--skip leave nothing to run")
    return args


SCENARIOS = ("sizes", "ha", "countdowns", "storm")


def _names(parser: argparse.ArgumentParser, text: str) -> set[str]:
    names = {n.strip() for n in text.split(",") if n.strip()}
    if unknown := names - set(SCENARIOS):
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(SCENARIOS)}")
    return names


# -- measurements ----------------------------------------------------------------------------


PYTHON_FLOOR = ("import sys, httpx, orjson; sys.stdout.buffer.write(orjson.dumps(orjson.loads("
                "httpx.get(sys.argv[1], timeout=300).content)))")
"""The least a Python command can do for `alerts --json` with httpx: fetch, decode, print."""


def bench_cli(rep: report.SizeReport, am_url: str, config: Path, n: int, runs: int,
              goal_ratio: float | None) -> None:
    if shutil.which("curl"):
        curl_argv = ["curl", "-sf", "-o", "/dev/null", am_url + "/api/v2/alerts"]
        curl = cli_bench.time_command(lambda: curl_argv, runs)
        rep.add("curl GET /api/v2/alerts (floor)", curl.seconds, "s")
    ours_argv = partial(cli_bench.shiftdeck_argv, config)
    theirs_argv = partial(cli_bench.amtool_argv, am_url)
    floor_argv = [sys.executable, "-c", PYTHON_FLOOR, am_url + "/api/v2/alerts"]
    cli_bench.time_command(ours_argv, 1)  # warm-up: page cache, .pyc files
    cli_bench.time_command(theirs_argv, 1)
    cli_bench.time_command(lambda: floor_argv, 1)
    ours = cli_bench.time_command(ours_argv, runs)
    theirs = cli_bench.time_command(theirs_argv, runs)
    floor = cli_bench.time_command(lambda: floor_argv, runs)
    rep.add(targets.CLI_AMTOOL, theirs.seconds, "s")
    rep.add(targets.CLI_OURS, ours.seconds, "s")
    rep.add("python3: httpx GET, orjson decode and print (the floor of a Python CLI on one "
            "HTTP stack)", floor.seconds, "s")
    rep.add("ratio of that floor / amtool (medians)",
            [statistics.median(floor.seconds) / statistics.median(theirs.seconds)], "x")
    complete = all(c == n for c in (*ours.counts, *theirs.counts))
    ratio = statistics.median(ours.seconds) / statistics.median(theirs.seconds)
    # A run that printed fewer than N alerts (a timeout, say) is no comparison: no ratio.
    rep.add(targets.CLI_RATIO, [ratio] if complete else [], "x", goal_ratio)
    for label, timing in (("shiftdeck alerts --json", ours), ("amtool", theirs)):
        ok = all(c == n for c in timing.counts)
        rep.notes.append(f"{label} printed {timing.counts} alerts per run "
                         f"({'all = N' if ok else 'MISMATCH, expected ' + str(n)})")
        rep.notes.extend(f"{label} failed: {f}" for f in timing.failures)
    rss = cli_bench.peak_rss_kb(ours_argv())
    rep.add("shiftdeck alerts --json peak RSS", [rss / KIB_PER_MIB] if rss else [], "MiB")
    rss = cli_bench.peak_rss_kb(theirs_argv())
    rep.add("amtool alert query peak RSS", [rss / KIB_PER_MIB] if rss else [], "MiB")


def bench_tui(rep: report.SizeReport, config: Path, p1: int, args: argparse.Namespace,
              start_timeout: float, goals: targets.Goals, sources: int = 1) -> None:
    """Start-up over `args.runs` pty sessions at 120x40; the last one also measures interaction
    (once all `sources` answered) and the memory of shiftdeck's process tree."""
    marker = tui_bench.p1_marker(p1)
    starts: list[tui_bench.Startup] = []
    interactive: list[report.Metric] = []
    for run in range(args.runs):
        with PtySession(tui_bench.tui_argv(config), cols=120, rows=40) as tui, \
                proc_tree.TreeSampler(tui.pid) as tree:
            starts.append(tui_bench.measure_startup(tui, marker, start_timeout))
            if starts[-1].to_marker is None:
                why = tui.exit_reason() or f"not seen within {start_timeout:.0f}s"
                rep.notes.append(f"pty 120x40 run {run + 1}: no {marker.decode().strip()!r}: {why}")
            elif run == args.runs - 1:
                _all_answered(rep, tui, sources, start_timeout)
                interactive = _interact(tui, args, _refresh_seconds(config), goals.poll_key_ms)
                interactive += _memory(tree.memory(), goals.rss_mib)
    _startup_metrics(rep, starts, marker, goals.start_s)
    rep.metrics.extend(interactive)
    with PtySession(tui_bench.tui_argv(config), cols=80, rows=24) as small:
        start = tui_bench.measure_startup(small, marker, start_timeout)
        rep.add("TUI start → table visible (pty 80x24)",
                [start.to_marker] if start.to_marker is not None else [], "s")
        if start.to_marker is not None:
            _all_answered(rep, small, sources, start_timeout)
            rate, writes = tui_bench.idle_output(small, args.idle)
            rep.add(f"idle output 80x24 ({args.idle:g} s)", [rate], "B/s", 0.0,
                    note=f"{writes} writes")


def _all_answered(rep: report.SizeReport, tui: PtySession, sources: int,
                  timeout: float) -> None:
    if not tui_bench.wait_all_answered(tui, sources, timeout):
        rep.notes.append(f"the header never showed all {sources} sources `ok`: idle output "
                         "was measured anyway")


def _startup_metrics(rep: report.SizeReport, starts: list[tui_bench.Startup], marker: bytes,
                     goal_s: float | None) -> None:
    shown = [(s, s.to_marker) for s in starts if s.to_marker is not None]
    rep.add(targets.START, [t for _, t in shown], "s", goal_s,
            note=f"waits for `{marker.decode().strip()}` and a drawn P1 row (`█ P1`)")
    rep.add("TUI start → output quiet 100 ms (pty 120x40)",
            [s.to_settled for s, _ in shown if s.to_settled is not None], "s")
    rep.add(targets.FIRST_FRAME, [s.to_header for s in starts if s.to_header is not None], "s",
            note="the header's `P1:` with any count")
    leads = [t - s.to_header for s, t in shown if s.to_header is not None]
    loading = sum(s.loading_text for s, _ in shown)
    rep.add(targets.HEADER_LEAD, leads, "s",
            note=f"0 = header and table in one frame; `loading` written before the table in "
                 f"{loading} of {len(shown)} runs")


def _interact(tui: PtySession, args: argparse.Namespace, refresh: float,
              goal_poll_key_ms: float) -> list[report.Metric]:
    """Idle output, cursor, poll-meeting and filter latency, scrolling output, in that order."""
    M = report.Metric
    rate, writes = tui_bench.idle_output(tui, args.idle)
    metrics = [M(f"idle output 120x40 ({args.idle:g} s)", [rate], "B/s", 0.0,
                 note=f"{writes} writes")]
    keys = tui_bench.cursor_keys(tui, b"j", args.presses)
    metrics += [
        M("cursor `j` → first byte", _ms(k.first_byte for k in keys), "ms"),
        M("cursor `j` → repaint settled", _ms(k.settled for k in keys), "ms", GOAL_CURSOR_MS,
          note=f"{args.presses} presses; {_missing(keys)}"),
        M("bytes written per `j`", [k.bytes for k in keys], "B",
          note="moving the cursor changes 2 table lines (~0.5 KB)"),
    ]
    metrics += _poll_meeting(tui, refresh, args.poll_windows, goal_poll_key_ms)
    typed = tui_bench.filter_keys(tui, FILTER_TEXT, FILTER_CLEARED)
    chars = typed[1:-1]
    metrics += [
        M("filter `/` → filter bar shown", _ms([typed[0].settled]), "ms"),
        M("filter keystroke → first byte", _ms(k.first_byte for k in chars), "ms"),
        M("filter keystroke → repaint settled", _ms(k.settled for k in chars), "ms",
          GOAL_FILTER_MS, note=f"typing `{FILTER_TEXT}`; {_missing(chars)}"),
        M("filter Escape → other namespaces drawn again", _ms([typed[-1].settled]), "ms",
          note="includes Textual's ESCDELAY: a lone ESC is reported 100-200 ms late"),
    ]
    scroll_rate, backlog = tui_bench.hold_key(tui, b"j", rate=20.0, seconds=3.0)
    metrics += [
        M("scrolling output (hold `j`, 20/s, 3 s)", [scroll_rate], "B/s"),
        M("scrolling: output after last press", [backlog * 1000], "ms",
          note="> 50 ms means key presses queue up"),
    ]
    return metrics


def _poll_meeting(tui: PtySession, refresh: float, windows: int,
                  goal_ms: float) -> list[report.Metric]:
    """`j` every 0.1 s for `windows` refresh intervals: every press, and each interval's worst
    (the press that met that interval's poll)."""
    per_window = tui_bench.poll_meeting_keys(tui, refresh, windows, gap=POLL_KEY_GAP)
    every = [k for window in per_window for k in window]
    settled = _ms(k.settled for k in every)
    worst = [max(_ms(k.settled for k in w)) for w in per_window if all(k.settled for k in w)]
    lost = len(per_window) - len(worst)
    return [
        report.Metric(f"cursor `j` every {POLL_KEY_GAP:g} s for {windows} refresh intervals "
                      f"({refresh:g} s each) → settled", settled, "ms",
                      note=f"{len(every)} presses; p95 {_p95(settled):.0f} ms; {_missing(every)}"),
        report.Metric(targets.POLL_KEY, worst, "ms", goal_ms, goal_on="max", timeouts=lost,
                      note="one figure per refresh interval (one poll each); an interval with a "
                           "press that got no repaint in 5 s counts as timed out"),
    ]


def _memory(memory: proc_tree.TreeMemory, goal_mib: float) -> list[report.Metric]:
    root = memory.root_peak_mib
    return [
        report.Metric(targets.TUI_RSS, [root] if root is not None else [], "MiB", goal_mib),
        report.Metric(targets.CHILD_RSS, [memory.children_peak_mib], "MiB",
                      note=f"{memory.children} child process(es) seen, sampled every 0.5 s"),
        report.Metric(targets.TREE_RSS,
                      [root + memory.children_peak_mib] if root is not None else [], "MiB",
                      goal_mib, note=f"an upper bound; the largest sampled sum of VmRSS was "
                                     f"{memory.tree_rss_max_mib:.1f} MiB"),
    ]


def _refresh_seconds(config: Path) -> float:
    """shiftdeck's poll interval for this config (its default: 15 s)."""
    from shiftdeck.config import load_config

    return load_config(config).refresh.total_seconds()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")


def _ms(values) -> list[float]:
    return [v * 1000 for v in values if v is not None]


def _missing(keys: list[tui_bench.KeyTiming]) -> str:
    lost = sum(1 for k in keys if k.settled is None)
    return f"{lost} without output" if lost else "all repainted"


def bench_pilot(rep: report.SizeReport, config: Path, n: int, runs: int, timeout: float) -> None:
    results = [tui_bench.pilot_startup(config, n, timeout=timeout) for _ in range(runs)]
    errors = [r["error"] for r in results if "error" in r]
    rep.add("TUI start → N rows (Pilot, in-process, 120x40)",
            [r["to_rows"] for r in results if r.get("to_rows") is not None], "s",
            note="from ShiftdeckApp() to visible_alerts == N")
    rep.add("TUI start → idle after N rows (Pilot)",
            [r["to_idle"] for r in results if r.get("to_idle") is not None], "s")
    rep.add("import shiftdeck.app (Pilot process)",
            [r["import_seconds"] for r in results if "import_seconds" in r], "s")
    rep.add("refresh where nothing changed: table rows touched",
            [r["unchanged_poll_mutations"] for r in results
             if r.get("unchanged_poll_mutations") is not None], "rows", 0.0,
            note="Pilot: `refresh now` after the table is shown; Alertmanager answers the same N")
    rep.notes.extend(f"Pilot run failed: {e.strip().splitlines()[-1]}" for e in errors[:1])


def bench_size(n: int, args: argparse.Namespace, workdir: Path) -> tuple[report.SizeReport, str]:
    print(f"== {n:,} alerts", file=sys.stderr, flush=True)
    rep = report.SizeReport(n)
    alerts = load.make_alerts(n)
    counts = load.expected_counts(alerts)
    start_timeout = _start_timeout(n)
    goals = targets.for_size(n)
    with closing(load.start_alertmanager()) as am:
        version = (am.status().get("versionInfo") or {}).get("version", "?")
        rep.add("load into Alertmanager (push + wait until GET returns N)",
                [load.load(am, alerts)], "s")
        config = load.write_config(_own_directory(workdir, f"size-{n}") / "shiftdeck.yaml",
                                   am.url)
        _step("cli")
        bench_cli(rep, am.url, config, n, args.runs, goals.cli_ratio)
        _step("tui (pty)")
        bench_tui(rep, config, counts["P1"], args, start_timeout, goals)
        _step("tui (pilot)")
        bench_pilot(rep, config, n, args.runs, start_timeout)
    rep.notes.append(f"expected header counts: {counts}")
    return rep, version


def _start_timeout(n: int) -> float:
    return 30.0 + n / 250


def bench_ha(args: argparse.Namespace, workdir: Path) -> tuple[report.SizeReport, str]:
    """`args.peers` Alertmanagers with the same `args.ha_alerts` alerts, one cluster to
    shiftdeck: the CLI against one peer and amtool, then the TUI as for a size."""
    n, count = args.ha_alerts, args.peers
    print(f"== HA: {count} peers × {n:,} alerts, one cluster", file=sys.stderr, flush=True)
    rep = report.SizeReport(n, key="ha", title=f"{count} HA peers × {n:,} alerts (one cluster)",
                            data={"peers": count})
    rep.intro.append(f"{count} independent Alertmanagers, each loaded with the same {n:,} "
                     "alerts, configured as one `cluster:` (bench/ha_bench.py). The header and "
                     "the CLI must count each alert once.")
    alerts = load.make_alerts(n)
    counts = load.expected_counts(alerts)
    with ha_bench.peers(count, alerts) as (ams, load_seconds):
        version = (ams[0].status().get("versionInfo") or {}).get("version", "?")
        rep.add("load into each peer (push + wait until GET returns N)", load_seconds, "s")
        own = _own_directory(workdir, "ha")
        config = load.write_cluster_config(own / "shiftdeck.yaml", [am.url for am in ams])
        one_peer = load.write_config(_own_directory(workdir, "ha-one") / "shiftdeck.yaml",
                                     ams[0].url)
        _step("cli")
        ha_bench.bench_cli(rep, ams[0].url, config, one_peer, n, args.runs,
                           targets.HA.cli_ratio)
        ha_bench.bench_servers(rep, [am.url for am in ams], args.runs)
        _step("tui (pty)")
        bench_tui(rep, config, counts["P1"], args, _start_timeout(n), targets.HA, count)
    rep.notes.append("idle output is measured once the header shows every peer `ok`: the "
                     "peers after the first answer a moment after the table is shown")
    rep.notes.append(f"expected header counts: {counts}")
    return rep, version


def bench_countdowns(seconds: float) -> report.SizeReport:
    """Output while 30 P1 alerts count down to their next escalation step (the table only)."""
    rep = report.SizeReport(COUNTDOWNS, key="countdowns",
                            title=f"{COUNTDOWNS} P1 alerts with live escalation "
                            "countdowns (roster and ladders configured, detail pane hidden)")
    print(f"== {COUNTDOWNS} live countdowns", file=sys.stderr, flush=True)
    settings = argparse.Namespace(alerts=COUNTDOWNS, seconds=seconds)
    for cols, rows in ((120, 40), (80, 24)):
        rate, writes = countdown_bench.run_one(settings, False, cols, rows)
        rep.add(f"output with live countdowns {cols}x{rows} ({seconds:g} s)", [rate], "B/s",
                GOAL_COUNTDOWN_BPS, note=f"{writes} writes; {min(COUNTDOWNS, rows - 4)} rows "
                "visible, each countdown showing seconds")
    return rep


def _own_directory(workdir: Path, name: str) -> Path:
    """A scenario's own directory, so its own journal: the runs of a scenario share theirs (a
    restart reads what the run before recorded), but never another scenario's. The 100k TUI
    started on the 50k, 10k and 1k runs' ~61k records held ~45 MiB more (2026-12-07)."""
    own = workdir / name
    own.mkdir(exist_ok=True)
    return own


def bench_storm(args: argparse.Namespace, workdir: Path, command: str,
                source: str) -> tuple[report.SizeReport, str, str]:
    """The storm scenario: (report, its Markdown section, Alertmanager version)."""
    print(f"== storm: {storm_bench.ALERTS:,} alerts, {args.storm_minutes:g} minutes",
          file=sys.stderr, flush=True)
    started, load_before = time.monotonic(), os.getloadavg()[0]
    # Its own directory, so its own journal: the sizes' runs leave over 50k records in theirs, and
    # a TUI that starts by reading those holds more (2026-12-07: ~70 MiB, before the journal was
    # read packed; +37 MiB since, for 50k records).
    own = _own_directory(workdir, "storm")
    result, version = storm_bench.run_storm(cli_bench.shiftdeck_cmd(), args.storm_minutes,
                                            workdir=own)
    rep = storm_bench.build_report(result, storm_bench.KEY_TIMEOUT)
    rep.data["source"] = source
    rep.data["machine"] = dict(report.machine_info(version, " ".join(cli_bench.shiftdeck_cmd()),
                                                   source, (load_before, 0.0, 0.0)))
    total = time.monotonic() - started
    print(f"   storm done in {total:.0f} s", file=sys.stderr, flush=True)
    return rep, storm_bench.render(rep, command, load_before, total, source), version


def _step(name: str) -> None:
    print(f"   {time.strftime('%H:%M:%S')} {name}", file=sys.stderr, flush=True)


# -- main ------------------------------------------------------------------------------------


def use_revision(rev: str, workdir: Path) -> str:
    """Export commit `rev` into `workdir` (src/ links to the top-level themes/) and make every
    shiftdeck we start import its src/."""
    archive = subprocess.run(["git", "-C", str(BENCH.parent), "archive", rev],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(workdir)], input=archive, check=True)
    src = str(workdir / "src")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, src)
    full = subprocess.run(["git", "-C", str(BENCH.parent), "rev-parse", "--short", rev],
                          capture_output=True, text=True).stdout.strip()
    return f"git {full} (exported; working tree not used)"


def _working_tree_source() -> str:
    """`working tree <path>`, and how many files under src/ differ from HEAD."""
    status = subprocess.run(["git", "-C", str(BENCH.parent), "status", "--porcelain", "--", "src"],
                            capture_output=True, text=True)
    changed = len(status.stdout.splitlines()) if status.returncode == 0 else 0
    rev = subprocess.run(["git", "-C", str(BENCH.parent), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    dirty = f" (HEAD {rev} + {changed} changed files under src/, not committed)" if changed else ""
    return f"working tree {BENCH.parent / 'src'}{dirty}"


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    signal.signal(signal.SIGTERM, _raise_interrupt)  # cleanup runs on `kill` too
    command = ("python3 bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    started = time.monotonic()
    load_before = os.getloadavg()
    source = _working_tree_source()
    try:
        with tempfile.TemporaryDirectory(prefix="shiftdeck-bench-") as tmp:
            if args.rev:
                source = use_revision(args.rev, Path(tmp))
            done, sections, version = run_scenarios(args, Path(tmp), command, source)
    except KeyboardInterrupt:
        print("\ninterrupted: every process started by the benchmark was stopped",
              file=sys.stderr)
        return 130
    total = time.monotonic() - started
    info = report.machine_info(version, " ".join(cli_bench.shiftdeck_cmd()), source, load_before)
    out = Path(args.out)
    text = write_results(out, done, sections, report.machine_section(info, command, total))
    print(text)
    print(f"Total benchmark time: {total:.0f} s", file=sys.stderr)
    print(f"written to {out} (raw figures: {out.with_suffix('.json')})", file=sys.stderr)
    return 0


def run_scenarios(args: argparse.Namespace, workdir: Path, command: str, source: str
                  ) -> tuple[list[report.SizeReport], dict[str, str], str]:
    """Every scenario asked for: (their reports, their wrapped sections by key, the
    Alertmanager version)."""
    done: list[report.SizeReport] = []
    version = "?"
    for step in _plan(args, workdir):
        started, load_before = time.monotonic(), os.getloadavg()[0]
        try:
            rep, step_version = step()
        except servers.ServerError as err:  # e.g. Alertmanager never answered with N alerts
            print(f"   scenario skipped, its section is left as it was: {err}",
                  file=sys.stderr, flush=True)
            continue
        rep.data["run"] = report.run_info(command, source, started, load_before)
        rep.intro[:0] = [report.run_line(rep.data["run"])] + ([""] if rep.intro else [])
        done.append(rep)
        version = step_version if step_version != "?" else version
    sections = {r.section_key: report.wrap_section(r.section_key, report.size_table(r))
                for r in done}
    if "storm" in args.scenarios:
        rep, text, version = bench_storm(args, workdir, command, source)
        rep.key = STORM_KEY
        done.append(rep)
        sections[STORM_KEY] = report.wrap_section(STORM_KEY, STORM_HEADING + text)
    return done, sections, version


def _plan(args: argparse.Namespace, workdir: Path
          ) -> list[Callable[[], tuple[report.SizeReport, str]]]:
    plan: list[Callable[[], tuple[report.SizeReport, str]]] = []
    if "sizes" in args.scenarios:
        plan += [partial(bench_size, n, args, workdir) for n in args.sizes]
    if "ha" in args.scenarios:
        plan.append(partial(bench_ha, args, workdir))
    if "countdowns" in args.scenarios:
        plan.append(lambda: (bench_countdowns(args.idle), "?"))
    return plan


def write_results(out: Path, done: list[report.SizeReport], sections: dict[str, str],
                  machine: str) -> str:
    """Merge this run into `out` and its JSON (sections that did not run are kept), with a
    fresh summary; returns the document."""
    old_text = out.read_text() if out.exists() else ""
    entries = report.merge_entries(_read_entries(out.with_suffix(".json")),
                                   [r.entry() for r in done])
    fresh = {**sections,
             "summary": report.wrap_section("summary", SUMMARY_HEADING + summary.markdown(entries)),
             "machine": report.wrap_section("machine", machine)}
    text = report.assemble(old_text, report.head(), fresh)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(entries, indent=1))
    return text


STORM_KEY = "storm"
STORM_HEADING = ("## Storm\n\nHow to read it: bench/storm_bench.py's docstring. Replaced by "
                 "`python3 bench/run.py --only storm`; kept by runs that skip it.\n\n")
SUMMARY_HEADING = ("## Summary (issue 14)\n\nEach figure from the latest run of its scenario "
                   "(the last column: when, and the machine's load average before → after). "
                   "The README's table: `python3 bench/readme_table.py`.\n\n")


def _read_entries(path: Path) -> list[dict]:
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [e for e in old if isinstance(e, dict)] if isinstance(old, list) else []


if __name__ == "__main__":
    sys.exit(main())
