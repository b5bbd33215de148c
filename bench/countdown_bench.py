"""Bytes per second shiftdeck writes to a terminal while escalation countdowns tick.

Issue 4's budget: at 120x40 with 30 visible countdowns, at most 1.5 KB/s. A real Alertmanager
holds P1 alerts started 1-14 minutes ago, so each is between L1 and L2 with a live countdown;
the roster and ladder come from the config. The TUI runs in a pty; after the table is drawn,
`z` hides the detail pane (so 30+ rows are visible) and, from 3 s later, the output is
counted for 10 s.

    python3 bench/countdown_bench.py [--alerts 60] [--seconds 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests" / "support"))
sys.path.insert(0, str(BENCH))

import servers  # noqa: E402
import tui_bench  # noqa: E402
from pty_driver import PtySession  # noqa: E402

ROSTER = """
timezone: Europe/Berlin
people:
  alice: {{name: Alice Ng, handle: "@alice"}}
  bob: {{name: Bob Li, handle: "@bob"}}
  carol: {{name: Carol Diaz, handle: "@carol"}}
rotations:
  - {{role: primary, members: [alice, bob], start: 2026-01-05T09:00, length: 1w}}
  - {{role: secondary, members: [carol, alice], start: 2026-01-05T09:00, length: 1w}}
escalation:
  P1:
    - {{after: 0m, notify: primary}}
    - {{after: 15m, notify: secondary}}
alertmanagers:
  - {{name: bench, url: '{url}'}}
"""


def p1_alerts(count: int, crossing: bool) -> list[dict]:
    """P1 alerts whose next step (15m) is 1-9 minutes away, so every countdown shows seconds
    and none crosses during the measurement; with `crossing`, some cross every few seconds."""
    now = datetime.now(UTC)
    def started(i: int) -> timedelta:
        if crossing:
            return timedelta(minutes=14, seconds=45 - 2 * i)
        return timedelta(minutes=6, seconds=20 + (i * 470) // count)
    return [{"labels": {"alertname": f"BenchDown{i:03d}", "severity": "critical",
                        "namespace": f"ns-{i % 7}"},
             "annotations": {"summary": f"bench alert {i}"},
             "startsAt": (now - started(i)).isoformat(),
             "endsAt": (now + timedelta(hours=2)).isoformat()} for i in range(count)]


SETTLE_AFTER_Z = 3.0
"""Seconds between `z` (hide the detail pane) and the measurement."""


def measure(config: Path, cols: int, rows: int, count: int, seconds: float) -> tuple[float, int]:
    with PtySession(tui_bench.tui_argv(config), cols=cols, rows=rows) as tui:
        if tui.wait_for(f"P1:{count} ".encode(), timeout=30) is None:
            raise SystemExit(f"the table never showed P1:{count} at {cols}x{rows}")
        tui.write(b"z")
        # Textual repaints the table's old region once more at the first tick after the
        # relayout (~1-2 s after `z`): a cost of the key, not of the countdowns. Measured
        # from the third tick.
        time.sleep(SETTLE_AFTER_Z)
        return tui_bench.idle_output(tui, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"| scenario | terminal | visible countdowns | bytes/s over {args.seconds:g} s "
          "| writes | goal |")
    print("|---|---|---:|---:|---:|---:|")
    for crossing in (False, True):
        scenario = "steps crossed during the window" if crossing else "steady ticking, seconds shown"
        for cols, rows in ((120, 40), (80, 24)):
            rate, writes = run_one(args, crossing, cols, rows)
            goal = "≤ 1,536" if (cols, rows) == (120, 40) and not crossing else ""
            visible = min(args.alerts, rows - 4)
            print(f"| {scenario} | {cols}x{rows} | {visible} | {rate:,.0f} | {writes} | {goal} |")


def run_one(args: argparse.Namespace, crossing: bool, cols: int, rows: int) -> tuple[float, int]:
    """A fresh Alertmanager per run, so every run starts its countdowns at the same point."""
    with tempfile.TemporaryDirectory() as tmp, servers.AlertmanagerProcess() as am:
        am.push_alerts(p1_alerts(args.alerts, crossing))
        am.wait_for_alerts(args.alerts)
        config = Path(tmp) / "config.yaml"
        config.write_text(ROSTER.format(url=am.url))
        result = measure(config, cols, rows, args.alerts, args.seconds)
        time.sleep(0.3)
        return result


if __name__ == "__main__":
    main()
