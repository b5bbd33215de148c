"""shiftdeck benchmark: a real Alertmanager on loopback, N realistic alerts, real processes.

Run (from the repository root, with shiftdeck installed, e.g. `pip install -e .`):

    python3 bench/run.py                          # 1k, 10k and 50k alerts -> docs/benchmarks.md
    python3 bench/run.py --sizes 1000 --runs 1 --out /tmp/quick.md   # a quick look
    python3 bench/run.py --rev HEAD               # a commit's src/, not the working tree

Needs `prometheus-alertmanager` (or `alertmanager`, or $SHIFTDECK_ALERTMANAGER_BIN) and `amtool`
on $PATH; `curl` and `/usr/bin/time` are used when present. shiftdeck runs as
`<this python> -m shiftdeck` (same code as the console script, without a $PATH shim). Takes
~8 minutes on 2 cores. Everything listens on 127.0.0.1; every process started here is stopped
at the end, on errors and on Ctrl-C (the pty child and the servers also die with this process).

For each size N it starts a fresh Alertmanager, pushes N alerts (bench/load.py) and waits until
GET /api/v2/alerts returns N, then measures:

1. CLI: wall time of `shiftdeck alerts --json` vs `amtool alert query -o json` (after one
   untimed warm-up each; `curl` of the raw API as the floor), the ratio of their medians, that
   both print N alerts, and peak RSS (bench/cli_bench.py).
2. TUI start in a 120x40 pty (what users feel): spawn → the header shows `P1:<n>`, where n is
   the number of critical alerts in the generated data; the header and the table rows are drawn
   in the same frame. Secondary: the same in-process with Textual's Pilot (headless, from
   constructing the app until `dashboard.visible_alerts` has N rows; bench/pilot_start.py).
3. Key latency in the pty: `j` x30, then `/` and `namespace=ns-3` typed one key at a time:
   time from writing the key until the first output byte and until output is quiet for 20 ms,
   and bytes written per key. Then `j` every 0.2 s for one refresh interval (+1 s), so one
   press meets a poll of all N alerts: its max is the worst a user waits.
4. Peak RSS (VmHWM) of the TUI before quitting, and of the CLI command.
5. Bytes per second written to the terminal while idle for 10 s at 120x40 and 80x24, and while
   holding `j` at 20 presses/s for 3 s (plus how long output continued after the last press).
6. Table rows touched by a refresh that brought no change (Pilot; the goal is 0).

Then, once: bytes per second at 120x40 and 80x24 while 30 P1 alerts count down to their next
escalation step (bench/countdown_bench.py; goal 1.5 KB/s).

Output: one Markdown table per size with the goal beside each figure ("**NO**" = above its
goal), machine info and the date; printed and written to --out (plus the raw figures as JSON
next to it). This is a benchmark: nothing is asserted, figures vary by machine and load.
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
from contextlib import closing
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))  # the real-server fixtures and the pty driver
sys.path.insert(0, str(BENCH))

import cli_bench  # noqa: E402
import countdown_bench  # noqa: E402
import load  # noqa: E402
import report  # noqa: E402
import tui_bench  # noqa: E402
from pty_driver import PtySession  # noqa: E402

KIB_PER_MIB = 1024
GOAL_RATIO = 0.9
GOAL_CURSOR_MS = 50.0
GOAL_FILTER_MS = 100.0
GOAL_RSS_MIB = 200.0
GOAL_COUNTDOWN_BPS = 1536.0
COUNTDOWNS = 30
FILTER_TEXT = "namespace=ns-3"
FILTER_CLEARED = re.compile(rb"ns-(?!3/)\d+/")
"""A label cell of another namespace (the label column shows namespace/service/pod)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark shiftdeck against a real Alertmanager (see the module docstring).")
    parser.add_argument("--sizes", default="1000,10000,50000",
                        help="comma-separated alert counts (default 1000,10000,50000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per timed measurement (default 3)")
    parser.add_argument("--out", default=str(BENCH.parent / "docs" / "benchmarks.md"),
                        help="Markdown output path (default docs/benchmarks.md)")
    parser.add_argument("--presses", type=int, default=30, help="cursor key presses (default 30)")
    parser.add_argument("--idle", type=float, default=10.0, help="idle window, seconds (default 10)")
    parser.add_argument("--rev", metavar="GIT_REV",
                        help="benchmark this commit's src/ (git archive into a temp dir, first on "
                             "PYTHONPATH) instead of the working tree, which others may be editing")
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    return args


