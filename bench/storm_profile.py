"""Where a storm's per-poll work goes, timed per function, without a terminal:

    python3 bench/storm_profile.py                  # 30 polls, the storm bench's config
    python3 bench/storm_profile.py --escalations    # with the test roster's escalation ladders
    python3 bench/storm_profile.py --cprofile out.prof

10,000 alerts shaped like bench/load.py's are parsed the way the Alertmanager source parses
them (with its previous batch and string cache, as the source does), then each poll changes
1,000 of them (500 new firing, 500 random ones gone) exactly as
bench/storm_bench.py posts them. Each poll goes the app's real way: a SourceReported message
to a headless ShiftdeckApp at 120x40 (system clock, its own journal file in a temp dir), the
ShiftRunner's thread, then the dashboard. Between polls the cursor moves down once (`j`).

Printed per function: calls, median and worst milliseconds per call, and whether it ran on the
event loop (what a key press waits behind) or in a thread (which still holds the GIL while it
computes). The figures are CPU work on this machine at its current load (printed too); the
wall-clock latency of a key press is bench/storm_bench.py's job.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import importlib
import importlib.util
import inspect
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import load  # noqa: E402

ALERTS = 10_000
CHANGES = 1_000
TIMED = (
    # (module, qualified name) of what runs per poll or per key
    ("shiftdeck.domain.shift", "Shift.apply"),
    ("shiftdeck.domain.shift", "Shift.journaled"),
    ("shiftdeck.domain.shift", "journal_records"),
    ("shiftdeck.services.shift_runner", "journal_records"),
    ("shiftdeck.screens.dashboard", "DashboardScreen.show_shift"),
    ("shiftdeck.screens.dashboard", "DashboardScreen._show_health"),
    ("shiftdeck.screens.dashboard", "DashboardScreen._select"),
    ("shiftdeck.screens.dashboard", "DashboardScreen._rows_selected"),
    ("shiftdeck.screens.dashboard", "DashboardScreen._show_detail"),
    ("shiftdeck.widgets.alert_table", "AlertTable.show_rows"),
    ("shiftdeck.widgets.alert_table", "AlertTable.show_marks"),
    ("shiftdeck.widgets.alert_table", "AlertTable.show_escalations"),
    ("shiftdeck.widgets.alert_table", "AlertTable.show_update_due"),
    ("shiftdeck.widgets.alert_table", "AlertTable.refresh_countdowns"),
    ("shiftdeck.widgets.alert_table", "AlertTable.action_cursor_down"),
    ("shiftdeck.widgets.alert_table", "AlertTable.render_line"),
    ("shiftdeck.widgets.header_bar", "HeaderBar.show"),
    ("shiftdeck.services.pager", "Pager.events"),
    ("shiftdeck.services.sources", "SourceBoard.inputs"),
    ("shiftdeck.services.journal_keeper", "JournalKeeper.add"),
    ("textual._compositor", "Compositor.render_update"),
)


class Timings:
    def __init__(self) -> None:
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.threads: dict[str, set[str]] = defaultdict(set)
        self.loop_thread = threading.get_ident()

    def wrap(self, module: str, qualified: str) -> None:
        owner: object = importlib.import_module(module)
        *path, name = qualified.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)
        if getattr(original, "__timed__", False):
            return

        @functools.wraps(original)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.calls[qualified].append(time.perf_counter() - started)
                loop = threading.get_ident() == self.loop_thread
                self.threads[qualified].add("loop" if loop else "thread")

        timed.__timed__ = True  # type: ignore[attr-defined]
        setattr(owner, name, timed)

    def table(self, skip_first: int = 0) -> str:
        lines = [f"{'function':44} {'where':11} {'calls':>6} {'median ms':>10} {'worst ms':>9}"]
        for name, spans in self.calls.items():
            spans = spans[skip_first:] if len(spans) > skip_first + 2 else spans
            ms = [s * 1000 for s in spans]
            where = "+".join(sorted(self.threads[name]))
            lines.append(f"{name:44} {where:11} {len(ms):6} {statistics.median(ms):10.2f} "
                         f"{max(ms):9.2f}")
        return "\n".join(lines)


def storm(steps: int, seed: int = 1):
    """The first poll's raw alerts, then each poll's: as bench/storm_bench.py posts them."""
    rnd = random.Random(seed)
    active = {a["labels"]["pod"]: a for a in load.make_alerts(ALERTS)}
    yield list(active.values())
    now = datetime.now(timezone.utc)
    for step in range(1, steps + 1):
        for pod in rnd.sample(sorted(active), CHANGES // 2):
            del active[pod]
        for i in range(CHANGES // 2):
            n = ALERTS + step * CHANGES + i
            severity = "critical" if i == 0 else rnd.choice(("warning", "info", "critical"))
            alert = load.make_alert(n, rnd, now, now + timedelta(days=30), started=now,
                                    severity=severity)
            active[alert["labels"]["pod"]] = alert
        yield list(active.values())


def answer_shape(raw: dict, updated: str) -> dict:
    """The POST shape made into GET /api/v2/alerts' (fingerprint, status, receivers,
    updatedAt), in place and once per alert: the storm keeps the dicts of unchanged alerts."""
    if "fingerprint" not in raw:
        from shiftdeck.domain.alerts import fingerprint
        raw["fingerprint"] = fingerprint(raw["labels"])
        raw["updatedAt"] = updated
        raw["receivers"] = [{"name": "team-pager"}]
        raw["status"] = {"state": "active", "silencedBy": [], "inhibitedBy": []}
    return raw


class Parser:
    """Parses each poll's answer as the Alertmanager source does: with its previous batch and
    its string cache when the code has them (timed as `parse_alerts`)."""

    def __init__(self) -> None:
        from shiftdeck.sources import alertmanager
        self._module = alertmanager
        self._incremental = "previous" in inspect.signature(alertmanager.parse_alerts).parameters
        self._previous = None
        intern = importlib.util.find_spec("shiftdeck.domain.intern")
        self._cache = importlib.import_module(intern.name).CleanCache() if intern else None

    def parse(self, raw: list[dict], updated: str) -> tuple:
        payload = [answer_shape(item, updated) for item in raw]
        if not self._incremental:
            return self._module.parse_alerts(payload, "am0").alerts
        self._previous = self._module.parse_alerts(payload, "am0", self._previous, self._cache)
        return self._previous.alerts


async def run(steps: int, escalations: bool, profile: cProfile.Profile | None) -> Timings:
    from shiftdeck.clock import SystemClock
    from shiftdeck.domain.board import SourceReport
    from shiftdeck.messages import SourceReported
    from support.app_factory import AM_KEY, make_app

    timings = Timings()
    for module, qualified in TIMED:
        timings.wrap(module, qualified)
    parser = Parser()
    timings.wrap("shiftdeck.sources.alertmanager", "parse_alerts")
    updated = datetime.now(timezone.utc).isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(roster=escalations, clock=SystemClock(),
                       journal_file=Path(tmp) / "journal.jsonl")
        async with app.run_test(size=(120, 40)) as pilot:
            for step, raw in enumerate(storm(steps)):
                alerts = parser.parse(raw, updated)
                at = datetime.now(timezone.utc)
                if profile is not None and step == 1:
                    profile.enable()
                app.post_message(SourceReported(AM_KEY, SourceReport(
                    "am0", "alertmanager", alerts, at), 0))
                deadline = time.monotonic() + 60
                newest = alerts[-1].fingerprint  # a new alert of this poll
                table = app.dashboard.query_one("AlertTable")
                while newest not in table._index or app.runner.applying:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"poll {step} not shown within 60 s")
                    await asyncio.sleep(0.005)
                await pilot.pause()
                await pilot.press("j")
                await pilot.pause()
            if profile is not None:
                profile.disable()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="polls after the first (30)")
    parser.add_argument("--escalations", action="store_true",
                        help="the test roster's ladders (the storm bench's config has none)")
    parser.add_argument("--cprofile", metavar="FILE", help="write a cProfile of polls 1..")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(BENCH.parent / "tests"))
    profile = cProfile.Profile() if args.cprofile else None
    load1 = os.getloadavg()[0]
    timings = asyncio.run(run(args.steps, args.escalations, profile))
    print(f"{ALERTS:,} alerts, {CHANGES:,} changes x {args.steps} polls, "
          f"escalations={'on' if args.escalations else 'off'}, load average at start "
          f"{load1:.2f}, at end {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print(timings.table(skip_first=1))
    if profile is not None:
        profile.dump_stats(args.cprofile)
        print(f"cProfile written to {args.cprofile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