# -- measurements ----------------------------------------------------------------------------


def bench_cli(rep: report.SizeReport, am_url: str, config: Path, n: int, runs: int) -> None:
    if shutil.which("curl"):
        curl_argv = ["curl", "-sf", "-o", "/dev/null", am_url + "/api/v2/alerts"]
        curl = cli_bench.time_command(lambda: curl_argv, runs)
        rep.add("curl GET /api/v2/alerts (floor)", curl.seconds, "s")
    ours_argv = partial(cli_bench.shiftdeck_argv, config)
    theirs_argv = partial(cli_bench.amtool_argv, am_url)
    cli_bench.time_command(ours_argv, 1)  # warm-up: page cache, .pyc files
    cli_bench.time_command(theirs_argv, 1)
    ours = cli_bench.time_command(ours_argv, runs)
    theirs = cli_bench.time_command(theirs_argv, runs)
    rep.add("amtool alert query -o json", theirs.seconds, "s")
    rep.add("shiftdeck alerts --json", ours.seconds, "s")
    ratio = statistics.median(ours.seconds) / statistics.median(theirs.seconds)
    rep.add("ratio shiftdeck / amtool (medians)", [ratio], "x", GOAL_RATIO)
    for label, timing in (("shiftdeck alerts --json", ours), ("amtool", theirs)):
        ok = all(c == n for c in timing.counts)
        rep.notes.append(f"{label} printed {timing.counts} alerts per run "
                         f"({'all = N' if ok else 'MISMATCH, expected ' + str(n)})")
        rep.notes.extend(f"{label} failed: {f}" for f in timing.failures)
    rss = cli_bench.peak_rss_kb(ours_argv())
    rep.add("shiftdeck alerts --json peak RSS", [rss / KIB_PER_MIB] if rss else [], "MiB")
    rss = cli_bench.peak_rss_kb(theirs_argv())
    rep.add("amtool alert query peak RSS", [rss / KIB_PER_MIB] if rss else [], "MiB")


def bench_tui(rep: report.SizeReport, config: Path, p1: int, runs: int, presses: int,
              idle: float, start_timeout: float) -> None:
    """Start-up over `runs` pty sessions at 120x40; the last one also measures interaction."""
    marker = tui_bench.p1_marker(p1)
    starts: list[tui_bench.Startup] = []
    interactive: list[report.Metric] = []
    for run in range(runs):
        with PtySession(tui_bench.tui_argv(config), cols=120, rows=40) as tui:
            starts.append(tui_bench.measure_startup(tui, marker, start_timeout))
            if starts[-1].to_marker is None:
                why = tui.exit_reason() or f"not seen within {start_timeout:.0f}s"
                rep.notes.append(f"pty 120x40 run {run + 1}: no {marker.decode().strip()!r}: {why}")
            elif run == runs - 1:
                interactive = _interact(tui, presses, idle, _refresh_seconds(config))
    rep.add("TUI start → table visible (pty 120x40, P1 count in header)",
            [s.to_marker for s in starts if s.to_marker is not None], "s",
            note=f"waits for `{marker.decode().strip()}`")
    rep.add("TUI start → output quiet 100 ms (pty 120x40)",
            [s.to_settled for s in starts if s.to_settled is not None], "s")
    rep.metrics.extend(interactive)
    with PtySession(tui_bench.tui_argv(config), cols=80, rows=24) as small:
        start = tui_bench.measure_startup(small, marker, start_timeout)
        rep.add("TUI start → table visible (pty 80x24)",
                [start.to_marker] if start.to_marker is not None else [], "s")
        if start.to_marker is not None:
            rate, writes = tui_bench.idle_output(small, idle)
            rep.add(f"idle output 80x24 ({idle:g} s)", [rate], "B/s", 0.0, note=f"{writes} writes")


def _interact(tui: PtySession, presses: int, idle: float, refresh: float) -> list[report.Metric]:
    """Idle output, cursor and filter latency, scrolling output and peak RSS, in that order."""
    M = report.Metric
    rate, writes = tui_bench.idle_output(tui, idle)
    metrics = [M(f"idle output 120x40 ({idle:g} s)", [rate], "B/s", 0.0, note=f"{writes} writes")]
    keys = tui_bench.cursor_keys(tui, b"j", presses)
    metrics += [
        M("cursor `j` → first byte", _ms(k.first_byte for k in keys), "ms"),
        M("cursor `j` → repaint settled", _ms(k.settled for k in keys), "ms", GOAL_CURSOR_MS,
          note=f"{presses} presses; {_missing(keys)}"),
        M("bytes written per `j`", [k.bytes for k in keys], "B",
          note="moving the cursor changes 2 table lines (~0.5 KB)"),
    ]
    spread = tui_bench.cursor_keys_over(tui, refresh + 1.0)
    settled = _ms(k.settled for k in spread)
    metrics.append(M(f"cursor `j` every 0.2 s for one refresh ({refresh + 1:g} s) → settled",
                     settled, "ms", GOAL_CURSOR_MS,
                     goal_on="max", note=f"{len(spread)} presses; p95 {_p95(settled):.0f} ms; "
                                         "the max is the press that met a poll"))
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
    rss = tui.peak_rss_kb()
    metrics += [
        M("scrolling output (hold `j`, 20/s, 3 s)", [scroll_rate], "B/s"),
        M("scrolling: output after last press", [backlog * 1000], "ms",
          note="> 50 ms means key presses queue up"),
        M("TUI peak RSS (VmHWM, before quit)", [rss / KIB_PER_MIB] if rss else [], "MiB",
          GOAL_RSS_MIB),
    ]
    return metrics


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
    start_timeout = 30.0 + n / 250
    with closing(load.start_alertmanager()) as am:
        version = (am.status().get("versionInfo") or {}).get("version", "?")
        rep.add("load into Alertmanager (push + wait until GET returns N)",
                [load.load(am, alerts)], "s")
        config = load.write_config(workdir / f"shiftdeck-{n}.yaml", am.url)
        _step("cli")
        bench_cli(rep, am.url, config, n, args.runs)
        _step("tui (pty)")
        bench_tui(rep, config, counts["P1"], args.runs, args.presses, args.idle, start_timeout)
        _step("tui (pilot)")
        bench_pilot(rep, config, n, args.runs, start_timeout)
    rep.notes.append(f"expected header counts: {counts}")
    return rep, version


def bench_countdowns(seconds: float) -> report.SizeReport:
    """Output while 30 P1 alerts count down to their next escalation step (the table only)."""
    rep = report.SizeReport(COUNTDOWNS, title=f"{COUNTDOWNS} P1 alerts with live escalation "
                            "countdowns (roster and ladders configured, detail pane hidden)")
    print(f"== {COUNTDOWNS} live countdowns", file=sys.stderr, flush=True)
    settings = argparse.Namespace(alerts=COUNTDOWNS, seconds=seconds)
    for cols, rows in ((120, 40), (80, 24)):
        rate, writes = countdown_bench.run_one(settings, False, cols, rows)
        rep.add(f"output with live countdowns {cols}x{rows} ({seconds:g} s)", [rate], "B/s",
                GOAL_COUNTDOWN_BPS, note=f"{writes} writes; {min(COUNTDOWNS, rows - 4)} rows "
                "visible, each countdown showing seconds")
    return rep


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


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    signal.signal(signal.SIGTERM, _raise_interrupt)  # cleanup runs on `kill` too
    command = "python3 bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    load_before = os.getloadavg()
    reports, version = [], "?"
    source = f"working tree {BENCH.parent / 'src'}"
    try:
        with tempfile.TemporaryDirectory(prefix="shiftdeck-bench-") as tmp:
            if args.rev:
                source = use_revision(args.rev, Path(tmp))
            for n in args.sizes:
                rep, version = bench_size(n, args, Path(tmp))
                reports.append(rep)
            reports.append(bench_countdowns(args.idle))
    except KeyboardInterrupt:
        print("\ninterrupted: every process started by the benchmark was stopped",
              file=sys.stderr)
        return 130
    info = report.machine_info(version, " ".join(cli_bench.shiftdeck_cmd()), source, load_before)
    text = report.document(info, reports, command.strip())
    text += f"\nTotal benchmark time: {time.monotonic() - started:.0f} s\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(
        [{"size": r.size, "metrics": [m.__dict__ for m in r.metrics], "notes": r.notes}
         for r in reports], indent=1))
    print(f"written to {out} (raw figures: {out.with_suffix('.json')})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
